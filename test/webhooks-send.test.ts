/**
 * The sending half in memory (MemoryStore, MemoryJobs, MemoryOutbox) against an HTTP receiver in
 * this process: what `send` refuses, what the receiver gets (body, Link JWT and its `sub`), the
 * outcome rules (2xx, 408/429/5xx/network retried with Retry-After, other 4xx dead at once, the
 * app gone), stale jobs doing nothing, and the operator's view (list, get, counts, retry, purge).
 */
import { after, describe, test } from 'node:test'
import assert from 'node:assert/strict'
import { createServer } from 'node:net'
import Fastify from 'fastify'
import linkedServices, { MemoryStore } from '../plugin/index.js'
import { MemoryJobs } from '../plugin/webhooks/jobs/memory-jobs.js'
import { MemoryOutbox } from '../plugin/webhooks/send/memory-outbox.js'
import { DELIVER_QUEUE } from '../plugin/webhooks/send/outbox.js'
import { attemptRecord, parseRetryAfter } from '../plugin/webhooks/send/outcome.js'
import { createSender, type SenderOptions } from '../plugin/webhooks/send/sender.js'
import { DEFAULT_RETRY_POLICY } from '../plugin/webhooks/jobs/job-queue.js'
import type { OutgoingWebhook } from '../plugin/webhooks/types.js'
import { WEBHOOK_CHANNEL, type WebhookEvent } from '../plugin/webhooks/webhook-events.js'
import diagnosticsChannel from 'node:diagnostics_channel'
import { startRecorder, type Recorder } from './fixtures/webhook-recorder.js'
import { APP_NAME, hmacApp } from './helpers/server.js'
import { waitFor } from './helpers/services.js'

const FAST = { baseDelayMs: 10, maxDelayMs: 40, maxAttempts: 5 }

interface Setup {
  recorder: Recorder
  store: MemoryStore
  jobs: MemoryJobs
  outbox: MemoryOutbox
  sender: ReturnType<typeof createSender>
  logged: string[]
  close: () => Promise<void>
}

const open: Setup[] = []
after(async () => { for (const setup of open) await setup.close() })

async function setup (options: Partial<SenderOptions> = {}, webhookUrl?: string): Promise<Setup> {
  const recorder = await startRecorder()
  const store = new MemoryStore({ apps: [hmacApp('4geeks', { webhookUrl: webhookUrl ?? recorder.url }), hmacApp('nourl')] })
  const jobs = new MemoryJobs()
  await jobs.start()
  const outbox = new MemoryOutbox({ jobs })
  const logged: string[] = []
  const record = (...args: unknown[]): void => { logged.push(JSON.stringify(args)) }
  const sender = createSender({ appName: APP_NAME, store, outbox, jobs, policy: FAST, log: { debug: record, warn: record, error: record } as never, ...options })
  await sender.start()
  let closed = false
  const result: Setup = {
    recorder,
    store,
    jobs,
    outbox,
    sender,
    logged,
    close: async () => {
      if (closed) return
      closed = true
      await jobs.stop()
      await sender.stop()
      await recorder.close()
    }
  }
  open.push(result)
  return result
}

async function settled (outbox: MemoryOutbox, id: number): Promise<OutgoingWebhook> {
  let row: OutgoingWebhook | null = null
  await waitFor(async () => {
    row = await outbox.get(id)
    return row !== null && row.status !== 'pending'
  }, 10_000)
  return row as unknown as OutgoingWebhook
}

async function rejectsWith (promise: Promise<unknown>, code: string, words: RegExp): Promise<void> {
  await assert.rejects(promise, (error: Error & { code?: string, statusCode?: number }) => {
    assert.equal(error.code, code)
    assert.ok(error.statusCode !== undefined && error.statusCode >= 400 && error.statusCode < 500, `${code} is a 4xx`)
    assert.match(error.message, words)
    return true
  })
}

