/**
 * Shared tools of the security tests and the fuzz script: a server whose logger writes every line
 * (trace level) to memory, the secret spellings to look for in responses and log lines, and the
 * mutations applied to valid JWT and signed requests.
 */
import { Writable } from 'node:stream'
import { createHash } from 'node:crypto'
import assert from 'node:assert/strict'
import Fastify, { type FastifyInstance, type FastifyRequest } from 'fastify'
import linkedServices, { MemoryStore } from '../../plugin/index.js'
import type { LinkedServicesOptions, LinkedServicesStore, MemoryStoreData } from '../../plugin/index.js'
import { rawBodyOf } from '../../plugin/route/raw-body.js'

export const APP_NAME = 'nodeservice'

// ---------------------------------------------------------------------------------------------
// Log capture

export interface LogCapture {
  /** Every log line written so far (JSON text, as pino writes it). */
  readonly lines: string[]
  readonly stream: Writable
  /** Fails when any line holds any of `secrets`. */
  assertClean: (secrets: readonly string[], what?: string) => void
}

export function captureLogs (): LogCapture {
  const lines: string[] = []
  let pending = ''
  const stream = new Writable({
    write (chunk: Buffer | string, _encoding, callback) {
      pending += chunk.toString()
      let at = pending.indexOf('\n')
      while (at !== -1) {
        lines.push(pending.slice(0, at))
        pending = pending.slice(at + 1)
        at = pending.indexOf('\n')
      }
      callback()
    }
  })
  return {
    lines,
    stream,
    assertClean (secrets, what = 'log') {
      for (const line of lines) {
        for (const secret of secrets) {
          if (secret.length >= 8 && line.includes(secret)) assert.fail(`${what} line holds secret material: ${line.slice(0, 300)}`)
        }
      }
    }
  }
}

/**
 * The spellings of a key that must never appear anywhere: the record's text, and for a hex or
 * PEM key the decoded forms (base64 and hex of the bytes, the PEM body, its halves).
 */
export function secretSpellings (...keys: Array<string | null | undefined>): string[] {
  const out = new Set<string>()
  for (const key of keys) {
    if (typeof key !== 'string' || key.length < 16) continue
    out.add(key)
    // A long run of the text is as telling as all of it.
    out.add(key.slice(0, 24))
    out.add(key.slice(-24))
    if (/^[0-9a-fA-F]+$/.test(key)) {
      const bytes = Buffer.from(key, 'hex')
      const text = bytes.toString('latin1')
      out.add(bytes.toString('base64').slice(0, 24))
      out.add(bytes.toString('base64url').slice(0, 24))
      if (text.includes('-----BEGIN')) for (const line of pemBody(text)) out.add(line)
    }
    if (key.includes('-----BEGIN')) for (const line of pemBody(key)) out.add(line)
  }
  return [...out].filter((spelling) => spelling.length >= 16)
}

function pemBody (pem: string): string[] {
  return pem.split('\n').filter((line) => line.length >= 16 && !line.startsWith('-----'))
}

/** Fails when a response body or header holds any secret spelling. */
export function assertNoSecretIn (text: string, secrets: readonly string[], what: string): void {
  for (const secret of secrets) {
    if (text.includes(secret)) assert.fail(`${what} holds secret material (${secret.slice(0, 6)}...)`)
  }
}

// ---------------------------------------------------------------------------------------------
// A server whose routes echo what they saw (for the security tests and the fuzz server)

export interface SeenRequest {
  app: unknown
  token: unknown
  method: string
  url: string
  host: string | undefined
  authorization: string | undefined
  bodySha256: string | null
  body: unknown
}

export function echo (request: FastifyRequest): SeenRequest {
  const raw = rawBodyOf(request)
  return {
    app: request.app,
    token: request.token,
    method: request.method,
    url: request.url,
    host: request.headers.host,
    authorization: request.headers.authorization,
    bodySha256: raw === undefined ? null : createHash('sha256').update(raw).digest('hex'),
    body: request.body ?? null
  }
}

export interface AttackServer {
  app: FastifyInstance
  logs: LogCapture
  store: LinkedServicesStore
}

/** Routes: GET/POST /jwt (mode jwt), GET/POST/PUT /sig (mode signature), GET/POST /any, GET /user. */
export function addRoutes (app: FastifyInstance): void {
  const handler = async (request: FastifyRequest) => echo(request)
  for (const method of ['GET', 'POST', 'PUT', 'DELETE'] as const) {
    app.route({ method, url: '/jwt', preHandler: app.scope([], { mode: 'jwt' }), handler })
    app.route({ method, url: '/sig', preHandler: app.scope([], { mode: 'signature' }), handler })
    app.route({ method, url: '/any', preHandler: app.scope(), handler })
  }
  app.get('/read', { preHandler: app.scope(['read:user']) }, handler)
  app.get('/user', { preHandler: app.scope() }, async (request) => ({ user: await request.getUser() }))
}

export async function attackServer (data: MemoryStoreData | LinkedServicesStore = {}, options: Partial<LinkedServicesOptions> = {}): Promise<AttackServer> {
  const store = 'getApp' in data ? data : new MemoryStore(data as MemoryStoreData)
  const logs = captureLogs()
  const app = Fastify({ logger: { level: 'trace', stream: logs.stream } })
  await app.register(linkedServices, { appName: APP_NAME, store, ...options })
  addRoutes(app)
  await app.ready()
  return { app, logs, store }
}

