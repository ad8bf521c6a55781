/**
 * Reads a Django service's linked-services tables (the original package) into this package's
 * records: apps with their scopes and legacy key, the scope catalogue, the users that agreements
 * or credentials name, agreements with their optional scope sets, and FirstPartyCredentials.
 * Keys arrive as the original stores them (hex of the secret, hex of PEM text); a row this
 * package cannot use is skipped with the reason.
 */
import type { Client } from 'pg'
import type { AgreementRecord, AppRecord, ScopeRecord, UserRecord } from '../../types/index.js'
import { LEGACY_KEY_LIFETIME_MS } from '../app-defaults.js'
import { ALGORITHMS } from '../keys/algorithms.js'
import { checkAppRecord } from '../stores/check-record.js'
import { quoteIdentifier } from '../stores/postgres/identifiers.js'

export interface DjangoImport {
  scopes: ScopeRecord[]
  apps: AppRecord[]
  users: UserRecord[]
  agreements: AgreementRecord[]
  /** What was left out, and why. */
  skipped: string[]
}

interface AppRow {
  id: string
  name: string
  slug: string
  description: string
  algorithm: string
  strategy: string
  schema: string
  agreement_version: number
  private_key: string
  public_key: string | null
  require_an_agreement: boolean
  users_path: string
  webhook_url: string
  redirect_url: string
  app_url: string
  required_scopes: string[]
  optional_scopes: string[]
  legacy: { algorithm: string, private_key: string, public_key: string | null, created_at: string } | null
}

const orNull = (text: string | null): string | null => text === null || text === '' ? null : text

export async function readDjangoTables (client: Pick<Client, 'query'>, schema: string, now = Date.now()): Promise<DjangoImport> {
  const t = (table: string): string => `${quoteIdentifier(schema)}.${quoteIdentifier(`linked_services_${table}`)}`
  const skipped: string[] = []
  const scopes = (await client.query<ScopeRecord>(`SELECT slug, name, description FROM ${t('scope')} ORDER BY slug`)).rows
  const scopeSlugs = (table: string): string =>
    `ARRAY(SELECT sc.slug FROM ${t(table)} x JOIN ${t('scope')} sc ON sc.id = x.scope_id WHERE x.app_id = a.id ORDER BY sc.slug)`
  const { rows: appRows } = await client.query<AppRow>(`SELECT a.id, a.name, a.slug, a.description, a.algorithm, a.strategy, a.schema,
      a.agreement_version, a.private_key, a.public_key, a.require_an_agreement, a.users_path, a.webhook_url, a.redirect_url, a.app_url,
      ${scopeSlugs('apprequiredscope')} AS required_scopes, ${scopeSlugs('appoptionalscope')} AS optional_scopes,
      (SELECT row_to_json(k) FROM (SELECT algorithm, private_key, public_key, created_at FROM ${t('legacykey')} l
        WHERE l.app_id = a.id ORDER BY l.created_at DESC LIMIT 1) k) AS legacy
    FROM ${t('app')} a ORDER BY a.slug`)
  const apps: AppRecord[] = []
  for (const row of appRows) {
    const app = appRecord(row, now, skipped)
    if (app !== null) apps.push(app)
  }
  const imported = new Set(apps.map((app) => app.slug))

  const { rows: agreementRows } = await client.query<{ app: string, user_id: number, agreement_version: number, optional_scopes: string[] }>(
    `SELECT a.slug AS app, g.user_id, g.agreement_version,
      ARRAY(SELECT sc.slug FROM ${t('optionalscopeset_optional_scopes')} o JOIN ${t('scope')} sc ON sc.id = o.scope_id
        WHERE o.optionalscopeset_id = g.optional_scope_set_id ORDER BY sc.slug) AS optional_scopes
    FROM ${t('appuseragreement')} g JOIN ${t('app')} a ON a.id = g.app_id ORDER BY a.slug, g.user_id`)
  const agreements = agreementRows.filter((row) => imported.has(row.app))
    .map((row) => ({ app: row.app, userId: row.user_id, optionalScopes: row.optional_scopes, agreementVersion: row.agreement_version }))

  const { rows: credentialRows } = await client.query<{ user_id: number, app: Record<string, unknown> }>(
    `SELECT user_id, app FROM ${t('firstpartycredentials')} ORDER BY user_id`)
  const credentials = new Map<number, Record<string, string | number>>()
  for (const row of credentialRows) {
    const links: Record<string, string | number> = {}
    for (const [slug, id] of Object.entries(row.app ?? {})) {
      if (typeof id === 'string' || typeof id === 'number') links[slug] = id
      else skipped.push(`credential of user ${row.user_id} for ${slug}: not an id (${JSON.stringify(id)})`)
    }
    credentials.set(row.user_id, links)
  }
  const userIds = [...new Set([...agreements.map((agreement) => Number(agreement.userId)), ...credentials.keys()])]
  const { rows: userRows } = await client.query<{ id: number, username: string, email: string, first_name: string, last_name: string }>(
    `SELECT id, username, email, first_name, last_name FROM ${quoteIdentifier(schema)}.auth_user WHERE id = ANY ($1::int[]) ORDER BY id`, [userIds])
  const users = userRows.map((row) => ({ ...row, credentials: credentials.get(row.id) ?? {} }))
  return { scopes, apps, users, agreements, skipped }
}

function appRecord (row: AppRow, now: number, skipped: string[]): AppRecord | null {
  if (!(ALGORITHMS as readonly string[]).includes(row.algorithm)) {
    skipped.push(`app ${row.slug}: unknown algorithm ${JSON.stringify(row.algorithm)}`)
    return null
  }
  const app: AppRecord = {
    slug: row.slug,
    name: row.name,
    description: row.description,
    algorithm: row.algorithm as AppRecord['algorithm'],
    strategy: row.strategy as AppRecord['strategy'],
    schema: row.schema as AppRecord['schema'],
    privateKey: orNull(row.private_key),
    publicKey: orNull(row.public_key),
    requireAnAgreement: row.require_an_agreement,
    requiredScopes: row.required_scopes,
    optionalScopes: row.optional_scopes,
    agreementVersion: row.agreement_version,
    appUrl: orNull(row.app_url),
    usersPath: row.users_path,
    webhookUrl: orNull(row.webhook_url),
    redirectUrl: orNull(row.redirect_url)
  }
  const legacy = row.legacy
  // The original trusts a legacy key for two minutes after it was replaced; an older one is not worth keeping.
  if (legacy !== null && new Date(legacy.created_at).getTime() + LEGACY_KEY_LIFETIME_MS > now) {
    if ((ALGORITHMS as readonly string[]).includes(legacy.algorithm)) {
      // As a previous key (which an update replaces, where a legacy key is added): a second run changes nothing.
      app.previousKeys = [{
        algorithm: legacy.algorithm as AppRecord['algorithm'],
        privateKey: orNull(legacy.private_key),
        publicKey: orNull(legacy.public_key),
        expiresAt: new Date(legacy.created_at).getTime() + LEGACY_KEY_LIFETIME_MS
      }]
    } else {
      skipped.push(`legacy key of ${row.slug}: unknown algorithm ${JSON.stringify(legacy.algorithm)}`)
    }
  }
  try {
    checkAppRecord('import-django', app)
  } catch (error) {
    skipped.push(`app ${row.slug}: ${(error as Error).message.replace(/^Invalid record: /, '')}`)
    return null
  }
  return app
}
