import { test } from 'node:test'
import assert from 'node:assert/strict'
import Fastify from 'fastify'
import linkedServices, { MemoryStore } from '../plugin/index.js'
import { APP_NAME } from './helpers/server.js'

async function register (options: unknown): Promise<unknown> {
  const app = Fastify()
  try {
    await app.register(linkedServices, options as never)
    await app.ready()
    return null
  } catch (error) {
    return error
  } finally {
    await app.close()
  }
}

test('registration validates options once, with a coded error', async () => {
  const bad: unknown[] = [
    {},
    { appName: '' },
    { appName: 'has space' },
    { appName: 42 },
    { appName: APP_NAME, store: {} },
    { appName: APP_NAME, store: { getApp: () => null } },
    { appName: APP_NAME, jwt: { clockTolerance: -1 } },
    { appName: APP_NAME, jwt: { clockTolerance: 'soon' } },
    { appName: APP_NAME, jwt: { clockTolerance: 301 } },
    { appName: APP_NAME, jwt: 'x' },
    { appName: APP_NAME, signature: { tolerance: 0 } },
    { appName: APP_NAME, signature: { legacy: 'yes' } },
    { appName: APP_NAME, signature: { clockSkew: 301 } },
    { appName: APP_NAME, signature: { nonceStore: {} } },
    { appName: APP_NAME, storeTimeout: 0 },
    { appName: APP_NAME, storeTimeout: 1.5 },
    { appName: APP_NAME, cache: { max: -1 } },
    { appName: APP_NAME, requireCurrentAgreement: 1 },
    { appName: APP_NAME, resolveRemoteUsers: 'true' }
  ]
  for (const options of bad) {
    const error = await register(options) as { code?: string, message?: string } | null
    assert.ok(error !== null, `should fail: ${JSON.stringify(options)}`)
    assert.equal(error.code, 'FST_LINKED_SERVICES_INVALID_OPTION', JSON.stringify(options))
  }
  assert.equal(await register({ appName: APP_NAME }), null)
  assert.equal(await register({ appName: APP_NAME, store: new MemoryStore(), jwt: { clockTolerance: 0 }, signature: { legacy: true, tolerance: 30 }, storeTimeout: 100 }), null)
})

test('the caller\'s options object is not mutated', async () => {
  const options = Object.freeze({ appName: APP_NAME, jwt: Object.freeze({ clockTolerance: 10 }) })
  assert.equal(await register(options), null)
})

test('scope() validates its arguments at route definition, never per request', async () => {
  const app = Fastify()
  await app.register(linkedServices, { appName: APP_NAME })
  const badScopes: unknown[] = ['read:user', [5], ['Read:user'], ['read:user:all'], ['read-user'], [':user'], ['read:'], ['a__b'], [''], [null]]
  for (const scopes of badScopes) {
    assert.throws(() => app.scope(scopes as string[]), (error: { code?: string }) => error.code === 'FST_LINKED_SERVICES_INVALID_SCOPE', JSON.stringify(scopes))
  }
  for (const options of [{ mode: 'JWT' }, { mode: 'both' }, { scopes: [] }, null, 'jwt']) {
    assert.throws(() => app.scope([], options as never), (error: { code?: string }) => error.code === 'FST_LINKED_SERVICES_INVALID_OPTION', JSON.stringify(options))
  }
  assert.throws(() => app.scope([], { mod: 'jwt' } as never), { code: 'FST_LINKED_SERVICES_INVALID_OPTION', message: /scope\(\): unknown option mod \(did you mean mode\?\)/ })
  for (const scopes of [undefined, [], ['read:user'], ['webhook'], ['read_all:user_data', 'repo']]) {
    assert.equal(typeof app.scope(scopes), 'function')
  }
  assert.equal(typeof app.scope(['x'], { mode: 'jwt' }), 'function')
  assert.equal(typeof app.scope(['x'], { mode: 'signature' }), 'function')
  assert.equal(typeof app.scope(['x'], {}), 'function')
  await app.close()
})

test('errors carry the original slug and a FST_LINKED_SERVICES_ code', async () => {
  const { errors } = await import('../plugin/index.js')
  const error = new errors.ForbiddenScopeError()
  assert.equal(error.slug, 'forbidden-scope')
  assert.equal(error.code, 'FST_LINKED_SERVICES_FORBIDDEN_SCOPE')
  assert.equal(error.statusCode, 403)
  assert.equal(errors.errorForSlug('agreement-not-accepted'), errors.AgreementNotAcceptedError)
  assert.ok(errors.isLinkedServicesError(new errors.StoreUnavailableError()))
  assert.ok(!errors.isLinkedServicesError(new Error('x')))
})

test('the store is closed with Fastify only for what the plugin owns; onClose clears caches', async () => {
  const app = Fastify()
  const store = new MemoryStore()
  await app.register(linkedServices, { appName: APP_NAME, store })
  await app.ready()
  assert.equal(app.linkedServices.appName, APP_NAME)
  assert.equal(app.linkedServices.store, store)
  app.linkedServices.invalidate('x')
  app.linkedServices.clear()
  await app.close()
})
