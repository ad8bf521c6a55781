/**
 * Signed-request mode of the client: the headers that authenticate one outgoing request, made
 * by the package's `signRequest` (plugin/signature/sign.ts).
 */
import type { AppRecord } from '../../types/index.js'
import { SigningError } from '../errors.js'
import type { SigningKey } from '../keys/app-keys.js'
import { signingKeyFor } from './sign-jwt.js'

export type SignatureScheme = 'rfc9421' | 'legacy'

export interface OutgoingRequest {
  scheme: SignatureScheme
  appName: string
  method: string
  url: string
  headers: Record<string, string | string[]>
  body: Buffer | null
}

/** Headers to add to the request (Signature-Input, Signature, Content-Digest, or Authorization). */
export function signOutgoingWithKey (_input: OutgoingRequest & { key: SigningKey }): Record<string, string> {
  throw new SigningError('signed requests are not available yet')
}

export function signOutgoing (input: OutgoingRequest & { app: AppRecord }): Record<string, string> {
  const { app, ...rest } = input
  return signOutgoingWithKey({ ...rest, key: signingKeyFor(app) })
}
