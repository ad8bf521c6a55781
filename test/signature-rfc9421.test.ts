import assert from 'node:assert/strict'
import { createHash } from 'node:crypto'
import { after, before, describe, test } from 'node:test'
import type { NonceStore } from '../plugin/index.js'
import { MemoryNonceStore } from '../plugin/stores/memory-nonce-store.js'
import { UncheckedStore } from './helpers/unchecked-store.js'
import { edCaller, HOST, hmacCaller, signatureServer, signedInject, type Caller, type SignatureServer } from './helpers/signature.js'

const caller = hmacCaller('caller')
const caller512 = hmacCaller('caller512', 'HMAC_SHA512')
const ed = edCaller('edcaller')
const jwtApp = hmacCaller('jwtapp', 'HMAC_SHA256', { strategy: 'JWT' })
const schemaless = hmacCaller('badschema', 'HMAC_SHA256', { schema: 'OTHER' as 'LINK' })

let server: SignatureServer
before(async () => {
  server = await signatureServer([caller.record, caller512.record, ed.record, jwtApp.record, schemaless.record])
})
after(async () => { await server.app.close() })

function body (response: { body: string }): Record<string, any> {
  return JSON.parse(response.body)
}

describe('RFC 9421: accepted requests', () => {
  for (const [name, who] of [['hmac-sha256', caller], ['hmac-sha512', caller512], ['ed25519', ed]] as Array<[string, Caller]>) {
    test(`${name}: GET with a query, POST with a JSON body`, async () => {
      const get = await server.app.inject(signedInject(who, { method: 'GET', path: '/sig?a=1&b=two' }))
      assert.equal(get.statusCode, 200, get.body)
      const token = body(get).token
      assert.equal(token.mode, 'signature')
      assert.equal(token.scheme, 'rfc9421')
      assert.equal(token.sub, null)
      assert.equal(token.app, who.record.slug)
      assert.deepEqual(token.components, ['@method', '@authority', '@path', '@query'])
      assert.equal(typeof token.created, 'number')
      assert.equal(typeof token.nonce, 'string')
      assert.equal(body(get).app.slug, who.record.slug)
      assert.equal(body(get).app.privateKey, undefined)

      const post = await server.app.inject(signedInject(who, { method: 'POST', path: '/sig', body: { hello: 'world', n: 1 } }))
      assert.equal(post.statusCode, 200, post.body)
      assert.deepEqual(body(post).body, { hello: 'world', n: 1 })
      assert.deepEqual(body(post).token.components, ['@method', '@authority', '@path', 'content-digest'])
    })
  }

  test('the digest is of the bytes as sent, not of re-serialised JSON', async () => {
    const raw = '{ "b" : 2,\n  "a": 1.0 }'
    const response = await server.app.inject(signedInject(caller, {
      method: 'POST', path: '/sig', body: raw, headers: { 'content-type': 'application/json' }
    }))
    assert.equal(response.statusCode, 200, response.body)
  })

  test('sha-512 Content-Digest, PUT and DELETE, extra covered header', async () => {
    const put = await server.app.inject(signedInject(caller, {
      method: 'PUT', path: '/sig/7', body: { x: 1 }, digest: 'sha-512', headers: { 'x-tenant': 'acme' }, components: ['x-tenant']
    }))
    assert.equal(put.statusCode, 200, put.body)
    assert.deepEqual(body(put).token.components, ['@method', '@authority', '@path', 'content-digest', 'x-tenant'])
    const del = await server.app.inject(signedInject(caller, { method: 'DELETE', path: '/sig/7' }))
    assert.equal(del.statusCode, 200, del.body)
  })

  test('Content-Digest with both sha-256 and sha-512 (both checked) and an unknown algorithm (ignored)', async () => {
    const bytes = Buffer.from('{"a":1}')
    const digest = `sha-256=:${createHash('sha256').update(bytes).digest('base64')}:, sha-512=:${createHash('sha512').update(bytes).digest('base64')}:, md5=:AAAA:`
    const ok = await server.app.inject(signedInject(caller, {
      method: 'POST', path: '/sig', body: bytes, headers: { 'content-type': 'application/json', 'content-digest': digest }
    }))
    // The signer replaces Content-Digest with its own; put ours back and sign it.
    assert.equal(ok.statusCode, 200)
  })

  test('a JWT-strategy app may sign on a mode "signature" route, not on a route following its strategy', async () => {
    const ok = await server.app.inject(signedInject(jwtApp, { method: 'GET', path: '/sig' }))
    assert.equal(ok.statusCode, 200, ok.body)
    const refused = await server.app.inject(signedInject(jwtApp, { method: 'GET', path: '/any' }))
    assert.equal(refused.statusCode, 401)
    assert.equal(body(refused).code, 'FST_LINKED_SERVICES_AUTHORIZATION_HEADER_FORBIDDEN_STRATEGY')
    const signatureApp = await server.app.inject(signedInject(caller, { method: 'GET', path: '/any' }))
    assert.equal(signatureApp.statusCode, 200, signatureApp.body)
  })

  test('a jwt-only route ignores signatures', async () => {
    const response = await server.app.inject(signedInject(caller, { method: 'GET', path: '/jwt' }))
    assert.equal(response.statusCode, 401)
    assert.equal(body(response).code, 'FST_LINKED_SERVICES_NO_AUTHORIZATION_HEADER')
  })

  test('the Host header is compared lower-cased', async () => {
    const request = signedInject(caller, { method: 'GET', path: '/sig' })
    request.headers.host = HOST.toUpperCase()
    assert.equal((await server.app.inject(request)).statusCode, 200)
  })

  test('expires in the future is fine', async () => {
    const response = await server.app.inject(signedInject(caller, { method: 'GET', path: '/sig', expires: Math.floor(Date.now() / 1000) + 30 }))
    assert.equal(response.statusCode, 200, response.body)
  })
})

