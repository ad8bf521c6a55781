import { test } from 'node:test'
import assert from 'node:assert/strict'
import { spawn } from 'node:child_process'
import { readFileSync } from 'node:fs'
import { join } from 'node:path'
import { request } from 'undici'
import { buildExampleApp } from '../examples/app.js'
import { demoCommands, shellQuote } from '../examples/demo-commands.js'
import { linkAuthorizationHeader, signJwt } from '../plugin/client/sign-jwt.js'
import { createLinkedClient } from '../plugin/client/client.js'
import { MemoryStore } from '../plugin/index.js'

const ROOT = join(__dirname, '..')
const data = JSON.parse(readFileSync(join(ROOT, 'examples/apps.json'), 'utf8'))
const appRecord = (slug: string) => data.apps.find((app: { slug: string }) => app.slug === slug)
const as = (slug: string, sub?: string) =>
  ({ authorization: linkAuthorizationHeader(slug, signJwt({ appName: 'nodeservice', app: appRecord(slug), sub, reverse: true })) })

/** Splits a printed curl command the way a POSIX shell would (single quotes only, as printed). */
function parseCurl (line: string): { method: string, url: string, headers: Record<string, string>, body?: string } {
  const words: string[] = []
  for (const match of line.matchAll(/'((?:[^']|'\\'')*)'|(\S+)/g)) words.push(match[1] !== undefined ? match[1].replace(/'\\''/g, "'") : match[2])
  assert.equal(words.shift(), 'curl')
  const result: { method: string, url: string, headers: Record<string, string>, body?: string } = { method: 'GET', url: '', headers: {} }
  while (words.length > 0) {
    const word = words.shift() as string
    if (word === '-i') continue
    if (word === '-X') result.method = words.shift() as string
    else if (word === '-H') {
      const header = words.shift() as string
      const at = header.indexOf(': ')
      result.headers[header.slice(0, at)] = header.slice(at + 2)
    } else if (word === '--data-raw') result.body = words.shift()
    else result.url = word
  }
  return result
}

test('the user endpoint: on behalf of a user, app-level, signed, refused for a scope', async (t) => {
  const { app } = await buildExampleApp({ data })
  t.after(async () => await app.close())
  const get = async (url: string, headers: Record<string, string>) => await app.inject({ url, headers })

  const mine = await get('/v1/auth/app/user/1', as('4geeks', '5'))
  assert.equal(mine.statusCode, 200, mine.body)
  assert.deepEqual(mine.json(), { id: 1, username: 'jane', email: 'jane@example.com', first_name: 'Jane', last_name: 'Doe' })
  assert.deepEqual((await get('/v1/auth/app/user', as('4geeks', '5'))).json().map((user: { id: number }) => user.id), [1])
  assert.deepEqual((await get('/v1/auth/app/user/', as('4geeks', '5'))).json().map((user: { id: number }) => user.id), [1])
  // Someone else than the user the call is made for.
  const other = await get('/v1/auth/app/user/2', as('4geeks', '5'))
  assert.equal(other.statusCode, 403)
  assert.equal(other.json().slug, 'user-with-no-access')
  // App-level: users who agreed to 4geeks only.
  assert.deepEqual((await get('/v1/auth/app/user', as('4geeks'))).json().map((user: { id: number }) => user.id), [1])
  assert.equal((await get('/v1/auth/app/user/2', as('4geeks'))).statusCode, 404)
  assert.equal((await get('/v1/auth/app/user/99', as('4geeks'))).statusCode, 404)
  // A user of 4geeks that is linked to nobody here has no agreement: refused (pinned semantics).
  assert.equal((await get('/v1/auth/app/user', as('4geeks', '77'))).statusCode, 403)
  // reporter holds only "webhook".
  const refused = await get('/v1/auth/app/user/1', as('reporter'))
  assert.equal(refused.statusCode, 403)
  assert.equal(refused.json().code, 'FST_LINKED_SERVICES_FORBIDDEN_SCOPE')
  assert.equal((await get('/v1/auth/app/user/1', {})).statusCode, 401)
})

test('the user endpoint without agreements: an app that needs none sees every user; an unknown user is 404', async (t) => {
  const open = { ...data, apps: data.apps.map((app: Record<string, unknown>) => ({ ...app, requireAnAgreement: false })) }
  const { app } = await buildExampleApp({ data: open, appName: 'nodeservice' })
  t.after(async () => await app.close())
  const all = await app.inject({ url: '/v1/auth/app/user', headers: as('reporter') })
  assert.deepEqual(all.json().map((user: { id: number }) => user.id), [1, 2])
  const unknown = await app.inject({ url: '/v1/auth/app/user/1', headers: as('reporter', '404') })
  assert.equal(unknown.statusCode, 404)
  assert.equal(unknown.json().slug, 'user-not-found')
})

test('the webhook receiver keeps an idempotent log: same (app, user, id, type) stored once and updated', async (t) => {
  const { app } = await buildExampleApp({ data })
  t.after(async () => await app.close())
  const post = async (payload: unknown, headers: Record<string, string> = as('4geeks', '5')) =>
    await app.inject({ method: 'POST', url: '/v1/webhook', headers, payload: payload as object })
  // Oldest first, as they arrived.
  const log = async () => (await app.webhooks.received.list()).reverse()

  assert.equal((await post({ id: 1, type: 'user.updated', data: { v: 1 } })).statusCode, 204)
  assert.equal((await post({ id: 1, type: 'user.updated', data: { v: 2 } })).statusCode, 204)
  assert.equal((await post([{ id: 2, type: 'user.created' }, { type: 'ping' }, { data: 'x' }])).statusCode, 204)
  // Another app may use the same id: a different key.
  assert.equal((await post({ id: 1, type: 'report' }, as('reporter'))).statusCode, 204)
  const stored = await log()
  assert.equal(stored.length, 5)
  assert.deepEqual(stored.map((event) => [event.app, event.externalId, event.type, event.userId]), [
    ['4geeks', '1', 'user.updated', '5'],
    ['4geeks', '2', 'user.created', '5'],
    ['4geeks', null, 'ping', '5'],
    ['4geeks', null, 'unknown', '5'],
    ['reporter', '1', 'report', null]
  ])
  assert.deepEqual(stored[0].data, { v: 2 })
  const refused = await post('"text"', { ...as('4geeks'), 'content-type': 'application/json' })
  assert.equal(refused.statusCode, 400)
  assert.equal(refused.json().code, 'FST_LINKED_SERVICES_RECEIVED_WEBHOOK_INVALID')
  // JWT only: a signed request is refused even from a SIGNATURE app.
  const rigobot = await post({ id: 9 }, {})
  assert.equal(rigobot.statusCode, 401)
  assert.equal((await log()).length, 5)
})

test('createLinkedClient calls the example like a peer would (JWT on behalf of a user, signed, webhook)', async (t) => {
  const { app } = await buildExampleApp({ data })
  const url = await app.listen({ host: '127.0.0.1', port: 0 })
  t.after(async () => await app.close())
  // The peers' view: their record of "nodeservice" holds the same key.
  const peerRecord = (slug: string) => ({ ...appRecord(slug), slug: 'nodeservice', appUrl: url, webhookUrl: `${url}/v1/webhook` })
  const client4geeks = createLinkedClient({ appName: '4geeks', store: new MemoryStore({ apps: [peerRecord('4geeks')] }) })
  const clientRigobot = createLinkedClient({ appName: 'rigobot', store: new MemoryStore({ apps: [peerRecord('rigobot')] }) })
  t.after(async () => { await client4geeks.close(); await clientRigobot.close() })

  const user = await client4geeks.app('nodeservice', { userId: 5 }).get('/v1/auth/app/user/1')
  assert.equal(user.json<{ username: string }>().username, 'jane')
  assert.equal((await client4geeks.app('nodeservice', { userId: 5 }).webhook({ id: 3, type: 'user.created' })).status, 204)
  const signed = await clientRigobot.app('nodeservice').get('/v1/auth/app/user/1')
  assert.equal(signed.status, 200)
})

test('demoCommands print shell-safe curl commands', () => {
  assert.equal(shellQuote("it's"), "'it'\\''s'")
  const [first] = demoCommands('http://127.0.0.1:1', 'nodeservice', data.apps)
  assert.deepEqual(parseCurl(first.curl), { method: 'GET', url: first.url, headers: first.headers })
  assert.throws(() => demoCommands('http://h', 'nodeservice', []), /examples\/apps.json has no app "/)
})

test('npm start: listens on PORT, prints curl commands that work as announced', async (t) => {
  const child = spawn('npm', ['start'], {
    cwd: ROOT,
    env: { ...process.env, PORT: '0', HOST: '127.0.0.1', LOG_LEVEL: 'warn' },
    detached: true,
    stdio: ['ignore', 'pipe', 'pipe']
  })
  t.after(() => {
    try { process.kill(-(child.pid as number), 'SIGTERM') } catch {}
  })
  let stdout = ''
  let stderr = ''
  child.stderr.on('data', (chunk) => { stderr += chunk })
  await new Promise<void>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`npm start printed no commands in time:\n${stdout}\n${stderr}`)), 30_000)
    child.stdout.on('data', (chunk) => {
      stdout += chunk
      if (stdout.includes('Ctrl+C stops the server')) {
        clearTimeout(timer)
        resolve()
      }
    })
    child.once('exit', (code) => { clearTimeout(timer); reject(new Error(`npm start exited (${code}):\n${stdout}\n${stderr}`)) })
  })
  assert.match(stdout, /nodeservice is listening on http:\/\/127\.0\.0\.1:\d+/)
  const lines = stdout.split('\n')
  const commands = lines.flatMap((line, index) => {
    const expected = /^# \d+\. .* -> (\d{3})$/.exec(line)
    return expected === null ? [] : [{ expect: Number(expected[1]), curl: lines[index + 1] }]
  })
  assert.deepEqual(commands.map((command) => command.expect), [200, 403, 200, 204])
  for (const { expect, curl } of commands) {
    const { method, url, headers, body } = parseCurl(curl)
    const response = await request(url, { method: method as 'GET', headers, body })
    assert.equal(response.statusCode, expect, `${curl}\n${await response.body.text()}`)
    await response.body.dump()
  }
  // The signed request works once: a replay is refused.
  const signed = parseCurl(commands[2].curl)
  const replay = await request(signed.url, { headers: signed.headers })
  assert.equal(replay.statusCode, 401)
  await replay.body.dump()

  // The consent page it prints: log in as jane, switch webhook off, accept; the webhook command is then refused.
  const consentUrl = /Consent page: open (\S+) in a browser/.exec(stdout)?.[1] as string
  assert.match(consentUrl, /^http:\/\/127\.0\.0\.1:\d+\/account\/authorize\/4geeks$/)
  const base = new URL(consentUrl).origin
  const anonymous = await request(consentUrl)
  assert.equal(anonymous.statusCode, 302)
  await anonymous.body.dump()
  const loginUrl = new URL(anonymous.headers.location as string, base)
  assert.equal(loginUrl.pathname, '/demo/login')
  const login = await request(`${base}/demo/login`, {
    method: 'POST',
    headers: { 'content-type': 'application/x-www-form-urlencoded' },
    body: new URLSearchParams({ user: '1', url: loginUrl.searchParams.get('url') as string }).toString()
  })
  assert.equal(login.statusCode, 303)
  assert.equal(login.headers.location, '/account/authorize/4geeks')
  await login.body.dump()
  const cookie = String(login.headers['set-cookie']).split(';')[0]
  const form = await request(consentUrl, { headers: { cookie } })
  const html = await form.body.text()
  assert.equal(form.statusCode, 200)
  assert.match(html, /Authorize 4Geeks/)
  const token = /name="token" value="([^"]+)"/.exec(html)?.[1] as string
  const accepted = await request(consentUrl, { method: 'POST', headers: { cookie, 'content-type': 'application/x-www-form-urlencoded' }, body: `token=${token}` })
  assert.equal(accepted.statusCode, 303)
  assert.equal(accepted.headers.location, `${base}/demo/back?for=4geeks&app=nodeservice&status=authorized`)
  await accepted.body.dump()
  const back = await request(accepted.headers.location as string)
  assert.match(await back.body.text(), /status=authorized/)
  const webhook = parseCurl(commands[3].curl)
  const refused = await request(webhook.url, { method: 'POST', headers: webhook.headers, body: webhook.body })
  assert.equal(refused.statusCode, 403, 'webhook switched off on the consent page')
  await refused.body.dump()
})

