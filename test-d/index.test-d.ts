import Fastify, { type FastifyRequest } from 'fastify'
import { expectAssignable, expectError, expectType } from 'tsd'
import linkedServices, {
  linkedServices as named, linkedServicesConsent, linkedWebhooks, DEFAULT_RETRY_POLICY, MemoryStore, type OutgoingWebhook, type ReceivedWebhook, type WebhooksDecorator, type AppRecord, type AppSummary, type ConsentCatalogue, type LinkedApp, type LinkedServicesAdmin, type LinkedServicesStore, type LinkedToken, type UserRecord
} from '../dist/plugin/index.js'

const app = Fastify()
expectType<typeof linkedServices>(named)
app.register(linkedServices, { appName: 'nodeservice', store: new MemoryStore({ apps: [{ slug: 'a', algorithm: 'HMAC_SHA256', privateKey: 'ab' }] }) })
app.register(linkedServices, { appName: 'nodeservice', jwt: { clockTolerance: 5 }, signature: { tolerance: 60, legacy: true }, storeTimeout: 500 })

// appName is required; option types are checked.
expectError(app.register(linkedServices, {}))
expectError(app.register(linkedServices, { appName: 'x', storeTimeout: '1s' }))
expectError(app.register(linkedServices, { appName: 'x', signature: { legacy: 'yes' } }))
expectError(new MemoryStore({ apps: [{ slug: 'a', algorithm: 'RSA' }] }))

// scope() takes a list of strings and an optional mode.
app.get('/', { preHandler: app.scope(['read:user']) }, async (request: FastifyRequest) => {
  // Non-null on a scoped route (null at run time only where no scope hook ran).
  expectType<LinkedApp>(request.app)
  expectType<string>(request.app.slug)
  expectType<LinkedToken>(request.token)
  expectType<Promise<UserRecord | null>>(request.getUser())
  if (request.token.mode === 'jwt') expectType<string | null>(request.token.sub)
  if (request.token.mode === 'signature') expectType<'rfc9421' | 'legacy'>(request.token.scheme)
  return 'ok'
})
app.scope(['x'], { mode: 'jwt' })
app.scope()
expectError(app.scope('read:user'))
expectError(app.scope(['x'], { mode: 'bearer' }))

// request.app carries no key material.
expectError((null as unknown as LinkedApp).privateKey)

// A store is any object with the three async methods.
const store: LinkedServicesStore = {
  getApp: async () => null,
  getAgreement: async () => null,
  findUserByCredential: async () => null
}
expectAssignable<LinkedServicesStore>(store)
expectError<LinkedServicesStore>({ getApp: async () => null })

// The consent page: a plugin with its own options, under any prefix.
app.register(linkedServicesConsent, { prefix: '/account', loginUrl: '/login', getSessionUser: (request) => request.headers['x-user'] as string | undefined })
app.register(linkedServicesConsent, { loginUrl: '/login', getSessionUser: async () => 42, secret: Buffer.alloc(32), messages: { fr: { accept: 'Accepter', scopes: { webhook: 'Webhooks' } } } })
expectError(app.register(linkedServicesConsent, { getSessionUser: () => null }))
expectError(app.register(linkedServicesConsent, { loginUrl: '/login', getSessionUser: () => ({ id: 1 }) }))
const catalogue: ConsentCatalogue = { title: 'Autoriser {app}' }
expectType<string | undefined>(catalogue.title)
expectType<boolean>(app.linkedServices.requireCurrentAgreement)

// store.admin: reads without key material unless asked for explicitly.
const admin: LinkedServicesAdmin = new MemoryStore().admin
expectType<Promise<AppSummary>>(admin.getApp('a'))
expectType<Promise<AppRecord>>(admin.getApp('a', { withSecrets: true }))
expectType<Promise<AppSummary[]>>(admin.listApps())
expectError(admin.getApp('a').then((summary) => summary.privateKey))
expectError(admin.attachScope('a', 'read:user', 'sometimes'))
expectType<Promise<AppSummary>>(admin.rotateKey('a', { privateKey: 'ab' }, { gracePeriod: 60_000 }))

// Webhooks: one line to receive, `send` typed, handlers see the stored event.
app.register(linkedWebhooks, { receive: { path: '/v1/webhook' }, handlers: { 'order.paid': async (event) => { expectType<ReceivedWebhook>(event) } } })
app.register(linkedWebhooks, { delivery: { maxAttempts: 5, timeoutMs: 5000, appLevelSub: { legacy: null } }, processing: { concurrency: 2 } })
expectError(app.register(linkedWebhooks, { receive: { path: 42 } }))
expectError(app.register(linkedWebhooks, { delivery: { appLevelSub: { legacy: 'x' } } }))
expectType<Promise<OutgoingWebhook>>(app.webhooks.send('billing', 'invoice.paid', { total: 5 }, { user: 7 }))
expectType<WebhooksDecorator>(app.webhooks.on('order.paid', async (event, context) => { expectType<string>(context.app) }))
expectType<Promise<OutgoingWebhook[]>>(app.webhooks.outbox.list({ status: 'dead', app: 'billing' }))
expectError(app.webhooks.outbox.list({ status: 'done' }))
expectType<Promise<number>>(app.webhooks.received.retry({ app: 'billing' }))
expectType<number>(DEFAULT_RETRY_POLICY.maxAttempts)
