import { test } from 'node:test'
import assert from 'node:assert/strict'
import diagnosticsChannel from 'node:diagnostics_channel'
import Fastify, { type FastifyInstance } from 'fastify'
import linkedServices, { MemoryStore, SCOPE_CHANNEL, type ScopeEvent } from '../plugin/index.js'
import { RefusalLog } from '../plugin/route/caller-log.js'
import { encodeJwt, linkHeader, pythonClaims } from './helpers/jwt.js'
import { hmacKeyHex } from './helpers/keys.js'
import { captureLogs, secretSpellings } from './helpers/attacks.js'
import { hmacCaller, HOST, signedInject } from './helpers/signature.js'

const APP_NAME = 'nodeservice'
const KEY = hmacKeyHex(32)

/** Records every message of the scope TracingChannel until `stop()`. */
function listen () {
  const messages: Array<{ kind: string, event: ScopeEvent }> = []
  const handlers = {
    start: (event: ScopeEvent) => { messages.push({ kind: 'start', event }) },
    end: (event: ScopeEvent) => { messages.push({ kind: 'end', event }) },
    asyncStart: (event: ScopeEvent) => { messages.push({ kind: 'asyncStart', event }) },
    asyncEnd: (event: ScopeEvent) => { messages.push({ kind: 'asyncEnd', event: { ...event } }) },
    error: (event: ScopeEvent) => { messages.push({ kind: 'error', event }) }
  }
  const channel = diagnosticsChannel.tracingChannel<string, ScopeEvent>(SCOPE_CHANNEL)
  channel.subscribe(handlers)
  return {
    messages,
    /** The finished events, one per call. */
    get events (): ScopeEvent[] { return messages.filter((m) => m.kind === 'asyncEnd').map((m) => m.event) },
    stop: () => channel.unsubscribe(handlers)
  }
}

const signer = hmacCaller('signer')
const legacySigner = hmacCaller('legacy-signer')

async function server () {
  const logs = captureLogs()
  const store = new MemoryStore({
    apps: [
      { slug: 'caller', algorithm: 'HMAC_SHA256', privateKey: KEY, requireAnAgreement: true, requiredScopes: ['read:thing'] },
      signer.record,
      legacySigner.record
    ],
    users: [{ id: 1, username: 'jane', credentials: { caller: 'jane-uuid' } }],
    agreements: [{ app: 'caller', userId: 1, optionalScopes: [] }]
  })
  const app = Fastify({ logger: { level: 'info', stream: logs.stream } })
  await app.register(linkedServices, { appName: APP_NAME, store, signature: { legacy: true } })
  app.get('/things/:id', { preHandler: app.scope(['read:thing']) }, async (request) => {
    request.log.info('handler ran')
    return { ok: true }
  })
  app.get('/admin', { preHandler: app.scope(['read:thing', 'write:admin', 'delete:admin']) }, async () => ({ ok: true }))
  app.get('/sig', { preHandler: app.scope([], { mode: 'signature' }) }, async (request) => {
    request.log.info('signed handler ran')
    return { ok: true }
  })
  await app.ready()
  return { app, logs }
}

function jwt (slug: string, sub?: string, key = KEY): { token: string, header: string } {
  const token = encodeJwt(pythonClaims(slug, APP_NAME, sub === undefined ? {} : { sub }), { key })
  return { token, header: linkHeader(slug, token) }
}

