/**
 * The admin CLI (`linked-services apps ...`) as a user drives it, against a real PostgreSQL (a
 * fresh schema per run) and an apps file: keys printed once and never again, a server using
 * PostgresStore accepting a JWT made from the printed peer record, rotation with a grace
 * period, and revocation refused by two plugin instances sharing the database.
 */
import { after, before, describe, test } from 'node:test'
import assert from 'node:assert/strict'
import { mkdtempSync, readFileSync, statSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import Fastify, { type FastifyInstance } from 'fastify'
import linkedServices from '../plugin/index.js'
import { main } from '../plugin/cli/main.js'
import { linkAuthorizationHeader, signJwt } from '../plugin/client/sign-jwt.js'
import { PostgresStore } from '../plugin/stores/postgres-store.js'
import type { AppRecord } from '../types/index.js'
import { DATABASE_URL, dropSchema, servicesSkipSync, uniqueSchema, waitFor } from './helpers/services.js'

const skip = servicesSkipSync({ postgres: true })
const dir = mkdtempSync(join(tmpdir(), 'linked-services-admin-'))

async function run (env: Record<string, string>, ...argv: string[]): Promise<{ code: number, out: string, err: string }> {
  let out = ''
  let err = ''
  const code = await main(argv, env, { stdout: (text) => { out += text + '\n' }, stderr: (text) => { err += text + '\n' } })
  return { code, out, err }
}

/** The peer record printed by `apps add --json` / `rotate-key --json`. */
function peerRecord (out: string): AppRecord {
  return (JSON.parse(out) as { peer: { record: AppRecord } }).peer.record
}

async function server (schema: string): Promise<FastifyInstance> {
  const app = Fastify()
  await app.register(linkedServices, { appName: 'accounts', store: new PostgresStore({ connectionString: DATABASE_URL, schema }) })
  app.get('/v1/me', { preHandler: app.scope(['read:user']) }, async (request) => ({ app: request.app.slug }))
  await app.ready()
  return app
}

async function call (app: FastifyInstance, record: AppRecord): Promise<number> {
  const token = signJwt({ appName: 'billing', app: record })
  const response = await app.inject({ url: '/v1/me', headers: { authorization: linkAuthorizationHeader('billing', token) } })
  return response.statusCode
}

describe('apps commands against PostgreSQL, two instances on one schema', { skip }, () => {
  const schema = uniqueSchema('cliadmin')
  const env = { DATABASE_URL, LINKED_SERVICES_APP_NAME: 'accounts' }
  const db = ['--schema', schema]
  let a: FastifyInstance
  let b: FastifyInstance

  before(async () => {
    assert.equal((await run(env, 'migrate', ...db)).code, 0)
    ;[a, b] = await Promise.all([server(schema), server(schema)])
  })

  after(async () => {
    await Promise.all([a?.close(), b?.close()])
    await dropSchema(schema)
  })

  test('add prints the key once; list and show never print it; the printed record calls both instances', async () => {
    const added = await run(env, 'apps', 'add', 'billing', '--algorithm', 'HMAC_SHA512', '--required-scopes', 'read:user', '--require-agreement', 'false', '--json', ...db)
    assert.equal(added.code, 0, added.err)
    const record = peerRecord(added.out)
    assert.equal(record.slug, 'accounts', 'the peer stores us under our slug')
    assert.match(String(record.privateKey), /^[0-9a-f]{128}$/, 'HMAC: 64 random bytes')
    const django = (JSON.parse(added.out) as { peer: { django: Record<string, unknown> } }).peer.django
    assert.deepEqual({ ...django, private_key: undefined }, { name: 'accounts', slug: 'accounts', algorithm: 'HMAC_SHA512', strategy: 'JWT', schema: 'LINK', private_key: undefined, public_key: null })
    assert.equal(django.private_key, record.privateKey)

    const outputs = [
      await run(env, 'apps', 'list', ...db), await run(env, 'apps', 'list', '--json', ...db),
      await run(env, 'apps', 'show', 'billing', ...db), await run(env, 'apps', 'show', 'billing', '--json', ...db)
    ]
    for (const output of outputs) {
      assert.equal(output.code, 0, output.err)
      assert.ok(!(output.out + output.err).includes(String(record.privateKey)), 'no secret in list/show')
    }
    assert.match(outputs[0].out, /^SLUG +ALGORITHM/)
    assert.match(outputs[0].out, /billing +HMAC_SHA512 +JWT +no +read:user/)
    assert.deepEqual((JSON.parse(outputs[1].out) as Array<{ slug: string }>).map((app) => app.slug), ['billing'])
    const secret = await run(env, 'apps', 'show', 'billing', '--show-secret', ...db)
    assert.equal((JSON.parse(secret.out) as AppRecord).privateKey, record.privateKey)
    assert.match(secret.err, /warning: printing the key material of billing/)

    assert.equal(await call(a, record), 200)
    assert.equal(await call(b, record), 200)
  })

  test('sign-jwt and sign-request read the app from --database-url: the header is accepted', async () => {
    const signed = await run(env, 'sign-jwt', 'billing', '--database-url', DATABASE_URL, ...db)
    assert.equal(signed.code, 0, signed.err)
    const authorization = signed.out.trim().replace(/^Authorization: /, '')
    assert.equal((await a.inject({ url: '/v1/me', headers: { authorization } })).statusCode, 200)
    const request = await run(env, 'sign-request', 'billing', '', 'get', '--url', 'http://localhost/v1/me', '--database-url', DATABASE_URL, ...db)
    assert.equal(request.code, 0, request.err)
    assert.match(request.out, /Signature-Input: sig=.*keyid="billing"/)
    const ghost = await run(env, 'sign-jwt', 'ghost', '--database-url', DATABASE_URL, ...db)
    assert.deepEqual([ghost.code, ghost.err], [1, 'error: App ghost not found\n'])
    const down = await run(env, 'sign-jwt', 'billing', '--database-url', 'postgres://admin:hunter2@127.0.0.1:1/prod')
    assert.equal(down.code, 2)
    assert.doesNotMatch(down.err, /hunter2/)
  })

  test('rotate-key: both keys verify during the grace period, then only the new one', async () => {
    const before = JSON.parse((await run(env, 'apps', 'show', 'billing', '--show-secret', ...db)).out) as AppRecord
    const oldRecord: AppRecord = { slug: 'accounts', algorithm: 'HMAC_SHA512', privateKey: before.privateKey }
    const rotated = await run(env, 'apps', 'rotate-key', 'billing', '--grace', '3600', '--kid', 'k2', '--json', ...db)
    assert.equal(rotated.code, 0, rotated.err)
    const newRecord = peerRecord(rotated.out)
    assert.notEqual(newRecord.privateKey, oldRecord.privateKey)
    await waitFor(async () => await call(a, newRecord) === 200 && await call(b, newRecord) === 200, 1000)
    assert.equal(await call(a, oldRecord), 200, 'the old key during its grace period')
    assert.equal(await call(b, oldRecord), 200)

    const ended = await run(env, 'apps', 'revoke', 'billing', '--previous-keys', ...db)
    assert.equal(ended.code, 0, ended.err)
    assert.match(ended.out, /every instance sharing this database refuses them/)
    await waitFor(async () => await call(a, oldRecord) === 401 && await call(b, oldRecord) === 401, 1000)
    assert.equal(await call(a, newRecord), 200)
    assert.equal(await call(b, newRecord), 200)
  })

  test('refusals exit 1 with one line; an unreachable database exits 2 naming the host, never the password', async () => {
    const duplicate = await run(env, 'apps', 'add', 'billing', '--algorithm', 'HMAC_SHA256', ...db)
    assert.equal(duplicate.code, 1)
    assert.equal(duplicate.err, 'error: Record already exists: app billing\n')
    assert.equal((await run(env, 'apps', 'show', 'ghost', ...db)).err, 'error: Record not found: app ghost\n')
    assert.match((await run(env, 'apps', 'add', 'Bad Slug', '--algorithm', 'HMAC_SHA256', ...db)).err, /slug must be a slug/)
    assert.equal((await run(env, 'apps', 'add', 'x', '--algorithm', 'RS256', ...db)).code, 1)
    assert.equal((await run(env, 'apps', 'show', ...db)).code, 1, 'missing slug')
    const down = await run({}, 'apps', 'list', '--database-url', 'postgres://admin:hunter2@127.0.0.1:1/prod')
    assert.equal(down.code, 2)
    assert.match(down.err, /cannot reach the database at 127\.0\.0\.1:1\/prod/)
    assert.doesNotMatch(down.out + down.err, /hunter2/)
    const unmigrated = await run(env, 'apps', 'list', '--schema', uniqueSchema('empty'))
    assert.equal(unmigrated.code, 1)
    assert.match(unmigrated.err, /migrate/)
  })

  test('revoke: both instances refuse the app within 1 s, and the CLI says so', async () => {
    const record = peerRecord((await run(env, 'apps', 'rotate-key', 'billing', '--grace', '0', '--json', ...db)).out)
    await waitFor(async () => await call(a, record) === 200 && await call(b, record) === 200, 1000)
    const revoked = await run(env, 'apps', 'revoke', 'billing', ...db)
    assert.equal(revoked.code, 0, revoked.err)
    assert.match(revoked.out, /Revoked billing: every instance sharing this database refuses billing from its next request/)
    const took = await waitFor(async () => await call(a, record) === 401 && await call(b, record) === 401, 1000)
    assert.ok(took < 1000)
    assert.equal((await run(env, 'apps', 'remove', 'billing', ...db)).code, 1, 'gone already')
  })
})

test('apps commands on an apps file: created, written back atomically (owner-only), help on every command', async () => {
  const file = join(dir, 'apps.json')
  const env = {}
  const added = await run(env, 'apps', 'add', 'peer', '--algorithm', 'ED25519', '--apps-file', file, '--app-name', 'me')
  assert.equal(added.code, 0, added.err)
  assert.match(added.out, /For peer running the Django original/)
  const privateKey = /private_key: ([0-9a-f]+)/.exec(added.out)?.[1] ?? ''
  assert.match(Buffer.from(privateKey, 'hex').toString(), /^-----BEGIN PRIVATE KEY-----/)
  assert.match(Buffer.from(/public_key: ([0-9a-f]+)/.exec(added.out)?.[1] ?? '', 'hex').toString(), /^-----BEGIN PUBLIC KEY-----/)
  assert.equal(statSync(file).mode & 0o777, 0o600)
  const saved = JSON.parse(readFileSync(file, 'utf8')) as { apps: AppRecord[] }
  assert.equal(saved.apps[0].privateKey, privateKey)
  assert.equal((await run(env, 'apps', 'update', 'peer', '--strategy', 'SIGNATURE', '--apps-file', file)).code, 0)
  const shown = await run(env, 'apps', 'show', 'peer', '--json', '--apps-file', file)
  assert.equal((JSON.parse(shown.out) as { strategy: string }).strategy, 'SIGNATURE')
  assert.ok(!shown.out.includes(privateKey))
  assert.equal((await run(env, 'apps', 'update', 'peer', '--apps-file', file)).code, 1, 'nothing to change')
  assert.equal((await run(env, 'apps', 'list', '--apps-file', join(dir, 'missing.json'))).code, 1)
  assert.equal((await run(env, 'apps', 'list')).err, 'error: no store: pass --database-url <url> (or set DATABASE_URL) or --apps-file <file.json>\n')
  assert.equal((await run(env, 'apps', 'frobnicate')).code, 1)
  for (const sub of ['add', 'list', 'show', 'update', 'rotate-key', 'revoke', 'remove']) {
    const help = await run(env, 'apps', sub, '--help')
    assert.equal(help.code, 0)
    assert.match(help.out, new RegExp(`Usage: linked-services apps ${sub}`))
    assert.match(help.out, /Example:\n {2}linked-services apps /)
  }
  assert.match((await run(env, 'apps', '--help')).out, /rotate-key/)
  assert.equal((await run(env, 'apps', 'remove', 'peer', '--apps-file', file)).code, 0)
  assert.deepEqual((JSON.parse(readFileSync(file, 'utf8')) as { apps: unknown[] }).apps, [])
})

test('scopes, agreements and users commands on an apps file: a store loading the file holds each change', async () => {
  const file = join(dir, 'links.json')
  const env = { LINKED_SERVICES_APPS: file, LINKED_SERVICES_APP_NAME: 'me' }
  const ok = async (...argv: string[]): Promise<string> => {
    const result = await run(env, ...argv)
    assert.equal(result.code, 0, `${argv.join(' ')}: ${result.err}`)
    return result.out
  }
  await ok('scopes', 'add', 'read:invoice', '--name', 'Invoices', '--description', 'Read your invoices')
  await ok('apps', 'add', 'billing', '--algorithm', 'HMAC_SHA256')
  await ok('scopes', 'attach', 'read:invoice', 'billing', '--optional')
  assert.match(await ok('scopes', 'list'), /read:invoice +Invoices +Read your invoices/)
  assert.deepEqual(JSON.parse(await ok('apps', 'show', 'billing', '--json')).optionalScopes, ['read:invoice'])
  await ok('users', 'add', '42', '--username', 'jane', '--email', 'jane@example.com')
  await ok('users', 'link', '42', 'billing', '9001')
  assert.match(await ok('users', 'list', 'billing'), /42 +jane +jane@example\.com +billing=9001/)
  await ok('agreements', 'grant', 'billing', '42', '--scopes', 'read:invoice')
  assert.deepEqual(JSON.parse(await ok('agreements', 'list', 'billing', '--json')), [{ app: 'billing', userId: '42', optionalScopes: ['read:invoice'], agreementVersion: 1 }])

  const refused = async (expected: RegExp, ...argv: string[]): Promise<void> => {
    const result = await run(env, ...argv)
    assert.equal(result.code, 1, argv.join(' '))
    assert.match(result.err, expected)
    assert.equal(result.err.trim().split('\n').length, 1, 'one line')
  }
  await refused(/does not offer "admin"/, 'agreements', 'grant', 'billing', '42', '--scopes', 'admin')
  await refused(/Record not found: user 7/, 'agreements', 'grant', 'billing', '7')
  await refused(/Scope in use: read:invoice is held by app\(s\) billing/, 'scopes', 'remove', 'read:invoice')
  await refused(/one of --required or --optional/, 'scopes', 'attach', 'read:invoice', 'billing')
  await refused(/Record not found: scope nope/, 'scopes', 'attach', 'nope', 'billing', '--required')
  await ok('users', 'add', '43')
  await refused(/already linked to another local user/, 'users', 'link', '43', 'billing', '9001')

  // What a server loading this file holds (the MemoryStore format).
  const { MemoryStore } = await import('../plugin/index.js')
  const store = new MemoryStore(JSON.parse(readFileSync(file, 'utf8')))
  assert.equal(String((await store.findUserByCredential('billing', '9001'))?.id), '42')
  assert.deepEqual((await store.getAgreement('billing', '42'))?.optionalScopes, ['read:invoice'])

  await ok('agreements', 'revoke', 'billing', '42')
  await ok('users', 'unlink', '42', 'billing')
  await ok('scopes', 'detach', 'read:invoice', 'billing')
  await ok('scopes', 'remove', 'read:invoice')
  const after = new MemoryStore(JSON.parse(readFileSync(file, 'utf8')))
  assert.equal(await after.getAgreement('billing', '42'), null)
  assert.equal(await after.findUserByCredential('billing', '9001'), null)
  assert.deepEqual(await after.admin.listScopes(), [])
  for (const [group, subs] of [['scopes', ['add', 'list', 'remove', 'attach', 'detach']], ['agreements', ['list', 'grant', 'revoke']], ['users', ['add', 'list', 'link', 'unlink']]] as const) {
    for (const sub of subs) assert.match(await ok(group, sub, '--help'), /Example:\n {2}linked-services /)
  }
})
