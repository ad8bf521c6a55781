/**
 * Property-based tests (fast-check, issue 8.4) over both canonicalisations: RFC 9421 (RFC 8941
 * structured fields, the signature base) and the original's legacy string (Python repr,
 * quote_plus, urlencode, json.loads, query and body readings, timestamps). For any input they
 * return a value or a coded error (StructuredFieldError / undefined / null), never throw anything
 * else; and what they return keeps its promises.
 */
import { test } from 'node:test'
import assert from 'node:assert/strict'
import fc from 'fast-check'
import {
  bodyCandidates, legacyCanonical, parseLegacyTimestamp, parseQueryGroups, queryCandidates, receiverBody
} from '../plugin/signature/legacy-canonical.js'
import { fromJs, parsePythonJson, pyRepr, quotePlus, urlencode } from '../plugin/signature/python-repr.js'
import {
  isInnerList, parseDictionary, serializeDictionary, serializeInnerList, StructuredFieldError, Token, type BareItem, type Dictionary, type InnerList, type Item
} from '../plugin/signature/structured-fields.js'
import { signatureBase } from '../plugin/signature/rfc9421.js'
import { hmacKeyHex } from './helpers/keys.js'
import { attackServer } from './helpers/attacks.js'
import { hmacCaller, signedInject } from './helpers/signature.js'

const RUNS = { numRuns: 1000 }

function parseOrNull (text: string): Dictionary | null {
  try {
    return parseDictionary(text)
  } catch (error) {
    if (!(error instanceof StructuredFieldError)) throw new Error(`not a StructuredFieldError: ${String(error)}`)
    return null
  }
}

