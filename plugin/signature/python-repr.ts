/**
 * Python's `repr`, `str`, `urllib.parse.quote_plus` and `urlencode` (without `doseq`), and a JSON
 * reader that keeps what Python's `json.loads` keeps (key order as written, the last value of a
 * repeated key in the place of the first, integers apart from floats, integers of any size): the
 * pieces of the original's canonical string. Only the legacy scheme uses them.
 */

/** A Python `int` (kept as decimal digits: Python integers have no size limit). */
export class PyInt {
  readonly digits: string
  constructor (digits: string | number | bigint) {
    this.digits = typeof digits === 'string' ? digits : BigInt(digits).toString()
  }
}

/** A Python `float`. */
export class PyFloat {
  readonly value: number
  constructor (value: number) {
    this.value = value
  }
}

/** A Python `bytes`. */
export class PyBytes {
  readonly bytes: Buffer
  constructor (bytes: Buffer) {
    this.bytes = bytes
  }
}

/** A Python `dict`: insertion order; setting an existing key keeps its place. */
export class PyDict {
  readonly #index = new Map<string, number>()
  readonly entries: Array<[PyValue, PyValue]> = []

  set (key: string, value: PyValue): void {
    const at = this.#index.get(key)
    if (at === undefined) {
      this.#index.set(key, this.entries.length)
      this.entries.push([key, value])
    } else {
      this.entries[at][1] = value
    }
  }

  /** A key that is not a string (an int, a float, None...). */
  setRaw (key: PyValue, value: PyValue): void {
    this.entries.push([key, value])
  }

  get size (): number {
    return this.entries.length
  }
}

export type PyValue = null | boolean | string | PyInt | PyFloat | PyBytes | PyDict | PyValue[]

/** Converts a plain JS value: integers become ints, other numbers floats, objects dicts. */
export function fromJs (value: unknown): PyValue {
  if (value === null || value === undefined) return null
  if (typeof value === 'boolean' || typeof value === 'string') return value
  if (typeof value === 'number') return Number.isInteger(value) ? new PyInt(value) : new PyFloat(value)
  if (typeof value === 'bigint') return new PyInt(value)
  if (value instanceof PyInt || value instanceof PyFloat || value instanceof PyBytes || value instanceof PyDict) return value
  if (Buffer.isBuffer(value) || value instanceof Uint8Array) return new PyBytes(Buffer.from(value))
  if (Array.isArray(value)) return value.map(fromJs)
  if (typeof value === 'object') {
    const dict = new PyDict()
    for (const [key, item] of Object.entries(value)) dict.set(key, fromJs(item))
    return dict
  }
  throw new TypeError(`cannot represent a ${typeof value} as a Python value`)
}

// ---------------------------------------------------------------------------------------------
// repr

/** Python's float repr (`repr(1e16) == '1e+16'`, `repr(1.0) == '1.0'`, `repr(1e-05)`). */
export function floatRepr (value: number): string {
  if (Number.isNaN(value)) return 'nan'
  if (value === Infinity) return 'inf'
  if (value === -Infinity) return '-inf'
  if (value === 0) return Object.is(value, -0) ? '-0.0' : '0.0'
  // toExponential() without digits gives the shortest round-trip digits, as Python's repr does.
  const [mantissa, exponentText] = value.toExponential().split('e')
  const negative = mantissa.startsWith('-')
  const digits = mantissa.replace('-', '').replace('.', '')
  const exponent = Number(exponentText)
  const sign = negative ? '-' : ''
  if (exponent < -4 || exponent >= 16) {
    const body = digits.length > 1 ? digits[0] + '.' + digits.slice(1) : digits
    const abs = Math.abs(exponent)
    return `${sign}${body}e${exponent < 0 ? '-' : '+'}${abs < 10 ? '0' : ''}${abs}`
  }
  if (exponent < 0) return `${sign}0.${'0'.repeat(-exponent - 1)}${digits}`
  const intPart = digits.length > exponent + 1 ? digits.slice(0, exponent + 1) : digits + '0'.repeat(exponent + 1 - digits.length)
  const fraction = digits.length > exponent + 1 ? digits.slice(exponent + 1) : '0'
  return `${sign}${intPart}.${fraction}`
}

