/**
 * Hard inputs on the signed-request paths (issue 8.3): duplicate parameters, labels and header
 * lines, oversized fields, MACs of the wrong length, JSON bodies with duplicate keys or huge
 * numbers (the digest is over the raw bytes), and the legacy scheme's own parameter list.
 * Every answer a 4xx, never a 500; a forgery is never accepted.
 */
import { test } from 'node:test'
import assert from 'node:assert/strict'
import { createHash } from 'node:crypto'
import { hmacKeyHex } from './helpers/keys.js'
import { UncheckedStore } from './helpers/unchecked-store.js'
import { APP_NAME, assert4xx, attackServer, rawRequest } from './helpers/attacks.js'
import { edCaller, hmacCaller, HOST, signedInject, type Caller, type SignedInject } from './helpers/signature.js'
import Fastify from 'fastify'
import linkedServices, { MemoryStore } from '../plugin/index.js'

const hmac = hmacCaller('signer')
const hmac512 = hmacCaller('signer512', 'HMAC_SHA512')
const ed = edCaller('edsigner')
const legacy = hmacCaller('pylegacy')
const serverPromise = attackServer({ apps: [hmac.record, hmac512.record, ed.record, legacy.record] }, { signature: { legacy: true } })

async function inject (request: SignedInject) {
  const { app } = await serverPromise
  const response = await app.inject(request)
  let code: string | undefined
  try { code = response.json().code } catch { code = undefined }
  return { status: response.statusCode, code, json: () => response.json() }
}

function headerName (request: SignedInject, lower: string): string {
  return Object.keys(request.headers).find((name) => name.toLowerCase() === lower) ?? lower
}

function withHeader (request: SignedInject, lower: string, value: string): SignedInject {
  const headers = { ...request.headers }
  headers[headerName(request, lower)] = value
  return { ...request, headers }
}

function signedJsonText (caller: Caller, text: string, path = '/sig'): SignedInject {
  return signedInject(caller, { method: 'POST', path, body: Buffer.from(text), headers: { 'content-type': 'application/json' } })
}

test('JSON bodies with duplicate keys or huge numbers: the digest is over the raw bytes', async () => {
  // Accepted as sent; the route sees what JSON.parse makes of it.
  const duplicate = await inject(signedJsonText(hmac, '{"amount":1,"amount":1000000}'))
  assert.equal(duplicate.status, 200)
  assert.equal(duplicate.json().body.amount, 1000000)
  // The same parsed value in other bytes, with the first request's signature: refused.
  const original = signedJsonText(hmac, '{"amount":1,"amount":1000000}')
  for (const forged of ['{"amount":1000000}', '{"amount":1000000,"amount":1000000}', '{"amount": 1,"amount":1000000}', '{"amount":1,"amount":1000000} ']) {
    const result = await inject({ ...original, payload: Buffer.from(forged) })
    assert4xx(result.status, forged)
    assert.equal(result.code, 'FST_LINKED_SERVICES_CONTENT_DIGEST_MISMATCH', forged)
  }
  // Numbers beyond double precision: two texts, one double; the signature tells them apart.
  const big = signedJsonText(hmac, '{"n":123456789012345678901234567890}')
  const sameDouble = await inject({ ...big, payload: Buffer.from('{"n":123456789012345678901234567891}') })
  assert.equal(sameDouble.code, 'FST_LINKED_SERVICES_CONTENT_DIGEST_MISMATCH')
  assert.equal((await inject(big)).status, 200)
  for (const text of ['{"n":1e400}', '{"n":-1e400}', '{"n":' + '9'.repeat(5000) + '}', '[' + '1,'.repeat(10_000) + '1]']) {
    const result = await inject(signedJsonText(hmac, text))
    assert.ok(result.status === 200 || (result.status >= 400 && result.status < 500), `${text.slice(0, 20)}: ${result.status}`)
  }
})

