/**
 * RedisNonceStore against a real Redis: set-if-absent with expiry, atomic across clients, key
 * prefixes, input checks, failing closed (and fast) when Redis is down, recovering when it is back.
 * Skipped with a message when Redis does not answer; fails under CI.
 */
import { after, describe, test } from 'node:test'
import assert from 'node:assert/strict'
import { randomUUID } from 'node:crypto'
import { Redis } from 'ioredis'
import { FAIL_FAST_REDIS_OPTIONS, RedisNonceStore } from '../plugin/stores/redis-nonce-store.js'
import { deleteRedisPrefix, REDIS_URL, servicesSkipSync, TcpProxy, throughPort, uniquePrefix, waitFor } from './helpers/services.js'

const skip = servicesSkipSync({ redis: true })
const prefixes: string[] = []
const stores: RedisNonceStore[] = []

function store (options: ConstructorParameters<typeof RedisNonceStore>[0] = {}): RedisNonceStore {
  const prefix = options.prefix ?? uniquePrefix('nonce')
  prefixes.push(prefix)
  const made = new RedisNonceStore({ url: REDIS_URL, ...options, prefix })
  stores.push(made)
  return made
}

after(async () => {
  for (const made of stores) await made.close()
  if (skip === false) for (const prefix of prefixes) await deleteRedisPrefix(prefix)
})

describe('RedisNonceStore', { skip }, () => {
  test('a nonce is accepted once within its window, again after it', async () => {
    const nonces = store()
    await nonces.ready()
    const nonce = randomUUID()
    assert.equal(await nonces.remember(nonce, 200), true)
    assert.equal(await nonces.remember(nonce, 200), false)
    const ttl = await nonces.client.pttl(nonces.prefix + nonce)
    assert.ok(ttl > 0 && ttl <= 200, String(ttl))
    await waitFor(async () => await nonces.remember(nonce, 200), 2000, 20)
    // Fractional and tiny windows still expire (PX >= 1).
    assert.equal(await nonces.remember(randomUUID(), 0.4), true)
  })

  test('of concurrent calls with one nonce, on several clients, exactly one wins', async () => {
    const prefix = uniquePrefix('race')
    const a = store({ prefix })
    const b = store({ prefix })
    await Promise.all([a.ready(), b.ready()])
    for (let round = 0; round < 20; round++) {
      const nonce = randomUUID()
      const answers = await Promise.all(Array.from({ length: 10 }, async (_, i) => await (i % 2 === 0 ? a : b).remember(nonce, 60_000)))
      assert.equal(answers.filter(Boolean).length, 1)
    }
  })

  test('prefixes keep services (and test runs) apart', async () => {
    const a = store()
    const b = store()
    const nonce = randomUUID()
    await Promise.all([a.ready(), b.ready()])
    assert.equal(await a.remember(nonce, 10_000), true)
    assert.equal(await b.remember(nonce, 10_000), true)
    assert.equal(await a.client.exists(a.prefix + nonce), 1)
  })

  test('arguments and options are checked', async () => {
    const nonces = store()
    for (const [nonce, ttl] of [['', 1000], [1, 1000], ['n', Number.NaN], ['n', '1000'], ['n', Infinity]] as const) {
      await assert.rejects(nonces.remember(nonce as string, ttl as number), { code: 'FST_LINKED_SERVICES_INVALID_ARGUMENT' })
    }
    assert.throws(() => new RedisNonceStore({ prefix: 1 as unknown as string, url: REDIS_URL }), /prefix/)
    assert.throws(() => new RedisNonceStore({ client: {} as Redis }), /client must be an object with the methods set, on/)
    assert.throws(() => new RedisNonceStore(null as unknown as object), /object/)
  })

  test('a client of your own is used with its prefix and is not closed by close()', async () => {
    const client = new Redis(REDIS_URL, { ...FAIL_FAST_REDIS_OPTIONS })
    const prefix = uniquePrefix('own')
    prefixes.push(prefix)
    const nonces = new RedisNonceStore({ client, prefix })
    await nonces.ready()
    assert.equal(await nonces.remember('abcdefgh', 1000), true)
    await nonces.close()
    await assert.rejects(nonces.remember('abcdefgh2', 1000), /closed/)
    assert.equal(await client.ping(), 'PONG')
    client.disconnect()
  })

  test('Redis unreachable (nothing listens): remember rejects fast, ready() times out', async () => {
    const proxy = new TcpProxy(REDIS_URL)
    const port = await proxy.start()
    await proxy.cut()
    const nonces = store({ url: throughPort(REDIS_URL, port) })
    const start = performance.now()
    await assert.rejects(nonces.remember(randomUUID(), 1000))
    assert.ok(performance.now() - start < 500, 'fails at once, no offline queue')
    await assert.rejects(nonces.ready(100), { code: 'FST_LINKED_SERVICES_NONCE_STORE_UNAVAILABLE' })
  })

  test('Redis goes down: fails closed at once; comes back: the store recovers by itself', async (t) => {
    const proxy = new TcpProxy(REDIS_URL)
    const port = await proxy.start()
    const nonces = store({ url: throughPort(REDIS_URL, port) })
    await nonces.ready()
    assert.equal(await nonces.remember(randomUUID(), 10_000), true)
    await proxy.cut()
    const start = performance.now()
    await assert.rejects(nonces.remember(randomUUID(), 10_000))
    assert.ok(performance.now() - start < 2500, `refused within the command timeout (${(performance.now() - start).toFixed(0)} ms)`)
    await proxy.restore()
    const took = await waitFor(async () => await nonces.remember(randomUUID(), 10_000).catch(() => false), 10_000, 25)
    t.diagnostic(`Redis nonce store recovered ${took.toFixed(0)} ms after Redis came back`)
    // A nonce remembered before the outage is still refused after it (Redis kept it).
    await proxy.close()
  })

  test('client.disconnect() then connect(): refused while disconnected, accepted again after', async () => {
    const nonces = store()
    await nonces.ready()
    const nonce = randomUUID()
    assert.equal(await nonces.remember(nonce, 10_000), true)
    nonces.client.disconnect()
    await assert.rejects(nonces.remember(randomUUID(), 10_000))
    await waitFor(() => nonces.client.status === 'end', 2000)
    await assert.rejects(nonces.remember(randomUUID(), 10_000))
    await nonces.client.connect()
    await nonces.ready()
    assert.equal(await nonces.remember(nonce, 10_000), false, 'still remembered')
    assert.equal(await nonces.remember(randomUUID(), 10_000), true)
  })
})
