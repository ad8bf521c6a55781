/**
 * `linked-services scopes|agreements|users ...`: the scope catalogue and which apps hold which
 * scopes, the users' agreements with apps, and the links of local users to their ids in apps.
 */
import type { AgreementRecord, UserRecord } from '../../types/index.js'
import { adminGroup, list, printJson, table, type Subcommand } from './admin-command.js'
import { CliError } from './io.js'

const scopeKind = {
  required: { type: 'boolean' },
  optional: { type: 'boolean' }
} as const

export const SCOPES = adminGroup('scopes', 'The scope catalogue, and the scopes each app requires or may be granted.', {
  add: {
    usage: 'add <scope> [--name <text>] [--description <text>]',
    summary: 'add a scope to the catalogue (the consent page shows its name and description)',
    optionHelp: '  --name <text>                     a short name\n  --description <text>              what it allows',
    example: 'linked-services scopes add read:invoice --name "Invoices" --description "Read your invoices"',
    options: { name: { type: 'string' }, description: { type: 'string' } },
    args: ['scope'],
    writes: true,
    creates: true,
    async run ({ admin, args: [slug], values, io, json }) {
      const scope = await admin.createScope({ slug, name: values.name as string | undefined, description: values.description as string | undefined })
      if (json) return printJson(io, scope)
      io.stdout(`Added scope ${slug}.`)
    }
  },
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
  remove: {
    usage: 'remove <scope>',
    summary: 'remove a scope from the catalogue (refused while an app holds it)',
    example: 'linked-services scopes remove read:invoice',
    args: ['scope'],
    writes: true,
    async run ({ admin, args: [slug], io, json }) {
      await admin.removeScope(slug)
      if (json) return printJson(io, { removed: slug })
      io.stdout(`Removed scope ${slug}.`)
    }
  },
  attach: {
    usage: 'attach <scope> <app> --required|--optional',
    summary: 'an app requires the scope on every call (--required), or a user may grant it (--optional)',
    optionHelp: '  --required | --optional           how the app holds the scope',
    example: 'linked-services scopes attach read:invoice billing --optional',
    options: scopeKind,
    args: ['scope', 'app'],
    writes: true,
    async run ({ admin, args: [scope, app], values, io, json }) {
      if ((values.required === true) === (values.optional === true)) throw new CliError('give one of --required or --optional', 1)
      const summary = await admin.attachScope(app, scope, values.required === true ? 'required' : 'optional')
      if (json) return printJson(io, summary)
      io.stdout(`${app} now holds ${scope} as ${values.required === true ? 'required' : 'optional'}.`)
    }
  },
  detach: {
    usage: 'detach <scope> <app>',
    summary: 'the app no longer holds the scope',
    example: 'linked-services scopes detach read:invoice billing',
    args: ['scope', 'app'],
    writes: true,
    async run ({ admin, args: [scope, app], io, json }) {
      const summary = await admin.detachScope(app, scope)
      if (json) return printJson(io, summary)
      io.stdout(`${app} no longer holds ${scope}.`)
    }
  }
} satisfies Record<string, Subcommand>)

function agreementRows (agreements: AgreementRecord[]): string[][] {
  return agreements.map((agreement) => [agreement.app, String(agreement.userId), agreement.optionalScopes.join(',') || '-', String(agreement.agreementVersion ?? 1)])
}

