import { test, type TestContext } from 'node:test'
import assert from 'node:assert/strict'
import { createServer } from 'node:net'
import Fastify, { type FastifyInstance } from 'fastify'
import linkedServices, { MemoryStore } from '../plugin/index.js'
import { createLinkedClient, type LinkedClient } from '../plugin/client/client.js'
import type { AppRecord } from '../types/index.js'
import { ed25519Keys, hmacKeyHex } from './helpers/keys.js'

const SECRET = hmacKeyHex(64)

/** The peer: a Fastify service running the plugin, knowing us ("me") by our shared secret. */
async function startPeer (t: TestContext, me: Partial<AppRecord> = {}, pluginOptions: Record<string, unknown> = {}): Promise<{ server: FastifyInstance, url: string, connections: () => number }> {
  const server = Fastify()
  let connections = 0
  server.server.on('connection', () => { connections++ })
  await server.register(linkedServices, {
    appName: 'peer',
    store: new MemoryStore({
      apps: [{ slug: 'me', algorithm: 'HMAC_SHA512', privateKey: SECRET, requireAnAgreement: false, ...me }]
    }),
    ...pluginOptions
  })
  server.addContentTypeParser('*', { parseAs: 'buffer' }, (_request, body, done) => done(null, body))
  server.addContentTypeParser('application/x-www-form-urlencoded', { parseAs: 'string' }, (_request, body, done) => done(null, body))
  const echo = async (request: import('fastify').FastifyRequest) => ({
    method: request.method,
    url: request.url,
    query: request.query,
    headers: request.headers,
    body: Buffer.isBuffer(request.body) ? request.body.toString('base64') : request.body ?? null,
    app: request.app?.slug ?? null,
    sub: request.token?.sub ?? null,
    mode: request.token?.mode ?? null,
    scheme: request.token?.mode === 'signature' ? request.token.scheme : null,
    components: request.token?.mode === 'signature' ? request.token.components : null
  })
  server.route({ method: ['GET', 'POST', 'PUT', 'PATCH', 'DELETE'], url: '/echo', preHandler: server.scope(['read:user']), handler: echo })
  server.post('/signed', { preHandler: server.scope([], { mode: 'signature' }) }, echo)
  server.post('/hooks', { preHandler: server.scope(['webhook'], { mode: 'jwt' }) }, echo)
  server.get('/status/:code', async (request, reply) => reply.code(Number((request.params as { code: string }).code)).send({ detail: 'nope' }))
  server.get('/slow', async () => await new Promise((resolve) => setTimeout(() => resolve({ late: true }), 500)))
  server.get('/big', async () => 'x'.repeat(5000))
  const url = await server.listen({ host: '127.0.0.1', port: 0 })
  t.after(async () => await server.close())
  return { server, url, connections: () => connections }
}

function peerRecord (url: string, extra: Partial<AppRecord> = {}): AppRecord {
  return { slug: 'peer', algorithm: 'HMAC_SHA512', privateKey: SECRET, appUrl: url, webhookUrl: `${url}/hooks`, ...extra }
}

function client (t: TestContext, apps: AppRecord[], options: Partial<Parameters<typeof createLinkedClient>[0]> = {}): LinkedClient {
  const linked = createLinkedClient({ appName: 'me', store: new MemoryStore({ apps }), ...options })
  t.after(async () => await linked.close())
  return linked
}

async function rejectsWith (promise: Promise<unknown>, code: string, message?: RegExp): Promise<Record<string, unknown>> {
  let caught: Record<string, unknown> | undefined
  await assert.rejects(promise, (error: Record<string, unknown>) => {
    assert.equal(error.code, code)
    if (message !== undefined) assert.match(String(error.message), message)
    caught = error
    return true
  })
  return caught as Record<string, unknown>
}

