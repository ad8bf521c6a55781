/**
 * The default nonce store: one process, bounded, atomic, and fair between apps.
 *
 * - `remember` is synchronous inside (Map operations, no await), so of concurrent calls with
 *   one nonce exactly one sees it as new.
 * - A nonce is kept until `now + ttlMs`; an expired nonce is dropped when it is read again or
 *   when it is the oldest entry of its partition and room is needed (no sweeping: the bound caps
 *   the memory).
 * - Partitioned: the plugin passes the calling app's slug as `partition`, and each partition
 *   keeps its own nonces, oldest first, and its own floor.
 * - Bounded: at `maxNonces` live nonces in all, the partition holding the MOST nonces gives up its
 *   oldest one, and that nonce's expiry becomes the FLOOR of that partition only: from then on a
 *   nonce of that partition whose window ends at or before the floor (plus a 1 s margin) is
 *   answered "seen before". The verifiers pass `ttlMs` = the time left until the signed request
 *   stops being acceptable, so a replay of an evicted nonce ends at or before its partition's
 *   floor and is refused (401 `replayed-request`). Under overload the heaviest caller's accepted
 *   window shrinks; an app holding no more than `max / (apps sending)` nonces is never evicted,
 *   so one app's burst cannot make another app's fresh requests look replayed. A replay never
 *   gets through, and memory never grows past `maxNonces` entries.
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
  /** Most nonces held at once, all partitions together. Default 100000. */
  maxNonces?: number
  /** @deprecated the old name of `maxNonces` (until 1.0). */
  max?: number
}

/** The nonces of one partition (one calling app), in insertion order, and its floor. */
class Partition {
  /** nonce → expiry (epoch ms). */
  readonly entries = new Map<string, number>()
  /**
   * Walks the entries oldest first, kept between evictions: a Map keeps deleted entries as holes
   * until it is rehashed, so a fresh iterator per eviction would step over every earlier hole.
   */
  #oldest: IterableIterator<[string, number]> | null = null
  floor = -Infinity

  /** Drops the oldest entry; a live one raises the floor. */
  evictOldest (now: number): void {
    this.#oldest ??= this.entries.entries()
    let step = this.#oldest.next()
    if (step.done === true) {
      this.#oldest = this.entries.entries()
      step = this.#oldest.next()
    }
    if (step.done === true) return
    const [nonce, expiresAt] = step.value
    this.entries.delete(nonce)
    if (expiresAt > now && expiresAt + FLOOR_MARGIN_MS > this.floor) this.floor = expiresAt + FLOOR_MARGIN_MS
  }
}

export class MemoryNonceStore implements NonceStore {
  /** Most nonces held at once, all partitions together. */
  readonly maxNonces: number
  readonly #partitions = new Map<string, Partition>()
  #size = 0

  constructor (options: MemoryNonceStoreOptions = {}) {
    this.maxNonces = validateOptions<{ maxNonces: number }>(memoryNonceStoreOptions, options).maxNonces
  }

  /** @deprecated the old name of `maxNonces` (until 1.0). */
  get max (): number {
    return this.maxNonces
  }

  /** Nonces held, all partitions together. */
  get size (): number {
    return this.#size
  }

  /** The highest floor of any partition (epoch ms; -Infinity while nothing was evicted). */
  get floor (): number {
    let floor = -Infinity
    for (const partition of this.#partitions.values()) floor = Math.max(floor, partition.floor)
    return floor
  }

  /** The floor of one partition. */
  floorOf (partition: string): number {
    return this.#partitions.get(partition)?.floor ?? -Infinity
  }

  async remember (nonce: string, ttlMs: number, partition?: string): Promise<boolean> {
    return this.rememberSync(nonce, ttlMs, partition)
  }

  /** The same as `remember`, without the promise (the plugin's fast path). */
  rememberSync (nonce: string, ttlMs: number, partition = ''): boolean {
    if (typeof nonce !== 'string' || typeof ttlMs !== 'number' || Number.isNaN(ttlMs) || typeof partition !== 'string') {
      throw new InvalidArgumentError('MemoryNonceStore: remember(nonce: string, ttlMs: number, partition?: string)')
    }
    const now = Date.now()
    const expiresAt = now + Math.max(ttlMs, 1)
    let own = this.#partitions.get(partition)
    if (own !== undefined) {
      if (expiresAt <= own.floor) return false
      const seen = own.entries.get(nonce)
      if (seen !== undefined) {
        if (seen > now) return false
        own.entries.delete(nonce)
        this.#size--
      }
    } else {
      own = new Partition()
      this.#partitions.set(partition, own)
    }
    if (this.#size >= this.maxNonces) {
      // Full: the heaviest partition (this one, when it is the heaviest) gives up its oldest.
      const heaviest = this.#heaviest(own, now)
      const before = heaviest.entries.size
      heaviest.evictOldest(now)
      this.#size -= before - heaviest.entries.size
      // A nonce ending before the floor could be an evicted one: refuse it too.
      if (expiresAt <= own.floor) return false
    }
    own.entries.set(nonce, expiresAt)
    this.#size++
    return true
  }

  clear (): void {
    this.#partitions.clear()
    this.#size = 0
  }

  /**
   * The partition holding the most nonces (ties: `own`). Forgets, on the way, empty partitions
   * whose floor has passed (every new window ends after it).
   */
  #heaviest (own: Partition, now: number): Partition {
    if (this.#partitions.size === 1) return own
    let heaviest = own
    for (const [name, partition] of this.#partitions) {
      if (partition.entries.size > heaviest.entries.size) heaviest = partition
      else if (partition.entries.size === 0 && partition !== own && partition.floor <= now) this.#partitions.delete(name)
    }
    return heaviest
  }

  async close (): Promise<void> {
    this.clear()
  }
}
