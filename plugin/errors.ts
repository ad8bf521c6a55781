/**
 * Every error the plugin raises, as @fastify/error constructors. The response `code` is
 * `FST_LINKED_SERVICES_` + the original's slug in upper case; `.slug` keeps the original's slug so
 * that Python-side callers keep matching on it. Messages never carry key material, token text or
 * what a store said.
 */
import createError from '@fastify/error'

export const CODE_PREFIX = 'FST_LINKED_SERVICES_'

export interface LinkedServicesError extends Error {
  code: string
  statusCode: number
  slug: string
}

type Constructor = (new (detail?: string) => LinkedServicesError) & { slug: string }

const constructors: Record<string, Constructor> = {}

function define (slug: string, statusCode: number, message: string): Constructor {
  const code = CODE_PREFIX + slug.toUpperCase().replace(/-/g, '_')
  const Base = createError(code, message, statusCode)
  // The slug lives on the prototype: every instance carries `.slug` at no per-error cost.
  Object.defineProperty(Base.prototype, 'slug', { value: slug, enumerable: false })
  const ctor = Base as unknown as Constructor
  ctor.slug = slug
  constructors[slug] = ctor
  return ctor
}

// Authentication (401): the caller could not be authenticated.
export const NoAuthorizationHeaderError = define('no-authorization-header', 401, 'Unauthorized: no Authorization header')
export const UnknownAuthSchemaError = define('unknown-auth-schema', 401, 'Unknown auth schema or this schema is forbidden%s')
export const AuthorizationHeaderMalformedError = define('authorization-header-malformed', 401, 'Unauthorized: malformed credentials header%s')
export const AuthorizationHeaderBadSchemaError = define('authorization-header-bad-schema', 401, 'Unauthorized: the Authorization header has the wrong parameters')
export const AppNotFoundError = define('app-not-found', 401, 'Unauthorized: unknown app')
export const AlgorithmNotImplementedError = define('algorithm-not-implemented', 401, 'Algorithm not implemented')
export const ForbiddenSchemaError = define('authorization-header-forbidden-schema', 401, 'Unauthorized: this app does not use the LINK schema')
export const ForbiddenStrategyError = define('authorization-header-forbidden-strategy', 401, 'Unauthorized: this scheme is not allowed for this app%s')
export const WrongAppTokenError = define('wrong-app-token', 401, 'Unauthorized: invalid credentials%s')
export const ExpiredError = define('expired', 401, 'Expired token')
export const BadTimestampError = define('bad-timestamp', 401, 'Unauthorized: the request time is missing or outside the allowed window')
export const ReplayedRequestError = define('replayed-request', 401, 'Unauthorized: this request was already received')
export const InvalidAppKeyError = define('invalid-app-key', 401, 'Unauthorized: the key configured for this app is unusable')
export const SignatureMissingComponentError = define('signature-missing-component', 401, 'Unauthorized: the signature does not cover %s')
export const ContentDigestMismatchError = define('content-digest-mismatch', 401, 'Unauthorized: the Content-Digest does not match the body')

// Malformed requests (4xx, not authentication verdicts).
export const DuplicateAuthorizationHeaderError = define('authorization-header-duplicated', 400, 'Bad request: more than one %s header')
export const HeaderTooLargeError = define('authorization-header-too-large', 431, 'The %s header is too large')
export const RequestTargetRefusedError = define('request-target-refused', 400, 'Bad request: the request target is not accepted%s')

// Authorization (403): authenticated, but not allowed.
export const ForbiddenScopeError = define('forbidden-scope', 403, 'Forbidden: this route needs the scope(s) %s, not granted to this app')
export const AgreementNotAcceptedError = define('agreement-not-accepted', 403, 'User has not accepted the agreement')

// Our side failed (5xx): fail closed.
export const StoreUnavailableError = define('store-unavailable', 503, 'Service unavailable: the app store did not answer')
export const NonceStoreUnavailableError = define('nonce-store-unavailable', 503, 'Service unavailable: replay protection is not available')

