/**
 * `linked-services apps add|list|show|update|rotate-key|revoke|remove`: the links to peer apps.
 * `add` and `rotate-key` make the key and print, once, what the peer must store about us; no
 * other command prints a key unless `--show-secret` is given.
 */
import { generateKeyPairSync, randomBytes } from 'node:crypto'
import { readFileSync } from 'node:fs'
import type { Algorithm, AppRecord, AppSummary, Strategy } from '../../types/index.js'
import { ALGORITHMS } from '../keys/algorithms.js'
import { adminGroup, list, printJson, table, type Subcommand, type SubcommandContext } from './admin-command.js'
import { CliError, type CliIo } from './io.js'

interface NewKey {
  privateKey: string
  /** Ed25519: the public half. */
  publicKey: string | null
}

/** HMAC: 64 random bytes as hex (the original's generator); Ed25519: a key pair, hex of the PEM text. */
export function generateKey (algorithm: Algorithm): NewKey {
  if (algorithm !== 'ED25519') return { privateKey: randomBytes(64).toString('hex'), publicKey: null }
  const pair = generateKeyPairSync('ed25519', {
    privateKeyEncoding: { format: 'pem', type: 'pkcs8' },
    publicKeyEncoding: { format: 'pem', type: 'spki' }
  })
  return { privateKey: Buffer.from(pair.privateKey).toString('hex'), publicKey: Buffer.from(pair.publicKey).toString('hex') }
}

const SETTINGS = {
  name: { type: 'string' },
  description: { type: 'string' },
  strategy: { type: 'string' },
  'app-url': { type: 'string' },
  'users-path': { type: 'string' },
  'webhook-url': { type: 'string' },
  'redirect-url': { type: 'string' },
  'required-scopes': { type: 'string' },
  'optional-scopes': { type: 'string' },
  'require-agreement': { type: 'string' },
  'agreement-version': { type: 'string' },
  kid: { type: 'string' }
} as const

const SETTINGS_HELP = `  --name <text>, --description <text>
  --strategy JWT|SIGNATURE          how the peer calls us (default JWT)
  --required-scopes <a,b>           scopes every call of the peer holds
  --optional-scopes <a,b>           scopes a user may grant it
  --require-agreement true|false    user-bound calls need the user's agreement (default true)
  --agreement-version <n>
  --app-url <url>, --users-path <path>, --webhook-url <url>, --redirect-url <url>
  --kid <id>                        key id of the current key`

type Values = SubcommandContext['values']

function settings (values: Values): Partial<Omit<AppRecord, 'slug'>> {
  const changes: Partial<Omit<AppRecord, 'slug'>> = {}
  const text = (flag: string): string | undefined => values[flag] as string | undefined
  if (text('name') !== undefined) changes.name = text('name')
  if (text('description') !== undefined) changes.description = text('description')
  if (text('strategy') !== undefined) {
    const strategy = String(text('strategy')).toUpperCase()
    if (strategy !== 'JWT' && strategy !== 'SIGNATURE') throw new CliError('--strategy must be JWT or SIGNATURE', 1)
    changes.strategy = strategy as Strategy
  }
  for (const [flag, field] of [['app-url', 'appUrl'], ['users-path', 'usersPath'], ['webhook-url', 'webhookUrl'], ['redirect-url', 'redirectUrl'], ['kid', 'kid']] as const) {
    if (text(flag) !== undefined) changes[field] = text(flag)
  }
  if (values['required-scopes'] !== undefined) changes.requiredScopes = list(values['required-scopes'])
  if (values['optional-scopes'] !== undefined) changes.optionalScopes = list(values['optional-scopes'])
  const agreement = text('require-agreement')
  if (agreement !== undefined) {
    if (agreement !== 'true' && agreement !== 'false') throw new CliError('--require-agreement must be true or false', 1)
    changes.requireAnAgreement = agreement === 'true'
  }
  const version = text('agreement-version')
  if (version !== undefined) {
    if (!/^[1-9]\d{0,8}$/.test(version)) throw new CliError('--agreement-version must be a whole number, 1 or more', 1)
    changes.agreementVersion = Number(version)
  }
  return changes
}

