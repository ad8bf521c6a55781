/**
 * What every CLI command shares: output streams (injectable for tests), usage errors, the apps
 * file (JSON, never evaluated), JSON arguments, and this service's own name.
 */
import { readFileSync } from 'node:fs'
import { parseArgs, type ParseArgsConfig } from 'node:util'
import type { AppRecord } from '../../types/index.js'

export interface CliIo {
  stdout: (text: string) => void
  stderr: (text: string) => void
}

export type Env = Record<string, string | undefined>

export type Command = (argv: string[], env: Env, io: CliIo) => Promise<number>

/** A mistake of the user: printed as `error: <message>` with exit code 2 (1 when `exitCode` says so). */
export class CliError extends Error {
  constructor (message: string, readonly exitCode = 2) {
    super(message)
  }
}

export const processIo: CliIo = {
  stdout: (text) => { process.stdout.write(text.endsWith('\n') ? text : text + '\n') },
  stderr: (text) => { process.stderr.write(text.endsWith('\n') ? text : text + '\n') }
}

type Options = NonNullable<ParseArgsConfig['options']>

/** node:util parseArgs in strict mode, with its errors turned into usage errors. */
export function parseCommandArgs<T extends Options> (argv: string[], options: T): { values: Record<string, string | boolean | undefined>, positionals: string[] } {
  try {
    const { values, positionals } = parseArgs({ args: argv, options, allowPositionals: true, strict: true })
    return { values: values as Record<string, string | boolean | undefined>, positionals }
  } catch (error) {
    throw new CliError((error as Error).message.split('\n')[0])
  }
}

/** A JSON argument (params, body, headers): parsed, never evaluated. */
export function parseJsonArgument (text: string | undefined, name: string): unknown {
  if (text === undefined) return undefined
  try {
    return JSON.parse(text)
  } catch {
    throw new CliError(`${name} is not valid JSON: ${text}`)
  }
}

export interface AppsFile {
  appName?: string
  apps: AppRecord[]
}

/**
 * Reads the apps file: a JSON array of app records, or an object `{ appName?, apps, ... }` (the
 * MemoryStore data file of examples/apps.json).
 */
export function readAppsFile (path: string | undefined): AppsFile {
  if (path === undefined || path === '') throw new CliError('the apps file is required: --apps <file.json> (or LINKED_SERVICES_APPS)')
  let text: string
  try {
    text = readFileSync(path, 'utf8')
  } catch (error) {
    throw new CliError(`cannot read the apps file ${path}: ${(error as NodeJS.ErrnoException).code ?? 'error'}`)
  }
  let data: unknown
  try {
    data = JSON.parse(text)
  } catch {
    throw new CliError(`the apps file ${path} is not valid JSON`)
  }
  const file = Array.isArray(data) ? { apps: data } : data
  if (file === null || typeof file !== 'object' || !Array.isArray((file as { apps?: unknown }).apps)) {
    throw new CliError(`the apps file ${path} must hold an array of apps or an object with an "apps" array`)
  }
  const { apps, appName } = file as { apps: unknown[], appName?: unknown }
  for (const [index, app] of apps.entries()) {
    if (app === null || typeof app !== 'object' || typeof (app as { slug?: unknown }).slug !== 'string') {
      throw new CliError(`the apps file ${path}: apps[${index}] has no slug`)
    }
  }
  return { apps: apps as AppRecord[], appName: typeof appName === 'string' ? appName : undefined }
}

export function findApp (file: AppsFile, slug: string | undefined): AppRecord {
  if (slug === undefined || slug === '') throw new CliError('missing app: give the slug of a linked app')
  const app = file.apps.find((candidate) => candidate.slug === slug)
  if (app === undefined) throw new CliError(`App ${slug} not found`, 1)
  return app
}

/** This service's own slug: --app-name, else the apps file's `appName`, else LINKED_SERVICES_APP_NAME. */
export function ownAppName (flag: string | undefined, file: AppsFile, env: Env): string {
  const name = flag ?? file.appName ?? env.LINKED_SERVICES_APP_NAME
  if (name === undefined || name === '') {
    throw new CliError('this service\'s name is required: --app-name <slug> (or "appName" in the apps file, or LINKED_SERVICES_APP_NAME)')
  }
  return name
}

