/**
 * The miss path: key objects are built once per key text, not once per load (an app evicted or
 * invalidated and loaded again reuses them), a changed key is parsed anew, an unusable key keeps
 * its reason, and the cache is bounded. MemoryStore hands out its app records frozen, without a
 * copy per load.
 */
import { strict as assert } from 'node:assert'
import { describe, test } from 'node:test'
import { AppKeysCache } from '../plugin/cache/app-keys-cache.js'
import { StoreCache } from '../plugin/cache/store-cache.js'
import { KeyFormatError } from '../plugin/keys/parse.js'
import { MemoryStore } from '../plugin/index.js'
import type { AppRecord } from '../types/index.js'
import { randomBytes } from 'node:crypto'

const hmacKey = (): string => randomBytes(64).toString('hex')
const record = (slug: string, privateKey = hmacKey()): AppRecord => ({ slug, algorithm: 'HMAC_SHA512', privateKey })

describe('AppKeysCache', () => {
  test('the same key text gives the same key objects; another key text, new ones', () => {
    const cache = new AppKeysCache(10)
    const app = record('a')
    const first = cache.resolve(app)
    assert.equal(cache.resolve({ ...app }).verify[0].key, first.verify[0].key)
    const rotated = cache.resolve({ ...app, privateKey: hmacKey() })
    assert.notEqual(rotated.verify[0].key, first.verify[0].key)
    // A previous key is part of the key text: adding one gives a new key list.
    const withPrevious = cache.resolve({ ...app, previousKeys: [{ privateKey: hmacKey(), expiresAt: Date.now() + 60_000 }] })
    assert.equal(withPrevious.verify.length, 2)
  })

  test('an unusable key keeps its reason, every time', () => {
    const cache = new AppKeysCache(10)
    const bad = record('bad', 'abcd')
    assert.throws(() => cache.resolve(bad), KeyFormatError)
    assert.throws(() => cache.resolve({ ...bad }), (error: unknown) => error instanceof KeyFormatError && /shorter/.test(error.message))
  })

  test('bounded in entries', () => {
    const cache = new AppKeysCache(5)
    for (let i = 0; i < 50; i++) cache.resolve(record(`app-${i}`))
    assert.ok(cache.size <= 5, `size ${cache.size}`)
  })
})

describe('StoreCache reloads an app without parsing its keys again', () => {
  test('after an invalidation the reloaded app holds the same key objects', async () => {
    const store = new MemoryStore({ apps: [record('peer')] })
    let loads = 0
    const getApp = store.getApp.bind(store)
    store.getApp = async (slug) => { loads++; return await getApp(slug) }
    const cache = new StoreCache(store, { max: 10, ttl: 60_000, negativeTtl: 1000, timeout: 1000 })
    const first = await cache.getApp('peer')
    cache.invalidate('peer')
    const again = await cache.getApp('peer')
    assert.equal(loads, 2) // a new load ...
    // ... of the same (frozen) record object: resolved once per version, the same key objects.
    assert.equal(again, first)
    assert.equal(again?.keys?.verify[0].key, first?.keys?.verify[0].key)
    // A key changed in the store is parsed anew.
    store.updateApp('peer', { privateKey: hmacKey() })
    cache.invalidate('peer')
    const rotated = await cache.getApp('peer')
    assert.notEqual(rotated, first)
    assert.notEqual(rotated?.keys?.verify[0].key, first?.keys?.verify[0].key)
  })

  test('a changed setting is a new version: the app is resolved anew, its key objects reused', async () => {
    const store = new MemoryStore({ apps: [{ ...record('peer'), requiredScopes: ['read:thing'] }] })
    const cache = new StoreCache(store, { max: 10, ttl: 60_000, negativeTtl: 1000, timeout: 1000 })
    const first = await cache.getApp('peer')
    store.updateApp('peer', { requiredScopes: ['read:thing', 'write:thing'] })
    cache.invalidate('peer')
    const changed = await cache.getApp('peer')
    assert.notEqual(changed, first)
    assert.deepEqual([...changed!.requiredScopes], ['read:thing', 'write:thing'])
    assert.equal(changed?.keys?.verify[0].key, first?.keys?.verify[0].key)
  })

  test('a record that is not deep-frozen is resolved on every load', async () => {
    // A store that hands out a fresh, mutable object per answer (as a database does).
    const base = record('peer')
    const store = { getApp: async (slug: string) => (slug === 'peer' ? { ...base, requiredScopes: ['read:thing'] } : null) } as unknown as MemoryStore
    const cache = new StoreCache(store, { max: 10, ttl: 60_000, negativeTtl: 1000, timeout: 1000 })
    const first = await cache.getApp('peer')
    cache.invalidate('peer')
    const again = await cache.getApp('peer')
    assert.notEqual(again, first)
    assert.equal(again?.keys?.verify[0].key, first?.keys?.verify[0].key)
  })

  test('clear() forgets the parsed keys too', async () => {
    const store = new MemoryStore({ apps: [record('peer')] })
    const cache = new StoreCache(store, { max: 10, ttl: 60_000, negativeTtl: 1000, timeout: 1000 })
    const first = await cache.getApp('peer')
    cache.clear()
    const again = await cache.getApp('peer')
    assert.notEqual(again?.keys?.verify[0].key, first?.keys?.verify[0].key)
  })
})

describe('MemoryStore app records', () => {
  test('are handed out frozen, the same object per version, and replaced on change', async () => {
    const store = new MemoryStore({ apps: [{ ...record('peer'), requiredScopes: ['read:user'] }] })
    const first = await store.getApp('peer')
    assert.ok(first !== null && Object.isFrozen(first) && Object.isFrozen(first.requiredScopes))
    assert.throws(() => { (first.requiredScopes as string[]).push('write:user') }, TypeError)
    assert.equal(await store.getApp('peer'), first)
    store.updateApp('peer', { requiredScopes: ['webhook'] })
    const changed = await store.getApp('peer')
    assert.notEqual(changed, first)
    assert.deepEqual(changed?.requiredScopes, ['webhook'])
    assert.deepEqual(first.requiredScopes, ['read:user'])
  })

  test('the caller\'s own record is not frozen by the store', () => {
    const mine = record('mine')
    const store = new MemoryStore({ apps: [mine] })
    assert.equal(Object.isFrozen(mine), false)
    store.addApp(record('other'))
  })
})
