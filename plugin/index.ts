/**
 * fastify-linked-services: service-to-service authentication between linked apps for Fastify.
 * The backends that need an optional peer live in subpaths: `fastify-linked-services/postgres`
 * (PostgresStore, needs pg) and `fastify-linked-services/redis` (RedisNonceStore, needs ioredis).
 */
import plugin from './plugin.js'

export default plugin
export { plugin as linkedServices }
export { MemoryStore } from './stores/memory-store.js'
export type { MemoryStoreData } from './stores/memory-store.js'
export { MemoryNonceStore } from './stores/memory-nonce-store.js'
export type { MemoryNonceStoreOptions } from './stores/memory-nonce-store.js'
export { signRequest } from './signature/sign.js'
export type { QueryParams, SignedRequest, SignRequestOptions } from './signature/sign.js'
export * from './client/index.js'
export { linkedServicesConsent } from './consent/plugin.js'
export type { ConsentCatalogue, ConsentMessages, ConsentOptions } from './consent/plugin.js'
export * as errors from './errors.js'
export { SCOPE_CHANNEL } from './route/scope-events.js'
export type { ScopeEvent, ScopeScheme } from './route/scope-events.js'
export type * from '../types/index.js'
