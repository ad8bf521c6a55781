/**
 * The cache in front of any store: apps (resolved once per load: keys parsed, scope sets built),
 * user links and agreements. Bounded LRU with TTL, one store call for many concurrent misses
 * (single flight), a deadline on every store call, and explicit invalidation per app (an app's
 * keys or scopes change: the next request reloads it).
 *
 * Unknown apps live in a negative cache of their own, bounded in entries and bytes: a flood of
 * made-up slugs costs one store call per slug per `negativeTtl`, pins at most
 * NEGATIVE_CACHE_MAX_BYTES, and never evicts a known app.
 *
 * Coherence: a load that was under way when its app was invalidated (change feed,
 * `invalidate(slug)`) or when everything was cleared (`clear()`) is forgotten at once: a request
 * arriving after the change starts a load of its own, and the old load's answer is cached
 * nowhere. Only requests that were already waiting for it get that answer.
 */
import type { AgreementRecord, LinkedServicesStore, RemoteUserProfile, StoreChange, UserRecord } from '../../types/index.js'
import { AppKeysCache } from './app-keys-cache.js'
import { LruCache } from './lru.js'
import { resolveApp, type ResolvedApp } from './resolved-app.js'
import { callStore, type StoreOperation } from './call-store.js'
import { ResolvedRecords } from './resolved-records.js'

/**
 * Estimated bytes of a cache entry's bookkeeping (Map slot, entry object, string header), on top
 * of the key and value text: measured about 300 with 100-character slugs (test/security-flood).
 */
export const ENTRY_OVERHEAD_BYTES = 320
/** Most estimated bytes the negative cache of unknown apps holds (slugs are at most 100 characters). */
export const NEGATIVE_CACHE_MAX_BYTES = 1024 * 1024
/** Most estimated bytes each of the user and agreement caches holds. */
export const PER_USER_CACHE_MAX_BYTES = 16 * 1024 * 1024

export interface StoreCacheOptions {
  max: number
  ttl: number
  negativeTtl: number
  timeout: number
  /** Called after an app's cached data is dropped (the token cache drops its tokens too). */
  onInvalidate?: (appSlug: string) => void
  /** Called once per load of an app whose keys are unusable (the reason never holds the key). */
  onKeyProblem?: (appSlug: string, problem: string) => void
}

/** `null` is a cached "no such app". */
type AppEntry = ResolvedApp | null

/** A store call under way; `stale` once its app was invalidated (its answer is then cached nowhere). */
interface Flight {
  promise: Promise<unknown>
  app: string
  stale: boolean
}

/** A record's size as JSON text: an estimate, taken once per store answer. */
function recordBytes (key: string, value: object | null): number {
  let text = 0
  if (value !== null) {
    try {
      text = JSON.stringify(value)?.length ?? 0
    } catch {
      text = Infinity // not serialisable (a BigInt, a cycle): too odd to keep
    }
  }
  return key.length + text + ENTRY_OVERHEAD_BYTES
}

export class StoreCache {
  readonly store: LinkedServicesStore
  readonly #options: StoreCacheOptions
  readonly #apps: LruCache<string, ResolvedApp>
  readonly #unknownApps: LruCache<string, true>
  readonly #users: LruCache<string, UserRecord | null>
  readonly #agreements: LruCache<string, AgreementRecord | null>
  readonly #inFlight = new Map<string, Flight>()
  /** Key objects by key text: an app loaded again (after an eviction or expiry) is not parsed again. */
  readonly #appKeys: AppKeysCache
  /** Resolved apps by record object: a store's unchanged (deep-frozen) record is resolved once. */
  readonly #resolvedRecords: ResolvedRecords
  #unsubscribe: (() => void) | null = null

  /** App lookups of the scope hook answered from the cache or not (for the metrics plugin's hit ratio). */
  readonly lookups = { hits: 0, misses: 0 }

