/**
 * Turns the key strings of an app record into node:crypto KeyObjects, once per app load.
 *
 * Accepted encodings:
 * - HMAC: the hex string of the secret bytes (the original's `private_key`); at least as long as
 *   the hash output (32 bytes for SHA-256, 64 for SHA-512).
 * - Ed25519 public: PEM (SPKI), hex of PEM text (the original), raw 32 bytes as hex or base64.
 * - Ed25519 private: PEM (PKCS#8), hex of PEM text (the original), a raw 32-byte seed or a 64-byte
 *   tweetnacl/PyNaCl secret key (seed || public key), as hex or base64.
 * Every failure throws a KeyFormatError whose message names the problem, never the key.
 */
import { createPrivateKey, createPublicKey, createSecretKey, type KeyObject } from 'node:crypto'
import type { Algorithm } from '../../types/index.js'
import { checkEd25519PublicKey } from './ed25519-point.js'

export class KeyFormatError extends Error {}

const HEX = /^(?:[0-9a-fA-F]{2})+$/
const BASE64 = /^[A-Za-z0-9+/_-]+={0,2}$/
const PEM_HEADER = '-----BEGIN '
// DER prefixes of an Ed25519 SPKI public key and PKCS#8 private key (RFC 8410).
const SPKI_PREFIX = Buffer.from('302a300506032b6570032100', 'hex')
const PKCS8_PREFIX = Buffer.from('302e020100300506032b657004220420', 'hex')

export const HMAC_MIN_BYTES: Record<'HMAC_SHA256' | 'HMAC_SHA512', number> = { HMAC_SHA256: 32, HMAC_SHA512: 64 }

export function parseHmacSecret (text: unknown, algorithm: 'HMAC_SHA256' | 'HMAC_SHA512'): KeyObject {
  if (typeof text !== 'string' || text.length === 0) throw new KeyFormatError('the HMAC secret is empty')
  if (!HEX.test(text)) throw new KeyFormatError('the HMAC secret is not a hex string')
  const secret = Buffer.from(text, 'hex')
  // The original stores PEM keys as hex too: a key given to an HMAC app is a mistake, and a
  // dangerous one (a public key as the secret lets anyone who holds it sign).
  const asKey = looksLikeKeyText(secret)
  if (asKey !== null) throw new KeyFormatError(`the HMAC secret is ${asKey} (does the algorithm match the key?)`)
  if (secret.length < HMAC_MIN_BYTES[algorithm]) {
    throw new KeyFormatError(`the HMAC secret is shorter than ${HMAC_MIN_BYTES[algorithm]} bytes`)
  }
  return createSecretKey(secret)
}

const PEM_MARKER = /-{3,}\s*BEGIN /i
const BAG_ATTRIBUTES = /^\s*Bag Attributes/i

/** DER: one ASN.1 SEQUENCE spanning exactly these bytes (a random secret is that with odds ~2^-16). */
function isDerSequence (bytes: Buffer): boolean {
  if (bytes.length < 2 || bytes[0] !== 0x30) return false
  const first = bytes[1]
  if (first < 0x80) return 2 + first === bytes.length
  const count = first & 0x7f
  if (count === 0 || count > 4 || bytes.length < 2 + count) return false
  let length = 0
  for (let i = 0; i < count; i++) length = length * 256 + bytes[2 + i]
  return 2 + count + length === bytes.length
}

/**
 * What key text these secret bytes are, if any: PEM wherever its header starts (after white
 * space, a UTF-8 BOM, CRLF lines, OpenSSL's `Bag Attributes` preamble), or DER key bytes.
 */
function looksLikeKeyText (bytes: Buffer): string | null {
  const text = bytes.toString('latin1')
  if (PEM_MARKER.test(text) || BAG_ATTRIBUTES.test(text.replace(/^\xef\xbb\xbf/, ''))) return 'a PEM key'
  if (isDerSequence(bytes) && parsesAsDerKey(bytes)) return 'a DER-encoded (ASN.1) key'
  return null
}

const DER_KEY_FORMATS = [
  { type: 'spki', private: false }, { type: 'pkcs1', private: false },
  { type: 'pkcs8', private: true }, { type: 'pkcs1', private: true }, { type: 'sec1', private: true }
] as const

