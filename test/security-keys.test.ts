/**
 * Key hygiene at load time (issue 8.2): a bad record is refused (that app only, never silently
 * used), and key material never reaches `request.app`, a response or a log line — checked with
 * the Fastify logger at trace level writing to memory, through successful calls and attacks.
 */
import { test } from 'node:test'
import assert from 'node:assert/strict'
import { createHash, generateKeyPairSync } from 'node:crypto'
import type { InjectOptions } from 'fastify'
import { MemoryStore, type AppRecord } from '../plugin/index.js'
import { ed25519Keys, hmacKeyHex } from './helpers/keys.js'
import { UncheckedStore } from './helpers/unchecked-store.js'
import { encodeJwt, linkHeader, pythonClaims } from './helpers/jwt.js'
import { resolveApp } from '../plugin/cache/resolved-app.js'
import { checkEd25519PublicKey } from '../plugin/keys/ed25519-point.js'
import { APP_NAME, assertNoSecretIn, attackServer, secretSpellings } from './helpers/attacks.js'
import { signedInject, type Caller } from './helpers/signature.js'

const GOOD = hmacKeyHex(32)
const ED = ed25519Keys()
const identity = Buffer.alloc(32); identity[0] = 1
const smallOrder8 = Buffer.from('c7176a703d4dd84fba3c0b760d10670f2a2053fa2c39ccc64ec7fd7792ac037a', 'hex')
const nonCanonical = Buffer.alloc(32, 0xff); nonCanonical[31] = 0x7f
// A mixed-order public key: a valid key plus a point of order 8 (on the curve, outside the
// prime-order subgroup; libraries disagree on signatures for such keys). Affine Edwards
// arithmetic with BigInt, test-only.
const P = 2n ** 255n - 19n
const D = ((-121665n * modPow(121666n, P - 2n)) % P + P) % P
function mod (a: bigint): bigint { return ((a % P) + P) % P }
function modPow (base: bigint, exponent: bigint): bigint {
  let result = 1n
  let b = ((base % P) + P) % P
  for (let e = exponent; e > 0n; e >>= 1n) {
    if (e & 1n) result = (result * b) % P
    b = (b * b) % P
  }
  return result
}
function decodePoint (bytes: Buffer): [bigint, bigint] {
  let y = 0n
  for (let i = 31; i >= 0; i--) y = (y << 8n) | BigInt(i === 31 ? bytes[i] & 0x7f : bytes[i])
  const u = mod(y * y - 1n)
  const v = mod(D * y * y + 1n)
  let x = mod(u * modPow(v, 3n) * modPow(u * modPow(v, 7n), (P - 5n) / 8n))
  if (mod(v * x * x) !== u) x = mod(x * modPow(2n, (P - 1n) / 4n))
  if (Number(x & 1n) !== bytes[31] >> 7) x = mod(-x)
  return [x, y]
}
function encodePoint ([x, y]: [bigint, bigint]): Buffer {
  const out = Buffer.alloc(32)
  let rest = y
  for (let i = 0; i < 32; i++) { out[i] = Number(rest & 0xffn); rest >>= 8n }
  out[31] |= Number(x & 1n) << 7
  return out
}
function addPoints ([x1, y1]: [bigint, bigint], [x2, y2]: [bigint, bigint]): [bigint, bigint] {
  const t = mod(D * x1 * x2 * y1 * y2)
  return [mod((x1 * y2 + y1 * x2) * modPow(1n + t, P - 2n)), mod((y1 * y2 + x1 * x2) * modPow(mod(1n - t), P - 2n))]
}
const mixedOrder = encodePoint(addPoints(decodePoint(ED.publicRaw), decodePoint(smallOrder8)))
const x25519 = generateKeyPairSync('x25519').publicKey.export({ format: 'pem', type: 'spki' }).toString()
const p256 = generateKeyPairSync('ec', { namedCurve: 'P-256' }).publicKey.export({ format: 'pem', type: 'spki' }).toString()
const rsaPrivate = generateKeyPairSync('rsa', { modulusLength: 1024 }).privateKey.export({ format: 'pem', type: 'pkcs8' }).toString()

