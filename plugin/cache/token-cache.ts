/**
 * Verified tokens, remembered so that a token that repeats (one token serves many calls) costs a
 * map lookup instead of a signature check. Matched on the whole token string, which strict
 * decoding made canonical (one string per verified byte sequence), and looked up by its
 * signature segment (see keyOf). An entry is used only for the same calling
 * app object (a reload of the app's keys makes a new object, so old entries stop matching) and
 * never past the token's `exp` or the expiry of the key that verified it.
 *
 * Admission: a token enters the cache the second time it verifies, not the first (a
 * "doorkeeper": a fixed array of fingerprints of tokens seen once). Tokens that repeat — the
 * normal case, one token serving many calls — are cached from their second call on; a stream of
 * tokens that never repeat costs no cache churn and retains no memory (measured: caching every
 * new token cost more per request than verifying it).
 *
 * In front of it, the Authorization headers that hit (`recall`): a small direct-mapped table
 * keyed by the whole header string, so a repeated call skips parsing the header and hashing
 * the token. A header enters it only on a hit of the token cache, and is used only while its
 * token's entry would be valid and its app is the very object the app cache holds (the caller
 * checks that).
 */
import type { LinkedJwtToken } from '../../types/index.js'
import { LruCache } from './lru.js'
import type { ResolvedApp } from './resolved-app.js'

export interface CachedToken {
  app: ResolvedApp
  headerApp: string
  token: LinkedJwtToken
}

interface Entry extends CachedToken {
  jwt: string
  /** Epoch ms: the entry is not used from then on. */
  validUntil: number
}

/** A header that hit, with the entry it hit. */
interface RecentHeader {
  header: string
  entry: Entry
}

const DOORKEEPER_SLOTS = 1 << 16
/** Slots of the table of recent headers (a power of two): the callers of one service at a time. */
const RECENT_SLOTS = 1 << 10

/**
 * The map key: the signature segment. Hashing a key reads all of it, and the whole token is five
 * times longer; a hit is then confirmed against the whole token, so only the very token that
 * verified ever matches.
 */
function keyOf (jwt: string): string {
  return jwt.slice(jwt.lastIndexOf('.') + 1)
}

/** FNV-1a over the token's last characters: its signature, random for every distinct token. */
function fingerprint (text: string): number {
  let hash = 0x811c9dc5
  for (let i = Math.max(0, text.length - 16); i < text.length; i++) {
    hash ^= text.charCodeAt(i)
    hash = Math.imul(hash, 0x01000193)
  }
  return (hash | 1) >>> 0
}

export class TokenCache {
  readonly #entries: LruCache<string, Entry>
  readonly #seenOnce = new Uint32Array(DOORKEEPER_SLOTS)
  readonly #recent: Array<RecentHeader | undefined> = new Array(RECENT_SLOTS).fill(undefined)

  constructor (max: number) {
    this.#entries = new LruCache(max)
  }

  get size (): number {
    return this.#entries.size
  }

  get (jwt: string, app: ResolvedApp, headerApp: string, now: number): LinkedJwtToken | undefined {
    return this.#hit(jwt, app, headerApp, now)?.token
  }

  /**
   * `get`, and on a hit the whole Authorization header is remembered for `recall`
   * (`header` ends with the token, so its fingerprint is the token's).
   */
  getForHeader (header: string, jwt: string, app: ResolvedApp, headerApp: string, now: number): LinkedJwtToken | undefined {
    const entry = this.#hit(jwt, app, headerApp, now)
    if (entry === undefined) return undefined
    this.#recent[fingerprint(header) & (RECENT_SLOTS - 1)] = { header, entry }
    return entry.token
  }

  /**
   * The entry a header hit before, if it is still valid; the caller must check that `app` is
   * still the app the cache holds for `headerApp`.
   */
  recall (header: string, now: number): CachedToken | undefined {
    const recent = this.#recent[fingerprint(header) & (RECENT_SLOTS - 1)]
    if (recent === undefined || recent.header !== header || recent.entry.validUntil <= now) return undefined
    return recent.entry
  }

  #hit (jwt: string, app: ResolvedApp, headerApp: string, now: number): Entry | undefined {
    const entry = this.#entries.get(keyOf(jwt), now)
    if (entry === undefined || entry.jwt !== jwt || entry.app !== app || entry.headerApp !== headerApp) return undefined
    return entry
  }

  /** `validUntil`: epoch ms, the earlier of the token's expiry (with tolerance) and its key's. */
  set (jwt: string, entry: CachedToken, validUntil: number): void {
    const print = fingerprint(jwt)
    const slot = print & (DOORKEEPER_SLOTS - 1)
    if (this.#seenOnce[slot] !== print) {
      this.#seenOnce[slot] = print
      return
    }
    this.#entries.set(keyOf(jwt), { app: entry.app, headerApp: entry.headerApp, token: entry.token, jwt, validUntil }, validUntil)
  }

  forgetApp (slug: string): void {
    this.#entries.deleteWhere((entry) => entry.app.slug === slug)
    for (let i = 0; i < RECENT_SLOTS; i++) {
      if (this.#recent[i]?.entry.app.slug === slug) this.#recent[i] = undefined
    }
  }

  clear (): void {
    this.#entries.clear()
    this.#seenOnce.fill(0)
    this.#recent.fill(undefined)
  }
}
