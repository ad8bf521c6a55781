/**
 * Micro-benchmarks of the verification paths, in a process of their own (run by bench/run.ts,
 * or alone: `node --import tsx bench/micro.ts [--quick]`). Each case is timed in batches; the
 * median batch gives ns per operation. The plugin cases call the very preHandler that
 * `fastify.scope()` returns, on a minimal request object (no HTTP), from the BUILT package.
 */
import { createHmac, createPublicKey, createSecretKey, sign as cryptoSign, verify as cryptoVerify, type KeyObject } from 'node:crypto'
import diagnosticsChannel from 'node:diagnostics_channel'
import Fastify, { type FastifyReply, type FastifyRequest, type preHandlerAsyncHookHandler } from 'fastify'
import { createVerifier } from 'fast-jwt'
import nacl from 'tweetnacl'
import { loadBuilt, loadPackage, loadSigners } from './package.js'
import {
  APP_NAME, benchApps, CALLER, ED25519_PRIVATE_PEM, ED25519_PUBLIC_PEM, HMAC_SECRET_HEX, ROUTE_SCOPE, SIGNATURE_OPTIONS, SIGNER_ED25519,
  SIGNER_HMAC, TARGET_ED25519, TARGET_HMAC
} from './scenarios.js'

type Rfc9421 = typeof import('../plugin/signature/rfc9421.js')
type VerifySignature = typeof import('../plugin/jwt/verify-signature.js')
type AppKeysModule = typeof import('../plugin/keys/app-keys.js')

export interface MicroCase {
  name: string
  group: 'jwt' | 'rfc9421-hmac' | 'ed25519'
  nsPerOp: number
  opsPerSec: number
}

export interface MicroResults {
  cases: Record<string, MicroCase>
  /** Our Ed25519 verification path (verifyBase with a prebuilt KeyObject) / raw crypto.verify. */
  ed25519PathRatio: number
  /** The same, for the JWT EdDSA path (verifyJwsSignature). */
  ed25519JwtPathRatio: number
  /** tweetnacl verify / raw crypto.verify. */
  tweetnaclRatio: number
}

const quick = process.argv.includes('--quick')
const BATCHES = quick ? 5 : 15
const BATCH_MS = quick ? 40 : 100
/** Pairs of batches for a ratio judged by a target (timePaired). */
const PAIRS = quick ? 10 : 20

function median (values: number[]): number {
  const sorted = [...values].sort((a, b) => a - b)
  return sorted[Math.floor(sorted.length / 2)]
}

/** ns/op of a synchronous function, median of batches sized to ~BATCH_MS. */
function timeSync (fn: (i: number) => unknown): number {
  const n = batchSize(fn)
  const perOp: number[] = []
  let offset = 0
  for (let b = 0; b < BATCHES; b++) {
    const start = process.hrtime.bigint()
    for (let i = 0; i < n; i++) fn(offset + i)
    perOp.push(Number(process.hrtime.bigint() - start) / n)
    offset += n
  }
  return median(perOp)
}

/** Batches of `fn` sized to ~BATCH_MS each (calibrated once). */
function batchSize (fn: (i: number) => unknown): number {
  let n = 1
  for (;;) {
    const start = process.hrtime.bigint()
    for (let i = 0; i < n; i++) fn(i)
    const ms = Number(process.hrtime.bigint() - start) / 1e6
    if (ms > BATCH_MS / 4) return Math.max(1, Math.round(n * BATCH_MS / ms))
    n *= 2
  }
}

/**
 * ns/op of `a` and `b`, and b / a, from batches taken in turns (a b, b a, a b, ...): a burst of
 * other load on this shared machine falls on both sides of a pair, not on one of two separate
 * runs. The ratio is the median of the pairs' ratios.
 */
