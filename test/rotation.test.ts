/**
 * Key rotation in both modes (issue 8.1): the current key signs and always verifies; a previous
 * key verifies until it expires, judged by the clock at request time (no background job);
 * several rotations in a row; the original's `legacyKey` shape; a JWT `kid` / RFC 9421
 * `keyid=<slug>#<kid>` selects the key when it names one. The clock is moved with mock timers.
 */
import { test } from 'node:test'
import assert from 'node:assert/strict'
import { MemoryStore } from '../plugin/index.js'
import type { AppRecord } from '../plugin/index.js'
import { signJwt } from '../plugin/client/sign-jwt.js'
import { ed25519Keys, hmacKeyHex } from './helpers/keys.js'
import { UncheckedStore } from './helpers/unchecked-store.js'
import { encodeJwt, linkHeader, pythonClaims } from './helpers/jwt.js'
import { APP_NAME, attackServer } from './helpers/attacks.js'
import { HOST, signedInject, type Caller } from './helpers/signature.js'

const T0 = Date.UTC(2030, 0, 1, 12, 0, 0)
const MINUTE = 60_000

type Inject = Awaited<ReturnType<typeof attackServer>>['app']

async function jwtCall (app: Inject, slug: string, key: string, options: { alg?: 'HS256' | 'HS512' | 'EdDSA', kid?: string } = {}) {
  const header = options.kid === undefined ? {} : { kid: options.kid }
  const token = encodeJwt(pythonClaims(slug, APP_NAME), { key, alg: options.alg ?? 'HS256', header })
  const response = await app.inject({ url: '/jwt', headers: { authorization: linkHeader(slug, token) } })
  return { status: response.statusCode, code: response.statusCode === 200 ? 'OK' : response.json().code as string }
}

test('JWT: rotateKey — the new key verifies at once, the old one until it expires, then only the new one', async (t) => {
  t.mock.timers.enable({ apis: ['Date'], now: T0 })
  const oldKey = hmacKeyHex(32)
  const newKey = hmacKeyHex(32)
  const { app, store } = await attackServer({ apps: [{ slug: 'peer', algorithm: 'HMAC_SHA256', privateKey: oldKey, requireAnAgreement: false }] })
  assert.equal((await jwtCall(app, 'peer', oldKey)).status, 200)
  assert.equal((await jwtCall(app, 'peer', newKey)).status, 401, 'not yet rotated')

  ;(store as MemoryStore).rotateKey('peer', { privateKey: newKey }, T0 + 5 * MINUTE)
  assert.equal((await jwtCall(app, 'peer', newKey)).status, 200, 'the new key verifies at once (the change feed drops the cache)')
  assert.equal((await jwtCall(app, 'peer', oldKey)).status, 200, 'the previous key still verifies')

  t.mock.timers.setTime(T0 + 5 * MINUTE - 1)
  assert.equal((await jwtCall(app, 'peer', oldKey)).status, 200, 'just before its expiry')
  t.mock.timers.setTime(T0 + 5 * MINUTE)
  const late = await jwtCall(app, 'peer', oldKey)
  assert.deepEqual(late, { status: 401, code: 'FST_LINKED_SERVICES_WRONG_APP_TOKEN' }, 'at its expiry, no background job needed')
  assert.equal((await jwtCall(app, 'peer', newKey)).status, 200, 'the current key always verifies')
  t.mock.timers.setTime(T0 + 365 * 24 * 60 * MINUTE)
  assert.equal((await jwtCall(app, 'peer', newKey)).status, 200, 'a year later, still')
  await app.close()
})

test('JWT: a token verified by a previous key is not served from the token cache past that key\'s expiry', async (t) => {
  t.mock.timers.enable({ apis: ['Date'], now: T0 })
  const oldKey = hmacKeyHex(32)
  const { app } = await attackServer({
    apps: [{
      slug: 'peer',
      algorithm: 'HMAC_SHA256',
      privateKey: hmacKeyHex(32),
      previousKeys: [{ privateKey: oldKey, expiresAt: T0 + MINUTE }],
      requireAnAgreement: false
    }]
  })
  // One token (exp in 10 minutes), used repeatedly: the first call verifies and caches it.
  const token = encodeJwt(pythonClaims('peer', APP_NAME), { key: oldKey })
  const call = async () => (await app.inject({ url: '/jwt', headers: { authorization: linkHeader('peer', token) } })).statusCode
  assert.equal(await call(), 200)
  assert.equal(await call(), 200)
  t.mock.timers.setTime(T0 + MINUTE + 1)
  assert.equal(await call(), 401, 'the cached verdict ends with the key')
  await app.close()
})

