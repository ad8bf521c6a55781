/**
 * The consent plugin's options, checked once at registration (a mistake is an
 * FST_LINKED_SERVICES_INVALID_OPTION naming the option, never a failure on the first request).
 */
import { randomBytes } from 'node:crypto'
import type { FastifyRequest } from 'fastify'
import type { AgreementRecord, LinkedServicesStore } from '../../types/index.js'
import { InvalidOptionError } from '../errors.js'
import { MESSAGE_NAMES, type ConsentCatalogue } from './messages.js'

export type SessionUserId = string | number | null | undefined

export interface ConsentOptions {
  /** The LOCAL id of the signed-in user, or null/undefined when nobody is signed in. */
  getSessionUser (request: FastifyRequest): SessionUserId | Promise<SessionUserId>
  /**
   * Where anonymous users are sent, absolute or a path; the page's path (with its query) is added
   * as `url`, standard base64, as the original does.
   */
  loginUrl: string
  /**
   * Key of the form tokens, at least 32 bytes (a string or a Buffer). Default: random per
   * process, so set it when several instances serve the page behind one address.
   */
  secret?: string | Buffer
  /** Seconds a rendered form can still be sent. Default 3600. */
  tokenTtl?: number
  /** Default: the store of fastify-linked-services registered on a parent instance. */
  store?: LinkedServicesStore
  /** This service's slug (the `app=` of the redirect). Default: the one of fastify-linked-services. */
  appName?: string
  /** The "Go back" link of the not-found page. Default `/`. */
  homeUrl?: string
  /** More languages, or changes to en/es, keyed by language tag (`fr`, `pt-BR`). */
  messages?: Record<string, ConsentCatalogue>
  /** Warn that an outdated agreement stops calls on the user's behalf. Default: the plugin's option. */
  requireCurrentAgreement?: boolean
}

export type WritableStore = LinkedServicesStore & { setAgreement (agreement: AgreementRecord): Promise<void> | void }

export interface ConsentConfig {
  getSessionUser: ConsentOptions['getSessionUser']
  loginUrl: string
  secret: Buffer
  tokenTtlMs: number
  store: WritableStore
  appName: string
  homeUrl: string
  messages: Record<string, ConsentCatalogue>
  requireCurrentAgreement: boolean
}

interface Defaults {
  store?: LinkedServicesStore
  appName?: string
  requireCurrentAgreement?: boolean
}

function invalid (detail: string): never {
  throw new InvalidOptionError(detail)
}

function checkCatalogue (tag: string, catalogue: ConsentCatalogue): void {
  for (const [name, text] of Object.entries(catalogue)) {
    if (!MESSAGE_NAMES.has(name)) invalid(`messages.${tag}.${name} is not a message (they are: ${[...MESSAGE_NAMES].join(', ')})`)
    if (name === 'scopes') {
      if (text === null || typeof text !== 'object' || Object.values(text).some((value) => typeof value !== 'string')) {
        invalid(`messages.${tag}.scopes must map scope slugs to descriptions (strings)`)
      }
    } else if (typeof text !== 'string') invalid(`messages.${tag}.${name} must be a string`)
  }
}

export function resolveConsentConfig (options: ConsentOptions, defaults: Defaults): ConsentConfig {
  if (options === null || typeof options !== 'object') invalid('the consent plugin needs options { getSessionUser, loginUrl }')
  if (typeof options.getSessionUser !== 'function') invalid('getSessionUser must be a function (request) => the signed-in user\'s local id or null')
  if (typeof options.loginUrl !== 'string' || options.loginUrl === '') invalid('loginUrl must be the URL (or path) of the login page')
  const store = options.store ?? defaults.store
  if (store === undefined) invalid('store: register fastify-linked-services first, or pass a store')
  if (typeof (store as Partial<WritableStore>).setAgreement !== 'function') {
    invalid('store: the consent page writes agreements, so the store needs a setAgreement(agreement) method (MemoryStore and PostgresStore have one)')
  }
  const appName = options.appName ?? defaults.appName
  if (typeof appName !== 'string' || appName === '') invalid('appName: register fastify-linked-services first, or pass appName')
  let secret: Buffer
  if (options.secret === undefined) secret = randomBytes(32)
  else if (typeof options.secret === 'string' || Buffer.isBuffer(options.secret)) secret = Buffer.from(options.secret)
  else invalid('secret must be a string or a Buffer')
  if (secret.length < 32) invalid('secret must be at least 32 bytes (e.g. openssl rand -hex 32)')
  const tokenTtl = options.tokenTtl ?? 3600
  if (typeof tokenTtl !== 'number' || !Number.isFinite(tokenTtl) || tokenTtl < 60 || tokenTtl > 86400) invalid('tokenTtl must be a number of seconds from 60 to 86400')
  const homeUrl = options.homeUrl ?? '/'
  if (typeof homeUrl !== 'string' || homeUrl === '') invalid('homeUrl must be a URL or a path')
  const messages = options.messages ?? {}
  if (messages === null || typeof messages !== 'object' || Array.isArray(messages)) invalid('messages must be an object of catalogues keyed by language tag')
  for (const [tag, catalogue] of Object.entries(messages)) {
    if (!/^[a-z]{2,3}(?:-[A-Za-z0-9]{2,8})*$/i.test(tag)) invalid(`messages: "${tag}" is not a language tag (e.g. "fr" or "pt-BR")`)
    if (catalogue === null || typeof catalogue !== 'object') invalid(`messages.${tag} must be an object of messages`)
    checkCatalogue(tag, catalogue)
  }
  const requireCurrentAgreement = options.requireCurrentAgreement ?? defaults.requireCurrentAgreement ?? false
  if (typeof requireCurrentAgreement !== 'boolean') invalid('requireCurrentAgreement must be a boolean')
  return {
    getSessionUser: options.getSessionUser,
    loginUrl: options.loginUrl,
    secret,
    tokenTtlMs: tokenTtl * 1000,
    store: store as WritableStore,
    appName,
    homeUrl,
    messages,
    requireCurrentAgreement
  }
}
