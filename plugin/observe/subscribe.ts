/**
 * Subscribing to the plugin's channels from an observability plugin: the scope events of ONE
 * service (the channel is process-wide; several instances may share a process), the store calls,
 * the client calls. A subscriber that throws would have its error re-thrown by Node on the next
 * tick (a crash): every handler here swallows what it throws, and a request never sees it.
 */
import type { FastifyInstance } from 'fastify'
import { kStats, type LinkedServicesStats } from '../cache/stats.js'
import { storeChannel, type StoreCallEvent } from '../cache/call-store.js'
import { clientChannel, type ClientCallEvent } from '../client/client-events.js'
import { InvalidOptionError } from '../errors.js'
import { scopeChannel, type ScopeEvent } from '../route/scope-events.js'
import { webhookChannel, type WebhookEvent } from '../webhooks/webhook-events.js'

export type Unsubscribe = () => void

/** The registered plugin's counters; fails registration with a clear message when it is missing. */
export function linkedServicesStats (fastify: FastifyInstance, plugin: string): LinkedServicesStats {
  const decorator = (fastify as unknown as { linkedServices?: Record<symbol, unknown> }).linkedServices
  const stats = decorator?.[kStats] as LinkedServicesStats | undefined
  if (stats === undefined) throw new InvalidOptionError(`${plugin} needs fastify-linked-services: register it first`)
  return stats
}

function guarded<T> (handler: (event: T) => void): (event: T) => void {
  return (event) => {
    try {
      handler(event)
    } catch {
      // An observer's failure must never reach a request.
    }
  }
}

interface Handlers<T> {
  start?: (event: T) => void
  end?: (event: T) => void
}

function noop (): void {}

/** `end` runs once per decision of `service`, with the finished event; `start` at its beginning. */
export function subscribeScope (service: string, handlers: Handlers<ScopeEvent>): Unsubscribe {
  const start = handlers.start === undefined ? noop : guarded(handlers.start)
  const end = handlers.end === undefined ? noop : guarded(handlers.end)
  const subscribers = {
    start: (event: ScopeEvent) => { if (event.service === service) start(event) },
    end: noop,
    asyncStart: noop,
    asyncEnd: (event: ScopeEvent) => { if (event.service === service) end(event) },
    error: noop
  }
  scopeChannel.subscribe(subscribers)
  return () => scopeChannel.unsubscribe(subscribers)
}

/** Store calls (of every instance in the process: store calls name no service). */
export function subscribeStore (handlers: Handlers<StoreCallEvent>): Unsubscribe {
  const subscribers = {
    start: handlers.start === undefined ? noop : guarded(handlers.start),
    end: noop,
    asyncStart: noop,
    asyncEnd: handlers.end === undefined ? noop : guarded(handlers.end),
    error: noop
  }
  storeChannel.subscribe(subscribers)
  return () => storeChannel.unsubscribe(subscribers)
}

/** The messages of a plain channel whose events name their `service`, for that service only. */
function subscribeService<T extends { service: string }> (channel: typeof clientChannel, service: string, handler: (event: T) => void): Unsubscribe {
  const safe = guarded(handler)
  const subscriber = (message: unknown): void => {
    if ((message as T).service === service) safe(message as T)
  }
  channel.subscribe(subscriber)
  return () => { channel.unsubscribe(subscriber) }
}

/** Outgoing calls made by clients whose appName is `service`. */
export function subscribeClient (service: string, handler: (event: ClientCallEvent) => void): Unsubscribe {
  return subscribeService(clientChannel, service, handler)
}

/** Webhook deliveries, handler runs and stored requests of `service`. */
export function subscribeWebhooks (service: string, handler: (event: WebhookEvent) => void): Unsubscribe {
  return subscribeService(webhookChannel, service, handler)
}
