/**
 * The algorithms an app record may name, and what each is called by the JWS and HMAC layers:
 * the one place for these names (signers and verifiers, JWT and signatures, stores and CLI).
 */
import type { Algorithm } from '../../types/index.js'

export const ALGORITHMS: readonly Algorithm[] = ['HMAC_SHA256', 'HMAC_SHA512', 'ED25519']

export type HmacAlgorithm = 'HMAC_SHA256' | 'HMAC_SHA512'
export type HmacHash = 'sha256' | 'sha512'
/** node:crypto's hash of each HMAC algorithm. */
export const HMAC_HASH: Readonly<Record<HmacAlgorithm, HmacHash>> = { HMAC_SHA256: 'sha256', HMAC_SHA512: 'sha512' }

export type JwtAlgorithm = 'HS256' | 'HS512' | 'EdDSA'
/** The JWS `alg` of each algorithm (RFC 7518, RFC 8037). */
export const JWT_ALGORITHM: Readonly<Record<Algorithm, JwtAlgorithm>> = { HMAC_SHA256: 'HS256', HMAC_SHA512: 'HS512', ED25519: 'EdDSA' }
