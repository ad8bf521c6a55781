import { test } from 'node:test'
import assert from 'node:assert/strict'
import Fastify from 'fastify'
import fastifyJwt from '@fastify/jwt'
import linkedServices, { MemoryStore } from '../plugin/index.js'
import { ed25519Keys, GOLDEN_HMAC_KEY, hmacKeyHex } from './helpers/keys.js'
import { b64url, encodeJwt, linkHeader, pythonClaims } from './helpers/jwt.js'
import { APP_NAME, buildServer, hmacApp } from './helpers/server.js'
import { UncheckedStore } from './helpers/unchecked-store.js'

const CALLER = 'pyservice'

async function call (app: Awaited<ReturnType<typeof buildServer>>['app'], authorization: string | undefined, url = '/open') {
  const response = await app.inject({ method: 'GET', url, headers: authorization === undefined ? {} : { authorization } })
  return { status: response.statusCode, body: response.json(), headers: response.headers }
}

test('golden tokens of the Python original verify (HS512 and HS256, fixed clock)', async (t) => {
  t.mock.timers.enable({ apis: ['Date'], now: 1716033600 * 1000 })
  const tokens = {
    HMAC_SHA512: 'eyJhbGciOiJIUzUxMiIsInR5cCI6IkpXVCJ9.eyJzdWIiOiI1IiwiaXNzIjoiaHR0cDovL2xvY2FsaG9zdDo4MDAwIiwiYXBwIjoiNGdlZWtzIiwiYXVkIjoicmlnb2JvdCIsImV4cCI6MTcxNjAzNDIwMCwiaWF0IjoxNzE2MDMzNTk5LCJ0eXAiOiJKV1QifQ.H5AIXb5qYumUvyzyqAvMKiow6DJ8lMAGu2cJQqmh4pqBjnTjBJnHssYcWJI21E6Gkf6JMrjk0XlQeY9RZIcwBw',
    HMAC_SHA256: 'eyJhbGciOiJIUzI1NiIsInR5cCI6IkpXVCJ9.eyJzdWIiOiI1IiwiaXNzIjoiaHR0cDovL2xvY2FsaG9zdDo4MDAwIiwiYXBwIjoiNGdlZWtzIiwiYXVkIjoicmlnb2JvdCIsImV4cCI6MTcxNjAzNDIwMCwiaWF0IjoxNzE2MDMzNTk5LCJ0eXAiOiJKV1QifQ.ZNfQTdV1wUxvxVQhYX9cDF_LTFDpal58WrC8iwACEic'
  } as const
  for (const [algorithm, token] of Object.entries(tokens)) {
    const store = new MemoryStore({ apps: [{ slug: '4geeks', algorithm: algorithm as 'HMAC_SHA256', privateKey: GOLDEN_HMAC_KEY, requireAnAgreement: false }] })
    const app = Fastify()
    await app.register(linkedServices, { appName: 'rigobot', store })
    app.get('/', { preHandler: app.scope(['read:user']) }, async (request) => ({ app: request.app, token: request.token }))
    const ok = await app.inject({ url: '/', headers: { authorization: linkHeader('4geeks', token) } })
    assert.equal(ok.statusCode, 200, algorithm)
    const body = ok.json()
    assert.equal(body.token.sub, '5')
    assert.equal(body.token.app, '4geeks')
    assert.equal(body.token.aud, 'rigobot')
    assert.equal(body.app.slug, '4geeks')
    // After `exp` (plus tolerance) the same token is refused as expired.
    t.mock.timers.setTime((1716034200 + 60) * 1000)
    const late = await app.inject({ url: '/', headers: { authorization: linkHeader('4geeks', token) } })
    assert.equal(late.statusCode, 401)
    assert.equal(late.json().code, 'FST_LINKED_SERVICES_EXPIRED')
    t.mock.timers.setTime(1716033600 * 1000)
    await app.close()
  }
})

