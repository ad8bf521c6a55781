/**
 * The job engine under both webhook logs, behind one small interface: in memory (timers in this
 * process, for MemoryStore) and on PostgreSQL (pg-boss, jobs in the database the store already
 * uses). A job names a row (`id`) and the attempt it is for (`attempt`), so a stale copy — one
 * re-run after a crash, or a retry superseded by `webhooks retry` — finds its row moved on and
 * does nothing.
 *
 * Two kinds of retry, kept apart:
 * - Business retries (the receiver said 503, a handler threw) are the caller's: it records the
 *   failure on its row and enqueues the next attempt with `runAt` = now + `retryDelay(policy, n)`.
 *   So the policy (backoff, jitter, cap, attempts, age) is the same on both engines and lives in
 *   the row, where the CLI can show it.
 * - Infrastructure retries (the process died mid-job, the database went away while the handler
 *   ran) are the engine's: a job whose handler throws, or whose worker vanished, runs again.
 */

/** A pg client, pool, or anything with the same `query` (a caller's transaction, for `db`). */
export interface SqlClient {
  query: (text: string, values?: unknown[]) => Promise<{ rows: any[], rowCount?: number | null }>
}

export interface JobData {
  /** The row the job is about (receive-log or outbox id). */
  id: number
  /** The attempt number this job runs (1 for the first). */
  attempt: number
}

export interface EnqueueOptions {
  /** Not before this instant. Default: now. */
  runAt?: Date
  /**
   * PostgreSQL: enqueue on this client, inside its open transaction, so that the job exists if and
   * only if that transaction commits. Ignored in memory.
   */
  db?: SqlClient
}

export interface WorkOptions {
  /** Jobs of this queue run at once in this process. Default 10. */
  concurrency?: number
}

export type JobHandler = (job: JobData) => Promise<void>

export interface JobQueue {
  /** memory: MemoryJobs; pg-boss: PgBossJobs (the outbox); postgres-log: the receive log as its own queue. */
  readonly kind: 'memory' | 'pg-boss' | 'postgres-log'
  start (): Promise<void>
  /** Stops taking jobs and waits for those running (at most `timeoutMs`, default 10 s). */
  stop (timeoutMs?: number): Promise<void>
  enqueue (queue: string, job: JobData, options?: EnqueueOptions): Promise<void>
  /** Runs `handler` for the jobs of `queue`. One handler per queue. */
  work (queue: string, handler: JobHandler, options?: WorkOptions): Promise<void>
  /** A hint that a job of `queue` was just enqueued (and committed) here: look now, not at the next poll. */
  wake (queue: string): void
}

/** When to give up, and how long to wait between attempts. */
export interface RetryPolicy {
  /** Attempts in all, the first included. */
  maxAttempts: number
  /** Give up on an event this old (milliseconds since it was first written), whatever its attempts. */
  maxAgeMs: number
  /** The first retry waits about this long; each next one about twice as long. */
  baseDelayMs: number
  /** No wait is longer than this. */
  maxDelayMs: number
}

export const DEFAULT_RETRY_POLICY: Readonly<RetryPolicy> = Object.freeze({
  maxAttempts: 10,
  maxAgeMs: 24 * 60 * 60 * 1000,
  baseDelayMs: 1000,
  maxDelayMs: 10 * 60 * 1000
})

/**
 * The wait before attempt `attempt + 1` after attempt `attempt` failed: exponential, capped, with
 * "equal jitter" (half fixed, half random), so that retries after an outage spread out instead of
 * arriving together, and no wait is under half the exponential step.
 */
export function retryDelay (policy: RetryPolicy, attempt: number, random: () => number = Math.random): number {
  const exponential = Math.min(policy.maxDelayMs, policy.baseDelayMs * 2 ** Math.max(0, attempt - 1))
  return Math.round(exponential / 2 + (exponential / 2) * random())
}

/** Whether a failed event gets another attempt: under both the attempt and the age limits. */
export function mayRetry (policy: RetryPolicy, attemptsSoFar: number, firstWrittenAt: Date, now = Date.now()): boolean {
  return attemptsSoFar < policy.maxAttempts && now - firstWrittenAt.getTime() < policy.maxAgeMs
}
