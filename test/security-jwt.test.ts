/**
 * Hard inputs on the JWT path (issue 8.3), each answered with the right 4xx, never a 500 or a
 * crash: `alg: none` and algorithm confusion, bad base64url, claims of the wrong type, times in
 * the future, `__proto__` / `constructor` as a claim or as `App=`, duplicate headers and
 * parameters, oversized headers, tokens and parameter lists, MACs of the wrong length.
 */
import { test } from 'node:test'
import assert from 'node:assert/strict'
import { createHmac } from 'node:crypto'
import { ed25519Keys, hmacKeyHex } from './helpers/keys.js'
import { b64url, BASE64URL_ALPHABET, encodeJwt, linkHeader, pythonClaims } from './helpers/jwt.js'
import { APP_NAME, assert4xx, attackServer, rawRequest, secretSpellings } from './helpers/attacks.js'

const HS256 = hmacKeyHex(32)
const HS512 = hmacKeyHex(64)
const ED = ed25519Keys()

const apps = [
  { slug: 'hs256', algorithm: 'HMAC_SHA256' as const, privateKey: HS256, requireAnAgreement: false },
  { slug: 'hs512', algorithm: 'HMAC_SHA512' as const, privateKey: HS512, requireAnAgreement: false },
  { slug: 'ed', algorithm: 'ED25519' as const, publicKey: ED.publicPemHex, requireAnAgreement: false },
  { slug: 'edraw', algorithm: 'ED25519' as const, publicKey: ED.publicRaw.toString('hex'), requireAnAgreement: false }
]
const SECRETS = secretSpellings(HS256, HS512, ED.publicPemHex, ED.privatePemHex, ED.publicRaw.toString('hex'))

const serverPromise = attackServer({ apps })

async function send (authorization: string | undefined, url = '/jwt') {
  const { app } = await serverPromise
  const response = await app.inject({ url, headers: authorization === undefined ? {} : { authorization } })
  let code: string | undefined
  try { code = response.json().code } catch { code = undefined }
  return { status: response.statusCode, code, body: response.body, headers: response.headers }
}

/** A token of these two segments, spelled as given, with its HMAC-SHA256 signature. */
function signedHs256 (headerPart: string, payloadPart: string, key = HS256): string {
  const input = `${headerPart}.${payloadPart}`
  return `${input}.${createHmac('sha256', Buffer.from(key, 'hex')).update(input).digest('base64url')}`
}

/** A signed HS256 token with the given raw payload text (any bytes), for the hs256 app. */
function tokenWithPayloadText (payloadText: string, key = HS256, header: Record<string, unknown> = { alg: 'HS256', typ: 'JWT' }): string {
  return signedHs256(b64url(header), Buffer.from(payloadText).toString('base64url'), key)
}

function claimsText (overrides: Record<string, string>): string {
  const base = pythonClaims('hs256', APP_NAME)
  const parts = Object.entries(base).map(([name, value]) => `"${name}":${overrides[name] ?? JSON.stringify(value)}`)
  for (const [name, value] of Object.entries(overrides)) if (!(name in base)) parts.push(`"${name}":${value}`)
  return `{${parts.join(',')}}`
}

async function refused (authorization: string, what: string, expectedCode?: string) {
  const result = await send(authorization)
  assert4xx(result.status, what)
  if (expectedCode !== undefined) assert.equal(result.code, expectedCode, what)
  if (result.status === 401) assert.ok(result.headers['www-authenticate'] !== undefined, `${what}: 401 without WWW-Authenticate`)
  for (const secret of SECRETS) assert.ok(!result.body.includes(secret), `${what}: the response holds key material`)
  return result
}

test('valid tokens pass (the baseline every attack below is a mutation of)', async () => {
  assert.equal((await send(linkHeader('hs256', encodeJwt(pythonClaims('hs256', APP_NAME), { key: HS256 })))).status, 200)
  assert.equal((await send(linkHeader('hs512', encodeJwt(pythonClaims('hs512', APP_NAME), { key: HS512, alg: 'HS512' })))).status, 200)
  assert.equal((await send(linkHeader('ed', encodeJwt(pythonClaims('ed', APP_NAME), { key: ED.privatePem, alg: 'EdDSA' })))).status, 200)
})

