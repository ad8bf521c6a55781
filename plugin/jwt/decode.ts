/**
 * Strict JWS compact decoding. Base64url decoders are lenient (they skip bad characters, accept
 * padding and non-zero trailing bits), so several strings can decode to the same bytes; here a
 * segment must be the one canonical base64url spelling of its bytes. Then the same string
 * always means the same verified bytes, which lets the token cache key on the string.
 */
import { WrongAppTokenError } from '../errors.js'

const BASE64URL = /^[A-Za-z0-9_-]+$/
// The last character of a segment whose length is 2 or 3 (mod 4) carries unused low bits,
// which must be zero in the canonical spelling.
const ALPHABET = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_'

export function isCanonicalBase64url (segment: string): boolean {
  if (!BASE64URL.test(segment)) return false
  const remainder = segment.length % 4
  if (remainder === 1) return false
  if (remainder === 0) return true
  const lastValue = ALPHABET.indexOf(segment[segment.length - 1])
  const unusedBits = remainder === 2 ? 0b1111 : 0b11
  return (lastValue & unusedBits) === 0
}

export interface JwsParts {
  /** The header segment, still encoded (checked headers are remembered by it). */
  headerPart: string
  payload: Record<string, unknown>
  /** `header.payload`, the signed bytes. */
  signingInput: string
  /** The signature segment, still encoded (canonical base64url). */
  signaturePart: string
}

/**
 * Decoding room reused by every call (JavaScript runs one call at a time): a segment is decoded
 * into it and read back as text, with no buffer allocated per token. Grown when a longer
 * segment comes (tokens are bounded by jwt.maxTokenLength).
 */
let scratch = Buffer.allocUnsafe(2048)

/** The UTF-8 text a canonical base64url segment spells. */
function decodeSegment (segment: string): string {
  const needed = Math.ceil(segment.length * 3 / 4)
  if (needed > scratch.length) scratch = Buffer.allocUnsafe(needed)
  const length = scratch.write(segment, 'base64url')
  return scratch.toString('utf8', 0, length)
}

export function parseJsonObject (segment: string, what: string): Record<string, unknown> {
  let value: unknown
  try {
    value = JSON.parse(decodeSegment(segment))
  } catch {
    throw new WrongAppTokenError(`: the token ${what} is not JSON`)
  }
  if (value === null || typeof value !== 'object' || Array.isArray(value)) {
    throw new WrongAppTokenError(`: the token ${what} is not a JSON object`)
  }
  return value as Record<string, unknown>
}

export function decodeJws (token: string): JwsParts {
  const first = token.indexOf('.')
  const second = token.indexOf('.', first + 1)
  if (first === -1 || second === -1 || token.indexOf('.', second + 1) !== -1) {
    throw new WrongAppTokenError(': the token is not a compact JWS')
  }
  const headerPart = token.slice(0, first)
  const payloadPart = token.slice(first + 1, second)
  const signaturePart = token.slice(second + 1)
  if (!isCanonicalBase64url(headerPart) || !isCanonicalBase64url(payloadPart) || !isCanonicalBase64url(signaturePart)) {
    throw new WrongAppTokenError(': the token is not canonical base64url')
  }
  return {
    headerPart,
    payload: parseJsonObject(payloadPart, 'payload'),
    signingInput: token.slice(0, second),
    signaturePart
  }
}
