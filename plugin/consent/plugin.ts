/**
 * The consent page: `GET|POST <prefix>/authorize/<app slug>`, where a signed-in user grants an
 * app its optional scopes. Register it after fastify-linked-services (it reads its store and
 * appName, and invalidates its cache after a change), under any prefix:
 *
 *   app.register(linkedServicesConsent, { prefix: '/account', loginUrl: '/login', getSessionUser })
 *
 * Encapsulated on purpose (no fastify-plugin): its form parser, error pages and security
 * headers stay on its own routes.
 */
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify'
import type { AgreementRecord } from '../../types/index.js'
import { callStore } from '../cache/call-store.js'
import { ConsentFormInvalidError, ConsentFormMalformedError } from '../errors.js'
import { agreementVersion, buildView, chosenScopes, consentApp, returnUrl, type ConsentApp } from './consent-view.js'
import { createFormTokens } from './form-token.js'
import { createCatalogues } from './messages.js'
import { resolveConsentConfig, type ConsentOptions } from './options.js'
import { consentPage, errorPage, notFoundPage } from './pages.js'
import { STYLESHEET } from './styles.js'

const FORM_BODY_LIMIT = 16 * 1024
const STORE_TIMEOUT_MS = 5000

interface Params { app: string }

/** The login URL with `url` = standard base64 of the page's path and query (the original's). */
export function loginRedirect (loginUrl: string, path: string): string {
  const absolute = /^[a-z][a-z0-9+.-]*:/i.test(loginUrl)
  const url = new URL(loginUrl, 'http://login.invalid')
  url.searchParams.set('url', Buffer.from(path, 'utf8').toString('base64'))
  return absolute ? url.href : url.pathname + url.search + url.hash
}

function contentSecurityPolicy (formTarget?: URL): string {
  // The form posts here, and the answer redirects to the app: form-action covers both.
  const formAction = formTarget === undefined ? "'self'" : `'self' ${formTarget.origin}`
  return `default-src 'none'; style-src 'self'; img-src 'self'; form-action ${formAction}; frame-ancestors 'none'; base-uri 'none'`
}

/**
 * Why a POST is known to come from another site, or null. Browsers say so in Sec-Fetch-Site
 * (`same-site` too: a sibling subdomain may be someone else's); older ones send an Origin, which
 * must name this host (request.host follows X-Forwarded-Host when Fastify's trustProxy is set).
 */
function foreignSite (request: FastifyRequest): string | null {
  const site = request.headers['sec-fetch-site']
  if (site !== undefined && site !== 'same-origin' && site !== 'none') return 'was sent from another site'
  const origin = request.headers.origin
  if (origin === undefined) return null
  try {
    // Read this host with the Origin's scheme, so that a default port compares equal to none.
    const from = new URL(origin)
    if (from.host === new URL(`${from.protocol}//${request.host}`).host) return null
  } catch {}
  return 'was sent from another origin'
}

function sameAgreement (agreement: AgreementRecord | null, scopes: readonly string[], version: number): boolean {
  if (agreement === null || agreementVersion(agreement) !== version || !Array.isArray(agreement.optionalScopes)) return false
  const held = [...new Set(agreement.optionalScopes)].sort()
  return held.length === scopes.length && held.every((slug, index) => slug === scopes[index])
}

