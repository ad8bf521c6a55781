/**
 * Rows of the PostgreSQL tables to and from the store's records: column lists, value checks and
 * the mapping of app and user rows. No I/O here.
 */
import type { AppRecord, PreviousKey, UserRecord } from '../../../types/index.js'
import { DEFAULT_USERS_PATH, LEGACY_KEY_LIFETIME_MS } from '../../app-defaults.js'
import { InvalidRecordError } from '../../errors.js'

export { LEGACY_KEY_LIFETIME_MS }

export type AppChanges = Partial<Omit<AppRecord, 'slug'>>

export const USER_FIELDS = new Set(['id', 'username', 'email', 'first_name', 'last_name', 'credentials'])
/** Record field -> column, for updateApp; `fallback` is what `undefined` means for NOT NULL columns. */
export const APP_COLUMNS: ReadonlyArray<{ field: keyof AppRecord, column: string, kind: 'text' | 'bool' | 'int', fallback?: unknown }> = [
  { field: 'name', column: 'name', kind: 'text' },
  { field: 'description', column: 'description', kind: 'text' },
  { field: 'algorithm', column: 'algorithm', kind: 'text' },
  { field: 'strategy', column: 'strategy', kind: 'text', fallback: 'JWT' },
  { field: 'schema', column: 'schema', kind: 'text', fallback: 'LINK' },
  { field: 'privateKey', column: 'private_key', kind: 'text' },
  { field: 'publicKey', column: 'public_key', kind: 'text' },
  { field: 'kid', column: 'kid', kind: 'text' },
  { field: 'requireAnAgreement', column: 'require_an_agreement', kind: 'bool', fallback: true },
  { field: 'agreementVersion', column: 'agreement_version', kind: 'int', fallback: 1 },
  { field: 'appUrl', column: 'app_url', kind: 'text' },
  { field: 'usersPath', column: 'users_path', kind: 'text', fallback: DEFAULT_USERS_PATH },
  { field: 'webhookUrl', column: 'webhook_url', kind: 'text' },
  { field: 'redirectUrl', column: 'redirect_url', kind: 'text' }
]

/** Strings PostgreSQL text cannot hold (NUL) or that no record has: the answer is "not there". */
export function usableKey (value: unknown): value is string {
  return typeof value === 'string' && value.length > 0 && value.length <= 200 && !value.includes('\u0000')
}

/** User ids are stored as text; a canonical safe integer comes back as a number. */
export function userIdOut (id: string): string | number {
  return /^(0|[1-9]\d{0,14})$/.test(id) ? Number(id) : id
}

export function userIdIn (id: unknown): string {
  if ((typeof id !== 'string' && typeof id !== 'number') || String(id).length === 0) {
    throw new InvalidRecordError('a user id must be a non-empty string or a number')
  }
  return String(id)
}

export function scopeSlugs (value: unknown, field: string): string[] {
  if (value === undefined || value === null) return []
  if (!Array.isArray(value) || value.some((scope) => typeof scope !== 'string' || scope.length === 0 || scope.length > 100)) {
    throw new InvalidRecordError(`${field} must be an array of scope slugs`)
  }
  return [...new Set(value as string[])]
}

export function columnValue (entry: typeof APP_COLUMNS[number], value: unknown): unknown {
  if (value === undefined || value === null) return entry.fallback ?? null
  switch (entry.kind) {
    case 'bool':
      if (typeof value !== 'boolean') throw new InvalidRecordError(`${entry.field} must be true or false`)
      return value
    case 'int':
      if (!Number.isInteger(value)) throw new InvalidRecordError(`${entry.field} must be an integer`)
      return value
    default:
      if (typeof value !== 'string') throw new InvalidRecordError(`${entry.field} must be a string`)
      return value
  }
}

export function toDate (value: Date | number | string | undefined, field: string): Date {
  const date = value instanceof Date ? new Date(value.getTime()) : new Date(value as number | string)
  if (value === undefined || Number.isNaN(date.getTime())) throw new InvalidRecordError(`${field} is not a valid time`)
  return date
}

/** The rows to write for `previousKeys` and `legacyKey` (the original's one legacy key). */
export function previousKeyRows (app: AppChanges): PreviousKey[] {
  const rows: PreviousKey[] = []
  if (app.previousKeys !== undefined && app.previousKeys !== null) {
    if (!Array.isArray(app.previousKeys)) throw new InvalidRecordError('previousKeys must be an array')
    rows.push(...app.previousKeys)
  }
  const legacy = app.legacyKey
  if (legacy !== undefined && legacy !== null) {
    const expiresAt = legacy.expiresAt ?? toDate(legacy.createdAt ?? Date.now(), 'legacyKey.createdAt').getTime() + LEGACY_KEY_LIFETIME_MS
    rows.push({ algorithm: legacy.algorithm, privateKey: legacy.privateKey ?? null, publicKey: legacy.publicKey ?? null, expiresAt })
  }
  return rows
}

export interface AppRow {
  slug: string
  name: string | null
  description: string | null
  algorithm: AppRecord['algorithm']
  strategy: NonNullable<AppRecord['strategy']>
  schema: NonNullable<AppRecord['schema']>
  private_key: string | null
  public_key: string | null
  kid: string | null
  require_an_agreement: boolean
  agreement_version: number
  app_url: string | null
  users_path: string
  webhook_url: string | null
  redirect_url: string | null
  required_scopes: string[]
  optional_scopes: string[]
  previous_keys: Array<{ kid: string | null, algorithm: AppRecord['algorithm'] | null, privateKey: string | null, publicKey: string | null, expiresAt: number }>
}

export function appFromRow (row: AppRow): AppRecord {
  const app: AppRecord = {
    slug: row.slug,
    algorithm: row.algorithm,
    strategy: row.strategy,
    schema: row.schema,
    privateKey: row.private_key,
    publicKey: row.public_key,
    requireAnAgreement: row.require_an_agreement,
    requiredScopes: row.required_scopes,
    optionalScopes: row.optional_scopes,
    agreementVersion: row.agreement_version,
    appUrl: row.app_url,
    usersPath: row.users_path,
    webhookUrl: row.webhook_url,
    redirectUrl: row.redirect_url,
    previousKeys: row.previous_keys.map((key) => {
      const previous: PreviousKey = { privateKey: key.privateKey, publicKey: key.publicKey, expiresAt: new Date(key.expiresAt) }
      if (key.kid !== null) previous.kid = key.kid
      if (key.algorithm !== null) previous.algorithm = key.algorithm
      return previous
    })
  }
  if (row.name !== null) app.name = row.name
  if (row.description !== null) app.description = row.description
  if (row.kid !== null) app.kid = row.kid
  return app
}

export interface UserRow {
  id: string
  username: string | null
  email: string | null
  first_name: string
  last_name: string
  extra: Record<string, unknown>
  credentials: Record<string, string> | null
}

export function userFromRow (row: UserRow): UserRecord {
  return {
    ...row.extra,
    id: userIdOut(row.id),
    username: row.username,
    email: row.email,
    first_name: row.first_name,
    last_name: row.last_name,
    credentials: row.credentials ?? {}
  }
}

/** A unique violation (SQLSTATE 23505) on the named constraint or index. */
export function isUniqueViolation (error: unknown, constraint?: string): boolean {
  const e = error as { code?: string, constraint?: string }
  return e?.code === '23505' && (constraint === undefined || e.constraint === constraint)
}
