/**
 * The options of `linkedWebhooks`, checked once at registration (ajv, as the main plugin's):
 * a bad or unknown option throws FST_LINKED_SERVICES_INVALID_OPTION naming it and the fix
 * ("did you mean …?").
 */
import type { Mode } from '../../types/index.js'
import { InvalidOptionError } from '../errors.js'
import { integer, object } from '../options/schemas.js'
import type { OptionSchema, OptionSet } from '../options/schema-types.js'
import { validateOptions } from '../options/validate.js'
import { DEFAULT_RETRY_POLICY, type RetryPolicy } from './jobs/job-queue.js'
import { MAX_EVENT_TEXT } from './receive/events.js'
import { DEFAULT_LEASE_MS, DEFAULT_POLLING_INTERVAL_MS } from './receive/postgres-log-queue.js'
import type { WebhookHandler } from './receive/processor.js'
import type { LinkedWebhooksBackend } from './backends/backend.js'

const DAY_MS = 86_400_000

export interface ReceiveOptions {
  /** The route's URL (`/v1/webhook`). */
  path: string
  /** Scopes the calling app needs. Default `['webhook']` (the original's). */
  scopes?: string[]
  /** Accept only this scheme. Default: the one the calling app's strategy names (JWT or signed requests). */
  mode?: Mode
  /** Most events in one request (413 beyond). Default 100. */
  maxEvents?: number
  /** Largest body, in bytes (413 beyond). Default 1 MiB. */
  bodyLimit?: number
}

export interface RetryOptions extends Partial<RetryPolicy> {
  /** Jobs run at once in this process. Default 10. */
  concurrency?: number
}

export interface ProcessingOptions extends RetryOptions {
  /** A handler run longer than this is a failed attempt (retried with backoff). Default 30 s. */
  timeoutMs?: number
  /**
   * PostgreSQL: a row claimed by a worker that died (or lost the database mid-run) is claimed
   * again after this long. More than `timeoutMs`. Default 60 s.
   */
  leaseMs?: number
  /** PostgreSQL: with nothing due, workers look for due rows this often. Default 250 ms. */
  pollingIntervalMs?: number
}

export interface DeliveryOptions extends RetryOptions {
  /** How long one delivery attempt may take. Default 10 s. */
  timeoutMs?: number
  /**
   * PostgreSQL: a delivery whose process died (SIGKILL, a crash) is run again by another
   * instance after this long (pg-boss's job expiry; whole seconds). More than `timeoutMs`.
   * Default 30 s.
   */
  leaseMs?: number
  /** PostgreSQL: with nothing to deliver, workers look for due events this often (at least 500 ms, pg-boss's floor). Default 500 ms. */
  pollingIntervalMs?: number
  /** Per app slug, the `sub` of app-level events: `""` (default) or `null` (receivers on the original's 1.2.2). */
  appLevelSub?: Record<string, '' | null>
}

export interface LinkedWebhooksOptions {
  /** Mount the receiver. Omitted: this service only sends. */
  receive?: ReceiveOptions
  /** Handlers per event type (the same as `fastify.webhooks.on(type, handler)`). */
  handlers?: Record<string, WebhookHandler>
  /** Retries of the handlers of received events. Default DEFAULT_RETRY_POLICY, concurrency 10, timeout 30 s. */
  processing?: ProcessingOptions
  /** Retries of outgoing events. Default DEFAULT_RETRY_POLICY, concurrency 10, timeout 10 s. */
  delivery?: DeliveryOptions
  /** Where the logs and jobs live. Default: from the store given to linkedServices (PostgresStore: PostgreSQL; else memory). */
  backend?: LinkedWebhooksBackend
}

export interface ValidWebhooksOptions {
  receive: (Required<Omit<ReceiveOptions, 'mode'>> & { mode?: Mode }) | null
  handlers: Record<string, WebhookHandler>
  processing: RetryPolicy & { concurrency: number, timeoutMs: number, leaseMs: number, pollingIntervalMs: number }
  delivery: RetryPolicy & { concurrency: number, timeoutMs: number, leaseMs: number, pollingIntervalMs: number, appLevelSub?: Record<string, '' | null> }
  backend?: LinkedWebhooksBackend
}

