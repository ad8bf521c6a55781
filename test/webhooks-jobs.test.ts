/**
 * The job engines under the webhook logs: MemoryJobs (in process) and PgBossJobs (pg-boss on
 * PostgreSQL) keep one contract — a job runs once it is due, a job whose handler threw runs again,
 * a job enqueued inside a transaction exists only if that transaction commits, and several
 * engines on one database run each job once.
 */
import { after, describe, test } from 'node:test'
import assert from 'node:assert/strict'
import pg from 'pg'
import { MemoryJobs } from '../plugin/webhooks/jobs/memory-jobs.js'
import { PgBossJobs } from '../plugin/webhooks/jobs/pg-boss-jobs.js'
import { DEFAULT_RETRY_POLICY, type JobData, type JobQueue, mayRetry, retryDelay } from '../plugin/webhooks/jobs/job-queue.js'
import { DATABASE_URL, dropSchema, servicesSkipSync, uniqueSchema } from './helpers/services.js'

/** Resolves when `check()` holds; fails after `ms` (a bound, not a wait: it returns as soon as it holds). */
async function until (check: () => boolean, ms = 15_000): Promise<void> {
  const deadline = Date.now() + ms
  while (!check()) {
    if (Date.now() > deadline) throw new Error('condition not met in time')
    await new Promise((resolve) => setImmediate(resolve))
    await new Promise((resolve) => setTimeout(resolve, 5))
  }
}

describe('retry policy', () => {
  test('exponential, capped, with equal jitter: never under half the step, never over it', () => {
    const policy = { ...DEFAULT_RETRY_POLICY, baseDelayMs: 1000, maxDelayMs: 60_000 }
    assert.equal(retryDelay(policy, 1, () => 0), 500)
    assert.equal(retryDelay(policy, 1, () => 1), 1000)
    assert.equal(retryDelay(policy, 4, () => 0), 4000)
    assert.equal(retryDelay(policy, 4, () => 1), 8000)
    assert.equal(retryDelay(policy, 30, () => 1), 60_000)
    assert.equal(retryDelay(policy, 30, () => 0), 30_000)
    // Jitter spreads retries: 200 draws are not all the same.
    assert.ok(new Set(Array.from({ length: 200 }, () => retryDelay(policy, 3))).size > 50)
  })

  test('mayRetry stops at the attempt limit and at the age limit', () => {
    const policy = { ...DEFAULT_RETRY_POLICY, maxAttempts: 3, maxAgeMs: 60_000 }
    const now = Date.now()
    assert.equal(mayRetry(policy, 2, new Date(now), now), true)
    assert.equal(mayRetry(policy, 3, new Date(now), now), false)
    assert.equal(mayRetry(policy, 1, new Date(now - 60_001), now), false)
  })
})

async function contract (name: string, make: () => Promise<JobQueue>, finish: (jobs: JobQueue) => Promise<void>): Promise<void> {
  await test(`${name}: a due job runs, a job with runAt waits for it, the handler sees its data`, async () => {
    const jobs = await make()
    const seen: Array<JobData & { at: number }> = []
    await jobs.work('q-run', async (job) => { seen.push({ ...job, at: Date.now() }) })
    const later = new Date(Date.now() + 300)
    await jobs.enqueue('q-run', { id: 1, attempt: 1 })
    await jobs.enqueue('q-run', { id: 2, attempt: 3 }, { runAt: later })
    jobs.wake('q-run')
    await until(() => seen.length === 2)
    assert.deepEqual(seen.map(({ id, attempt }) => ({ id, attempt })), [{ id: 1, attempt: 1 }, { id: 2, attempt: 3 }])
    // pg-boss compares startAfter with the database clock; allow the two clocks 50 ms apart.
    assert.ok(seen[1].at >= later.getTime() - 50, 'the job with runAt ran before it was due')
    await finish(jobs)
  })

  await test(`${name}: a handler that throws runs again, and the others of its batch are not held up`, async () => {
    const jobs = await make()
    const runs = new Map<number, number>()
    await jobs.work('q-throw', async (job) => {
      runs.set(job.id, (runs.get(job.id) ?? 0) + 1)
      if (job.id === 7 && (runs.get(7) ?? 0) < 2) throw new Error('database away')
    }, { concurrency: 4 })
    for (const id of [5, 6, 7, 8]) await jobs.enqueue('q-throw', { id, attempt: 1 })
    jobs.wake('q-throw')
    await until(() => runs.get(7) === 2, 30_000)
    assert.equal(runs.get(5), 1)
    assert.equal(runs.get(8), 1)
    await finish(jobs)
  })

  await test(`${name}: no more than \`concurrency\` handlers run at once`, async () => {
    const jobs = await make()
    let running = 0
    let peak = 0
    let done = 0
    await jobs.work('q-conc', async () => {
      running++
      peak = Math.max(peak, running)
      await new Promise((resolve) => setTimeout(resolve, 20))
      running--
      done++
    }, { concurrency: 3 })
    for (let id = 1; id <= 9; id++) await jobs.enqueue('q-conc', { id, attempt: 1 })
    jobs.wake('q-conc')
    await until(() => done === 9, 30_000)
    assert.ok(peak <= 3, `peak ${peak}`)
    await finish(jobs)
  })
}

