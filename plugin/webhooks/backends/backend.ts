/**
 * The backend as the webhooks plugin holds it: the shared WebhookBackend surface, with the
 * receive log's own methods (receive/receive-log.ts) on `received` and the outbox's
 * (send/outbox.ts) on `outbox`. Two job engines may sit under it: `jobs` runs the outbox (and,
 * in memory, everything), `receiveJobs` runs the handlers of received events (on PostgreSQL the
 * receive log's own rows, PostgresLogQueue).
 */
import type { ReceiveLog } from '../receive/receive-log.js'
import type { JobQueue } from '../jobs/job-queue.js'
import type { SendingOutbox } from '../send/outbox.js'
import type { WebhookBackend } from '../types.js'

export interface LinkedWebhooksBackend extends WebhookBackend {
  readonly received: ReceiveLog
  readonly outbox: SendingOutbox
  /** The engine of the receive queue. Omitted: `jobs`. */
  readonly receiveJobs?: JobQueue
}
