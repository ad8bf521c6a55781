/**
 * The signer for outgoing calls, exported as `signRequest`: produces exactly what the receiving
 * side accepts — this plugin (RFC 9421, the default) or a Python service running the original
 * (`scheme: 'legacy'`, canonicalised the way the Python RECEIVER rebuilds it).
 */
import { randomBytes } from 'node:crypto'
import type { AppRecord } from '../../types/index.js'
import { SigningError } from '../errors.js'
import { HMAC_HASH } from '../keys/algorithms.js'
import type { SigningKey } from '../keys/app-keys.js'
import { signingKeyFor } from '../keys/signing-key.js'
import { formatLegacyTimestamp, legacyCanonical, legacyMac, receiverBody, receiverParams } from './legacy-canonical.js'
import { PyDict } from './python-repr.js'
import { contentDigest, RFC9421_ALG, signatureBase, signBase, type DigestAlgorithm } from './rfc9421.js'
import { serializeInnerList, type Item, type Parameters } from './structured-fields.js'

export type QueryParams = Record<string, string | number | boolean | ReadonlyArray<string | number | boolean>>

/** Options of {@link signRequest}. */
export interface SignRequestOptions {
  /** Our own slug: the RFC 9421 `keyid` (or `App=` of the legacy scheme). */
  appName: string
  /** The app we call: we sign with its key (`privateKey`: the shared HMAC secret or our Ed25519 key). */
  app: AppRecord
  /** HTTP method; upper-cased. */
  method: string
  /**
   * Absolute URL (`https://api.example.com/v1/x?a=1`), or a path with query (`/v1/x?a=1`) together
   * with `authority`. Send the request to the returned `url`, unchanged.
   */
  url: string
  /**
   * The `Host` the request will carry (`api.example.com:8443`); the receiver checks `@authority`
   * against its `Host` header. Default: the host of an absolute `url`.
   */
  authority?: string
  /** Headers to send; they are returned merged with the signature headers. */
  headers?: Record<string, string | string[] | undefined>
  /**
   * The body: bytes and strings are sent as they are; any other value is sent as JSON (with
   * `Content-Type: application/json` unless a content type is given). `undefined`/`null`: no body.
   */
  body?: unknown
  /** `'rfc9421'` (default) or `'legacy'` (the original's `Authorization: Signature`, HMAC only). */
  scheme?: 'rfc9421' | 'legacy'
  /** Query parameters appended to the URL (both schemes). */
  params?: QueryParams
  /** Extra header fields to cover (RFC 9421), by name; they must be in `headers`. */
  components?: readonly string[]
  /** RFC 9421 nonce. Default: 16 random bytes, base64url. */
  nonce?: string
  /** RFC 9421 `created`, epoch seconds. Default: now. */
  created?: number
  /** The time to sign at, epoch milliseconds (both schemes). Default `Date.now()`. */
  now?: number
  /** RFC 9421 `expires`, epoch seconds. Default: none (the receiver's tolerance applies). */
  expires?: number
  /** RFC 9530 digest algorithm for the body. Default `'sha-256'`. */
  digest?: DigestAlgorithm
  /** RFC 9421 signature label. Default `'sig'`. */
  label?: string
}

/** What to send. */
export interface SignedRequest {
  /** The URL to call (with `params` appended). */
  url: string
  /**
   * The caller's headers plus `Signature-Input`, `Signature`, `Content-Digest`, `Content-Type` (or
   * `Authorization`), and (RFC 9421) `Host`: the authority that was signed. Send them all.
   */
  headers: Record<string, string>
  /** The body bytes to send, exactly these (the digest covers them). */
  body?: Buffer
}

function encodeBody (body: unknown): { bytes: Buffer | undefined, json: boolean } {
  if (body === undefined || body === null) return { bytes: undefined, json: false }
  if (Buffer.isBuffer(body)) return { bytes: body, json: false }
  if (body instanceof Uint8Array) return { bytes: Buffer.from(body.buffer, body.byteOffset, body.byteLength), json: false }
  if (typeof body === 'string') return { bytes: Buffer.from(body, 'utf8'), json: false }
  const text = JSON.stringify(body)
  if (text === undefined) throw new SigningError('the body cannot be serialised as JSON')
  return { bytes: Buffer.from(text, 'utf8'), json: true }
}

