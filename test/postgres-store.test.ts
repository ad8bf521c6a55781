/**
 * PostgresStore against a real PostgreSQL: migrations, the admin methods (and what they refuse),
 * previous keys, users and credentials, identifiers, the change feed and its reconnection.
 * Skipped with a message when PostgreSQL does not answer; fails under CI.
 */
import { after, describe, test } from 'node:test'
import assert from 'node:assert/strict'
import pg from 'pg'
import type { StoreChange } from '../types/index.js'
import { PostgresStore } from '../plugin/stores/postgres-store.js'
import { MIGRATIONS } from '../plugin/stores/postgres/migrations.js'
import { parseChange } from '../plugin/stores/postgres/listener.js'
import { hmacKeyHex, ed25519Keys } from './helpers/keys.js'
import { DATABASE_URL, dropSchema, servicesSkipSync, TcpProxy, throughPort, uniqueSchema, waitFor } from './helpers/services.js'

const skip = servicesSkipSync({ postgres: true })
const schemas: string[] = []
const stores: PostgresStore[] = []

async function freshStore (options: Partial<ConstructorParameters<typeof PostgresStore>[0]> = {}): Promise<PostgresStore> {
  const schema = options?.schema ?? uniqueSchema('pg')
  if (!schemas.includes(schema)) schemas.push(schema)
  const store = new PostgresStore({ connectionString: DATABASE_URL, schema, ...options })
  stores.push(store)
  await store.migrate()
  return store
}

after(async () => {
  for (const store of stores) await store.close().catch(() => {})
  if (skip === false) for (const schema of schemas) await dropSchema(schema)
})

