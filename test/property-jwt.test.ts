/**
 * Property-based tests (fast-check, issue 8.4) over the Authorization header parser and the JWT
 * checks: for any input they return a verdict or throw one of the plugin's coded errors, never
 * anything else; and the verdicts keep their promises (canonical base64url, bound identity).
 */
import { test } from 'node:test'
import assert from 'node:assert/strict'
import { createHmac, createPrivateKey, sign } from 'node:crypto'
import fc from 'fast-check'
import { parseParams } from '../plugin/caller/authorization-header.js'
import { isLinkedServicesError } from '../plugin/errors.js'
import { checkClaims, checkHeader } from '../plugin/jwt/claims.js'
import { decodeJws, isCanonicalBase64url } from '../plugin/jwt/decode.js'
import { constantTimeEqual } from '../plugin/keys/constant-time.js'
import { ed25519Keys, hmacKeyHex } from './helpers/keys.js'
import { BASE64URL_ALPHABET, encodeJwt, linkHeader, pythonClaims } from './helpers/jwt.js'
import { APP_NAME, attackServer } from './helpers/attacks.js'

const RUNS = { numRuns: 1000 }

/** Runs fn; a throw must be one of the plugin's coded errors (4xx). */
function verdict<T> (fn: () => T): T | 'refused' {
  try {
    return fn()
  } catch (error) {
    if (!isLinkedServicesError(error)) throw new Error(`not a coded error: ${String(error)}`)
    assert.ok(error.statusCode >= 400 && error.statusCode < 500, `status ${error.statusCode}`)
    return 'refused'
  }
}

const headerText = fc.oneof(
  fc.string({ maxLength: 200 }),
  fc.string({ unit: 'binary', maxLength: 200 }),
  fc.array(fc.oneof(fc.constantFrom('App', 'Token', 'app', ' App', 'Token ', '', '__proto__', 'constructor'), fc.string({ maxLength: 8 }))
    .map((keys) => keys), { maxLength: 6 })
    .chain((keys) => fc.tuple(fc.constant(keys), fc.array(fc.string({ maxLength: 12 }), { minLength: keys.length, maxLength: keys.length })))
    .chain(([keys, values]) => fc.constantFrom(',', ', ', ',,', '=').map((sep) => keys.map((key, i) => `${key}=${values[i]}`).join(sep)))
)

test('parseParams: any text gives the values of exactly the expected keys, or a coded 401', () => {
  fc.assert(fc.property(headerText, (text) => {
    const result = verdict(() => parseParams(text, ['App', 'Token']))
    if (result === 'refused') return
    assert.equal(result.length, 2)
    for (const value of result) {
      assert.equal(typeof value, 'string')
      assert.ok(!value.includes(',') && !value.includes('='), 'no separator inside a value')
      assert.equal(value, value.trim())
    }
  }), RUNS)
})

test('parseParams: a well-formed list round-trips in any order; a repeated key is always refused', () => {
  const value = fc.string({ maxLength: 30 }).filter((v) => !/[,=]/.test(v) && v === v.trim())
  fc.assert(fc.property(value, value, fc.boolean(), fc.constantFrom('', ' '), (app, token, swap, space) => {
    const pieces = [`App=${app}`, `Token=${token}`]
    if (swap) pieces.reverse()
    assert.deepEqual(parseParams(pieces.join(',' + space), ['App', 'Token']), [app, token])
    const repeated = [...pieces, pieces[0]].join(',')
    assert.equal(verdict(() => parseParams(repeated, ['App', 'Token'])), 'refused')
  }), RUNS)
})

/** The straightforward reading of `K1=v1,K2=v2` (split on commas) the index walk must agree with. */
function referenceParams (text: string, keys: readonly string[]): string[] | string {
  const pieces = text.split(',')
  if (pieces.length !== keys.length) return pieces.every((piece) => piece.includes('=')) ? 'bad-schema' : 'malformed'
  const values: Array<string | undefined> = new Array(keys.length)
  for (const piece of pieces) {
    const at = piece.indexOf('=')
    if (at === -1 || piece.indexOf('=', at + 1) !== -1) return 'malformed'
    const index = keys.indexOf(piece.slice(0, at).trim())
    if (index === -1) return 'bad-schema'
    if (values[index] !== undefined) return 'malformed'
    values[index] = piece.slice(at + 1).trim()
  }
  return values as string[]
}

