/** Builds a Fastify server with the plugin and a few routes, for tests. */
import Fastify, { type FastifyInstance } from 'fastify'
import linkedServices, { MemoryStore } from '../../plugin/index.js'
import type { AppRecord, LinkedServicesOptions, MemoryStoreData } from '../../plugin/index.js'
import { hmacKeyHex } from './keys.js'

export const APP_NAME = 'nodeservice'

export function hmacApp (slug: string, extra: Partial<AppRecord> = {}): AppRecord {
  return { slug, algorithm: 'HMAC_SHA256', privateKey: hmacKeyHex(32), requireAnAgreement: false, ...extra }
}

export interface TestServer {
  app: FastifyInstance
  store: MemoryStore
}

export async function buildServer (data: MemoryStoreData = {}, options: Partial<LinkedServicesOptions> = {}): Promise<TestServer> {
  const store = new MemoryStore(data)
  const app = Fastify({ logger: false })
  await app.register(linkedServices, { appName: APP_NAME, store, ...options })
  const echo = async (request: { app: unknown, token: unknown }) => ({ app: request.app, token: request.token })
  app.get('/open', { preHandler: app.scope() }, echo)
  app.get('/read', { preHandler: app.scope(['read:user']) }, echo)
  app.get('/write', { preHandler: app.scope(['read:user', 'write:user']) }, echo)
  app.get('/jwt-only', { preHandler: app.scope([], { mode: 'jwt' }) }, echo)
  app.post('/signed', { preHandler: app.scope([], { mode: 'signature' }) }, echo)
  app.get('/user', { preHandler: app.scope() }, async (request) => ({ user: await request.getUser() }))
  await app.ready()
  return { app, store }
}
