/**
 * The original's canonical string: an urlencoded ordered map of `timestamp`,
 * `app`, `method`, `params`, `body`, `headers`, HMAC'd with the app's secret, sent as the lower-case
 * hex `Nonce`. Both sides of the original compute it differently (sender: the Python objects the
 * caller passed; receiver: Django's parsed request), so this module builds it from either view.
 */
import { createHmac, type KeyObject } from 'node:crypto'
import type { HmacHash } from '../keys/algorithms.js'
import { PyBytes, PyDict, PyInt, parsePythonJson, urlencode, type PyValue } from './python-repr.js'

export interface LegacyPayload {
  timestamp: string
  app: string
  method: string
  params: PyValue
  body: PyValue
  headers: PyValue
}

export function legacyCanonical (payload: LegacyPayload): string {
  return urlencode([
    ['timestamp', payload.timestamp],
    ['app', payload.app],
    ['method', payload.method],
    ['params', payload.params],
    ['body', payload.body],
    ['headers', payload.headers]
  ])
}

export type LegacyHash = HmacHash

export function legacyMac (canonical: string, key: KeyObject, hash: LegacyHash): string {
  return createHmac(hash, key).update(canonical, 'utf8').digest('hex')
}

/** `application/x-www-form-urlencoded` decoding as Python's parse_qsl does it ('+' is a space). */
function formDecode (text: string): string {
  const spaced = text.includes('+') ? text.replaceAll('+', ' ') : text
  if (!spaced.includes('%')) return spaced
  try {
    return decodeURIComponent(spaced)
  } catch {
    // Python decodes what it can and replaces bad UTF-8 with U+FFFD; do it byte by byte.
    const bytes: number[] = []
    for (let i = 0; i < spaced.length; i++) {
      const ch = spaced[i]
      const hexPair = spaced.slice(i + 1, i + 3)
      if (ch === '%' && /^[0-9a-fA-F]{2}$/.test(hexPair)) {
        bytes.push(parseInt(hexPair, 16))
        i += 2
      } else {
        for (const byte of Buffer.from(ch, 'utf8')) bytes.push(byte)
      }
    }
    return Buffer.from(bytes).toString('utf8')
  }
}

/** Parses a query or form body into ordered (key, values) groups, blank values kept (Django). */
export function parseQueryGroups (query: string): Array<[string, string[]]> {
  const groups = new Map<string, string[]>()
  if (query.length === 0) return []
  for (const part of query.split('&')) {
    if (part.length === 0) continue
    const eq = part.indexOf('=')
    const key = formDecode(eq === -1 ? part : part.slice(0, eq))
    const value = eq === -1 ? '' : formDecode(part.slice(eq + 1))
    const list = groups.get(key)
    if (list === undefined) groups.set(key, [value])
    else list.push(value)
  }
  return [...groups]
}

const INTEGER = /^-?(?:0|[1-9][0-9]*)$/

/**
 * What a Python caller may have passed as `params` (or a form `data` dict) for this query: the
 * original sender puts `repr(params)` in the canonical string, and the same query can come from
 * `{'a': '1'}`, `{'a': 1}` or `{'a': ['1']}`. Each candidate is a reading of the same bytes.
 */
export function queryCandidates (query: string): PyValue[] {
  const groups = parseQueryGroups(query)
  if (groups.length === 0) return [new PyDict()]
  const asStrings = new PyDict()
  const asNumbers = new PyDict()
  const asLists = new PyDict()
  let numeric = false
  for (const [key, values] of groups) {
    asStrings.set(key, values.length === 1 ? values[0] : values)
    const numbers = values.map((value) => {
      if (!INTEGER.test(value) || value === '-0') return value
      numeric = true
      return new PyInt(value)
    })
    asNumbers.set(key, numbers.length === 1 ? numbers[0] : numbers)
    asLists.set(key, values)
  }
  return numeric ? [asStrings, asNumbers, asLists] : [asStrings, asLists]
}

/** The receiver's `dict(request.GET)`: every value a list of strings. */
export function receiverParams (query: string): PyDict {
  const dict = new PyDict()
  for (const [key, values] of parseQueryGroups(query)) dict.set(key, values)
  return dict
}

