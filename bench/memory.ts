/**
 * Memory under a flood of distinct tokens and nonces, in a process of its own started with
 * --expose-gc (by bench/run.ts, or alone: `node --expose-gc --import tsx bench/memory.ts [count]`).
 *
 * - Tokens: `count` distinct valid JWTs, each sent twice (the token cache admits a token on its
 *   second verification), through the scope hook of the BUILT plugin with its default options
 *   (token cache bound `jwt.maxCachedTokens` = 10,000).
 * - Nonces: `count` distinct nonces into the plugin's configured nonce store (the default
 *   MemoryNonceStore, bound `signature.maxNonces` = 100,000), through `fastify.linkedServices.nonceStore`,
 *   as the RFC 9421 verifier calls it (ttl = the request's remaining window, 120 s).
 *
 * Heap is read after a full GC at checkpoints; the peak is sampled without GC along the way.
 */
import Fastify, { type FastifyReply, type FastifyRequest } from 'fastify'
import { loadPackage, loadSigners } from './package.js'
import { APP_NAME, benchApps, CALLER, growthApps, growthScope, ROUTE_SCOPE, TARGET_HMAC } from './scenarios.js'

export interface FloodResult {
  count: number
  bound: number
  /** heapUsed after GC (bytes), by number of insertions. */
  heapAfterGc: Record<string, number>
  /** Retained growth after GC from the start to the end of the flood (bytes). */
  retainedBytes: number
  /** Retained growth after GC once the bound is reached: flat when the bound holds (bytes). */
  growthPastBoundBytes: number
  peakHeapBytes: number
}

export interface MemoryResults {
  tokens: FloodResult
  nonces: FloodResult
  /** Heap that one app costs once it is cached (its resolved record, keys and cache entry), bytes. */
  perCachedApp: { apps: number, bytesPerApp: number }
  peakRssBytes: number
}

const gc = (globalThis as { gc?: () => void }).gc
function heapAfterGc (): number {
  if (gc === undefined) throw new Error('run with --expose-gc')
  gc()
  gc()
  return process.memoryUsage().heapUsed
}

async function flood (count: number, bound: number, insert: (i: number) => unknown): Promise<FloodResult> {
  const checkpoints = new Set([0, 1000, 10_000, 100_000, 1_000_000, count].filter((n) => n <= count))
  const heap: Record<string, number> = {}
  let peak = 0
  for (let i = 0; i <= count; i++) {
    if (checkpoints.has(i)) heap[String(i)] = heapAfterGc()
    if (i === count) break
    const pending = insert(i)
    if (pending instanceof Promise) await pending
    if (i % 10_000 === 0) peak = Math.max(peak, process.memoryUsage().heapUsed)
  }
  const atBound = Object.keys(heap).map(Number).filter((n) => n >= bound).sort((a, b) => a - b)[0] ?? count
  return {
    count,
    bound,
    heapAfterGc: heap,
    retainedBytes: heap[String(count)] - heap['0'],
    growthPastBoundBytes: heap[String(count)] - heap[String(atBound)],
    peakHeapBytes: peak
  }
}

async function main (count: number): Promise<MemoryResults> {
  const { default: linkedServices, MemoryStore } = loadPackage()
  const { signJwt } = loadSigners()
  const app = Fastify()
  await app.register(linkedServices, { appName: APP_NAME, store: new MemoryStore({ apps: benchApps() }) })
  const hook = app.scope([ROUTE_SCOPE])
  const reply = { header () { return this } } as unknown as FastifyReply
  const log = { error () {}, warn () {}, info () {} }

  const tokens = await flood(count, 10_000, async (i) => {
    const jwt = signJwt({ appName: CALLER, app: TARGET_HMAC, sub: '', expiresIn: 3600, claims: { jti: String(i) } })
    const authorization = `Link App=${CALLER},Token=${jwt}`
    for (let twice = 0; twice < 2; twice++) {
      const request = { headers: { authorization }, raw: { rawHeaders: ['Authorization', authorization] }, log, server: { log }, routeOptions: { url: '/' }, app: null, token: null }
      await hook.call(app, request as unknown as FastifyRequest, reply)
      if (request.app === null) throw new Error(`token ${i} was refused`)
    }
  })

  const store = app.linkedServices.nonceStore
  const nonces = await flood(count, 100_000, (i) => store.remember(`s:${CALLER}:nonce-${i.toString(36)}-padding-to-22`, 120_000))
  await app.close()
  const perCachedApp = await cachedApps(Math.min(count, 10_000))
  return { tokens, nonces, perCachedApp, peakRssBytes: process.resourceUsage().maxRSS * 1024 }
}

/**
 * `apps` apps, each calling once (app-level JWT): the heap after GC before and after, with the
 * store already built, is what the plugin keeps per cached app.
 */
async function cachedApps (apps: number): Promise<MemoryResults['perCachedApp']> {
  const { default: linkedServices, MemoryStore } = loadPackage()
  const { signJwt } = loadSigners()
  const records = growthApps({ apps, scopes: 1 })
  const app = Fastify()
  await app.register(linkedServices, { appName: APP_NAME, store: new MemoryStore({ apps: records }) })
  const hook = app.scope([growthScope(0)])
  const reply = { header () { return this } } as unknown as FastifyReply
  const log = { error () {}, warn () {}, info () {} }
  const requests = records.map((record) => {
    const authorization = `Link App=${record.slug},Token=${signJwt({ appName: record.slug, app: TARGET_HMAC, sub: '', expiresIn: 3600 })}`
    return { headers: { authorization }, raw: { rawHeaders: ['Authorization', authorization] }, log, server: { log }, routeOptions: { url: '/' }, app: null, token: null }
  })
  const before = heapAfterGc()
  for (const request of requests) await hook.call(app, request as unknown as FastifyRequest, reply)
  const after = heapAfterGc()
  await app.close()
  return { apps, bytesPerApp: Math.round((after - before) / apps) }
}

const count = Number(process.argv.find((arg) => /^\d+$/.test(arg)) ?? 1_000_000)
main(count).then((results) => {
  if (process.send !== undefined) process.send({ type: 'memory', results }, () => process.exit(0))
  else console.log(JSON.stringify(results, null, 2))
}, (error: unknown) => {
  console.error(error)
  process.exit(1)
})
