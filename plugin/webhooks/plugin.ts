/**
 * `linkedWebhooks`: webhooks between linked apps, on top of `linkedServices` (registered first).
 * It takes its backend from the store given to linkedServices (a PostgresStore: PostgreSQL on the
 * store's pool, the receive log's rows as its own jobs and pg-boss for the outbox; anything else:
 * in memory), mounts the receiver when `receive` is
 * given, runs the handlers of received events from the log, delivers what `send` writes to the
 * outbox, and decorates the instance with `webhooks` (on, send, received, outbox, stats). Jobs
 * start when Fastify is ready and stop when it closes; the store and its pool stay open
 * (linkedServices closes what it owns).
 */
import type { FastifyInstance } from 'fastify'
import fp from 'fastify-plugin'
import type { OutgoingStatus, OutgoingWebhook, ReceivedStatus, ReceivedWebhook, WebhookLogAdmin } from './types.js'
import type { LinkedWebhooksBackend } from './backends/backend.js'
import { createMemoryBackend } from './backends/memory.js'
import { createPostgresBackend, isPostgresLike } from './backends/postgres.js'
import { checkHandler, resolveWebhooksOptions, type LinkedWebhooksOptions } from './options.js'
import { ReceiveProcessor, type WebhookHandler } from './receive/processor.js'
import { registerReceiveRoute } from './receive/route.js'
import { userEventHandlers } from './receive/user-events.js'
import { createSender, type SendOptions } from './send/sender.js'

export interface WebhooksStats {
  outbox: Record<OutgoingStatus, number> & { oldestPendingAgeMs: number | null }
  received: Record<ReceivedStatus, number>
}

export interface WebhooksDecorator {
  /** Handles events of `type` (replacing the built-in handler of `user.created` / `user.updated`). */
  on (type: string, handler: WebhookHandler): WebhooksDecorator
  /** Writes an event to the outbox (in your transaction with `db`); delivered with retries. */
  send (app: string, type: string, data?: unknown, options?: SendOptions): Promise<OutgoingWebhook>
  /** The receive log, as an operator sees it. */
  readonly received: WebhookLogAdmin<ReceivedWebhook, ReceivedStatus>
  /** The outbox, as an operator sees it. */
  readonly outbox: WebhookLogAdmin<OutgoingWebhook, OutgoingStatus>
  /** Rows per status in both logs, and how long the oldest undelivered event has waited. */
  stats (): Promise<WebhooksStats>
}

declare module 'fastify' {
  interface FastifyInstance {
    webhooks: WebhooksDecorator
  }
}

/** Fastify's own register options, which reach the plugin with its options. */
const REGISTER_OPTIONS = new Set(['prefix', 'logLevel', 'logSerializers'])

/** The operator's methods only (not the log's write path). */
function adminView<W, S extends string> (log: WebhookLogAdmin<W, S>): WebhookLogAdmin<W, S> {
  const view: WebhookLogAdmin<W, S> = {
    list: async (filter) => await log.list(filter),
    get: async (id) => await log.get(id),
    retry: async (target) => await log.retry(target),
    purge: async (filter) => await log.purge(filter),
    counts: async (filter) => await log.counts(filter)
  }
  return Object.freeze(view)
}

/**
 * The delivery options as pg-boss settings: the lease is the job's expiry, checked every quarter
 * lease (1 to 10 s), so a delivery whose process died runs again within about 1.25 leases.
 */
function pgBossTiming (delivery: { leaseMs: number, pollingIntervalMs: number }): { expireInSeconds: number, maintenanceIntervalSeconds: number, pollingIntervalSeconds: number } {
  const expireInSeconds = Math.ceil(delivery.leaseMs / 1000)
  return {
    expireInSeconds,
    maintenanceIntervalSeconds: Math.min(10, Math.max(1, Math.floor(expireInSeconds / 4))),
    pollingIntervalSeconds: delivery.pollingIntervalMs / 1000
  }
}

async function linkedWebhooks (fastify: FastifyInstance, given: LinkedWebhooksOptions): Promise<void> {
  const options = resolveWebhooksOptions(Object.fromEntries(Object.entries(given ?? {}).filter(([key]) => !REGISTER_OPTIONS.has(key))))
  const { appName, store } = fastify.linkedServices
  const onJobError = (error: unknown): void => {
    fastify.log.error({ err: error }, 'fastify-linked-services: a webhook job failed (the log could not be read or written); it runs again')
  }
  const { concurrency: processingConcurrency, timeoutMs: handlerTimeoutMs, leaseMs, pollingIntervalMs, ...processingPolicy } = options.processing
  const backend: LinkedWebhooksBackend = (options.backend as LinkedWebhooksBackend | undefined) ??
    (isPostgresLike(store)
      ? createPostgresBackend(store, { onError: onJobError, receive: { leaseMs, pollingIntervalMs }, ...pgBossTiming(options.delivery) })
      : createMemoryBackend({ onError: onJobError }))

  // Built-in first, then the options, then on(): the last one given for a type wins.
  const handlers = userEventHandlers()
  for (const [type, handler] of Object.entries(options.handlers)) handlers.set(type, handler)
  const processor = new ReceiveProcessor({
    service: appName,
    log: backend.received,
    jobs: backend.receiveJobs ?? backend.jobs,
    store,
    logger: fastify.log,
    policy: processingPolicy,
    concurrency: processingConcurrency,
    timeoutMs: handlerTimeoutMs,
    handlerFor: (type) => handlers.get(type)
  })
  const { concurrency, timeoutMs, appLevelSub, maxAttempts, maxAgeMs, baseDelayMs, maxDelayMs } = options.delivery
  const sender = createSender({
    appName, store, outbox: backend.outbox, jobs: backend.jobs, policy: { maxAttempts, maxAgeMs, baseDelayMs, maxDelayMs }, timeoutMs, concurrency, appLevelSub, log: fastify.log
  })

  const decorator: WebhooksDecorator = {
    on (type, handler) {
      checkHandler(type, handler, 'fastify.webhooks.on(type, handler)')
      handlers.set(type, handler)
      return decorator
    },
    send: async (app, type, data, sendOptions) => await sender.send(app, type, data, sendOptions),
    received: adminView(backend.received),
    outbox: adminView(backend.outbox),
    async stats () {
      const [outbox, oldest, received] = await Promise.all([backend.outbox.counts(), backend.outbox.oldestPendingAt(), backend.received.counts()])
      return { outbox: { ...outbox, oldestPendingAgeMs: oldest === null ? null : Math.max(0, Date.now() - oldest.getTime()) }, received }
    }
  }
  fastify.decorate('webhooks', decorator)

  if (options.receive !== null) await registerReceiveRoute(fastify, backend.received, { ...options.receive, service: appName })

  fastify.addHook('onReady', async () => {
    await backend.start()
    await processor.start()
    await sender.start()
  })
  // Runs before linkedServices closes the store (onClose hooks run in reverse order of registration).
  fastify.addHook('onClose', async () => {
    await backend.stop()
    await sender.stop()
  })
}

export default fp(linkedWebhooks, {
  name: 'fastify-linked-services-webhooks',
  fastify: '5.x',
  dependencies: ['fastify-linked-services']
})
