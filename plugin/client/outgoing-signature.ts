/**
 * Signed-request mode of the client: the headers that authenticate one outgoing request, made
 * by the package's `signRequest` (plugin/signature/sign.ts).
 */
import type { AppRecord } from '../../types/index.js'
import { SigningError } from '../errors.js'

export type SignatureScheme = 'rfc9421' | 'legacy'

export interface OutgoingSignatureInput {
  scheme: SignatureScheme
  appName: string
  app: AppRecord
  method: string
  url: string
  headers: Record<string, string | string[]>
  body: Buffer | null
}

/** Headers to add to the request (Signature-Input, Signature, Content-Digest, or Authorization). */
export function signOutgoing (_input: OutgoingSignatureInput): Record<string, string> {
  throw new SigningError('signed requests are not available yet')
}
