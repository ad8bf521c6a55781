/**
 * PostgresStore: the app registry, users, credentials and agreements in PostgreSQL, shared by
 * several instances of a service.
 *
 * - Reads are one parameterised query each, on a pool (`pg`).
 * - Writes go through the admin methods (createApp, updateApp, rotateKey, removeApp, setAgreement,
 *   addUser, linkUser, linkRemoteUser), each one transaction that ends with `pg_notify` on the
 *   store's channel: the notification is delivered when (and only if) the transaction commits.
 * - `subscribe()` opens one dedicated LISTEN connection per store (see postgres/listener.ts);
 *   every instance's cache drops an app as soon as the notification arrives. When that connection
 *   was lost and comes back, every app this store has served is announced as changed (the
 *   notifications sent meanwhile are lost); the plugin's cache TTL stays the backstop.
 * - The schema is created and upgraded by `migrate()` (or `npx linked-services migrate`).
 *
 * Time comes from Date.now() (previous-key expiry is judged against the caller's clock, not the
 * database's). A query that fails rejects; the plugin turns that into 503 store-unavailable.
 */
import type { ClientConfig, Pool, PoolClient, PoolConfig } from 'pg'
import type {
  AgreementRecord, AppRecord, AppSummary, LinkedServicesAdmin, LinkedServicesStore, NextKey, PreviousKey, ScopeKind, ScopeRecord, RemoteUserProfile, StoreChange, UserRecord
} from '../../types/index.js'
import { loadPg } from '../lazy-modules.js'
import { InvalidArgumentError, InvalidOptionError, InvalidRecordError, RecordExistsError, RecordNotFoundError, ScopeInUseError, StoreClosedError, StoreNotMigratedError } from '../errors.js'
import { type AdminBackend, LinkAdmin } from './admin.js'
import { checkAgreementRecord, checkAppRecord, checkUserRecord } from './check-record.js'
import { postgresStoreOptions } from '../options/schemas.js'
import { validateOptions } from '../options/validate.js'
import { ChangeListener } from './postgres/listener.js'
import { runMigrations, type MigrationResult } from './postgres/migrate.js'
import { buildSql, type ScopeTable, type Sql } from './postgres/sql.js'
import { inTransaction } from './postgres/transaction.js'
import {
  type AppChanges, APP_COLUMNS, LEGACY_KEY_LIFETIME_MS, type AppRow, USER_FIELDS, type UserRow,
  appFromRow, columnValue, isUniqueViolation, previousKeyRows, scopeSlugs, toDate, usableKey, userFromRow, userIdIn, userIdOut
} from './postgres/rows.js'

export type { MigrationResult } from './postgres/migrate.js'

export interface PostgresStoreOptions {
  /** A PostgreSQL URL (`postgres://user:pass@host:5432/db`). Either this or `pool`. */
  connectionString?: string
  /** A `pg.Pool` of your own; the store does not end it on close(). */
  pool?: Pool
  /** The schema holding the tables: a lower-case SQL identifier. Default `linked_services`. */
  schema?: string
  /** The LISTEN/NOTIFY channel: a lower-case SQL identifier. Default `<schema>_changes`. */
  notifyChannel?: string
  /** Pool size when the store makes the pool. Default 10. */
  maxConnections?: number
  /** How long opening a connection may take, in ms (a down database fails fast). Default 2000. */
  connectionTimeout?: number
  /** Connection settings of the LISTEN connection. Default: those of the pool. */
  listenConnection?: ClientConfig
  /** First delay before the LISTEN connection is reopened, in ms, doubling up to 5 s. Default 100. */
  listenReconnectDelay?: number
  /** How often the LISTEN connection is checked with a query, in ms; 0: never. Default 5000. */
  listenPingInterval?: number
  /**
   * Whether the hot writes (the webhook receive log) use named prepared statements, parsed and
   * planned once per connection. Default true; `false` behind a pooler that cannot keep them
   * (PgBouncer in transaction mode before 1.21).
   */
  preparedStatements?: boolean
  /** @deprecated the old name of `maxConnections` (until 1.0). */
  poolSize?: number
  /** @deprecated the old name of `connectionTimeout` (until 1.0). */
  connectionTimeoutMillis?: number
  /** @deprecated the old name of `listenReconnectDelay` (until 1.0). */
  listenReconnectMs?: number
  /** @deprecated the old name of `listenPingInterval` (until 1.0). */
  listenPingMs?: number
}