test('JWT calls by slug, on behalf of a user or not; every verb; keep-alive', async (t) => {
  const peer = await startPeer(t)
  const linked = client(t, [peerRecord(peer.url)])

  const appLevel = await linked.app('peer').get('/echo')
  assert.equal(appLevel.status, 200)
  assert.equal(appLevel.ok, true)
  assert.deepEqual({ app: appLevel.json<{ app: string }>().app, sub: appLevel.json<{ sub: null }>().sub }, { app: 'me', sub: null })
  assert.match(appLevel.json<{ headers: { authorization: string } }>().headers.authorization, /^Link App=me,Token=ey/)

  const asUser = linked.app('peer', { userId: 42 })
  for (const method of ['get', 'post', 'put', 'patch', 'delete'] as const) {
    const response = await asUser[method]('echo')
    assert.equal(response.status, 200, response.text())
    assert.equal(response.json<{ method: string }>().method, method.toUpperCase())
    assert.equal(response.json<{ sub: string }>().sub, '42')
  }
  const custom = await asUser.request('options', '/echo', { throwOnError: false })
  assert.equal(custom.status, 404) // no OPTIONS route: the method went through as given
  assert.ok(peer.connections() <= 2, `${peer.connections()} sockets for 7 calls: kept alive`)
})

test('query objects, custom headers, JSON, bytes and form bodies arrive as sent', async (t) => {
  const peer = await startPeer(t)
  const api = client(t, [peerRecord(`${peer.url}/`)]).app('peer')
  type Echo = { url: string, query: Record<string, unknown>, headers: Record<string, string>, body: unknown }

  const query = (await api.get('/echo?x=1', { query: { a: 'b c', list: [1, 2], skip: undefined, none: null, t: true } })).json<Echo>()
  assert.equal(query.url, '/echo?x=1&a=b+c&list=1&list=2&t=true')
  assert.equal((await api.get('/echo', { query: new URLSearchParams('q=é') })).json<Echo>().url, '/echo?q=%C3%A9')

  const json = (await api.post('/echo', { json: { id: 1, name: 'Jane' }, headers: { 'X-Tenant': 't1', 'x-count': 3 } })).json<Echo>()
  assert.deepEqual(json.body, { id: 1, name: 'Jane' })
  assert.equal(json.headers['content-type'], 'application/json')
  assert.equal(json.headers['x-tenant'], 't1')
  assert.equal(json.headers['x-count'], '3')

  const bytes = Buffer.from([0, 1, 2, 255])
  const raw = (await api.put('/echo', { body: bytes })).json<Echo>()
  assert.equal(raw.body, bytes.toString('base64'))
  assert.equal(raw.headers['content-type'], 'application/octet-stream')
  const typed = (await api.put('/echo', { body: new Uint8Array([7, 8]), headers: { 'content-type': 'application/cbor' } })).json<Echo>()
  assert.equal(typed.body, Buffer.from([7, 8]).toString('base64'))
  assert.equal(typed.headers['content-type'], 'application/cbor')

  const form = (await api.patch('/echo', { form: { a: '1', b: ['x', 'y & z'] } })).json<Echo>()
  assert.equal(form.body, 'a=1&b=x&b=y+%26+z')
  assert.equal(form.headers['content-type'], 'application/x-www-form-urlencoded')
})

test('webhook(payload) posts JSON to the app webhookUrl', async (t) => {
  const peer = await startPeer(t)
  const api = client(t, [peerRecord(peer.url, { appUrl: 'http://127.0.0.1:1' })]).app('peer', { userId: '7' })
  const response = await api.webhook({ id: 1, type: 'user.created', data: { id: 7 } })
  assert.equal(response.status, 200)
  const echoed = response.json<{ url: string, body: unknown, sub: string }>()
  assert.equal(echoed.url, '/hooks')
  assert.deepEqual(echoed.body, { id: 1, type: 'user.created', data: { id: 7 } })
  assert.equal(echoed.sub, '7')
  await assert.rejects(api.webhook(undefined), /webhook needs a payload/)
})

