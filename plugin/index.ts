/**
 * fastify-linked-services: service-to-service authentication between linked apps for Fastify.
 */
import plugin from './plugin.js'

export default plugin
export { plugin as linkedServices }
export { MemoryStore } from './stores/memory-store.js'
export type { MemoryStoreData } from './stores/memory-store.js'
export { MemoryNonceStore } from './stores/memory-nonce-store.js'
export type { MemoryNonceStoreOptions } from './stores/memory-nonce-store.js'
export { PostgresStore } from './stores/postgres-store.js'
export type { AppChanges, MigrationResult, NextKey, PostgresStoreOptions, ScopeRecord } from './stores/postgres-store.js'
export { RedisNonceStore } from './stores/redis-nonce-store.js'
export type { RedisNonceStoreOptions } from './stores/redis-nonce-store.js'
export { signRequest } from './signature/sign.js'
export type { QueryParams, SignedRequest, SignRequestOptions } from './signature/sign.js'
export * from './client/index.js'
export * as errors from './errors.js'
export type * from '../types/index.js'
