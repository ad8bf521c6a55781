/**
 * `store.admin`: the one administration interface of every store (LinkedServicesAdmin), written
 * once over the few primitives each store provides (AdminBackend). The primitives are atomic in
 * their store (one PostgreSQL transaction, or one synchronous step in memory); this file adds the
 * refusals with coded errors and the summaries that leave key material out.
 */
import type {
  AgreementRecord, AppRecord, AppSummary, KeySummary, LinkedServicesAdmin, NextKey, RotateKeyOptions,
  ScopeKind, ScopeRecord, UserRecord
} from '../../types/index.js'
import { LEGACY_KEY_LIFETIME_MS } from '../app-defaults.js'
import { InvalidArgumentError, InvalidRecordError, RecordNotFoundError, ScopeNotOfferedError } from '../errors.js'
import { SLUG_PATTERN, SLUG_TEXT } from '../options/schemas.js'

/** What a store provides for its admin interface. A missing record reads as `null` / `false`. */
export interface AdminBackend {
  getApp: (slug: string) => Promise<AppRecord | null>
  listAppSlugs: () => Promise<string[]>
  /** Throws RECORD_EXISTS when the slug is taken. */
  createApp: (app: AppRecord) => Promise<unknown>
  /** Throws RECORD_NOT_FOUND for an unknown app. */
  updateApp: (slug: string, changes: Partial<Omit<AppRecord, 'slug'>>) => Promise<unknown> | unknown
  rotateKey: (slug: string, next: NextKey, previousKeyExpiresAt: number) => Promise<unknown> | unknown
  removeApp: (slug: string) => Promise<boolean> | boolean
  /** Throws RECORD_EXISTS when the scope is catalogued already. */
  createScope: (scope: ScopeRecord) => Promise<void> | void
  listScopes: () => Promise<ScopeRecord[]>
  /** Throws SCOPE_IN_USE while an app holds it; `false` when unknown. */
  removeScope: (slug: string) => Promise<boolean> | boolean
  /** Puts a catalogued scope on the app as `kind`, or takes it off (`null`); RECORD_NOT_FOUND for an unknown app or scope. */
  setAppScope: (app: string, scope: string, kind: ScopeKind | null) => Promise<void> | void
  listAgreements: (app?: string) => Promise<AgreementRecord[]>
  /** Throws RECORD_NOT_FOUND for an unknown app or user. */
  setAgreement: (agreement: AgreementRecord) => Promise<void> | void
  removeAgreement: (app: string, userId: string | number) => Promise<boolean> | boolean
  getUser: (id: string | number) => Promise<UserRecord | null>
  addUser: (user: UserRecord) => Promise<void> | void
  /** Throws RECORD_NOT_FOUND for an unknown user. */
  linkUser: (userId: string | number, app: string, externalId: string | number) => Promise<void> | void
  /** `false` when the user had no link to the app. */
  unlinkUser: (userId: string | number, app: string) => Promise<boolean> | boolean
  listUsers: (app?: string) => Promise<UserRecord[]>
}

const SLUG = new RegExp(SLUG_PATTERN)

/** A slug argument: a bad one is refused before any store is asked. */
export function checkSlug (value: unknown, what: string): string {
  if (typeof value !== 'string' || !SLUG.test(value)) {
    throw Object.assign(new InvalidRecordError(`${what} must be ${SLUG_TEXT}, got ${JSON.stringify(value)}`), { field: what })
  }
  return value
}

function userId (value: unknown): string | number {
  if ((typeof value === 'string' && value.length > 0 && value.length <= 200) || Number.isSafeInteger(value)) return value as string | number
  throw new InvalidRecordError(`a user id must be a non-empty string or an integer, got ${JSON.stringify(value)}`)
}

