/**
 * The fuzzer (issue 8.5): sends N mutated requests to a real server over loopback (127.0.0.1
 * only, the server in a child process) and counts 5xx responses, crashes and forged requests
 * accepted. Each request starts as a fresh valid one (a JWT `Link` call, an RFC 9421 signed
 * request, or a legacy `Authorization: Signature` request) and gets one or two mutations: bit
 * flips, truncation, header / parameter duplication, unicode, huge values, removed components,
 * forged claims, replays. A mutated request that is accepted (2xx) is judged on what the route
 * saw: if it differs from the signed original in a security-relevant byte (the token, the
 * calling app, the nonce, and for signed requests the method, authority, path, query and body),
 * it is a forgery.
 *
 * Sent over raw sockets (one connection per request), so that anything can be written:
 * duplicate headers, any bytes, any size.
 */
import { fork } from 'node:child_process'
import { createHash, randomBytes } from 'node:crypto'
import { join } from 'node:path'
import type { AppRecord } from '../../plugin/index.js'
import { signRequest } from '../../plugin/signature/sign.js'
import { ed25519Keys, hmacKeyHex } from '../helpers/keys.js'
import { b64url, encodeJwt, pythonClaims } from '../helpers/jwt.js'
import { APP_NAME, mutateJsonText, pick, rawRequest, secretSpellings, seeded, stringMutationNames, stringMutations, type Random, type SeenRequest } from '../helpers/attacks.js'

export interface FuzzOptions {
  requests: number
  seed?: number
  concurrency?: number
  /** Called every `progressEvery` requests. */
  onProgress?: (done: number) => void
}

export interface FuzzReport {
  requests: number
  seed: number
  /** The three counts that must be 0. */
  fiveXX: number
  crashes: number
  forgedAccepted: number
  /** Also must be 0: log lines of the server holding key material. */
  secretLogLines: number
  /** Informational. */
  statuses: Record<string, number>
  validSent: number
  validAccepted: number
  mutatedAccepted: number
  replaysRefused: number
  noResponse: number
  samples: string[]
  byMutation: Record<string, number>
}

type Kind = 'jwt' | 'rfc9421' | 'legacy'

interface Wire {
  method: string
  target: string
  headers: Array<[string, string]>
  body: Buffer
}

interface Original {
  kind: Kind
  slug: string
  wire: Wire
  token?: string
  nonce?: string
  authority: string
  parsedBody?: unknown
}

interface Keys {
  hs256: string
  hs256Previous: string
  hs512: string
  ed: ReturnType<typeof ed25519Keys>
  sigHmac: string
  sigEd: ReturnType<typeof ed25519Keys>
  legacy: string
}

function makeKeys (): Keys {
  return { hs256: hmacKeyHex(32), hs256Previous: hmacKeyHex(32), hs512: hmacKeyHex(64), ed: ed25519Keys(), sigHmac: hmacKeyHex(64), sigEd: ed25519Keys(), legacy: hmacKeyHex(64) }
}

function records (keys: Keys): AppRecord[] {
  return [
    { slug: 'hs256', algorithm: 'HMAC_SHA256', privateKey: keys.hs256, kid: 'k2', previousKeys: [{ kid: 'k1', privateKey: keys.hs256Previous, expiresAt: Date.now() + 3_600_000 }], requireAnAgreement: false },
    { slug: 'hs512', algorithm: 'HMAC_SHA512', privateKey: keys.hs512, requireAnAgreement: false },
    { slug: 'ed', algorithm: 'ED25519', publicKey: keys.ed.publicPemHex, requireAnAgreement: false },
    { slug: 'sighmac', algorithm: 'HMAC_SHA512', privateKey: keys.sigHmac, strategy: 'SIGNATURE', requireAnAgreement: false },
    { slug: 'siged', algorithm: 'ED25519', publicKey: keys.sigEd.publicRaw.toString('base64'), strategy: 'SIGNATURE', requireAnAgreement: false },
    { slug: 'legacy', algorithm: 'HMAC_SHA256', privateKey: keys.legacy, strategy: 'SIGNATURE', requireAnAgreement: false }
  ]
}

// ---------------------------------------------------------------------------------------------
// Valid requests

function jsonBody (random: Random): unknown {
  return pick(random, [
    { a: 1 },
    { amount: 100, to: 'acct-1', note: 'caf\u00e9' },
    [1, 2, { b: null }],
    { nested: { deep: [true, false, 1.5, 'x'] }, n: 12345678901234 },
    { big: 1e21, small: 1e-7, neg: -0.5 }
  ])
}

