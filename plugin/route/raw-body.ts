/**
 * Keeps the raw bytes of a request body for the RFC 9530 `Content-Digest` check (and the
 * legacy scheme's canonical string), so that a signature is checked against the body as it was
 * received, never against re-serialised JSON.
 *
 * A preParsing hook; it costs one header lookup on requests that are not signed: only a request
 * with a `Signature-Input` header (or an `Authorization: Signature ...` header) gets the bytes
 * copied, through a pass-through stream bounded by the route's body limit.
 */
import { Transform, type TransformCallback } from 'node:stream'
import type { FastifyReply, FastifyRequest, RawRequestDefaultExpression } from 'fastify'

const kRawBody = Symbol('fastify-linked-services.rawBody')

interface WithRawBody { [kRawBody]?: Buffer }

/** Whether this request is signed (one or two header lookups: the whole cost on other requests). */
export function wantsRawBody (headers: Record<string, string | string[] | undefined>): boolean {
  if (headers['signature-input'] !== undefined) return true
  const authorization = headers.authorization
  return typeof authorization === 'string' && authorization.startsWith('Signature ')
}

class CaptureStream extends Transform {
  readonly #request: WithRawBody
  readonly #limit: number
  #chunks: Buffer[] | null = []
  receivedEncodedLength = 0

  constructor (request: WithRawBody, limit: number) {
    super()
    this.#request = request
    this.#limit = limit
  }

  override _transform (chunk: Buffer | string, _encoding: BufferEncoding, callback: TransformCallback): void {
    const buffer = typeof chunk === 'string' ? Buffer.from(chunk) : chunk
    this.receivedEncodedLength += buffer.length
    // Over the limit: keep nothing more (Fastify answers 413 itself; no raw body = fail closed).
    if (this.receivedEncodedLength > this.#limit) this.#chunks = null
    else this.#chunks?.push(buffer)
    callback(null, buffer)
  }

  override _flush (callback: TransformCallback): void {
    if (this.#chunks !== null) this.#request[kRawBody] = Buffer.concat(this.#chunks, this.receivedEncodedLength)
    callback()
  }
}

function noop (): void {}

/** HTTP/1.1 framing: Content-Length (not 0) or Transfer-Encoding announce a body. */
function headersAnnounceBody (headers: Record<string, string | string[] | undefined>): boolean {
  const length = headers['content-length']
  return (length !== undefined && length !== '0') || headers['transfer-encoding'] !== undefined
}

/**
 * Whether a body may follow. HTTP/2 carries a body in DATA frames, Content-Length optional: a
 * stream that did not end with its HEADERS frame may carry one.
 */
function announcesBody (request: FastifyRequest): boolean {
  if (headersAnnounceBody(request.headers)) return true
  if (request.raw.httpVersionMajor !== 2) return false
  const stream = (request.raw as { stream?: { endAfterHeaders?: boolean } }).stream
  return stream?.endAfterHeaders !== true
}

/**
 * preParsing hook: hands on the payload untouched, or a copying pass-through for signed requests.
 * Callback style on purpose: it runs on every request of a scope route, and an async hook would
 * cost a promise and a microtask turn on each one.
 */
export function captureRawBody (
  request: FastifyRequest, _reply: FastifyReply, payload: RawRequestDefaultExpression,
  done: (error: Error | null, payload: NodeJS.ReadableStream) => void
): void {
  if (!wantsRawBody(request.headers) || !announcesBody(request)) {
    done(null, payload)
    return
  }
  const limit = request.routeOptions.bodyLimit ?? 1_048_576
  const capture = new CaptureStream(request as unknown as WithRawBody, limit)
  // Fastify listens for errors on the stream it reads; when it stopped reading early (a
  // Content-Length over the limit), an error must not become an uncaught exception.
  capture.on('error', noop)
  payload.on('error', (error) => capture.destroy(error))
  done(null, payload.pipe(capture))
}

/** The raw body bytes kept by captureRawBody, or `undefined` when none were kept. */
export function rawBodyOf (request: FastifyRequest): Buffer | undefined {
  return (request as unknown as WithRawBody)[kRawBody]
}

/** What a verifier knows of the body once Fastify has read it (preHandler time). */
export interface ReceivedBody {
  /** The bytes the route sees (empty without a body); `undefined` when a body that the headers announce was not kept. */
  raw: Buffer | undefined
  /** Whether there are body bytes to cover. */
  present: boolean
}

/**
 * The bytes Fastify read are the truth, whatever the headers said (under HTTP/2 a body needs no
 * Content-Length). Nothing kept: an HTTP/1.1 body the headers announce could not be checked
 * (`raw` undefined: the verifier fails closed); an HTTP/2 body that Fastify did not read (no
 * Content-Type, no Content-Length) never reaches the route, so there is none to cover.
 */
export function receivedBody (request: FastifyRequest): ReceivedBody {
  const raw = rawBodyOf(request)
  if (raw !== undefined) return { raw, present: raw.length > 0 }
  if (headersAnnounceBody(request.headers)) return { raw: undefined, present: true }
  return { raw: EMPTY, present: false }
}

const EMPTY = Buffer.alloc(0)