test('JWT: several rotations in a row — every unexpired key verifies, each expires on its own time', async (t) => {
  t.mock.timers.enable({ apis: ['Date'], now: T0 })
  const keys = [hmacKeyHex(64), hmacKeyHex(64), hmacKeyHex(64), hmacKeyHex(64), hmacKeyHex(64)]
  const { app, store } = await attackServer({ apps: [{ slug: 'peer', algorithm: 'HMAC_SHA512', privateKey: keys[0], kid: 'k0', requireAnAgreement: false }] })
  const memory = store as MemoryStore
  // k0 -> k1 -> k2 -> k3 -> k4, one rotation a minute, each previous key kept 3 minutes.
  for (let i = 1; i < keys.length; i++) {
    t.mock.timers.setTime(T0 + i * MINUTE)
    memory.rotateKey('peer', { privateKey: keys[i], kid: `k${i}` }, T0 + (i + 3) * MINUTE)
  }
  // Now T0+4min: k0 expired at T0+4min, k1 expires T0+5, k2 T0+6, k3 T0+7, k4 current.
  const verdicts = async () => await Promise.all(keys.map(async (key) => (await jwtCall(app, 'peer', key, { alg: 'HS512' })).status))
  assert.deepEqual(await verdicts(), [401, 200, 200, 200, 200])
  t.mock.timers.setTime(T0 + 6 * MINUTE)
  assert.deepEqual(await verdicts(), [401, 401, 401, 200, 200])
  t.mock.timers.setTime(T0 + 60 * MINUTE)
  assert.deepEqual(await verdicts(), [401, 401, 401, 401, 200])
  // The kid of each key selects it; a kid of an expired key falls back to the usable ones.
  assert.equal((await jwtCall(app, 'peer', keys[4], { alg: 'HS512', kid: 'k4' })).status, 200)
  assert.equal((await jwtCall(app, 'peer', keys[4], { alg: 'HS512', kid: 'k1' })).status, 200, 'an expired kid selects nothing special')
  assert.equal((await jwtCall(app, 'peer', keys[1], { alg: 'HS512', kid: 'k1' })).status, 401, 'an expired key stays expired when named')
  const record = await memory.getApp('peer')
  assert.equal(record?.previousKeys?.length, 4, 'the history is kept (expired keys are ignored, not deleted)')
  await app.close()
})

test('JWT: a kid that names a key selects it alone; an unknown kid tries every usable key', async (t) => {
  t.mock.timers.enable({ apis: ['Date'], now: T0 })
  const current = hmacKeyHex(32)
  const previous = hmacKeyHex(32)
  const { app } = await attackServer({
    apps: [{
      slug: 'peer',
      algorithm: 'HMAC_SHA256',
      privateKey: current,
      kid: 'new',
      previousKeys: [{ kid: 'old', privateKey: previous, expiresAt: T0 + MINUTE }],
      requireAnAgreement: false
    }]
  })
  assert.equal((await jwtCall(app, 'peer', current, { kid: 'new' })).status, 200)
  assert.equal((await jwtCall(app, 'peer', previous, { kid: 'old' })).status, 200)
  assert.equal((await jwtCall(app, 'peer', current, { kid: 'old' })).status, 401, 'kid "old" selects the old key alone')
  assert.equal((await jwtCall(app, 'peer', previous, { kid: 'new' })).status, 401, 'kid "new" selects the current key alone')
  assert.equal((await jwtCall(app, 'peer', previous, { kid: 'unknown' })).status, 200, 'an unknown kid tries every usable key')
  assert.equal((await jwtCall(app, 'peer', current)).status, 200, 'no kid: every usable key')
  for (const kid of ['__proto__', 'constructor', 'x'.repeat(300), '']) {
    const result = await jwtCall(app, 'peer', current, { kid })
    assert.ok(result.status === 200 || result.status === 401, `kid ${kid.slice(0, 12)}: ${result.status}`)
  }
  await app.close()
})

