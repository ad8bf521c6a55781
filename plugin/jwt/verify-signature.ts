/**
 * JWS signature verification with node:crypto and KeyObjects built once per app key. The
 * algorithm is pinned by the key (from the app record); the token's `alg` must name it.
 */
import { createHmac, timingSafeEqual, verify } from 'node:crypto'
import type { VerifyKey } from '../keys/app-keys.js'

const HMAC_HASH = { HMAC_SHA256: 'sha256', HMAC_SHA512: 'sha512' } as const
const SIGNATURE_BYTES = { HMAC_SHA256: 32, HMAC_SHA512: 64, ED25519: 64 } as const

export function verifyJwsSignature (key: VerifyKey, signingInput: string, signature: Buffer): boolean {
  // Length guard first: timingSafeEqual needs equal lengths, and a wrong length is never valid.
  if (signature.length !== SIGNATURE_BYTES[key.algorithm]) return false
  if (key.algorithm === 'ED25519') return verify(null, Buffer.from(signingInput), key.key, signature)
  const expected = createHmac(HMAC_HASH[key.algorithm], key.key).update(signingInput).digest()
  return timingSafeEqual(expected, signature)
}
