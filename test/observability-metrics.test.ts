import { test } from 'node:test'
import assert from 'node:assert/strict'
import Fastify, { type FastifyInstance } from 'fastify'
import { Registry } from 'prom-client'
import { trace, type Span, type SpanOptions, type Tracer, type TracerProvider } from '@opentelemetry/api'
import linkedServices, { createLinkedClient, MemoryStore, type AppRecord } from '../plugin/index.js'
import { linkedServicesMetrics, linkedServicesTracing } from '../plugin/observability.js'
import { encodeJwt, linkHeader, pythonClaims } from './helpers/jwt.js'
import { hmacKeyHex } from './helpers/keys.js'
import { secretSpellings } from './helpers/attacks.js'
import { hmacCaller, signedInject } from './helpers/signature.js'
import linkedWebhooks from '../plugin/webhooks/plugin.js'
import { callerApp, PATH, receiver, RECEIVER, until } from './webhooks-receive-helpers.js'

const APP_NAME = 'nodeservice'
const KEY = hmacKeyHex(32)
const signer = hmacCaller('signer')

function apps (): AppRecord[] {
  return [
    { slug: 'caller', algorithm: 'HMAC_SHA256', privateKey: KEY, requireAnAgreement: false },
    { slug: 'other-caller', algorithm: 'HMAC_SHA256', privateKey: KEY, requireAnAgreement: false },
    signer.record
  ]
}

function jwt (slug: string, key = KEY): { token: string, header: string } {
  const token = encodeJwt(pythonClaims(slug, APP_NAME, {}), { key })
  return { token, header: linkHeader(slug, token) }
}

async function server (metricsOptions: Record<string, unknown> = {}, store = new MemoryStore({ apps: apps() })) {
  const registry = new Registry()
  const app = Fastify()
  await app.register(linkedServices, { appName: APP_NAME, store })
  await app.register(linkedServicesMetrics, { registry, ...metricsOptions })
  app.get('/metrics', async (_request, reply) => reply.type(registry.contentType).send(await registry.metrics()))
  app.get('/thing', { preHandler: app.scope() }, async () => ({ ok: true }))
  app.get('/sig', { preHandler: app.scope([], { mode: 'signature' }) }, async () => ({ ok: true }))
  await app.ready()
  return { app, registry }
}

/** `name{labels} value` lines of a scrape, as a map. */
async function scrape (app: FastifyInstance): Promise<{ text: string, value: (series: string) => number | undefined }> {
  const response = await app.inject({ url: '/metrics' })
  assert.equal(response.statusCode, 200)
  const text = response.body
  const values = new Map<string, number>()
  for (const line of text.split('\n')) {
    if (line.startsWith('#') || line === '') continue
    const at = line.lastIndexOf(' ')
    values.set(line.slice(0, at), Number(line.slice(at + 1)))
  }
  return { text, value: (series) => values.get(series) }
}

