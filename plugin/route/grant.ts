/**
 * Scope names and granting. Names follow the original's convention: `action:data` or `data`,
 * lowercase letters and `_`, at most one `:` (without its 15-character limit).
 *
 * Who holds what, once the caller is authenticated:
 * - an app that does not require an agreement: every scope;
 * - a call on behalf of a user (`sub` set): the app's required scopes plus the optional scopes
 *   that user agreed to; no agreement at all is refused whatever the route names;
 * - a call without a user, and every signed request: required plus optional scopes.
 */
import type { LinkedToken } from '../../types/index.js'
import type { AuthContext } from '../caller/calling-app.js'
import { AgreementNotAcceptedError, ForbiddenScopeError, InvalidScopeError } from '../errors.js'
import type { ResolvedApp } from '../cache/resolved-app.js'

const SCOPE_NAME = /^[a-z_]+(?::[a-z_]+)?$/

/** Validates a route's scope list at route definition; returns it frozen and de-duplicated. */
export function validateScopes (scopes: unknown): readonly string[] {
  if (scopes === undefined) return Object.freeze([])
  if (!Array.isArray(scopes)) throw new InvalidScopeError('scopes must be an array of strings')
  for (const scope of scopes) {
    if (typeof scope !== 'string' || !SCOPE_NAME.test(scope) || scope.includes('__') || scope.length > 100) {
      throw new InvalidScopeError(`${JSON.stringify(scope)} is not "action:data" or "data" (lowercase letters and "_")`)
    }
  }
  return Object.freeze([...new Set(scopes as string[])])
}

function assertGranted (scopes: readonly string[], granted: (scope: string) => boolean): void {
  for (const scope of scopes) {
    if (!granted(scope)) {
      // Which ones, for the scope channel's event and logs (never sent to the caller).
      throw Object.assign(new ForbiddenScopeError(), { missingScopes: scopes.filter((name) => !granted(name)) })
    }
  }
}

/**
 * Throws when a scope is not granted. Synchronous (returns undefined) unless the call is on
 * behalf of a user, whose agreement must be looked up.
 */
export function authorize (ctx: AuthContext, app: ResolvedApp, token: LinkedToken, scopes: readonly string[]): undefined | Promise<void> {
  if (!app.requireAnAgreement) return undefined
  if (token.sub === null) {
    assertGranted(scopes, (scope) => app.appScopes.has(scope))
    return undefined
  }
  return authorizeUser(ctx, app, token.sub, scopes)
}

async function authorizeUser (ctx: AuthContext, app: ResolvedApp, sub: string, scopes: readonly string[]): Promise<void> {
  const user = await ctx.storeCache.findUser(app.slug, sub)
  if (user === null) throw new AgreementNotAcceptedError()
  const agreement = await ctx.storeCache.getAgreement(app.slug, String(user.id))
  if (agreement === null) throw new AgreementNotAcceptedError()
  const version = Number.isInteger(agreement.agreementVersion) ? agreement.agreementVersion as number : 1
  if (ctx.config.requireCurrentAgreement && version < app.agreementVersion) throw new AgreementNotAcceptedError()
  const agreed = new Set(Array.isArray(agreement.optionalScopes) ? agreement.optionalScopes : [])
  assertGranted(scopes, (scope) => app.requiredScopes.has(scope) || (app.optionalScopes.has(scope) && agreed.has(scope)))
}
