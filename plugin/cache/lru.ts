/**
 * A bounded map with per-entry expiry and second-chance (CLOCK) eviction: a hit only sets a flag
 * (no map mutation on the hot path); when the map is over its bound, the oldest entries that
 * were used since they were last looked at are moved to the back once, and the first unused one
 * is evicted. Recently used entries survive, as with an LRU, at a fraction of the cost per hit.
 *
 * Eviction walks one long-lived iterator (the "clock hand"): a Map keeps deleted entries as holes
 * until it is rehashed, so a fresh iterator per eviction would step over every earlier hole
 * (measured: 4.7 us per insert at a 10 000 bound, against 0.2 us with one iterator).
 */
interface Entry<V> {
  value: V
  expiresAt: number
  used: boolean
  /** Estimated bytes (0 without a byte bound). */
  bytes: number
}

export interface LruBytesBound<K, V> {
  /** Most estimated bytes held at once; an entry estimated above it is not kept at all. */
  maxBytes: number
  /** The estimated bytes of one entry (key and value). */
  sizeOf: (key: K, value: V) => number
}

export class LruCache<K, V> {
  readonly #max: number
  readonly #bytesBound: LruBytesBound<K, V> | undefined
  readonly #entries = new Map<K, Entry<V>>()
  #hand: IterableIterator<[K, Entry<V>]> | null = null
  #bytes = 0

  constructor (max: number, bytesBound?: LruBytesBound<K, V>) {
    this.#max = max
    this.#bytesBound = bytesBound
  }

  get size (): number {
    return this.#entries.size
  }

  /** Estimated bytes held (0 without a byte bound). */
  get bytes (): number {
    return this.#bytes
  }

  get (key: K, now: number = Date.now()): V | undefined {
    const entry = this.#entries.get(key)
    if (entry === undefined) return undefined
    if (entry.expiresAt <= now) {
      this.#remove(key, entry)
      return undefined
    }
    entry.used = true
    return entry.value
  }

  set (key: K, value: V, expiresAt: number): void {
    if (this.#max <= 0) return
    this.delete(key)
    const bound = this.#bytesBound
    const bytes = bound === undefined ? 0 : bound.sizeOf(key, value)
    if (bound !== undefined && bytes > bound.maxBytes) return
    this.#entries.set(key, { value, expiresAt, used: false, bytes })
    this.#bytes += bytes
    if (this.#entries.size > this.#max) this.#evictOne()
    if (bound === undefined) return
    while (this.#bytes > bound.maxBytes && this.#entries.size > 0) this.#evictOne()
  }

  delete (key: K): void {
    const entry = this.#entries.get(key)
    if (entry !== undefined) this.#remove(key, entry)
  }

  /** Drops every entry whose value matches. */
  deleteWhere (predicate: (value: V, key: K) => boolean): void {
    for (const [key, entry] of this.#entries) {
      if (predicate(entry.value, key)) this.#remove(key, entry)
    }
  }

  clear (): void {
    this.#entries.clear()
    this.#hand = null
    this.#bytes = 0
  }

  #remove (key: K, entry: Entry<V>): void {
    this.#entries.delete(key)
    this.#bytes -= entry.bytes
  }

  /** The next entry under the clock hand, oldest first, starting over at the end. */
  #next (): [K, Entry<V>] | undefined {
    this.#hand ??= this.#entries.entries()
    let step = this.#hand.next()
    if (step.done === true) {
      this.#hand = this.#entries.entries()
      step = this.#hand.next()
    }
    return step.done === true ? undefined : step.value
  }

  #evictOne (): void {
    // Each used entry gets one second chance (moved to the back), so this ends within
    // size + 1 steps.
    for (let steps = this.#entries.size + 1; steps > 0; steps--) {
      const next = this.#next()
      if (next === undefined) return
      const [key, entry] = next
      this.#entries.delete(key)
      if (!entry.used) {
        this.#bytes -= entry.bytes
        return
      }
      entry.used = false
      this.#entries.set(key, entry)
    }
  }
}