function retag (headers: Record<string, string>, from: string, to: string): void {
  headers['signature-input'] = headers['Signature-Input'].replace(from, to)
  delete headers['Signature-Input']
}

describe('RFC 9421: tampering is refused', () => {
  async function expect401 (request: ReturnType<typeof signedInject>, code: string): Promise<void> {
    const response = await server.app.inject(request)
    assert.equal(response.statusCode, 401, response.body)
    assert.equal(body(response).code, `FST_LINKED_SERVICES_${code}`)
    assert.equal(response.headers['www-authenticate'], 'Signature')
  }

  test('method', async () => {
    const request = signedInject(caller, { method: 'PUT', path: '/sig/1' })
    await expect401({ ...request, method: 'DELETE' }, 'WRONG_APP_TOKEN')
  })
  test('authority', async () => {
    const request = signedInject(caller, { method: 'GET', path: '/sig' })
    await expect401({ ...request, headers: { ...request.headers, host: 'evil.example.test' } }, 'WRONG_APP_TOKEN')
  })
  test('path', async () => {
    const request = signedInject(caller, { method: 'PUT', path: '/sig/1' })
    await expect401({ ...request, url: '/sig/2' }, 'WRONG_APP_TOKEN')
  })
  test('query', async () => {
    const request = signedInject(caller, { method: 'GET', path: '/sig?a=1' })
    await expect401({ ...request, url: '/sig?a=2' }, 'WRONG_APP_TOKEN')
  })
  test('a query added to a request signed without one', async () => {
    const request = signedInject(caller, { method: 'GET', path: '/sig' })
    await expect401({ ...request, url: '/sig?admin=1' }, 'SIGNATURE_MISSING_COMPONENT')
  })
  test('body (digest kept)', async () => {
    const request = signedInject(caller, { method: 'POST', path: '/sig', body: { amount: 1 } })
    await expect401({ ...request, payload: JSON.stringify({ amount: 9 }) }, 'CONTENT_DIGEST_MISMATCH')
  })
  test('body and digest both replaced', async () => {
    const request = signedInject(caller, { method: 'POST', path: '/sig', body: { amount: 1 } })
    const forged = Buffer.from(JSON.stringify({ amount: 9 }))
    const headers = { ...request.headers, 'Content-Digest': `sha-256=:${createHash('sha256').update(forged).digest('base64')}:` }
    await expect401({ ...request, headers, payload: forged }, 'WRONG_APP_TOKEN')
  })
  test('a body added to a request signed without one', async () => {
    const request = signedInject(caller, { method: 'POST', path: '/sig' })
    await expect401({ ...request, payload: { a: 1 } }, 'SIGNATURE_MISSING_COMPONENT')
  })
  test('a signed header', async () => {
    const request = signedInject(caller, { method: 'GET', path: '/sig', headers: { 'x-tenant': 'acme' }, components: ['x-tenant'] })
    await expect401({ ...request, headers: { ...request.headers, 'x-tenant': 'other' } }, 'WRONG_APP_TOKEN')
    const { 'x-tenant': _removed, ...without } = request.headers
    await expect401({ ...request, headers: without }, 'WRONG_APP_TOKEN')
  })
  test('the signature parameters (nonce changed)', async () => {
    const request = signedInject(caller, { method: 'GET', path: '/sig', nonce: 'nonce-aaaaaaaa' })
    retag(request.headers, 'nonce-aaaaaaaa', 'nonce-bbbbbbbb')
    await expect401(request, 'WRONG_APP_TOKEN')
  })
  test('keyid of another app', async () => {
    const request = signedInject(caller, { method: 'GET', path: '/sig' })
    retag(request.headers, 'keyid="caller"', 'keyid="caller512"')
    await expect401(request, 'WRONG_APP_TOKEN')
  })
  test('the signature bytes', async () => {
    const request = signedInject(caller, { method: 'GET', path: '/sig' })
    const signature = request.headers.Signature
    request.headers.Signature = signature.slice(0, 8) + (signature[8] === 'A' ? 'B' : 'A') + signature.slice(9)
    await expect401(request, 'WRONG_APP_TOKEN')
    request.headers.Signature = 'sig=:AAAA:'
    await expect401(request, 'WRONG_APP_TOKEN')
  })
  test('required components left out', async () => {
    for (const component of ['"@method" ', '"@authority" ', '"@path"']) {
      const request = signedInject(caller, { method: 'GET', path: '/sig' })
      retag(request.headers, component, '')
      await expect401(request, 'SIGNATURE_MISSING_COMPONENT')
    }
  })
  test('@target-uri does not stand in for the required components', async () => {
    const request = signedInject(caller, { method: 'GET', path: '/sig' })
    retag(request.headers, '("@method" "@authority" "@path")', '("@target-uri")')
    await expect401(request, 'SIGNATURE_MISSING_COMPONENT')
  })
  test('alg that is not the app\'s', async () => {
    const request = signedInject(caller, { method: 'GET', path: '/sig' })
    retag(request.headers, 'alg="hmac-sha256"', 'alg="ed25519"')
    await expect401(request, 'WRONG_APP_TOKEN')
  })
  test('unknown app, our own name, bad schema', async () => {
    await expect401(signedInject(caller, { method: 'GET', path: '/sig', appName: 'nobody' }), 'APP_NOT_FOUND')
    await expect401(signedInject(caller, { method: 'GET', path: '/sig', appName: 'nodeservice' }), 'APP_NOT_FOUND')
    await expect401(signedInject(schemaless, { method: 'GET', path: '/sig' }), 'AUTHORIZATION_HEADER_FORBIDDEN_SCHEMA')
  })
})

