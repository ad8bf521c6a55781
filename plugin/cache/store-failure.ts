/**
 * Names the class of a store failure for the log line (never for a response): connection
 * refused, authentication, missing schema, timeout. Read from error codes only (Node's and
 * PostgreSQL's SQLSTATE), never from a message, which may hold a connection string.
 */

export type StoreFailure = 'connection-refused' | 'authentication' | 'missing-schema' | 'timeout' | 'store-closed' | 'other'

const BY_CODE: Record<string, StoreFailure> = {
  ECONNREFUSED: 'connection-refused',
  ECONNRESET: 'connection-refused',
  ENOTFOUND: 'connection-refused',
  EHOSTUNREACH: 'connection-refused',
  EAI_AGAIN: 'connection-refused',
  ETIMEDOUT: 'timeout',
  // PostgreSQL: invalid_password, invalid_authorization_specification.
  '28P01': 'authentication',
  28000: 'authentication',
  // PostgreSQL: invalid_schema_name, undefined_table.
  '3F000': 'missing-schema',
  '42P01': 'missing-schema',
  FST_LINKED_SERVICES_STORE_NOT_MIGRATED: 'missing-schema',
  FST_LINKED_SERVICES_STORE_CLOSED: 'store-closed'
}

/** What the log says next to the class. */
export const FAILURE_HINT: Record<StoreFailure, string> = {
  'connection-refused': 'the store could not be reached',
  authentication: 'the store refused the credentials',
  'missing-schema': 'the schema was never migrated: run `npx linked-services migrate`',
  timeout: 'the store did not answer in time (storeTimeout)',
  'store-closed': 'the store was closed',
  other: 'the store failed'
}

export function classifyStoreFailure (error: unknown): StoreFailure {
  const code = (error as { code?: unknown } | null)?.code
  if (typeof code === 'string' && BY_CODE[code] !== undefined) return BY_CODE[code]
  // Node reports a failed connection to every address of a host as an AggregateError.
  const inner = (error as { errors?: unknown } | null)?.errors
  if (Array.isArray(inner) && inner.length > 0) return classifyStoreFailure(inner[0])
  return 'other'
}
