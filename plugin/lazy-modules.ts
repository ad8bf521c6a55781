/**
 * The optional peer dependencies, loaded on first use: `pg` (PostgresStore), `ioredis`
 * (RedisNonceStore), `undici` (createLinkedClient, resolveRemoteUsers), `prom-client`
 * (linkedServicesMetrics), `@opentelemetry/api` (linkedServicesTracing) and `pg-boss` (webhooks on
 * PostgreSQL). A service that only
 * receives calls on the embedded MemoryStore neither installs nor loads them (undici alone took
 * ~60 ms of start-up, pg and ioredis ~15 ms more). A missing one is named, with the command that
 * installs it.
 */
import type * as Pg from 'pg'
import type * as IoRedis from 'ioredis'
import type * as Undici from 'undici'
import type * as PromClient from 'prom-client'
import type * as OpenTelemetry from '@opentelemetry/api'
import type PgBoss from 'pg-boss'
import { MissingPeerDependencyError } from './errors.js'

export type PeerName = 'pg' | 'ioredis' | 'undici' | 'prom-client' | '@opentelemetry/api' | 'pg-boss'

/** Throws MissingPeerDependencyError when `name` cannot be found from this package. */
export function requirePeer (name: PeerName, user: string): void {
  try {
    require.resolve(name)
  } catch (error) {
    throw Object.assign(new MissingPeerDependencyError(`${user} needs the package "${name}": install it with \`npm install ${name}\``), { cause: error })
  }
}

const loaded = new Map<PeerName, unknown>()

function load<T> (name: PeerName, user: string): T {
  let module = loaded.get(name)
  if (module === undefined) {
    requirePeer(name, user)
    module = require(name)
    loaded.set(name, module)
  }
  return module as T
}

export function loadPg (): typeof Pg {
  return load('pg', 'PostgresStore')
}

export function loadIoredis (): typeof IoRedis {
  return load('ioredis', 'RedisNonceStore')
}

export function loadUndici (user = 'createLinkedClient'): typeof Undici {
  return load('undici', user)
}

export function loadPromClient (): typeof PromClient {
  return load('prom-client', 'linkedServicesMetrics')
}

export function loadOpenTelemetry (): typeof OpenTelemetry {
  return load('@opentelemetry/api', 'linkedServicesTracing')
}

export function loadPgBoss (): typeof PgBoss {
  return load('pg-boss', 'linkedWebhooks on PostgreSQL')
}
