/** Signed-request test helpers: a server with signature routes, and signing for fastify.inject. */
import Fastify, { type FastifyInstance, type InjectOptions } from 'fastify'
import linkedServices, { MemoryStore } from '../../plugin/index.js'
import type { AppRecord, LinkedServicesOptions } from '../../plugin/index.js'
import { signRequest, type SignRequestOptions } from '../../plugin/signature/sign.js'
import { ed25519Keys, hmacKeyHex, type Ed25519TestKeys } from './keys.js'

export const APP_NAME = 'nodeservice'
export const HOST = 'api.example.test'

export interface Caller {
  /** The record the RECEIVER holds for the caller. */
  record: AppRecord
  /** The record the CALLER holds for us (what signRequest signs with). */
  own: AppRecord
  ed?: Ed25519TestKeys
}

export function hmacCaller (slug: string, algorithm: 'HMAC_SHA256' | 'HMAC_SHA512' = 'HMAC_SHA256', extra: Partial<AppRecord> = {}): Caller {
  const secret = hmacKeyHex(64)
  return {
    record: { slug, algorithm, privateKey: secret, strategy: 'SIGNATURE', requireAnAgreement: false, ...extra },
    own: { slug: APP_NAME, algorithm, privateKey: secret }
  }
}

export function edCaller (slug: string, extra: Partial<AppRecord> = {}): Caller {
  const ed = ed25519Keys()
  return {
    // The receiver holds only the caller's public key (raw, as tweetnacl holds it).
    record: { slug, algorithm: 'ED25519', publicKey: ed.publicRaw.toString('base64'), strategy: 'SIGNATURE', requireAnAgreement: false, ...extra },
    own: { slug: APP_NAME, algorithm: 'ED25519', privateKey: ed.secretKey.toString('hex') },
    ed
  }
}

export interface SignatureServer {
  app: FastifyInstance
  store: MemoryStore
}

export async function signatureServer (apps: AppRecord[], options: Partial<LinkedServicesOptions> = {}): Promise<SignatureServer> {
  const store = new MemoryStore({ apps })
  const app = Fastify({ logger: false })
  // A minimal form parser, so that form bodies reach the scope hook.
  app.addContentTypeParser('application/x-www-form-urlencoded', { parseAs: 'string' }, (_request, text, done) => {
    done(null, Object.fromEntries(new URLSearchParams(text as string)))
  })
  await app.register(linkedServices, { appName: APP_NAME, store, ...options })
  const echo = async (request: { app: unknown, token: unknown, body?: unknown }) => ({ app: request.app, token: request.token, body: request.body ?? null })
  const sig = { preHandler: app.scope([], { mode: 'signature' }) }
  app.get('/sig', sig, echo)
  app.post('/sig', sig, echo)
  app.put('/sig/:id', sig, echo)
  app.delete('/sig/:id', sig, echo)
  app.post('/small', { ...sig, bodyLimit: 64 }, echo)
  app.get('/any', { preHandler: app.scope() }, echo)
  app.post('/any', { preHandler: app.scope() }, echo)
  app.get('/jwt', { preHandler: app.scope([], { mode: 'jwt' }) }, echo)
  app.post('/bare', async (request) => ({ body: request.body }))
  await app.ready()
  return { app, store }
}

export type SignOptions = Omit<SignRequestOptions, 'appName' | 'app' | 'url'> & { path: string, appName?: string }

/** Signs with the caller's key and turns the result into fastify.inject options. */
export interface SignedInject {
  method: InjectOptions['method']
  url: string
  headers: Record<string, string>
  payload?: InjectOptions['payload']
}

export function signedInject (caller: Caller, options: SignOptions): SignedInject {
  const { path, appName, ...rest } = options
  const signed = signRequest({ appName: appName ?? caller.record.slug, app: caller.own, url: path, authority: HOST, ...rest })
  return {
    method: options.method as InjectOptions['method'],
    url: signed.url,
    // RFC 9421: signRequest returns the Host it signed (HOST, the authority given); the legacy scheme signs none.
    headers: (({ Host, ...others }) => ({ host: HOST, ...others }))(signed.headers),
    ...(signed.body === undefined ? {} : { payload: signed.body })
  }
}
