/**
 * The embedded default store: apps, agreements and users held in memory, with methods to change
 * them at run time. Every change is announced to subscribers (the plugin's cache), so the next
 * request sees it. Records are copied in and out: a caller mutating its objects changes nothing.
 */
import type {
  AgreementRecord, AppRecord, LinkedServicesStore, PreviousKey, RemoteUserProfile, StoreChange, UserRecord
} from '../../types/index.js'
import { LEGACY_KEY_LIFETIME_MS } from '../app-defaults.js'
import { InvalidArgumentError, RecordExistsError, RecordNotFoundError } from '../errors.js'
import { memoryStoreOptions } from '../options/schemas.js'
import { validateOptions } from '../options/validate.js'
import { checkAgreementRecord, checkAppRecord, checkUserRecord } from './check-record.js'

export interface MemoryStoreData {
  apps?: AppRecord[]
  agreements?: AgreementRecord[]
  users?: UserRecord[]
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

  /** Every record is checked first: a bad one throws FST_LINKED_SERVICES_INVALID_RECORD naming it and the field. */
  constructor (data: MemoryStoreData = {}) {
    const { apps, agreements, users } = validateOptions<Required<MemoryStoreData>>(memoryStoreOptions, data)
    for (const app of apps) {
      checkAppRecord(OWNER, app)
      if (this.#apps.has(app.slug)) throw new RecordExistsError(`MemoryStore: app ${JSON.stringify(app.slug)} is listed twice`)
      this.#apps.set(app.slug, frozenCopy(app))
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
      // Own properties only: an app slugged `constructor` or `__proto__` matches nothing inherited.
      const credentials = user.credentials
      const linked = credentials != null && Object.hasOwn(credentials, appSlug) ? credentials[appSlug] : undefined
      if (linked !== undefined && linked !== null && String(linked) === externalId) return copy(user)
    }
    return null
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

  async listApps (): Promise<AppRecord[]> {
    return [...this.#apps.values()].map(copy)
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

function agreementKey (app: string, userId: string | number): string {
  return `${app}\0${String(userId)}`
}
