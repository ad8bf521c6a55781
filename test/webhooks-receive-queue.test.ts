/**
 * The receive log as its own queue on PostgreSQL (PostgresLogQueue): a pending row is always
 * claimable (no job to lose), a row claimed by a worker that died is run by another once its
 * lease passes, two engines on one table run each event once, the worker loop survives the
 * database going away and recovers by itself, a hung handler is a failed attempt, `retry` makes
 * a waiting row due now, and the claim uses the partial index of due rows.
 * Skipped with a message when PostgreSQL does not answer; fails under CI.
 */
import { after, test } from 'node:test'
import assert from 'node:assert/strict'
import type { FastifyInstance } from 'fastify'
import { PostgresStore } from '../plugin/stores/postgres-store.js'
import { createPostgresBackend } from '../plugin/webhooks/backends/postgres.js'
import type { LinkedWebhooksOptions } from '../plugin/webhooks/options.js'
import type { JobData } from '../plugin/webhooks/jobs/job-queue.js'
import { PostgresLogQueue } from '../plugin/webhooks/receive/postgres-log-queue.js'
import { PostgresReceiveLog } from '../plugin/webhooks/receive/postgres-log.js'
import { RECEIVE_QUEUE } from '../plugin/webhooks/receive/receive-log.js'
import { DATABASE_URL, dropSchema, servicesSkipSync, TcpProxy, throughPort, uniqueSchema } from './helpers/services.js'
import { callerApp, PATH, post, receiver, until } from './webhooks-receive-helpers.js'

const skip = servicesSkipSync({ postgres: true })
const schemas: string[] = []
const closers: Array<() => Promise<unknown>> = []

async function freshStore (schema = uniqueSchema('whq'), connectionString = DATABASE_URL): Promise<PostgresStore> {
  if (!schemas.includes(schema)) schemas.push(schema)
  const store = new PostgresStore({ connectionString, schema })
  closers.push(async () => await store.close())
  await store.migrate()
  return store
}

async function service (store: PostgresStore, options: LinkedWebhooksOptions): Promise<FastifyInstance> {
  const app = await receiver(store, { receive: { path: PATH }, ...options })
  closers.push(async () => await app.close())
  return app
}

async function row (store: PostgresStore, externalId: string): Promise<{ status: string, attempts: number, last_error: string | null }> {
  const { rows } = await store.pool.query(`SELECT status, attempts, last_error FROM "${store.schema}".webhook_log WHERE external_id = $1`, [externalId])
  return rows[0]
}

async function rowTotal (store: PostgresStore): Promise<number> {
  const { rows } = await store.pool.query(`SELECT count(*)::int AS n FROM "${store.schema}".webhook_log`)
  return rows[0].n
}

after(async () => {
  for (const close of closers.reverse()) await close().catch(() => {})
  if (skip === false) for (const schema of schemas) await dropSchema(schema)
})

test('a row claimed by a worker that died is left alone while its lease holds, then run by another engine', { skip }, async () => {
  const store = await freshStore()
  const log = new PostgresReceiveLog({ pool: store.pool, schema: store.schema })
  await log.record('peer', null, [{ externalId: 'orphan', type: 't', data: null }])
  // The dead worker: it claimed the row (for an hour) and never settled it.
  const { rows: claimed } = await store.pool.query(log.sql.claim, [10, 3_600_000])
  assert.equal(claimed.length, 1)
  const runs: string[] = []
  const app = await service(store, { handlers: { t: async (event) => { runs.push(String(event.externalId)) } } })
  // A row due after the orphan: once it is done, the engine has looked past the orphan.
  await log.record('peer', null, [{ externalId: 'canary', type: 't', data: null }])
  await until(async () => (await row(store, 'canary')).status === 'done')
  assert.deepEqual(runs, ['canary'])
  assert.deepEqual(await row(store, 'orphan'), { status: 'pending', attempts: 0, last_error: null }, 'leased: not taken')
  // The lease passes.
  await store.pool.query(`UPDATE "${store.schema}".webhook_log SET locked_until = now() - interval '1 second' WHERE external_id = 'orphan'`)
  await until(async () => (await row(store, 'orphan')).status === 'done')
  assert.deepEqual(runs, ['canary', 'orphan'])
  assert.equal((await row(store, 'orphan')).attempts, 1)
  await app.close()
})

