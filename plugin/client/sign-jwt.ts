/**
 * Minting the JWT of an outgoing `Link` call, exactly as the receiving side checks it: this
 * plugin, and a Python service running the original (PyJWT: `aud` = its app name, a string `sub`,
 * numeric `exp` / `iat`, `alg` pinned to the app's algorithm). Signed with node:crypto and the
 * app's KeyObject (keys/signing-key.ts: resolved once per app record and remembered), never with a JWT library.
 *
 * Claims, as the original's `get_jwt` with its defects fixed: `sub` is a
 * string (`""` without a user, like 1.2.4+; `null` only when asked, for 1.2.2 receivers), `exp` / `iat` are integer epoch seconds read from
 * Date.now() (no time-zone dependency), `iat` is one second in the past (tolerates a receiver
 * whose clock is a little behind).
 */
import { createHmac, sign as cryptoSign } from 'node:crypto'
import type { AppRecord } from '../../types/index.js'
import { SigningError } from '../errors.js'
import { HMAC_HASH, JWT_ALGORITHM } from '../keys/algorithms.js'
import type { SigningKey } from '../keys/app-keys.js'
import { signingKeyFor } from '../keys/signing-key.js'

/** The original's JWT_LIFETIME: 10 minutes. */
export const JWT_LIFETIME_SECONDS = 600
/** The original's default `iss` (env `API_URL`). */
export const DEFAULT_ISSUER = 'http://localhost:8000'

const RESERVED = new Set(['sub', 'app', 'aud', 'exp', 'iat'])

export interface SignJwtOptions {
  /** This service's own slug: the `app` claim (and the `App=` of the header). */
  appName: string
  /** The target app: `aud` is its slug, the key is its key, `alg` follows its algorithm. */
  app: AppRecord
  /** The caller-side user id on whose behalf the call is made; omitted / null: an app-level call. */
  sub?: string | number | null
  /**
   * The `sub` of an app-level token: `""` (default, what 1.2.4+ receivers expect) or `null`
   * (what a 1.2.2 receiver expects: it sent and reads `user_id` as given).
   */
  appLevelSub?: '' | null
  /** Lifetime in seconds. Default 600 (the original's JWT_LIFETIME). */
  expiresIn?: number
  /** "Now", in epoch milliseconds. Default Date.now(). */
  now?: number
  /** `iss` claim. Default env `API_URL`, else `http://localhost:8000` (as the original). */
  issuer?: string
  /** Extra claims; they cannot replace `sub`, `app`, `aud`, `exp` or `iat`. */
  claims?: Record<string, unknown>
  /**
   * Mint the token "reverse", as if the target app were calling us (the original's
   * `reverse=True`, used by its `sign_jwt` command): `app` = app.slug, `aud` = appName.
   */
  reverse?: boolean
}

function base64urlJson (value: unknown): string {
  return Buffer.from(JSON.stringify(value)).toString('base64url')
}

/** JWS signature of `input` (the `header.payload` text) with a signing key. */
export function signJws (key: SigningKey, input: string): string {
  if (key.algorithm === 'ED25519') return cryptoSign(null, Buffer.from(input), key.key).toString('base64url')
  return createHmac(HMAC_HASH[key.algorithm], key.key).update(input).digest('base64url')
}

function integerSeconds (value: unknown, name: string): number {
  if (typeof value !== 'number' || !Number.isFinite(value) || value <= 0) throw new SigningError(`${name} must be a positive number`)
  return Math.floor(value)
}

export interface SignJwtWithKeyOptions extends Omit<SignJwtOptions, 'app' | 'reverse'> {
  /** The signing key (from resolveAppKeys(app).signing). */
  key: SigningKey
  /** The `aud` claim: the slug of the app that will verify the token. */
  audience: string
}

/** signJwt for callers that already hold the resolved signing key. */
export function signJwtWithKey (options: SignJwtWithKeyOptions): string {
  const { appName, audience, key } = options
  if (typeof appName !== 'string' || appName.length === 0) throw new SigningError('appName is required')
  if (typeof audience !== 'string' || audience.length === 0) throw new SigningError('the audience is required')
  const nowSeconds = Math.floor((options.now ?? Date.now()) / 1000)
  const expiresIn = options.expiresIn === undefined ? JWT_LIFETIME_SECONDS : integerSeconds(options.expiresIn, 'expiresIn')
  const header: Record<string, string> = { alg: JWT_ALGORITHM[key.algorithm], typ: 'JWT' }
  if (key.kid !== null) header.kid = key.kid

  const extra = options.claims ?? {}
  for (const name of Object.keys(extra)) {
    if (RESERVED.has(name)) throw new SigningError(`the ${name} claim cannot be set through claims`)
  }
  const sub = options.sub ?? ''
  if (typeof sub !== 'string' && !(typeof sub === 'number' && Number.isSafeInteger(sub))) {
    throw new SigningError('sub must be a string or an integer')
  }
  const appLevelSub = options.appLevelSub === undefined ? '' : options.appLevelSub
  if (appLevelSub !== '' && appLevelSub !== null) throw new SigningError('appLevelSub must be "" or null')
  // The original's claim order (PyJWT output is then byte-identical for the same inputs).
  const payload = {
    sub: sub === '' ? appLevelSub : String(sub),
    iss: options.issuer ?? process.env.API_URL ?? DEFAULT_ISSUER,
    app: appName,
    aud: audience,
    exp: nowSeconds + expiresIn,
    iat: nowSeconds - 1,
    typ: 'JWT',
    ...extra
  }
  const input = `${base64urlJson(header)}.${base64urlJson(payload)}`
  return `${input}.${signJws(key, input)}`
}

/** A compact JWS the target app accepts in `Authorization: Link App=<appName>,Token=<jwt>`. */
export function signJwt (options: SignJwtOptions): string {
  const { appName, app, reverse, ...rest } = options
  if (typeof appName !== 'string' || appName.length === 0) throw new SigningError('appName is required')
  const key = signingKeyFor(app)
  return signJwtWithKey(reverse === true
    ? { ...rest, key, appName: app.slug, audience: appName }
    : { ...rest, key, appName, audience: app.slug })
}

/** The `Authorization` header value of a JWT call: `Link App=<appName>,Token=<jwt>`. */
export function linkAuthorizationHeader (appName: string, jwt: string): string {
  return `Link App=${appName},Token=${jwt}`
}
