import { test } from 'node:test'
import assert from 'node:assert/strict'
import { LruCache } from '../plugin/cache/lru.js'

test('bounded: never holds more than max entries', () => {
  const cache = new LruCache<number, number>(100)
  for (let i = 0; i < 10_000; i++) cache.set(i, i, Infinity)
  assert.equal(cache.size, 100)
  assert.equal(cache.get(9_999), 9_999)
  assert.equal(cache.get(0), undefined)
})

test('recently used entries survive eviction (second chance)', () => {
  const cache = new LruCache<string, number>(3)
  cache.set('a', 1, Infinity)
  cache.set('b', 2, Infinity)
  cache.set('c', 3, Infinity)
  assert.equal(cache.get('a'), 1)
  cache.set('d', 4, Infinity)
  assert.equal(cache.get('a'), 1, 'a was used: kept')
  assert.equal(cache.get('b'), undefined, 'b was not: evicted')
  assert.equal(cache.size, 3)
  // All used: the loop still ends and evicts one.
  cache.get('c'); cache.get('d'); cache.get('a')
  cache.set('e', 5, Infinity)
  assert.equal(cache.size, 3)
})

test('expiry, delete, deleteWhere, clear and a zero bound', () => {
  const cache = new LruCache<string, number>(10)
  cache.set('old', 1, 1000)
  assert.equal(cache.get('old', 999), 1)
  assert.equal(cache.get('old', 1000), undefined)
  cache.set('x', 1, Infinity)
  cache.set('y', 2, Infinity)
  cache.deleteWhere((value) => value === 2)
  assert.equal(cache.get('y'), undefined)
  cache.delete('x')
  assert.equal(cache.size, 0)
  cache.set('z', 1, Infinity)
  cache.clear()
  assert.equal(cache.size, 0)
  const off = new LruCache<string, number>(0)
  off.set('a', 1, Infinity)
  assert.equal(off.get('a'), undefined)
})