/** `query` without its `?`; returns the query with its `?`, or '' when there is none. */
function appendParams (query: string, params: QueryParams | undefined): string {
  if (params === undefined) return query === '' ? '' : '?' + query
  const search = new URLSearchParams(query)
  for (const [key, value] of Object.entries(params)) {
    for (const item of Array.isArray(value) ? value : [value]) search.append(key, String(item))
  }
  const text = search.toString()
  return text === '' ? '' : '?' + text
}

interface Target { url: string, authority: string, path: string, query: string }

function parseTarget (options: SignWithKeyOptions, headers: Record<string, string>): Target {
  const { url } = options
  if (typeof url !== 'string' || url.length === 0) throw new SigningError('url is required')
  let origin = ''
  let path: string
  let query: string
  let authority = options.authority ?? headerValue(headers, 'host')
  if (url.startsWith('/')) {
    const q = url.indexOf('?')
    path = q === -1 ? url : url.slice(0, q)
    query = q === -1 ? '' : url.slice(q)
  } else {
    let parsed: URL
    try {
      parsed = new URL(url)
    } catch {
      throw new SigningError('url is not a valid URL')
    }
    origin = parsed.origin
    path = parsed.pathname
    query = parsed.search
    authority ??= parsed.host
  }
  if (authority === undefined || authority === '') throw new SigningError('a path-only url needs authority')
  query = appendParams(query.startsWith('?') ? query.slice(1) : query, options.params)
  return { url: origin + path + query, authority: authority.toLowerCase(), path: path === '' ? '/' : path, query }
}

function headerValue (headers: Record<string, string>, lowerName: string): string | undefined {
  for (const [name, value] of Object.entries(headers)) if (name.toLowerCase() === lowerName) return value
  return undefined
}

function plainHeaders (input: SignRequestOptions['headers']): Record<string, string> {
  const out: Record<string, string> = {}
  for (const [name, value] of Object.entries(input ?? {})) {
    if (value === undefined) continue
    out[name] = Array.isArray(value) ? value.join(', ') : String(value)
  }
  return out
}

function setHeader (headers: Record<string, string>, name: string, value: string): void {
  for (const existing of Object.keys(headers)) if (existing.toLowerCase() === name.toLowerCase()) delete headers[existing]
  headers[name] = value
}

/**
 * Signs one outgoing request. Returns the headers to send (the caller's merged with the
 * signature headers), the exact body bytes and the URL to call.
 */
export function signRequest (options: SignRequestOptions): SignedRequest {
  if (options === null || typeof options !== 'object') throw new SigningError('options are required')
  return signRequestWithKey(options, signingKeyFor(options.app))
}

/** The options of signRequest without the app record, for callers that hold its resolved key. */
export type SignWithKeyOptions = Omit<SignRequestOptions, 'app'>