test('no stranded rows: any pending row is claimable (one written by hand, one left after attempts by a dead worker); a pending row without a schedule is refused', { skip }, async () => {
  const store = await freshStore()
  const table = `"${store.schema}".webhook_log`
  // Neither has a job anywhere: the row is all there is.
  await store.pool.query(`INSERT INTO ${table} (app, external_id, type) VALUES ('peer', 'by-hand', 't')`)
  await store.pool.query(`INSERT INTO ${table} (app, external_id, type, attempts, last_error, locked_until)
    VALUES ('peer', 'after-3', 't', 3, 'Error: before the crash', now() - interval '1 minute')`)
  const attempts: number[] = []
  const app = await service(store, { handlers: { t: async (event) => { attempts.push(event.attempts) } } })
  await until(async () => (await app.webhooks.received.counts()).done === 2)
  assert.deepEqual(await row(store, 'after-3'), { status: 'done', attempts: 4, last_error: null }, 'run as attempt 4')
  assert.deepEqual(attempts.sort(), [0, 3])
  await assert.rejects(store.pool.query(`INSERT INTO ${table} (app, type, next_attempt_at) VALUES ('peer', 't', NULL)`), { code: '23514' })
})

test('two engines on one table run each of 200 events once, and both take part', { skip }, async () => {
  const first = await freshStore()
  const second = await freshStore(first.schema)
  const peer = callerApp('peer')
  await first.admin.createApp(peer)
  const runs = new Map<string, string[]>()
  const ran = (engine: string, id: string): void => { runs.set(id, [...(runs.get(id) ?? []), engine]) }
  let started = (): void => {}
  const firstStarted = new Promise<void>((resolve) => { started = resolve })
  let release = (): void => {}
  const secondRan = new Promise<void>((resolve) => { release = resolve })
  // Each engine holds the rows it claimed until the other has one (4 slots each): neither can take all.
  const a = await service(first, { processing: { concurrency: 4 }, handlers: { e: async (event) => { started(); await secondRan; ran('a', String(event.externalId)) } } })
  const b = await service(second, { processing: { concurrency: 4 }, handlers: { e: async (event) => { await firstStarted; ran('b', String(event.externalId)); release() } } })
  for (let batch = 0; batch < 4; batch++) {
    const events = Array.from({ length: 50 }, (_, index) => ({ id: batch * 50 + index, type: 'e' }))
    assert.equal((await post(batch % 2 === 0 ? a : b, peer, events)).statusCode, 204)
  }
  await until(async () => (await a.webhooks.received.counts()).done === 200)
  assert.equal(runs.size, 200)
  assert.deepEqual([...runs.values()].filter((engines) => engines.length !== 1), [], 'each event run exactly once')
  const engines = new Set([...runs.values()].flat())
  assert.deepEqual([...engines].sort(), ['a', 'b'])
})

test('the database down under the worker loop: told on onError, no crash, and events written meanwhile run once it is back', { skip }, async () => {
  const direct = await freshStore()
  const proxy = new TcpProxy(DATABASE_URL)
  await proxy.start()
  closers.push(async () => await proxy.close())
  const proxied = await freshStore(direct.schema, throughPort(DATABASE_URL, proxy.port))
  const errors: unknown[] = []
  const backend = createPostgresBackend(proxied, { onError: (error) => errors.push(error), receive: { pollingIntervalMs: 10, leaseMs: 60_000 } })
  const handled: string[] = []
  const app = await service(proxied, { backend, handlers: { t: async (event) => { handled.push(String(event.externalId)) } } })
  await proxy.cut()
  // The loop keeps claiming, and failing, while the database is away.
  await until(() => errors.length >= 3)
  const log = new PostgresReceiveLog({ pool: direct.pool, schema: direct.schema })
  await log.record('peer', null, [{ externalId: 'during', type: 't', data: null }])
  await proxy.restore()
  await until(async () => (await row(direct, 'during')).status === 'done')
  assert.deepEqual(handled, ['during'])
  assert.ok(errors.length >= 3)
  await app.close()
})

