import { test, type TestContext } from 'node:test'
import assert from 'node:assert/strict'
import Fastify from 'fastify'
import linkedServices, { MemoryStore } from '../plugin/index.js'
import { fetchRemoteUser, remoteUserUrl, validateProfile } from '../plugin/users/remote-user.js'
import { resolveApp } from '../plugin/cache/resolved-app.js'
import { linkAuthorizationHeader, signJwt } from '../plugin/client/sign-jwt.js'
import type { AppRecord } from '../types/index.js'
import { ed25519Keys, hmacKeyHex } from './helpers/keys.js'

const SECRET = hmacKeyHex(64)
const PROFILES: Record<string, unknown> = {
  5: { id: 5, username: 'jane', email: 'jane@example.com', first_name: 'Jane', last_name: 'Doe', is_staff: true },
  'a/b c': { id: 'a/b c', username: 'odd', email: 'odd@example.com' },
  6: { id: 6 },
  7: [1, 2],
  8: { id: 9, username: 'x', email: 'x@example.com' }
}

/**
 * The calling app ("caller"): it runs the plugin too and serves the original's users endpoint,
 * protected by scope(['read:user']); it knows us ("nodeservice") by the shared secret.
 */
async function startCaller (t: TestContext, strategy: 'JWT' | 'SIGNATURE' = 'JWT', us: Partial<AppRecord> = {}): Promise<{ url: string, seen: Array<{ url: string, app: string | null, sub: unknown }> }> {
  // forceCloseConnections: the "slow" request is still open when the test ends; close() must
  // not wait for it (nor for the keep-alive timeout of its socket).
  const server = Fastify({ forceCloseConnections: true })
  const seen: Array<{ url: string, app: string | null, sub: unknown }> = []
  await server.register(linkedServices, {
    appName: 'caller',
    store: new MemoryStore({ apps: [{ slug: 'nodeservice', algorithm: 'HMAC_SHA512', privateKey: SECRET, strategy, requiredScopes: ['read:user'], ...us }] })
  })
  server.get('/v1/auth/app/user/:id', { preHandler: server.scope(['read:user']) }, async (request, reply) => {
    const { id } = request.params as { id: string }
    seen.push({ url: request.url, app: request.app?.slug ?? null, sub: request.token?.sub })
    if (id === 'boom') return await reply.code(500).send({ detail: 'down' })
    if (id === 'html') return await reply.type('text/html').send('<html>')
    // Never answers: only the caller's deadline ends the wait.
    if (id === 'slow') return await new Promise(() => {})
    if (!(id in PROFILES)) return await reply.code(404).send({ detail: 'User not found' })
    return PROFILES[id]
  })
  const url = await server.listen({ host: '127.0.0.1', port: 0 })
  t.after(async () => await server.close())
  return { url, seen }
}

function callerRecord (url: string | null, extra: Partial<AppRecord> = {}): AppRecord {
  return { slug: 'caller', algorithm: 'HMAC_SHA512', privateKey: SECRET, appUrl: url, ...extra }
}

async function lookup (record: AppRecord, sub: string, timeout = 2000) {
  return await fetchRemoteUser({ appName: 'nodeservice', app: resolveApp(record), sub, timeout })
}

test('remoteUserUrl joins appUrl, usersPath and the URL-encoded sub', () => {
  assert.equal(remoteUserUrl('http://h/', '/v1/auth/app/user/', '5'), 'http://h/v1/auth/app/user/5')
  assert.equal(remoteUserUrl('http://h', 'users', 'a/b c?'), 'http://h/users/a%2Fb%20c%3F')
  assert.equal(remoteUserUrl('http://h/api', '/users', '../x'), 'http://h/api/users/..%2Fx')
})

test('fetches the profile with an app-level signed call and keeps the original fields', async (t) => {
  const caller = await startCaller(t)
  assert.deepEqual(await lookup(callerRecord(caller.url), '5'),
    { id: 5, username: 'jane', email: 'jane@example.com', first_name: 'Jane', last_name: 'Doe' })
  assert.deepEqual(caller.seen[0], { url: '/v1/auth/app/user/5', app: 'nodeservice', sub: null })
  assert.deepEqual(await lookup(callerRecord(`${caller.url}/`, { usersPath: 'v1/auth/app/user' }), 'a/b c'),
    { id: 'a/b c', username: 'odd', email: 'odd@example.com', first_name: '', last_name: '' })
  assert.equal(caller.seen[1].url, '/v1/auth/app/user/a%2Fb%20c')
})