/** The plugin refuses a caller claiming to be the service itself (app-not-found): say so before it happens. */
export function warnIfSelf (app: AppRecord, appName: string, io: CliIo): void {
  if (app.slug === appName) {
    io.stderr(`warning: "${app.slug}" is this service itself (--app-name / appName): it will refuse this call as app-not-found; name the linked app that calls it`)
  }
}

/** A user id argument: kept as given (a string), `""`/absent meaning no user. */
export function userIdArgument (value: string | undefined): string | null {
  return value === undefined || value === '' ? null : value
}

/** The options of every command that talks to PostgreSQL. */
export const DATABASE_OPTIONS = {
  'database-url': { type: 'string' },
  schema: { type: 'string' },
  help: { type: 'boolean', short: 'h' }
} as const

/** `--database-url`, else DATABASE_URL; undefined when neither is set. */
export function databaseUrlOf (values: Record<string, string | boolean | undefined>, env: Env | NodeJS.ProcessEnv): string | undefined {
  const url = (values['database-url'] as string | undefined) ?? env.DATABASE_URL
  return url === undefined || url === '' ? undefined : url
}

/** databaseUrlOf, refusing to go on without one. */
export function requireDatabaseUrl (values: Record<string, string | boolean | undefined>, env: Env | NodeJS.ProcessEnv, exitCode?: number): string {
  const url = databaseUrlOf(values, env)
  if (url === undefined) throw new CliError('no database: set DATABASE_URL or pass --database-url <url>', exitCode)
  return url
}

export const COMMON_OPTIONS = {
  apps: { type: 'string' },
  'app-name': { type: 'string' },
  ...DATABASE_OPTIONS
} as const

/** A database URL without its password, for messages. */
export function redactUrl (url: string): string {
  try {
    const parsed = new URL(url)
    if (parsed.password !== '') parsed.password = '***'
    return parsed.toString()
  } catch {
    return '(the database URL)'
  }
}

/**
 * Fixed-width columns for people: `(none)` for no rows, unless `empty` says otherwise;
 * `header: false` for the lines that follow a first table.
 */
export function table (headers: string[], rows: string[][], options: { header?: boolean, empty?: string } = {}): string {
  if (rows.length === 0 && options.empty === undefined) return '(none)'
  const widths = headers.map((header, column) => Math.max(header.length, ...rows.map((row) => row[column].length)))
  const line = (cells: string[]): string => cells.map((cell, column) => cell.padEnd(widths[column])).join('  ').trimEnd()
  return [...(options.header === false ? [] : [line(headers)]), ...rows.map(line)].join('\n')
}

const AGE = /^(\d+)(s|m|h|d)$/
const UNIT_MS: Record<string, number> = { s: 1000, m: 60_000, h: 3_600_000, d: 86_400_000 }

/** An instant given as an ISO date (2026-01-31T12:00:00Z) or as an age before now (30s, 15m, 2h, 7d). */
export function parseSince (text: string, now = Date.now(), option = '--since'): Date {
  const age = AGE.exec(text)
  if (age !== null) return new Date(now - Number(age[1]) * UNIT_MS[age[2]])
  const date = new Date(text)
  if (!/^\d{4}-\d{2}-\d{2}/.test(text) || Number.isNaN(date.getTime())) {
    throw new CliError(`${option} must be an ISO date (2026-01-31T12:00:00Z) or an age (30s, 15m, 2h, 7d), got ${JSON.stringify(text)}`)
  }
  return date
}

/** An integer option from 1 to `max`, else `fallback` when absent. */
export function positiveInteger (text: string | undefined, name: string, fallback: number, max = 100_000): number {
  if (text === undefined) return fallback
  if (!/^\d+$/.test(text) || Number(text) < 1 || Number(text) > max) throw new CliError(`${name} must be an integer from 1 to ${max}`)
  return Number(text)
}
