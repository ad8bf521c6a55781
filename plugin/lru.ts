/**
 * A bounded map with per-entry expiry and second-chance (CLOCK) eviction: a hit only sets a flag
 * (no map mutation on the hot path); when the map is over its bound, the oldest entries that
 * were used since they were last looked at are moved to the back once, and the first unused one
 * is evicted. Recently used entries survive, as with an LRU, at a fraction of the cost per hit.
 */
interface Entry<V> {
  value: V
  expiresAt: number
  used: boolean
}

export class LruCache<K, V> {
  readonly #max: number
  readonly #entries = new Map<K, Entry<V>>()

  constructor (max: number) {
    this.#max = max
  }

  get size (): number {
    return this.#entries.size
  }

  get (key: K, now: number = Date.now()): V | undefined {
    const entry = this.#entries.get(key)
    if (entry === undefined) return undefined
    if (entry.expiresAt <= now) {
      this.#entries.delete(key)
      return undefined
    }
    entry.used = true
    return entry.value
  }

  set (key: K, value: V, expiresAt: number): void {
    if (this.#max <= 0) return
    this.#entries.delete(key)
    this.#entries.set(key, { value, expiresAt, used: false })
    if (this.#entries.size > this.#max) this.#evictOne()
  }

  delete (key: K): void {
    this.#entries.delete(key)
  }

  /** Drops every entry whose value matches. */
  deleteWhere (predicate: (value: V, key: K) => boolean): void {
    for (const [key, entry] of this.#entries) {
      if (predicate(entry.value, key)) this.#entries.delete(key)
    }
  }

  clear (): void {
    this.#entries.clear()
  }

  #evictOne (): void {
    // Each used entry gets one second chance, so this loop ends within size + 1 steps.
    for (const [key, entry] of this.#entries) {
      this.#entries.delete(key)
      if (!entry.used) return
      entry.used = false
      this.#entries.set(key, entry)
    }
  }
}