/** Records that must be refused, each with the reason a clear error should name. */
const BAD: Array<[string, Partial<AppRecord>, RegExp]> = [
  ['empty', { privateKey: '' }, /empty/],
  ['missing', { privateKey: undefined }, /empty/],
  ['short', { privateKey: hmacKeyHex(31) }, /shorter/],
  ['short512', { algorithm: 'HMAC_SHA512', privateKey: hmacKeyHex(63) }, /shorter/],
  ['oddhex', { privateKey: GOOD + 'a' }, /hex/],
  ['nonhex', { privateKey: 'z'.repeat(64) }, /hex/],
  ['spaces', { privateKey: ` ${GOOD}` }, /hex/],
  ['base64secret', { privateKey: Buffer.from(GOOD, 'hex').toString('base64') }, /hex/],
  ['number', { privateKey: 12345 as never }, /empty/],
  ['edpemashmac', { privateKey: ED.privatePemHex }, /PEM/],
  ['hmacwithpublic', { publicKey: ED.publicPemHex }, /public key/],
  ['notapoint', { algorithm: 'ED25519', privateKey: undefined, publicKey: nonCanonical.toString('hex') }, /not-a-point/],
  ['identity', { algorithm: 'ED25519', privateKey: undefined, publicKey: identity.toString('base64') }, /small-order/],
  ['order8', { algorithm: 'ED25519', privateKey: undefined, publicKey: smallOrder8.toString('hex') }, /small-order/],
  ['mixedorder', { algorithm: 'ED25519', privateKey: undefined, publicKey: mixedOrder.toString('hex') }, /not-in-prime-subgroup/],
  ['order8pem', { algorithm: 'ED25519', privateKey: undefined, publicKey: `-----BEGIN PUBLIC KEY-----\n${Buffer.concat([Buffer.from('302a300506032b6570032100', 'hex'), smallOrder8]).toString('base64')}\n-----END PUBLIC KEY-----\n` }, /small-order/],
  ['x25519', { algorithm: 'ED25519', privateKey: undefined, publicKey: x25519 }, /x25519|Ed25519/],
  ['p256', { algorithm: 'ED25519', privateKey: undefined, publicKey: Buffer.from(p256).toString('hex') }, /ec|Ed25519/],
  ['rsaprivate', { algorithm: 'ED25519', privateKey: rsaPrivate }, /rsa|Ed25519/],
  ['ednokey', { algorithm: 'ED25519', privateKey: undefined }, /needs a public or a private key/],
  ['edshortraw', { algorithm: 'ED25519', privateKey: undefined, publicKey: 'abcd' }, /32 bytes/],
  ['edbadpem', { algorithm: 'ED25519', privateKey: undefined, publicKey: '-----BEGIN PUBLIC KEY-----\nAAAA\n-----END PUBLIC KEY-----\n' }, /PEM/],
  ['edhalves', { algorithm: 'ED25519', privateKey: Buffer.concat([ED.seed, ed25519Keys().publicRaw]).toString('hex') }, /halves/]
]

function record (slug: string, extra: Partial<AppRecord>): AppRecord {
  return { slug, algorithm: 'HMAC_SHA256', privateKey: GOOD, requireAnAgreement: false, ...extra }
}

test('the mixed-order key of these tests is on the curve but outside the prime-order subgroup', () => {
  assert.equal(checkEd25519PublicKey(smallOrder8), 'small-order')
  assert.equal(checkEd25519PublicKey(ED.publicRaw), 'valid')
  assert.equal(checkEd25519PublicKey(mixedOrder), 'not-in-prime-subgroup')
  assert.deepEqual(encodePoint(decodePoint(ED.publicRaw)), ED.publicRaw, 'the test arithmetic round-trips')
})

