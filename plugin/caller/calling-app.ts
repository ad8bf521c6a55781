/**
 * What every authentication scheme gets from the plugin, and what it hands back. Schemes (JWT,
 * RFC 9421, legacy signature) authenticate; the scope hook then authorizes.
 */
import type { LinkedToken, Mode } from '../../types/index.js'
import { SLUG, type ResolvedConfig } from '../config.js'
import {
  AlgorithmNotImplementedError, AppNotFoundError, ForbiddenSchemaError, ForbiddenStrategyError, InvalidAppKeyError
} from '../errors.js'
import type { ResolvedApp } from '../cache/resolved-app.js'
import type { StoreCache } from '../cache/store-cache.js'
import type { TokenCache } from '../cache/token-cache.js'

/** What the scope hook hands every scheme: the options, the cache in front of the store, and the verified-token cache. */
export interface AuthContext {
  config: ResolvedConfig
  storeCache: StoreCache
  tokenCache: TokenCache
}

export interface Authenticated {
  app: ResolvedApp
  token: LinkedToken
}

/**
 * The calling app, checked for this scheme on this route (see checkCallingApp). Returned as it is
 * when the app is cached — the warm path costs no promise — otherwise as a promise of the store's
 * answer. `mode` is the route's mode (undefined: follow the app's strategy).
 */
export function callingApp (ctx: AuthContext, slug: string, scheme: Mode, mode: Mode | undefined): ResolvedApp | Promise<ResolvedApp> {
  // A caller may not claim to be this service.
  if (slug === ctx.config.appName) throw appNotFound(slug, 'the caller claims to be this service')
  const cached = ctx.storeCache.peekApp(slug, Date.now())
  if (cached !== undefined) {
    ctx.storeCache.lookups.hits++
    return checkCallingApp(cached, scheme, mode, slug)
  }
  // A name that is not a slug names no app and never reaches the store. (The caches hold slugs
  // only, so a hit above needs no check: the warm path costs no regular expression.)
  if (!SLUG.test(slug)) throw appNotFound(slug, 'the App= value is not a slug')
  ctx.storeCache.lookups.misses++
  return ctx.storeCache.getApp(slug).then((app) => checkCallingApp(app, scheme, mode, slug))
}

/**
 * Checks that an app may use this scheme on this route, in the original's order: unknown app,
 * unknown algorithm, schema, strategy; then unusable keys.
 */
export function checkCallingApp (app: ResolvedApp | null, scheme: Mode, mode: Mode | undefined, slug?: string): ResolvedApp {
  if (app === null) throw appNotFound(slug, 'the store has no such app')
  if (app.algorithm === null) throw new AlgorithmNotImplementedError()
  if (app.schema !== 'LINK') throw new ForbiddenSchemaError()
  // JWT: the app's strategy must be JWT. Signature: the strategy must be SIGNATURE unless the
  // route says mode 'signature' (the original's mode="signature" lifts the restriction).
  const allowed = scheme === 'jwt' ? app.strategy === 'JWT' : app.strategy === 'SIGNATURE' || mode === 'signature'
  if (!allowed) throw new ForbiddenStrategyError(strategyHint(app.strategy, scheme))
  if (app.keys === null) throw new InvalidAppKeyError()
  return app
}

/** Slugs are short; a longer value may be a key pasted into `App=` by mistake: log only its start. */
const LOGGED_SLUG_LENGTH = 20

/**
 * app-not-found, with the slug and the reason for the log line only: the error's own properties
 * are logged, the response carries code and message (the caller knows what it sent).
 */
export function appNotFound (slug: string | undefined, reason: string): Error {
  const app = slug === undefined || slug.length <= LOGGED_SLUG_LENGTH ? slug : `${slug.slice(0, 8)}… (${slug.length} characters)`
  return Object.assign(new AppNotFoundError(), { app, reason })
}

/** Which setting would allow the call. */
function strategyHint (strategy: string, scheme: Mode): string {
  return scheme === 'jwt'
    ? ` (its strategy is ${strategy}: it must sign its requests, or its record needs strategy JWT)`
    : ` (its strategy is ${strategy}: it must send a JWT, or the route needs scope(scopes, { mode: 'signature' }))`
}
