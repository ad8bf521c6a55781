/**
 * `linked-services webhooks list|show|retry|purge` against real tables (migration 3) in a
 * schema of its own: filters, both logs, a retry that schedules a pg-boss job, a purge that
 * refuses to run without saying what to delete, and usage errors with exit code 2.
 */
import { after, before, describe, test } from 'node:test'
import assert from 'node:assert/strict'
import pg from 'pg'
import { main } from '../plugin/cli/main.js'
import type { CliIo } from '../plugin/cli/io.js'
import { PostgresStore } from '../plugin/stores/postgres-store.js'
import { DATABASE_URL, dropSchema, servicesSkipSync, uniqueSchema } from './helpers/services.js'

const skip = servicesSkipSync({ postgres: true })
const schema = uniqueSchema('cliwh')
const pool = new pg.Pool({ connectionString: DATABASE_URL, max: 2 })
pool.on('error', () => {})

async function run (argv: string[], env: Record<string, string | undefined> = { DATABASE_URL }): Promise<{ code: number, out: string, err: string }> {
  const out: string[] = []
  const err: string[] = []
  const io: CliIo = { stdout: (text) => out.push(text), stderr: (text) => err.push(text) }
  const code = await main(['webhooks', ...argv, '--schema', schema], env, io)
  return { code, out: out.join('\n'), err: err.join('\n') }
}

