/**
 * Stores live and die with Fastify: with stores made from URLs, `await app.close()` lets the
 * process end by itself; an unmigrated PostgreSQL schema is named at ready(); a store failure's
 * log line names its class, never a secret, and the response says nothing of it.
 */
import { after, describe, test } from 'node:test'
import assert from 'node:assert/strict'
import { spawn } from 'node:child_process'
import { join } from 'node:path'
import { Writable } from 'node:stream'
import Fastify from 'fastify'
import linkedServices from '../plugin/index.js'
import { PostgresStore } from '../plugin/stores/postgres-store.js'
import { DATABASE_URL, dropSchema, REDIS_URL, servicesSkipSync, uniquePrefix, uniqueSchema } from './helpers/services.js'

const skip = servicesSkipSync({ postgres: true, redis: true })
const schemas: string[] = []
after(async () => { if (skip === false) for (const schema of schemas) await dropSchema(schema) })

/** Runs the fixture; resolves with its output lines and exit code once the process has ended by itself. */
async function runFixture (env: Record<string, string>): Promise<{ code: number | null, lines: Array<Record<string, unknown>> }> {
  const child = spawn(process.execPath, ['--import', 'tsx', join(__dirname, 'fixtures/lifecycle-app.ts')], {
    cwd: join(__dirname, '..'), env: { ...process.env, ...env }, stdio: ['ignore', 'pipe', 'inherit']
  })
  let out = ''
  child.stdout.on('data', (chunk: Buffer) => { out += chunk.toString('utf8') })
  // A guard against a hang, not a timing assumption: a process that is still there after 30 s has failed.
  const guard = setTimeout(() => child.kill('SIGKILL'), 30_000)
  const [code, signal] = await new Promise<[number | null, NodeJS.Signals | null]>((resolve) => child.on('exit', (c, s) => resolve([c, s])))
  clearTimeout(guard)
  assert.equal(signal, null, `the process did not end by itself after app.close(); output: ${out}`)
  return { code, lines: out.trim().split('\n').filter(Boolean).map((line) => JSON.parse(line) as Record<string, unknown>) }
}

describe('lifecycle', { skip }, () => {
  test('stores made from URLs: after app.close() the process ends by itself', async () => {
    const schema = uniqueSchema('life')
    schemas.push(schema)
    const store = new PostgresStore({ connectionString: DATABASE_URL, schema })
    await store.migrate()
    await store.close()
    const { code, lines } = await runFixture({ DATABASE_URL, REDIS_URL, LS_SCHEMA: schema, LS_PREFIX: uniquePrefix('life') })
    assert.equal(code, 0)
    assert.deepEqual(lines, [{ ready: true, status: 401 }, { closed: true }])
  })

  test('an unmigrated schema is named at ready(), with the command to run', async () => {
    const schema = uniqueSchema('nomig')
    const { code, lines } = await runFixture({ DATABASE_URL, REDIS_URL, LS_SCHEMA: schema, LS_PREFIX: uniquePrefix('nomig') })
    assert.equal(code, 0)
    assert.equal(lines[0].ready, false)
    assert.equal(lines[0].code, 'FST_LINKED_SERVICES_STORE_NOT_MIGRATED')
    assert.match(String(lines[0].message), new RegExp(`schema ${schema} holds no tables of this package; run \`npx linked-services migrate\``))
  })

  test('a store failure: 503 with nothing of the store; the log line names its class, without the password', async () => {
    const schema = uniqueSchema('gone')
    const lines: string[] = []
    const stream = new Writable({ write (chunk: Buffer, _encoding, done) { lines.push(chunk.toString('utf8')); done() } })
    const cases: Array<[string, string]> = [
      // Migrated by nobody: the tables are missing (the ready() check is skipped by a store that never says ready).
      [DATABASE_URL, 'missing-schema'],
      ['postgres://postgres:hunter2secret@127.0.0.1:1/test', 'connection-refused']
    ]
    for (const [url, failure] of cases) {
      const store = new PostgresStore({ connectionString: url, schema })
      const app = Fastify({ logger: { level: 'error', stream } })
      await app.register(linkedServices, { appName: 'nodeservice', store: { getApp: (slug) => store.getApp(slug), getAgreement: async () => null, findUserByCredential: async () => null } })
      app.get('/x', { preHandler: app.scope() }, async () => 'ok')
      const response = await app.inject({ url: '/x', headers: { authorization: 'Link App=someone,Token=x.y.z' } })
      assert.equal(response.statusCode, 503)
      assert.equal(response.json().code, 'FST_LINKED_SERVICES_STORE_UNAVAILABLE')
      assert.ok(!response.body.includes(failure) && !response.body.includes('migrate'), response.body)
      await app.close()
      await store.close()
      const logged = lines.join('')
      assert.match(logged, new RegExp(`"storeFailure":"${failure}"`), logged)
      assert.ok(!logged.includes('hunter2secret'))
    }
    assert.match(lines.join(''), /run `npx linked-services migrate`/)
  })
})
