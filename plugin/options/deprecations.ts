/**
 * Options renamed before 1.0 (one vocabulary): each old name keeps working until 1.0, with a
 * DeprecationWarning through process-warning, one code per rename, emitted once per process.
 */
import type { Rename } from './schema-types.js'

interface WarningItem { (): void, emitted: boolean, code: string }

function deprecation (code: string, owner: string, from: string, to: string): Rename {
  let warning: WarningItem | undefined
  const message = `fastify-linked-services: ${owner} option ${from} is deprecated, use ${to} (the old name goes away in 1.0)`
  return {
    code,
    from,
    to,
    warn: () => {
      // process-warning is loaded when an old name is used, not before.
      warning ??= (require('process-warning') as typeof import('process-warning')).createDeprecation({ code, message }) as unknown as WarningItem
      warning()
    }
  }
}

export const PLUGIN_RENAMES: readonly Rename[] = [
  deprecation('FSTLSDEP001', 'plugin', 'jwt.cacheSize', 'jwt.maxCachedTokens'),
  deprecation('FSTLSDEP002', 'plugin', 'signature.clockSkew', 'signature.clockTolerance'),
  deprecation('FSTLSDEP003', 'plugin', 'cache.max', 'cache.maxApps')
]

export const MEMORY_NONCE_STORE_RENAMES: readonly Rename[] = [
  deprecation('FSTLSDEP004', 'MemoryNonceStore', 'max', 'maxNonces')
]

export const POSTGRES_STORE_RENAMES: readonly Rename[] = [
  deprecation('FSTLSDEP005', 'PostgresStore', 'poolSize', 'maxConnections'),
  deprecation('FSTLSDEP006', 'PostgresStore', 'connectionTimeoutMillis', 'connectionTimeout'),
  deprecation('FSTLSDEP007', 'PostgresStore', 'listenReconnectMs', 'listenReconnectDelay'),
  deprecation('FSTLSDEP008', 'PostgresStore', 'listenPingMs', 'listenPingInterval')
]

export const CLIENT_RENAMES: readonly Rename[] = [
  deprecation('FSTLSDEP009', 'createLinkedClient', 'connections', 'maxConnections')
]
