/**
 * `linked-services sign-request <app> [user-id] [method] [params] [body] [headers]`: prints the
 * headers of a signed request to THIS service as if the app <app> sent it (the original's
 * `sign_request`, minted "reverse": signed by <app>'s key, `App=` / `keyid` = <app>). Arguments
 * are JSON, parsed and never evaluated (the original passed them through Python `eval`).
 *
 * With --url the request is signed with RFC 9421 (the scheme this plugin accepts by default) and
 * every header to send is printed; without it, the original's `Authorization: Signature ...`
 * line is printed, computed as a Python receiver checks it (accepted by this plugin only with
 * `signature: { legacy: true }`).
 */
import { signRequest, type QueryParams } from '../signature/sign.js'
import {
  COMMON_OPTIONS, CliError, parseCommandArgs, parseJsonArgument, userIdArgument, type Command
} from './io.js'
import { signingApp } from './signing-app.js'

export const SIGN_REQUEST_HELP = `Usage: linked-services sign-request <app> [user-id] [method] [params] [body] [headers] [options]

Prints the headers of a request signed as if the linked app <app> sent it to this service
(signed with the key held for <app>). [params], [body] and [headers] are JSON, e.g.
  linked-services sign-request 4geeks "" post '{"a": "1"}' '{"id": 1}' '{"X-Tenant": "t1"}' --apps apps.json

Schemes:
  --url <url>          RFC 9421 (default when --url is given): signs method, host, path, query,
                       the body digest and the given headers; prints every header to send
                       (Signature-Input, Signature, Content-Digest, ...). Send the exact body
                       printed on stderr, to the URL printed on stderr, once (nonce).
  (no --url)           the original's "Authorization: Signature App=..,Nonce=..,SignedHeaders=..,Date=.."
                       line, as a Python receiver checks it: JSON bodies (or none), any query,
                       no signed headers. This plugin accepts it only with signature.legacy on.

Options:
  --apps <file>        apps file (default: $LINKED_SERVICES_APPS)
  --database-url <url> or read the app from PostgreSQL (--schema <name>, default linked_services)
  --app-name <slug>    this service's name (default: "appName" of the apps file,
                       or $LINKED_SERVICES_APP_NAME)
  --scheme <scheme>    rfc9421 or legacy (default: rfc9421 with --url, legacy without)
  --method, --params, --body, --headers   the same as the positional arguments
  -h, --help           show this help

A signed request carries no user: [user-id] is accepted for the original's argument order and
must be empty (call on behalf of a user with sign-jwt).
`

function jsonObject (value: unknown, name: string): Record<string, unknown> | undefined {
  if (value === undefined || value === null) return undefined
  if (typeof value !== 'object' || Array.isArray(value)) throw new CliError(`${name} must be a JSON object`)
  return value as Record<string, unknown>
}

function stringHeaders (value: Record<string, unknown> | undefined): Record<string, string> {
  const headers: Record<string, string> = {}
  for (const [name, item] of Object.entries(value ?? {})) {
    if (typeof item !== 'string' && typeof item !== 'number') throw new CliError(`header ${name} must be a string`)
    if (name.toLowerCase() === 'authorization') throw new CliError('headers cannot hold Authorization')
    headers[name] = String(item)
  }
  return headers
}

function queryParams (value: Record<string, unknown> | undefined): QueryParams | undefined {
  if (value === undefined) return undefined
  const params: QueryParams = {}
  const scalar = (item: unknown, name: string): string | number | boolean => {
    if (typeof item === 'string' || typeof item === 'number' || typeof item === 'boolean') return item
    throw new CliError(`params.${name} must be a string, a number, a boolean or a list of them`)
  }
  for (const [name, item] of Object.entries(value)) {
    params[name] = Array.isArray(item) ? item.map((entry) => scalar(entry, name)) : scalar(item, name)
  }
  return params
}

export const runSignRequest: Command = async (argv, env, io) => {
  const { values, positionals } = parseCommandArgs(argv, {
    ...COMMON_OPTIONS,
    url: { type: 'string' },
    scheme: { type: 'string' },
    method: { type: 'string' },
    params: { type: 'string' },
    body: { type: 'string' },
    headers: { type: 'string' }
  })
  if (values.help === true) {
    io.stdout(SIGN_REQUEST_HELP)
    return 0
  }
  if (positionals.length > 6) throw new CliError(`unexpected arguments: ${positionals.slice(6).join(' ')}`)
  const [slug, user, positionalMethod, positionalParams, positionalBody, positionalHeaders] = positionals
  const { app, appName } = await signingApp(values, env, io, slug)
  if (userIdArgument(user) !== null) throw new CliError('a signed request carries no user: leave user-id empty ("") or use sign-jwt')

  const method = String(values.method ?? positionalMethod ?? 'get').toUpperCase()
  if (!/^[A-Z]+$/.test(method)) throw new CliError(`${method} is not an HTTP method`)
  const params = queryParams(jsonObject(parseJsonArgument((values.params as string | undefined) ?? positionalParams, 'params'), 'params'))
  const body = parseJsonArgument((values.body as string | undefined) ?? positionalBody, 'body')
  const headers = stringHeaders(jsonObject(parseJsonArgument((values.headers as string | undefined) ?? positionalHeaders, 'headers'), 'headers'))
  const url = values.url as string | undefined
  const scheme = (values.scheme as string | undefined) ?? (url === undefined ? 'legacy' : 'rfc9421')
  if (scheme !== 'rfc9421' && scheme !== 'legacy') throw new CliError('--scheme must be rfc9421 or legacy')
  if (scheme === 'rfc9421' && url === undefined) throw new CliError('RFC 9421 signs the URL: give --url http://host:port/path')
  if (scheme === 'legacy' && Object.keys(headers).length > 0) throw new CliError('the legacy scheme cannot sign headers (a Python receiver cannot match them)')

  // "Reverse": the request is made as if <app> sent it, so <app> is the signer and our record
  // of it holds the key.
  const signed = signRequest({
    scheme,
    appName: app.slug,
    app,
    method,
    url: url ?? 'http://localhost/',
    params,
    headers,
    body: body === null ? undefined : body,
    components: scheme === 'rfc9421' ? Object.keys(headers) : undefined
  })
  if (scheme === 'legacy') {
    io.stdout(`Authorization: ${signed.headers.Authorization}`)
    const query = signed.url.slice('http://localhost/'.length)
    io.stderr(`(legacy scheme, for ${appName}: send it as ${method}${query === '' ? '' : ` with the query ${query}`}` +
      `${signed.body === undefined ? '' : ` and the JSON body ${signed.body.toString('utf8')}`}; valid 2 minutes)`)
    return 0
  }
  for (const [name, value] of Object.entries(signed.headers)) io.stdout(`${name}: ${value}`)
  io.stderr(`(RFC 9421, for ${appName}: send ${method} ${signed.url}` +
    `${signed.body === undefined ? '' : ` with the body ${signed.body.toString('utf8')}`}; once, within the receiver's tolerance)`)
  return 0
}
