/**
 * A service with the consent page for tests: fastify-linked-services over a store, a demo login
 * (cookie `user=<local id>`, set by `POST /login`), the consent plugin under `/account`, and one
 * route per scope (`GET /needs/<scope with - for :>`) to see what a JWT call on behalf of a user is granted.
 */
import Fastify, { type FastifyInstance, type FastifyRequest } from 'fastify'
import linkedServices, { linkedServicesConsent, MemoryStore } from '../../plugin/index.js'
import type { AppRecord, ConsentOptions, LinkedServicesOptions, LinkedServicesStore, MemoryStoreData } from '../../plugin/index.js'
import { linkAuthorizationHeader, signJwt } from '../../plugin/client/sign-jwt.js'
import { escapeHtml } from '../../plugin/consent/html.js'
import { hmacKeyHex } from './keys.js'

export const US = 'nodeservice'
export const SCOPES = ['read:user', 'webhook', 'write:user', 'read:grades'] as const

export function classroomApp (redirectUrl: string, extra: Partial<AppRecord> = {}): AppRecord {
  return {
    slug: 'classroom',
    name: 'Classroom',
    description: 'Keeps your courses and grades in sync.',
    algorithm: 'HMAC_SHA512',
    privateKey: hmacKeyHex(64),
    requireAnAgreement: true,
    requiredScopes: ['read:user'],
    optionalScopes: ['webhook', 'write:user'],
    agreementVersion: 1,
    redirectUrl,
    ...extra
  }
}

export function consentData (redirectUrl: string): MemoryStoreData {
  return {
    apps: [
      classroomApp(redirectUrl),
      { slug: 'open', name: 'Open', algorithm: 'HMAC_SHA256', privateKey: hmacKeyHex(32), requireAnAgreement: false, redirectUrl }
    ],
    users: [
      { id: 1, username: 'jane', email: 'jane@example.com', credentials: { classroom: 'c-5' } },
      { id: 2, username: 'john', email: 'john@example.com', credentials: { classroom: 'c-6' } }
    ]
  }
}

/** The demo session: the `user` cookie. */
export function sessionUser (request: FastifyRequest): string | null {
  const match = /(?:^|;\s*)user=([^;]+)/.exec(request.headers.cookie ?? '')
  return match === null ? null : decodeURIComponent(match[1])
}

export interface ConsentServer {
  app: FastifyInstance
  store: LinkedServicesStore
  /** Calls `GET /needs/<scope>` as `slug` on behalf of its user `sub`; resolves the status code. */
  callAs (sub: string, scope: string, slug?: string): Promise<number>
}

export interface ConsentServerOptions {
  store?: LinkedServicesStore
  data?: MemoryStoreData
  plugin?: Partial<LinkedServicesOptions>
  consent?: Partial<ConsentOptions>
}

export async function buildConsentServer (options: ConsentServerOptions = {}): Promise<ConsentServer> {
  const store = options.store ?? new MemoryStore(options.data ?? consentData('http://127.0.0.1:9/back'))
  const app = Fastify({ logger: false })
  await app.register(linkedServices, { appName: US, store, ...options.plugin })
  app.get('/login', async (request, reply) => {
    const { url } = request.query as { url?: string }
    return await reply.type('text/html').send(`<!doctype html><html lang="en"><title>Log in</title><form method="post" action="/login">
<input type="hidden" name="url" value="${escapeHtml(url ?? '')}"><label for="user">User id</label> <input id="user" name="user" value="1"><button>Log in</button></form></html>`)
  })
  // The host parses forms itself (as @fastify/formbody would): the consent plugin must cope.
  app.addContentTypeParser('application/x-www-form-urlencoded', { parseAs: 'string' }, (_request, body, done) => { done(null, new URLSearchParams(body as string)) })
  app.post('/login', async (request, reply) => {
    const form = request.body as URLSearchParams
    const back = Buffer.from(form.get('url') ?? '', 'base64').toString('utf8')
    return await reply
      .header('set-cookie', `user=${encodeURIComponent(form.get('user') ?? '1')}; Path=/; HttpOnly`)
      .redirect(back.startsWith('/') && !back.startsWith('//') ? back : '/', 303)
  })
  await app.register(linkedServicesConsent, { prefix: '/account', loginUrl: '/login', getSessionUser: sessionUser, ...options.consent })
  for (const scope of SCOPES) app.get(`/needs/${scope.replace(':', '-')}`, { preHandler: app.scope([scope]) }, async () => ({ ok: true }))
  await app.ready()

  const callAs = async (sub: string, scope: string, slug = 'classroom'): Promise<number> => {
    const record = await store.getApp(slug)
    if (record === null) throw new Error(`no app ${slug}`)
    const authorization = linkAuthorizationHeader(slug, signJwt({ appName: US, app: record, sub, reverse: true }))
    return (await app.inject({ url: `/needs/${scope.replace(':', '-')}`, headers: { authorization } })).statusCode
  }
  return { app, store, callAs }
}

/** The form token of a rendered consent page. */
export function formToken (html: string): string {
  const match = /name="token" value="([^"]+)"/.exec(html)
  if (match === null) throw new Error('no form token in the page')
  return match[1]
}