test('a GET scope route keeps no body (Fastify reads none): a signed GET that carries one is refused, a POST\'s body is checked', async () => {
  // The body capture is a preParsing hook that the plugin adds when a route is defined: left off
  // the routes whose methods all go unread. An onRoute hook after the plugin's sees the result.
  const app = Fastify()
  await app.register(linkedServices, { appName: APP_NAME, store: new MemoryStore({}) })
  const preParsing = new Map<string, number>()
  app.addHook('onRoute', (route) => {
    const hooks = route.preParsing === undefined ? [] : Array.isArray(route.preParsing) ? route.preParsing : [route.preParsing]
    preParsing.set(`${String(route.method)} ${route.url}`, hooks.length)
  })
  const routes = { '/get': 'GET', '/post': 'POST', '/both': ['GET', 'POST'], '/trace': 'TRACE' }
  for (const [url, method] of Object.entries(routes)) app.route({ method: method as never, url, preHandler: app.scope(), handler: async () => ({}) })
  await app.ready()
  // HEAD /get and HEAD /both: the HEAD routes Fastify adds beside GET ones.
  assert.deepEqual(Object.fromEntries(preParsing), { 'GET /get': 0, 'HEAD /get': 0, 'POST /post': 1, 'GET,POST /both': 1, 'HEAD /both': 0, 'TRACE /trace': 0 })
  await app.close()
  const body = Buffer.from('{"a":1}')
  const signedGet = signedInject(hmac, { method: 'GET', path: '/sig', body, headers: { 'content-type': 'application/json' } })
  assert.ok(signedGet.payload !== undefined)
  const refused = await inject(signedGet)
  assert4xx(refused.status, 'signed GET with a body')
  assert.equal((await inject(signedInject(hmac, { method: 'GET', path: '/sig' }))).status, 200)
  assert.equal((await inject(signedJsonText(hmac, '{"a":1}'))).status, 200)
})

test('Signature MACs of the wrong length, empty or not base64', async () => {
  const request = signedInject(hmac, { method: 'GET', path: '/sig' })
  const mac = Buffer.from(/:([^:]*):/.exec(request.headers[headerName(request, 'signature')])![1], 'base64')
  assert.equal(mac.length, 32)
  for (const length of [0, 1, 31, 33, 64, 1024]) {
    const bytes = Buffer.alloc(length)
    mac.copy(bytes, 0, 0, Math.min(length, 32))
    const result = await inject(withHeader(signedInject(hmac, { method: 'GET', path: '/sig' }), 'signature', `sig=:${bytes.toString('base64')}:`))
    assert4xx(result.status, `MAC of ${length} bytes`)
  }
  for (const value of ['sig=::', 'sig=:!!!:', 'sig=:YWJj', 'sig="abc"', 'sig=1', 'sig=?1', 'sig=(a b)', 'sig=:' + 'A'.repeat(5000) + ':']) {
    const result = await inject(withHeader(signedInject(hmac, { method: 'GET', path: '/sig' }), 'signature', value))
    assert4xx(result.status, value.slice(0, 20))
  }
  const short512 = signedInject(hmac512, { method: 'GET', path: '/sig' })
  const mac512 = Buffer.from(/:([^:]*):/.exec(short512.headers[headerName(short512, 'signature')])![1], 'base64')
  assert4xx((await inject(withHeader(short512, 'signature', `sig=:${mac512.subarray(0, 32).toString('base64')}:`))).status, 'HS512 MAC cut to 32 bytes')
  const edRequest = signedInject(ed, { method: 'GET', path: '/sig' })
  assert4xx((await inject(withHeader(edRequest, 'signature', `sig=:${Buffer.alloc(64).toString('base64')}:`))).status, 'zero Ed25519 signature')
})