test('HS256, HS512 and EdDSA apps accept tokens signed with their key; request.app holds no key', async () => {
  const ed = ed25519Keys()
  const hs512 = hmacKeyHex(64)
  const hs256 = hmacKeyHex(32)
  const { app } = await buildServer({
    apps: [
      hmacApp('hs256', { privateKey: hs256 }),
      hmacApp('hs512', { algorithm: 'HMAC_SHA512', privateKey: hs512 }),
      { slug: 'ed', algorithm: 'ED25519', publicKey: ed.publicPemHex, requireAnAgreement: false }
    ]
  })
  const cases = [
    ['hs256', hs256, 'HS256'],
    ['hs512', hs512, 'HS512'],
    ['ed', ed.privatePem, 'EdDSA']
  ] as const
  for (const [slug, key, alg] of cases) {
    const token = encodeJwt(pythonClaims(slug, APP_NAME), { key, alg })
    const { status, body } = await call(app, linkHeader(slug, token))
    assert.equal(status, 200, slug)
    assert.equal(body.app.slug, slug)
    assert.equal(body.token.sub, null)
    const text = JSON.stringify(body.app)
    assert.ok(!/key/i.test(text), `request.app must carry no key material: ${text}`)
  }
  await app.close()
})

test('an Ed25519 app record may hold only the peer public key, in every accepted encoding', async () => {
  const ed = ed25519Keys()
  const encodings = {
    pem: ed.publicPem,
    pemHex: ed.publicPemHex,
    rawHex: ed.publicRaw.toString('hex'),
    rawBase64: ed.publicRaw.toString('base64')
  }
  for (const [name, publicKey] of Object.entries(encodings)) {
    const { app } = await buildServer({ apps: [{ slug: 'ed', algorithm: 'ED25519', publicKey, requireAnAgreement: false }] })
    const token = encodeJwt(pythonClaims('ed', APP_NAME), { key: ed.privatePem, alg: 'EdDSA' })
    assert.equal((await call(app, linkHeader('ed', token))).status, 200, name)
    const other = ed25519Keys()
    const forged = encodeJwt(pythonClaims('ed', APP_NAME), { key: other.privatePem, alg: 'EdDSA' })
    assert.equal((await call(app, linkHeader('ed', forged))).body.code, 'FST_LINKED_SERVICES_WRONG_APP_TOKEN', name)
    await app.close()
  }
})

test('sub: integer, string, UUID, "", null and missing; token.sub is a string or null', async () => {
  const key = hmacKeyHex(32)
  const { app } = await buildServer({ apps: [hmacApp(CALLER, { privateKey: key })] })
  const cases: Array<[unknown, string | null]> = [
    [5, '5'], ['5', '5'], ['abc', 'abc'], ['6f1c1ab2-8c1e-4f5e-9a55-0b1c2d3e4f50', '6f1c1ab2-8c1e-4f5e-9a55-0b1c2d3e4f50'],
    ['', null], [null, null], [undefined, null]
  ]
  for (const [sub, expected] of cases) {
    const claims = pythonClaims(CALLER, APP_NAME, { sub })
    if (sub === undefined) delete claims.sub
    const { status, body } = await call(app, linkHeader(CALLER, encodeJwt(claims, { key })))
    assert.equal(status, 200, String(sub))
    assert.equal(body.token.sub, expected)
  }
  for (const bad of [1.5, true, ['5'], { id: 5 }]) {
    const { status, body } = await call(app, linkHeader(CALLER, encodeJwt(pythonClaims(CALLER, APP_NAME, { sub: bad }), { key })))
    assert.equal(status, 401, JSON.stringify(bad))
    assert.equal(body.code, 'FST_LINKED_SERVICES_WRONG_APP_TOKEN')
  }
  await app.close()
})