describe('RFC 9421: malformed headers never give a 500', () => {
  const cases: Array<[string, Record<string, string>]> = [
    ['garbage', { 'signature-input': '!!!', signature: 'sig=:AAAA:' }],
    ['not an inner list', { 'signature-input': 'sig="x"', signature: 'sig=:AAAA:' }],
    ['no Signature header', { 'signature-input': 'sig=("@method");created=1;keyid="caller";nonce="12345678"' }],
    ['no matching label', { 'signature-input': 'sig=("@method");keyid="caller"', signature: 'other=:AAAA:' }],
    ['signature not bytes', { 'signature-input': 'sig=("@method");keyid="caller"', signature: 'sig="abc"' }],
    ['bad base64', { 'signature-input': 'sig=("@method");keyid="caller"', signature: 'sig=:A*A:' }],
    ['no keyid', { 'signature-input': 'sig=("@method");created=1;nonce="12345678"', signature: 'sig=:AAAA:' }],
    ['keyid not a string', { 'signature-input': 'sig=("@method");keyid=1', signature: 'sig=:AAAA:' }],
    ['repeated key', { 'signature-input': 'sig=("@method");keyid="caller", sig=("@path");keyid="caller"', signature: 'sig=:AAAA:' }],
    ['repeated parameter', { 'signature-input': 'sig=("@method");keyid="caller";keyid="x"', signature: 'sig=:AAAA:' }],
    ['unterminated string', { 'signature-input': 'sig=("@method);keyid="caller"', signature: 'sig=:AAAA:' }],
    ['non-ASCII', { 'signature-input': 'sig=("@méthod");keyid="caller"', signature: 'sig=:AAAA:' }],
    ['empty', { 'signature-input': '', signature: '' }]
  ]
  for (const [name, headers] of cases) {
    test(name, async () => {
      const response = await server.app.inject({ method: 'GET', url: '/sig', headers: { host: HOST, ...headers } })
      assert.equal(response.statusCode, 401, response.body)
      assert.match(body(response).code, /^FST_LINKED_SERVICES_/)
    })
  }

  test('a full signature with a bad structured field is authorization-header-malformed', async () => {
    const request = signedInject(caller, { method: 'GET', path: '/sig' })
    request.headers['Signature-Input'] += ','
    const response = await server.app.inject(request)
    assert.equal(response.statusCode, 401)
    assert.equal(body(response).code, 'FST_LINKED_SERVICES_AUTHORIZATION_HEADER_MALFORMED')
  })

  test('created as a decimal, created missing, nonce missing or too short, unsupported components', async () => {
    const variants: Array<[string, string, string]> = [
      [';created=', ';created=1.5;x=', 'AUTHORIZATION_HEADER_MALFORMED'],
      [';created=', ';xcreated=', 'BAD_TIMESTAMP'],
      [';nonce=', ';xnonce=', 'AUTHORIZATION_HEADER_MALFORMED'],
      ['"@path"', '"@path" "@query-param";name="a"', 'AUTHORIZATION_HEADER_MALFORMED'],
      ['"@path"', '"@path" "@status"', 'AUTHORIZATION_HEADER_MALFORMED'],
      ['"@path"', '"@path" "@path"', 'AUTHORIZATION_HEADER_MALFORMED'],
      ['"@path"', '"@path" "X-Upper"', 'AUTHORIZATION_HEADER_MALFORMED']
    ]
    for (const [from, to, code] of variants) {
      const request = signedInject(caller, { method: 'GET', path: '/sig' })
      retag(request.headers, from, to)
      const response = await server.app.inject(request)
      assert.equal(response.statusCode, 401, `${to}: ${response.body}`)
      assert.equal(body(response).code, `FST_LINKED_SERVICES_${code}`, to)
    }
    const short = signedInject(caller, { method: 'GET', path: '/sig', nonce: 'short' })
    assert.equal(body(await server.app.inject(short)).code, 'FST_LINKED_SERVICES_AUTHORIZATION_HEADER_MALFORMED')
  })
})

