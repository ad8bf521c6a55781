/**
 * The table of recent Authorization headers in front of the token cache (plugin/cache/token-cache.ts):
 * a header recalled whole still gets every check that depends on the app, the route and the clock.
 */
import { test } from 'node:test'
import assert from 'node:assert/strict'
import { hmacKeyHex } from './helpers/keys.js'
import { encodeJwt, linkHeader, pythonClaims } from './helpers/jwt.js'
import { APP_NAME, buildServer, hmacApp } from './helpers/server.js'
import { TokenCache } from '../plugin/cache/token-cache.js'
import { resolveApp } from '../plugin/cache/resolved-app.js'

const CALLER = 'pyservice'

async function status (app: Awaited<ReturnType<typeof buildServer>>['app'], authorization: string, url = '/open'): Promise<{ status: number, code?: string }> {
  const response = await app.inject({ method: 'GET', url, headers: { authorization } })
  return { status: response.statusCode, code: response.json().code }
}

test('a recalled header is refused once the app\'s key changes in the store', async () => {
  const key = hmacKeyHex(32)
  const { app, store } = await buildServer({ apps: [hmacApp(CALLER, { privateKey: key })] })
  const header = linkHeader(CALLER, encodeJwt(pythonClaims(CALLER, APP_NAME), { key }))
  // Three calls: verified, cached (second verification), then recalled from the header table.
  for (let i = 0; i < 3; i++) assert.equal((await status(app, header)).status, 200)
  store.updateApp(CALLER, { privateKey: hmacKeyHex(32) })
  app.linkedServices.invalidate(CALLER)
  const refused = await status(app, header)
  assert.equal(refused.status, 401)
  assert.equal(refused.code, 'FST_LINKED_SERVICES_WRONG_APP_TOKEN')
  await app.close()
})

test('a recalled header still meets the route\'s mode and scopes', async () => {
  const key = hmacKeyHex(32)
  const { app } = await buildServer({ apps: [hmacApp(CALLER, { privateKey: key, requireAnAgreement: true, requiredScopes: ['read:user'] })] })
  const header = linkHeader(CALLER, encodeJwt(pythonClaims(CALLER, APP_NAME), { key }))
  for (let i = 0; i < 3; i++) assert.equal((await status(app, header, '/read')).status, 200)
  assert.equal((await status(app, header, '/write')).status, 403, 'a scope the app lacks')
  const signedOnly = await app.inject({ method: 'POST', url: '/signed', headers: { authorization: header } })
  assert.equal(signedOnly.statusCode, 401, 'a route that takes signed requests only')
  await app.close()
})

test('a recalled header is refused once its token expires', async (t) => {
  t.mock.timers.enable({ apis: ['Date'], now: Date.now() })
  const key = hmacKeyHex(32)
  const { app } = await buildServer({ apps: [hmacApp(CALLER, { privateKey: key })] }, { jwt: { clockTolerance: 0 } } as never)
  const now = Date.now() / 1000
  const header = linkHeader(CALLER, encodeJwt(pythonClaims(CALLER, APP_NAME, { exp: now + 30, iat: now - 1 }), { key }))
  for (let i = 0; i < 3; i++) assert.equal((await status(app, header)).status, 200)
  t.mock.timers.setTime(Date.now() + 31_000)
  const late = await status(app, header)
  assert.equal(late.status, 401)
  assert.equal(late.code, 'FST_LINKED_SERVICES_EXPIRED')
  await app.close()
})

test('the header table holds only headers that hit, and forgets an app with its tokens', () => {
  const cache = new TokenCache(100)
  const app = resolveApp(hmacApp(CALLER))
  const token = Object.freeze({ mode: 'jwt', sub: null, app: CALLER, aud: APP_NAME, exp: 1 }) as never
  const header = `Link App=${CALLER},Token=a.b.signature`
  const jwt = 'a.b.signature'
  cache.set(jwt, { app, headerApp: CALLER, token }, Infinity)
  assert.equal(cache.getForHeader(header, jwt, app, CALLER, Date.now()), undefined, 'seen once: not cached')
  assert.equal(cache.recall(header, Date.now()), undefined)
  cache.set(jwt, { app, headerApp: CALLER, token }, Infinity)
  assert.equal(cache.getForHeader(header, jwt, app, CALLER, Date.now()), token)
  assert.equal(cache.recall(header, Date.now())?.token, token)
  assert.equal(cache.recall(header + 'x', Date.now()), undefined, 'only the very same header')
  cache.forgetApp(CALLER)
  assert.equal(cache.recall(header, Date.now()), undefined)
})
