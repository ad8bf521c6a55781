/**
 * `createLinkedClient`: calls linked apps by slug, the way they accept it. The app record comes
 * from the store (its `appUrl`, `webhookUrl`, key and strategy); every call is authenticated with
 * a fresh JWT (`Authorization: Link ...`) or a signed request (RFC 9421, or the original's legacy
 * scheme), and goes through one keep-alive undici Agent with connect / headers / body timeouts.
 *
 * Mode (the original's rule, fixed): an explicit `mode` wins; otherwise the app's strategy decides
 * (`SIGNATURE` -> signed request, else JWT). A user (`userId`) can only travel in a JWT: asking
 * for a signed request on behalf of a user is refused rather than silently dropping the user.
 */
import type { Dispatcher } from 'undici'
import { loadUndici } from '../lazy-modules.js'
import type { AppRecord, LinkedServicesStore, Mode } from '../../types/index.js'
import { ClientAppNotFoundError, ClientRequestFailedError, ClientUnexpectedStatusError, SigningError, StoreUnavailableError } from '../errors.js'
import { signOutgoing, type SignatureScheme } from './outgoing-signature.js'
import { buildUrl, encodeBody, normaliseHeaders, type BodyOptions, type Query } from './request-parts.js'
import { linkAuthorizationHeader, signJwt } from './sign-jwt.js'
import { clientOptions, clientRequestOptions as requestOptionsSet } from '../options/schemas.js'
import { validateOptions } from '../options/validate.js'
import { publishClientCall } from './client-events.js'

/**
 * An undici Dispatcher (Agent, Pool, MockAgent, ...), typed by the two methods the client uses so
 * that the package's types do not need undici installed.
 */
export interface UndiciDispatcher {
  dispatch (options: unknown, handler: unknown): boolean
  close (): Promise<void>
}

export interface LinkedClientOptions {
  /** This service's own slug: the `App=` it sends and the JWT `app` claim. */
  appName: string
  /** Where apps are found by slug (any store: MemoryStore, PostgresStore, ...). */
  store: Pick<LinkedServicesStore, 'getApp'>
  /** Milliseconds to wait for the connection, the response headers, and between body chunks. Default 10000. */
  timeout?: number
  /** Sockets kept per origin. Default 10. */
  maxConnections?: number
  /** @deprecated the old name of `maxConnections` (until 1.0). */
  connections?: number
  /** Milliseconds an idle keep-alive socket stays open. Default 4000. */
  keepAliveTimeout?: number
  /** Largest response body read, in bytes. Default 16 MiB. */
  maxResponseBytes?: number
  /** Milliseconds an app record stays cached by the client. Default 5000; 0 reads the store on every call. */
  cacheTtl?: number
  /** Use this undici dispatcher instead of the client's own Agent (the client then does not close it). */
  dispatcher?: UndiciDispatcher
  jwt?: {
    /** Token lifetime in seconds. Default 600 (the original's). */
    expiresIn?: number
    /** `iss` claim. Default env API_URL, else `http://localhost:8000`. */
    issuer?: string
  }
  signature?: {
    /** `'rfc9421'` (default) or `'legacy'` (the original's `Authorization: Signature`; HMAC only). */
    scheme?: SignatureScheme
  }
}

export interface AppCallOptions {
  /** The caller-side user on whose behalf the call is made (JWT `sub`). */
  userId?: string | number | null
  /** Force a scheme; default: the app's strategy. */
  mode?: Mode
  /** JWT without a user: `sub` is `""` (default) or `null` (a 1.2.2 receiver). */
  appLevelSub?: '' | null
}

export interface RequestOptions extends BodyOptions {
  query?: Query
  headers?: Record<string, string | number | readonly string[] | undefined>
  /** Default true: a status outside 2xx rejects with ClientUnexpectedStatusError. */
  throwOnError?: boolean
  /** Overrides the client's timeout for this call (milliseconds). */
  timeout?: number
  signal?: AbortSignal
}

export interface LinkedResponse {
  status: number
  headers: Record<string, string | string[] | undefined>
  body: Buffer
  url: string
  ok: boolean
  text (): string
  json<T = unknown> (): T
}

export interface LinkedAppClient {
  readonly slug: string
  request (method: string, path: string, options?: RequestOptions): Promise<LinkedResponse>
  get (path: string, options?: RequestOptions): Promise<LinkedResponse>
  post (path: string, options?: RequestOptions): Promise<LinkedResponse>
  put (path: string, options?: RequestOptions): Promise<LinkedResponse>
  patch (path: string, options?: RequestOptions): Promise<LinkedResponse>
  delete (path: string, options?: RequestOptions): Promise<LinkedResponse>
  /** POSTs `payload` as JSON to the app's `webhookUrl`. */
  webhook (payload: unknown, options?: Omit<RequestOptions, 'json' | 'body' | 'form' | 'query'>): Promise<LinkedResponse>
}