// Remote user resolution.
export const MissingRequiredFieldsError = define('missing-required-fields', 400, '%s')
export const RemoteUserUnavailableError = define('remote-user-unavailable', 502, 'Bad gateway: the calling app did not answer the user lookup')

// Programming errors: raised at registration or route definition, never per request.
export const InvalidOptionError = define('invalid-option', 500, 'Invalid option: %s')
export const InvalidScopeError = define('invalid-scope', 500, 'Invalid scope: %s')
export const MissingPeerDependencyError = define('missing-peer-dependency', 500, 'A package is missing: %s')
export const InvalidHookError = define('invalid-hook', 500, 'Invalid hook: %s')
export const InvalidArgumentError = define('invalid-argument', 500, 'Invalid argument: %s')

// Store administration (records given to a store's constructor or admin methods).
export const InvalidRecordError = define('invalid-record', 400, 'Invalid record: %s')
export const RecordNotFoundError = define('record-not-found', 404, 'Record not found: %s')
export const RecordExistsError = define('record-exists', 409, 'Record already exists: %s')
export const StoreClosedError = define('store-closed', 503, 'The store is closed: %s')
export const StoreNotMigratedError = define('store-not-migrated', 503,
  'PostgresStore: the schema %s holds no tables of this package; run `npx linked-services migrate` (DATABASE_URL) or store.migrate()')

// Outgoing calls (client, signers, CLI).
export const ClientAppNotFoundError = define('client-app-not-found', 404, 'App %s not found')
export const ClientRequestFailedError = define('request-failed', 502, 'Request to %s failed')
export const ClientUnexpectedStatusError = define('unexpected-status', 502, '%s')
export const SigningError = define('signing-failed', 500, 'Cannot sign: %s')

// Link administration (store.admin, the CLI).
export const ScopeNotOfferedError = define('scope-not-offered', 400, 'Scope not offered: %s')
export const ScopeInUseError = define('scope-in-use', 409, 'Scope in use: %s')

/** Look a constructor up by the original's slug (for tests and host error handlers). */
export function errorForSlug (slug: string): Constructor | undefined {
  return Object.hasOwn(constructors, slug) ? constructors[slug] : undefined
}

export function isLinkedServicesError (error: unknown): error is LinkedServicesError {
  const code = error instanceof Error ? (error as { code?: unknown }).code : undefined
  return typeof code === 'string' && code.startsWith(CODE_PREFIX)
}

// The consent page (fastify-linked-services' consent plugin); it also uses ScopeNotOfferedError.
export const ConsentFormInvalidError = define('consent-form-invalid', 403, 'Forbidden: the consent form %s; reload the page and send it again')
export const ConsentFormMalformedError = define('consent-form-malformed', 400, 'Bad request: the consent form is not a urlencoded form of at most %s bytes')

// Webhooks, the receiving half (receive/, the webhooks plugin): refused requests, a log that
// cannot be written, and a handler's final refusal of an event.
export const ReceivedWebhookInvalidError = define('received-webhook-invalid', 400, 'Bad request: %s; nothing of this request was stored, fix the event and send the request again')
export const ReceivedWebhookTooLargeError = define('received-webhook-too-large', 413, 'Payload too large: %s; nothing was stored, send the events in smaller requests')
export const ReceivedWebhookUnavailableError = define('received-webhook-unavailable', 503, 'Service unavailable: the webhook log could not store the events (nothing was stored); send them again later')
export const WebhookUnprocessableError = define('webhook-unprocessable', 422, 'The webhook cannot be processed: %s')

// Webhooks, the sending half (send/): refused events and an outbox that cannot be written.
export const WebhookAppUnknownError = define('webhook-app-unknown', 404, 'Cannot send a webhook: %s')
export const WebhookUrlMissingError = define('webhook-url-missing', 409, 'Cannot send a webhook: %s')
export const WebhookEventInvalidError = define('webhook-event-invalid', 400, 'Invalid webhook event: %s')
export const WebhookOutboxUnavailableError = define('webhook-outbox-unavailable', 503,
  'Service unavailable: the webhook outbox could not be written (%s); nothing will be sent, call send again')