describe('PostgresStore', { skip }, () => {
  test('migrate: creates every table once, records versions, is idempotent and safe to run concurrently', async () => {
    const schema = uniqueSchema('migrate')
    schemas.push(schema)
    const a = new PostgresStore({ connectionString: DATABASE_URL, schema })
    const b = new PostgresStore({ connectionString: DATABASE_URL, schema })
    stores.push(a, b)
    const [first, second] = await Promise.all([a.migrate(), b.migrate()])
    assert.equal(first.applied.length + second.applied.length, MIGRATIONS.length, 'each migration applied once')
    assert.equal(first.version, MIGRATIONS.length)
    assert.equal(second.version, MIGRATIONS.length)
    const again = await a.migrate()
    assert.deepEqual(again.applied, [])
    assert.equal(again.latest, again.version)
    const { rows } = await a.pool.query('SELECT table_name FROM information_schema.tables WHERE table_schema = $1 ORDER BY 1', [schema])
    assert.deepEqual(rows.map((row) => row.table_name), [
      'agreement_optional_scopes', 'agreements', 'app_optional_scopes', 'app_required_scopes', 'apps', 'audit_events', 'credentials',
      'previous_keys', 'schema_migrations', 'scopes', 'users', 'webhook_log', 'webhook_outbox'])
    const versions = await a.pool.query(`SELECT version, name FROM "${schema}".schema_migrations`)
    assert.equal(versions.rows.length, MIGRATIONS.length)
  })

  test('schema and channel names are checked identifiers; a connection is required', () => {
    for (const schema of ['x; DROP TABLE apps', 'Upper', '1abc', 'a"b', '', 'a'.repeat(64), 'ls-test']) {
      assert.throws(() => new PostgresStore({ connectionString: DATABASE_URL, schema }), /schema must be a lower-case SQL identifier/, schema)
    }
    assert.throws(() => new PostgresStore({ connectionString: DATABASE_URL, notifyChannel: 'bad channel' }), /notifyChannel/)
    assert.throws(() => new PostgresStore({}), /connectionString or a pool/)
    const store = new PostgresStore({ connectionString: DATABASE_URL, schema: 'a'.repeat(63) })
    assert.equal(store.notifyChannel, 'a'.repeat(55) + '_changes')
    stores.push(store)
  })

  test('a pool of your own is used and not ended by close()', async () => {
    const schema = uniqueSchema('pool')
    schemas.push(schema)
    const pool = new pg.Pool({ connectionString: DATABASE_URL, max: 2 })
    const store = new PostgresStore({ pool, schema })
    await store.migrate()
    await store.createApp({ slug: 'p', algorithm: 'HMAC_SHA256', privateKey: hmacKeyHex(32) })
    const unsubscribe = await store.subscribe(() => {})
    assert.equal(store.listening, true, 'the LISTEN connection uses the pool settings')
    unsubscribe()
    await store.close()
    assert.equal((await pool.query('SELECT 1 AS one')).rows[0].one, 1)
    await pool.end()
  })

  test('createApp: defaults, duplicate slugs and unusable keys are refused (nothing written)', async () => {
    const store = await freshStore()
    const key = hmacKeyHex(32)
    const app = await store.createApp({ slug: 'a1', algorithm: 'HMAC_SHA256', privateKey: key })
    assert.deepEqual({ ...app, previousKeys: app.previousKeys }, {
      slug: 'a1',
      algorithm: 'HMAC_SHA256',
      strategy: 'JWT',
      schema: 'LINK',
      privateKey: key,
      publicKey: null,
      requireAnAgreement: true,
      requiredScopes: [],
      optionalScopes: [],
      agreementVersion: 1,
      appUrl: null,
      usersPath: '/v1/auth/app/user/',
      webhookUrl: null,
      redirectUrl: null,
      previousKeys: []
    })
    await assert.rejects(store.createApp({ slug: 'a1', algorithm: 'HMAC_SHA256', privateKey: hmacKeyHex(32) }), /already exists/)
    await assert.rejects(store.createApp({ slug: 'short', algorithm: 'HMAC_SHA256', privateKey: 'abcd' }))
    await assert.rejects(store.createApp({ slug: 'algo', algorithm: 'RS256' as 'ED25519', privateKey: hmacKeyHex(32) }))
    await assert.rejects(store.createApp({ slug: 'scopes', algorithm: 'HMAC_SHA256', privateKey: hmacKeyHex(32), requiredScopes: [1 as unknown as string] }), /requiredScopes/)
    await assert.rejects(store.createApp({ slug: '', algorithm: 'HMAC_SHA256', privateKey: hmacKeyHex(32) }), /slug/)
    assert.equal(await store.getApp('short'), null)
    assert.equal(await store.getApp('algo'), null)
    assert.equal(await store.getApp('scopes'), null)
    // Ed25519 with only the peer's public key.
    const ed = ed25519Keys()
    const edApp = await store.createApp({ slug: 'ed', algorithm: 'ED25519', publicKey: ed.publicPemHex, kid: 'k1', name: 'Ed', description: 'peer' })
    assert.equal(edApp.publicKey, ed.publicPemHex)
    assert.equal(edApp.kid, 'k1')
    assert.equal(edApp.name, 'Ed')
  })

  test('updateApp: changes only the fields named; scopes replace; undefined resets to the default', async () => {
    const store = await freshStore()
    await store.createApp({ slug: 'u', algorithm: 'HMAC_SHA256', privateKey: hmacKeyHex(32), requiredScopes: ['read:user', 'a'], optionalScopes: ['b'], usersPath: '/users/', strategy: 'SIGNATURE' })
    const updated = await store.updateApp('u', { requiredScopes: ['read:user', 'c'], appUrl: 'http://x', usersPath: undefined })
    assert.deepEqual(updated.requiredScopes, ['c', 'read:user'])
    assert.deepEqual(updated.optionalScopes, ['b'])
    assert.equal(updated.appUrl, 'http://x')
    assert.equal(updated.usersPath, '/v1/auth/app/user/')
    assert.equal(updated.strategy, 'SIGNATURE')
    assert.deepEqual(await store.getApp('u'), updated)
    await assert.rejects(store.updateApp('nope', { appUrl: 'http://y' }), /not found/)
    await assert.rejects(store.updateApp('u', { privateKey: 'zz' }))
    assert.equal((await store.getApp('u'))?.privateKey, updated.privateKey, 'a refused change is rolled back')
    await assert.rejects(store.updateApp('u', { agreementVersion: 1.5 }), /integer/)
    await assert.rejects(store.updateApp('u', { requireAnAgreement: 'no' as unknown as boolean }), /true or false/)
    // upsertApp: create, then replace.
    await store.upsertApp({ slug: 'up', algorithm: 'HMAC_SHA256', privateKey: hmacKeyHex(32), requireAnAgreement: false })
    const key = hmacKeyHex(32)
    const replaced = await store.upsertApp({ slug: 'up', algorithm: 'HMAC_SHA256', privateKey: key, requireAnAgreement: false })
    assert.equal(replaced.privateKey, key)
    assert.equal((await store.addApp({ slug: 'added', algorithm: 'HMAC_SHA256', privateKey: hmacKeyHex(32) })).slug, 'added')
    assert.deepEqual((await store.listApps()).map((app) => app.slug), ['added', 'u', 'up'])
  })

  test('previous keys: unexpired only, newest first; rotateKey keeps the old key until it expires', async () => {
    const store = await freshStore()
    const k0 = hmacKeyHex(32)
    await store.createApp({
      slug: 'r',
      algorithm: 'HMAC_SHA256',
      privateKey: k0,
      kid: 'v0',
      previousKeys: [
        { kid: 'old', privateKey: hmacKeyHex(32), expiresAt: Date.now() + 60_000 },
        { kid: 'gone', privateKey: hmacKeyHex(32), expiresAt: new Date(Date.now() - 1) }
      ]
    })
    assert.deepEqual((await store.getApp('r'))?.previousKeys?.map((key) => key.kid), ['old'])
    const k1 = hmacKeyHex(32)
    const expiresAt = Date.now() + 30_000
    const rotated = await store.rotateKey('r', { privateKey: k1, kid: 'v1' }, expiresAt)
    assert.equal(rotated.privateKey, k1)
    assert.equal(rotated.kid, 'v1')
    assert.deepEqual(rotated.previousKeys?.map((key) => key.kid), ['v0', 'old'])
    const previous = rotated.previousKeys?.[0]
    assert.equal(previous?.privateKey, k0)
    assert.equal(previous?.algorithm, 'HMAC_SHA256')
    assert.equal(new Date(previous?.expiresAt as Date).getTime(), expiresAt)
    // Default lifetime: two minutes.
    const k2 = hmacKeyHex(32)
    const before = Date.now()
    const again = await store.rotateKey('r', { privateKey: k2 })
    const v1 = again.previousKeys?.find((key) => key.kid === 'v1')
    const lifetime = new Date(v1?.expiresAt as Date).getTime() - before
    assert.ok(lifetime >= 119_000 && lifetime <= 121_000, String(lifetime))
    assert.equal(again.kid, undefined)
    // Expiry now: the old key stops verifying at once (a compromised key).
    const revoked = await store.rotateKey('r', { privateKey: hmacKeyHex(32) }, Date.now())
    assert.equal(revoked.previousKeys?.some((key) => key.privateKey === k2), false)
    await assert.rejects(store.rotateKey('r', { privateKey: 'bad' }))
    assert.equal((await store.getApp('r'))?.privateKey, revoked.privateKey, 'a refused rotation changes nothing')
    await assert.rejects(store.rotateKey('nope', { privateKey: hmacKeyHex(32) }), /not found/)
    // The original's single legacy key: a previous key living two minutes after createdAt.
    await store.createApp({ slug: 'legacy', algorithm: 'HMAC_SHA256', privateKey: hmacKeyHex(32), legacyKey: { privateKey: hmacKeyHex(32), createdAt: Date.now() - 60_000 } })
    const legacy = (await store.getApp('legacy'))?.previousKeys ?? []
    assert.equal(legacy.length, 1)
    assert.ok(Math.abs(new Date(legacy[0].expiresAt).getTime() - (Date.now() + 60_000)) < 2000)
  })

  test('removeApp / revokeApp: the app, its scopes links, keys and agreements go; user links stay', async () => {
    const store = await freshStore()
    await store.createApp({ slug: 'gone', algorithm: 'HMAC_SHA256', privateKey: hmacKeyHex(32), optionalScopes: ['x'] })
    await store.addUser({ id: 1, username: 'u', email: 'u@x', credentials: { gone: 5 } })
    await store.setAgreement({ app: 'gone', userId: 1, optionalScopes: ['x'] })
    assert.equal(await store.revokeApp('gone'), true)
    assert.equal(await store.getApp('gone'), null)
    assert.equal(await store.getAgreement('gone', '1'), null)
    assert.equal(String((await store.findUserByCredential('gone', '5'))?.id), '1')
    assert.equal(await store.removeApp('gone'), false)
    assert.equal(await store.removeApp(''), false)
    const { rows } = await store.pool.query(`SELECT count(*)::int AS n FROM "${store.schema}".agreements`)
    assert.equal(rows[0].n, 0)
  })

  test('agreements: replaced, removed; an unknown user or app is refused', async () => {
    const store = await freshStore()
    await store.createApp({ slug: 'ag', algorithm: 'HMAC_SHA256', privateKey: hmacKeyHex(32), optionalScopes: ['a', 'b'], agreementVersion: 3 })
    await assert.rejects(store.setAgreement({ app: 'ag', userId: 'uuid-1', optionalScopes: [] }),
      { code: 'FST_LINKED_SERVICES_RECORD_NOT_FOUND', message: /user uuid-1 \(an agreement needs an existing user/ })
    await store.addUser({ id: 'uuid-1' })
    await store.setAgreement({ app: 'ag', userId: 'uuid-1', optionalScopes: ['b', 'a'], agreementVersion: 3 })
    assert.deepEqual(await store.getAgreement('ag', 'uuid-1'), { app: 'ag', userId: 'uuid-1', optionalScopes: ['a', 'b'], agreementVersion: 3 })
    await store.setAgreement({ app: 'ag', userId: 'uuid-1', optionalScopes: [] })
    assert.deepEqual(await store.getAgreement('ag', 'uuid-1'), { app: 'ag', userId: 'uuid-1', optionalScopes: [], agreementVersion: 1 })
    assert.equal((await store.getUser('uuid-1'))?.id, 'uuid-1')
    await assert.rejects(store.setAgreement({ app: 'nope', userId: 1, optionalScopes: [] }), { code: 'FST_LINKED_SERVICES_RECORD_NOT_FOUND', message: /app nope/ })
    await assert.rejects(store.setAgreement({ app: 'ag', userId: 1, optionalScopes: [], agreementVersion: 'x' as unknown as number }), /integer/)
    assert.equal(await store.removeAgreement('ag', 'uuid-1'), true)
    assert.equal(await store.removeAgreement('ag', 'uuid-1'), false)
    assert.equal(await store.getAgreement('ag', 'uuid-1'), null)
  })

  test('admin methods refuse bad records with coded errors naming the record and the field (nothing written)', async () => {
    const store = await freshStore()
    await assert.rejects(store.createApp({ slug: 'Bad Slug', algorithm: 'HMAC_SHA256', privateKey: hmacKeyHex(32) }),
      { code: 'FST_LINKED_SERVICES_INVALID_RECORD', message: /PostgresStore: app "Bad Slug": slug must be a slug/ })
    await assert.rejects(store.createApp({ slug: 'short', algorithm: 'HMAC_SHA256', privateKey: 'abcd' }),
      { code: 'FST_LINKED_SERVICES_INVALID_RECORD', message: /app "short": privateKey: the HMAC secret is shorter than 32 bytes/ })
    assert.equal(await store.getApp('short'), null)
    await store.createApp({ slug: 'ok', algorithm: 'HMAC_SHA256', privateKey: hmacKeyHex(32) })
    await assert.rejects(store.createApp({ slug: 'ok', algorithm: 'HMAC_SHA256', privateKey: hmacKeyHex(32) }), { code: 'FST_LINKED_SERVICES_RECORD_EXISTS' })
    await assert.rejects(store.updateApp('ok', { privateKey: 'zz' }), { code: 'FST_LINKED_SERVICES_INVALID_RECORD', message: /app "ok": privateKey/ })
    await assert.rejects(store.updateApp('missing', {}), { code: 'FST_LINKED_SERVICES_RECORD_NOT_FOUND' })
    await assert.rejects(store.setAgreement({ app: 'ok', userId: 42, optionalScopes: [] }), { code: 'FST_LINKED_SERVICES_RECORD_NOT_FOUND', message: /user 42/ })
    await assert.rejects(store.setAgreement({ app: 'ghost', userId: 42, optionalScopes: [] }), { code: 'FST_LINKED_SERVICES_RECORD_NOT_FOUND', message: /app ghost/ })
    await assert.rejects(store.linkUser('ghost', 'ok', 1), { code: 'FST_LINKED_SERVICES_RECORD_NOT_FOUND' })
    // upsertApp: an existing app is updated (found by its coded error, not by a message).
    assert.equal((await store.upsertApp({ slug: 'ok', algorithm: 'HMAC_SHA256', privateKey: hmacKeyHex(32), name: 'OK' })).name, 'OK')
    assert.throws(() => new PostgresStore({ connectionString: DATABASE_URL, poolsize: 3 } as never),
      { code: 'FST_LINKED_SERVICES_INVALID_OPTION', message: /unknown option poolsize \(did you mean maxConnections\?\)/ })
  })

  test('users: extra fields kept, credentials compared as strings and replaced, one local user per external id', async () => {
    const store = await freshStore()
    await store.addUser({ id: 7, username: 'jane', email: 'jane@x', first_name: 'Jane', is_staff: true, profile: { a: [1] }, credentials: { a: 9, b: 'x-1' } })
    const jane = await store.getUser(7)
    assert.deepEqual(jane, { id: 7, username: 'jane', email: 'jane@x', first_name: 'Jane', last_name: '', is_staff: true, profile: { a: [1] }, credentials: { a: '9', b: 'x-1' } })
    assert.equal((await store.findUserByCredential('a', '9'))?.id, 7)
    await store.addUser({ id: 'abc', username: 'other', email: 'o@x' })
    await assert.rejects(store.linkUser('abc', 'a', 9), /already linked to another local user/)
    await store.linkUser('abc', 'a', 10)
    assert.equal((await store.findUserByCredential('a', '10'))?.id, 'abc')
    await assert.rejects(store.linkUser('ghost', 'a', 11), /not found/)
    // credentials given: they replace the old ones.
    await store.addUser({ id: 7, username: 'jane', email: 'jane@x', credentials: { c: 1 } })
    assert.equal(await store.findUserByCredential('a', '9'), null)
    assert.equal((await store.findUserByCredential('c', '1'))?.id, 7)
    // Inputs no record can match are "not there", never an error.
    for (const odd of ['', 'a\u0000b', 'x'.repeat(500), "9' OR '1'='1"]) {
      assert.equal(await store.findUserByCredential('a', odd), null)
      assert.equal(await store.findUserByCredential(odd, '9'), null)
      assert.equal(await store.getApp(odd), null)
      assert.equal(await store.getAgreement(odd, '7'), null)
      assert.equal(await store.getAgreement('a', odd), null)
    }
    assert.equal(await store.getUser('nobody'), null)
    await assert.rejects(store.addUser({ id: '' }), { code: 'FST_LINKED_SERVICES_INVALID_RECORD', message: /id must be a non-empty string or an integer/ })
  })

  test('linkRemoteUser: concurrent calls for one person make one user; generated ids stay clear of explicit ones', async () => {
    const store = await freshStore()
    await store.addUser({ id: 40, username: 'seed', email: 'seed@x' })
    const profile = { id: 'r-1', username: 'remote', email: 'remote@x', first_name: 'Re' }
    const users = await Promise.all(Array.from({ length: 8 }, async () => await store.linkRemoteUser('peer', profile)))
    assert.equal(new Set(users.map((user) => String(user.id))).size, 1)
    assert.ok(Number(users[0].id) > 40, String(users[0].id))
    assert.equal(users[0].first_name, 'Re')
    assert.deepEqual(users[0].credentials, { peer: 'r-1' })
    // The same person seen through another app: the same local user.
    const again = await store.linkRemoteUser('other', { ...profile, id: 5 })
    assert.equal(again.id, users[0].id)
    assert.deepEqual(again.credentials, { other: '5', peer: 'r-1' })
    await assert.rejects(store.linkRemoteUser('', profile))
  })

  test('change feed: every admin method announces its change on commit, other stores hear it at once', async (t) => {
    const writer = await freshStore()
    const reader = new PostgresStore({ connectionString: DATABASE_URL, schema: writer.schema })
    stores.push(reader)
    const changes: Array<StoreChange & { at: number }> = []
    const unsubscribe = await reader.subscribe((change) => changes.push({ ...change, at: performance.now() }))
    assert.equal(reader.listening, true)
    const expect = async (action: () => Promise<unknown>, wanted: StoreChange[]): Promise<number> => {
      changes.length = 0
      const start = performance.now()
      await action()
      await waitFor(() => wanted.every((w) => changes.some((c) => c.type === w.type && c.app === w.app)), 2000, 1)
      return Math.max(...changes.map((c) => c.at)) - start
    }
    const latencies: number[] = []
    latencies.push(await expect(async () => await writer.createApp({ slug: 'f', algorithm: 'HMAC_SHA256', privateKey: hmacKeyHex(32) }), [{ type: 'app', app: 'f' }]))
    latencies.push(await expect(async () => await writer.updateApp('f', { requiredScopes: ['s'] }), [{ type: 'app', app: 'f' }]))
    latencies.push(await expect(async () => await writer.rotateKey('f', { privateKey: hmacKeyHex(32) }), [{ type: 'app', app: 'f' }]))
    latencies.push(await expect(async () => await writer.addUser({ id: 1, credentials: { f: 1, g: 2 } }), [{ type: 'user', app: 'f' }, { type: 'user', app: 'g' }]))
    latencies.push(await expect(async () => await writer.linkUser(1, 'h', 3), [{ type: 'user', app: 'h' }]))
    latencies.push(await expect(async () => await writer.setAgreement({ app: 'f', userId: 1, optionalScopes: [] }), [{ type: 'agreement', app: 'f' }]))
    latencies.push(await expect(async () => await writer.removeAgreement('f', 1), [{ type: 'agreement', app: 'f' }]))
    latencies.push(await expect(async () => await writer.linkRemoteUser('f', { id: 99, username: 'n', email: 'n@x' }), [{ type: 'user', app: 'f' }]))
    latencies.push(await expect(async () => await writer.removeApp('f'), [{ type: 'app', app: 'f' }]))
    // Measured: commit -> listener, per change.
    t.diagnostic(`NOTIFY latency (ms): max ${Math.max(...latencies).toFixed(1)}, all ${latencies.map((l) => l.toFixed(1)).join(' ')}`)
    assert.ok(Math.max(...latencies) < 500, String(latencies))

    // A refused change (rolled back) announces nothing.
    changes.length = 0
    await assert.rejects(writer.createApp({ slug: 'bad', algorithm: 'HMAC_SHA256', privateKey: '00' }))
    await new Promise((resolve) => setTimeout(resolve, 100))
    assert.equal(changes.length, 0)
    // Another schema's channel is not ours.
    const elsewhere = await freshStore()
    await elsewhere.createApp({ slug: 'f2', algorithm: 'HMAC_SHA256', privateKey: hmacKeyHex(32) })
    await new Promise((resolve) => setTimeout(resolve, 100))
    assert.equal(changes.length, 0)
    unsubscribe()
    assert.equal(reader.listening, false, 'the last unsubscribe closes the LISTEN connection')
  })

  test('change feed payloads are checked; a throwing subscriber does not stop the others', async () => {
    assert.deepEqual(parseChange('{"type":"app","app":"x"}'), { type: 'app', app: 'x' })
    for (const bad of [undefined, '', 'null', '[]', '{"type":"other","app":"x"}', '{"type":"app","app":""}', '{"type":"app"}', '{', 'x'.repeat(2000)]) {
      assert.equal(parseChange(bad), null, String(bad))
    }
    const store = await freshStore()
    const heard: string[] = []
    const offA = await store.subscribe(() => { throw new Error('boom') })
    const offB = await store.subscribe((change) => heard.push(change.app))
    await store.pool.query('SELECT pg_notify($1, $2)', [store.notifyChannel, 'not json'])
    await store.pool.query('SELECT pg_notify($1, $2)', [store.notifyChannel, '{"type":"app","app":"z"}'])
    await waitFor(() => heard.includes('z'), 2000)
    assert.deepEqual(heard, ['z'])
    offA()
    offB()
    await assert.rejects(store.subscribe('x' as unknown as () => void), /function/)
  })

  test('database down: queries fail fast (the plugin answers 503) and work again when it is back', async () => {
    const proxy = new TcpProxy(DATABASE_URL)
    const port = await proxy.start()
    const schema = uniqueSchema('down')
    schemas.push(schema)
    const store = new PostgresStore({ connectionString: throughPort(DATABASE_URL, port), schema, connectionTimeoutMillis: 500 })
    stores.push(store)
    await store.migrate()
    await store.createApp({ slug: 'd', algorithm: 'HMAC_SHA256', privateKey: hmacKeyHex(32) })
    await proxy.cut()
    const start = performance.now()
    await assert.rejects(store.getApp('d'))
    assert.ok(performance.now() - start < 1500, 'fails fast')
    await proxy.restore()
    await waitFor(async () => (await store.getApp('d').catch(() => null)) !== null, 5000, 50)
    await proxy.close()
  })

  test('LISTEN connection lost: it reconnects, and announces every app it served (changes made meanwhile are not missed)', async (t) => {
    const direct = await freshStore()
    await direct.createApp({ slug: 'served', algorithm: 'HMAC_SHA256', privateKey: hmacKeyHex(32) })
    await direct.createApp({ slug: 'unseen', algorithm: 'HMAC_SHA256', privateKey: hmacKeyHex(32) })
    const proxy = new TcpProxy(DATABASE_URL)
    const port = await proxy.start()
    const viaProxy = new PostgresStore({ connectionString: throughPort(DATABASE_URL, port), schema: direct.schema, listenReconnectMs: 20, listenPingMs: 200 })
    stores.push(viaProxy)
    const heard: StoreChange[] = []
    const unsubscribe = await viaProxy.subscribe((change) => heard.push(change))
    assert.ok(await viaProxy.getApp('served'))
    await proxy.cut()
    await waitFor(() => !viaProxy.listening, 2000)
    // Changed while this instance could not hear it.
    await direct.rotateKey('served', { privateKey: hmacKeyHex(32) })
    await new Promise((resolve) => setTimeout(resolve, 100))
    assert.equal(heard.length, 0)
    await proxy.restore()
    const took = await waitFor(() => heard.some((change) => change.app === 'served'), 5000)
    assert.equal(heard.some((change) => change.app === 'unseen'), false, 'only the apps it served')
    t.diagnostic(`LISTEN reconnected and flushed ${took.toFixed(0)} ms after the database came back`)
    // And it hears new changes again.
    heard.length = 0
    await direct.updateApp('unseen', { appUrl: 'http://u' })
    await waitFor(() => heard.some((change) => change.app === 'unseen'), 2000)
    unsubscribe()
    await proxy.close()
  })
})