function timePaired (a: () => unknown, b: () => unknown): { a: number, b: number, ratio: number } {
  const sizes = [batchSize(a), batchSize(b)]
  const perOp: number[][] = [[], []]
  const ratios: number[] = []
  const batch = (which: number): number => {
    const fn = which === 0 ? a : b
    const start = process.hrtime.bigint()
    for (let i = 0; i < sizes[which]; i++) fn()
    const ns = Number(process.hrtime.bigint() - start) / sizes[which]
    perOp[which].push(ns)
    return ns
  }
  for (let pair = 0; pair < PAIRS; pair++) {
    const order = pair % 2 === 0 ? [0, 1] : [1, 0]
    const first = batch(order[0])
    const second = batch(order[1])
    ratios.push(order[0] === 0 ? second / first : first / second)
  }
  return { a: median(perOp[0]), b: median(perOp[1]), ratio: median(ratios) }
}

async function timeAsync (fn: (i: number) => Promise<unknown>, opsPerBatch: number): Promise<number> {
  const perOp: number[] = []
  let offset = 0
  for (let b = 0; b < BATCHES + 1; b++) {
    const start = process.hrtime.bigint()
    for (let i = 0; i < opsPerBatch; i++) await fn(offset + i)
    if (b > 0) perOp.push(Number(process.hrtime.bigint() - start) / opsPerBatch) // first batch: warm-up
    offset += opsPerBatch
  }
  return median(perOp)
}

const reply = { header () { return this } } as unknown as FastifyReply
const log = { error () {}, warn () {}, info () {} }

/**
 * Header strings as Node's HTTP parser hands them over: flat. Strings built by concatenation
 * (the signers' output) are V8 "cons" strings, which the first character read flattens, a cost
 * (~2 us for a Signature-Input) that no real request pays.
 */
const flat = (text: string): string => Buffer.from(text, 'latin1').toString('latin1')

function fakeRequest (given: Record<string, string>): FastifyRequest {
  const rawHeaders = Object.entries(given).flat().map(flat)
  const headers = Object.fromEntries(Object.entries(given).map(([name, value]) => [flat(name.toLowerCase()), flat(value)]))
  // `server.log` is `log`: as with `logger: false`, the request has no logger of its own to bind.
  return { headers, raw: { url: '/', method: 'GET', rawHeaders }, method: 'GET', url: '/', protocol: 'http', log, server: { log }, routeOptions: { url: '/' }, app: null, token: null } as unknown as FastifyRequest
}

async function scopeHook (options: Record<string, unknown>, prefillNonces = 0): Promise<preHandlerAsyncHookHandler> {
  const { default: linkedServices, MemoryStore } = loadPackage()
  const app = Fastify()
  await app.register(linkedServices, { appName: APP_NAME, store: new MemoryStore({ apps: benchApps() }), ...options })
  // Fill the nonce store to its bound with nonces already expired: every new nonce then evicts
  // one (the steady state of a busy server), without raising the replay floor.
  // In the signer's own partition: the store evicts the heaviest app's oldest nonces, and these
  // (expired) are the signer's oldest, so no live nonce is evicted and no floor rises.
  for (let i = 0; i < prefillNonces; i++) await app.linkedServices.nonceStore.remember(`prefill-${i}`, 1, SIGNER_HMAC)
  if (prefillNonces > 0) await new Promise((resolve) => setTimeout(resolve, 5))
  return app.scope([ROUTE_SCOPE])
}

