import assert from 'node:assert/strict'
import { createHmac } from 'node:crypto'
import { after, before, describe, test } from 'node:test'
import { legacyCanonical, legacyMac } from '../plugin/signature/legacy-canonical.js'
import { fromJs, PyDict } from '../plugin/signature/python-repr.js'
import { signRequest } from '../plugin/signature/sign.js'
import { createSecretKey } from 'node:crypto'
import { GOLDEN_HMAC_KEY } from './helpers/keys.js'
import { APP_NAME, edCaller, HOST, hmacCaller, signatureServer, type SignatureServer } from './helpers/signature.js'

const TIMESTAMP = '2024-05-18T12:00:00.123456+00:00'
const NOW = Date.UTC(2024, 4, 18, 12, 0, 30)
const S1_BODY = '{"id": 1, "name": "Jane O\'Neil", "ok": true, "n": null, "f": 1.5, "tags": ["a", "b"]}'
const S1_HS256 = 'be5248a80b9d05facc55aa8fb05b75229051ec5dea6fdcdd86ffa24d8e414a92'
const S1_HS512 = 'b989a921df5d0402c248d7ada240b805228038741c5d68ecdcf795cea1f73c750f2a8f4ebef4990291a130b8426151eab78839599988c3bc1e34ea14547f498c'
const S2_HS256 = '5c085519a0699bcbcfa497c1357187f9b0c16b679362b5a232824e77b6811497'
const S3_HS256 = '702870f27bac38b99009f8882622398e48811a6398bcd54d3ab161e2bcb81a51'

const geeks = { slug: '4geeks', algorithm: 'HMAC_SHA256' as const, privateKey: GOLDEN_HMAC_KEY, strategy: 'SIGNATURE' as const, requireAnAgreement: false }
const geeks512 = { ...geeks, algorithm: 'HMAC_SHA512' as const }

function authorization (nonce: string, date = TIMESTAMP, app = '4geeks', signedHeaders = ''): string {
  return `Signature App=${app},Nonce=${nonce},SignedHeaders=${signedHeaders},Date=${date}`
}

function body (response: { body: string }): Record<string, any> {
  return JSON.parse(response.body)
}

let server: SignatureServer
let off: SignatureServer
before(async () => {
  server = await signatureServer([geeks], { signature: { legacy: true } })
  off = await signatureServer([geeks])
})
after(async () => {
  await server.app.close()
  await off.app.close()
})

