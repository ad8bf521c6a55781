/**
 * Real PostgreSQL and Redis for the scale-out tests: where they are, whether they answer (a
 * missing service skips the tests with a clear message, and FAILS them under CI), unique schema
 * names and key prefixes per run, and a TCP proxy that a test can cut and restore to play
 * "the database went down".
 */
import { spawnSync } from 'node:child_process'
import { randomBytes } from 'node:crypto'
import net from 'node:net'
import { join } from 'node:path'
import pg from 'pg'
import { Redis } from 'ioredis'

export const DATABASE_URL = process.env.DATABASE_URL ?? 'postgres://postgres@127.0.0.1:5432/test'
export const REDIS_URL = process.env.REDIS_URL ?? 'redis://127.0.0.1:6379'
const IN_CI = process.env.CI === 'true'

const PROBE = `
const [kind, url] = process.argv.slice(1)
const fail = (error) => { process.stdout.write(String(error && error.message || error)); process.exit(1) }
if (kind === 'postgres') {
  const pg = require('pg')
  const client = new pg.Client({ connectionString: url, connectionTimeoutMillis: 2000 })
  client.on('error', () => {})
  client.connect().then(() => client.query('SELECT 1')).then(() => process.exit(0), fail)
} else {
  const { Redis } = require('ioredis')
  const client = new Redis(url, { lazyConnect: true, enableOfflineQueue: false, maxRetriesPerRequest: 0, connectTimeout: 2000, retryStrategy: () => null })
  client.on('error', () => {})
  client.connect().then(() => client.ping()).then(() => process.exit(0), fail)
}
setTimeout(() => fail('no answer within 3 s'), 3000)
`

/**
 * The same check, synchronously (for a test file's `skip` option, decided before tests run):
 * probes in a child process.
 */
export function servicesSkipSync (needs: { postgres?: boolean, redis?: boolean }): string | false {
  const problems: string[] = []
  const probe = (kind: string, url: string): string | null => {
    const result = spawnSync(process.execPath, ['-e', PROBE, kind, url], { cwd: join(__dirname, '../..'), encoding: 'utf8', timeout: 10_000 })
    return result.status === 0 ? null : (result.stdout || result.stderr || 'no answer').trim().split('\n')[0]
  }
  if (needs.postgres === true) {
    const problem = probe('postgres', DATABASE_URL)
    if (problem !== null) problems.push(`PostgreSQL at ${redact(DATABASE_URL)} does not answer (${problem}); set DATABASE_URL`)
  }
  if (needs.redis === true) {
    const problem = probe('redis', REDIS_URL)
    if (problem !== null) problems.push(`Redis at ${redact(REDIS_URL)} does not answer (${problem}); set REDIS_URL`)
  }
  if (problems.length === 0) return false
  const message = problems.join('; ')
  if (IN_CI) throw new Error(`CI=true and a service the scale-out tests need is missing: ${message}`)
  console.log(`scale-out tests skipped: ${message}`)
  return `skipped: ${message}`
}

function redact (url: string): string {
  return url.replace(/\/\/([^:@/]+):[^@/]*@/, '//$1:***@')
}

/** A fresh schema name (lower-case identifier) for one test run. */
export function uniqueSchema (label: string): string {
  return `ls_test_${label}_${process.pid}_${randomBytes(4).toString('hex')}`
}

/** A fresh Redis key prefix for one test run. */
export function uniquePrefix (label: string): string {
  return `linked-services-test:${label}:${process.pid}:${randomBytes(4).toString('hex')}:`
}

export async function dropSchema (schema: string): Promise<void> {
  if (!/^[a-z_][a-z0-9_]{0,62}$/.test(schema)) throw new Error('not a schema name')
  const client = new pg.Client({ connectionString: DATABASE_URL })
  client.on('error', () => {})
  await client.connect()
  try {
    await client.query(`DROP SCHEMA IF EXISTS "${schema}" CASCADE`)
  } finally {
    await client.end()
  }
}

export async function deleteRedisPrefix (prefix: string): Promise<void> {
  const client = new Redis(REDIS_URL, { maxRetriesPerRequest: 1 })
  client.on('error', () => {})
  try {
    let cursor = '0'
    do {
      const [next, keys] = await client.scan(cursor, 'MATCH', `${prefix.replace(/[*?[\]\\]/g, '\\$&')}*`, 'COUNT', 1000)
      if (keys.length > 0) await client.del(...keys)
      cursor = next
    } while (cursor !== '0')
  } finally {
    client.disconnect()
  }
}

/** The same URL, pointing at another port of 127.0.0.1 (for the proxy). */
export function throughPort (url: string, port: number): string {
  const parsed = new URL(url)
  parsed.hostname = '127.0.0.1'
  parsed.port = String(port)
  return parsed.toString()
}

/**
 * A TCP proxy to a service. `cut()` closes every connection and stops listening (the service
 * looks down: connections are refused); `restore()` listens again on the same port.
 */
export class TcpProxy {
  readonly #target: { host: string, port: number }
  readonly #sockets = new Set<net.Socket>()
  #server: net.Server | null = null
  port = 0

  constructor (targetUrl: string) {
    const url = new URL(targetUrl)
    this.#target = { host: url.hostname, port: Number(url.port) }
  }

  async start (): Promise<number> {
    await this.#listen(this.port)
    return this.port
  }

  async #listen (port: number): Promise<void> {
    const server = net.createServer((inbound) => {
      const outbound = net.connect(this.#target)
      for (const socket of [inbound, outbound]) {
        this.#sockets.add(socket)
        socket.on('close', () => this.#sockets.delete(socket))
        socket.on('error', () => { inbound.destroy(); outbound.destroy() })
      }
      inbound.pipe(outbound)
      outbound.pipe(inbound)
    })
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject)
      server.listen(port, '127.0.0.1', () => resolve())
    })
    this.#server = server
    this.port = (server.address() as net.AddressInfo).port
  }

  async cut (): Promise<void> {
    const server = this.#server
    this.#server = null
    for (const socket of this.#sockets) socket.destroy()
    this.#sockets.clear()
    if (server !== null) await new Promise<void>((resolve) => server.close(() => resolve()))
  }

  async restore (): Promise<void> {
    if (this.#server === null) await this.#listen(this.port)
  }

  async close (): Promise<void> {
    await this.cut()
  }
}

/** Polls `check` until it returns true; returns the milliseconds it took, or throws after `timeoutMs`. */
export async function waitFor (check: () => Promise<boolean> | boolean, timeoutMs = 5000, everyMs = 5): Promise<number> {
  const start = performance.now()
  for (;;) {
    if (await check()) return performance.now() - start
    if (performance.now() - start > timeoutMs) throw new Error(`condition not met within ${timeoutMs} ms`)
    await new Promise((resolve) => setTimeout(resolve, everyMs))
  }
}
