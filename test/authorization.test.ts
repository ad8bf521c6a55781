import { test } from 'node:test'
import assert from 'node:assert/strict'
import Fastify from 'fastify'
import linkedServices, { MemoryStore } from '../plugin/index.js'
import type { AppRecord, LinkedServicesStore } from '../plugin/index.js'
import { encodeJwt, linkHeader, pythonClaims } from './helpers/jwt.js'
import { hmacKeyHex } from './helpers/keys.js'
import { UncheckedStore } from './helpers/unchecked-store.js'
import { APP_NAME } from './helpers/server.js'

const KEY = hmacKeyHex(32)

function peer (slug: string, extra: Partial<AppRecord> = {}): AppRecord {
  return {
    slug,
    algorithm: 'HMAC_SHA256',
    privateKey: KEY,
    requireAnAgreement: true,
    requiredScopes: ['read:user'],
    optionalScopes: ['write:user', 'read:repo'],
    agreementVersion: 1,
    ...extra
  }
}

async function server (store: LinkedServicesStore, options: Record<string, unknown> = {}) {
  const app = Fastify()
  await app.register(linkedServices, { appName: APP_NAME, store, ...options })
  app.get('/none', { preHandler: app.scope() }, async (request) => ({ sub: request.token?.sub }))
  app.get('/required', { preHandler: app.scope(['read:user']) }, async () => ({ ok: true }))
  app.get('/optional', { preHandler: app.scope(['write:user']) }, async () => ({ ok: true }))
  app.get('/both', { preHandler: app.scope(['read:user', 'read:repo']) }, async () => ({ ok: true }))
  app.get('/unknown', { preHandler: app.scope(['admin']) }, async () => ({ ok: true }))
  app.get('/user', { preHandler: app.scope() }, async (request) => ({ user: await request.getUser() }))
  await app.ready()
  return app
}

function auth (slug: string, sub?: unknown): string {
  return linkHeader(slug, encodeJwt(pythonClaims(slug, APP_NAME, sub === undefined ? {} : { sub }), { key: KEY }))
}

async function status (app: Awaited<ReturnType<typeof server>>, url: string, authorization: string) {
  const response = await app.inject({ url, headers: { authorization } })
  return { status: response.statusCode, code: response.json().code as string | undefined, body: response.json() }
}

test('scope matrix: agreement required or not, user or not, required/optional/unknown scopes', async () => {
  const store = new MemoryStore({
    apps: [peer('strict'), peer('relaxed', { requireAnAgreement: false })],
    users: [
      { id: 1, username: 'jane', credentials: { strict: 9, relaxed: 9 } },
      { id: 2, username: 'john', credentials: { strict: 'john-uuid' } }
    ],
    agreements: [{ app: 'strict', userId: 1, optionalScopes: ['write:user'] }]
  })
  const app = await server(store)
  const expectations: Array<[string, unknown, string, number, string?]> = [
    // relaxed app: every scope, with or without a user, agreement or not
    ['relaxed', undefined, '/unknown', 200],
    ['relaxed', 9, '/unknown', 200],
    ['relaxed', 12345, '/both', 200],
    // strict app, no user: required + optional
    ['strict', undefined, '/required', 200],
    ['strict', '', '/optional', 200],
    ['strict', null, '/both', 200],
    ['strict', undefined, '/unknown', 403, 'FST_LINKED_SERVICES_FORBIDDEN_SCOPE'],
    // strict app, user 9 -> local 1, agreed to write:user only
    ['strict', 9, '/required', 200],
    ['strict', '9', '/optional', 200],
    ['strict', 9, '/both', 403, 'FST_LINKED_SERVICES_FORBIDDEN_SCOPE'],
    ['strict', 9, '/unknown', 403, 'FST_LINKED_SERVICES_FORBIDDEN_SCOPE'],
    ['strict', 9, '/none', 200],
    // strict app, a linked user without an agreement: refused whatever the route names
    ['strict', 'john-uuid', '/none', 403, 'FST_LINKED_SERVICES_AGREEMENT_NOT_ACCEPTED'],
    ['strict', 'john-uuid', '/required', 403, 'FST_LINKED_SERVICES_AGREEMENT_NOT_ACCEPTED'],
    // strict app, a sub linked to no local user: no agreement
    ['strict', 404, '/none', 403, 'FST_LINKED_SERVICES_AGREEMENT_NOT_ACCEPTED'],
    // the agreement lookup uses the LOCAL id: sub 1 is not local user 1
    ['strict', 1, '/required', 403, 'FST_LINKED_SERVICES_AGREEMENT_NOT_ACCEPTED']
  ]
  for (const [slug, sub, url, expected, code] of expectations) {
    const result = await status(app, url, auth(slug, sub))
    assert.equal(result.status, expected, `${slug} sub=${String(sub)} ${url}: ${JSON.stringify(result.body)}`)
    if (code !== undefined) assert.equal(result.code, code)
    if (expected === 403) assert.equal(result.body.statusCode, 403)
  }
  await app.close()
})