test('JWT: signJwt signs with the current key and sends its kid', async (t) => {
  t.mock.timers.enable({ apis: ['Date'], now: T0 })
  const current = hmacKeyHex(32)
  const previous = hmacKeyHex(32)
  const record: AppRecord = {
    slug: 'peer',
    algorithm: 'HMAC_SHA256',
    privateKey: current,
    kid: 'k2',
    previousKeys: [{ kid: 'k1', privateKey: previous, expiresAt: T0 + MINUTE }],
    requireAnAgreement: false
  }
  // The caller holds the same record for us: its current key signs.
  const token = signJwt({ appName: 'peer', app: { ...record, slug: APP_NAME } })
  const header = JSON.parse(Buffer.from(token.split('.')[0], 'base64url').toString())
  assert.equal(header.kid, 'k2')
  const { app } = await attackServer({ apps: [record] })
  const response = await app.inject({ url: '/jwt', headers: { authorization: linkHeader('peer', token) } })
  assert.equal(response.statusCode, 200)
  await app.close()
})

test('JWT: the original\'s legacyKey verifies for two minutes after createdAt, or until expiresAt', async (t) => {
  t.mock.timers.enable({ apis: ['Date'], now: T0 })
  const current = hmacKeyHex(32)
  const legacyA = hmacKeyHex(32)
  const legacyB = hmacKeyHex(32)
  const { app } = await attackServer({
    apps: [
      { slug: 'created', algorithm: 'HMAC_SHA256', privateKey: current, legacyKey: { privateKey: legacyA, createdAt: new Date(T0).toISOString() }, requireAnAgreement: false },
      { slug: 'expires', algorithm: 'HMAC_SHA256', privateKey: current, legacyKey: { privateKey: legacyB, expiresAt: T0 + 10 * MINUTE }, requireAnAgreement: false }
    ]
  })
  // The original's bug: a legacy key made the current key's tokens
  // fail or crash. Here both verify.
  assert.equal((await jwtCall(app, 'created', current)).status, 200)
  assert.equal((await jwtCall(app, 'created', legacyA)).status, 200)
  assert.equal((await jwtCall(app, 'expires', legacyB)).status, 200)
  t.mock.timers.setTime(T0 + 2 * MINUTE)
  assert.equal((await jwtCall(app, 'created', legacyA)).status, 401, 'two minutes after createdAt')
  assert.equal((await jwtCall(app, 'created', current)).status, 200)
  assert.equal((await jwtCall(app, 'expires', legacyB)).status, 200)
  t.mock.timers.setTime(T0 + 10 * MINUTE)
  assert.equal((await jwtCall(app, 'expires', legacyB)).status, 401)
  assert.equal((await jwtCall(app, 'expires', current)).status, 200)
  await app.close()
})

test('JWT: Ed25519 rotation with only the peer public keys; an algorithm change keeps the old algorithm only with the old key', async (t) => {
  t.mock.timers.enable({ apis: ['Date'], now: T0 })
  const oldEd = ed25519Keys()
  const newEd = ed25519Keys()
  const oldHmac = hmacKeyHex(32)
  const { app, store } = await attackServer({
    apps: [
      { slug: 'ed', algorithm: 'ED25519', publicKey: oldEd.publicPemHex, requireAnAgreement: false },
      // Moving from HS256 to EdDSA: the HS256 secret stays a previous key for a while.
      { slug: 'moving', algorithm: 'ED25519', publicKey: newEd.publicRaw.toString('base64'), previousKeys: [{ algorithm: 'HMAC_SHA256', privateKey: oldHmac, expiresAt: T0 + MINUTE }], requireAnAgreement: false }
    ]
  })
  ;(store as MemoryStore).rotateKey('ed', { publicKey: newEd.publicRaw.toString('hex') }, T0 + MINUTE)
  assert.equal((await jwtCall(app, 'ed', newEd.privatePem, { alg: 'EdDSA' })).status, 200)
  assert.equal((await jwtCall(app, 'ed', oldEd.privatePem, { alg: 'EdDSA' })).status, 200)
  assert.equal((await jwtCall(app, 'ed', oldHmac, { alg: 'HS256' })).status, 401, 'no HMAC key: HS256 refused')
  assert.equal((await jwtCall(app, 'moving', newEd.privatePem, { alg: 'EdDSA' })).status, 200)
  assert.equal((await jwtCall(app, 'moving', oldHmac, { alg: 'HS256' })).status, 200, 'the previous HS256 key, with its own algorithm')
  // Algorithm confusion across the rotation: the Ed25519 public key used as an HMAC secret.
  const publicAsSecret = Buffer.from(newEd.publicRaw).toString('hex').repeat(2)
  assert.equal((await jwtCall(app, 'moving', publicAsSecret, { alg: 'HS256' })).status, 401)
  t.mock.timers.setTime(T0 + MINUTE)
  assert.equal((await jwtCall(app, 'ed', oldEd.privatePem, { alg: 'EdDSA' })).status, 401)
  assert.equal((await jwtCall(app, 'moving', oldHmac, { alg: 'HS256' })).status, 401)
  assert.equal((await jwtCall(app, 'moving', newEd.privatePem, { alg: 'EdDSA' })).status, 200)
  await app.close()
})

