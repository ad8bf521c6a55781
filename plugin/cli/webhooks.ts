/**
 * `linked-services webhooks list|show|retry|purge`: the two webhook logs in PostgreSQL — the
 * outbox (events this service sends) and the receive log (events linked apps sent it) — as an
 * operator needs them: what is stuck, why, and putting it right. Tables for people, `--json`
 * for scripts. `retry` makes the events due now where a running service looks for work (the
 * outbox: a pg-boss job; the receive log: the row itself), so whichever instance is up picks
 * them up; the other subcommands only read or delete.
 */
import type { OutgoingStatus, OutgoingWebhook, ReceivedStatus, ReceivedWebhook, WebhookLogAdmin } from '../webhooks/types.js'
import { CliError, DATABASE_OPTIONS, parseCommandArgs, parseSince, positiveInteger, redactUrl, requireDatabaseUrl, table, type CliIo, type Command } from './io.js'

export const WEBHOOKS_HELP = `Usage: linked-services webhooks <list|show|retry|purge> [arguments] [options]

The webhook logs in PostgreSQL: the outbox (events this service sends to linked apps) and the
receive log (events linked apps sent to this service).

  list               events, newest first
  show <id>          one event, whole (its data too)
  retry [<id>]       put failed events back to pending (outbox: dead; received: error), or the
                     one named, and deliver / handle them again now
  purge              delete events: say which with --status and/or --before (and --app)

Options:
  --log <outbox|received>   which log (default: outbox)
  --status <status>         outbox: pending, delivered, dead; received: pending, done, error
  --app <slug>              only events to (outbox) or from (received) this app
  --type <type>             list: only this event type
  --limit <n>               list: at most n rows (default 50, at most 1000)
  --before <when>           purge: only events last changed before this: an ISO date
                            (2026-01-31T12:00:00Z) or an age (30s, 15m, 2h, 7d)
  --json                    JSON instead of a table (list: one object per line)
  --database-url <url>      PostgreSQL URL (default: $DATABASE_URL)
  --schema <name>           schema holding the tables (default: linked_services)
  -h, --help                this help

Examples:
  linked-services webhooks list --status dead --app billing
  linked-services webhooks show 42
  linked-services webhooks retry --app billing
  linked-services webhooks purge --log received --status done --before 7d

Exit codes: 0 done, 1 not found or the database failed, 2 usage error.
`

type LogName = 'outbox' | 'received'
type AnyAdmin = WebhookLogAdmin<OutgoingWebhook, OutgoingStatus> | WebhookLogAdmin<ReceivedWebhook, ReceivedStatus>
type AnyEvent = OutgoingWebhook | ReceivedWebhook

const STATUSES: Record<LogName, readonly string[]> = {
  outbox: ['pending', 'delivered', 'dead'],
  received: ['pending', 'done', 'error']
}

const SUBCOMMANDS = ['list', 'show', 'retry', 'purge'] as const
type Subcommand = typeof SUBCOMMANDS[number]

const OPTIONS = {
  log: { type: 'string' },
  status: { type: 'string' },
  app: { type: 'string' },
  type: { type: 'string' },
  limit: { type: 'string' },
  before: { type: 'string' },
  json: { type: 'boolean' },
  ...DATABASE_OPTIONS
} as const

/** Which options each subcommand takes (besides --log, --json and the database ones). */
const ALLOWED: Record<Subcommand, ReadonlyArray<keyof typeof OPTIONS>> = {
  list: ['status', 'app', 'type', 'limit'],
  show: [],
  retry: ['app'],
  purge: ['status', 'app', 'before']
}

function when (date: Date | null): string {
  return date === null ? '-' : date.toISOString().replace(/\.\d{3}Z$/, 'Z')
}

function shorten (text: string | null, max = 60): string {
  if (text === null) return '-'
  return text.length <= max ? text : `${text.slice(0, max - 1)}…`
}

