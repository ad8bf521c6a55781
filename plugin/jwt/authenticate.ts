/**
 * JWT (Link) mode: `Authorization: Link App=<caller>,Token=<jwt>`. Authenticates the calling app;
 * the scope hook authorizes afterwards.
 */
import type { Algorithm, Mode } from '../../types/index.js'
import { callingApp, checkCallingApp, type AuthContext, type Authenticated } from '../caller/calling-app.js'
import { parseParams } from '../caller/authorization-header.js'
import { WrongAppTokenError } from '../errors.js'
import { candidateKeys, type VerifyKey } from '../keys/app-keys.js'
import type { ResolvedApp } from '../cache/resolved-app.js'
import { JWT_ALGORITHM } from '../keys/algorithms.js'
import { checkClaims, checkHeaderSegment } from './claims.js'
import { decodeJws, isCanonicalBase64url, NOT_CANONICAL } from './decode.js'
import { verifyJwsSignature } from './verify-signature.js'

const LINK_PARAMS = ['App', 'Token'] as const
const LINK_PREFIX_LENGTH = 'Link '.length
const ALGORITHM_BY_JWT_NAME = new Map(Object.entries(JWT_ALGORITHM).map(([algorithm, name]) => [name as string, algorithm as Algorithm]))

/**
 * Authenticates a `Link` call (`header`: the whole Authorization value, `Link App=..,Token=..`).
 * Returns synchronously when the calling app is cached (the warm path costs no promise);
 * otherwise a promise of the same.
 */
export function authenticateJwt (header: string, ctx: AuthContext, mode: Mode | undefined): Authenticated | Promise<Authenticated> {
  const nowMs = Date.now()
  // The very header that hit the token cache before, for the app object the cache still holds:
  // what it parsed to and what it verified are the same, only the route's checks are left.
  const recent = ctx.tokenCache.recall(header, nowMs)
  if (recent !== undefined && ctx.storeCache.peekApp(recent.headerApp, nowMs) === recent.app) {
    ctx.storeCache.lookups.hits++
    return { app: checkCallingApp(recent.app, 'jwt', mode, recent.headerApp), token: recent.token }
  }
  const [slug, jwt] = parseParams(header.slice(LINK_PREFIX_LENGTH), LINK_PARAMS)
  if (jwt.length > ctx.config.jwt.maxTokenLength) throw new WrongAppTokenError(': the token is too long')
  const app = callingApp(ctx, slug, 'jwt', mode)
  if (app instanceof Promise) return app.then((loaded) => verifyToken(loaded, slug, jwt, header, ctx, Date.now()))
  return verifyToken(app, slug, jwt, header, ctx, nowMs)
}

function verifyToken (app: ResolvedApp, slug: string, jwt: string, header: string, ctx: AuthContext, nowMs: number): Authenticated {
  const cached = ctx.tokenCache.getForHeader(header, jwt, app, slug, nowMs)
  if (cached !== undefined) return { app, token: cached }

  const { headerPart, payload, signingInput, signaturePart } = decodeJws(jwt)
  const { alg, kid } = checkHeaderSegment(headerPart)
  const keys = candidateKeys(app.keys!, algorithmNamedBy(alg), kid, nowMs)
  let key: VerifyKey | undefined
  for (const candidate of keys) {
    if (verifyJwsSignature(candidate, signingInput, signaturePart)) {
      key = candidate
      break
    }
  }
  if (key === undefined) throw new WrongAppTokenError(isCanonicalBase64url(signaturePart) ? ': the signature does not verify' : NOT_CANONICAL)

  const tolerance = ctx.config.jwt.clockTolerance
  const token = checkClaims(payload, { appName: ctx.config.appName, headerApp: slug, now: nowMs / 1000, tolerance })
  const validUntil = Math.min((token.exp + tolerance) * 1000, key.expiresAt)
  ctx.tokenCache.set(jwt, { app, headerApp: slug, token }, validUntil)
  return { app, token }
}

/** The app algorithm a JWT `alg` names; an unknown alg (`none` among them) is refused. */
function algorithmNamedBy (alg: string): Algorithm {
  const algorithm = ALGORITHM_BY_JWT_NAME.get(alg)
  if (algorithm === undefined) throw new WrongAppTokenError(': the token algorithm is not accepted')
  return algorithm
}
