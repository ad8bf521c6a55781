/**
 * The slice of RFC 8941 (Structured Field Values) that signed requests need: Dictionaries whose
 * members are Items or Inner Lists with Parameters, and the serialisation of Inner Lists (the
 * `@signature-params` line of the signature base). Hand-written: it runs on every signed
 * request. Structure is read a character code at a time; the long runs of characters inside
 * strings and byte sequences are matched by sticky regular expressions, which V8 runs several
 * times cheaper per character than a charCodeAt loop (keys are short: there a regular
 * expression's call costs more than it saves; measured: `npm run bench -- --instructions
 * --profile`). Every parse error is a StructuredFieldError, which the
 * verifiers turn into 401 `authorization-header-malformed` (never a 500).
 *
 * Stricter than RFC 8941 on purpose: a duplicated dictionary key or parameter key is refused
 * (RFC 8941 keeps the last one), so that no two parsers can read one header differently.
 */

export class StructuredFieldError extends Error {}

/** A Token (RFC 8941 3.3.4), kept apart from strings so that it serialises back unquoted. */
export class Token {
  readonly value: string
  constructor (value: string) {
    this.value = value
  }
}

/** A Decimal (RFC 8941 3.3.2), kept apart from Integers so that it serialises back with a dot. */
export class Decimal {
  readonly value: number
  constructor (value: number) {
    this.value = value
  }
}

export type BareItem = string | number | boolean | Token | Decimal | Buffer
export type Parameters = Map<string, BareItem>
export interface Item { value: BareItem, params: Parameters }
export interface InnerList {
  items: Item[]
  params: Parameters
  /** The text as received when it is already in serialised (canonical) form; else undefined. */
  canonical?: string
}
export type Member = Item | InnerList
export type Dictionary = Map<string, Member>

export function isInnerList (member: Member): member is InnerList {
  return (member as InnerList).items !== undefined
}

function fail (message: string): never {
  throw new StructuredFieldError(message)
}

/** The parameters of an item without any (shared; callers must not mutate parsed values). */
const NO_PARAMS: Parameters = new Map()

const SP = 0x20
const TAB = 0x09

function isLcAlpha (c: number): boolean {
  return c >= 0x61 && c <= 0x7a
}

function isDigit (c: number): boolean {
  return c >= 0x30 && c <= 0x39
}

function isAlpha (c: number): boolean {
  return (c >= 0x41 && c <= 0x5a) || isLcAlpha(c)
}

// tchar (RFC 9110) plus ":" and "/" for tokens.
const TOKEN_CHARS = new Uint8Array(128)
for (const ch of "!#$%&'*+-.^_`|~:/") TOKEN_CHARS[ch.charCodeAt(0)] = 1
for (let c = 0x30; c <= 0x39; c++) TOKEN_CHARS[c] = 1
for (let c = 0x41; c <= 0x5a; c++) TOKEN_CHARS[c] = 1
for (let c = 0x61; c <= 0x7a; c++) TOKEN_CHARS[c] = 1

// Runs matched from `pos` on (sticky; each use sets lastIndex first, and parsing is synchronous).
/** A string's characters that stand for themselves: printable ASCII but `"` and `\`. */
const STRING_PLAIN = /[\x20\x21\x23-\x5b\x5d-\x7e]*/y
/** A byte sequence's characters: the base64 alphabet and its padding. */
const BASE64_RUN = /[A-Za-z0-9+/=]*/y

class Parser {
  readonly text: string
  pos = 0
  /** Cleared when something is seen whose serialisation differs from the text. */
  canonical = true

  constructor (text: string) {
    this.text = text
  }

  peek (): number {
    return this.pos < this.text.length ? this.text.charCodeAt(this.pos) : -1
  }

  skipSp (): void {
    while (this.peek() === SP) this.pos++
  }

  skipOws (): void {
    let c = this.peek()
    while (c === SP || c === TAB) {
      this.pos++
      c = this.peek()
    }
  }

  /** Moves `pos` past the run that the sticky `pattern` matches from it (maybe none). */
  skipRun (pattern: RegExp): void {
    pattern.lastIndex = this.pos
    pattern.test(this.text)
    this.pos = pattern.lastIndex
  }

