/**
 * Reading the Authorization header: exactly one of it (Node keeps only the first of duplicates,
 * so the raw header list is checked), a size cap, and the original's `Key=Value,Key=Value`
 * parameter list parsed strictly: no `=` or `,` inside values, no duplicate
 * keys, exactly the expected key set. Optional white space around parameters is allowed.
 */
import type { FastifyRequest } from 'fastify'
import {
  AuthorizationHeaderBadSchemaError, AuthorizationHeaderMalformedError, DuplicateAuthorizationHeaderError, HeaderTooLargeError
} from '../errors.js'

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
  let commas = 0
  for (let at = text.indexOf(','); at !== -1; at = text.indexOf(',', at + 1)) commas++
  if (commas + 1 !== keys.length) {
    throw text.split(',').every((piece) => piece.includes('=')) ? new AuthorizationHeaderBadSchemaError() : new AuthorizationHeaderMalformedError('')
  }
  // Walk the pieces by index (no split: this runs on every request).
  const values: Array<string | undefined> = new Array(keys.length)
  let start = 0
  for (let n = 0; n < keys.length; n++) {
    const end = n === keys.length - 1 ? text.length : text.indexOf(',', start)
    const at = text.indexOf('=', start)
    if (at === -1 || at >= end) throw new AuthorizationHeaderMalformedError('')
    const second = text.indexOf('=', at + 1)
    if (second !== -1 && second < end) throw new AuthorizationHeaderMalformedError('')
    const key = text.slice(start, at).trim()
    const index = keys.indexOf(key)
    if (index === -1) throw new AuthorizationHeaderBadSchemaError()
    if (values[index] !== undefined) throw new AuthorizationHeaderMalformedError(': duplicate parameter')
    values[index] = text.slice(at + 1, end).trim()
    start = end + 1
  }
  return values as string[]
}
