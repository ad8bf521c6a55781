/**
 * What happens to webhooks, published on the channel `fastify-linked-services:webhook` (when
 * someone subscribes): each delivery attempt of an outgoing event, each handler run of a received
 * one, each request stored by the receiver. Never the event's data, never a token.
 */
import diagnosticsChannel from 'node:diagnostics_channel'

export const WEBHOOK_CHANNEL = 'fastify-linked-services:webhook'

export type WebhookOutcome =
  /** received: a request's events were stored (`count` of them). */
  | 'stored'
  /** sent: the receiver answered 2xx. */
  | 'delivered'
  /** sent: the attempt failed and another is scheduled; received: a handler threw, it will run again. */
  | 'retry'
  /** sent: given up (4xx, attempts or age exhausted, app gone). */
  | 'dead'
  /** received: the handler ran to the end. */
  | 'done'
  /** received: given up (no handler, attempts or age exhausted). */
  | 'error'

export interface WebhookEvent {
  /** This service's appName. */
  service: string
  direction: 'sent' | 'received'
  /** The peer app: the receiver of a sent event, the sender of a received one. */
  app: string
  /** The event type (`user.updated`); null for a stored batch of several types. */
  type: string | null
  /** The outbox or receive-log id; null for a stored batch. */
  id: number | null
  outcome: WebhookOutcome
  /** The attempt this was (1 for the first); 0 for `stored`. */
  attempt: number
  /** The receiver's status code (sent), when it answered. */
  statusCode: number | null
  /** Why it failed, when it did (no data, no token). */
  error: string | null
  /** Events stored (1 except for `stored`). */
  count: number
  durationMs: number
}

export const webhookChannel = diagnosticsChannel.channel(WEBHOOK_CHANNEL)

export function publishWebhookEvent (event: WebhookEvent): void {
  if (webhookChannel.hasSubscribers) webhookChannel.publish(event)
}
