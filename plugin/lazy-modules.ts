/**
 * Heavy client libraries are loaded on first use, not when the package is imported: a service
 * that only receives calls on the embedded MemoryStore never pays for them (undici alone took
 * ~60 ms of start-up, pg and ioredis ~15 ms more).
 */
import type * as Pg from 'pg'
import type * as IoRedis from 'ioredis'
import type * as Undici from 'undici'

export function loadPg (): typeof Pg {
  return require('pg')
}

export function loadIoredis (): typeof IoRedis {
  return require('ioredis')
}

export function loadUndici (): typeof Undici {
  return require('undici')
}