test('a handler that hangs: each run past processing.timeoutMs is a failed attempt (its signal aborted), retried, then error', { skip }, async () => {
  const store = await freshStore()
  const peer = callerApp('peer')
  await store.admin.createApp(peer)
  const signals: AbortSignal[] = []
  const app = await service(store, {
    processing: { timeoutMs: 30, maxAttempts: 2, baseDelayMs: 1, maxDelayMs: 2 },
    handlers: { hang: async (_event, context) => { signals.push(context.signal); await new Promise(() => {}) } }
  })
  assert.equal((await post(app, peer, { id: 'h', type: 'hang' })).statusCode, 204)
  await until(async () => (await row(store, 'h')).status === 'error')
  const failed = await row(store, 'h')
  assert.equal(failed.attempts, 2)
  assert.equal(failed.last_error, 'TimeoutError: the handler did not finish within 30 ms (processing.timeoutMs)')
  assert.equal(signals.length, 2)
  assert.ok(signals.every((signal) => signal.aborted))
  // The slots are free again: the next event runs.
  app.webhooks.on('next', async () => {})
  await post(app, peer, { id: 'n', type: 'next' })
  await until(async () => (await row(store, 'n')).status === 'done')
})

test('retry through the log: a row waiting out a long backoff is due now, and runs', { skip }, async () => {
  const store = await freshStore()
  const peer = callerApp('peer')
  await store.admin.createApp(peer)
  let runs = 0
  const app = await service(store, {
    processing: { baseDelayMs: 3_600_000, maxDelayMs: 3_600_000 },
    handlers: { later: async () => { if (++runs === 1) throw new Error('not yet') } }
  })
  await post(app, peer, { id: 'r', type: 'later' })
  await until(async () => (await row(store, 'r')).attempts === 1)
  const [waiting] = await app.webhooks.received.list({ type: 'later' })
  assert.equal(waiting.status, 'pending')
  assert.ok((waiting.nextAttemptAt?.getTime() ?? 0) > Date.now() + 60_000, 'the next attempt is far off')
  assert.equal(await app.webhooks.received.retry(waiting.id), 1)
  await until(async () => (await row(store, 'r')).status === 'done')
  assert.equal((await row(store, 'r')).attempts, 2)
  assert.equal(runs, 2)
})

test('the claim reads the partial index of due rows (webhook_log_due), not the table', { skip }, async () => {
  const store = await freshStore()
  const table = `"${store.schema}".webhook_log`
  await store.pool.query(`INSERT INTO ${table} (app, external_id, type, status, next_attempt_at)
    SELECT 'peer', g::text, 't', 'done', NULL FROM generate_series(1, 20000) g`)
  await store.pool.query(`INSERT INTO ${table} (app, external_id, type) SELECT 'peer', 'p' || g, 't' FROM generate_series(1, 10) g`)
  await store.pool.query(`ANALYZE ${table}`)
  const log = new PostgresReceiveLog({ pool: store.pool, schema: store.schema })
  const { rows } = await store.pool.query(`EXPLAIN ${log.sql.claim.replace('$1', '10').replace('$2', '60000')}`)
  const plan = rows.map((line) => line['QUERY PLAN']).join('\n')
  assert.match(plan, /Index Scan using webhook_log_due/)
  assert.doesNotMatch(plan, /Seq Scan/)
})

test('PostgresLogQueue as a JobQueue: enqueue writes nothing (the row is the schedule), other queues are refused, stop() waits for a running handler', { skip }, async () => {
  const store = await freshStore()
  const queue = new PostgresLogQueue({ pool: store.pool, schema: store.schema, pollingIntervalMs: 10 })
  const log = new PostgresReceiveLog({ pool: store.pool, schema: store.schema, wake: () => queue.wake(RECEIVE_QUEUE) })
  await queue.start()
  await queue.enqueue(RECEIVE_QUEUE, { id: 1, attempt: 1 })
  assert.equal(await rowTotal(store), 0)
  await assert.rejects(queue.enqueue('linked-services.webhook-outbox', { id: 1, attempt: 1 }), /runs the receive log only/)
  let release = (): void => {}
  const held = new Promise<void>((resolve) => { release = resolve })
  const jobs: JobData[] = []
  await queue.work(RECEIVE_QUEUE, async (job) => { jobs.push(job); await held })
  await assert.rejects(queue.work(RECEIVE_QUEUE, async () => {}), /already has a handler/)
  await log.record('peer', null, [{ externalId: 'x', type: 't', data: null }])
  await until(() => jobs.length === 1)
  assert.equal(jobs[0].attempt, 1)
  let stopped = false
  const stopping = queue.stop().then(() => { stopped = true })
  await new Promise((resolve) => setImmediate(resolve))
  assert.equal(stopped, false, 'still waiting for the handler')
  release()
  await stopping
  assert.equal(stopped, true)
})
