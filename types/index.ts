/**
 * Public type contracts of fastify-linked-services: the records a store holds, the store and
 * nonce-store interfaces, the plugin options, and what the plugin adds to Fastify's request and
 * instance types.
 */

import type { preHandlerAsyncHookHandler } from 'fastify'

export type Algorithm = 'HMAC_SHA256' | 'HMAC_SHA512' | 'ED25519'
export type Strategy = 'JWT' | 'SIGNATURE'
export type Schema = 'LINK'
export type Mode = 'jwt' | 'signature'

/**
 * A previous key of an app: it still verifies until `expiresAt`, then it is ignored. Keys come in
 * the encodings listed for {@link AppRecord.privateKey}.
 */
export interface PreviousKey {
  /** Key id: a JWT `kid` or an RFC 9421 `keyid` of the form `<slug>#<kid>` selects this key. */
  kid?: string
  /** Defaults to the app's algorithm. */
  algorithm?: Algorithm
  privateKey?: string | null
  publicKey?: string | null
  /** When the key stops verifying: a Date, epoch milliseconds, or an ISO-8601 string. */
  expiresAt: Date | number | string
}

/** The original's LegacyKey row (one previous key), in camelCase. */
export interface LegacyKeyRecord {
  algorithm?: Algorithm
  privateKey?: string | null
  publicKey?: string | null
  /** Default: 2 minutes after `createdAt` (the original's LEGACY_KEY_LIFETIME). */
  expiresAt?: Date | number | string
  createdAt?: Date | number | string
}

/** One linked app (a peer service): the original's App row in camelCase. */
export interface AppRecord {
  slug: string
  name?: string
  description?: string
  algorithm: Algorithm
  /** Default `'JWT'`. */
  strategy?: Strategy
  /** Default `'LINK'`. */
  schema?: Schema
  /**
   * The shared secret (HMAC: hex of the secret bytes, as the original stores it) or this
   * service's own signing key for Ed25519 (hex of PEM text, PEM, or a raw 32-byte seed / 64-byte
   * secret key as hex or base64).
   */
  privateKey?: string | null
  /** Ed25519 only: the peer's public key (hex of PEM text, PEM, or raw 32 bytes as hex/base64). */
  publicKey?: string | null
  /** Key id of the current key (sent as JWT `kid`; optional). */
  kid?: string
  /** Previous keys, each verifying until it expires. */
  previousKeys?: PreviousKey[]
  /** The original's single legacy key. */
  legacyKey?: LegacyKeyRecord | null
  /** Default `true`. */
  requireAnAgreement?: boolean
  requiredScopes?: string[]
  optionalScopes?: string[]
  /** Default 1. */
  agreementVersion?: number
  appUrl?: string | null
  /** Default `/v1/auth/app/user/`. */
  usersPath?: string
  webhookUrl?: string | null
  redirectUrl?: string | null
}

/** A user's agreement with an app: the optional scopes the user granted it. */
export interface AgreementRecord {
  app: string
  /** The LOCAL user id. */
  userId: string | number
  optionalScopes: string[]
  /** Default 1. */
  agreementVersion?: number
}

/** A local user. `credentials` maps a linked app's slug to this user's id in that app. */
export interface UserRecord {
  id: string | number
  credentials?: Record<string, string | number>
  [field: string]: unknown
}

/** What the remote users endpoint of a caller returns (the original's create_user input). */
export interface RemoteUserProfile {
  id: string | number
  username: string
  email: string
  first_name?: string
  last_name?: string
  [field: string]: unknown
}

/** An event a store emits when data that the plugin caches has changed. */
export interface StoreChange {
  /** `'app'`: an app's keys, scopes or settings changed (or it was removed). */
  type: 'app' | 'agreement' | 'user'
  /** The app concerned. */
  app: string
}

/**
 * The store seam. Every method is async. Returning `null` means "not there" (a normal answer that
 * the plugin turns into a 401/403); throwing or rejecting means "the store could not answer",
 * which the plugin turns into 503 `store-unavailable` (fail closed).
 */
