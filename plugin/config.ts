/**
 * Plugin options, validated and normalised once at registration into a new frozen config object
 * (the caller's options are never mutated). The options' schema (options/schemas.ts) is the one
 * source of truth; a bad option fails registration with FST_LINKED_SERVICES_INVALID_OPTION.
 */
import type { LinkedServicesOptions, LinkedServicesStore, NonceStore } from '../types/index.js'
import { InvalidOptionError } from './errors.js'
import { pluginOptions, SLUG_PATTERN } from './options/schemas.js'
import { validateOptions } from './options/validate.js'
import { MemoryNonceStore } from './stores/memory-nonce-store.js'
import { MemoryStore } from './stores/memory-store.js'

export const SLUG = new RegExp(SLUG_PATTERN)

export interface ResolvedConfig {
  appName: string
  store: LinkedServicesStore
  jwt: { clockTolerance: number, maxCachedTokens: number, maxTokenLength: number }
  /** `clockSkew` is the `signature.clockTolerance` option (the verifiers' name for it). */
  signature: { tolerance: number, clockSkew: number, nonceStore: NonceStore, ownsNonceStore: boolean, legacy: boolean, maxHeaderLength: number }
  storeTimeout: number
  cache: { maxApps: number, ttl: number, negativeTtl: number }
  requireCurrentAgreement: boolean
  resolveRemoteUsers: boolean
  /** Whether the plugin made the store (then it closes it). */
  ownsStore: boolean
}

type Validated = Omit<ResolvedConfig, 'store' | 'signature' | 'ownsStore'> & {
  store?: LinkedServicesStore
  signature: Omit<ResolvedConfig['signature'], 'nonceStore' | 'ownsNonceStore' | 'clockSkew'> & { nonceStore?: NonceStore, maxNonces: number, clockTolerance: number }
}

/** Options of `register` itself, which Fastify hands to the plugin too: not ours to refuse. */
const REGISTER_OPTIONS = ['prefix', 'logLevel', 'logSerializers']

export function resolveConfig (options: LinkedServicesOptions): ResolvedConfig {
  const own = options !== null && typeof options === 'object' && !Array.isArray(options)
    ? Object.fromEntries(Object.entries(options).filter(([key]) => !REGISTER_OPTIONS.includes(key)))
    : options
  const valid = validateOptions<Validated>(pluginOptions, own)
  const store = valid.store ?? new MemoryStore()
  if (valid.resolveRemoteUsers && typeof store.linkRemoteUser !== 'function') {
    throw Object.assign(new InvalidOptionError(
      'fastify-linked-services: resolveRemoteUsers needs a store that can link users (a linkRemoteUser method); this store has none'),
    { option: 'resolveRemoteUsers' })
  }
  const { maxNonces, clockTolerance, ...signature } = valid.signature
  return Object.freeze({
    ...valid,
    store,
    ownsStore: valid.store === undefined,
    jwt: Object.freeze(valid.jwt),
    signature: Object.freeze({
      ...signature,
      clockSkew: clockTolerance,
      nonceStore: signature.nonceStore ?? new MemoryNonceStore({ maxNonces }),
      ownsNonceStore: signature.nonceStore === undefined
    }),
    cache: Object.freeze(valid.cache)
  })
}
