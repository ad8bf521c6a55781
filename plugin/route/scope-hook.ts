/**
 * `fastify.scope(scopes, { mode })`: validates its arguments when the route is defined and
 * returns one lean preHandler that authenticates the caller (JWT, RFC 9421 or, when
 * enabled, the original's signature scheme), authorizes the route's scopes, and sets
 * `request.app` / `request.token`.
 */
import type { FastifyReply, FastifyRequest, preHandlerAsyncHookHandler } from 'fastify'
import type { Mode, ScopeOptions } from '../../types/index.js'
import { readAuthorization } from '../caller/authorization-header.js'
import { ForbiddenScopeError, isLinkedServicesError, type LinkedServicesError, NoAuthorizationHeaderError, UnknownAuthSchemaError, WrongAppTokenError } from '../errors.js'
import { authenticateJwt } from '../jwt/authenticate.js'
import type { AuthContext, Authenticated } from '../caller/calling-app.js'
import { authorize, validateScopes } from './grant.js'
import { scopeOptions } from '../options/schemas.js'
import { validateOptions } from '../options/validate.js'
import { authenticateLegacy } from '../signature/legacy-verify.js'
import { authenticateRfc9421 } from '../signature/rfc9421-verify.js'
import { bindCaller, type RefusalLog } from './caller-log.js'
import { finishScopeEvent, knownClaimedApp, newScopeEvent, type ScopeEvent, scopeChannel } from './scope-events.js'

/** Marks the hooks this plugin made, so that onRoute can give their routes raw-body capture. */
export const kScopeHook = Symbol('fastify-linked-services.scope-hook')

const LINK_PREFIX = 'Link '
/** What the hook returns for a call granted without waiting for anything. */
const GRANTED: Promise<void> = Promise.resolve()
const SIGNATURE_PREFIX = 'Signature '

function authenticate (request: FastifyRequest, ctx: AuthContext, mode: Mode | undefined): Authenticated | Promise<Authenticated> {
  const { config } = ctx
  const authorization = readAuthorization(request, config.jwt.maxTokenLength + 256)
  if (authorization === undefined) {
    if (mode !== 'jwt' && request.headers['signature-input'] !== undefined) return authenticateRfc9421(request, ctx, mode)
    throw new NoAuthorizationHeaderError()
  }
  if (authorization.startsWith(LINK_PREFIX) && mode !== 'signature') {
    return authenticateJwt(authorization, ctx, mode)
  }
  if (authorization.startsWith(SIGNATURE_PREFIX) && mode !== 'jwt' && config.signature.legacy) {
    return authenticateLegacy(request, authorization.slice(SIGNATURE_PREFIX.length), ctx, mode)
  }
  throw new UnknownAuthSchemaError(unknownSchemaHint(authorization, mode, config.signature.legacy))
}

/** Which setting would allow the call, when one would. */
function unknownSchemaHint (authorization: string, mode: Mode | undefined, legacy: boolean): string {
  if (authorization.startsWith(LINK_PREFIX)) return ': this route takes signed requests only (scope mode \'signature\')'
  if (!authorization.startsWith(SIGNATURE_PREFIX)) return ''
  if (mode === 'jwt') return ': this route takes JWTs only (scope mode \'jwt\')'
  return legacy ? '' : ': the original\'s Authorization: Signature scheme is off (plugin option signature.legacy)'
}

