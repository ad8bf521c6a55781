/**
 * The PostgreSQL job engine: pg-boss 10 on the store's own pool, its tables in the schema
 * `<schema>_jobs` (created by pg-boss on start). Why pg-boss and not graphile-worker (both run on
 * the database users already have; README "Webhooks" says more):
 * - a job whose worker died (SIGKILL, OOM) is handed out again once its `expireInSeconds` passes
 *   (checked by pg-boss's maintenance, every `maintenanceIntervalSeconds`); graphile-worker 0.16
 *   frees such a job only after a fixed 4 hours;
 * - `send(..., { db })` enqueues on the caller's client, inside the caller's transaction;
 * - pg-boss 10.x runs on Node 20 (11 and later need Node 22, as does graphile-worker 0.17+).
 * What pg-boss lacks (LISTEN/NOTIFY wake-ups in 10.x) costs latency, not correctness: a worker
 * polls every `pollingIntervalSeconds`, and `wake()` skips the wait for jobs enqueued here.
 *
 * `concurrency` jobs run at once through up to four pg-boss workers, each fetching a batch of its
 * share and running it side by side (a batch ends when its slowest job does, so several workers
 * keep the slots busy); a job whose handler threw is failed alone (pg-boss retries it:
 * `retryLimit`, exponential with jitter), the others complete. A full batch fetches the next one
 * at once instead of waiting for the next poll.
 */
import type PgBoss from 'pg-boss'
import { loadPgBoss } from '../../lazy-modules.js'
import type { EnqueueOptions, JobData, JobHandler, JobQueue, SqlClient, WorkOptions } from './job-queue.js'

export interface PgBossJobsOptions {
  /** The store's pool (or any SqlClient that hands each query to a pooled connection). */
  pool: SqlClient
  /** The store's schema; jobs live in `<schema>_jobs`. */
  schema: string
  /** A worker with nothing to do looks for jobs this often. Default 0.5 s (pg-boss's minimum). */
  pollingIntervalSeconds?: number
  /** A job running longer than this is taken to have lost its worker, and runs again. Default 60. */
  expireInSeconds?: number
  /** How often expired jobs are looked for. Default 10 s. */
  maintenanceIntervalSeconds?: number
  /** Re-runs of a job whose handler threw (an infrastructure error). Default 10, from 1 s up. */
  retryLimit?: number
  /** Told about pg-boss's own errors (a lost connection while polling, say) and failed jobs. */
  onError?: (error: unknown) => void
}

export class PgBossJobs implements JobQueue {
  readonly kind = 'pg-boss' as const
  readonly schema: string
  readonly #options: Required<Omit<PgBossJobsOptions, 'pool' | 'schema'>> & Pick<PgBossJobsOptions, 'pool'>
  readonly #queues = new Map<string, Promise<void>>()
  readonly #workers = new Map<string, string[]>()
  #boss: PgBoss | null = null

  constructor (options: PgBossJobsOptions) {
    this.schema = `${options.schema}_jobs`
    this.#options = {
      pool: options.pool,
      pollingIntervalSeconds: options.pollingIntervalSeconds ?? 0.5,
      expireInSeconds: options.expireInSeconds ?? 60,
      maintenanceIntervalSeconds: options.maintenanceIntervalSeconds ?? 10,
      retryLimit: options.retryLimit ?? 10,
      onError: options.onError ?? (() => {})
    }
  }

  async start (): Promise<void> {
    if (this.#boss !== null) return
    const PgBossClass = loadPgBoss()
    const pool = this.#options.pool
    const boss = new PgBossClass({
      db: { executeSql: async (text: string, values: unknown[]) => await pool.query(text, values) },
      schema: this.schema,
      maintenanceIntervalSeconds: this.#options.maintenanceIntervalSeconds,
      // No cron schedules here: the clock monitor and cron workers would only poll.
      schedule: false
    })
    // An EventEmitter's unheard 'error' would throw: pg-boss reports a lost connection this way.
    boss.on('error', (error) => this.#options.onError(error))
    await boss.start()
    this.#boss = boss
  }

  async stop (timeoutMs = 10_000): Promise<void> {
    const boss = this.#boss
    if (boss === null) return
    this.#boss = null
    this.#queues.clear()
    this.#workers.clear()
    // Graceful: running handlers finish (up to the timeout); jobs still running then are failed, so
    // they run again elsewhere instead of waiting for their expiry. The pool is the store's.
    await boss.stop({ graceful: true, wait: true, timeout: timeoutMs, close: false })
  }

  async enqueue (queue: string, job: JobData, options: EnqueueOptions = {}): Promise<void> {
    const boss = this.#started()
    // On the pool, before the caller's transaction touches the job table: a queue pg-boss has not
    // created has no partition, and the insert would abort the caller's transaction.
    await this.#ensureQueue(queue)
    const db = options.db
    await boss.send(queue, { id: job.id, attempt: job.attempt }, {
      ...(options.runAt === undefined ? {} : { startAfter: options.runAt }),
      ...(db === undefined ? {} : { db: { executeSql: async (text: string, values: unknown[]) => await db.query(text, values) } })
    })
  }

  async work (queue: string, handler: JobHandler, options: WorkOptions = {}): Promise<void> {
    const boss = this.#started()
    if (this.#workers.has(queue)) throw new Error(`queue ${queue} already has a handler`)
    await this.#ensureQueue(queue)
    const concurrency = Math.max(1, options.concurrency ?? 10)
    const workers = Math.min(4, concurrency)
    const ids: string[] = []
    this.#workers.set(queue, ids)
    for (let index = 0; index < workers; index++) {
      // The slots shared out: 10 over 4 workers is 3, 3, 2, 2.
      const batchSize = Math.floor(concurrency / workers) + (index < concurrency % workers ? 1 : 0)
      let workerId = ''
      workerId = await boss.work<JobData>(queue, { batchSize, pollingIntervalSeconds: this.#options.pollingIntervalSeconds }, async (jobs) => {
        const results = await Promise.allSettled(jobs.map(async (job) => { await handler({ id: job.data.id, attempt: job.data.attempt }) }))
        const failed = jobs.filter((_, at) => results[at].status === 'rejected')
        for (const result of results) if (result.status === 'rejected') this.#options.onError(result.reason)
        if (failed.length > 0) await boss.fail(queue, failed.map((job) => job.id))
        if (jobs.length === batchSize) boss.notifyWorker(workerId)
      })
      ids.push(workerId)
    }
  }

  wake (queue: string): void {
    const boss = this.#boss
    if (boss === null) return
    for (const workerId of this.#workers.get(queue) ?? []) boss.notifyWorker(workerId)
  }

  #started (): PgBoss {
    if (this.#boss === null) throw new Error('the job queue is not started')
    return this.#boss
  }

  async #ensureQueue (queue: string): Promise<void> {
    let created = this.#queues.get(queue)
    if (created === undefined) {
      created = this.#started().createQueue(queue, {
        name: queue,
        retryLimit: this.#options.retryLimit,
        retryDelay: 1,
        retryBackoff: true,
        expireInSeconds: this.#options.expireInSeconds
      })
      // A failure (database down) is not remembered: the next call tries again.
      created.catch(() => this.#queues.delete(queue))
      this.#queues.set(queue, created)
    }
    await created
  }
}