test('an agreed optional scope the app no longer offers grants nothing', async () => {
  const store = new MemoryStore({
    apps: [peer('strict', { optionalScopes: [] })],
    users: [{ id: 1, credentials: { strict: 9 } }],
    agreements: [{ app: 'strict', userId: 1, optionalScopes: ['write:user'] }]
  })
  const app = await server(store)
  assert.equal((await status(app, '/optional', auth('strict', 9))).status, 403)
  await app.close()
})

test('requireCurrentAgreement: an out-of-date agreement counts as missing (off by default)', async () => {
  const data = {
    apps: [peer('strict', { agreementVersion: 3 })],
    users: [{ id: 1, credentials: { strict: 9 } }],
    agreements: [{ app: 'strict', userId: 1, optionalScopes: ['write:user'], agreementVersion: 2 }]
  }
  const lenient = await server(new MemoryStore(data))
  assert.equal((await status(lenient, '/optional', auth('strict', 9))).status, 200)
  await lenient.close()
  const strict = await server(new MemoryStore(data), { requireCurrentAgreement: true })
  assert.equal((await status(strict, '/optional', auth('strict', 9))).code, 'FST_LINKED_SERVICES_AGREEMENT_NOT_ACCEPTED')
  await strict.close()
})

test('agreement and scope changes are seen by the next request', async () => {
  const store = new MemoryStore({ apps: [peer('strict')], users: [{ id: 1, credentials: { strict: 9 } }] })
  const app = await server(store)
  assert.equal((await status(app, '/optional', auth('strict', 9))).status, 403)
  store.setAgreement({ app: 'strict', userId: 1, optionalScopes: ['write:user'] })
  assert.equal((await status(app, '/optional', auth('strict', 9))).status, 200)
  store.updateApp('strict', { optionalScopes: [] })
  assert.equal((await status(app, '/optional', auth('strict', 9))).status, 403)
  store.updateApp('strict', { requiredScopes: ['read:user', 'write:user'] })
  assert.equal((await status(app, '/optional', auth('strict', 9))).status, 200)
  store.removeAgreement('strict', 1)
  assert.equal((await status(app, '/none', auth('strict', 9))).code, 'FST_LINKED_SERVICES_AGREEMENT_NOT_ACCEPTED')
  await app.close()
})

test('getUser: the local user linked to (calling app, sub), or null', async () => {
  const store = new MemoryStore({
    apps: [peer('relaxed', { requireAnAgreement: false }), peer('other', { requireAnAgreement: false })],
    users: [{ id: 1, username: 'jane', credentials: { relaxed: 9 } }]
  })
  const app = await server(store)
  assert.equal((await status(app, '/user', auth('relaxed', 9))).body.user.username, 'jane')
  assert.equal((await status(app, '/user', auth('relaxed', '9'))).body.user.id, 1)
  assert.equal((await status(app, '/user', auth('relaxed', 10))).body.user, null)
  assert.equal((await status(app, '/user', auth('relaxed'))).body.user, null)
  assert.equal((await status(app, '/user', auth('other', 9))).body.user, null, 'linked to another app only')
  store.linkUser(1, 'other', 9)
  assert.equal((await status(app, '/user', auth('other', 9))).body.user.username, 'jane')
  await app.close()
})

/** A store whose every method can be made to fail in several ways. */
class FaultyStore implements LinkedServicesStore {
  fault: 'none' | 'throw' | 'reject' | 'reject-string' | 'hang' | 'bad-record' = 'none'
  calls = 0
  readonly inner: MemoryStore

  constructor (inner: MemoryStore) {
    this.inner = inner
  }

