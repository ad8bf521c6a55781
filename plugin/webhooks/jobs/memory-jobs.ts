/**
 * The in-process job engine of the embedded default (MemoryStore): timers in this process, the
 * same JobQueue contract as pg-boss. Nothing survives a restart — neither do MemoryStore's rows —
 * so a service that must not lose webhooks runs on PostgreSQL.
 */
import { type EnqueueOptions, type JobData, type JobHandler, type JobQueue, type RetryPolicy, type WorkOptions, retryDelay } from './job-queue.js'

/** Re-runs of a job whose handler threw (an infrastructure error): a few, quickly. */
const INFRASTRUCTURE_RETRIES: RetryPolicy = { maxAttempts: 5, maxAgeMs: Infinity, baseDelayMs: 100, maxDelayMs: 5000 }

interface QueueState {
  handler: JobHandler | null
  concurrency: number
  /** Jobs due now, waiting for a free slot (or for `work` to be called). */
  due: Array<{ job: JobData, failures: number }>
  running: number
}

export interface MemoryJobsOptions {
  /** Told about a handler that threw (after its last re-run too). */
  onError?: (error: unknown, queue: string, job: JobData) => void
}

export class MemoryJobs implements JobQueue {
  readonly kind = 'memory' as const
  readonly #queues = new Map<string, QueueState>()
  readonly #timers = new Set<NodeJS.Timeout>()
  readonly #onError: NonNullable<MemoryJobsOptions['onError']>
  readonly #idleWaiters: Array<() => void> = []
  #stopped = false

  constructor (options: MemoryJobsOptions = {}) {
    this.#onError = options.onError ?? (() => {})
  }

  async start (): Promise<void> {
    this.#stopped = false
  }

  async stop (timeoutMs = 10_000): Promise<void> {
    this.#stopped = true
    for (const timer of this.#timers) clearTimeout(timer)
    this.#timers.clear()
    for (const state of this.#queues.values()) state.due.length = 0
    const deadline = Date.now() + timeoutMs
    while (this.#running() > 0 && Date.now() < deadline) {
      await new Promise<void>((resolve) => {
        this.#idleWaiters.push(resolve)
        setTimeout(resolve, deadline - Date.now()).unref()
      })
    }
  }

  async enqueue (queue: string, job: JobData, options: EnqueueOptions = {}): Promise<void> {
    if (this.#stopped) throw new Error('the job queue is stopped')
    this.#schedule(queue, { job: { id: job.id, attempt: job.attempt }, failures: 0 }, options.runAt?.getTime() ?? 0)
  }

  async work (queue: string, handler: JobHandler, options: WorkOptions = {}): Promise<void> {
    const state = this.#state(queue)
    if (state.handler !== null) throw new Error(`queue ${queue} already has a handler`)
    state.handler = handler
    state.concurrency = Math.max(1, options.concurrency ?? 10)
    this.#pump(queue, state)
  }

  wake (): void {}

  /** Resolves once no job is due or running and no timer is pending (for tests and shutdown). */
  async settled (): Promise<void> {
    while (this.#timers.size > 0 || this.#running() > 0 || this.#dueWithHandler() > 0) {
      // The job timers are unref'd; this one keeps the process up while someone waits.
      await new Promise<void>((resolve) => {
        this.#idleWaiters.push(resolve)
        setTimeout(resolve, 100)
      })
    }
  }

  #schedule (queue: string, entry: QueueState['due'][number], at: number): void {
    const wait = at - Date.now()
    if (wait <= 0) {
      const state = this.#state(queue)
      state.due.push(entry)
      this.#pump(queue, state)
      return
    }
    const timer = setTimeout(() => {
      this.#timers.delete(timer)
      this.#schedule(queue, entry, 0)
      this.#notifyIdle()
    }, wait)
    // A pending retry does not keep the process alive; stop() clears it.
    timer.unref()
    this.#timers.add(timer)
  }

  #pump (queue: string, state: QueueState): void {
    const handler = state.handler
    if (handler === null || this.#stopped) return
    while (state.running < state.concurrency && state.due.length > 0) {
      const entry = state.due.shift() as QueueState['due'][number]
      state.running++
      handler({ ...entry.job }).catch((error: unknown) => {
        entry.failures++
        this.#onError(error, queue, entry.job)
        if (entry.failures < INFRASTRUCTURE_RETRIES.maxAttempts && !this.#stopped) {
          this.#schedule(queue, entry, Date.now() + retryDelay(INFRASTRUCTURE_RETRIES, entry.failures))
        }
      }).finally(() => {
        state.running--
        this.#pump(queue, state)
        this.#notifyIdle()
      })
    }
  }

  #state (queue: string): QueueState {
    let state = this.#queues.get(queue)
    if (state === undefined) {
      state = { handler: null, concurrency: 10, due: [], running: 0 }
      this.#queues.set(queue, state)
    }
    return state
  }

  #running (): number {
    let running = 0
    for (const state of this.#queues.values()) running += state.running
    return running
  }

  #dueWithHandler (): number {
    let due = 0
    for (const state of this.#queues.values()) if (state.handler !== null) due += state.due.length
    return due
  }

  #notifyIdle (): void {
    for (const resolve of this.#idleWaiters.splice(0)) resolve()
  }
}
