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

async function registrationError (options: unknown): Promise<{ code?: string, message: string, option?: string }> {
  const error = await register(options) as { code?: string, message: string, option?: string } | null
  assert.ok(error !== null, `should fail: ${JSON.stringify(options)}`)
  return error
}

test('a mistyped option key is refused at every level, naming it and the closest known name', async () => {
  const cases: Array<[unknown, string, string]> = [
    [{ appName: APP_NAME, stor: new MemoryStore() }, 'stor', 'store'],
    [{ appName: APP_NAME, storeTimout: 100 }, 'storeTimout', 'storeTimeout'],
    [{ appName: APP_NAME, signature: { tolerence: 30 } }, 'signature.tolerence', 'signature.tolerance'],
    [{ appName: APP_NAME, signatures: { legacy: true } }, 'signatures', 'signature'],
    [{ appName: APP_NAME, jwt: { cachesize: 10 } }, 'jwt.cachesize', 'jwt.maxCachedTokens'],
    [{ appName: APP_NAME, cache: { maxx: 10 } }, 'cache.maxx', 'cache.maxApps'],
    [{ appname: APP_NAME, appName: APP_NAME }, 'appname', 'appName']
  ]
  for (const [options, wrong, right] of cases) {
    const error = await registrationError(options)
    assert.equal(error.code, 'FST_LINKED_SERVICES_INVALID_OPTION')
    assert.equal(error.option, wrong)
    assert.ok(error.message.includes(`unknown option ${wrong} (did you mean ${right}?)`), error.message)
  }
  const far = await registrationError({ appName: APP_NAME, signature: { zzzzzz: 1 } })
  assert.match(far.message, /unknown option signature\.zzzzzz \(known options here: signature\.tolerance, /)
})

test('types and ranges name the option and the rule, never the value', async () => {
  const cases: Array<[unknown, RegExp]> = [
    [{ appName: APP_NAME, storeTimeout: 0 }, /storeTimeout must be at least 1 ms and at most 600000 ms/],
    [{ appName: APP_NAME, jwt: { clockTolerance: 'soon' } }, /jwt\.clockTolerance must be a number, got a string/],
    [{ appName: APP_NAME, cache: { ttl: 1.5 } }, /cache\.ttl must be an integer, got a number/],
    [{ appName: 'has space' }, /appName must be a slug/],
    [{}, /appName is required/],
    [{ appName: APP_NAME, store: { getApp () {} } }, /store must be an object with the methods getApp, getAgreement, findUserByCredential/],
    [{ appName: APP_NAME, signature: { nonceStore: 'redis://secret@host' } }, /signature\.nonceStore must be an object, got a string/]
  ]
  for (const [options, message] of cases) {
    const error = await registrationError(options)
    assert.equal(error.code, 'FST_LINKED_SERVICES_INVALID_OPTION')
    assert.match(error.message, message)
    assert.ok(!error.message.includes('secret'))
  }
})

test('the options of register itself (prefix, logLevel) are not refused', async () => {
  assert.equal(await register({ appName: APP_NAME, prefix: '/api', logLevel: 'warn' }), null)
})

test('resolveRemoteUsers with a store that cannot link users is refused at registration', async () => {
  const store = { getApp: async () => null, getAgreement: async () => null, findUserByCredential: async () => null }
  const error = await registrationError({ appName: APP_NAME, store, resolveRemoteUsers: true })
  assert.equal(error.code, 'FST_LINKED_SERVICES_INVALID_OPTION')
  assert.match(error.message, /resolveRemoteUsers needs a store that can link users \(a linkRemoteUser method\)/)
  assert.equal(await register({ appName: APP_NAME, store: new MemoryStore(), resolveRemoteUsers: true }), null)
})

test('scope() in a hook that runs before the body is read is refused when the route is defined', async () => {
  for (const hook of ['onRequest', 'preParsing', 'preValidation']) {
    const app = Fastify()
    await app.register(linkedServices, { appName: APP_NAME })
    let error: { code?: string, message: string } | undefined
    try {
      app.post('/x', { [hook]: app.scope(['read:user']) }, async () => 'ok')
      await app.ready()
    } catch (caught) {
      error = caught as { code?: string, message: string }
    }
    assert.equal(error?.code, 'FST_LINKED_SERVICES_INVALID_HOOK', hook)
    assert.match(error?.message ?? '', new RegExp(`POST /x: scope\\(\\) is in ${hook}; put it in preHandler`))
    await app.close()
  }
})

test('the old and the new name of an option mean the same', async () => {
  const { resolveConfig } = await import('../plugin/config.js')
  const old = resolveConfig({ appName: APP_NAME, jwt: { cacheSize: 7 }, signature: { clockSkew: 9 }, cache: { max: 3 } } as never)
  const current = resolveConfig({ appName: APP_NAME, jwt: { maxCachedTokens: 7 }, signature: { clockTolerance: 9 }, cache: { maxApps: 3 } })
  assert.equal(old.jwt.maxCachedTokens, 7)
  assert.equal(current.jwt.maxCachedTokens, 7)
  assert.equal(old.signature.clockSkew, 9)
  assert.equal(current.signature.clockSkew, 9)
  assert.equal(old.cache.maxApps, 3)
  assert.equal(current.cache.maxApps, 3)
})
