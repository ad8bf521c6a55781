/**
 * The outbox of the embedded default (MemoryStore): rows in a Map, delivery jobs on the in-process
 * queue. Same policy as on PostgreSQL, minus durability: what is pending when the process exits
 * is lost, which is what "in memory" means. Delivered rows are kept up to `keepDelivered` (the
 * oldest go first) so a long-running process does not grow without bound; pending and dead rows
 * are always kept.
 */
import { WebhookEventInvalidError, WebhookOutboxUnavailableError } from '../../errors.js'
import type { JobQueue, OutgoingStatus, OutgoingWebhook, SqlClient, WebhookListFilter, WebhookPurgeFilter } from '../types.js'
import { DELIVER_QUEUE, listLimit, type AttemptRecord, type NewOutgoingEvent, type SendingOutbox } from './outbox.js'

export interface MemoryOutboxOptions {
  jobs: JobQueue
  /** Delivered rows kept for `list` / `get`. Default 10000. */
  keepDelivered?: number
}

const copy = (row: OutgoingWebhook): OutgoingWebhook => structuredClone(row)

export class MemoryOutbox implements SendingOutbox {
  readonly kind = 'memory'
  readonly #jobs: JobQueue
  readonly #keepDelivered: number
  readonly #rows = new Map<number, OutgoingWebhook>()
  /** Ids of delivered rows, oldest delivery first. */
  readonly #delivered = new Set<number>()
  #nextId = 1

  constructor (options: MemoryOutboxOptions) {
    this.#jobs = options.jobs
    this.#keepDelivered = options.keepDelivered ?? 10_000
  }

  async write (event: NewOutgoingEvent, options: { db?: SqlClient } = {}): Promise<OutgoingWebhook> {
    if (options.db !== undefined) {
      // Sending anyway would break "sent if and only if the caller committed".
      throw new WebhookEventInvalidError('db was given, but webhooks run in memory (MemoryStore): the event cannot join a database transaction; use PostgresStore, or omit db')
    }
    const now = new Date()
    const row: OutgoingWebhook = {
      id: this.#nextId++,
      app: event.app,
      userId: event.userId,
      type: event.type,
      data: JSON.parse(event.dataJson),
      status: 'pending',
      attempts: 0,
      lastError: null,
      lastStatusCode: null,
      createdAt: now,
      updatedAt: now,
      nextAttemptAt: now,
      deliveredAt: null
    }
    // The row first: the queue may run the job before enqueue returns.
    this.#rows.set(row.id, row)
    try {
      await this.#jobs.enqueue(DELIVER_QUEUE, { id: row.id, attempt: 1 })
    } catch (error) {
      this.#rows.delete(row.id)
      throw Object.assign(new WebhookOutboxUnavailableError('the in-process job queue is stopped'), { cause: error })
    }
    return copy(row)
  }

  async pendingAttempt (id: number, attempt: number): Promise<OutgoingWebhook | null> {
    const row = this.#rows.get(id)
    return row !== undefined && row.status === 'pending' && row.attempts === attempt - 1 ? copy(row) : null
  }

  async recordAttempt (id: number, attempt: number, record: AttemptRecord): Promise<boolean> {
    const row = this.#rows.get(id)
    if (row === undefined || row.status !== 'pending' || row.attempts !== attempt - 1) return false
    const now = new Date()
    Object.assign(row, {
      status: record.status,
      attempts: attempt,
      lastError: record.lastError,
      lastStatusCode: record.lastStatusCode,
      nextAttemptAt: record.status === 'pending' ? record.nextAttemptAt : null,
      updatedAt: now,
      deliveredAt: record.status === 'delivered' ? now : row.deliveredAt
    })
    if (record.status === 'pending') {
      await this.#jobs.enqueue(DELIVER_QUEUE, { id, attempt: attempt + 1 }, { runAt: record.nextAttemptAt ?? now })
    } else if (record.status === 'delivered') {
      this.#delivered.add(id)
      this.#evictDelivered()
    }
    return true
  }

  async oldestPendingAt (filter: { app?: string } = {}): Promise<Date | null> {
    let oldest: Date | null = null
    for (const row of this.#rows.values()) {
      if (row.status !== 'pending' || (filter.app !== undefined && row.app !== filter.app)) continue
      if (oldest === null || row.createdAt < oldest) oldest = row.createdAt
    }
    return oldest === null ? null : new Date(oldest)
  }

  async requeueOverdue (graceMs: number, limit: number): Promise<number> {
    const before = Date.now() - graceMs
    let count = 0
    for (const row of this.#rows.values()) {
      if (count >= limit) break
      if (row.status !== 'pending' || row.nextAttemptAt === null || row.nextAttemptAt.getTime() >= before) continue
      row.nextAttemptAt = new Date()
      await this.#jobs.enqueue(DELIVER_QUEUE, { id: row.id, attempt: row.attempts + 1 })
      count++
    }
    return count
  }

  async list (filter: WebhookListFilter<OutgoingStatus> = {}): Promise<OutgoingWebhook[]> {
    const limit = listLimit(filter.limit)
    const found: OutgoingWebhook[] = []
    // Map order is insertion (id) order: newest first is the reverse.
    for (const row of [...this.#rows.values()].reverse()) {
      if (found.length >= limit) break
      if (filter.status !== undefined && row.status !== filter.status) continue
      if (filter.app !== undefined && row.app !== filter.app) continue
      if (filter.type !== undefined && row.type !== filter.type) continue
      found.push(copy(row))
    }
    return found
  }

  async get (id: number): Promise<OutgoingWebhook | null> {
    const row = this.#rows.get(id)
    return row === undefined ? null : copy(row)
  }

  /** Dead rows back to pending, their next attempt now (an exhausted event gets one more attempt per retry). */
  async retry (target: number | { app?: string }): Promise<number> {
    let count = 0
    const now = new Date()
    for (const row of this.#rows.values()) {
      if (row.status !== 'dead') continue
      if (typeof target === 'number' ? row.id !== target : target.app !== undefined && row.app !== target.app) continue
      Object.assign(row, { status: 'pending', nextAttemptAt: now, updatedAt: now })
      await this.#jobs.enqueue(DELIVER_QUEUE, { id: row.id, attempt: row.attempts + 1 })
      count++
    }
    if (count > 0) this.#jobs.wake(DELIVER_QUEUE)
    return count
  }

  async purge (filter: WebhookPurgeFilter<OutgoingStatus>): Promise<number> {
    let count = 0
    for (const row of [...this.#rows.values()]) {
      if (filter.status !== undefined && row.status !== filter.status) continue
      if (filter.app !== undefined && row.app !== filter.app) continue
      if (filter.before !== undefined && !(row.updatedAt < filter.before)) continue
      this.#rows.delete(row.id)
      this.#delivered.delete(row.id)
      count++
    }
    return count
  }

  async counts (filter: { app?: string } = {}): Promise<Record<OutgoingStatus, number>> {
    const counts: Record<OutgoingStatus, number> = { pending: 0, delivered: 0, dead: 0 }
    for (const row of this.#rows.values()) {
      if (filter.app === undefined || row.app === filter.app) counts[row.status]++
    }
    return counts
  }

  #evictDelivered (): void {
    for (const id of this.#delivered) {
      if (this.#delivered.size <= this.#keepDelivered) break
      this.#delivered.delete(id)
      this.#rows.delete(id)
    }
  }
}
