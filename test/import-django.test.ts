/**
 * `linked-services import-django` against the original's own tables: the schema its Django
 * migrations create (test/fixtures/django-original-schema.sql) loaded into a fresh schema, rows
 * written as the original stores them (hex of the secret, hex of PEM text). The import keeps the
 * keys (a peer's JWT still verifies), skips what it cannot use and says why, writes nothing on a
 * dry run or a failure, and changes nothing when run again.
 */
import { after, before, describe, test } from 'node:test'
import assert from 'node:assert/strict'
import { readFileSync } from 'node:fs'
import { join } from 'node:path'
import pg from 'pg'
import Fastify from 'fastify'
import linkedServices from '../plugin/index.js'
import { main } from '../plugin/cli/main.js'
import { linkAuthorizationHeader, signJwt } from '../plugin/client/sign-jwt.js'
import { PostgresStore } from '../plugin/stores/postgres-store.js'
import { ed25519Keys, hmacKeyHex } from './helpers/keys.js'
import { DATABASE_URL, dropSchema, servicesSkipSync, uniqueSchema } from './helpers/services.js'

const skip = servicesSkipSync({ postgres: true })

async function run (...argv: string[]): Promise<{ code: number, out: string, err: string }> {
  let out = ''
  let err = ''
  const code = await main(argv, {}, { stdout: (text) => { out += text + '\n' }, stderr: (text) => { err += text + '\n' } })
  return { code, out, err }
}