function retry (extra: Record<string, OptionSchema> = {}): OptionSchema {
  return object({
    maxAttempts: integer(1, 1000, DEFAULT_RETRY_POLICY.maxAttempts, 'Attempts in all, the first included.'),
    maxAgeMs: integer(1, 366 * DAY_MS, DEFAULT_RETRY_POLICY.maxAgeMs, 'Give up on an event this old.', 'ms'),
    baseDelayMs: integer(1, DAY_MS, DEFAULT_RETRY_POLICY.baseDelayMs, 'The first retry waits about this long; each next one about twice as long.', 'ms'),
    maxDelayMs: integer(1, 7 * DAY_MS, DEFAULT_RETRY_POLICY.maxDelayMs, 'No wait is longer than this.', 'ms'),
    concurrency: integer(1, 1000, 10, 'Jobs run at once in this process.'),
    ...extra
  })
}

export const webhooksOptions: OptionSet = {
  owner: 'linkedWebhooks',
  renames: [],
  schema: object({
    receive: object({
      path: { type: 'string', pattern: '^/', expect: 'a URL path starting with "/"', description: 'The receiver\'s URL.' },
      scopes: { type: 'array', items: { type: 'string' }, default: ['webhook'], description: 'Scopes the calling app needs.' },
      mode: { enum: ['jwt', 'signature'], description: 'Accept only this scheme; omitted: the calling app\'s strategy.' },
      maxEvents: integer(1, 100_000, 100, 'Most events in one request.'),
      bodyLimit: integer(1, 1024 * 1024 * 1024, 1024 * 1024, 'Largest body.', 'bytes')
    }, { required: ['path'] }),
    handlers: { type: 'object', default: {}, description: 'Handlers per event type.' },
    processing: retry({
      timeoutMs: integer(1, DAY_MS, 30_000, 'A handler run longer than this is a failed attempt.', 'ms'),
      leaseMs: integer(1, 7 * DAY_MS, DEFAULT_LEASE_MS, 'PostgreSQL: a claimed row is claimable again after this long (more than timeoutMs).', 'ms'),
      pollingIntervalMs: integer(1, 60_000, DEFAULT_POLLING_INTERVAL_MS, 'PostgreSQL: with nothing due, look for due rows this often.', 'ms')
    }),
    delivery: retry({
      timeoutMs: integer(1, 600_000, 10_000, 'How long one delivery attempt may take.', 'ms'),
      leaseMs: integer(1000, 24 * 60 * 60 * 1000 - 1000, 30_000, 'PostgreSQL: a delivery whose process died runs again elsewhere after this long (more than timeoutMs).', 'ms'),
      pollingIntervalMs: integer(500, 60_000, 500, 'PostgreSQL: with nothing to deliver, look for due events this often.', 'ms'),
      appLevelSub: { type: 'object', description: 'Per app slug, the `sub` of app-level events: `""` or `null` (the original\'s 1.2.2).' }
    }),
    backend: { type: 'object', implements: ['start', 'stop'], description: 'Where the logs and jobs live.' }
  })
}

export function checkHandler (type: unknown, handler: unknown, where: string): void {
  if (typeof type !== 'string' || type.length === 0 || type.length > MAX_EVENT_TEXT) {
    throw Object.assign(new InvalidOptionError(`${where}: an event type must be a string of 1 to ${MAX_EVENT_TEXT} characters`), { option: 'handlers' })
  }
  if (typeof handler !== 'function') {
    throw Object.assign(new InvalidOptionError(`${where}: the handler of ${JSON.stringify(type)} must be an async function (event, context)`), { option: `handlers.${type}` })
  }
}

export function resolveWebhooksOptions (given: unknown): ValidWebhooksOptions {
  const options = validateOptions<ValidWebhooksOptions>(webhooksOptions, given)
  // Validation fills `receive` with its defaults even when it was left out: left out means no receiver.
  if ((given as { receive?: unknown } | undefined)?.receive === undefined) options.receive = null
  for (const [type, handler] of Object.entries(options.handlers)) checkHandler(type, handler, 'linkedWebhooks handlers')
  for (const name of ['processing', 'delivery'] as const) {
    const policy = options[name]
    if (policy.maxDelayMs < policy.baseDelayMs) {
      throw Object.assign(new InvalidOptionError(`linkedWebhooks: ${name}.maxDelayMs must be at least ${name}.baseDelayMs`), { option: `${name}.maxDelayMs` })
    }
  }
  for (const [name, what] of [['processing', 'handler run'], ['delivery', 'delivery']] as const) {
    const { timeoutMs, leaseMs } = options[name]
    if (leaseMs <= timeoutMs) {
      throw Object.assign(new InvalidOptionError(`linkedWebhooks: ${name}.leaseMs (${leaseMs}) must be more than ${name}.timeoutMs (${timeoutMs}), or a live ${what} could be run twice: raise leaseMs or lower timeoutMs`), { option: `${name}.leaseMs` })
    }
  }
  return options
}
