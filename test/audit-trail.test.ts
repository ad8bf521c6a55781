/**
 * The audit trail: linkedServicesAudit hands each decision to a sink; PostgresAuditSink batches
 * them into audit_events (bounded queue: a slow database drops and counts, never slows a
 * request); `linked-services audit tail|query` reads them back. The PostgreSQL part is skipped
 * when PostgreSQL does not answer (fails under CI).
 */
import { after, describe, test } from 'node:test'
import assert from 'node:assert/strict'
import Fastify from 'fastify'
import linkedServices, { MemoryStore, type AppRecord } from '../plugin/index.js'
import { linkedServicesAudit, type AuditEntry } from '../plugin/observability.js'
import { PostgresAuditSink, PostgresStore } from '../plugin/postgres.js'
import { formatTable, parseSince, runAuditCommand } from '../plugin/cli/audit.js'
import { main } from '../plugin/cli/main.js'
import { CliError } from '../plugin/cli/io.js'
import { encodeJwt, linkHeader, pythonClaims } from './helpers/jwt.js'
import { hmacKeyHex } from './helpers/keys.js'
import { secretSpellings } from './helpers/attacks.js'
import { DATABASE_URL, dropSchema, servicesSkipSync, uniqueSchema, waitFor } from './helpers/services.js'

const APP_NAME = 'nodeservice'
const KEY = hmacKeyHex(32)
const APPS: AppRecord[] = [
  { slug: 'caller', algorithm: 'HMAC_SHA256', privateKey: KEY, requireAnAgreement: true, requiredScopes: ['read:thing'] }
]

function jwt (slug: string, sub?: string, key = KEY): { token: string, header: string } {
  const token = encodeJwt(pythonClaims(slug, APP_NAME, sub === undefined ? {} : { sub }), { key })
  return { token, header: linkHeader(slug, token) }
}

function entry (n: number): AuditEntry {
  return { at: new Date(), service: APP_NAME, method: 'GET', route: '/', app: 'caller', scheme: 'jwt', user: null, outcome: 'granted', statusCode: 200, missingScopes: [], durationMs: n }
}

async function auditedServer (sink: { record: (entry: AuditEntry) => void, close?: () => Promise<void> }) {
  const app = Fastify()
  await app.register(linkedServices, { appName: APP_NAME, store: new MemoryStore({ apps: APPS }) })
  await app.register(linkedServicesAudit, { sink })
  app.get('/things/:id', { preHandler: app.scope(['read:thing']) }, async () => ({ ok: true }))
  app.get('/admin', { preHandler: app.scope(['write:admin']) }, async () => ({ ok: true }))
  await app.ready()
  return app
}

test('linkedServicesAudit: one entry per decision of this service, and a throwing sink never fails a request', async () => {
  const entries: AuditEntry[] = []
  const app = await auditedServer({ record: (e) => { entries.push(e) } })
  // Another instance in the same process: its decisions are not this sink's.
  const other = Fastify()
  await other.register(linkedServices, { appName: 'someone-else', store: new MemoryStore({ apps: APPS }) })
  other.get('/', { preHandler: other.scope() }, async () => ({}))
  await other.ready()
  try {
    assert.equal((await app.inject({ url: '/things/1', headers: { authorization: jwt('caller').header } })).statusCode, 200)
    assert.equal((await app.inject({ url: '/admin', headers: { authorization: jwt('caller').header } })).statusCode, 403)
    assert.equal((await other.inject({ url: '/' })).statusCode, 401)
    assert.deepEqual(entries.map((e) => [e.service, e.route, e.app, e.outcome, e.missingScopes]), [
      [APP_NAME, '/things/:id', 'caller', 'granted', []],
      [APP_NAME, '/admin', 'caller', 'FST_LINKED_SERVICES_FORBIDDEN_SCOPE', ['write:admin']]
    ])
    assert.ok(entries[0].at instanceof Date)
  } finally {
    await app.close()
    await other.close()
  }
  const throwing = await auditedServer({ record: () => { throw new Error('sink down') } })
  try {
    assert.equal((await throwing.inject({ url: '/things/1', headers: { authorization: jwt('caller').header } })).statusCode, 200)
  } finally {
    await throwing.close()
  }
})