function mediaType (contentType: string | undefined): string {
  if (contentType === undefined) return ''
  const semi = contentType.indexOf(';')
  return (semi === -1 ? contentType : contentType.slice(0, semi)).trim().toLowerCase()
}

export function isJsonMediaType (contentType: string | undefined): boolean {
  const type = mediaType(contentType)
  return type === 'application/json' || type.endsWith('+json')
}

/**
 * What a Python sender may have put as `body` for these raw bytes: `None` without a body;
 * (or `{}`, the receiver's reading); the object behind a JSON body (`json=`); the dict behind a form body (`data={...}`); the text
 * or bytes themselves (`data='...'` / `data=b'...'`).
 */
export function bodyCandidates (raw: Buffer | undefined, contentType: string | undefined): PyValue[] {
  // No body: the Python sender's `None`, or `{}` as the Python receiver (and our legacy signer) puts it.
  if (raw === undefined || raw.length === 0) return [null, new PyDict()]
  const text = raw.toString('utf8')
  const candidates: PyValue[] = []
  const type = mediaType(contentType)
  if (isJsonMediaType(contentType)) {
    const parsed = parsePythonJson(text)
    if (parsed !== undefined) candidates.push(parsed)
  } else if (type === 'application/x-www-form-urlencoded') {
    candidates.push(...queryCandidates(text).slice(0, 2))
  }
  candidates.push(text, new PyBytes(raw))
  return candidates
}

/** The receiver's `request.data` for a JSON (or empty) body: the parsed JSON, `{}` when empty. */
export function receiverBody (raw: Buffer | undefined): PyValue | undefined {
  if (raw === undefined || raw.length === 0) return new PyDict()
  return parsePythonJson(raw.toString('utf8'))
}

const ISO = /^(\d{4})-(\d{2})-(\d{2})[T ](\d{2}):(\d{2})(?::(\d{2})(?:[.,](\d{1,9}))?)?(Z|[+-]\d{2}:?\d{2}(?::?\d{2}(?:\.\d{1,6})?)?)?$/

/**
 * Epoch milliseconds of an ISO-8601 timestamp as Python's `datetime.fromisoformat` reads it;
 * naive timestamps are UTC. Unlike the original (which replaces the offset by UTC), an offset is
 * honoured. `null` when it does not parse.
 */
export function parseLegacyTimestamp (text: string): number | null {
  if (text.length > 64) return null
  const m = ISO.exec(text)
  if (m === null) return null
  const [, y, mo, d, h, mi, s, fraction, zone] = m
  const ms = fraction === undefined ? 0 : Math.floor(Number(fraction.padEnd(3, '0').slice(0, 3)))
  const month = Number(mo)
  const day = Number(d)
  const hour = Number(h)
  const minute = Number(mi)
  const second = s === undefined ? 0 : Number(s)
  if (month < 1 || month > 12 || day < 1 || day > 31 || hour > 23 || minute > 59 || second > 59) return null
  let time = Date.UTC(Number(y), month - 1, day, hour, minute, second, ms)
  if (new Date(time).getUTCDate() !== day) return null
  if (zone !== undefined && zone !== 'Z') {
    const digits = zone.slice(1).replaceAll(':', '')
    const offset = (Number(digits.slice(0, 2)) * 60 + Number(digits.slice(2, 4))) * 60_000 + Number(digits.slice(4, 6) || 0) * 1000
    if (Number(digits.slice(0, 2)) > 23 || Number(digits.slice(2, 4)) > 59) return null
    time += zone[0] === '+' ? -offset : offset
  }
  return time
}

/** `timezone.now().isoformat()` as a Django sender writes it: microseconds, `+00:00`. */
export function formatLegacyTimestamp (epochMs: number): string {
  const iso = new Date(epochMs).toISOString() // 2024-05-18T12:00:00.123Z
  const ms = iso.slice(20, 23)
  return iso.slice(0, 19) + (ms === '000' ? '' : '.' + ms + '000') + '+00:00'
}
