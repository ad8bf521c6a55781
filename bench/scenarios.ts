/**
 * The scenarios of `npm run bench`: what each server registers (bench/server.ts) and what the
 * load generator sends (bench/run.ts). Every scenario serves the same trivial route
 * (`GET /` → `{ hello: 'world' }`); only the authentication in front of it changes.
 */
import { createHash, createPrivateKey, createPublicKey } from 'node:crypto'
import type { AppRecord } from '../types/index.js'

export const SCENARIOS = [
  'bare',
  'prehandler-floor',
  'bearer-auth',
  'fastify-jwt',
  'jose-hs256',
  'jwt-cached',
  'jwt-cached-observed',
  'jwt-cold',
  'jose-eddsa',
  'jwt-cold-ed25519',
  'hms-hmac',
  'signature-hmac',
  'hms-ed25519',
  'signature-ed25519',
  'signature-legacy',
  'jwt-cached-postgres'
] as const
export type ScenarioName = typeof SCENARIOS[number]

/**
 * What each scenario does, and which scenarios do the same job (the peers a user would pick
 * instead): the headline compares the CPU a scenario adds over `bare` with what its best peer adds.
 */
export const JOBS: Record<string, { ours: ScenarioName, peers: ScenarioName[], label: string }> = {
  'jwt-hs256': { ours: 'jwt-cold', peers: ['fastify-jwt', 'jose-hs256'], label: 'a new HS256 JWT per request' },
  'jwt-eddsa': { ours: 'jwt-cold-ed25519', peers: ['jose-eddsa'], label: 'a new EdDSA JWT per request' },
  'rfc9421-hmac': { ours: 'signature-hmac', peers: ['hms-hmac'], label: 'an RFC 9421 request, HMAC-SHA256, fresh nonce' },
  'rfc9421-ed25519': { ours: 'signature-ed25519', peers: ['hms-ed25519'], label: 'an RFC 9421 request, Ed25519, fresh nonce' }
}

/**
 * Scenarios whose every request costs an Ed25519 verify (over 100 µs): they sustain a few thousand
 * requests per second where the others sustain tens of thousands. The CPU view measures them at
 * a rate of their own (40 % of what the slowest of them sustains; bare is measured there too, for
 * their offset): at that rate, the others would run on a mostly idle server, whose cold caches and
 * few requests per slice made their intervals four to six times wider.
 */
export const ED25519_SCENARIOS: readonly ScenarioName[] = ['jose-eddsa', 'jwt-cold-ed25519', 'hms-ed25519', 'signature-ed25519']

/** The HMAC jobs' scenario and best-known peer each, measured at the Ed25519 rate as well (chooseRates). */
export const LOW_RATE_TOO: readonly ScenarioName[] = ['jwt-cold', 'fastify-jwt', 'signature-hmac', 'hms-hmac']

export const DESCRIPTIONS: Record<ScenarioName, string> = {
  bare: 'no auth: the same route, the floor every figure is taken from',
  'prehandler-floor': 'a `preHandler` that grants at once: the cost of Fastify\'s hook stage itself, which every `scope()` route pays',
  'bearer-auth': '`@fastify/bearer-auth`, one static key (the cheapest auth there is)',
  'fastify-jwt': '`@fastify/jwt`, `request.jwtVerify()` in a preHandler (HS256, `allowedAud`), every token new',
  'jose-hs256': '`jose` `jwtVerify` in a preHandler with a CryptoKey imported once (HS256, `audience`), every token new',
  'jwt-cached': 'this plugin, JWT mode (`scope([...])`, MemoryStore, default options), the same token repeated',
  'jwt-cached-observed': '`jwt-cached` with a subscriber on the `fastify-linked-services:scope` channel (counting the decisions)',
  'jwt-cold': 'this plugin, JWT mode, HS256, every token new',
  'jose-eddsa': '`jose` `jwtVerify` with a public CryptoKey imported once (EdDSA), every token new',
  'jwt-cold-ed25519': 'this plugin, JWT mode, EdDSA, every token new',
  'hms-hmac': '`http-message-signatures` `verifyMessage` in a preHandler (hmac-sha256, verifier built once per key), with a nonce set and a Content-Digest check',
  'signature-hmac': 'this plugin, RFC 9421 signed requests (hmac-sha256), each with a fresh nonce',
  'hms-ed25519': '`http-message-signatures`, the same with ed25519',
  'signature-ed25519': 'this plugin, RFC 9421 signed requests (ed25519)',
  'signature-legacy': "this plugin, the original's `Authorization: Signature` scheme (`signature.legacy: true`)",
  'jwt-cached-postgres': '`jwt-cached` with `PostgresStore` (cache warm)'
}

