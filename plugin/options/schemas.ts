/**
 * The one source of truth for every options object of the package: the plugin's, `scope()`'s,
 * `createLinkedClient`'s and the stores' constructors'. Validation (validate.ts), defaults and the
 * README's option table (scripts/options-table.ts, checked by test/options-table.test.ts) all
 * come from here.
 *
 * Vocabulary: durations under `jwt` and `signature` are seconds (they are compared with the
 * seconds of `exp`, `iat`, `created`); every other duration is milliseconds. A bound is named
 * `max` + what it counts (`maxApps`, `maxNonces`, `maxCachedTokens`, `maxTokenLength`).
 */
import type { OptionSchema, OptionSet } from './schema-types.js'
import { CLIENT_RENAMES, MEMORY_NONCE_STORE_RENAMES, PLUGIN_RENAMES, POSTGRES_STORE_RENAMES } from './deprecations.js'

export const SLUG_PATTERN = '^[a-zA-Z0-9_-]{1,100}$'
export const SLUG_TEXT = 'a slug: 1 to 100 letters, digits, "-" or "_"'
const SQL_IDENTIFIER_PATTERN = '^[a-z_][a-z0-9_]{0,62}$'
const SQL_IDENTIFIER_TEXT = 'a lower-case SQL identifier (a-z, 0-9, _; at most 63 characters)'

export function object (properties: Record<string, OptionSchema>, extra: Partial<OptionSchema> = {}): OptionSchema {
  return { type: 'object', additionalProperties: false, properties, ...extra }
}

export function integer (min: number, max: number, defaultValue: number | undefined, description: string, unit?: OptionSchema['unit']): OptionSchema {
  return {
    type: 'integer',
    minimum: min,
    maximum: max,
    description,
    ...(defaultValue === undefined ? {} : { default: defaultValue }),
    ...(unit === undefined ? {} : { unit })
  }
}

function seconds (min: number, max: number, defaultValue: number, description: string): OptionSchema {
  return { type: 'number', minimum: min, maximum: max, default: defaultValue, description, unit: 's' }
}

function flag (description: string): OptionSchema {
  return { type: 'boolean', default: false, description }
}

export const STORE_METHODS = ['getApp', 'getAgreement', 'findUserByCredential'] as const

export const pluginOptions: OptionSet = {
  owner: 'fastify-linked-services',
  renames: PLUGIN_RENAMES,
  schema: object({
    appName: {
      type: 'string',
      pattern: SLUG_PATTERN,
      expect: SLUG_TEXT,
      defaultText: '(required)',
      description: 'This service\'s slug: the JWT `aud` it accepts, the `App=` / `keyid` it sends.'
    },
    store: {
      type: 'object',
      implements: STORE_METHODS,
      defaultText: 'empty `MemoryStore`',
      description: 'Any object implementing the store interface (`getApp`, `getAgreement`, `findUserByCredential`).'
    },
    jwt: object({
      clockTolerance: seconds(0, 300, 5, 'Clock skew allowed on `exp`, `nbf`, `iat`.'),
      maxCachedTokens: integer(0, 10_000_000, 10_000, 'Verified tokens remembered (LRU); `0` turns the cache off.'),
      maxTokenLength: integer(64, 1_000_000, 8192, 'Longest token accepted.', 'characters')
    }),
    signature: object({
      tolerance: seconds(1, 3600, 120, 'Maximum age of a signed request: how long it stays valid after `created` / `Date`.'),
      clockTolerance: seconds(0, 300, 5, 'How far in the future a signature\'s `created` / `Date` may be, and how long after `expires` it is still accepted.'),
      nonceStore: {
        type: 'object',
        implements: ['remember'],
        defaultText: 'in-memory, bounded',
        description: 'Where nonces are remembered (`RedisNonceStore` from `fastify-linked-services/redis` for several instances).'
      },
      maxNonces: integer(1, 100_000_000, 100_000, 'Bound of the default in-memory nonce store.'),
      legacy: flag('Accept the original\'s `Authorization: Signature App=..` scheme.'),
      maxHeaderLength: integer(256, 65_536, 4096, 'Cap on `Signature-Input` / `Signature` sizes.', 'bytes')
    }),
    storeTimeout: integer(1, 600_000, 2000, 'A store call that takes longer fails closed (503).', 'ms'),
    cache: object({
      maxApps: integer(0, 10_000_000, 10_000, 'Apps remembered (users and agreements: 10×); size it to the number of apps that call; `0` turns the cache off.'),
      ttl: integer(0, 86_400_000, 60_000, 'How long a cached app, user link or agreement is trusted (the backstop behind invalidation).', 'ms'),
      negativeTtl: integer(0, 86_400_000, 1000, 'How long an unknown app is remembered as unknown.', 'ms')
    }),
    requireCurrentAgreement: flag('Treat an agreement older than the app\'s `agreementVersion` as missing.'),
    resolveRemoteUsers: flag('`getUser()` fetches an unknown user from the caller and links it (the original\'s create_user); the store must implement `linkRemoteUser`.')
  }, { required: ['appName'] })
}

export const scopeOptions: OptionSet = {
  owner: 'scope()',
  renames: [],
  schema: object({
    mode: { enum: ['jwt', 'signature'], description: 'Accept only this scheme; omitted: the one matching the calling app\'s strategy.' }
  })
}