export function createScopeHook (ctx: AuthContext, refusals: RefusalLog, scopesArgument?: unknown, options?: unknown): preHandlerAsyncHookHandler {
  const scopes = validateScopes(scopesArgument)
  const { mode } = validateOptions<ScopeOptions>(scopeOptions, options)
  const jwtChallenge = `Link realm="${ctx.config.appName}"`
  const challenge = mode === 'signature' ? 'Signature' : jwtChallenge

  /**
   * Authenticates and authorizes; returns undefined when that is done (the warm path: no
   * promise at all), else a promise of it. `event` is null unless someone listens on the scope
   * channel. Throws (or rejects) with the refusal as it is; `refuse` answers it.
   */
  function grant (request: FastifyRequest, reply: FastifyReply, event: ScopeEvent | null): undefined | Promise<void> {
    const authenticated = authenticate(request, ctx, mode)
    if (authenticated instanceof Promise) return authenticated.then((done) => grantAuthenticated(request, reply, event, done))
    return grantAuthenticated(request, reply, event, authenticated)
  }

  function grantAuthenticated (request: FastifyRequest, reply: FastifyReply, event: ScopeEvent | null, { app, token }: Authenticated): undefined | Promise<void> {
    if (event !== null) {
      event.app = app.slug
      event.user = token.sub
    }
    const pending = authorize(ctx, app, token, scopes)
    if (pending !== undefined) return pending.then(() => { granted(request, reply, event, app, token) })
    granted(request, reply, event, app, token)
    return undefined
  }

  function granted (request: FastifyRequest, reply: FastifyReply, event: ScopeEvent | null, app: Authenticated['app'], token: Authenticated['token']): void {
    request.app = app.publicApp
    request.token = token
    bindCaller(request, reply, app.slug, token.sub)
    if (event !== null) finishScopeEvent(event, 'granted', 200)
  }

  /** Logs and answers a refusal (status, WWW-Authenticate); returns the error to throw. */
  function refuse (request: FastifyRequest, reply: FastifyReply, event: ScopeEvent | null, error: unknown): LinkedServicesError {
    const failure = isLinkedServicesError(error) ? error : unexpected(request, error)
    const app = event?.app ?? knownClaimedApp(request, ctx)
    refusals.report(request, app, failure.code, failure.statusCode)
    if (event !== null) {
      event.app = app
      finishScopeEvent(event, failure.code, failure.statusCode, (failure as { scopes?: readonly string[] }).scopes)
    }
    if (failure.statusCode === 401) {
      reply.header('www-authenticate', token401Scheme(request) === 'signature' ? 'Signature' : challenge)
    } else if (failure instanceof ForbiddenScopeError) {
      // RFC 6750 3.1: name the scopes the call lacks.
      const scheme = token401Scheme(request) === 'signature' ? 'Signature' : jwtChallenge
      const missing = (failure as unknown as { scopes: string[] }).scopes.join(' ')
      reply.header('www-authenticate', `${scheme}${scheme === 'Signature' ? ' ' : ', '}error="insufficient_scope", scope="${missing}"`)
    }
    return failure
  }

  /** The traced decision (someone listens on the scope channel). */
  async function decide (request: FastifyRequest, reply: FastifyReply, event: ScopeEvent): Promise<void> {
    try {
      const pending = grant(request, reply, event)
      if (pending !== undefined) await pending
    } catch (error) {
      throw refuse(request, reply, event, error)
    }
  }

  /** The decision as a promise: for a caller that awaits the hook itself. */
  function decideAsPromise (request: FastifyRequest, reply: FastifyReply): Promise<void> {
    // One check per call: with no subscriber, no event is built and nothing is published.
    if (scopeChannel.hasSubscribers) {
      const event = newScopeEvent(ctx, request, scopes, mode)
      return scopeChannel.tracePromise(decide, event, undefined, request, reply, event)
    }
    let pending: undefined | Promise<void>
    try {
      pending = grant(request, reply, null)
    } catch (error) {
      return Promise.reject(refuse(request, reply, null, error))
    }
    // Granted synchronously: one settled promise serves every such call.
    if (pending === undefined) return GRANTED
    return pending.catch((error: unknown) => { throw refuse(request, reply, null, error) })
  }

  /**
   * Fastify passes `done`: the hook answers through it, and a call granted at once goes on
   * without a promise for Fastify to wait on (the warm path's largest cost after the hook's own
   * work). Called with (request, reply) only, it returns the promise of the decision.
   */
  function linkedServicesScope (request: FastifyRequest, reply: FastifyReply, done?: (error?: Error) => void): Promise<void> | undefined {
    if (done === undefined) return decideAsPromise(request, reply)
    if (scopeChannel.hasSubscribers) {
      decideAsPromise(request, reply).then(() => { done() }, done)
      return undefined
    }
    let pending: undefined | Promise<void>
    try {
      pending = grant(request, reply, null)
    } catch (error) {
      done(refuse(request, reply, null, error))
      return undefined
    }
    if (pending === undefined) done()
    else pending.then(() => { done() }, (error: unknown) => { done(refuse(request, reply, null, error)) })
    return undefined
  }
  Object.defineProperty(linkedServicesScope, kScopeHook, { value: true })
  // Typed as Fastify's async preHandler (what a direct call with two arguments returns).
  return linkedServicesScope as preHandlerAsyncHookHandler
}

/** Which challenge fits: a request that tried a signature gets `Signature`. */
function token401Scheme (request: FastifyRequest): 'signature' | 'jwt' {
  const authorization = request.headers.authorization
  if (authorization === undefined) return request.headers['signature-input'] !== undefined ? 'signature' : 'jwt'
  return authorization.startsWith(SIGNATURE_PREFIX) ? 'signature' : 'jwt'
}

/**
 * A failure that is not one of ours is a bug or a hostile input we did not foresee: log it and
 * refuse (fail closed, 401), never answer 500 with internals.
 */
function unexpected (request: FastifyRequest, error: unknown): LinkedServicesError {
  request.log.error({ errorName: error instanceof Error ? error.name : typeof error }, 'fastify-linked-services: unexpected failure while authenticating')
  return new WrongAppTokenError('') as LinkedServicesError
}