describe('legacy scheme: golden vectors through the plugin', () => {
  test('S1 (POST JSON as a Python sender sends it) verifies; the replay is refused', (t) => {
    t.mock.timers.enable({ apis: ['Date'], now: NOW })
    return (async () => {
      const request = {
        method: 'POST' as const, url: '/sig', payload: S1_BODY, headers: { host: HOST, 'content-type': 'application/json', authorization: authorization(S1_HS256) }
      }
      const response = await server.app.inject(request)
      assert.equal(response.statusCode, 200, response.body)
      const token = body(response).token
      assert.deepEqual(token, { mode: 'signature', scheme: 'legacy', sub: null, app: '4geeks', created: Math.floor(Date.UTC(2024, 4, 18, 12) / 1000), nonce: S1_HS256, components: [] })
      const replay = await server.app.inject(request)
      assert.equal(replay.statusCode, 401)
      assert.equal(body(replay).code, 'FST_LINKED_SERVICES_REPLAYED_REQUEST')
    })()
  })

  test('S1 with HS512', async (t) => {
    t.mock.timers.enable({ apis: ['Date'], now: NOW })
    const s512 = await signatureServer([geeks512], { signature: { legacy: true } })
    const response = await s512.app.inject({
      method: 'POST', url: '/sig', payload: S1_BODY, headers: { host: HOST, 'content-type': 'application/json', authorization: authorization(S1_HS512) }
    })
    assert.equal(response.statusCode, 200, response.body)
    // An HS256-length MAC for an HS512 app is refused before any HMAC.
    const short = await s512.app.inject({ method: 'GET', url: '/sig', headers: { host: HOST, authorization: authorization(S2_HS256) } })
    assert.equal(short.statusCode, 401)
    await s512.app.close()
  })

  test('S2 (a bodiless GET as the Python sender signs it) verifies, S3 (receiver form) too', async (t) => {
    t.mock.timers.enable({ apis: ['Date'], now: NOW })
    const s2 = await server.app.inject({ method: 'GET', url: '/sig', headers: { host: HOST, authorization: authorization(S2_HS256) } })
    assert.equal(s2.statusCode, 200, s2.body)
    const s3 = await server.app.inject({ method: 'GET', url: '/sig', headers: { host: HOST, authorization: authorization(S3_HS256) } })
    assert.equal(s3.statusCode, 200, s3.body)
  })

  test('outside the window, in the future, unparsable Date: bad-timestamp', async (t) => {
    t.mock.timers.enable({ apis: ['Date'], now: Date.UTC(2024, 4, 18, 12, 2, 1) })
    const late = await server.app.inject({ method: 'GET', url: '/sig', headers: { host: HOST, authorization: authorization(S2_HS256) } })
    assert.equal(body(late).code, 'FST_LINKED_SERVICES_BAD_TIMESTAMP')
    t.mock.timers.setTime(Date.UTC(2024, 4, 18, 11, 59, 0))
    const early = await server.app.inject({ method: 'GET', url: '/sig', headers: { host: HOST, authorization: authorization(S2_HS256) } })
    assert.equal(body(early).code, 'FST_LINKED_SERVICES_BAD_TIMESTAMP')
    const garbage = await server.app.inject({ method: 'GET', url: '/sig', headers: { host: HOST, authorization: authorization(S2_HS256, 'soon') } })
    assert.equal(body(garbage).code, 'FST_LINKED_SERVICES_BAD_TIMESTAMP')
  })

  test('tampering: body, method, a different key', async (t) => {
    t.mock.timers.enable({ apis: ['Date'], now: NOW })
    const changed = await server.app.inject({
      method: 'POST', url: '/sig', payload: S1_BODY.replace('Jane', 'John'), headers: { host: HOST, 'content-type': 'application/json', authorization: authorization(S1_HS256) }
    })
    assert.equal(body(changed).code, 'FST_LINKED_SERVICES_WRONG_APP_TOKEN')
    const method = await server.app.inject({ method: 'DELETE', url: '/sig/1', headers: { host: HOST, authorization: authorization(S2_HS256) } })
    assert.equal(body(method).code, 'FST_LINKED_SERVICES_WRONG_APP_TOKEN')
    const upper = await server.app.inject({ method: 'GET', url: '/sig', headers: { host: HOST, authorization: authorization(S2_HS256.toUpperCase()) } })
    assert.equal(body(upper).code, 'FST_LINKED_SERVICES_WRONG_APP_TOKEN')
  })
})

describe('legacy scheme: the header and the app', () => {
  test('off by default: unknown-auth-schema', async () => {
    const response = await off.app.inject({ method: 'GET', url: '/sig', headers: { host: HOST, authorization: authorization(S2_HS256) } })
    assert.equal(response.statusCode, 401)
    assert.equal(body(response).code, 'FST_LINKED_SERVICES_UNKNOWN_AUTH_SCHEMA')
  })

  test('malformed, wrong key set, duplicates', async () => {
    const cases: Array<[string, string]> = [
      ['App=4geeks,Nonce=x', 'AUTHORIZATION_HEADER_BAD_SCHEMA'],
      ['App=4geeks,Nonce=a=b,SignedHeaders=,Date=x', 'AUTHORIZATION_HEADER_MALFORMED'],
      ['App=4geeks,App=4geeks,SignedHeaders=,Date=x', 'AUTHORIZATION_HEADER_MALFORMED'],
      ['App=4geeks,Nonce=x,Signed=,Date=x', 'AUTHORIZATION_HEADER_BAD_SCHEMA'],
      ['App=nobody,Nonce=x,SignedHeaders=,Date=x', 'APP_NOT_FOUND']
    ]
    for (const [params, code] of cases) {
      const response = await server.app.inject({ method: 'GET', url: '/sig', headers: { host: HOST, authorization: `Signature ${params}` } })
      assert.equal(response.statusCode, 401, params)
      assert.equal(body(response).code, `FST_LINKED_SERVICES_${code}`, params)
      assert.equal(response.headers['www-authenticate'], 'Signature')
    }
  })

  test('Ed25519 apps cannot use it', async () => {
    const ed = edCaller('edcaller')
    const s = await signatureServer([ed.record], { signature: { legacy: true } })
    const response = await s.app.inject({ method: 'GET', url: '/sig', headers: { host: HOST, authorization: authorization(S2_HS256, TIMESTAMP, 'edcaller') } })
    assert.equal(body(response).code, 'FST_LINKED_SERVICES_ALGORITHM_NOT_IMPLEMENTED')
    await s.app.close()
  })
})

