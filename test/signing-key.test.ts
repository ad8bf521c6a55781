/**
 * One signing-key cache for outgoing JWTs and signed requests (plugin/keys/signing-key.ts):
 * a record whose key is changed in place signs with the new key, and both signers refuse a
 * record without a private key with the same error.
 */
import { test } from 'node:test'
import assert from 'node:assert/strict'
import { createHmac } from 'node:crypto'
import { signJwt } from '../plugin/client/sign-jwt.js'
import { signRequest } from '../plugin/signature/sign.js'
import type { AppRecord } from '../types/index.js'
import { ed25519Keys, hmacKeyHex } from './helpers/keys.js'

function jwtSignedWith (token: string, keyHex: string): boolean {
  const [header, payload, signature] = token.split('.')
  return createHmac('sha512', Buffer.from(keyHex, 'hex')).update(`${header}.${payload}`).digest('base64url') === signature
}

test('signJwt: a record whose key is replaced in place signs with the new key', () => {
  const first = hmacKeyHex()
  const second = hmacKeyHex()
  const app: AppRecord = { slug: 'peer', algorithm: 'HMAC_SHA512', privateKey: first }
  assert.ok(jwtSignedWith(signJwt({ appName: 'me', app }), first))
  app.privateKey = second
  const token = signJwt({ appName: 'me', app })
  assert.ok(jwtSignedWith(token, second), 'signed with the new key')
  assert.equal(jwtSignedWith(token, first), false)
})

test('signRequest after signJwt on the same record signs with the record\'s current key', () => {
  const first = hmacKeyHex()
  const second = hmacKeyHex()
  const app: AppRecord = { slug: 'peer', algorithm: 'HMAC_SHA512', privateKey: first }
  signJwt({ appName: 'me', app })
  app.privateKey = second
  const signed = signRequest({ appName: 'me', app, method: 'GET', url: 'http://peer.test/x', nonce: 'n', created: 1 })
  const params = signed.headers['Signature-Input'].slice('sig='.length)
  const base = `"@method": GET\n"@authority": peer.test\n"@path": /x\n"@signature-params": ${params}`
  const expected = createHmac('sha512', Buffer.from(second, 'hex')).update(base).digest('base64')
  assert.equal(signed.headers.Signature, `sig=:${expected}:`)
})

test('both signers refuse an app without a private key with the same coded error', () => {
  const app: AppRecord = { slug: 'ed', algorithm: 'ED25519', publicKey: ed25519Keys().publicPem }
  const errors = [
    () => signJwt({ appName: 'me', app }),
    () => signRequest({ appName: 'me', app, method: 'GET', url: 'http://ed.test/' })
  ].map((sign) => {
    try {
      sign()
    } catch (error) {
      return { code: (error as { code: string }).code, message: (error as Error).message }
    }
    return null
  })
  assert.deepEqual(errors[0], { code: 'FST_LINKED_SERVICES_SIGNING_FAILED', message: 'Cannot sign: app ed holds no private key to sign with' })
  assert.deepEqual(errors[1], errors[0])
})
