/**
 * The outbox on PostgreSQL: rows in `<schema>.webhook_outbox` (migration 3), delivery jobs on the
 * JobQueue (pg-boss, same database). A row and the job that delivers it are written in one
 * transaction — the caller's when `db` is given — so an event exists if and only if that
 * transaction commits, and a pending row always has a job.
 *
 * PostgreSQL down: `write` rejects with WebhookOutboxUnavailableError (503) instead of buffering in
 * memory, since a buffer could hold an event whose transaction never committed, or lose one that
 * did when the process exits. The caller sees the failure and retries its own work.
 */
import type { Pool, PoolClient } from 'pg'
import { WebhookOutboxUnavailableError } from '../../errors.js'
import { quoteIdentifier } from '../../stores/postgres/identifiers.js'
import type { JobQueue, OutgoingStatus, OutgoingWebhook, SqlClient, WebhookListFilter, WebhookPurgeFilter } from '../types.js'
import { DELIVER_QUEUE, listLimit, type AttemptRecord, type NewOutgoingEvent, type SendingOutbox } from './outbox.js'
import { inTransaction } from '../../stores/postgres/transaction.js'

export interface PostgresOutboxOptions {
  /** The store's pool (PostgresStore.pool). */
  pool: Pick<Pool, 'query' | 'connect'>
  /** The store's schema (PostgresStore.schema), where migration 3 created webhook_outbox. */
  schema: string
  jobs: JobQueue
}

interface OutboxRow {
  id: string
  app: string
  user_id: string | null
  type: string
  data: unknown
  status: OutgoingStatus
  attempts: number
  last_error: string | null
  last_status_code: number | null
  next_attempt_at: Date | null
  delivered_at: Date | null
  created_at: Date
  updated_at: Date
}

function fromRow (row: OutboxRow): OutgoingWebhook {
  return {
    id: Number(row.id),
    app: row.app,
    userId: row.user_id,
    type: row.type,
    data: row.data,
    status: row.status,
    attempts: row.attempts,
    lastError: row.last_error,
    lastStatusCode: row.last_status_code,
    createdAt: row.created_at,
    updatedAt: row.updated_at,
    nextAttemptAt: row.next_attempt_at,
    deliveredAt: row.delivered_at
  }
}

/** The same error for every way the database can fail a write; what it said stays in `cause`. */
function unavailable (error: unknown): Error {
  const code = (error as { code?: unknown } | null)?.code
  const why = typeof code === 'string' && /^[0-9A-Z]{5}$/.test(code) ? `PostgreSQL error ${code}` : 'PostgreSQL or the job queue did not answer'
  return Object.assign(new WebhookOutboxUnavailableError(why), { cause: error })
}

export class PostgresOutbox implements SendingOutbox {
  readonly kind = 'postgres'
  readonly #pool: PostgresOutboxOptions['pool']
  readonly #jobs: JobQueue
  readonly #table: string

  constructor (options: PostgresOutboxOptions) {
    this.#pool = options.pool
    this.#jobs = options.jobs
    this.#table = `${quoteIdentifier(options.schema)}.webhook_outbox`
  }

  async write (event: NewOutgoingEvent, options: { db?: SqlClient } = {}): Promise<OutgoingWebhook> {
    const insertAndEnqueue = async (db: SqlClient): Promise<OutgoingWebhook> => {
      const { rows } = await db.query(
        `INSERT INTO ${this.#table} (app, user_id, type, data, next_attempt_at) VALUES ($1, $2, $3, $4::jsonb, now()) RETURNING *`,
        [event.app, event.userId, event.type, event.dataJson])
      const row = fromRow(rows[0] as OutboxRow)
      await this.#jobs.enqueue(DELIVER_QUEUE, { id: row.id, attempt: 1 }, { db })
      return row
    }
    try {
      return options.db === undefined ? await this.#transaction(insertAndEnqueue) : await insertAndEnqueue(options.db)
    } catch (error) {
      throw unavailable(error)
    }
  }

  async pendingAttempt (id: number, attempt: number): Promise<OutgoingWebhook | null> {
    const { rows } = await this.#pool.query(`SELECT * FROM ${this.#table} WHERE id = $1 AND status = 'pending' AND attempts = $2`, [id, attempt - 1])
    return rows.length === 0 ? null : fromRow(rows[0] as OutboxRow)
  }

  async recordAttempt (id: number, attempt: number, record: AttemptRecord): Promise<boolean> {
    const update = async (db: SqlClient): Promise<boolean> => {
      const { rows } = await db.query(
        `UPDATE ${this.#table} SET status = $3, attempts = $2, last_error = $4, last_status_code = $5, next_attempt_at = $6,
           delivered_at = CASE WHEN $3 = 'delivered' THEN now() ELSE delivered_at END, updated_at = now()
         WHERE id = $1 AND status = 'pending' AND attempts = $2 - 1 RETURNING id`,
        [id, attempt, record.status, record.lastError, record.lastStatusCode, record.status === 'pending' ? record.nextAttemptAt : null])
      if (rows.length === 0) return false
      if (record.status === 'pending') {
        await this.#jobs.enqueue(DELIVER_QUEUE, { id, attempt: attempt + 1 }, { runAt: record.nextAttemptAt ?? new Date(), db })
      }
      return true
    }
    // A final outcome is one statement; a retry is a statement and a job, kept together.
    return record.status === 'pending' ? await this.#transaction(update) : await update(this.#pool)
  }

