/**
 * Runs the handlers of received events from the receive log, at least once: one job per attempt
 * (queue 'linked-services.webhook-received'). A run that fails records the error on the row and
 * schedules the next attempt with the retry policy; past its attempts or age the row stays in
 * `error`. An event of a type without a handler goes to `error` at once ("no handler for type X";
 * `retry` puts it back once a handler exists). A handler that throws WebhookUnprocessableError
 * refuses the event for good (no retry).
 *
 * A run that outlasts `timeoutMs` counts as a failed attempt (retried with backoff like any
 * other failure), so that a hung handler cannot hold a slot forever; its `context.signal` aborts
 * then, for handlers that can stop.
 *
 * Only infrastructure failures (the log cannot be read or written) make the job throw, so that
 * the job engine runs it again.
 */
import type { FastifyBaseLogger } from 'fastify'
import type { LinkedServicesStore } from '../../../types/index.js'
import { WebhookUnprocessableError } from '../../errors.js'
import { mayRetry, retryDelay, type JobData, type JobQueue, type RetryPolicy } from '../jobs/job-queue.js'
import type { ReceivedWebhook } from '../types.js'
import { publishWebhookEvent, webhookChannel } from '../webhook-events.js'
import { RECEIVE_QUEUE, type ReceiveLog, type RunOutcome } from './receive-log.js'

export interface WebhookContext {
  /** The app that sent the event (the verified caller). */
  app: string
  /** The store given to linkedServices. */
  store: LinkedServicesStore
  log: FastifyBaseLogger
  /** Aborted when the run outlasts the handler timeout (`processing.timeoutMs`): the attempt has failed. */
  signal: AbortSignal
}

export type WebhookHandler = (event: ReceivedWebhook, context: WebhookContext) => Promise<void>

const UNPROCESSABLE = new WebhookUnprocessableError().code

/** The longest error text kept on a row. */
const MAX_ERROR_LENGTH = 1000

export interface ProcessorOptions {
  /** This service's appName (named on the webhook channel's events). */
  service: string
  log: ReceiveLog
  /** MemoryJobs, or the log's own rows (PostgresLogQueue). */
  jobs: JobQueue
  store: LinkedServicesStore
  logger: FastifyBaseLogger
  policy: RetryPolicy
  concurrency: number
  /** A handler run longer than this is a failed attempt. */
  timeoutMs: number
  /** Looked up on every run, so handlers added later serve events retried later. */
  handlerFor: (type: string) => WebhookHandler | undefined
}

function errorText (error: unknown): string {
  const text = error instanceof Error ? `${error.name}: ${error.message}` : `thrown: ${String(error)}`
  return text.length > MAX_ERROR_LENGTH ? `${text.slice(0, MAX_ERROR_LENGTH - 1)}…` : text
}

export class ReceiveProcessor {
  readonly #options: ProcessorOptions

  constructor (options: ProcessorOptions) {
    this.#options = options
  }

  async start (): Promise<void> {
    await this.#options.jobs.work(RECEIVE_QUEUE, async (job) => { await this.run(job) }, { concurrency: this.#options.concurrency })
  }

  /** One job: attempt `job.attempt` of row `job.id`, if the row is still waiting for it. */
  async run (job: JobData): Promise<void> {
    const { log, policy } = this.#options
    const loaded = await log.load(job.id)
    if (loaded === null) return
    const { event, version } = loaded
    if (event.status !== 'pending' || event.attempts !== job.attempt - 1) return
    const started = performance.now()
    const outcome = await this.#attempt(event, job.attempt, policy)
    const settled = await log.settle(event.id, version, job.attempt, outcome)
    if (settled && webhookChannel.hasSubscribers) {
      publishWebhookEvent({
        service: this.#options.service,
        direction: 'received',
        app: event.app,
        type: event.type,
        id: event.id,
        outcome: outcome.status === 'pending' ? 'retry' : outcome.status,
        attempt: job.attempt,
        statusCode: null,
        error: outcome.status === 'done' ? null : outcome.error,
        count: 1,
        durationMs: performance.now() - started
      })
    }
  }

  async #attempt (event: ReceivedWebhook, attempt: number, policy: RetryPolicy): Promise<RunOutcome> {
    const handler = this.#options.handlerFor(event.type)
    if (handler === undefined) return { status: 'error', error: `no handler for type ${event.type}` }
    const logger = this.#options.logger.child({ webhook: event.id, webhookType: event.type, linkedApp: event.app })
    try {
      await this.#withTimeout(async (signal) => { await handler(event, { app: event.app, store: this.#options.store, log: logger, signal }) })
      return { status: 'done' }
    } catch (error) {
      const text = errorText(error)
      if ((error as { code?: unknown })?.code === UNPROCESSABLE || !mayRetry(policy, attempt, event.receivedAt)) {
        logger.warn({ attempt, error: text }, 'fastify-linked-services: a webhook handler failed for good (status error)')
        return { status: 'error', error: text }
      }
      logger.info({ attempt, error: text }, 'fastify-linked-services: a webhook handler failed; retried later')
      return { status: 'pending', error: text, nextAttemptAt: new Date(Date.now() + retryDelay(policy, attempt)) }
    }
  }

  /** Runs `work`, or rejects once it has taken `timeoutMs` (aborting its signal; it may run on). */
  async #withTimeout (work: (signal: AbortSignal) => Promise<void>): Promise<void> {
    const { timeoutMs } = this.#options
    const controller = new AbortController()
    let timer: NodeJS.Timeout | undefined
    const timedOut = new Promise<never>((_resolve, reject) => {
      timer = setTimeout(() => {
        const error = new Error(`the handler did not finish within ${timeoutMs} ms (processing.timeoutMs)`)
        error.name = 'TimeoutError'
        controller.abort(error)
        reject(error)
      }, timeoutMs)
    })
    try {
      await Promise.race([work(controller.signal), timedOut])
    } finally {
      clearTimeout(timer)
    }
  }
}
