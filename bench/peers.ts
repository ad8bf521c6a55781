/**
 * The peers a user would pick instead of this plugin, each set up as its own docs recommend, in
 * its fastest documented configuration, doing the same job as the plugin's scenario it stands
 * beside (bench/scenarios.ts JOBS):
 * - `jose`: `jwtVerify` with a key imported once (a CryptoKey), `audience` and the algorithm pinned.
 * - `http-message-signatures`: `httpbis.verifyMessage` with verifiers built once per key, the
 *   components the plugin requires (`@method`, `@authority`, `@path`; `created`, `keyid`,
 *   `nonce`), the same window, a bounded nonce set (a nonce passes once) and a Content-Digest
 *   check of the body (the benchmark's GETs carry none, as the plugin's scenarios).
 */
import { createHash, createPublicKey, createSecretKey, timingSafeEqual, webcrypto } from 'node:crypto'
import type { FastifyInstance, FastifyReply, FastifyRequest, RouteHandlerMethod } from 'fastify'
import { APP_NAME, ED25519_PUBLIC_PEM, HMAC_SECRET_HEX, SIGNATURE_OPTIONS, SIGNER_ED25519, SIGNER_HMAC } from './scenarios.js'

function refuse (reply: FastifyReply): FastifyReply {
  return reply.code(401).send({ error: 'unauthorized' })
}

export async function joseRoute (app: FastifyInstance, algorithm: 'HS256' | 'EdDSA', handler: RouteHandlerMethod): Promise<void> {
  const { jwtVerify, importSPKI } = await import('jose')
  const key = algorithm === 'HS256'
    ? await webcrypto.subtle.importKey('raw', Buffer.from(HMAC_SECRET_HEX, 'hex'), { name: 'HMAC', hash: 'SHA-256' }, false, ['verify'])
    : await importSPKI(ED25519_PUBLIC_PEM, 'EdDSA')
  const options = { audience: APP_NAME, algorithms: [algorithm] }
  app.get('/', {
    preHandler: async (request: FastifyRequest, reply: FastifyReply) => {
      const authorization = request.headers.authorization
      if (authorization?.startsWith('Bearer ') !== true) return refuse(reply)
      try {
        await jwtVerify(authorization.slice(7), key, options)
      } catch {
        return refuse(reply)
      }
    }
  }, handler)
}

/** A bounded set of nonces seen within the window: a nonce passes once. */
class NonceSet {
  readonly #seen = new Map<string, number>()
  constructor (readonly max: number, readonly ttlMs: number) {}
  /** False when the nonce was seen (a replay). */
  add (nonce: string, now: number): boolean {
    if (this.#seen.has(nonce)) return false
    if (this.#seen.size >= this.max) {
      const oldest = this.#seen.keys().next().value as string
      this.#seen.delete(oldest)
    }
    this.#seen.set(nonce, now + this.ttlMs)
    return true
  }
}

export async function httpMessageSignaturesRoute (app: FastifyInstance, algorithm: 'hmac-sha256' | 'ed25519', handler: RouteHandlerMethod): Promise<void> {
  const { httpbis, createVerifier } = await import('http-message-signatures')
  const keyid = algorithm === 'hmac-sha256' ? SIGNER_HMAC : SIGNER_ED25519
  const keyMaterial = algorithm === 'hmac-sha256' ? createSecretKey(Buffer.from(HMAC_SECRET_HEX, 'hex')) : createPublicKey(ED25519_PUBLIC_PEM)
  const verifyingKey = { id: keyid, algs: [algorithm], verify: createVerifier(keyMaterial, algorithm) }
  const nonces = new NonceSet(SIGNATURE_OPTIONS.maxNonces, SIGNATURE_OPTIONS.tolerance * 1000)
  app.get('/', {
    preHandler: async (request: FastifyRequest, reply: FastifyReply) => {
      let nonce: unknown
      let verified: boolean | null = false
      try {
        verified = await httpbis.verifyMessage({
          keyLookup: async (params) => {
            nonce = params.nonce
            return params.keyid === keyid ? verifyingKey : null
          },
          tolerance: SIGNATURE_OPTIONS.tolerance,
          requiredParams: ['created', 'keyid', 'nonce'],
          requiredFields: ['@method', '@authority', '@path']
        }, { method: request.method, url: `http://${request.headers.host ?? ''}${request.url}`, headers: request.headers as Record<string, string> })
      } catch {
        return refuse(reply)
      }
      if (verified !== true || typeof nonce !== 'string' || !nonces.add(nonce, Date.now())) return refuse(reply)
      if (!digestMatches(request)) return refuse(reply)
    }
  }, handler)
}

/** A body must come with a Content-Digest (sha-256) that matches it. */
function digestMatches (request: FastifyRequest): boolean {
  const body = request.body
  const header = request.headers['content-digest']
  if (body === undefined || body === null) return header === undefined || header === `sha-256=:${createHash('sha256').update('').digest('base64')}:`
  const match = typeof header === 'string' ? /sha-256=:([A-Za-z0-9+/=]+):/.exec(header) : null
  if (match === null) return false
  const expected = createHash('sha256').update(typeof body === 'string' ? body : JSON.stringify(body)).digest()
  const given = Buffer.from(match[1], 'base64')
  return given.length === expected.length && timingSafeEqual(given, expected)
}
