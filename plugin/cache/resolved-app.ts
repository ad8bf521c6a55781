/**
 * An app record turned, once per load, into what the request path needs: parsed keys, scope
 * sets, and the public view handed to routes (`request.app`, no key material). A record whose keys
 * cannot be used is kept with its problem (`keyProblem`) so that this app is refused while every
 * other app keeps working.
 */
import type { Algorithm, AppRecord, LinkedApp, Schema, Strategy } from '../../types/index.js'
import { DEFAULT_USERS_PATH } from '../app-defaults.js'
import { ALGORITHMS } from '../keys/algorithms.js'
import { resolveAppKeys, type AppKeys } from '../keys/app-keys.js'
import { KeyFormatError } from '../keys/parse.js'

export interface ResolvedApp {
  slug: string
  /** What routes see as `request.app`: frozen, no keys. */
  publicApp: LinkedApp
  /** `null` when the record names an algorithm this plugin does not know. */
  algorithm: Algorithm | null
  strategy: Strategy
  schema: Schema | string
  requireAnAgreement: boolean
  requiredScopes: ReadonlySet<string>
  optionalScopes: ReadonlySet<string>
  /** Required and optional: what an app-level call (no user) is granted. */
  appScopes: ReadonlySet<string>
  agreementVersion: number
  /** `null` when `keyProblem` says why. */
  keys: AppKeys | null
  /** Why the keys are unusable (never the key itself); `null` when they are fine. */
  keyProblem: string | null
}

function stringOrNull (value: unknown): string | null {
  return typeof value === 'string' && value.length > 0 ? value : null
}

function scopeList (value: unknown): string[] {
  return Array.isArray(value) ? value.filter((scope): scope is string => typeof scope === 'string') : []
}

/** Turns a record into what the request path needs; `keysOf` parses its keys (a cache may stand in). */
export function resolveApp (record: AppRecord, keysOf: (record: AppRecord) => AppKeys = resolveAppKeys): ResolvedApp {
  const algorithm = ALGORITHMS.includes(record.algorithm) ? record.algorithm : null
  const strategy: Strategy = record.strategy === 'SIGNATURE' ? 'SIGNATURE' : 'JWT'
  const schema = record.schema ?? 'LINK'
  const requiredScopes = scopeList(record.requiredScopes)
  const optionalScopes = scopeList(record.optionalScopes)
  const agreementVersion = Number.isInteger(record.agreementVersion) ? record.agreementVersion as number : 1
  const requireAnAgreement = record.requireAnAgreement !== false

  let keys: AppKeys | null = null
  let keyProblem: string | null = null
  if (algorithm !== null) {
    try {
      keys = keysOf(record)
    } catch (error) {
      keyProblem = error instanceof KeyFormatError ? error.message : 'the keys cannot be read'
    }
  }

  const publicApp: LinkedApp = Object.freeze({
    slug: record.slug,
    name: stringOrNull(record.name),
    algorithm: record.algorithm,
    strategy,
    schema: 'LINK',
    requireAnAgreement,
    requiredScopes: Object.freeze([...requiredScopes]),
    optionalScopes: Object.freeze([...optionalScopes]),
    agreementVersion,
    appUrl: stringOrNull(record.appUrl),
    usersPath: stringOrNull(record.usersPath) ?? DEFAULT_USERS_PATH,
    webhookUrl: stringOrNull(record.webhookUrl),
    redirectUrl: stringOrNull(record.redirectUrl)
  })

  return {
    slug: record.slug,
    publicApp,
    algorithm,
    strategy,
    schema,
    requireAnAgreement,
    requiredScopes: new Set(requiredScopes),
    optionalScopes: new Set(optionalScopes),
    appScopes: new Set([...requiredScopes, ...optionalScopes]),
    agreementVersion,
    keys,
    keyProblem
  }
}