function algorithmOf (value: unknown): Algorithm {
  const algorithm = String(value ?? '').toUpperCase().replace(/-/g, '_') as Algorithm
  if (!ALGORITHMS.includes(algorithm)) throw new CliError(`--algorithm must be ${ALGORITHMS.join(', ')}`, 1)
  return algorithm
}

/** This service's slug as the peer knows it: --app-name, the apps file's appName, or LINKED_SERVICES_APP_NAME. */
function ownName ({ values, session, env, io }: SubcommandContext): string {
  const name = (values['app-name'] as string | undefined) ?? session.appName ?? env.LINKED_SERVICES_APP_NAME
  if (name !== undefined && name !== '') return name
  io.stderr('warning: this service\'s slug is unknown (--app-name or LINKED_SERVICES_APP_NAME): the peer records below say "this-service"')
  return 'this-service'
}

/**
 * What the peer stores about us, in both forms: this package's app record, and the original's
 * Django App fields. HMAC: the shared secret; Ed25519: the key pair (both sides hold the same
 * pair, as the original's set-up does).
 */
function peerRecords (app: AppSummary, key: NewKey, ourName: string, kid: string | undefined) {
  const record: AppRecord = {
    slug: ourName,
    algorithm: app.algorithm,
    strategy: app.strategy,
    schema: app.schema,
    privateKey: key.privateKey,
    ...(key.publicKey === null ? {} : { publicKey: key.publicKey }),
    ...(kid === undefined ? {} : { kid })
  }
  const django = {
    name: ourName,
    slug: ourName,
    algorithm: app.algorithm,
    strategy: app.strategy,
    schema: app.schema,
    private_key: key.privateKey,
    public_key: key.publicKey
  }
  return { record, django }
}

function printPeerRecords (io: CliIo, app: AppSummary, records: ReturnType<typeof peerRecords>): void {
  io.stdout(`What ${app.slug} must store about this service (printed once; send it over a secure channel):

For ${app.slug} running fastify-linked-services (an app record):
${JSON.stringify(records.record, null, 2)}

For ${app.slug} running the Django original (its App model):
${Object.entries(records.django).map(([field, value]) => `  ${field}: ${value ?? ''}`).join('\n')}`)
}

/** The record a peer printed about itself (`apps add --json` output, or the record alone); its slug must be `slug`. */
function peerRecordFile (path: string, slug: string): AppRecord {
  let data: { peer?: { record?: AppRecord } } & Partial<AppRecord>
  try {
    data = JSON.parse(readFileSync(path, 'utf8'))
  } catch (error) {
    throw new CliError(`cannot read the peer's record from ${path}: ${(error as NodeJS.ErrnoException).code ?? 'not valid JSON'}`, 1)
  }
  const record = data?.peer?.record ?? data
  if (record?.slug !== slug) throw new CliError(`${path} is the record of ${JSON.stringify(record?.slug)}, not of ${slug}`, 1)
  return record as AppRecord
}

function keysText (app: AppSummary): string {
  return app.keys.map((key) => `${key.kid ?? 'current'}${key.expiresAt === null ? '' : ' until ' + key.expiresAt.toISOString()}`).join(', ')
}

function summaryRows (app: AppSummary): string[][] {
  return [
    ['slug', app.slug], ['name', app.name ?? ''], ['algorithm', app.algorithm], ['strategy', app.strategy],
    ['require agreement', String(app.requireAnAgreement)], ['agreement version', String(app.agreementVersion)],
    ['required scopes', app.requiredScopes.join(', ')], ['optional scopes', app.optionalScopes.join(', ')],
    ['app url', app.appUrl ?? ''], ['users path', app.usersPath ?? ''], ['webhook url', app.webhookUrl ?? ''],
    ['keys', `${app.keys.length} (${keysText(app)})`]
  ]
}