test('alg none, in every spelling, with or without a signature, is refused', async () => {
  const claims = pythonClaims('hs256', APP_NAME)
  for (const alg of ['none', 'None', 'NONE', 'nOnE', '', ' HS256', 'HS256 ', 'hs256', 'RS256', 'ES256', 'PS256', 'HS384', 'Ed25519', 'EDDSA']) {
    const unsigned = `${b64url({ alg, typ: 'JWT' })}.${b64url(claims)}.`
    await refused(linkHeader('hs256', unsigned), `alg ${alg} unsigned`, 'FST_LINKED_SERVICES_WRONG_APP_TOKEN')
    const signed = tokenWithPayloadText(JSON.stringify(claims), HS256, { alg, typ: 'JWT' })
    await refused(linkHeader('hs256', signed), `alg ${alg} signed with the app key`, 'FST_LINKED_SERVICES_WRONG_APP_TOKEN')
  }
  for (const alg of [null, 1, ['HS256'], { alg: 'HS256' }, true]) {
    const token = tokenWithPayloadText(JSON.stringify(claims), HS256, { alg, typ: 'JWT' })
    await refused(linkHeader('hs256', token), `alg ${JSON.stringify(alg)}`, 'FST_LINKED_SERVICES_WRONG_APP_TOKEN')
  }
  const noAlg = tokenWithPayloadText(JSON.stringify(claims), HS256, { typ: 'JWT' })
  await refused(linkHeader('hs256', noAlg), 'no alg', 'FST_LINKED_SERVICES_WRONG_APP_TOKEN')
})

test('algorithm confusion: the Ed25519 public key as an HMAC secret, HS512 for HS256, EdDSA for HMAC', async () => {
  const claims = pythonClaims('ed', APP_NAME)
  const spellings = [
    Buffer.from(ED.publicPem).toString('hex'),
    ED.publicPemHex, // the record's own text, as hex bytes of the text
    Buffer.from(ED.publicPemHex).toString('hex'),
    ED.publicRaw.toString('hex'),
    Buffer.from(ED.publicRaw.toString('base64')).toString('hex')
  ]
  for (const [i, secret] of spellings.entries()) {
    for (const alg of ['HS256', 'HS512'] as const) {
      await refused(linkHeader('ed', encodeJwt(claims, { key: secret, alg })), `ed public key #${i} as ${alg} secret`, 'FST_LINKED_SERVICES_WRONG_APP_TOKEN')
      await refused(linkHeader('edraw', encodeJwt({ ...claims, app: 'edraw' }, { key: secret, alg })), `edraw public key #${i} as ${alg} secret`)
    }
  }
  await refused(linkHeader('hs256', encodeJwt(pythonClaims('hs256', APP_NAME), { key: HS256, alg: 'HS512' })), 'HS512 token, HS256 app')
  await refused(linkHeader('hs512', encodeJwt(pythonClaims('hs512', APP_NAME), { key: HS512, alg: 'HS256' })), 'HS256 token, HS512 app')
  await refused(linkHeader('hs256', encodeJwt(pythonClaims('hs256', APP_NAME), { key: ED.privatePem, alg: 'EdDSA' })), 'EdDSA token, HMAC app')
})

