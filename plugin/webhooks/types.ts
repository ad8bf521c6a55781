/**
 * The records of the two webhook logs and the backend interface that holds them. One backend per
 * store kind: in memory (MemoryStore, in-process delivery) and PostgreSQL (tables of migration 3,
 * jobs on pg-boss). `receive/` writes and processes the receive log; `send/` writes the outbox and
 * delivers it; the CLI and `fastify.webhooks` read both through `WebhookLogAdmin`.
 */
import type { JobQueue, SqlClient } from './jobs/job-queue.js'

/** A received event's processing state: handlers not run yet (or to be retried), done, or failed for good. */
export type ReceivedStatus = 'pending' | 'done' | 'error'
/** An outgoing event's delivery state: not delivered yet (or to be retried), delivered, or given up. */
export type OutgoingStatus = 'pending' | 'delivered' | 'dead'

/** One row of the receive log: what a linked app told this service. */
export interface ReceivedWebhook {
  /** This log's own id (integer). */
  id: number
  /** The app that sent it (the verified caller). */
  app: string
  /** The caller-side user id (`token.sub`), or null for an app-level event. */
  userId: string | null
  /** The sender's event id, as text (`"42"`); null for events sent without one. */
  externalId: string | null
  type: string
  data: unknown
  status: ReceivedStatus
  /** Handler runs so far. */
  attempts: number
  lastError: string | null
  receivedAt: Date
  updatedAt: Date
  /** When a handler run is next due (pending events). */
  nextAttemptAt: Date | null
}

/** One row of the outbox: what this service tells a linked app. */
export interface OutgoingWebhook {
  /** The event id sent as `id` (an integer, as the original's receiver stores it). */
  id: number
  /** The receiving app. */
  app: string
  /** The local user the event is about (the JWT `sub`), or null for an app-level event. */
  userId: string | null
  type: string
  data: unknown
  status: OutgoingStatus
  /** Delivery attempts so far. */
  attempts: number
  /** Why the last attempt failed (or why the event is dead). */
  lastError: string | null
  /** The receiver's status code on the last attempt, if it answered. */
  lastStatusCode: number | null
  createdAt: Date
  updatedAt: Date
  nextAttemptAt: Date | null
  deliveredAt: Date | null
}

export interface WebhookListFilter<S extends string> {
  status?: S
  app?: string
  type?: string
  /** At most this many, newest first. Default 50. */
  limit?: number
}

export interface WebhookPurgeFilter<S extends string> {
  status?: S
  app?: string
  /** Only rows last updated before this instant. */
  before?: Date
}

/** What an operator does with one log (the CLI and `fastify.webhooks.received` / `.outbox`). */
export interface WebhookLogAdmin<W, S extends string> {
  list (filter?: WebhookListFilter<S>): Promise<W[]>
  get (id: number): Promise<W | null>
  /** Puts failed rows (or the one named) back to pending and schedules them now; returns how many. */
  retry (target: number | { app?: string }): Promise<number>
  /** Deletes rows matching the filter; returns how many. */
  purge (filter: WebhookPurgeFilter<S>): Promise<number>
  /** Rows per status. */
  counts (filter?: { app?: string }): Promise<Record<S, number>>
}

/**
 * Where a webhook backend keeps its rows and runs its jobs. `receive/` and `send/` add the
 * methods they need to the objects below; the admin views are the shared surface.
 */
export interface WebhookBackend {
  readonly kind: 'memory' | 'postgres'
  readonly jobs: JobQueue
  readonly received: WebhookLogAdmin<ReceivedWebhook, ReceivedStatus>
  readonly outbox: WebhookLogAdmin<OutgoingWebhook, OutgoingStatus>
  /** Creates tables / job schema when needed (PostgreSQL: checks migration 3 ran). */
  start (): Promise<void>
  stop (): Promise<void>
}

export type { JobQueue, SqlClient }
