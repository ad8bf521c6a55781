/**
 * Shared by the webhook receiver tests: a receiving service (linkedServices + linkedWebhooks on a
 * store), the calling app's record, and requests signed the way a linked app signs them (a Link
 * JWT from signJwt, or an RFC 9421 signed request).
 */
import Fastify, { type FastifyInstance, type LightMyRequestResponse } from 'fastify'
import linkedServices, { type AppRecord, type LinkedServicesStore } from '../plugin/index.js'
import linkedWebhooks from '../plugin/webhooks/plugin.js'
import type { LinkedWebhooksOptions } from '../plugin/webhooks/options.js'
import { linkAuthorizationHeader, signJwt } from '../plugin/client/sign-jwt.js'
import { signRequest } from '../plugin/signature/sign.js'
import { hmacKeyHex } from './helpers/keys.js'

export const RECEIVER = 'nodeservice'
export const PATH = '/v1/webhook'

/** A calling app allowed the `webhook` scope (app-level calls need no agreement). */
export function callerApp (slug = 'peer', extra: Partial<AppRecord> = {}): AppRecord {
  return { slug, algorithm: 'HMAC_SHA256', privateKey: hmacKeyHex(32), requireAnAgreement: false, requiredScopes: ['webhook'], ...extra }
}

export async function receiver (store: LinkedServicesStore, options: LinkedWebhooksOptions = { receive: { path: PATH } }): Promise<FastifyInstance> {
  const app = Fastify({ logger: false })
  await app.register(linkedServices, { appName: RECEIVER, store })
  await app.register(linkedWebhooks, options)
  await app.ready()
  return app
}

/** The caller's view of the receiver's record: same key, the receiver's slug. */
function asSeenBy (caller: AppRecord): AppRecord {
  return { ...caller, slug: RECEIVER }
}

export interface PostOptions {
  sub?: string | number | null
  /** Send an RFC 9421 signed request instead of a JWT. */
  signed?: boolean
}

export async function post (app: FastifyInstance, caller: AppRecord, body: unknown, options: PostOptions = {}): Promise<LightMyRequestResponse> {
  if (options.signed === true) {
    const signed = signRequest({ appName: caller.slug, app: asSeenBy(caller), method: 'POST', url: `http://localhost${PATH}`, body: body as Record<string, unknown> })
    return await app.inject({ method: 'POST', url: PATH, headers: { ...signed.headers, host: 'localhost' }, payload: signed.body })
  }
  return await app.inject({ method: 'POST', url: PATH, headers: { authorization: authorization(caller, options.sub) }, payload: body as object })
}

/** The `Authorization: Link ...` header of a call by `caller` (on behalf of `sub`). */
export function authorization (caller: AppRecord, sub: string | number | null = null): string {
  return linkAuthorizationHeader(caller.slug, signJwt({ appName: caller.slug, app: asSeenBy(caller), sub }))
}

/** Resolves when `check()` holds; fails after `ms` (a bound, not a wait). */
export async function until (check: () => Promise<boolean> | boolean, ms = 15_000): Promise<void> {
  const deadline = Date.now() + ms
  while (!await check()) {
    if (Date.now() > deadline) throw new Error('condition not met in time')
    await new Promise((resolve) => setTimeout(resolve, 5))
  }
}
