/**
 * `linked-services sign-jwt <app> [user-id]`: prints the header of a call to THIS service as if
 * the app <app> made it (the original's `sign_jwt`, minted "reverse": `app` = <app>, `aud` = our
 * name, signed with the key we hold for <app>). Paste it into curl to test your own routes.
 */
import { linkAuthorizationHeader, signJwt } from '../client/sign-jwt.js'
import { COMMON_OPTIONS, CliError, parseCommandArgs, userIdArgument, type Command } from './io.js'
import { signingApp } from './signing-app.js'

export const SIGN_JWT_HELP = `Usage: linked-services sign-jwt <app> [user-id] [options]

Prints "Authorization: Link App=<app>,Token=<jwt>": a JWT minted as if the linked app <app>
called this service (app = <app>, aud = this service's name, signed with the key held for <app>),
on behalf of <app>'s user [user-id] (omitted: an app-level call).

Options:
  --apps <file>         apps file (JSON: an array of apps, or { "appName", "apps": [...] });
                        default: $LINKED_SERVICES_APPS
  --database-url <url>  or read the app from PostgreSQL (--schema <name>, default linked_services)
  --app-name <slug>     this service's name (default: "appName" of the apps file,
                        or $LINKED_SERVICES_APP_NAME)
  --expires-in <secs>   token lifetime in seconds (default 600)
  --issuer <iss>        iss claim (default $API_URL or http://localhost:8000)
  -h, --help            show this help
`

export const runSignJwt: Command = async (argv, env, io) => {
  const { values, positionals } = parseCommandArgs(argv, {
    ...COMMON_OPTIONS,
    'expires-in': { type: 'string' },
    issuer: { type: 'string' }
  })
  if (values.help === true) {
    io.stdout(SIGN_JWT_HELP)
    return 0
  }
  if (positionals.length > 2) throw new CliError(`unexpected arguments: ${positionals.slice(2).join(' ')}`)
  const { app, appName } = await signingApp(values, env, io, positionals[0])
  let expiresIn: number | undefined
  if (values['expires-in'] !== undefined) {
    expiresIn = Number(values['expires-in'])
    if (!Number.isInteger(expiresIn) || expiresIn <= 0) throw new CliError('--expires-in must be a positive whole number of seconds')
  }
  const jwt = signJwt({
    appName,
    app,
    sub: userIdArgument(positionals[1]),
    reverse: true,
    expiresIn,
    issuer: (values.issuer as string | undefined) ?? env.API_URL
  })
  io.stdout(`Authorization: ${linkAuthorizationHeader(app.slug, jwt)}`)
  return 0
}