type ValidPostgresStoreOptions = Pick<PostgresStoreOptions, 'connectionString' | 'pool' | 'notifyChannel' | 'listenConnection'> &
  Required<Pick<PostgresStoreOptions, 'schema' | 'maxConnections' | 'connectionTimeout' | 'listenReconnectDelay' | 'listenPingInterval' | 'preparedStatements'>>

export type { AppChanges } from './postgres/rows.js'

export type { NextKey, ScopeRecord } from '../../types/index.js'

type Listener = (change: StoreChange) => void
const OWNER = 'PostgresStore'
type Queryable = Pick<PoolClient, 'query'>

/** Apps remembered for the flush after a lost LISTEN connection (more than any cache holds). */
const MAX_SERVED = 10_000
export class PostgresStore implements LinkedServicesStore {
  readonly schema: string
  readonly notifyChannel: string
  readonly pool: Pool
  /** Whether hot writes may use named prepared statements (option `preparedStatements`). */
  readonly preparedStatements: boolean
  readonly #ownsPool: boolean
  readonly #sql: Sql
  readonly #listeners = new Set<Listener>()
  readonly #listenConfig: ClientConfig
  readonly #options: ValidPostgresStoreOptions
  #listener: ChangeListener | null = null
  #listening: Promise<void> | null = null
  /** Apps this store has answered about, most recent last (for the flush after a reconnection). */
  readonly #served = new Set<string>()
  #closed = false
  /** Administration: apps, keys, scopes, agreements and user links; every write one transaction. */
  readonly admin: LinkedServicesAdmin = new LinkAdmin(this.#backend())

  constructor (given: PostgresStoreOptions = {}) {
    const options = this.#options = validateOptions<ValidPostgresStoreOptions>(postgresStoreOptions, given)
    this.schema = options.schema
    this.preparedStatements = options.preparedStatements
    this.notifyChannel = options.notifyChannel ?? `${this.schema.slice(0, 55)}_changes`
    if (options.pool !== undefined) {
      this.pool = options.pool
      this.#ownsPool = false
      this.#listenConfig = options.listenConnection ?? { ...(options.pool.options as ClientConfig) }
    } else {
      if (options.connectionString === undefined) {
        throw Object.assign(new InvalidOptionError('PostgresStore: needs a connectionString or a pool'), { option: 'connectionString' })
      }
      const config: PoolConfig = {
        connectionString: options.connectionString,
        max: options.maxConnections,
        connectionTimeoutMillis: options.connectionTimeout,
        idleTimeoutMillis: 30_000,
        keepAlive: true
      }
      this.pool = new (loadPg().Pool)(config)
      this.#ownsPool = true
      this.#listenConfig = options.listenConnection ?? {
        connectionString: options.connectionString,
        connectionTimeoutMillis: config.connectionTimeoutMillis,
        keepAlive: true
      }
    }
    // An idle connection that breaks (database restart) must not crash the process: the next
    // query gets a fresh connection, or fails and the plugin answers 503.
    this.pool.on('error', () => {})
    this.#sql = buildSql(this.schema)
  }

  /** Creates or upgrades the tables (idempotent; safe to run from several instances at once). */
  async migrate (): Promise<MigrationResult> {
    return await runMigrations(this.pool, this.schema)
  }

  /**
   * Called by the plugin when Fastify is ready: rejects with FST_LINKED_SERVICES_STORE_NOT_MIGRATED
   * when the schema holds no tables (run `linked-services migrate`). An unreachable database
   * resolves: requests then fail closed (503) and their log lines say why.
   */
  async ready (): Promise<void> {
    let migrated: boolean
    try {
      const { rows } = await this.pool.query<{ apps: string | null }>('SELECT to_regclass($1) AS apps', [`"${this.schema}".apps`])
      migrated = rows[0]?.apps !== null
    } catch {
      return
    }
    if (!migrated) throw new StoreNotMigratedError(this.schema)
  }

  // The store contract (read side).

