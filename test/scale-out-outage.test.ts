/**
 * The plugin with PostgresStore and RedisNonceStore when a service goes away (a TCP proxy in
 * front of each is cut, then restored): PostgreSQL down -> 503 store-unavailable for what is not
 * cached, and recovery; Redis down -> 503 nonce-store-unavailable, and recovery; the LISTEN
 * connection down -> the cache TTL is the backstop, and the reconnection flushes the cache.
 * Skipped with a message without the services; fails under CI.
 */
import { after, describe, test } from 'node:test'
import assert from 'node:assert/strict'
import Fastify, { type FastifyInstance } from 'fastify'
import linkedServices from '../plugin/index.js'
import { linkAuthorizationHeader, signJwt } from '../plugin/client/sign-jwt.js'
import { signRequest } from '../plugin/signature/sign.js'
import { PostgresStore } from '../plugin/stores/postgres-store.js'
import { RedisNonceStore } from '../plugin/stores/redis-nonce-store.js'
import type { LinkedServicesOptions, StoreChange } from '../types/index.js'
import { hmacKeyHex } from './helpers/keys.js'
import {
  DATABASE_URL, deleteRedisPrefix, dropSchema, REDIS_URL, servicesSkipSync, TcpProxy, throughPort, uniquePrefix, uniqueSchema, waitFor
} from './helpers/services.js'

const skip = servicesSkipSync({ postgres: true, redis: true })
const APP_NAME = 'nodeservice'
const HOST = 'service.test'
const cleanups: Array<() => Promise<void>> = []
after(async () => { for (const cleanup of cleanups.reverse()) await cleanup().catch(() => {}) })

function jwt (slug: string, key: string, sub: string | null = null): string {
  return linkAuthorizationHeader(slug, signJwt({ appName: slug, sub, app: { slug: APP_NAME, algorithm: 'HMAC_SHA256', privateKey: key } }))
}

async function setup (options: { pgViaProxy?: boolean, listenViaProxy?: boolean, redisViaProxy?: boolean, listenPingInterval?: number, plugin?: Partial<LinkedServicesOptions> }) {
  const schema = uniqueSchema('outage')
  const prefix = uniquePrefix('outage')
  const admin = new PostgresStore({ connectionString: DATABASE_URL, schema })
  await admin.migrate()
  cleanups.push(async () => { await admin.close(); await dropSchema(schema); await deleteRedisPrefix(prefix) })
  const pgProxy = new TcpProxy(DATABASE_URL)
  const redisProxy = new TcpProxy(REDIS_URL)
  const pgUrl = throughPort(DATABASE_URL, await pgProxy.start())
  const redisUrl = throughPort(REDIS_URL, await redisProxy.start())
  cleanups.push(async () => { await pgProxy.close(); await redisProxy.close() })
  const store = new PostgresStore({
    connectionString: options.pgViaProxy === true ? pgUrl : DATABASE_URL,
    schema,
    connectionTimeout: 500,
    listenConnection: { connectionString: options.listenViaProxy === true || options.pgViaProxy === true ? pgUrl : DATABASE_URL, connectionTimeoutMillis: 500 },
    listenReconnectDelay: 20,
    listenPingInterval: options.listenPingInterval ?? 200
  })
  const nonceStore = new RedisNonceStore({ url: options.redisViaProxy === true ? redisUrl : REDIS_URL, prefix })
  await nonceStore.ready()
  const app: FastifyInstance = Fastify()
  await app.register(linkedServices, { appName: APP_NAME, store, signature: { nonceStore }, storeTimeout: 1000, ...options.plugin })
  app.get('/open', { preHandler: app.scope() }, async (request) => ({ app: request.app?.slug }))
  app.get('/user', { preHandler: app.scope() }, async (request) => ({ user: await request.getUser() }))
  app.post('/signed', { preHandler: app.scope([], { mode: 'signature' }) }, async (request) => ({ app: request.app?.slug }))
  await app.ready()
  cleanups.push(async () => { await app.close(); await store.close(); await nonceStore.close() })
  // Admin writes are announced asynchronously: wait until the plugin's cache has heard them, so
  // that a late notification does not empty the cache a test has just warmed.
  const changes: StoreChange[] = []
  cleanups.push(async () => unsubscribe())
  const unsubscribe = await store.subscribe((change) => changes.push(change))
  // `slug` waits for any change of that app, `type:slug` for that kind of change: every write
  // announces one, and each must have arrived before a test warms the cache (a late one would
  // empty it).
  const settled = async (...expected: string[]): Promise<void> => {
    const heard = (spec: string): boolean => changes.some((change) => spec === change.app || spec === `${change.type}:${change.app}`)
    await waitFor(() => expected.every(heard), 10_000)
    changes.length = 0
  }
  return { admin, store, app, pgProxy, redisProxy, settled }
}