test('each bad key record is refused at load for its own reason (the resolved app keeps the reason, never the key)', () => {
  for (const [slug, extra, reason] of BAD) {
    const resolved = resolveApp(record(slug, extra))
    assert.equal(resolved.keys, null, slug)
    assert.match(resolved.keyProblem ?? '', reason, slug)
    assertNoSecretIn(resolved.keyProblem ?? '', secretSpellings(GOOD, ED.privatePemHex, ED.publicPemHex, rsaPrivate, p256), slug)
  }
})

test('bad key records: that app is refused (401 invalid-app-key), every other app keeps working', async () => {
  const apps = [record('good', {}), ...BAD.map(([slug, extra]) => record(slug, extra))]
  const { app, logs } = await attackServer(new UncheckedStore({ apps }))
  const secrets = secretSpellings(GOOD, ED.privatePemHex, ED.publicPemHex, rsaPrivate, p256)
  const jwt = (slug: string) => linkHeader(slug, encodeJwt(pythonClaims(slug, APP_NAME), { key: GOOD }))
  assert.equal((await app.inject({ url: '/jwt', headers: { authorization: jwt('good') } })).statusCode, 200)
  for (const [slug] of BAD) {
    const response = await app.inject({ url: '/jwt', headers: { authorization: jwt(slug) } })
    assert.equal(response.statusCode, 401, slug)
    assert.equal(response.json().code, 'FST_LINKED_SERVICES_INVALID_APP_KEY', slug)
    assertNoSecretIn(response.body, secrets, `${slug} response`)
    // The signature path refuses it too.
    const caller: Caller = { record: record(slug, {}), own: { slug: APP_NAME, algorithm: 'HMAC_SHA256', privateKey: GOOD } }
    const signed = await app.inject(signedInject(caller, { method: 'GET', path: '/sig' }))
    assert.equal(signed.statusCode, 401, `${slug} signed`)
  }
  assert.equal((await app.inject({ url: '/jwt', headers: { authorization: jwt('good') } })).statusCode, 200, 'still serving the good app')
  logs.assertClean(secrets)
  await app.close()
})

test('a bad key record gives a clear error: one log line names the app and the problem, never the key (regression: notes/requests-security.md #2)',
  async () => {
    const apps = BAD.map(([slug, extra]) => record(slug, extra))
    const { app, logs } = await attackServer(new UncheckedStore({ apps }))
    try {
      for (const [slug, , reason] of BAD) {
        await app.inject({ url: '/jwt', headers: { authorization: linkHeader(slug, encodeJwt(pythonClaims(slug, APP_NAME), { key: GOOD })) } })
        const line = logs.lines.find((text) => text.includes(`"${slug}"`) && /"level":(40|50)/.test(text))
        assert.ok(line !== undefined, `no warning names app ${slug}`)
        assert.match(line, reason, slug)
      }
      logs.assertClean(secretSpellings(GOOD, ED.privatePemHex, ED.publicPemHex, rsaPrivate))
    } finally {
      await app.close()
    }
  })

