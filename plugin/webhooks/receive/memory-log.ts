/**
 * The receive log in memory (MemoryStore's backend): rows in a Map, keyed as the PostgreSQL table
 * is, by (app, user, external id, type). Each write is one synchronous step (so all or nothing),
 * followed by its jobs. What a process holds in memory ends with it: use PostgresStore to keep
 * events across restarts. Done rows are kept up to `keepDone` (the oldest go first, and with them
 * the memory of their ids: a redelivery of one of those runs its handlers again), so that a
 * long-running process does not grow without bound; pending and failed rows are always kept.
 */
import { isDeepStrictEqual } from 'node:util'
import type { JobQueue } from '../jobs/job-queue.js'
import type { ReceivedStatus, ReceivedWebhook, WebhookListFilter, WebhookPurgeFilter } from '../types.js'
import type { IncomingEvent } from './events.js'
import { emptyCounts, listLimit, RECEIVE_QUEUE, type LoadedEvent, type ReceiveLog, type RunOutcome } from './receive-log.js'

interface Row {
  event: ReceivedWebhook
  version: number
}

export class MemoryReceiveLog implements ReceiveLog {
  readonly kind = 'memory'
  readonly #jobs: JobQueue
  readonly #rows = new Map<number, Row>()
  /** Event key -> row id, for the events sent with an id. */
  readonly #byKey = new Map<string, number>()
  /** Ids of done rows, oldest first. */
  readonly #done = new Set<number>()
  readonly #keepDone: number
  #nextId = 1
  #nextVersion = 1

  constructor (options: { jobs: JobQueue, keepDone?: number }) {
    this.#jobs = options.jobs
    this.#keepDone = options.keepDone ?? 100_000
  }

  async record (app: string, userId: string | null, events: readonly IncomingEvent[]): Promise<number> {
    const queued: number[] = []
    const now = new Date()
    for (const incoming of events) {
      const key = incoming.externalId === null ? null : JSON.stringify([app, userId ?? '', incoming.externalId, incoming.type])
      const existingId = key === null ? undefined : this.#byKey.get(key)
      const existing = existingId === undefined ? undefined : this.#rows.get(existingId)
      if (existing !== undefined) {
        if (isDeepStrictEqual(existing.event.data, incoming.data)) continue
        // New data: the handlers run again, from a fresh start.
        Object.assign(existing.event, {
          data: structuredClone(incoming.data), status: 'pending', attempts: 0, lastError: null, receivedAt: now, updatedAt: now, nextAttemptAt: now
        })
        existing.version = this.#nextVersion++
        this.#done.delete(existing.event.id)
        queued.push(existing.event.id)
        continue
      }
      const id = this.#nextId++
      this.#rows.set(id, {
        version: this.#nextVersion++,
        event: {
          id,
          app,
          userId,
          externalId: incoming.externalId,
          type: incoming.type,
          data: structuredClone(incoming.data),
          status: 'pending',
          attempts: 0,
          lastError: null,
          receivedAt: now,
          updatedAt: now,
          nextAttemptAt: now
        }
      })
      if (key !== null) this.#byKey.set(key, id)
      queued.push(id)
    }
    for (const id of queued) await this.#jobs.enqueue(RECEIVE_QUEUE, { id, attempt: 1 })
    if (queued.length > 0) this.#jobs.wake(RECEIVE_QUEUE)
    return queued.length
  }

  async load (id: number): Promise<LoadedEvent | null> {
    const row = this.#rows.get(id)
    return row === undefined ? null : { event: structuredClone(row.event), version: String(row.version) }
  }

  async settle (id: number, version: string, attempt: number, outcome: RunOutcome): Promise<boolean> {
    const row = this.#rows.get(id)
    if (row === undefined || String(row.version) !== version || row.event.status !== 'pending') return false
    Object.assign(row.event, {
      status: outcome.status,
      attempts: attempt,
      lastError: outcome.status === 'done' ? null : outcome.error,
      nextAttemptAt: outcome.status === 'pending' ? outcome.nextAttemptAt : null,
      updatedAt: new Date()
    })
    row.version = this.#nextVersion++
    if (outcome.status === 'done') this.#markDone(id)
    if (outcome.status === 'pending') await this.#jobs.enqueue(RECEIVE_QUEUE, { id, attempt: attempt + 1 }, { runAt: outcome.nextAttemptAt })
    return true
  }

  async list (filter: WebhookListFilter<ReceivedStatus> = {}): Promise<ReceivedWebhook[]> {
    const limit = listLimit(filter.limit)
    const found: ReceivedWebhook[] = []
    for (const row of [...this.#rows.values()].reverse()) {
      if (found.length >= limit) break
      if (matches(row.event, filter)) found.push(structuredClone(row.event))
    }
    return found
  }

  async get (id: number): Promise<ReceivedWebhook | null> {
    const row = this.#rows.get(id)
    return row === undefined ? null : structuredClone(row.event)
  }

  /** Failed rows (or the one named, failed or pending) back to pending, one more attempt now. */
  async retry (target: number | { app?: string }): Promise<number> {
    const rows = typeof target === 'number'
      ? [this.#rows.get(target)].filter((row): row is Row => row !== undefined && row.event.status !== 'done')
      : [...this.#rows.values()].filter((row) => row.event.status === 'error' && (target.app === undefined || row.event.app === target.app))
    const now = new Date()
    for (const row of rows) {
      Object.assign(row.event, { status: 'pending', nextAttemptAt: now, updatedAt: now })
      row.version = this.#nextVersion++
      await this.#jobs.enqueue(RECEIVE_QUEUE, { id: row.event.id, attempt: row.event.attempts + 1 })
    }
    if (rows.length > 0) this.#jobs.wake(RECEIVE_QUEUE)
    return rows.length
  }

  async purge (filter: WebhookPurgeFilter<ReceivedStatus>): Promise<number> {
    let purged = 0
    for (const [id, row] of this.#rows) {
      const { event } = row
      if (filter.status !== undefined && event.status !== filter.status) continue
      if (filter.app !== undefined && event.app !== filter.app) continue
      if (filter.before !== undefined && event.updatedAt.getTime() >= filter.before.getTime()) continue
      this.#forget(id, event)
      purged++
    }
    return purged
  }

  #markDone (id: number): void {
    this.#done.add(id)
    for (const oldest of this.#done) {
      if (this.#done.size <= this.#keepDone) break
      const row = this.#rows.get(oldest)
      if (row !== undefined) this.#forget(oldest, row.event)
      else this.#done.delete(oldest)
    }
  }

  #forget (id: number, event: ReceivedWebhook): void {
    this.#rows.delete(id)
    this.#done.delete(id)
    if (event.externalId !== null) this.#byKey.delete(JSON.stringify([event.app, event.userId ?? '', event.externalId, event.type]))
  }

  async counts (filter: { app?: string } = {}): Promise<Record<ReceivedStatus, number>> {
    const counts = emptyCounts()
    for (const { event } of this.#rows.values()) if (filter.app === undefined || event.app === filter.app) counts[event.status]++
    return counts
  }
}

function matches (event: ReceivedWebhook, filter: WebhookListFilter<ReceivedStatus>): boolean {
  return (filter.status === undefined || event.status === filter.status) &&
    (filter.app === undefined || event.app === filter.app) &&
    (filter.type === undefined || event.type === filter.type)
}