  async oldestPendingAt (filter: { app?: string } = {}): Promise<Date | null> {
    const { rows } = await this.#pool.query(
      `SELECT min(created_at) AS oldest FROM ${this.#table} WHERE status = 'pending' AND ($1::text IS NULL OR app = $1)`, [filter.app ?? null])
    return (rows[0]?.oldest as Date | null | undefined) ?? null
  }

  async requeueOverdue (graceMs: number, limit: number): Promise<number> {
    // SKIP LOCKED: instances sweeping at once requeue each row once.
    return await this.#transaction(async (db) => {
      const { rows } = await db.query(
        `UPDATE ${this.#table} SET next_attempt_at = now(), updated_at = now()
         WHERE id IN (SELECT id FROM ${this.#table} WHERE status = 'pending' AND next_attempt_at < now() - $1 * interval '1 millisecond'
                      ORDER BY next_attempt_at LIMIT $2 FOR UPDATE SKIP LOCKED)
         RETURNING id, attempts`, [graceMs, limit])
      for (const row of rows as Array<{ id: string, attempts: number }>) {
        await this.#jobs.enqueue(DELIVER_QUEUE, { id: Number(row.id), attempt: row.attempts + 1 }, { db })
      }
      return rows.length
    })
  }

  async list (filter: WebhookListFilter<OutgoingStatus> = {}): Promise<OutgoingWebhook[]> {
    const { rows } = await this.#pool.query(
      `SELECT * FROM ${this.#table}
       WHERE ($1::text IS NULL OR status = $1) AND ($2::text IS NULL OR app = $2) AND ($3::text IS NULL OR type = $3)
       ORDER BY id DESC LIMIT $4`,
      [filter.status ?? null, filter.app ?? null, filter.type ?? null, listLimit(filter.limit)])
    return rows.map((row) => fromRow(row as OutboxRow))
  }

  async get (id: number): Promise<OutgoingWebhook | null> {
    if (!Number.isSafeInteger(id)) return null
    const { rows } = await this.#pool.query(`SELECT * FROM ${this.#table} WHERE id = $1`, [id])
    return rows.length === 0 ? null : fromRow(rows[0] as OutboxRow)
  }

  /** Dead rows back to pending, their next attempt now (an exhausted event gets one more attempt per retry). */
  async retry (target: number | { app?: string }): Promise<number> {
    if (typeof target === 'number' && !Number.isSafeInteger(target)) return 0
    const count = await this.#transaction(async (db) => {
      const { rows } = await db.query(
        `UPDATE ${this.#table} SET status = 'pending', next_attempt_at = now(), updated_at = now()
         WHERE status = 'dead' AND ($1::bigint IS NULL OR id = $1) AND ($2::text IS NULL OR app = $2)
         RETURNING id, attempts`,
        typeof target === 'number' ? [target, null] : [null, target.app ?? null])
      for (const row of rows as Array<{ id: string, attempts: number }>) {
        await this.#jobs.enqueue(DELIVER_QUEUE, { id: Number(row.id), attempt: row.attempts + 1 }, { db })
      }
      return rows.length
    })
    if (count > 0) this.#jobs.wake(DELIVER_QUEUE)
    return count
  }

  async purge (filter: WebhookPurgeFilter<OutgoingStatus>): Promise<number> {
    const { rowCount } = await this.#pool.query(
      `DELETE FROM ${this.#table}
       WHERE ($1::text IS NULL OR status = $1) AND ($2::text IS NULL OR app = $2) AND ($3::timestamptz IS NULL OR updated_at < $3)`,
      [filter.status ?? null, filter.app ?? null, filter.before ?? null])
    return rowCount ?? 0
  }

  async counts (filter: { app?: string } = {}): Promise<Record<OutgoingStatus, number>> {
    const { rows } = await this.#pool.query(
      `SELECT status, count(*)::int AS n FROM ${this.#table} WHERE ($1::text IS NULL OR app = $1) GROUP BY status`, [filter.app ?? null])
    const counts: Record<OutgoingStatus, number> = { pending: 0, delivered: 0, dead: 0 }
    for (const row of rows as Array<{ status: OutgoingStatus, n: number }>) counts[row.status] = row.n
    return counts
  }

  async #transaction<T> (work: (client: PoolClient) => Promise<T>): Promise<T> {
    return await inTransaction(this.#pool, work)
  }
}
