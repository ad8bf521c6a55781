/**
 * The receive log in PostgreSQL (table `webhook_log` of migration 3, in the store's schema). A
 * pending row is its own job, run by PostgresLogQueue (postgres-log-queue.ts): no job table, so
 * nothing to keep in step with the row. A request's events are ONE multi-row
 * `INSERT ... ON CONFLICT DO UPDATE`, in autocommit (a single statement is atomic: all the
 * request's events or none), and every other write is one UPDATE.
 */
import { createHash } from 'node:crypto'
import type { Pool, QueryConfig } from 'pg'
import type { ReceivedStatus, ReceivedWebhook, WebhookListFilter, WebhookPurgeFilter } from '../types.js'
import type { IncomingEvent } from './events.js'
import { buildReceiveSql, type ReceiveSql } from './postgres-sql.js'
import { emptyCounts, listLimit, type LoadedEvent, type ReceiveLog, type RunOutcome } from './receive-log.js'

export interface PostgresReceiveLogOptions {
  pool: Pool
  /** The store's schema (where migration 3 made `webhook_log`). */
  schema: string
  /** Told that rows are due now (written and committed here): the local worker looks at once. */
  wake?: () => void
  /** Whether the writes of `record` are named prepared statements (PostgresStore's option). Default true. */
  preparedStatements?: boolean
}

interface ReceivedRow {
  id: string
  app: string
  user_id: string | null
  external_id: string | null
  type: string
  data: unknown
  status: ReceivedStatus
  attempts: number
  last_error: string | null
  received_at: Date
  updated_at: Date
  next_attempt_at: Date | null
  version?: string
}

/**
 * A query of `text`, named after a hash of its text when `prepared` (pg prepares a named statement
 * once per connection; two texts never share a name, so stores of two schemas share a pool).
 */
function statement (text: string, prepared: boolean): (values: unknown[]) => QueryConfig {
  if (!prepared) return (values) => ({ text, values })
  const name = `linked_services_${createHash('sha256').update(text).digest('hex').slice(0, 24)}`
  return (values) => ({ name, text, values })
}

function fromRow (row: ReceivedRow): ReceivedWebhook {
  return {
    id: Number(row.id),
    app: row.app,
    userId: row.user_id,
    externalId: row.external_id,
    type: row.type,
    data: row.data,
    status: row.status,
    attempts: row.attempts,
    lastError: row.last_error,
    receivedAt: row.received_at,
    updatedAt: row.updated_at,
    nextAttemptAt: row.next_attempt_at
  }
}

export class PostgresReceiveLog implements ReceiveLog {
  readonly kind = 'postgres'
  readonly pool: Pool
  readonly schema: string
  readonly sql: ReceiveSql
  readonly #wake: () => void
  /** The statements of `record`, named when prepared statements are on: parsed and planned once per connection, not per event. */
  readonly #recordOne: (values: unknown[]) => QueryConfig
  readonly #record: (values: unknown[]) => QueryConfig

  constructor (options: PostgresReceiveLogOptions) {
    this.pool = options.pool
    this.schema = options.schema
    this.#wake = options.wake ?? (() => {})
    this.sql = buildReceiveSql(options.schema)
    const prepared = options.preparedStatements ?? true
    this.#recordOne = statement(this.sql.recordOne, prepared)
    this.#record = statement(this.sql.record, prepared)
  }

  async record (app: string, userId: string | null, events: readonly IncomingEvent[]): Promise<number> {
    if (events.length === 0) return 0
    // New rows and rows whose data changed come back: pending, due now.
    const [first] = events
    const { rows } = events.length === 1
      ? await this.pool.query<{ id: string }>(this.#recordOne([app, userId, first.externalId, first.type, JSON.stringify(first.data)]))
      : await this.pool.query<{ id: string }>(this.#record([
        app, userId,
        events.map((event) => event.externalId),
        events.map((event) => event.type),
        events.map((event) => JSON.stringify(event.data))
      ]))
    if (rows.length > 0) this.#wake()
    return rows.length
  }

  async load (id: number): Promise<LoadedEvent | null> {
    const { rows } = await this.pool.query<ReceivedRow>(this.sql.load, [id])
    return rows.length === 0 ? null : { event: fromRow(rows[0]), version: rows[0].version as string }
  }

  /** One UPDATE: the outcome, the next attempt's time (when pending), and the lease let go. */
  async settle (id: number, version: string, attempt: number, outcome: RunOutcome): Promise<boolean> {
    const { rowCount } = await this.pool.query(this.sql.settle, [id, version, outcome.status, attempt,
      outcome.status === 'done' ? null : outcome.error, outcome.status === 'pending' ? outcome.nextAttemptAt : null])
    return (rowCount ?? 0) > 0
  }

  async list (filter: WebhookListFilter<ReceivedStatus> = {}): Promise<ReceivedWebhook[]> {
    const { rows } = await this.pool.query<ReceivedRow>(this.sql.list,
      [filter.status ?? null, filter.app ?? null, filter.type ?? null, listLimit(filter.limit)])
    return rows.map(fromRow)
  }

  async get (id: number): Promise<ReceivedWebhook | null> {
    if (!Number.isSafeInteger(id)) return null
    const { rows } = await this.pool.query<ReceivedRow>(this.sql.get, [id])
    return rows.length === 0 ? null : fromRow(rows[0])
  }

  /** Failed rows (or the one named, failed or pending) back to pending, one more attempt now. */
  async retry (target: number | { app?: string }): Promise<number> {
    if (typeof target === 'number' && !Number.isSafeInteger(target)) return 0
    const { rowCount } = typeof target === 'number'
      ? await this.pool.query(this.sql.retryOne, [target])
      : await this.pool.query(this.sql.retryFailed, [target.app ?? null])
    const count = rowCount ?? 0
    if (count > 0) this.#wake()
    return count
  }

  async purge (filter: WebhookPurgeFilter<ReceivedStatus>): Promise<number> {
    const { rowCount } = await this.pool.query(this.sql.purge, [filter.status ?? null, filter.app ?? null, filter.before ?? null])
    return rowCount ?? 0
  }

  async counts (filter: { app?: string } = {}): Promise<Record<ReceivedStatus, number>> {
    const { rows } = await this.pool.query<{ status: ReceivedStatus, count: number }>(this.sql.counts, [filter.app ?? null])
    const counts = emptyCounts()
    for (const row of rows) counts[row.status] = row.count
    return counts
  }
}