test('parseParams: the same values, and the same refusal, as splitting on commas', () => {
  const keys = ['App', 'Token'] as const
  fc.assert(fc.property(headerText, (text) => {
    const expected = referenceParams(text, keys)
    let actual: string[] | string
    try {
      actual = parseParams(text, keys)
    } catch (error) {
      const slug = (error as { slug?: string }).slug ?? String(error)
      actual = slug === 'authorization-header-bad-schema' ? 'bad-schema' : slug === 'authorization-header-malformed' ? 'malformed' : slug
    }
    assert.deepEqual(actual, expected, JSON.stringify(text))
  }), { numRuns: 5000 })
})

test('constantTimeEqual: equal exactly when the strings are', () => {
  fc.assert(fc.property(fc.string({ maxLength: 90 }), fc.string({ maxLength: 90 }), (a, b) => {
    assert.equal(constantTimeEqual(a, b), a === b)
    assert.equal(constantTimeEqual(a, a.slice()), true)
  }), RUNS)
  // One character off, anywhere, including the last.
  const mac = 'AdRIr9koBlRYz2cLYPWllNc1rwFyyNZ_IqgWgBMmgco'
  for (let i = 0; i < mac.length; i++) {
    const flipped = mac.slice(0, i) + (mac[i] === 'A' ? 'B' : 'A') + mac.slice(i + 1)
    assert.equal(constantTimeEqual(mac, flipped), false, `position ${i}`)
  }
})

test('isCanonicalBase64url: true exactly when the text is the one base64url spelling of its bytes', () => {
  const alphabet = fc.constantFrom(...`${BASE64URL_ALPHABET}+/= .`.split(''))
  fc.assert(fc.property(fc.array(alphabet, { minLength: 1, maxLength: 40 }).map((chars) => chars.join('')), (text) => {
    const canonical = Buffer.from(text, 'base64url').toString('base64url') === text
    assert.equal(isCanonicalBase64url(text), canonical, text)
  }), { numRuns: 5000 })
  fc.assert(fc.property(fc.uint8Array({ minLength: 1, maxLength: 80 }), (bytes) => {
    assert.ok(isCanonicalBase64url(Buffer.from(bytes).toString('base64url')))
  }), RUNS)
})

test('decodeJws: any string is decoded or refused with a coded error; what it decodes has a canonical payload', () => {
  const segment = fc.oneof(fc.base64String({ maxLength: 40 }), fc.string({ maxLength: 30 }), fc.jsonValue().map((v) => Buffer.from(JSON.stringify(v) ?? 'null').toString('base64url')))
  const token = fc.oneof(fc.string({ maxLength: 300 }), fc.array(segment, { minLength: 1, maxLength: 5 }).map((parts) => parts.join('.')))
  fc.assert(fc.property(token, (text) => {
    const result = verdict(() => decodeJws(text))
    if (result === 'refused') return
    const [h, p, s, extra] = text.split('.')
    assert.equal(extra, undefined, 'three segments')
    assert.equal(Buffer.from(p, 'base64url').toString('base64url'), p)
    assert.deepEqual(result.payload, JSON.parse(Buffer.from(p, 'base64url').toString('utf8')))
    assert.equal(result.headerPart, h)
    assert.equal(result.signaturePart, s)
    assert.equal(result.signingInput, `${h}.${p}`)
  }), RUNS)
})

/**
 * Other spellings of the bytes a base64url segment spells (lenient decoders read them all as
 * the same bytes): padding, the standard alphabet's + and /, a character decoders skip, a
 * dangling character, non-zero unused bits in the last character.
 */