test('scope channel: one event per decision, granted and refused, with who called and why', async () => {
  const { app, logs } = await server()
  const listener = listen()
  try {
    const granted = jwt('caller', 'jane-uuid')
    assert.equal((await app.inject({ url: '/things/7', headers: { authorization: granted.header } })).statusCode, 200)
    const appOnly = jwt('caller')
    assert.equal((await app.inject({ url: '/admin', headers: { authorization: appOnly.header } })).statusCode, 403)
    assert.equal((await app.inject({ url: '/things/7', headers: { authorization: jwt('stranger').header } })).statusCode, 401)
    const forged = jwt('caller', undefined, hmacKeyHex(32))
    assert.equal((await app.inject({ url: '/things/7', headers: { authorization: forged.header } })).statusCode, 401)
    assert.equal((await app.inject({ url: '/things/7' })).statusCode, 401)
    const signed = signedInject(signer, { method: 'GET', path: '/sig' })
    assert.equal((await app.inject(signed)).statusCode, 200)
    // The same signed request again: a replay, refused.
    assert.equal((await app.inject(signed)).statusCode, 401)
    const legacy = signedInject(legacySigner, { method: 'GET', path: '/sig', scheme: 'legacy' })
    assert.equal((await app.inject(legacy)).statusCode, 200)

    const events = listener.events
    const summary = events.map((e) => [e.method, e.route, e.app, e.scheme, e.user, e.outcome, e.statusCode, [...e.missingScopes]])
    assert.deepEqual(summary, [
      ['GET', '/things/:id', 'caller', 'jwt', 'jane-uuid', 'granted', 200, []],
      ['GET', '/admin', 'caller', 'jwt', null, 'FST_LINKED_SERVICES_FORBIDDEN_SCOPE', 403, ['write:admin', 'delete:admin']],
      // An app the store does not know is not named: a flood of made-up names stays one value.
      ['GET', '/things/:id', null, 'jwt', null, 'FST_LINKED_SERVICES_APP_NOT_FOUND', 401, []],
      ['GET', '/things/:id', 'caller', 'jwt', null, 'FST_LINKED_SERVICES_WRONG_APP_TOKEN', 401, []],
      ['GET', '/things/:id', null, null, null, 'FST_LINKED_SERVICES_NO_AUTHORIZATION_HEADER', 401, []],
      ['GET', '/sig', 'signer', 'rfc9421', null, 'granted', 200, []],
      ['GET', '/sig', 'signer', 'rfc9421', null, 'FST_LINKED_SERVICES_REPLAYED_REQUEST', 401, []],
      ['GET', '/sig', 'legacy-signer', 'legacy', null, 'granted', 200, []]
    ])
    for (const event of events) {
      assert.equal(event.service, APP_NAME)
      assert.ok(event.durationMs >= 0 && event.durationMs < 10_000, 'a duration in milliseconds')
      assert.deepEqual(event.scopes, event.route === '/admin' ? ['read:thing', 'write:admin', 'delete:admin'] : event.route === '/sig' ? [] : ['read:thing'])
    }
    // TracingChannel order: start, end (the synchronous part), then error on a refusal, asyncStart, asyncEnd.
    const kinds = listener.messages.map((m) => m.kind)
    assert.deepEqual(kinds.slice(0, 4), ['start', 'end', 'asyncStart', 'asyncEnd'])
    assert.deepEqual(kinds.slice(4, 9), ['start', 'end', 'error', 'asyncStart', 'asyncEnd'])
    assert.equal((listener.messages[6].event.error as { code: string }).code, 'FST_LINKED_SERVICES_FORBIDDEN_SCOPE')

    // Nothing that proves identity appears in an event or a log line.
    const secrets = [
      ...secretSpellings(KEY, signer.record.privateKey as string, legacySigner.record.privateKey as string),
      granted.token, appOnly.token, forged.token,
      granted.token.split('.')[2], forged.token.split('.')[2],
      signed.headers.Signature.slice(5, -1), signed.headers['Signature-Input'].match(/nonce="([^"]+)"/)?.[1] ?? 'no nonce in the input?!',
      // The legacy scheme's Nonce is its MAC.
      legacy.headers.Authorization.match(/Nonce=([^,]+)/)?.[1] ?? 'no nonce in the header?!'
    ]
    const eventText = JSON.stringify(events.map((e) => ({ ...e, error: String(e.error ?? '') })))
    const logText = logs.lines.join('\n')
    for (const secret of secrets) {
      assert.ok(secret.length >= 16, 'a real secret to look for')
      assert.ok(!eventText.includes(secret), `an event holds ${secret.slice(0, 6)}...`)
      assert.ok(!logText.includes(secret), `a log line holds ${secret.slice(0, 6)}...`)
    }
    // Every line after authentication says who called.
    const handlerLine = logs.lines.map((line) => JSON.parse(line)).find((line) => line.msg === 'handler ran')
    assert.equal(handlerLine.linkedApp, 'caller')
    assert.equal(handlerLine.linkedUser, 'jane-uuid')
    const completed = logs.lines.map((line) => JSON.parse(line)).filter((line) => line.msg === 'request completed' && line.linkedApp === 'caller')
    assert.ok(completed.length >= 1, "Fastify's own 'request completed' line is bound too")
    const signedLine = logs.lines.map((line) => JSON.parse(line)).find((line) => line.msg === 'signed handler ran')
    assert.equal(signedLine.linkedApp, 'signer')
    assert.equal(signedLine.linkedUser, null)
  } finally {
    listener.stop()
    await app.close()
  }
})

test('scope channel: a forbidden-scope event and the 403 name the same missing scopes (RFC 6750 insufficient_scope)', async () => {
  const { app } = await server()
  const listener = listen()
  try {
    const response = await app.inject({ url: '/admin', headers: { authorization: jwt('caller').header } })
    assert.equal(response.statusCode, 403)
    assert.deepEqual(Object.keys(response.json()).sort(), ['code', 'error', 'message', 'statusCode'])
    // The caller is told which scope it lacks (in the message and the challenge), nothing more.
    assert.match(response.json().message, /write:admin/)
    assert.match(String(response.headers['www-authenticate']), /error="insufficient_scope", scope="write:admin delete:admin"/)
    const refused = listener.events.find((event) => event.outcome === 'FST_LINKED_SERVICES_FORBIDDEN_SCOPE')
    assert.deepEqual(refused?.missingScopes, ['write:admin', 'delete:admin'])
  } finally {
    listener.stop()
    await app.close()
  }
})