test('the demo login: picks a known user, returns only to a path of this site', async (t) => {
  const { app } = await buildExampleApp({ data })
  t.after(async () => await app.close())
  const page = await app.inject({ url: '/demo/login?url=%22%3E%3Cscript%3E' })
  assert.equal(page.statusCode, 200)
  assert.match(page.body, /value="&quot;&gt;&lt;script&gt;"/)
  assert.match(page.body, /jane/)
  const post = async (user: string, url: string) => await app.inject({
    method: 'POST', url: '/demo/login', headers: { 'content-type': 'application/x-www-form-urlencoded' }, payload: new URLSearchParams({ user, url }).toString()
  })
  const b64 = (text: string) => Buffer.from(text).toString('base64')
  assert.equal((await post('1', b64('/account/authorize/4geeks'))).headers.location, '/account/authorize/4geeks')
  for (const elsewhere of ['//evil.example', '/\\evil.example', 'https://evil.example/']) {
    assert.equal((await post('1', b64(elsewhere))).headers.location, '/demo/login', elsewhere)
  }
  assert.equal((await post('99', b64('/'))).statusCode, 400)
  const cookie = String((await post('2', b64('/'))).headers['set-cookie']).split(';')[0]
  const consent = await app.inject({ url: '/account/authorize/4geeks', headers: { cookie } })
  assert.equal(consent.statusCode, 200)
  assert.match(consent.body, /See your name and email address/)
  assert.equal((await app.inject({ url: '/account/authorize/4geeks', headers: { cookie: 'demo_user=99' } })).statusCode, 302, 'an unknown user is nobody')
  const back = await app.inject({ url: '/demo/back?for=<b>&status=authorized' })
  assert.match(back.body, /Back at &lt;b&gt;/)
})

