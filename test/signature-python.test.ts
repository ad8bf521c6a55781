import assert from 'node:assert/strict'
import { spawnSync } from 'node:child_process'
import { createSecretKey } from 'node:crypto'
import { describe, test } from 'node:test'
import {
  bodyCandidates, formatLegacyTimestamp, legacyCanonical, legacyMac, parseLegacyTimestamp, queryCandidates, receiverBody, receiverParams
} from '../plugin/signature/legacy-canonical.js'
import { bytesRepr, floatRepr, fromJs, parsePythonJson, PyDict, PyInt, pyRepr, quotePlus, strRepr, urlencode } from '../plugin/signature/python-repr.js'
import { GOLDEN_HMAC_KEY } from './helpers/keys.js'

const KEY = createSecretKey(Buffer.from(GOLDEN_HMAC_KEY, 'hex'))
const TIMESTAMP = '2024-05-18T12:00:00.123456+00:00'
const S1_BODY = '{"id": 1, "name": "Jane O\'Neil", "ok": true, "n": null, "f": 1.5, "tags": ["a","b"]}'
const S1_CANONICAL = 'timestamp=2024-05-18T12%3A00%3A00.123456%2B00%3A00&app=4geeks&method=POST&params=%7B%7D&body=%7B%27id%27%3A+1%2C+%27name%27%3A+%22Jane+O%27Neil%22%2C+%27ok%27%3A+True%2C+%27n%27%3A+None%2C+%27f%27%3A+1.5%2C+%27tags%27%3A+%5B%27a%27%2C+%27b%27%5D%7D&headers=%7B%7D'
const PREFIX = 'timestamp=2024-05-18T12%3A00%3A00.123456%2B00%3A00&app=4geeks'

describe('golden vectors, byte for byte', () => {
  test('S1: POST JSON, HS256 and HS512', () => {
    const body = parsePythonJson(S1_BODY)!
    const canonical = legacyCanonical({ timestamp: TIMESTAMP, app: '4geeks', method: 'POST', params: new PyDict(), body, headers: new PyDict() })
    assert.equal(canonical, S1_CANONICAL)
    assert.equal(legacyMac(canonical, KEY, 'sha256'), 'be5248a80b9d05facc55aa8fb05b75229051ec5dea6fdcdd86ffa24d8e414a92')
    assert.equal(legacyMac(canonical, KEY, 'sha512'),
      'b989a921df5d0402c248d7ada240b805228038741c5d68ecdcf795cea1f73c750f2a8f4ebef4990291a130b8426151eab78839599988c3bc1e34ea14547f498c')
    // The same body as a JS object the sender passed (fromJs) gives the same string.
    const fromObject = fromJs({ id: 1, name: "Jane O'Neil", ok: true, n: null, f: 1.5, tags: ['a', 'b'] })
    assert.equal(pyRepr(fromObject), pyRepr(body))
  })

  test('S2: GET as the sender computes it (body None)', () => {
    const canonical = legacyCanonical({ timestamp: TIMESTAMP, app: '4geeks', method: 'GET', params: new PyDict(), body: null, headers: new PyDict() })
    assert.equal(canonical, PREFIX + '&method=GET&params=%7B%7D&body=None&headers=%7B%7D')
    assert.equal(legacyMac(canonical, KEY, 'sha256'), '5c085519a0699bcbcfa497c1357187f9b0c16b679362b5a232824e77b6811497')
  })

  test('S3: the same GET as the receiver computes it (body {})', () => {
    const canonical = legacyCanonical({ timestamp: TIMESTAMP, app: '4geeks', method: 'GET', params: receiverParams(''), body: receiverBody(undefined)!, headers: new PyDict() })
    assert.equal(canonical, PREFIX + '&method=GET&params=%7B%7D&body=%7B%7D&headers=%7B%7D')
    assert.equal(legacyMac(canonical, KEY, 'sha256'), '702870f27bac38b99009f8882622398e48811a6398bcd54d3ab161e2bcb81a51')
  })
})

