/**
 * Where the admin commands (apps, scopes, agreements, users) read and write: PostgreSQL
 * (--database-url or DATABASE_URL) or a JSON apps file in the MemoryStore format (--apps-file,
 * --apps or LINKED_SERVICES_APPS), written back atomically (a temporary file renamed over it).
 * Failures become exit codes: 1 refused (one line naming what and why), 2 the database cannot
 * be reached (its host named, never its password).
 */
import { existsSync, readFileSync, renameSync, writeFileSync } from 'node:fs'
import { randomBytes } from 'node:crypto'
import type { LinkedServicesAdmin } from '../../types/index.js'
import { isLinkedServicesError } from '../errors.js'
import { MemoryStore } from '../stores/memory-store.js'
import { CliError, DATABASE_OPTIONS, type Env } from './io.js'

/** The database cannot be reached: exit code 2, without the usage hint. */
export class UnreachableError extends CliError {
  constructor (message: string) {
    super(message, 2)
  }
}

export interface AdminSession {
  admin: LinkedServicesAdmin
  /** Several instances share it (PostgreSQL): a change reaches them through the change feed. */
  shared: boolean
  /** This service's own slug, when the apps file names it. */
  appName?: string
  /** Writes the apps file back (nothing for PostgreSQL). */
  save: () => void
  close: () => Promise<void>
}

export const STORE_OPTIONS = {
  'database-url': DATABASE_OPTIONS['database-url'],
  schema: DATABASE_OPTIONS.schema,
  'apps-file': { type: 'string' },
  apps: { type: 'string' }
} as const

export const STORE_HELP = `  --database-url <url>              PostgreSQL (default: $DATABASE_URL)
  --schema <name>                   its schema (default: linked_services)
  --apps-file <file>                or a JSON apps file, MemoryStore format (default: $LINKED_SERVICES_APPS)`

type Values = Record<string, string | boolean | undefined>

export async function openAdminStore (values: Values, env: Env, options: { create?: boolean } = {}): Promise<AdminSession> {
  const url = (values['database-url'] as string | undefined) ?? (values['apps-file'] === undefined && values.apps === undefined ? env.DATABASE_URL : undefined)
  const file = (values['apps-file'] as string | undefined) ?? (values.apps as string | undefined) ?? (url === undefined ? env.LINKED_SERVICES_APPS : undefined)
  if (url !== undefined && url !== '') {
    if (file !== undefined) throw new CliError('give either --database-url or --apps-file, not both', 1)
    return await openPostgres(url, values.schema as string | undefined)
  }
  if (file === undefined || file === '') {
    throw new CliError('no store: pass --database-url <url> (or set DATABASE_URL) or --apps-file <file.json>', 1)
  }
  return openAppsFile(file, options.create === true)
}

async function openPostgres (url: string, schema: string | undefined): Promise<AdminSession> {
  const { PostgresStore } = await import('../stores/postgres-store.js')
  let store: InstanceType<typeof PostgresStore>
  try {
    store = new PostgresStore({ connectionString: url, schema, maxConnections: 2, connectionTimeout: 5000 })
    await store.ready()
  } catch (error) {
    throw asCliError(error, url)
  }
  return {
    admin: guarded(store.admin, url),
    shared: true,
    save: () => {},
    close: async () => { await store.close().catch(() => {}) }
  }
}

function openAppsFile (path: string, create: boolean): AdminSession {
  let data: Record<string, unknown> = {}
  if (existsSync(path) || !create) {
    let text: string
    try {
      text = readFileSync(path, 'utf8')
    } catch (error) {
      throw new CliError(`cannot read the apps file ${path}: ${(error as NodeJS.ErrnoException).code ?? 'error'}`, 1)
    }
    try {
      const parsed: unknown = JSON.parse(text)
      data = Array.isArray(parsed) ? { apps: parsed } : parsed as Record<string, unknown>
    } catch {
      throw new CliError(`the apps file ${path} is not valid JSON`, 1)
    }
    if (data === null || typeof data !== 'object') throw new CliError(`the apps file ${path} must hold an object with an "apps" array`, 1)
  }
  const { apps, agreements, users, scopes, ...rest } = data
  let store: MemoryStore
  try {
    store = new MemoryStore({ apps, agreements, users, scopes } as ConstructorParameters<typeof MemoryStore>[0])
  } catch (error) {
    throw asCliError(error)
  }
  return {
    admin: guarded(store.admin),
    shared: false,
    appName: typeof rest.appName === 'string' ? rest.appName : undefined,
    save: () => {
      // Atomic: readers see the old file or the new one, never half of it. Keys inside: owner only.
      const temporary = `${path}.${randomBytes(6).toString('hex')}.tmp`
      writeFileSync(temporary, JSON.stringify({ ...rest, ...store.exportData() }, null, 2) + '\n', { mode: 0o600 })
      renameSync(temporary, path)
    },
    close: async () => {}
  }
}

/** Every admin call, with its failures turned into CLI errors (exit 1 or 2). */
function guarded (admin: LinkedServicesAdmin, url?: string): LinkedServicesAdmin {
  return new Proxy(admin, {
    get (target, property) {
      const value = Reflect.get(target, property, target) as unknown
      if (typeof value !== 'function') return value
      return async (...args: unknown[]) => {
        try {
          return await (value as (...a: unknown[]) => Promise<unknown>).apply(target, args)
        } catch (error) {
          throw asCliError(error, url)
        }
      }
    }
  })
}

const UNREACHABLE = new Set(['ECONNREFUSED', 'ENOTFOUND', 'ETIMEDOUT', 'EHOSTUNREACH', 'ENETUNREACH', 'ECONNRESET', 'EAI_AGAIN'])

export function asCliError (error: unknown, url?: string): CliError {
  if (error instanceof CliError) return error
  const { code, message } = (error ?? {}) as { code?: unknown, message?: unknown }
  const text = typeof message === 'string' ? message : String(error)
  if (isLinkedServicesError(error)) return new CliError(text, 1)
  if (url !== undefined && ((typeof code === 'string' && (UNREACHABLE.has(code) || /^(08|28|3D|57P)/.test(code))) ||
      /timeout|terminated|connect/i.test(text))) {
    // pg's messages name the user and host, never the password.
    return new UnreachableError(`cannot reach the database at ${host(url)}: ${text}`)
  }
  return new CliError(text, 1)
}

function host (url: string): string {
  try {
    const parsed = new URL(url)
    return `${parsed.hostname}${parsed.port === '' ? '' : ':' + parsed.port}${parsed.pathname}`
  } catch {
    return '(the database URL)'
  }
}
