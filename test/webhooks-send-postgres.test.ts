/**
 * The sending half on PostgreSQL (PostgresStore, PgBossJobs, PostgresOutbox) against an HTTP
 * receiver in this process: an event is sent if and only if the caller's transaction commits, a
 * database that does not answer makes `send` fail with a coded 503 (nothing buffered) and recovers,
 * retries go through the rows and the job table, two senders on one database deliver each event
 * once, and the operator's view reads the table.
 */
import { after, before, describe, test } from 'node:test'
import assert from 'node:assert/strict'
import pg from 'pg'
import { MemoryStore } from '../plugin/index.js'
import { PostgresStore } from '../plugin/stores/postgres-store.js'
import { PgBossJobs } from '../plugin/webhooks/jobs/pg-boss-jobs.js'
import { PostgresOutbox } from '../plugin/webhooks/send/postgres-outbox.js'
import { createSender, type Sender } from '../plugin/webhooks/send/sender.js'
import type { OutgoingWebhook } from '../plugin/webhooks/types.js'
import { startRecorder, type Recorder } from './fixtures/webhook-recorder.js'
import { APP_NAME, hmacApp } from './helpers/server.js'
import { DATABASE_URL, TcpProxy, dropSchema, servicesSkipSync, throughPort, uniqueSchema, waitFor } from './helpers/services.js'

const skip = servicesSkipSync({ postgres: true })
const FAST = { baseDelayMs: 50, maxDelayMs: 200, maxAttempts: 5 }