  key (): string {
    const start = this.pos
    const first = this.peek()
    if (!isLcAlpha(first) && first !== 0x2a) fail('a key must start with a lower-case letter or "*"')
    this.pos++
    for (;;) {
      const c = this.peek()
      if (isLcAlpha(c) || isDigit(c) || c === 0x5f || c === 0x2d || c === 0x2e || c === 0x2a) this.pos++
      else break
    }
    return this.text.slice(start, this.pos)
  }

  parameters (): Parameters {
    // Most items carry no parameters: share one empty, never-mutated map.
    if (this.peek() !== 0x3b) return NO_PARAMS
    const params: Parameters = new Map()
    while (this.peek() === 0x3b) { // ;
      this.pos++
      if (this.peek() === SP) {
        this.canonical = false
        this.skipSp()
      }
      const key = this.key()
      if (params.has(key)) fail('a parameter is repeated')
      let value: BareItem = true
      if (this.peek() === 0x3d) { // =
        this.pos++
        value = this.bareItem()
        if (value === true) this.canonical = false
      }
      params.set(key, value)
    }
    return params
  }

  bareItem (): BareItem {
    const c = this.peek()
    if (c === 0x2d || isDigit(c)) return this.number()
    if (c === 0x22) return this.string()
    if (c === 0x3a) return this.bytes()
    if (c === 0x3f) return this.boolean()
    if (isAlpha(c) || c === 0x2a) return this.token()
    return fail('an item is expected')
  }

  number (): number | Decimal {
    const start = this.pos
    if (this.peek() === 0x2d) this.pos++
    let digits = 0
    let dot = -1
    for (;;) {
      const c = this.peek()
      if (isDigit(c)) {
        digits++
        this.pos++
      } else if (c === 0x2e && dot === -1) {
        if (digits > 12) fail('a decimal has too many integer digits')
        dot = digits
        this.pos++
      } else break
    }
    const text = this.text.slice(start, this.pos)
    if (dot === -1) {
      if (digits === 0 || digits > 15) fail('an integer must have 1 to 15 digits')
      // Leading zeros and "-0" serialise differently.
      const lead = this.text.charCodeAt(text.charCodeAt(0) === 0x2d ? start + 1 : start)
      if ((lead === 0x30 && digits > 1) || text === '-0') this.canonical = false
      return Number(text)
    }
    this.canonical = false
    const fraction = digits - dot
    if (dot === 0 || fraction === 0 || fraction > 3) fail('a decimal is malformed')
    return new Decimal(Number(text))
  }

  string (): string {
    this.pos++ // opening quote
    let out = ''
    let start = this.pos
    for (;;) {
      this.skipRun(STRING_PLAIN)
      const c = this.peek()
      if (c === -1) fail('a string is not terminated')
      if (c === 0x22) {
        out += this.text.slice(start, this.pos)
        this.pos++
        return out
      }
      if (c === 0x5c) { // backslash
        out += this.text.slice(start, this.pos)
        const next = this.text.charCodeAt(this.pos + 1)
        if (next !== 0x22 && next !== 0x5c) fail('a string has a bad escape')
        out += next === 0x22 ? '"' : '\\'
        this.pos += 2
        start = this.pos
        continue
      }
      fail('a string has a character that is not printable ASCII')
    }
  }

  bytes (): Buffer {
    this.canonical = false
    this.pos++ // opening colon
    const start = this.pos
    this.skipRun(BASE64_RUN)
    const c = this.peek()
    if (c === -1) fail('a byte sequence is not terminated')
    if (c !== 0x3a) fail('a byte sequence is not base64')
    const text = this.text.slice(start, this.pos)
    this.pos++
    if (text.length % 4 !== 0) fail('a byte sequence is not padded base64')
    const eq = text.indexOf('=')
    if (eq !== -1 && eq < text.length - 2) fail('a byte sequence has padding inside')
    if (eq !== -1 && text.charCodeAt(text.length - 1) !== 0x3d) fail('a byte sequence has padding inside')
    return Buffer.from(text, 'base64')
  }

  boolean (): boolean {
    this.pos++
    const c = this.peek()
    this.pos++
    if (c === 0x31) return true
    if (c === 0x30) return false
    return fail('a boolean must be ?0 or ?1')
  }

  token (): Token {
    const start = this.pos
    this.pos++
    for (;;) {
      const c = this.peek()
      if (c >= 0 && c < 128 && TOKEN_CHARS[c] === 1) this.pos++
      else break
    }
    return new Token(this.text.slice(start, this.pos))
  }

