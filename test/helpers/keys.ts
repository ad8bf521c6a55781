/** Test keys: the original's golden HMAC key and fresh keys in every accepted encoding. */
import { randomBytes } from 'node:crypto'
import nacl from 'tweetnacl'

/** The original's golden vector: `0123456789abcdef` repeated 16 times (128 secret bytes). */
export const GOLDEN_HMAC_KEY = '0123456789abcdef'.repeat(16)

export function hmacKeyHex (bytes = 64): string {
  return randomBytes(bytes).toString('hex')
}

export interface Ed25519TestKeys {
  /** PKCS#8 PEM text. */
  privatePem: string
  /** SPKI PEM text. */
  publicPem: string
  /** The original's column format: hex of the PEM text. */
  privatePemHex: string
  publicPemHex: string
  /** tweetnacl / PyNaCl forms. */
  seed: Buffer
  secretKey: Buffer
  publicRaw: Buffer
}

export function ed25519Keys (): Ed25519TestKeys {
  const seed = randomBytes(32)
  const pair = nacl.sign.keyPair.fromSeed(seed)
  // Every encoding below names the same key pair, made from one seed.
  const privateDer = Buffer.concat([Buffer.from('302e020100300506032b657004220420', 'hex'), seed])
  const privatePem = `-----BEGIN PRIVATE KEY-----\n${privateDer.toString('base64')}\n-----END PRIVATE KEY-----\n`
  const publicDer = Buffer.concat([Buffer.from('302a300506032b6570032100', 'hex'), Buffer.from(pair.publicKey)])
  const publicPem = `-----BEGIN PUBLIC KEY-----\n${publicDer.toString('base64')}\n-----END PUBLIC KEY-----\n`
  return {
    privatePem,
    publicPem,
    privatePemHex: Buffer.from(privatePem).toString('hex'),
    publicPemHex: Buffer.from(publicPem).toString('hex'),
    seed,
    secretKey: Buffer.from(pair.secretKey),
    publicRaw: Buffer.from(pair.publicKey)
  }
}
