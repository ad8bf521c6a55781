/**
 * A record resolved once per version (plugin/cache/resolved-records.ts): only a deep-frozen
 * record object may stand for its version; anything that could change in place is resolved anew.
 */
import { describe, test } from 'node:test'
import assert from 'node:assert/strict'
import { isDeepFrozen, ResolvedRecords } from '../plugin/cache/resolved-records.js'
import { resolveApp } from '../plugin/cache/resolved-app.js'
import type { AppRecord } from '../types/index.js'
import { hmacKeyHex } from './helpers/keys.js'

const deepFreeze = <T>(value: T): T => {
  if (value !== null && typeof value === 'object') {
    for (const child of Object.values(value)) deepFreeze(child)
    Object.freeze(value)
  }
  return value
}
const record = (slug: string): AppRecord => ({ slug, algorithm: 'HMAC_SHA256', privateKey: hmacKeyHex(32), requiredScopes: ['read:thing'] })

describe('isDeepFrozen', () => {
  test('frozen plain objects and arrays all the way down', () => {
    assert.equal(isDeepFrozen(deepFreeze(record('a'))), true)
    assert.equal(isDeepFrozen(deepFreeze({ ...record('a'), previousKeys: [{ privateKey: 'ab', expiresAt: 5 }] })), true)
  })

  test('anything that can change in place is not', () => {
    assert.equal(isDeepFrozen(record('a')), false, 'not frozen')
    assert.equal(isDeepFrozen(Object.freeze(record('a'))), false, 'a nested array is not frozen')
    assert.equal(isDeepFrozen(deepFreeze({ ...record('a'), legacyKey: { createdAt: new Date() } })), false, 'a Date changes while frozen')
    assert.equal(isDeepFrozen(deepFreeze({ ...record('a'), keys: new Map() })), false, 'a Map changes while frozen')
    assert.equal(isDeepFrozen(deepFreeze({ ...record('a'), f () {} })), false, 'a function')
    const nested: Record<string, unknown> = { a: { b: { c: { d: { e: { f: {} } } } } } }
    assert.equal(isDeepFrozen(deepFreeze(nested)), false, 'deeper than a record goes')
  })
})

describe('ResolvedRecords', () => {
  test('the same deep-frozen record object is resolved once; another object anew', () => {
    const records = new ResolvedRecords(10)
    let resolved = 0
    const resolve = (r: AppRecord): ReturnType<typeof resolveApp> => { resolved++; return resolveApp(r) }
    const frozen = deepFreeze(record('a'))
    const first = records.resolve(frozen, resolve)
    assert.equal(records.resolve(frozen, resolve), first)
    assert.equal(resolved, 1)
    const changed = deepFreeze({ ...frozen, requiredScopes: ['read:thing', 'write:thing'] })
    assert.notEqual(records.resolve(changed, resolve), first)
    assert.equal(resolved, 2)
  })

  test('a mutable record is resolved every time, and nothing of it is kept', () => {
    const records = new ResolvedRecords(10)
    const mutable = record('a')
    const first = records.resolve(mutable, resolveApp)
    mutable.requiredScopes = ['write:thing']
    const again = records.resolve(mutable, resolveApp)
    assert.notEqual(again, first)
    assert.deepEqual([...again.requiredScopes], ['write:thing'])
    assert.equal(records.size, 0)
  })

  test('bounded in entries', () => {
    const records = new ResolvedRecords(5)
    for (let i = 0; i < 50; i++) records.resolve(deepFreeze(record(`app-${i}`)), resolveApp)
    assert.ok(records.size <= 5, `size ${records.size}`)
  })
})