describe('send refuses what it cannot deliver, before writing anything', () => {
  test('an unknown app, an app without webhookUrl, a bad type, user or data: coded 4xx naming the fix', async () => {
    const { sender, outbox } = await setup()
    await rejectsWith(sender.send('nobody', 'user.updated', {}), 'FST_LINKED_SERVICES_WEBHOOK_APP_UNKNOWN', /no app "nobody".*apps add/)
    await rejectsWith(sender.send('nourl', 'user.updated', {}), 'FST_LINKED_SERVICES_WEBHOOK_URL_MISSING', /--webhook-url/)
    await rejectsWith(sender.send('4geeks', '', {}), 'FST_LINKED_SERVICES_WEBHOOK_EVENT_INVALID', /type must be a string of 1 to 100/)
    await rejectsWith(sender.send('4geeks', 'x'.repeat(101), {}), 'FST_LINKED_SERVICES_WEBHOOK_EVENT_INVALID', /type/)
    const cycle: Record<string, unknown> = {}
    cycle.self = cycle
    await rejectsWith(sender.send('4geeks', 'a', cycle), 'FST_LINKED_SERVICES_WEBHOOK_EVENT_INVALID', /cannot be serialised/)
    await rejectsWith(sender.send('4geeks', 'a', { n: 1n }), 'FST_LINKED_SERVICES_WEBHOOK_EVENT_INVALID', /cannot be serialised/)
    await rejectsWith(sender.send('4geeks', 'a', () => 1), 'FST_LINKED_SERVICES_WEBHOOK_EVENT_INVALID', /not a JSON value/)
    await rejectsWith(sender.send('4geeks', 'a', { s: 'a\u0000b' }), 'FST_LINKED_SERVICES_WEBHOOK_EVENT_INVALID', /NUL/)
    await rejectsWith(sender.send('4geeks', 'a', {}, { user: { id: 5 } as never }), 'FST_LINKED_SERVICES_WEBHOOK_EVENT_INVALID', /user must be/)
    await rejectsWith(sender.send('4geeks', 'a', {}, { user: '' }), 'FST_LINKED_SERVICES_WEBHOOK_EVENT_INVALID', /user must be/)
    // In memory an event cannot join a database transaction: refused, not sent regardless.
    await rejectsWith(sender.send('4geeks', 'a', {}, { db: { query: async () => ({ rows: [] }) } }), 'FST_LINKED_SERVICES_WEBHOOK_EVENT_INVALID', /use PostgresStore, or omit db/)
    assert.deepEqual(await outbox.counts(), { pending: 0, delivered: 0, dead: 0 })
  })

  test('a store that does not answer: send fails closed with a 503', async () => {
    const { outbox, jobs } = await setup()
    const sender = createSender({ appName: APP_NAME, store: { getApp: async () => { throw new Error('down') } }, outbox, jobs })
    await assert.rejects(sender.send('4geeks', 'a', {}), { code: 'FST_LINKED_SERVICES_STORE_UNAVAILABLE', statusCode: 503 })
    assert.deepEqual(await outbox.counts(), { pending: 0, delivered: 0, dead: 0 })
  })

  test('options are checked: a bad policy, timeout or appLevelSub is named', async () => {
    const { outbox, jobs, store } = await setup()
    const base = { appName: APP_NAME, store, outbox, jobs }
    assert.throws(() => createSender({ ...base, policy: { maxAttempts: 0 } }), /policy.maxAttempts must be a positive integer/)
    assert.throws(() => createSender({ ...base, timeoutMs: 1.5 }), /timeoutMs must be a positive integer/)
    assert.throws(() => createSender({ ...base, appLevelSub: { '4geeks': 'none' as never } }), /appLevelSub.4geeks must be "" or null/)
  })
})