describe('legacy scheme: what a Python sender produces', () => {
  const caller = hmacCaller('pyapp')
  let py: SignatureServer
  before(async () => { py = await signatureServer([caller.record], { signature: { legacy: true } }) })
  after(async () => { await py.app.close() })
  const key = (): ReturnType<typeof createSecretKey> => createSecretKey(Buffer.from(caller.record.privateKey as string, 'hex'))

  /** The Python client's get_signature: repr of exactly what its caller passed. */
  function pythonSender (method: string, params: unknown, bodyValue: unknown, headers: Record<string, string> = {}): string {
    const date = new Date().toISOString().replace('Z', '000+00:00')
    const canonical = legacyCanonical({
      timestamp: date, app: 'pyapp', method, params: fromJs(params ?? {}), body: bodyValue === undefined ? null : fromJs(bodyValue), headers: fromJs(headers)
    })
    return authorization(legacyMac(canonical, key(), 'sha256'), date, 'pyapp', Object.keys(headers).join(';'))
  }

  test('params as str, int or list values; JSON bodies; form data; signed headers', async () => {
    const cases: Array<{ method: 'GET' | 'POST', url: string, params?: unknown, body?: unknown, payload?: string, type?: string, headers?: Record<string, string> }> = [
      { method: 'GET', url: '/sig?a=1&b=x', params: { a: '1', b: 'x' } },
      { method: 'GET', url: '/sig?page=2', params: { page: 2 } },
      { method: 'GET', url: '/sig?id=1&id=2', params: { id: ['1', '2'] } },
      { method: 'POST', url: '/sig', body: { b: 1, a: [1.5, null, true] }, payload: JSON.stringify({ b: 1, a: [1.5, null, true] }), type: 'application/json' },
      { method: 'POST', url: '/sig', body: { name: 'x y' }, payload: 'name=x+y', type: 'application/x-www-form-urlencoded' },
      { method: 'POST', url: '/sig', body: { page: 2 }, payload: 'page=2', type: 'application/x-www-form-urlencoded' },
      { method: 'POST', url: '/sig', body: 'plain text', payload: 'plain text', type: 'application/x-www-form-urlencoded' },
      { method: 'GET', url: '/sig', headers: { 'X-Tenant': 'acme' } }
    ]
    for (const c of cases) {
      const headers: Record<string, string> = { host: HOST, authorization: pythonSender(c.method, c.params, c.body, c.headers), ...(c.headers ?? {}) }
      if (c.type !== undefined) headers['content-type'] = c.type
      const response = await py.app.inject({ method: c.method, url: c.url, headers, ...(c.payload === undefined ? {} : { payload: c.payload }) })
      assert.equal(response.statusCode, 200, `${c.url} ${response.body}`)
    }
  })

  test('a signed header that differs or is missing is refused', async () => {
    const auth = pythonSender('GET', undefined, undefined, { 'X-Tenant': 'acme' })
    const other = await py.app.inject({ method: 'GET', url: '/sig', headers: { host: HOST, authorization: auth, 'x-tenant': 'evil' } })
    assert.equal(other.statusCode, 401)
    const missing = await py.app.inject({ method: 'GET', url: '/sig', headers: { host: HOST, authorization: pythonSender('GET', undefined, undefined, { 'X-Gone': '1' }) } })
    assert.equal(missing.statusCode, 401)
    const auth2 = authorization('0'.repeat(64), new Date().toISOString(), 'pyapp', 'Authorization')
    assert.equal((await py.app.inject({ method: 'GET', url: '/sig', headers: { host: HOST, authorization: auth2 } })).statusCode, 401)
  })
})

