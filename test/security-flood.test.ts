/**
 * Unauthenticated resource use (issue 12.5): names that are not slugs never reach the store; a
 * Signature-Input naming many unknown apps costs at most one store lookup; unknown apps live in
 * a negative cache of their own, bounded in entries and bytes, that never evicts a known app.
 */
import { test } from 'node:test'
import assert from 'node:assert/strict'
import v8 from 'node:v8'
import vm from 'node:vm'
import Fastify, { type FastifyInstance } from 'fastify'
import linkedServices, { MemoryStore } from '../plugin/index.js'
import type { AppRecord, LinkedServicesStore } from '../plugin/index.js'
import { ENTRY_OVERHEAD_BYTES, NEGATIVE_CACHE_MAX_BYTES, StoreCache } from '../plugin/cache/store-cache.js'
import { encodeJwt, linkHeader, pythonClaims } from './helpers/jwt.js'
import { APP_NAME, HOST, hmacCaller, signedInject } from './helpers/signature.js'

// A real collection before each heap reading, without a command-line flag.
v8.setFlagsFromString('--expose-gc')
const gc = vm.runInNewContext('gc') as () => void

/** Counts getApp calls per slug. */
class CountingStore implements LinkedServicesStore {
  readonly inner: MemoryStore
  readonly calls = new Map<string, number>()
  constructor (apps: AppRecord[] = []) { this.inner = new MemoryStore({ apps }) }
  get total (): number { let n = 0; for (const count of this.calls.values()) n += count; return n }
  async getApp (slug: string): Promise<AppRecord | null> {
    this.calls.set(slug, (this.calls.get(slug) ?? 0) + 1)
    return await this.inner.getApp(slug)
  }

  async getAgreement (): Promise<null> { return null }
  async findUserByCredential (): Promise<null> { return null }
}

const caller = hmacCaller('knowncaller')

async function server (store: CountingStore, options = {}): Promise<FastifyInstance> {
  const app = Fastify({ logger: false })
  await app.register(linkedServices, { appName: APP_NAME, store, signature: { legacy: true }, ...options })
  app.get('/any', { preHandler: app.scope() }, async () => ({ ok: true }))
  app.get('/sig', { preHandler: app.scope([], { mode: 'signature' }) }, async () => ({ ok: true }))
  await app.ready()
  return app
}

test('App= values that are not slugs never reach the store (JWT and legacy)', async () => {
  const store = new CountingStore([caller.record])
  const app = await server(store)
  const jwt = encodeJwt(pythonClaims('x', APP_NAME), { key: '00'.repeat(32) })
  const names = ['a b', 'a/b', 'a.b', 'a:b', 'é', 'x'.repeat(101), 'a%20b', '..', 'a\tb', '%00']
  for (const name of names) {
    for (const authorization of [linkHeader(name, jwt), `Signature App=${name},Nonce=${'0'.repeat(64)},SignedHeaders=,Date=2024-01-01T00:00:00`]) {
      const response = await app.inject({ method: 'GET', url: '/any', headers: { authorization } })
      assert.equal(response.statusCode, 401, `${name}: ${response.body}`)
      assert.equal(response.json().code, 'FST_LINKED_SERVICES_APP_NOT_FOUND', name)
    }
  }
  assert.equal(store.total, 0)
  await app.close()
})

/** A Signature-Input with the caller's label and `unknown` labels of made-up apps, each signed. */
function manyLabels (unknown: string[], withCaller: boolean): Record<string, string> {
  const inputs: string[] = []
  const signatures: string[] = []
  const base = signedInject(caller, { method: 'GET', path: '/sig' })
  const input = base.headers['Signature-Input'].slice('sig='.length)
  const signature = base.headers.Signature.slice('sig='.length)
  unknown.forEach((slug, i) => {
    inputs.push(`p${i}=${input.replace('keyid="knowncaller"', `keyid="${slug}"`)}`)
    signatures.push(`p${i}=${signature}`)
  })
  if (withCaller) {
    inputs.push(`sig=${input}`)
    signatures.push(`sig=${signature}`)
  }
  return { host: HOST, 'signature-input': inputs.join(', '), signature: signatures.join(', ') }
}

test('several labels naming unknown apps cost at most one store lookup per request', async () => {
  const store = new CountingStore([caller.record])
  const app = await server(store)
  let round = 0
  for (const withCaller of [false, true]) {
    for (let request = 0; request < 5; request++) {
      const unknown = Array.from({ length: 7 }, (_, i) => `ghost${round}x${i}`)
      round++
      const before = store.total
      const response = await app.inject({ method: 'GET', url: '/sig', headers: manyLabels(unknown, withCaller) })
      assert.ok(store.total - before <= 1, `${store.total - before} lookups`)
      assert.equal(response.statusCode, 401)
    }
  }
  // With the caller known (cached), its label is chosen among unknown ones: no lookup, accepted.
  await app.inject({ method: 'GET', url: '/sig', headers: signedInject(caller, { method: 'GET', path: '/sig' }).headers })
  const before = store.total
  const response = await app.inject({ method: 'GET', url: '/sig', headers: manyLabels(['ghostA', 'ghostB', 'ghostC'], true) })
  assert.equal(response.statusCode, 200, response.body)
  assert.equal(store.total, before)
  await app.close()
})