export interface LinkedClient {
  app (slug: string, options?: AppCallOptions): LinkedAppClient
  /** Forget a cached app record (after changing it in the store). */
  invalidate (slug?: string): void
  close (): Promise<void>
}

/** Headers that the client computes; a caller cannot set them. */
const RESERVED_HEADERS = ['authorization', 'signature', 'signature-input', 'content-digest', 'content-length', 'host', 'transfer-encoding']
const METHOD = /^[A-Z]+$/

type ValidClientOptions = Required<Pick<LinkedClientOptions, 'appName' | 'store' | 'timeout' | 'maxConnections' | 'keepAliveTimeout' | 'maxResponseBytes' | 'cacheTtl'>> &
  Pick<LinkedClientOptions, 'dispatcher' | 'jwt'> & { signature: { scheme: SignatureScheme } }

function makeResponse (status: number, headers: Record<string, string | string[] | undefined>, body: Buffer, url: string): LinkedResponse {
  return {
    status,
    headers,
    body,
    url,
    ok: status >= 200 && status < 300,
    text: () => body.toString('utf8'),
    json: <T>() => JSON.parse(body.toString('utf8')) as T
  }
}

function failureReason (error: unknown, timeout: number): string {
  const code = (error as { code?: unknown } | null)?.code
  switch (code) {
    case 'UND_ERR_CONNECT_TIMEOUT': return `connection timed out after ${timeout} ms`
    case 'UND_ERR_HEADERS_TIMEOUT': return `no response within ${timeout} ms`
    case 'UND_ERR_BODY_TIMEOUT': return `the response body stalled for ${timeout} ms`
    case 'ECONNREFUSED': return 'connection refused'
    case 'ENOTFOUND': return 'host not found'
    case 'ECONNRESET': case 'UND_ERR_SOCKET': return 'connection reset'
    default: return typeof code === 'string' ? code : 'network error'
  }
}

/**
 * What a peer said about its refusal: a Fastify error body (`code`, `message`) or the original's
 * (`slug`, `detail`). Only short strings are kept.
 */
function peerError (body: Buffer): { code?: string, message?: string } {
  let parsed: unknown
  try {
    parsed = JSON.parse(body.subarray(0, 4096).toString('utf8'))
  } catch {
    return {}
  }
  if (parsed === null || typeof parsed !== 'object') return {}
  const fields = parsed as Record<string, unknown>
  const text = (value: unknown): string | undefined => typeof value === 'string' && value.length > 0 ? value.slice(0, 200) : undefined
  return { code: text(fields.code) ?? text(fields.slug), message: text(fields.message) ?? text(fields.detail) }
}

async function readBody (body: Dispatcher.ResponseData['body'], max: number): Promise<Buffer> {
  const chunks: Buffer[] = []
  let size = 0
  for await (const chunk of body) {
    size += (chunk as Buffer).length
    if (size > max) {
      body.destroy()
      throw Object.assign(new Error('response too large'), { code: 'LINKED_RESPONSE_TOO_LARGE' })
    }
    chunks.push(chunk as Buffer)
  }
  return Buffer.concat(chunks)
}

