/**
 * Verified tokens, remembered so that a token that repeats (one token serves many calls) costs a
 * map lookup instead of a signature check. Keyed by the token string, which strict decoding made
 * canonical (one string per verified byte sequence). An entry is used only for the same calling
 * app object (a reload of the app's keys makes a new object, so old entries stop matching) and
 * never past the token's `exp` or the expiry of the key that verified it.
 */
import type { LinkedJwtToken } from '../../types/index.js'
import { LruCache } from '../lru.js'
import type { ResolvedApp } from '../resolved-app.js'

export interface CachedToken {
  app: ResolvedApp
  headerApp: string
  token: LinkedJwtToken
}

export class TokenCache {
  readonly #entries: LruCache<string, CachedToken>

  constructor (max: number) {
    this.#entries = new LruCache(max)
  }

  get size (): number {
    return this.#entries.size
  }

  get (jwt: string, app: ResolvedApp, headerApp: string, now: number): LinkedJwtToken | undefined {
    const entry = this.#entries.get(jwt, now)
    if (entry === undefined || entry.app !== app || entry.headerApp !== headerApp) return undefined
    return entry.token
  }

  /** `validUntil`: epoch ms, the earlier of the token's expiry (with tolerance) and its key's. */
  set (jwt: string, entry: CachedToken, validUntil: number): void {
    this.#entries.set(jwt, entry, validUntil)
  }

  forgetApp (slug: string): void {
    this.#entries.deleteWhere((entry) => entry.app.slug === slug)
  }

  clear (): void {
    this.#entries.clear()
  }
}
