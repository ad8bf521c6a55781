/**
 * What is signed is what is served (issue 12.1): an absolute-form request target
 * (`GET http://host/admin/../sig/echo HTTP/1.1`) is matched by Fastify's router as raw text, so
 * the signed `@path` is that raw text too, and a target whose dot segments make it ambiguous is
 * refused. Sent over raw sockets: fastify.inject and Node's client normalise targets.
 */
import { after, before, describe, test } from 'node:test'
import assert from 'node:assert/strict'
import Fastify, { type FastifyInstance } from 'fastify'
import linkedServices, { MemoryStore } from '../plugin/index.js'
import { rawRequest } from './helpers/attacks.js'
import { APP_NAME, HOST, hmacCaller, signedInject, type SignedInject } from './helpers/signature.js'

const rfc = hmacCaller('rfcsigner')
const legacy = hmacCaller('legacysigner')
const served: string[] = []
let app: FastifyInstance
let port: number

before(async () => {
  app = Fastify({ logger: false })
  await app.register(linkedServices, { appName: APP_NAME, store: new MemoryStore({ apps: [rfc.record, legacy.record] }), signature: { legacy: true } })
  const scope = { preHandler: app.scope([], { mode: 'signature' }) }
  app.get('/sig/echo', scope, async (request) => { served.push('echo'); return { route: 'echo', url: request.url } })
  app.get('/admin/*', scope, async (request) => {
    served.push('admin')
    return { route: 'admin', wildcard: (request.params as Record<string, string>)['*'] }
  })
  app.get('/items/:id', scope, async (request) => {
    served.push('items')
    return { route: 'items', id: (request.params as Record<string, string>).id }
  })
  await app.listen({ port: 0, host: '127.0.0.1' })
  port = (app.server.address() as { port: number }).port
})

after(async () => { await app.close() })

/** The request line with `target`, then the signed headers, as raw HTTP/1.1. */
function serialise (request: SignedInject, target: string): string {
  const lines = [`${request.method as string} ${target} HTTP/1.1`]
  for (const [name, value] of Object.entries(request.headers)) lines.push(`${name}: ${value}`)
  return [...lines, 'Connection: close', '', ''].join('\r\n')
}

async function send (request: SignedInject, target: string): Promise<{ status: number, code: string | undefined, body: Record<string, unknown> | undefined }> {
  const { status, text } = await rawRequest(port, serialise(request, target))
  const json = text.slice(text.indexOf('\r\n\r\n') + 4)
  let body: Record<string, unknown> | undefined
  try { body = JSON.parse(json) } catch { body = undefined }
  return { status, code: body?.code as string | undefined, body }
}

const signFor = (caller: typeof rfc, path: string, scheme: 'rfc9421' | 'legacy'): SignedInject =>
  signedInject(caller, { method: 'GET', path, scheme })

// Targets that a WHATWG parser resolves to /sig/echo while the router matches /admin/* or /items/:id.
const AMBIGUOUS = [
  '/admin/../sig/echo',
  '/admin/%2e%2e/sig/echo',
  '/admin/%2E%2E/sig/echo',
  '/admin/%2e%2E/sig/echo',
  '/admin/.%2E/sig/echo',
  '/admin/%2e./sig/echo',
  '/admin/./../sig/echo',
  '/admin/%2e/../sig/echo',
  '/admin/x/../../sig/echo',
  '/items/../sig/echo',
  '/items/%2E%2e/sig/echo',
  '/items/./%2e%2e/sig/echo',
  '/items/..',
  '/items/%2E%2e',
  '/items/.',
  '/sig/echo/.',
  '/sig/./echo'
]

