/**
 * `linkedServicesAudit`: hands every decision of this service's scope hooks to an AuditSink
 * (PostgresAuditSink from `fastify-linked-services/postgres`, or any object with `record()`).
 * A sink that throws is ignored: auditing never fails a request.
 */
import type { FastifyInstance } from 'fastify'
import fp from 'fastify-plugin'
import type { AuditEntry, AuditSink } from '../stores/audit-entry.js'
import type { ScopeEvent } from '../route/scope-events.js'
import { objectWith, pluginOptions } from '../option-checks.js'
import { linkedServicesStats, subscribeScope } from './subscribe.js'

export interface LinkedServicesAuditOptions {
  sink: AuditSink
  /** Close the sink when the Fastify instance closes (default true). */
  closeSink?: boolean
}

const PLUGIN = 'linkedServicesAudit'

function auditEntry (event: ScopeEvent): AuditEntry {
  return {
    at: new Date(),
    service: event.service,
    method: event.method,
    route: event.route,
    app: event.app,
    scheme: event.scheme,
    user: event.user,
    outcome: event.outcome,
    statusCode: event.statusCode,
    missingScopes: [...event.missingScopes],
    durationMs: event.durationMs
  }
}

async function registerLinkedServicesAudit (fastify: FastifyInstance, rawOptions: LinkedServicesAuditOptions): Promise<void> {
  const options = pluginOptions(rawOptions, PLUGIN, ['sink', 'closeSink'])
  objectWith(options.sink, 'sink', ['record'])
  const sink = options.sink as AuditSink
  const stats = linkedServicesStats(fastify, PLUGIN)
  const unsubscribe = subscribeScope(stats.service, { end: (event) => sink.record(auditEntry(event)) })
  fastify.addHook('onClose', async () => {
    unsubscribe()
    if (options.closeSink !== false) await sink.close?.()
  })
}

export const linkedServicesAudit = fp(registerLinkedServicesAudit, { name: 'fastify-linked-services-audit', fastify: '5.x', dependencies: ['fastify-linked-services'] })
