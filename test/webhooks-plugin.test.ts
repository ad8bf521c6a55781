/**
 * linkedWebhooks as a plugin: its options are checked once with coded errors that name the fix,
 * it needs linkedServices, it mounts a receiver only when asked, picks its backend from the
 * store, and starts and stops its jobs with Fastify, leaving open what it did not open.
 */
import { after, test } from 'node:test'
import assert from 'node:assert/strict'
import Fastify from 'fastify'
import pg from 'pg'
import linkedServices, { MemoryStore } from '../plugin/index.js'
import { PostgresStore } from '../plugin/stores/postgres-store.js'
import linkedWebhooks from '../plugin/webhooks/plugin.js'
import { DATABASE_URL, dropSchema, servicesSkipSync, uniqueSchema } from './helpers/services.js'
import { callerApp, PATH, post, receiver, RECEIVER, until } from './webhooks-receive-helpers.js'

async function register (options: unknown): Promise<void> {
  const app = Fastify({ logger: false })
  try {
    await app.register(linkedServices, { appName: RECEIVER, store: new MemoryStore() })
    await app.register(linkedWebhooks, options as never)
    await app.ready()
  } finally {
    await app.close()
  }
}

test('options: an unknown key, a bad value or a missing path is refused with a coded error naming the fix', async () => {
  const cases: Array<[unknown, RegExp]> = [
    [{ recieve: { path: PATH } }, /unknown option recieve \(did you mean receive\?\)/],
    [{ receive: { path: PATH, maxEvent: 5 } }, /unknown option receive\.maxEvent \(did you mean receive\.maxEvents\?\)/],
    [{ receive: {} }, /receive\.path is required/],
    [{ receive: { path: 'v1/webhook' } }, /receive\.path must be a URL path starting with "\/"/],
    [{ receive: { path: PATH, maxEvents: 0 } }, /receive\.maxEvents must be at least 1/],
    [{ receive: { path: PATH, mode: 'both' } }, /receive\.mode must be one of "jwt", "signature"/],
    [{ processing: { maxAttempts: 0 } }, /processing\.maxAttempts must be at least 1/],
    [{ processing: { baseDelayMs: 100, maxDelayMs: 10 } }, /processing\.maxDelayMs must be at least processing\.baseDelayMs/],
    [{ handlers: { 'order.paid': 'not a function' } }, /the handler of "order\.paid" must be an async function/],
    [{ backend: {} }, /backend must be an object with the methods start, stop/],
    [{ processing: { timeoutMs: 60_000 } }, /processing\.leaseMs \(60000\) must be more than processing\.timeoutMs \(60000\).*raise leaseMs or lower timeoutMs/],
    [{ delivery: { timeoutMs: 30_000 } }, /delivery\.leaseMs \(30000\) must be more than delivery\.timeoutMs \(30000\).*delivery could be run twice/],
    [{ delivery: { pollingIntervalMs: 100 } }, /delivery\.pollingIntervalMs/],
    [{ processing: { pollingIntervalMs: 0 } }, /processing\.pollingIntervalMs must be at least 1/]
  ]
  for (const [options, message] of cases) {
    await assert.rejects(register(options), (error: Error & { code?: string }) => {
      assert.equal(error.code, 'FST_LINKED_SERVICES_INVALID_OPTION', JSON.stringify(options))
      assert.match(error.message, message)
      return true
    })
  }
  // Bad route scopes are refused by scope() itself.
  await assert.rejects(register({ receive: { path: PATH, scopes: ['Not A Scope'] } }), /FST_LINKED_SERVICES_INVALID_SCOPE|is not "action:data"/)
})

test('linkedWebhooks needs linkedServices registered first', async () => {
  const app = Fastify({ logger: false })
  await assert.rejects(async () => {
    await app.register(linkedWebhooks, {})
    await app.ready()
  }, /fastify-linked-services/)
  await app.close()
})

