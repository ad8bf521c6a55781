/**
 * `linkedServicesMetrics`: Prometheus metrics through prom-client (an optional peer, loaded only
 * when this plugin is registered), fed by the plugin's diagnostics channels and counters. Every
 * name starts with `linked_services_`; the calling app is the label `app`, bounded (`maxApps`
 * names, then `other`; an app the store does not know is `unknown`).
 */
import type { FastifyInstance } from 'fastify'
import fp from 'fastify-plugin'
import type { Registry } from 'prom-client'
import { InvalidOptionError } from '../errors.js'
import { loadPromClient } from '../lazy-modules.js'
import { integerOption, LabelLimiter, objectWith, pluginOptions } from '../option-checks.js'
import type { WebhooksStats } from '../webhooks/plugin.js'
import { linkedServicesStats, subscribeClient, subscribeScope, subscribeStore, subscribeWebhooks, type Unsubscribe } from './subscribe.js'

/** A prom-client Registry (typed by what the plugin uses: the types need no prom-client installed). */
export interface MetricsRegistry {
  getSingleMetric: (name: string) => unknown
  removeSingleMetric: (name: string) => void
  registerMetric: (metric: never) => void
  metrics: () => Promise<string>
}

export interface LinkedServicesMetricsOptions {
  /** Where the metrics are registered (default: prom-client's global `register`). */
  registry?: MetricsRegistry
  /** How many distinct app (and peer) names become label values; later ones are `other`. Default 100. */
  maxApps?: number
}

const PLUGIN = 'linkedServicesMetrics'
/** Decision times are microseconds to a store round trip: buckets from 50 us to 1 s. */
const DURATION_BUCKETS = [0.00005, 0.0001, 0.00025, 0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 1]