/** The app without key material: which keys it has (kid, algorithm, expiry), not the keys. */
export function summarizeApp (app: AppRecord, now = Date.now()): AppSummary {
  const {
    privateKey: _privateKey, publicKey: _publicKey, previousKeys, legacyKey, kid, name,
    strategy, schema, requireAnAgreement, requiredScopes, optionalScopes, agreementVersion, ...settings
  } = app
  const keys: KeySummary[] = [{ kid: kid ?? null, algorithm: app.algorithm, expiresAt: null }]
  for (const key of previousKeys ?? []) {
    const expiresAt = new Date(key.expiresAt)
    if (expiresAt.getTime() > now) keys.push({ kid: key.kid ?? null, algorithm: key.algorithm ?? app.algorithm, expiresAt })
  }
  if (legacyKey != null) {
    const expiresAt = new Date(legacyKey.expiresAt ?? new Date(legacyKey.createdAt ?? now).getTime() + LEGACY_KEY_LIFETIME_MS)
    if (expiresAt.getTime() > now) keys.push({ kid: null, algorithm: legacyKey.algorithm ?? app.algorithm, expiresAt })
  }
  return {
    ...settings,
    name: name ?? null,
    strategy: strategy ?? 'JWT',
    schema: schema ?? 'LINK',
    requireAnAgreement: requireAnAgreement ?? true,
    requiredScopes: [...(requiredScopes ?? [])].sort(),
    optionalScopes: [...(optionalScopes ?? [])].sort(),
    agreementVersion: agreementVersion ?? 1,
    keys
  }
}

export class LinkAdmin implements LinkedServicesAdmin {
  readonly #store: AdminBackend

  constructor (store: AdminBackend) {
    this.#store = store
  }

  async createApp (app: AppRecord): Promise<AppSummary> {
    checkSlug(app?.slug, 'slug')
    await this.#store.createApp(app)
    return await this.getApp(app.slug)
  }

  async getApp (slug: string): Promise<AppSummary>
  async getApp (slug: string, options: { withSecrets: true }): Promise<AppRecord>
  async getApp (slug: string, options?: { withSecrets?: boolean }): Promise<AppSummary | AppRecord> {
    const app = await this.#app(slug)
    return options?.withSecrets === true ? structuredClone(app) : summarizeApp(app)
  }

