import assert from 'node:assert/strict'
import { describe, test } from 'node:test'
import { MemoryNonceStore } from '../plugin/stores/memory-nonce-store.js'

describe('MemoryNonceStore', () => {
  test('a nonce is new once, then seen until it expires', async (t) => {
    t.mock.timers.enable({ apis: ['Date'], now: 1_000_000 })
    const store = new MemoryNonceStore()
    assert.equal(store.maxNonces, 100_000)
    assert.equal(await store.remember('a', 1000), true)
    assert.equal(await store.remember('a', 1000), false)
    t.mock.timers.tick(999)
    assert.equal(await store.remember('a', 1000), false)
    t.mock.timers.tick(1)
    assert.equal(await store.remember('a', 1000), true)
  })

  test('concurrent remember: exactly one true', async () => {
    const store = new MemoryNonceStore({ maxNonces: 10 })
    const results = await Promise.all(Array.from({ length: 50 }, async () => await store.remember('same', 60_000)))
    assert.equal(results.filter(Boolean).length, 1)
  })

  test('bounded: full, the oldest is evicted and its window becomes a floor', async (t) => {
    t.mock.timers.enable({ apis: ['Date'], now: 0 })
    const store = new MemoryNonceStore({ maxNonces: 3 })
    assert.equal(store.rememberSync('n1', 10_000), true) // ends at 10 000
    t.mock.timers.tick(1000)
    assert.equal(store.rememberSync('n2', 10_000), true) // 11 000
    assert.equal(store.rememberSync('n3', 10_000), true) // 11 000
    assert.equal(store.floor, -Infinity)
    assert.equal(store.rememberSync('n4', 11_000), true) // evicts n1
    assert.equal(store.size, 3)
    assert.equal(store.floor, 11_000) // n1's window end + 1 s margin
    // n1 again, with the same window end (the verifier derives it from the request), even a
    // few milliseconds later: refused.
    assert.equal(store.rememberSync('n1', 9_000), false)
    assert.equal(store.rememberSync('n1', 9_005), false)
    // Anything ending at or before the floor is refused: it could be an evicted nonce.
    assert.equal(store.rememberSync('other', 8_000), false)
    // Later windows pass (and evict n2, raising the floor to 12 000).
    assert.equal(store.rememberSync('n5', 11_500), true)
    assert.equal(store.floor, 12_000)
    assert.equal(store.rememberSync('n2', 10_000), false)
  })

  test('an expired oldest nonce is dropped without raising the floor', async (t) => {
    t.mock.timers.enable({ apis: ['Date'], now: 0 })
    const store = new MemoryNonceStore({ maxNonces: 2 })
    store.rememberSync('a', 100)
    store.rememberSync('b', 100)
    t.mock.timers.tick(200)
    assert.equal(store.rememberSync('c', 100), true)
    assert.equal(store.floor, -Infinity)
    assert.equal(store.size, 2)
    assert.equal(store.rememberSync('a', 100), true)
  })

  test('a million nonces stay within the bound', async () => {
    const store = new MemoryNonceStore({ maxNonces: 10_000 })
    globalThis.gc?.()
    const before = process.memoryUsage().heapUsed
    for (let i = 0; i < 1_000_000; i++) store.rememberSync(`s:caller:${i.toString(36)}-0123456789abcdef`, 120_000)
    assert.ok(store.size <= 10_000 && store.size > 9_000, `size ${store.size}`)
    globalThis.gc?.()
    const grown = process.memoryUsage().heapUsed - before
    // 10 000 entries of ~40-character keys: a few MB at most, whatever the number of calls.
    assert.ok(grown < 32 * 1024 * 1024, `heap grew by ${grown} bytes`)
  })

  test('options and arguments are checked; close empties', async () => {
    assert.throws(() => new MemoryNonceStore({ maxNonces: 0 }), { code: 'FST_LINKED_SERVICES_INVALID_OPTION' })
    assert.throws(() => new MemoryNonceStore({ maxNonces: 1.5 }), { code: 'FST_LINKED_SERVICES_INVALID_OPTION' })
    const store = new MemoryNonceStore({ maxNonces: 5 })
    await assert.rejects(store.remember(1 as unknown as string, 10), { code: 'FST_LINKED_SERVICES_INVALID_ARGUMENT' })
    await assert.rejects(store.remember('x', Number.NaN), { code: 'FST_LINKED_SERVICES_INVALID_ARGUMENT' })
    assert.equal(await store.remember('x', -5), true)
    await store.close()
    assert.equal(store.size, 0)
  })
})

describe('MemoryNonceStore partitions (one app cannot crowd out another)', () => {
  test('full: the heaviest partition gives up its oldest nonce, and only its floor rises', async (t) => {
    t.mock.timers.enable({ apis: ['Date'], now: 0 })
    const store = new MemoryNonceStore({ max: 4 })
    // App a: a burst with windows a few seconds later than anyone else's.
    for (let i = 0; i < 4; i++) assert.equal(store.rememberSync(`a${i}`, 125_000, 'a'), true)
    // App b's fresh request: accepted; a's oldest made room, a's floor rose, b's did not.
    assert.equal(store.rememberSync('b0', 120_000, 'b'), true)
    assert.equal(store.size, 4)
    assert.equal(store.floorOf('a'), 126_000)
    assert.equal(store.floorOf('b'), -Infinity)
    // b keeps being accepted while a holds more: each of b's requests costs a an old nonce.
    assert.equal(store.rememberSync('b1', 120_000, 'b'), true)
    // A replay of a's evicted nonce never passes; a's nonces still held are refused as before.
    assert.equal(store.rememberSync('a0', 125_000, 'a'), false)
    assert.equal(store.rememberSync('a3', 125_000, 'a'), false)
    assert.equal(store.rememberSync('b0', 120_000, 'b'), false)
    // Balanced (2 and 2): the newcomer's own partition gives way on a tie; a window that ends
    // within the floor's margin would be refused, a later one passes.
    t.mock.timers.tick(1500)
    assert.equal(store.rememberSync('b2', 120_000, 'b'), true)
    assert.equal(store.floorOf('b'), 121_000)
    assert.equal(store.floorOf('a'), 126_000)
    // A replay of the evicted b0 carries b0's window end (the verifier derives the TTL from it).
    assert.equal(store.rememberSync('b0', 120_000 - 1500, 'b'), false)
  })

  test('a partition emptied by eviction is forgotten once its floor has passed', async (t) => {
    t.mock.timers.enable({ apis: ['Date'], now: 0 })
    const store = new MemoryNonceStore({ max: 2 })
    store.rememberSync('a0', 1000, 'a')
    store.rememberSync('b0', 1000, 'b')
    store.rememberSync('b1', 1000, 'b') // evicts b0 (b is the newcomer's partition, a tie)
    t.mock.timers.tick(5000)
    store.rememberSync('c0', 1000, 'c')
    store.rememberSync('c1', 1000, 'c')
    store.rememberSync('c2', 1000, 'c')
    assert.equal(store.floorOf('a'), -Infinity)
    assert.ok(store.size <= 2)
  })
})
