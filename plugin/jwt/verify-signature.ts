/**
 * JWS signature verification with node:crypto and KeyObjects built once per app key. The
 * algorithm is pinned by the key (from the app record); the token's `alg` must name it.
 */
import { createHmac, verify } from 'node:crypto'
import type { VerifyKey } from '../keys/app-keys.js'
import { HMAC_HASH } from '../keys/algorithms.js'
import { constantTimeEqual } from '../keys/constant-time.js'

/** Length of the unpadded base64url spelling of each algorithm's signature (32 or 64 bytes). */
const SIGNATURE_CHARS = { HMAC_SHA256: 43, HMAC_SHA512: 86, ED25519: 86 } as const

/**
 * `signaturePart` is the token's third segment, still encoded; decodeJws admitted it only in
 * canonical base64url, so for HMAC comparing the spellings compares the bytes (and saves
 * decoding a buffer on every new token).
 */
export function verifyJwsSignature (key: VerifyKey, signingInput: string, signaturePart: string): boolean {
  if (signaturePart.length !== SIGNATURE_CHARS[key.algorithm]) return false
  if (key.algorithm === 'ED25519') return verify(null, Buffer.from(signingInput), key.key, Buffer.from(signaturePart, 'base64url'))
  const expected = createHmac(HMAC_HASH[key.algorithm], key.key).update(signingInput).digest('base64url')
  return constantTimeEqual(expected, signaturePart)
}