async function consentPlugin (fastify: FastifyInstance, options: ConsentOptions): Promise<void> {
  const core = fastify.hasDecorator('linkedServices') ? fastify.linkedServices : undefined
  const config = resolveConsentConfig(options, { store: core?.store, appName: core?.appName, requireCurrentAgreement: core?.requireCurrentAgreement })
  const catalogues = createCatalogues(config.messages)
  const tokens = createFormTokens(config.secret, config.tokenTtlMs)
  const stylesheet = `${fastify.prefix}/consent.css`
  const store = config.store
  const language = (request: FastifyRequest): ReturnType<typeof catalogues.pick> => catalogues.pick(request.headers['accept-language'])

  // Our own form parser, also when the host has one (e.g. @fastify/formbody): replacing it in this
  // encapsulated context leaves the host's routes alone and bounds the body to what a form needs.
  if (fastify.hasContentTypeParser('application/x-www-form-urlencoded')) fastify.removeContentTypeParser('application/x-www-form-urlencoded')
  fastify.addContentTypeParser('application/x-www-form-urlencoded', { parseAs: 'string', bodyLimit: FORM_BODY_LIMIT },
    (_request, body, done) => { done(null, new URLSearchParams(body as string)) })

  fastify.addHook('onRequest', async (_request, reply) => {
    reply.header('cache-control', 'no-store')
    reply.header('content-security-policy', contentSecurityPolicy())
    reply.header('x-frame-options', 'DENY')
    reply.header('x-content-type-options', 'nosniff')
    // Not no-referrer: under it a browser sends `Origin: null` with the form, which is refused.
    reply.header('referrer-policy', 'same-origin')
  })

  // A browser gets a page in its language; an API client gets Fastify's JSON error (code, slug).
  fastify.setErrorHandler(async (error: Error & { statusCode?: number, code?: string }, request, reply) => {
    const statusCode = typeof error.statusCode === 'number' && error.statusCode >= 400 ? error.statusCode : 500
    if (statusCode >= 500) request.log.error({ err: error }, 'fastify-linked-services consent page failed')
    if (!(request.headers.accept ?? '').includes('text/html')) return await reply.send(error)
    const { lang, messages } = language(request)
    // Back to the form (a path of this site: never `//host`, which a browser reads as another site).
    const path = request.url.split('?')[0]
    const retryUrl = path.startsWith('/') && !path.startsWith('//') && statusCode < 500 ? path : null
    return await reply.code(statusCode).type('text/html; charset=utf-8').send(errorPage(messages, lang, stylesheet, statusCode, error.code, retryUrl))
  })

  fastify.get('/consent.css', async (_request, reply) => {
    return await reply.header('cache-control', 'public, max-age=3600').type('text/css; charset=utf-8').send(STYLESHEET)
  })

  /** Who and which app, or null when the reply (login redirect, not-found page) is already decided. */
  async function prepare (request: FastifyRequest<{ Params: Params }>, reply: FastifyReply): Promise<{ userId: string | number, app: ConsentApp } | null> {
    const userId = await config.getSessionUser(request)
    if (userId === null || userId === undefined || userId === '') {
      await reply.redirect(loginRedirect(config.loginUrl, request.url), 302)
      return null
    }
    // A host bug, not the user's: a 500 (logged), rather than every such user sharing one id.
    if (typeof userId !== 'string' && typeof userId !== 'number') throw new TypeError('getSessionUser must return the user\'s local id (a string or a number) or null')
    const slug = request.params.app
    const app = consentApp(await callStore(() => store.getApp(slug), STORE_TIMEOUT_MS))
    if (app === null) {
      const { lang, messages } = language(request)
      await reply.code(404).type('text/html; charset=utf-8').send(notFoundPage(messages, lang, stylesheet, config.homeUrl))
      return null
    }
    return { userId, app }
  }

  const routeOptions = { schema: { params: { type: 'object', properties: { app: { type: 'string', minLength: 1, maxLength: 100 } }, required: ['app'] } } }

  fastify.get<{ Params: Params }>('/authorize/:app', routeOptions, async (request, reply) => {
    const found = await prepare(request, reply)
    if (found === null) return reply
    const { userId, app } = found
    const agreement = await callStore(() => store.getAgreement(app.slug, String(userId)), STORE_TIMEOUT_MS)
    const view = buildView(app, agreement, config.requireCurrentAgreement, {
      token: tokens.issue(String(userId), app.slug),
      formAction: `${fastify.prefix}/authorize/${encodeURIComponent(app.slug)}`,
      rejectUrl: returnUrl(app, config.appName, 'rejected')
    })
    const { lang, messages } = language(request)
    return await reply
      .header('content-security-policy', contentSecurityPolicy(app.redirectUrl))
      .type('text/html; charset=utf-8')
      .send(consentPage(view, messages, lang, stylesheet))
  })

  fastify.post<{ Params: Params }>('/authorize/:app', routeOptions, async (request, reply) => {
    const found = await prepare(request, reply)
    if (found === null) return reply
    const { userId, app } = found
    const form = request.body
    if (!(form instanceof URLSearchParams)) throw new ConsentFormMalformedError(String(FORM_BODY_LIMIT))
    // A form from another site is refused before its token is read.
    const foreign = foreignSite(request)
    if (foreign !== null) throw new ConsentFormInvalidError(foreign)
    if (!tokens.verify(form.get('token'), String(userId), app.slug)) throw new ConsentFormInvalidError('has expired or was not issued to you for this app')
    const scopes = chosenScopes(app, form.getAll('scope'))

    const current = await callStore(() => store.getAgreement(app.slug, String(userId)), STORE_TIMEOUT_MS)
    // Accepting the same choice twice writes nothing the second time (and announces nothing).
    if (!sameAgreement(current, scopes, app.agreementVersion)) {
      await callStore(() => store.setAgreement({ app: app.slug, userId, optionalScopes: scopes, agreementVersion: app.agreementVersion }), STORE_TIMEOUT_MS)
    }
    // The store's change feed may be asynchronous (PostgreSQL NOTIFY): forget this app now, so the
    // next call on the user's behalf sees the agreement.
    core?.invalidate(app.slug)
    return await reply.redirect(returnUrl(app, config.appName, 'authorized'), 303)
  })
}

export const linkedServicesConsent = consentPlugin
export type { ConsentOptions } from './options.js'
export type { ConsentCatalogue, ConsentMessages } from './messages.js'