  item (): Item {
    const value = this.bareItem()
    return { value, params: this.parameters() }
  }

  innerList (): InnerList {
    const start = this.pos
    const wasCanonical = this.canonical
    this.canonical = true
    this.pos++ // (
    const items: Item[] = []
    for (;;) {
      if (this.peek() === SP) {
        // Canonical form: one space between items, none after "(" or before ")".
        const before = this.pos
        this.skipSp()
        if (items.length === 0 || this.pos - before > 1 || this.peek() === 0x29) this.canonical = false
      }
      const c = this.peek()
      if (c === 0x29) { // )
        this.pos++
        const params = this.parameters()
        const list: InnerList = { items, params }
        if (this.canonical && this.text.charCodeAt(start) === 0x28) list.canonical = this.text.slice(start, this.pos)
        this.canonical = wasCanonical
        return list
      }
      if (c === -1) fail('an inner list is not terminated')
      items.push(this.item())
      const after = this.peek()
      if (after !== SP && after !== 0x29) fail('inner list items must be separated by spaces')
    }
  }

  member (): Member {
    return this.peek() === 0x28 ? this.innerList() : this.item()
  }
}

/** Parses a Dictionary field value (RFC 8941 4.2.2), refusing repeated keys. */
export function parseDictionary (text: string): Dictionary {
  const parser = new Parser(text)
  const dict: Dictionary = new Map()
  parser.skipSp()
  if (parser.peek() === -1) return dict
  for (;;) {
    const key = parser.key()
    if (dict.has(key)) fail('a dictionary key is repeated')
    let member: Member
    if (parser.peek() === 0x3d) {
      parser.pos++
      member = parser.member()
    } else {
      member = { value: true, params: parser.parameters() }
    }
    dict.set(key, member)
    parser.skipOws()
    if (parser.peek() === -1) return dict
    if (parser.peek() !== 0x2c) fail('dictionary members must be separated by commas')
    parser.pos++
    parser.skipOws()
    if (parser.peek() === -1) fail('a dictionary ends with a comma')
  }
}

// ---------------------------------------------------------------------------------------------
// Serialisation (RFC 8941 4.1)

export function serializeString (value: string): string {
  let out = '"'
  for (let i = 0; i < value.length; i++) {
    const c = value.charCodeAt(i)
    if (c < 0x20 || c > 0x7e) throw new StructuredFieldError('a string must be printable ASCII')
    if (c === 0x22 || c === 0x5c) out += '\\'
    out += value[i]
  }
  return out + '"'
}

export function serializeBareItem (value: BareItem): string {
  if (typeof value === 'string') return serializeString(value)
  if (typeof value === 'number') {
    if (!Number.isInteger(value) || Math.abs(value) > 999_999_999_999_999) throw new StructuredFieldError('an integer is out of range')
    return String(value)
  }
  if (typeof value === 'boolean') return value ? '?1' : '?0'
  if (value instanceof Token) return value.value
  if (value instanceof Decimal) {
    const rounded = Math.round(value.value * 1000) / 1000
    const text = String(rounded)
    return text.includes('.') ? text : text + '.0'
  }
  return ':' + value.toString('base64') + ':'
}

export function serializeParameters (params: Parameters): string {
  let out = ''
  for (const [key, value] of params) {
    out += ';' + key
    if (value !== true) out += '=' + serializeBareItem(value)
  }
  return out
}

export function serializeItem (item: Item): string {
  return serializeBareItem(item.value) + serializeParameters(item.params)
}

export function serializeInnerList (list: InnerList): string {
  if (list.canonical !== undefined) return list.canonical
  let out = '('
  for (let i = 0; i < list.items.length; i++) {
    if (i > 0) out += ' '
    out += serializeItem(list.items[i])
  }
  return out + ')' + serializeParameters(list.params)
}

export function serializeMember (member: Member): string {
  return isInnerList(member) ? serializeInnerList(member) : serializeItem(member)
}

export function serializeDictionary (dict: Dictionary): string {
  let out = ''
  for (const [key, member] of dict) {
    if (out.length > 0) out += ', '
    out += key
    if (!isInnerList(member) && member.value === true) out += serializeParameters(member.params)
    else out += '=' + serializeMember(member)
  }
  return out
}
