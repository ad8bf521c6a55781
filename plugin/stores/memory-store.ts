/**
 * The embedded default store: apps, agreements and users held in memory, with methods to change
 * them at run time. Every change is announced to subscribers (the plugin's cache), so the next
 * request sees it. Records are copied in and out: a caller mutating its objects changes nothing.
 */
import type {
  AgreementRecord, AppRecord, AppSummary, LinkedServicesAdmin, LinkedServicesStore, PreviousKey, RemoteUserProfile,
  ScopeRecord, StoreChange, UserRecord
} from '../../types/index.js'
import { LEGACY_KEY_LIFETIME_MS } from '../app-defaults.js'
import { InvalidArgumentError, RecordExistsError, RecordNotFoundError, ScopeInUseError } from '../errors.js'
import { type AdminBackend, LinkAdmin, summarizeApp } from './admin.js'
import { memoryStoreOptions } from '../options/schemas.js'
import { validateOptions } from '../options/validate.js'
import { checkAgreementRecord, checkAppRecord, checkUserRecord } from './check-record.js'

export interface MemoryStoreData {
  apps?: AppRecord[]
  agreements?: AgreementRecord[]
  users?: UserRecord[]
  /** The scope catalogue (names and descriptions); the scopes of the apps are added to it. */
  scopes?: ScopeRecord[]
}

type Listener = (change: StoreChange) => void

const OWNER = 'MemoryStore'

function copy<T> (value: T): T {
  return structuredClone(value)
}

/**
 * A deep-frozen copy: app records are stored frozen and handed out as they are (no copy per
 * `getApp`, the call every cache miss makes); a change replaces the record with a new one.
 */
function frozenCopy<T> (value: T): T {
  return deepFreeze(structuredClone(value))
}

function deepFreeze<T> (value: T): T {
  if (value !== null && typeof value === 'object' && !Object.isFrozen(value)) {
    for (const child of Object.values(value)) deepFreeze(child)
    Object.freeze(value)
  }
  return value
}