for (const scheme of ['rfc9421', 'legacy'] as const) {
  describe(`absolute-form targets, ${scheme}`, () => {
    const caller = scheme === 'rfc9421' ? rfc : legacy

    test('a target naming the signed path and authority is served, by the route it names', async () => {
      for (const target of [`http://${HOST}/sig/echo`, `HTTP://${HOST.toUpperCase()}/sig/echo`, `https://${HOST}/sig/echo`]) {
        const result = await send(signFor(caller, '/sig/echo', scheme), target)
        assert.equal(result.status, 200, target)
        assert.equal(result.body?.route, 'echo')
      }
    })

    test('a request signed for /sig/echo, sent through dot segments: refused, no handler runs', async () => {
      for (const path of AMBIGUOUS) {
        served.length = 0
        const result = await send(signFor(caller, '/sig/echo', scheme), `http://${HOST}${path}`)
        assert.ok(result.status >= 400 && result.status < 500, `${path}: ${result.status}`)
        // Refused by the plugin wherever a route matched (a path no route matches is a 404).
        if (result.status !== 404) assert.equal(result.code, 'FST_LINKED_SERVICES_REQUEST_TARGET_REFUSED', path)
        assert.deepEqual(served, [], `${path} reached a handler`)
      }
    })

    test('a fragment, `*`, another scheme or another authority: refused', async () => {
      for (const target of [`http://${HOST}/sig/echo#x`, `ftp://${HOST}/sig/echo`, 'http://evil.example/sig/echo', `http://${HOST}.evil/sig/echo`, `http://user@${HOST}/sig/echo`]) {
        served.length = 0
        const result = await send(signFor(caller, '/sig/echo', scheme), target)
        assert.ok(result.status >= 400 && result.status < 500, `${target}: ${result.status}`)
        assert.deepEqual(served, [], target)
      }
    })
  })
}

test('rfc9421: the signed @path is the raw text the router matched, in either form', async () => {
  // Signed for the raw path /admin/x: absolute-form, served by /admin/* with that wildcard.
  const admin = await send(signFor(rfc, '/admin/x', 'rfc9421'), `http://${HOST}/admin/x`)
  assert.equal(admin.status, 200)
  assert.deepEqual([admin.body?.route, admin.body?.wildcard], ['admin', 'x'])
  // Origin-form with dot segments: the router matches the raw text, and the raw text is what
  // is checked: a signature for /sig/echo does not pass, one for the raw text is served by /admin/*.
  const forged = await send(signFor(rfc, '/sig/echo', 'rfc9421'), '/admin/../sig/echo')
  assert.equal(forged.code, 'FST_LINKED_SERVICES_WRONG_APP_TOKEN')
  const raw = await send(signFor(rfc, '/admin/%2e%2e/sig/echo', 'rfc9421'), '/admin/%2e%2e/sig/echo')
  assert.equal(raw.status, 200)
  assert.equal(raw.body?.route, 'admin')
  // The parametric route: the id the signer signed is the id served.
  const item = await send(signFor(rfc, '/items/7', 'rfc9421'), `http://${HOST}/items/7`)
  assert.deepEqual([item.status, item.body?.id], [200, '7'])
  const otherItem = await send(signFor(rfc, '/items/7', 'rfc9421'), `http://${HOST}/items/8`)
  assert.equal(otherItem.code, 'FST_LINKED_SERVICES_WRONG_APP_TOKEN')
})

test('absolute-form with a query: the query the router reads is the one checked (both schemes)', async () => {
  const signed = signedInject(rfc, { method: 'GET', path: '/sig/echo', params: { a: '1' } })
  assert.equal((await send(signed, `http://${HOST}/sig/echo?a=1`)).status, 200)
  assert.equal((await send(signedInject(rfc, { method: 'GET', path: '/sig/echo', params: { a: '1' } }), `http://${HOST}/sig/echo?a=2`)).code, 'FST_LINKED_SERVICES_WRONG_APP_TOKEN')
  const legacySigned = signedInject(legacy, { method: 'GET', path: '/sig/echo', params: { a: '1' }, scheme: 'legacy' })
  assert.equal((await send(legacySigned, `http://${HOST}/sig/echo?a=1`)).status, 200)
  const legacyOther = signedInject(legacy, { method: 'GET', path: '/sig/echo', params: { a: '1' }, scheme: 'legacy' })
  assert.equal((await send(legacyOther, `http://${HOST}/sig/echo?a=2`)).code, 'FST_LINKED_SERVICES_WRONG_APP_TOKEN')
})
