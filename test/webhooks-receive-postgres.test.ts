/**
 * The webhook receiver on PostgresStore (table webhook_log, each pending row its own job):
 * idempotency under concurrent redeliveries, one statement per request, all or nothing (a bad
 * event, a row refused in the middle of the statement), 204 only once durable, 503 while the database is down and recovery after,
 * handlers retried to a final error, and the built-in user events on the database.
 * Skipped with a message when PostgreSQL does not answer; fails under CI.
 */
import { after, before, describe, test } from 'node:test'
import assert from 'node:assert/strict'
import type { FastifyInstance } from 'fastify'
import type { Pool, QueryConfig } from 'pg'
import { PostgresStore } from '../plugin/stores/postgres-store.js'
import type { AppRecord } from '../plugin/index.js'
import { PostgresReceiveLog } from '../plugin/webhooks/receive/postgres-log.js'
import { DATABASE_URL, dropSchema, servicesSkipSync, TcpProxy, throughPort, uniqueSchema } from './helpers/services.js'
import { callerApp, PATH, post, receiver, until } from './webhooks-receive-helpers.js'

const skip = servicesSkipSync({ postgres: true })
const schemas: string[] = []
const closers: Array<() => Promise<unknown>> = []

async function freshStore (connectionString = DATABASE_URL, schema = uniqueSchema('whr')): Promise<PostgresStore> {
  if (!schemas.includes(schema)) schemas.push(schema)
  const store = new PostgresStore({ connectionString, schema })
  closers.push(async () => await store.close())
  await store.migrate()
  return store
}

async function rowCount (store: PostgresStore, where = 'true', values: unknown[] = []): Promise<number> {
  const { rows } = await store.pool.query(`SELECT count(*)::int AS n FROM "${store.schema}".webhook_log WHERE ${where}`, values)
  return rows[0].n
}

after(async () => {
  for (const close of closers.reverse()) await close().catch(() => {})
  if (skip === false) {
    for (const schema of schemas) {
      await dropSchema(`${schema}_jobs`)
      await dropSchema(schema)
    }
  }
})

