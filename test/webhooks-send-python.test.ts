/**
 * Our sender against a receiver written in Python the way the original's `app_webhook` works
 * (1.3.x): the Link header parsed, the JWT decoded by PyJWT with the receiver's key, its own
 * name as audience and the app's algorithm; the body one event or a list; each event stored in a
 * FirstPartyWebhookLog keyed by (app, user_id = token sub, external_id = int(event id), type),
 * got or created, `data` overwritten on redelivery. Its `external_id` column is an integer, so
 * an id that is not one fails there (a 500, as Django would answer). `user_id` is an integer
 * column too: "" and null mean no user.
 */
import { test } from 'node:test'
import assert from 'node:assert/strict'
import { spawn } from 'node:child_process'
import Fastify from 'fastify'
import linkedServices, { linkedWebhooks, MemoryStore } from '../plugin/index.js'
import { hmacKeyHex } from './helpers/keys.js'
import { pythonWithPyJwt } from './helpers/python.js'
import { until } from './webhooks-receive-helpers.js'

const { python, skip } = pythonWithPyJwt()

const ORIGINAL_RECEIVER = `
import sys, json, jwt
from http.server import BaseHTTPRequestHandler, HTTPServer

config = json.loads(sys.argv[1])
log = {}        # (app, user_id, external_id, type) -> row: FirstPartyWebhookLog
tokens = []     # the decoded claims, for the test to look at

class Handler(BaseHTTPRequestHandler):
    def log_message(self, *args):
        pass

    def answer(self, status, body=None):
        data = b'' if body is None else json.dumps(body).encode()
        self.send_response(status)
        self.send_header('Content-Length', str(len(data)))
        self.end_headers()
        self.wfile.write(data)

    def do_GET(self):
        self.answer(200, {'log': list(log.values()), 'tokens': tokens})

    def do_POST(self):
        header = self.headers.get('Authorization', '')
        if not header.startswith('Link '):
            return self.answer(401, {'detail': 'no link header'})
        fields = dict(part.split('=', 1) for part in header[len('Link '):].split(','))
        if fields.get('App') != config['sender']:
            return self.answer(401, {'detail': 'app not found'})
        try:
            claims = jwt.decode(fields['Token'], bytes.fromhex(config['key']), algorithms=['HS256'], audience=config['names'])
        except Exception as error:
            return self.answer(401, {'detail': type(error).__name__})
        if claims.get('app') != fields['App']:
            return self.answer(401, {'detail': 'app claim'})
        tokens.append(claims)
        body = json.loads(self.rfile.read(int(self.headers.get('Content-Length', '0'))))
        events = body if isinstance(body, list) else [body]
        sub = claims.get('sub')
        user_id = None if sub in ('', None) else int(sub)
        try:
            for event in events:
                external_id = int(event['id']) if event.get('id') is not None else None
                key = (fields['App'], user_id, external_id, event.get('type') or 'unknown')
                row = log.get(key) if external_id is not None else None
                if row is None:
                    row = {'app': key[0], 'user_id': user_id, 'external_id': external_id, 'type': key[3], 'data': event.get('data'), 'deliveries': 0}
                    log[key if external_id is not None else (key, len(log))] = row
                row['data'] = event.get('data')
                row['deliveries'] += 1
        except (ValueError, TypeError) as error:
            return self.answer(500, {'detail': str(error)})
        # A lost answer: the first delivery of a 'flaky' event is stored, then answered 503.
        if any(event.get('type') == 'flaky' and log[(fields['App'], user_id, int(event['id']), 'flaky')]['deliveries'] == 1 for event in events):
            return self.answer(503)
        self.answer(204)

server = HTTPServer(('127.0.0.1', 0), Handler)
print(json.dumps({'port': server.server_address[1]}), flush=True)
server.serve_forever()
`

interface OriginalRow { app: string, user_id: number | null, external_id: number | null, type: string, data: unknown, deliveries: number }

test('our sender to a receiver working as the original\'s (PyJWT): each event stored once by its integer id, sub "" or null as set per app, the user\'s id as sub', { skip }, async (t) => {
  const key = hmacKeyHex(32)
  const child = spawn(python as string, ['-c', ORIGINAL_RECEIVER, JSON.stringify({ names: ['django', 'django-old'], sender: 'nodeservice', key })], { stdio: ['ignore', 'pipe', 'inherit'] })
  t.after(() => { child.kill('SIGKILL') })
  const port = await new Promise<number>((resolve, reject) => {
    child.stdout.once('data', (chunk: Buffer) => resolve(JSON.parse(chunk.toString().split('\n')[0]).port as number))
    child.once('exit', (code) => reject(new Error(`the Python receiver exited with ${String(code)}`)))
  })
  const url = `http://127.0.0.1:${port}/v1/webhook`

  // Two apps served by the one Python receiver (it answers to both names): one on 1.3.x (sub ""),
  // one set to the 1.2.2 behaviour (sub null).
  const apps = ['django', 'django-old'].map((slug) => ({ slug, algorithm: 'HMAC_SHA256' as const, privateKey: key, requireAnAgreement: false, webhookUrl: url }))
  const app = Fastify()
  t.after(async () => await app.close())
  await app.register(linkedServices, { appName: 'nodeservice', store: new MemoryStore({ apps }) })
  await app.register(linkedWebhooks, { delivery: { baseDelayMs: 10, maxDelayMs: 50, appLevelSub: { 'django-old': null } } })
  await app.ready()

  const sent = [
    await app.webhooks.send('django', 'user.created', { id: 5, email: 'ana@example.com', first_name: 'Ana', last_name: 'Lee' }, { user: 7 }),
    await app.webhooks.send('django', 'order.paid', { total: 5 }),
    await app.webhooks.send('django-old', 'order.paid', { total: 6 }),
    await app.webhooks.send('django', 'flaky', { n: 1 })
  ]
  await until(async () => {
    const rows = await Promise.all(sent.map(async (event) => await app.webhooks.outbox.get(event.id)))
    return rows.every((row) => row?.status !== 'pending')
  })
  for (const event of sent) {
    const row = await app.webhooks.outbox.get(event.id)
    assert.equal(row?.status, 'delivered', `event ${event.id}: ${row?.lastError ?? ''}`)
  }

  const state = await (await fetch(`http://127.0.0.1:${port}/`)).json() as { log: OriginalRow[], tokens: Array<{ sub: unknown, aud: string, app: string }> }
  const byId = new Map(state.log.map((row) => [row.external_id, row]))
  assert.equal(state.log.length, 4)
  assert.deepEqual(byId.get(sent[0].id), { app: 'nodeservice', user_id: 7, external_id: sent[0].id, type: 'user.created', data: { id: 5, email: 'ana@example.com', first_name: 'Ana', last_name: 'Lee' }, deliveries: 1 })
  assert.equal(byId.get(sent[1].id)?.user_id, null)
  assert.equal(byId.get(sent[2].id)?.user_id, null)
  // Stored, answered 503, delivered again: still one row, seen twice.
  assert.equal(byId.get(sent[3].id)?.deliveries, 2)
  assert.equal((await app.webhooks.outbox.get(sent[3].id))?.attempts, 2)
  // What PyJWT decoded: the user's id as a string, "" for the 1.3.x app, null for the 1.2.2 one.
  assert.deepEqual(state.tokens.map((claims) => claims.sub).sort(), ['', '', '', '7', null].sort())
  assert.ok(state.tokens.every((claims) => claims.app === 'nodeservice'))
})
