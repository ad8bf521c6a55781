import { test } from 'node:test'
import assert from 'node:assert/strict'
import Fastify from 'fastify'
import fastifyJwt from '@fastify/jwt'
import { createVerifier } from 'fast-jwt'
import linkedServices, { MemoryStore } from '../plugin/index.js'
import { JWT_LIFETIME_SECONDS, linkAuthorizationHeader, signJwt } from '../plugin/client/sign-jwt.js'
import type { AppRecord } from '../types/index.js'
import { ed25519Keys, GOLDEN_HMAC_KEY, hmacKeyHex } from './helpers/keys.js'

// The original's golden vector: PyJWT 2.15 output for these claims.
const GOLDEN_HS512 = 'eyJhbGciOiJIUzUxMiIsInR5cCI6IkpXVCJ9.eyJzdWIiOiI1IiwiaXNzIjoiaHR0cDovL2xvY2FsaG9zdDo4MDAwIiwiYXBwIjoiNGdlZWtzIiwiYXVkIjoicmlnb2JvdCIsImV4cCI6MTcxNjAzNDIwMCwiaWF0IjoxNzE2MDMzNTk5LCJ0eXAiOiJKV1QifQ.H5AIXb5qYumUvyzyqAvMKiow6DJ8lMAGu2cJQqmh4pqBjnTjBJnHssYcWJI21E6Gkf6JMrjk0XlQeY9RZIcwBw'
const GOLDEN_HS256 = 'eyJhbGciOiJIUzI1NiIsInR5cCI6IkpXVCJ9.eyJzdWIiOiI1IiwiaXNzIjoiaHR0cDovL2xvY2FsaG9zdDo4MDAwIiwiYXBwIjoiNGdlZWtzIiwiYXVkIjoicmlnb2JvdCIsImV4cCI6MTcxNjAzNDIwMCwiaWF0IjoxNzE2MDMzNTk5LCJ0eXAiOiJKV1QifQ.ZNfQTdV1wUxvxVQhYX9cDF_LTFDpal58WrC8iwACEic'
const GOLDEN_NOW = 1716033600_000

function decode (token: string): { header: Record<string, unknown>, payload: Record<string, unknown> } {
  const [header, payload] = token.split('.')
  return {
    header: JSON.parse(Buffer.from(header, 'base64url').toString()),
    payload: JSON.parse(Buffer.from(payload, 'base64url').toString())
  }
}

const rigobot = (algorithm: AppRecord['algorithm']): AppRecord => ({ slug: 'rigobot', algorithm, privateKey: GOLDEN_HMAC_KEY })

test('signJwt reproduces the PyJWT golden tokens byte for byte (HS512, HS256)', () => {
  const options = { appName: '4geeks', sub: 5, now: GOLDEN_NOW, issuer: 'http://localhost:8000' }
  assert.equal(signJwt({ ...options, app: rigobot('HMAC_SHA512') }), GOLDEN_HS512)
  assert.equal(signJwt({ ...options, app: rigobot('HMAC_SHA256') }), GOLDEN_HS256)
  // A string sub gives the same token (the claim is always a string).
  assert.equal(signJwt({ ...options, sub: '5', app: rigobot('HMAC_SHA256') }), GOLDEN_HS256)
})

test('signJwt claims: string sub, integer exp/iat, typ, aud = target slug, app = our name', () => {
  const now = 1_700_000_000_500
  const token = signJwt({ appName: 'nodeservice', app: { slug: 'peer', algorithm: 'HMAC_SHA256', privateKey: hmacKeyHex(32) }, now })
  const { header, payload } = decode(token)
  assert.deepEqual(header, { alg: 'HS256', typ: 'JWT' })
  assert.deepEqual(payload, {
    sub: '',
    iss: process.env.API_URL ?? 'http://localhost:8000',
    app: 'nodeservice',
    aud: 'peer',
    exp: 1_700_000_000 + JWT_LIFETIME_SECONDS,
    iat: 1_700_000_000 - 1,
    typ: 'JWT'
  })
})

test('signJwt options: expiresIn, issuer, extra claims, kid header, reverse', () => {
  const app: AppRecord = { slug: 'peer', algorithm: 'HMAC_SHA512', privateKey: hmacKeyHex(64), kid: 'k2' }
  const token = signJwt({ appName: 'me', app, sub: 'abc', expiresIn: 120, now: 10_000, issuer: 'https://me.example', claims: { jti: 'x1' }, reverse: true })
  const { header, payload } = decode(token)
  assert.deepEqual(header, { alg: 'HS512', typ: 'JWT', kid: 'k2' })
  assert.equal(payload.sub, 'abc')
  assert.equal(payload.app, 'peer')
  assert.equal(payload.aud, 'me')
  assert.equal(payload.exp, 130)
  assert.equal(payload.iat, 9)
  assert.equal(payload.iss, 'https://me.example')
  assert.equal(payload.jti, 'x1')
  assert.equal(linkAuthorizationHeader('me', token), `Link App=me,Token=${token}`)
})

