/**
 * What the receiving half needs from a receive log, beyond the operator's view (WebhookLogAdmin):
 * store the events of one request with their processing jobs (all or nothing), read a row for a
 * handler run, and record how that run went together with the next job. In memory the jobs are
 * MemoryJobs' timers; on PostgreSQL a pending row is its own job (PostgresLogQueue), so storing
 * or settling a row is all the scheduling there is.
 *
 * Versions: every change of a row (a redelivery with new data, a run recorded, `retry`) gives it
 * a new `version`. A run records its outcome only on the version it read, so a run that raced a
 * redelivery changes nothing and the job queued by the redelivery runs the handlers on the new
 * data. A job for attempt n acts only on a pending row with n - 1 attempts (stale copies do nothing).
 */
import type { ReceivedStatus, ReceivedWebhook, WebhookLogAdmin } from '../types.js'
import type { IncomingEvent } from './events.js'

/** The job queue that runs the handlers of received events. */
export const RECEIVE_QUEUE = 'linked-services.webhook-received'

export interface LoadedEvent {
  event: ReceivedWebhook
  /** Opaque; changes whenever the row changes. */
  version: string
}

/** How one handler run ended. `pending`: another attempt at `nextAttemptAt`. */
export type RunOutcome =
  | { status: 'done' }
  | { status: 'error', error: string }
  | { status: 'pending', error: string, nextAttemptAt: Date }

export interface ReceiveLog extends WebhookLogAdmin<ReceivedWebhook, ReceivedStatus> {
  readonly kind: 'memory' | 'postgres'
  /**
   * Stores the events of one request (checked and deduplicated by events.ts) for the caller
   * `app` and its user `userId`, and enqueues attempt 1 for every row that is new or whose data
   * changed, as one unit: it resolves once all of it is durable, or rejects having stored nothing.
   * A redelivery with the same data changes nothing. Returns how many rows were queued.
   */
  record (app: string, userId: string | null, events: readonly IncomingEvent[]): Promise<number>
  load (id: number): Promise<LoadedEvent | null>
  /**
   * Records run `attempt` of the row at `version` (and, when the outcome is `pending`, enqueues
   * attempt `attempt + 1`, in the same unit). False, changing nothing, when the row moved on.
   */
  settle (id: number, version: string, attempt: number, outcome: RunOutcome): Promise<boolean>
}

/** The list limit of both logs: 50 unless a positive number is given, never more than 1000. */
export { listLimit } from '../send/outbox.js'

/** Rows per status, every status present. */
export function emptyCounts (): Record<ReceivedStatus, number> {
  return { pending: 0, done: 0, error: 0 }
}
