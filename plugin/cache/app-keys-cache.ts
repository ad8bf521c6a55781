/**
 * Key objects built once per key, not once per load: an app record's keys are parsed (and
 * checked for key hygiene, which may ask OpenSSL) the first time their text is seen, then
 * reused for every later load of a record holding the same key text — the store answer after an
 * eviction, a TTL expiry or an unrelated change. Keyed by the text of every key field, so a
 * record whose keys changed is parsed anew; a record whose keys are unusable keeps its reason.
 * Bounded in entries and bytes (the key text is held, as the cached records hold it).
 */
import type { AppRecord } from '../../types/index.js'
import { resolveAppKeys, type AppKeys } from '../keys/app-keys.js'
import { KeyFormatError } from '../keys/parse.js'
import { LruCache } from './lru.js'

/** Bookkeeping per entry on top of the key text: the key objects and the map slot. */
const ENTRY_BYTES = 600
/** Most estimated bytes the key objects cache holds. */
export const APP_KEYS_CACHE_MAX_BYTES = 8 * 1024 * 1024
/** Parsed keys do not go stale by themselves: the entry lives as long as the bound allows. */
const NEVER = Number.POSITIVE_INFINITY

type Parsed = AppKeys | KeyFormatError

/** The text of every field that feeds the keys, as one string. */
function keyFingerprint (record: AppRecord): string | null {
  try {
    return JSON.stringify([record.algorithm, record.privateKey ?? null, record.publicKey ?? null, record.kid ?? null,
      record.previousKeys ?? null, record.legacyKey ?? null])
  } catch {
    return null // not serialisable: parse it every time rather than guess a key
  }
}

export class AppKeysCache {
  readonly #parsed: LruCache<string, Parsed>

  constructor (max: number) {
    this.#parsed = new LruCache(max, { maxBytes: APP_KEYS_CACHE_MAX_BYTES, sizeOf: (fingerprint) => fingerprint.length * 2 + ENTRY_BYTES })
  }

  get size (): number {
    return this.#parsed.size
  }

  /** The record's keys; throws KeyFormatError (the same one for the same key text) when unusable. */
  resolve (record: AppRecord): AppKeys {
    const fingerprint = keyFingerprint(record)
    const cached = fingerprint === null ? undefined : this.#parsed.get(fingerprint, 0)
    const parsed = cached ?? parse(record)
    if (cached === undefined && fingerprint !== null) this.#parsed.set(fingerprint, parsed, NEVER)
    if (parsed instanceof KeyFormatError) throw parsed
    return parsed
  }

  clear (): void {
    this.#parsed.clear()
  }
}

function parse (record: AppRecord): Parsed {
  try {
    return resolveAppKeys(record)
  } catch (error) {
    if (error instanceof KeyFormatError) return error
    throw error
  }
}