describe('webhook receiver on PostgreSQL', { skip }, () => {
  let store: PostgresStore
  let app: FastifyInstance
  let peer: AppRecord
  const seen: Array<{ type: string, data: unknown }> = []
  let failures = 0

  before(async () => {
    store = await freshStore()
    peer = callerApp('peer')
    await store.admin.createApp(peer)
    app = await receiver(store, {
      receive: { path: PATH },
      processing: { maxAttempts: 3, baseDelayMs: 10, maxDelayMs: 20 },
      handlers: {
        seen: async (event) => { seen.push({ type: event.type, data: event.data }) },
        race: async () => {},
        batch: async () => {},
        failing: async () => { failures++; throw new Error(`failure ${failures}`) }
      }
    })
    closers.push(async () => await app.close())
  })

  test('one event: 204 once the row is committed; the handler runs from the log and the row ends done', async () => {
    const response = await post(app, peer, { id: 1, type: 'seen', data: { v: 1 } })
    assert.equal(response.statusCode, 204)
    // Committed before the answer: another connection sees it at once.
    assert.equal(await rowCount(store, 'external_id = $1 AND type = $2', ['1', 'seen']), 1)
    await until(async () => (await app.webhooks.received.list({ type: 'seen' }))[0]?.status === 'done')
    const [row] = await app.webhooks.received.list({ type: 'seen' })
    assert.equal(row.app, 'peer')
    assert.equal(row.externalId, '1')
    assert.equal(row.attempts, 1)
    assert.deepEqual(seen, [{ type: 'seen', data: { v: 1 } }])
  })

  test('redeliveries: the same data changes nothing; new data updates the row, back to pending, and the handler sees it', async () => {
    const before = (await app.webhooks.received.list({ type: 'seen' }))[0]
    assert.equal((await post(app, peer, { id: 1, type: 'seen', data: { v: 1 } })).statusCode, 204)
    const same = await app.webhooks.received.get(before.id)
    assert.deepEqual(same?.updatedAt, before.updatedAt)
    assert.equal(same?.status, 'done')
    assert.equal((await post(app, peer, { id: 1, type: 'seen', data: { v: 2 } })).statusCode, 204)
    await until(() => seen.length === 2)
    await until(async () => (await app.webhooks.received.get(before.id))?.status === 'done')
    assert.deepEqual(seen[1], { type: 'seen', data: { v: 2 } })
    assert.equal(await rowCount(store, 'type = $1', ['seen']), 1, 'never a second row')
  })

  test('concurrent redeliveries of one event, and overlapping batches in any order: one row per event, no deadlock', async () => {
    const copies = await Promise.all(Array.from({ length: 20 }, async (_, index) =>
      await post(app, peer, { id: 'same', type: 'race', data: { copy: index % 2 } })))
    assert.deepEqual([...new Set(copies.map((response) => response.statusCode))], [204])
    assert.equal(await rowCount(store, 'type = $1', ['race']), 1)
    const ids = Array.from({ length: 30 }, (_, index) => index)
    const batches = await Promise.all(Array.from({ length: 8 }, async (_, index) => {
      const order = index % 2 === 0 ? ids : [...ids].reverse()
      return await post(app, peer, order.map((id) => ({ id, type: 'batch', data: { from: index } })))
    }))
    assert.deepEqual([...new Set(batches.map((response) => response.statusCode))], [204])
    assert.equal(await rowCount(store, 'type = $1', ['batch']), 30)
  })

  test('a malformed event: 400 naming it, nothing of the request stored', async () => {
    const response = await post(app, peer, [{ id: 100, type: 'aon' }, { id: 101, type: 'aon' }, { id: 102, type: 'aon' }, { id: [1], type: 'aon' }])
    assert.equal(response.statusCode, 400)
    assert.match(response.json().message, /events\[3\]\.id must be an integer or a string/)
    assert.equal(await rowCount(store, 'type = $1', ['aon']), 0)
  })

  test('a handler that keeps failing: retried with backoff, then error with 3 attempts and the last error', async () => {
    await post(app, peer, { id: 1, type: 'failing' })
    await until(async () => (await app.webhooks.received.list({ type: 'failing' }))[0]?.status === 'error')
    const [row] = await app.webhooks.received.list({ type: 'failing' })
    assert.equal(row.attempts, 3)
    assert.equal(row.lastError, 'Error: failure 3')
    assert.equal(failures, 3)
  })

  test('no handler: error at once; on() then retry: done', async () => {
    await post(app, peer, { id: 1, type: 'later', data: { n: 1 } })
    await until(async () => (await app.webhooks.received.list({ type: 'later' }))[0]?.status === 'error')
    const [row] = await app.webhooks.received.list({ type: 'later' })
    assert.equal(row.lastError, 'no handler for type later')
    const handled: unknown[] = []
    app.webhooks.on('later', async (event) => { handled.push(event.data) })
    assert.equal(await app.webhooks.received.retry({ app: 'peer' }), 2, 'the failed rows of the app: "later" and "failing"')
    await until(async () => (await app.webhooks.received.get(row.id))?.status === 'done')
    assert.deepEqual(handled, [{ n: 1 }])
    const counts = await app.webhooks.received.counts({ app: 'peer' })
    assert.equal(counts.pending + counts.done + counts.error, await rowCount(store))
  })

  test('built-in user.created on PostgresStore: the user with that email is linked, not duplicated (found by findUsersByEmail, never by reading every user); user.updated renames', async (t) => {
    await store.admin.addUser({ id: 900, username: 'bea', email: 'bea@example.com', first_name: 'Bea', last_name: 'Old' })
    assert.deepEqual((await store.findUsersByEmail(' BEA@Example.com')).map((user) => user.id), [900])
    assert.deepEqual(await store.findUsersByEmail('nobody@example.com'), [])
    const listUsers = store.admin.listUsers
    store.admin.listUsers = async () => { throw new Error('the import read every user') }
    t.after(() => { store.admin.listUsers = listUsers })
    await post(app, peer, { id: 1, type: 'user.created', data: { id: 61, email: 'BEA@example.com', first_name: 'Bea', last_name: 'Old' } })
    await until(async () => (await app.webhooks.received.list({ type: 'user.created' }))[0]?.status === 'done')
    const linked = await store.findUserByCredential('peer', '61')
    assert.equal(linked?.id, 900)
    await post(app, peer, { id: 2, type: 'user.updated', data: { id: 61, email: 'bea@example.com', first_name: 'Beatriz', last_name: 'New' } })
    await until(async () => (await app.webhooks.received.list({ type: 'user.updated' }))[0]?.status === 'done')
    const renamed = await store.findUserByCredential('peer', '61')
    assert.equal(renamed?.first_name, 'Beatriz')
    assert.equal(renamed?.last_name, 'New')
    await post(app, peer, { id: 3, type: 'user.created', data: { id: 62, email: 'carl@example.com', first_name: 'Carl', last_name: 'C' } })
    await until(async () => (await store.findUserByCredential('peer', '62')) !== null)
    store.admin.listUsers = listUsers
    const users = await store.admin.listUsers()
    assert.equal(users.filter((user) => user.email === 'bea@example.com').length, 1)
    assert.equal(users.length, 2)
  })
})

