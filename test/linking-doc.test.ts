/**
 * docs/linking.md, run as written: every `npx linked-services` line of its sh blocks, in order,
 * against two fresh PostgreSQL databases (`$ACCOUNTS_DB`, `$BILLING_DB`), with `> file` as the
 * shell would do it; then the calls its TypeScript blocks describe, against a server of accounts.
 */
import { after, before, test } from 'node:test'
import assert from 'node:assert/strict'
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { randomBytes } from 'node:crypto'
import pg from 'pg'
import Fastify, { type FastifyInstance } from 'fastify'
import linkedServices from '../plugin/index.js'
import { main } from '../plugin/cli/main.js'
import { linkAuthorizationHeader, signJwt } from '../plugin/client/sign-jwt.js'
import { PostgresStore } from '../plugin/stores/postgres-store.js'
import { DATABASE_URL, servicesSkipSync } from './helpers/services.js'

const skip = servicesSkipSync({ postgres: true })
const suffix = `${process.pid}_${randomBytes(4).toString('hex')}`
const databases = { ACCOUNTS_DB: `ls_test_accounts_${suffix}`, BILLING_DB: `ls_test_billing_${suffix}` }
const urls: Record<string, string> = {}
const dir = mkdtempSync(join(tmpdir(), 'linked-services-linking-'))

async function admin (sql: string): Promise<void> {
  const client = new pg.Client({ connectionString: DATABASE_URL })
  await client.connect()
  try {
    await client.query(sql)
  } finally {
    await client.end()
  }
}

before(async () => {
  if (skip !== false) return
  for (const [variable, name] of Object.entries(databases)) {
    await admin(`CREATE DATABASE "${name}"`)
    const url = new URL(DATABASE_URL)
    url.pathname = `/${name}`
    urls[variable] = url.toString()
  }
})

after(async () => {
  for (const name of Object.values(databases)) await admin(`DROP DATABASE IF EXISTS "${name}" WITH (FORCE)`).catch(() => {})
})

function commands (): string[] {
  const markdown = readFileSync(join(__dirname, '../docs/linking.md'), 'utf8')
  return [...markdown.matchAll(/```sh\n([\s\S]*?)```/g)].flatMap(([, block]) => block.split('\n').filter((line) => line.startsWith('npx linked-services ')))
}

async function runLine (line: string): Promise<string> {
  const [command, target] = line.split(' > ')
  const argv = command.replace(/^npx linked-services /, '').split(' ')
    .map((word) => word.replace(/^\$([A-Z_]+)$/, (_, name: string) => urls[name] ?? word))
    .map((word) => /^[\w.-]+\.json$/.test(word) ? join(dir, word) : word)
  let out = ''
  let err = ''
  const code = await main(argv, {}, { stdout: (text) => { out += text + '\n' }, stderr: (text) => { err += text + '\n' } })
  assert.equal(code, 0, `${line}\n${err}`)
  if (target !== undefined) writeFileSync(join(dir, target), out)
  return out
}

/** accounts' server of step 4. */
async function accountsServer (): Promise<FastifyInstance> {
  const app = Fastify()
  await app.register(linkedServices, { appName: 'accounts', store: new PostgresStore({ connectionString: urls.ACCOUNTS_DB }) })
  app.get('/v1/me', { preHandler: app.scope(['read:user']) }, async (request) => ({ caller: request.app.slug }))
  return app
}

test('docs/linking.md: its commands run as written, and billing\'s first call to accounts succeeds', { skip }, async () => {
  const lines = commands()
  assert.ok(lines.length >= 8, 'the walkthrough has its commands')
  const outputs = new Map<string, string>()
  let server: FastifyInstance | undefined
  const billingStore = new PostgresStore({ connectionString: urls.BILLING_DB })
  try {
    for (const line of lines) {
      if (line.includes('apps rotate-key')) {
        // Step 4 first: the call described by the TypeScript blocks, as billing would make it.
        server = await accountsServer()
        const accounts = await billingStore.admin.getApp('accounts', { withSecrets: true })
        const token = signJwt({ appName: 'billing', app: accounts })
        const response = await server.inject({ url: '/v1/me', headers: { authorization: linkAuthorizationHeader('billing', token) } })
        assert.deepEqual([response.statusCode, response.json()], [200, { caller: 'billing' }])
        const minted = outputs.get('sign-jwt') ?? ''
        const self = await server.inject({ url: '/v1/me', headers: { authorization: minted.trim().replace(/^Authorization: /, '') } })
        assert.equal(self.statusCode, 200, 'the header accounts minted itself')
      }
      const out = await runLine(line)
      if (line.includes('sign-jwt')) outputs.set('sign-jwt', out)
      if (line.includes('apps list')) {
        assert.match(out, /accounts +HMAC_SHA512/)
        const secret = (JSON.parse(readFileSync(join(dir, 'accounts-for-billing.json'), 'utf8')) as { peer: { record: { privateKey: string } } }).peer.record.privateKey
        assert.ok(!out.includes(secret), 'no key in apps list')
      }
    }
    // After step 5's revoke, accounts refuses billing.
    const accounts = await billingStore.admin.getApp('accounts', { withSecrets: true })
    const refused = await server?.inject({ url: '/v1/me', headers: { authorization: linkAuthorizationHeader('billing', signJwt({ appName: 'billing', app: accounts })) } })
    assert.equal(refused?.statusCode, 401)
  } finally {
    await server?.close()
    await billingStore.close()
  }
})
