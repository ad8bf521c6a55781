/**
 * A record resolved once per version: a store that hands out the same deep-frozen record object
 * until the app changes (MemoryStore replaces a changed record with a new one) gets the same
 * ResolvedApp back for it after an eviction or a TTL expiry, with no new scope sets, public view
 * or key lookup, and the verified tokens of that app keep matching (they are bound to the
 * ResolvedApp object). A record that is not deep-frozen (a fresh object per answer, as from
 * PostgreSQL, or one that could be changed in place) is resolved every time it is loaded.
 * Bounded in entries; keyed by the record object itself (an old version is simply never asked
 * for again and is evicted in turn).
 */
import type { AppRecord } from '../../types/index.js'
import { LruCache } from './lru.js'
import type { ResolvedApp } from './resolved-app.js'

/** Parsed apps do not go stale by themselves: the record object is the version. */
const NEVER = Number.POSITIVE_INFINITY
/** Nesting a record may have (its previous keys' fields are two levels down). */
const MAX_DEPTH = 4

/**
 * Whether nothing in `value` can change: primitives, and frozen plain objects and arrays of
 * such. A Date, a Buffer or any other object with internal state can change while frozen.
 */
export function isDeepFrozen (value: unknown, depth = 0): boolean {
  if (value === null || typeof value !== 'object') return typeof value !== 'function'
  if (depth > MAX_DEPTH || !Object.isFrozen(value)) return false
  const prototype = Object.getPrototypeOf(value)
  if (Array.isArray(value)) {
    if (prototype !== Array.prototype) return false
  } else if (prototype !== Object.prototype && prototype !== null) {
    return false
  }
  for (const key in value) {
    if (!isDeepFrozen((value as Record<string, unknown>)[key], depth + 1)) return false
  }
  return true
}

export class ResolvedRecords {
  readonly #resolved: LruCache<AppRecord, ResolvedApp>

  constructor (max: number) {
    this.#resolved = new LruCache(max)
  }

  get size (): number {
    return this.#resolved.size
  }

  /** The record resolved by `resolve`, once per deep-frozen record object. */
  resolve (record: AppRecord, resolve: (record: AppRecord) => ResolvedApp): ResolvedApp {
    const known = this.#resolved.get(record, 0)
    if (known !== undefined) return known
    const app = resolve(record)
    if (isDeepFrozen(record)) this.#resolved.set(record, app, NEVER)
    return app
  }

  clear (): void {
    this.#resolved.clear()
  }
}
