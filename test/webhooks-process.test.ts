/**
 * Handlers run from the receive log (MemoryStore, in-process jobs): done, retried with backoff to
 * a final error with the last error and the attempts, "no handler for type X" and `retry`, and
 * the built-in user.created / user.updated (an existing user with that email is linked, never
 * duplicated).
 */
import diagnosticsChannel from 'node:diagnostics_channel'
import { test } from 'node:test'
import assert from 'node:assert/strict'
import { MemoryStore } from '../plugin/index.js'
import { WebhookUnprocessableError } from '../plugin/errors.js'
import type { ReceivedWebhook } from '../plugin/webhooks/types.js'
import { MemoryJobs } from '../plugin/webhooks/jobs/memory-jobs.js'
import { MemoryReceiveLog } from '../plugin/webhooks/receive/memory-log.js'
import { RECEIVE_QUEUE } from '../plugin/webhooks/receive/receive-log.js'
import { WEBHOOK_CHANNEL, type WebhookEvent } from '../plugin/webhooks/webhook-events.js'
import { callerApp, PATH, post, receiver, until } from './webhooks-receive-helpers.js'

const FAST = { maxAttempts: 3, baseDelayMs: 20, maxDelayMs: 40 }

async function onlyRow (app: Awaited<ReturnType<typeof receiver>>): Promise<ReceivedWebhook> {
  const rows = await app.webhooks.received.list()
  assert.equal(rows.length, 1)
  return rows[0]
}

test('a handler that keeps failing is retried with backoff, then left in error with its attempts and last error', async (t) => {
  const peer = callerApp()
  const runs: number[] = []
  const app = await receiver(new MemoryStore({ apps: [peer] }), {
    receive: { path: PATH },
    processing: FAST,
    handlers: { 'order.paid': async (event) => { runs.push(Date.now()); throw new Error(`boom ${runs.length} on ${String(event.externalId)}`) } }
  })
  t.after(async () => await app.close())
  assert.equal((await post(app, peer, { id: 1, type: 'order.paid' })).statusCode, 204)
  await until(async () => (await onlyRow(app)).status === 'error')
  const row = await onlyRow(app)
  assert.equal(row.attempts, 3)
  assert.equal(row.lastError, 'Error: boom 3 on 1')
  assert.equal(row.nextAttemptAt, null)
  assert.equal(runs.length, 3, 'never re-dispatched past maxAttempts')
  // Backoff: each wait at least half the exponential step (20 ms, then 40 ms).
  assert.ok(runs[1] - runs[0] >= 10, `first retry after ${runs[1] - runs[0]} ms`)
  assert.ok(runs[2] - runs[1] >= 20, `second retry after ${runs[2] - runs[1]} ms`)
})

test('a handler that fails once and then succeeds ends done, attempts 2, no error kept', async (t) => {
  const peer = callerApp()
  let runs = 0
  const app = await receiver(new MemoryStore({ apps: [peer] }), {
    receive: { path: PATH },
    processing: FAST,
    handlers: { flaky: async () => { if (++runs === 1) throw new Error('not yet') } }
  })
  t.after(async () => await app.close())
  await post(app, peer, { id: 1, type: 'flaky' })
  await until(async () => (await onlyRow(app)).status === 'done')
  const row = await onlyRow(app)
  assert.equal(row.attempts, 2)
  assert.equal(row.lastError, null)
})

test('WebhookUnprocessableError refuses an event for good: error after one attempt', async (t) => {
  const peer = callerApp()
  let runs = 0
  const app = await receiver(new MemoryStore({ apps: [peer] }), {
    receive: { path: PATH },
    processing: FAST,
    handlers: { picky: async () => { runs++; throw new WebhookUnprocessableError('no such order') } }
  })
  t.after(async () => await app.close())
  await post(app, peer, { id: 1, type: 'picky' })
  await until(async () => (await onlyRow(app)).status === 'error')
  assert.equal(runs, 1)
  assert.match((await onlyRow(app)).lastError ?? '', /no such order/)
})