// Expected values produced by CPython 3.11 (repr, json.loads, quote_plus).
describe('Python repr', () => {
  test('floats', () => {
    const cases: Array<[number, string]> = [
      [1e16, '1e+16'], [1.0, '1.0'], [1e15, '1000000000000000.0'], [0.0001, '0.0001'], [0.00001, '1e-05'], [1.5e-7, '1.5e-07'],
      [123456789.123, '123456789.123'], [-0, '-0.0'], [1e100, '1e+100'], [0.1 + 0.2, '0.30000000000000004'], [2.5e16, '2.5e+16'],
      [1.7976931348623157e308, '1.7976931348623157e+308'], [5e-324, '5e-324'], [9999999999999998, '9999999999999998.0'], [1e22, '1e+22'],
      [-1.5, '-1.5'], [100, '100.0'], [Number('1234567890123456.7'), '1234567890123456.8'], [Infinity, 'inf'], [-Infinity, '-inf'], [NaN, 'nan']
    ]
    for (const [value, expected] of cases) assert.equal(floatRepr(value), expected, String(value))
  })

  test('strings: quotes, escapes, unicode', () => {
    const cases: Array<[string, string]> = [
      ["it's", '"it\'s"'], ['a\'b"c', '\'a\\\'b"c\''], ['a"b', '\'a"b\''], ['\n\t\\\r', "'\\n\\t\\\\\\r'"], ['é', "'é'"],
      ['\u00a0', "'\\xa0'"], ['\u200b', "'\\u200b'"], ['😀', "'😀'"], ['\x7f', "'\\x7f'"], ['\u2028', "'\\u2028'"], ['\x00', "'\\x00'"],
      ['\ud800', "'\\ud800'"], ['中文', "'中文'"], ['\u00ad', "'\\xad'"], [' ', "' '"], ['', "''"]
    ]
    for (const [value, expected] of cases) assert.equal(strRepr(value), expected, JSON.stringify(value))
  })

  test('bytes', () => {
    assert.equal(bytesRepr(Buffer.from([0, 255, 39, 65, 92, 10])), 'b"\\x00\\xff\'A\\\\\\n"')
    assert.equal(bytesRepr(Buffer.from('abc')), "b'abc'")
  })

  test('nested values, True/False/None, big ints, json.loads semantics', () => {
    const cases: Array<[string, string]> = [
      ['{"b":1,"2":2}', "{'b': 1, '2': 2}"],
      ['{"a":1,"b":2,"a":3}', "{'a': 3, 'b': 2}"],
      ['12345678901234567890', '12345678901234567890'],
      ['[1.0, 1E5, -0, -0.0, 1e400, true, false, null, "x"]', "[1.0, 100000.0, 0, -0.0, inf, True, False, None, 'x']"],
      ['{"n":{"m":[{"k":"v\'"}]}}', "{'n': {'m': [{'k': \"v'\"}]}}"],
      ['"\\u00e9\\n"', "'é\\n'"],
      [' [ ] ', '[]'],
      ['{}', '{}']
    ]
    for (const [json, expected] of cases) assert.equal(pyRepr(parsePythonJson(json)!), expected, json)
    for (const bad of ['', '{', '{"a":}', '[1,]', '01', 'NaN', '"\u0001"', '{"a":1} x', 'tru', '"\\x"', '"\\u12"']) {
      assert.equal(parsePythonJson(bad), undefined, bad)
    }
    assert.equal(parsePythonJson('['.repeat(600) + ']'.repeat(600)), undefined)
    assert.equal(pyRepr(fromJs([true, false, null, 1, 1.5, 'x', 10n, Buffer.from('a')])), "[True, False, None, 1, 1.5, 'x', 10, b'a']")
    assert.throws(() => fromJs(Symbol('x')), TypeError)
  })

  test('quote_plus and urlencode', () => {
    assert.equal(quotePlus('a b+c/é~*'), 'a+b%2Bc%2F%C3%A9~%2A')
    assert.equal(urlencode([['k y', 'v'], ['d', new PyDict()], ['n', null], ['i', new PyInt(5)]]), 'k+y=v&d=%7B%7D&n=None&i=5')
  })

  test('cross-check against a live CPython when one is installed', (t) => {
    const python = spawnSync('python3', ['--version'])
    if (python.status !== 0) {
      t.skip('python3 is not installed')
      return
    }
    const floats: number[] = []
    const strings: string[] = []
    for (let i = 0; i < 300; i++) {
      const f = (Math.random() - 0.5) * 10 ** Math.floor(Math.random() * 60 - 30)
      floats.push(f)
      let s = ''
      for (let j = 0; j < 6; j++) {
        const pick = Math.random()
        const code = pick < 0.4 ? 32 + Math.floor(Math.random() * 95) : pick < 0.7 ? Math.floor(Math.random() * 0x3000) : Math.floor(Math.random() * 0x10ffff)
        if (code >= 0xd800 && code <= 0xdfff) continue
        s += String.fromCodePoint(code)
      }
      strings.push(s)
    }
    const script = 'import json,sys\nd=json.load(sys.stdin)\nprint(json.dumps({"f":[repr(float(x)) for x in d["f"]],"s":[repr(x) for x in d["s"]],"q":[__import__("urllib.parse").parse.quote_plus(x, safe="") for x in d["s"]],"cn":[any(__import__("unicodedata").category(c)=="Cn" for c in x) for x in d["s"]]}))'
    const result = spawnSync('python3', ['-c', script], { input: JSON.stringify({ f: floats.map(String), s: strings }), encoding: 'utf8' })
    const expected = JSON.parse(result.stdout)
    assert.deepEqual(floats.map(floatRepr), expected.f)
    // Python 3.11 (Unicode 14) and this Node (a newer Unicode) disagree on code points assigned
    // since: those strings are left out; every other string must match exactly.
    const newer = /\p{Cn}/u
    const mismatches = strings.filter((s, i) => !expected.cn[i] && !newer.test(s) && strRepr(s) !== expected.s[i])
    assert.deepEqual(mismatches, [])
    assert.deepEqual(strings.map(quotePlus), expected.q)
  })
})