describe('webhooks sent from PostgreSQL', { skip }, () => {
  const schema = uniqueSchema('wh_send')
  let store: PostgresStore
  let recorder: Recorder
  const running: Array<{ jobs: PgBossJobs, sender: Sender }> = []

  async function instance (options: { outboxPool?: pg.Pool, store?: { getApp: PostgresStore['getApp'] }, sweepIntervalMs?: number } = {}): Promise<{ jobs: PgBossJobs, outbox: PostgresOutbox, sender: Sender }> {
    const jobs = new PgBossJobs({ pool: store.pool, schema, pollingIntervalSeconds: 0.5, expireInSeconds: 5, maintenanceIntervalSeconds: 1 })
    await jobs.start()
    const outbox = new PostgresOutbox({ pool: options.outboxPool ?? store.pool, schema, jobs })
    const sender = createSender({ appName: APP_NAME, store: options.store ?? store, outbox, jobs, policy: FAST, sweepIntervalMs: options.sweepIntervalMs })
    await sender.start()
    running.push({ jobs, sender })
    return { jobs, outbox, sender }
  }

  async function settled (outbox: PostgresOutbox, id: number): Promise<OutgoingWebhook> {
    let row: OutgoingWebhook | null = null
    await waitFor(async () => {
      row = await outbox.get(id)
      return row !== null && row.status !== 'pending'
    }, 20_000, 20)
    return row as unknown as OutgoingWebhook
  }

  const postsOf = (id: number): number => recorder.posts.filter((post) => (post.body as { id: number }).id === id).length

  before(async () => {
    store = new PostgresStore({ connectionString: DATABASE_URL, schema, maxConnections: 12 })
    await store.migrate()
    recorder = await startRecorder()
    await store.addApp(hmacApp('4geeks', { webhookUrl: recorder.url }))
  })

  async function stopAll (): Promise<void> {
    for (const { jobs, sender } of running.splice(0)) {
      await jobs.stop(2000)
      await sender.stop()
    }
  }

  after(async () => {
    await stopAll()
    await recorder?.close()
    await store?.close()
    await dropSchema(`${schema}_jobs`)
    await dropSchema(schema)
  })

  test('without db: written, delivered, the row says so; ids are the table\'s integers', async () => {
    const { sender, outbox } = await instance()
    recorder.answer = () => ({ status: 204 })
    const event = await sender.send('4geeks', 'user.updated', { email: 'a@b.c' }, { user: 5 })
    assert.ok(Number.isSafeInteger(event.id))
    assert.equal(event.status, 'pending')
    assert.equal(event.userId, '5')
    const row = await settled(outbox, event.id)
    assert.equal(row.status, 'delivered')
    assert.equal(row.attempts, 1)
    assert.equal(row.lastStatusCode, 204)
    const post = recorder.posts.find((p) => (p.body as { id: number }).id === event.id)
    assert.deepEqual(post?.body, { id: event.id, type: 'user.updated', data: { email: 'a@b.c' } })
    assert.equal(post?.claims?.sub, '5')
  })

  test('with db: sent if and only if the caller\'s transaction commits', async () => {
    const { sender, outbox } = await instance()
    const client = await store.pool.connect()
    let rolledBack: OutgoingWebhook
    let committed: OutgoingWebhook
    try {
      await client.query('BEGIN')
      rolledBack = await sender.send('4geeks', 'order.cancelled', { n: 1 }, { db: client })
      await client.query('ROLLBACK')
      await client.query('BEGIN')
      committed = await sender.send('4geeks', 'order.paid', { n: 2 }, { db: client })
      // Not visible outside the transaction until it commits.
      assert.equal(await outbox.get(committed.id), null)
      await client.query('COMMIT')
    } finally {
      client.release()
    }
    assert.equal((await settled(outbox, committed.id)).status, 'delivered')
    assert.equal(postsOf(committed.id), 1)
    assert.equal(await outbox.get(rolledBack.id), null)
    const { rows } = await store.pool.query(`SELECT count(*)::int AS n FROM "${schema}_jobs".job WHERE (data->>'id')::bigint = $1`, [rolledBack.id])
    assert.equal(rows[0].n, 0, 'the rolled-back event left no job')
    assert.equal(postsOf(rolledBack.id), 0)
  })

  test('PostgreSQL down: send fails with a coded 503, nothing is buffered; back up, send works again', async () => {
    const proxy = new TcpProxy(DATABASE_URL)
    await proxy.start()
    const outboxPool = new pg.Pool({ connectionString: throughPort(DATABASE_URL, proxy.port), max: 2, connectionTimeoutMillis: 1000 })
    outboxPool.on('error', () => {})
    try {
      const { sender, outbox } = await instance({ outboxPool })
      await proxy.cut()
      await assert.rejects(sender.send('4geeks', 'a', { down: true }), (error: Error & { code: string, statusCode: number }) => {
        assert.equal(error.code, 'FST_LINKED_SERVICES_WEBHOOK_OUTBOX_UNAVAILABLE')
        assert.equal(error.statusCode, 503)
        assert.match(error.message, /nothing will be sent, call send again/)
        assert.doesNotMatch(error.message, /ECONNREFUSED|127\.0\.0\.1/, 'what the driver said stays in cause')
        return true
      })
      // The store too: the whole database down refuses at the app lookup, also a 503.
      const downStore = new PostgresStore({ connectionString: throughPort(DATABASE_URL, proxy.port), schema, connectionTimeout: 1000 })
      const downSender = createSender({ appName: APP_NAME, store: downStore, outbox, jobs: running[running.length - 1].jobs })
      await assert.rejects(downSender.send('4geeks', 'a', {}), { code: 'FST_LINKED_SERVICES_STORE_UNAVAILABLE', statusCode: 503 })
      await downStore.close()
      const { rows } = await store.pool.query(`SELECT count(*)::int AS n FROM "${schema}".webhook_outbox WHERE data @> '{"down": true}'`)
      assert.equal(rows[0].n, 0)

      await proxy.restore()
      const event = await sender.send('4geeks', 'a', { back: true })
      assert.equal((await settled(outbox, event.id)).status, 'delivered')
    } finally {
      await proxy.close()
      await outboxPool.end()
    }
  })

  test('5xx then 2xx: each attempt recorded on the row, the next job in the same transaction', async () => {
    const { sender, outbox } = await instance()
    let failures = 0
    recorder.answer = (_index, post) => (post.body as { type: string }).type === 'flaky' && failures++ < 2 ? { status: 502 } : { status: 204 }
    const event = await sender.send('4geeks', 'flaky', {})
    const row = await settled(outbox, event.id)
    assert.equal(row.status, 'delivered')
    assert.equal(row.attempts, 3)
    assert.equal(postsOf(event.id), 3)
    recorder.answer = () => ({ status: 204 })
  })

  test('two senders on one database: each event delivered once', async () => {
    const a = await instance()
    const b = await instance()
    const events: OutgoingWebhook[] = []
    for (let n = 0; n < 60; n++) events.push(await (n % 2 === 0 ? a : b).sender.send('4geeks', 'pair', { n }))
    await waitFor(async () => (await a.outbox.counts()).pending === 0, 30_000, 50)
    for (const event of events) assert.equal(postsOf(event.id), 1, `event ${event.id} POSTed ${postsOf(event.id)} times`)
    assert.equal((await a.outbox.list({ type: 'pair', status: 'delivered', limit: 100 })).length, 60)
  })

  test('the operator\'s view: list, get, counts, oldest pending, retry of dead rows, purge', async () => {
    // The senders of earlier tests read apps from the PostgresStore, which has no "ops": one of
    // them taking an "ops" job would record it dead ("removed from the store"). Only this test's runs.
    await stopAll()
    const appStore = new MemoryStore({ apps: [hmacApp('ops', { webhookUrl: recorder.url })] })
    const { sender, outbox } = await instance({ store: appStore })
    recorder.answer = (_index, post) => (post.body as { type: string }).type === 'refused' ? { status: 410 } : { status: 204 }
    const dead = await sender.send('ops', 'refused', {})
    const fine = await sender.send('ops', 'fine', {})
    assert.equal((await settled(outbox, dead.id)).lastError, 'receiver answered 410')
    await settled(outbox, fine.id)
    assert.deepEqual(await outbox.counts({ app: 'ops' }), { pending: 0, delivered: 1, dead: 1 })
    assert.deepEqual((await outbox.list({ app: 'ops' })).map((row) => row.id), [fine.id, dead.id])
    assert.deepEqual((await outbox.list({ app: 'ops', status: 'dead' })).map((row) => row.id), [dead.id])
    assert.equal(await outbox.oldestPendingAt({ app: 'ops' }), null)
    assert.equal(await outbox.get(Number.MAX_SAFE_INTEGER), null)

    recorder.answer = () => ({ status: 204 })
    assert.equal(await outbox.retry(fine.id), 0, 'only dead rows are retried')
    assert.equal(await outbox.retry({ app: 'ops' }), 1)
    const retried = await settled(outbox, dead.id)
    assert.equal(retried.status, 'delivered')
    assert.equal(retried.attempts, 2)
    assert.equal(await outbox.purge({ app: 'ops', status: 'delivered' }), 2)
    assert.deepEqual(await outbox.counts({ app: 'ops' }), { pending: 0, delivered: 0, dead: 0 })
  })

  test('a pending event whose job was lost (given up during a long outage) is queued again by the sweep and delivered once', async () => {
    await stopAll()
    recorder.answer = () => ({ status: 204 })
    // A row as a lost job leaves it: pending, due ten minutes ago, no job in pg-boss.
    const { rows } = await store.pool.query(`INSERT INTO "${schema}".webhook_outbox (app, type, data, attempts, next_attempt_at)
      VALUES ('4geeks', 'order.paid', '{"lost":true}', 2, now() - interval '10 minutes') RETURNING id`)
    const id = Number(rows[0].id)
    const { outbox } = await instance({ sweepIntervalMs: 50 })
    const row = await settled(outbox, id)
    assert.equal(row.status, 'delivered', row.lastError ?? '')
    assert.equal(row.attempts, 3, 'the sweep queued the next attempt, not a new first one')
    // Later sweeps find nothing overdue: one POST.
    const jobs = await store.pool.query(`SELECT count(*)::int AS n FROM "${schema}_jobs".job WHERE data->>'id' = $1`, [String(id)])
    assert.ok(jobs.rows[0].n >= 1)
    assert.equal(postsOf(id), 1)
  })
})
