/**
 * `linked-services migrate` against a real PostgreSQL: applies, then reports "up to date"; usage
 * and connection errors; the password never printed. Skipped when PostgreSQL does not answer;
 * fails under CI.
 */
import { after, describe, test } from 'node:test'
import assert from 'node:assert/strict'
import { execFile } from 'node:child_process'
import { join } from 'node:path'
import { main } from '../plugin/cli/main.js'
import { runMigrateCommand } from '../plugin/cli/migrate.js'
import { CliError } from '../plugin/cli/io.js'
import { MIGRATIONS } from '../plugin/stores/postgres/migrations.js'
import { DATABASE_URL, dropSchema, servicesSkipSync, TcpProxy, throughPort, uniqueSchema } from './helpers/services.js'

const skip = servicesSkipSync({ postgres: true })
const schemas: string[] = []
after(async () => { if (skip === false) for (const schema of schemas) await dropSchema(schema) })

/** runMigrateCommand with captured output; a usage error (CliError) is exit code 2, as main() prints it. */
async function run (argv: string[], env: Record<string, string | undefined> = {}) {
  let out = ''
  let err = ''
  const io = { stdout: (text: string) => { out += text + '\n' }, stderr: (text: string) => { err += text + '\n' } }
  let code: number
  try {
    code = await runMigrateCommand(argv, env, io)
  } catch (error) {
    if (!(error instanceof CliError)) throw error
    err += error.message + '\n'
    code = error.exitCode
  }
  return { code, out, err }
}

/** Through the dispatcher (exit codes only: it does not hand its output streams to migrate). */
async function viaMain (argv: string[], env: Record<string, string | undefined> = {}): Promise<number> {
  const quiet = { stdout: () => {}, stderr: () => {} }
  return await main(['migrate', ...argv], env, quiet)
}

describe('linked-services migrate', { skip }, () => {
  test('applies the migrations once, then is up to date (DATABASE_URL or --database-url)', async () => {
    const schema = uniqueSchema('cli')
    schemas.push(schema)
    const first = await run(['--schema', schema], { DATABASE_URL })
    assert.equal(first.code, 0, first.err)
    for (const migration of MIGRATIONS) assert.match(first.out, new RegExp(`applied ${migration.version}: `))
    assert.match(first.out, new RegExp(`${schema}: ${MIGRATIONS.length} migration\\(s\\) applied, now at version ${MIGRATIONS.length}`))
    const second = await run(['--schema', schema, '--database-url', DATABASE_URL])
    assert.equal(second.code, 0, second.err)
    assert.equal(second.out, `${schema}: up to date (version ${MIGRATIONS.length})\n`)
  })

  test('usage errors exit 2; a database that does not answer exits 1 without printing the password', async () => {
    assert.equal((await run([])).code, 2)
    assert.match((await run([])).err, /DATABASE_URL/)
    assert.equal((await run(['--schema', 'Bad-Name'], { DATABASE_URL })).code, 2)
    assert.equal((await run(['extra'], { DATABASE_URL })).code, 2)
    assert.equal((await run(['--nope'], { DATABASE_URL })).code, 2)
    assert.equal(await viaMain([]), 2)
    assert.equal(await viaMain(['--schema', 'Bad-Name'], { DATABASE_URL }), 2)
    const help = await run(['--help'])
    assert.equal(help.code, 0)
    assert.match(help.out, /Usage: linked-services migrate/)
    const proxy = new TcpProxy(DATABASE_URL)
    const port = await proxy.start()
    await proxy.cut()
    const url = throughPort(DATABASE_URL, port).replace('//postgres@', '//postgres:s3cret@')
    const down = await run([], { DATABASE_URL: url })
    assert.equal(down.code, 1)
    assert.match(down.err, /migrating postgres:\/\/postgres:\*\*\*@127\.0\.0\.1:\d+\/test failed/)
    assert.doesNotMatch(down.err + down.out, /s3cret/)
  })

  test('through the dispatcher: main([\'migrate\', ...]) exits 0, and again 0', async () => {
    const schema = uniqueSchema('cli2')
    schemas.push(schema)
    // (migrate prints to the process's stdout here.)
    assert.equal(await viaMain(['--schema', schema], { DATABASE_URL }), 0)
    assert.equal(await viaMain(['--schema', schema], { DATABASE_URL }), 0)
  })

  test('the executable: npx linked-services migrate', async () => {
    const schema = uniqueSchema('cli3')
    schemas.push(schema)
    const result = await new Promise<{ code: number, stdout: string, stderr: string }>((resolve) => {
      execFile(process.execPath, ['--import', 'tsx', join(__dirname, '../plugin/cli/main.ts'), 'migrate', '--schema', schema],
        { env: { ...process.env, DATABASE_URL } },
        (error, stdout, stderr) => resolve({ code: error === null ? 0 : Number(error.code), stdout, stderr }))
    })
    assert.equal(result.code, 0, result.stderr)
    assert.match(result.stdout, /now at version/)
  })
})
