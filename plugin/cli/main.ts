#!/usr/bin/env node
/**
 * The `linked-services` command: a thin dispatcher, one file per command.
 */
import { APPS } from './apps.js'
import { AGREEMENTS, SCOPES, USERS } from './links.js'
import { UnreachableError } from './admin-store.js'
import { CliError, processIo, type CliIo, type Command, type Env } from './io.js'
import { KEYGEN_HELP, runKeygen } from './keygen.js'
import { runSignJwt, SIGN_JWT_HELP } from './sign-jwt.js'
import { runSignRequest, SIGN_REQUEST_HELP } from './sign-request.js'

// The migrate command pulls in the PostgreSQL client: loaded on use only.
const runMigrate: Command = async (argv, env, io) => {
  const { runMigrateCommand } = await import('./migrate.js')
  return await runMigrateCommand(argv, env, io)
}

// So does audit.
const runAudit: Command = async (argv, env, io) => {
  const { runAuditCommand } = await import('./audit.js')
  return await runAuditCommand(argv, env, io)
}

// So do the webhook logs.
const runWebhooks: Command = async (argv, env, io) => {
  const { runWebhooksCommand } = await import('./webhooks.js')
  return await runWebhooksCommand()(argv, env, io)
}

const runImport: Command = async (argv, env, io) => {
  const { runImportDjango } = await import('./import-django.js')
  return await runImportDjango(argv, env, io)
}

const COMMANDS: Record<string, { run: Command, summary: string, help?: string }> = {
  'sign-jwt': { run: runSignJwt, summary: 'print a Link JWT header, as if a linked app called this service', help: SIGN_JWT_HELP },
  'sign-request': { run: runSignRequest, summary: 'print signed-request headers, as if a linked app called this service', help: SIGN_REQUEST_HELP },
  keygen: { run: runKeygen, summary: 'make a new HMAC secret or Ed25519 key pair', help: KEYGEN_HELP },
  migrate: { run: runMigrate, summary: 'create or update the PostgreSQL tables (DATABASE_URL or --database-url)' },
  audit: { run: runAudit, summary: 'print the audit trail: audit tail|query [--app] [--since] [--outcome] [--json]' },
  apps: { run: APPS.run, summary: 'link peer apps: add, list, show, update, rotate-key, revoke, remove', help: APPS.help },
  scopes: { run: SCOPES.run, summary: 'the scope catalogue: add, list, remove, attach, detach', help: SCOPES.help },
  agreements: { run: AGREEMENTS.run, summary: 'users\' agreements with apps: list, grant, revoke', help: AGREEMENTS.help },
  users: { run: USERS.run, summary: 'local users and their ids in apps: add, list, link, unlink', help: USERS.help },
  webhooks: { run: runWebhooks, summary: 'the webhook outbox and receive log: list, show, retry, purge [--log] [--status] [--app]' },
  'import-django': { run: runImport, summary: 'copy the links of a Django service running the original into PostgreSQL' }
}

export const USAGE = `Usage: linked-services <command> [arguments] [options]

Commands:
${Object.entries(COMMANDS).map(([name, { summary }]) => `  ${name.padEnd(13)} ${summary}`).join('\n')}

Run "linked-services <command> --help" for a command's arguments and options.
Apps are read from a JSON file (--apps or $LINKED_SERVICES_APPS); arguments are JSON, never evaluated.
`

export async function main (argv: string[], env: Env = process.env, io: CliIo = processIo): Promise<number> {
  const [name, ...rest] = argv
  if (name === undefined || name === '--help' || name === '-h' || name === 'help') {
    const topic = name === 'help' ? COMMANDS[rest[0] ?? ''] : undefined
    io.stdout(topic?.help ?? USAGE)
    return name === undefined ? 2 : 0
  }
  if (name === '--version' || name === '-v') {
    io.stdout((require('fastify-linked-services/package.json') as { version: string }).version)
    return 0
  }
  const command = COMMANDS[name]
  if (command === undefined) {
    io.stderr(`error: unknown command "${name}"\n\n${USAGE}`)
    return 2
  }
  try {
    return await command.run(rest, env, io)
  } catch (error) {
    if (error instanceof CliError) {
      io.stderr(`error: ${error.message}`)
      if (error.exitCode === 2 && !(error instanceof UnreachableError)) io.stderr(`Run "linked-services ${name} --help" for usage.`)
      return error.exitCode
    }
    io.stderr(`error: ${(error as Error)?.message ?? String(error)}`)
    return 1
  }
}

if (require.main === module) {
  main(process.argv.slice(2)).then((code) => { process.exitCode = code }, (error: unknown) => {
    process.stderr.write(`error: ${String(error)}\n`)
    process.exitCode = 1
  })
}
