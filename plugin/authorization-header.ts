/**
 * Reading the Authorization header: exactly one of it (Node keeps only the first of duplicates,
 * so the raw header list is checked), a size cap, and the original's `Key=Value,Key=Value`
 * parameter list (UPSTREAM.md 1.2) parsed strictly: no `=` or `,` inside values, no duplicate
 * keys, exactly the expected key set. Optional white space around parameters is allowed.
 */
import type { FastifyRequest } from 'fastify'
import {
  AuthorizationHeaderBadSchemaError, AuthorizationHeaderMalformedError, DuplicateAuthorizationHeaderError, HeaderTooLargeError
} from './errors.js'

/** Throws when the request carries the header more than once. */
export function assertSingleHeader (request: FastifyRequest, lowerCaseName: string): void {
  const raw = request.raw.rawHeaders
  let seen = false
  for (let i = 0; i < raw.length; i += 2) {
    const name = raw[i]
    if (name.length === lowerCaseName.length && name.toLowerCase() === lowerCaseName) {
      if (seen) throw new DuplicateAuthorizationHeaderError(lowerCaseName)
      seen = true
    }
  }
}

/** The Authorization header value, or undefined when absent or empty. */
export function readAuthorization (request: FastifyRequest, maxLength: number): string | undefined {
  const value = request.headers.authorization
  if (value === undefined || value === '') return undefined
  if (value.length > maxLength) throw new HeaderTooLargeError('Authorization')
  assertSingleHeader(request, 'authorization')
  return value
}

/**
 * Parses `K1=v1,K2=v2` into the values of exactly `keys` (in that order). Keys are
 * case-sensitive, as in the original.
 */
export function parseParams (text: string, keys: readonly string[]): string[] {
  const values: Array<string | undefined> = new Array(keys.length)
  const pieces = text.split(',')
  if (pieces.length !== keys.length) {
    throw pieces.every((piece) => piece.includes('=')) ? new AuthorizationHeaderBadSchemaError() : new AuthorizationHeaderMalformedError('')
  }
  for (const piece of pieces) {
    const at = piece.indexOf('=')
    if (at === -1 || piece.indexOf('=', at + 1) !== -1) throw new AuthorizationHeaderMalformedError('')
    const key = piece.slice(0, at).trim()
    const index = keys.indexOf(key)
    if (index === -1) throw new AuthorizationHeaderBadSchemaError()
    if (values[index] !== undefined) throw new AuthorizationHeaderMalformedError(': duplicate parameter')
    values[index] = piece.slice(at + 1).trim()
  }
  return values as string[]
}