describe('import-django from the original\'s tables', { skip }, () => {
  const django = uniqueSchema('django')
  const target = uniqueSchema('imported')
  const secret = hmacKeyHex(64)
  const legacySecret = hmacKeyHex(64)
  const ed = ed25519Keys()
  const client = new pg.Client({ connectionString: DATABASE_URL })
  const args = ['--from', DATABASE_URL, '--from-schema', django, '--database-url', DATABASE_URL, '--schema', target]

  before(async () => {
    await client.connect()
    const schemaSql = readFileSync(join(__dirname, 'fixtures/django-original-schema.sql'), 'utf8').replaceAll('public.', `"${django}".`)
    await client.query(`CREATE SCHEMA "${django}"; SET search_path TO "${django}"; ${schemaSql}`)
    const now = new Date()
    await client.query(`
      INSERT INTO linked_services_scope (name, slug, description) VALUES ('Read users', 'read:user', 'Read your profile'), ('Webhooks', 'webhook', '');
      INSERT INTO linked_services_app (name, slug, description, algorithm, strategy, schema, agreement_version, private_key, public_key,
          require_an_agreement, users_path, webhook_url, redirect_url, app_url, created_at, updated_at) VALUES
        ('4Geeks', '4geeks', 'the LMS', 'HMAC_SHA512', 'JWT', 'LINK', 2, $1, NULL, true, '/v1/auth/app/user/', '', '', 'https://4geeks.example', $4, $4),
        ('Rigobot', 'rigobot', '', 'ED25519', 'JWT', 'LINK', 1, $2, $3, false, '/v1/auth/app/user/', '', '', '', $4, $4),
        ('Old', 'old', '', 'RS256', 'JWT', 'LINK', 1, $1, NULL, false, '/', '', '', '', $4, $4),
        ('Weak', 'weak', '', 'HMAC_SHA256', 'JWT', 'LINK', 1, 'abcd', NULL, false, '/', '', '', '', $4, $4);
      INSERT INTO linked_services_apprequiredscope (agreed_at, app_id, scope_id)
        SELECT $4, a.id, s.id FROM linked_services_app a, linked_services_scope s WHERE a.slug = '4geeks' AND s.slug = 'read:user';
      INSERT INTO linked_services_appoptionalscope (agreed_at, app_id, scope_id)
        SELECT $4, a.id, s.id FROM linked_services_app a, linked_services_scope s WHERE a.slug = '4geeks' AND s.slug = 'webhook';
      INSERT INTO linked_services_legacykey (algorithm, strategy, schema, private_key, public_key, webhook_url, redirect_url, created_at, updated_at, app_id)
        SELECT 'HMAC_SHA512', 'JWT', 'LINK', $5, NULL, '', '', $4, $4, id FROM linked_services_app WHERE slug = '4geeks';
      INSERT INTO auth_user (id, password, is_superuser, username, first_name, last_name, email, is_staff, is_active, date_joined) VALUES
        (5, '!', false, 'jane', 'Jane', 'Doe', 'jane@example.com', false, true, $4), (6, '!', false, 'nobody', '', '', 'n@example.com', false, true, $4);
      INSERT INTO linked_services_optionalscopeset (id) VALUES (1);
      INSERT INTO linked_services_optionalscopeset_optional_scopes (optionalscopeset_id, scope_id) SELECT 1, id FROM linked_services_scope WHERE slug = 'webhook';
      INSERT INTO linked_services_appuseragreement (agreement_version, agreed_at, app_id, user_id, optional_scope_set_id)
        SELECT 2, $4, id, 5, 1 FROM linked_services_app WHERE slug = '4geeks';
      INSERT INTO linked_services_firstpartycredentials (app, health_status, user_id) VALUES ('{"4geeks": 77, "rigobot": "r-5"}', '{}', 5);
    `.replaceAll(/\$(\d)/g, (_, n: string) => ['', `'${secret}'`, `'${ed.privatePemHex}'`, `'${ed.publicPemHex}'`, `'${now.toISOString()}'`, `'${legacySecret}'`][Number(n)]))
    assert.equal((await run('migrate', '--database-url', DATABASE_URL, '--schema', target)).code, 0)
  })

  after(async () => {
    await client.end()
    await dropSchema(django)
    await dropSchema(target)
  })

  test('--dry-run reports and writes nothing', async () => {
    const dry = await run('import-django', ...args, '--dry-run')
    assert.equal(dry.code, 0, dry.err)
    assert.match(dry.out, /^Would import 2 scope\(s\), 2 app\(s\) \(4geeks, rigobot\), 1 user\(s\), 1 agreement\(s\)\./)
    assert.match(dry.out, /skipped app old: unknown algorithm "RS256"/)
    assert.match(dry.out, /skipped app weak: .*privateKey/)
    assert.doesNotMatch(dry.out, /abcd|[0-9a-f]{64}/, 'no key in the report')
    const store = new PostgresStore({ connectionString: DATABASE_URL, schema: target })
    try {
      assert.deepEqual(await store.listApps(), [])
    } finally {
      await store.close()
    }
  })

  test('imports apps with their keys, scopes, legacy key, users, credentials and agreements; a second run changes nothing', async () => {
    const first = await run('import-django', ...args, '--json')
    assert.equal(first.code, 0, first.err)
    const report = JSON.parse(first.out) as { imported: { apps: string[] }, skipped: string[] }
    assert.deepEqual(report.imported.apps, ['4geeks', 'rigobot'])
    assert.equal(report.skipped.length, 2)

    const store = new PostgresStore({ connectionString: DATABASE_URL, schema: target })
    try {
      const snapshot = async (): Promise<unknown> => ({
        apps: await Promise.all(['4geeks', 'rigobot'].map(async (slug) => await store.admin.getApp(slug, { withSecrets: true }))),
        scopes: await store.admin.listScopes(),
        users: await store.admin.listUsers(),
        agreements: await store.admin.listAgreements()
      })
      const lms = await store.getApp('4geeks')
      assert.equal(lms?.privateKey, secret)
      assert.deepEqual([lms?.requiredScopes, lms?.optionalScopes, lms?.agreementVersion, lms?.appUrl, lms?.webhookUrl], [['read:user'], ['webhook'], 2, 'https://4geeks.example', null])
      assert.deepEqual(lms?.previousKeys?.map((key) => key.privateKey), [legacySecret], 'the legacy key still verifies for its two minutes')
      assert.equal((await store.getApp('rigobot'))?.publicKey, ed.publicPemHex)
      assert.equal(await store.getApp('old'), null)
      assert.deepEqual((await store.admin.listScopes()).map((scope) => [scope.slug, scope.name]), [['read:user', 'Read users'], ['webhook', 'Webhooks']])
      assert.equal(String((await store.findUserByCredential('4geeks', '77'))?.id), '5')
      assert.equal((await store.findUserByCredential('rigobot', 'r-5'))?.username, 'jane')
      assert.deepEqual((await store.getAgreement('4geeks', '5'))?.optionalScopes, ['webhook'])
      assert.equal(await store.getUser(6), null, 'only the users that links name')

      const before = await snapshot()
      const second = await run('import-django', ...args, '--json')
      assert.equal(second.code, 0, second.err)
      assert.deepEqual(await snapshot(), before, 'idempotent')
    } finally {
      await store.close()
    }

    // The peer keeps its key: a JWT it signs for this service verifies.
    const server = Fastify()
    await server.register(linkedServices, { appName: 'node-service', store: new PostgresStore({ connectionString: DATABASE_URL, schema: target }) })
    server.get('/v1/me', { preHandler: server.scope(['read:user']) }, async (request) => ({ app: request.app.slug }))
    try {
      const token = signJwt({ appName: '4geeks', app: { slug: 'node-service', algorithm: 'HMAC_SHA512', privateKey: secret } })
      const response = await server.inject({ url: '/v1/me', headers: { authorization: linkAuthorizationHeader('4geeks', token) } })
      assert.equal(response.statusCode, 200, response.body)
    } finally {
      await server.close()
    }
  })

  test('refusals: no --from, a schema without the tables, an unreachable source, an unmigrated target, a failure half-way (nothing written)', async () => {
    assert.equal((await run('import-django')).code, 1)
    const empty = await run('import-django', '--from', DATABASE_URL, '--from-schema', target, '--dry-run')
    assert.deepEqual([empty.code, empty.err], [1, `error: ${target} holds no tables of the original linked-services package (--from-schema?)\n`])
    const down = await run('import-django', '--from', 'postgres://u:hunter2@127.0.0.1:1/django', '--dry-run')
    assert.equal(down.code, 2)
    assert.doesNotMatch(down.err, /hunter2/)
    const unmigrated = await run('import-django', '--from', DATABASE_URL, '--from-schema', django, '--database-url', DATABASE_URL, '--schema', uniqueSchema('none'))
    assert.equal(unmigrated.code, 1)
    assert.match(unmigrated.err, /nothing imported: .*migrate/)

    // A failure half-way (77 is already someone else's id in 4geeks) leaves the target as it was.
    const clash = uniqueSchema('clash')
    const store = new PostgresStore({ connectionString: DATABASE_URL, schema: clash })
    try {
      await store.migrate()
      await store.addUser({ id: 9, credentials: { '4geeks': 77 } })
      const failed = await run('import-django', '--from', DATABASE_URL, '--from-schema', django, '--database-url', DATABASE_URL, '--schema', clash)
      assert.equal(failed.code, 1)
      assert.match(failed.err, /^error: nothing imported: .*4geeks user 77 is already linked/)
      assert.deepEqual([await store.listApps(), await store.admin.listScopes(), (await store.admin.listUsers()).length], [[], [], 1])
    } finally {
      await store.close()
      await dropSchema(clash)
    }
    assert.match((await run('import-django', '--help')).out, /Example:\n {2}linked-services import-django/)
  })
})