export interface LinkedServicesStore {
  /** The app with this slug, or `null` when there is none. */
  getApp (slug: string): Promise<AppRecord | null>
  /** The agreement of the LOCAL user `userId` with app `appSlug`, or `null`. */
  getAgreement (appSlug: string, userId: string): Promise<AgreementRecord | null>
  /** The local user whose `credentials[appSlug]` equals `externalId` (compared as strings), or `null`. */
  findUserByCredential (appSlug: string, externalId: string): Promise<UserRecord | null>
  /**
   * Optional: the local users whose email is `email`, compared without case and without the
   * spaces around it, with their credentials, in `admin.listUsers()` order. The built-in
   * `user.created` / `user.updated` webhook import uses it; on a store without it, the import
   * reads every user (`admin.listUsers()`) to find them.
   */
  findUsersByEmail? (email: string): Promise<UserRecord[]>
  /**
   * Optional: create (or find by username/email) a local user from a peer's profile and link it
   * to `credentials[appSlug] = profile.id`. Needed only for remote user resolution.
   */
  linkRemoteUser? (appSlug: string, profile: RemoteUserProfile): Promise<UserRecord>
  /**
   * Optional: record (or replace) the agreement of `agreement.userId` with `agreement.app`, and
   * announce it to subscribers. Needed only by the consent page.
   */
  setAgreement? (agreement: AgreementRecord): Promise<void> | void
  /** Optional: subscribe to changes (cross-instance invalidation). Returns an unsubscribe function. */
  subscribe? (listener: (change: StoreChange) => void): (() => void) | Promise<() => void>
  /**
   * Optional: checked when Fastify is ready; rejects when the store can never serve as it is
   * (PostgresStore: its schema was never migrated). A store that is only unreachable resolves.
   */
  ready? (): Promise<void>
  /** Optional: release the connections the store opened itself; called when Fastify closes. */
  close? (): Promise<void>
}

/** A scope in the store's catalogue: what the consent page and `scopes list` show. */
export interface ScopeRecord {
  slug: string
  name?: string | null
  description?: string
}

/** A key of an app as admin reads show it: which key, never the key itself. */
export interface KeySummary {
  kid: string | null
  algorithm: Algorithm
  /** `null` for the current key; a previous key verifies until then. */
  expiresAt: Date | null
}

/** An app as admin reads return it: every setting, and which keys it has, without key material. */
export interface AppSummary extends Omit<AppRecord, 'privateKey' | 'publicKey' | 'previousKeys' | 'legacyKey' | 'kid' | 'name'> {
  name: string | null
  strategy: Strategy
  schema: Schema
  requireAnAgreement: boolean
  requiredScopes: string[]
  optionalScopes: string[]
  agreementVersion: number
  /** The current key first, then the previous keys still verifying. */
  keys: KeySummary[]
}

/** The key that replaces an app's current one. */
export interface NextKey {
  privateKey?: string | null
  publicKey?: string | null
  kid?: string
}

export interface RotateKeyOptions {
  /** Milliseconds the old key keeps verifying. Default 120000 (the original's legacy key lifetime); 0 stops it now. */
  gracePeriod?: number
}

export type ScopeKind = 'required' | 'optional'

/**
 * Administration of the links, the same on every store (`store.admin`). Each write is atomic and
 * announced on the change feed; a refusal throws a coded error (RECORD_NOT_FOUND for an unknown
 * app, scope or user, RECORD_EXISTS for a taken slug, INVALID_RECORD for a bad slug or key,
 * SCOPE_NOT_OFFERED, SCOPE_IN_USE). Reads never return key material unless `withSecrets` is set.
 */
export interface LinkedServicesAdmin {
  createApp (app: AppRecord): Promise<AppSummary>
  getApp (slug: string): Promise<AppSummary>
  getApp (slug: string, options: { withSecrets: true }): Promise<AppRecord>
  listApps (): Promise<AppSummary[]>
  /** Changes settings, scopes or keys; the slug stays. */
  updateApp (slug: string, changes: Partial<Omit<AppRecord, 'slug'>>): Promise<AppSummary>
  /** Removes the app with its keys, scope links and agreements: every instance refuses it from then on. */
  removeApp (slug: string): Promise<void>
  /** The new key becomes current; the old one verifies for `gracePeriod` more milliseconds. */
  rotateKey (slug: string, next: NextKey, options?: RotateKeyOptions): Promise<AppSummary>
  /** Previous keys stop verifying now (ends a grace period early); the current key stays. */
  revokePreviousKeys (slug: string): Promise<AppSummary>

