/**
 * `linkedServicesTracing`: OpenTelemetry spans for the scope hook's decisions and the store
 * calls, through `@opentelemetry/api` (an optional peer; no SDK here: spans go wherever the
 * application's registered tracer provider sends them, nowhere without one). A span starts in
 * the active context, so it is a child of the request's span when the application traces
 * requests.
 */
import type { FastifyInstance } from 'fastify'
import fp from 'fastify-plugin'
import type { Span, TracerProvider } from '@opentelemetry/api'
import { loadOpenTelemetry } from '../lazy-modules.js'
import { objectWith, pluginOptions } from '../option-checks.js'
import { linkedServicesStats, subscribeScope, subscribeStore, type Unsubscribe } from './subscribe.js'

export interface LinkedServicesTracingOptions {
  /** An OpenTelemetry TracerProvider (default: the global one of @opentelemetry/api). */
  tracerProvider?: { getTracer: (name: string, version?: string) => unknown }
}

const PLUGIN = 'linkedServicesTracing'
const TRACER = 'fastify-linked-services'

async function registerLinkedServicesTracing (fastify: FastifyInstance, rawOptions: LinkedServicesTracingOptions): Promise<void> {
  const options = pluginOptions(rawOptions, PLUGIN, ['tracerProvider'])
  if (options.tracerProvider !== undefined) objectWith(options.tracerProvider, 'tracerProvider', ['getTracer'])
  const stats = linkedServicesStats(fastify, PLUGIN)
  const api = loadOpenTelemetry()
  const provider = (options.tracerProvider as TracerProvider | undefined) ?? api.trace.getTracerProvider()
  const tracer = provider.getTracer(TRACER)
  // One span per event object (the channel hands the same object to start and end).
  const spans = new WeakMap<object, Span>()
  const end = (event: object, failed: boolean, attributes: Record<string, string | number>): void => {
    const span = spans.get(event)
    if (span === undefined) return
    spans.delete(event)
    span.setAttributes(attributes)
    if (failed) span.setStatus({ code: api.SpanStatusCode.ERROR })
    span.end()
  }

  const unsubscribe: Unsubscribe[] = [
    subscribeScope(stats.service, {
      start (event) {
        spans.set(event, tracer.startSpan('linked-services scope', {
          attributes: { 'http.request.method': event.method, 'http.route': event.route, 'linked_services.service': event.service }
        }))
      },
      end (event) {
        end(event, event.outcome !== 'granted', {
          'linked_services.app': event.app ?? 'unknown',
          'linked_services.scheme': event.scheme ?? 'none',
          'linked_services.outcome': event.outcome,
          'http.response.status_code': event.statusCode
        })
      }
    }),
    subscribeStore({
      start (event) {
        spans.set(event, tracer.startSpan(`linked-services store ${event.operation}`, { attributes: { 'linked_services.store.operation': event.operation } }))
      },
      end (event) {
        end(event, event.error !== undefined, { 'linked_services.store.result': event.error === undefined ? 'ok' : 'error' })
      }
    })
  ]
  fastify.addHook('onClose', async () => {
    for (const stop of unsubscribe) stop()
  })
}

export const linkedServicesTracing = fp(registerLinkedServicesTracing, { name: 'fastify-linked-services-tracing', fastify: '5.x', dependencies: ['fastify-linked-services'] })
