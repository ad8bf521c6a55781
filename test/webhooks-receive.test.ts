/**
 * The webhook receiver on MemoryStore: what one request stores (all or nothing, idempotent by
 * app, user, id and type), what it refuses (400 naming the event and field, 413, 403), and the
 * schemes it takes (a Link JWT, a signed request).
 */
import { test } from 'node:test'
import assert from 'node:assert/strict'
import { MemoryStore } from '../plugin/index.js'
import type { ReceivedWebhook } from '../plugin/webhooks/types.js'
import { authorization, callerApp, PATH, post, receiver, until } from './webhooks-receive-helpers.js'

/** A handler that records what it saw. */
function recorder (): { seen: ReceivedWebhook[], handler: (event: ReceivedWebhook) => Promise<void> } {
  const seen: ReceivedWebhook[] = []
  return { seen, handler: async (event) => { seen.push(event) } }
}

test('one event: 204, stored for the caller with its id as text, and its handler runs once (status done)', async (t) => {
  const peer = callerApp()
  const { seen, handler } = recorder()
  const app = await receiver(new MemoryStore({ apps: [peer] }), { receive: { path: PATH }, handlers: { 'order.paid': handler } })
  t.after(async () => await app.close())
  const response = await post(app, peer, { id: 42, type: 'order.paid', data: { total: 10 } })
  assert.equal(response.statusCode, 204)
  assert.equal(response.body, '')
  await until(async () => (await app.webhooks.received.counts()).done === 1)
  const [row] = await app.webhooks.received.list()
  assert.equal(row.app, 'peer')
  assert.equal(row.userId, null)
  assert.equal(row.externalId, '42')
  assert.equal(row.type, 'order.paid')
  assert.deepEqual(row.data, { total: 10 })
  assert.equal(row.attempts, 1)
  assert.equal(row.lastError, null)
  assert.equal(seen.length, 1)
  assert.deepEqual(seen[0].data, { total: 10 })
})

test('a redelivery with the same data changes nothing; with new data it updates the row and the handler sees the new data', async (t) => {
  const peer = callerApp()
  const { seen, handler } = recorder()
  const app = await receiver(new MemoryStore({ apps: [peer] }), { receive: { path: PATH }, handlers: { 'order.paid': handler } })
  t.after(async () => await app.close())
  assert.equal((await post(app, peer, [{ id: 7, type: 'order.paid', data: { v: 1 } }])).statusCode, 204)
  await until(() => seen.length === 1)
  const before = await app.webhooks.received.get((await app.webhooks.received.list())[0].id)
  assert.equal((await post(app, peer, { id: 7, type: 'order.paid', data: { v: 1 } })).statusCode, 204)
  const same = await app.webhooks.received.list()
  assert.equal(same.length, 1)
  assert.deepEqual(same[0].updatedAt, before?.updatedAt, 'the same data left the row as it was')
  assert.equal(same[0].status, 'done')

  assert.equal((await post(app, peer, { id: 7, type: 'order.paid', data: { v: 2 } })).statusCode, 204)
  await until(() => seen.length === 2)
  const rows = await app.webhooks.received.list()
  assert.equal(rows.length, 1, 'a redelivery never adds a row')
  assert.deepEqual(rows[0].data, { v: 2 })
  assert.deepEqual(seen[1].data, { v: 2 })
  await until(async () => (await app.webhooks.received.get(rows[0].id))?.status === 'done')
})

test('the key is (app, user, id, type): another type, another user or another app is another row; events without an id are appended', async (t) => {
  const peer = callerApp()
  const other = callerApp('other')
  const app = await receiver(new MemoryStore({ apps: [peer, other] }), { receive: { path: PATH }, handlers: { a: async () => {}, b: async () => {}, unknown: async () => {} } })
  t.after(async () => await app.close())
  assert.equal((await post(app, peer, [{ id: 1, type: 'a' }, { id: 1, type: 'b' }])).statusCode, 204)
  assert.equal((await post(app, peer, { id: 1, type: 'a' }, { sub: 5 })).statusCode, 204)
  assert.equal((await post(app, peer, { id: 1, type: 'a' }, { sub: '' })).statusCode, 204, 'sub "" is an app-level call')
  assert.equal((await post(app, other, { id: 1, type: 'a' })).statusCode, 204)
  assert.equal((await post(app, peer, [{ type: 'a', data: 1 }, { type: 'a', data: 1 }])).statusCode, 204)
  assert.equal((await post(app, peer, { data: { x: 1 } })).statusCode, 204)
  const rows = await app.webhooks.received.list()
  const keys = rows.map((row) => `${row.app}/${String(row.userId)}/${String(row.externalId)}/${row.type}`).sort()
  assert.deepEqual(keys, ['other/null/1/a', 'peer/5/1/a', 'peer/null/1/a', 'peer/null/1/b', 'peer/null/null/a', 'peer/null/null/a', 'peer/null/null/unknown'])
})