test('signJwt refuses what it cannot sign, with SigningError', () => {
  const hmac: AppRecord = { slug: 'peer', algorithm: 'HMAC_SHA256', privateKey: hmacKeyHex(32) }
  const cases: Array<[() => unknown, RegExp]> = [
    [() => signJwt({ appName: '', app: hmac }), /appName/],
    [() => signJwt({ appName: 'me', app: { ...hmac, privateKey: 'zz' } }), /not a hex string/],
    [() => signJwt({ appName: 'me', app: { ...hmac, privateKey: hmacKeyHex(16) } }), /shorter/],
    [() => signJwt({ appName: 'me', app: { slug: 'ed', algorithm: 'ED25519', publicKey: ed25519Keys().publicPem } }), /no private key/],
    [() => signJwt({ appName: 'me', app: hmac, claims: { aud: 'other' } }), /aud/],
    [() => signJwt({ appName: 'me', app: hmac, expiresIn: -1 }), /expiresIn/],
    [() => signJwt({ appName: 'me', app: hmac, sub: 1.5 }), /sub/],
    [() => signJwt({ appName: 'me', app: null as unknown as AppRecord }), /no app record/]
  ]
  for (const [call, message] of cases) {
    assert.throws(call, (error: Error & { code?: string }) => {
      assert.equal(error.code, 'FST_LINKED_SERVICES_SIGNING_FAILED')
      assert.match(error.message, message)
      return true
    })
  }
})

test('fast-jwt and @fastify/jwt verify our tokens (independent implementations)', async () => {
  const secret = hmacKeyHex(64)
  const ed = ed25519Keys()
  const hs = signJwt({ appName: 'me', app: { slug: 'peer', algorithm: 'HMAC_SHA512', privateKey: secret }, sub: 7 })
  const eddsa = signJwt({ appName: 'me', app: { slug: 'peer', algorithm: 'ED25519', privateKey: ed.privatePemHex }, sub: 7 })

  const hsClaims = createVerifier({ key: Buffer.from(secret, 'hex'), algorithms: ['HS512'], allowedAud: 'peer' })(hs)
  assert.equal(hsClaims.sub, '7')
  const edClaims = createVerifier({ key: ed.publicPem, algorithms: ['EdDSA'], allowedAud: 'peer' })(eddsa)
  assert.equal(edClaims.app, 'me')

  const server = Fastify()
  await server.register(fastifyJwt, { secret: { private: ed.privatePem, public: ed.publicPem }, sign: { algorithm: 'EdDSA' }, verify: { algorithms: ['EdDSA'], allowedAud: 'peer' } })
  server.get('/', async (request) => await request.jwtVerify())
  const response = await server.inject({ url: '/', headers: { authorization: `Bearer ${eddsa}` } })
  assert.equal(response.statusCode, 200)
  assert.equal(response.json().sub, '7')
  await server.close()
})

test('the plugin accepts our tokens in every algorithm, with and without a user', async (t) => {
  const ed = ed25519Keys()
  const sharedHmac = hmacKeyHex(64)
  // The receiver ("nodeservice") holds each caller's key; the caller ("caller") holds nodeservice's.
  const receiverSide: AppRecord[] = [
    { slug: 'hs', algorithm: 'HMAC_SHA512', privateKey: sharedHmac, requireAnAgreement: false },
    { slug: 'ed', algorithm: 'ED25519', publicKey: ed.publicPemHex, requireAnAgreement: false }
  ]
  const server = Fastify()
  await server.register(linkedServices, { appName: 'nodeservice', store: new MemoryStore({ apps: receiverSide }) })
  server.get('/', { preHandler: server.scope(['read:user']) }, async (request) => ({ app: request.app?.slug, sub: request.token?.sub }))
  t.after(async () => await server.close())

  const calls: Array<[string, AppRecord, number | undefined]> = [
    ['hs', { slug: 'nodeservice', algorithm: 'HMAC_SHA512', privateKey: sharedHmac }, 5],
    ['hs', { slug: 'nodeservice', algorithm: 'HMAC_SHA512', privateKey: sharedHmac }, undefined],
    ['ed', { slug: 'nodeservice', algorithm: 'ED25519', privateKey: ed.privatePem }, 9]
  ]
  for (const [caller, target, sub] of calls) {
    const token = signJwt({ appName: caller, app: target, sub })
    const response = await server.inject({ url: '/', headers: { authorization: linkAuthorizationHeader(caller, token) } })
    assert.equal(response.statusCode, 200, response.body)
    assert.deepEqual(response.json(), { app: caller, sub: sub === undefined ? null : String(sub) })
  }

  // Reverse mode (the CLI's): minted from the receiver's own record of the caller.
  const reverse = signJwt({ appName: 'nodeservice', app: receiverSide[0], reverse: true })
  const response = await server.inject({ url: '/', headers: { authorization: linkAuthorizationHeader('hs', reverse) } })
  assert.equal(response.statusCode, 200, response.body)
})