test('time claims: float exp/iat work; missing, expired, future iat/nbf and wrong types are refused', async (t) => {
  t.mock.timers.enable({ apis: ['Date'], now: 1_800_000_000_000 })
  const now = 1_800_000_000
  const key = hmacKeyHex(32)
  const { app } = await buildServer({ apps: [hmacApp(CALLER, { privateKey: key })] })
  const send = async (claims: Record<string, unknown>) => await call(app, linkHeader(CALLER, encodeJwt({ app: CALLER, aud: APP_NAME, ...claims }, { key })))

  assert.equal((await send({ exp: now + 600.25, iat: now - 0.5 })).status, 200)
  assert.equal((await send({ exp: now - 3 })).status, 200, 'within the clock tolerance')
  const expectations: Array<[Record<string, unknown>, string]> = [
    [{}, 'EXPIRED'],
    [{ exp: now - 60 }, 'EXPIRED'],
    [{ exp: String(now + 600) }, 'WRONG_APP_TOKEN'],
    [{ exp: -1 }, 'WRONG_APP_TOKEN'],
    [{ exp: [now + 600] }, 'WRONG_APP_TOKEN'],
    [{ exp: now + 600, iat: now + 60 }, 'WRONG_APP_TOKEN'],
    [{ exp: now + 600, nbf: now + 60 }, 'WRONG_APP_TOKEN'],
    [{ exp: now + 600, iat: 'yesterday' }, 'WRONG_APP_TOKEN']
  ]
  for (const [claims, code] of expectations) {
    const { status, body, headers } = await send(claims)
    assert.equal(status, 401, JSON.stringify(claims))
    assert.equal(body.code, `FST_LINKED_SERVICES_${code}`, JSON.stringify(claims))
    assert.equal(headers['www-authenticate'], `Link realm="${APP_NAME}"`)
  }
  // 1e309 parses to Infinity: refused, not a 500.
  const infinite = `${b64url({ alg: 'HS256', typ: 'JWT' })}.${b64url('{"app":"pyservice","aud":"nodeservice","exp":1e309}')}`
  const { createHmac } = await import('node:crypto')
  const signed = `${infinite}.${createHmac('sha256', Buffer.from(key, 'hex')).update(infinite).digest('base64url')}`
  assert.equal((await call(app, linkHeader(CALLER, signed))).body.code, 'FST_LINKED_SERVICES_WRONG_APP_TOKEN')
  await app.close()
})

test('identity binding: aud must be this service, app claim must equal App=, a caller cannot claim our name', async () => {
  const key = hmacKeyHex(32)
  const { app } = await buildServer({ apps: [hmacApp(CALLER, { privateKey: key }), hmacApp('other', { privateKey: key })] })
  const cases: Array<[string, Record<string, unknown>, string]> = [
    [CALLER, pythonClaims(CALLER, 'someone-else'), 'WRONG_APP_TOKEN'],
    [CALLER, pythonClaims(CALLER, APP_NAME, { aud: ['x', APP_NAME] }), ''],
    [CALLER, pythonClaims('other', APP_NAME), 'WRONG_APP_TOKEN'],
    ['other', pythonClaims(CALLER, APP_NAME), 'WRONG_APP_TOKEN'],
    [CALLER, { ...pythonClaims(CALLER, APP_NAME), app: undefined }, 'WRONG_APP_TOKEN'],
    [APP_NAME, pythonClaims(APP_NAME, APP_NAME), 'APP_NOT_FOUND'],
    ['unknown', pythonClaims('unknown', APP_NAME), 'APP_NOT_FOUND']
  ]
  for (const [headerApp, claims, code] of cases) {
    const { status, body } = await call(app, linkHeader(headerApp, encodeJwt(claims, { key })))
    if (code === '') assert.equal(status, 200)
    else assert.equal(body.code, `FST_LINKED_SERVICES_${code}`, `${headerApp} ${JSON.stringify(claims)}`)
  }
  await app.close()
})

test('the algorithm comes from the app record: alg none, other algs and confusion are refused', async () => {
  const key = hmacKeyHex(64)
  const ed = ed25519Keys()
  const { app } = await buildServer({
    apps: [hmacApp(CALLER, { privateKey: key }), { slug: 'ed', algorithm: 'ED25519', publicKey: ed.publicPem, requireAnAgreement: false }]
  })
  const claims = pythonClaims(CALLER, APP_NAME)
  const unsigned = `${b64url({ alg: 'none', typ: 'JWT' })}.${b64url(claims)}.`
  const attempts = [
    unsigned,
    `${b64url({ alg: 'none' })}.${b64url(claims)}.${b64url('x')}`,
    encodeJwt(claims, { key, alg: 'HS512' }),
    encodeJwt(claims, { key, header: { alg: 'RS256' } })
  ]
  for (const token of attempts) {
    const { status, body } = await call(app, linkHeader(CALLER, token))
    assert.equal(status, 401)
    assert.equal(body.code, 'FST_LINKED_SERVICES_WRONG_APP_TOKEN')
  }
  // HS256 signed with the Ed25519 public key text (the classic confusion) is refused.
  const confused = encodeJwt(pythonClaims('ed', APP_NAME), { key: Buffer.from(ed.publicPem).toString('hex'), alg: 'HS256' })
  assert.equal((await call(app, linkHeader('ed', confused))).status, 401)
  await app.close()
})