test('/metrics: calls by app, scheme and outcome, durations, cache lookups and nonce store size move', async () => {
  const { app } = await server()
  try {
    const before = await scrape(app)
    assert.equal(before.value('linked_services_calls_total{app="caller",scheme="jwt",outcome="granted"}'), undefined)
    const granted = jwt('caller')
    for (let i = 0; i < 3; i++) assert.equal((await app.inject({ url: '/thing', headers: { authorization: granted.header } })).statusCode, 200)
    const forged = jwt('caller', hmacKeyHex(32))
    assert.equal((await app.inject({ url: '/thing', headers: { authorization: forged.header } })).statusCode, 401)
    assert.equal((await app.inject({ url: '/thing', headers: { authorization: jwt('nobody-knows-me').header } })).statusCode, 401)
    assert.equal((await app.inject({ url: '/thing' })).statusCode, 401)
    const signed = signedInject(signer, { method: 'GET', path: '/sig' })
    assert.equal((await app.inject(signed)).statusCode, 200)

    const after = await scrape(app)
    assert.equal(after.value('linked_services_calls_total{app="caller",scheme="jwt",outcome="granted"}'), 3)
    assert.equal(after.value('linked_services_calls_total{app="caller",scheme="jwt",outcome="FST_LINKED_SERVICES_WRONG_APP_TOKEN"}'), 1)
    assert.equal(after.value('linked_services_calls_total{app="unknown",scheme="jwt",outcome="FST_LINKED_SERVICES_APP_NOT_FOUND"}'), 1)
    assert.equal(after.value('linked_services_calls_total{app="unknown",scheme="none",outcome="FST_LINKED_SERVICES_NO_AUTHORIZATION_HEADER"}'), 1)
    assert.equal(after.value('linked_services_calls_total{app="signer",scheme="rfc9421",outcome="granted"}'), 1)
    assert.equal(after.value('linked_services_auth_duration_seconds_count{scheme="jwt",result="granted"}'), 3)
    assert.equal(after.value('linked_services_auth_duration_seconds_count{scheme="jwt",result="refused"}'), 2)
    // Lookups: caller (miss, then 3 hits), nobody-knows-me (miss), signer (miss): the first scrape saw none.
    assert.equal(after.value('linked_services_cache_lookups_total{result="miss"}'), 3)
    assert.equal(after.value('linked_services_cache_lookups_total{result="hit"}'), 3)
    assert.equal(after.value('linked_services_cache_hit_ratio'), 0.5)
    assert.equal(after.value('linked_services_nonce_store_size'), 1)
    // Store calls: the three app lookups that missed the cache.
    assert.equal(after.value('linked_services_store_calls_total{operation="getApp"}'), 3)
    assert.equal(after.value('linked_services_store_errors_total{operation="getApp"}'), undefined)

    // A second scrape does not count again what the first counted.
    const again = await scrape(app)
    assert.equal(again.value('linked_services_cache_lookups_total{result="hit"}'), 3)

    for (const secret of [...secretSpellings(KEY, signer.record.privateKey as string), granted.token, forged.token, granted.token.split('.')[2], signed.headers.Signature.slice(5, -1)]) {
      assert.ok(!after.text.includes(secret), `the metrics hold ${secret.slice(0, 6)}...`)
    }
  } finally {
    await app.close()
  }
})

test('metrics: the app label is bounded (maxApps names, then other; unknown apps are one value)', async () => {
  const many = Array.from({ length: 5 }, (_, i): AppRecord => ({ slug: `app-${i}`, algorithm: 'HMAC_SHA256', privateKey: KEY, requireAnAgreement: false }))
  const { app } = await server({ maxApps: 2 }, new MemoryStore({ apps: many }))
  try {
    for (const record of many) await app.inject({ url: '/thing', headers: { authorization: jwt(record.slug).header } })
    for (let i = 0; i < 20; i++) await app.inject({ url: '/thing', headers: { authorization: jwt(`made-up-${i}`).header } })
    const { text, value } = await scrape(app)
    assert.equal(value('linked_services_calls_total{app="app-0",scheme="jwt",outcome="granted"}'), 1)
    assert.equal(value('linked_services_calls_total{app="app-1",scheme="jwt",outcome="granted"}'), 1)
    assert.equal(value('linked_services_calls_total{app="other",scheme="jwt",outcome="granted"}'), 3)
    assert.equal(value('linked_services_calls_total{app="unknown",scheme="jwt",outcome="FST_LINKED_SERVICES_APP_NOT_FOUND"}'), 20)
    assert.equal(text.split('\n').filter((line) => line.startsWith('linked_services_calls_total{')).length, 4)
  } finally {
    await app.close()
  }
})

test('metrics: store errors by operation, and outgoing client calls by peer and status', async () => {
  let failing = false
  const memory = new MemoryStore({ apps: apps() })
  const store = {
    getApp: async (slug: string) => { if (failing) throw new Error('database down: password=hunter2hunter2'); return await memory.getApp(slug) },
    getAgreement: memory.getAgreement.bind(memory),
    findUserByCredential: memory.findUserByCredential.bind(memory)
  }
  const { app } = await server({}, store as never)
  const peer = Fastify()
  peer.get('/ok', async () => ({ ok: true }))
  peer.get('/missing', async (_request, reply) => reply.code(404).send({}))
  await peer.listen({ host: '127.0.0.1', port: 0 })
  const { port } = peer.server.address() as { port: number }
  const client = createLinkedClient({
    appName: APP_NAME,
    store: new MemoryStore({ apps: [{ slug: 'peer', algorithm: 'HMAC_SHA256', privateKey: KEY, appUrl: `http://127.0.0.1:${port}` }] })
  })
  try {
    failing = true
    assert.equal((await app.inject({ url: '/thing', headers: { authorization: jwt('caller').header } })).statusCode, 503)
    failing = false
    assert.equal((await client.app('peer').get('/ok')).status, 200)
    assert.equal((await client.app('peer').get('/missing', { throwOnError: false })).status, 404)
    const { text, value } = await scrape(app)
    assert.equal(value('linked_services_store_calls_total{operation="getApp"}'), 1)
    assert.equal(value('linked_services_store_errors_total{operation="getApp"}'), 1)
    assert.equal(value('linked_services_calls_total{app="unknown",scheme="jwt",outcome="FST_LINKED_SERVICES_STORE_UNAVAILABLE"}'), 1)
    assert.equal(value('linked_services_client_calls_total{peer="peer",status="200"}'), 1)
    assert.equal(value('linked_services_client_calls_total{peer="peer",status="404"}'), 1)
    assert.ok(!text.includes('hunter2'))
  } finally {
    await client.close()
    await peer.close()
    await app.close()
  }
})