test('non-2xx answers throw ClientUnexpectedStatusError with the response, unless throwOnError is false', async (t) => {
  const peer = await startPeer(t)
  const api = client(t, [peerRecord(peer.url)]).app('peer')
  const error = await rejectsWith(api.get('/status/418'), 'FST_LINKED_SERVICES_UNEXPECTED_STATUS', /GET http:\/\/127\.0\.0\.1:\d+\/status\/418 answered 418/)
  assert.equal(error.status, 418)
  assert.equal(error.slug, 'unexpected-status')
  assert.deepEqual((error.response as { json: () => unknown }).json(), { detail: 'nope' })
  const soft = await api.get('/status/503', { throwOnError: false })
  assert.equal(soft.status, 503)
  assert.equal(soft.ok, false)
  // The peer refuses a token signed with the wrong key: 401 surfaces the same way.
  const wrongKey = client(t, [peerRecord(peer.url, { privateKey: hmacKeyHex(64) })]).app('peer')
  const refused = await rejectsWith(wrongKey.get('/echo'), 'FST_LINKED_SERVICES_UNEXPECTED_STATUS',
    /answered 401: FST_LINKED_SERVICES_WRONG_APP_TOKEN Unauthorized: invalid credentials/)
  assert.equal(refused.status, 401)
  // The peer's own code and message travel with the error.
  assert.equal(refused.peerCode, 'FST_LINKED_SERVICES_WRONG_APP_TOKEN')
  assert.match(String(refused.peerMessage), /^Unauthorized: invalid credentials/)
})

test('clear errors: unknown app, app without appUrl / webhookUrl, store failure', async (t) => {
  const linked = client(t, [{ slug: 'bare', algorithm: 'HMAC_SHA256', privateKey: hmacKeyHex(32) }])
  await rejectsWith(linked.app('ghost').get('/x'), 'FST_LINKED_SERVICES_CLIENT_APP_NOT_FOUND', /^App ghost not found$/)
  await rejectsWith(linked.app('bare').get('/x'), 'FST_LINKED_SERVICES_CLIENT_APP_NOT_FOUND', /bare with an appUrl/)
  await rejectsWith(linked.app('bare').webhook({}), 'FST_LINKED_SERVICES_CLIENT_APP_NOT_FOUND', /bare with a webhookUrl/)
  assert.throws(() => linked.app(''), /App {2}not found/)

  const broken = createLinkedClient({ appName: 'me', store: { getApp: async () => { throw new Error('db down: postgres://secret') } } })
  t.after(async () => await broken.close())
  const error = await rejectsWith(broken.app('peer').get('/x'), 'FST_LINKED_SERVICES_STORE_UNAVAILABLE')
  assert.doesNotMatch(String(error.message), /secret/)
})

test('network failures and timeouts throw ClientRequestFailedError', async (t) => {
  const peer = await startPeer(t)
  // A port nobody listens on.
  const closedPort = await new Promise<number>((resolve) => {
    const probe = createServer().listen(0, '127.0.0.1', () => {
      const { port } = probe.address() as { port: number }
      probe.close(() => resolve(port))
    })
  })
  const linked = client(t, [peerRecord(peer.url), peerRecord(`http://127.0.0.1:${closedPort}`, { slug: 'down' })], { timeout: 200 })
  const refused = await rejectsWith(linked.app('down').get('/x'), 'FST_LINKED_SERVICES_REQUEST_FAILED', /connection refused/)
  assert.equal(refused.statusCode, 502)
  assert.ok(refused.cause)
  await rejectsWith(linked.app('peer').get('/slow'), 'FST_LINKED_SERVICES_REQUEST_FAILED', /no complete response within 200 ms/)
  const slowOk = await linked.app('peer').get('/slow', { timeout: 2000 })
  assert.deepEqual(slowOk.json(), { late: true })

  const small = client(t, [peerRecord(peer.url)], { maxResponseBytes: 1000 })
  await rejectsWith(small.app('peer').get('/big'), 'FST_LINKED_SERVICES_REQUEST_FAILED', /larger than 1000 bytes/)
  const aborted = new AbortController()
  aborted.abort()
  await rejectsWith(linked.app('peer').get('/echo', { signal: aborted.signal }), 'FST_LINKED_SERVICES_REQUEST_FAILED', /aborted/)
})