test('a type without a handler: error "no handler for type X" at once; retry puts it back once a handler exists', async (t) => {
  const peer = callerApp()
  const app = await receiver(new MemoryStore({ apps: [peer] }), { receive: { path: PATH }, processing: FAST })
  t.after(async () => await app.close())
  await post(app, peer, [{ id: 1, type: 'invoice.sent', data: { n: 1 } }, { id: 2, type: 'invoice.sent', data: { n: 2 } }])
  await until(async () => (await app.webhooks.received.counts()).error === 2)
  const [row] = await app.webhooks.received.list()
  assert.equal(row.lastError, 'no handler for type invoice.sent')
  assert.equal(row.attempts, 1)

  const seen: unknown[] = []
  app.webhooks.on('invoice.sent', async (event) => { seen.push(event.data) })
  assert.equal(await app.webhooks.received.retry(row.id), 1, 'retry of one row')
  await until(async () => (await app.webhooks.received.get(row.id))?.status === 'done')
  assert.equal(await app.webhooks.received.retry({ app: 'peer' }), 1, 'retry of the failed rows of an app')
  await until(async () => (await app.webhooks.received.counts()).done === 2)
  assert.deepEqual(seen.map((data) => (data as { n: number }).n).sort(), [1, 2])
  assert.equal(await app.webhooks.received.retry({ app: 'peer' }), 0, 'nothing left to retry')
  assert.deepEqual((await app.webhooks.stats()).received, { pending: 0, done: 2, error: 0 })
})

test('purge deletes what the filter names and nothing else', async (t) => {
  const peer = callerApp()
  const app = await receiver(new MemoryStore({ apps: [peer] }), { receive: { path: PATH }, handlers: { ok: async () => {} } })
  t.after(async () => await app.close())
  await post(app, peer, [{ id: 1, type: 'ok' }, { id: 2, type: 'missing' }])
  await until(async () => { const c = await app.webhooks.received.counts(); return c.done === 1 && c.error === 1 })
  assert.equal(await app.webhooks.received.purge({ status: 'error', app: 'other' }), 0)
  assert.equal(await app.webhooks.received.purge({ status: 'error', before: new Date(0) }), 0)
  assert.equal(await app.webhooks.received.purge({ status: 'error' }), 1)
  assert.deepEqual((await app.webhooks.received.list()).map((row) => row.type), ['ok'])
  // A purged id may be sent again: it is a new event then.
  await post(app, peer, { id: 2, type: 'missing' })
  assert.equal((await app.webhooks.received.list({ type: 'missing' })).length, 1)
})

test('handlers: on() replaces a handler given in options; the context names the app and gives the store', async (t) => {
  const peer = callerApp()
  const store = new MemoryStore({ apps: [peer] })
  const calls: string[] = []
  const app = await receiver(store, { receive: { path: PATH }, handlers: { t: async () => { calls.push('options') } } })
  t.after(async () => await app.close())
  app.webhooks.on('t', async (_event, context) => {
    calls.push(`on:${context.app}:${String(context.store === store)}`)
  })
  await post(app, peer, { id: 1, type: 't' })
  await until(() => calls.length === 1)
  assert.deepEqual(calls, ['on:peer:true'])
  assert.throws(() => app.webhooks.on('', async () => {}), /event type must be a string of 1 to 100 characters/)
  assert.throws(() => app.webhooks.on('x', 'nope' as never), /must be an async function/)
})

test('user.created: an existing user with that email is linked to the sender\'s id, not duplicated; a second delivery changes nothing', async (t) => {
  const peer = callerApp()
  const store = new MemoryStore({ apps: [peer], users: [{ id: 1, username: 'ana', email: 'Ana@Example.com', first_name: 'Ana', last_name: 'Old' }] })
  const app = await receiver(store, { receive: { path: PATH } })
  t.after(async () => await app.close())
  await post(app, peer, { id: 1, type: 'user.created', data: { id: 501, email: 'ana@example.com', first_name: 'Ana', last_name: 'New' } })
  await until(async () => (await onlyRow(app)).status === 'done')
  const users = await store.admin.listUsers()
  assert.equal(users.length, 1, 'no duplicate user')
  assert.deepEqual(users[0].credentials, { peer: 501 })
  assert.equal(users[0].last_name, 'Old', 'user.created does not rename an existing user')
  assert.equal((await store.findUserByCredential('peer', '501'))?.id, 1)
})

test('user.created for an unknown email creates the user (username: the email) and links it; user.updated renames it', async (t) => {
  const peer = callerApp()
  const store = new MemoryStore({ apps: [peer], users: [{ id: 3, username: 'someone', email: 'someone@example.com' }] })
  const app = await receiver(store, { receive: { path: PATH } })
  t.after(async () => await app.close())
  await post(app, peer, { id: 10, type: 'user.created', data: { id: 77, email: 'new@example.com', first_name: 'New', last_name: 'Person' } })
  await until(async () => (await app.webhooks.received.counts()).done === 1)
  const created = await store.findUserByCredential('peer', '77')
  assert.ok(created !== null)
  assert.equal(created.username, 'new@example.com')
  assert.equal(created.first_name, 'New')
  assert.equal((await store.admin.listUsers()).length, 2)

  await post(app, peer, { id: 11, type: 'user.updated', data: { id: 77, email: 'new@example.com', first_name: 'Renamed', last_name: 'Person' } })
  await until(async () => (await app.webhooks.received.counts()).done === 2)
  const renamed = await store.findUserByCredential('peer', '77')
  assert.equal(renamed?.first_name, 'Renamed')
  assert.equal(renamed?.id, created.id)
  assert.deepEqual(renamed?.credentials, { peer: 77 })
  assert.equal((await store.admin.listUsers()).length, 2)
})