function rowsOf (log: LogName, events: AnyEvent[]): { headers: string[], rows: string[][] } {
  if (log === 'outbox') {
    return {
      headers: ['ID', 'APP', 'TYPE', 'USER', 'STATUS', 'ATTEMPTS', 'LAST STATUS', 'NEXT ATTEMPT', 'CREATED', 'LAST ERROR'],
      rows: (events as OutgoingWebhook[]).map((event) => [String(event.id), event.app, event.type, event.userId ?? '-', event.status,
        String(event.attempts), event.lastStatusCode === null ? '-' : String(event.lastStatusCode),
        event.status === 'pending' ? when(event.nextAttemptAt) : '-', when(event.createdAt), shorten(event.lastError)])
    }
  }
  return {
    headers: ['ID', 'APP', 'TYPE', 'EXTERNAL ID', 'USER', 'STATUS', 'ATTEMPTS', 'RECEIVED', 'UPDATED', 'LAST ERROR'],
    rows: (events as ReceivedWebhook[]).map((event) => [String(event.id), event.app, event.type, event.externalId ?? '-', event.userId ?? '-',
      event.status, String(event.attempts), when(event.receivedAt), when(event.updatedAt), shorten(event.lastError)])
  }
}

function idArgument (text: string | undefined, subcommand: string): number {
  if (text === undefined || !/^\d{1,15}$/.test(text)) throw new CliError(`webhooks ${subcommand}: the event id must be a positive integer${text === undefined ? '' : `, got ${JSON.stringify(text)}`}`)
  return Number(text)
}

export interface WebhookLogsSession {
  outbox: WebhookLogAdmin<OutgoingWebhook, OutgoingStatus>
  received: WebhookLogAdmin<ReceivedWebhook, ReceivedStatus>
  close: () => Promise<void>
}

/** Opens the PostgreSQL logs; with `jobs`, also the pg-boss jobs that `retry` schedules. */
async function openLogs (url: string, schema: string | undefined, jobs: boolean): Promise<WebhookLogsSession> {
  const { PostgresStore } = await import('../stores/postgres-store.js')
  const { createPostgresBackend } = await import('../webhooks/backends/postgres.js')
  let store: InstanceType<typeof PostgresStore>
  try {
    store = new PostgresStore({ connectionString: url, schema, maxConnections: 2, connectionTimeout: 10_000 })
  } catch (error) {
    throw new CliError((error as Error).message)
  }
  const backend = createPostgresBackend(store)
  try {
    // start() checks that migration 3 ran, then starts pg-boss; reading needs only the tables.
    if (jobs) await backend.start()
    else await store.ready()
  } catch (error) {
    await store.close().catch(() => {})
    throw error
  }
  return {
    outbox: backend.outbox,
    received: backend.received,
    close: async () => {
      await backend.stop().catch(() => {})
      await store.close().catch(() => {})
    }
  }
}