test('bad base64url: padding, the standard alphabet, white space, trailing bits, wrong shapes', async () => {
  const good = encodeJwt(pythonClaims('hs256', APP_NAME), { key: HS256 })
  const [h, p, s] = good.split('.')
  const variants: Record<string, string> = {
    padded: `${h}.${p}.${s}=`,
    paddedHeader: `${h}==.${p}.${s}`,
    plus: `${h}.${p}.${s.replace(/-/g, '+').replace(/_/g, '/')}+`,
    slash: `${h}.${p.slice(0, -1)}/.${s}`,
    space: `${h}.${p} .${s}`,
    innerSpace: `${h}.${p.slice(0, 5)} ${p.slice(5)}.${s}`,
    newline: `${h}.${p}\n.${s}`,
    nonZeroTrailingBits: `${h}.${p}.${s.slice(0, -1)}${String.fromCharCode(s.charCodeAt(s.length - 1) + 1)}`,
    lengthMod4Is1: `${h}.${p}.${s}A`,
    emptySignature: `${h}.${p}.`,
    emptyPayload: `${h}..${s}`,
    emptyHeader: `.${p}.${s}`,
    twoParts: `${h}.${p}`,
    fourParts: `${h}.${p}.${s}.${s}`,
    jweLike: `${h}.${p}.${s}.${s}.${s}`,
    dots: '...',
    unicode: `${h}.${p}\u00e9.${s}`,
    percent: `${h}.${p}%3D.${s}`,
    headerNotJson: `${b64url('not json')}.${p}.${s}`,
    headerArray: `${b64url([1])}.${p}.${s}`,
    headerNull: `${b64url('null')}.${p}.${s}`,
    payloadString: tokenWithPayloadText('"a string"'),
    payloadArray: tokenWithPayloadText('[1,2]'),
    payloadNumber: tokenWithPayloadText('1e309'),
    payloadTrailing: tokenWithPayloadText(claimsText({}) + 'x'),
    payloadBadUtf8: (() => {
      const input = `${b64url({ alg: 'HS256', typ: 'JWT' })}.${Buffer.from([0x7b, 0xff, 0xfe, 0x7d]).toString('base64url')}`
      return `${input}.${createHmac('sha256', Buffer.from(HS256, 'hex')).update(input).digest('base64url')}`
    })()
  }
  for (const [name, token] of Object.entries(variants)) {
    // Header values cannot hold a newline: those are sent as the raw token text anyway through inject.
    if (/[\r\n]/.test(token)) continue
    await refused(linkHeader('hs256', token), name)
  }
  assert.equal((await send(linkHeader('hs256', good))).status, 200, 'the original still passes')
})

test('claims of the wrong type, and times out of range, are refused (never coerced)', async (t) => {
  const now = Math.floor(Date.now() / 1000)
  t.mock.timers.enable({ apis: ['Date'], now: now * 1000 })
  const cases: Record<string, Record<string, string>> = {
    expString: { exp: `"${now + 600}"` },
    expInfinity: { exp: '1e309' },
    expNegative: { exp: '-1' },
    expNegativeInfinity: { exp: '-1e309' },
    expArray: { exp: `[${now + 600}]` },
    expObject: { exp: '{}' },
    expNull: { exp: 'null' },
    expTrue: { exp: 'true' },
    expHuge: { exp: '1e300' },
    expPast: { exp: String(now - 3600) },
    nbfFuture: { nbf: String(now + 3600) },
    nbfString: { nbf: `"${now}"` },
    iatFuture: { iat: String(now + 3600) },
    iatJustBeyondTolerance: { iat: String(now + 31) },
    iatInfinity: { iat: '1e309' },
    iatString: { iat: `"${now}"` },
    iatNull: { iat: 'null' },
    subArray: { sub: '[1]' },
    subObject: { sub: '{"id":1}' },
    subFloat: { sub: '1.5' },
    subHuge: { sub: '1e400' },
    subUnsafeInteger: { sub: '9007199254740993' },
    subTrue: { sub: 'true' },
    appArray: { app: '["hs256"]' },
    appNull: { app: 'null' },
    audNumber: { aud: '1' },
    audObject: { aud: '{"0":"nodeservice"}' },
    audHugeArray: { aud: JSON.stringify(Array.from({ length: 200 }, () => APP_NAME)) },
    audWrongList: { aud: '["other",1]' },
    issNumber: { iss: '1' }
  }
  for (const [name, overrides] of Object.entries(cases)) {
    const token = tokenWithPayloadText(claimsText(overrides))
    await refused(linkHeader('hs256', token), name)
  }
  const missingExp = pythonClaims('hs256', APP_NAME)
  delete missingExp.exp
  await refused(linkHeader('hs256', encodeJwt(missingExp, { key: HS256 })), 'exp missing', 'FST_LINKED_SERVICES_EXPIRED')
  // Within the tolerance, a slightly early iat / nbf is fine (clocks differ a little).
  assert.equal((await send(linkHeader('hs256', tokenWithPayloadText(claimsText({ iat: String(now + 3), nbf: String(now + 3) }))))).status, 200)
})