export class MemoryStore implements LinkedServicesStore {
  readonly #apps = new Map<string, AppRecord>()
  /** Keyed by `${app}\0${localUserId}`. */
  readonly #agreements = new Map<string, AgreementRecord>()
  readonly #users = new Map<string, UserRecord>()
  readonly #listeners = new Set<Listener>()
  readonly #scopes = new Map<string, ScopeRecord>()
  /** Administration: apps, keys, scopes, agreements and user links, with coded refusals. */
  readonly admin: LinkedServicesAdmin = new LinkAdmin(this.#backend())

  /** Every record is checked first: a bad one throws FST_LINKED_SERVICES_INVALID_RECORD naming it and the field. */
  constructor (data: MemoryStoreData = {}) {
    const { apps, agreements, users, scopes } = validateOptions<Required<MemoryStoreData>>(memoryStoreOptions, data)
    for (const scope of scopes) this.#scopes.set(scope.slug, { slug: scope.slug, name: scope.name ?? null, description: scope.description ?? '' })
    for (const app of apps) {
      checkAppRecord(OWNER, app)
      if (this.#apps.has(app.slug)) throw new RecordExistsError(`MemoryStore: app ${JSON.stringify(app.slug)} is listed twice`)
      this.#apps.set(app.slug, frozenCopy(app))
      this.#catalogue(app)
    }
    for (const agreement of agreements) {
      checkAgreementRecord(OWNER, agreement)
      this.#agreements.set(agreementKey(agreement.app, agreement.userId), copy(agreement))
    }
    for (const user of users) {
      checkUserRecord(OWNER, user)
      this.#users.set(String(user.id), copy(user))
    }
  }

  /** The app's record, frozen (change it through `updateApp`). */
  async getApp (slug: string): Promise<AppRecord | null> {
    return this.#apps.get(slug) ?? null
  }

  async getAgreement (appSlug: string, userId: string): Promise<AgreementRecord | null> {
    const agreement = this.#agreements.get(agreementKey(appSlug, userId))
    return agreement === undefined ? null : copy(agreement)
  }

  async findUserByCredential (appSlug: string, externalId: string): Promise<UserRecord | null> {
    for (const user of this.#users.values()) {
      if (linkedId(user, appSlug) === externalId) return copy(user)
    }
    return null
  }

  async findUsersByEmail (email: string): Promise<UserRecord[]> {
    const wanted = foldEmail(email)
    return [...this.#users.values()].filter((user) => typeof user.email === 'string' && foldEmail(user.email) === wanted).map(copy)
  }

  async linkRemoteUser (appSlug: string, profile: RemoteUserProfile): Promise<UserRecord> {
    let user = [...this.#users.values()].find((candidate) =>
      candidate.username === profile.username && candidate.email === profile.email)
    if (user === undefined) {
      const id = this.#nextUserId()
      user = {
        id,
        username: profile.username,
        email: profile.email,
        first_name: profile.first_name ?? '',
        last_name: profile.last_name ?? ''
      }
      this.#users.set(String(id), user)
    }
    user.credentials = { ...user.credentials, [appSlug]: profile.id }
    this.#emit({ type: 'user', app: appSlug })
    return copy(user)
  }

  subscribe (listener: Listener): () => void {
    this.#listeners.add(listener)
    return () => this.#listeners.delete(listener)
  }

  // Administration: add, change and remove records at run time.

  addApp (app: AppRecord): void {
    checkAppRecord(OWNER, app)
    if (this.#apps.has(app.slug)) throw new RecordExistsError(`app ${app.slug}`)
    this.#apps.set(app.slug, frozenCopy(app))
    this.#catalogue(app)
    this.#emit({ type: 'app', app: app.slug })
  }

  /** Changes an app's fields (keys, scopes, settings); the slug cannot change. */
  updateApp (slug: string, changes: Partial<Omit<AppRecord, 'slug'>>): AppRecord {
    const app = this.#apps.get(slug)
    if (app === undefined) throw new RecordNotFoundError(`app ${slug}`)
    if (changes === null || typeof changes !== 'object') throw new InvalidArgumentError('updateApp(slug, changes): changes must be an object')
    const updated = { ...app, ...copy(changes), slug }
    checkAppRecord(OWNER, updated)
    deepFreeze(updated)
    this.#apps.set(slug, updated)
    this.#catalogue(updated)
    this.#emit({ type: 'app', app: slug })
    return copy(updated)
  }

  /**
   * Key rotation: the new key becomes current; the old one stays a previous key that verifies
   * until `previousKeyExpiresAt` (default: in 2 minutes, the original's legacy key lifetime).
   */
  rotateKey (slug: string, next: { privateKey?: string | null, publicKey?: string | null, kid?: string },
    previousKeyExpiresAt: Date | number = Date.now() + LEGACY_KEY_LIFETIME_MS): AppRecord {
    const app = this.#apps.get(slug)
    if (app === undefined) throw new RecordNotFoundError(`app ${slug}`)
    const previous: PreviousKey = {
      algorithm: app.algorithm,
      privateKey: app.privateKey ?? null,
      publicKey: app.publicKey ?? null,
      expiresAt: previousKeyExpiresAt
    }
    if (app.kid !== undefined) previous.kid = app.kid
    return this.updateApp(slug, {
      privateKey: next.privateKey ?? null,
      publicKey: next.publicKey ?? null,
      kid: next.kid,
      previousKeys: [previous, ...(app.previousKeys ?? [])]
    })
  }

  removeApp (slug: string): boolean {
    const removed = this.#apps.delete(slug)
    this.#emit({ type: 'app', app: slug })
    return removed
  }

  setAgreement (agreement: AgreementRecord): void {
    checkAgreementRecord(OWNER, agreement)
    this.#agreements.set(agreementKey(agreement.app, agreement.userId), copy(agreement))
    this.#emit({ type: 'agreement', app: agreement.app })
  }

  removeAgreement (appSlug: string, userId: string | number): boolean {
    const removed = this.#agreements.delete(agreementKey(appSlug, userId))
    this.#emit({ type: 'agreement', app: appSlug })
    return removed
  }

  addUser (user: UserRecord): void {
    checkUserRecord(OWNER, user)
    this.#users.set(String(user.id), copy(user))
    for (const slug of Object.keys(user.credentials ?? {})) this.#emit({ type: 'user', app: slug })
  }

  /** Links a local user to its id in a linked app (the original's FirstPartyCredentials). */
  linkUser (userId: string | number, appSlug: string, externalId: string | number): void {
    const user = this.#users.get(String(userId))
    if (user === undefined) throw new RecordNotFoundError(`user ${userId}`)
    user.credentials = { ...user.credentials, [appSlug]: externalId }
    this.#emit({ type: 'user', app: appSlug })
  }

  async getUser (id: string | number): Promise<UserRecord | null> {
    const user = this.#users.get(String(id))
    return user === undefined ? null : copy(user)
  }

  /** Every app, without key material (`admin.getApp(slug, { withSecrets: true })` has the keys). */
  async listApps (): Promise<AppSummary[]> {
    return [...this.#apps.values()].map((app) => summarizeApp(app))
  }

  /** Everything the store holds, keys included, in the format its constructor takes (for an apps file). Not `toJSON`: logging a store must not print keys. */
  exportData (): Required<MemoryStoreData> {
    return copy({
      apps: [...this.#apps.values()],
      agreements: [...this.#agreements.values()],
      users: [...this.#users.values()],
      scopes: [...this.#scopes.values()]
    })
  }

  /** The primitives of `admin`: each one synchronous, so atomic. */
  #backend (): AdminBackend {
    return {
      getApp: async (slug) => await this.getApp(slug),
      listAppSlugs: async () => [...this.#apps.keys()].sort(),
      createApp: async (app) => { this.addApp(app) },
      updateApp: (slug, changes) => this.updateApp(slug, changes),
      rotateKey: (slug, next, expiresAt) => this.rotateKey(slug, next, expiresAt),
      removeApp: (slug) => {
        if (!this.#apps.has(slug)) return false
        for (const [key, agreement] of this.#agreements) if (agreement.app === slug) this.#agreements.delete(key)
        return this.removeApp(slug)
      },
      createScope: (scope) => {
        if (this.#scopes.has(scope.slug)) throw new RecordExistsError(`scope ${scope.slug}`)
        this.#scopes.set(scope.slug, copy(scope))
      },
      listScopes: async () => [...this.#scopes.values()].map(copy),
      removeScope: (slug) => {
        if (!this.#scopes.has(slug)) return false
        const holders = [...this.#apps.values()].filter((app) => [...(app.requiredScopes ?? []), ...(app.optionalScopes ?? [])].includes(slug))
        if (holders.length > 0) throw new ScopeInUseError(`${slug} is held by app(s) ${holders.map((app) => app.slug).join(', ')}; detach it first`)
        this.#scopes.delete(slug)
        return true
      },
      setAppScope: (slug, scope, kind) => {
        const app = this.#apps.get(slug)
        if (app === undefined) throw new RecordNotFoundError(`app ${slug}`)
        if (!this.#scopes.has(scope)) throw new RecordNotFoundError(`scope ${scope} (create it first)`)
        this.updateApp(slug, {
          requiredScopes: withScope(app.requiredScopes, scope, kind === 'required'),
          optionalScopes: withScope(app.optionalScopes, scope, kind === 'optional')
        })
      },
      listAgreements: async (app) => [...this.#agreements.values()].filter((agreement) => app === undefined || agreement.app === app).map(copy),
      setAgreement: (agreement) => {
        if (!this.#users.has(String(agreement.userId))) throw new RecordNotFoundError(`user ${agreement.userId} (add the user first)`)
        this.setAgreement(agreement)
      },
      removeAgreement: (app, userId) => this.removeAgreement(app, userId),
      getUser: async (id) => await this.getUser(id),
      addUser: (user) => { this.addUser(user) },
      linkUser: (userId, app, externalId) => {
        const owner = [...this.#users.values()].find((user) => String(user.id) !== String(userId) && linkedId(user, app) === String(externalId))
        if (owner !== undefined) throw new RecordExistsError(`${app} user ${externalId} is already linked to another local user`)
        this.linkUser(userId, app, externalId)
      },
      unlinkUser: (userId, app) => {
        const user = this.#users.get(String(userId))
        if (user === undefined || linkedId(user, app) === undefined) return false
        const { [app]: _removed, ...rest } = user.credentials ?? {}
        user.credentials = rest
        this.#emit({ type: 'user', app })
        return true
      },
      listUsers: async (app) => [...this.#users.values()].filter((user) => app === undefined || linkedId(user, app) !== undefined).map(copy)
    }
  }

  /** The scopes an app names join the catalogue (as PostgresStore does). */
  #catalogue (app: AppRecord): void {
    for (const slug of [...(app.requiredScopes ?? []), ...(app.optionalScopes ?? [])]) {
      if (!this.#scopes.has(slug)) this.#scopes.set(slug, { slug, name: null, description: '' })
    }
  }

  #nextUserId (): number {
    let max = 0
    for (const id of this.#users.keys()) max = Math.max(max, Number(id) || 0)
    return max + 1
  }

  #emit (change: StoreChange): void {
    for (const listener of this.#listeners) listener(change)
  }
}

/** The user's id in the app, from own properties only (an app slugged `__proto__` matches nothing inherited). */
/** An email as findUsersByEmail compares it (PostgresStore: `lower(btrim(email))`). */
function foldEmail (email: string): string {
  return email.trim().toLowerCase()
}

function linkedId (user: UserRecord, app: string): string | undefined {
  const credentials = user.credentials
  const id = credentials != null && Object.hasOwn(credentials, app) ? credentials[app] : undefined
  return id === undefined || id === null ? undefined : String(id)
}

function withScope (scopes: readonly string[] | undefined, scope: string, present: boolean): string[] {
  const others = (scopes ?? []).filter((candidate) => candidate !== scope)
  return present ? [...others, scope] : others
}

function agreementKey (app: string, userId: string | number): string {
  return `${app}\0${String(userId)}`
}