describe('MemoryJobs', async () => {
  await contract('memory', async () => new MemoryJobs(), async (jobs) => { await jobs.stop() })

  test('jobs enqueued before work() wait for it; settled() resolves once nothing is left', async () => {
    const jobs = new MemoryJobs()
    const seen: number[] = []
    await jobs.enqueue('early', { id: 1, attempt: 1 })
    await jobs.enqueue('early', { id: 2, attempt: 1 }, { runAt: new Date(Date.now() + 30) })
    await jobs.work('early', async (job) => { seen.push(job.id) })
    await jobs.settled()
    assert.deepEqual(seen, [1, 2])
    await jobs.stop()
    await assert.rejects(jobs.enqueue('early', { id: 3, attempt: 1 }), /stopped/)
  })

  test('stop() waits for a running handler and drops what is only scheduled', async () => {
    const jobs = new MemoryJobs()
    let finished = false
    let started = false
    await jobs.work('slow', async () => {
      started = true
      await new Promise((resolve) => setTimeout(resolve, 50))
      finished = true
    })
    await jobs.enqueue('slow', { id: 1, attempt: 1 })
    await jobs.enqueue('slow', { id: 2, attempt: 1 }, { runAt: new Date(Date.now() + 60_000) })
    await until(() => started)
    await jobs.stop()
    assert.equal(finished, true)
  })
})

const skip = servicesSkipSync({ postgres: true })

describe('PgBossJobs on PostgreSQL', { skip }, async () => {
  const schema = uniqueSchema('jobs')
  const pool = new pg.Pool({ connectionString: DATABASE_URL, max: 6 })
  pool.on('error', () => {})
  after(async () => {
    await dropSchema(`${schema}_jobs`)
    await pool.end()
  })
  // Each test its own queue names, on a fresh engine over the same schema.
  await contract('pg-boss', async () => {
    const jobs = new PgBossJobs({ pool, schema })
    await jobs.start()
    return jobs
  }, async (jobs) => { await jobs.stop() })

  test('a job enqueued in a transaction exists only if the transaction commits', async () => {
    const jobs = new PgBossJobs({ pool, schema })
    await jobs.start()
    const seen: number[] = []
    await jobs.work('q-tx', async (job) => { seen.push(job.id) })
    for (const [id, outcome] of [[1, 'ROLLBACK'], [2, 'COMMIT']] as const) {
      const client = await pool.connect()
      try {
        await client.query('BEGIN')
        await jobs.enqueue('q-tx', { id, attempt: 1 }, { db: client })
        await client.query(outcome)
      } finally {
        client.release()
      }
    }
    jobs.wake('q-tx')
    await until(() => seen.length >= 1)
    // One more polling round, so that a job from the rolled-back transaction would show.
    const { rows } = await pool.query(`SELECT count(*)::int AS n FROM "${schema}_jobs".job WHERE name = 'q-tx'`)
    assert.equal(rows[0].n, 1)
    assert.deepEqual(seen, [2])
    await jobs.stop()
  })

  test('two engines on one database run each job once', async () => {
    const a = new PgBossJobs({ pool, schema })
    const b = new PgBossJobs({ pool, schema })
    await Promise.all([a.start(), b.start()])
    const runs = new Map<number, string[]>()
    const record = (who: string) => async (job: JobData): Promise<void> => {
      runs.set(job.id, [...(runs.get(job.id) ?? []), who])
      await new Promise((resolve) => setTimeout(resolve, 2))
    }
    await a.work('q-two', record('a'), { concurrency: 5 })
    await b.work('q-two', record('b'), { concurrency: 5 })
    for (let id = 1; id <= 60; id++) await (id % 2 === 0 ? a : b).enqueue('q-two', { id, attempt: 1 })
    a.wake('q-two')
    b.wake('q-two')
    await until(() => runs.size === 60, 30_000)
    await Promise.all([a.stop(), b.stop()])
    for (const [id, who] of runs) assert.equal(who.length, 1, `job ${id} ran ${who.join(', ')}`)
  })

  test('enqueue before start() is refused with a clear message', async () => {
    const jobs = new PgBossJobs({ pool, schema })
    await assert.rejects(jobs.enqueue('q-none', { id: 1, attempt: 1 }), /not started/)
  })
})