test('metrics: refused without the main plugin, with unknown options, or twice in one registry; removed on close', async () => {
  const alone = Fastify()
  await assert.rejects(async () => { await alone.register(linkedServicesMetrics, { registry: new Registry() }); await alone.ready() },
    /fastify-linked-services/)
  await alone.close()
  for (const options of [{ registry: {} }, { maxApps: 0 }, { regisrty: new Registry() }]) {
    const app = Fastify()
    await app.register(linkedServices, { appName: APP_NAME })
    await assert.rejects(async () => { await app.register(linkedServicesMetrics, options as never); await app.ready() },
      (error: { code?: string }) => error.code === 'FST_LINKED_SERVICES_INVALID_OPTION', JSON.stringify(Object.keys(options)))
    await app.close()
  }
  const registry = new Registry()
  const app = Fastify()
  await app.register(linkedServices, { appName: APP_NAME })
  await app.register(linkedServicesMetrics, { registry })
  await app.ready()
  const twice = Fastify()
  await twice.register(linkedServices, { appName: APP_NAME })
  await assert.rejects(async () => { await twice.register(linkedServicesMetrics, { registry }); await twice.ready() }, /already registered/)
  await twice.close()
  await app.close()
  assert.equal(registry.getSingleMetric('linked_services_calls_total'), undefined, 'closing removes the metrics')
})

/** A tracer provider that keeps every span it makes (no SDK needed). */
function testTracerProvider () {
  const spans: Array<{ name: string, attributes: Record<string, unknown>, status?: number, ended: boolean }> = []
  const tracer = {
    startSpan (name: string, options: SpanOptions = {}): Span {
      const record = { name, attributes: { ...options.attributes } as Record<string, unknown>, status: undefined as number | undefined, ended: false }
      spans.push(record)
      const span = {
        setAttributes (attributes: Record<string, unknown>) { Object.assign(record.attributes, attributes); return span },
        setStatus (status: { code: number }) { record.status = status.code; return span },
        end () { record.ended = true }
      }
      return span as unknown as Span
    }
  }
  const provider = { getTracer: () => tracer as unknown as Tracer } as TracerProvider
  return { provider, spans }
}

test('tracing: a span per decision and per store call, through @opentelemetry/api (given or global provider)', async () => {
  for (const given of [true, false]) {
    const { provider, spans } = testTracerProvider()
    if (!given) trace.setGlobalTracerProvider(provider)
    const app = Fastify()
    await app.register(linkedServices, { appName: APP_NAME, store: new MemoryStore({ apps: apps() }) })
    await app.register(linkedServicesTracing, given ? { tracerProvider: provider } : {})
    app.get('/thing/:id', { preHandler: app.scope() }, async () => ({ ok: true }))
    await app.ready()
    try {
      const granted = jwt('caller')
      assert.equal((await app.inject({ url: '/thing/1', headers: { authorization: granted.header } })).statusCode, 200)
      assert.equal((await app.inject({ url: '/thing/2', headers: { authorization: jwt('caller', hmacKeyHex(32)).header } })).statusCode, 401)
      assert.deepEqual(spans.map((span) => [span.name, span.ended, span.status]), [
        ['linked-services scope', true, undefined],
        ['linked-services store getApp', true, undefined],
        ['linked-services scope', true, 2]
      ])
      assert.deepEqual(spans[0].attributes, {
        'http.request.method': 'GET',
        'http.route': '/thing/:id',
        'linked_services.service': APP_NAME,
        'linked_services.app': 'caller',
        'linked_services.scheme': 'jwt',
        'linked_services.outcome': 'granted',
        'http.response.status_code': 200
      })
      assert.equal(spans[2].attributes['linked_services.outcome'], 'FST_LINKED_SERVICES_WRONG_APP_TOKEN')
      assert.ok(!JSON.stringify(spans).includes(granted.token.split('.')[2]))
    } finally {
      await app.close()
      if (!given) trace.disable()
    }
  }
})

