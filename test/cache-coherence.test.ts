/**
 * Cache coherence with a slow store (issue 12.4): a request that arrives after an app was
 * removed, revoked or changed — told through the change feed, `invalidate(slug)` or `clear()` —
 * is never authenticated (or authorized) by a store load that started before the change. The
 * store here answers only when the test says so, with what it held when it was asked.
 */
import { test } from 'node:test'
import assert from 'node:assert/strict'
import Fastify, { type FastifyInstance } from 'fastify'
import linkedServices, { MemoryStore } from '../plugin/index.js'
import type { LightMyRequestResponse } from 'fastify'
import type { AgreementRecord, AppRecord, LinkedServicesStore, MemoryStoreData, StoreChange, UserRecord } from '../plugin/index.js'
import { encodeJwt, linkHeader, pythonClaims } from './helpers/jwt.js'
import { hmacKeyHex } from './helpers/keys.js'

const APP_NAME = 'nodeservice'

type Method = 'getApp' | 'findUserByCredential' | 'getAgreement'

/** A MemoryStore whose answers wait until released; each answer is what the store held when asked. */
class SlowStore implements LinkedServicesStore {
  readonly inner: MemoryStore
  readonly held: Record<Method, Array<() => void>> = { getApp: [], findUserByCredential: [], getAgreement: [] }
  readonly calls: Record<Method, number> = { getApp: 0, findUserByCredential: 0, getAgreement: 0 }
  /** Methods answered at once. */
  readonly fast = new Set<Method>()

  constructor (inner: MemoryStore) { this.inner = inner }