test('refused JOSE header parameters and non-canonical base64url', async () => {
  const key = hmacKeyHex(32)
  const { app } = await buildServer({ apps: [hmacApp(CALLER, { privateKey: key })] })
  const claims = pythonClaims(CALLER, APP_NAME)
  for (const header of [{ crit: ['exp'] }, { b64: false }, { jku: 'http://127.0.0.1:1/keys' }, { x5u: 'http://127.0.0.1:1/x' }, { jwk: {} }, { kid: 5 }]) {
    const { status } = await call(app, linkHeader(CALLER, encodeJwt(claims, { key, header })))
    assert.equal(status, 401, JSON.stringify(header))
  }
  const good = encodeJwt(claims, { key })
  const [h, p, s] = good.split('.')
  const variants = [`${h}=.${p}.${s}`, `${h}.${p}.${s}=`, `${h}.${p}.${s}+`, `${h}.${p}.${s.slice(0, -1)}${s.endsWith('A') ? 'B' : 'A'}`, `${h}.${p}`, `${h}.${p}.${s}.x`, ` ${good}`]
  for (const variant of variants) {
    const { status, body } = await call(app, linkHeader(CALLER, variant))
    assert.equal(status, variant.startsWith(' ') ? 200 : 401, variant)
    // Padding puts a second `=` in the parameter: malformed, as in the original.
    if (status !== 200) assert.ok(['FST_LINKED_SERVICES_WRONG_APP_TOKEN', 'FST_LINKED_SERVICES_AUTHORIZATION_HEADER_MALFORMED'].includes(body.code))
  }
  await app.close()
})

test('Authorization header parsing: the original slugs for each malformation', async () => {
  const key = hmacKeyHex(32)
  const { app } = await buildServer({ apps: [hmacApp(CALLER, { privateKey: key })] })
  const token = encodeJwt(pythonClaims(CALLER, APP_NAME), { key })
  const cases: Array<[string | undefined, number, string]> = [
    [undefined, 401, 'NO_AUTHORIZATION_HEADER'],
    ['Bearer abc', 401, 'UNKNOWN_AUTH_SCHEMA'],
    ['link App=a,Token=b', 401, 'UNKNOWN_AUTH_SCHEMA'],
    ['Link App=a', 401, 'AUTHORIZATION_HEADER_BAD_SCHEMA'],
    ['Link App=a,Token', 401, 'AUTHORIZATION_HEADER_MALFORMED'],
    ['Link App=a,Token=b=c', 401, 'AUTHORIZATION_HEADER_MALFORMED'],
    ['Link App=a,Tok=b', 401, 'AUTHORIZATION_HEADER_BAD_SCHEMA'],
    ['Link App=a,Token=b,Extra=c', 401, 'AUTHORIZATION_HEADER_BAD_SCHEMA'],
    [`Link App=${CALLER},App=${CALLER}`, 401, 'AUTHORIZATION_HEADER_MALFORMED'],
    [`Link Token=${token},App=${CALLER}`, 200, ''],
    [`Link App=${CALLER}, Token=${token}`, 200, ''],
    ['Signature App=a,Nonce=b,SignedHeaders=,Date=d', 401, 'UNKNOWN_AUTH_SCHEMA'],
    [`Link App=${CALLER},Token=${'a'.repeat(20000)}`, 431, 'AUTHORIZATION_HEADER_TOO_LARGE']
  ]
  for (const [authorization, status, code] of cases) {
    const result = await call(app, authorization)
    assert.equal(result.status, status, authorization)
    if (code !== '') assert.equal(result.body.code, `FST_LINKED_SERVICES_${code}`, authorization)
  }
  await app.close()
})