export const AGREEMENTS = adminGroup('agreements', 'Which local users agreed to which apps, with the optional scopes they granted.', {
  list: {
    usage: 'list [app] [--json]',
    summary: 'the agreements (of one app, or of all)',
    example: 'linked-services agreements list billing --json',
    args: ['app?'],
    async run ({ admin, args: [app], io, json }) {
      const agreements = await admin.listAgreements(app)
      if (json) return printJson(io, agreements)
      io.stdout(table(['APP', 'USER', 'GRANTED', 'VERSION'], agreementRows(agreements)))
    }
  },
  grant: {
    usage: 'grant <app> <user-id> [--scopes <a,b>]',
    summary: 'record that the local user agreed to the app, granting these of its optional scopes',
    optionHelp: '  --scopes <a,b>                    optional scopes of the app the user grants',
    example: 'linked-services agreements grant billing 42 --scopes read:invoice',
    options: { scopes: { type: 'string' } },
    args: ['app', 'user-id'],
    writes: true,
    async run ({ admin, args: [app, user], values, io, json }) {
      const agreement = await admin.grantAgreement(app, user, list(values.scopes) ?? [])
      if (json) return printJson(io, agreement)
      io.stdout(`User ${user} agreed to ${app}${agreement.optionalScopes.length > 0 ? ` (granted ${agreement.optionalScopes.join(', ')})` : ''}.`)
    }
  },
  revoke: {
    usage: 'revoke <app> <user-id>',
    summary: 'withdraw the user\'s agreement: the app\'s calls on its behalf are refused',
    example: 'linked-services agreements revoke billing 42',
    args: ['app', 'user-id'],
    writes: true,
    async run ({ admin, args: [app, user], io, json }) {
      await admin.revokeAgreement(app, user)
      if (json) return printJson(io, { revoked: { app, userId: user } })
      io.stdout(`Revoked the agreement of user ${user} with ${app}.`)
    }
  }
} satisfies Record<string, Subcommand>)

function userRows (users: UserRecord[]): string[][] {
  return users.map((user) => [String(user.id), String(user.username ?? ''), String(user.email ?? ''),
    Object.entries(user.credentials ?? {}).map(([app, id]) => `${app}=${id}`).join(',') || '-'])
}

export const USERS = adminGroup('users', 'Local users and their ids in the linked apps (the original\'s FirstPartyCredentials).', {
  add: {
    usage: 'add <user-id> [--username <name>] [--email <address>]',
    summary: 'add (or replace) a local user',
    optionHelp: '  --username <name>, --email <address>',
    example: 'linked-services users add 42 --username jane --email jane@example.com',
    options: { username: { type: 'string' }, email: { type: 'string' } },
    args: ['user-id'],
    writes: true,
    creates: true,
    async run ({ admin, args: [id], values, io, json }) {
      const fields = Object.fromEntries(['username', 'email'].filter((field) => values[field] !== undefined).map((field) => [field, values[field]]))
      const user = await admin.addUser({ id, ...fields })
      if (json) return printJson(io, user)
      io.stdout(`Added user ${id}.`)
    }
  },
  list: {
    usage: 'list [app] [--json]',
    summary: 'the local users (linked to one app, or all) with their ids in apps',
    example: 'linked-services users list billing',
    args: ['app?'],
    async run ({ admin, args: [app], io, json }) {
      const users = await admin.listUsers(app)
      if (json) return printJson(io, users)
      io.stdout(table(['USER', 'USERNAME', 'EMAIL', 'LINKS'], userRows(users)))
    }
  },
  link: {
    usage: 'link <user-id> <app> <external-id>',
    summary: 'the local user is <external-id> in the app: its calls with that sub act as this user',
    example: 'linked-services users link 42 billing 9001',
    args: ['user-id', 'app', 'external-id'],
    writes: true,
    async run ({ admin, args: [user, app, external], io, json }) {
      const linked = await admin.linkUser(user, app, external)
      if (json) return printJson(io, linked)
      io.stdout(`User ${user} is ${external} in ${app}.`)
    }
  },
  unlink: {
    usage: 'unlink <user-id> <app>',
    summary: 'remove the user\'s link to the app',
    example: 'linked-services users unlink 42 billing',
    args: ['user-id', 'app'],
    writes: true,
    async run ({ admin, args: [user, app], io, json }) {
      const unlinked = await admin.unlinkUser(user, app)
      if (json) return printJson(io, unlinked)
      io.stdout(`User ${user} is no longer linked to ${app}.`)
    }
  }
} satisfies Record<string, Subcommand>)
