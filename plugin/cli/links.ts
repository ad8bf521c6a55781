/**
 * `linked-services scopes|agreements|users ...`: the scope catalogue and which apps hold which
 * scopes, the users' agreements with apps, and the links of local users to their ids in apps.
 */
import type { AgreementRecord, LinkedServicesAdmin, UserRecord } from '../../types/index.js'
import { adminGroup, change, list, printJson, table, type Subcommand } from './admin-command.js'
import { CliError } from './io.js'

const scopeKind = {
  required: { type: 'boolean' },
  optional: { type: 'boolean' }
} as const

export const SCOPES = adminGroup('scopes', 'The scope catalogue, and the scopes each app requires or may be granted.', {
  add: change({
    usage: 'add <scope> [--name <text>] [--description <text>]',
    summary: 'add a scope to the catalogue (the consent page shows its name and description)',
    optionHelp: '  --name <text>                     a short name\n  --description <text>              what it allows',
    example: 'linked-services scopes add read:invoice --name "Invoices" --description "Read your invoices"',
    options: { name: { type: 'string' }, description: { type: 'string' } },
    args: ['scope'],
    creates: true,
  }, async ({ admin, args: [slug], values }) => await admin.createScope({ slug, name: values.name as string | undefined, description: values.description as string | undefined }),
  ({ args: [slug] }) => `Added scope ${slug}.`),
  list: {
    usage: 'list [--json]',
    summary: 'the catalogued scopes',
    example: 'linked-services scopes list',
    args: [],
    async run ({ admin, io, json }) {
      const scopes = await admin.listScopes()
      if (json) return printJson(io, scopes)
      io.stdout(table(['SCOPE', 'NAME', 'DESCRIPTION'], scopes.map((scope) => [scope.slug, scope.name ?? '', scope.description ?? ''])))
    }
  },
  remove: change({
    usage: 'remove <scope>',
    summary: 'remove a scope from the catalogue (refused while an app holds it)',
    example: 'linked-services scopes remove read:invoice',
    args: ['scope'],
  }, async ({ admin, args: [slug] }) => {
    await admin.removeScope(slug)
    return { removed: slug }
  },
  ({ args: [slug] }) => `Removed scope ${slug}.`),
  attach: change({
    usage: 'attach <scope> <app> --required|--optional',
    summary: 'an app requires the scope on every call (--required), or a user may grant it (--optional)',
    optionHelp: '  --required | --optional           how the app holds the scope',
    example: 'linked-services scopes attach read:invoice billing --optional',
    options: scopeKind,
    args: ['scope', 'app'],
  }, async ({ admin, args: [scope, app], values }) => {
    if ((values.required === true) === (values.optional === true)) throw new CliError('give one of --required or --optional', 1)
    return await admin.attachScope(app, scope, values.required === true ? 'required' : 'optional')
  },
  ({ args: [scope, app], values }) => `${app} now holds ${scope} as ${values.required === true ? 'required' : 'optional'}.`),
  detach: change({
    usage: 'detach <scope> <app>',
    summary: 'the app no longer holds the scope',
    example: 'linked-services scopes detach read:invoice billing',
    args: ['scope', 'app'],
  }, async ({ admin, args: [scope, app] }) => await admin.detachScope(app, scope),
  ({ args: [scope, app] }) => `${app} no longer holds ${scope}.`),
} satisfies Record<string, Subcommand>)

/** `list [app]`: records of one app, or of all, as a table or JSON. */
function listedByApp<T> (summary: string, example: string, read: (admin: LinkedServicesAdmin, app: string | undefined) => Promise<T[]>,
  headers: string[], rows: (records: T[]) => string[][]): Subcommand {
  return {
    usage: 'list [app] [--json]',
    summary,
    example,
    args: ['app?'],
    async run ({ admin, args: [app], io, json }) {
      const records = await read(admin, app)
      if (json) return printJson(io, records)
      io.stdout(table(headers, rows(records)))
    }
  }
}