describe('legacy canonical inputs', () => {
  test('query candidates: strings, ints, lists; receiver params are lists', () => {
    assert.deepEqual(queryCandidates('').map(pyRepr), ['{}'])
    assert.deepEqual(queryCandidates('a=1&b=x+y&a=2&c=').map(pyRepr), [
      "{'a': ['1', '2'], 'b': 'x y', 'c': ''}",
      "{'a': [1, 2], 'b': 'x y', 'c': ''}",
      "{'a': ['1', '2'], 'b': ['x y'], 'c': ['']}"
    ])
    assert.deepEqual(queryCandidates('q=%C3%A9&r=%ZZ&s').map(pyRepr), ["{'q': 'é', 'r': '%ZZ', 's': ''}", "{'q': ['é'], 'r': ['%ZZ'], 's': ['']}"])
    assert.equal(pyRepr(receiverParams('a=1&a=2')), "{'a': ['1', '2']}")
  })

  test('body candidates', () => {
    assert.deepEqual(bodyCandidates(undefined, undefined).map(pyRepr), ['None', '{}'])
    assert.deepEqual(bodyCandidates(Buffer.from('{"a":1.0}'), 'application/json; charset=utf-8').map(pyRepr), ["{'a': 1.0}", '\'{"a":1.0}\'', 'b\'{"a":1.0}\''])
    assert.deepEqual(bodyCandidates(Buffer.from('a=1'), 'application/x-www-form-urlencoded').map(pyRepr), ["{'a': '1'}", "{'a': 1}", "'a=1'", "b'a=1'"])
    assert.deepEqual(bodyCandidates(Buffer.from('hi'), 'text/plain').map(pyRepr), ["'hi'", "b'hi'"])
    assert.equal(receiverBody(Buffer.from('not json')), undefined)
  })

  test('timestamps: parse like fromisoformat (offset honoured), format like isoformat', () => {
    const base = Date.UTC(2024, 4, 18, 12, 0, 0, 123)
    assert.equal(parseLegacyTimestamp(TIMESTAMP), base)
    assert.equal(parseLegacyTimestamp('2024-05-18T12:00:00.123456Z'), base)
    assert.equal(parseLegacyTimestamp('2024-05-18T12:00:00.123456'), base)
    assert.equal(parseLegacyTimestamp('2024-05-18T14:00:00.123+02:00'), base)
    assert.equal(parseLegacyTimestamp('2024-05-18 12:00'), Date.UTC(2024, 4, 18, 12, 0))
    assert.equal(parseLegacyTimestamp('2024-05-18T10:30:00-01:30'), Date.UTC(2024, 4, 18, 12, 0))
    for (const bad of ['', 'yesterday', '2024-02-30T00:00:00', '2024-05-18', '2024-05-18T25:00:00', '2024-05-18T12:00:00+25:00', 'x'.repeat(100)]) {
      assert.equal(parseLegacyTimestamp(bad), null, bad)
    }
    assert.equal(formatLegacyTimestamp(base), '2024-05-18T12:00:00.123000+00:00')
    assert.equal(formatLegacyTimestamp(Date.UTC(2024, 4, 18)), '2024-05-18T00:00:00+00:00')
  })
})