  constructor (store: LinkedServicesStore, options: StoreCacheOptions) {
    this.store = store
    this.#options = options
    this.#apps = new LruCache(options.max)
    this.#appKeys = new AppKeysCache(options.max * 2)
    this.#resolvedRecords = new ResolvedRecords(options.max * 2)
    this.#unknownApps = new LruCache(options.max, {
      maxBytes: NEGATIVE_CACHE_MAX_BYTES,
      sizeOf: (slug) => slug.length + ENTRY_OVERHEAD_BYTES
    })
    // Users and agreements are per (app, user): allow more of them than apps, bounded in bytes too.
    const perUser = { maxBytes: PER_USER_CACHE_MAX_BYTES, sizeOf: recordBytes }
    this.#users = new LruCache<string, UserRecord | null>(options.max * 10, perUser)
    this.#agreements = new LruCache<string, AgreementRecord | null>(options.max * 10, perUser)
  }

  /** Entries and estimated bytes of each cache (for tests and diagnostics). */
  get stats (): Record<'apps' | 'unknownApps' | 'users' | 'agreements', { size: number, bytes: number }> {
    const of = (cache: { size: number, bytes: number }): { size: number, bytes: number } => ({ size: cache.size, bytes: cache.bytes })
    return { apps: of(this.#apps), unknownApps: of(this.#unknownApps), users: of(this.#users), agreements: of(this.#agreements) }
  }

  /** Listens to the store's change feed, when it has one. */
  async subscribe (): Promise<void> {
    if (typeof this.store.subscribe !== 'function') return
    this.#unsubscribe = await this.store.subscribe((change: StoreChange) => this.invalidate(change.app))
  }

  close (): void {
    this.#unsubscribe?.()
    this.#unsubscribe = null
    this.clear()
  }

  /** The cached app (`null`: known to be unknown), if there is a fresh entry: `undefined` when the store must be asked. */
  peekApp (slug: string, now: number): AppEntry | undefined {
    const app = this.#apps.get(slug, now)
    if (app !== undefined) return app
    return this.#unknownApps.get(slug, now) === true ? null : undefined
  }

  async getApp (slug: string): Promise<ResolvedApp | null> {
    const cached = this.peekApp(slug, Date.now())
    if (cached !== undefined) return cached
    return await this.#singleFlight(`app\0${slug}`, slug, async () => {
      const record = await callStore(() => this.store.getApp(slug), this.#options.timeout)
      const valid = record !== null && typeof record === 'object' && record.slug === slug
      if (!valid) return null
      let resolvedNow = false
      const app = this.#resolvedRecords.resolve(record, (loaded) => {
        resolvedNow = true
        return resolveApp(loaded, (keysOf) => this.#appKeys.resolve(keysOf))
      })
      // Said once per record version, as when the record is resolved.
      if (resolvedNow && app.keyProblem !== null) this.#options.onKeyProblem?.(slug, app.keyProblem)
      return app
    }, (app) => {
      if (app === null) this.#unknownApps.set(slug, true, Date.now() + this.#options.negativeTtl)
      else this.#apps.set(slug, app, Date.now() + this.#options.ttl)
    })
  }

  /** The local user linked to `externalId` in app `appSlug`, or null. */
  async findUser (appSlug: string, externalId: string): Promise<UserRecord | null> {
    return await this.#perUser(this.#users, 'user', 'findUserByCredential', appSlug, externalId,
      () => this.store.findUserByCredential(appSlug, externalId))
  }

  /** The agreement of LOCAL user `userId` with app `appSlug`, or null. */
  async getAgreement (appSlug: string, userId: string): Promise<AgreementRecord | null> {
    return await this.#perUser(this.#agreements, 'agreement', 'getAgreement', appSlug, userId,
      () => this.store.getAgreement(appSlug, userId))
  }

  /** A cached per-(app, user) store answer; anything but an object counts as "none". */
  async #perUser<T extends object> (cache: LruCache<string, T | null>, kind: string, operation: StoreOperation, appSlug: string, id: string,
    call: () => Promise<T | null>): Promise<T | null> {
    const key = `${appSlug}\0${id}`
    const cached = cache.get(key, Date.now())
    if (cached !== undefined) return cached
    return await this.#singleFlight(`${kind}\0${key}`, appSlug, async () => {
      const value = await callStore(call, this.#options.timeout, undefined, operation)
      return value !== null && typeof value === 'object' ? value : null
    }, (value) => cache.set(key, value, Date.now() + this.#options.ttl))
  }

  /** Creates and links a user from a peer's profile (remote user resolution). */
  async linkRemoteUser (appSlug: string, profile: RemoteUserProfile): Promise<UserRecord> {
    const link = this.store.linkRemoteUser
    if (typeof link !== 'function') throw new TypeError('the store cannot link remote users (no linkRemoteUser method)')
    const user = await callStore(() => link.call(this.store, appSlug, profile), this.#options.timeout, undefined, 'linkRemoteUser')
    const key = `${appSlug}\0${String(profile.id)}`
    this.#dropFlights((flightKey) => flightKey === `user\0${key}`)
    this.#users.delete(key)
    return user
  }

  /** Forgets everything cached about one app (keys, scopes, settings, its users and agreements), loads under way included. */
  invalidate (appSlug: string): void {
    this.#dropFlights((_key, flight) => flight.app === appSlug)
    this.#apps.delete(appSlug)
    this.#unknownApps.delete(appSlug)
    const prefix = `${appSlug}\0`
    this.#users.deleteWhere((_value, key) => key.startsWith(prefix))
    this.#agreements.deleteWhere((_value, key) => key.startsWith(prefix))
    this.#options.onInvalidate?.(appSlug)
  }

  /** Forgets everything, loads under way included. */
  clear (): void {
    this.#dropFlights(() => true)
    this.#appKeys.clear()
    this.#resolvedRecords.clear()
    this.#apps.clear()
    this.#unknownApps.clear()
    this.#users.clear()
    this.#agreements.clear()
  }

  /** Marks matching loads stale and forgets them: later requests do not join them. */
  #dropFlights (matches: (key: string, flight: Flight) => boolean): void {
    for (const [key, flight] of this.#inFlight) {
      if (!matches(key, flight)) continue
      flight.stale = true
      this.#inFlight.delete(key)
    }
  }

  /**
   * Concurrent misses for one key share one store call. The result is cached only if the load
   * was not made stale while under way (otherwise it may hold the old keys, or a removed app).
   */
  async #singleFlight<T> (key: string, appSlug: string, load: () => Promise<T>, remember: (value: T) => void): Promise<T> {
    const pending = this.#inFlight.get(key)
    if (pending !== undefined) return await (pending.promise as Promise<T>)
    const flight: Flight = { promise: Promise.resolve(), app: appSlug, stale: false }
    const promise = load().then((value) => {
      if (!flight.stale) remember(value)
      return value
    })
    flight.promise = promise
    this.#inFlight.set(key, flight)
    try {
      return await promise
    } finally {
      if (this.#inFlight.get(key) === flight) this.#inFlight.delete(key)
    }
  }
}