test('a previous key that is unusable refuses the app (fail closed), it is never skipped silently', async (t) => {
  t.mock.timers.enable({ apis: ['Date'], now: T0 })
  const current = hmacKeyHex(32)
  const bad: Array<Partial<AppRecord>> = [
    { previousKeys: [{ privateKey: 'abcd', expiresAt: T0 + MINUTE }] },
    { previousKeys: [{ privateKey: hmacKeyHex(32), expiresAt: 'soon' }] },
    { previousKeys: [{ privateKey: hmacKeyHex(32) } as never] },
    { previousKeys: 'nope' as never },
    { legacyKey: { privateKey: hmacKeyHex(32) } },
    { legacyKey: { privateKey: '', createdAt: T0 } },
    { previousKeys: [{ algorithm: 'ED25519', publicKey: Buffer.alloc(32).toString('hex'), expiresAt: T0 + MINUTE }] },
    { previousKeys: [{ algorithm: 'RS256' as never, privateKey: hmacKeyHex(32), expiresAt: T0 + MINUTE }] }
  ]
  const apps = bad.map((extra, i): AppRecord => ({ slug: `bad${i}`, algorithm: 'HMAC_SHA256', privateKey: current, requireAnAgreement: false, ...extra }))
  const { app } = await attackServer(new UncheckedStore({ apps }))
  for (const record of apps) {
    const result = await jwtCall(app, record.slug, current)
    assert.deepEqual(result, { status: 401, code: 'FST_LINKED_SERVICES_INVALID_APP_KEY' }, record.slug)
  }
  await app.close()
})

// ---------------------------------------------------------------------------------------------
// Signature mode

function caller (slug: string, record: AppRecord, signWith: { privateKey: string, kid?: string, algorithm?: AppRecord['algorithm'] }): Caller {
  return {
    record,
    own: { slug: APP_NAME, algorithm: signWith.algorithm ?? record.algorithm, privateKey: signWith.privateKey, ...(signWith.kid === undefined ? {} : { kid: signWith.kid }) }
  }
}

test('RFC 9421: rotateKey — old key until expiry, new key always; keyid <slug>#<kid> selects', async (t) => {
  t.mock.timers.enable({ apis: ['Date'], now: T0 })
  const oldKey = hmacKeyHex(64)
  const newKey = hmacKeyHex(64)
  const record: AppRecord = { slug: 'signer', algorithm: 'HMAC_SHA256', privateKey: oldKey, kid: 'a', strategy: 'SIGNATURE', requireAnAgreement: false }
  const { app, store } = await attackServer({ apps: [record] })
  const send = async (privateKey: string, kid?: string) => {
    const request = signedInject(caller('signer', record, { privateKey, kid }), { method: 'POST', path: '/sig?x=1', body: { n: 1 } })
    const response = await app.inject(request)
    return response.statusCode
  }
  assert.equal(await send(oldKey, 'a'), 200)
  ;(store as MemoryStore).rotateKey('signer', { privateKey: newKey, kid: 'b' }, T0 + 2 * MINUTE)
  assert.equal(await send(newKey, 'b'), 200)
  assert.equal(await send(oldKey, 'a'), 200)
  assert.equal(await send(oldKey), 200, 'no kid: every usable key')
  assert.equal(await send(oldKey, 'b'), 401, 'keyid signer#b selects the new key alone')
  assert.equal(await send(newKey, 'a'), 401, 'keyid signer#a selects the old key alone')
  t.mock.timers.setTime(T0 + 2 * MINUTE)
  assert.equal(await send(oldKey, 'a'), 401)
  assert.equal(await send(oldKey), 401)
  assert.equal(await send(newKey, 'b'), 200)
  assert.equal(await send(newKey), 200)
  await app.close()
})

