/**
 * An example linked service: the two routes of the original's documentation, ported.
 *
 * - `GET /v1/auth/app/user/:id?` with `scope(['read:user'])`: the users a linked app may see
 *   (the original's AppUserView): on behalf of a user, only that user; for an app that requires
 *   an agreement, only users who agreed; `:id` picks one (404 / 403 otherwise).
 * - `POST /v1/webhook` (linkedWebhooks, scope `webhook`, JWT only): one event `{ id, type, data }`
 *   or an array of them, kept in the webhook log: the same (app, user, id, type) twice is stored
 *   once and updated (the original's FirstPartyWebhookLog get-or-create); answers 204.
 * - `GET|POST /account/authorize/:app`: the consent page, where a user (signed in through the demo
 *   login, examples/demo-login.ts) grants an app its optional scopes.
 * - `GET /metrics`: Prometheus metrics (linkedServicesMetrics, on a registry of its own). Every
 *   log line after authentication names the caller (`linkedApp`, `linkedUser`).
 */
import Fastify, { type FastifyInstance, type FastifyServerOptions } from 'fastify'
import { Registry } from 'prom-client'
import linkedServices, { linkedServicesConsent, linkedWebhooks, MemoryStore, type LinkedServicesOptions, type MemoryStoreData, type UserRecord } from '../plugin/index.js'
import { linkedServicesMetrics } from '../plugin/observability.js'
import { demoLogin, demoSessionUser } from './demo-login.js'

export interface ExampleAppOptions {
  /** This service's slug. Default `data.appName`, else `nodeservice`. */
  appName?: string
  /** The apps, agreements and users (examples/apps.json). */
  data: MemoryStoreData & { appName?: string }
  logger?: FastifyServerOptions['logger']
  /** More plugin options (signature tolerance, resolveRemoteUsers, ...). */
  plugin?: Partial<LinkedServicesOptions>
}

export interface ExampleApp {
  app: FastifyInstance
  metrics: Registry
  store: MemoryStore
  appName: string
}

function publicUser (user: UserRecord): Record<string, unknown> {
  return { id: user.id, username: user.username, email: user.email, first_name: user.first_name ?? '', last_name: user.last_name ?? '' }
}

function problem (status: number, slug: string, detail: string): { statusCode: number, body: Record<string, unknown> } {
  return { statusCode: status, body: { detail, slug, status_code: status } }
}

export async function buildExampleApp (options: ExampleAppOptions): Promise<ExampleApp> {
  const appName = options.appName ?? options.data.appName ?? 'nodeservice'
  const { apps, agreements, users } = options.data
  const store = new MemoryStore({ apps, agreements, users })
  const userIds = (options.data.users ?? []).map((user) => String(user.id))
  const app = Fastify({ logger: options.logger ?? false })
  await app.register(linkedServices, { ...options.plugin, appName, store })
  await demoLogin(app, options.data.users ?? [])
  await app.register(linkedServicesConsent, {
    prefix: '/account',
    loginUrl: '/demo/login',
    getSessionUser: demoSessionUser(options.data.users ?? []),
    messages: {
      en: { scopes: { 'read:user': 'See your name and email address', webhook: 'Tell this service when your account changes' } },
      es: { scopes: { 'read:user': 'Ver tu nombre y tu correo', webhook: 'Avisar a este servicio cuando cambie tu cuenta' } }
    }
  })
  const metrics = new Registry()
  await app.register(linkedServicesMetrics, { registry: metrics })
  // In production, keep /metrics off the public interface (another port, or a network policy).
  app.get('/metrics', async (_request, reply) => await reply.type(metrics.contentType).send(await metrics.metrics()))

  app.get('/v1/auth/app/user/:id?', { preHandler: app.scope(['read:user']) }, async (request, reply) => {
    const caller = request.app!
    const { id } = request.params as { id?: string }
    // Who the caller may see: users who agreed to it (when it needs an agreement)...
    const visible = async (user: UserRecord | null): Promise<boolean> =>
      user !== null && (!caller.requireAnAgreement || await store.getAgreement(caller.slug, String(user.id)) !== null)
    // ...and, on behalf of a user, only that user.
    let me: UserRecord | null = null
    if (request.token?.sub != null) {
      me = await request.getUser()
      if (me === null) {
        const { statusCode, body } = problem(404, 'user-not-found', 'User not found')
        return await reply.code(statusCode).send(body)
      }
    }
    if (id !== undefined && id !== '') {
      if (me !== null && String(me.id) !== id) {
        const { statusCode, body } = problem(403, 'user-with-no-access', 'This user does not have access to this resource')
        return await reply.code(statusCode).send(body)
      }
      const user = await store.getUser(id)
      if (!await visible(user)) {
        const { statusCode, body } = problem(404, 'user-not-found', 'User not found')
        return await reply.code(statusCode).send(body)
      }
      return publicUser(user as UserRecord)
    }
    const candidates = me !== null ? [me] : await Promise.all(userIds.map(async (userId) => await store.getUser(userId)))
    const users: UserRecord[] = []
    for (const user of candidates) if (await visible(user)) users.push(user as UserRecord)
    // This line carries linkedApp and linkedUser: the scope hook bound the logger to the caller.
    request.log.info({ users: users.length }, 'listed users')
    return users.map(publicUser)
  })

  // The receiver: every event stored once in the webhook log (a redelivery updates it), then
  // handled; user.created / user.updated are handled by the built-in import. JWT only, as in the
  // original's documentation.
  await app.register(linkedWebhooks, { receive: { path: '/v1/webhook', mode: 'jwt' } })

  return { app, metrics, store, appName }
}