test('key material never reaches request.app, a response or a log line (success, attacks, rotation, getUser)', async () => {
  const hs = hmacKeyHex(64)
  const previous = hmacKeyHex(64)
  const legacy = hmacKeyHex(64)
  const ed = ed25519Keys()
  const apps: AppRecord[] = [
    { slug: 'hs', algorithm: 'HMAC_SHA512', privateKey: hs, kid: 'k2', previousKeys: [{ kid: 'k1', privateKey: previous, expiresAt: Date.now() + 60_000 }], legacyKey: { privateKey: legacy, createdAt: Date.now() }, requireAnAgreement: false, appUrl: 'http://127.0.0.1:9' },
    { slug: 'ed', algorithm: 'ED25519', publicKey: ed.publicPemHex, privateKey: ed.privatePemHex, strategy: 'SIGNATURE', requireAnAgreement: true, requiredScopes: ['read:user'] }
  ]
  const secrets = secretSpellings(hs, previous, legacy, ed.publicPemHex, ed.privatePemHex, ed.publicRaw.toString('hex'), ed.publicRaw.toString('base64'), ed.seed.toString('hex'))
  const { app, logs } = await attackServer({ apps, users: [{ id: 1, credentials: { hs: 7 } }] }, { signature: { legacy: true } })
  const bodies: string[] = []
  const go = async (options: InjectOptions) => {
    const response = await app.inject(options)
    assert.ok(response.statusCode < 500, `${response.statusCode}: ${response.body}`)
    bodies.push(response.body, JSON.stringify(response.headers))
    return response
  }
  const ok = await go({ url: '/jwt', headers: { authorization: linkHeader('hs', encodeJwt(pythonClaims('hs', APP_NAME, { sub: 7 }), { key: hs, alg: 'HS512' })) } })
  assert.equal(ok.statusCode, 200)
  const seen = ok.json()
  assert.deepEqual(Object.keys(seen.app).filter((name) => /key|secret|kid/i.test(name)), [], 'request.app has no key fields')
  assert.equal(seen.app.slug, 'hs')
  await go({ url: '/user', headers: { authorization: linkHeader('hs', encodeJwt(pythonClaims('hs', APP_NAME, { sub: 7 }), { key: previous, alg: 'HS512' })) } })
  await go({ url: '/jwt', headers: { authorization: linkHeader('hs', encodeJwt(pythonClaims('hs', APP_NAME), { key: legacy, alg: 'HS512' })) } })
  // Attacks: wrong keys, confusion with the public key, garbage, duplicates.
  await go({ url: '/jwt', headers: { authorization: linkHeader('hs', encodeJwt(pythonClaims('hs', APP_NAME), { key: hmacKeyHex(64), alg: 'HS512' })) } })
  await go({ url: '/jwt', headers: { authorization: linkHeader('ed', encodeJwt(pythonClaims('ed', APP_NAME), { key: ed.publicPemHex, alg: 'HS256' })) } })
  await go({ url: '/jwt', headers: { authorization: `Link App=hs,Token=${hs}` } })
  await go({ url: '/jwt', headers: { authorization: `Link App=${hs},Token=x.y.z` } })
  const edCaller: Caller = { record: apps[1], own: { slug: APP_NAME, algorithm: 'ED25519', privateKey: ed.privatePemHex } }
  const signed = await go(signedInject(edCaller, { method: 'POST', path: '/sig', body: { a: 1 } }))
  assert.equal(signed.statusCode, 200)
  assert.deepEqual(Object.keys(signed.json().app).filter((name) => /key|secret/i.test(name)), [])
  await go(signedInject(edCaller, { method: 'POST', path: '/sig', body: { a: 1 }, nonce: 'n'.repeat(300) }))
  const legacyCaller: Caller = { record: apps[0], own: { slug: APP_NAME, algorithm: 'HMAC_SHA512', privateKey: hs } }
  await go(signedInject(legacyCaller, { method: 'POST', path: '/sig', body: { a: 1 }, scheme: 'legacy' }))
  await go(signedInject({ ...legacyCaller, own: { ...legacyCaller.own, privateKey: hmacKeyHex(64) } }, { method: 'POST', path: '/sig', body: { a: 1 }, scheme: 'legacy' }))
  for (const text of bodies) assertNoSecretIn(text, secrets, 'response')
  logs.assertClean(secrets)
  assert.ok(logs.lines.length > 10, 'the logger did write (trace level)')
  await app.close()
})

