/**
 * `fastify-linked-services/redis`: the Redis nonce store, shared by several instances. Needs the
 * optional peer `ioredis`.
 */
export { RedisNonceStore } from './stores/redis-nonce-store.js'
export type { RedisNonceStoreOptions } from './stores/redis-nonce-store.js'
