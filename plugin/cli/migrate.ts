/**
 * `linked-services migrate`: creates or upgrades PostgresStore's tables. Idempotent (applied
 * versions are recorded), safe to run from several instances at once (advisory lock), prints what
 * it applied. The database comes from --database-url or DATABASE_URL.
 */
import { PostgresStore } from '../stores/postgres-store.js'
import { CliError, DATABASE_OPTIONS, parseCommandArgs, processIo, redactUrl, requireDatabaseUrl, type CliIo, type Env } from './io.js'

export const MIGRATE_HELP = `Usage: linked-services migrate [--database-url <url>] [--schema <name>]

Creates or upgrades the PostgreSQL tables of PostgresStore (apps, scopes, previous keys, users,
credentials, agreements, audit events). Runs only the migrations not applied yet; safe to run again, and from
several instances at once.

Options:
  --database-url <url>  PostgreSQL URL (default: $DATABASE_URL)
  --schema <name>       schema holding the tables (default: linked_services)
  -h, --help            this help

Exit codes: 0 done (or nothing to do), 1 the database failed, 2 usage error.
`

export async function runMigrateCommand (argv: string[], env: Env | NodeJS.ProcessEnv = process.env, io: CliIo = processIo): Promise<number> {
  const { values, positionals } = parseCommandArgs(argv, DATABASE_OPTIONS)
  if (values.help === true) {
    io.stdout(MIGRATE_HELP)
    return 0
  }
  if (positionals.length > 0) throw new CliError(`unexpected argument: ${positionals[0]}`)
  const url = requireDatabaseUrl(values, env)
  let store: PostgresStore
  try {
    store = new PostgresStore({ connectionString: url, schema: values.schema as string | undefined, poolSize: 1, connectionTimeoutMillis: 10_000 })
  } catch (error) {
    throw new CliError((error as Error).message)
  }
  try {
    const result = await store.migrate()
    for (const migration of result.applied) io.stdout(`applied ${migration.version}: ${migration.name}`)
    if (result.applied.length === 0) {
      io.stdout(`${result.schema}: up to date (version ${result.version})`)
    } else {
      io.stdout(`${result.schema}: ${result.applied.length} migration(s) applied, now at version ${result.version}`)
    }
    if (result.version > result.latest) {
      io.stderr(`warning: ${result.schema} is at version ${result.version}, newer than this package knows (${result.latest})`)
    }
    return 0
  } catch (error) {
    // pg's messages do not carry the password; the URL is printed redacted.
    io.stderr(`error: migrating ${redactUrl(url)} failed: ${(error as Error)?.message ?? String(error)}`)
    return 1
  } finally {
    await store.close().catch(() => {})
  }
}
