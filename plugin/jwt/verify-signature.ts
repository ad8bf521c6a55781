/**
 * JWS signature verification with node:crypto and KeyObjects built once per app key. The
 * algorithm is pinned by the key (from the app record); the token's `alg` must name it.
 */
import { createHmac, verify } from 'node:crypto'
import type { VerifyKey } from '../keys/app-keys.js'
import { HMAC_HASH } from '../keys/algorithms.js'
import { constantTimeEqual } from '../keys/constant-time.js'
import { isCanonicalBase64url } from './decode.js'

/** Length of the unpadded base64url spelling of each algorithm's signature (32 or 64 bytes). */
const SIGNATURE_CHARS = { HMAC_SHA256: 43, HMAC_SHA512: 86, ED25519: 86 } as const

/**
 * `signaturePart` is the token's third segment, still encoded and not yet checked. For HMAC the
 * spellings are compared: our digest's spelling is canonical, so a segment equal to it is the
 * canonical spelling of the right bytes (and no buffer is decoded per token). For Ed25519 the
 * segment must pass decode.ts's canonical check (the one rule for every segment) before it is
 * decoded for the verify.
 */
export function verifyJwsSignature (key: VerifyKey, signingInput: string, signaturePart: string): boolean {
  if (signaturePart.length !== SIGNATURE_CHARS[key.algorithm]) return false
  if (key.algorithm === 'ED25519') {
    return isCanonicalBase64url(signaturePart) && verify(null, Buffer.from(signingInput), key.key, Buffer.from(signaturePart, 'base64url'))
  }
  const expected = createHmac(HMAC_HASH[key.algorithm], key.key).update(signingInput).digest('base64url')
  return constantTimeEqual(expected, signaturePart)
}
