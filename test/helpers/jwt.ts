/**
 * A test-only JWS encoder that can write anything (any header, any alg, any claim), so that
 * tests can build both valid tokens and attacks. Not the package's signer (signJwt).
 */
import { createHmac, createPrivateKey, sign } from 'node:crypto'

export type TestAlg = 'HS256' | 'HS512' | 'EdDSA'

/** The base64url alphabet, in order: a character's index is the six bits it spells. */
export const BASE64URL_ALPHABET = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_'

export function b64url (value: unknown): string {
  return Buffer.from(typeof value === 'string' ? value : JSON.stringify(value)).toString('base64url')
}

export interface EncodeOptions {
  header?: Record<string, unknown>
  /** Hex HMAC secret, or an Ed25519 private key PEM. */
  key: string
  alg?: TestAlg
}

export function encodeJwt (payload: Record<string, unknown> | string, { header, key, alg = 'HS256' }: EncodeOptions): string {
  const signingInput = `${b64url({ alg, typ: 'JWT', ...header })}.${b64url(payload)}`
  let signature: Buffer
  if (alg === 'EdDSA') signature = sign(null, Buffer.from(signingInput), createPrivateKey(key))
  else signature = createHmac(alg === 'HS512' ? 'sha512' : 'sha256', Buffer.from(key, 'hex')).update(signingInput).digest()
  return `${signingInput}.${signature.toString('base64url')}`
}

/** Claims as a Python sender (1.2.4+) makes them, for `caller` calling `audience`. */
export function pythonClaims (caller: string, audience: string, extra: Record<string, unknown> = {}): Record<string, unknown> {
  const now = Date.now() / 1000
  return { sub: '', iss: 'http://localhost:8000', app: caller, aud: audience, exp: now + 600, iat: now - 1, typ: 'JWT', ...extra }
}

export function linkHeader (caller: string, token: string): string {
  return `Link App=${caller},Token=${token}`
}
