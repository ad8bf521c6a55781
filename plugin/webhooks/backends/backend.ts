/**
 * The backend as the webhooks plugin holds it: the shared WebhookBackend surface, with the
 * receive log's own methods (receive/receive-log.ts) on `received` and the outbox's
 * (send/outbox.ts) on `outbox`.
 */
import type { ReceiveLog } from '../receive/receive-log.js'
import type { SendingOutbox } from '../send/outbox.js'
import type { WebhookBackend } from '../types.js'

export interface LinkedWebhooksBackend extends WebhookBackend {
  readonly received: ReceiveLog
  readonly outbox: SendingOutbox
}
