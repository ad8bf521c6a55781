/**
 * A command group of the admin CLI (`apps`, `scopes`, `agreements`, `users`): subcommands with
 * their usage, an example and options; `--help` on each; the store opened, the work done, the
 * apps file saved after a write, the store closed. Tables for people, `--json` for scripts.
 */
import type { LinkedServicesAdmin } from '../../types/index.js'
import { type AdminSession, openAdminStore, STORE_HELP, STORE_OPTIONS } from './admin-store.js'
import { CliError, parseCommandArgs, type CliIo, type Command, type Env } from './io.js'
export { table } from './io.js'

type OptionSpec = { type: 'string' | 'boolean', short?: string }
type Values = Record<string, string | boolean | undefined>

export interface SubcommandContext {
  admin: LinkedServicesAdmin
  session: AdminSession
  args: string[]
  values: Values
  io: CliIo
  env: Env
  /** `--json` was given. */
  json: boolean
}

export interface Subcommand {
  /** After the group name: `add <slug> --algorithm <name> [options]`. */
  usage: string
  summary: string
  /** Lines of help about the options of this subcommand. */
  optionHelp?: string
  example: string
  options?: Record<string, OptionSpec>
  /** The positional arguments' names (all required unless they end with `?`). */
  args: string[]
  /** Saves the apps file afterwards. */
  writes?: boolean
  /** The apps file may not exist yet. */
  creates?: boolean
  run: (context: SubcommandContext) => Promise<void>
}

export function adminGroup (group: string, summary: string, subcommands: Record<string, Subcommand>): { run: Command, help: string, summary: string } {
  const help = `Usage: linked-services ${group} <${Object.keys(subcommands).join('|')}> [arguments] [options]

${summary}

${Object.entries(subcommands).map(([name, sub]) => `  ${(name).padEnd(11)} ${sub.summary}`).join('\n')}

Run "linked-services ${group} <subcommand> --help" for its arguments, options and an example.
`
  const run: Command = async (argv, env, io) => {
    const [name, ...rest] = argv
    if (name === undefined || name === '--help' || name === '-h') {
      io.stdout(help)
      return name === undefined ? 1 : 0
    }
    const sub = Object.hasOwn(subcommands, name) ? subcommands[name] : undefined
    if (sub === undefined) throw new CliError(`unknown subcommand "${group} ${name}": use one of ${Object.keys(subcommands).join(', ')}`, 1)
    return await runSubcommand(group, sub, rest, env, io)
  }
  return { run, help, summary }
}

function subcommandHelp (group: string, sub: Subcommand): string {
  return `Usage: linked-services ${group} ${sub.usage}

${sub.summary}

Options:
${sub.optionHelp === undefined ? '' : sub.optionHelp + '\n'}${STORE_HELP}
  --json                            print JSON (for scripts) instead of a table
  -h, --help                        this help

Example:
  ${sub.example}

Exit codes: 0 done, 1 refused (the line says what and why), 2 the database cannot be reached.
`
}

async function runSubcommand (group: string, sub: Subcommand, argv: string[], env: Env, io: CliIo): Promise<number> {
  let parsed: { values: Values, positionals: string[] }
  try {
    parsed = parseCommandArgs(argv, { ...STORE_OPTIONS, ...sub.options, json: { type: 'boolean' }, help: { type: 'boolean', short: 'h' } })
  } catch (error) {
    throw new CliError((error as Error).message, 1)
  }
  const { values, positionals } = parsed
  if (values.help === true) {
    io.stdout(subcommandHelp(group, sub))
    return 0
  }
  const required = sub.args.filter((arg) => !arg.endsWith('?'))
  if (positionals.length < required.length) {
    throw new CliError(`missing ${required.slice(positionals.length).map((arg) => `<${arg}>`).join(' ')}: linked-services ${group} ${sub.usage}`, 1)
  }
  if (positionals.length > sub.args.length) throw new CliError(`unexpected argument ${JSON.stringify(positionals[sub.args.length])}`, 1)
  const session = await openAdminStore(values, env, { create: sub.creates })
  try {
    await sub.run({ admin: session.admin, session, args: positionals, values, io, env, json: values.json === true })
    if (sub.writes === true) session.save()
  } finally {
    await session.close()
  }
  return 0
}

export function printJson (io: CliIo, value: unknown): void {
  io.stdout(JSON.stringify(value, null, 2))
}

/** `a,b , c` -> ['a', 'b', 'c']; absent -> undefined. */
export function list (value: string | boolean | undefined): string[] | undefined {
  if (typeof value !== 'string') return undefined
  return value.split(',').map((item) => item.trim()).filter((item) => item.length > 0)
}

/**
 * A subcommand that changes the store: `act` does it; `--json` prints what it returned, else
 * `said` tells what was done in one line.
 */
export function change<T> (spec: Omit<Subcommand, 'run' | 'writes'>, act: (context: SubcommandContext) => Promise<T>,
  said: (context: SubcommandContext, result: T) => string): Subcommand {
  return {
    ...spec,
    writes: true,
    async run (context) {
      const result = await act(context)
      if (context.json) printJson(context.io, result)
      else context.io.stdout(said(context, result))
    }
  }
}