test('PostgresAuditSink: a database that does not answer never slows a request; the queue is bounded, drops are counted', async () => {
  let queries = 0
  const hanging = { query: () => { queries++; return new Promise(() => {}) } }
  const sink = new PostgresAuditSink({ pool: hanging as never, batchSize: 2, maxQueue: 5, flushIntervalMs: 3_600_000, closeTimeoutMs: 1 })
  const app = await auditedServer(sink)
  try {
    for (let i = 0; i < 10; i++) {
      assert.equal((await app.inject({ url: '/things/1', headers: { authorization: jwt('caller').header } })).statusCode, 200)
    }
    // Two in the INSERT that hangs, five queued, three dropped; one INSERT at a time.
    assert.deepEqual(sink.stats(), { queued: 5, written: 0, dropped: 3, failed: 0 })
    assert.equal(queries, 1)
  } finally {
    // Closing waits closeTimeoutMs at most; the queued entries are then dropped too.
    await app.close()
  }
  assert.deepEqual(sink.stats(), { queued: 0, written: 0, dropped: 8, failed: 0 })
})

test('PostgresAuditSink: a batch the database refuses is counted as failed; bad options are refused', async () => {
  const failing = { query: async () => { throw new Error('relation does not exist') } }
  const sink = new PostgresAuditSink({ pool: failing as never, batchSize: 3, flushIntervalMs: 3_600_000 })
  for (let i = 0; i < 7; i++) sink.record(entry(i))
  await sink.flush()
  assert.deepEqual(sink.stats(), { queued: 0, written: 0, dropped: 0, failed: 7 })
  await sink.close()
  sink.record(entry(8))
  assert.equal(sink.stats().queued, 0, 'a closed sink takes nothing')
  for (const options of [{}, { pool: failing, batchSize: 0 }, { pool: failing, schema: 'Bad-Name' }, { pool: failing, maxQueu: 1 }]) {
    assert.throws(() => new PostgresAuditSink(options as never), (error: Error & { code?: string }) => error instanceof TypeError || error.code === 'FST_LINKED_SERVICES_INVALID_OPTION', JSON.stringify(Object.keys(options)))
  }
})

test('audit CLI: --since ages and dates, the table, usage errors', async () => {
  const now = Date.parse('2026-01-31T12:00:00Z')
  assert.equal(parseSince('15m', now).toISOString(), '2026-01-31T11:45:00.000Z')
  assert.equal(parseSince('2d', now).toISOString(), '2026-01-29T12:00:00.000Z')
  assert.equal(parseSince('2026-01-01T00:00:00Z').toISOString(), '2026-01-01T00:00:00.000Z')
  assert.throws(() => parseSince('yesterday'), CliError)
  const table = formatTable([{ id: 1, at: new Date(now), service: APP_NAME, method: 'GET', route: '/admin', app: null, scheme: 'jwt', user: 'u-1', outcome: 'FST_LINKED_SERVICES_FORBIDDEN_SCOPE', statusCode: 403, missingScopes: ['write:admin'], durationMs: 0.25 }])
  assert.equal(table, [
    'at                        app      user  scheme  method  route   outcome          status  missing      ms',
    '2026-01-31T12:00:00.000Z  unknown  u-1   jwt     GET     /admin  FORBIDDEN_SCOPE  403     write:admin  0.25'
  ].join('\n'))
  const io = { stdout: () => {}, stderr: () => {} }
  for (const argv of [[], ['list'], ['query', '--follow'], ['tail', '--limit', '0'], ['query', 'extra']]) {
    await assert.rejects(runAuditCommand(argv, { DATABASE_URL }, io), CliError, argv.join(' '))
  }
  await assert.rejects(runAuditCommand(['query'], {}, io), /no database/)
  let help = ''
  assert.equal(await main(['audit', '--help'], {}, { stdout: (text) => { help += text }, stderr: () => {} }), 0)
  assert.match(help, /Example:\n {2}linked-services audit query --app billing --outcome refused --since 1h/)
  assert.equal(await main(['audit', 'nope'], {}, io), 2)
})

const skip = servicesSkipSync({ postgres: true })
const schemas: string[] = []
after(async () => { if (skip === false) for (const schema of schemas) await dropSchema(schema) })