function revokedNotice (context: SubcommandContext, slug: string, what: string): string {
  return context.session.shared
    ? `${what}: every instance sharing this database refuses ${slug} from its next request (announced on the change feed when this command committed; an instance whose feed is down drops it within its cache TTL)`
    : `${what}: a service reading this apps file refuses ${slug} once it reloads the file`
}

const OWN_NAME = { 'app-name': { type: 'string' } } as const
const OWN_NAME_HELP = '  --app-name <slug>                 this service\'s slug, as the peer knows it (default: the apps file\'s appName, $LINKED_SERVICES_APP_NAME)'

const add: Subcommand = {
  usage: 'add <slug> --algorithm HMAC_SHA256|HMAC_SHA512|ED25519 [options]',
  summary: 'link a peer app: make its key, and print once what the peer must store about us',
  optionHelp: `  --algorithm <name>                HMAC_SHA256, HMAC_SHA512 or ED25519 (required unless --record)
  --record <file>                   take the key the peer printed (its "apps add --json" output, or its record) instead of making one
${OWN_NAME_HELP}\n${SETTINGS_HELP}`,
  example: 'linked-services apps add billing --algorithm HMAC_SHA512 --required-scopes read:user --app-name accounts',
  options: { algorithm: { type: 'string', short: 'a' }, record: { type: 'string' }, ...SETTINGS, ...OWN_NAME },
  args: ['slug'],
  writes: true,
  creates: true,
  async run (context) {
    const { admin, args: [slug], values, io } = context
    const changes = settings(values)
    if (values.record !== undefined) {
      const given = peerRecordFile(String(values.record), slug)
      const app = await admin.createApp({ ...given, ...changes, slug })
      if (context.json) return printJson(io, { app })
      return io.stdout(`Added ${slug} (${app.algorithm}, ${app.strategy}) with the key it gave.`)
    }
    const algorithm = algorithmOf(values.algorithm)
    const key = generateKey(algorithm)
    const app = await admin.createApp({ slug, algorithm, ...changes, ...key })
    const records = peerRecords(app, key, ownName(context), changes.kid)
    if (context.json) return printJson(io, { app, peer: records })
    io.stdout(`Added ${slug} (${app.algorithm}, ${app.strategy}).\n`)
    printPeerRecords(io, app, records)
  }
}

const listApps: Subcommand = {
  usage: 'list [--json]',
  summary: 'the linked apps (never their keys)',
  example: 'linked-services apps list --json',
  args: [],
  async run ({ admin, io, json }) {
    const apps = await admin.listApps()
    if (json) return printJson(io, apps)
    io.stdout(table(['SLUG', 'ALGORITHM', 'STRATEGY', 'AGREEMENT', 'REQUIRED', 'OPTIONAL', 'KEYS'], apps.map((app) => [
      app.slug, app.algorithm, app.strategy, app.requireAnAgreement ? 'required' : 'no',
      app.requiredScopes.join(',') || '-', app.optionalScopes.join(',') || '-', String(app.keys.length)
    ])))
  }
}

const show: Subcommand = {
  usage: 'show <slug> [--json] [--show-secret]',
  summary: 'one app\'s settings and which keys it has; --show-secret prints its keys (with a warning)',
  optionHelp: '  --show-secret                     print the key material too',
  example: 'linked-services apps show billing',
  options: { 'show-secret': { type: 'boolean' } },
  args: ['slug'],
  async run ({ admin, args: [slug], values, io, json }) {
    if (values['show-secret'] === true) {
      io.stderr(`warning: printing the key material of ${slug}: anyone who reads it can call as ${slug}`)
      return printJson(io, await admin.getApp(slug, { withSecrets: true }))
    }
    const app = await admin.getApp(slug)
    if (json) return printJson(io, app)
    io.stdout(table(['FIELD', 'VALUE'], summaryRows(app)))
  }
}