/** `pool`, with every query it runs handed to `seen` (as a config: text, and name when prepared). */
function recordingPool (pool: Pool, seen: (query: QueryConfig) => void): Pool {
  return new Proxy(pool, {
    get (target, property) {
      if (property === 'query') {
        return async (query: string | QueryConfig, values?: unknown[]) => {
          seen(typeof query === 'string' ? { text: query } : query)
          return await target.query(query, values)
        }
      }
      const value = Reflect.get(target, property)
      return typeof value === 'function' ? value.bind(target) : value
    }
  })
}

describe('webhook receiver on PostgreSQL: prepared statements', { skip }, () => {
  test('the log\'s writes are named prepared statements, one name per statement text: logs of two schemas share a pool', async () => {
    const store = await freshStore()
    const other = await freshStore()
    const names: Array<string | undefined> = []
    const pool = recordingPool(store.pool, (query) => names.push(query.name))
    const logs = [new PostgresReceiveLog({ pool, schema: store.schema }), new PostgresReceiveLog({ pool, schema: other.schema })]
    const batch = [{ externalId: 'a', type: 'many', data: 1 }, { externalId: 'b', type: 'many', data: 2 }]
    for (let round = 1; round <= 2; round++) {
      for (const log of logs) {
        assert.equal(await log.record('peer', null, [{ externalId: String(round), type: 'one', data: { round } }]), 1)
        assert.equal(await log.record('peer', null, batch.map((event) => ({ ...event, data: round }))), 2)
      }
    }
    // [one, batch] for the first schema, then for the second, twice over.
    assert.equal(names.length, 8)
    assert.ok(names.every((name) => /^linked_services_[0-9a-f]{24}$/.test(name ?? '')), names.join(', '))
    assert.deepEqual(names.slice(4), names.slice(0, 4), 'the same statement keeps its name')
    assert.equal(new Set(names).size, 4, 'one name per statement and schema')
    assert.equal(await rowCount(store), 4)
    assert.equal(await rowCount(other), 4)
  })

  test('PostgresStore preparedStatements: false (a pooler that cannot keep them): unnamed writes, and the receiver still stores its events', async () => {
    assert.throws(() => new PostgresStore({ connectionString: DATABASE_URL, preparedStatements: 'no' as unknown as boolean }), (error: Error & { code?: string }) =>
      error.code === 'FST_LINKED_SERVICES_INVALID_OPTION' && /preparedStatements/.test(error.message))
    const schema = uniqueSchema('whr')
    schemas.push(schema)
    const store = new PostgresStore({ connectionString: DATABASE_URL, schema, preparedStatements: false })
    closers.push(async () => await store.close())
    await store.migrate()
    assert.equal(store.preparedStatements, false)
    const names: Array<string | undefined> = []
    const log = new PostgresReceiveLog({ pool: recordingPool(store.pool, (query) => names.push(query.name)), schema, preparedStatements: store.preparedStatements })
    assert.equal(await log.record('peer', null, [{ externalId: '1', type: 'one', data: {} }]), 1)
    assert.deepEqual(names, [undefined])
    const peer = callerApp('peer')
    await store.admin.createApp(peer)
    const app = await receiver(store)
    closers.push(async () => await app.close())
    const response = await post(app, peer, { id: 2, type: 'seen', data: { v: 2 } })
    assert.equal(response.statusCode, 204)
    assert.equal(await rowCount(store, 'external_id = $1', ['2']), 1)
  })
})