/** Whether OpenSSL reads these bytes as a public or private key (so a random secret is never refused). */
function parsesAsDerKey (bytes: Buffer): boolean {
  for (const format of DER_KEY_FORMATS) {
    try {
      if (format.private) createPrivateKey({ key: bytes, format: 'der', type: format.type })
      else createPublicKey({ key: bytes, format: 'der', type: format.type })
      return true
    } catch {}
  }
  return false
}

/** PEM text given directly or as the hex of its text (the original's column format). */
function pemText (text: string): string | null {
  if (text.includes(PEM_HEADER)) return text
  if (HEX.test(text) && text.length > 64) {
    const decoded = Buffer.from(text, 'hex').toString('latin1')
    if (decoded.includes(PEM_HEADER)) return decoded
  }
  return null
}

/** Raw key bytes given as hex or base64 (standard or url-safe). */
function rawBytes (text: string): Buffer | null {
  if (HEX.test(text)) return Buffer.from(text, 'hex')
  if (BASE64.test(text)) return Buffer.from(text.replace(/-/g, '+').replace(/_/g, '/'), 'base64')
  return null
}

function assertEd25519 (key: KeyObject): KeyObject {
  if (key.asymmetricKeyType !== 'ed25519') {
    throw new KeyFormatError(`the key is ${key.asymmetricKeyType ?? 'not asymmetric'}, not Ed25519`)
  }
  return key
}

function checkPoint (raw: Uint8Array): void {
  const verdict = checkEd25519PublicKey(raw)
  if (verdict !== 'valid') throw new KeyFormatError(`the Ed25519 public key is invalid (${verdict})`)
}

function publicKeyFromRaw (raw: Uint8Array): KeyObject {
  checkPoint(raw)
  return createPublicKey({ key: Buffer.concat([SPKI_PREFIX, raw]), format: 'der', type: 'spki' })
}

/** Checks an Ed25519 KeyObject's point, whatever encoding it came in; the key itself is kept. */
function checkedPublicKey (key: KeyObject): KeyObject {
  checkPoint(ed25519RawPublicKey(key))
  return key
}

export function parseEd25519PublicKey (text: unknown): KeyObject {
  if (typeof text !== 'string' || text.trim().length === 0) throw new KeyFormatError('the Ed25519 public key is empty')
  const value = text.trim()
  const pem = pemText(value)
  if (pem !== null) {
    let key: KeyObject
    try {
      key = createPublicKey(pem)
    } catch {
      throw new KeyFormatError('the Ed25519 public key PEM cannot be read')
    }
    return checkedPublicKey(assertEd25519(key))
  }
  const raw = rawBytes(value)
  if (raw === null || raw.length !== 32) throw new KeyFormatError('the Ed25519 public key is not 32 bytes of hex or base64, nor PEM')
  return publicKeyFromRaw(raw)
}

export function parseEd25519PrivateKey (text: unknown): KeyObject {
  if (typeof text !== 'string' || text.trim().length === 0) throw new KeyFormatError('the Ed25519 private key is empty')
  const value = text.trim()
  const pem = pemText(value)
  if (pem !== null) {
    let key: KeyObject
    try {
      key = createPrivateKey(pem)
    } catch {
      throw new KeyFormatError('the Ed25519 private key PEM cannot be read')
    }
    return assertEd25519(key)
  }
  const raw = rawBytes(value)
  if (raw === null || (raw.length !== 32 && raw.length !== 64)) {
    throw new KeyFormatError('the Ed25519 private key is not a 32-byte seed or 64-byte secret key (hex or base64), nor PEM')
  }
  const key = createPrivateKey({ key: Buffer.concat([PKCS8_PREFIX, raw.subarray(0, 32)]), format: 'der', type: 'pkcs8' })
  // A tweetnacl / PyNaCl secret key is seed || public key: the halves must belong together.
  if (raw.length === 64 && !ed25519RawPublicKey(key).equals(raw.subarray(32))) {
    throw new KeyFormatError('the Ed25519 secret key halves do not match')
  }
  return key
}

/** The raw 32-byte public key of an Ed25519 KeyObject (public or private). */
export function ed25519RawPublicKey (key: KeyObject): Buffer {
  const publicKey = key.type === 'private' ? createPublicKey(key) : key
  const der = publicKey.export({ format: 'der', type: 'spki' })
  return der.subarray(der.length - 32)
}

export function isHmac (algorithm: Algorithm): algorithm is 'HMAC_SHA256' | 'HMAC_SHA512' {
  return algorithm === 'HMAC_SHA256' || algorithm === 'HMAC_SHA512'
}

export { checkedPublicKey as checkEd25519KeyObject }