describe('what the receiver gets', () => {
  test('one event per POST: { id, type, data } with a Link JWT; sub "" app-level, the local user id on behalf of a user', async () => {
    const { sender, outbox, recorder } = await setup()
    const data = { email: 'a@b.c', tags: ['x'] }
    const appLevel = await sender.send('4geeks', 'user.updated', data)
    data.tags.push('changed after send')
    const forUser = await sender.send('4geeks', 'user.created', { id: 9 }, { user: 5 })
    assert.equal(appLevel.status, 'pending')
    assert.ok(Number.isSafeInteger(appLevel.id) && forUser.id > appLevel.id, 'event ids are increasing integers')
    await settled(outbox, appLevel.id)
    await settled(outbox, forUser.id)
    assert.equal(recorder.posts.length, 2)
    const byId = new Map(recorder.posts.map((post) => [(post.body as { id: number }).id, post]))
    assert.deepEqual(byId.get(appLevel.id)?.body, { id: appLevel.id, type: 'user.updated', data: { email: 'a@b.c', tags: ['x'] } })
    assert.equal(byId.get(appLevel.id)?.app, APP_NAME)
    assert.equal(byId.get(appLevel.id)?.claims?.sub, '')
    assert.equal(byId.get(appLevel.id)?.claims?.aud, '4geeks')
    assert.equal(byId.get(forUser.id)?.claims?.sub, '5')
    const delivered = await outbox.get(appLevel.id)
    assert.equal(delivered?.status, 'delivered')
    assert.equal(delivered?.attempts, 1)
    assert.equal(delivered?.lastStatusCode, 204)
    assert.ok(delivered?.deliveredAt instanceof Date)
  })

  test('appLevelSub { app: null }: an app-level event carries sub null (a 1.2.2 receiver), a user event its id', async () => {
    const { sender, outbox, recorder } = await setup({ appLevelSub: { '4geeks': null } })
    const appLevel = await sender.send('4geeks', 'a', 1)
    const forUser = await sender.send('4geeks', 'b', 2, { user: 'u-7' })
    await settled(outbox, appLevel.id)
    await settled(outbox, forUser.id)
    const sub = (id: number): unknown => recorder.posts.find((post) => (post.body as { id: number }).id === id)?.claims?.sub
    assert.equal(sub(appLevel.id), null)
    assert.equal(sub(forUser.id), 'u-7')
  })

  test('the plugin on the receiving side accepts the JWT (signature, audience, app)', async () => {
    const key = hmacApp('x').privateKey as string
    const receiver = Fastify({ logger: false })
    await receiver.register(linkedServices, { appName: '4geeks', store: new MemoryStore({ apps: [hmacApp(APP_NAME, { privateKey: key })] }) })
    const seen: Array<{ app: string | undefined, sub: string | null | undefined, body: unknown }> = []
    receiver.post('/v1/webhook', { preHandler: receiver.scope([], { mode: 'jwt' }) }, async (request, reply) => {
      seen.push({ app: request.app?.slug, sub: request.token?.sub, body: request.body })
      return await reply.code(204).send()
    })
    const url = await receiver.listen({ port: 0, host: '127.0.0.1' })
    after(async () => await receiver.close())
    const { sender, outbox, store } = await setup()
    store.updateApp('4geeks', { privateKey: key, webhookUrl: `${url}/v1/webhook` })
    const event = await sender.send('4geeks', 'order.paid', { total: 3 }, { user: 12 })
    assert.equal((await settled(outbox, event.id)).status, 'delivered')
    assert.deepEqual(seen, [{ app: APP_NAME, sub: '12', body: { id: event.id, type: 'order.paid', data: { total: 3 } } }])
  })
})

