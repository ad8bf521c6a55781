/**
 * `linked-services audit tail|query`: reads the audit trail that PostgresAuditSink writes
 * (`<schema>.audit_events`). `query` prints the matching rows; `tail` the newest ones, and with
 * `--follow` keeps printing new ones until interrupted. Human table, or `--json` (one JSON
 * object per line).
 */
import { PostgresAuditSink } from '../stores/postgres-audit-sink.js'
import type { AuditFilter, AuditRow } from '../stores/postgres/audit-query.js'
import { CliError, DATABASE_OPTIONS, parseCommandArgs, parseSince, positiveInteger, processIo, redactUrl, requireDatabaseUrl, table, type CliIo, type Env } from './io.js'

export const AUDIT_HELP = `Usage: linked-services audit <tail|query> [options]

Prints the audit trail of the scope hook's decisions (table audit_events, written by
PostgresAuditSink; "linked-services migrate" creates it).

  query   the matching rows, oldest first (at most --limit, the newest ones)
  tail    the newest rows; with --follow, then every new one until Ctrl-C

Options:
  --app <slug>          only calls from this app ("unknown": apps the store did not know)
  --outcome <outcome>   granted, refused (every refusal), or an error code
                        (e.g. FST_LINKED_SERVICES_FORBIDDEN_SCOPE)
  --since <when>        an ISO date (2026-01-31T12:00:00Z) or an age: 30s, 15m, 2h, 7d
  --limit <n>           at most n rows (default: 100 for query, 20 for tail)
  --follow              tail: keep printing new rows (polls every --interval ms, default 1000)
  --json                one JSON object per line instead of a table
  --database-url <url>  PostgreSQL URL (default: $DATABASE_URL)
  --schema <name>       schema holding the table (default: linked_services)
  -h, --help            this help

Example:
  linked-services audit query --app billing --outcome refused --since 1h
  linked-services audit tail --follow --json

Exit codes: 0 done, 1 the database failed, 2 usage error.
`

export { parseSince }

const COLUMNS: Array<[string, (row: AuditRow) => string]> = [
  ['at', (row) => row.at.toISOString()],
  ['app', (row) => row.app ?? 'unknown'],
  ['user', (row) => row.user ?? '-'],
  ['scheme', (row) => row.scheme ?? '-'],
  ['method', (row) => row.method],
  ['route', (row) => row.route],
  ['outcome', (row) => row.outcome.replace('FST_LINKED_SERVICES_', '')],
  ['status', (row) => String(row.statusCode)],
  ['missing', (row) => row.missingScopes.join(',') || '-'],
  ['ms', (row) => row.durationMs.toFixed(2)]
]

export function formatTable (rows: AuditRow[], header = true): string {
  return table(COLUMNS.map(([name]) => name), rows.map((row) => COLUMNS.map(([, cell]) => cell(row))), { header, empty: '' })
}

function formatJson (rows: AuditRow[]): string {
  return rows.map((row) => JSON.stringify({ ...row, at: row.at.toISOString() })).join('\n')
}

export async function runAuditCommand (argv: string[], env: Env = process.env, io: CliIo = processIo,
  until: Promise<void> = new Promise((resolve) => process.once('SIGINT', () => resolve()))): Promise<number> {
  const { values, positionals } = parseCommandArgs(argv, {
    app: { type: 'string' },
    outcome: { type: 'string' },
    since: { type: 'string' },
    limit: { type: 'string' },
    follow: { type: 'boolean' },
    interval: { type: 'string' },
    json: { type: 'boolean' },
    ...DATABASE_OPTIONS
  })
  if (values.help === true) {
    io.stdout(AUDIT_HELP)
    return 0
  }
  const [mode, ...extra] = positionals
  if (mode !== 'tail' && mode !== 'query') throw new CliError(mode === undefined ? 'say what to do: audit tail or audit query' : `unknown audit command "${mode}" (tail or query)`)
  if (extra.length > 0) throw new CliError(`unexpected argument: ${extra[0]}`)
  if (values.follow === true && mode !== 'tail') throw new CliError('--follow is for audit tail')
  const url = requireDatabaseUrl(values, env)
  const filter: AuditFilter = {
    app: values.app as string | undefined,
    outcome: values.outcome as string | undefined,
    since: values.since === undefined ? undefined : parseSince(values.since as string),
    limit: positiveInteger(values.limit as string | undefined, '--limit', mode === 'tail' ? 20 : 100)
  }
  const interval = positiveInteger(values.interval as string | undefined, '--interval', 1000)
  const json = values.json === true
  let sink: PostgresAuditSink
  try {
    sink = new PostgresAuditSink({ connectionString: url, schema: values.schema as string | undefined })
  } catch (error) {
    throw new CliError((error as Error).message)
  }
  try {
    let rows = await sink.query(filter)
    if (json) {
      if (rows.length > 0) io.stdout(formatJson(rows))
    } else {
      io.stdout(rows.length === 0 && values.follow !== true ? 'no audit events match' : formatTable(rows))
    }
    if (values.follow !== true) return 0
    let lastId = rows.at(-1)?.id ?? 0
    const stop = { requested: false }
    until.then(() => { stop.requested = true }, () => { stop.requested = true })
    for (;;) {
      await Promise.race([until, new Promise((resolve) => setTimeout(resolve, interval).unref())])
      if (stop.requested) break
      rows = await sink.query({ ...filter, afterId: lastId, limit: 1000 })
      if (rows.length === 0) continue
      io.stdout(json ? formatJson(rows) : formatTable(rows, false))
      lastId = rows[rows.length - 1].id
    }
    return 0
  } catch (error) {
    io.stderr(`error: reading the audit trail of ${redactUrl(url)} failed: ${(error as Error)?.message ?? String(error)}`)
    return 1
  } finally {
    await sink.close()
  }
}
