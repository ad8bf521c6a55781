/**
 * One app cannot hurt the others, and names match only what they name (issues 12.6, 12.7): a
 * burst of one app's valid requests does not make another app's fresh request look replayed;
 * `sub` has a maximum length; the user cache is bounded in bytes; a forged request makes the
 * server try a bounded number of keys; slugs, kids and subs such as `constructor`, `toString` or
 * `__proto__` match only their own records, never what objects inherit.
 */
import { test } from 'node:test'
import assert from 'node:assert/strict'
import { MemoryStore } from '../plugin/index.js'
import type { AppRecord, LinkedServicesStore, UserRecord } from '../plugin/index.js'
import { PER_USER_CACHE_MAX_BYTES, StoreCache } from '../plugin/cache/store-cache.js'
import { MAX_SUB_LENGTH } from '../plugin/jwt/claims.js'
import { MAX_KEYS_TRIED } from '../plugin/keys/app-keys.js'
import { encodeJwt, linkHeader, pythonClaims } from './helpers/jwt.js'
import { hmacKeyHex } from './helpers/keys.js'
import { APP_NAME, hmacCaller, signatureServer, signedInject } from './helpers/signature.js'

test('a burst of one app (created a few seconds ahead) does not lock out another app', async () => {
  const burster = hmacCaller('burster')
  const quiet = hmacCaller('quiet')
  const { app } = await signatureServer([burster.record, quiet.record], { signature: { maxNonces: 20, clockSkew: 5 } })
  try {
    const ahead = Math.floor(Date.now() / 1000) + 4
    const first = signedInject(burster, { method: 'GET', path: '/sig', created: ahead })
    assert.equal((await app.inject(first)).statusCode, 200)
    for (let i = 0; i < 60; i++) await app.inject(signedInject(burster, { method: 'GET', path: '/sig', created: ahead }))
    // The other app's fresh requests pass...
    for (let i = 0; i < 5; i++) {
      const response = await app.inject(signedInject(quiet, { method: 'GET', path: '/sig' }))
      assert.equal(response.statusCode, 200, response.body)
    }
    // ...and a replay of the burster's evicted first request still never does.
    const replay = await app.inject(first)
    assert.equal(replay.json().code, 'FST_LINKED_SERVICES_REPLAYED_REQUEST')
  } finally {
    await app.close()
  }
})

const secret = hmacKeyHex(32)

function jwt (slug: string, claims: Record<string, unknown> = {}, key = secret, header: Record<string, unknown> = {}): string {
  return linkHeader(slug, encodeJwt(pythonClaims(slug, APP_NAME, claims), { key, header }))
}

test(`sub: at most ${MAX_SUB_LENGTH} characters; longer is refused with a 401`, async () => {
  const record: AppRecord = { slug: 'subcaller', algorithm: 'HMAC_SHA256', privateKey: secret, requireAnAgreement: false }
  const { app } = await signatureServer([record])
  try {
    const ok = await app.inject({ method: 'GET', url: '/any', headers: { authorization: jwt('subcaller', { sub: 'u'.repeat(MAX_SUB_LENGTH) }) } })
    assert.equal(ok.statusCode, 200)
    for (const sub of ['u'.repeat(MAX_SUB_LENGTH + 1), 'u'.repeat(2000)]) {
      const long = await app.inject({ method: 'GET', url: '/any', headers: { authorization: jwt('subcaller', { sub }) } })
      assert.equal(long.statusCode, 401)
      assert.equal(long.json().code, 'FST_LINKED_SERVICES_WRONG_APP_TOKEN')
      assert.match(long.json().message, /sub claim is longer than 256/)
    }
  } finally {
    await app.close()
  }
})

test('the user cache is bounded in bytes as well as entries', async () => {
  const big = 'x'.repeat(100_000)
  const store: LinkedServicesStore = {
    getApp: async () => null,
    getAgreement: async () => null,
    findUserByCredential: async (_app, id) => ({ id, username: big }) as UserRecord
  }
  const cache = new StoreCache(store, { max: 10_000, ttl: 60_000, negativeTtl: 1000, timeout: 1000 })
  for (let i = 0; i < 400; i++) await cache.findUser('app', String(i))
  const { size, bytes } = cache.stats.users
  assert.ok(bytes <= PER_USER_CACHE_MAX_BYTES, `${bytes} bytes`)
  assert.ok(size < 400 && size > 100, `${size} entries`)
  // A record larger than the whole bound is not kept at all.
  const huge: LinkedServicesStore = { ...store, findUserByCredential: async (_app, id) => ({ id, username: 'y'.repeat(PER_USER_CACHE_MAX_BYTES) }) as UserRecord }
  const other = new StoreCache(huge, { max: 10, ttl: 60_000, negativeTtl: 1000, timeout: 1000 })
  await other.findUser('app', '1')
  assert.equal(other.stats.users.size, 0)
})

