/**
 * `fastify-linked-services/observability`: plugins that turn the scope hook's decisions (and
 * the store and client calls) into metrics, spans and an audit trail. Register them after
 * fastify-linked-services. Metrics need the optional peer `prom-client`, spans
 * `@opentelemetry/api`; the audit plugin needs nothing (PostgresAuditSink lives in
 * `fastify-linked-services/postgres`).
 */
export { linkedServicesMetrics } from './observe/metrics.js'
export type { LinkedServicesMetricsOptions, MetricsRegistry } from './observe/metrics.js'
export { linkedServicesTracing } from './observe/tracing.js'
export type { LinkedServicesTracingOptions } from './observe/tracing.js'
export { linkedServicesAudit } from './observe/audit.js'
export type { LinkedServicesAuditOptions } from './observe/audit.js'
export type { AuditEntry, AuditSink } from './stores/audit-entry.js'
export { SCOPE_CHANNEL } from './route/scope-events.js'
export type { ScopeEvent, ScopeScheme } from './route/scope-events.js'
export { STORE_CHANNEL } from './cache/call-store.js'
export type { StoreCallEvent, StoreOperation } from './cache/call-store.js'
export { WEBHOOK_CHANNEL } from './webhooks/webhook-events.js'
export type { WebhookEvent, WebhookOutcome } from './webhooks/webhook-events.js'
export { CLIENT_CHANNEL } from './client/client-events.js'
export type { ClientCallEvent } from './client/client-events.js'
