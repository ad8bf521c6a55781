/**
 * Reading the audit trail (`linked-services audit tail|query`): filters travel as bound
 * parameters; the schema is a checked identifier.
 */
import type { Pool } from 'pg'
import { quoteIdentifier } from './identifiers.js'

export interface AuditFilter {
  app?: string
  outcome?: string
  since?: Date
  /** Only rows after this id (for following the trail). */
  afterId?: number
  limit: number
}

export interface AuditRow {
  id: number
  at: Date
  service: string
  method: string
  route: string
  app: string | null
  scheme: string | null
  user: string | null
  outcome: string
  statusCode: number
  missingScopes: string[]
  durationMs: number
}

/** The newest `limit` rows that match, oldest first. */
export async function queryAudit (pool: Pick<Pool, 'query'>, schema: string, filter: AuditFilter): Promise<AuditRow[]> {
  const where: string[] = []
  const values: unknown[] = []
  const add = (sql: string, value: unknown): void => {
    values.push(value)
    where.push(sql.replace('?', `$${values.length}`))
  }
  if (filter.app !== undefined) add(filter.app === 'unknown' ? 'app IS NULL OR app = ?' : 'app = ?', filter.app)
  if (filter.outcome !== undefined) {
    if (filter.outcome === 'refused') where.push("outcome <> 'granted'")
    else add('outcome = ?', filter.outcome)
  }
  if (filter.since !== undefined) add('at >= ?', filter.since)
  if (filter.afterId !== undefined) add('id > ?', filter.afterId)
  values.push(filter.limit)
  const sql = `SELECT id, at, service, method, route, app, scheme, user_sub, outcome, status_code, missing_scopes, duration_ms
    FROM ${quoteIdentifier(schema)}.audit_events ${where.length === 0 ? '' : `WHERE ${where.map((w) => `(${w})`).join(' AND ')}`}
    ORDER BY id DESC LIMIT $${values.length}`
  const { rows } = await pool.query(sql, values)
  return (rows as Array<Record<string, unknown>>).reverse().map((row) => ({
    id: Number(row.id),
    at: row.at as Date,
    service: row.service as string,
    method: row.method as string,
    route: row.route as string,
    app: row.app as string | null,
    scheme: row.scheme as string | null,
    user: row.user_sub as string | null,
    outcome: row.outcome as string,
    statusCode: row.status_code as number,
    missingScopes: row.missing_scopes as string[],
    durationMs: Number(row.duration_ms)
  }))
}
