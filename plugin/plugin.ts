/**
 * The Fastify plugin: validates options once, puts a cache in front of the store, decorates the
 * instance with `scope()` and the request with `app`, `token` and `getUser()`.
 */
import type { FastifyInstance, FastifyRequest, preParsingHookHandler, RouteOptions } from 'fastify'
import fp from 'fastify-plugin'
import type { LinkedServicesDecorator, LinkedServicesOptions, UserRecord } from '../types/index.js'
import { resolveConfig } from './config.js'
import { InvalidHookError } from './errors.js'
import { getUser } from './users/get-user.js'
import { TokenCache } from './cache/token-cache.js'
import type { AuthContext } from './caller/calling-app.js'
import { captureRawBody } from './route/raw-body.js'
import { createScopeHook, kScopeHook } from './route/scope-hook.js'
import { RefusalLog } from './route/caller-log.js'
import { kStats, type LinkedServicesStats } from './cache/stats.js'
import { StoreCache } from './cache/store-cache.js'
import { requirePeer } from './lazy-modules.js'

/** Hooks that run before the body is read and parsed: a scope hook there cannot check a signed body. */
const TOO_EARLY = ['onRequest', 'preParsing', 'preValidation'] as const

/**
 * Methods whose body Fastify never reads (it calls the handler without parsing one): capturing
 * it would cost a hook stage on every request for bytes that never arrive. A signed request of
 * these methods that announces a body still fails closed (no raw body kept: receivedBody).
 */
const BODYLESS = new Set(['GET', 'HEAD', 'TRACE'])

function readsNoBody (route: RouteOptions): boolean {
  const methods = Array.isArray(route.method) ? route.method : [route.method]
  return methods.every((method) => BODYLESS.has(method.toUpperCase()))
}

function usesScopeHook (route: RouteOptions, hookName: 'preHandler' | typeof TOO_EARLY[number]): boolean {
  const value = route[hookName] as unknown
  const hooks = value === undefined ? [] : Array.isArray(value) ? value : [value]
  return hooks.some((hook) => typeof hook === 'function' && (hook as unknown as Record<symbol, unknown>)[kScopeHook] === true)
}

async function linkedServices (fastify: FastifyInstance, options: LinkedServicesOptions): Promise<void> {
  const config = resolveConfig(options)
  // Fetching remote users needs undici (an optional peer): say so now, not on the first request.
  if (config.resolveRemoteUsers) requirePeer('undici', 'resolveRemoteUsers')
  const tokenCache = new TokenCache(config.jwt.maxCachedTokens)
  const storeCache = new StoreCache(config.store, {
    max: config.cache.maxApps,
    ttl: config.cache.ttl,
    negativeTtl: config.cache.negativeTtl,
    timeout: config.storeTimeout,
    onInvalidate: (slug) => tokenCache.forgetApp(slug),
    onKeyProblem: (slug, problem) => fastify.log.warn({ app: slug, problem }, 'fastify-linked-services: the keys of this app are unusable; its calls are refused')
  })
  const ctx: AuthContext = { config, storeCache, tokenCache }
  // At most one refusal line per (app, code) a minute; 1000 pairs remembered.
  const refusals = new RefusalLog({ intervalMs: 60_000, max: 1000 })
  await storeCache.subscribe()

  // Null until a scope hook has passed, though typed non-null for scoped routes (types/index.ts):
  // Fastify's overload for a null decoration takes the (empty) dependency list.
  fastify.decorateRequest('app', null, [])
  fastify.decorateRequest('token', null, [])
  fastify.decorateRequest('getUser', function (this: FastifyRequest): Promise<UserRecord | null> {
    return getUser(this, ctx)
  })

  fastify.decorate('scope', function scope (scopes?: string[], scopeOptions?: { mode?: 'jwt' | 'signature' }) {
    return createScopeHook(ctx, refusals, scopes, scopeOptions)
  })
  const stats: LinkedServicesStats = { service: config.appName, lookups: storeCache.lookups, nonceStore: config.signature.nonceStore }
  const decorator: LinkedServicesDecorator = Object.freeze({
    [kStats]: stats,
    appName: config.appName,
    store: config.store,
    nonceStore: config.signature.nonceStore,
    requireCurrentAgreement: config.requireCurrentAgreement,
    /** Forget what is cached about an app (its keys, scopes, users, agreements, tokens). */
    invalidate (slug: string): void {
      storeCache.invalidate(slug)
    },
    /** Forget everything cached. */
    clear (): void {
      storeCache.clear()
      tokenCache.clear()
    }
  })
  fastify.decorate('linkedServices', decorator)

  // Signed requests need the raw body bytes: capture them on the routes that use a scope hook.
  fastify.addHook('onRoute', (route) => {
    for (const hookName of TOO_EARLY) {
      if (usesScopeHook(route, hookName)) {
        throw new InvalidHookError(`${String(route.method)} ${route.url}: scope() is in ${hookName}; put it in preHandler ` +
          '(it authenticates signed requests, whose body is read after ' + hookName + ')')
      }
    }
    if (!usesScopeHook(route, 'preHandler') || readsNoBody(route)) return
    const existing = route.preParsing === undefined ? [] : Array.isArray(route.preParsing) ? route.preParsing : [route.preParsing]
    route.preParsing = [...existing, captureRawBody as unknown as preParsingHookHandler]
  })

  // A PostgresStore can tell at start-up that its schema was never migrated (never in a response).
  fastify.addHook('onReady', async () => {
    await config.store.ready?.()
  })

  // Who closes what: the plugin closes the store and the nonce store it was given (and those it
  // made); each store ends only the connections it opened itself (a pool or client you passed in
  // stays yours). So `await app.close()` lets the process exit with no hook of your own.
  fastify.addHook('onClose', async () => {
    storeCache.close()
    tokenCache.clear()
    await Promise.all([config.store.close?.(), config.signature.nonceStore.close?.()])
  })
}

export default fp(linkedServices, { name: 'fastify-linked-services', fastify: '5.x' })