test('two Authorization headers on one request are refused (raw headers are read)', async () => {
  const key = hmacKeyHex(32)
  const { app } = await buildServer({ apps: [hmacApp(CALLER, { privateKey: key })] })
  const token = encodeJwt(pythonClaims(CALLER, APP_NAME), { key })
  await app.listen({ port: 0, host: '127.0.0.1' })
  const { port } = app.server.address() as { port: number }
  const net = await import('node:net')
  const raw = await new Promise<string>((resolve, reject) => {
    const socket = net.connect(port, '127.0.0.1', () => {
      socket.write(`GET /open HTTP/1.1\r\nHost: 127.0.0.1\r\nAuthorization: ${linkHeader(CALLER, token)}\r\nAuthorization: Link App=x,Token=y\r\nConnection: close\r\n\r\n`)
    })
    let data = ''
    socket.on('data', (chunk) => { data += chunk.toString() })
    socket.on('end', () => resolve(data))
    socket.on('error', reject)
  })
  assert.match(raw, /^HTTP\/1\.1 400/)
  assert.match(raw, /FST_LINKED_SERVICES_AUTHORIZATION_HEADER_DUPLICATED/)
  await app.close()
})

test('modes and strategies: mode signature refuses Link, strategy SIGNATURE refuses Link, schema and algorithm checks', async () => {
  const key = hmacKeyHex(32)
  // An unknown algorithm is refused by MemoryStore: the records come as a database may hold them.
  const { app } = await buildServer({}, {
    store: new UncheckedStore({
      apps: [
        hmacApp(CALLER, { privateKey: key }),
        hmacApp('sigapp', { privateKey: key, strategy: 'SIGNATURE' }),
        hmacApp('oddschema', { privateKey: key, schema: 'OTHER' as 'LINK' }),
        hmacApp('oddalg', { privateKey: key, algorithm: 'RSA' as 'HMAC_SHA256' })
      ]
    })
  })
  const token = (slug: string) => linkHeader(slug, encodeJwt(pythonClaims(slug, APP_NAME), { key }))
  const signedRoute = await app.inject({ method: 'POST', url: '/signed', headers: { authorization: token(CALLER) } })
  assert.equal(signedRoute.json().code, 'FST_LINKED_SERVICES_UNKNOWN_AUTH_SCHEMA')
  assert.equal(signedRoute.headers['www-authenticate'], 'Signature')
  assert.equal((await call(app, token(CALLER), '/jwt-only')).status, 200)
  assert.equal((await call(app, token('sigapp'))).body.code, 'FST_LINKED_SERVICES_AUTHORIZATION_HEADER_FORBIDDEN_STRATEGY')
  assert.equal((await call(app, token('sigapp'), '/jwt-only')).body.code, 'FST_LINKED_SERVICES_AUTHORIZATION_HEADER_FORBIDDEN_STRATEGY')
  assert.equal((await call(app, token('oddschema'))).body.code, 'FST_LINKED_SERVICES_AUTHORIZATION_HEADER_FORBIDDEN_SCHEMA')
  assert.equal((await call(app, token('oddalg'))).body.code, 'FST_LINKED_SERVICES_ALGORITHM_NOT_IMPLEMENTED')
  await app.close()
})

test('verified tokens are cached, but a key change drops them at once', async () => {
  const oldKey = hmacKeyHex(32)
  const newKey = hmacKeyHex(32)
  const { app, store } = await buildServer({ apps: [hmacApp(CALLER, { privateKey: oldKey })] })
  const oldToken = linkHeader(CALLER, encodeJwt(pythonClaims(CALLER, APP_NAME), { key: oldKey }))
  assert.equal((await call(app, oldToken)).status, 200)
  assert.equal((await call(app, oldToken)).status, 200)
  store.updateApp(CALLER, { privateKey: newKey })
  assert.equal((await call(app, oldToken)).body.code, 'FST_LINKED_SERVICES_WRONG_APP_TOKEN')
  assert.equal((await call(app, linkHeader(CALLER, encodeJwt(pythonClaims(CALLER, APP_NAME), { key: newKey })))).status, 200)
  store.removeApp(CALLER)
  assert.equal((await call(app, oldToken)).body.code, 'FST_LINKED_SERVICES_APP_NOT_FOUND')
  await app.close()
})

test('a cached token is never used past its exp', async (t) => {
  t.mock.timers.enable({ apis: ['Date'], now: 1_800_000_000_000 })
  const key = hmacKeyHex(32)
  const { app } = await buildServer({ apps: [hmacApp(CALLER, { privateKey: key })] })
  const token = linkHeader(CALLER, encodeJwt({ app: CALLER, aud: APP_NAME, exp: 1_800_000_010 }, { key }))
  assert.equal((await call(app, token)).status, 200)
  t.mock.timers.setTime(1_800_000_020_000)
  assert.equal((await call(app, token)).body.code, 'FST_LINKED_SERVICES_EXPIRED')
  await app.close()
})