describe('outcomes', () => {
  test('5xx, then 2xx: retried with backoff, then delivered; every attempt recorded', async () => {
    const { sender, outbox, recorder } = await setup()
    recorder.answer = (index) => index < 2 ? { status: 503 } : { status: 200 }
    const event = await sender.send('4geeks', 'a', {})
    const row = await settled(outbox, event.id)
    assert.equal(row.status, 'delivered')
    assert.equal(row.attempts, 3)
    assert.equal(row.lastStatusCode, 200)
    assert.equal(row.lastError, null)
    assert.equal(recorder.posts.length, 3)
  })

  test('408 and 429 are retried; Retry-After is honoured, capped by maxDelayMs', async () => {
    const { sender, outbox, recorder } = await setup({ policy: { ...FAST, baseDelayMs: 5000, maxDelayMs: 60_000 } })
    recorder.answer = (index) => index === 0 ? { status: 429, headers: { 'retry-after': '0' } } : index === 1 ? { status: 408, headers: { 'retry-after': '0' } } : { status: 204 }
    const event = await sender.send('4geeks', 'a', {})
    // With baseDelayMs 5000 the row settles this fast only because Retry-After: 0 was honoured.
    const row = await settled(outbox, event.id)
    assert.equal(row.status, 'delivered')
    assert.equal(row.attempts, 3)
    const capped = attemptRecord({ kind: 'retry', reason: 'receiver answered 429', statusCode: 429, retryAfterMs: 3_600_000 }, 1, new Date(), { ...DEFAULT_RETRY_POLICY, maxDelayMs: 100 }, 1000)
    assert.equal(capped.nextAttemptAt?.getTime(), 1100)
    assert.equal(parseRetryAfter('120'), 120_000)
    assert.equal(parseRetryAfter(new Date(10_000).toUTCString(), 4000), 6000)
    assert.equal(parseRetryAfter('soon'), null)
    assert.equal(parseRetryAfter(undefined), null)
  })

  test('a 4xx other than 408/429: dead at once with the status, one POST', async () => {
    const { sender, outbox, recorder } = await setup()
    recorder.answer = () => ({ status: 422 })
    const event = await sender.send('4geeks', 'a', {})
    const row = await settled(outbox, event.id)
    assert.equal(row.status, 'dead')
    assert.equal(row.attempts, 1)
    assert.equal(row.lastStatusCode, 422)
    assert.equal(row.lastError, 'receiver answered 422')
    assert.equal(recorder.posts.length, 1)
  })

  test('5xx every time: dead after maxAttempts with the reason', async () => {
    const { sender, outbox, recorder } = await setup({ policy: { ...FAST, maxAttempts: 3 } })
    recorder.answer = () => ({ status: 500 })
    const event = await sender.send('4geeks', 'a', {})
    const row = await settled(outbox, event.id)
    assert.equal(row.status, 'dead')
    assert.equal(row.attempts, 3)
    assert.equal(row.lastError, 'gave up after 3 attempts: receiver answered 500')
    assert.equal(recorder.posts.length, 3)
  })

  test('connection refused and a receiver that never answers (timeoutMs): retried, no status recorded', async () => {
    const port = await new Promise<number>((resolve) => {
      const server = createServer()
      server.listen(0, '127.0.0.1', () => {
        const { port } = server.address() as { port: number }
        server.close(() => resolve(port))
      })
    })
    const refused = await setup({ policy: { ...FAST, maxAttempts: 2 } }, `http://127.0.0.1:${port}/hook`)
    const first = await refused.sender.send('4geeks', 'a', {})
    const row = await settled(refused.outbox, first.id)
    assert.equal(row.status, 'dead')
    assert.equal(row.attempts, 2)
    assert.equal(row.lastStatusCode, null)
    assert.match(row.lastError ?? '', /gave up after 2 attempts: .*connection refused/)

    const hanging = await setup({ policy: { ...FAST, maxAttempts: 2 }, timeoutMs: 200 })
    hanging.recorder.answer = (index) => index === 0 ? 'hang' : { status: 204 }
    const second = await hanging.sender.send('4geeks', 'a', {})
    const delivered = await settled(hanging.outbox, second.id)
    assert.equal(delivered.status, 'delivered')
    assert.equal(delivered.attempts, 2)
    assert.equal(hanging.recorder.posts.length, 2)
  })

  test('the app removed, or its webhookUrl gone, before delivery: dead with that reason', async () => {
    // Written before the worker runs, so that delivery happens after the store changed.
    const store = new MemoryStore({ apps: [hmacApp('leaving', { webhookUrl: 'http://127.0.0.1:9/x' }), hmacApp('losing-url', { webhookUrl: 'http://127.0.0.1:9/x' })] })
    const jobs = new MemoryJobs()
    const outbox = new MemoryOutbox({ jobs })
    const sender = createSender({ appName: APP_NAME, store, outbox, jobs })
    const removed = await sender.send('leaving', 'a', {})
    const noUrl = await sender.send('losing-url', 'a', {})
    store.removeApp('leaving')
    store.updateApp('losing-url', { webhookUrl: null })
    await sender.start()
    try {
      const gone = await settled(outbox, removed.id)
      assert.equal(gone.status, 'dead')
      assert.equal(gone.lastError, 'the app leaving was removed from the store')
      const row = await settled(outbox, noUrl.id)
      assert.equal(row.status, 'dead')
      assert.equal(row.lastError, 'the app losing-url has no webhookUrl')
      assert.equal(row.attempts, 1)
    } finally {
      await jobs.stop()
      await sender.stop()
    }
  })

  test('the app store failing at delivery: recorded on the row as a retry, delivered once it answers', async () => {
    const { store, recorder } = await setup()
    let failures = 2
    const flaky = { getApp: async (slug: string) => failures-- > 0 ? await Promise.reject(new Error('store down')) : await store.getApp(slug) }
    const jobs = new MemoryJobs()
    const outbox = new MemoryOutbox({ jobs })
    const warnings: unknown[] = []
    const log = { debug: () => {}, warn: (fields: unknown) => { warnings.push(fields) }, error: () => {} }
    const sender = createSender({ appName: APP_NAME, store: flaky, outbox, jobs, policy: FAST, log: log as never })
    failures = 0
    const event = await sender.send('4geeks', 'a', {})
    failures = 2
    await sender.start()
    try {
      const row = await settled(outbox, event.id)
      assert.equal(row.status, 'delivered')
      // Two attempts recorded as failed (the store), the third delivered.
      assert.equal(row.attempts, 3)
      assert.deepEqual(warnings.map((fields) => (fields as { error: string }).error), ['the app store did not answer', 'the app store did not answer'])
      assert.equal(recorder.posts.length, 1)
    } finally {
      await jobs.stop()
      await sender.stop()
    }
  })

  test('a stale or repeated job does nothing: one POST per attempt', async () => {
    const { sender, outbox, recorder, jobs } = await setup()
    const event = await sender.send('4geeks', 'a', {})
    await settled(outbox, event.id)
    await jobs.enqueue(DELIVER_QUEUE, { id: event.id, attempt: 1 })
    await jobs.enqueue(DELIVER_QUEUE, { id: event.id, attempt: 7 })
    await jobs.enqueue(DELIVER_QUEUE, { id: 999_999, attempt: 1 })
    await jobs.settled()
    assert.equal(recorder.posts.length, 1)
    assert.equal((await outbox.get(event.id))?.attempts, 1)
  })

  test('each attempt is published on the diagnostics channel: outcome, status, reason; no data, no token', async () => {
    const { sender, outbox, recorder } = await setup()
    const seen: WebhookEvent[] = []
    const listen = (message: unknown): void => { if ((message as WebhookEvent).direction === 'sent') seen.push(message as WebhookEvent) }
    diagnosticsChannel.subscribe(WEBHOOK_CHANNEL, listen)
    try {
      recorder.answer = (index) => index === 0 ? { status: 500 } : { status: 204 }
      const event = await sender.send('4geeks', 'order.paid', { secret: 'do-not-publish' }, { user: 4 })
      await settled(outbox, event.id)
      assert.deepEqual(seen.map(({ service, app, type, id, outcome, attempt, statusCode, error, count }) => ({ service, app, type, id, outcome, attempt, statusCode, error, count })), [
        { service: APP_NAME, app: '4geeks', type: 'order.paid', id: event.id, outcome: 'retry', attempt: 1, statusCode: 500, error: 'receiver answered 500', count: 1 },
        { service: APP_NAME, app: '4geeks', type: 'order.paid', id: event.id, outcome: 'delivered', attempt: 2, statusCode: 204, error: null, count: 1 }
      ])
      const token = recorder.posts[0].authorization.split('Token=')[1]
      for (const message of seen) {
        assert.ok(!JSON.stringify(message).includes('do-not-publish') && !JSON.stringify(message).includes(token))
        assert.ok(message.durationMs >= 0)
      }
    } finally {
      diagnosticsChannel.unsubscribe(WEBHOOK_CHANNEL, listen)
    }
  })

  test('no token in the logs', async () => {
    const { sender, outbox, recorder, logged } = await setup({ policy: { ...FAST, maxAttempts: 2 } })
    recorder.answer = (index) => index === 0 ? { status: 503 } : { status: 204 }
    const event = await sender.send('4geeks', 'a', {}, { user: 3 })
    await settled(outbox, event.id)
    const token = recorder.posts[0].authorization.split('Token=')[1]
    assert.ok(logged.length >= 2, 'the retry and the delivery were logged')
    for (const line of logged) {
      assert.ok(!line.includes(token) && !line.includes('Token='), `a log line holds a token: ${line}`)
    }
    assert.ok(!JSON.stringify(await outbox.get(event.id)).includes(token))
  })
})

