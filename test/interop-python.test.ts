/**
 * Interop with Python, as the original runs it: PyJWT (the library the original signs and
 * verifies with) and CPython's own urlencode/repr (the original's legacy canonical string).
 * Needs a python3 with PyJWT (Debian: python3-jwt, which .ci/run installs when missing).
 */
import { test } from 'node:test'
import assert from 'node:assert/strict'
import { execFileSync } from 'node:child_process'
import fc from 'fast-check'
import { signJwt } from '../plugin/client/sign-jwt.js'
import { legacyCanonical } from '../plugin/signature/legacy-canonical.js'
import { parsePythonJson } from '../plugin/signature/python-repr.js'
import { ed25519Keys, hmacKeyHex } from './helpers/keys.js'
import { linkHeader } from './helpers/jwt.js'
import { APP_NAME, buildServer, hmacApp } from './helpers/server.js'
import { pythonWithPyJwt } from './helpers/python.js'

const { python, skip } = pythonWithPyJwt()

function py (script: string, input: unknown): unknown {
  const out = execFileSync(python as string, ['-c', script], { input: JSON.stringify(input), encoding: 'utf8' })
  return JSON.parse(out)
}

const PYJWT_ENCODE = `
import sys, json, time, jwt
args = json.load(sys.stdin)
out = []
for case in args:
    key = case['key'] if case['alg'] == 'EdDSA' else bytes.fromhex(case['key'])
    now = time.time()
    claims = {'sub': case['sub'], 'iss': 'http://localhost:8000', 'app': case['app'], 'aud': case['aud'],
              'exp': now + 600, 'iat': now - 1, 'typ': 'JWT'}
    out.append(jwt.encode(claims, key, algorithm=case['alg']))
print(json.dumps(out))
`

const PYJWT_DECODE = `
import sys, json, jwt
args = json.load(sys.stdin)
out = []
for case in args:
    key = case['key'] if case['alg'] == 'EdDSA' else bytes.fromhex(case['key'])
    try:
        claims = jwt.decode(case['token'], key, algorithms=[case['alg']], audience=case['aud'])
        out.append({'ok': True, 'claims': claims})
    except Exception as error:
        out.append({'ok': False, 'error': type(error).__name__})
print(json.dumps(out))
`

test('tokens PyJWT makes the way the original does (int and string sub, float exp/iat) are accepted', { skip }, async () => {
  const hs256 = hmacKeyHex(32)
  const hs512 = hmacKeyHex(64)
  const ed = ed25519Keys()
  const { app } = await buildServer({
    apps: [
      hmacApp('py256', { privateKey: hs256 }),
      hmacApp('py512', { algorithm: 'HMAC_SHA512', privateKey: hs512 }),
      // The original's Ed25519 column format: hex of the PEM text.
      { slug: 'pyed', algorithm: 'ED25519', publicKey: ed.publicPemHex, requireAnAgreement: false }
    ]
  })
  const cases = [
    { app: 'py256', alg: 'HS256', key: hs256, sub: 5, aud: APP_NAME },
    { app: 'py256', alg: 'HS256', key: hs256, sub: null, aud: APP_NAME },
    { app: 'py512', alg: 'HS512', key: hs512, sub: '5', aud: APP_NAME },
    { app: 'py512', alg: 'HS512', key: hs512, sub: '', aud: APP_NAME },
    { app: 'pyed', alg: 'EdDSA', key: ed.privatePem, sub: '42', aud: APP_NAME }
  ]
  const tokens = py(PYJWT_ENCODE, cases) as string[]
  for (const [index, token] of tokens.entries()) {
    const response = await app.inject({ url: '/open', headers: { authorization: linkHeader(cases[index].app, token) } })
    assert.equal(response.statusCode, 200, JSON.stringify(cases[index]))
    const expected = cases[index].sub === null || cases[index].sub === '' ? null : String(cases[index].sub)
    assert.equal(response.json().token.sub, expected)
  }
  // A PyJWT token for another audience is refused.
  const [foreign] = py(PYJWT_ENCODE, [{ ...cases[0], aud: 'someone-else' }]) as string[]
  assert.equal((await app.inject({ url: '/open', headers: { authorization: linkHeader('py256', foreign) } })).statusCode, 401)
  await app.close()
})

