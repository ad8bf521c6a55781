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
  if (slug === ctx.config.appName) throw new AppNotFoundError()
  const cached = ctx.storeCache.peekApp(slug, Date.now())
  if (cached !== undefined) {
    ctx.storeCache.lookups.hits++
    return checkCallingApp(cached, scheme, mode)
  }
  // A name that is not a slug names no app and never reaches the store. (The caches hold slugs
  // only, so a hit above needs no check: the warm path costs no regular expression.)
  if (!SLUG.test(slug)) throw new AppNotFoundError()
  ctx.storeCache.lookups.misses++
  return ctx.storeCache.getApp(slug).then((app) => checkCallingApp(app, scheme, mode))
}

/**
 * Checks that an app may use this scheme on this route, in the original's order: unknown app,
 * unknown algorithm, schema, strategy; then unusable keys.
 */
export function checkCallingApp (app: ResolvedApp | null, scheme: Mode, mode: Mode | undefined): ResolvedApp {
  if (app === null) throw new AppNotFoundError()
  if (app.algorithm === null) throw new AlgorithmNotImplementedError()
  if (app.schema !== 'LINK') throw new ForbiddenSchemaError()
  // JWT: the app's strategy must be JWT. Signature: the strategy must be SIGNATURE unless the
  // route says mode 'signature' (the original's mode="signature" lifts the restriction).
  const allowed = scheme === 'jwt' ? app.strategy === 'JWT' : app.strategy === 'SIGNATURE' || mode === 'signature'
  if (!allowed) throw new ForbiddenStrategyError()
  if (app.keys === null) throw new InvalidAppKeyError()
  return app
}
