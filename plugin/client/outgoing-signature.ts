/**
 * Signed-request mode of the client and of the remote user lookup: the complete headers of one
 * outgoing request, made by the package's `signRequest` (plugin/signature/sign.ts). With RFC 9421
 * the signature covers method, authority, path, query, the body digest, and every header the
 * caller passed (so a proxy cannot change them).
 */
import type { AppRecord } from '../../types/index.js'
import type { SigningKey } from '../keys/app-keys.js'
import { signRequest } from '../signature/sign.js'

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

/** The headers to send: the caller's plus the signature headers. */
export function signOutgoing (input: OutgoingRequest & { app: AppRecord }): Record<string, string> {
  const { scheme, appName, app, method, url, headers, body } = input
  const components = scheme === 'rfc9421' ? Object.keys(headers).filter((name) => name !== 'accept-encoding') : undefined
  return signRequest({ scheme, appName, app, method, url, headers, body: body ?? undefined, components }).headers
}

/**
 * The same from an already resolved key (the plugin's view of an app holds KeyObjects, not the
 * record's strings). Used on a rare path (first sight of a remote user): the key is exported back
 * to a record that signRequest parses.
 */
export function signOutgoingWithKey (input: OutgoingRequest & { key: SigningKey, slug: string }): Record<string, string> {
  const { key, slug, ...rest } = input
  const privateKey = key.algorithm === 'ED25519'
    ? key.key.export({ format: 'pem', type: 'pkcs8' }).toString()
    : key.key.export().toString('hex')
  const app: AppRecord = { slug, algorithm: key.algorithm, privateKey }
  if (key.kid !== null) app.kid = key.kid
  return signOutgoing({ ...rest, app })
}
