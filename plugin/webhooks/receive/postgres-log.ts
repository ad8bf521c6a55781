/**
 * The receive log in PostgreSQL (table `webhook_log` of migration 3, in the store's schema). A
 * request's events are one multi-row `INSERT ... ON CONFLICT DO UPDATE` and their processing jobs
 * are enqueued on the same client, in the same transaction: the events and their jobs exist
 * together once COMMIT returns, or not at all.
 */
import type { Pool, PoolClient } from 'pg'
import type { JobQueue, SqlClient } from '../jobs/job-queue.js'
import type { ReceivedStatus, ReceivedWebhook, WebhookListFilter, WebhookPurgeFilter } from '../types.js'
import type { IncomingEvent } from './events.js'
import { buildReceiveSql, type ReceiveSql } from './postgres-sql.js'
import { emptyCounts, listLimit, RECEIVE_QUEUE, type LoadedEvent, type ReceiveLog, type RunOutcome } from './receive-log.js'

export interface PostgresReceiveLogOptions {
  pool: Pool
  /** The store's schema (where migration 3 made `webhook_log`). */
  schema: string
  jobs: JobQueue
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
  readonly #jobs: JobQueue
  readonly #sql: ReceiveSql

  constructor (options: PostgresReceiveLogOptions) {
    this.pool = options.pool
    this.schema = options.schema
    this.#jobs = options.jobs
    this.#sql = buildReceiveSql(options.schema)
  }

  async record (app: string, userId: string | null, events: readonly IncomingEvent[]): Promise<number> {
    if (events.length === 0) return 0
    const ids = await this.#transaction(async (client) => {
      const { rows } = await client.query<{ id: string }>(this.#sql.record, [
        app, userId,
        events.map((event) => event.externalId),
        events.map((event) => event.type),
        events.map((event) => JSON.stringify(event.data))
      ])
      for (const row of rows) await this.#jobs.enqueue(RECEIVE_QUEUE, { id: Number(row.id), attempt: 1 }, { db: client as SqlClient })
      return rows.length
    })
    if (ids > 0) this.#jobs.wake(RECEIVE_QUEUE)
    return ids
  }

  async load (id: number): Promise<LoadedEvent | null> {
    const { rows } = await this.pool.query<ReceivedRow>(this.#sql.load, [id])
    return rows.length === 0 ? null : { event: fromRow(rows[0]), version: rows[0].version as string }
  }

  async settle (id: number, version: string, attempt: number, outcome: RunOutcome): Promise<boolean> {
    const values = [id, version, outcome.status, attempt, outcome.status === 'done' ? null : outcome.error,
      outcome.status === 'pending' ? outcome.nextAttemptAt : null]
    if (outcome.status !== 'pending') return ((await this.pool.query(this.#sql.settle, values)).rowCount ?? 0) > 0
    return await this.#transaction(async (client) => {
      const { rowCount } = await client.query(this.#sql.settle, values)
      if ((rowCount ?? 0) === 0) return false
      await this.#jobs.enqueue(RECEIVE_QUEUE, { id, attempt: attempt + 1 }, { runAt: outcome.nextAttemptAt, db: client as SqlClient })
      return true
    })
  }

  async list (filter: WebhookListFilter<ReceivedStatus> = {}): Promise<ReceivedWebhook[]> {
    const { rows } = await this.pool.query<ReceivedRow>(this.#sql.list,
      [filter.status ?? null, filter.app ?? null, filter.type ?? null, listLimit(filter.limit)])
    return rows.map(fromRow)
  }

  async get (id: number): Promise<ReceivedWebhook | null> {
    if (!Number.isSafeInteger(id)) return null
    const { rows } = await this.pool.query<ReceivedRow>(this.#sql.get, [id])
    return rows.length === 0 ? null : fromRow(rows[0])
  }

  /** Failed rows (or the one named, failed or pending) back to pending, one more attempt now. */
  async retry (target: number | { app?: string }): Promise<number> {
    if (typeof target === 'number' && !Number.isSafeInteger(target)) return 0
    const count = await this.#transaction(async (client) => {
      const { rows } = typeof target === 'number'
        ? await client.query<{ id: string, attempts: number }>(this.#sql.retryOne, [target])
        : await client.query<{ id: string, attempts: number }>(this.#sql.retryFailed, [target.app ?? null])
      for (const row of rows) await this.#jobs.enqueue(RECEIVE_QUEUE, { id: Number(row.id), attempt: row.attempts + 1 }, { db: client as SqlClient })
      return rows.length
    })
    if (count > 0) this.#jobs.wake(RECEIVE_QUEUE)
    return count
  }

  async purge (filter: WebhookPurgeFilter<ReceivedStatus>): Promise<number> {
    const { rowCount } = await this.pool.query(this.#sql.purge, [filter.status ?? null, filter.app ?? null, filter.before ?? null])
    return rowCount ?? 0
  }

  async counts (filter: { app?: string } = {}): Promise<Record<ReceivedStatus, number>> {
    const { rows } = await this.pool.query<{ status: ReceivedStatus, count: number }>(this.#sql.counts, [filter.app ?? null])
    const counts = emptyCounts()
    for (const row of rows) counts[row.status] = row.count
    return counts
  }

  async #transaction<T> (work: (client: PoolClient) => Promise<T>): Promise<T> {
    const client = await this.pool.connect()
    let broken = false
    try {
      await client.query('BEGIN')
      const result = await work(client)
      await client.query('COMMIT')
      return result
    } catch (error) {
      await client.query('ROLLBACK').catch(() => { broken = true })
      throw error
    } finally {
      client.release(broken)
    }
  }
}
