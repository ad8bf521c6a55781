import assert from 'node:assert/strict'
import { describe, test } from 'node:test'
import {
  Decimal, isInnerList, parseDictionary, serializeDictionary, serializeInnerList, StructuredFieldError, Token, type InnerList
} from '../plugin/signature/structured-fields.js'

function innerList (text: string): InnerList {
  const member = parseDictionary(text).get('sig')!
  assert.ok(isInnerList(member))
  return member
}

function reserialize (list: InnerList): string {
  return serializeInnerList({ items: list.items, params: list.params })
}

describe('RFC 8941 parsing and serialisation', () => {
  test('a Signature-Input member round-trips', () => {
    const text = 'sig=("@method" "@authority" "content-digest");created=1618884473;keyid="test-key";nonce="b3k2pp5k7z";alg="hmac-sha256"'
    const list = innerList(text)
    assert.deepEqual(list.items.map((item) => item.value), ['@method', '@authority', 'content-digest'])
    assert.equal(list.params.get('created'), 1618884473)
    assert.equal(list.params.get('keyid'), 'test-key')
    assert.equal(serializeInnerList(list), text.slice(4))
    assert.equal(list.canonical, text.slice(4))
    assert.equal(serializeDictionary(parseDictionary(text)), text)
  })

  test('non-canonical text is re-serialised, never used as it is', () => {
    const cases: Array<[string, string]> = [
      ['sig=(  "@method"   "@path" );created=1', '("@method" "@path");created=1'],
      ['sig=("@method"); created=1;keyid="a"', '("@method");created=1;keyid="a"'],
      ['sig=("@method");created=0001', '("@method");created=1'],
      ['sig=("@method");created=-0', '("@method");created=0'],
      ['sig=("@method");x=1.50', '("@method");x=1.5'],
      ['sig=("@method");x=?1;y=?0', '("@method");x;y=?0'],
      ['sig=("@method");b=:aGk=:;t=tok/en', '("@method");b=:aGk=:;t=tok/en'],
      ['sig=("a\\"b\\\\c")', '("a\\"b\\\\c")'],
      ['sig=()', '()']
    ]
    for (const [text, expected] of cases) {
      const list = innerList(text)
      assert.equal(serializeInnerList(list), expected, text)
      assert.equal(reserialize(list), expected, text)
    }
  })

  test('dictionaries: bare keys, items, OWS around commas, values', () => {
    const dict = parseDictionary('a=1,  b=?0,c, d=tok;p=2, e=:AQID:, f=-1.25, g="s"')
    assert.equal((dict.get('a') as { value: unknown }).value, 1)
    assert.equal((dict.get('b') as { value: unknown }).value, false)
    assert.equal((dict.get('c') as { value: unknown }).value, true)
    assert.ok((dict.get('d') as { value: unknown }).value instanceof Token)
    assert.deepEqual((dict.get('e') as { value: unknown }).value, Buffer.from([1, 2, 3]))
    assert.ok((dict.get('f') as { value: unknown }).value instanceof Decimal)
    assert.equal(serializeDictionary(dict), 'a=1, b=?0, c, d=tok;p=2, e=:AQID:, f=-1.25, g="s"')
    assert.equal(parseDictionary('   ').size, 0)
    // Every character a key, a string and a byte sequence may hold, in one member each.
    const full = parseDictionary('a*b.c_d-e9=1, s=" !#[]~\\"x\\\\", y=:+/AZaz09AA==:')
    assert.deepEqual([...full.keys()], ['a*b.c_d-e9', 's', 'y'])
    assert.equal((full.get('s') as { value: unknown }).value, ' !#[]~"x\\')
    assert.deepEqual((full.get('y') as { value: unknown }).value, Buffer.from('+/AZaz09AA==', 'base64'))
  })

  test('malformed input throws StructuredFieldError (and nothing else)', () => {
    const bad = [
      'A=1', 'a=1,', 'a=1 b=2', 'a=("x"', 'a=("x""y")', 'a="unterminated', 'a="bad\\escape"', 'a="\u00e9"', 'a=:abc:', 'a=:ab=c:',
      'a=:a*bc:', 'a=?2', 'a=1234567890123456', 'a=1.2345', 'a=1234567890123.5', 'a=-', 'a=1;b;b', 'a=1, a=2', 'a=.5', 'a=1.', 'a=@', 'a=:abc',
      // Runs that stop at a character they do not take: inside a key, a string, a byte sequence.
      'aB=1', 'a="x\u0019y"', 'a="x\u007f"', 'a=:AQ\u00e9D:', 'a=:AQ-_:', 'a="x'
    ]
    for (const text of bad) assert.throws(() => parseDictionary(text), StructuredFieldError, text)
    assert.throws(() => serializeInnerList({ items: [{ value: 'é', params: new Map() }], params: new Map() }), StructuredFieldError)
    assert.throws(() => serializeInnerList({ items: [{ value: 1.5, params: new Map() }], params: new Map() }), StructuredFieldError)
  })

  test('the canonical shortcut agrees with full serialisation on random lists', () => {
    const names = ['"@method"', '"@path"', '"content-digest"', '"x-a"']
    const values = ['1', '0', '17', '"v"', '"q\\"x"', 'tok', '?1', '?0', '1.5', ':AQ==:', '007', '-3']
    for (let i = 0; i < 2000; i++) {
      const pick = <T>(list: T[]): T => list[Math.floor(Math.random() * list.length)]
      const spaces = (): string => ' '.repeat(Math.random() < 0.8 ? 1 : 2)
      const items = Array.from({ length: 1 + Math.floor(Math.random() * 4) }, () => pick(names))
      const params = Array.from({ length: Math.floor(Math.random() * 4) }, (_, n) => `;${Math.random() < 0.1 ? ' ' : ''}p${n}=${pick(values)}`)
      const text = `sig=(${Math.random() < 0.1 ? ' ' : ''}${items.join(spaces())})${params.join('')}`
      const list = innerList(text)
      assert.equal(serializeInnerList(list), reserialize(list), text)
    }
  })
})
