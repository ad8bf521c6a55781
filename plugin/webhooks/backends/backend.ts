/**
 * The backend as the webhooks plugin holds it: the shared WebhookBackend surface, with the
 * receive log's own methods (receive/receive-log.ts) on `received`.
 */
import type { JobQueue } from '../jobs/job-queue.js'
import type { ReceiveLog } from '../receive/receive-log.js'

export interface ReceivingBackend {
  readonly kind: 'memory' | 'postgres'
  readonly jobs: JobQueue
  readonly received: ReceiveLog
  start (): Promise<void>
  stop (): Promise<void>
}