test('an HMAC secret whose bytes are key text is refused wherever the PEM starts, and as DER (issue 12.3)', async () => {
  const hex = (text: string | Buffer): string => Buffer.from(text).toString('hex')
  const rsa = generateKeyPairSync('rsa', { modulusLength: 1024 })
  const ec = generateKeyPairSync('ec', { namedCurve: 'P-256' })
  const ed = generateKeyPairSync('ed25519')
  const pem = ED.publicPem
  const crlf = pem.replace(/\n/g, '\r\n')
  const bag = `Bag Attributes\n    localKeyID: 01 02 03 04\n    friendlyName: signer\nKey Attributes: <No Attributes>\n${ED.privatePem}`
  const spellings: Record<string, string> = {
    'PEM first': hex(pem),
    'leading space': hex('  ' + pem),
    'leading newline': hex('\n' + pem),
    'leading CRLF': hex('\r\n' + crlf),
    'UTF-8 BOM': hex(Buffer.concat([Buffer.from([0xef, 0xbb, 0xbf]), Buffer.from(pem)])),
    'CRLF line ends': hex(crlf),
    'Bag Attributes preamble': hex(bag),
    'Bag Attributes after a BOM': hex(Buffer.concat([Buffer.from([0xef, 0xbb, 0xbf]), Buffer.from(bag)])),
    'text before the PEM': hex('key follows:\n' + pem),
    'lower-case BEGIN': hex(pem.replace('BEGIN', 'begin')),
    'RSA public PEM': hex(rsa.publicKey.export({ format: 'pem', type: 'spki' }) as string),
    'Ed25519 SPKI DER': (ed.publicKey.export({ format: 'der', type: 'spki' })).toString('hex'),
    'Ed25519 PKCS#8 DER': (ed.privateKey.export({ format: 'der', type: 'pkcs8' })).toString('hex'),
    'RSA SPKI DER': (rsa.publicKey.export({ format: 'der', type: 'spki' })).toString('hex'),
    'RSA PKCS#1 DER': (rsa.publicKey.export({ format: 'der', type: 'pkcs1' })).toString('hex'),
    'EC SPKI DER': (ec.publicKey.export({ format: 'der', type: 'spki' })).toString('hex'),
    'EC SEC1 DER': (ec.privateKey.export({ format: 'der', type: 'sec1' })).toString('hex')
  }
  for (const [what, privateKey] of Object.entries(spellings)) {
    for (const algorithm of ['HMAC_SHA256', 'HMAC_SHA512'] as const) {
      const resolved = resolveApp({ slug: 'pem', algorithm, privateKey })
      assert.equal(resolved.keys, null, `${what} (${algorithm}) was accepted as an HMAC secret`)
      assert.match(resolved.keyProblem ?? '', /PEM key|DER-encoded/, what)
    }
  }
  // Through the request path: 401 invalid-app-key, and a token "signed" with the public key text does not pass.
  const record: AppRecord = { slug: 'pemhmac', algorithm: 'HMAC_SHA256', privateKey: spellings['leading newline'], requireAnAgreement: false }
  // MemoryStore refuses such a record when it is built; a store written by something else may hold it.
  assert.throws(() => new MemoryStore({ apps: [record] }), /the HMAC secret is a PEM key/)
  const { app } = await attackServer(new UncheckedStore({ apps: [record] }))
  try {
    const forged = encodeJwt(pythonClaims('pemhmac', APP_NAME), { key: spellings['leading newline'] })
    const response = await app.inject({ method: 'GET', url: '/any', headers: { authorization: linkHeader('pemhmac', forged) } })
    assert.equal(response.statusCode, 401)
    assert.equal(response.json().code, 'FST_LINKED_SERVICES_INVALID_APP_KEY')
  } finally {
    await app.close()
  }
  // Secrets that merely look like the start of a DER SEQUENCE are not key text: accepted.
  const sequenceShaped = Buffer.concat([Buffer.from([0x30, 30]), Buffer.alloc(30, 7)]).toString('hex')
  assert.notEqual(resolveApp({ slug: 'ok', algorithm: 'HMAC_SHA256', privateKey: sequenceShaped }).keys, null)
  for (let i = 0; i < 200; i++) {
    const secret = createHash('sha256').update(`secret ${i}`).digest('hex')
    assert.notEqual(resolveApp({ slug: 'ok', algorithm: 'HMAC_SHA256', privateKey: secret }).keys, null)
  }
})
