/**
 * `linkedWebhooks`: webhooks between linked apps, on top of `linkedServices` (registered first).
 * It takes its backend from the store given to linkedServices (a PostgresStore: PostgreSQL and
 * pg-boss on the store's pool; anything else: in memory), mounts the receiver when `receive` is
 * given, runs the handlers of received events from the log, and decorates the instance with
 * `webhooks` (on, send, received, outbox, stats). Jobs start when Fastify is ready and stop when
 * it closes; the store and its pool stay open (linkedServices closes what it owns).
 */
import type { FastifyInstance } from 'fastify'
import fp from 'fastify-plugin'
import type { ReceivedStatus, ReceivedWebhook, WebhookLogAdmin } from './types.js'
import type { ReceivingBackend } from './backends/backend.js'
import { createMemoryBackend } from './backends/memory.js'
import { createPostgresBackend, isPostgresLike } from './backends/postgres.js'
import { checkHandler, resolveWebhooksOptions, type LinkedWebhooksOptions } from './options.js'
import { ReceiveProcessor, type WebhookHandler } from './receive/processor.js'
import { registerReceiveRoute } from './receive/route.js'
import { userEventHandlers } from './receive/user-events.js'

export interface WebhooksStats {
  received: Record<ReceivedStatus, number>
}

export interface WebhooksDecorator {
  /** Handles events of `type` (replacing the built-in handler of `user.created` / `user.updated`). */
  on (type: string, handler: WebhookHandler): WebhooksDecorator
  /** The receive log, as an operator sees it. */
  readonly received: WebhookLogAdmin<ReceivedWebhook, ReceivedStatus>
  stats (): Promise<WebhooksStats>
}

declare module 'fastify' {
  interface FastifyInstance {
    webhooks: WebhooksDecorator
  }
}

/** Fastify's own register options, which reach the plugin with its options. */
const REGISTER_OPTIONS = new Set(['prefix', 'logLevel', 'logSerializers'])

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

async function linkedWebhooks (fastify: FastifyInstance, given: LinkedWebhooksOptions): Promise<void> {
  const options = resolveWebhooksOptions(Object.fromEntries(Object.entries(given ?? {}).filter(([key]) => !REGISTER_OPTIONS.has(key))))
  const store = fastify.linkedServices.store
  const onJobError = (error: unknown): void => {
    fastify.log.error({ err: error }, 'fastify-linked-services: a webhook job failed (the log could not be read or written); it runs again')
  }
  const backend: ReceivingBackend = (options.backend as ReceivingBackend | undefined) ??
    (isPostgresLike(store) ? createPostgresBackend(store, { onError: onJobError }) : createMemoryBackend({ onError: onJobError }))

  // Built-in first, then the options, then on(): the last one given for a type wins.
  const handlers = userEventHandlers()
  for (const [type, handler] of Object.entries(options.handlers)) handlers.set(type, handler)
  const processor = new ReceiveProcessor({
    log: backend.received,
    jobs: backend.jobs,
    store,
    logger: fastify.log,
    policy: options.processing,
    concurrency: options.processing.concurrency,
    handlerFor: (type) => handlers.get(type)
  })

  // The sending half (helper S's createSender) plugs in here.

  const decorator: WebhooksDecorator = {
    on (type, handler) {
      checkHandler(type, handler, 'fastify.webhooks.on(type, handler)')
      handlers.set(type, handler)
      return decorator
    },
    received: adminView(backend.received),
    async stats () {
      return { received: await backend.received.counts() }
    }
  }
  fastify.decorate('webhooks', decorator)

  if (options.receive !== null) await registerReceiveRoute(fastify, backend.received, options.receive)

  fastify.addHook('onReady', async () => {
    await backend.start()
    await processor.start()
  })
  // Closed before linkedServices closes the store (hooks close in reverse order of registration).
  fastify.addHook('onClose', async () => {
    await backend.stop()
  })
}

export default fp(linkedWebhooks, {
  name: 'fastify-linked-services-webhooks',
  fastify: '5.x',
  dependencies: ['fastify-linked-services']
})
