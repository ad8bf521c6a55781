/**
 * What the RFC 9421 signer and verifier share: algorithm names, the signature base (RFC 9421
 * 2.5), signing and verifying one base with one key, and RFC 9530 `Content-Digest`.
 */
import { createHash, createHmac, sign as cryptoSign, timingSafeEqual, verify as cryptoVerify, type KeyObject } from 'node:crypto'
import type { Algorithm } from '../../types/index.js'
import { HMAC_HASH } from '../keys/algorithms.js'

/** RFC 9421 algorithm names (hmac-sha512 is ours: the IANA registry has no HMAC-SHA512 entry). */
export const RFC9421_ALG: Record<Algorithm, string> = {
  HMAC_SHA256: 'hmac-sha256',
  HMAC_SHA512: 'hmac-sha512',
  ED25519: 'ed25519'
}

/** Components every signed request must cover; `@query` and `content-digest` when they apply. */
export const REQUIRED_COMPONENTS = ['@method', '@authority', '@path'] as const

/** The signature base: one line per covered component, then `"@signature-params"`. */
export function signatureBase (lines: readonly string[], signatureParams: string): string {
  let base = ''
  for (const line of lines) base += line + '\n'
  return base + '"@signature-params": ' + signatureParams
}

export function signBase (algorithm: Algorithm, key: KeyObject, base: string): Buffer {
  if (algorithm === 'ED25519') return cryptoSign(null, Buffer.from(base, 'utf8'), key)
  return createHmac(HMAC_HASH[algorithm], key).update(base, 'utf8').digest()
}

/**
 * Ed25519 through node:crypto (OpenSSL: strict, refuses S >= L, ~100x faster than tweetnacl);
 * HMAC compared in constant time after a length check.
 */
export function verifyBase (algorithm: Algorithm, key: KeyObject, base: string, signature: Buffer): boolean {
  if (algorithm === 'ED25519') {
    if (signature.length !== 64) return false
    try {
      return cryptoVerify(null, Buffer.from(base, 'utf8'), key, signature)
    } catch {
      return false
    }
  }
  const mac = createHmac(HMAC_HASH[algorithm], key).update(base, 'utf8').digest()
  return mac.length === signature.length && timingSafeEqual(mac, signature)
}

export type DigestAlgorithm = 'sha-256' | 'sha-512'

/** `Content-Digest` field value for these bytes (RFC 9530). */
export function contentDigest (body: Buffer, algorithm: DigestAlgorithm = 'sha-256'): string {
  const hash = createHash(algorithm === 'sha-256' ? 'sha256' : 'sha512').update(body).digest('base64')
  return `${algorithm}=:${hash}:`
}
