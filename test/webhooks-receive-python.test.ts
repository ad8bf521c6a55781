/**
 * The original's sender against our receiver: a Python process signs a Link JWT with PyJWT as the
 * original's `get_jwt` does (sub an integer as 1.2.2 sends it, "" as 1.2.4+, or null) and POSTs
 * the original's `Service.webhook` body `{ type, external_id, data }` (or `{ id, type, data }`)
 * over HTTP. Each event is stored once; a redelivery updates it.
 * Needs a python3 with PyJWT (Debian: python3-jwt); skipped with the reason elsewhere, fails under CI.
 */
import { test } from 'node:test'
import assert from 'node:assert/strict'
import { spawn } from 'node:child_process'
import { MemoryStore } from '../plugin/index.js'
import { callerApp, PATH, receiver, RECEIVER } from './webhooks-receive-helpers.js'
import { pythonWithPyJwt } from './helpers/python.js'

const { python, skip } = pythonWithPyJwt()

/** Runs a script with `input` as JSON on stdin, without blocking this process (it serves the requests). */
async function runPython (script: string, input: unknown): Promise<string> {
  const child = spawn(python as string, ['-c', script], { stdio: ['pipe', 'pipe', 'pipe'] })
  let out = ''
  let err = ''
  child.stdout.on('data', (chunk: Buffer) => { out += chunk.toString() })
  child.stderr.on('data', (chunk: Buffer) => { err += chunk.toString() })
  child.stdin.end(JSON.stringify(input))
  const timer = setTimeout(() => child.kill('SIGKILL'), 30_000)
  const code = await new Promise<number | null>((resolve) => child.on('close', resolve))
  clearTimeout(timer)
  if (code !== 0) throw new Error(`python exited with ${String(code)}: ${err}`)
  return out
}

// What the original's Service(app, user).webhook(...) puts on the wire: a PyJWT HS256 token with
// float exp/iat, `Authorization: Link App=<its app>,Token=<jwt>`, and the JSON body.
const SEND = `
import sys, json, time, urllib.request, urllib.error, jwt
args = json.load(sys.stdin)
statuses = []
for case in args['cases']:
    now = time.time()
    claims = {'sub': case['sub'], 'iss': 'http://localhost:8000', 'app': args['app'], 'aud': args['aud'],
              'exp': now + 600, 'iat': now - 1, 'typ': 'JWT'}
    token = jwt.encode(claims, bytes.fromhex(args['key']), algorithm='HS256')
    if isinstance(token, bytes):
        token = token.decode()
    request = urllib.request.Request(args['url'], data=json.dumps(case['body']).encode(), method='POST',
        headers={'Content-Type': 'application/json', 'Authorization': 'Link App=%s,Token=%s' % (args['app'], token)})
    try:
        with urllib.request.urlopen(request, timeout=10) as response:
            statuses.append(response.status)
    except urllib.error.HTTPError as error:
        statuses.append(error.code)
print(json.dumps(statuses))
`

test('the original\'s Service.webhook (PyJWT, sub int / "" / null, external_id or id) is stored once and updated on redelivery', { skip }, async (t) => {
  const django = callerApp('django')
  const app = await receiver(new MemoryStore({ apps: [django] }), { receive: { path: PATH }, handlers: { 'order.paid': async () => {} } })
  t.after(async () => await app.close())
  const address = await app.listen({ host: '127.0.0.1', port: 0 })
  const cases = [
    { sub: 5, body: { type: 'order.paid', external_id: 1, data: { total: 10 } } },
    { sub: 5, body: { type: 'order.paid', external_id: 1, data: { total: 12 } } },
    { sub: '', body: { type: 'order.paid', external_id: 2, data: { total: 20 } } },
    { sub: null, body: { type: 'order.paid', external_id: 2, data: { total: 21 } } },
    { sub: '7', body: [{ id: 3, type: 'order.paid', data: { total: 30 } }, { id: 4, type: 'order.paid', data: { total: 40 } }] },
    { sub: '7', body: [{ id: 3, type: 'order.paid', data: { total: 30 } }] }
  ]
  const statuses = JSON.parse(await runPython(SEND, { url: `${address}${PATH}`, app: 'django', aud: RECEIVER, key: django.privateKey, cases })) as number[]
  assert.deepEqual(statuses, [204, 204, 204, 204, 204, 204])
  const rows = await app.webhooks.received.list()
  const stored = rows.map((row) => [row.userId, row.externalId, row.data]).sort((a, b) => String(a[1]).localeCompare(String(b[1])))
  assert.deepEqual(stored, [
    ['5', '1', { total: 12 }],
    [null, '2', { total: 21 }],
    ['7', '3', { total: 30 }],
    ['7', '4', { total: 40 }]
  ], 'sub "" and null are both app-level: the same event, updated')
})