test('without receive no route is mounted (send only); with it the route exists at the path', async (t) => {
  const peer = callerApp()
  const sendOnly = await receiver(new MemoryStore({ apps: [peer] }), {})
  t.after(async () => await sendOnly.close())
  assert.equal((await post(sendOnly, peer, { id: 1 })).statusCode, 404)
  assert.deepEqual(await sendOnly.webhooks.stats(), { outbox: { pending: 0, delivered: 0, dead: 0, oldestPendingAgeMs: null }, received: { pending: 0, done: 0, error: 0 } })
})

test('app.close() stops the jobs: an event received just before closing does not keep the process alive', async () => {
  const peer = callerApp()
  let release: () => void = () => {}
  const started = new Promise<void>((resolve) => { release = resolve })
  const app = await receiver(new MemoryStore({ apps: [peer] }), {
    receive: { path: PATH },
    handlers: { slow: async () => { release(); await new Promise((resolve) => setTimeout(resolve, 50)) } }
  })
  await post(app, peer, { id: 1, type: 'slow' })
  await started
  await app.close()
  // The running handler was waited for: its row was settled before close returned.
  assert.equal((await app.webhooks.received.list())[0].status, 'done')
})

const skip = servicesSkipSync({ postgres: true })
const schemas: string[] = []
after(async () => {
  if (skip === false) {
    for (const schema of schemas) {
      await dropSchema(`${schema}_jobs`)
      await dropSchema(schema)
    }
  }
})

test('a PostgresStore on a pool of yours: the PostgreSQL backend is used, and close() leaves your pool open', { skip }, async () => {
  const schema = uniqueSchema('whplugin')
  schemas.push(schema)
  const pool = new pg.Pool({ connectionString: DATABASE_URL, max: 5 })
  try {
    const store = new PostgresStore({ pool, schema })
    await store.migrate()
    const peer = callerApp()
    await store.admin.createApp(peer)
    const app = await receiver(store, { receive: { path: PATH }, handlers: { t: async () => {} } })
    assert.equal((await post(app, peer, { id: 1, type: 't' })).statusCode, 204)
    await until(async () => (await app.webhooks.received.counts()).done === 1)
    const { rows } = await pool.query(`SELECT status FROM "${schema}".webhook_log`)
    assert.deepEqual(rows, [{ status: 'done' }], 'stored in the store\'s schema')
    await app.close()
    assert.equal((await pool.query('SELECT 1 AS one')).rows[0].one, 1, 'the pool is still yours, open')
  } finally {
    await pool.end()
  }
})

test('two services through the plugin: A\'s webhooks.send is delivered to B\'s receiver, stored once, handled; stats on both sides', async (t) => {
  const key = callerApp('a').privateKey as string
  // B knows A (the caller), A knows B (the receiver, with its webhookUrl).
  const b = await receiver(new MemoryStore({ apps: [callerApp('a', { privateKey: key })] }), {
    receive: { path: PATH },
    handlers: { 'order.paid': async () => {} }
  })
  t.after(async () => await b.close())
  const address = await b.listen({ host: '127.0.0.1', port: 0 })
  const a = Fastify({ logger: false })
  t.after(async () => await a.close())
  await a.register(linkedServices, {
    appName: 'a',
    store: new MemoryStore({ apps: [{ slug: RECEIVER, algorithm: 'HMAC_SHA256', privateKey: key, requireAnAgreement: false, webhookUrl: `${address}${PATH}` }] })
  })
  await a.register(linkedWebhooks, { delivery: { baseDelayMs: 10, maxDelayMs: 20 } })
  await a.ready()
  const sent = await a.webhooks.send(RECEIVER, 'order.paid', { total: 5 })
  assert.equal(sent.status, 'pending')
  await until(async () => (await a.webhooks.outbox.get(sent.id))?.status === 'delivered')
  await until(async () => (await b.webhooks.received.counts()).done === 1)
  const [row] = await b.webhooks.received.list()
  assert.equal(row.app, 'a')
  assert.equal(row.externalId, String(sent.id), 'the outbox id is the event id')
  assert.deepEqual(row.data, { total: 5 })
  const stats = await a.webhooks.stats()
  assert.equal(stats.outbox.delivered, 1)
  assert.equal(stats.outbox.oldestPendingAgeMs, null)
})