test('a flood of unknown apps never evicts a known one, and pins a bounded negative cache', async () => {
  const store = new CountingStore([caller.record])
  const app = await server(store, { cache: { max: 8 } })
  const known = (): Promise<number> => app.inject({ method: 'GET', url: '/any', headers: { authorization: linkHeader('knowncaller', 'x.y.z') } }).then((r) => r.statusCode)
  assert.equal(await known(), 401) // wrong token, but the app is now cached
  const jwt = encodeJwt(pythonClaims('x', APP_NAME), { key: '00'.repeat(32) })
  for (let i = 0; i < 500; i++) {
    const response = await app.inject({ method: 'GET', url: '/any', headers: { authorization: linkHeader(`flood${i}`, jwt) } })
    assert.equal(response.json().code, 'FST_LINKED_SERVICES_APP_NOT_FOUND')
  }
  await known()
  assert.equal(store.calls.get('knowncaller'), 1, 'the known app stayed cached')
  // Each unknown slug was asked once; a repeat within negativeTtl is answered from the negative cache.
  assert.equal(store.calls.get('flood499'), 1)
  await app.inject({ method: 'GET', url: '/any', headers: { authorization: linkHeader('flood499', jwt) } })
  assert.equal(store.calls.get('flood499'), 1)
  await app.close()
})

test('the negative cache is bounded in entries and in bytes', async () => {
  const store = new CountingStore()
  // Entries: at most cache.max.
  const small = new StoreCache(store, { max: 100, ttl: 60_000, negativeTtl: 60_000, timeout: 1000 })
  for (let i = 0; i < 1000; i++) await small.getApp(`u${i}`)
  assert.equal(small.stats.unknownApps.size, 100)
  assert.equal(small.stats.apps.size, 0)
  // Bytes: with a large cache.max, longest slugs: at most NEGATIVE_CACHE_MAX_BYTES (estimated).
  // A store that keeps nothing of what it is asked (the counting one would hold every slug).
  const forgetful: LinkedServicesStore = { getApp: async () => null, getAgreement: async () => null, findUserByCredential: async () => null }
  const large = new StoreCache(forgetful, { max: 1_000_000, ttl: 60_000, negativeTtl: 60_000, timeout: 1000 })
  gc()
  const heapBefore = process.memoryUsage().heapUsed
  for (let i = 0; i < 30_000; i++) await large.getApp(i.toString(36).padStart(100, 'z'))
  const { size, bytes } = large.stats.unknownApps
  assert.ok(bytes <= NEGATIVE_CACHE_MAX_BYTES, `${bytes} bytes`)
  assert.ok(size === Math.floor(NEGATIVE_CACHE_MAX_BYTES / (100 + ENTRY_OVERHEAD_BYTES)), `${size} entries`)
  gc()
  const grown = process.memoryUsage().heapUsed - heapBefore
  // About 2 500 entries of 100-character slugs pin about 1 MiB (printed below); 30 000 kept
  // would pin over 12 MiB. The margin is for the collector's noise.
  assert.ok(grown < 4 * NEGATIVE_CACHE_MAX_BYTES, `heap grew by ${grown} bytes`)
  console.log(`negative cache at its bound: ${size} entries, ${bytes} estimated bytes, ${grown} bytes of heap`)
})

test('JWT header verdicts: at most 256 remembered, none longer than 512 characters', async () => {
  const { checkHeaderSegment, rememberedHeaderCount } = await import('../plugin/jwt/claims.js')
  const b64 = (value: unknown): string => Buffer.from(JSON.stringify(value)).toString('base64url')
  for (let i = 0; i < 2000; i++) checkHeaderSegment(b64({ alg: 'HS256', typ: 'JWT', kid: `k${i}` }))
  assert.ok(rememberedHeaderCount() <= 256, `${rememberedHeaderCount()} headers`)
  const before = rememberedHeaderCount()
  const long = b64({ alg: 'HS256', kid: 'k'.repeat(250), x: 'y'.repeat(400) })
  assert.ok(long.length > 512)
  assert.equal(checkHeaderSegment(long).alg, 'HS256')
  assert.equal(rememberedHeaderCount(), before, 'a long header is checked, not remembered')
})