test('scope channel: with no subscriber nothing is published and the request is unchanged', async () => {
  const { app } = await server()
  const channel = diagnosticsChannel.tracingChannel(SCOPE_CHANNEL)
  assert.equal(channel.hasSubscribers, false)
  let seen = 0
  // A subscriber on another channel of the same prefix must not turn events on.
  const other = diagnosticsChannel.channel('fastify-linked-services:other')
  const onOther = () => { seen++ }
  other.subscribe(onOther)
  try {
    const response = await app.inject({ url: '/things/1', headers: { authorization: jwt('caller', 'jane-uuid').header } })
    assert.equal(response.statusCode, 200)
    assert.equal(seen, 0)
    assert.equal(channel.hasSubscribers, false)
  } finally {
    other.unsubscribe(onOther)
    await app.close()
  }
})

test('refusals are logged once per (app, code) per interval, with how many were left out', async () => {
  const { app, logs } = await server()
  try {
    const forged = jwt('caller', undefined, hmacKeyHex(32)).header
    for (let i = 0; i < 50; i++) await app.inject({ url: '/things/1', headers: { authorization: forged } })
    for (let i = 0; i < 50; i++) await app.inject({ url: '/things/1', headers: { authorization: jwt(`made-up-${i}`).header } })
    const refusals = logs.lines.map((line) => JSON.parse(line)).filter((line) => line.msg === 'fastify-linked-services: call refused')
    assert.deepEqual(refusals.map((line) => [line.linkedApp, line.code, line.statusCode, line.suppressed]), [
      ['caller', 'FST_LINKED_SERVICES_WRONG_APP_TOKEN', 401, 0],
      // 50 made-up names: one line, not 50.
      ['unknown', 'FST_LINKED_SERVICES_APP_NOT_FOUND', 401, 0]
    ])
  } finally {
    await app.close()
  }
})

test('RefusalLog: a window per (app, code), the count of the left-out ones, a bounded memory', () => {
  let now = 0
  const log = new RefusalLog({ intervalMs: 1000, max: 3, now: () => now })
  assert.deepEqual(log.admit('a', 'X'), { suppressed: 0 })
  assert.equal(log.admit('a', 'X'), null)
  assert.equal(log.admit('a', 'X'), null)
  assert.deepEqual(log.admit('a', 'Y'), { suppressed: 0 }, 'another code is another window')
  assert.deepEqual(log.admit(null, 'X'), { suppressed: 0 }, 'unknown is one more app')
  now = 999
  assert.equal(log.admit('a', 'X'), null)
  now = 1000
  assert.deepEqual(log.admit('a', 'X'), { suppressed: 3 }, 'the next window says how many were left out')
  assert.equal(log.size, 3)
  // A fourth pair forgets the oldest (a/Y), never grows past max.
  assert.deepEqual(log.admit('b', 'X'), { suppressed: 0 })
  assert.equal(log.size, 3)
  assert.deepEqual(log.admit('a', 'Y'), { suppressed: 0 }, 'forgotten, so logged again')
  assert.equal(log.size, 3)
})

test('the caller is bound with a child logger when the logger has no setBindings, and not at all without a logger', async () => {
  const lines: Array<Record<string, unknown>> = []
  const make = (bindings: Record<string, unknown>): Record<string, unknown> => {
    const logger: Record<string, unknown> = {
      level: 'info',
      child: (more: Record<string, unknown>) => make({ ...bindings, ...more })
    }
    for (const level of ['info', 'error', 'debug', 'fatal', 'warn', 'trace']) {
      logger[level] = (object: unknown, msg?: string) => { lines.push({ ...bindings, ...(typeof object === 'object' ? object : { msg: object }), ...(msg === undefined ? {} : { msg }) }) }
    }
    return logger
  }
  const store = new MemoryStore({ apps: [{ slug: 'caller', algorithm: 'HMAC_SHA256', privateKey: KEY, requireAnAgreement: false }] })
  for (const loggerInstance of [make({}), undefined]) {
    const app = (loggerInstance === undefined ? Fastify({ logger: false }) : Fastify({ loggerInstance: loggerInstance as never })) as unknown as FastifyInstance
    await app.register(linkedServices, { appName: APP_NAME, store })
    app.get('/', { preHandler: app.scope() }, async (request) => {
      request.log.info('in handler')
      return { bound: (request.log as unknown) !== (app.log as unknown) }
    })
    const response = await app.inject({ url: '/', headers: { authorization: jwt('caller').header } })
    assert.equal(response.statusCode, 200)
    if (loggerInstance === undefined) {
      assert.deepEqual(response.json(), { bound: false }, 'the shared no-op logger is left alone')
    } else {
      assert.equal(lines.find((line) => line.msg === 'in handler')?.linkedApp, 'caller')
    }
    await app.close()
  }
})

test('events carry no request target or host beyond the declared route', async () => {
  const { app } = await server()
  const listener = listen()
  try {
    await app.inject({ url: '/things/secret-id-123?token=abc', headers: { host: HOST, authorization: jwt('caller', 'jane-uuid').header } })
    const [event] = listener.events
    assert.equal(event.route, '/things/:id')
    assert.ok(!JSON.stringify(event).includes('secret-id-123'))
  } finally {
    listener.stop()
    await app.close()
  }
})