function agreementRows (agreements: AgreementRecord[]): string[][] {
  return agreements.map((agreement) => [agreement.app, String(agreement.userId), agreement.optionalScopes.join(',') || '-', String(agreement.agreementVersion ?? 1)])
}

export const AGREEMENTS = adminGroup('agreements', 'Which local users agreed to which apps, with the optional scopes they granted.', {
  list: listedByApp('the agreements (of one app, or of all)', 'linked-services agreements list billing --json',
    async (admin, app) => await admin.listAgreements(app), ['APP', 'USER', 'GRANTED', 'VERSION'], agreementRows),
  grant: change({
    usage: 'grant <app> <user-id> [--scopes <a,b>]',
    summary: 'record that the local user agreed to the app, granting these of its optional scopes',
    optionHelp: '  --scopes <a,b>                    optional scopes of the app the user grants',
    example: 'linked-services agreements grant billing 42 --scopes read:invoice',
    options: { scopes: { type: 'string' } },
    args: ['app', 'user-id'],
  }, async ({ admin, args: [app, user], values }) => await admin.grantAgreement(app, user, list(values.scopes) ?? []),
  ({ args: [app, user] }, agreement) => `User ${user} agreed to ${app}${agreement.optionalScopes.length > 0 ? ` (granted ${agreement.optionalScopes.join(', ')})` : ''}.`),
  revoke: change({
    usage: 'revoke <app> <user-id>',
    summary: 'withdraw the user\'s agreement: the app\'s calls on its behalf are refused',
    example: 'linked-services agreements revoke billing 42',
    args: ['app', 'user-id'],
  }, async ({ admin, args: [app, user] }) => {
    await admin.revokeAgreement(app, user)
    return { revoked: { app, userId: user } }
  },
  ({ args: [app, user] }) => `Revoked the agreement of user ${user} with ${app}.`),
} satisfies Record<string, Subcommand>)

function userRows (users: UserRecord[]): string[][] {
  return users.map((user) => [String(user.id), String(user.username ?? ''), String(user.email ?? ''),
    Object.entries(user.credentials ?? {}).map(([app, id]) => `${app}=${id}`).join(',') || '-'])
}

export const USERS = adminGroup('users', 'Local users and their ids in the linked apps (the original\'s FirstPartyCredentials).', {
  add: change({
    usage: 'add <user-id> [--username <name>] [--email <address>]',
    summary: 'add (or replace) a local user',
    optionHelp: '  --username <name>, --email <address>',
    example: 'linked-services users add 42 --username jane --email jane@example.com',
    options: { username: { type: 'string' }, email: { type: 'string' } },
    args: ['user-id'],
    creates: true,
  }, async ({ admin, args: [id], values }) => {
    const fields = Object.fromEntries(['username', 'email'].filter((field) => values[field] !== undefined).map((field) => [field, values[field]]))
    return await admin.addUser({ id, ...fields })
  },
  ({ args: [id] }) => `Added user ${id}.`),
  list: listedByApp('the local users (linked to one app, or all) with their ids in apps', 'linked-services users list billing',
    async (admin, app) => await admin.listUsers(app), ['USER', 'USERNAME', 'EMAIL', 'LINKS'], userRows),
  link: change({
    usage: 'link <user-id> <app> <external-id>',
    summary: 'the local user is <external-id> in the app: its calls with that sub act as this user',
    example: 'linked-services users link 42 billing 9001',
    args: ['user-id', 'app', 'external-id'],
  }, async ({ admin, args: [user, app, external] }) => await admin.linkUser(user, app, external),
  ({ args: [user, app, external] }) => `User ${user} is ${external} in ${app}.`),
  unlink: change({
    usage: 'unlink <user-id> <app>',
    summary: 'remove the user\'s link to the app',
    example: 'linked-services users unlink 42 billing',
    args: ['user-id', 'app'],
  }, async ({ admin, args: [user, app] }) => await admin.unlinkUser(user, app),
  ({ args: [user, app] }) => `User ${user} is no longer linked to ${app}.`),
} satisfies Record<string, Subcommand>)