  createScope (scope: ScopeRecord): Promise<ScopeRecord>
  listScopes (): Promise<ScopeRecord[]>
  /** Refused (SCOPE_IN_USE) while an app requires or offers it. */
  removeScope (slug: string): Promise<void>
  /** Attaches a catalogued scope to an app as required or optional (moving it if it was the other). */
  attachScope (app: string, scope: string, kind: ScopeKind): Promise<AppSummary>
  detachScope (app: string, scope: string): Promise<AppSummary>

  listAgreements (app?: string): Promise<AgreementRecord[]>
  /** Records that the local user granted the app these of its optional scopes. */
  grantAgreement (app: string, userId: string | number, optionalScopes?: string[]): Promise<AgreementRecord>
  revokeAgreement (app: string, userId: string | number): Promise<void>

  /** Adds or replaces a local user (its `credentials`, when given, replace its links). */
  addUser (user: UserRecord): Promise<UserRecord>
  /** Links a local user to its id in an app (the original's FirstPartyCredentials). */
  linkUser (userId: string | number, app: string, externalId: string | number): Promise<UserRecord>
  unlinkUser (userId: string | number, app: string): Promise<UserRecord>
  /** Local users, with their credentials; with `app`, only those linked to it. */
  listUsers (app?: string): Promise<UserRecord[]>
}

/**
 * Remembers nonces for replay protection. `remember` must be atomic: of concurrent calls with the
 * same nonce exactly one resolves `true`. Throwing means "cannot tell" and the request is refused.
 */
export interface NonceStore {
  /**
   * `true` when the nonce was new and is now remembered for `ttlMs`; `false` when seen before.
   * `partition` is the calling app's slug (the nonce key already holds it): a bounded store may
   * use it so that one app's traffic cannot crowd out another's.
   */
  remember (nonce: string, ttlMs: number, partition?: string): Promise<boolean>
  /**
   * Optional: the same answer without a promise, for a store that never waits (the in-memory
   * one). When present the plugin calls it instead of `remember`, with no timeout.
   */
  rememberSync? (nonce: string, ttlMs: number, partition?: string): boolean
  close? (): Promise<void>
}

/** The calling app as routes see it: settings only, never key material. */
export interface LinkedApp {
  slug: string
  name: string | null
  algorithm: Algorithm
  strategy: Strategy
  schema: Schema
  requireAnAgreement: boolean
  requiredScopes: readonly string[]
  optionalScopes: readonly string[]
  agreementVersion: number
  appUrl: string | null
  usersPath: string
  webhookUrl: string | null
  redirectUrl: string | null
}

/** Users may add claims they expect by merging into this interface. */
export interface LinkedTokenClaims {}

/** The verified JWT of a `Link` call: its claims, with `sub` normalised to a string or null. */
export type LinkedJwtToken = LinkedTokenClaims & {
  mode: 'jwt'
  sub: string | null
  app: string
  aud: string | string[]
  exp: number
  iat?: number
  iss?: string
  typ?: string
  [claim: string]: unknown
}

/** What a verified signed request carries. */
export interface LinkedSignatureToken {
  mode: 'signature'
  /** The scheme: RFC 9421 or the original's legacy `Authorization: Signature`. */
  scheme: 'rfc9421' | 'legacy'
  sub: null
  app: string
  /** Creation time, epoch seconds. */
  created: number
  nonce: string
  /** Covered components (RFC 9421) or signed header names (legacy). */
  components: readonly string[]
}

export type LinkedToken = LinkedJwtToken | LinkedSignatureToken

/** Users may type their user records by merging into this interface (`user: MyUser`). */
export interface LinkedUserTypes {}

