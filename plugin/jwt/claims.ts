/**
 * The checks on a verified JWT's header and claims, and the token routes see. Types are checked
 * strictly: a claim of the wrong type is refused, never coerced (a string `exp`, `1e309`
 * (Infinity once parsed), a negative time, an array where a string belongs).
 */
import type { LinkedJwtToken } from '../../types/index.js'
import { ExpiredError, WrongAppTokenError } from '../errors.js'
import { parseJsonObject } from './decode.js'

/** JOSE header parameters that would make us trust something other than the app's key. */
const REFUSED_HEADER_PARAMS = ['crit', 'jku', 'x5u', 'jwk', 'x5c', 'x5t', 'x5t#S256'] as const
const MAX_NUMERIC_DATE = 1e11 // year 5138: beyond it a time claim is nonsense
/** Longest `sub` accepted (characters): it keys the user cache and a store lookup. */
export const MAX_SUB_LENGTH = 256

export interface CheckedHeader { alg: string, kid: string | null }

// Every token of an app carries the same header: remember the verdict on its encoded form
// (bounded: only short headers that passed are kept, and a full map starts over; at most
// 256 x 512 characters, whatever an unauthenticated caller sends).
const checkedHeaders = new Map<string, CheckedHeader>()
const MAX_CHECKED_HEADERS = 256
const MAX_REMEMBERED_HEADER_LENGTH = 512
// The header seen last, in front of the map: a run of one app's tokens compares one string
// instead of hashing each token's header segment (a new string every time) for the map.
let lastHeader = ''
let lastChecked: CheckedHeader | undefined

/** How many header verdicts are remembered now (for tests: the bound holds whatever is sent). */
export function rememberedHeaderCount (): number {
  return checkedHeaders.size
}

/** Decodes and checks an encoded JOSE header, once per distinct header. */
export function checkHeaderSegment (segment: string): CheckedHeader {
  if (segment === lastHeader && lastChecked !== undefined) return lastChecked
  let checked = checkedHeaders.get(segment)
  if (checked === undefined) {
    checked = checkHeader(parseJsonObject(segment, 'header'))
    if (segment.length > MAX_REMEMBERED_HEADER_LENGTH) return checked
    if (checkedHeaders.size >= MAX_CHECKED_HEADERS) checkedHeaders.clear()
    checkedHeaders.set(segment, checked)
  }
  // Only a header that passed and is remembered becomes the last one.
  lastHeader = segment
  lastChecked = checked
  return checked
}

export function checkHeader (header: Record<string, unknown>): CheckedHeader {
  const { alg, kid, typ, b64 } = header
  if (typeof alg !== 'string') throw new WrongAppTokenError(': the token header has no alg')
  for (const name of REFUSED_HEADER_PARAMS) {
    if (Object.hasOwn(header, name)) throw new WrongAppTokenError(`: the token header parameter ${name} is not accepted`)
  }
  if (b64 !== undefined && b64 !== true) throw new WrongAppTokenError(': unencoded payloads are not accepted')
  if (typ !== undefined && typeof typ !== 'string') throw new WrongAppTokenError(': the token header typ is not a string')
  if (kid !== undefined && (typeof kid !== 'string' || kid.length > 256)) throw new WrongAppTokenError(': the token header kid is not a string')
  return { alg, kid: kid === undefined ? null : kid }
}

/** `value`: the claim `name`, read by the caller by its name (a keyed read of three names is a megamorphic lookup). */
function numericDate (value: unknown, name: string, required: boolean): number | undefined {
  if (value === undefined && !required) return undefined
  if (typeof value !== 'number' || !Number.isFinite(value) || value < 0 || value > MAX_NUMERIC_DATE) {
    if (value === undefined) throw new ExpiredError()
    throw new WrongAppTokenError(`: the ${name} claim is not a valid time`)
  }
  return value
}

/** `sub` as the routes see it: a string, or null for a call without a user. */
function normaliseSub (sub: unknown): string | null {
  if (sub === undefined || sub === null || sub === '') return null
  if (typeof sub === 'string') {
    if (sub.length > MAX_SUB_LENGTH) throw new WrongAppTokenError(`: the sub claim is longer than ${MAX_SUB_LENGTH} characters`)
    return sub
  }
  if (typeof sub === 'number' && Number.isSafeInteger(sub)) return String(sub)
  throw new WrongAppTokenError(': the sub claim is not a string or an integer')
}

function audienceIncludes (aud: unknown, appName: string): boolean {
  if (typeof aud === 'string') return aud === appName
  return Array.isArray(aud) && aud.length <= 100 && aud.every((entry) => typeof entry === 'string') && aud.includes(appName)
}

export interface ClaimContext {
  appName: string
  /** The `App=` of the Authorization header: the token must be made for it. */
  headerApp: string
  /** Seconds, with fractions. */
  now: number
  tolerance: number
}

/** Checks the claims and returns the frozen token routes see. */
export function checkClaims (payload: Record<string, unknown>, context: ClaimContext): LinkedJwtToken {
  const exp = numericDate(payload.exp, 'exp', true) as number
  const nbf = numericDate(payload.nbf, 'nbf', false)
  const iat = numericDate(payload.iat, 'iat', false)
  const { now, tolerance } = context
  if (exp + tolerance < now) throw new ExpiredError()
  if (nbf !== undefined && nbf - tolerance > now) throw new WrongAppTokenError(': the token is not valid yet')
  if (iat !== undefined && iat - tolerance > now) throw new WrongAppTokenError(': the token was issued in the future')
  if (!audienceIncludes(payload.aud, context.appName)) throw new WrongAppTokenError(': the token is not meant for this service')
  if (payload.app !== context.headerApp) throw new WrongAppTokenError(': the token was not made for the calling app')
  if (payload.iss !== undefined && typeof payload.iss !== 'string') throw new WrongAppTokenError(': the iss claim is not a string')
  // The payload was parsed for this token alone: complete it in place rather than copy it.
  payload.sub = normaliseSub(payload.sub)
  payload.mode = 'jwt'
  return Object.freeze(payload) as LinkedJwtToken
}
