/**
 * The pieces of an outgoing request that do not depend on the target app: the URL (the app's
 * `appUrl` + path + query object), the headers the caller passes, and the body bytes (JSON,
 * bytes or form), each with its content type.
 */
import { SigningError } from '../errors.js'

export type QueryValue = string | number | boolean | null | undefined
export type Query = Record<string, QueryValue | readonly QueryValue[]> | URLSearchParams

export interface BodyOptions {
  /** Serialised with JSON.stringify; `content-type: application/json`. */
  json?: unknown
  /** Raw bytes (or text) sent as they are; `content-type: application/octet-stream` unless given. */
  body?: Uint8Array | string
  /** URL-encoded form; `content-type: application/x-www-form-urlencoded`. */
  form?: Record<string, QueryValue | readonly QueryValue[]> | URLSearchParams
}

export interface EncodedBody {
  bytes: Buffer | null
  contentType: string | null
}

function toSearchParams (values: Query): URLSearchParams {
  if (values instanceof URLSearchParams) return values
  const params = new URLSearchParams()
  for (const [name, value] of Object.entries(values)) {
    const list = Array.isArray(value) ? value : [value]
    for (const item of list) {
      if (item !== null && item !== undefined) params.append(name, String(item))
    }
  }
  return params
}

/** `appUrl` + `path` (a `/` added between them when missing) + the query object. */
export function buildUrl (appUrl: string, path: string, query?: Query): string {
  if (typeof path !== 'string') throw new SigningError('the path must be a string')
  const base = appUrl.replace(/\/+$/, '')
  let url = base + (path.startsWith('/') ? path : `/${path}`)
  if (query !== undefined) {
    const search = toSearchParams(query).toString()
    if (search.length > 0) url += (url.includes('?') ? '&' : '?') + search
  }
  return url
}

/** One body at most: json, body or form. */
export function encodeBody (options: BodyOptions): EncodedBody {
  const given = (['json', 'body', 'form'] as const).filter((name) => options[name] !== undefined)
  if (given.length > 1) throw new SigningError(`pass one of json, body or form, not ${given.join(' and ')}`)
  if (options.json !== undefined) {
    return { bytes: Buffer.from(JSON.stringify(options.json)), contentType: 'application/json' }
  }
  if (options.body !== undefined) {
    const { body } = options
    if (typeof body !== 'string' && !(body instanceof Uint8Array)) throw new SigningError('body must be a Buffer, a Uint8Array or a string')
    const bytes = typeof body === 'string' ? Buffer.from(body) : Buffer.from(body.buffer, body.byteOffset, body.byteLength)
    return { bytes, contentType: 'application/octet-stream' }
  }
  if (options.form !== undefined) {
    return { bytes: Buffer.from(toSearchParams(options.form).toString()), contentType: 'application/x-www-form-urlencoded' }
  }
  return { bytes: null, contentType: null }
}

/** The caller's headers with lower-case names; the client's own headers cannot be overridden. */
export function normaliseHeaders (headers: Record<string, string | number | readonly string[] | undefined> | undefined,
  reserved: readonly string[]): Record<string, string | string[]> {
  const result: Record<string, string | string[]> = {}
  for (const [name, value] of Object.entries(headers ?? {})) {
    if (value === undefined) continue
    const lower = name.toLowerCase()
    if (reserved.includes(lower)) throw new SigningError(`the ${lower} header is set by the client`)
    if (lower in result) throw new SigningError(`the ${lower} header is given twice`)
    result[lower] = Array.isArray(value) ? value.map(String) : String(value)
  }
  return result
}
