/**
 * A fresh consumer that installs only `fastify` and the packed tarball (npm, from the local
 * cache when it can): none of the optional backends (pg, ioredis, undici) lands in its
 * node_modules, the MemoryStore example serves a signed call, and each backend that is not
 * installed is named with the command that installs it.
 */
import { after, before, test } from 'node:test'
import assert from 'node:assert/strict'
import { execFileSync, spawnSync } from 'node:child_process'
import { existsSync, mkdirSync, writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { cleanupPacked, packPackage, ROOT } from './helpers/packed.js'

let consumer: string

before(() => {
  const { dir, tarball } = packPackage()
  consumer = join(dir, 'fresh-consumer')
  mkdirSync(consumer)
  writeFileSync(join(consumer, 'package.json'), JSON.stringify({ name: 'fresh-consumer', private: true, type: 'module' }))
  // The fastify this repository is tested with, so that the cache of `npm ci` can serve it.
  const fastify = (require(join(ROOT, 'node_modules', 'fastify', 'package.json')) as { version: string }).version
  execFileSync('npm', ['install', '--prefer-offline', '--no-audit', '--no-fund', '--ignore-scripts', '--loglevel=error', `fastify@${fastify}`, tarball],
    { cwd: consumer, stdio: ['ignore', 'ignore', 'inherit'] })
})

after(cleanupPacked)

function node (code: string): string {
  return execFileSync(process.execPath, ['--input-type=module', '-e', code], { cwd: consumer, encoding: 'utf8' })
}

test('installing the package brings none of the optional backends', () => {
  for (const name of ['pg', '@types/pg', 'ioredis', 'undici', 'tweetnacl']) {
    assert.equal(existsSync(join(consumer, 'node_modules', name)), false, `${name} is not installed`)
  }
  assert.ok(existsSync(join(consumer, 'node_modules', 'fastify-linked-services', 'dist', 'plugin', 'esm.mjs')))
})

test('the MemoryStore example answers a JWT call, from import and from require; signJwt and signRequest need no backend', () => {
  const example = `
    import { createRequire } from 'node:module'
    import Fastify from 'fastify'
    import linkedServices, { MemoryStore, signJwt, signRequest, linkAuthorizationHeader } from 'fastify-linked-services'
    const peer = { slug: 'peer', algorithm: 'HMAC_SHA256', privateKey: 'ab'.repeat(32), requiredScopes: ['read:user'], requireAnAgreement: false }
    const app = Fastify()
    await app.register(linkedServices, { appName: 'nodeservice', store: new MemoryStore({ apps: [peer] }) })
    app.get('/v1/things', { preHandler: app.scope(['read:user']) }, async (request) => ({ app: request.app.slug, mode: request.token.mode }))
    app.get('/open', async (request) => ({ app: request.app, token: request.token }))
    const token = signJwt({ appName: 'peer', app: { ...peer, slug: 'nodeservice' } })
    const signed = await app.inject({ url: '/v1/things', headers: { authorization: linkAuthorizationHeader('peer', token) } })
    const open = await app.inject('/open')
    const required = createRequire(import.meta.url)('fastify-linked-services')
    const request = signRequest({ appName: 'peer', app: { ...peer, slug: 'nodeservice' }, method: 'GET', url: 'http://localhost/v1/things' })
    console.log(JSON.stringify({ status: signed.statusCode, body: signed.json(), open: open.json(), require: typeof required.MemoryStore, signature: request.headers.Signature.startsWith('sig=:') }))
    await app.close()`
  assert.deepEqual(JSON.parse(node(example)), {
    status: 200, body: { app: 'peer', mode: 'jwt' }, open: { app: null, token: null }, require: 'function', signature: true
  })
})

test('a backend whose package is missing is named with the command that installs it', () => {
  const out = node(`
    const attempts = {
      postgres: async () => { const { PostgresStore } = await import('fastify-linked-services/postgres'); return new PostgresStore({ connectionString: 'postgres://127.0.0.1:1/x' }) },
      redis: async () => { const { RedisNonceStore } = await import('fastify-linked-services/redis'); return new RedisNonceStore({ url: 'redis://127.0.0.1:1' }) },
      client: async () => { const { createLinkedClient, MemoryStore } = await import('fastify-linked-services'); return createLinkedClient({ appName: 'me', store: new MemoryStore() }) },
      remoteUsers: async () => {
        const { default: Fastify } = await import('fastify')
        const { default: linkedServices } = await import('fastify-linked-services')
        await Fastify().register(linkedServices, { appName: 'me', resolveRemoteUsers: true })
      }
    }
    const result = {}
    for (const [name, attempt] of Object.entries(attempts)) {
      try { await attempt(); result[name] = 'no error' } catch (error) { result[name] = { code: error.code, message: error.message } }
    }
    console.log(JSON.stringify(result))`)
  const result = JSON.parse(out) as Record<string, { code: string, message: string }>
  const expected: Record<string, string> = { postgres: 'pg', redis: 'ioredis', client: 'undici', remoteUsers: 'undici' }
  for (const [attempt, name] of Object.entries(expected)) {
    assert.equal(result[attempt].code, 'FST_LINKED_SERVICES_MISSING_PEER_DEPENDENCY', attempt)
    assert.ok(result[attempt].message.includes(`npm install ${name}`), `${attempt}: ${result[attempt].message}`)
  }
})

test('webhooks on the MemoryStore: receiving needs no backend; send without undici is refused, naming it', () => {
  const out = node(`
    import Fastify from 'fastify'
    import linkedServices, { linkedWebhooks, MemoryStore, signJwt, linkAuthorizationHeader } from 'fastify-linked-services'
    const peer = { slug: 'peer', algorithm: 'HMAC_SHA256', privateKey: 'ab'.repeat(32), requireAnAgreement: false, webhookUrl: 'http://127.0.0.1:1/hook' }
    const app = Fastify()
    await app.register(linkedServices, { appName: 'nodeservice', store: new MemoryStore({ apps: [peer] }) })
    await app.register(linkedWebhooks, { receive: { path: '/v1/webhook' } })
    await app.ready()
    const token = signJwt({ appName: 'peer', app: { ...peer, slug: 'nodeservice' } })
    const received = await app.inject({ method: 'POST', url: '/v1/webhook', headers: { authorization: linkAuthorizationHeader('peer', token) }, payload: { id: 1, type: 'order.paid', data: {} } })
    let send
    try { await app.webhooks.send('peer', 'order.paid', {}); send = 'no error' } catch (error) { send = { code: error.code, message: error.message } }
    console.log(JSON.stringify({ status: received.statusCode, stored: (await app.webhooks.received.list()).length, send }))
    await app.close()`)
  const result = JSON.parse(out) as { status: number, stored: number, send: { code: string, message: string } }
  assert.equal(result.status, 204)
  assert.equal(result.stored, 1)
  assert.equal(result.send.code, 'FST_LINKED_SERVICES_MISSING_PEER_DEPENDENCY')
  assert.match(result.send.message, /npm install undici/)
})

test('the CLI runs from the install, and `migrate` without pg names the package', () => {
  const bin = join(consumer, 'node_modules', '.bin', 'linked-services')
  const keygen = spawnSync(bin, ['keygen', '--algorithm', 'HMAC_SHA256'], { encoding: 'utf8' })
  assert.equal(keygen.status, 0, keygen.stderr)
  const migrate = spawnSync(bin, ['migrate', '--database-url', 'postgres://127.0.0.1:1/x'], { encoding: 'utf8' })
  assert.notEqual(migrate.status, 0)
  assert.match(migrate.stderr, /npm install pg/)
})