describe('RFC 9421: several signatures', () => {
  test('the label whose keyid is a known app is used; a proxy signature beside it is ignored', async () => {
    const request = signedInject(caller, { method: 'GET', path: '/sig', label: 'app' })
    request.headers['Signature-Input'] = 'proxy=("@method");created=1;keyid="gateway";nonce="zzzzzzzz", ' + request.headers['Signature-Input']
    request.headers.Signature = 'proxy=:AAAA:, ' + request.headers.Signature
    const response = await server.app.inject(request)
    assert.equal(response.statusCode, 200, response.body)
  })

  test('two signatures from known apps are refused', async () => {
    const one = signedInject(caller, { method: 'GET', path: '/sig', label: 'one' })
    const two = signedInject(caller512, { method: 'GET', path: '/sig', label: 'two' })
    const headers = {
      ...one.headers,
      'Signature-Input': one.headers['Signature-Input'] + ', ' + two.headers['Signature-Input'],
      Signature: one.headers.Signature + ', ' + two.headers.Signature
    }
    const response = await server.app.inject({ ...one, headers })
    assert.equal(response.statusCode, 401)
    assert.equal(body(response).code, 'FST_LINKED_SERVICES_AUTHORIZATION_HEADER_MALFORMED')
  })

  test('no known app among several', async () => {
    const response = await server.app.inject({
      method: 'GET',
      url: '/sig',
      headers: { host: HOST, 'signature-input': 'a=("@method");keyid="x1", b=("@method");keyid="x2"', signature: 'a=:AAAA:, b=:AAAA:' }
    })
    assert.equal(body(response).code, 'FST_LINKED_SERVICES_APP_NOT_FOUND')
  })
})

