/**
 * What the observability plugins read from a registered fastify-linked-services instance, under
 * a symbol of the (frozen) `fastify.linkedServices` decorator: counters kept as plain numbers, so
 * that keeping them costs the request path no allocation.
 */
import type { NonceStore } from '../../types/index.js'

/** Symbol.for: the CommonJS and ES module builds of the package agree on it. */
export const kStats = Symbol.for('fastify-linked-services.stats')

export interface LinkedServicesStats {
  /** This service's appName (the `service` of its events). */
  service: string
  /** App lookups of the scope hook answered from the cache (`hits`) or the store (`misses`). */
  lookups: { readonly hits: number, readonly misses: number }
  nonceStore: NonceStore
}