// Python's str.isprintable() is false for these general categories (space excepted).
const NOT_PRINTABLE = /[\p{Cc}\p{Cf}\p{Cs}\p{Co}\p{Cn}\p{Zl}\p{Zp}\p{Zs}]/u

function hex (code: number, width: number): string {
  return code.toString(16).padStart(width, '0')
}

/** Python's str repr: quote choice, escapes, printable non-ASCII kept as it is. */
export function strRepr (value: string): string {
  const quote = value.includes("'") && !value.includes('"') ? '"' : "'"
  let out = quote
  for (const ch of value) {
    const code = ch.codePointAt(0) as number
    if (ch === quote || ch === '\\') out += '\\' + ch
    else if (ch === '\t') out += '\\t'
    else if (ch === '\n') out += '\\n'
    else if (ch === '\r') out += '\\r'
    else if (code < 0x20 || code === 0x7f) out += '\\x' + hex(code, 2)
    else if (code < 0x7f) out += ch
    else if (!NOT_PRINTABLE.test(ch)) out += ch
    else if (code <= 0xff) out += '\\x' + hex(code, 2)
    else if (code <= 0xffff) out += '\\u' + hex(code, 4)
    else out += '\\U' + hex(code, 8)
  }
  return out + quote
}

/** Python's bytes repr: `b'...'`. */
export function bytesRepr (bytes: Buffer): string {
  const quote = bytes.includes(0x27) && !bytes.includes(0x22) ? '"' : "'"
  const quoteCode = quote.charCodeAt(0)
  let out = 'b' + quote
  for (const byte of bytes) {
    if (byte === quoteCode || byte === 0x5c) out += '\\' + String.fromCharCode(byte)
    else if (byte === 0x09) out += '\\t'
    else if (byte === 0x0a) out += '\\n'
    else if (byte === 0x0d) out += '\\r'
    else if (byte < 0x20 || byte >= 0x7f) out += '\\x' + hex(byte, 2)
    else out += String.fromCharCode(byte)
  }
  return out + quote
}

export function pyRepr (value: PyValue): string {
  if (value === null) return 'None'
  if (value === true) return 'True'
  if (value === false) return 'False'
  if (typeof value === 'string') return strRepr(value)
  if (value instanceof PyInt) return value.digits
  if (value instanceof PyFloat) return floatRepr(value.value)
  if (value instanceof PyBytes) return bytesRepr(value.bytes)
  if (Array.isArray(value)) return '[' + value.map(pyRepr).join(', ') + ']'
  return '{' + value.entries.map(([key, item]) => pyRepr(key) + ': ' + pyRepr(item)).join(', ') + '}'
}

/** Python's `str()`: a string is itself, everything else its repr. */
export function pyStr (value: PyValue): string {
  return typeof value === 'string' ? value : pyRepr(value)
}

// ---------------------------------------------------------------------------------------------
// quote_plus / urlencode

