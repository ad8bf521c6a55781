/**
 * The delivery job: one attempt at POSTing one outbox row `{ id, type, data }` to the app's
 * `webhookUrl` with a Link JWT (the project's client: its key resolution, undici agent and
 * timeouts), then the outcome written on the row (outcome.ts). A job whose row is no longer
 * pending at that attempt — a stale copy, a double run — does nothing. The handler throws only
 * when the outbox cannot be read or written, or the sender is stopping, so that the job engine
 * runs it again; every other failure (the receiver's, the app store's) is recorded on the row.
 * No token is logged or stored: the JWT lives only inside the client call.
 */
import type { FastifyBaseLogger } from 'fastify'
import type { LinkedClient } from '../../client/client.js'
import { ClientAppNotFoundError, ClientRequestFailedError, SigningError, StoreUnavailableError } from '../../errors.js'
import type { LinkedServicesStore } from '../../../types/index.js'
import type { JobHandler, RetryPolicy } from '../jobs/job-queue.js'
import type { OutgoingWebhook } from '../types.js'
import { attemptRecord, resultOfStatus, type AttemptResult } from './outcome.js'
import type { SendingOutbox } from './outbox.js'
import { publishWebhookEvent } from '../webhook-events.js'

export type WebhookLogger = Pick<FastifyBaseLogger, 'debug' | 'warn' | 'error'>

export interface DeliveryContext {
  /** This service's appName (the `service` of the diagnostics event). */
  appName: string
  store: Pick<LinkedServicesStore, 'getApp'>
  outbox: SendingOutbox
  /**
   * The HTTP client, made on the first delivery (a service that only receives never loads undici).
   * It reads the app from `store` on every call (cacheTtl 0): a removed app or a changed URL counts at once.
   */
  client: () => LinkedClient
  policy: RetryPolicy
  /** Per app slug: the `sub` of an app-level event (`""` default, `null` for 1.2.2 receivers). */
  appLevelSub: Readonly<Record<string, '' | null>>
  log?: WebhookLogger
  /** True once the sender is stopping: a job caught then is left to the engine to run again. */
  stopping: () => boolean
}

/** Why an app cannot be delivered to any more (the client only says "not found"). */
async function goneReason (context: DeliveryContext, slug: string): Promise<string> {
  const app = await context.store.getApp(slug)
  if (app === null || app === undefined) return `the app ${slug} was removed from the store`
  return `the app ${slug} has no webhookUrl`
}

async function postOnce (context: DeliveryContext, event: OutgoingWebhook): Promise<AttemptResult> {
  const call = {
    userId: event.userId,
    mode: 'jwt' as const,
    appLevelSub: Object.hasOwn(context.appLevelSub, event.app) ? context.appLevelSub[event.app] : ''
  }
  try {
    const response = await context.client().app(event.app, call).webhook({ id: event.id, type: event.type, data: event.data }, { throwOnError: false })
    return resultOfStatus(response.status, response.headers)
  } catch (error) {
    if (context.stopping()) throw error
    if (error instanceof ClientRequestFailedError) return { kind: 'retry', reason: error.message, statusCode: null, retryAfterMs: null }
    if (error instanceof ClientAppNotFoundError) return { kind: 'dead', reason: await goneReason(context, event.app), statusCode: null }
    // An unusable key may be fixed by the operator: retried under the policy (the message holds no key).
    if (error instanceof SigningError) return { kind: 'retry', reason: error.message, statusCode: null, retryAfterMs: null }
    // Recorded on the row rather than thrown: a job the engine gave up on would leave the row
    // pending with no job; this way the policy applies and the reason shows.
    if (error instanceof StoreUnavailableError) return { kind: 'retry', reason: 'the app store did not answer', statusCode: null, retryAfterMs: null }
    throw error
  }
}

export function deliveryHandler (context: DeliveryContext): JobHandler {
  return async ({ id, attempt }) => {
    const event = await context.outbox.pendingAttempt(id, attempt)
    if (event === null) return
    const startedAt = performance.now()
    const result = await postOnce(context, event)
    const record = attemptRecord(result, attempt, event.createdAt, context.policy)
    if (!await context.outbox.recordAttempt(id, attempt, record)) return
    publishWebhookEvent({
      service: context.appName,
      direction: 'sent',
      app: event.app,
      type: event.type,
      id,
      outcome: record.status === 'pending' ? 'retry' : record.status,
      attempt,
      statusCode: record.lastStatusCode,
      error: record.lastError,
      count: 1,
      durationMs: performance.now() - startedAt
    })
    const fields = { webhook: id, app: event.app, type: event.type, attempt, statusCode: record.lastStatusCode }
    if (record.status === 'delivered') context.log?.debug(fields, 'webhook delivered')
    else if (record.status === 'pending') context.log?.warn({ ...fields, error: record.lastError, nextAttemptAt: record.nextAttemptAt }, 'webhook delivery failed; will retry')
    else context.log?.error({ ...fields, error: record.lastError }, 'webhook delivery gave up (dead)')
  }
}