test('the original sender\'s external_id stands for id, and string ids are taken', async (t) => {
  const peer = callerApp()
  const app = await receiver(new MemoryStore({ apps: [peer] }), { receive: { path: PATH }, handlers: { t: async () => {} } })
  t.after(async () => await app.close())
  assert.equal((await post(app, peer, { type: 't', external_id: 9, data: { a: 1 } })).statusCode, 204)
  assert.equal((await post(app, peer, { type: 't', external_id: 9, data: { a: 2 } })).statusCode, 204)
  assert.equal((await post(app, peer, { type: 't', id: 'evt_01J', data: null })).statusCode, 204)
  const rows = await app.webhooks.received.list()
  assert.deepEqual(rows.map((row) => [row.externalId, row.data]).sort(), [['9', { a: 2 }], ['evt_01J', null]])
})

test('a malformed event refuses the whole request with 400 naming its index and field; nothing of it is stored', async (t) => {
  const peer = callerApp()
  const app = await receiver(new MemoryStore({ apps: [peer] }), { receive: { path: PATH } })
  t.after(async () => await app.close())
  const good = { id: 1, type: 'a', data: {} }
  const cases: Array<[unknown, string]> = [
    [[good, good, good, { id: { nested: true }, type: 'a' }], 'events[3].id must be an integer or a string'],
    [[good, { id: 1.5 }], 'events[1].id must be an integer or a string'],
    [[{ id: '' }], 'events[0].id must be an integer or a string of 1 to 100 characters'],
    [[{ id: 'x'.repeat(101) }], 'events[0].id must be an integer or a string of 1 to 100 characters'],
    [[good, { id: 2, type: 5 }], 'events[1].type must be a string of 1 to 100 characters'],
    [[good, { id: 2, type: 't'.repeat(101) }], 'events[1].type must be a string of 1 to 100 characters'],
    [[good, 'not an event'], 'events[1] must be an object'],
    [[good, { id: 3, data: { text: 'a\u0000b' } }], 'events[1].data holds a string with NUL'],
    [[{ external_id: true }], 'events[0].external_id must be an integer or a string'],
    // Raw text (no serialiser in the test would take it): 100 000 levels, no stack overflow here.
    [`[{"id":1},{"id":4,"data":${'['.repeat(100_000)}${']'.repeat(100_000)}}]`, 'events[1].data is nested deeper than 100 levels'],
    ['"just a string"', 'the body must be a JSON event object or an array of them']
  ]
  for (const [body, message] of cases) {
    const response = typeof body === 'string'
      ? await app.inject({ method: 'POST', url: PATH, headers: { 'content-type': 'application/json', authorization: authorization(peer) }, payload: body })
      : await post(app, peer, body)
    assert.equal(response.statusCode, 400, JSON.stringify(body))
    const answer = response.json()
    assert.equal(answer.code, 'FST_LINKED_SERVICES_RECEIVED_WEBHOOK_INVALID')
    assert.ok(answer.message.includes(message), `${answer.message} should say: ${message}`)
    assert.ok(answer.message.includes('nothing of this request was stored'))
  }
  for (const payload of ['{"id": 1, "type": ', '']) {
    const response = await app.inject({ method: 'POST', url: PATH, headers: { 'content-type': 'application/json', authorization: authorization(peer) }, payload })
    assert.equal(response.statusCode, 400, JSON.stringify(payload))
    assert.equal(response.json().code, 'FST_LINKED_SERVICES_RECEIVED_WEBHOOK_INVALID')
    assert.match(response.json().message, /the body is not valid JSON/)
  }
  assert.equal((await app.webhooks.received.list()).length, 0, 'no event of a refused request was stored')
})