/** Fails unless the status is a 4xx (never a 5xx, never a 2xx). */
export function assert4xx (status: number, what: string): void {
  assert.ok(status >= 400 && status < 500, `${what}: expected a 4xx, got ${status}`)
}

// ---------------------------------------------------------------------------------------------
// Mutations (deterministic given a random source)

export type Random = () => number

/** A small seeded PRNG (mulberry32, the benchmark's), so that a fuzz run can be replayed from its seed. */
export { seeded } from '../../bench/stats.js'

export function pick<T> (random: Random, items: readonly T[]): T {
  return items[Math.floor(random() * items.length)]
}

const UNICODE = ['\u00e9', '\u0130', '\u212a', '\u017f', '\u0000', '\ufeff', '\u202e', '\ud83d\ude00', '\u0131', '\uff0c', '\uff1d', '\u2028', '\t', ' ']

/** String mutations. Each returns a string that differs from the input (when the input allows). */
export const stringMutations: Record<string, (text: string, random: Random) => string> = {
  flipBit (text, random) {
    if (text.length === 0) return 'x'
    const at = Math.floor(random() * text.length)
    const code = text.charCodeAt(at) ^ (1 << Math.floor(random() * 7))
    return text.slice(0, at) + String.fromCharCode(code) + text.slice(at + 1)
  },
  truncate (text, random) {
    return text.slice(0, Math.floor(random() * text.length))
  },
  dropChar (text, random) {
    const at = Math.floor(random() * text.length)
    return text.slice(0, at) + text.slice(at + 1)
  },
  duplicateSlice (text, random) {
    const from = Math.floor(random() * text.length)
    const to = from + Math.floor(random() * Math.min(40, text.length - from + 1))
    return text.slice(0, to) + text.slice(from, to) + text.slice(to)
  },
  insertUnicode (text, random) {
    const at = Math.floor(random() * (text.length + 1))
    return text.slice(0, at) + pick(random, UNICODE) + text.slice(at)
  },
  insertSeparator (text, random) {
    const at = Math.floor(random() * (text.length + 1))
    return text.slice(0, at) + pick(random, [',', '=', ';', '.', ':', '"', '\\', '%00', '==']) + text.slice(at)
  },
  huge (text, random) {
    return text + pick(random, ['A', '9', ',', '=', 'a=b,']).repeat(1 + Math.floor(random() * 20_000))
  },
  swapCase (text, random) {
    const at = Math.floor(random() * text.length)
    const ch = text[at] ?? ''
    const swapped = ch === ch.toLowerCase() ? ch.toUpperCase() : ch.toLowerCase()
    return text.slice(0, at) + swapped + text.slice(at + 1)
  },
  empty () {
    return ''
  }
}

export const stringMutationNames = Object.keys(stringMutations)

/** A JSON payload mutated at the value level (huge numbers, wrong types, duplicate keys, protos). */
export function mutateJsonText (json: string, random: Random): string {
  const choices = [
    () => json.replace(/"exp":\s*[0-9.e+]+/, `"exp":${pick(random, ['"9999999999"', '1e309', '-1', '[1]', 'null', 'true', '99999999999999999999', '1.5e10'])}`),
    () => json.replace(/"iat":\s*[0-9.e+]+/, `"iat":${pick(random, ['1e309', '99999999999', '"0"', '{}'])}`),
    () => json.replace(/^\{/, '{"__proto__":{"admin":true},"constructor":{"prototype":{"x":1}},'),
    () => json.replace(/"app":\s*"[^"]*"/, (m) => `${m},${m.replace(/"[^"]*"$/, '"evil"')}`),
    () => json.replace(/"aud":\s*"[^"]*"/, `"aud":["evil",${pick(random, ['1', 'null', '"nodeservice"'])}]`),
    () => json.replace(/"sub":\s*("[^"]*"|[0-9]+|null)/, `"sub":${pick(random, ['[1]', '{"a":1}', '1.5', '1e400', 'true'])}`),
    () => json + pick(random, [' ', '\n', '\u0000', '}', ','])
  ]
  return pick(random, choices)()
}

// ---------------------------------------------------------------------------------------------
// Raw HTTP over loopback (for what fastify.inject cannot send: duplicate headers, odd bytes)

export async function rawRequest (port: number, text: string | Buffer, timeoutMs = 5000): Promise<{ status: number, text: string }> {
  const net = await import('node:net')
  return await new Promise((resolve, reject) => {
    const socket = net.connect(port, '127.0.0.1', () => { socket.write(text) })
    const chunks: Buffer[] = []
    const timer = setTimeout(() => { socket.destroy(); reject(new Error('raw request timed out')) }, timeoutMs)
    socket.on('data', (chunk) => chunks.push(chunk))
    socket.on('close', () => {
      clearTimeout(timer)
      const response = Buffer.concat(chunks).toString('latin1')
      const match = /^HTTP\/1\.1 (\d{3})/.exec(response)
      resolve({ status: match === null ? 0 : Number(match[1]), text: response })
    })
    socket.on('error', (error) => { clearTimeout(timer); reject(error) })
  })
}