// RFC 8941 generators.
const key = fc.stringMatching(/^[a-z*][a-z0-9_.*-]{0,8}$/)
const bareItem: fc.Arbitrary<BareItem> = fc.oneof(
  fc.integer({ min: -999_999_999_999_999, max: 999_999_999_999_999 }),
  fc.stringMatching(/^[\x20-\x7e]{0,20}$/),
  fc.boolean(),
  fc.stringMatching(/^[A-Za-z*][A-Za-z0-9!#$%&'*+.^_`|~:/-]{0,10}$/).map((text) => new Token(text)),
  fc.uint8Array({ maxLength: 40 }).map((bytes) => Buffer.from(bytes))
)
const params = fc.uniqueArray(fc.tuple(key, bareItem), { selector: ([name]) => name, maxLength: 4 }).map((entries) => new Map(entries))
const item: fc.Arbitrary<Item> = fc.record({ value: bareItem, params })
const innerList: fc.Arbitrary<InnerList> = fc.record({ items: fc.array(item, { maxLength: 5 }), params })
const dictionary = fc.uniqueArray(fc.tuple(key, fc.oneof(innerList, item)), { selector: ([name]) => name, maxLength: 4 }).map((entries) => new Map(entries) as Dictionary)

function plain (dict: Dictionary): unknown {
  const bare = (value: BareItem): unknown => value instanceof Token ? `token:${value.value}` : Buffer.isBuffer(value) ? `bytes:${value.toString('hex')}` : value
  const ps = (p: Map<string, BareItem>) => [...p].map(([k, v]) => [k, bare(v)])
  return [...dict].map(([k, m]) => [k, isInnerList(m) ? { items: m.items.map((i) => [bare(i.value), ps(i.params)]), params: ps(m.params) } : [bare(m.value), ps(m.params)]])
}

test('RFC 8941: any text is parsed or refused with StructuredFieldError, never anything else', () => {
  const near = fc.array(fc.constantFrom('sig', '=', '(', ')', '"', '\\', ':', ';', ',', ' ', '\t', 'a', '1', '-', '.', '?', '*', 'keyid', '@method', 'YWJj', '\u00e9', '\u0000'), { maxLength: 40 }).map((parts) => parts.join(''))
  fc.assert(fc.property(fc.oneof(fc.string({ maxLength: 200 }), fc.string({ unit: 'binary', maxLength: 100 }), near), (text) => {
    parseOrNull(text)
  }), { numRuns: 5000 })
})

test('RFC 8941: serialise then parse gives the same dictionary', () => {
  fc.assert(fc.property(dictionary, (dict) => {
    const text = serializeDictionary(dict)
    const parsed = parseOrNull(text)
    assert.ok(parsed !== null, text)
    assert.deepEqual(plain(parsed), plain(dict), text)
  }), RUNS)
})

test('RFC 9421: an inner list reused "as received" in the signature base is exactly its serialisation', () => {
  // The verifier checks created / nonce / keyid from the parsed parameters and signs over the
  // received text when it is canonical: both must say the same thing.
  const noisy = fc.tuple(innerList, fc.array(fc.constantFrom(' ', '  ', '\t'), { maxLength: 2 })).map(([list, spaces]) => {
    const text = serializeInnerList(list)
    return spaces.length === 0 ? text : text.replace(' ', spaces.join(''))
  })
  const duplicated = fc.tuple(innerList, key, bareItem, bareItem).map(([list, name, a, b]) => {
    const base = serializeInnerList({ items: list.items, params: new Map() })
    return `${base};${name}=${serializeInnerList({ items: [], params: new Map([['x', a]]) }).slice(5)};${name}=${serializeInnerList({ items: [], params: new Map([['x', b]]) }).slice(5)}`
  })
  fc.assert(fc.property(fc.oneof(innerList.map(serializeInnerList), noisy, duplicated), (text) => {
    const dict = parseOrNull(`sig=${text}`)
    if (dict === null) return
    const member = dict.get('sig')!
    assert.ok(isInnerList(member))
    const rebuilt = serializeInnerList({ items: member.items, params: member.params })
    assert.equal(serializeInnerList(member), rebuilt, `received ${text}`)
  }), RUNS)
})

test('RFC 9421: the signature base is a pure function of its lines and parameters', () => {
  fc.assert(fc.property(fc.array(fc.string({ maxLength: 20 }), { maxLength: 6 }), fc.string({ maxLength: 40 }), (lines, p) => {
    const base = signatureBase(lines, p)
    assert.equal(base, signatureBase([...lines], p))
    assert.ok(base.endsWith(`"@signature-params": ${p}`))
    assert.equal(base.split('\n').length, lines.join('\n').split('\n').length + (lines.length > 0 ? 1 : 0))
  }), RUNS)
})

test('RFC 9421 end to end: any Signature-Input / Signature text is a 4xx (never a 5xx); a valid one still passes', async () => {
  const caller = hmacCaller('signer')
  const { app } = await attackServer({ apps: [caller.record] })
  const template = signedInject(caller, { method: 'POST', path: '/sig?a=1', body: { a: 1 } })
  const inputName = Object.keys(template.headers).find((name) => name.toLowerCase() === 'signature-input')!
  const signatureName = Object.keys(template.headers).find((name) => name.toLowerCase() === 'signature')!
  const original = template.headers[inputName]
  const fieldText = fc.oneof(
    fc.stringMatching(/^[\x20-\x7e]{0,120}$/),
    fc.tuple(fc.nat(original.length), fc.stringMatching(/^[\x20-\x7e]{0,6}$/), fc.nat(8)).map(([at, insert, drop]) => original.slice(0, at) + insert + original.slice(at + drop))
  )
  await fc.assert(fc.asyncProperty(fieldText, fc.boolean(), async (text, inSignature) => {
    const request = signedInject(caller, { method: 'POST', path: '/sig?a=1', body: { a: 1 } })
    const headers = { ...request.headers, [inSignature ? signatureName : inputName]: text }
    const response = await app.inject({ ...request, headers })
    assert.ok(response.statusCode >= 400 && response.statusCode < 500, `${response.statusCode} for ${text}`)
  }), { numRuns: 300 })
  assert.equal((await app.inject(signedInject(caller, { method: 'POST', path: '/sig?a=1', body: { a: 1 } }))).statusCode, 200)
  await app.close()
})

// Legacy canonicalisation.

const jsonText = fc.oneof(
  fc.json({ maxDepth: 3 }),
  fc.string({ maxLength: 60 }),
  fc.array(fc.constantFrom('{', '}', '[', ']', '"', ':', ',', '1', '-', 'e', '.', 'true', 'null', '\\u00', '\\', ' ', '1e400', '"__proto__"'), { maxLength: 30 }).map((parts) => parts.join(''))
)

test('legacy: parsePythonJson reads what JSON.parse reads (or undefined), never throws', () => {
  fc.assert(fc.property(jsonText, (text) => {
    const value = parsePythonJson(text)
    let js: unknown
    let jsOk = true
    try { js = JSON.parse(text) } catch { jsOk = false }
    if (value === undefined) {
      // Python refuses a little more than V8 (NaN/Infinity never appear in JSON.parse input anyway).
      return
    }
    assert.ok(jsOk, `parsePythonJson accepted what JSON.parse refuses: ${text}`)
    assert.equal(typeof pyRepr(value), 'string')
    if (js === null || typeof js !== 'object') return
    assert.equal(Array.isArray(js), Array.isArray(value))
  }), { numRuns: 3000 })
})

test('legacy: urlencode output is plain ASCII of quote_plus; quote_plus decodes back to its input', () => {
  const pyValue = fc.jsonValue({ maxDepth: 3 }).map((v) => fromJs(v))
  fc.assert(fc.property(fc.string({ maxLength: 20 }), pyValue, pyValue, (timestamp, params, body) => {
    const canonical = legacyCanonical({ timestamp, app: 'app', method: 'POST', params, body, headers: fromJs({}) })
    assert.match(canonical, /^timestamp=[A-Za-z0-9_.~+%-]*&app=app&method=POST&params=[A-Za-z0-9_.~+%-]*&body=[A-Za-z0-9_.~+%-]*&headers=%7B%7D$/)
  }), RUNS)
  fc.assert(fc.property(fc.string({ unit: 'grapheme', maxLength: 40 }), (text) => {
    const encoded = quotePlus(text)
    assert.match(encoded, /^[A-Za-z0-9_.~+%-]*$/)
    assert.equal(decodeURIComponent(encoded.replaceAll('+', ' ')), text)
  }), RUNS)
  fc.assert(fc.property(fc.array(fc.tuple(fc.string({ maxLength: 8 }), fc.string({ maxLength: 8 })), { maxLength: 5 }), (pairs) => {
    assert.equal(urlencode(pairs).split('&').length, Math.max(pairs.length, 1))
  }), RUNS)
})

test('legacy: quote_plus is the byte-wise encoding of the UTF-8 bytes, for any UTF-16 text (lone surrogates too)', () => {
  // The reference: every UTF-8 byte on its own (what the ASCII fast path must agree with).
  const reference = (text: string): string => [...Buffer.from(text, 'utf8')].map((byte) =>
    /[A-Za-z0-9_.~-]/.test(String.fromCharCode(byte)) && byte < 128
      ? String.fromCharCode(byte)
      : byte === 0x20 ? '+' : '%' + byte.toString(16).toUpperCase().padStart(2, '0')).join('')
  const codeUnit = fc.oneof(
    fc.integer({ min: 0x20, max: 0x7e }),
    fc.integer({ min: 0, max: 0x7f }),
    fc.integer({ min: 0x80, max: 0xffff }),
    fc.integer({ min: 0xd800, max: 0xdfff })
  ).map((code) => String.fromCharCode(code))
  fc.assert(fc.property(fc.array(codeUnit, { maxLength: 40 }).map((units) => units.join('')), (text) => {
    assert.equal(quotePlus(text), reference(text))
  }), RUNS)
  for (const text of ['', 'plain', 'a b', ' ', 'é', 'aé b', '\ud83d\ude00x', 'x\ud800', '\udc00y', '~_.-', '%+&=']) {
    assert.equal(quotePlus(text), reference(text), JSON.stringify(text))
  }
})

test('legacy: different parsed bodies give different canonical strings (no two readings collide)', () => {
  const value = fc.jsonValue({ maxDepth: 3 })
  fc.assert(fc.property(value, value, (a, b) => {
    fc.pre(JSON.stringify(a) !== JSON.stringify(b))
    const ta = JSON.stringify(a)
    const tb = JSON.stringify(b)
    const pa = parsePythonJson(ta)
    const pb = parsePythonJson(tb)
    if (pa === undefined || pb === undefined) return
    const ca = legacyCanonical({ timestamp: 't', app: 'a', method: 'POST', params: fromJs({}), body: pa, headers: fromJs({}) })
    const cb = legacyCanonical({ timestamp: 't', app: 'a', method: 'POST', params: fromJs({}), body: pb, headers: fromJs({}) })
    assert.notEqual(ca, cb, `${ta} and ${tb} share one canonical string`)
  }), RUNS)
})

test('legacy: query, body and timestamp readings never throw, for any bytes', () => {
  fc.assert(fc.property(fc.oneof(fc.string({ maxLength: 80 }), fc.array(fc.constantFrom('a', '=', '&', '%', '%2', '%zz', '%C3', '%A9', '+', '__proto__', 'constructor', ';'), { maxLength: 20 }).map((p) => p.join(''))), (query) => {
    const groups = parseQueryGroups(query)
    for (const [name, values] of groups) {
      assert.equal(typeof name, 'string')
      assert.ok(values.length > 0)
    }
    assert.ok(queryCandidates(query).length >= 1)
  }), RUNS)
  fc.assert(fc.property(fc.uint8Array({ maxLength: 80 }), fc.constantFrom(undefined, 'application/json', 'application/x-www-form-urlencoded', 'text/plain', 'application/vnd.x+json; charset=utf-8', ''), (bytes, type) => {
    const candidates = bodyCandidates(Buffer.from(bytes), type)
    assert.ok(candidates.length >= 1)
    for (const candidate of candidates) assert.equal(typeof pyRepr(candidate), 'string')
    receiverBody(Buffer.from(bytes))
  }), RUNS)
  fc.assert(fc.property(fc.oneof(fc.string({ maxLength: 70 }), fc.date({ noInvalidDate: true }).map((d) => d.toISOString())), (text) => {
    const time = parseLegacyTimestamp(text)
    assert.ok(time === null || Number.isFinite(time), text)
  }), { numRuns: 3000 })
})

test('legacy end to end: any SignedHeaders / Date / Nonce text is a 4xx, never a 5xx', async () => {
  const secret = hmacKeyHex(64)
  const caller = { record: { slug: 'py', algorithm: 'HMAC_SHA256' as const, privateKey: secret, strategy: 'SIGNATURE' as const, requireAnAgreement: false }, own: { slug: 'nodeservice', algorithm: 'HMAC_SHA256' as const, privateKey: secret } }
  const { app } = await attackServer({ apps: [caller.record] }, { signature: { legacy: true } })
  const value = fc.stringMatching(/^[\x20-\x7e]{0,60}$/)
  await fc.assert(fc.asyncProperty(fc.constantFrom('Nonce', 'SignedHeaders', 'Date', 'App'), value, async (name, text) => {
    const request = signedInject(caller, { method: 'POST', path: '/sig', body: { a: 1 }, scheme: 'legacy' })
    const header = Object.keys(request.headers).find((h) => h.toLowerCase() === 'authorization')!
    const before = new RegExp(`${name}=([^,]*)`).exec(request.headers[header])![1]
    // Optional white space around a value is tolerated: it changes no security-relevant byte.
    fc.pre(text.trim() !== before)
    const mutated = request.headers[header].replace(`${name}=${before}`, `${name}=${text}`)
    const response = await app.inject({ ...request, headers: { ...request.headers, [header]: mutated } })
    assert.ok(response.statusCode >= 400 && response.statusCode < 500, `${response.statusCode} for ${mutated}`)
  }), { numRuns: 300 })
  await app.close()
})