  async getApp (slug: string): Promise<AppRecord | null> {
    if (!usableKey(slug)) return null
    this.#serve(slug)
    const { rows } = await this.pool.query<AppRow>(this.#sql.getApp, [slug, new Date(Date.now())])
    return rows.length === 0 ? null : appFromRow(rows[0])
  }

  async getAgreement (appSlug: string, userId: string): Promise<AgreementRecord | null> {
    if (!usableKey(appSlug) || !usableKey(String(userId))) return null
    this.#serve(appSlug)
    const { rows } = await this.pool.query<{ user_id: string, agreement_version: number, optional_scopes: string[] }>(
      this.#sql.getAgreement, [appSlug, String(userId)])
    if (rows.length === 0) return null
    const row = rows[0]
    return { app: appSlug, userId: userIdOut(row.user_id), optionalScopes: row.optional_scopes, agreementVersion: row.agreement_version }
  }

  async findUserByCredential (appSlug: string, externalId: string): Promise<UserRecord | null> {
    if (!usableKey(appSlug) || !usableKey(String(externalId))) return null
    this.#serve(appSlug)
    const { rows } = await this.pool.query<UserRow>(this.#sql.findUserByCredential, [appSlug, String(externalId)])
    return rows.length === 0 ? null : userFromRow(rows[0])
  }

  /** The users with this email, without case or surrounding spaces (the index users_email_folded of migration 3). */
  async findUsersByEmail (email: string): Promise<UserRecord[]> {
    if (typeof email !== 'string') return []
    const { rows } = await this.pool.query<UserRow>(this.#sql.findUsersByEmail, [email])
    return rows.map(userFromRow)
  }

  /**
   * The original's create_user: the oldest local user with the profile's username and email, or
   * a new one (id from the `user_ids` sequence), linked to `credentials[appSlug] = profile.id`.
   * When that id is already linked to a local user, that user is returned.
   */
  async linkRemoteUser (appSlug: string, profile: RemoteUserProfile): Promise<UserRecord> {
    if (!usableKey(appSlug)) throw new InvalidArgumentError('linkRemoteUser(appSlug, profile): appSlug must be a slug')
    const externalId = userIdIn(profile?.id)
    const username = String(profile.username)
    const email = String(profile.email)
    return await this.#transaction(async (client) => {
      // Instances linking the same person at once take turns (no duplicate user).
      await client.query('SELECT pg_advisory_xact_lock(hashtext($1))', [JSON.stringify([this.schema, username, email])])
      const owner = await client.query<{ user_id: string }>(this.#sql.credentialOwner, [appSlug, externalId])
      let userId = owner.rows[0]?.user_id
      if (userId === undefined) {
        const found = await client.query<{ id: string }>(this.#sql.findUserByNameAndEmail, [username, email])
        userId = found.rows[0]?.id
        for (let attempt = 0; userId === undefined && attempt < 100; attempt++) {
          const created = await client.query<{ id: string }>(this.#sql.insertGeneratedUser,
            [username, email, String(profile.first_name ?? ''), String(profile.last_name ?? '')])
          userId = created.rows[0]?.id
        }
        if (userId === undefined) throw new RecordExistsError('every generated user id is taken')
        await client.query(this.#sql.upsertCredential, [userId, appSlug, externalId])
        await this.#notify(client, { type: 'user', app: appSlug })
      }
      return await this.#readUser(client, userId)
    })
  }

  /**
   * Change feed for the plugin's cache. One LISTEN connection per store, opened on the first
   * subscription; resolves once the first attempt to open it is over (it keeps retrying).
   */
  async subscribe (listener: Listener): Promise<() => void> {
    if (typeof listener !== 'function') throw new InvalidArgumentError('subscribe(listener): listener must be a function')
    if (this.#closed) throw new StoreClosedError('PostgresStore')
    this.#listeners.add(listener)
    if (this.#listener === null) {
      this.#listener = new ChangeListener({
        config: this.#listenConfig,
        channel: this.notifyChannel,
        onChange: (change) => this.#emit(change),
        onConnect: () => { for (const app of [...this.#served]) this.#emit({ type: 'app', app }) },
        reconnectMs: this.#options.listenReconnectDelay,
        maxReconnectMs: 5000,
        pingMs: this.#options.listenPingInterval
      })
      this.#listening = this.#listener.start()
    }
    await this.#listening
    return () => {
      this.#listeners.delete(listener)
      if (this.#listeners.size === 0) this.#stopListening().catch(() => {})
    }
  }

  /** True while the LISTEN connection is up (invalidations arrive within milliseconds). */
  get listening (): boolean {
    return this.#listener?.connected ?? false
  }

  async close (): Promise<void> {
    if (this.#closed) return
    this.#closed = true
    this.#listeners.clear()
    await this.#stopListening()
    if (this.#ownsPool) await this.pool.end()
  }

  // Administration. Every method is one transaction, announced on commit.

  /** Adds an app; throws when the slug is taken, or when its keys cannot be used. */
  async createApp (app: AppRecord): Promise<AppRecord> {
    checkAppRecord(OWNER, app)
    return await this.#transaction(async (client) => {
      const values = [app.slug, ...APP_COLUMNS.map((entry) => columnValue(entry, app[entry.field]))]
      let id: string
      try {
        // insertApp lists the columns in APP_COLUMNS order after the slug.
        ({ rows: [{ id }] } = await client.query<{ id: string }>(this.#sql.insertApp, values))
      } catch (error) {
        if (isUniqueViolation(error)) throw new RecordExistsError(`app ${app.slug}`)
        throw error
      }
      await this.#setScopes(client, id, 'app_required_scopes', scopeSlugs(app.requiredScopes, 'requiredScopes'))
      await this.#setScopes(client, id, 'app_optional_scopes', scopeSlugs(app.optionalScopes, 'optionalScopes'))
      await this.#insertPreviousKeys(client, id, previousKeyRows(app))
      return await this.#finishAppChange(client, app.slug)
    })
  }

  /** MemoryStore's name for createApp. */
  async addApp (app: AppRecord): Promise<AppRecord> {
    return await this.createApp(app)
  }

  /** Creates the app, or replaces the fields the record names (seeding, idempotent). */
  async upsertApp (app: AppRecord): Promise<AppRecord> {
    const { slug, ...changes } = app
    try {
      return await this.createApp(app)
    } catch (error) {
      if (!(error instanceof RecordExistsError)) throw error
      return await this.updateApp(slug, changes)
    }
  }

  /**
   * Changes an app's fields (keys, scopes, settings); the slug cannot change. A field present
   * with `undefined` is reset to its default. `requiredScopes` / `optionalScopes` replace the
   * lists; `previousKeys` replaces the previous keys; `legacyKey` adds one.
   */
  async updateApp (slug: string, changes: AppChanges): Promise<AppRecord> {
    if (changes === null || typeof changes !== 'object') throw new InvalidArgumentError('updateApp(slug, changes): changes must be an object')
    return await this.#transaction(async (client) => {
      const id = await this.#lockApp(client, slug)
      const columns: string[] = []
      const values: unknown[] = [id.id]
      for (const entry of APP_COLUMNS) {
        if (!Object.hasOwn(changes, entry.field)) continue
        values.push(columnValue(entry, changes[entry.field as keyof AppChanges]))
        columns.push(`${entry.column} = $${values.length}`)
      }
      if (columns.length > 0) {
        await client.query(`${this.#sql.updateAppPrefix}${columns.join(', ')}, updated_at = now() WHERE id = $1`, values)
      }
      if (Object.hasOwn(changes, 'requiredScopes')) {
        await this.#setScopes(client, id.id, 'app_required_scopes', scopeSlugs(changes.requiredScopes, 'requiredScopes'))
      }
      if (Object.hasOwn(changes, 'optionalScopes')) {
        await this.#setScopes(client, id.id, 'app_optional_scopes', scopeSlugs(changes.optionalScopes, 'optionalScopes'))
      }
      if (Object.hasOwn(changes, 'previousKeys')) await client.query(this.#sql.deletePreviousKeys, [id.id])
      await this.#insertPreviousKeys(client, id.id, previousKeyRows(changes))
      return await this.#finishAppChange(client, slug)
    })
  }

  /**
   * Key rotation: the new key becomes current; the old one becomes a previous key that verifies
   * until `previousKeyExpiresAt` (default: in 2 minutes, the original's legacy key lifetime; pass
   * `Date.now()` to stop trusting it at once). Expired previous keys are deleted.
   */
  async rotateKey (slug: string, next: NextKey, previousKeyExpiresAt: Date | number = Date.now() + LEGACY_KEY_LIFETIME_MS): Promise<AppRecord> {
    if (next === null || typeof next !== 'object') throw new InvalidArgumentError('rotateKey(slug, { privateKey?, publicKey?, kid? })')
    const expiresAt = toDate(previousKeyExpiresAt, 'previousKeyExpiresAt')
    return await this.#transaction(async (client) => {
      const current = await this.#lockApp(client, slug)
      await client.query(this.#sql.pruneExpiredKeys, [current.id, new Date(Date.now())])
      if (expiresAt.getTime() > Date.now()) {
        await client.query(this.#sql.insertPreviousKey,
          [current.id, current.kid, current.algorithm, current.private_key, current.public_key, expiresAt])
      }
      await client.query(this.#sql.setAppKey, [current.id, next.privateKey ?? null, next.publicKey ?? null, next.kid ?? null])
      return await this.#finishAppChange(client, slug)
    })
  }

  /** Deletes an app, with its scopes links, previous keys and agreements; user links stay. */
  async removeApp (slug: string): Promise<boolean> {
    if (!usableKey(slug)) return false
    return await this.#transaction(async (client) => {
      const { rows } = await client.query(this.#sql.deleteApp, [slug])
      await this.#notify(client, { type: 'app', app: slug })
      return rows.length > 0
    })
  }

  /** Revokes an app: every instance refuses it from the next request on (removeApp). */
  async revokeApp (slug: string): Promise<boolean> {
    return await this.removeApp(slug)
  }

  /** Records (or replaces) a user's agreement; a user row is created when the id is unknown. */
  async setAgreement (agreement: AgreementRecord): Promise<void> {
    checkAgreementRecord(OWNER, agreement)
    const userId = userIdIn(agreement.userId)
    const scopes = scopeSlugs(agreement.optionalScopes, 'optionalScopes')
    const version = agreement.agreementVersion ?? 1
    await this.#transaction(async (client) => {
      const app = await client.query<{ id: string }>(this.#sql.appId, [agreement.app])
      if (app.rows.length === 0) throw new RecordNotFoundError(`app ${agreement.app} (an agreement needs an existing app)`)
      const user = await client.query(this.#sql.userExists, [userId])
      if (user.rows.length === 0) throw new RecordNotFoundError(`user ${userId} (an agreement needs an existing user: addUser first)`)
      const { rows: [{ id }] } = await client.query<{ id: string }>(this.#sql.upsertAgreement, [app.rows[0].id, userId, version])
      await client.query(this.#sql.clearAgreementScopes, [id])
      if (scopes.length > 0) {
        await client.query(this.#sql.ensureScopes, [scopes])
        await client.query(this.#sql.addAgreementScopes, [id, scopes])
      }
      await this.#notify(client, { type: 'agreement', app: agreement.app })
    })
  }

  async removeAgreement (appSlug: string, userId: string | number): Promise<boolean> {
    return await this.#transaction(async (client) => {
      const { rows } = await client.query(this.#sql.deleteAgreement, [appSlug, userIdIn(userId)])
      await this.#notify(client, { type: 'agreement', app: appSlug })
      return rows.length > 0
    })
  }

  /**
   * Adds or replaces a user. `username`, `email`, `first_name`, `last_name` have columns; other
   * fields go to `extra` (jsonb). `credentials`, when given, replaces the user's links.
   */
  async addUser (user: UserRecord): Promise<void> {
    checkUserRecord(OWNER, user)
    const id = userIdIn(user.id)
    const extra: Record<string, unknown> = {}
    for (const [field, value] of Object.entries(user)) if (!USER_FIELDS.has(field)) extra[field] = value
    const text = (value: unknown): string | null => value === undefined || value === null ? null : String(value)
    await this.#transaction(async (client) => {
      await client.query(this.#sql.upsertUser,
        [id, text(user.username), text(user.email), text(user.first_name) ?? '', text(user.last_name) ?? '', JSON.stringify(extra)])
      if (/^[1-9]\d{0,14}$/.test(id)) await client.query(this.#sql.bumpUserIds, [id])
      if (user.credentials !== undefined) {
        const before = await client.query<{ app_slug: string }>(this.#sql.credentialSlugs, [id])
        await client.query(this.#sql.deleteCredentials, [id])
        const slugs = new Set(before.rows.map((row) => row.app_slug))
        for (const [slug, externalId] of Object.entries(user.credentials ?? {})) {
          await this.#link(client, id, slug, externalId)
          slugs.add(slug)
        }
        for (const slug of slugs) await this.#notify(client, { type: 'user', app: slug })
      }
    })
  }

  /** Links a local user to its id in a linked app (the original's FirstPartyCredentials). */
  async linkUser (userId: string | number, appSlug: string, externalId: string | number): Promise<void> {
    const id = userIdIn(userId)
    await this.#transaction(async (client) => {
      const exists = await client.query(this.#sql.userExists, [id])
      if (exists.rows.length === 0) throw new RecordNotFoundError(`user ${id}`)
      await this.#link(client, id, appSlug, externalId)
      await this.#notify(client, { type: 'user', app: appSlug })
    })
  }

  /** Adds a scope or changes its name and description (the consent page shows them). */
  async upsertScope (scope: ScopeRecord): Promise<void> {
    const [slug] = scopeSlugs([scope?.slug], 'slug')
    await this.pool.query(this.#sql.upsertScope, [slug, scope.name ?? null, scope.description ?? ''])
  }

  async getUser (id: string | number): Promise<UserRecord | null> {
    const { rows } = await this.pool.query<UserRow>(this.#sql.getUser, [userIdIn(id)])
    return rows.length === 0 ? null : userFromRow(rows[0])
  }

  /** Every app, without key material (`admin.getApp(slug, { withSecrets: true })` has the keys). */
  async listApps (): Promise<AppSummary[]> {
    return await this.admin.listApps()
  }

  /** The primitives of `admin` that the methods above do not already provide; each one transaction. */
  #backend (): AdminBackend {
    return {
      getApp: async (slug) => await this.getApp(slug),
      listAppSlugs: async () => (await this.pool.query<{ slug: string }>(this.#sql.listAppSlugs)).rows.map((row) => row.slug),
      createApp: async (app) => await this.createApp(app),
      updateApp: async (slug, changes) => await this.updateApp(slug, changes),
      rotateKey: async (slug, next, expiresAt) => await this.rotateKey(slug, next, expiresAt),
      removeApp: async (slug) => await this.removeApp(slug),
      createScope: async (scope) => {
        try {
          await this.pool.query(this.#sql.insertScope, [scope.slug, scope.name ?? null, scope.description ?? ''])
        } catch (error) {
          if (isUniqueViolation(error)) throw new RecordExistsError(`scope ${scope.slug}`)
          throw error
        }
      },
      listScopes: async () => (await this.pool.query<ScopeRecord>(this.#sql.listScopes)).rows,
      removeScope: async (slug) => await this.#transaction(async (client) => {
        const { rows } = await client.query<{ id: string }>(this.#sql.lockScope, [slug])
        if (rows.length === 0) return false
        const holders = await client.query<{ slug: string }>(this.#sql.scopeHolders, [slug])
        if (holders.rows.length > 0) {
          throw new ScopeInUseError(`${slug} is held by app(s) ${holders.rows.map((row) => row.slug).join(', ')}; detach it first`)
        }
        await client.query(this.#sql.deleteScope, [rows[0].id])
        return true
      }),
      setAppScope: async (slug, scope, kind) => await this.#transaction(async (client) => {
        const app = await this.#lockApp(client, slug)
        const { rows } = await client.query<{ id: string }>(this.#sql.lockScope, [scope])
        if (rows.length === 0) throw new RecordNotFoundError(`scope ${scope} (create it first)`)
        for (const table of ['app_required_scopes', 'app_optional_scopes'] as const) {
          await client.query(this.#sql.detachScope(table), [app.id, rows[0].id])
        }
        if (kind !== null) await client.query(this.#sql.attachScope(scopeTable(kind)), [app.id, rows[0].id])
        await this.#notify(client, { type: 'app', app: slug })
      }),
      listAgreements: async (app) => {
        const { rows } = await this.pool.query<{ app: string, user_id: string, agreement_version: number, optional_scopes: string[] }>(
          this.#sql.listAgreements, [app ?? null])
        return rows.map((row) => ({ app: row.app, userId: userIdOut(row.user_id), optionalScopes: row.optional_scopes, agreementVersion: row.agreement_version }))
      },
      setAgreement: async (agreement) => { await this.setAgreement(agreement) },
      removeAgreement: async (app, userId) => await this.removeAgreement(app, userId),
      getUser: async (id) => await this.getUser(id),
      addUser: async (user) => { await this.addUser(user) },
      linkUser: async (userId, app, externalId) => { await this.linkUser(userId, app, externalId) },
      unlinkUser: async (userId, app) => await this.#transaction(async (client) => {
        const { rows } = await client.query(this.#sql.deleteCredential, [userIdIn(userId), app])
        await this.#notify(client, { type: 'user', app })
        return rows.length > 0
      }),
      listUsers: async (app) => (await this.pool.query<UserRow>(this.#sql.listUsers, [app ?? null])).rows.map(userFromRow)
    }
  }

  // Internals.

  async #transaction<T> (work: (client: PoolClient) => Promise<T>): Promise<T> {
    return await inTransaction(this.pool, work)
  }

  async #lockApp (client: Queryable, slug: string): Promise<{ id: string, algorithm: string, private_key: string | null, public_key: string | null, kid: string | null }> {
    const { rows } = usableKey(slug) ? await client.query(this.#sql.lockApp, [slug]) : { rows: [] }
    if (rows.length === 0) throw new RecordNotFoundError(`app ${String(slug)}`)
    return rows[0]
  }

  async #setScopes (client: Queryable, appId: string, table: ScopeTable, slugs: string[]): Promise<void> {
    if (slugs.length > 0) await client.query(this.#sql.ensureScopes, [slugs])
    await client.query(this.#sql.pruneAppScopes(table), [appId, slugs])
    if (slugs.length > 0) await client.query(this.#sql.addAppScopes(table), [appId, slugs])
  }

  async #insertPreviousKeys (client: Queryable, appId: string, keys: PreviousKey[]): Promise<void> {
    for (const key of keys) {
      if (key === null || typeof key !== 'object') throw new InvalidRecordError('a previous key must be an object')
      await client.query(this.#sql.insertPreviousKey, [appId, key.kid ?? null, key.algorithm ?? null,
        key.privateKey ?? null, key.publicKey ?? null, toDate(key.expiresAt, 'previousKeys[].expiresAt')])
    }
  }

  /** Reads the app back inside the transaction, refuses unusable keys, and announces the change. */
  async #finishAppChange (client: Queryable, slug: string): Promise<AppRecord> {
    const { rows } = await client.query<AppRow>(this.#sql.getApp, [slug, new Date(Date.now())])
    const app = appFromRow(rows[0])
    checkAppRecord(OWNER, app)
    await this.#notify(client, { type: 'app', app: slug })
    return app
  }

  async #link (client: Queryable, userId: string, appSlug: string, externalId: unknown): Promise<void> {
    if (!usableKey(appSlug)) throw new InvalidRecordError(`credentials are keyed by app slug, got ${JSON.stringify(appSlug)}`)
    const external = userIdIn(externalId)
    try {
      await client.query(this.#sql.upsertCredential, [userId, appSlug, external])
    } catch (error) {
      if (isUniqueViolation(error, 'credentials_app_external')) {
        throw new RecordExistsError(`${appSlug} user ${external} is already linked to another local user`)
      }
      throw error
    }
  }

  async #readUser (client: Queryable, id: string): Promise<UserRecord> {
    const { rows } = await client.query<UserRow>(this.#sql.getUser, [id])
    return userFromRow(rows[0])
  }

  async #notify (client: Queryable, change: StoreChange): Promise<void> {
    await client.query(this.#sql.notify, [this.notifyChannel, JSON.stringify(change)])
  }

  #serve (slug: string): void {
    if (this.#listener === null) return
    this.#served.delete(slug)
    this.#served.add(slug)
    if (this.#served.size > MAX_SERVED) this.#served.delete(this.#served.values().next().value as string)
  }

  #emit (change: StoreChange): void {
    for (const listener of [...this.#listeners]) {
      try {
        listener(change)
      } catch {
        // A subscriber's failure is its own; the others still hear about the change.
      }
    }
  }

  async #stopListening (): Promise<void> {
    const listener = this.#listener
    this.#listener = null
    this.#listening = null
    this.#served.clear()
    if (listener !== null) await listener.stop()
  }
}

function scopeTable (kind: ScopeKind): ScopeTable {
  return kind === 'required' ? 'app_required_scopes' : 'app_optional_scopes'
}
