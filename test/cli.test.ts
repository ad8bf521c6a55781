import { test } from 'node:test'
import assert from 'node:assert/strict'
import { execFile } from 'node:child_process'
import { existsSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { createPublicKey, sign, verify } from 'node:crypto'
import Fastify from 'fastify'
import linkedServices, { MemoryStore } from '../plugin/index.js'
import { main } from '../plugin/cli/main.js'
import { parseEd25519PrivateKey, parseEd25519PublicKey } from '../plugin/keys/parse.js'
import type { AppRecord } from '../types/index.js'
import { ed25519Keys, hmacKeyHex } from './helpers/keys.js'

const dir = mkdtempSync(join(tmpdir(), 'linked-services-cli-'))
const ed = ed25519Keys()
const APPS: AppRecord[] = [
  { slug: '4geeks', algorithm: 'HMAC_SHA512', privateKey: hmacKeyHex(64), requireAnAgreement: false },
  { slug: 'signer', algorithm: 'HMAC_SHA256', privateKey: hmacKeyHex(32), strategy: 'SIGNATURE', requireAnAgreement: false },
  { slug: 'edpeer', algorithm: 'ED25519', privateKey: ed.privatePemHex, requireAnAgreement: false }
]
const appsFile = join(dir, 'apps.json')
writeFileSync(appsFile, JSON.stringify({ appName: 'nodeservice', apps: APPS }))

async function run (...argv: string[]): Promise<{ code: number, out: string, err: string }> {
  let out = ''
  let err = ''
  const code = await main(argv, {}, { stdout: (text) => { out += text + '\n' }, stderr: (text) => { err += text + '\n' } })
  return { code, out, err }
}

/** This service, holding the same app records the CLI read. */
async function receiver (options: Record<string, unknown> = {}) {
  const server = Fastify()
  await server.register(linkedServices, { appName: 'nodeservice', store: new MemoryStore({ apps: APPS }), ...options })
  server.get('/v1/x', { preHandler: server.scope() }, async (request) => ({ app: request.app?.slug, sub: request.token?.sub }))
  server.post('/v1/x', { preHandler: server.scope([], { mode: 'signature' }) }, async (request) => ({ app: request.app?.slug, body: request.body }))
  return server
}

function headerLines (out: string): Record<string, string> {
  const headers: Record<string, string> = {}
  for (const line of out.trim().split('\n')) {
    const at = line.indexOf(': ')
    headers[line.slice(0, at).toLowerCase()] = line.slice(at + 2)
  }
  return headers
}

test('help: the command list, per-command help, unknown command', async () => {
  const usage = await run()
  assert.equal(usage.code, 2)
  for (const command of ['sign-jwt', 'sign-request', 'keygen', 'migrate']) assert.match(usage.out, new RegExp(`  ${command} `))
  assert.equal((await run('--help')).code, 0)
  const help = await run('sign-jwt', '--help')
  assert.equal(help.code, 0)
  assert.match(help.out, /Usage: linked-services sign-jwt <app> \[user-id\]/)
  assert.match((await run('help', 'sign-request')).out, /RFC 9421/)
  assert.match((await run('keygen', '-h')).out, /--algorithm/)
  const unknown = await run('sign_jwt')
  assert.equal(unknown.code, 2)
  assert.match(unknown.err, /unknown command "sign_jwt"/)
})

test('sign-jwt prints the original\'s line, minted reverse, and this service accepts it', async (t) => {
  const server = await receiver()
  t.after(async () => await server.close())
  const { code, out } = await run('sign-jwt', '4geeks', '5', '--apps', appsFile)
  assert.equal(code, 0)
  const match = /^Authorization: (Link App=4geeks,Token=([\w-]+\.([\w-]+)\.[\w-]+))\n$/.exec(out)
  assert.ok(match, out)
  const claims = JSON.parse(Buffer.from(match[3], 'base64url').toString())
  assert.equal(claims.app, '4geeks')
  assert.equal(claims.aud, 'nodeservice')
  assert.equal(claims.sub, '5')
  assert.equal(claims.exp - claims.iat, 601)
  const response = await server.inject({ url: '/v1/x', headers: { authorization: match[1] } })
  assert.equal(response.statusCode, 200, response.body)
  assert.deepEqual(response.json(), { app: '4geeks', sub: '5' })

  // Ed25519 (the original's shared-key set-up), no user, own name from the flag, custom lifetime.
  const edRun = await run('sign-jwt', 'edpeer', '--apps', appsFile, '--app-name', 'nodeservice', '--expires-in', '60')
  const edHeader = edRun.out.trim().slice('Authorization: '.length)
  const edResponse = await server.inject({ url: '/v1/x', headers: { authorization: edHeader } })
  assert.deepEqual(edResponse.json(), { app: 'edpeer', sub: null })
})

test('sign-request: RFC 9421 headers with --url, accepted by this service', async (t) => {
  const server = await receiver()
  t.after(async () => await server.close())
  const { code, out, err } = await run('sign-request', 'signer', '', 'post', '{"a": "1"}', '{"id": 1, "name": "Jane"}', '{"X-Tenant": "t1"}',
    '--apps', appsFile, '--url', 'http://127.0.0.1:3000/v1/x')
  assert.equal(code, 0, err)
  assert.match(err, /send POST http:\/\/127\.0\.0\.1:3000\/v1\/x\?a=1 with the body \{"id":1,"name":"Jane"\}/)
  const headers = headerLines(out)
  assert.deepEqual(Object.keys(headers).sort(), ['content-digest', 'content-type', 'host', 'signature', 'signature-input', 'x-tenant'])
  assert.match(headers['signature-input'], /keyid="signer"/)
  // The Host that was signed is printed with the rest.
  assert.equal(headers.host, '127.0.0.1:3000')
  const response = await server.inject({
    method: 'POST',
    url: '/v1/x?a=1',
    headers,
    payload: '{"id":1,"name":"Jane"}'
  })
  assert.equal(response.statusCode, 200, response.body)
  assert.deepEqual(response.json(), { app: 'signer', body: { id: 1, name: 'Jane' } })
})

test('sign-request without --url: the original\'s Authorization: Signature line, accepted with signature.legacy', async (t) => {
  const server = await receiver({ signature: { legacy: true } })
  t.after(async () => await server.close())
  const { code, out, err } = await run('sign-request', 'signer', '', 'post', '{"q": ["x", "y"]}', '{"id": 1}', '--apps', appsFile)
  assert.equal(code, 0, err)
  assert.match(out, /^Authorization: Signature App=signer,Nonce=[0-9a-f]{64},SignedHeaders=,Date=\d{4}-\d\d-\d\dT[\d:.]+\+00:00\n$/)
  assert.match(err, /with the query \?q=x&q=y and the JSON body \{"id":1\}/)
  const response = await server.inject({
    method: 'POST',
    url: '/v1/x?q=x&q=y',
    headers: { authorization: out.trim().slice('Authorization: '.length), 'content-type': 'application/json' },
    payload: '{"id":1}'
  })
  assert.equal(response.statusCode, 200, response.body)
})

test('bad input: a clear error and a non-zero exit', async () => {
  const badJson = join(dir, 'bad.json')
  writeFileSync(badJson, '{ apps: [] }')
  const noSlug = join(dir, 'noslug.json')
  writeFileSync(noSlug, JSON.stringify([{ algorithm: 'HMAC_SHA256' }]))
  const noName = join(dir, 'noname.json')
  writeFileSync(noName, JSON.stringify(APPS))
  const cases: Array<[string[], number, RegExp]> = [
    [['sign-jwt', '4geeks'], 2, /apps file is required/],
    [['sign-jwt', '--apps', appsFile], 2, /missing app/],
    [['sign-jwt', 'ghost', '--apps', appsFile], 1, /App ghost not found/],
    [['sign-jwt', '4geeks', '--apps', join(dir, 'missing.json')], 2, /cannot read the apps file .*ENOENT/],
    [['sign-jwt', '4geeks', '--apps', badJson], 2, /not valid JSON/],
    [['sign-jwt', '4geeks', '--apps', noSlug], 2, /apps\[0\] has no slug/],
    [['sign-jwt', '4geeks', '--apps', noName], 2, /this service's name is required/],
    [['sign-jwt', '4geeks', '--apps', appsFile, '--expires-in', 'soon'], 2, /--expires-in/],
    [['sign-jwt', '4geeks', '1', 'extra', '--apps', appsFile], 2, /unexpected arguments: extra/],
    [['sign-jwt', '4geeks', '--apps', appsFile, '--bogus'], 2, /Unknown option '--bogus'/],
    [['sign-request', 'signer', '', 'get', "{'a': 1}", '--apps', appsFile], 2, /params is not valid JSON/],
    [['sign-request', 'signer', '', 'post', '{}', 'require("fs")', '--apps', appsFile], 2, /body is not valid JSON/],
    [['sign-request', 'signer', '', 'get', '[1]', '--apps', appsFile], 2, /params must be a JSON object/],
    [['sign-request', 'signer', '', 'get', '{"a": {"b": 1}}', '--apps', appsFile], 2, /params\.a must be/],
    [['sign-request', 'signer', '7', '--apps', appsFile], 2, /carries no user/],
    [['sign-request', 'signer', '', 'g et', '--apps', appsFile], 2, /not an HTTP method/],
    [['sign-request', 'signer', '', 'get', '{}', 'null', '{"X-A": "1"}', '--apps', appsFile], 2, /legacy scheme cannot sign headers/],
    [['sign-request', 'signer', '', 'get', '{}', 'null', '{"Authorization": "x"}', '--apps', appsFile, '--url', 'http://h/'], 2, /Authorization/],
    [['sign-request', 'signer', '', 'get', '{}', 'null', '{"X-A": {}}', '--apps', appsFile, '--url', 'http://h/'], 2, /header X-A must be a string/],
    [['sign-request', 'signer', '--scheme', 'rfc9421', '--apps', appsFile], 2, /give --url/],
    [['sign-request', 'signer', '--scheme', 'v2', '--apps', appsFile], 2, /--scheme must be/],
    [['sign-request', 'edpeer', '--apps', appsFile], 1, /legacy scheme is HMAC only/],
    [['keygen'], 2, /--algorithm must be/],
    [['keygen', '--algorithm', 'RSA'], 2, /--algorithm must be/],
    [['keygen', '--algorithm', 'ED25519', '--format', 'der'], 2, /--format must be/],
    [['keygen', 'extra', '--algorithm', 'ED25519'], 2, /unexpected arguments/]
  ]
  for (const [argv, expected, message] of cases) {
    const { code, err, out } = await run(...argv)
    assert.equal(code, expected, `${argv.join(' ')}: ${err}`)
    assert.match(err, message, argv.join(' '))
    assert.equal(out, '', argv.join(' '))
  }
})

test('keygen: HMAC secrets and Ed25519 pairs in the original\'s format, usable as app keys', async () => {
  for (const algorithm of ['HMAC_SHA256', 'HMAC_SHA512', 'hmac-sha512']) {
    const { code, out } = await run('keygen', '--algorithm', algorithm)
    assert.equal(code, 0)
    const key = JSON.parse(out)
    assert.match(key.privateKey, /^[0-9a-f]{128}$/)
    assert.equal(key.publicKey, null)
  }
  const pair = JSON.parse((await run('keygen', '--algorithm', 'ED25519')).out)
  assert.match(Buffer.from(pair.privateKey, 'hex').toString(), /^-----BEGIN PRIVATE KEY-----/)
  const privateKey = parseEd25519PrivateKey(pair.privateKey)
  const publicKey = parseEd25519PublicKey(pair.publicKey)
  assert.ok(verify(null, Buffer.from('x'), publicKey, sign(null, Buffer.from('x'), privateKey)))
  assert.deepEqual(createPublicKey(privateKey).export({ format: 'der', type: 'spki' }), publicKey.export({ format: 'der', type: 'spki' }))
  const pem = JSON.parse((await run('keygen', '--algorithm', 'ED25519', '--format', 'pem')).out)
  assert.match(pem.publicKey, /^-----BEGIN PUBLIC KEY-----/)
})

test('migrate is delegated to runMigrateCommand', { skip: !existsSync(join(__dirname, '../plugin/cli/migrate.ts')) && 'plugin/cli/migrate.ts is not there yet' }, async () => {
  const { code } = await run('migrate', '--help')
  assert.equal(code, 0)
})

test('the executable: shebang, exit codes, stdout/stderr through a real process', async () => {
  const entry = join(__dirname, '../plugin/cli/main.ts')
  assert.match(readFileSync(entry, 'utf8'), /^#!\/usr\/bin\/env node\n/)
  const exec = async (...args: string[]) => await new Promise<{ code: number, stdout: string, stderr: string }>((resolve) => {
    execFile(process.execPath, ['--import', 'tsx', entry, ...args], { env: { ...process.env, LINKED_SERVICES_APPS: appsFile } },
      (error, stdout, stderr) => resolve({ code: error === null ? 0 : Number(error.code), stdout, stderr }))
  })
  const ok = await exec('sign-jwt', '4geeks')
  assert.equal(ok.code, 0, ok.stderr)
  assert.match(ok.stdout, /^Authorization: Link App=4geeks,Token=/)
  const bad = await exec('sign-jwt', 'ghost')
  assert.equal(bad.code, 1)
  assert.match(bad.stderr, /error: App ghost not found/)
})

test('--version prints the package version; sign-jwt / sign-request warn when the app named is this service itself', async () => {
  const version = await run('--version')
  assert.equal(version.code, 0)
  assert.equal(version.out.trim(), JSON.parse(readFileSync(join(__dirname, '..', 'package.json'), 'utf8')).version)
  const self = join(dir, 'self.json')
  writeFileSync(self, JSON.stringify({ appName: 'signer', apps: APPS }))
  for (const command of ['sign-jwt', 'sign-request']) {
    const args = [command, 'signer']
    const result = await run(...args, '--apps', self)
    assert.equal(result.code, 0, result.err)
    assert.match(result.err, /warning: "signer" is this service itself/)
    const quiet = await run(...args, '--apps', appsFile)
    assert.doesNotMatch(quiet.err, /warning/)
  }
})