function respellings (segment: string, at: number): string[] {
  const out: string[] = []
  const cut = at % (segment.length + 1)
  // Whitespace only inside: at the token's ends the header parser trims it, as the original does.
  const inside = cut > 0 && cut < segment.length
  for (const inserted of [...(inside ? [' ', '\t'] : []), '!', '~', '*', '=', '\u00e9']) out.push(segment.slice(0, cut) + inserted + segment.slice(cut))
  out.push(segment.replaceAll('-', '+').replaceAll('_', '/'))
  if (segment.length % 4 === 0) out.push(segment + 'A')
  const remainder = segment.length % 4
  if (remainder === 2 || remainder === 3) {
    const last = BASE64URL_ALPHABET.indexOf(segment[segment.length - 1])
    for (let bit = 1; bit < (remainder === 2 ? 16 : 4); bit <<= 1) out.push(segment.slice(0, -1) + BASE64URL_ALPHABET[last | bit])
  }
  return out.filter((variant) => variant !== segment && Buffer.from(variant, 'base64url').equals(Buffer.from(segment, 'base64url')))
}

test('end to end: no other spelling of a valid token is accepted, on its first call or once its header and token are remembered (HMAC and Ed25519)', async () => {
  const key = hmacKeyHex(32)
  const ed = ed25519Keys()
  const { app } = await attackServer({
    apps: [
      { slug: 'caller', algorithm: 'HMAC_SHA256', privateKey: key, requireAnAgreement: false },
      { slug: 'ed', algorithm: 'ED25519', publicKey: ed.publicPemHex, requireAnAgreement: false }
    ]
  })
  const call = async (slug: string, token: string): Promise<number> =>
    (await app.inject({ url: '/jwt', headers: { authorization: linkHeader(slug, token) } })).statusCode
  // The signer's key signs what it is given: a respelled header or payload signed again is a
  // token the key holder made, and must still be refused for its spelling.
  const signers: Record<string, (signingInput: string) => string> = {
    caller: (input) => createHmac('sha256', Buffer.from(key, 'hex')).update(input).digest('base64url'),
    ed: (input) => sign(null, Buffer.from(input), createPrivateKey(ed.privatePem)).toString('base64url')
  }
  // Payloads of every length mod 3, so each segment's unused bits are exercised.
  const tokens = ['', 'x', 'xy'].flatMap((pad) => [
    { slug: 'caller', token: encodeJwt(pythonClaims('caller', APP_NAME, { pad }), { key }) },
    { slug: 'ed', token: encodeJwt(pythonClaims('ed', APP_NAME, { pad }), { key: ed.privatePem, alg: 'EdDSA' }) }
  ])
  let tried = 0
  await fc.assert(fc.asyncProperty(fc.constantFrom(...tokens), fc.nat(2), fc.nat(400), fc.boolean(), async ({ slug, token }, which, at, rememberedFirst) => {
    // Twice: the second call is served from the token cache and the recent-header table.
    if (rememberedFirst) for (let i = 0; i < 2; i++) assert.equal(await call(slug, token), 200)
    const segments = token.split('.')
    for (const variant of respellings(segments[which], at)) {
      const parts = segments.map((part, i) => (i === which ? variant : part))
      const candidates = [parts.join('.')]
      if (which < 2) candidates.push(`${parts[0]}.${parts[1]}.${signers[slug](`${parts[0]}.${parts[1]}`)}`)
      for (const respelled of candidates) {
        tried++
        const status = await call(slug, respelled)
        assert.ok(status === 401, `${status} for segment ${which} spelled ${JSON.stringify(variant)}`)
      }
    }
  }), { numRuns: 150 })
  assert.ok(tried > 500, `only ${tried} respellings tried`)
  await app.close()
})

const anyValue = fc.oneof(
  fc.jsonValue({ maxDepth: 2 }),
  fc.constantFrom(Infinity, -Infinity, NaN, -0, Number.parseFloat('1e309'), 1e11, 1e11 + 1, Number.MAX_SAFE_INTEGER + 2, '__proto__', APP_NAME, 'caller', ['caller'], [APP_NAME], undefined)
)
const claimName = fc.oneof(fc.constantFrom('exp', 'nbf', 'iat', 'sub', 'aud', 'app', 'iss', 'typ', '__proto__', 'constructor', 'alg', 'kid', 'crit', 'b64', 'jku', 'x5u', 'jwk'), fc.string({ maxLength: 6 }))

