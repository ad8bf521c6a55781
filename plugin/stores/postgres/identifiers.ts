/**
 * SQL identifiers (schema and channel names) cannot be bound as parameters: they are checked
 * against a strict pattern once, at construction, and then quoted. Nothing else is ever
 * interpolated into SQL text; every value travels as a bound parameter.
 */

/** Lower-case letters, digits and `_`, starting with a letter or `_`, at most 63 bytes (NAMEDATALEN - 1). */
import { InvalidOptionError } from '../../errors.js'

export const IDENTIFIER = /^[a-z_][a-z0-9_]{0,62}$/

export function checkIdentifier (value: unknown, name: string): string {
  if (typeof value !== 'string' || !IDENTIFIER.test(value)) {
    throw new InvalidOptionError(`${name} must be a lower-case SQL identifier (a-z, 0-9, _; at most 63 characters), got ${JSON.stringify(value)}`)
  }
  return value
}

/** A checked identifier, double-quoted. */
export function quoteIdentifier (value: string): string {
  return `"${checkIdentifier(value, 'identifier')}"`
}
