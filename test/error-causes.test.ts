/** Errors that name their cause: the missing scopes (RFC 6750), the unknown slug in the log, the setting that would allow a refused call. */
import { test } from 'node:test'
import assert from 'node:assert/strict'
import { Writable } from 'node:stream'
import Fastify, { type FastifyInstance } from 'fastify'
import linkedServices, { MemoryStore, type AppRecord } from '../plugin/index.js'
import { encodeJwt, linkHeader, pythonClaims } from './helpers/jwt.js'
import { hmacKeyHex } from './helpers/keys.js'
import { APP_NAME, buildServer, hmacApp } from './helpers/server.js'
import { hmacCaller, signedInject } from './helpers/signature.js'

const key = hmacKeyHex(32)

async function signedServer (record: AppRecord): Promise<FastifyInstance> {
  const app = Fastify()
  await app.register(linkedServices, { appName: APP_NAME, store: new MemoryStore({ apps: [record] }) })
  app.get('/needs', { preHandler: app.scope(['read:user', 'write:user'], { mode: 'signature' }) }, async () => 'ok')
  app.get('/any', { preHandler: app.scope() }, async () => 'ok')
  return app
}
const token = (slug: string): string => linkHeader(slug, encodeJwt(pythonClaims(slug, APP_NAME), { key }))

test('a 403 names the missing scopes, in its message and in WWW-Authenticate (RFC 6750)', async () => {
  const { app } = await buildServer({ apps: [hmacApp('reader', { privateKey: key, requireAnAgreement: true, requiredScopes: ['read:user'] })] })
  const response = await app.inject({ url: '/write', headers: { authorization: token('reader') } })
  assert.equal(response.statusCode, 403)
  assert.equal(response.json().code, 'FST_LINKED_SERVICES_FORBIDDEN_SCOPE')
  assert.equal(response.json().message, 'Forbidden: this route needs the scope(s) write:user, not granted to this app')
  assert.equal(response.headers['www-authenticate'], `Link realm="${APP_NAME}", error="insufficient_scope", scope="write:user"`)
  await app.close()
})

test('a signed request refused for a scope gets a Signature challenge naming the scopes', async () => {
  const caller = hmacCaller('signer', 'HMAC_SHA256', { requireAnAgreement: true })
  const app = await signedServer(caller.record)
  const response = await app.inject(signedInject(caller, { method: 'GET', path: '/needs' }))
  assert.equal(response.statusCode, 403)
  assert.equal(response.headers['www-authenticate'], 'Signature error="insufficient_scope", scope="read:user write:user"')
  await app.close()
})

test('the log line of an app-not-found names the slug; the response does not change', async () => {
  const lines: string[] = []
  const stream = new Writable({ write (chunk: Buffer, _encoding, done) { lines.push(chunk.toString('utf8')); done() } })
  const app = Fastify({ logger: { level: 'info', stream } })
  await app.register(linkedServices, { appName: APP_NAME, store: new MemoryStore() })
  app.get('/open', { preHandler: app.scope() }, async () => 'ok')
  const response = await app.inject({ url: '/open', headers: { authorization: token('ghost-app') } })
  assert.equal(response.statusCode, 401)
  assert.equal(response.json().message, 'Unauthorized: unknown app')
  const logged = lines.map((line) => JSON.parse(line) as { err?: { code?: string, app?: string, reason?: string } }).find((line) => line.err?.code === 'FST_LINKED_SERVICES_APP_NOT_FOUND')
  assert.equal(logged?.err?.app, 'ghost-app')
  assert.equal(logged?.err?.reason, 'the store has no such app')
  // A long "slug" may be a key pasted by mistake: only its start is logged.
  lines.length = 0
  const long = 'a'.repeat(64)
  await app.inject({ url: '/open', headers: { authorization: token(long) } })
  assert.ok(!lines.join('').includes(long.slice(0, 24)))
  assert.match(lines.join(''), /"app":"aaaaaaaa… \(64 characters\)"/)
  await app.close()
})

test('strategy and mode refusals say which setting would allow the call', async () => {
  const { app } = await buildServer({ apps: [hmacApp('sigapp', { privateKey: key, strategy: 'SIGNATURE' }), hmacApp('jwtapp', { privateKey: key })] })
  const strategy = await app.inject({ url: '/open', headers: { authorization: token('sigapp') } })
  assert.equal(strategy.json().code, 'FST_LINKED_SERVICES_AUTHORIZATION_HEADER_FORBIDDEN_STRATEGY')
  assert.match(strategy.json().message, /its strategy is SIGNATURE: it must sign its requests, or its record needs strategy JWT/)
  const signedOnly = await app.inject({ method: 'POST', url: '/signed', headers: { authorization: token('jwtapp') } })
  assert.match(signedOnly.json().message, /this route takes signed requests only \(scope mode 'signature'\)/)
  const legacyOff = await app.inject({ url: '/open', headers: { authorization: 'Signature App=jwtapp,Nonce=00,SignedHeaders=,Date=x' } })
  assert.equal(legacyOff.json().code, 'FST_LINKED_SERVICES_UNKNOWN_AUTH_SCHEMA')
  assert.match(legacyOff.json().message, /Signature scheme is off \(plugin option signature\.legacy\)/)
  await app.close()

  const caller = hmacCaller('jwtcaller', 'HMAC_SHA256', { strategy: 'JWT' })
  const server = await signedServer(caller.record)
  const signed = await server.inject(signedInject(caller, { method: 'GET', path: '/any' }))
  assert.match(signed.json().message, /its strategy is JWT: it must send a JWT, or the route needs scope\(scopes, \{ mode: 'signature' \}\)/)
  await server.close()
})
