/**
 * `linked-services import-django --from <url>`: copies the links of a Django service running the
 * original package (apps, scopes, legacy keys, users, agreements, credentials) into PostgresStore,
 * so that the service moves to Node without re-keying its peers. One transaction: a failure
 * leaves the target as it was. Idempotent: a second run changes nothing.
 */
import type { Pool, PoolClient } from 'pg'
import { loadPg } from '../lazy-modules.js'
import { asCliError, UnreachableError } from './admin-store.js'
import { readDjangoTables, type DjangoImport } from './django-tables.js'
import { CliError, DATABASE_OPTIONS, databaseUrlOf, parseCommandArgs, requireDatabaseUrl, type Command } from './io.js'

export const IMPORT_DJANGO_HELP = `Usage: linked-services import-django --from <postgres url> [--dry-run] [options]

Reads the tables of the original Django package (App, Scope, AppRequiredScope, AppOptionalScope,
OptionalScopeSet, AppUserAgreement, LegacyKey, FirstPartyCredentials, and the users they name)
and writes the same links into PostgresStore, keys unchanged: peers keep working. Prints what it
imported and what it skipped, and why (an unknown algorithm, a key that fails the checks).
Safe to run again. Run "linked-services migrate" on the target first.

Options:
  --from <url>          the Django service's PostgreSQL (read only)
  --from-schema <name>  the schema of its tables (default: public)
  --database-url <url>  the target PostgreSQL (default: $DATABASE_URL)
  --schema <name>       the target schema (default: linked_services)
  --dry-run             read and report only; write nothing
  --json                print the report as JSON
  -h, --help            this help

Example:
  linked-services import-django --from postgres://django@db.internal/app --database-url "$DATABASE_URL" --dry-run

Exit codes: 0 done, 1 refused, 2 a database cannot be reached.
`

export const runImportDjango: Command = async (argv, env, io) => {
  const { values, positionals } = parseCommandArgs(argv, {
    from: { type: 'string' },
    'from-schema': { type: 'string' },
    'dry-run': { type: 'boolean' },
    json: { type: 'boolean' },
    ...DATABASE_OPTIONS
  })
  if (values.help === true) {
    io.stdout(IMPORT_DJANGO_HELP)
    return 0
  }
  if (positionals.length > 0) throw new CliError(`unexpected argument ${JSON.stringify(positionals[0])}`, 1)
  const from = values.from as string | undefined
  if (from === undefined || from === '') throw new CliError('--from <postgres url of the Django database> is required', 1)
  const target = values['dry-run'] === true ? databaseUrlOf(values, env) : requireDatabaseUrl(values, env, 1)

  const found = await readSource(from, (values['from-schema'] as string | undefined) ?? 'public')
  if (values['dry-run'] !== true) await write(String(target), values.schema as string | undefined, found)
  const report = {
    dryRun: values['dry-run'] === true,
    imported: { scopes: found.scopes.length, apps: found.apps.map((app) => app.slug), users: found.users.length, agreements: found.agreements.length },
    skipped: found.skipped
  }
  if (values.json === true) {
    io.stdout(JSON.stringify(report, null, 2))
    return 0
  }
  io.stdout(`${report.dryRun ? 'Would import' : 'Imported'} ${report.imported.scopes} scope(s), ${found.apps.length} app(s)` +
    `${found.apps.length > 0 ? ' (' + report.imported.apps.join(', ') + ')' : ''}, ${report.imported.users} user(s), ${report.imported.agreements} agreement(s).`)
  for (const line of found.skipped) io.stdout(`skipped ${line}`)
  return 0
}

async function readSource (url: string, schema: string): Promise<DjangoImport> {
  const client = new (loadPg().Client)({ connectionString: url, connectionTimeoutMillis: 5000 })
  client.on('error', () => {})
  try {
    await client.connect()
  } catch (error) {
    throw asCliError(error, url)
  }
  try {
    return await readDjangoTables(client, schema)
  } catch (error) {
    if ((error as { code?: string }).code === '42P01') throw new CliError(`${schema} holds no tables of the original linked-services package (--from-schema?)`, 1)
    throw asCliError(error, url)
  } finally {
    await client.end().catch(() => {})
  }
}

/** All of it in one transaction: each store write becomes a savepoint of it. */
async function write (url: string, schema: string | undefined, found: DjangoImport): Promise<void> {
  const { PostgresStore } = await import('../stores/postgres-store.js')
  const pool = new (loadPg().Pool)({ connectionString: url, max: 1, connectionTimeoutMillis: 5000 })
  pool.on('error', () => {})
  let client: PoolClient | undefined
  try {
    client = await pool.connect()
    const store = new PostgresStore({ pool: oneTransaction(client), schema })
    await store.ready()
    await client.query('BEGIN')
    for (const scope of found.scopes) await store.upsertScope(scope)
    for (const app of found.apps) await store.upsertApp(app)
    for (const user of found.users) await store.addUser(user)
    for (const agreement of found.agreements) await store.setAgreement(agreement)
    await client.query('COMMIT')
  } catch (error) {
    await client?.query('ROLLBACK').catch(() => {})
    const failure = asCliError(error, url)
    throw failure instanceof UnreachableError ? failure : new CliError(`nothing imported: ${failure.message}`, 1)
  } finally {
    client?.release()
    await pool.end().catch(() => {})
  }
}

/** A pool of one client inside an open transaction: the store's BEGIN / COMMIT / ROLLBACK become savepoints. */
function oneTransaction (client: PoolClient): Pool {
  const statement: Record<string, string> = { BEGIN: 'SAVEPOINT store_write', COMMIT: 'RELEASE SAVEPOINT store_write', ROLLBACK: 'ROLLBACK TO SAVEPOINT store_write' }
  const query = async (text: unknown, ...rest: unknown[]): Promise<unknown> =>
    await (client.query as (...args: unknown[]) => Promise<unknown>)(typeof text === 'string' && Object.hasOwn(statement, text) ? statement[text] : text, ...rest)
  const inner = { query, release: () => {}, on: () => inner, off: () => inner }
  return { query, connect: async () => inner, on: () => {}, options: {} } as unknown as Pool
}
