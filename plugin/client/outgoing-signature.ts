/**
 * Signed-request mode of the client and of the remote user lookup: the complete headers of one
 * outgoing request, made by the package's `signRequest` (plugin/signature/sign.ts). With RFC 9421
 * the signature covers method, authority, path, query, the body digest, and every header the
 * caller passed (so a proxy cannot change them).
 */
import type { AppRecord } from '../../types/index.js'
import type { SigningKey } from '../keys/app-keys.js'
import { signRequest, signRequestWithKey, type SignWithKeyOptions } from '../signature/sign.js'

export type SignatureScheme = 'rfc9421' | 'legacy'

export interface OutgoingRequest {
  scheme: SignatureScheme
  appName: string
  method: string
  /** Absolute URL, query included. */
  url: string
  /** Lower-case names. */
  headers: Record<string, string | string[]>
  body: Buffer | null
}

/** The signature options of one outgoing request: every header the caller passed is covered (RFC 9421). */
function signOptions ({ scheme, appName, method, url, headers, body }: OutgoingRequest): SignWithKeyOptions {
  const components = scheme === 'rfc9421' ? Object.keys(headers).filter((name) => name !== 'accept-encoding') : undefined
  return { scheme, appName, method, url, headers, body: body ?? undefined, components }
}

/** The headers to send: the caller's plus the signature headers. */
export function signOutgoing (input: OutgoingRequest & { app: AppRecord }): Record<string, string> {
  return signRequest({ ...signOptions(input), app: input.app }).headers
}

/** The same from an already resolved key (the plugin's view of an app holds KeyObjects, not the record's strings). */
export function signOutgoingWithKey (input: OutgoingRequest & { key: SigningKey }): Record<string, string> {
  return signRequestWithKey(signOptions(input), input.key).headers
}
