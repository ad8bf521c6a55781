import { test } from 'node:test'
import assert from 'node:assert/strict'
import { sign, verify } from 'node:crypto'
import nacl from 'tweetnacl'
import { resolveAppKeys, candidateKeys } from '../plugin/keys/app-keys.js'
import { checkEd25519PublicKey } from '../plugin/keys/ed25519-point.js'
import { ed25519RawPublicKey, parseEd25519PrivateKey, parseEd25519PublicKey, parseHmacSecret } from '../plugin/keys/parse.js'
import { ed25519Keys, GOLDEN_HMAC_KEY, hmacKeyHex } from './helpers/keys.js'

test('HMAC secrets: hex only, at least the hash length, never empty', () => {
  assert.equal(parseHmacSecret(GOLDEN_HMAC_KEY, 'HMAC_SHA512').symmetricKeySize, 128)
  assert.equal(parseHmacSecret(hmacKeyHex(32), 'HMAC_SHA256').symmetricKeySize, 32)
  assert.throws(() => parseHmacSecret(hmacKeyHex(31), 'HMAC_SHA256'), /shorter than 32 bytes/)
  assert.throws(() => parseHmacSecret(hmacKeyHex(32), 'HMAC_SHA512'), /shorter than 64 bytes/)
  assert.throws(() => parseHmacSecret('', 'HMAC_SHA256'), /empty/)
  assert.throws(() => parseHmacSecret(null, 'HMAC_SHA256'), /empty/)
  assert.throws(() => parseHmacSecret('g'.repeat(64), 'HMAC_SHA256'), /not a hex/)
  assert.throws(() => parseHmacSecret('a'.repeat(65), 'HMAC_SHA256'), /not a hex/)
})

test('Ed25519 keys in every encoding name the same key; tweetnacl cross-checks node:crypto', () => {
  const keys = ed25519Keys()
  const publics = [keys.publicPem, keys.publicPemHex, keys.publicRaw.toString('hex'), keys.publicRaw.toString('base64'), keys.publicRaw.toString('base64url')]
  const privates = [keys.privatePem, keys.privatePemHex, keys.seed.toString('hex'), keys.seed.toString('base64'), keys.secretKey.toString('hex'), keys.secretKey.toString('base64')]
  for (const text of publics) assert.deepEqual(ed25519RawPublicKey(parseEd25519PublicKey(text)), keys.publicRaw, text)
  const message = Buffer.from('linked services')
  for (const text of privates) {
    const privateKey = parseEd25519PrivateKey(text)
    assert.deepEqual(ed25519RawPublicKey(privateKey), keys.publicRaw, text)
    const signature = sign(null, message, privateKey)
    assert.ok(nacl.sign.detached.verify(message, signature, keys.publicRaw), 'tweetnacl accepts a node:crypto signature')
  }
  const naclSignature = nacl.sign.detached(message, keys.secretKey)
  assert.ok(verify(null, message, parseEd25519PublicKey(keys.publicPem), naclSignature), 'node:crypto accepts a tweetnacl signature')
})

test('Ed25519 public keys of small order, off the curve or mixed order are refused at load', () => {
  const identity = Buffer.alloc(32); identity[0] = 1
  const orderTwo = Buffer.alloc(32, 0xff); orderTwo[0] = 0xec; orderTwo[31] = 0x7f // y = p - 1
  const smallOrder8 = Buffer.from('c7176a703d4dd84fba3c0b760d10670f2a2053fa2c39ccc64ec7fd7792ac037a', 'hex')
  assert.equal(checkEd25519PublicKey(identity), 'small-order')
  assert.equal(checkEd25519PublicKey(orderTwo), 'small-order')
  assert.equal(checkEd25519PublicKey(smallOrder8), 'small-order')
  const nonCanonical = Buffer.alloc(32, 0xff); nonCanonical[31] = 0x7f // y >= p
  assert.equal(checkEd25519PublicKey(nonCanonical), 'not-a-point')
  assert.equal(checkEd25519PublicKey(Buffer.from(ed25519Keys().publicRaw)), 'valid')
  // A valid key plus a small-order point: on the curve, but not in the prime-order subgroup.
  let offCurveFound = false
  for (let i = 2; i < 40 && !offCurveFound; i++) {
    const candidate = Buffer.alloc(32); candidate[0] = i
    offCurveFound = checkEd25519PublicKey(candidate) === 'not-a-point'
  }
  assert.ok(offCurveFound, 'some y has no x')
  for (const bad of [identity, smallOrder8]) {
    assert.throws(() => parseEd25519PublicKey(bad.toString('hex')), /invalid \(small-order\)/)
  }
  assert.throws(() => parseEd25519PublicKey('abcd'), /not 32 bytes/)
  assert.throws(() => parseEd25519PublicKey(''), /empty/)
  assert.throws(() => parseEd25519PrivateKey('ab'.repeat(16)), /not a 32-byte seed/)
})

