/**
 * The scope hook's decisions, published on a `node:diagnostics_channel` TracingChannel named
 * `fastify-linked-services:scope` (the channels `tracing:fastify-linked-services:scope:start`,
 * `:end`, `:asyncStart`, `:asyncEnd` and `:error`). One event object per call; its fields are
 * filled in before the asyncStart/asyncEnd (and, on a refusal, error) messages.
 *
 * An event names who called and what was decided, never what proved it: no key, token,
 * signature, nonce or body. With no subscriber the hook does not build one (see scope-hook.ts).
 */
import diagnosticsChannel from 'node:diagnostics_channel'
import type { FastifyRequest } from 'fastify'
import type { Mode } from '../../types/index.js'
import { SLUG } from '../config.js'
import type { AuthContext } from '../caller/calling-app.js'

export const SCOPE_CHANNEL = 'fastify-linked-services:scope'

export type ScopeScheme = 'jwt' | 'rfc9421' | 'legacy'

export interface ScopeEvent {
  /** This service (the plugin's appName): tells apart several instances in one process. */
  service: string
  method: string
  /** The route as declared (`routeOptions.url`, e.g. `/things/:id`), not the requested path. */
  route: string
  /** The calling app, when it is one the store knows; null otherwise (never an unchecked name). */
  app: string | null
  /** The scheme the request used; null when it used none this route accepts. */
  scheme: ScopeScheme | null
  /** The user the call is made for (`sub`), when it was authenticated; null otherwise. */
  user: string | null
  /** `granted`, or the refusal's error code (`FST_LINKED_SERVICES_*`). */
  outcome: string
  /** 200 when granted, else the refusal's status code. */
  statusCode: number
  /** The scopes the route needs. */
  scopes: readonly string[]
  /** Of those, the ones not granted (set on FST_LINKED_SERVICES_FORBIDDEN_SCOPE). */
  missingScopes: readonly string[]
  /** Time spent deciding, in milliseconds. */
  durationMs: number
  /** Set by the TracingChannel on a refusal: the error answered (its message holds no secret). */
  error?: unknown
  /** Start time (performance.now()), for durationMs. */
  startedAt: number
}

export const scopeChannel = diagnosticsChannel.tracingChannel<string, ScopeEvent>(SCOPE_CHANNEL)

const NO_SCOPES: readonly string[] = Object.freeze([])

export function newScopeEvent (ctx: AuthContext, request: FastifyRequest, scopes: readonly string[], mode: Mode | undefined): ScopeEvent {
  return {
    service: ctx.config.appName,
    method: request.method,
    route: request.routeOptions.url ?? '',
    app: null,
    scheme: schemeOf(request, mode, ctx.config.signature.legacy),
    user: null,
    outcome: 'pending',
    statusCode: 0,
    scopes,
    missingScopes: NO_SCOPES,
    durationMs: 0,
    startedAt: performance.now()
  }
}

export function finishScopeEvent (event: ScopeEvent, outcome: string, statusCode: number, missingScopes?: readonly string[]): void {
  event.outcome = outcome
  event.statusCode = statusCode
  if (missingScopes !== undefined) event.missingScopes = Object.freeze([...missingScopes])
  event.durationMs = performance.now() - event.startedAt
}

/** The scheme the scope hook would try for this request (the same order as its authenticate()). */
export function schemeOf (request: FastifyRequest, mode: Mode | undefined, legacy: boolean): ScopeScheme | null {
  const authorization = request.headers.authorization
  if (authorization === undefined || authorization === '') {
    return mode !== 'jwt' && request.headers['signature-input'] !== undefined ? 'rfc9421' : null
  }
  if (authorization.startsWith('Link ') && mode !== 'signature') return 'jwt'
  if (authorization.startsWith('Signature ') && mode !== 'jwt' && legacy) return 'legacy'
  return null
}

const APP_PARAM = /(?:^|,)\s*App=([^,]*)/
const KEYID_PARAM = /keyid="([^"#]*)/

/**
 * The app a refused request names, when the store knows it (it was looked up to refuse it);
 * null for a name that is no app, or none at all: a flood of made-up names stays one value.
 */
export function knownClaimedApp (request: FastifyRequest, ctx: AuthContext): string | null {
  const authorization = request.headers.authorization
  let match: RegExpExecArray | null = null
  if (typeof authorization === 'string' && authorization !== '') {
    match = APP_PARAM.exec(authorization.slice(authorization.indexOf(' ') + 1))
  } else {
    const input = request.headers['signature-input']
    if (typeof input === 'string') match = KEYID_PARAM.exec(input)
  }
  const slug = match?.[1].trim()
  if (slug === undefined || !SLUG.test(slug)) return null
  const app = ctx.storeCache.peekApp(slug, Date.now())
  return app === undefined || app === null ? null : app.slug
}