test(`a forged request makes the server try at most ${MAX_KEYS_TRIED} keys; a kid that names a key selects it`, async () => {
  const previous = Array.from({ length: 8 }, (_, i) => ({ kid: `k${i}`, privateKey: hmacKeyHex(32), expiresAt: Date.now() + 60_000 }))
  const record: AppRecord = { slug: 'manykeys', algorithm: 'HMAC_SHA256', privateKey: secret, kid: 'current', previousKeys: previous, requireAnAgreement: false }
  const { app } = await signatureServer([record])
  try {
    const call = async (key: string, header: Record<string, unknown>): Promise<number> =>
      (await app.inject({ method: 'GET', url: '/any', headers: { authorization: jwt('manykeys', {}, key, header) } })).statusCode
    // Without a kid (or with an unknown one): the current key and the first previous ones only.
    assert.equal(await call(previous[MAX_KEYS_TRIED - 2].privateKey, {}), 200)
    assert.equal(await call(previous[MAX_KEYS_TRIED - 1].privateKey, {}), 401)
    assert.equal(await call(previous[7].privateKey, { kid: 'nope' }), 401)
    // A kid naming the key: that key alone.
    assert.equal(await call(previous[7].privateKey, { kid: 'k7' }), 200)
  } finally {
    await app.close()
  }
})

const INHERITED = ['constructor', 'toString', '__proto__', 'hasOwnProperty', 'valueOf']

test('slugs, kids and subs named like Object.prototype members match only their own records', async () => {
  const apps: AppRecord[] = INHERITED.filter((slug) => slug !== 'valueOf').map((slug) => ({ slug, algorithm: 'HMAC_SHA256', privateKey: secret, requireAnAgreement: false }))
  const { app, store } = await signatureServer(apps)
  app.log.level = 'silent'
  // One user, linked to another app only.
  store.addUser({ id: 1, username: 'ann', email: 'ann@example.test', credentials: { elsewhere: '7' } })
  try {
    for (const slug of INHERITED) {
      // `sub` equal to what an inherited member stringifies to: no user.
      for (const sub of [String(({} as Record<string, unknown>)[slug]), '[object Object]', '7']) {
        const response = await app.inject({ method: 'GET', url: '/any', headers: { authorization: jwt(slug, { sub }) } })
        if (slug === 'valueOf') {
          assert.equal(response.json().code, 'FST_LINKED_SERVICES_APP_NOT_FOUND')
          continue
        }
        assert.equal(response.statusCode, 200, `${slug}: ${response.body}`)
        assert.equal(response.json().app.slug, slug)
      }
      // A kid named like an inherited member selects nothing inherited.
      const kidded = await app.inject({ method: 'GET', url: '/any', headers: { authorization: jwt(slug, {}, hmacKeyHex(32), { kid: 'constructor' }) } })
      assert.equal(kidded.statusCode, 401)
    }
    for (const slug of INHERITED.filter((name) => name !== 'valueOf')) {
      for (const sub of [String(({} as Record<string, unknown>)[slug]), '7']) {
        assert.equal(await store.findUserByCredential(slug, sub), null, `${slug} / ${sub}`)
      }
    }
    // Own credentials still match, even under such a name.
    store.linkUser(1, 'constructor', '9')
    assert.equal((await store.findUserByCredential('constructor', '9'))?.id, 1)
    store.linkUser(1, '__proto__', '10')
    assert.equal((await store.findUserByCredential('__proto__', '10'))?.id, 1)
    // A signed request from `__proto__` covering a field named like an inherited member: that field is absent.
    const proto = hmacCaller('__proto__')
    const { app: signed } = await signatureServer([proto.record])
    try {
      const request = signedInject(proto, { method: 'GET', path: '/sig', headers: { constructor: 'x' }, components: ['constructor'] })
      Reflect.deleteProperty(request.headers, 'constructor')
      const response = await signed.inject(request)
      assert.equal(response.statusCode, 401)
      assert.equal(response.json().code, 'FST_LINKED_SERVICES_WRONG_APP_TOKEN')
      assert.equal((await signed.inject(signedInject(proto, { method: 'GET', path: '/sig' }))).statusCode, 200)
    } finally {
      await signed.close()
    }
  } finally {
    await app.close()
  }
})

test('MemoryStore: an app slugged like an inherited member is its own record', async () => {
  const store = new MemoryStore({ apps: [{ slug: 'toString', algorithm: 'HMAC_SHA256', privateKey: secret }] })
  assert.equal((await store.getApp('toString'))?.slug, 'toString')
  assert.equal(await store.getApp('constructor'), null)
  assert.equal(await store.getAgreement('constructor', '1'), null)
})