test('duplicate parameters and labels in Signature-Input cannot move created, nonce or keyid', async (t) => {
  const now = Math.floor(Date.now() / 1000)
  t.mock.timers.enable({ apis: ['Date'], now: now * 1000 })
  // A stale request (created 10 minutes ago): appending a fresh `created` must not revive it.
  const stale = signedInject(hmac, { method: 'GET', path: '/sig', created: now - 600 })
  const input = stale.headers[headerName(stale, 'signature-input')]
  assert4xx((await inject(stale)).status, 'stale')
  const appended = [`;created=${now}`, `;created=${now};nonce="fresh-nonce-123"`, ';keyid="signer512"', ';alg="hmac-sha512"', `;expires=${now + 600}`]
  for (const suffix of appended) {
    const result = await inject(withHeader(signedInject(hmac, { method: 'GET', path: '/sig', created: now - 600 }), 'signature-input', input + suffix))
    assert4xx(result.status, suffix)
  }
  // A second `sig` label (last one wins in RFC 8941): the attacker's parameters, the signer's MAC.
  const fresh = signedInject(hmac, { method: 'GET', path: '/sig' })
  const freshInput = fresh.headers[headerName(fresh, 'signature-input')]
  const evilInput = freshInput.replace(/"@path"/, '"@method"').replace(/nonce="[^"]*"/, 'nonce="attackers-nonce"')
  assert4xx((await inject(withHeader(fresh, 'signature-input', `${freshInput}, ${evilInput}`))).status, 'duplicate label')
  // The same component twice, a component with parameters, an unknown derived component.
  for (const covered of ['("@method" "@method" "@authority" "@path")', '("@method";req "@authority" "@path")', '("@method" "@authority" "@path" "@status")', '("@method" "@authority" "@path" "Content-Type")']) {
    const other = signedInject(hmac, { method: 'GET', path: '/sig' })
    const text = other.headers[headerName(other, 'signature-input')].replace(/\([^)]*\)/, covered)
    assert4xx((await inject(withHeader(other, 'signature-input', text))).status, covered)
  }
  // Twelve labels, none known, and keyids that are JS property names.
  const many = Array.from({ length: 12 }, (_, i) => `s${i}=("@method");keyid="x${i}";created=${now};nonce="abcdefgh"`).join(', ')
  assert4xx((await inject(withHeader(signedInject(hmac, { method: 'GET', path: '/sig' }), 'signature-input', many))).status, 'many labels')
  for (const keyid of ['__proto__', 'constructor', 'toString', 'signer#__proto__', '#', 'signer#', 'SIGNER']) {
    const other = signedInject(hmac, { method: 'GET', path: '/sig' })
    const text = other.headers[headerName(other, 'signature-input')].replace(/keyid="[^"]*"/, `keyid="${keyid}"`)
    assert4xx((await inject(withHeader(other, 'signature-input', text))).status, `keyid ${keyid}`)
  }
})

test('oversized Signature-Input / Signature / Content-Digest: 431 or 401, never a 500', async () => {
  const request = signedInject(hmac, { method: 'POST', path: '/sig', body: { a: 1 } })
  const input = request.headers[headerName(request, 'signature-input')]
  const big = await inject(withHeader(request, 'signature-input', input + ';x="' + 'a'.repeat(5000) + '"'))
  assert.equal(big.status, 431)
  assert.equal((await inject(withHeader(signedInject(hmac, { method: 'GET', path: '/sig' }), 'signature', 'sig=:' + 'A'.repeat(8000) + ':'))).status, 431)
  const digest = await inject(withHeader(signedInject(hmac, { method: 'POST', path: '/sig', body: { a: 1 } }), 'content-digest', 'sha-256=:' + 'A'.repeat(9000) + ':'))
  assert4xx(digest.status, 'huge content digest')
  const params = ';' + Array.from({ length: 300 }, (_, i) => `p${i}=1`).join(';')
  assert4xx((await inject(withHeader(signedInject(hmac, { method: 'GET', path: '/sig' }), 'signature-input', input + params))).status, 'many parameters')
})