test('__proto__ and constructor as claim names or as App= pollute nothing and never crash', async () => {
  const polluted = tokenWithPayloadText(claimsText({ __proto__: '{"admin":true,"sub":"1"}', constructor: '{"prototype":{"admin":true}}', toString: '1', hasOwnProperty: '"x"' }))
  const result = await send(linkHeader('hs256', polluted))
  assert.ok(result.status === 200 || result.status === 401, `status ${result.status}`)
  if (result.status === 200) {
    const body = JSON.parse(result.body)
    assert.equal(body.token.sub, null, '__proto__.sub did not become the sub')
    assert.equal(body.token.admin, undefined)
  }
  assert.equal(({} as Record<string, unknown>).admin, undefined, 'Object.prototype untouched')
  for (const slug of ['__proto__', 'constructor', 'prototype', 'toString', 'hasOwnProperty', 'valueOf', '__defineGetter__']) {
    const token = encodeJwt(pythonClaims(slug, APP_NAME), { key: HS256 })
    await refused(linkHeader(slug, token), `App=${slug}`, 'FST_LINKED_SERVICES_APP_NOT_FOUND')
  }
  // A token whose sub is __proto__ (a user lookup key): a plain string, no user.
  const { app } = await serverPromise
  const response = await app.inject({ url: '/user', headers: { authorization: linkHeader('hs256', encodeJwt(pythonClaims('hs256', APP_NAME, { sub: '__proto__' }), { key: HS256 })) } })
  assert.equal(response.statusCode, 200)
  assert.deepEqual(response.json(), { user: null })
})

test('duplicate parameters, parameter lists of every shape, and the scheme name', async () => {
  const token = encodeJwt(pythonClaims('hs256', APP_NAME), { key: HS256 })
  const cases: Record<string, string> = {
    duplicateApp: `Link App=hs256,App=hs256,Token=${token}`,
    duplicateToken: `Link App=hs256,Token=${token},Token=${token}`,
    duplicateAppOtherValue: `Link App=hs256,Token=${token},App=ed`,
    lowerCaseKey: `Link app=hs256,Token=${token}`,
    extraParam: `Link App=hs256,Token=${token},Kid=1`,
    noParams: 'Link ',
    justCommas: 'Link ,,,,',
    equalsOnly: 'Link =,=',
    valueWithEquals: `Link App=hs256=,Token=${token}`,
    emptyApp: `Link App=,Token=${token}`,
    emptyToken: 'Link App=hs256,Token=',
    manyParams: `Link App=hs256,Token=${token}` + ',X=1'.repeat(1000),
    manyCommas: `Link App=hs256,Token=${token}` + ','.repeat(2000),
    lowerScheme: `link App=hs256,Token=${token}`,
    bearer: `Bearer ${token}`,
    basic: 'Basic aGVsbG86d29ybGQ=',
    schemeOnly: 'Link',
    tab: `Link\tApp=hs256,Token=${token}`,
    signatureScheme: `Signature App=hs256,Nonce=${'a'.repeat(64)},SignedHeaders=,Date=2024-01-01T00:00:00`,
    unicodeApp: `Link App=hs256\u00e9,Token=${token}`,
    fullwidthComma: `Link App=hs256\uff0cToken=${token}`
  }
  for (const [name, header] of Object.entries(cases)) await refused(header, name)
  // Optional white space around parameters is tolerated: it changes no security-relevant byte.
  assert.equal((await send(`Link App=hs256, Token=${token}`)).status, 200)
  assert.equal((await send(`Link Token=${token},App=hs256`)).status, 200, 'parameter order is free')
})

