/**
 * Strict JWS compact decoding. Base64url decoders are lenient (they skip bad characters, accept
 * padding, `+` and `/`, and non-zero trailing bits), so several strings can decode to the same
 * bytes; here a segment must be the one canonical base64url spelling of its bytes. Then the same
 * string always means the same verified bytes, which lets the token cache key on the string.
 *
 * Which code checks each segment: the payload here; the header in checkHeaderSegment (once per
 * distinct header: a remembered header was canonical when it was first seen); the signature in
 * verifyJwsSignature (an HMAC signature equal to our canonical digest is canonical itself).
 */
import { WrongAppTokenError } from '../errors.js'

/**
 * Decoding room reused by every call (JavaScript runs one call at a time): a segment is decoded
 * into it and read back as text, with no buffer allocated per token. Grown when a longer
 * segment comes (tokens are bounded by jwt.maxTokenLength).
 */
let scratch = Buffer.allocUnsafe(2048)

/**
 * Decodes `segment` into scratch: the number of bytes, or -1 when the segment is not the
 * canonical spelling of what it decodes to. Canonical is checked by encoding the bytes back
 * (native code, a few times cheaper than a regular expression over the text): any skipped
 * character, padding, `+`, `/` or non-zero trailing bits spells differently.
 */
function decodeCanonical (segment: string): number {
  if (segment.length === 0) return -1
  const needed = Math.ceil(segment.length * 3 / 4)
  if (needed > scratch.length) scratch = Buffer.allocUnsafe(needed)
  const length = scratch.write(segment, 'base64url')
  return scratch.toString('base64url', 0, length) === segment ? length : -1
}

export function isCanonicalBase64url (segment: string): boolean {
  return decodeCanonical(segment) !== -1
}

export const NOT_CANONICAL = ': the token is not canonical base64url'

export interface JwsParts {
  /** The header segment, still encoded and not yet checked: checkHeaderSegment decodes it. */
  headerPart: string
  payload: Record<string, unknown>
  /** `header.payload`, the signed bytes. */
  signingInput: string
  /** The signature segment, still encoded and not yet checked: verifyJwsSignature does. */
  signaturePart: string
}

/** The JSON object a segment spells, refused unless the segment is canonical base64url. */
export function parseJsonObject (segment: string, what: string): Record<string, unknown> {
  const length = decodeCanonical(segment)
  if (length === -1) throw new WrongAppTokenError(NOT_CANONICAL)
  let value: unknown
  try {
    value = JSON.parse(scratch.toString('utf8', 0, length))
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
  return {
    headerPart: token.slice(0, first),
    payload: parseJsonObject(token.slice(first + 1, second), 'payload'),
    signingInput: token.slice(0, second),
    signaturePart: token.slice(second + 1)
  }
}