describe('the operator\'s view (MemoryOutbox)', () => {
  test('list (filters, newest first, limit), get, counts, oldest pending, retry of dead rows, purge', async () => {
    const { sender, outbox, recorder } = await setup()
    recorder.answer = (_index, post) => (post.body as { type: string }).type === 'bad' ? { status: 400 } : { status: 204 }
    const events = [await sender.send('4geeks', 'good', 1), await sender.send('4geeks', 'bad', 2), await sender.send('4geeks', 'good', 3)]
    for (const event of events) await settled(outbox, event.id)
    assert.deepEqual(await outbox.counts(), { pending: 0, delivered: 2, dead: 1 })
    assert.deepEqual(await outbox.counts({ app: 'other' }), { pending: 0, delivered: 0, dead: 0 })
    assert.deepEqual((await outbox.list()).map((row) => row.id), events.map((event) => event.id).reverse())
    assert.deepEqual((await outbox.list({ status: 'dead' })).map((row) => row.type), ['bad'])
    assert.deepEqual((await outbox.list({ type: 'good', limit: 1 })).map((row) => row.id), [events[2].id])
    assert.equal(await outbox.get(123_456), null)
    assert.equal(await outbox.oldestPendingAt(), null)

    // The receiver now takes it: a retry puts the dead row back and delivers it.
    recorder.answer = () => ({ status: 204 })
    assert.equal(await outbox.retry({ app: 'other' }), 0)
    assert.equal(await outbox.retry(events[1].id), 1)
    const retried = await settled(outbox, events[1].id)
    assert.equal(retried.status, 'delivered')
    assert.equal(retried.attempts, 2)
    assert.equal(await outbox.retry(events[1].id), 0, 'a delivered row is not retried')

    assert.equal(await outbox.purge({ status: 'delivered', before: new Date(Date.now() + 1000) }), 3)
    assert.deepEqual(await outbox.counts(), { pending: 0, delivered: 0, dead: 0 })
  })

  test('delivered rows beyond keepDelivered are forgotten, oldest first; pending and dead rows are kept', async () => {
    const jobs = new MemoryJobs()
    const outbox = new MemoryOutbox({ jobs, keepDelivered: 2 })
    const ids: number[] = []
    for (let n = 0; n < 4; n++) ids.push((await outbox.write({ app: 'a', userId: null, type: 't', dataJson: '1' })).id)
    for (const id of ids) assert.equal(await outbox.recordAttempt(id, 1, { status: 'delivered', lastError: null, lastStatusCode: 204, nextAttemptAt: null }), true)
    const dead = (await outbox.write({ app: 'a', userId: null, type: 't', dataJson: '1' })).id
    await outbox.recordAttempt(dead, 1, { status: 'dead', lastError: 'x', lastStatusCode: 400, nextAttemptAt: null })
    assert.deepEqual((await outbox.list()).map((row) => row.id), [dead, ids[3], ids[2]])
    assert.equal(await outbox.recordAttempt(ids[3], 1, { status: 'dead', lastError: 'x', lastStatusCode: 400, nextAttemptAt: null }), false, 'a recorded attempt is not recorded twice')
    await jobs.stop()
  })
})
