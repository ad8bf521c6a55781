/**
 * A bounded least-recently-used map with per-entry expiry. Map keeps insertion order, so the
 * oldest entry is the first key; a hit moves its entry to the end. Expired entries are dropped when
 * they are read or when they reach the front.
 */
interface Entry<V> {
  value: V
  expiresAt: number
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
    this.#entries.delete(key)
    this.#entries.set(key, entry)
    return entry.value
  }

  set (key: K, value: V, expiresAt: number): void {
    if (this.#max <= 0) return
    this.#entries.delete(key)
    this.#entries.set(key, { value, expiresAt })
    while (this.#entries.size > this.#max) {
      const oldest = this.#entries.keys().next().value as K
      this.#entries.delete(oldest)
    }
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
}
