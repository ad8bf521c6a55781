/**
 * `createSender`: the sending half of webhooks, as the plugin wires it. `send` checks the event
 * and the app, writes the event and its first job to the outbox (in the caller's transaction when
 * given `db`), and wakes the queue; `start` runs the delivery worker on the job queue.
 *
 * Lifecycle: the plugin starts the job queue, then `sender.start()`; on close it stops the job
 * queue (waiting for running deliveries), then `sender.stop()` (closes the HTTP agent).
 */
import { createLinkedClient, type LinkedClient } from '../../client/client.js'
import { InvalidOptionError, StoreUnavailableError, WebhookAppUnknownError, WebhookUrlMissingError } from '../../errors.js'
import { requirePeer } from '../../lazy-modules.js'
import type { LinkedServicesStore } from '../../../types/index.js'
import { DEFAULT_RETRY_POLICY, type JobQueue, type RetryPolicy } from '../jobs/job-queue.js'
import type { OutgoingWebhook, SqlClient } from '../types.js'
import { deliveryHandler, type WebhookLogger } from './deliver.js'
import { newOutgoingEvent } from './event-input.js'
import { DELIVER_QUEUE, type SendingOutbox } from './outbox.js'

export interface SenderOptions {
  /** This service's own slug (the JWT `app` claim, `App=` of the header). */
  appName: string
  /** Where the receiving apps are read (their webhookUrl and keys), on every send and attempt. */
  store: Pick<LinkedServicesStore, 'getApp'>
  outbox: SendingOutbox
  jobs: JobQueue
  /** Retry policy; missing fields from DEFAULT_RETRY_POLICY. */
  policy?: Partial<RetryPolicy>
  /** Milliseconds one POST may take (connect, headers, body). Default 10000. */
  timeoutMs?: number
  /** Deliveries at once in this process. Default 10. */
  concurrency?: number
  /** Per app slug, the `sub` of app-level events: `""` (default) or `null` (receivers on the original's 1.2.2). */
  appLevelSub?: Record<string, '' | null>
  /**
   * How often pending events whose next attempt is long overdue are queued again (their job may
   * have been given up by the engine during a long database outage). Default 60 s; 0: never.
   */
  sweepIntervalMs?: number
  log?: WebhookLogger
}

/** Overdue by this much, a pending event's job is taken to be lost (workers poll every second or so). */
const OVERDUE_GRACE_MS = 5 * 60_000
const SWEEP_BATCH = 1000

export interface SendOptions {
  /** The local user the event is about: the JWT `sub`. Omitted: an app-level event. */
  user?: string | number | null
  /** PostgreSQL: a client inside your open transaction; the event is sent if and only if it commits. */
  db?: SqlClient
}

export interface Sender {
  send (app: string, type: string, data?: unknown, options?: SendOptions): Promise<OutgoingWebhook>
  /** Runs the delivery worker (after the job queue started). */
  start (): Promise<void>
  /** Closes the HTTP agent (after the job queue stopped). */
  stop (): Promise<void>
}

function positiveInteger (value: unknown, name: string, fallback: number): number {
  if (value === undefined) return fallback
  if (typeof value !== 'number' || !Number.isSafeInteger(value) || value < 1) {
    throw new InvalidOptionError(`${name} must be a positive integer, got ${JSON.stringify(value)}`)
  }
  return value
}

function checkPolicy (given: Partial<RetryPolicy> = {}): RetryPolicy {
  const policy = { ...DEFAULT_RETRY_POLICY }
  for (const name of Object.keys(DEFAULT_RETRY_POLICY) as Array<keyof RetryPolicy>) {
    policy[name] = positiveInteger(given[name], `policy.${name}`, DEFAULT_RETRY_POLICY[name])
  }
  return policy
}

function checkAppLevelSub (given: Record<string, unknown> = {}): Record<string, '' | null> {
  const checked: Record<string, '' | null> = Object.create(null)
  for (const [slug, sub] of Object.entries(given)) {
    if (sub !== '' && sub !== null) throw new InvalidOptionError(`appLevelSub.${slug} must be "" or null (null for a receiver on the original's 1.2.2), got ${JSON.stringify(sub)}`)
    checked[slug] = sub
  }
  return checked
}

export function createSender (options: SenderOptions): Sender {
  const { appName, store, outbox, jobs, log } = options
  const policy = checkPolicy(options.policy)
  const timeout = positiveInteger(options.timeoutMs, 'timeoutMs', 10_000)
  const concurrency = positiveInteger(options.concurrency, 'concurrency', 10)
  const appLevelSub = checkAppLevelSub(options.appLevelSub)
  const sweepIntervalMs = options.sweepIntervalMs ?? 60_000
  let client: LinkedClient | null = null
  let sweeper: NodeJS.Timeout | null = null
  let stopping = false

  // The client validates appName; created at start so a send-only process opens no agent.
  const deliveryClient = (): LinkedClient => {
    client ??= createLinkedClient({ appName, store: { getApp: async (slug) => await store.getApp(slug) }, timeout, cacheTtl: 0 })
    return client
  }

  async function requeueOverdue (): Promise<void> {
    if (stopping) return
    const count = await outbox.requeueOverdue(OVERDUE_GRACE_MS, SWEEP_BATCH)
    if (count > 0) log?.warn({ count }, 'webhook outbox: pending events with no job (lost during an outage) queued again')
  }

  return {
    async send (app, type, data, sendOptions = {}) {
      if (typeof app !== 'string' || app.length === 0) throw new WebhookAppUnknownError('the app must be the slug of a linked app')
      const event = newOutgoingEvent(app, type, data, sendOptions.user)
      const named = JSON.stringify(app.slice(0, 100))
      let record
      try {
        record = await store.getApp(app)
      } catch (error) {
        throw Object.assign(new StoreUnavailableError(), { cause: error })
      }
      if (record === null || record === undefined) throw new WebhookAppUnknownError(`no app ${named} in the store; link it first (linked-services apps add)`)
      // Delivering needs undici (an optional peer): refuse the event now, not at its first attempt.
      requirePeer('undici', 'fastify.webhooks.send')
      if (typeof record.webhookUrl !== 'string' || record.webhookUrl.length === 0) {
        throw new WebhookUrlMissingError(`the app ${named} has no webhookUrl; set one (linked-services apps update ${app.slice(0, 100)} --webhook-url <url>)`)
      }
      const written = await outbox.write(event, { db: sendOptions.db })
      // With db the job is not committed yet: the engine finds it at its next poll instead.
      jobs.wake(DELIVER_QUEUE)
      return written
    },
    async start () {
      const handler = deliveryHandler({ appName, store, outbox, client: deliveryClient, policy, appLevelSub, log, stopping: () => stopping })
      await jobs.work(DELIVER_QUEUE, handler, { concurrency })
      if (sweepIntervalMs > 0) {
        sweeper = setInterval(() => { requeueOverdue().catch((error: unknown) => log?.warn({ err: error }, 'webhook outbox sweep failed; it runs again')) }, sweepIntervalMs)
        sweeper.unref()
      }
    },
    async stop () {
      stopping = true
      if (sweeper !== null) clearInterval(sweeper)
      await client?.close()
    }
  }
}