/** The unprotected route every benchmark server has beside the scenario's `/` (bench/server.ts). */
export const CONTROL_PATH = '/bare'

/** This service (the JWT `aud`). */
export const APP_NAME = 'bench'
/** The calling apps, one per scheme. */
export const CALLER = 'caller'
export const CALLER_ED25519 = 'caller-ed25519'
export const SIGNER_HMAC = 'signer-hmac'
export const SIGNER_ED25519 = 'signer-ed25519'
export const SIGNER_LEGACY = 'signer-legacy'
export const ROUTE_SCOPE = 'read:thing'

/** Deterministic key material (a benchmark needs no secrecy; runs stay comparable). */
export const HMAC_SECRET_HEX = createHash('sha256').update('fastify-linked-services bench hmac').digest('hex')
const ED25519_SEED = createHash('sha256').update('fastify-linked-services bench ed25519').digest()
const ed25519Private = createPrivateKey({
  key: Buffer.concat([Buffer.from('302e020100300506032b657004220420', 'hex'), ED25519_SEED]),
  format: 'der',
  type: 'pkcs8'
})
export const ED25519_PRIVATE_PEM = ed25519Private.export({ format: 'pem', type: 'pkcs8' }).toString()
export const ED25519_PUBLIC_PEM = createPublicKey(ed25519Private).export({ format: 'pem', type: 'spki' }).toString()
/**
 * `@fastify/jwt` as the `fastify-jwt` scenario registers it (its docs' setup: the secret, the
 * audience pinned), for its server and for its count of instructions (bench/instructions.ts).
 */
export const FASTIFY_JWT = { secretHex: HMAC_SECRET_HEX, verify: { allowedAud: APP_NAME } } as const

/** The static token of `bearer-auth`. */
export const BEARER_TOKEN = 'bench-' + createHash('sha256').update('bearer').digest('base64url')

/** Signed-request scenarios: a wide window and a nonce store that holds a whole run (see README). */
export const SIGNATURE_OPTIONS = { legacy: true, tolerance: 1800, maxNonces: 2_000_000 }

/** The apps of the MemoryStore in the plugin scenarios (as the receiving side holds them). */
export function benchApps (): AppRecord[] {
  return [
    { slug: CALLER, algorithm: 'HMAC_SHA256', privateKey: HMAC_SECRET_HEX, requireAnAgreement: false },
    { slug: CALLER_ED25519, algorithm: 'ED25519', publicKey: ED25519_PUBLIC_PEM, requireAnAgreement: false },
    { slug: SIGNER_HMAC, algorithm: 'HMAC_SHA256', strategy: 'SIGNATURE', privateKey: HMAC_SECRET_HEX, requireAnAgreement: false },
    { slug: SIGNER_ED25519, algorithm: 'ED25519', strategy: 'SIGNATURE', publicKey: ED25519_PUBLIC_PEM, requireAnAgreement: false },
    { slug: SIGNER_LEGACY, algorithm: 'HMAC_SHA256', strategy: 'SIGNATURE', privateKey: HMAC_SECRET_HEX, requireAnAgreement: false }
  ]
}

/** How the caller holds the receiving app (what signJwt / signRequest sign with). */
export const TARGET_HMAC: AppRecord = { slug: APP_NAME, algorithm: 'HMAC_SHA256', privateKey: HMAC_SECRET_HEX }
export const TARGET_ED25519: AppRecord = { slug: APP_NAME, algorithm: 'ED25519', privateKey: ED25519_PRIVATE_PEM }

/** Growth runs: how many apps the store holds, how many scopes the route names. */
export interface GrowthConfig {
  apps: number
  scopes: number
  /** Where the apps live: MemoryStore (default) or PostgresStore. */
  store?: 'memory' | 'postgres'
}

/** Scope names are letters only (`action:data`): the n-th scope of a growth route. */
export function growthScope (n: number): string {
  let name = ''
  let rest = n
  do {
    name = String.fromCharCode(97 + (rest % 26)) + name
    rest = Math.floor(rest / 26) - 1
  } while (rest >= 0)
  return `read:thing_${name}`
}

export function growthCaller (n: number): string {
  return `app-${n}`
}

/** Growth apps require an agreement, so the route's scopes are really checked (an app-level call). */
export function growthApps (config: GrowthConfig): AppRecord[] {
  const scopes = Array.from({ length: config.scopes }, (_, i) => growthScope(i))
  return Array.from({ length: config.apps }, (_, n) => ({
    slug: growthCaller(n),
    algorithm: 'HMAC_SHA256' as const,
    privateKey: HMAC_SECRET_HEX,
    requireAnAgreement: true,
    requiredScopes: scopes
  }))
}