describe('linked-services webhooks', { skip }, () => {
  const ids: Record<string, number> = {}
  before(async () => {
    const store = new PostgresStore({ connectionString: DATABASE_URL, schema })
    await store.migrate()
    await store.close()
    const insert = async (table: string, values: Record<string, unknown>): Promise<number> => {
      const columns = Object.keys(values)
      const { rows } = await pool.query(`INSERT INTO "${schema}".${table} (${columns.join(', ')}) VALUES (${columns.map((_, i) => `$${i + 1}`).join(', ')}) RETURNING id`, Object.values(values))
      return Number(rows[0].id)
    }
    ids.dead = await insert('webhook_outbox', { app: 'billing', type: 'invoice.paid', data: '{"n":1}', status: 'dead', attempts: 10, last_error: 'receiver answered 410', last_status_code: 410 })
    ids.delivered = await insert('webhook_outbox', { app: 'billing', type: 'invoice.paid', data: '{"n":2}', status: 'delivered', attempts: 1, delivered_at: new Date(), updated_at: new Date(Date.now() - 8 * 86_400_000) })
    ids.pending = await insert('webhook_outbox', { app: 'crm', type: 'user.updated', user_id: '5', data: '{"n":3}', status: 'pending', attempts: 2, next_attempt_at: new Date(Date.now() + 60_000), last_error: 'receiver answered 503' })
    ids.error = await insert('webhook_log', { app: '4geeks', type: 'order.paid', external_id: '77', user_id: '9', data: '{"total":3}', status: 'error', attempts: 1, last_error: 'no handler for type order.paid' })
    ids.done = await insert('webhook_log', { app: '4geeks', type: 'user.created', external_id: '78', data: '{}', status: 'done', attempts: 1 })
  })
  after(async () => {
    await dropSchema(schema)
    await dropSchema(`${schema}_jobs`)
    await pool.end()
  })

  test('list: the outbox by default, newest first, filtered by status and app; --json one object per line', async () => {
    const all = await run(['list'])
    assert.equal(all.code, 0, all.err)
    const lines = all.out.split('\n')
    assert.match(lines[0], /^ID\s+APP\s+TYPE\s+USER\s+STATUS\s+ATTEMPTS\s+LAST STATUS\s+NEXT ATTEMPT/)
    assert.deepEqual(lines.slice(1).map((line) => Number(line.split(/\s+/)[0])), [ids.pending, ids.delivered, ids.dead])
    const dead = await run(['list', '--status', 'dead', '--app', 'billing', '--json'])
    assert.equal(dead.code, 0)
    const parsed = dead.out.split('\n').map((line) => JSON.parse(line))
    assert.deepEqual(parsed.map((event) => [event.id, event.status, event.lastStatusCode, event.data]), [[ids.dead, 'dead', 410, { n: 1 }]])
    const none = await run(['list', '--app', 'nobody'])
    assert.equal(none.out, 'no outgoing events match')
    const received = await run(['list', '--log', 'received', '--status', 'error'])
    assert.match(received.out, /EXTERNAL ID/)
    assert.match(received.out, new RegExp(`^${ids.error}\\s+4geeks\\s+order\\.paid\\s+77\\s+9\\s+error`, 'm'))
    assert.doesNotMatch(received.out, /user\.created/)
  })

  test('show: one event whole, with its data and last error; an unknown id is exit 1 and says how to list', async () => {
    const shown = await run(['show', String(ids.pending)])
    assert.equal(shown.code, 0)
    assert.match(shown.out, /STATUS\s+pending/)
    assert.match(shown.out, /LAST ERROR\s+receiver answered 503/)
    assert.match(shown.out, /DATA\s+\{"n":3\}/)
    const json = await run(['show', String(ids.error), '--log', 'received', '--json'])
    assert.equal(JSON.parse(json.out).lastError, 'no handler for type order.paid')
    const missing = await run(['show', '999999'])
    assert.equal(missing.code, 1)
    assert.match(missing.err, /no outgoing event 999999.*webhooks list/)
  })

  test('retry: a dead event back to pending with a delivery job at its next attempt; one not dead is exit 1', async () => {
    const notDead = await run(['retry', String(ids.delivered)])
    assert.equal(notDead.code, 1)
    assert.match(notDead.err, /is not dead/)
    const retried = await run(['retry', String(ids.dead)])
    assert.equal(retried.code, 0, retried.err)
    assert.match(retried.out, /^1 event\(s\) back to pending/)
    const { rows } = await pool.query(`SELECT status FROM "${schema}".webhook_outbox WHERE id = $1`, [ids.dead])
    assert.equal(rows[0].status, 'pending')
    const jobs = await pool.query(`SELECT data FROM "${schema}_jobs".job WHERE name = 'linked-services.webhook-deliver'`)
    assert.deepEqual(jobs.rows.map((row) => row.data), [{ id: ids.dead, attempt: 11 }])
    const received = await run(['retry', '--log', 'received', '--app', '4geeks', '--json'])
    assert.deepEqual(JSON.parse(received.out), { retried: 1 })
  })

  test('purge: refused without --status or --before; deletes only what matches', async () => {
    const refused = await run(['purge'])
    assert.equal(refused.code, 2)
    assert.match(refused.err, /say which with --status .* --before/)
    const young = await run(['purge', '--status', 'delivered', '--before', '30d'])
    assert.equal(young.out, '0 event(s) deleted from the outbox')
    const old = await run(['purge', '--status', 'delivered', '--before', '7d'])
    assert.equal(old.out, '1 event(s) deleted from the outbox')
    const { rows } = await pool.query(`SELECT id FROM "${schema}".webhook_outbox ORDER BY id`)
    assert.deepEqual(rows.map((row) => Number(row.id)), [ids.dead, ids.pending])
  })

  test('usage errors are exit 2 and name the fix; no database is said plainly', async () => {
    const cases: Array<[string[], RegExp]> = [
      [['list', '--log', 'sent'], /--log must be outbox or received/],
      [['list', '--status', 'done'], /--status of the outbox is one of pending, delivered, dead/],
      [['list', '--log', 'received', '--status', 'dead'], /one of pending, done, error/],
      [['show'], /event id must be a positive integer/],
      [['show', 'abc'], /got "abc"/],
      [['show', '1', '--status', 'dead'], /takes no --status/],
      [['retry', '1', '--app', 'billing'], /an event id or --app, not both/],
      [['purge', '--before', 'yesterday'], /--before must be an ISO date/],
      [['list', '--limit', '5000'], /--limit must be an integer from 1 to 1000/],
      [['frobnicate'], /unknown subcommand "webhooks frobnicate"/]
    ]
    for (const [argv, message] of cases) {
      const result = await run(argv)
      assert.equal(result.code, 2, argv.join(' '))
      assert.match(result.err, message)
    }
    const noDatabase = await run(['list'], {})
    assert.equal(noDatabase.code, 2)
    assert.match(noDatabase.err, /no database: set DATABASE_URL/)
    const help = await run(['--help'])
    assert.equal(help.code, 0)
    assert.match(help.out, /Usage: linked-services webhooks <list\|show\|retry\|purge>/)
  })

  test('an unmigrated schema is exit 1 and says to run migrate', async () => {
    const out: string[] = []
    const err: string[] = []
    const code = await main(['webhooks', 'list', '--schema', uniqueSchema('nomig')], { DATABASE_URL }, { stdout: (t) => out.push(t), stderr: (t) => err.push(t) })
    assert.equal(code, 1)
    assert.match(err.join('\n'), /migrate/)
  })
})