function fresh (kind: Kind, keys: Keys, port: number, random: Random): Original {
  const authority = `127.0.0.1:${port}`
  if (kind === 'jwt') {
    const choice = pick(random, ['hs256', 'hs256-previous', 'hs512', 'ed'] as const)
    const slug = choice === 'hs256-previous' ? 'hs256' : choice
    const sub = random() < 0.5 ? {} : { sub: String(Math.floor(random() * 100)) }
    const claims = pythonClaims(slug, APP_NAME, sub)
    const token = choice === 'hs256'
      ? encodeJwt(claims, { key: keys.hs256, header: random() < 0.5 ? { kid: 'k2' } : {} })
      : choice === 'hs256-previous'
        ? encodeJwt(claims, { key: keys.hs256Previous, header: random() < 0.5 ? { kid: 'k1' } : {} })
        : choice === 'hs512' ? encodeJwt(claims, { key: keys.hs512, alg: 'HS512' }) : encodeJwt(claims, { key: keys.ed.privatePem, alg: 'EdDSA' })
    const method = pick(random, ['GET', 'POST', 'DELETE'])
    const body = method === 'POST' ? Buffer.from(JSON.stringify(jsonBody(random))) : Buffer.alloc(0)
    const headers: Array<[string, string]> = [['Host', authority], ['Authorization', `Link App=${slug},Token=${token}`]]
    if (body.length > 0) headers.push(['Content-Type', 'application/json'])
    return { kind, slug, token, authority, wire: { method, target: pick(random, ['/jwt', '/any', '/jwt?x=1']), headers, body } }
  }
  const legacy = kind === 'legacy'
  const slug = legacy ? 'legacy' : pick(random, ['sighmac', 'siged'])
  const own: AppRecord = slug === 'sighmac'
    ? { slug: APP_NAME, algorithm: 'HMAC_SHA512', privateKey: keys.sigHmac }
    : slug === 'siged' ? { slug: APP_NAME, algorithm: 'ED25519', privateKey: keys.sigEd.secretKey.toString('hex') } : { slug: APP_NAME, algorithm: 'HMAC_SHA256', privateKey: keys.legacy }
  const method = legacy ? 'POST' : pick(random, ['GET', 'POST', 'PUT', 'DELETE'])
  const withBody = legacy || method === 'POST' || method === 'PUT'
  const parsedBody = withBody ? jsonBody(random) : undefined
  let target = pick(random, ['/sig', '/sig?a=1', '/sig?a=1&b=two&a=3', '/any?q=caf%C3%A9'])
  // The legacy MAC has no nonce: two identical requests signed in one millisecond share it, and
  // the second is (rightly) a replay. Make each legacy original unique.
  if (legacy) target += `${target.includes('?') ? '&' : '?'}seq=${Math.floor(random() * 1e12)}`
  const signed = signRequest({
    appName: slug,
    app: own,
    method,
    url: target,
    authority,
    body: parsedBody,
    scheme: legacy ? 'legacy' : 'rfc9421'
  })
  // RFC 9421: signRequest returns the Host it signed (this authority); keep it first, once.
  const headers: Array<[string, string]> = [['Host', authority], ...Object.entries(signed.headers).filter(([name]) => name.toLowerCase() !== 'host')]
  const nonce = legacy
    ? /Nonce=([0-9a-f]+)/.exec(signed.headers.Authorization ?? '')?.[1]
    : /nonce="([^"]*)"/.exec(signed.headers['Signature-Input'] ?? '')?.[1]
  return { kind, slug, authority, nonce, parsedBody, wire: { method, target: signed.url, headers, body: signed.body ?? Buffer.alloc(0) } }
}

// ---------------------------------------------------------------------------------------------
// Mutations

function clone (wire: Wire): Wire {
  return { method: wire.method, target: wire.target, headers: wire.headers.map(([n, v]) => [n, v]), body: Buffer.from(wire.body) }
}

function headerIndex (wire: Wire, lower: string): number {
  return wire.headers.findIndex(([name]) => name.toLowerCase() === lower)
}

function mutateString (text: string, random: Random): string {
  return stringMutations[pick(random, stringMutationNames)](text, random)
}

function mutateHeader (wire: Wire, lower: string, random: Random, how: (value: string) => string = (value) => mutateString(value, random)): boolean {
  const at = headerIndex(wire, lower)
  if (at === -1) return false
  wire.headers[at][1] = how(wire.headers[at][1])
  return true
}