  async #run<T> (fn: () => Promise<T>): Promise<T> {
    this.calls++
    switch (this.fault) {
      case 'throw': throw new Error('connect ECONNREFUSED postgres://admin:hunter2@db/prod')
      case 'reject': return await Promise.reject(new Error('secret-in-message hunter2'))
      case 'reject-string': return await Promise.reject('hunter2') // eslint-disable-line prefer-promise-reject-errors
      case 'hang': return await new Promise<T>(() => {})
      case 'bad-record': return { slug: 'strict', algorithm: 'HMAC_SHA256', privateKey: 'zz' } as T
      default: return await fn()
    }
  }

  getApp (slug: string) { return this.#run(() => this.inner.getApp(slug)) }
  getAgreement (app: string, user: string) { return this.#run(() => this.inner.getAgreement(app, user)) }
  findUserByCredential (app: string, id: string) { return this.#run(() => this.inner.findUserByCredential(app, id)) }
}

test('a failing store fails closed with 503 and nothing of its message; the service recovers', async () => {
  const store = new FaultyStore(new MemoryStore({
    apps: [peer('strict')],
    users: [{ id: 1, credentials: { strict: 9 } }],
    agreements: [{ app: 'strict', userId: 1, optionalScopes: [] }]
  }))
  const app = await server(store, { storeTimeout: 50, cache: { max: 0 } })
  for (const fault of ['throw', 'reject', 'reject-string', 'hang'] as const) {
    store.fault = fault
    const response = await app.inject({ url: '/required', headers: { authorization: auth('strict', 9) } })
    assert.equal(response.statusCode, 503, fault)
    assert.equal(response.json().code, 'FST_LINKED_SERVICES_STORE_UNAVAILABLE')
    assert.ok(!response.body.includes('hunter2') && !response.body.includes('postgres'), response.body)
  }
  store.fault = 'none'
  assert.equal((await app.inject({ url: '/required', headers: { authorization: auth('strict', 9) } })).statusCode, 200)
  await app.close()
})

test('a store that hangs: the late answer is ignored and one reply is sent', async () => {
  let release: (value: AppRecord) => void = () => {}
  const store: LinkedServicesStore = {
    getApp: async () => await new Promise<AppRecord>((resolve) => { release = resolve }),
    getAgreement: async () => null,
    findUserByCredential: async () => null
  }
  const app = await server(store, { storeTimeout: 30 })
  const response = await app.inject({ url: '/none', headers: { authorization: auth('late') } })
  assert.equal(response.statusCode, 503)
  release(peer('late', { requireAnAgreement: false }))
  await new Promise((resolve) => setTimeout(resolve, 20))
  await app.close()
})

test('getUser rejects with 503 store-unavailable when the store fails', async () => {
  const store = new FaultyStore(new MemoryStore({ apps: [peer('relaxed', { requireAnAgreement: false })] }))
  const app = await server(store, { storeTimeout: 50 })
  assert.equal((await status(app, '/none', auth('relaxed', 9))).status, 200)
  store.fault = 'reject'
  const response = await app.inject({ url: '/user', headers: { authorization: auth('relaxed', 9) } })
  assert.equal(response.statusCode, 503)
  assert.equal(response.json().code, 'FST_LINKED_SERVICES_STORE_UNAVAILABLE')
  await app.close()
})

test('concurrent misses share one store call (single flight); unknown apps are cached briefly', async () => {
  const store = new FaultyStore(new MemoryStore({ apps: [peer('relaxed', { requireAnAgreement: false })] }))
  const app = await server(store)
  const results = await Promise.all(Array.from({ length: 20 }, () => app.inject({ url: '/none', headers: { authorization: auth('relaxed') } })))
  assert.ok(results.every((response) => response.statusCode === 200))
  assert.equal(store.calls, 1)
  await Promise.all(Array.from({ length: 5 }, () => app.inject({ url: '/none', headers: { authorization: auth('ghost') } })))
  await app.inject({ url: '/none', headers: { authorization: auth('ghost') } })
  assert.equal(store.calls, 2, 'one call for the unknown app, then the negative cache answers')
  await app.close()
})

test('a store holding a bad record still serves its good apps; the bad app is refused', async () => {
  const good = peer('good', { requireAnAgreement: false })
  const records: AppRecord[] = [
    good,
    peer('short', { privateKey: 'abcd' }),
    peer('nonhex', { privateKey: 'zz'.repeat(40) }),
    peer('empty', { privateKey: '' }),
    peer('short512', { algorithm: 'HMAC_SHA512', privateKey: hmacKeyHex(32) })
  ]
  const app = await server(new UncheckedStore({ apps: records }))
  assert.equal((await status(app, '/none', auth('good'))).status, 200)
  for (const slug of ['short', 'nonhex', 'empty', 'short512']) {
    const result = await status(app, '/none', auth(slug))
    assert.equal(result.status, 401, slug)
    assert.equal(result.code, 'FST_LINKED_SERVICES_INVALID_APP_KEY', slug)
  }
  await app.close()
})

test('the hook called by hand with (request, reply) returns the decision as a promise: granted, a coded refusal, and an agreement read from the store', async (t) => {
  const store = new MemoryStore({ apps: [peer('4geeks', { requireAnAgreement: false }), peer('strict')] })
  const app = Fastify()
  t.after(async () => await app.close())
  await app.register(linkedServices, { appName: APP_NAME, store })
  // Inside a handler of your own: no preHandler, the hook awaited as a function.
  const read = app.scope(['read:user'])
  app.get('/manual', async (request, reply) => {
    try {
      await read.call(app, request, reply)
    } catch (error) {
      return await reply.code((error as { statusCode: number }).statusCode).send({ code: (error as { code: string }).code })
    }
    return { app: request.app.slug }
  })
  await app.ready()
  const granted = await app.inject({ url: '/manual', headers: { authorization: auth('4geeks') } })
  assert.deepEqual([granted.statusCode, granted.json()], [200, { app: '4geeks' }])
  const refused = await app.inject({ url: '/manual', headers: { authorization: 'Link App=4geeks,Token=nope' } })
  assert.equal(refused.statusCode, 401)
  assert.match(refused.json().code, /^FST_LINKED_SERVICES_/)
  // An app that needs an agreement, on behalf of a user who has none: decided after a store read.
  const noAgreement = await app.inject({ url: '/manual', headers: { authorization: auth('strict', 5) } })
  assert.deepEqual([noAgreement.statusCode, noAgreement.json().code], [403, 'FST_LINKED_SERVICES_AGREEMENT_NOT_ACCEPTED'])
})
