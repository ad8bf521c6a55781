/**
 * The receive queue on PostgreSQL, with no job table: a pending row of `webhook_log` IS the job.
 * A worker claims due rows in batches (`UPDATE ... SET locked_until = now() + lease ... FOR UPDATE
 * SKIP LOCKED`), hands each to the handler as `{ id, attempt: attempts + 1 }`, and the handler's
 * own UPDATE (settle) records the run, sets `next_attempt_at` and lets the lease go. So:
 * - there is nothing to enqueue: `record`, `settle` and `retry` schedule by writing the row;
 * - a pending row is always claimable (no job to lose, none to exhaust its retries);
 * - a row whose worker died (or whose handler threw: the database went away mid-run) is claimed
 *   again once its lease passes — the infrastructure retry. The lease must exceed the handler
 *   timeout, so that a live run is never claimed twice;
 * - several processes share the table: SKIP LOCKED and the lease give each row to one of them.
 * A full batch claims again at once; otherwise the worker waits `pollingIntervalMs` or until
 * `wake()` (rows written here). The database down: onError, a growing wait, and on again.
 */
import type { EnqueueOptions, JobData, JobHandler, JobQueue, SqlClient, WorkOptions } from '../jobs/job-queue.js'
import { buildReceiveSql } from './postgres-sql.js'
import { RECEIVE_QUEUE } from './receive-log.js'

export const DEFAULT_POLLING_INTERVAL_MS = 250
export const DEFAULT_LEASE_MS = 60_000
/** The longest wait between claims while the database does not answer. */
const MAX_ERROR_WAIT_MS = 5000

export interface PostgresLogQueueOptions {
  /** The store's pool. */
  pool: SqlClient
  /** The store's schema (where migration 3 made `webhook_log`). */
  schema: string
  /** With nothing due, look again this often. Default 250 ms. */
  pollingIntervalMs?: number
  /** A claimed row is another worker's again after this long without being settled. Default 60 s. */
  leaseMs?: number
  /** Told about a claim that failed (the database down) and a handler that threw. */
  onError?: (error: unknown) => void
}

export class PostgresLogQueue implements JobQueue {
  readonly kind = 'postgres-log' as const
  readonly leaseMs: number
  readonly pollingIntervalMs: number
  readonly #pool: SqlClient
  readonly #claimSql: string
  readonly #onError: (error: unknown) => void
  readonly #running = new Set<Promise<void>>()
  #loop: Promise<void> | null = null
  #stopped = false
  /** Set by wake() and by a handler finishing; a pause that finds it set returns at once. */
  #signalled = false
  #resume: (() => void) | null = null

  constructor (options: PostgresLogQueueOptions) {
    this.#pool = options.pool
    this.#claimSql = buildReceiveSql(options.schema).claim
    this.leaseMs = options.leaseMs ?? DEFAULT_LEASE_MS
    this.pollingIntervalMs = options.pollingIntervalMs ?? DEFAULT_POLLING_INTERVAL_MS
    this.#onError = options.onError ?? (() => {})
  }

  async start (): Promise<void> {
    this.#stopped = false
  }

  /** Stops claiming and waits for the running handlers (at most `timeoutMs`; their rows' leases cover the rest). */
  async stop (timeoutMs = 10_000): Promise<void> {
    this.#stopped = true
    this.#signal()
    await this.#loop
    this.#loop = null
    let timer: NodeJS.Timeout | undefined
    await Promise.race([
      Promise.allSettled([...this.#running]),
      new Promise<void>((resolve) => { timer = setTimeout(resolve, timeoutMs) })
    ])
    clearTimeout(timer)
  }

  /** Nothing to write: the row's `next_attempt_at` is the schedule (record, settle and retry set it). */
  async enqueue (queue: string, _job: JobData, _options?: EnqueueOptions): Promise<void> {
    this.#only(queue)
  }

  async work (queue: string, handler: JobHandler, options: WorkOptions = {}): Promise<void> {
    this.#only(queue)
    if (this.#loop !== null) throw new Error(`queue ${queue} already has a handler`)
    this.#loop = this.#claimLoop(handler, Math.max(1, options.concurrency ?? 10))
  }

  wake (queue: string): void {
    if (queue === RECEIVE_QUEUE) this.#signal()
  }

  async #claimLoop (handler: JobHandler, concurrency: number): Promise<void> {
    let failures = 0
    while (!this.#stopped) {
      const free = concurrency - this.#running.size
      if (free === 0) {
        await this.#pause(Infinity)
        continue
      }
      let claimed: Array<{ id: string, attempts: number }>
      try {
        claimed = (await this.#pool.query(this.#claimSql, [free, this.leaseMs])).rows
        failures = 0
      } catch (error) {
        failures++
        this.#onError(error)
        await this.#pause(Math.min(MAX_ERROR_WAIT_MS, this.pollingIntervalMs * 2 ** failures))
        continue
      }
      for (const row of claimed) this.#spawn(handler, { id: Number(row.id), attempt: row.attempts + 1 })
      if (claimed.length < free) await this.#pause(this.pollingIntervalMs)
    }
  }

  #spawn (handler: JobHandler, job: JobData): void {
    // Started on the next tick, so that `run` is set before it can end.
    const run: Promise<void> = Promise.resolve()
      .then(async () => { await handler(job) })
      // The row keeps its lease: claimed again once it passes.
      .catch((error: unknown) => { this.#onError(error) })
      .finally(() => {
        this.#running.delete(run)
        this.#signal()
      })
    this.#running.add(run)
  }

  async #pause (ms: number): Promise<void> {
    if (!this.#signalled && !this.#stopped) {
      await new Promise<void>((resolve) => {
        const timer = Number.isFinite(ms) ? setTimeout(resolve, ms) : undefined
        this.#resume = () => {
          clearTimeout(timer)
          resolve()
        }
      })
    }
    this.#resume = null
    this.#signalled = false
  }

  #signal (): void {
    this.#signalled = true
    this.#resume?.()
  }

  #only (queue: string): void {
    if (queue !== RECEIVE_QUEUE) throw new Error(`PostgresLogQueue runs the receive log only (${RECEIVE_QUEUE}), not ${queue}`)
  }
}
