/**
 * The keys of one app, resolved once when the app is loaded: the current key (signs, always
 * verifies) and the previous keys (verify until they expire, judged at verification time by the
 * clock, with no background job). The original's `legacyKey` row is one previous key that lives
 * two minutes after it was made.
 */
import { createPublicKey, type KeyObject } from 'node:crypto'
import type { Algorithm, AppRecord, PreviousKey } from '../../types/index.js'
import { LEGACY_KEY_LIFETIME_MS } from '../app-defaults.js'
import { ALGORITHMS } from './algorithms.js'
import { isHmac, KeyFormatError, parseEd25519PrivateKey, parseEd25519PublicKey, parseHmacSecret } from './parse.js'

/** A key that verifies incoming JWTs or signatures. */
export interface VerifyKey {
  kid: string | null
  algorithm: Algorithm
  /** HMAC secret, or the Ed25519 public key. */
  key: KeyObject
  /** Epoch milliseconds after which the key no longer verifies; Infinity for the current key. */
  expiresAt: number
}

/** The key this service signs outgoing calls to the app with. */
export interface SigningKey {
  kid: string | null
  algorithm: Algorithm
  /** HMAC secret, or our Ed25519 private key. */
  key: KeyObject
}

export interface AppKeys {
  /** Current key first, then the previous ones. */
  verify: readonly VerifyKey[]
  signing: SigningKey | null
}

function toEpochMs (value: Date | number | string | undefined, field: string): number {
  const ms = value instanceof Date ? value.getTime() : typeof value === 'string' ? Date.parse(value) : value
  if (typeof ms !== 'number' || !Number.isFinite(ms)) throw new KeyFormatError(`${field} is not a valid time`)
  return ms
}

function resolveKeyPair (algorithm: Algorithm, privateKey: string | null | undefined, publicKey: string | null | undefined):
{ verify: KeyObject, signing: KeyObject | null } {
  if (!ALGORITHMS.includes(algorithm)) throw new KeyFormatError('unknown algorithm')
  if (isHmac(algorithm)) {
    if (publicKey) throw new KeyFormatError('a public key is not used with symmetric algorithms')
    const secret = parseHmacSecret(privateKey, algorithm)
    return { verify: secret, signing: secret }
  }
  const signing = privateKey ? parseEd25519PrivateKey(privateKey) : null
  if (publicKey) return { verify: parseEd25519PublicKey(publicKey), signing }
  if (signing === null) throw new KeyFormatError('an Ed25519 app needs a public or a private key')
  // The original's documented set-up shares one Ed25519 private key: verify with its public half.
  return { verify: createPublicKey(signing), signing }
}

function previousKey (entry: PreviousKey, app: AppRecord, index: number): VerifyKey {
  const algorithm = entry.algorithm ?? app.algorithm
  const { verify } = resolveKeyPair(algorithm, entry.privateKey, entry.publicKey)
  return {
    kid: entry.kid ?? null,
    algorithm,
    key: verify,
    expiresAt: toEpochMs(entry.expiresAt, `previousKeys[${index}].expiresAt`)
  }
}

/** Resolves every key of an app record; throws KeyFormatError when any of them is unusable. */
export function resolveAppKeys (app: AppRecord): AppKeys {
  const current = resolveKeyPair(app.algorithm, app.privateKey, app.publicKey)
  const kid = app.kid ?? null
  const verify: VerifyKey[] = [{ kid, algorithm: app.algorithm, key: current.verify, expiresAt: Infinity }]
  for (const [index, entry] of (app.previousKeys ?? []).entries()) verify.push(previousKey(entry, app, index))
  if (app.legacyKey) {
    const legacy = app.legacyKey
    const expiresAt = legacy.expiresAt !== undefined
      ? toEpochMs(legacy.expiresAt, 'legacyKey.expiresAt')
      : toEpochMs(legacy.createdAt, 'legacyKey.createdAt') + LEGACY_KEY_LIFETIME_MS
    verify.push(previousKey({ ...legacy, expiresAt }, app, verify.length - 1))
  }
  const signing = current.signing === null ? null : { kid, algorithm: app.algorithm, key: current.signing }
  return { verify, signing }
}

/**
 * Most keys one request can make the server try: a forged request with an unknown (or no) key id
 * costs at most this many signature checks, however many previous keys an app keeps.
 */
export const MAX_KEYS_TRIED = 4

const NO_KEYS: readonly VerifyKey[] = Object.freeze([])

/**
 * The keys that may verify now, for the given algorithm: a key id that names a key selects
 * it alone; an unknown or absent key id tries the unexpired keys, current first, at most
 * MAX_KEYS_TRIED of them.
 */
export function candidateKeys (keys: AppKeys, algorithm: Algorithm, kid: string | null, now: number): readonly VerifyKey[] {
  // One key (the usual case): it alone may verify, whatever the key id says (see below).
  if (keys.verify.length === 1) {
    const only = keys.verify[0]
    return only.algorithm === algorithm && only.expiresAt > now ? keys.verify : NO_KEYS
  }
  const usable = keys.verify.filter((key) => key.algorithm === algorithm && key.expiresAt > now)
  if (kid !== null) {
    const named = usable.filter((key) => key.kid === kid)
    if (named.length > 0) return named.slice(0, MAX_KEYS_TRIED)
  }
  return usable.length > MAX_KEYS_TRIED ? usable.slice(0, MAX_KEYS_TRIED) : usable
}
