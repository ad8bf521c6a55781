/**
 * Plugin options, validated and normalised once at registration into a new frozen config object
 * (the caller's options are never mutated). A bad option fails registration with
 * FST_LINKED_SERVICES_INVALID_OPTION.
 */
import type { LinkedServicesOptions, LinkedServicesStore, NonceStore } from '../types/index.js'
import { InvalidOptionError } from './errors.js'
import { MemoryNonceStore } from './stores/memory-nonce-store.js'
import { MemoryStore } from './stores/memory-store.js'

export const SLUG = /^[a-zA-Z0-9_-]{1,100}$/

export interface ResolvedConfig {
  appName: string
  store: LinkedServicesStore
  jwt: { clockTolerance: number, cacheSize: number, maxTokenLength: number }
  signature: { tolerance: number, clockSkew: number, nonceStore: NonceStore, ownsNonceStore: boolean, legacy: boolean, maxHeaderLength: number }
  storeTimeout: number
  cache: { max: number, ttl: number, negativeTtl: number }
  requireCurrentAgreement: boolean
  resolveRemoteUsers: boolean
}

function fail (message: string): never {
  throw new InvalidOptionError(message)
}

function object (value: unknown, name: string): Record<string, unknown> {
  if (value === undefined) return {}
  if (value === null || typeof value !== 'object' || Array.isArray(value)) fail(`${name} must be an object`)
  return value as Record<string, unknown>
}

function number (value: unknown, name: string, fallback: number, min: number, max: number, integer = true): number {
  if (value === undefined) return fallback
  if (typeof value !== 'number' || !Number.isFinite(value) || value < min || value > max || (integer && !Number.isInteger(value))) {
    fail(`${name} must be a${integer ? 'n integer' : ' number'} from ${min} to ${max}`)
  }
  return value
}

function boolean (value: unknown, name: string, fallback: boolean): boolean {
  if (value === undefined) return fallback
  if (typeof value !== 'boolean') fail(`${name} must be true or false`)
  return value
}

function hasMethods (value: unknown, methods: string[]): boolean {
  return value !== null && typeof value === 'object' &&
    methods.every((method) => typeof (value as Record<string, unknown>)[method] === 'function')
}

export function resolveConfig (options: LinkedServicesOptions): ResolvedConfig {
  const raw = object(options, 'options')
  if (typeof raw.appName !== 'string' || !SLUG.test(raw.appName)) {
    fail('appName is required and must be a slug (letters, digits, "-" and "_")')
  }
  const store = raw.store === undefined ? new MemoryStore() : raw.store
  if (!hasMethods(store, ['getApp', 'getAgreement', 'findUserByCredential'])) {
    fail('store must implement getApp, getAgreement and findUserByCredential')
  }
  const jwt = object(raw.jwt, 'jwt')
  const signature = object(raw.signature, 'signature')
  const cache = object(raw.cache, 'cache')
  const maxNonces = number(signature.maxNonces, 'signature.maxNonces', 100_000, 1, 100_000_000)
  if (signature.nonceStore !== undefined && !hasMethods(signature.nonceStore, ['remember'])) {
    fail('signature.nonceStore must implement remember(nonce, ttlMs)')
  }
  const nonceStore = (signature.nonceStore as NonceStore | undefined) ?? new MemoryNonceStore({ max: maxNonces })

  return Object.freeze({
    appName: raw.appName as string,
    store: store as LinkedServicesStore,
    jwt: Object.freeze({
      clockTolerance: number(jwt.clockTolerance, 'jwt.clockTolerance', 5, 0, 300, false),
      cacheSize: number(jwt.cacheSize, 'jwt.cacheSize', 10_000, 0, 10_000_000),
      maxTokenLength: number(jwt.maxTokenLength, 'jwt.maxTokenLength', 8192, 64, 1_000_000)
    }),
    signature: Object.freeze({
      tolerance: number(signature.tolerance, 'signature.tolerance', 120, 1, 3600, false),
      clockSkew: number(signature.clockSkew, 'signature.clockSkew', 5, 0, 300, false),
      nonceStore,
      ownsNonceStore: signature.nonceStore === undefined,
      legacy: boolean(signature.legacy, 'signature.legacy', false),
      maxHeaderLength: number(signature.maxHeaderLength, 'signature.maxHeaderLength', 4096, 256, 65536)
    }),
    storeTimeout: number(raw.storeTimeout, 'storeTimeout', 2000, 1, 600_000),
    cache: Object.freeze({
      max: number(cache.max, 'cache.max', 10_000, 0, 10_000_000),
      ttl: number(cache.ttl, 'cache.ttl', 60_000, 0, 86_400_000),
      negativeTtl: number(cache.negativeTtl, 'cache.negativeTtl', 1000, 0, 86_400_000)
    }),
    requireCurrentAgreement: boolean(raw.requireCurrentAgreement, 'requireCurrentAgreement', false),
    resolveRemoteUsers: boolean(raw.resolveRemoteUsers, 'resolveRemoteUsers', false)
  })
}