type Mutation = (wire: Wire, original: Original, random: Random) => boolean

const MUTATIONS: Record<string, Mutation> = {
  authorization: (wire, _o, random) => mutateHeader(wire, 'authorization', random),
  token: (wire, original, random) => original.token !== undefined && mutateHeader(wire, 'authorization', random, (value) => value.replace(original.token!, mutateString(original.token!, random))),
  forgeClaims: (wire, original, random) => original.token !== undefined && mutateHeader(wire, 'authorization', random, (value) => {
    const [h, p, s] = original.token!.split('.')
    const forged = mutateJsonText(Buffer.from(p, 'base64url').toString(), random)
    return value.replace(original.token!, `${h}.${Buffer.from(forged).toString('base64url')}.${s}`)
  }),
  algNone: (wire, original, random) => original.token !== undefined && mutateHeader(wire, 'authorization', random, (value) => {
    const [, p, s] = original.token!.split('.')
    const alg = pick(random, ['none', 'None', 'HS256', 'HS512', 'EdDSA', 'RS256'])
    return value.replace(original.token!, `${b64url({ alg, typ: 'JWT' })}.${p}.${random() < 0.5 ? '' : s}`)
  }),
  appParam: (wire, _o, random) => mutateHeader(wire, 'authorization', random, (value) => value.replace(/App=[^,]*/, `App=${pick(random, ['hs256', 'hs512', 'ed', 'sighmac', 'legacy', APP_NAME, '__proto__', 'constructor', 'HS256'])}`)),
  signatureInput: (wire, _o, random) => mutateHeader(wire, 'signature-input', random),
  signature: (wire, _o, random) => mutateHeader(wire, 'signature', random),
  contentDigest: (wire, _o, random) => mutateHeader(wire, 'content-digest', random),
  sigParams: (wire, _o, random) => mutateHeader(wire, 'signature-input', random, (value) => value.replace(
    pick(random, [/created=\d+/, /nonce="[^"]*"/, /keyid="[^"]*"/, /alg="[^"]*"/, /"@path" /, /"@query" ?/, /"content-digest" ?/, /"@authority" /]),
    pick(random, ['created=1', `created=${Math.floor(Date.now() / 1000) + 1}`, 'nonce="aaaaaaaaaaaaaaaa"', 'keyid="sighmac"', 'keyid="siged"', 'keyid="legacy"', 'alg="hmac-sha256"', 'alg="ed25519"', '', '"@method" ', '"@target-uri" ']))),
  method: (wire, _o, random) => { wire.method = pick(random, ['GET', 'POST', 'PUT', 'DELETE', 'PATCH', 'get', 'HEAD', 'OPTIONS'].filter((m) => m !== wire.method)); return true },
  target: (wire, original, random) => {
    wire.target = pick(random, [
      () => wire.target + (wire.target.includes('?') ? '&' : '?') + 'extra=1',
      () => wire.target.replace('/sig', '/Sig').replace('/jwt', '/JWT'),
      () => wire.target.replace('/', '//'),
      () => wire.target.replace('a=1', 'a=2'),
      () => wire.target.replace('a=1', 'a=%31'),
      () => wire.target.replace(/\?.*$/, ''),
      () => wire.target + '#frag',
      () => wire.target.replace('/sig', '/sig/').replace('/any', '/any/'),
      () => wire.target.replace('/sig', '/any').replace('/jwt', '/any'),
      () => `http://${original.authority}${wire.target}`
    ])()
    return true
  },
  body: (wire, _o, random) => {
    const text = wire.body.toString('latin1')
    wire.body = Buffer.from(pick(random, [
      () => mutateString(text, random),
      () => text + ' ',
      () => text.replace(/^\{/, '{"a":2,'),
      () => text.replace(/\d/, '9'),
      () => text.replace(/1/, '1.0'),
      () => text.replace(/"a":1/, '"a":1,"a":2'),
      () => '',
      () => text + text
    ])(), 'latin1')
    return true
  },
  host: (wire, original, random) => mutateHeader(wire, 'host', random, () => pick(random, [
    original.authority.toUpperCase(),
    original.authority.replace(/:\d+$/, ''),
    original.authority.replace(/:(\d+)$/, (_m, port: string) => `:${Number(port) + 1}`),
    'localhost' + original.authority.slice(original.authority.indexOf(':')),
    'evil.example',
    ''
  ])),
  duplicateHeader: (wire, _o, random) => {
    if (wire.headers.length === 0) return false
    const [name, value] = pick(random, wire.headers)
    const copy: [string, string] = [random() < 0.5 ? name : name.toLowerCase(), random() < 0.5 ? value : mutateString(value, random)]
    wire.headers.splice(random() < 0.5 ? wire.headers.length : 0, 0, copy)
    return true
  },
  removeHeader: (wire, _o, random) => {
    if (wire.headers.length === 0) return false
    wire.headers.splice(Math.floor(random() * wire.headers.length), 1)
    return true
  },
  headerNameCase: (wire, _o, random) => {
    const at = Math.floor(random() * wire.headers.length)
    wire.headers[at][0] = random() < 0.5 ? wire.headers[at][0].toUpperCase() : wire.headers[at][0].toLowerCase()
    return true
  },
  hugeValue: (wire, _o, random) => {
    const at = Math.floor(random() * wire.headers.length)
    wire.headers[at][1] = stringMutations.huge(wire.headers[at][1], random)
    return true
  },
  unicode: (wire, _o, random) => {
    const at = Math.floor(random() * wire.headers.length)
    wire.headers[at][1] = stringMutations.insertUnicode(wire.headers[at][1], random)
    return true
  },
  junkHeader: (wire, _o, random) => {
    wire.headers.push([pick(random, ['X-Fuzz', 'Signature-Agent', 'Forwarded', 'X-Forwarded-Host']), mutateString('value', random)])
    return true
  },
  removeAuthentication: (wire) => {
    wire.headers = wire.headers.filter(([name]) => !['authorization', 'signature', 'signature-input'].includes(name.toLowerCase()))
    return true
  }
}

/**
 * Mutations that found the issues reported in notes/requests-security.md (#1, #3; fixed): kept
 * in every run as regression checks.
 */
const HOST_AMBIGUITY: Record<string, Mutation> = {
  // #3: an absolute-form request-target whose authority is not the signed Host.
  absoluteFormAuthority: (wire, original, random) => {
    if (wire.target.startsWith('http')) return false
    wire.target = `http://${pick(random, ['127.0.0.1', 'evil.example', original.authority.replace(/:(\d+)$/, (_m, port: string) => `:${Number(port) + 1}`)])}${wire.target}`
    return true
  },
  // #1: a second Host line after the signed one.
  secondHost: (wire) => {
    wire.headers.push(['Host', 'evil.example'])
    return true
  }
}

// ---------------------------------------------------------------------------------------------
// Wire format and judging

function serialise (wire: Wire): Buffer {
  let head = `${wire.method} ${wire.target} HTTP/1.1\r\n`
  for (const [name, value] of wire.headers) head += `${name}: ${value}\r\n`
  if (wire.body.length > 0 || wire.method === 'POST' || wire.method === 'PUT') head += `Content-Length: ${wire.body.length}\r\n`
  head += 'Connection: close\r\n\r\n'
  return Buffer.concat([Buffer.from(head, 'utf8'), wire.body])
}

function responseBody (text: string): string {
  const at = text.indexOf('\r\n\r\n')
  return at === -1 ? '' : Buffer.from(text.slice(at + 4), 'latin1').toString('utf8')
}

function linkParams (authorization: string | undefined): { app?: string, token?: string } {
  if (authorization === undefined || !authorization.startsWith('Link ')) return {}
  const out: Record<string, string> = {}
  for (const piece of authorization.slice(5).split(',')) {
    const at = piece.indexOf('=')
    out[piece.slice(0, at).trim()] = piece.slice(at + 1).trim()
  }
  return { app: out.App, token: out.Token }
}

function sha256 (bytes: Buffer): string {
  return createHash('sha256').update(bytes).digest('hex')
}

function queryOf (url: string): string {
  const at = url.indexOf('?')
  return at === -1 ? '' : url.slice(at)
}

function sortedParams (url: string): string {
  return JSON.stringify([...new URLSearchParams(queryOf(url).slice(1))])
}

/** Why an accepted request is a forgery, or null when it says what the signer signed. */
function forgery (original: Original, seen: SeenRequest | null, wire: Wire): string | null {
  const method = wire.method
  // Two Host lines make the signed @authority ambiguous (the route sees only the first).
  if (original.kind === 'rfc9421' && wire.headers.filter(([name]) => name.toLowerCase() === 'host').length > 1) return 'two Host lines'
  if (seen === null || typeof seen !== 'object') {
    // A HEAD of a GET route answers without a body: a bearer JWT is valid for any method; a
    // signed request covers its method, so a HEAD of a request signed as something else is forged.
    if (method === 'HEAD' && original.kind === 'jwt') return null
    return 'accepted, but the response is not the echo'
  }
  const token = seen.token as Record<string, unknown> | null
  if (token === null || typeof token !== 'object') return 'no token'
  if (token.app !== original.slug) return `token.app ${String(token.app)}`
  if (original.kind === 'jwt') {
    const { app, token: jwt } = linkParams(seen.authorization)
    if (app !== original.slug) return `App ${String(app)}`
    if (jwt !== original.token) return 'another token string'
    if (token.mode !== 'jwt') return 'mode'
    return null
  }
  if (token.nonce !== original.nonce) return 'another nonce'
  if (seen.method !== original.wire.method) return `method ${seen.method}`
  if (original.kind === 'legacy') {
    if (token.scheme !== 'legacy') return 'scheme'
    if (sortedParams(seen.url) !== sortedParams(original.wire.target)) return 'query'
    if (JSON.stringify(seen.body) !== JSON.stringify(original.parsedBody)) return 'body'
    return null
  }
  if (token.scheme !== 'rfc9421') return 'scheme'
  if ((seen.host ?? '').toLowerCase() !== original.authority) return `host ${String(seen.host)}`
  if (seen.url !== original.wire.target) {
    // absolute-form: the effective authority is the URL's (RFC 9112 3.2.2), not the Host line.
    if (!/^https?:\/\//i.test(seen.url)) return `url ${seen.url}`
    const url = new URL(seen.url)
    if (url.host.toLowerCase() !== original.authority) return `absolute-form authority ${url.host}`
    if (url.pathname + url.search !== original.wire.target) return `url ${seen.url}`
  }
  const bodySha = sha256(original.wire.body)
  if (seen.bodySha256 !== bodySha && !(seen.bodySha256 === null && original.wire.body.length === 0)) return 'body bytes'
  return null
}

// ---------------------------------------------------------------------------------------------
// The run

interface Child {
  port: number
  crashes: string[]
  exited: boolean
  leaks: () => Promise<{ leaks: number, lines: number, sample: string }>
  close: () => Promise<void>
}

async function startServer (config: { apps: AppRecord[], secrets: string[] }): Promise<Child> {
  const child = fork(join(__dirname, 'server.ts'), [], {
    execArgv: ['--import', 'tsx'],
    env: { ...process.env, FUZZ_CONFIG: JSON.stringify(config) },
    stdio: ['ignore', 'ignore', 'inherit', 'ipc']
  })
  const crashes: string[] = []
  let exited = false
  const waiters = new Map<string, (message: Record<string, unknown>) => void>()
  child.on('message', (message: Record<string, unknown>) => {
    if (message.type === 'crash') crashes.push(String(message.message))
    waiters.get(String(message.type))?.(message)
  })
  const exit = new Promise<void>((resolve) => child.on('exit', (code) => {
    exited = true
    if (code !== 0 && code !== null) crashes.push(`server exited with ${code}`)
    resolve()
  }))
  const wait = async (type: string): Promise<Record<string, unknown>> => await new Promise((resolve, reject) => {
    waiters.set(type, resolve)
    exit.then(() => reject(new Error(`the fuzz server exited before ${type}`)), () => {})
  })
  const ready = await wait('ready')
  return {
    port: Number(ready.port),
    crashes,
    get exited () { return exited },
    leaks: async () => {
      if (exited) return { leaks: 0, lines: 0, sample: '' }
      const answer = wait('leaks')
      child.send({ type: 'leaks' })
      const message = await answer
      return { leaks: Number(message.leaks), lines: Number(message.lines), sample: String(message.sample) }
    },
    close: async () => {
      if (!exited) child.send({ type: 'close' })
      await exit
    }
  }
}

export async function runFuzz (options: FuzzOptions): Promise<FuzzReport> {
  const seed = options.seed ?? randomBytes(4).readUInt32LE(0)
  const random = seeded(seed)
  const keys = makeKeys()
  const apps = records(keys)
  const secrets = secretSpellings(keys.hs256, keys.hs256Previous, keys.hs512, keys.ed.publicPemHex, keys.ed.privatePemHex, keys.sigHmac, keys.sigEd.publicRaw.toString('base64'), keys.sigEd.secretKey.toString('hex'), keys.legacy)
  const server = await startServer({ apps, secrets })
  const report: FuzzReport = {
    requests: 0,
    seed,
    fiveXX: 0,
    crashes: 0,
    forgedAccepted: 0,
    secretLogLines: 0,
    statuses: {},
    validSent: 0,
    validAccepted: 0,
    mutatedAccepted: 0,
    replaysRefused: 0,
    noResponse: 0,
    samples: [],
    byMutation: {}
  }
  const sample = (text: string): void => { if (report.samples.length < 20) report.samples.push(text) }

  async function send (wire: Wire): Promise<{ status: number, text: string }> {
    report.requests++
    try {
      const response = await rawRequest(server.port, serialise(wire), 10_000)
      report.statuses[response.status] = (report.statuses[response.status] ?? 0) + 1
      if (response.status === 0) report.noResponse++
      if (response.status >= 500) {
        report.fiveXX++
        sample(`5xx ${response.status}: ${wire.method} ${wire.target} ${JSON.stringify(wire.headers).slice(0, 300)} -> ${responseBody(response.text).slice(0, 200)}`)
      }
      return response
    } catch (error) {
      report.noResponse++
      if (server.exited) return { status: -1, text: '' }
      sample(`no response: ${(error as Error).message}`)
      return { status: 0, text: '' }
    }
  }

  let next = 0
  async function worker (): Promise<void> {
    while (next < options.requests && !server.exited) {
      const index = next++
      const kind = pick(random, ['jwt', 'jwt', 'rfc9421', 'rfc9421', 'legacy'] as const)
      const original = fresh(kind, keys, server.port, random)
      const roll = random()
      if (roll < 0.08) {
        // Unmutated: must be accepted.
        report.validSent++
        const response = await send(original.wire)
        if (response.status === 200) report.validAccepted++
        else sample(`valid ${kind} refused: ${response.status} ${responseBody(response.text).slice(0, 200)}`)
      } else if (roll < 0.14 && kind !== 'jwt') {
        // Replay: the first copy passes, the second must not.
        await send(original.wire)
        const again = await send(original.wire)
        if (again.status >= 200 && again.status < 300) {
          report.forgedAccepted++
          sample(`replay accepted: ${kind} ${original.wire.method} ${original.wire.target}`)
        } else report.replaysRefused++
      } else {
        const wire = clone(original.wire)
        const names: string[] = []
        const count = 1 + (random() < 0.3 ? 1 : 0)
        for (let i = 0; i < count; i++) {
          const name = pick(random, mutationNames)
          if (mutations[name](wire, original, random)) names.push(name)
        }
        for (const name of names) report.byMutation[name] = (report.byMutation[name] ?? 0) + 1
        const response = await send(wire)
        if (response.status >= 200 && response.status < 300) {
          report.mutatedAccepted++
          let seen: SeenRequest | null = null
          try { seen = JSON.parse(responseBody(response.text)) } catch { seen = null }
          const why = forgery(original, seen, wire)
          if (why !== null) {
            report.forgedAccepted++
            sample(`forged accepted (${why}) after ${names.join('+')}: ${wire.method} ${wire.target} ${JSON.stringify(wire.headers).slice(0, 400)}`)
          }
        }
      }
      if (options.onProgress !== undefined && index > 0 && index % 1000 === 0) options.onProgress(index)
    }
  }
  const mutations: Record<string, Mutation> = { ...MUTATIONS, ...HOST_AMBIGUITY }
  const mutationNames = Object.keys(mutations)
  await Promise.all(Array.from({ length: options.concurrency ?? 16 }, worker))
  const leaks = await server.leaks()
  report.secretLogLines = leaks.leaks
  if (leaks.leaks > 0) sample(`secret in a log line: ${leaks.sample}`)
  await server.close()
  report.crashes = server.crashes.filter((text) => text !== 'server exited with 0').length
  for (const crash of server.crashes) sample(`crash: ${crash}`)
  return report
}

/** The counts that must all be 0. */
export function failures (report: FuzzReport): string[] {
  const out: string[] = []
  if (report.fiveXX > 0) out.push(`${report.fiveXX} 5xx responses`)
  if (report.crashes > 0) out.push(`${report.crashes} crashes`)
  if (report.forgedAccepted > 0) out.push(`${report.forgedAccepted} forged requests accepted`)
  if (report.secretLogLines > 0) out.push(`${report.secretLogLines} log lines with key material`)
  if (report.validSent > 0 && report.validAccepted === 0) out.push('no valid request was accepted (the harness is broken)')
  return out
}
