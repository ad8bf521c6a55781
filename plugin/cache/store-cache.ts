/**
 * The cache in front of any store: apps (resolved once per load: keys parsed, scope sets built),
 * user links and agreements. Bounded LRU with TTL, one store call for many concurrent misses
 * (single flight), short negative caching for unknown apps, a deadline on every store call, and
 * explicit invalidation per app (an app's keys or scopes change: the next request reloads it).
 */
import type { AgreementRecord, LinkedServicesStore, RemoteUserProfile, StoreChange, UserRecord } from '../../types/index.js'
import { LruCache } from './lru.js'
import { resolveApp, type ResolvedApp } from './resolved-app.js'
import { callStore } from './call-store.js'

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

export class StoreCache {
  readonly store: LinkedServicesStore
  readonly #options: StoreCacheOptions
  readonly #apps: LruCache<string, AppEntry>
  readonly #users: LruCache<string, UserRecord | null>
  readonly #agreements: LruCache<string, AgreementRecord | null>
  readonly #inFlight = new Map<string, Promise<unknown>>()
  /** Bumped on every invalidation of an app: loads started before it must not fill the cache. */
  readonly #generation = new Map<string, number>()
  #unsubscribe: (() => void) | null = null

  constructor (store: LinkedServicesStore, options: StoreCacheOptions) {
    this.store = store
    this.#options = options
    this.#apps = new LruCache(options.max)
    // Users and agreements are per (app, user): allow more of them than apps.
    this.#users = new LruCache(options.max * 10)
    this.#agreements = new LruCache(options.max * 10)
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

  /** The cached app, if there is a fresh entry: `undefined` when the store must be asked. */
  peekApp (slug: string, now: number): AppEntry | undefined {
    return this.#apps.get(slug, now)
  }

  async getApp (slug: string): Promise<ResolvedApp | null> {
    const cached = this.#apps.get(slug, Date.now())
    if (cached !== undefined) return cached
    return await this.#singleFlight(`app\0${slug}`, slug, async () => {
      const record = await callStore(() => this.store.getApp(slug), this.#options.timeout)
      const valid = record !== null && typeof record === 'object' && record.slug === slug
      const app = valid ? resolveApp(record) : null
      if (app !== null && app.keyProblem !== null) this.#options.onKeyProblem?.(slug, app.keyProblem)
      return app
    }, (app) => {
      const ttl = app === null ? this.#options.negativeTtl : this.#options.ttl
      this.#apps.set(slug, app, Date.now() + ttl)
    })
  }

  /** The local user linked to `externalId` in app `appSlug`, or null. */
  async findUser (appSlug: string, externalId: string): Promise<UserRecord | null> {
    return await this.#perUser(this.#users, 'user', appSlug, externalId,
      () => this.store.findUserByCredential(appSlug, externalId))
  }

  /** The agreement of LOCAL user `userId` with app `appSlug`, or null. */
  async getAgreement (appSlug: string, userId: string): Promise<AgreementRecord | null> {
    return await this.#perUser(this.#agreements, 'agreement', appSlug, userId,
      () => this.store.getAgreement(appSlug, userId))
  }

  /** A cached per-(app, user) store answer; anything but an object counts as "none". */
  async #perUser<T extends object> (cache: LruCache<string, T | null>, kind: string, appSlug: string, id: string,
    call: () => Promise<T | null>): Promise<T | null> {
    const key = `${appSlug}\0${id}`
    const cached = cache.get(key, Date.now())
    if (cached !== undefined) return cached
    return await this.#singleFlight(`${kind}\0${key}`, appSlug, async () => {
      const value = await callStore(call, this.#options.timeout)
      return value !== null && typeof value === 'object' ? value : null
    }, (value) => cache.set(key, value, Date.now() + this.#options.ttl))
  }

  /** Creates and links a user from a peer's profile (remote user resolution). */
  async linkRemoteUser (appSlug: string, profile: RemoteUserProfile): Promise<UserRecord> {
    const link = this.store.linkRemoteUser
    if (typeof link !== 'function') throw new TypeError('the store cannot link remote users (no linkRemoteUser method)')
    const user = await callStore(() => link.call(this.store, appSlug, profile), this.#options.timeout)
    this.#users.delete(`${appSlug}\0${String(profile.id)}`)
    return user
  }

  /** Forgets everything cached about one app (keys, scopes, settings, its users and agreements). */
  invalidate (appSlug: string): void {
    this.#generation.set(appSlug, (this.#generation.get(appSlug) ?? 0) + 1)
    this.#apps.delete(appSlug)
    const prefix = `${appSlug}\0`
    this.#users.deleteWhere((_value, key) => key.startsWith(prefix))
    this.#agreements.deleteWhere((_value, key) => key.startsWith(prefix))
    this.#options.onInvalidate?.(appSlug)
  }

  clear (): void {
    this.#apps.clear()
    this.#users.clear()
    this.#agreements.clear()
    for (const slug of this.#generation.keys()) this.#generation.set(slug, (this.#generation.get(slug) ?? 0) + 1)
  }

  /**
   * Concurrent misses for one key share one store call. The result is cached only if the app
   * was not invalidated while the call was under way (otherwise it may hold the old keys).
   */
  async #singleFlight<T> (key: string, appSlug: string, load: () => Promise<T>, remember: (value: T) => void): Promise<T> {
    const pending = this.#inFlight.get(key)
    if (pending !== undefined) return await (pending as Promise<T>)
    const generation = this.#generation.get(appSlug) ?? 0
    const promise = load().then((value) => {
      if ((this.#generation.get(appSlug) ?? 0) === generation) remember(value)
      return value
    })
    this.#inFlight.set(key, promise)
    try {
      return await promise
    } finally {
      this.#inFlight.delete(key)
    }
  }
}