test('the host application can register its own @fastify/jwt beside the plugin', async () => {
  const key = hmacKeyHex(32)
  const app = Fastify()
  await app.register(fastifyJwt, { secret: 'host-secret-host-secret-host-secret' })
  await app.register(linkedServices, { appName: APP_NAME, store: new MemoryStore({ apps: [hmacApp(CALLER, { privateKey: key })] }) })
  app.get('/host', async (request) => await request.jwtVerify())
  app.get('/linked', { preHandler: app.scope() }, async (request) => request.token)
  const hostToken = app.jwt.sign({ hello: 'world' })
  assert.equal((await app.inject({ url: '/host', headers: { authorization: `Bearer ${hostToken}` } })).json().hello, 'world')
  const linked = await app.inject({ url: '/linked', headers: { authorization: linkHeader(CALLER, encodeJwt(pythonClaims(CALLER, APP_NAME), { key })) } })
  assert.equal(linked.statusCode, 200)
  await app.close()
})

test('@fastify/jwt (an independent JWT implementation) makes tokens the plugin accepts', async () => {
  const key = hmacKeyHex(64)
  const signer = Fastify()
  await signer.register(fastifyJwt, { secret: Buffer.from(key, 'hex'), sign: { algorithm: 'HS512' } })
  await signer.ready()
  const token = signer.jwt.sign({ sub: '7', app: CALLER, aud: APP_NAME, exp: Math.floor(Date.now() / 1000) + 60 })
  const { app } = await buildServer({ apps: [hmacApp(CALLER, { algorithm: 'HMAC_SHA512', privateKey: key })] })
  const { status, body } = await call(app, linkHeader(CALLER, token))
  assert.equal(status, 200)
  assert.equal(body.token.sub, '7')
  await app.close()
  await signer.close()
})

test('request.app and request.token are null on routes without a scope hook', async () => {
  const app = Fastify()
  await app.register(linkedServices, { appName: APP_NAME })
  app.get('/plain', async (request) => ({ app: request.app, token: request.token, user: await request.getUser() }))
  const response = await app.inject({ url: '/plain' })
  assert.deepEqual(response.json(), { app: null, token: null, user: null })
  await app.close()
})

test('the verified-token cache is bounded and keyed by token and calling app', async () => {
  const { TokenCache } = await import('../plugin/cache/token-cache.js')
  const { resolveApp } = await import('../plugin/cache/resolved-app.js')
  const cache = new TokenCache(100)
  const app = resolveApp(hmacApp(CALLER))
  const token = Object.freeze({ mode: 'jwt', sub: null, app: CALLER, aud: APP_NAME, exp: 1 }) as never
  // Admission on the second verification: a token seen once is not cached yet.
  cache.set('once', { app, headerApp: CALLER, token }, Infinity)
  assert.equal(cache.get('once', app, CALLER, Date.now()), undefined)
  cache.set('once', { app, headerApp: CALLER, token }, Infinity)
  assert.equal(cache.get('once', app, CALLER, Date.now()), token)
  for (let i = 0; i < 20_000; i++) {
    cache.set(`token-${i}`, { app, headerApp: CALLER, token }, Infinity)
    cache.set(`token-${i}`, { app, headerApp: CALLER, token }, Infinity)
  }
  assert.equal(cache.size, 100)
  assert.equal(cache.get('token-19999', app, CALLER, Date.now()), token)
  assert.equal(cache.get('token-19999', app, 'other', Date.now()), undefined, 'another App= header misses')
  assert.equal(cache.get('token-19999', resolveApp(hmacApp(CALLER)), CALLER, Date.now()), undefined, 'a reloaded app misses')
  cache.forgetApp(CALLER)
  assert.equal(cache.size, 0)
})

test('jwt.cacheSize 0 turns the token cache off; tokens still verify every time', async () => {
  const key = hmacKeyHex(32)
  const { app } = await buildServer({ apps: [hmacApp(CALLER, { privateKey: key })] }, { jwt: { cacheSize: 0 } })
  const header = linkHeader(CALLER, encodeJwt(pythonClaims(CALLER, APP_NAME), { key }))
  for (let i = 0; i < 3; i++) assert.equal((await call(app, header)).status, 200)
  await app.close()
})