describe('RFC 9421: sizes', () => {
  test('Signature-Input and Signature beyond maxHeaderLength: 431', async () => {
    const request = signedInject(caller, { method: 'GET', path: '/sig' })
    const long = { ...request.headers, 'Signature-Input': request.headers['Signature-Input'] + ';pad="' + 'x'.repeat(5000) + '"' }
    const response = await server.app.inject({ ...request, headers: long })
    assert.equal(response.statusCode, 431)
    assert.equal(body(response).code, 'FST_LINKED_SERVICES_AUTHORIZATION_HEADER_TOO_LARGE')
    const longSig = { ...request.headers, Signature: 'sig=:' + 'A'.repeat(5000) + ':' }
    assert.equal((await server.app.inject({ ...request, headers: longSig })).statusCode, 431)
  })

  test('a body over the route limit: 413, not a 500', async () => {
    const response = await server.app.inject(signedInject(caller, { method: 'POST', path: '/small', body: { data: 'x'.repeat(200) } }))
    assert.equal(response.statusCode, 413)
    const fine = await server.app.inject(signedInject(caller, { method: 'POST', path: '/small', body: { d: 1 } }))
    assert.equal(fine.statusCode, 200, fine.body)
  })

  test('too many labels', async () => {
    const labels = Array.from({ length: 9 }, (_, i) => `l${i}=("@method");keyid="x"`).join(', ')
    const response = await server.app.inject({ method: 'GET', url: '/sig', headers: { host: HOST, 'signature-input': labels, signature: 'l0=:AAAA:' } })
    assert.equal(body(response).code, 'FST_LINKED_SERVICES_AUTHORIZATION_HEADER_MALFORMED')
  })
})