describe('legacy signer (what a Python RECEIVER accepts)', () => {
  test('S3 byte for byte: a bodiless GET is signed with body {} and the params as lists', () => {
    const signed = signRequest({
      scheme: 'legacy', appName: '4geeks', app: { slug: 'rigobot', algorithm: 'HMAC_SHA256', privateKey: GOLDEN_HMAC_KEY }, method: 'get', url: 'http://rigobot.test/v1/x', now: Date.parse(TIMESTAMP)
    })
    // formatLegacyTimestamp has millisecond precision: rebuild the expected MAC for its timestamp.
    const date = '2024-05-18T12:00:00.123000+00:00'
    const expected = legacyMac(legacyCanonical({ timestamp: date, app: '4geeks', method: 'GET', params: new PyDict(), body: new PyDict(), headers: new PyDict() }),
      createSecretKey(Buffer.from(GOLDEN_HMAC_KEY, 'hex')), 'sha256')
    assert.equal(signed.headers.Authorization, `Signature App=4geeks,Nonce=${expected},SignedHeaders=,Date=${date}`)
    assert.equal(signed.body, undefined)
  })

  test('params become list values, JSON bodies are parsed as the receiver parses them', () => {
    const signed = signRequest({
      scheme: 'legacy', appName: 'me', app: { slug: 'them', algorithm: 'HMAC_SHA512', privateKey: GOLDEN_HMAC_KEY }, method: 'POST', url: 'http://them.test/x', params: { a: 1, b: ['x', 'y'] }, body: { 2: 1, b: 1.0 }, now: NOW
    })
    assert.equal(signed.url, 'http://them.test/x?a=1&b=x&b=y')
    assert.equal(signed.headers['Content-Type'], 'application/json')
    const date = '2024-05-18T12:00:30+00:00'
    const nonce = /Nonce=([0-9a-f]+),/.exec(signed.headers.Authorization)![1]
    const text = legacyCanonical({ timestamp: date, app: 'me', method: 'POST', params: fromJs({ a: ['1'], b: ['x', 'y'] }), body: fromJs({ 2: 1, b: 1 }), headers: new PyDict() })
    assert.equal(nonce, createHmac('sha512', Buffer.from(GOLDEN_HMAC_KEY, 'hex')).update(text).digest('hex'))
  })

  test('round trip through our own verifier', async () => {
    const caller = hmacCaller('roundtrip')
    const s = await signatureServer([caller.record], { signature: { legacy: true } })
    for (const [method, url, payload] of [['GET', '/sig?x=1', undefined], ['POST', '/sig', { a: [1, 'b'] }]] as const) {
      const signed = signRequest({ scheme: 'legacy', appName: 'roundtrip', app: caller.own, method, url, authority: HOST, body: payload })
      const response = await s.app.inject({ method, url: signed.url, headers: { host: HOST, ...signed.headers }, ...(signed.body === undefined ? {} : { payload: signed.body }) })
      assert.equal(response.statusCode, 200, response.body)
    }
    await s.app.close()
  })

  test('refused: Ed25519, signed headers, non-JSON bodies', () => {
    const ed = edCaller('x')
    assert.throws(() => signRequest({ scheme: 'legacy', appName: APP_NAME, app: ed.own, method: 'GET', url: 'http://a.test/' }), /HMAC only/)
    const hmac = hmacCaller('y')
    assert.throws(() => signRequest({ scheme: 'legacy', appName: APP_NAME, app: hmac.own, method: 'GET', url: 'http://a.test/', headers: { a: 'b' }, components: ['a'] }), /cannot sign headers/)
    assert.throws(() => signRequest({ scheme: 'legacy', appName: APP_NAME, app: hmac.own, method: 'POST', url: 'http://a.test/', body: 'not json' }), /JSON bodies only/)
  })
})