const UNRESERVED = new Uint8Array(128)
for (const ch of 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789_.-~') UNRESERVED[ch.charCodeAt(0)] = 1
const HEX_DIGITS = '0123456789ABCDEF'
/** What each byte becomes: itself when unreserved, `+` for a space, else `%XX`. */
const QUOTED = Array.from({ length: 256 }, (_, byte) =>
  byte < 128 && UNRESERVED[byte] === 1 ? String.fromCharCode(byte) : byte === 0x20 ? '+' : '%' + HEX_DIGITS[byte >> 4] + HEX_DIGITS[byte & 15])

/**
 * `urllib.parse.quote_plus(text, safe='')`: the text's UTF-8 bytes, each unreserved byte as
 * itself, a space as `+`, every other byte as `%XX`. ASCII text (nearly all of it: the
 * canonical string of every legacy request is made of these) is read a character at a time,
 * its unreserved runs copied whole; from the first non-ASCII character on, the rest is encoded
 * to UTF-8 and read a byte at a time (the ASCII before it cannot hold half a surrogate pair).
 */
export function quotePlus (text: string): string {
  let out = ''
  let run = 0
  for (let i = 0; i < text.length; i++) {
    const code = text.charCodeAt(i)
    if (code < 128 && UNRESERVED[code] === 1) continue
    out += text.slice(run, i)
    if (code >= 128) return out + quoteUtf8(text.slice(i))
    out += QUOTED[code]
    run = i + 1
  }
  return out + text.slice(run)
}

function quoteUtf8 (text: string): string {
  let out = ''
  for (const byte of Buffer.from(text, 'utf8')) out += QUOTED[byte]
  return out
}

/** `urllib.parse.urlencode(pairs)` without `doseq`: `quote_plus(k) = quote_plus(str(v))`. */
export function urlencode (pairs: ReadonlyArray<readonly [string, PyValue]>): string {
  return pairs.map(([key, value]) => quotePlus(key) + '=' + quotePlus(pyStr(value))).join('&')
}

// ---------------------------------------------------------------------------------------------
// json.loads

class JsonError extends Error {}

/**
 * Reads JSON the way Python's `json.loads` does (strict JSON; `NaN`/`Infinity` are not
 * accepted here). Returns `undefined` when the text is not JSON.
 */
export function parsePythonJson (text: string): PyValue | undefined {
  let pos = 0
  const ws = (): void => {
    for (;;) {
      const c = text.charCodeAt(pos)
      if (c === 0x20 || c === 0x09 || c === 0x0a || c === 0x0d) pos++
      else return
    }
  }
  const fail = (): never => { throw new JsonError() }
  const literal = (word: string, value: PyValue): PyValue => {
    if (text.startsWith(word, pos)) {
      pos += word.length
      return value
    }
    return fail()
  }
  const string = (): string => {
    pos++
    let out = ''
    let start = pos
    for (;;) {
      if (pos >= text.length) fail()
      const c = text.charCodeAt(pos)
      if (c === 0x22) {
        out += text.slice(start, pos)
        pos++
        return out
      }
      if (c < 0x20) fail()
      if (c === 0x5c) {
        out += text.slice(start, pos)
        const e = text[pos + 1]
        pos += 2
        if (e === 'u') {
          const code = text.slice(pos, pos + 4)
          if (!/^[0-9a-fA-F]{4}$/.test(code)) fail()
          out += String.fromCharCode(parseInt(code, 16))
          pos += 4
        } else {
          const simple: Record<string, string> = { '"': '"', '\\': '\\', '/': '/', b: '\b', f: '\f', n: '\n', r: '\r', t: '\t' }
          if (simple[e] === undefined) fail()
          out += simple[e]
        }
        start = pos
        continue
      }
      pos++
    }
  }
  const number = (): PyValue => {
    const match = /^-?(?:0|[1-9]\d*)(\.\d+)?([eE][+-]?\d+)?/.exec(text.slice(pos, pos + 1100))
    if (match === null) return fail()
    pos += match[0].length
    if (match[1] === undefined && match[2] === undefined) {
      return new PyInt(BigInt(match[0]).toString())
    }
    return new PyFloat(Number(match[0]))
  }
  const value = (depth: number): PyValue => {
    if (depth > 500) fail()
    ws()
    const c = text[pos]
    if (c === '{') {
      pos++
      const dict = new PyDict()
      ws()
      if (text[pos] === '}') {
        pos++
        return dict
      }
      for (;;) {
        ws()
        if (text[pos] !== '"') fail()
        const key = string()
        ws()
        if (text[pos] !== ':') fail()
        pos++
        dict.set(key, value(depth + 1))
        ws()
        if (text[pos] === ',') {
          pos++
          continue
        }
        if (text[pos] === '}') {
          pos++
          return dict
        }
        fail()
      }
    }
    if (c === '[') {
      pos++
      const list: PyValue[] = []
      ws()
      if (text[pos] === ']') {
        pos++
        return list
      }
      for (;;) {
        list.push(value(depth + 1))
        ws()
        if (text[pos] === ',') {
          pos++
          continue
        }
        if (text[pos] === ']') {
          pos++
          return list
        }
        fail()
      }
    }
    if (c === '"') return string()
    if (c === 't') return literal('true', true)
    if (c === 'f') return literal('false', false)
    if (c === 'n') return literal('null', null)
    return number()
  }
  try {
    const result = value(0)
    ws()
    return pos === text.length ? result : undefined
  } catch (error) {
    if (error instanceof JsonError || error instanceof RangeError) return undefined
    throw error
  }
}