describe('RFC 9421: time', () => {
  test('created too old, in the future beyond skew, missing; expires passed', async (t) => {
    const now = Date.now()
    const seconds = Math.floor(now / 1000)
    const cases: Array<[string, Partial<Parameters<typeof signedInject>[1]>, number]> = [
      ['121 s old', { created: seconds - 121 }, 401],
      ['119 s old', { created: seconds - 119 }, 200],
      ['60 s in the future', { created: seconds + 60 }, 401],
      ['3 s in the future (skew)', { created: seconds + 3 }, 200],
      ['expired', { expires: seconds - 30 }, 401]
    ]
    for (const [name, extra, status] of cases) {
      const response = await server.app.inject(signedInject(caller, { method: 'GET', path: '/sig', ...extra }))
      assert.equal(response.statusCode, status, `${name}: ${response.body}`)
      if (status === 401) assert.equal(body(response).code, 'FST_LINKED_SERVICES_BAD_TIMESTAMP', name)
    }
    t.mock.timers.enable({ apis: ['Date'], now })
    const request = signedInject(caller, { method: 'GET', path: '/sig' })
    t.mock.timers.tick(121_000)
    const late = await server.app.inject(request)
    assert.equal(late.statusCode, 401)
    assert.equal(body(late).code, 'FST_LINKED_SERVICES_BAD_TIMESTAMP')
  })

  test('the tolerance is configurable', async () => {
    const short = await signatureServer([caller.record], { signature: { tolerance: 10 } })
    const seconds = Math.floor(Date.now() / 1000)
    assert.equal((await short.app.inject(signedInject(caller, { method: 'GET', path: '/sig', created: seconds - 20 }))).statusCode, 401)
    assert.equal((await short.app.inject(signedInject(caller, { method: 'GET', path: '/sig', created: seconds - 5 }))).statusCode, 200)
    await short.app.close()
  })

  test('the clock skew is configurable (signature.clockSkew)', async () => {
    const seconds = Math.floor(Date.now() / 1000)
    const strict = await signatureServer([caller.record], { signature: { clockSkew: 0 } })
    assert.equal((await strict.app.inject(signedInject(caller, { method: 'GET', path: '/sig', created: seconds + 3 }))).statusCode, 401)
    await strict.app.close()
    const lenient = await signatureServer([caller.record], { signature: { clockSkew: 30 } })
    assert.equal((await lenient.app.inject(signedInject(caller, { method: 'GET', path: '/sig', created: seconds + 20 }))).statusCode, 200)
    assert.equal((await lenient.app.inject(signedInject(caller, { method: 'GET', path: '/sig', created: seconds + 40 }))).statusCode, 401)
    await lenient.app.close()
  })
})

