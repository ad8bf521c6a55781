/**
 * Signed requests over a real HTTP/2 connection (issue 12.2): a body arrives as DATA frames, with
 * or without `content-length`; whatever reaches the route must be what was signed, and a genuine
 * signed body from Node's own http2 client (which sends no `content-length`) is accepted.
 * `@authority` is `:authority`; a `Host` naming another authority is refused (RFC 9113 8.3.1).
 */
import { after, before, test } from 'node:test'
import assert from 'node:assert/strict'
import http2 from 'node:http2'
import Fastify, { type FastifyInstance, type FastifyRequest } from 'fastify'
import linkedServices, { MemoryStore } from '../plugin/index.js'
import { APP_NAME, HOST, edCaller, hmacCaller, signedInject, type SignedInject } from './helpers/signature.js'

const rfc = edCaller('h2signer')
const legacy = hmacCaller('h2legacy')
const reached: unknown[] = []
let app: FastifyInstance
let client: http2.ClientHttp2Session

before(async () => {
  // Typed as the default instance: the routes below use nothing specific to HTTP/2.
  app = Fastify({ http2: true, logger: false }) as unknown as FastifyInstance
  await app.register(linkedServices, { appName: APP_NAME, store: new MemoryStore({ apps: [rfc.record, legacy.record] }), signature: { legacy: true } })
  const scope = { preHandler: app.scope([], { mode: 'signature' }) }
  const echo = async (request: FastifyRequest): Promise<unknown> => {
    reached.push(request.body ?? null)
    return { body: request.body ?? null, token: request.token }
  }
  for (const method of ['GET', 'POST', 'DELETE', 'PUT'] as const) app.route({ method, url: '/sig', ...scope, handler: echo })
  await app.listen({ port: 0, host: '127.0.0.1' })
  const { port } = app.server.address() as { port: number }
  client = http2.connect(`http://127.0.0.1:${port}`)
})

after(async () => {
  client.close()
  await app.close()
})

interface H2Options {
  /** Headers to drop from the signed request, or to set instead. */
  drop?: string[]
  set?: Record<string, string>
  /** The body bytes to send (default: the signed ones); `null` sends none. */
  body?: Buffer | string | null
  /** Keep the stream open after the HEADERS frame even without a body. */
  open?: boolean
}

/** Sends a signed request over HTTP/2: `:authority` is the signed Host, no `host` field unless set. */
async function send (signed: SignedInject, options: H2Options = {}): Promise<{ status: number, json: Record<string, unknown> }> {
  const headers: http2.OutgoingHttpHeaders = { ':method': signed.method as string, ':path': signed.url, ':authority': HOST }
  for (const [name, value] of Object.entries(signed.headers)) {
    const lower = name.toLowerCase()
    if (lower === 'host' || options.drop?.includes(lower)) continue
    headers[lower] = value
  }
  Object.assign(headers, options.set)
  const body = options.body === undefined ? (signed.payload as Buffer | undefined) ?? null : options.body
  const endStream = body === null && options.open !== true
  return await new Promise((resolve, reject) => {
    const stream = client.request(headers, { endStream })
    const chunks: Buffer[] = []
    let status = 0
    stream.on('response', (response) => { status = Number(response[':status']) })
    stream.on('data', (chunk: Buffer) => chunks.push(chunk))
    stream.on('end', () => resolve({ status, json: JSON.parse(Buffer.concat(chunks).toString() || '{}') }))
    stream.on('error', reject)
    if (body !== null) stream.end(body)
    else if (!endStream) stream.end()
  })
}