/** signRequest with an already resolved signing key (the plugin's view of an app holds KeyObjects). */
export function signRequestWithKey (options: SignWithKeyOptions, key: SigningKey): SignedRequest {
  if (typeof options.appName !== 'string' || options.appName.length === 0) throw new SigningError('appName is required')
  if (typeof options.method !== 'string' || options.method.length === 0) throw new SigningError('method is required')
  const headers = plainHeaders(options.headers)
  const { bytes, json } = encodeBody(options.body)
  if (json && headerValue(headers, 'content-type') === undefined) headers['Content-Type'] = 'application/json'
  const target = parseTarget(options, headers)
  const nowMs = options.now ?? Date.now()
  const method = options.method.toUpperCase()
  if (options.scheme === 'legacy') return signLegacy(options, key, headers, bytes, target, method, nowMs)
  if (options.scheme !== undefined && options.scheme !== 'rfc9421') throw new SigningError('scheme must be "rfc9421" or "legacy"')

  const lines = [`"@method": ${method}`, `"@authority": ${target.authority}`, `"@path": ${target.path}`]
  const covered = ['@method', '@authority', '@path']
  if (target.query !== '') {
    lines.push(`"@query": ${target.query}`)
    covered.push('@query')
  }
  if (bytes !== undefined && bytes.length > 0) {
    const digest = contentDigest(bytes, options.digest ?? 'sha-256')
    setHeader(headers, 'Content-Digest', digest)
    lines.push(`"content-digest": ${digest}`)
    covered.push('content-digest')
  }
  for (const component of options.components ?? []) {
    const name = component.toLowerCase()
    if (covered.includes(name)) continue
    if (name.startsWith('@')) throw new SigningError(`component ${component} is not supported`)
    const value = headerValue(headers, name)
    if (value === undefined) throw new SigningError(`component ${component} is not in headers`)
    lines.push(`"${name}": ${value.trim()}`)
    covered.push(name)
  }

  const params: Parameters = new Map()
  params.set('created', options.created ?? Math.floor(nowMs / 1000))
  if (options.expires !== undefined) params.set('expires', options.expires)
  params.set('keyid', key.kid === null ? options.appName : `${options.appName}#${key.kid}`)
  params.set('nonce', options.nonce ?? randomBytes(16).toString('base64url'))
  params.set('alg', RFC9421_ALG[key.algorithm])
  const items: Item[] = covered.map((name) => ({ value: name, params: new Map() }))
  let signatureParams: string
  try {
    signatureParams = serializeInnerList({ items, params })
  } catch (error) {
    throw new SigningError((error as Error).message)
  }
  const signature = signBase(key.algorithm, key.key, signatureBase(lines, signatureParams))
  // The receiver checks `@authority` against its Host header, and clients disagree on the Host of
  // a URL with its default port (`http://h:80/`: undici sends `h`, inject `h:80`): send the Host
  // that was signed.
  if (headerValue(headers, 'host') === undefined) headers.Host = target.authority
  const label = options.label ?? 'sig'
  setHeader(headers, 'Signature-Input', `${label}=${signatureParams}`)
  setHeader(headers, 'Signature', `${label}=:${signature.toString('base64')}:`)
  return bytes === undefined ? { url: target.url, headers } : { url: target.url, headers, body: bytes }
}

/**
 * The original's scheme, built the way the Python RECEIVER rebuilds it (its sender's way is
 * refused by it for most requests): params = the query as `{key: [values]}`, body = the parsed
 * JSON body (`{}` without a body), headers = `{}` (no signed headers: the receiver's substring
 * matching over every request header cannot be predicted). JSON or empty bodies only.
 */
function signLegacy (options: SignWithKeyOptions, key: SigningKey, headers: Record<string, string>, bytes: Buffer | undefined,
  target: Target, method: string, nowMs: number): SignedRequest {
  if (key.algorithm !== 'HMAC_SHA256' && key.algorithm !== 'HMAC_SHA512') throw new SigningError('the legacy scheme is HMAC only')
  if (options.components !== undefined && options.components.length > 0) throw new SigningError('the legacy scheme cannot sign headers')
  const body = receiverBody(bytes)
  if (body === undefined) throw new SigningError('the legacy scheme carries JSON bodies only')
  if (bytes !== undefined && bytes.length > 0 && headerValue(headers, 'content-type') === undefined) headers['Content-Type'] = 'application/json'
  const timestamp = formatLegacyTimestamp(nowMs)
  const canonical = legacyCanonical({
    timestamp,
    app: options.appName,
    method,
    params: receiverParams(target.query.slice(1)),
    body,
    headers: new PyDict()
  })
  const mac = legacyMac(canonical, key.key, HMAC_HASH[key.algorithm])
  setHeader(headers, 'Authorization', `Signature App=${options.appName},Nonce=${mac},SignedHeaders=,Date=${timestamp}`)
  return bytes === undefined ? { url: target.url, headers } : { url: target.url, headers, body: bytes }
}