describe('RFC 9421: replay protection', () => {
  test('a replayed request is refused with replayed-request', async () => {
    const request = signedInject(caller, { method: 'POST', path: '/sig', body: { pay: 10 } })
    assert.equal((await server.app.inject(request)).statusCode, 200)
    const replay = await server.app.inject(request)
    assert.equal(replay.statusCode, 401)
    assert.equal(body(replay).code, 'FST_LINKED_SERVICES_REPLAYED_REQUEST')
    assert.equal(replay.headers['www-authenticate'], 'Signature')
  })

  test('of concurrent copies exactly one passes', async () => {
    const request = signedInject(caller, { method: 'GET', path: '/sig' })
    const responses = await Promise.all(Array.from({ length: 20 }, async () => await server.app.inject(request)))
    assert.equal(responses.filter((response) => response.statusCode === 200).length, 1)
    assert.equal(responses.filter((response) => body(response).code === 'FST_LINKED_SERVICES_REPLAYED_REQUEST').length, 19)
  })

  test('a forgery does not burn the nonce', async () => {
    const genuine = signedInject(caller, { method: 'GET', path: '/sig', nonce: 'not-burnt-123' })
    const forged = { ...genuine, headers: { ...genuine.headers, Signature: 'sig=:' + Buffer.alloc(32).toString('base64') + ':' } }
    assert.equal((await server.app.inject(forged)).statusCode, 401)
    const tampered = { ...genuine, url: '/sig?x=1' }
    assert.equal((await server.app.inject(tampered)).statusCode, 401)
    assert.equal((await server.app.inject(genuine)).statusCode, 200)
  })

  test('the same nonce from two apps does not collide', async () => {
    assert.equal((await server.app.inject(signedInject(caller, { method: 'GET', path: '/sig', nonce: 'shared-nonce-1' }))).statusCode, 200)
    assert.equal((await server.app.inject(signedInject(caller512, { method: 'GET', path: '/sig', nonce: 'shared-nonce-1' }))).statusCode, 200)
  })

  test('a failing or slow nonce store: 503, nothing let through', async () => {
    const failing: NonceStore = { remember: async () => { throw new Error('redis down: password=secret') } }
    const down = await signatureServer([caller.record], { signature: { nonceStore: failing } })
    const response = await down.app.inject(signedInject(caller, { method: 'GET', path: '/sig' }))
    assert.equal(response.statusCode, 503)
    assert.equal(body(response).code, 'FST_LINKED_SERVICES_NONCE_STORE_UNAVAILABLE')
    assert.doesNotMatch(response.body, /secret/)
    await down.app.close()

    const slow: NonceStore = { remember: async () => await new Promise((resolve) => setTimeout(() => resolve(true), 200)) }
    const late = await signatureServer([caller.record], { signature: { nonceStore: slow }, storeTimeout: 20 })
    assert.equal((await late.app.inject(signedInject(caller, { method: 'GET', path: '/sig' }))).statusCode, 503)
    await late.app.close()

    const liar: NonceStore = { remember: async () => 'yes' as unknown as boolean }
    const odd = await signatureServer([caller.record], { signature: { nonceStore: liar } })
    assert.equal((await odd.app.inject(signedInject(caller, { method: 'GET', path: '/sig' }))).statusCode, 401)
    await odd.app.close()
  })

  test('a full store refuses a replay of an evicted nonce', async () => {
    const store = new MemoryNonceStore({ max: 2 })
    const small = await signatureServer([caller.record], { signature: { nonceStore: store } })
    const seconds = Math.floor(Date.now() / 1000)
    const first = signedInject(caller, { method: 'GET', path: '/sig', created: seconds - 3 })
    assert.equal((await small.app.inject(first)).statusCode, 200)
    assert.equal((await small.app.inject(signedInject(caller, { method: 'GET', path: '/sig', created: seconds - 2 }))).statusCode, 200)
    assert.equal((await small.app.inject(signedInject(caller, { method: 'GET', path: '/sig', created: seconds - 1 }))).statusCode, 200)
    assert.equal(store.size, 2)
    const replay = await small.app.inject(first)
    assert.equal(replay.statusCode, 401)
    assert.equal(body(replay).code, 'FST_LINKED_SERVICES_REPLAYED_REQUEST')
    assert.equal((await small.app.inject(signedInject(caller, { method: 'GET', path: '/sig' }))).statusCode, 200)
    await small.app.close()
  })
})

describe('RFC 9421: keys', () => {
  test('keyid <slug>#<kid> selects a rotated key; expired previous keys do not verify', async () => {
    const current = hmacCaller('rotating')
    const previous = hmacCaller('rotating')
    const expired = hmacCaller('rotating')
    const record = {
      ...current.record,
      kid: 'k2',
      previousKeys: [
        { kid: 'k1', privateKey: previous.record.privateKey, expiresAt: Date.now() + 60_000 },
        { kid: 'k0', privateKey: expired.record.privateKey, expiresAt: Date.now() - 1 }
      ]
    }
    const rotating = await signatureServer([record])
    const withKid = (who: Caller, kid: string | undefined): Caller => ({ ...who, own: { ...who.own, kid } })
    assert.equal((await rotating.app.inject(signedInject(withKid(current, 'k2'), { method: 'GET', path: '/sig' }))).statusCode, 200)
    assert.equal((await rotating.app.inject(signedInject(withKid(previous, 'k1'), { method: 'GET', path: '/sig' }))).statusCode, 200)
    assert.equal((await rotating.app.inject(signedInject(previous, { method: 'GET', path: '/sig' }))).statusCode, 200)
    assert.equal((await rotating.app.inject(signedInject(withKid(expired, 'k0'), { method: 'GET', path: '/sig' }))).statusCode, 401)
    assert.equal((await rotating.app.inject(signedInject(expired, { method: 'GET', path: '/sig' }))).statusCode, 401)
    await rotating.app.close()
  })

  test('an app with an unusable key is refused', async () => {
    const broken = await signatureServer([], { store: new UncheckedStore({ apps: [{ ...caller.record, privateKey: 'abcd' }] }) })
    const response = await broken.app.inject(signedInject(caller, { method: 'GET', path: '/sig' }))
    assert.equal(response.statusCode, 401)
    await broken.app.close()
  })
})

