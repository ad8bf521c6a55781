/**
 * The built-in handlers of the original's first-party events `user.created` and `user.updated`
 * (its `import_external_user`, with its defect fixed): `data` is the sender-side user
 * `{ id, email, first_name, last_name, ... }`. The local user is, in order:
 * 1. the one already linked to (app, data.id);
 * 2. else the one with that email (compared without case), which is LINKED to (app, data.id)
 *    (the original left it unlinked, so a second import duplicated it);
 * 3. else a new user (username: data.username, else the email), linked.
 * The users with an email are found with the store's `findUsersByEmail` (MemoryStore,
 * PostgresStore); a store without it has every user read (`admin.listUsers()`) instead.
 * On `user.updated` the names are brought up to date. Bad data refuses the event for good
 * (status `error`, naming the missing fields). Only the store's admin methods are used.
 *
 * A handler of your own for one of these types replaces the built-in one.
 */
import type { LinkedServicesAdmin, LinkedServicesStore, UserRecord } from '../../../types/index.js'
import { WebhookUnprocessableError } from '../../errors.js'
import type { ReceivedWebhook } from '../types.js'
import type { WebhookContext, WebhookHandler } from './processor.js'

export const USER_EVENT_TYPES = ['user.created', 'user.updated'] as const
const REQUIRED_FIELDS = ['id', 'email', 'first_name', 'last_name'] as const

interface SenderUser {
  id: string | number
  email: string
  first_name: string
  last_name: string
  username?: unknown
}

function senderUser (event: ReceivedWebhook): SenderUser {
  const data = event.data
  if (data === null || typeof data !== 'object' || Array.isArray(data)) {
    throw new WebhookUnprocessableError(`${event.type} needs data as a JSON object with the fields ${REQUIRED_FIELDS.map((field) => `data.${field}`).join(', ')}`)
  }
  const fields = data as Record<string, unknown>
  const missing = REQUIRED_FIELDS.filter((field) => fields[field] === undefined || fields[field] === null)
  if (missing.length > 0) throw new WebhookUnprocessableError(`${event.type} needs the field(s) ${missing.map((field) => `data.${field}`).join(', ')}`)
  const id = fields.id
  if (!((typeof id === 'string' && id.length > 0 && id.length <= 200) || Number.isSafeInteger(id))) {
    throw new WebhookUnprocessableError(`${event.type}: data.id must be an integer or a non-empty string`)
  }
  for (const field of ['email', 'first_name', 'last_name'] as const) {
    if (typeof fields[field] !== 'string') throw new WebhookUnprocessableError(`${event.type}: data.${field} must be a string`)
  }
  if ((fields.email as string).trim() === '') throw new WebhookUnprocessableError(`${event.type}: data.email must not be empty`)
  return fields as unknown as SenderUser
}

function adminOf (store: LinkedServicesStore): LinkedServicesAdmin {
  const admin = (store as { admin?: LinkedServicesAdmin }).admin
  if (admin === undefined || typeof admin.listUsers !== 'function') {
    throw new WebhookUnprocessableError('the store has no admin interface (store.admin) to import users: use MemoryStore or PostgresStore, or register a handler of your own')
  }
  return admin
}

function sameEmail (a: unknown, b: string): boolean {
  return typeof a === 'string' && a.trim().toLowerCase() === b.trim().toLowerCase()
}

/** By the store's lookup when it has one; else by reading every user (a custom store). */
async function usersByEmail (store: LinkedServicesStore, admin: LinkedServicesAdmin, email: string): Promise<UserRecord[]> {
  const found = typeof store.findUsersByEmail === 'function' ? await store.findUsersByEmail(email) : await admin.listUsers()
  // Also over the lookup's answer: the same comparison whatever the store.
  return found.filter((candidate) => sameEmail(candidate.email, email))
}

async function findOrLink (store: LinkedServicesStore, admin: LinkedServicesAdmin, app: string, user: SenderUser): Promise<{ local: UserRecord, created: boolean }> {
  const externalId = String(user.id)
  const linked = await store.findUserByCredential(app, externalId)
  if (linked !== null) return { local: linked, created: false }
  const byEmail = await usersByEmail(store, admin, user.email)
  // The oldest such user that is not linked to another user of this app.
  const free = byEmail.find((candidate) => candidate.credentials?.[app] === undefined)
  if (free !== undefined) return { local: await admin.linkUser(free.id, app, user.id), created: false }
  if (byEmail.length > 0) {
    throw new WebhookUnprocessableError(`the local user(s) with this email are linked to another ${app} user already; link or unlink them by hand (linked-services users link|unlink)`)
  }
  if (typeof store.linkRemoteUser !== 'function') {
    throw new WebhookUnprocessableError('the store cannot create users (no linkRemoteUser): use MemoryStore or PostgresStore, or register a handler of your own')
  }
  const username = typeof user.username === 'string' && user.username !== '' ? user.username : user.email
  const local = await store.linkRemoteUser(app, { id: user.id, username, email: user.email, first_name: user.first_name, last_name: user.last_name })
  return { local, created: true }
}

async function importUser (event: ReceivedWebhook, context: WebhookContext): Promise<void> {
  const user = senderUser(event)
  const admin = adminOf(context.store)
  const { local, created } = await findOrLink(context.store, admin, context.app, user)
  if (!created && event.type === 'user.updated' && (local.first_name !== user.first_name || local.last_name !== user.last_name)) {
    await admin.addUser({ ...local, first_name: user.first_name, last_name: user.last_name })
  }
  context.log.info({ user: local.id, created }, `fastify-linked-services: ${event.type} imported`)
}

/** The built-in handlers, by type. */
export function userEventHandlers (): Map<string, WebhookHandler> {
  return new Map(USER_EVENT_TYPES.map((type) => [type, importUser]))
}