test('the example exposes /metrics (the counters move) and logs with the caller bound', async (t) => {
  const lines: string[] = []
  const { Writable } = await import('node:stream')
  const stream = new Writable({ write (chunk, _encoding, done) { lines.push(...String(chunk).trim().split('\n')); done() } })
  const { app } = await buildExampleApp({ data, logger: { level: 'info', stream } })
  t.after(async () => await app.close())
  const series = 'linked_services_calls_total{app="4geeks",scheme="jwt",outcome="granted"}'
  const count = async (): Promise<number> => {
    const line = (await app.inject({ url: '/metrics' })).body.split('\n').find((text) => text.startsWith(series + ' '))
    return line === undefined ? 0 : Number(line.slice(series.length + 1))
  }
  assert.equal(await count(), 0)
  const headers = as('4geeks')
  assert.equal((await app.inject({ url: '/v1/auth/app/user', headers })).statusCode, 200)
  assert.equal((await app.inject({ url: '/v1/auth/app/user', headers })).statusCode, 200)
  assert.equal(await count(), 2)
  const listed = lines.map((line) => JSON.parse(line)).filter((line) => line.msg === 'listed users')
  assert.equal(listed.length, 2)
  assert.equal(listed[0].linkedApp, '4geeks')
  assert.equal(listed[0].linkedUser, null)
  const token = headers.authorization.split('Token=')[1]
  assert.ok(!lines.some((line) => line.includes(token)), 'no log line holds the token')
})