test('duplicate header lines over a real socket: Signature-Input, Signature, Content-Digest', async () => {
  const { app } = await attackServer({ apps: [hmac.record] })
  await app.listen({ port: 0, host: '127.0.0.1' })
  const { port } = app.server.address() as { port: number }
  const serialise = (request: SignedInject, extra: string[] = [], skip: string[] = []): string => {
    const lines = [`${request.method} ${request.url} HTTP/1.1`]
    for (const [name, value] of Object.entries(request.headers)) if (!skip.includes(name.toLowerCase())) lines.push(`${name}: ${value}`)
    const body = request.payload === undefined ? '' : Buffer.from(request.payload as Buffer).toString('latin1')
    if (body !== '') lines.push(`Content-Length: ${Buffer.byteLength(body, 'latin1')}`)
    lines.push(...extra, 'Connection: close', '', body)
    return lines.join('\r\n')
  }
  const ok = await rawRequest(port, serialise(signedInject(hmac, { method: 'POST', path: '/sig', body: { a: 1 } })))
  assert.equal(ok.status, 200, ok.text)

  // A second Content-Digest for a changed body: the covered value is both lines, the MAC fails.
  const signed = signedInject(hmac, { method: 'POST', path: '/sig', body: { a: 1 } })
  const evilBody = Buffer.from('{"a":2}')
  const evilDigest = `sha-256=:${createHash('sha256').update(evilBody).digest('base64')}:`
  const forged = serialise({ ...signed, payload: evilBody }, [`Content-Digest: ${evilDigest}`])
  assert4xx((await rawRequest(port, forged)).status, 'second Content-Digest')
  // Second Signature-Input / Signature lines (an attacker's own label with no valid MAC).
  const again = signedInject(hmac, { method: 'GET', path: '/sig' })
  assert4xx((await rawRequest(port, serialise(again, ['Signature-Input: sig=("@method");keyid="signer";created=1;nonce="abcdefgh"']))).status, 'second Signature-Input')
  const third = signedInject(hmac, { method: 'GET', path: '/sig' })
  assert4xx((await rawRequest(port, serialise(third, [`Signature: sig=:${Buffer.alloc(32).toString('base64')}:`]))).status, 'second Signature')
  await app.close()
})

test('a second Host line on a signed request is refused (regression: notes/requests-security.md #1)', async () => {
  // A proxy that routes on the last Host would deliver a request signed for one service (the
  // first Host, the covered @authority) to another that trusts the same caller key (Ed25519).
  const { app } = await attackServer({ apps: [hmac.record] })
  await app.listen({ port: 0, host: '127.0.0.1' })
  const { port } = app.server.address() as { port: number }
  const serialise = (request: SignedInject, hosts: string[]): string => {
    const lines = [`${request.method} ${request.url} HTTP/1.1`, ...hosts.map((host) => `Host: ${host}`)]
    for (const [name, value] of Object.entries(request.headers)) if (name.toLowerCase() !== 'host') lines.push(`${name}: ${value}`)
    return [...lines, 'Connection: close', '', ''].join('\r\n')
  }
  try {
    assert.equal((await rawRequest(port, serialise(signedInject(hmac, { method: 'GET', path: '/sig' }), [HOST]))).status, 200)
    assert4xx((await rawRequest(port, serialise(signedInject(hmac, { method: 'GET', path: '/sig' }), [HOST, 'evil.example']))).status, 'second Host')
    assert4xx((await rawRequest(port, serialise(signedInject(hmac, { method: 'GET', path: '/sig' }), ['evil.example', HOST]))).status, 'other Host first')
  } finally {
    await app.close()
  }
})

test('an absolute-form request-target must name the signed authority (regression: notes/requests-security.md #3)', async () => {
  // RFC 9112 3.2.2: with an absolute-form target the server must ignore Host and use the
  // target's authority; a proxy that does so routes the request to a service it was not signed for.
  const { app } = await attackServer({ apps: [hmac.record] })
  await app.listen({ port: 0, host: '127.0.0.1' })
  const { port } = app.server.address() as { port: number }
  const line = (request: SignedInject, target: string): string => {
    const lines = [`${request.method} ${target} HTTP/1.1`]
    for (const [name, value] of Object.entries(request.headers)) lines.push(`${name}: ${value}`)
    return [...lines, 'Connection: close', '', ''].join('\r\n')
  }
  try {
    assert.equal((await rawRequest(port, line(signedInject(hmac, { method: 'GET', path: '/sig' }), `http://${HOST}/sig`))).status, 200, 'same authority: fine')
    assert4xx((await rawRequest(port, line(signedInject(hmac, { method: 'GET', path: '/sig' }), 'http://evil.example/sig'))).status, 'other authority')
  } finally {
    await app.close()
  }
})

test('replay: a signed request is accepted once; concurrent copies, exactly one', async () => {
  const request = signedInject(ed, { method: 'PUT', path: '/sig', body: { a: 1 } })
  const results = await Promise.all(Array.from({ length: 10 }, async () => await inject(request)))
  assert.equal(results.filter((result) => result.status === 200).length, 1)
  for (const result of results.filter((r) => r.status !== 200)) assert.equal(result.code, 'FST_LINKED_SERVICES_REPLAYED_REQUEST')
})