  async listApps (): Promise<AppSummary[]> {
    const apps = await Promise.all((await this.#store.listAppSlugs()).map(async (slug) => await this.#store.getApp(slug)))
    return apps.filter((app): app is AppRecord => app !== null).map((app) => summarizeApp(app))
  }

  async updateApp (slug: string, changes: Partial<Omit<AppRecord, 'slug'>>): Promise<AppSummary> {
    checkSlug(slug, 'app')
    if (changes === null || typeof changes !== 'object' || Object.hasOwn(changes, 'slug')) {
      throw new InvalidArgumentError('updateApp(slug, changes): changes must be an object without a slug (the slug cannot change)')
    }
    await this.#store.updateApp(slug, changes)
    return await this.getApp(slug)
  }

  async removeApp (slug: string): Promise<void> {
    checkSlug(slug, 'app')
    if (!await this.#store.removeApp(slug)) throw new RecordNotFoundError(`app ${slug}`)
  }

  async rotateKey (slug: string, next: NextKey, options: RotateKeyOptions = {}): Promise<AppSummary> {
    checkSlug(slug, 'app')
    const grace = options.gracePeriod ?? LEGACY_KEY_LIFETIME_MS
    if (!Number.isSafeInteger(grace) || grace < 0) throw new InvalidArgumentError('rotateKey: gracePeriod must be a whole number of milliseconds, 0 or more')
    if (next === null || typeof next !== 'object') throw new InvalidArgumentError('rotateKey(slug, { privateKey?, publicKey?, kid? })')
    await this.#app(slug)
    await this.#store.rotateKey(slug, next, Date.now() + grace)
    return await this.getApp(slug)
  }

  async revokePreviousKeys (slug: string): Promise<AppSummary> {
    return await this.updateApp(slug, { previousKeys: [], legacyKey: null })
  }

  async createScope (scope: ScopeRecord): Promise<ScopeRecord> {
    const slug = checkScope(scope?.slug)
    const record: ScopeRecord = { slug, name: scope.name ?? null, description: scope.description ?? '' }
    if (record.name !== null && typeof record.name !== 'string') throw new InvalidRecordError('a scope name must be a string')
    if (typeof record.description !== 'string') throw new InvalidRecordError('a scope description must be a string')
    await this.#store.createScope(record)
    return record
  }

  async listScopes (): Promise<ScopeRecord[]> {
    return (await this.#store.listScopes()).sort((a, b) => a.slug < b.slug ? -1 : 1)
  }

  async removeScope (slug: string): Promise<void> {
    if (!await this.#store.removeScope(checkScope(slug))) throw new RecordNotFoundError(`scope ${slug}`)
  }

  async attachScope (app: string, scope: string, kind: ScopeKind): Promise<AppSummary> {
    if (kind !== 'required' && kind !== 'optional') throw new InvalidArgumentError('attachScope: kind must be "required" or "optional"')
    await this.#store.setAppScope(checkSlug(app, 'app'), checkScope(scope), kind)
    return await this.getApp(app)
  }

  async detachScope (app: string, scope: string): Promise<AppSummary> {
    const current = summarizeApp(await this.#app(app))
    if (![...current.requiredScopes, ...current.optionalScopes].includes(scope)) {
      throw new ScopeNotOfferedError(`app ${app} neither requires nor offers ${JSON.stringify(scope)}`)
    }
    await this.#store.setAppScope(app, scope, null)
    return await this.getApp(app)
  }

  async listAgreements (app?: string): Promise<AgreementRecord[]> {
    if (app !== undefined) await this.#app(app)
    return await this.#store.listAgreements(app)
  }

  async grantAgreement (app: string, user: string | number, optionalScopes: string[] = []): Promise<AgreementRecord> {
    const record = await this.#app(app)
    if (!Array.isArray(optionalScopes)) throw new InvalidArgumentError('grantAgreement: optionalScopes must be an array of scope slugs')
    const offered = new Set(record.optionalScopes ?? [])
    const notOffered = optionalScopes.filter((scope) => !offered.has(scope))
    if (notOffered.length > 0) {
      throw new ScopeNotOfferedError(`app ${app} does not offer ${notOffered.map((scope) => JSON.stringify(scope)).join(', ')} as optional scope(s)`)
    }
    const agreement: AgreementRecord = { app, userId: userId(user), optionalScopes: [...new Set(optionalScopes)].sort(), agreementVersion: record.agreementVersion ?? 1 }
    await this.#store.setAgreement(agreement)
    return agreement
  }

  async revokeAgreement (app: string, user: string | number): Promise<void> {
    await this.#app(app)
    if (!await this.#store.removeAgreement(app, userId(user))) throw new RecordNotFoundError(`agreement of user ${String(user)} with app ${app}`)
  }

  async addUser (user: UserRecord): Promise<UserRecord> {
    await this.#store.addUser(user)
    return await this.#user(user.id)
  }

  async linkUser (user: string | number, app: string, externalId: string | number): Promise<UserRecord> {
    await this.#app(app)
    await this.#user(user)
    await this.#store.linkUser(userId(user), app, userId(externalId))
    return await this.#user(user)
  }

  async unlinkUser (user: string | number, app: string): Promise<UserRecord> {
    checkSlug(app, 'app')
    await this.#user(user)
    if (!await this.#store.unlinkUser(userId(user), app)) throw new RecordNotFoundError(`link of user ${String(user)} to app ${app}`)
    return await this.#user(user)
  }

  async listUsers (app?: string): Promise<UserRecord[]> {
    if (app !== undefined) checkSlug(app, 'app')
    return await this.#store.listUsers(app)
  }

  async #app (slug: string): Promise<AppRecord> {
    const app = await this.#store.getApp(checkSlug(slug, 'app'))
    if (app === null) throw new RecordNotFoundError(`app ${slug}`)
    return app
  }

  async #user (id: string | number): Promise<UserRecord> {
    const user = await this.#store.getUser(userId(id))
    if (user === null) throw new RecordNotFoundError(`user ${String(id)}`)
    return user
  }
}

function checkScope (value: unknown): string {
  if (typeof value !== 'string' || value.length === 0 || value.length > 100 || /\s/.test(value) || value.includes('\u0000')) {
    throw Object.assign(new InvalidRecordError(`a scope must be 1 to 100 characters without spaces, got ${JSON.stringify(value)}`), { field: 'scope' })
  }
  return value
}