test('tracing and metrics: a failing observer never fails a request', async () => {
  const provider = { getTracer: () => ({ startSpan () { throw new Error('broken tracer') } }) } as unknown as TracerProvider
  const app = Fastify()
  await app.register(linkedServices, { appName: APP_NAME, store: new MemoryStore({ apps: apps() }) })
  await app.register(linkedServicesTracing, { tracerProvider: provider })
  app.get('/thing', { preHandler: app.scope() }, async () => ({ ok: true }))
  await app.ready()
  try {
    assert.equal((await app.inject({ url: '/thing', headers: { authorization: jwt('caller').header } })).statusCode, 200)
    assert.equal((await app.inject({ url: '/thing', headers: { authorization: jwt('caller', hmacKeyHex(32)).header } })).statusCode, 401)
  } finally {
    await app.close()
  }
})

test('webhooks: delivery attempts and handler runs are counted by peer and outcome; the logs are gauges read at scrape time', async (t) => {
  const key = callerApp('sender').privateKey as string
  const receiving = await receiver(new MemoryStore({ apps: [callerApp('sender', { privateKey: key })] }), { receive: { path: PATH } })
  t.after(async () => await receiving.close())
  const receiverRegistry = new Registry()
  const address = await receiving.listen({ host: '127.0.0.1', port: 0 })
  const sending = Fastify()
  t.after(async () => await sending.close())
  const registry = new Registry()
  await sending.register(linkedServices, {
    appName: 'sender',
    store: new MemoryStore({ apps: [{ slug: RECEIVER, algorithm: 'HMAC_SHA256', privateKey: key, requireAnAgreement: false, webhookUrl: `${address}${PATH}` }] })
  })
  await sending.register(linkedWebhooks, { delivery: { baseDelayMs: 10, maxDelayMs: 20 } })
  await sending.register(linkedServicesMetrics, { registry })
  await sending.ready()
  // The receiver's metrics, registered on a second instance's registry through the same channel.
  const observer = Fastify()
  t.after(async () => await observer.close())
  await observer.register(linkedServices, { appName: RECEIVER, store: new MemoryStore() })
  await observer.register(linkedServicesMetrics, { registry: receiverRegistry })
  await observer.ready()

  const sent = await sending.webhooks.send(RECEIVER, 'order.paid', { total: 5 })
  await until(async () => (await sending.webhooks.outbox.get(sent.id))?.status === 'delivered')
  // No handler for order.paid on the receiver: the run ends in error.
  await until(async () => (await receiving.webhooks.received.counts()).error === 1)

  const text = await registry.metrics()
  assert.match(text, new RegExp(`linked_services_webhook_events_total\\{direction="sent",app="${RECEIVER}",outcome="delivered"\\} 1`))
  assert.match(text, /linked_services_webhook_outbox_events\{status="delivered"\} 1/)
  assert.match(text, /linked_services_webhook_outbox_events\{status="pending"\} 0/)
  assert.match(text, /linked_services_webhook_outbox_oldest_pending_seconds 0/)
  assert.doesNotMatch(text, /total\\":5|order\.paid/, 'no event data or type in a label')
  // The receiver's service name is RECEIVER: its events reach the observer registered under that name.
  const received = await receiverRegistry.metrics()
  assert.match(received, /linked_services_webhook_events_total\{direction="received",app="sender",outcome="stored"\} 1/)
  assert.match(received, /linked_services_webhook_events_total\{direction="received",app="sender",outcome="error"\} 1/)
  // Not registered with linkedWebhooks: no webhook gauge values, and the scrape still works.
  assert.doesNotMatch(received, /linked_services_webhook_outbox_events\{/)
})