async function registerLinkedServicesMetrics (fastify: FastifyInstance, rawOptions: LinkedServicesMetricsOptions): Promise<void> {
  const options = pluginOptions(rawOptions, PLUGIN, ['registry', 'maxApps'])
  if (options.registry !== undefined) objectWith(options.registry, 'registry', ['registerMetric', 'getSingleMetric', 'removeSingleMetric', 'metrics'])
  const maxApps = integerOption(options.maxApps, 'maxApps', 100, 1, 100_000)
  const stats = linkedServicesStats(fastify, PLUGIN)
  const prom = loadPromClient()
  const registry = (options.registry as Registry | undefined) ?? prom.register
  const registers = [registry]
  const apps = new LabelLimiter(maxApps)
  const peers = new LabelLimiter(maxApps)
  const names: string[] = []
  const named = <T>(name: string, make: () => T): T => {
    if (registry.getSingleMetric(name) !== undefined) {
      throw new InvalidOptionError(`${PLUGIN}: ${name} is already registered in this registry: give each instance a registry of its own`)
    }
    names.push(name)
    return make()
  }

  const calls = named('linked_services_calls_total', () => new prom.Counter({
    name: 'linked_services_calls_total', help: 'Scope hook decisions, by calling app, scheme and outcome (granted or the error code)', labelNames: ['app', 'scheme', 'outcome'], registers
  }))
  const duration = named('linked_services_auth_duration_seconds', () => new prom.Histogram({
    name: 'linked_services_auth_duration_seconds', help: 'Time the scope hook took to decide', labelNames: ['scheme', 'result'], buckets: DURATION_BUCKETS, registers
  }))
  const storeCalls = named('linked_services_store_calls_total', () => new prom.Counter({
    name: 'linked_services_store_calls_total', help: 'Store and nonce store calls, by operation', labelNames: ['operation'], registers
  }))
  const storeErrors = named('linked_services_store_errors_total', () => new prom.Counter({
    name: 'linked_services_store_errors_total', help: 'Store and nonce store calls that failed or timed out, by operation', labelNames: ['operation'], registers
  }))
  const clientCalls = named('linked_services_client_calls_total', () => new prom.Counter({
    name: 'linked_services_client_calls_total', help: 'Outgoing calls of createLinkedClient, by peer app and status (error: no response)', labelNames: ['peer', 'status'], registers
  }))
  let counted = { hits: 0, misses: 0 }
  named('linked_services_cache_lookups_total', () => new prom.Counter({
    name: 'linked_services_cache_lookups_total',
    help: 'App lookups of the scope hook, answered from the cache (hit) or the store (miss)',
    labelNames: ['result'],
    registers,
    collect () {
      const { hits, misses } = stats.lookups
      this.inc({ result: 'hit' }, hits - counted.hits)
      this.inc({ result: 'miss' }, misses - counted.misses)
      counted = { hits, misses }
    }
  }))
  named('linked_services_cache_hit_ratio', () => new prom.Gauge({
    name: 'linked_services_cache_hit_ratio',
    help: 'Share of app lookups answered from the cache since start',
    registers,
    collect () {
      const { hits, misses } = stats.lookups
      this.set(hits + misses === 0 ? 0 : hits / (hits + misses))
    }
  }))
  named('linked_services_nonce_store_size', () => new prom.Gauge({
    name: 'linked_services_nonce_store_size',
    help: 'Nonces held by the nonce store (stores that can tell: MemoryNonceStore)',
    registers,
    collect () {
      const size = (stats.nonceStore as { size?: unknown }).size
      if (typeof size === 'number') this.set(size)
    }
  }))

  const webhookEvents = named('linked_services_webhook_events_total', () => new prom.Counter({
    name: 'linked_services_webhook_events_total',
    help: 'Webhook delivery attempts (sent: delivered, retry, dead) and handler runs (received: done, retry, error), by peer app; received events stored (stored)',
    labelNames: ['direction', 'app', 'outcome'],
    registers
  }))
  // Read from the logs when scraped (linkedWebhooks registered): what is waiting, and for how long.
  // A scrape while the database is down keeps the last figures instead of failing the scrape.
  // One read per scrape for the three gauges (they are collected one after the other).
  let lastRead: { at: number, stats: Promise<WebhooksStats | null> } | null = null
  const webhookStats = async (): Promise<WebhooksStats | null> => {
    const webhooks = (fastify as unknown as { webhooks?: { stats?: () => Promise<WebhooksStats> } }).webhooks
    if (typeof webhooks?.stats !== 'function') return null
    if (lastRead === null || Date.now() - lastRead.at > 1000) {
      lastRead = { at: Date.now(), stats: webhooks.stats().catch(() => null) }
    }
    return await lastRead.stats
  }
  /** A gauge of one log's rows per status (every status is in its counts, zeros included). */
  const statusGauge = (name: string, help: string, counts: (stats: WebhooksStats) => Record<string, number>): void => {
    named(name, () => new prom.Gauge({
      name,
      help,
      labelNames: ['status'],
      registers,
      async collect () {
        const current = await webhookStats()
        if (current === null) return
        for (const [status, count] of Object.entries(counts(current))) this.set({ status }, count)
      }
    }))
  }
  statusGauge('linked_services_webhook_outbox_events', 'Events in the webhook outbox, by status (pending: not delivered yet; dead: given up)',
    ({ outbox: { pending, delivered, dead } }) => ({ pending, delivered, dead }))
  named('linked_services_webhook_outbox_oldest_pending_seconds', () => new prom.Gauge({
    name: 'linked_services_webhook_outbox_oldest_pending_seconds',
    help: 'How long the oldest undelivered event of the outbox has waited (0: none waiting)',
    registers,
    async collect () {
      const current = await webhookStats()
      if (current !== null) this.set((current.outbox.oldestPendingAgeMs ?? 0) / 1000)
    }
  }))
  statusGauge('linked_services_webhook_received_events', 'Events in the webhook receive log, by status (pending: handlers not run yet; error: given up)',
    (current) => current.received)

  const unsubscribe: Unsubscribe[] = [
    subscribeScope(stats.service, {
      end (event) {
        const scheme = event.scheme ?? 'none'
        calls.inc({ app: apps.label(event.app), scheme, outcome: event.outcome })
        duration.observe({ scheme, result: event.outcome === 'granted' ? 'granted' : 'refused' }, event.durationMs / 1000)
      }
    }),
    subscribeStore({
      end (event) {
        storeCalls.inc({ operation: event.operation })
        if (event.error !== undefined) storeErrors.inc({ operation: event.operation })
      }
    }),
    subscribeClient(stats.service, (event) => {
      clientCalls.inc({ peer: peers.label(event.peer), status: event.status === null ? 'error' : String(event.status) })
    }),
    subscribeWebhooks(stats.service, (event) => {
      webhookEvents.inc({ direction: event.direction, app: peers.label(event.app), outcome: event.outcome }, event.outcome === 'stored' ? event.count : 1)
    })
  ]

  fastify.addHook('onClose', async () => {
    for (const stop of unsubscribe) stop()
    for (const name of names) registry.removeSingleMetric(name)
  })
}

export const linkedServicesMetrics = fp(registerLinkedServicesMetrics, { name: 'fastify-linked-services-metrics', fastify: '5.x', dependencies: ['fastify-linked-services'] })