export const clientOptions: OptionSet = {
  owner: 'createLinkedClient',
  renames: CLIENT_RENAMES,
  schema: object({
    appName: { type: 'string', pattern: SLUG_PATTERN, expect: SLUG_TEXT, description: 'This service\'s own slug.' },
    store: { type: 'object', implements: ['getApp'], description: 'Where apps are found by slug.' },
    timeout: integer(1, 600_000, 10_000, 'Wait for the connection, the response headers, and between body chunks.', 'ms'),
    maxConnections: integer(1, 10_000, 10, 'Sockets kept per origin.'),
    keepAliveTimeout: integer(1, 600_000, 4000, 'How long an idle keep-alive socket stays open.', 'ms'),
    maxResponseBytes: integer(1, 2 ** 31, 16 * 1024 * 1024, 'Largest response body read.', 'bytes'),
    cacheTtl: integer(0, 86_400_000, 5000, 'How long an app record stays cached by the client; 0 reads the store on every call.', 'ms'),
    dispatcher: { type: 'object', implements: ['dispatch'], description: 'An undici dispatcher used instead of the client\'s own Agent (not closed by the client).' },
    jwt: object({
      expiresIn: integer(1, 86_400 * 366, 600, 'Token lifetime.', 's'),
      issuer: { type: 'string', description: '`iss` claim. Default env API_URL, else `http://localhost:8000`.' }
    }),
    signature: object({
      scheme: { enum: ['rfc9421', 'legacy'], default: 'rfc9421', description: '`rfc9421`, or `legacy` (the original\'s `Authorization: Signature`; HMAC only).' }
    })
  }, { required: ['appName', 'store'] })
}

/** The per-call `timeout` of a client request (the other request options are checked where they are used). */
export const clientRequestOptions: OptionSet = {
  owner: 'createLinkedClient request',
  renames: [],
  schema: object({ timeout: integer(1, 600_000, undefined, 'Overrides the client\'s timeout for this call.', 'ms') })
}

export const memoryStoreOptions: OptionSet = {
  owner: 'MemoryStore',
  renames: [],
  schema: object({
    apps: { type: 'array', default: [], description: 'App records.' },
    agreements: { type: 'array', default: [], description: 'Agreement records.' },
    users: { type: 'array', default: [], description: 'User records.' },
    scopes: { type: 'array', default: [], description: 'Scope records (slug, name, description).' }
  })
}

export const memoryNonceStoreOptions: OptionSet = {
  owner: 'MemoryNonceStore',
  renames: MEMORY_NONCE_STORE_RENAMES,
  schema: object({
    maxNonces: integer(1, 100_000_000, 100_000, 'Most nonces held at once.')
  })
}

export const redisNonceStoreOptions: OptionSet = {
  owner: 'RedisNonceStore',
  renames: [],
  schema: object({
    client: { type: 'object', implements: ['set', 'on'], description: 'An ioredis client of your own (not closed by the store).' },
    url: { type: 'string', minLength: 1, expect: 'a Redis URL', default: 'redis://127.0.0.1:6379', description: 'A Redis URL, when the store makes its own client.' },
    redisOptions: { type: 'object', description: 'Extra ioredis options for the client the store makes.' },
    prefix: { type: 'string', maxLength: 200, expect: 'a string of at most 200 characters', default: 'linked-services:nonce:', description: 'Put before every nonce.' }
  })
}

export const postgresStoreOptions: OptionSet = {
  owner: 'PostgresStore',
  renames: POSTGRES_STORE_RENAMES,
  schema: object({
    connectionString: { type: 'string', minLength: 1, expect: 'a PostgreSQL URL', description: 'A PostgreSQL URL; either this or `pool`.' },
    pool: { type: 'object', implements: ['query', 'connect', 'on'], description: 'A `pg.Pool` of your own (not ended by the store).' },
    schema: { type: 'string', pattern: SQL_IDENTIFIER_PATTERN, expect: SQL_IDENTIFIER_TEXT, default: 'linked_services', description: 'The schema holding the tables.' },
    notifyChannel: { type: 'string', pattern: SQL_IDENTIFIER_PATTERN, expect: SQL_IDENTIFIER_TEXT, description: 'The LISTEN/NOTIFY channel. Default `<schema>_changes`.' },
    maxConnections: integer(1, 10_000, 10, 'Pool size when the store makes the pool.'),
    connectionTimeout: integer(1, 600_000, 2000, 'How long opening a connection may take.', 'ms'),
    listenConnection: { type: 'object', description: 'Connection settings of the LISTEN connection. Default: those of the pool.' },
    listenReconnectDelay: integer(1, 600_000, 100, 'First delay before the LISTEN connection is reopened, doubling up to 5 s.', 'ms'),
    listenPingInterval: integer(0, 3_600_000, 5000, 'How often the LISTEN connection is checked with a query; 0: never.', 'ms'),
    preparedStatements: {
      type: 'boolean',
      default: true,
      description: 'Whether the hot writes (the webhook receive log) use named prepared statements; `false` behind a pooler that cannot keep them (PgBouncer in transaction mode before 1.21).'
    }
  })
}