export function runWebhooksCommand (open: typeof openLogs = openLogs): Command {
  return async (argv, env, io) => {
    const { values, positionals } = parseCommandArgs(argv, OPTIONS)
    const [name, ...args] = positionals
    if (values.help === true || name === undefined) {
      io.stdout(WEBHOOKS_HELP)
      return name === undefined && values.help !== true ? 2 : 0
    }
    if (!(SUBCOMMANDS as readonly string[]).includes(name)) throw new CliError(`unknown subcommand "webhooks ${name}": use one of ${SUBCOMMANDS.join(', ')}`)
    const subcommand = name as Subcommand
    for (const option of Object.keys(OPTIONS) as Array<keyof typeof OPTIONS>) {
      if (values[option] === undefined || option === 'log' || option === 'json' || option in DATABASE_OPTIONS) continue
      if (!ALLOWED[subcommand].includes(option)) throw new CliError(`webhooks ${subcommand} takes no --${option}`)
    }
    const log = (values.log as string | undefined) ?? 'outbox'
    if (log !== 'outbox' && log !== 'received') throw new CliError(`--log must be outbox or received, got ${JSON.stringify(log)}`)
    const status = values.status as string | undefined
    if (status !== undefined && !STATUSES[log].includes(status)) {
      throw new CliError(`--status of the ${log} is one of ${STATUSES[log].join(', ')}, got ${JSON.stringify(status)}`)
    }
    const maxArgs = subcommand === 'show' || subcommand === 'retry' ? 1 : 0
    if (args.length > maxArgs) throw new CliError(`unexpected argument: ${args[maxArgs]}`)
    const id = subcommand === 'show' || (subcommand === 'retry' && args.length > 0) ? idArgument(args[0], subcommand) : undefined
    if (subcommand === 'retry' && id !== undefined && values.app !== undefined) throw new CliError('webhooks retry: give an event id or --app, not both')
    const before = values.before === undefined ? undefined : parseSince(values.before as string, Date.now(), '--before')
    if (subcommand === 'purge' && status === undefined && before === undefined) {
      throw new CliError('webhooks purge deletes events: say which with --status (e.g. --status delivered) and/or --before (e.g. --before 7d)')
    }
    const limit = positiveInteger(values.limit as string | undefined, '--limit', 50, 1000)
    const url = requireDatabaseUrl(values, env)
    const json = values.json === true

    let session: WebhookLogsSession
    try {
      session = await open(url, values.schema as string | undefined, subcommand === 'retry')
    } catch (error) {
      if (error instanceof CliError) throw error
      io.stderr(`error: ${redactUrl(url)}: ${(error as Error)?.message ?? String(error)}`)
      return 1
    }
    try {
      const admin: AnyAdmin = session[log]
      const filter = { status, app: values.app as string | undefined }
      return await act(subcommand, log, admin, { ...filter, type: values.type as string | undefined, limit, before, id }, io, json)
    } catch (error) {
      io.stderr(`error: ${(error as Error)?.message ?? String(error)}`)
      return 1
    } finally {
      await session.close()
    }
  }
}

interface Request {
  status?: string
  app?: string
  type?: string
  limit: number
  before?: Date
  id?: number
}

async function act (subcommand: Subcommand, log: LogName, admin: AnyAdmin, request: Request, io: CliIo, json: boolean): Promise<number> {
  switch (subcommand) {
    case 'list': {
      const events: AnyEvent[] = await (admin as WebhookLogAdmin<AnyEvent, string>).list({ status: request.status, app: request.app, type: request.type, limit: request.limit })
      if (json) {
        if (events.length > 0) io.stdout(events.map((event) => JSON.stringify(event)).join('\n'))
      } else {
        const { headers, rows } = rowsOf(log, events)
        io.stdout(rows.length === 0 ? `no ${log === 'outbox' ? 'outgoing' : 'received'} events match` : table(headers, rows))
      }
      return 0
    }
    case 'show': {
      const event = await admin.get(request.id as number)
      if (event === null) {
        io.stderr(`error: no ${log === 'outbox' ? 'outgoing' : 'received'} event ${String(request.id)} (list them with "linked-services webhooks list${log === 'received' ? ' --log received' : ''}")`)
        return 1
      }
      if (json) {
        io.stdout(JSON.stringify(event, null, 2))
      } else {
        // The table's columns, one per line, with the whole last error and the data.
        const { headers, rows } = rowsOf(log, [event])
        const fields = headers.map((header, index) => [header, header === 'LAST ERROR' ? event.lastError ?? '-' : rows[0][index]])
        io.stdout(table(['FIELD', 'VALUE'], [...fields, ['DATA', JSON.stringify(event.data)]]))
      }
      return 0
    }
    case 'retry': {
      const count = await admin.retry(request.id ?? { app: request.app })
      if (request.id !== undefined && count === 0) {
        io.stderr(`error: ${log} event ${request.id} is not ${log === 'outbox' ? 'dead' : 'in error'} (or does not exist): nothing to retry`)
        return 1
      }
      io.stdout(json ? JSON.stringify({ retried: count }) : `${count} event(s) back to pending: ${log === 'outbox' ? 'delivered' : 'handled'} again as soon as a service with linkedWebhooks is running`)
      return 0
    }
    case 'purge': {
      const count = await (admin as WebhookLogAdmin<AnyEvent, string>).purge({ status: request.status, app: request.app, before: request.before })
      io.stdout(json ? JSON.stringify({ purged: count }) : `${count} event(s) deleted from the ${log}`)
      return 0
    }
  }
}