test('oversized headers, tokens and parameter lists: 4xx (431 or 401), never a 500', async () => {
  const claims = pythonClaims('hs256', APP_NAME, { pad: 'x'.repeat(9000) })
  const long = encodeJwt(claims, { key: HS256 })
  await refused(linkHeader('hs256', long), 'token over maxTokenLength')
  const justOver = encodeJwt(pythonClaims('hs256', APP_NAME, { pad: 'x'.repeat(6100) }), { key: HS256 })
  assert.ok(justOver.length > 8192 && justOver.length < 8192 + 256, String(justOver.length))
  await refused(linkHeader('hs256', justOver), 'token just over maxTokenLength', 'FST_LINKED_SERVICES_WRONG_APP_TOKEN')
  const huge = await refused(`Link App=hs256,Token=${'A'.repeat(100_000)}`, 'huge header', 'FST_LINKED_SERVICES_AUTHORIZATION_HEADER_TOO_LARGE')
  assert.equal(huge.status, 431)
  await refused(`Link App=${'a'.repeat(5000)},Token=x.y.z`, 'huge App')
  // A deeply nested payload (within the size cap) is just JSON that is not the claims.
  const nested = tokenWithPayloadText('{"exp":' + '['.repeat(3000) + ']'.repeat(3000) + '}')
  await refused(linkHeader('hs256', nested), 'deeply nested payload')
})

test('MACs and signatures of the wrong length are refused before any comparison', async () => {
  const good = encodeJwt(pythonClaims('hs256', APP_NAME), { key: HS256 })
  const [h, p, s] = good.split('.')
  const mac = Buffer.from(s, 'base64url')
  for (const length of [0, 1, 16, 31, 33, 48, 64, 65, 1000]) {
    const bytes = Buffer.alloc(length)
    mac.copy(bytes, 0, 0, Math.min(length, mac.length))
    const token = `${h}.${p}.${bytes.toString('base64url')}`
    await refused(linkHeader('hs256', token), `HS256 MAC of ${length} bytes`, length === 0 ? undefined : 'FST_LINKED_SERVICES_WRONG_APP_TOKEN')
  }
  // The HS256 MAC as prefix of a 64-byte value against the HS512 app.
  const hs512Token = encodeJwt(pythonClaims('hs512', APP_NAME), { key: HS512, alg: 'HS512' })
  const [h5, p5, s5] = hs512Token.split('.')
  await refused(linkHeader('hs512', `${h5}.${p5}.${Buffer.from(s5, 'base64url').subarray(0, 32).toString('base64url')}`), 'truncated HS512 MAC')
  // Ed25519: a signature of 63 and 65 bytes, and the all-zero signature.
  const edToken = encodeJwt(pythonClaims('ed', APP_NAME), { key: ED.privatePem, alg: 'EdDSA' })
  const [he, pe, se] = edToken.split('.')
  const sig = Buffer.from(se, 'base64url')
  for (const bytes of [sig.subarray(0, 63), Buffer.concat([sig, Buffer.alloc(1)]), Buffer.alloc(64)]) {
    await refused(linkHeader('ed', `${he}.${pe}.${bytes.toString('base64url')}`), `Ed25519 signature of ${bytes.length} bytes`)
  }
  // Malleability: S + L (the same signature, non-canonical) is refused.
  const L = 2n ** 252n + 27742317777372353535851937790883648493n
  const sLe = sig.subarray(32)
  let s2 = 0n
  for (let i = 31; i >= 0; i--) s2 = (s2 << 8n) | BigInt(sLe[i])
  s2 += L
  const malleated = Buffer.alloc(64)
  sig.copy(malleated, 0, 0, 32)
  for (let i = 0; i < 32; i++) { malleated[32 + i] = Number(s2 & 0xffn); s2 >>= 8n }
  await refused(linkHeader('ed', `${he}.${pe}.${malleated.toString('base64url')}`), 'Ed25519 S + L')
})

test('a cached token lends nothing to another token that copies its signature segment', async () => {
  const genuine = encodeJwt(pythonClaims('hs256', APP_NAME), { key: HS256 })
  // Verified twice: the second verification admits it to the token cache (keyed by its signature).
  for (let i = 0; i < 3; i++) assert.equal((await send(linkHeader('hs256', genuine))).status, 200)
  const [header, , signature] = genuine.split('.')
  const forgedPayload = b64url({ ...pythonClaims('hs256', APP_NAME), sub: 1 })
  await refused(linkHeader('hs256', `${header}.${forgedPayload}.${signature}`), 'a forged payload under a cached signature', 'FST_LINKED_SERVICES_WRONG_APP_TOKEN')
  // The genuine token still passes from the cache.
  assert.equal((await send(linkHeader('hs256', genuine))).status, 200)
})