test('checkHeader: any JOSE header object gives { alg, kid } or a coded 401; refused parameters never pass', () => {
  fc.assert(fc.property(fc.dictionary(claimName, anyValue, { maxKeys: 8 }), (header) => {
    const result = verdict(() => checkHeader(header))
    if (result === 'refused') return
    assert.equal(typeof result.alg, 'string')
    assert.ok(result.kid === null || (typeof result.kid === 'string' && result.kid.length <= 256))
    for (const name of ['crit', 'jku', 'x5u', 'jwk']) assert.ok(!Object.hasOwn(header, name), name)
  }), RUNS)
})

test('checkClaims: any payload gives a token bound to this service and caller, or a coded 401', () => {
  const now = 1_800_000_000
  const around = fc.oneof(fc.integer({ min: now - 1000, max: now + 1000 }), fc.double({ min: now - 1000, max: now + 1000, noNaN: true }))
  const payload = fc.record({
    exp: fc.oneof(around, anyValue),
    nbf: fc.oneof(around, anyValue),
    iat: fc.oneof(around, anyValue),
    aud: fc.oneof(fc.constant(APP_NAME), anyValue),
    app: fc.oneof(fc.constant('caller'), anyValue),
    sub: anyValue,
    iss: anyValue
  }, { requiredKeys: [] }).chain((base) => fc.dictionary(claimName, anyValue, { maxKeys: 3 }).map((extra) => ({ ...extra, ...base })))
  fc.assert(fc.property(payload, fc.constantFrom(0, 5, 30), (claims, tolerance) => {
    const result = verdict(() => checkClaims(claims as Record<string, unknown>, { appName: APP_NAME, headerApp: 'caller', now, tolerance }))
    if (result === 'refused') return
    assert.ok(Number.isFinite(result.exp) && result.exp + tolerance >= now, 'not expired')
    if (typeof claims.nbf === 'number') assert.ok(claims.nbf - tolerance <= now)
    if (typeof claims.iat === 'number') assert.ok(claims.iat - tolerance <= now)
    assert.equal(result.app, 'caller')
    assert.ok(result.aud === APP_NAME || (Array.isArray(result.aud) && result.aud.includes(APP_NAME)))
    assert.ok(result.sub === null || typeof result.sub === 'string')
    assert.equal(result.mode, 'jwt')
    assert.ok(Object.isFrozen(result))
  }), { numRuns: 3000 })
})

test('end to end: any single-character change of a valid token, or of its App=, is refused (4xx, never 5xx)', async () => {
  const key = hmacKeyHex(32)
  const { app } = await attackServer({ apps: [{ slug: 'caller', algorithm: 'HMAC_SHA256', privateKey: key, requireAnAgreement: false }] })
  const token = encodeJwt(pythonClaims('caller', APP_NAME), { key })
  assert.equal((await app.inject({ url: '/jwt', headers: { authorization: linkHeader('caller', token) } })).statusCode, 200)
  const printable = fc.integer({ min: 0x21, max: 0x7e }).map((c) => String.fromCharCode(c))
  await fc.assert(fc.asyncProperty(fc.nat(token.length - 1), printable, async (at, ch) => {
    fc.pre(token[at] !== ch)
    const mutated = token.slice(0, at) + ch + token.slice(at + 1)
    const response = await app.inject({ url: '/jwt', headers: { authorization: linkHeader('caller', mutated) } })
    assert.ok(response.statusCode >= 400 && response.statusCode < 500, `${response.statusCode} for ${mutated}`)
  }), { numRuns: 400 })
  await fc.assert(fc.asyncProperty(fc.string({ minLength: 1, maxLength: 40 }).filter((s) => /^[\x21-\x7e]+$/.test(s) && s !== 'caller' && !/[,=]/.test(s)), async (slug) => {
    const response = await app.inject({ url: '/jwt', headers: { authorization: linkHeader(slug, token) } })
    assert.ok(response.statusCode >= 400 && response.statusCode < 500, `${response.statusCode} for App=${slug}`)
  }), { numRuns: 200 })
  await app.close()
})