const update: Subcommand = {
  usage: 'update <slug> [options]',
  summary: 'change an app\'s settings or scopes (keys: rotate-key)',
  optionHelp: SETTINGS_HELP,
  example: 'linked-services apps update billing --strategy SIGNATURE --optional-scopes read:invoice',
  options: SETTINGS,
  args: ['slug'],
  writes: true,
  async run ({ admin, args: [slug], values, io, json }) {
    const changes = settings(values)
    if (Object.keys(changes).length === 0) throw new CliError('nothing to change: give at least one option (see --help)', 1)
    const app = await admin.updateApp(slug, changes)
    if (json) return printJson(io, app)
    io.stdout(`Updated ${slug}.`)
  }
}

const rotateKey: Subcommand = {
  usage: 'rotate-key <slug> [--grace <seconds>] [--kid <id>]',
  summary: 'a new key for the app; the old one keeps verifying for the grace period',
  optionHelp: `  --grace <seconds>                 how long the old key still verifies (default 120; 0: stop now)\n  --kid <id>                        key id of the new key\n${OWN_NAME_HELP}`,
  example: 'linked-services apps rotate-key billing --grace 3600 --kid 2026-12',
  options: { grace: { type: 'string' }, kid: { type: 'string' }, ...OWN_NAME },
  args: ['slug'],
  writes: true,
  async run (context) {
    const { admin, args: [slug], values, io } = context
    const grace = (values.grace as string | undefined) ?? '120'
    if (!/^\d{1,9}$/.test(grace)) throw new CliError('--grace must be a whole number of seconds', 1)
    const current = await admin.getApp(slug)
    const key = generateKey(current.algorithm)
    const kid = values.kid as string | undefined
    const app = await admin.rotateKey(slug, { ...key, kid }, { gracePeriod: Number(grace) * 1000 })
    const records = peerRecords(app, key, ownName(context), kid)
    if (context.json) return printJson(io, { app, peer: records })
    io.stdout(`Rotated the key of ${slug}; the previous key verifies until ${app.keys[1]?.expiresAt?.toISOString() ?? 'now (no grace)'}.\n`)
    printPeerRecords(io, app, records)
  }
}

function removal (summary: string, example: string, verb: string): Subcommand {
  return {
    usage: `${verb} <slug>${verb === 'revoke' ? ' [--previous-keys]' : ''}`,
    summary,
    optionHelp: verb === 'revoke' ? '  --previous-keys                   revoke only the previous keys (end a grace period now)' : undefined,
    example,
    options: verb === 'revoke' ? { 'previous-keys': { type: 'boolean' } } : {},
    args: ['slug'],
    writes: true,
    async run (context) {
      const { admin, args: [slug], values, io, json } = context
      if (values['previous-keys'] === true) {
        const app = await admin.revokePreviousKeys(slug)
        if (json) return printJson(io, app)
        return io.stdout(revokedNotice(context, slug, `Revoked the previous keys of ${slug}`).replace(`refuses ${slug}`, 'refuses them'))
      }
      await admin.removeApp(slug)
      if (json) return printJson(io, { removed: slug, shared: context.session.shared })
      io.stdout(revokedNotice(context, slug, `${verb === 'revoke' ? 'Revoked' : 'Removed'} ${slug}`))
    }
  }
}

export const APPS = adminGroup('apps', 'The peer apps linked to this service, their keys and settings.', {
  add,
  list: listApps,
  show,
  update,
  'rotate-key': rotateKey,
  revoke: removal('refuse an app from now on (its record, keys and agreements are deleted); --previous-keys: only its old keys',
    'linked-services apps revoke billing', 'revoke'),
  remove: removal('delete an app with its keys, scopes and agreements (user links stay)', 'linked-services apps remove billing', 'remove')
})