test('the header verdict remembered last answers only for that very header', async () => {
  // A valid token first, so that its header is the one remembered last; then that header
  // respelled, `alg: none`, and a header naming a refused parameter, each signed with the right
  // key: each is checked on its own, never answered by the last.
  const claims = pythonClaims('hs256', APP_NAME)
  assert.equal((await send(linkHeader('hs256', encodeJwt(claims, { key: HS256 })))).status, 200)
  // 26 bytes: the last of its 35 characters carries two unused bits, which a lenient decoder ignores.
  const canonical = b64url({ alg: 'HS256', typ: 'JW' })
  const respelled = canonical.slice(0, -1) + BASE64URL_ALPHABET[BASE64URL_ALPHABET.indexOf(canonical.at(-1)!) | 1]
  assert.deepEqual(Buffer.from(respelled, 'base64url'), Buffer.from(canonical, 'base64url'))
  const sign = (headerPart: string): string => signedHs256(headerPart, b64url(claims))
  assert.equal((await send(linkHeader('hs256', sign(canonical)))).status, 200)
  await refused(linkHeader('hs256', sign(respelled)), 'the remembered header with unused bits set', 'FST_LINKED_SERVICES_WRONG_APP_TOKEN')
  await refused(linkHeader('hs256', sign(b64url({ alg: 'none', typ: 'JWT' }))), 'alg none after a remembered header', 'FST_LINKED_SERVICES_WRONG_APP_TOKEN')
  // A header the checks refuse never becomes the last one: sent again, it is refused again.
  assert.equal((await send(linkHeader('hs256', sign(canonical)))).status, 200)
  const jku = sign(b64url({ alg: 'HS256', typ: 'JWT', jku: 'https://attacker.example' }))
  await refused(linkHeader('hs256', jku), 'a jku header after a remembered one', 'FST_LINKED_SERVICES_WRONG_APP_TOKEN')
  await refused(linkHeader('hs256', jku), 'the jku header a second time', 'FST_LINKED_SERVICES_WRONG_APP_TOKEN')
  assert.equal((await send(linkHeader('hs256', sign(canonical)))).status, 200)
})

test('duplicate Authorization headers over a real socket: 400, whichever comes first', async () => {
  const { app } = await serverPromise
  await app.listen({ port: 0, host: '127.0.0.1' })
  const { port } = app.server.address() as { port: number }
  const token = encodeJwt(pythonClaims('hs256', APP_NAME), { key: HS256 })
  const good = linkHeader('hs256', token)
  const pairs = [[good, 'Link App=x,Token=y'], ['Link App=x,Token=y', good], [good, good], [good, ''], ['', good]]
  for (const [first, second] of pairs) {
    const response = await rawRequest(port, `GET /jwt HTTP/1.1\r\nHost: 127.0.0.1\r\nAuthorization: ${first}\r\nauthorization: ${second}\r\nConnection: close\r\n\r\n`)
    assert4xx(response.status, `duplicate ${first.slice(0, 10)} / ${second.slice(0, 10)}`)
  }
  // Over Node's header size limit: the HTTP parser answers 431 itself, the server lives on.
  const big = await rawRequest(port, `GET /jwt HTTP/1.1\r\nHost: 127.0.0.1\r\nAuthorization: Link App=hs256,Token=${'A'.repeat(70_000)}\r\nConnection: close\r\n\r\n`)
  assert4xx(big.status, 'header over the HTTP parser limit')
  const ok = await rawRequest(port, `GET /jwt HTTP/1.1\r\nHost: 127.0.0.1\r\nAuthorization: ${good}\r\nConnection: close\r\n\r\n`)
  assert.equal(ok.status, 200)
  await app.close()
})
