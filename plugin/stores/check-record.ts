/**
 * Records given to a store (its constructor or its admin methods) are checked before they are
 * kept: the fields against a schema (an unknown field gets a "did you mean …?"), then every key
 * is parsed. A bad record throws FST_LINKED_SERVICES_INVALID_RECORD naming the record and the
 * field, never the key material. (A record that a store already holds and turns out unusable is
 * another matter: that app is refused, the others keep working.)
 */
import type { AgreementRecord, AppRecord, UserRecord } from '../../types/index.js'
import { InvalidRecordError, type LinkedServicesError } from '../errors.js'
import { ALGORITHMS } from '../keys/algorithms.js'
import { resolveAppKeys } from '../keys/app-keys.js'
import { isHmac, KeyFormatError, parseEd25519PrivateKey, parseEd25519PublicKey, parseHmacSecret } from '../keys/parse.js'
import { SLUG_PATTERN, SLUG_TEXT } from '../options/schemas.js'
import type { OptionSchema, OptionSet } from '../options/schema-types.js'
import { check } from '../options/validate.js'

const slug: OptionSchema = { type: 'string', pattern: SLUG_PATTERN, expect: SLUG_TEXT }
const text: OptionSchema = { type: ['string', 'null'] }
const scopes: OptionSchema = { type: 'array', items: { type: 'string', minLength: 1, maxLength: 100 } }
const algorithm: OptionSchema = { enum: ALGORITHMS }
const keyFields = { algorithm, privateKey: text, publicKey: text, expiresAt: {}, kid: { type: 'string' } } satisfies Record<string, OptionSchema>

const APP: OptionSchema = {
  type: 'object',
  additionalProperties: false,
  required: ['slug', 'algorithm'],
  properties: {
    slug,
    name: text,
    description: text,
    algorithm,
    strategy: { enum: ['JWT', 'SIGNATURE'] },
    // Only LINK is served; another value is kept and refused per request (forbidden-schema), as the original does.
    schema: { type: 'string' },
    privateKey: text,
    publicKey: text,
    kid: { type: 'string', minLength: 1 },
    previousKeys: { type: 'array', items: { type: 'object', additionalProperties: false, required: ['expiresAt'], properties: keyFields } },
    legacyKey: { type: ['object', 'null'], additionalProperties: false, properties: { ...keyFields, createdAt: {} } },
    requireAnAgreement: { type: 'boolean' },
    requiredScopes: scopes,
    optionalScopes: scopes,
    agreementVersion: { type: 'integer', minimum: 1 },
    appUrl: text,
    usersPath: { type: 'string' },
    webhookUrl: text,
    redirectUrl: text
  }
}

const AGREEMENT: OptionSchema = {
  type: 'object',
  additionalProperties: false,
  required: ['app', 'userId'],
  properties: {
    app: slug,
    userId: { type: ['string', 'integer'], minLength: 1, expect: 'a non-empty string or an integer' },
    optionalScopes: scopes,
    agreementVersion: { type: 'integer', minimum: 1 }
  }
}

const USER: OptionSchema = {
  type: 'object',
  required: ['id'],
  properties: {
    id: { type: ['string', 'integer'], minLength: 1, expect: 'a non-empty string or an integer' },
    credentials: { type: 'object', additionalProperties: { type: ['string', 'integer'] } }
  }
}

function invalid (owner: string, what: string, field: string, message: string): LinkedServicesError {
  return Object.assign(new InvalidRecordError(`${owner}: ${what}: ${message}`), { record: what, field }) as LinkedServicesError
}

function recordSet (owner: string, what: string, schema: OptionSchema): OptionSet {
  return { owner, schema, renames: [], noun: 'field', makeError: (path, message) => invalid(owner, what, path, message) }
}

function label (kind: string, id: unknown): string {
  return typeof id === 'string' || typeof id === 'number' ? `${kind} ${JSON.stringify(id)}` : kind
}

/** Parses one key field; a KeyFormatError becomes an invalid-record error naming the field. */
function key (owner: string, what: string, field: string, parse: () => unknown): void {
  try {
    parse()
  } catch (error) {
    if (error instanceof KeyFormatError) throw invalid(owner, what, field, `${field}: ${error.message}`)
    throw error
  }
}

function checkKeyPair (owner: string, what: string, prefix: string, algorithm: AppRecord['algorithm'],
  privateKey: string | null | undefined, publicKey: string | null | undefined): void {
  if (isHmac(algorithm)) {
    key(owner, what, `${prefix}privateKey`, () => parseHmacSecret(privateKey, algorithm))
    if (publicKey) throw invalid(owner, what, `${prefix}publicKey`, `${prefix}publicKey: a public key is not used with ${algorithm}`)
    return
  }
  if (!privateKey && !publicKey) throw invalid(owner, what, `${prefix}publicKey`, `${prefix}publicKey: an Ed25519 app needs a publicKey (the peer's) or a privateKey`)
  if (privateKey) key(owner, what, `${prefix}privateKey`, () => parseEd25519PrivateKey(privateKey))
  if (publicKey) key(owner, what, `${prefix}publicKey`, () => parseEd25519PublicKey(publicKey))
}

/** Checks an app record: its fields, then every key it holds. */
export function checkAppRecord (owner: string, app: unknown): asserts app is AppRecord {
  const what = label('app', (app as AppRecord | null)?.slug)
  check(recordSet(owner, what, APP), app)
  const record = app as AppRecord
  checkKeyPair(owner, what, '', record.algorithm, record.privateKey, record.publicKey)
  for (const [index, previous] of (record.previousKeys ?? []).entries()) {
    checkKeyPair(owner, what, `previousKeys[${index}].`, previous.algorithm ?? record.algorithm, previous.privateKey, previous.publicKey)
  }
  if (record.legacyKey) {
    const legacy = record.legacyKey
    checkKeyPair(owner, what, 'legacyKey.', legacy.algorithm ?? record.algorithm, legacy.privateKey, legacy.publicKey)
  }
  // What the field checks cannot see (times, halves of a key that do not match).
  key(owner, what, 'keys', () => resolveAppKeys(record))
}

export function checkAgreementRecord (owner: string, agreement: unknown): asserts agreement is AgreementRecord {
  check(recordSet(owner, label('agreement of user', (agreement as AgreementRecord | null)?.userId), AGREEMENT), agreement)
}

export function checkUserRecord (owner: string, user: unknown): asserts user is UserRecord {
  check(recordSet(owner, label('user', (user as UserRecord | null)?.id), USER), user)
}