describe('webhook receiver on PostgreSQL: failures', { skip }, () => {
  test('a request is ONE statement in autocommit: no BEGIN, no job insert, whatever the batch size', async () => {
    const store = await freshStore()
    const statements: string[] = []
    const counted = recordingPool(store.pool, (query) => statements.push(query.text))
    const log = new PostgresReceiveLog({ pool: counted, schema: store.schema })
    assert.equal(await log.record('peer', null, [{ externalId: '1', type: 'one', data: { n: 1 } }]), 1)
    assert.equal(statements.length, 1)
    const events = Array.from({ length: 100 }, (_, index) => ({ externalId: String(index), type: 'many', data: { index } }))
    assert.equal(await log.record('peer', '7', events), 100)
    assert.equal(statements.length, 2, 'a batch of 100 is one statement too')
    assert.ok(statements.every((text) => /^\s*INSERT INTO/.test(text)), 'no BEGIN, no COMMIT')
    // Stored pending and due now: the row is its own job.
    assert.equal(await rowCount(store, "status = 'pending' AND next_attempt_at <= now() AND locked_until IS NULL"), 101)
    assert.equal(await log.record('peer', '7', events), 0, 'the same data again: nothing queued')
    assert.equal(statements.length, 3)
  })

  test('all or nothing in that one statement: a row refused mid-request (a trigger fails the third event) stores none (503); the redelivery stores all four', async () => {
    const store = await freshStore()
    const peer = callerApp('peer')
    await store.admin.createApp(peer)
    const table = `"${store.schema}".webhook_log`
    await store.pool.query(`CREATE FUNCTION "${store.schema}".refuse_third () RETURNS trigger LANGUAGE plpgsql AS $$
      BEGIN IF NEW.external_id = '3' THEN RAISE EXCEPTION 'the database went away'; END IF; RETURN NEW; END $$`)
    await store.pool.query(`CREATE TRIGGER refuse_third BEFORE INSERT ON ${table} FOR EACH ROW EXECUTE FUNCTION "${store.schema}".refuse_third()`)
    const app = await receiver(store, { receive: { path: PATH }, handlers: { mid: async () => {} } })
    closers.push(async () => await app.close())
    const response = await post(app, peer, [1, 2, 3, 4].map((id) => ({ id, type: 'mid', data: { id } })))
    assert.equal(response.statusCode, 503)
    assert.equal(response.json().code, 'FST_LINKED_SERVICES_RECEIVED_WEBHOOK_UNAVAILABLE')
    assert.doesNotMatch(response.body, /went away/, 'the cause is logged, not sent')
    assert.equal(await rowCount(store, 'type = $1', ['mid']), 0, 'the statement failed whole: no event of the request is stored')
    // The sender's retry redelivers: all four, once, and handled.
    await store.pool.query(`DROP TRIGGER refuse_third ON ${table}`)
    assert.equal((await post(app, peer, [1, 2, 3, 4].map((id) => ({ id, type: 'mid', data: { id } })))).statusCode, 204)
    assert.equal(await rowCount(store, 'type = $1', ['mid']), 4)
    await until(async () => (await app.webhooks.received.counts()).done === 4)
  })

  test('the database down: 503 coded (fail closed) while it is down, 204 and stored once it is back', async () => {
    const proxy = new TcpProxy(DATABASE_URL)
    await proxy.start()
    closers.push(async () => await proxy.close())
    const direct = await freshStore()
    const peer = callerApp('peer')
    await direct.admin.createApp(peer)
    const store = await freshStore(throughPort(DATABASE_URL, proxy.port), direct.schema)
    const app = await receiver(store, { receive: { path: PATH } })
    closers.push(async () => await app.close())
    assert.equal((await post(app, peer, { id: 1, type: 'outage' })).statusCode, 204, 'the app is known (and cached) before the outage')
    await proxy.cut()
    const down = await post(app, peer, { id: 2, type: 'outage' })
    assert.equal(down.statusCode, 503)
    assert.equal(down.json().code, 'FST_LINKED_SERVICES_RECEIVED_WEBHOOK_UNAVAILABLE')
    await proxy.restore()
    let back = 0
    await until(async () => (back = (await post(app, peer, { id: 2, type: 'outage' })).statusCode) === 204)
    assert.equal(back, 204)
    assert.equal(await rowCount(direct, 'type = $1', ['outage']), 2)
  })

  test('a schema without migration 3: ready() fails, naming the migration', async () => {
    const schema = uniqueSchema('whr_nomig')
    schemas.push(schema)
    const store = new PostgresStore({ connectionString: DATABASE_URL, schema })
    closers.push(async () => await store.close())
    await store.pool.query(`CREATE SCHEMA "${schema}"; CREATE TABLE "${schema}".apps (id int)`)
    await assert.rejects(receiver(store), /migration 3/)
  })
})