  #slow<T> (method: Method, answer: Promise<T>): Promise<T> {
    this.calls[method]++
    if (this.fast.has(method)) return answer
    return new Promise((resolve) => { this.held[method].push(() => { answer.then(resolve, () => {}) }) })
  }

  async getApp (slug: string): Promise<AppRecord | null> { return await this.#slow('getApp', this.inner.getApp(slug)) }
  async findUserByCredential (app: string, id: string): Promise<UserRecord | null> { return await this.#slow('findUserByCredential', this.inner.findUserByCredential(app, id)) }
  async getAgreement (app: string, userId: string): Promise<AgreementRecord | null> { return await this.#slow('getAgreement', this.inner.getAgreement(app, userId)) }
  subscribe (listener: (change: StoreChange) => void): () => void { return this.inner.subscribe(listener) }

  /**
   * Resolves once `count` calls of `method` are held (no fixed sleep: polls the event loop);
   * fails when they are not there within many turns of it (a request joined an older load).
   */
  async waitFor (method: Method, count: number): Promise<void> {
    for (let turn = 0; this.held[method].length < count; turn++) {
      if (turn === 2000) throw new Error(`${method} was asked ${this.held[method].length} times, not ${count}`)
      await new Promise((resolve) => setImmediate(resolve))
    }
  }

  release (method: Method): void {
    for (const answer of this.held[method].splice(0)) answer()
  }
}

const secret = hmacKeyHex(32)
const callerRecord = (): AppRecord => ({ slug: 'slowcaller', algorithm: 'HMAC_SHA256', privateKey: secret, requireAnAgreement: true, requiredScopes: ['read:user'] })

async function server (store: SlowStore, options = {}): Promise<FastifyInstance> {
  const app = Fastify({ logger: false })
  await app.register(linkedServices, { appName: APP_NAME, store, ...options })
  app.get('/open', { preHandler: app.scope() }, async () => ({ ok: true }))
  app.get('/read', { preHandler: app.scope(['read:user']) }, async () => ({ ok: true }))
  await app.ready()
  return app
}

function token (sub = ''): string {
  return linkHeader('slowcaller', encodeJwt(pythonClaims('slowcaller', APP_NAME, { sub }), { key: secret }))
}

type Change = 'feed' | 'invalidate' | 'clear'

interface Race {
  kind: Change
  data: MemoryStoreData
  /** The store call held while the change happens; the others answer at once. */
  held: Method
  url: string
  sub?: string
  apply: (inner: MemoryStore) => void
}

/**
 * One request starts a load, the change happens while it is held, a second request arrives; then
 * the store answers. Returns both responses and the server (closed by the caller).
 */
async function race ({ kind, data, held, url, sub = '', apply }: Race): Promise<{ before: LightMyRequestResponse, late: LightMyRequestResponse, app: FastifyInstance, store: SlowStore }> {
  const inner = new MemoryStore(data)
  const store = new SlowStore(inner)
  if (kind === 'invalidate' || kind === 'clear') store.subscribe = undefined as never
  for (const method of ['getApp', 'findUserByCredential', 'getAgreement'] as const) if (method !== held) store.fast.add(method)
  const app = await server(store)
  const call = (): Promise<LightMyRequestResponse> => app.inject({ method: 'GET', url, headers: { authorization: token(sub) } })
  const before = call()
  await store.waitFor(held, 1)
  apply(inner)
  if (kind === 'invalidate') app.linkedServices.invalidate('slowcaller')
  if (kind === 'clear') app.linkedServices.clear()
  const late = call()
  await store.waitFor(held, 2) // its own load, not the old one
  store.release(held)
  return { before: await before, late: await late, app, store }
}

const withAgreement: MemoryStoreData = {
  apps: [callerRecord()],
  users: [{ id: 1, username: 'ann', email: 'ann@example.test', credentials: { slowcaller: '42' } }],
  agreements: [{ app: 'slowcaller', userId: 1, optionalScopes: [] }]
}

for (const kind of ['feed', 'invalidate', 'clear'] as const) {
  test(`${kind}: an app removed while its load is under way authenticates no later request`, async () => {
    const { before, late, app, store } = await race({ kind, data: { apps: [callerRecord()] }, held: 'getApp', url: '/open', apply: (inner) => inner.removeApp('slowcaller') })
    try {
      assert.equal(before.statusCode, 200, 'it arrived before the removal')
      assert.equal(late.statusCode, 401)
      assert.equal(late.json().code, 'FST_LINKED_SERVICES_APP_NOT_FOUND')
      // The old load's answer was cached nowhere.
      store.fast.add('getApp')
      assert.equal((await app.inject({ method: 'GET', url: '/open', headers: { authorization: token() } })).statusCode, 401)
    } finally {
      await app.close()
    }
  })

  test(`${kind}: a key revoked while a load is under way verifies no later request`, async () => {
    const { before, late, app } = await race({ kind, data: { apps: [callerRecord()] }, held: 'getApp', url: '/open', apply: (inner) => inner.rotateKey('slowcaller', { privateKey: hmacKeyHex(32) }, Date.now()) })
    try {
      assert.equal(before.statusCode, 200)
      assert.equal(late.json().code, 'FST_LINKED_SERVICES_WRONG_APP_TOKEN')
    } finally {
      await app.close()
    }
  })

  test(`${kind}: an agreement removed while a load is under way authorizes no later request`, async () => {
    const { before, late, app } = await race({ kind, data: withAgreement, held: 'getAgreement', url: '/read', sub: '42', apply: (inner) => inner.removeAgreement('slowcaller', 1) })
    try {
      assert.equal(before.statusCode, 200)
      assert.equal(late.statusCode, 403)
      assert.equal(late.json().code, 'FST_LINKED_SERVICES_AGREEMENT_NOT_ACCEPTED')
    } finally {
      await app.close()
    }
  })
}

test('a user unlinked while its load is under way authorizes no later request', async () => {
  const { before, late, app } = await race({ kind: 'feed', data: withAgreement, held: 'findUserByCredential', url: '/read', sub: '42', apply: (inner) => inner.linkUser(1, 'slowcaller', '43') })
  try {
    assert.equal(before.statusCode, 200)
    assert.equal(late.statusCode, 403)
  } finally {
    await app.close()
  }
})

test('an app added while a "no such app" load is under way is not hidden by it', async () => {
  const inner = new MemoryStore()
  const store = new SlowStore(inner)
  const app = await server(store, { cache: { negativeTtl: 60_000 } })
  try {
    const before = app.inject({ method: 'GET', url: '/open', headers: { authorization: token() } })
    await store.waitFor('getApp', 1)
    inner.addApp(callerRecord())
    store.release('getApp')
    assert.equal((await before).statusCode, 401)
    store.fast.add('getApp')
    assert.equal((await app.inject({ method: 'GET', url: '/open', headers: { authorization: token() } })).statusCode, 200)
  } finally {
    await app.close()
  }
})