test('tokens signJwt makes are accepted by PyJWT with the original\'s settings (audience, pinned alg)', { skip }, () => {
  const hs256 = hmacKeyHex(32)
  const hs512 = hmacKeyHex(64)
  const ed = ed25519Keys()
  const targets = [
    { record: hmacApp('django', { privateKey: hs256 }), alg: 'HS256', key: hs256 },
    { record: hmacApp('django', { algorithm: 'HMAC_SHA512', privateKey: hs512 }), alg: 'HS512', key: hs512 },
    { record: { slug: 'django', algorithm: 'ED25519' as const, privateKey: ed.privatePemHex }, alg: 'EdDSA', key: ed.publicPem }
  ]
  const cases = targets.map(({ record, alg, key }) => ({
    token: signJwt({ appName: APP_NAME, app: record, sub: 7 }), alg, key, aud: 'django'
  }))
  const results = py(PYJWT_DECODE, cases) as Array<{ ok: boolean, claims?: Record<string, unknown>, error?: string }>
  for (const [index, result] of results.entries()) {
    assert.ok(result.ok, `${cases[index].alg}: ${result.error}`)
    assert.equal(result.claims?.sub, '7')
    assert.equal(result.claims?.app, APP_NAME)
    assert.equal(result.claims?.aud, 'django')
    assert.equal(typeof result.claims?.exp, 'number')
  }
  // PyJWT pins the algorithm too: an HS256 token is refused where HS512 is expected.
  const [wrongAlg] = py(PYJWT_DECODE, [{ ...cases[0], alg: 'HS512' }]) as Array<{ ok: boolean }>
  assert.equal(wrongAlg.ok, false)
})

const PY_CANONICAL = `
import sys, json
from collections import OrderedDict
from urllib.parse import urlencode
cases = json.load(sys.stdin)
out = []
for case in cases:
    payload = OrderedDict()
    payload['timestamp'] = case['timestamp']
    payload['app'] = case['app']
    payload['method'] = case['method']
    payload['params'] = case['params']
    payload['body'] = case['body']
    payload['headers'] = case['headers']
    out.append(urlencode(payload))
print(json.dumps(out))
`

test('the legacy canonical string equals CPython\'s urlencode of the same payload, for any JSON', { skip }, () => {
  const json = fc.jsonValue({ maxDepth: 3 })
  const cases = fc.sample(fc.record({
    timestamp: fc.string(),
    app: fc.string(),
    method: fc.constantFrom('GET', 'POST', 'PUT', 'DELETE'),
    params: fc.dictionary(fc.string(), fc.array(fc.string(), { maxLength: 3 })),
    body: fc.oneof(json, fc.constant(null)),
    headers: fc.dictionary(fc.string(), fc.string())
  }), 300)
  // JSON cannot carry -0, and Python prints it as -0.0: leave it out of the comparison.
  const clean = JSON.parse(JSON.stringify(cases, (_key, value) => Object.is(value, -0) ? 0 : value))
  const expected = py(PY_CANONICAL, clean) as string[]
  for (const [index, payload] of (clean as Array<Record<string, unknown>>).entries()) {
    // Through the JSON text, as Python received it: `1e308` is a float there, not an int.
    const asPython = (value: unknown) => parsePythonJson(JSON.stringify(value)) as NonNullable<ReturnType<typeof parsePythonJson>>
    const ours = legacyCanonical({
      timestamp: payload.timestamp as string,
      app: payload.app as string,
      method: payload.method as string,
      params: asPython(payload.params),
      body: asPython(payload.body),
      headers: asPython(payload.headers)
    })
    assert.equal(ours, expected[index], JSON.stringify(payload))
  }
})