test('mode: explicit wins, else the app strategy; a signed request cannot carry a user', async (t) => {
  const peer = await startPeer(t)
  const linked = client(t, [peerRecord(peer.url, { strategy: 'SIGNATURE' })])
  // mode jwt overrides a SIGNATURE app (the original could not).
  const forced = await linked.app('peer', { mode: 'jwt', userId: 1 }).get('/echo')
  assert.equal(forced.json<{ sub: string }>().sub, '1')
  await rejectsWith(linked.app('peer', { userId: 1 }).get('/echo'), 'FST_LINKED_SERVICES_SIGNING_FAILED', /cannot carry a user/)
  await rejectsWith(linked.app('peer', { mode: 'bogus' as 'jwt' }).get('/echo'), 'FST_LINKED_SERVICES_SIGNING_FAILED', /mode must be/)
})

test('bad input is refused before anything is sent', async (t) => {
  const peer = await startPeer(t)
  const api = client(t, [peerRecord(peer.url)]).app('peer')
  await rejectsWith(api.post('/echo', { json: {}, body: 'x' }), 'FST_LINKED_SERVICES_SIGNING_FAILED', /one of json, body or form/)
  await rejectsWith(api.get('/echo', { headers: { Authorization: 'Bearer x' } }), 'FST_LINKED_SERVICES_SIGNING_FAILED', /authorization header is set by the client/)
  await rejectsWith(api.get('/echo', { headers: { 'x-a': '1', 'X-A': '2' } }), 'FST_LINKED_SERVICES_SIGNING_FAILED', /given twice/)
  await rejectsWith(api.request('GE T', '/echo'), 'FST_LINKED_SERVICES_SIGNING_FAILED', /not an HTTP method/)
  await rejectsWith(api.post('/echo', { body: 12 as unknown as string }), 'FST_LINKED_SERVICES_SIGNING_FAILED', /body must be/)
  await rejectsWith(api.get('/echo', { timeout: -1 }), 'FST_LINKED_SERVICES_INVALID_OPTION', /timeout must be at least 1 ms/)
  const invalid = (message: RegExp) => ({ code: 'FST_LINKED_SERVICES_INVALID_OPTION', message })
  assert.throws(() => createLinkedClient({ appName: '', store: new MemoryStore() }), invalid(/appName must be a slug/))
  assert.throws(() => createLinkedClient({ appName: 'me', store: {} as MemoryStore }), invalid(/store must be an object with the methods getApp/))
  assert.throws(() => createLinkedClient(null as never), invalid(/options must be an object/))
  assert.throws(() => createLinkedClient({ appName: 'me', store: new MemoryStore(), timeout: 0 }), invalid(/timeout must be at least 1 ms/))
  assert.throws(() => createLinkedClient({ appName: 'me', store: new MemoryStore(), signature: { scheme: 'x' as 'legacy' } }), invalid(/signature.scheme must be one of "rfc9421", "legacy"/))
  assert.throws(() => createLinkedClient({ appName: 'me', store: new MemoryStore(), timout: 5 } as never), invalid(/unknown option timout \(did you mean timeout\?\)/))
})