test('a key whose type does not match the algorithm is refused', () => {
  const keys = ed25519Keys()
  assert.throws(() => resolveAppKeys({ slug: 'x', algorithm: 'HMAC_SHA256', privateKey: hmacKeyHex(32), publicKey: keys.publicPemHex }), /public key is not used/)
  assert.throws(() => resolveAppKeys({ slug: 'x', algorithm: 'HMAC_SHA256', privateKey: keys.privatePemHex }), /is a PEM key/)
  const rsaPem = '-----BEGIN PUBLIC KEY-----\nMFwwDQYJKoZIhvcNAQEBBQADSwAwSAJBAMfq1QvZq7vM1n3Eo0pQ3l8D9y1z1Jq6Wc0mJb8Yk3a1s3y4s3n1m1c4m8k3q9p6o0a3d1s1m1k3j3h2g1f1e1d0cCAwEAAQ==\n-----END PUBLIC KEY-----\n'
  assert.throws(() => resolveAppKeys({ slug: 'x', algorithm: 'ED25519', publicKey: rsaPem }))
  assert.throws(() => resolveAppKeys({ slug: 'x', algorithm: 'ED25519' }), /needs a public or a private key/)
  const mismatched = Buffer.concat([keys.seed, ed25519Keys().publicRaw]).toString('hex')
  assert.throws(() => resolveAppKeys({ slug: 'x', algorithm: 'ED25519', privateKey: mismatched }), /halves do not match/)
})

test('rotation: current key first, previous keys until they expire, the legacy key for two minutes, kid selects', () => {
  const now = Date.now()
  const keys = resolveAppKeys({
    slug: 'x',
    algorithm: 'HMAC_SHA256',
    privateKey: hmacKeyHex(32),
    kid: 'k3',
    previousKeys: [
      { kid: 'k2', privateKey: hmacKeyHex(32), expiresAt: new Date(now + 60_000).toISOString() },
      { kid: 'k1', privateKey: hmacKeyHex(32), expiresAt: now - 1 }
    ],
    legacyKey: { privateKey: hmacKeyHex(32), createdAt: now - 60_000 }
  })
  assert.equal(keys.verify.length, 4)
  assert.deepEqual(candidateKeys(keys, 'HMAC_SHA256', null, now).map((key) => key.kid), ['k3', 'k2', null])
  assert.deepEqual(candidateKeys(keys, 'HMAC_SHA256', 'k2', now).map((key) => key.kid), ['k2'])
  assert.deepEqual(candidateKeys(keys, 'HMAC_SHA256', 'k1', now).map((key) => key.kid), ['k3', 'k2', null], 'an expired kid selects nothing special')
  assert.deepEqual(candidateKeys(keys, 'HMAC_SHA256', null, now + 120_000).map((key) => key.kid), ['k3'], 'later only the current key')
  assert.deepEqual(candidateKeys(keys, 'HMAC_SHA512', null, now), [])
  assert.equal(keys.signing?.kid, 'k3')
  assert.throws(() => resolveAppKeys({ slug: 'x', algorithm: 'HMAC_SHA256', privateKey: hmacKeyHex(32), previousKeys: [{ privateKey: hmacKeyHex(32), expiresAt: 'soon' }] }), /not a valid time/)
})