async function main (): Promise<MicroResults> {
  const { signJwt, signRequest } = loadSigners()
  const cases: Record<string, MicroCase> = {}
  const record = (group: MicroCase['group'], name: string, nsPerOp: number): void => {
    cases[name] = { name, group, nsPerOp: Math.round(nsPerOp), opsPerSec: Math.round(1e9 / nsPerOp) }
  }
  const secret = Buffer.from(HMAC_SECRET_HEX, 'hex')
  const secretKey = createSecretKey(secret)

  // JWT (HS256), the whole authentication of the scope hook, and the peers' engine.
  const jwt = signJwt({ appName: CALLER, app: TARGET_HMAC, sub: '', expiresIn: 3600 })
  const linkRequest = fakeRequest({ authorization: `Link App=${CALLER},Token=${jwt}` })
  const cachedHook = await scopeHook({})
  const uncachedHook = await scopeHook({ jwt: { maxCachedTokens: 0 } })
  const batch = quick ? 2000 : 10000
  record('jwt', 'plugin JWT hook, token cached', await timeAsync(async () => await cachedHook.call(null as never, linkRequest, reply), batch))
  // The same with a subscriber on the scope channel (an event built and published per call).
  const { SCOPE_CHANNEL } = loadPackage()
  const observed = diagnosticsChannel.tracingChannel(SCOPE_CHANNEL)
  const subscriber = { start () {}, end () {}, asyncStart () {}, asyncEnd () {}, error () {} }
  observed.subscribe(subscriber)
  record('jwt', 'plugin JWT hook, token cached, scope channel observed', await timeAsync(async () => await cachedHook.call(null as never, linkRequest, reply), batch))
  observed.unsubscribe(subscriber)
  record('jwt', 'plugin JWT hook, no cache (maxCachedTokens 0)', await timeAsync(async () => await uncachedHook.call(null as never, linkRequest, reply), batch))
  const fastJwt = createVerifier({ key: secret, allowedAud: APP_NAME })
  const fastJwtCached = createVerifier({ key: secret, allowedAud: APP_NAME, cache: true })
  record('jwt', 'fast-jwt verify (@fastify/jwt engine), no cache', timeSync(() => fastJwt(jwt)))
  record('jwt', 'fast-jwt verify, cache on', timeSync(() => fastJwtCached(jwt)))
  const signingInput = jwt.slice(0, jwt.lastIndexOf('.'))
  record('jwt', 'raw HMAC-SHA256 of the JWT signing input', timeSync(() => createHmac('sha256', secretKey).update(signingInput).digest()))

  // RFC 9421, HMAC: the floor (one HMAC of a base), the plugin's base + HMAC, the whole hook.
  const { signatureBase, verifyBase } = loadBuilt<Rfc9421>('signature/rfc9421.js')
  const sigHook = await scopeHook({ signature: SIGNATURE_OPTIONS })
  const authority = '127.0.0.1:3000'
  const lines = ['"@method": GET', `"@authority": ${authority}`, '"@path": /']
  const params = `("@method" "@authority" "@path");created=${Math.floor(Date.now() / 1000)};keyid="${SIGNER_HMAC}";nonce="0123456789abcdefghijkl";alg="hmac-sha256"`
  const base = signatureBase(lines, params)
  const hmacSignature = createHmac('sha256', secretKey).update(base).digest()
  record('rfc9421-hmac', 'raw HMAC-SHA256 of a signature base', timeSync(() => createHmac('sha256', secretKey).update(base).digest()))
  record('rfc9421-hmac', 'plugin signatureBase + verifyBase (HMAC)', timeSync(() => verifyBase('HMAC_SHA256', secretKey, signatureBase(lines, params), hmacSignature)))
  const signedCount = (BATCHES + 1) * (quick ? 1000 : 4000)
  const signedHmac = Array.from({ length: signedCount }, () =>
    fakeRequest(signRequest({ appName: SIGNER_HMAC, app: TARGET_HMAC, method: 'GET', url: '/', authority }).headers))
  record('rfc9421-hmac', 'plugin RFC 9421 hook, HMAC (fresh nonce)', await timeAsync(async (i) => await sigHook.call(null as never, signedHmac[i], reply), signedCount / (BATCHES + 1)))
  // The same with the default nonce store (bound 100,000) full: each request evicts a nonce.
  const fullStoreHook = await scopeHook({ signature: { legacy: true } }, 100_000)
  const signedAgain = Array.from({ length: signedCount }, () =>
    fakeRequest(signRequest({ appName: SIGNER_HMAC, app: TARGET_HMAC, method: 'GET', url: '/', authority }).headers))
  record('rfc9421-hmac', 'plugin RFC 9421 hook, HMAC, default nonce store full', await timeAsync(async (i) => await fullStoreHook.call(null as never, signedAgain[i], reply), signedCount / (BATCHES + 1)))

  // Ed25519: raw node:crypto, the plugin's per-request call, a key not prebuilt, tweetnacl.
  const { verifyJwsSignature } = loadBuilt<VerifySignature>('jwt/verify-signature.js')
  const { resolveAppKeys } = loadBuilt<AppKeysModule>('keys/app-keys.js')
  const publicKey: KeyObject = resolveAppKeys({ slug: SIGNER_ED25519, algorithm: 'ED25519', publicKey: ED25519_PUBLIC_PEM }).verify[0].key
  const baseBytes = Buffer.from(base)
  const edSignature = cryptoSign(null, baseBytes, ED25519_PRIVATE_PEM)
  const rawPublic = createPublicKey(ED25519_PUBLIC_PEM).export({ format: 'der', type: 'spki' }).subarray(-32)
  const naclSignature = new Uint8Array(edSignature)
  const naclMessage = new Uint8Array(baseBytes)
  const naclKey = new Uint8Array(rawPublic)
  const rfc9421 = timePaired(() => cryptoVerify(null, baseBytes, publicKey, edSignature), () => verifyBase('ED25519', publicKey, base, edSignature))
  record('ed25519', 'raw crypto.verify(null, data, KeyObject, sig)', rfc9421.a)
  record('ed25519', 'plugin verifyBase (RFC 9421 path, prebuilt KeyObject)', rfc9421.b)
  const edJwt = signJwt({ appName: CALLER, app: TARGET_ED25519, sub: '', expiresIn: 3600 })
  const edInput = edJwt.slice(0, edJwt.lastIndexOf('.'))
  const edJwtSignature = Buffer.from(edJwt.slice(edJwt.lastIndexOf('.') + 1), 'base64url')
  const edKey = { kid: null, algorithm: 'ED25519' as const, key: publicKey, expiresAt: Infinity }
  const edJwtSignaturePart = edJwt.slice(edJwt.lastIndexOf('.') + 1)
  const jwtPath = timePaired(() => cryptoVerify(null, Buffer.from(edInput), publicKey, edJwtSignature), () => verifyJwsSignature(edKey, edInput, edJwtSignaturePart))
  record('ed25519', 'raw crypto.verify of a JWT signing input', jwtPath.a)
  record('ed25519', 'plugin verifyJwsSignature (JWT EdDSA path)', jwtPath.b)
  record('ed25519', 'crypto.verify with PEM text (key parsed per call)', timeSync(() => cryptoVerify(null, baseBytes, ED25519_PUBLIC_PEM, edSignature)))
  const nacled = timeSync(() => nacl.sign.detached.verify(naclMessage, naclSignature, naclKey))
  record('ed25519', 'tweetnacl sign.detached.verify', nacled)
  const signedEd = Array.from({ length: quick ? 6 * 300 : 16 * 1000 }, () =>
    fakeRequest(signRequest({ appName: SIGNER_ED25519, app: TARGET_ED25519, method: 'GET', url: '/', authority }).headers))
  record('ed25519', 'plugin RFC 9421 hook, Ed25519 (fresh nonce)', await timeAsync(async (i) => await sigHook.call(null as never, signedEd[i], reply), signedEd.length / (BATCHES + 1)))

  return {
    cases,
    ed25519PathRatio: Math.round(rfc9421.ratio * 1000) / 1000,
    ed25519JwtPathRatio: Math.round(jwtPath.ratio * 1000) / 1000,
    tweetnaclRatio: Math.round(nacled / rfc9421.a * 10) / 10
  }
}

main().then((results) => {
  if (process.send !== undefined) process.send({ type: 'micro', results }, () => process.exit(0))
  else {
    for (const c of Object.values(results.cases)) console.log(`${c.group.padEnd(13)} ${c.name.padEnd(56)} ${String(c.nsPerOp).padStart(8)} ns/op`)
    console.log(`Ed25519 path / raw: ${results.ed25519PathRatio} (JWT path ${results.ed25519JwtPathRatio}); tweetnacl / raw: ${results.tweetnaclRatio}`)
  }
}, (error: unknown) => {
  console.error(error)
  process.exit(1)
})