test('legacy scheme: duplicate parameters, MACs of the wrong length or case, odd dates', async () => {
  const request = signedInject(legacy, { method: 'POST', path: '/sig', body: { a: 1 }, scheme: 'legacy' })
  const name = headerName(request, 'authorization')
  const header = request.headers[name]
  const mac = /Nonce=([0-9a-f]+)/.exec(header)![1]
  const variants = [
    header + ',App=pylegacy',
    header + `,Nonce=${mac}`,
    header.replace('App=pylegacy', 'App=pylegacy,App=signer'),
    header.replace(mac, mac.slice(0, 63)),
    header.replace(mac, mac + '0'),
    header.replace(mac, mac + mac),
    header.replace(mac, mac.toUpperCase()),
    header.replace(mac, 'g'.repeat(64)),
    header.replace(mac, ''),
    header.replace(/Date=[^,]*/, 'Date=2024-13-45T99:99:99'),
    header.replace(/Date=[^,]*/, 'Date=' + '9'.repeat(100)),
    header.replace(/Date=[^,]*/, 'Date='),
    header.replace('SignedHeaders=', 'SignedHeaders=Authorization'),
    header.replace('SignedHeaders=', 'SignedHeaders=' + 'X-A;'.repeat(40) + 'X-A'),
    header.replace('App=pylegacy', 'App=__proto__')
  ]
  for (const value of variants) {
    const result = await inject({ ...signedInject(legacy, { method: 'POST', path: '/sig', body: { a: 1 }, scheme: 'legacy' }), headers: { ...request.headers, [name]: value } })
    assert4xx(result.status, value.slice(0, 90))
  }
  assert.equal((await inject(request)).status, 200, 'the unmutated request')
  assert.equal((await inject(request)).code, 'FST_LINKED_SERVICES_REPLAYED_REQUEST', 'and only once')
  // A JSON body with another key order parses to another Python dict: refused.
  const reordered = signedInject(legacy, { method: 'POST', path: '/sig', body: { a: 1, b: 2 }, scheme: 'legacy' })
  assert4xx((await inject({ ...reordered, payload: Buffer.from('{"b":2,"a":1}') })).status, 'reordered JSON keys')
})

test('legacy scheme limits (documented): the path is not covered (accepted on another route, once); identical requests in one millisecond are one', async () => {
  const request = signedInject(legacy, { method: 'POST', path: '/sig', body: { a: 1 }, scheme: 'legacy' })
  const moved = await inject({ ...request, url: '/any' })
  assert.equal(moved.status, 200, 'the original scheme does not sign the path')
  assert.equal((await inject(request)).code, 'FST_LINKED_SERVICES_REPLAYED_REQUEST', 'but only once: the MAC is the nonce')
  // No nonce of its own: two identical requests signed in one millisecond are one request.
  const now = Date.now()
  assert.equal((await inject(signedInject(legacy, { method: 'POST', path: '/sig', body: { b: 1 }, scheme: 'legacy', now }))).status, 200)
  assert.equal((await inject(signedInject(legacy, { method: 'POST', path: '/sig', body: { b: 1 }, scheme: 'legacy', now }))).code, 'FST_LINKED_SERVICES_REPLAYED_REQUEST')
  // The query is covered.
  assert4xx((await inject({ ...signedInject(legacy, { method: 'POST', path: '/sig', body: { a: 1 }, scheme: 'legacy' }), url: '/sig?a=1' })).status, 'query added')
})

test('an unknown caller, a caller claiming our own name, and an app with a short key: refused', async () => {
  const stranger = hmacCaller('stranger')
  assert.equal((await inject(signedInject(stranger, { method: 'GET', path: '/sig' }))).code, 'FST_LINKED_SERVICES_APP_NOT_FOUND')
  assert.equal((await inject(signedInject(hmac, { method: 'GET', path: '/sig', appName: 'nodeservice' }))).status, 401)
  const { app: other } = await attackServer(new UncheckedStore({ apps: [{ ...hmac.record, privateKey: hmacKeyHex(16) }] }))
  const response = await other.inject(signedInject(hmac, { method: 'GET', path: '/sig' }))
  assert.equal(response.statusCode, 401)
  assert.equal(response.json().code, 'FST_LINKED_SERVICES_INVALID_APP_KEY')
  await other.close()
})