describe('audit trail in PostgreSQL', { skip }, () => {
  test('decisions are written in batches, and audit query|tail read them back (table and --json), with no secret', async () => {
    const schema = uniqueSchema('audit')
    schemas.push(schema)
    const store = new PostgresStore({ connectionString: DATABASE_URL, schema })
    await store.migrate()
    const sink = new PostgresAuditSink({ pool: store.pool, schema, batchSize: 2, flushIntervalMs: 3_600_000 })
    const app = await auditedServer(sink)
    const cli = async (argv: string[]) => {
      let out = ''
      let err = ''
      const code = await runAuditCommand([...argv, '--schema', schema], { DATABASE_URL }, { stdout: (text) => { out += text + '\n' }, stderr: (text) => { err += text + '\n' } })
      return { code, out, err }
    }
    try {
      const granted = jwt('caller')
      const forged = jwt('caller', undefined, hmacKeyHex(32))
      assert.equal((await app.inject({ url: '/things/1', headers: { authorization: granted.header } })).statusCode, 200)
      assert.equal((await app.inject({ url: '/admin', headers: { authorization: granted.header } })).statusCode, 403)
      assert.equal((await app.inject({ url: '/things/1', headers: { authorization: forged.header } })).statusCode, 401)
      assert.equal((await app.inject({ url: '/things/1', headers: { authorization: jwt('stranger').header } })).statusCode, 401)
      assert.equal((await app.inject({ url: '/things/1', headers: { authorization: granted.header } })).statusCode, 200)
      await sink.flush()
      assert.deepEqual(sink.stats(), { queued: 0, written: 5, dropped: 0, failed: 0 })

      const all = await cli(['query', '--json'])
      assert.equal(all.code, 0, all.err)
      const rows = all.out.trim().split('\n').map((line) => JSON.parse(line))
      assert.deepEqual(rows.map((row) => [row.route, row.app, row.scheme, row.outcome, row.statusCode, row.missingScopes]), [
        ['/things/:id', 'caller', 'jwt', 'granted', 200, []],
        ['/admin', 'caller', 'jwt', 'FST_LINKED_SERVICES_FORBIDDEN_SCOPE', 403, ['write:admin']],
        ['/things/:id', 'caller', 'jwt', 'FST_LINKED_SERVICES_WRONG_APP_TOKEN', 401, []],
        ['/things/:id', null, 'jwt', 'FST_LINKED_SERVICES_APP_NOT_FOUND', 401, []],
        ['/things/:id', 'caller', 'jwt', 'granted', 200, []]
      ])
      for (const secret of [...secretSpellings(KEY), granted.token, forged.token, granted.token.split('.')[2], forged.token.split('.')[2]]) {
        assert.ok(!all.out.includes(secret), `the audit trail holds ${secret.slice(0, 6)}...`)
      }

      const refused = await cli(['query', '--outcome', 'refused', '--app', 'caller', '--json'])
      assert.deepEqual(refused.out.trim().split('\n').map((line) => JSON.parse(line).outcome), ['FST_LINKED_SERVICES_FORBIDDEN_SCOPE', 'FST_LINKED_SERVICES_WRONG_APP_TOKEN'])
      const unknown = await cli(['query', '--app', 'unknown', '--json'])
      assert.deepEqual(unknown.out.trim().split('\n').map((line) => JSON.parse(line).outcome), ['FST_LINKED_SERVICES_APP_NOT_FOUND'])
      const exact = await cli(['query', '--outcome', 'FST_LINKED_SERVICES_FORBIDDEN_SCOPE'])
      assert.match(exact.out, /^at +app +user +scheme +method +route +outcome +status +missing +ms\n.*caller +- +jwt +GET +\/admin +FORBIDDEN_SCOPE +403 +write:admin/)
      assert.equal(exact.out.trim().split('\n').length, 2)
      assert.equal((await cli(['query', '--since', '2999-01-01'])).out, 'no audit events match\n')
      assert.equal((await cli(['query', '--since', '1h', '--json'])).out.trim().split('\n').length, 5)
      const newest = await cli(['tail', '--limit', '2', '--json'])
      assert.deepEqual(newest.out.trim().split('\n').map((line) => JSON.parse(line).outcome), ['FST_LINKED_SERVICES_APP_NOT_FOUND', 'granted'])

      // tail --follow prints the rows written after it started, until stopped.
      let out = ''
      let stop!: () => void
      const stopped = new Promise<void>((resolve) => { stop = resolve })
      const following = runAuditCommand(['tail', '--follow', '--json', '--limit', '1', '--interval', '20', '--schema', schema], { DATABASE_URL },
        { stdout: (text) => { out += text + '\n' }, stderr: () => {} }, stopped)
      await waitFor(() => out.split('\n').length >= 2)
      assert.equal((await app.inject({ url: '/admin', headers: { authorization: granted.header } })).statusCode, 403)
      await sink.flush()
      await waitFor(() => out.includes('/admin'))
      stop()
      assert.equal(await following, 0)
      assert.deepEqual(out.trim().split('\n').map((line) => JSON.parse(line).route), ['/things/:id', '/admin'])
    } finally {
      await app.close()
      await store.close()
    }
  })

  test('audit query: a database that fails is exit code 1, the password not printed', async () => {
    let err = ''
    const code = await runAuditCommand(['query', '--database-url', 'postgres://postgres:s3cretpass@127.0.0.1:1/test'], {}, { stdout: () => {}, stderr: (text) => { err += text } })
    assert.equal(code, 1)
    assert.match(err, /reading the audit trail of postgres:\/\/postgres:\*\*\*@127\.0\.0\.1:1\/test failed/)
    assert.ok(!err.includes('s3cretpass'))
  })
})