test('user events with bad data end in error naming the missing fields (no retry); a handler of your own replaces the built-in one', async (t) => {
  const peer = callerApp()
  const store = new MemoryStore({ apps: [peer] })
  const app = await receiver(store, { receive: { path: PATH }, processing: FAST })
  t.after(async () => await app.close())
  await post(app, peer, [
    { id: 1, type: 'user.created', data: { id: 5, email: 'a@example.com' } },
    { id: 2, type: 'user.updated', data: 'not an object' }
  ])
  await until(async () => (await app.webhooks.received.counts()).error === 2)
  const rows = await app.webhooks.received.list()
  const created = rows.find((row) => row.type === 'user.created')
  const updated = rows.find((row) => row.type === 'user.updated')
  assert.match(created?.lastError ?? '', /user\.created needs the field\(s\) data\.first_name, data\.last_name/)
  assert.equal(created?.attempts, 1)
  assert.match(updated?.lastError ?? '', /user\.updated needs data as a JSON object with the fields data\.id, data\.email, data\.first_name, data\.last_name/)
  assert.equal((await store.admin.listUsers()).length, 0)

  const mine: unknown[] = []
  const own = await receiver(new MemoryStore({ apps: [peer] }), { receive: { path: PATH }, handlers: { 'user.created': async (event) => { mine.push(event.data) } } })
  t.after(async () => await own.close())
  await post(own, peer, { id: 1, type: 'user.created', data: { id: 5 } })
  await until(async () => (await own.webhooks.received.counts()).done === 1)
  assert.deepEqual(mine, [{ id: 5 }])
})

test('MemoryReceiveLog keeps at most keepDone done rows (the oldest go); pending and failed rows stay', async () => {
  const jobs = new MemoryJobs()
  await jobs.start()
  const log = new MemoryReceiveLog({ jobs, keepDone: 2 })
  await jobs.work(RECEIVE_QUEUE, async ({ id, attempt }) => {
    const loaded = await log.load(id)
    if (loaded === null) return
    await log.settle(id, loaded.version, attempt, loaded.event.type === 'bad' ? { status: 'error', error: 'bad' } : { status: 'done' })
  })
  await log.record('peer', null, [1, 2, 3, 4].map((id) => ({ externalId: String(id), type: 'ok', data: null })))
  await log.record('peer', null, [{ externalId: '5', type: 'bad', data: null }])
  await until(async () => { const counts = await log.counts(); return counts.pending === 0 && counts.error === 1 })
  assert.deepEqual(await log.counts(), { pending: 0, done: 2, error: 1 })
  assert.deepEqual((await log.list({ status: 'done' })).map((row) => row.externalId), ['4', '3'])
  await jobs.stop()
})

test('the webhook channel tells of each stored request and each handler run (done, retry, error), never the data', async (t) => {
  const peer = callerApp()
  const seen: WebhookEvent[] = []
  const listener = (message: unknown): void => { seen.push(message as WebhookEvent) }
  diagnosticsChannel.subscribe(WEBHOOK_CHANNEL, listener)
  t.after(() => diagnosticsChannel.unsubscribe(WEBHOOK_CHANNEL, listener))
  let runs = 0
  const app = await receiver(new MemoryStore({ apps: [peer] }), {
    receive: { path: PATH },
    processing: { maxAttempts: 2, baseDelayMs: 5, maxDelayMs: 10 },
    handlers: { ok: async () => {}, flaky: async () => { if (++runs < 5) throw new Error('down') } }
  })
  t.after(async () => await app.close())
  await post(app, peer, [{ id: 1, type: 'ok', data: { secret: 's3cr3t' } }, { id: 2, type: 'flaky' }, { id: 3, type: 'none' }])
  await until(() => seen.filter((event) => event.outcome !== 'stored').length === 4)
  const outcomes = seen.map((event) => `${event.outcome}:${String(event.type)}:${event.attempt}`).sort()
  assert.deepEqual(outcomes, ['done:ok:1', 'error:flaky:2', 'error:none:1', 'retry:flaky:1', 'stored:null:0'])
  const stored = seen.find((event) => event.outcome === 'stored')
  assert.equal(stored?.count, 3)
  assert.equal(stored?.service, 'nodeservice')
  assert.ok(seen.every((event) => event.direction === 'received' && event.app === 'peer'))
  assert.doesNotMatch(JSON.stringify(seen), /s3cr3t/)
})
