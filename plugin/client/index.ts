/**
 * Outgoing calls: what plugin/index.ts re-exports (`export * from './client/index.js'`).
 */
export { createLinkedClient } from './client.js'
export type { AppCallOptions, LinkedAppClient, LinkedClient, LinkedClientOptions, LinkedResponse, RequestOptions, UndiciDispatcher } from './client.js'
export type { BodyOptions, Query, QueryValue } from './request-parts.js'
export type { SignatureScheme } from './outgoing-signature.js'
export { DEFAULT_ISSUER, JWT_LIFETIME_SECONDS, linkAuthorizationHeader, signJwt, signJwtWithKey } from './sign-jwt.js'
export type { SignJwtOptions, SignJwtWithKeyOptions } from './sign-jwt.js'