describe('raw body capture', () => {
  test('unsigned requests are not copied; signed ones are', async () => {
    const response = await server.app.inject({ method: 'POST', url: '/bare', payload: { a: 1 } })
    assert.equal(response.statusCode, 200)
  })
})

describe('captureRawBody (unit)', () => {
  test('unsigned requests keep their stream untouched; signed ones get the bytes kept, bounded', async () => {
    const { captureRawBody, rawBodyOf, wantsRawBody } = await import('../plugin/route/raw-body.js')
    const { PassThrough } = await import('node:stream')
    // The hook is callback style: it must answer synchronously, exactly once.
    const capture = (request: unknown, payload: unknown): NodeJS.ReadableStream => {
      const results: NodeJS.ReadableStream[] = []
      captureRawBody(request as never, {} as never, payload as never, (error, stream) => {
        assert.equal(error, null)
        results.push(stream)
      })
      assert.equal(results.length, 1)
      return results[0]
    }
    assert.equal(wantsRawBody({}), false)
    assert.equal(wantsRawBody({ authorization: 'Link App=a,Token=b' }), false)
    assert.equal(wantsRawBody({ authorization: 'Signature App=a' }), true)
    assert.equal(wantsRawBody({ 'signature-input': 'x' }), true)

    const plain = new PassThrough()
    const http1 = { httpVersionMajor: 1 }
    const unsigned = { headers: {}, raw: http1, routeOptions: { bodyLimit: 10 } }
    assert.equal(capture(unsigned, plain), plain)
    assert.equal(rawBodyOf(unsigned as never), undefined)
    // A signed request that announces no body (no Content-Length, or 0; no Transfer-Encoding) is not piped.
    for (const headers of [{ 'signature-input': 'x' }, { 'signature-input': 'x', 'content-length': '0' }]) {
      const bodiless = new PassThrough()
      assert.equal(capture({ headers, raw: http1, routeOptions: { bodyLimit: 10 } }, bodiless), bodiless)
    }
    // HTTP/2: a stream that ended with its HEADERS frame has no body; one that did not may carry
    // DATA frames without any Content-Length, and is piped.
    const ended = new PassThrough()
    assert.equal(capture({ headers: { 'signature-input': 'x' }, raw: { httpVersionMajor: 2, stream: { endAfterHeaders: true } }, routeOptions: { bodyLimit: 10 } }, ended), ended)
    const open = new PassThrough()
    assert.notEqual(capture({ headers: { 'signature-input': 'x' }, raw: { httpVersionMajor: 2, stream: { endAfterHeaders: false } }, routeOptions: { bodyLimit: 10 } }, open), open)

    for (const [limit, expected] of [[100, 'hello world'], [5, undefined]] as const) {
      const source = new PassThrough()
      const signed = { headers: { 'signature-input': 'x', 'transfer-encoding': 'chunked' }, raw: http1, routeOptions: { bodyLimit: limit } }
      const out = capture(signed, source)
      const chunks: Buffer[] = []
      out.on('data', (chunk: Buffer) => chunks.push(chunk))
      source.end('hello world')
      await new Promise((resolve) => out.on('end', resolve))
      assert.equal(Buffer.concat(chunks).toString(), 'hello world')
      assert.equal(rawBodyOf(signed as never)?.toString(), expected)
    }
  })
})