export function createLinkedClient (options: LinkedClientOptions): LinkedClient {
  const valid = validateOptions<ValidClientOptions>(clientOptions, options)
  const { appName, store, timeout, maxResponseBytes, cacheTtl } = valid
  const jwtOptions = { ...valid.jwt }
  const scheme = valid.signature.scheme

  const undici = loadUndici()
  const ownsDispatcher = valid.dispatcher === undefined
  const dispatcher = (valid.dispatcher as Dispatcher | undefined) ?? new undici.Agent({
    connections: valid.maxConnections,
    keepAliveTimeout: valid.keepAliveTimeout,
    connect: { timeout },
    headersTimeout: timeout,
    bodyTimeout: timeout
  })
  const cache = new Map<string, { app: AppRecord, until: number }>()
  let closed = false

  async function loadApp (slug: string): Promise<AppRecord> {
    const cached = cache.get(slug)
    if (cached !== undefined && cached.until > Date.now()) return cached.app
    let app: AppRecord | null
    try {
      app = await store.getApp(slug)
    } catch (error) {
      throw Object.assign(new StoreUnavailableError(), { cause: error })
    }
    if (app === null || app === undefined) {
      cache.delete(slug)
      throw new ClientAppNotFoundError(slug)
    }
    if (cacheTtl > 0) cache.set(slug, { app, until: Date.now() + cacheTtl })
    return app
  }

  function chooseMode (app: AppRecord, call: AppCallOptions): Mode {
    if (call.mode !== undefined) {
      if (call.mode !== 'jwt' && call.mode !== 'signature') throw new SigningError('mode must be jwt or signature')
      return call.mode
    }
    return app.strategy === 'SIGNATURE' ? 'signature' : 'jwt'
  }

  async function send (slug: string, call: AppCallOptions, method: string, target: { path: string } | { webhook: true },
    requestOptions: RequestOptions): Promise<LinkedResponse> {
    if (closed) throw new SigningError('the client is closed')
    const upper = String(method).toUpperCase()
    if (!METHOD.test(upper)) throw new SigningError(`${String(method)} is not an HTTP method`)
    const app = await loadApp(slug)
    let url: string
    if ('webhook' in target) {
      if (typeof app.webhookUrl !== 'string' || app.webhookUrl.length === 0) throw new ClientAppNotFoundError(`${slug} with a webhookUrl`)
      url = app.webhookUrl
    } else {
      if (typeof app.appUrl !== 'string' || app.appUrl.length === 0) throw new ClientAppNotFoundError(`${slug} with an appUrl`)
      url = buildUrl(app.appUrl, target.path, requestOptions.query)
    }
    const body = encodeBody(requestOptions)
    let headers: Record<string, string | string[]> = normaliseHeaders(requestOptions.headers, RESERVED_HEADERS)
    if (body.contentType !== null && headers['content-type'] === undefined) headers['content-type'] = body.contentType

    const mode = chooseMode(app, call)
    const userId = call.userId ?? null
    if (mode === 'jwt') {
      const jwt = signJwt({ appName, app, sub: userId, appLevelSub: call.appLevelSub, ...jwtOptions })
      headers.authorization = linkAuthorizationHeader(appName, jwt)
    } else {
      if (userId !== null && userId !== '') {
        throw new SigningError('a signed request cannot carry a user: call with mode "jwt" to act on behalf of a user')
      }
      headers = signOutgoing({ scheme, appName, app, method: upper, url, headers, body: body.bytes })
    }

    const callTimeout = requestOptions.timeout === undefined ? timeout : validateOptions<{ timeout: number }>(requestOptionsSet, { timeout: requestOptions.timeout }).timeout
    // undici's own timeouts run on a coarse (about 1 s) timer: a native timer bounds the whole call.
    const deadline = new AbortController()
    const timer = setTimeout(() => deadline.abort(), callTimeout)
    const signal = requestOptions.signal === undefined ? deadline.signal : AbortSignal.any([deadline.signal, requestOptions.signal])
    let response: Dispatcher.ResponseData
    let bytes: Buffer
    const startedAt = performance.now()
    try {
      response = await undici.request(url, {
        dispatcher,
        method: upper as Dispatcher.HttpMethod,
        headers,
        body: body.bytes,
        signal,
        headersTimeout: callTimeout,
        bodyTimeout: callTimeout
      })
      bytes = await readBody(response.body, maxResponseBytes)
    } catch (error) {
      const reason = deadline.signal.aborted
        ? `no complete response within ${callTimeout} ms`
        : requestOptions.signal?.aborted === true
          ? 'aborted'
          : (error as { code?: unknown }).code === 'LINKED_RESPONSE_TOO_LARGE'
              ? `the response is larger than ${maxResponseBytes} bytes`
              : failureReason(error, callTimeout)
      publishClientCall(appName, slug, upper, null, startedAt)
      throw Object.assign(new ClientRequestFailedError(`${upper} ${url} (${reason})`), { cause: error, app: slug, method: upper, url })
    } finally {
      clearTimeout(timer)
    }
    publishClientCall(appName, slug, upper, response.statusCode, startedAt)
    const result = makeResponse(response.statusCode, response.headers, bytes, url)
    if (!result.ok && requestOptions.throwOnError !== false) {
      const peer = peerError(bytes)
      const said = peer.code === undefined && peer.message === undefined ? '' : `: ${[peer.code, peer.message].filter(Boolean).join(' ')}`
      throw Object.assign(new ClientUnexpectedStatusError(`${upper} ${url} answered ${response.statusCode}${said}`),
        { app: slug, method: upper, url, status: response.statusCode, response: result, peerCode: peer.code, peerMessage: peer.message })
    }
    return result
  }

  return {
    app (slug: string, call: AppCallOptions = {}): LinkedAppClient {
      if (typeof slug !== 'string' || slug.length === 0) throw new ClientAppNotFoundError(String(slug))
      const to = (method: string) => async (path: string, requestOptions: RequestOptions = {}) =>
        await send(slug, call, method, { path }, requestOptions)
      return {
        slug,
        request: async (method, path, requestOptions = {}) => await send(slug, call, method, { path }, requestOptions),
        get: to('GET'),
        post: to('POST'),
        put: to('PUT'),
        patch: to('PATCH'),
        delete: to('DELETE'),
        webhook: async (payload, requestOptions = {}) => {
          if (payload === undefined) throw new SigningError('webhook needs a payload')
          return await send(slug, call, 'POST', { webhook: true }, { ...requestOptions, json: payload })
        }
      }
    },
    invalidate (slug?: string): void {
      if (slug === undefined) cache.clear()
      else cache.delete(slug)
    },
    async close (): Promise<void> {
      if (closed) return
      closed = true
      cache.clear()
      if (ownsDispatcher) await dispatcher.close()
    }
  }
}
