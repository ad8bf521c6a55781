/**
 * The default nonce store: one process, bounded, atomic.
 *
 * - `remember` is synchronous inside (one Map operation, no await), so of concurrent calls with
 *   one nonce exactly one sees it as new.
 * - A nonce is kept until `now + ttlMs`; an expired nonce is dropped when it is read again or
 *   when it is the oldest entry of a full store (no sweeping: the bound caps the memory).
 * - Bounded: at `maxNonces` live nonces, the oldest one is evicted, and its expiry becomes a FLOOR:
 *   from then on any nonce whose window ends at or before the floor (plus a 1 s margin) is
 *   answered "seen before".
 *   The signature verifiers pass `ttlMs` = the time left until the signed request stops being
 *   acceptable, so a replay of an evicted nonce ends at or before the floor and is refused
 *   (401 `replayed-request`). Under overload the accepted window shrinks (older but still valid
 *   requests are refused); a replay never gets through, and memory never grows past `maxNonces`.
 */
import type { NonceStore } from '../../types/index.js'
import { InvalidArgumentError } from '../errors.js'
import { memoryNonceStoreOptions } from '../options/schemas.js'
import { validateOptions } from '../options/validate.js'

/**
 * The floor sits this far above the evicted window end: the verifier turns a request's window end
 * into a TTL a moment before the store turns it back, so the same request can land a few
 * milliseconds apart.
 */
const FLOOR_MARGIN_MS = 1000

export interface MemoryNonceStoreOptions {
  /** Most nonces held at once. Default 100000. */
  maxNonces?: number
  /** @deprecated the old name of `maxNonces` (until 1.0). */
  max?: number
}

export class MemoryNonceStore implements NonceStore {
  /** Most nonces held at once. */
  readonly maxNonces: number
  /** nonce → expiry (epoch ms), in insertion order. */
  readonly #entries = new Map<string, number>()
  /**
   * Walks the entries oldest first, kept between evictions: a Map keeps deleted entries as holes
   * until it is rehashed, so a fresh iterator per eviction would step over every earlier hole.
   */
  #oldest: IterableIterator<[string, number]> | null = null
  #floor = -Infinity

  constructor (options: MemoryNonceStoreOptions = {}) {
    this.maxNonces = validateOptions<{ maxNonces: number }>(memoryNonceStoreOptions, options).maxNonces
  }

  /** @deprecated the old name of `maxNonces` (until 1.0). */
  get max (): number {
    return this.maxNonces
  }

  get size (): number {
    return this.#entries.size
  }

  /** Expiry (epoch ms) at or below which nonces are refused since the store overflowed. */
  get floor (): number {
    return this.#floor
  }

  async remember (nonce: string, ttlMs: number): Promise<boolean> {
    return this.rememberSync(nonce, ttlMs)
  }

  /** The same as `remember`, without the promise. */
  rememberSync (nonce: string, ttlMs: number): boolean {
    if (typeof nonce !== 'string' || typeof ttlMs !== 'number' || Number.isNaN(ttlMs)) {
      throw new InvalidArgumentError('MemoryNonceStore: remember(nonce: string, ttlMs: number)')
    }
    const now = Date.now()
    const expiresAt = now + Math.max(ttlMs, 1)
    if (expiresAt <= this.#floor) return false
    const seen = this.#entries.get(nonce)
    if (seen !== undefined) {
      if (seen > now) return false
      this.#entries.delete(nonce)
    }
    if (this.#entries.size >= this.maxNonces) {
      // Full: drop the oldest. Expired, it is simply gone; still live, its window end (plus a
      // margin) becomes the floor.
      const [oldest, oldestExpiry] = this.#nextOldest()
      this.#entries.delete(oldest)
      if (oldestExpiry > now && oldestExpiry + FLOOR_MARGIN_MS > this.#floor) this.#floor = oldestExpiry + FLOOR_MARGIN_MS
      // A nonce ending before the floor could be an evicted one: refuse it too.
      if (expiresAt <= this.#floor) return false
    }
    this.#entries.set(nonce, expiresAt)
    return true
  }

  clear (): void {
    this.#entries.clear()
    this.#oldest = null
    this.#floor = -Infinity
  }

  /** The oldest live entry (the store is full, so there is one). */
  #nextOldest (): [string, number] {
    this.#oldest ??= this.#entries.entries()
    let step = this.#oldest.next()
    if (step.done === true) {
      this.#oldest = this.#entries.entries()
      step = this.#oldest.next()
    }
    return step.value as [string, number]
  }

  async close (): Promise<void> {
    this.clear()
  }
}