test('RFC 9421: Ed25519 rotation (public keys only), several rotations', async (t) => {
  t.mock.timers.enable({ apis: ['Date'], now: T0 })
  const eds = [ed25519Keys(), ed25519Keys(), ed25519Keys()]
  const record: AppRecord = { slug: 'edsigner', algorithm: 'ED25519', publicKey: eds[0].publicRaw.toString('base64'), strategy: 'SIGNATURE', requireAnAgreement: false }
  const { app, store } = await attackServer({ apps: [record] })
  const send = async (i: number) => (await app.inject(signedInject(caller('edsigner', record, { privateKey: eds[i].secretKey.toString('hex') }), { method: 'GET', path: '/sig' }))).statusCode
  ;(store as MemoryStore).rotateKey('edsigner', { publicKey: eds[1].publicPem }, T0 + MINUTE)
  t.mock.timers.setTime(T0 + 30_000)
  ;(store as MemoryStore).rotateKey('edsigner', { publicKey: eds[2].publicPemHex }, T0 + 2 * MINUTE)
  assert.deepEqual([await send(0), await send(1), await send(2)], [200, 200, 200])
  t.mock.timers.setTime(T0 + MINUTE)
  assert.deepEqual([await send(0), await send(1), await send(2)], [401, 200, 200])
  t.mock.timers.setTime(T0 + 2 * MINUTE)
  assert.deepEqual([await send(0), await send(1), await send(2)], [401, 401, 200])
  await app.close()
})

test('legacy signature scheme: the current AND the legacy key verify during the window (the original refused the new key)', async (t) => {
  t.mock.timers.enable({ apis: ['Date'], now: T0 })
  const current = hmacKeyHex(64)
  const legacy = hmacKeyHex(64)
  const record: AppRecord = { slug: 'pylegacy', algorithm: 'HMAC_SHA256', privateKey: current, strategy: 'SIGNATURE', legacyKey: { privateKey: legacy, createdAt: T0 }, requireAnAgreement: false }
  const { app } = await attackServer({ apps: [record] }, { signature: { legacy: true } })
  const send = async (privateKey: string) => {
    const request = signedInject(caller('pylegacy', record, { privateKey }), { method: 'POST', path: '/sig', body: { a: 1 }, scheme: 'legacy' })
    assert.match(request.headers.Authorization ?? request.headers.authorization, /^Signature App=pylegacy,/)
    return (await app.inject(request)).statusCode
  }
  assert.equal(await send(current), 200)
  assert.equal(await send(legacy), 200)
  t.mock.timers.setTime(T0 + 2 * MINUTE)
  assert.equal(await send(legacy), 401)
  assert.equal(await send(current), 200)
  await app.close()
})

test('a rotation is seen by the next signed request and the next JWT (no stale key from the cache)', async (t) => {
  t.mock.timers.enable({ apis: ['Date'], now: T0 })
  const first = hmacKeyHex(32)
  const second = hmacKeyHex(32)
  const record: AppRecord = { slug: 'both', algorithm: 'HMAC_SHA256', privateKey: first, strategy: 'JWT', requireAnAgreement: false }
  const { app, store } = await attackServer({ apps: [record] })
  assert.equal((await jwtCall(app, 'both', first)).status, 200)
  assert.equal((await app.inject(signedInject(caller('both', record, { privateKey: first }), { method: 'GET', path: '/sig' }))).statusCode, 200)
  // Rotation with the previous key expiring at once: only the new key from now on.
  ;(store as MemoryStore).rotateKey('both', { privateKey: second }, T0)
  assert.equal((await jwtCall(app, 'both', first)).status, 401)
  assert.equal((await app.inject(signedInject(caller('both', record, { privateKey: first }), { method: 'GET', path: '/sig' }))).statusCode, 401)
  assert.equal((await jwtCall(app, 'both', second)).status, 200)
  const signed = signedInject(caller('both', record, { privateKey: second }), { method: 'GET', path: '/sig' })
  assert.equal(signed.headers.host, HOST)
  assert.equal((await app.inject(signed)).statusCode, 200)
  await app.close()
})