describe('outages', { skip }, () => {
  test('PostgreSQL down: cached apps keep working, the rest is 503 store-unavailable; back: it recovers', async () => {
    // No ping: on a loaded machine a slow ping would reopen the LISTEN connection, and a reopened
    // connection drops every cached app (notifications may have been missed). The cut below closes
    // the connection at once anyway.
    const { admin, app, pgProxy, settled } = await setup({ pgViaProxy: true, listenPingInterval: 0 })
    const key = hmacKeyHex(32)
    await admin.createApp({ slug: 'cached', algorithm: 'HMAC_SHA256', privateKey: key, requireAnAgreement: false })
    await admin.createApp({ slug: 'cold', algorithm: 'HMAC_SHA256', privateKey: key, requireAnAgreement: false })
    await admin.addUser({ id: 1, username: 'u', email: 'u@x', credentials: { cached: 'x1' } })
    // addUser announces a `user` change of `cached` too: wait for it, or it could drop the app
    // from the cache after the warm-up below.
    await settled('app:cached', 'app:cold', 'user:cached')
    assert.equal((await app.inject({ url: '/open', headers: { authorization: jwt('cached', key) } })).statusCode, 200)
    await pgProxy.cut()
    assert.equal((await app.inject({ url: '/open', headers: { authorization: jwt('cached', key) } })).statusCode, 200, 'served from the cache')
    const cold = await app.inject({ url: '/open', headers: { authorization: jwt('cold', key) } })
    assert.equal(cold.statusCode, 503)
    assert.equal(cold.json().code, 'FST_LINKED_SERVICES_STORE_UNAVAILABLE')
    const user = await app.inject({ url: '/user', headers: { authorization: jwt('cached', key, 'x1') } })
    assert.equal(user.statusCode, 503, 'getUser() fails closed')
    await pgProxy.restore()
    await waitFor(async () => (await app.inject({ url: '/open', headers: { authorization: jwt('cold', key) } })).statusCode === 200, 5000, 50)
    const back = await app.inject({ url: '/user', headers: { authorization: jwt('cached', key, 'x1') } })
    assert.equal(back.statusCode, 200)
    assert.equal(back.json().user.id, 1)
  })

  test('Redis down: signed requests are refused with 503 (fail closed); back: accepted again', async (t) => {
    const { admin, app, redisProxy } = await setup({ redisViaProxy: true })
    const key = hmacKeyHex(32)
    await admin.createApp({ slug: 'signer', algorithm: 'HMAC_SHA256', privateKey: key, requireAnAgreement: false, strategy: 'SIGNATURE' })
    const send = async () => {
      const signed = signRequest({ appName: 'signer', app: { slug: APP_NAME, algorithm: 'HMAC_SHA256', privateKey: key }, method: 'POST', url: `http://${HOST}/signed`, body: { a: 1 } })
      return await app.inject({ method: 'POST', url: '/signed', headers: { ...signed.headers, host: HOST }, payload: signed.body })
    }
    assert.equal((await send()).statusCode, 200)
    await redisProxy.cut()
    const start = performance.now()
    const down = await send()
    assert.equal(down.statusCode, 503)
    assert.equal(down.json().code, 'FST_LINKED_SERVICES_NONCE_STORE_UNAVAILABLE')
    assert.ok(performance.now() - start < 1500, 'refused within the store timeout')
    // JWT calls do not need Redis.
    await redisProxy.restore()
    const took = await waitFor(async () => (await send()).statusCode === 200, 10_000, 25)
    t.diagnostic(`signed requests accepted again ${took.toFixed(0)} ms after Redis came back`)
  })

  test('LISTEN connection down: the cache TTL bounds staleness', async (t) => {
    const ttl = 400
    const { admin, app, store, pgProxy, settled } = await setup({ listenViaProxy: true, plugin: { cache: { ttl } } })
    const oldKey = hmacKeyHex(32)
    await admin.createApp({ slug: 'p', algorithm: 'HMAC_SHA256', privateKey: oldKey, requireAnAgreement: false })
    await settled('p')
    const oldToken = jwt('p', oldKey)
    assert.equal((await app.inject({ url: '/open', headers: { authorization: oldToken } })).statusCode, 200)
    await pgProxy.cut()
    await waitFor(() => !store.listening, 2000)
    // The old key is revoked while this instance cannot hear about it.
    const start = performance.now()
    await admin.rotateKey('p', { privateKey: hmacKeyHex(32) }, Date.now())
    assert.equal((await app.inject({ url: '/open', headers: { authorization: oldToken } })).statusCode, 200, 'stale while deaf (cached)')
    const stale = await waitFor(async () => (await app.inject({ url: '/open', headers: { authorization: oldToken } })).statusCode === 401, ttl + 1000, 10)
    t.diagnostic(`without LISTEN, the revoked key was refused ${stale.toFixed(0)} ms after the rotation (cache TTL ${ttl} ms)`)
    assert.ok(performance.now() - start <= ttl + 500)
    await pgProxy.restore()
    await waitFor(() => store.listening, 5000)
  })

  test('LISTEN reconnection flushes what was cached (long TTL)', async (t) => {
    const { admin, app, store, pgProxy, settled } = await setup({ listenViaProxy: true, plugin: { cache: { ttl: 600_000 } } })
    const oldKey = hmacKeyHex(32)
    await admin.createApp({ slug: 'q', algorithm: 'HMAC_SHA256', privateKey: oldKey, requireAnAgreement: false })
    await settled('q')
    const oldToken = jwt('q', oldKey)
    assert.equal((await app.inject({ url: '/open', headers: { authorization: oldToken } })).statusCode, 200)
    await pgProxy.cut()
    await waitFor(() => !store.listening, 2000)
    await admin.rotateKey('q', { privateKey: hmacKeyHex(32) }, Date.now())
    await new Promise((resolve) => setTimeout(resolve, 200))
    assert.equal((await app.inject({ url: '/open', headers: { authorization: oldToken } })).statusCode, 200, 'stale while deaf (cached)')
    await pgProxy.restore()
    const took = await waitFor(async () => (await app.inject({ url: '/open', headers: { authorization: oldToken } })).statusCode === 401, 5000, 10)
    t.diagnostic(`the reconnected LISTEN flushed the stale app ${took.toFixed(0)} ms after PostgreSQL came back`)
  })
})