test('a SIGNATURE app is asked with an RFC 9421 signed request (HMAC and Ed25519)', async (t) => {
  const caller = await startCaller(t, 'SIGNATURE')
  assert.equal((await lookup(callerRecord(caller.url, { strategy: 'SIGNATURE' }), '5'))?.username, 'jane')
  assert.deepEqual(caller.seen[0], { url: '/v1/auth/app/user/5', app: 'nodeservice', sub: null })
  assert.equal(await lookup(callerRecord(caller.url, { strategy: 'SIGNATURE' }), 'nobody'), null)

  const ed = ed25519Keys()
  const edCaller = await startCaller(t, 'SIGNATURE', { algorithm: 'ED25519', privateKey: null, publicKey: ed.publicPem, kid: 'k1' })
  const profile = await lookup(callerRecord(edCaller.url, { strategy: 'SIGNATURE', algorithm: 'ED25519', privateKey: ed.privatePemHex, kid: 'k1' }), '5')
  assert.equal(profile?.email, 'jane@example.com')
})

test('404 gives null; an app without appUrl gives null', async (t) => {
  const caller = await startCaller(t)
  assert.equal(await lookup(callerRecord(caller.url), 'nobody'), null)
  assert.equal(await lookup(callerRecord(null), '5'), null)
})

test('missing id / username / email: MissingRequiredFieldsError (400) naming every field', async (t) => {
  const caller = await startCaller(t)
  await assert.rejects(lookup(callerRecord(caller.url), '6'), (error: Record<string, unknown>) => {
    assert.equal(error.code, 'FST_LINKED_SERVICES_MISSING_REQUIRED_FIELDS')
    assert.equal(error.statusCode, 400)
    assert.equal(error.message, 'username not provided, email not provided')
    return true
  })
  await assert.rejects(lookup(callerRecord(caller.url), '7'), { message: 'id not provided, username not provided, email not provided' })
  await assert.rejects(lookup(callerRecord(caller.url), '8'), { message: 'id is not the requested user' })
  assert.throws(() => validateProfile(null, '1'), { statusCode: 400 })
  assert.throws(() => validateProfile({ id: '', username: 'u', email: 'e' }, ''), { message: 'id not provided' })
})

test('an unreachable, failing, slow or non-JSON caller: RemoteUserUnavailableError (502)', async (t) => {
  const caller = await startCaller(t)
  const unavailable = { code: 'FST_LINKED_SERVICES_REMOTE_USER_UNAVAILABLE', statusCode: 502 }
  await assert.rejects(lookup(callerRecord(caller.url), 'boom'), unavailable)
  await assert.rejects(lookup(callerRecord(caller.url), 'html'), unavailable)
  await assert.rejects(lookup(callerRecord(caller.url), 'slow', 100), unavailable)
  await assert.rejects(lookup(callerRecord('http://127.0.0.1:1'), '5'), unavailable)
  // The caller refuses our credentials (wrong key): not a "no such user" answer.
  await assert.rejects(lookup(callerRecord(caller.url, { privateKey: hmacKeyHex(64) }), '5'), unavailable)
  // No key to sign with.
  await assert.rejects(lookup({ slug: 'caller', algorithm: 'ED25519', publicKey: 'x', appUrl: caller.url }, '5'),
    { code: 'FST_LINKED_SERVICES_SIGNING_FAILED' })
})

test('end to end: request.getUser() with resolveRemoteUsers creates, links and then finds the user', async (t) => {
  const caller = await startCaller(t)
  const store = new MemoryStore({ apps: [callerRecord(caller.url, { requireAnAgreement: false })] })
  const server = Fastify()
  await server.register(linkedServices, { appName: 'nodeservice', store, resolveRemoteUsers: true })
  server.get('/me', { preHandler: server.scope() }, async (request) => ({ user: await request.getUser() }))
  t.after(async () => await server.close())
  // The caller calls us on behalf of its user 5 (token minted with the caller's record of us).
  const header = (sub: string) => linkAuthorizationHeader('caller',
    signJwt({ appName: 'caller', app: { slug: 'nodeservice', algorithm: 'HMAC_SHA512', privateKey: SECRET }, sub }))

  const first = await server.inject({ url: '/me', headers: { authorization: header('5') } })
  assert.equal(first.statusCode, 200, first.body)
  const user = first.json().user
  assert.equal(user.username, 'jane')
  assert.deepEqual(user.credentials, { caller: 5 })
  assert.equal(caller.seen.length, 1)

  const again = await server.inject({ url: '/me', headers: { authorization: header('5') } })
  assert.equal(again.json().user.id, user.id)
  assert.equal(caller.seen.length, 1, 'linked: no second lookup')

  const unknown = await server.inject({ url: '/me', headers: { authorization: header('nobody') } })
  assert.deepEqual(unknown.json(), { user: null })
  const incomplete = await server.inject({ url: '/me', headers: { authorization: header('6') } })
  assert.equal(incomplete.statusCode, 400)
  assert.equal(incomplete.json().code, 'FST_LINKED_SERVICES_MISSING_REQUIRED_FIELDS')
})