export type LinkedUser = LinkedUserTypes extends { user: infer U } ? U : UserRecord

export interface ScopeOptions {
  /** Accept only this scheme; omitted: the scheme that matches the calling app's strategy. */
  mode?: Mode
}

/**
 * Units: durations under `jwt` and `signature` are seconds; every other duration is milliseconds.
 * Bounds are named `max` + what they count.
 */
export interface LinkedServicesOptions {
  /** This service's own slug: the JWT `aud` it accepts and the `App=` it sends. */
  appName: string
  /** Default: an empty MemoryStore. */
  store?: LinkedServicesStore
  jwt?: {
    /** Seconds of clock skew allowed on `exp`, `nbf` and `iat`. Default 5, at most 300. */
    clockTolerance?: number
    /** How many verified tokens to remember. Default 10000; 0 turns the cache off. */
    maxCachedTokens?: number
    /** @deprecated the old name of `maxCachedTokens` (until 1.0). */
    cacheSize?: number
    /** Longest accepted token, in characters. Default 8192. */
    maxTokenLength?: number
  }
  signature?: {
    /** Maximum age of a signed request, in seconds: how long it stays valid after `created`. Default 120. */
    tolerance?: number
    /** Seconds a signature's `created` (or legacy `Date`) may lie in the future, and `expires` be past. Default 5. */
    clockTolerance?: number
    /** @deprecated the old name of `clockTolerance` (until 1.0). */
    clockSkew?: number
    /** Default: an in-memory store bounded to `maxNonces`. */
    nonceStore?: NonceStore
    /** Bound of the default in-memory nonce store. Default 100000. */
    maxNonces?: number
    /** Accept the original's `Authorization: Signature App=..` scheme. Default false. */
    legacy?: boolean
    /** Cap on `Signature-Input` and `Signature` header sizes, in bytes. Default 4096. */
    maxHeaderLength?: number
  }
  /** Milliseconds a store call may take before it fails closed. Default 2000. */
  storeTimeout?: number
  cache?: {
    /** Apps remembered. Default 10000 (size it to the number of apps that call); 0 turns the cache off. */
    maxApps?: number
    /** @deprecated the old name of `maxApps` (until 1.0). */
    max?: number
    /** Milliseconds an app stays cached. Default 60000. */
    ttl?: number
    /** Milliseconds an unknown app is remembered as unknown. Default 1000. */
    negativeTtl?: number
  }
  /** Treat an agreement older than the app's `agreementVersion` as missing. Default false. */
  requireCurrentAgreement?: boolean
  /**
   * `request.getUser()` fetches an unknown user from the caller's users endpoint and links it
   * (the original's create_user). Default false.
   */
  resolveRemoteUsers?: boolean
}

/** What the plugin exposes on the Fastify instance besides `scope()`. */
export interface LinkedServicesDecorator {
  readonly appName: string
  readonly store: LinkedServicesStore
  readonly nonceStore: NonceStore
  /** The `requireCurrentAgreement` option in effect. */
  readonly requireCurrentAgreement: boolean
  /** Forget what is cached about an app (keys, scopes, users, agreements, verified tokens). */
  invalidate (slug: string): void
  /** Forget everything cached. */
  clear (): void
}

declare module 'fastify' {
  interface FastifyInstance {
    /** A preHandler that authenticates the calling app and checks that it holds every scope. */
    scope (scopes?: string[], options?: ScopeOptions): preHandlerAsyncHookHandler
    linkedServices: LinkedServicesDecorator
  }
  interface FastifyRequest {
    /**
     * The calling app (no key material). Typed for use on scoped routes, as `request.user` of
     * @fastify/jwt: at run time it is `null` until a scope hook has passed (on a route without
     * `scope()`, and in hooks that run before it).
     */
    app: LinkedApp
    /**
     * The verified token or signed-request description. Typed for use on scoped routes: at run
     * time it is `null` until a scope hook has passed.
     */
    token: LinkedToken
    /** The local user behind `token.sub`, or null. */
    getUser (): Promise<LinkedUser | null>
  }
}
