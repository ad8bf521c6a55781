/**
 * fastify-linked-services: service-to-service authentication between linked apps for Fastify,
 * and webhooks between them (linkedWebhooks: a receive log and an outbox, in memory or PostgreSQL).
 * The backends that need an optional peer live in subpaths: `fastify-linked-services/postgres`
 * (PostgresStore, needs pg) and `fastify-linked-services/redis` (RedisNonceStore, needs ioredis).
 */
import plugin from './plugin.js'

export default plugin
export { plugin as linkedServices }
export { MemoryStore } from './stores/memory-store.js'
export type { MemoryStoreData } from './stores/memory-store.js'
export { MemoryNonceStore } from './stores/memory-nonce-store.js'
export type { MemoryNonceStoreOptions } from './stores/memory-nonce-store.js'
export { signRequest } from './signature/sign.js'
export type { QueryParams, SignedRequest, SignRequestOptions } from './signature/sign.js'
export * from './client/index.js'
export { linkedServicesConsent } from './consent/plugin.js'
export { default as linkedWebhooks } from './webhooks/plugin.js'
export type { WebhooksDecorator, WebhooksStats } from './webhooks/plugin.js'
export type { DeliveryOptions, LinkedWebhooksOptions, ReceiveOptions, RetryOptions as WebhookRetryOptions } from './webhooks/options.js'
export type { WebhookContext, WebhookHandler } from './webhooks/receive/processor.js'
export type { SendOptions as WebhookSendOptions } from './webhooks/send/sender.js'
export type { LinkedWebhooksBackend } from './webhooks/backends/backend.js'
export type { OutgoingStatus, OutgoingWebhook, ReceivedStatus, ReceivedWebhook, SqlClient, WebhookListFilter, WebhookLogAdmin, WebhookPurgeFilter } from './webhooks/types.js'
export { DEFAULT_RETRY_POLICY } from './webhooks/jobs/job-queue.js'
export type { RetryPolicy } from './webhooks/jobs/job-queue.js'
export { WEBHOOK_CHANNEL } from './webhooks/webhook-events.js'
export type { WebhookEvent, WebhookOutcome } from './webhooks/webhook-events.js'
export type { ConsentCatalogue, ConsentMessages, ConsentOptions } from './consent/plugin.js'
export * as errors from './errors.js'
export { SCOPE_CHANNEL } from './route/scope-events.js'
export type { ScopeEvent, ScopeScheme } from './route/scope-events.js'
export type * from '../types/index.js'