test('too many events or too many bytes: 413 coded, nothing stored', async (t) => {
  const peer = callerApp()
  const app = await receiver(new MemoryStore({ apps: [peer] }), { receive: { path: PATH, maxEvents: 3, bodyLimit: 2000 } })
  t.after(async () => await app.close())
  const many = await post(app, peer, [1, 2, 3, 4].map((id) => ({ id, type: 'a' })))
  assert.equal(many.statusCode, 413)
  assert.equal(many.json().code, 'FST_LINKED_SERVICES_RECEIVED_WEBHOOK_TOO_LARGE')
  assert.match(many.json().message, /4 events in one request, at most 3/)
  const big = await post(app, peer, { id: 1, type: 'a', data: 'x'.repeat(3000) })
  assert.equal(big.statusCode, 413)
  assert.equal(big.json().code, 'FST_LINKED_SERVICES_RECEIVED_WEBHOOK_TOO_LARGE')
  assert.match(big.json().message, /over 2000 bytes/)
  assert.equal((await app.webhooks.received.list()).length, 0)
  // Exactly the limit is taken.
  assert.equal((await post(app, peer, [1, 2, 3].map((id) => ({ id, type: 'a' })))).statusCode, 204)
})

test('an app without the webhook scope is refused (403 naming the scope); an unsigned call 401; nothing stored', async (t) => {
  const reader = callerApp('reader', { requireAnAgreement: true, requiredScopes: ['read:user'] })
  const app = await receiver(new MemoryStore({ apps: [reader] }), { receive: { path: PATH } })
  t.after(async () => await app.close())
  const refused = await post(app, reader, { id: 1, type: 'a' })
  assert.equal(refused.statusCode, 403)
  assert.equal(refused.json().code, 'FST_LINKED_SERVICES_FORBIDDEN_SCOPE')
  assert.match(refused.json().message, /webhook/)
  const anonymous = await app.inject({ method: 'POST', url: PATH, payload: { id: 1, type: 'a' } })
  assert.equal(anonymous.statusCode, 401)
  assert.equal((await app.webhooks.received.list()).length, 0)
})

test('other scopes and a mode can be asked for: scopes ["crm:events"], mode jwt refuses a signed request', async (t) => {
  const crm = callerApp('crm', { requireAnAgreement: true, requiredScopes: ['crm:events'], strategy: 'SIGNATURE' })
  const app = await receiver(new MemoryStore({ apps: [crm] }), { receive: { path: PATH, scopes: ['crm:events'], mode: 'jwt' } })
  t.after(async () => await app.close())
  const signed = await post(app, crm, { id: 1, type: 'a' }, { signed: true })
  assert.equal(signed.statusCode, 401)
  assert.equal(signed.json().code, 'FST_LINKED_SERVICES_NO_AUTHORIZATION_HEADER', 'a JWT-only route does not read signatures')
})

test('a signed request (an app whose strategy is SIGNATURE) is taken by default, stored without a user', async (t) => {
  const signer = callerApp('signer', { strategy: 'SIGNATURE' })
  const app = await receiver(new MemoryStore({ apps: [signer] }), { receive: { path: PATH }, handlers: { a: async () => {} } })
  t.after(async () => await app.close())
  const response = await post(app, signer, [{ id: 1, type: 'a', data: { signed: true } }], { signed: true })
  assert.equal(response.statusCode, 204, response.body)
  const [row] = await app.webhooks.received.list()
  assert.equal(row.app, 'signer')
  assert.equal(row.userId, null)
  assert.deepEqual(row.data, { signed: true })
})

test('an empty array is a request with nothing in it: 204, nothing stored', async (t) => {
  const peer = callerApp()
  const app = await receiver(new MemoryStore({ apps: [peer] }), { receive: { path: PATH } })
  t.after(async () => await app.close())
  assert.equal((await post(app, peer, [])).statusCode, 204)
  assert.equal((await app.webhooks.received.list()).length, 0)
})

test('within one request the last copy of an event wins (one row, its data)', async (t) => {
  const peer = callerApp()
  const app = await receiver(new MemoryStore({ apps: [peer] }), { receive: { path: PATH } })
  t.after(async () => await app.close())
  assert.equal((await post(app, peer, [{ id: 1, type: 'a', data: 1 }, { id: 1, type: 'a', data: 2 }])).statusCode, 204)
  const rows = await app.webhooks.received.list()
  assert.equal(rows.length, 1)
  assert.equal(rows[0].data, 2)
})