test('a genuine signed body from the http2 client (no content-length) is accepted, once', async () => {
  const signed = signedInject(rfc, { method: 'POST', path: '/sig', body: { a: 1 } })
  const result = await send(signed)
  assert.equal(result.status, 200, JSON.stringify(result.json))
  assert.deepEqual(result.json.body, { a: 1 })
  assert.equal((await send(signed)).json.code, 'FST_LINKED_SERVICES_REPLAYED_REQUEST')
  // With a content-length too.
  const sized = signedInject(rfc, { method: 'PUT', path: '/sig', body: { b: 2 } })
  const withLength = await send(sized, { set: { 'content-length': String((sized.payload as Buffer).length) } })
  assert.equal(withLength.status, 200)
  // Legacy scheme, JSON body.
  const old = await send(signedInject(legacy, { method: 'POST', path: '/sig', body: { c: 3 }, scheme: 'legacy' }))
  assert.equal(old.status, 200, JSON.stringify(old.json))
  assert.deepEqual(old.json.body, { c: 3 })
})

test('a signature covering no body lets no body reach the route (POST, DELETE, legacy POST; with or without content-length)', async () => {
  const unsigned = Buffer.from('{"transfer":1000000}')
  for (const method of ['POST', 'DELETE', 'PUT'] as const) {
    for (const length of [false, true]) {
      reached.length = 0
      const signed = signedInject(rfc, { method, path: '/sig' })
      const set: Record<string, string> = { 'content-type': 'application/json' }
      if (length) set['content-length'] = String(unsigned.length)
      const result = await send(signed, { body: unsigned, set })
      assert.equal(result.status, 401, `${method} length=${length}: ${JSON.stringify(result.json)}`)
      assert.equal(result.json.code, 'FST_LINKED_SERVICES_SIGNATURE_MISSING_COMPONENT')
      assert.deepEqual(reached, [])
    }
  }
  for (const length of [false, true]) {
    reached.length = 0
    const signed = signedInject(legacy, { method: 'POST', path: '/sig', scheme: 'legacy' })
    const set: Record<string, string> = { 'content-type': 'application/json' }
    if (length) set['content-length'] = String(unsigned.length)
    const result = await send(signed, { body: unsigned, set })
    assert.equal(result.status, 401, `legacy length=${length}`)
    assert.equal(result.json.code, 'FST_LINKED_SERVICES_WRONG_APP_TOKEN')
    assert.deepEqual(reached, [])
  }
})

test('a signed body replaced in transit is refused; bodiless requests pass with or without an open stream', async () => {
  const signed = signedInject(rfc, { method: 'POST', path: '/sig', body: { a: 1 } })
  const swapped = await send(signed, { body: '{"a":2}' })
  assert.equal(swapped.json.code, 'FST_LINKED_SERVICES_CONTENT_DIGEST_MISMATCH')
  assert.equal((await send(signedInject(rfc, { method: 'GET', path: '/sig' }))).status, 200)
  assert.equal((await send(signedInject(rfc, { method: 'POST', path: '/sig' }), { open: true })).status, 200)
  assert.equal((await send(signedInject(rfc, { method: 'DELETE', path: '/sig' }), { open: true })).status, 200)
})

test('@authority is :authority; a Host naming another authority is refused', async () => {
  assert.equal((await send(signedInject(rfc, { method: 'GET', path: '/sig' }), { set: { host: HOST } })).status, 200)
  assert.equal((await send(signedInject(rfc, { method: 'GET', path: '/sig' }), { set: { host: HOST.toUpperCase() } })).status, 200)
  const mismatch = await send(signedInject(rfc, { method: 'GET', path: '/sig' }), { set: { host: 'evil.example' } })
  assert.equal(mismatch.status, 400)
  assert.equal(mismatch.json.code, 'FST_LINKED_SERVICES_REQUEST_TARGET_REFUSED')
  // Signed for HOST, sent to another :authority (with a Host naming the signed one): refused.
  const other = await send(signedInject(rfc, { method: 'GET', path: '/sig' }), { set: { ':authority': 'evil.example', host: HOST } })
  assert.equal(other.json.code, 'FST_LINKED_SERVICES_REQUEST_TARGET_REFUSED')
  const otherAlone = await send(signedInject(rfc, { method: 'GET', path: '/sig' }), { set: { ':authority': 'evil.example' } })
  assert.equal(otherAlone.json.code, 'FST_LINKED_SERVICES_WRONG_APP_TOKEN')
})
