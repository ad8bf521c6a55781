/**
 * What the sending half needs from an outbox, beyond the operator's view (WebhookLogAdmin): write
 * an event together with its first delivery job, read a row for one attempt, and record how that
 * attempt went together with the next job. Each pair is one unit (one transaction on PostgreSQL),
 * so a crash never leaves a pending row without a job to deliver it.
 */
import type { OutgoingStatus, OutgoingWebhook, SqlClient, WebhookLogAdmin } from '../types.js'

/** The job queue that delivers outgoing events. */
export const DELIVER_QUEUE = 'linked-services.webhook-deliver'

/** An event checked by `send` (event-input.ts), ready to be written. */
export interface NewOutgoingEvent {
  app: string
  userId: string | null
  type: string
  /** The event's data as JSON text: what is stored is exactly what will be sent. */
  dataJson: string
}

/** How one delivery attempt ended, as written on the row. */
export interface AttemptRecord {
  /** `pending`: another attempt is due at `nextAttemptAt`. */
  status: OutgoingStatus
  lastError: string | null
  lastStatusCode: number | null
  /** Required when `status` is `pending`. */
  nextAttemptAt: Date | null
}

export interface SendingOutbox extends WebhookLogAdmin<OutgoingWebhook, OutgoingStatus> {
  readonly kind: 'memory' | 'postgres'
  /**
   * Writes the event and enqueues its first delivery job. With `db` (PostgreSQL: a client inside
   * the caller's open transaction) both go through that client, so the event exists if and only
   * if the caller commits; without it, in one short transaction of the outbox's own.
   */
  write (event: NewOutgoingEvent, options?: { db?: SqlClient }): Promise<OutgoingWebhook>
  /** The row if it is still pending at attempt `attempt` (that is, `attempt - 1` attempts made), else null. */
  pendingAttempt (id: number, attempt: number): Promise<OutgoingWebhook | null>
  /**
   * Records attempt `attempt` of a row still pending at that attempt (and, when the outcome is
   * `pending`, enqueues attempt `attempt + 1` at `nextAttemptAt`, in the same unit). Returns false,
   * changing nothing, when the row moved on (another copy of the job recorded it first).
   */
  recordAttempt (id: number, attempt: number, record: AttemptRecord): Promise<boolean>
  /** When the oldest pending event was written, or null when none is pending (for `stats()`). */
  oldestPendingAt (filter?: { app?: string }): Promise<Date | null>
  /**
   * Queues again the next attempt of pending rows whose next attempt is more than `graceMs`
   * overdue (at most `limit`; their job may be lost: the engine gave up on it during a long
   * database outage), and marks them due now, in the same unit, so that the next sweep leaves
   * them alone. Returns how many. A job that still exists after all finds the row moved on.
   */
  requeueOverdue (graceMs: number, limit: number): Promise<number>
}

/** The list limit: 50 unless a positive number is given, never more than 1000. */
export function listLimit (limit: unknown): number {
  if (typeof limit !== 'number' || !Number.isFinite(limit) || limit < 1) return 50
  return Math.min(1000, Math.floor(limit))
}
