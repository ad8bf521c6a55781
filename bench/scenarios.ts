/**
 * The scenarios of `npm run bench`: what each server registers (bench/server.ts) and what the
 * load generator sends (bench/run.ts). Every scenario serves the same trivial route
 * (`GET /` → `{ hello: 'world' }`); only the authentication in front of it changes.
 */
import { createHash, createPrivateKey, createPublicKey } from 'node:crypto'
import type { AppRecord } from '../types/index.js'

export const SCENARIOS = [
  'bare',
  'fastify-jwt',
  'bearer-auth',
  'jwt-cached',
  'jwt-cold',
  'signature-hmac',
  'signature-ed25519',
  'signature-legacy',
  'jwt-cached-postgres'
] as const
export type ScenarioName = typeof SCENARIOS[number]

/** This service (the JWT `aud`). */
export const APP_NAME = 'bench'
/** The calling apps, one per scheme. */
export const CALLER = 'caller'
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
/** The static token of `bearer-auth`. */
export const BEARER_TOKEN = 'bench-' + createHash('sha256').update('bearer').digest('base64url')

/** Signed-request scenarios: a wide window and a nonce store that holds a whole run (see README). */
export const SIGNATURE_OPTIONS = { legacy: true, tolerance: 1800, maxNonces: 2_000_000 }

/** The apps of the MemoryStore in the plugin scenarios (as the receiving side holds them). */
export function benchApps (): AppRecord[] {
  return [
    { slug: CALLER, algorithm: 'HMAC_SHA256', privateKey: HMAC_SECRET_HEX, requireAnAgreement: false },
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