test('app records are cached for cacheTtl, invalidate() forgets them, close() ends the client', async (t) => {
  const peer = await startPeer(t)
  const store = new MemoryStore({ apps: [peerRecord(peer.url)] })
  const linked = createLinkedClient({ appName: 'me', store })
  assert.equal((await linked.app('peer').get('/echo')).status, 200)
  store.updateApp('peer', { privateKey: hmacKeyHex(64) })
  assert.equal((await linked.app('peer').get('/echo')).status, 200, 'still the cached record')
  linked.invalidate('peer')
  await rejectsWith(linked.app('peer').get('/echo'), 'FST_LINKED_SERVICES_UNEXPECTED_STATUS')
  linked.invalidate()
  await linked.close()
  await linked.close()
  await rejectsWith(linked.app('peer').get('/echo'), 'FST_LINKED_SERVICES_SIGNING_FAILED', /closed/)

  const uncached = createLinkedClient({ appName: 'me', store, cacheTtl: 0 })
  t.after(async () => await uncached.close())
  store.updateApp('peer', { privateKey: SECRET })
  assert.equal((await uncached.app('peer').get('/echo')).status, 200)
  store.removeApp('peer')
  await rejectsWith(uncached.app('peer').get('/echo'), 'FST_LINKED_SERVICES_CLIENT_APP_NOT_FOUND')
})

test('signature mode: RFC 9421 signed calls (HMAC and Ed25519) pass the plugin, covering query, body and headers', async (t) => {
  const ed = ed25519Keys()
  for (const [me, ours] of [
    [{ strategy: 'SIGNATURE' }, {}],
    [{ strategy: 'SIGNATURE', algorithm: 'ED25519', privateKey: null, publicKey: ed.publicPemHex }, { algorithm: 'ED25519', privateKey: ed.privatePemHex }]
  ] as Array<[Partial<AppRecord>, Partial<AppRecord>]>) {
    const peer = await startPeer(t, me)
    const linked = client(t, [peerRecord(peer.url, { strategy: 'SIGNATURE', ...ours })])
    const api = linked.app('peer')
    const response = await api.post('/echo', { query: { a: [1, 2] }, json: { id: 1 }, headers: { 'X-Tenant': 't1' } })
    assert.equal(response.status, 200, response.text())
    const echoed = response.json<{ app: string, mode: string, scheme: string, components: string[], sub: null, url: string }>()
    assert.deepEqual([echoed.app, echoed.mode, echoed.scheme, echoed.sub, echoed.url], ['me', 'signature', 'rfc9421', null, '/echo?a=1&a=2'])
    assert.deepEqual(new Set(echoed.components), new Set(['@method', '@authority', '@path', '@query', 'content-digest', 'content-type', 'x-tenant']))
    // Bodiless, and twice the same request: each call carries a fresh nonce.
    assert.equal((await api.get('/echo')).status, 200)
    assert.equal((await api.get('/echo')).status, 200)
    assert.equal((await api.delete('/echo', { body: Buffer.from([1, 2, 3]) })).status, 200)
  }
})

test('signature mode forced on a JWT app, to a mode "signature" route; legacy scheme to a legacy-enabled peer', async (t) => {
  const peer = await startPeer(t, {}, { signature: { legacy: true } })
  peer.server.log.level = 'silent'
  const linked = client(t, [peerRecord(peer.url)])
  const forced = await linked.app('peer', { mode: 'signature' }).post('/signed', { json: { a: 1 } })
  assert.equal(forced.status, 200, forced.text())
  // Without mode 'signature' on the route, a JWT app may not sign requests.
  await rejectsWith(linked.app('peer', { mode: 'signature' }).get('/echo'), 'FST_LINKED_SERVICES_UNEXPECTED_STATUS')

  const legacy = client(t, [peerRecord(peer.url)], { signature: { scheme: 'legacy' } })
  const response = await legacy.app('peer', { mode: 'signature' }).post('/signed', { json: { id: 1, name: "Jane O'Neil" }, query: { q: 'x' } })
  assert.equal(response.status, 200, response.text())
  assert.equal(response.json<{ scheme: string }>().scheme, 'legacy')
  assert.match(response.json<{ headers: { authorization: string } }>().headers.authorization, /^Signature App=me,Nonce=[0-9a-f]{128},SignedHeaders=,Date=/)
  // The legacy scheme carries JSON bodies only.
  await rejectsWith(legacy.app('peer', { mode: 'signature' }).post('/signed', { form: { a: '1' } }), 'FST_LINKED_SERVICES_SIGNING_FAILED', /JSON bodies only/)
})
