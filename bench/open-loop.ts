/**
 * An open-loop load generator: requests are sent on a fixed schedule (`rate` per second, spread
 * evenly over time), whatever the server answers, so every scenario sees the same arrivals.
 * A closed loop (autocannon: each connection sends its next request when the last one is
 * answered) lets a fast server take requests in batches per event-loop turn, which makes its CPU
 * per request depend on its throughput; at one fixed rate that effect is the same for all.
 *
 * Requests are serialised to bytes before the run (one buffer per header set), so the generator
 * does little per request. Responses are framed by Content-Length (the bench route answers a small
 * JSON body); a request never waits behind another on one connection (no pipelining): when every
 * connection is busy, it is counted late and sent on the next one that frees.
 */
import { connect, type Socket } from 'node:net'
import type { LoadResult, Pool } from './load.js'

export interface OpenLoopOptions {
  port: number
  pool: Pool
  /** Requests per second offered. */
  rate: number
  seconds: number
  /** Keep-alive connections (enough that a request seldom waits for a free one). */
  connections?: number
}

/** What a closed-loop run reports (load.ts), plus the rate offered and the requests sent late. */
export interface OpenLoopResult extends LoadResult {
  /** The rate offered. */
  rate: number
  /** Requests that found every connection busy and were sent later than scheduled. */
  late: number
}

interface Connection {
  socket: Socket
  busy: boolean
  sentAt: number
  buffered: Buffer
}

/** One request's bytes: `GET /`, the Host the signer used (or ours), then the header set. */
function requestBytes (port: number, headers: Record<string, string>, path = '/'): Buffer {
  let host = `127.0.0.1:${port}`
  let lines = ''
  for (const [name, value] of Object.entries(headers)) {
    if (name.toLowerCase() === 'host') host = value
    else lines += `${name}: ${value}\r\n`
  }
  return Buffer.from(`GET ${path} HTTP/1.1\r\nHost: ${host}\r\nConnection: keep-alive\r\n${lines}\r\n`, 'latin1')
}

const HEADER_END = Buffer.from('\r\n\r\n')
const CONTENT_LENGTH = /\r\ncontent-length:\s*(\d+)/i

/** Whole responses at the start of `data`: their status codes, and the bytes left over. */
function takeResponses (data: Buffer): { statuses: number[], rest: Buffer } {
  const statuses: number[] = []
  let at = 0
  for (;;) {
    const end = data.indexOf(HEADER_END, at)
    if (end === -1) break
    const head = data.toString('latin1', at, end)
    const length = Number(CONTENT_LENGTH.exec(head)?.[1] ?? 0)
    if (data.length < end + 4 + length) break
    statuses.push(Number(head.slice(9, 12)))
    at = end + 4 + length
  }
  return { statuses, rest: at === 0 ? data : data.subarray(at) }
}

function percentile (sorted: number[], p: number): number {
  if (sorted.length === 0) return NaN
  return sorted[Math.min(sorted.length - 1, Math.floor(sorted.length * p))]
}

/** The figures of one run, while it is under way. */
interface RunState {
  ok: number
  non2xx: number
  errors: number
  answered: number
  sent: number
  total: number
  waiting: number
  latencies: number[]
  bytesOf: (n: number) => Buffer
  onAnswer: (() => void) | null
}

/**
 * Keep-alive connections to one server, opened once and used by several runs (so that no
 * connection is set up inside a measured run).
 */
export interface OpenLoopClient {
  /** `path`: `/` (the scenario's route) unless given, e.g. the server's unprotected control route. */
  run: (options: { pool: Pool, rate: number, seconds: number, path?: string }) => Promise<OpenLoopResult>
  close: () => void
}

export async function openLoopClient (port: number, connections = 64): Promise<OpenLoopClient> {
  let state: RunState | null = null
  const idle: Connection[] = []
  const send = (connection: Connection, run: RunState): void => {
    connection.busy = true
    connection.sentAt = performance.now()
    connection.socket.write(run.bytesOf(run.sent++))
  }
  const opened = await Promise.all(Array.from({ length: connections }, async () => await new Promise<Connection>((resolve, reject) => {
    const socket = connect({ host: '127.0.0.1', port, noDelay: true })
    const connection: Connection = { socket, busy: false, sentAt: 0, buffered: Buffer.alloc(0) }
    socket.once('connect', () => resolve(connection))
    socket.once('error', reject)
    socket.on('data', (chunk: Buffer) => {
      const { statuses, rest } = takeResponses(connection.buffered.length === 0 ? chunk : Buffer.concat([connection.buffered, chunk]))
      connection.buffered = rest
      const run = state
      for (const status of statuses) {
        connection.busy = false
        if (run === null) { idle.push(connection); continue }
        run.answered++
        if (status >= 200 && status < 300) run.ok++
        else run.non2xx++
        run.latencies.push(performance.now() - connection.sentAt)
        if (run.waiting > 0 && run.sent < run.total) {
          run.waiting--
          send(connection, run)
        } else {
          idle.push(connection)
        }
      }
      run?.onAnswer?.()
    })
  })))
  for (const connection of opened) {
    connection.socket.on('error', () => { if (state !== null) state.errors++ })
    idle.push(connection)
  }

  async function run ({ pool, rate, seconds, path = '/' }: { pool: Pool, rate: number, seconds: number, path?: string }): Promise<OpenLoopResult> {
    const total = Math.round(rate * seconds)
    // Fresh entries are sent once each, in order; repeated ones in turn.
    const serialised = (pool.fresh ? pool.entries.slice(0, total) : pool.entries).map((headers) => requestBytes(port, headers, path))
    let signedDuringRun = 0
    let late = 0
    const current: RunState = {
      ok: 0,
      non2xx: 0,
      errors: 0,
      answered: 0,
      sent: 0,
      total,
      waiting: 0,
      latencies: [],
      onAnswer: null,
      bytesOf: (n) => {
        if (n < serialised.length) return serialised[n]
        if (pool.fresh && pool.more !== undefined) { signedDuringRun++; return requestBytes(port, pool.more(), path) }
        return serialised[n % serialised.length]
      }
    }
    state = current
    const started = performance.now()
    await new Promise<void>((resolve) => {
      const tick = (): void => {
        const due = Math.min(total, Math.floor((performance.now() - started) / 1000 * rate))
        while (current.sent + current.waiting < due) {
          const connection = idle.pop()
          if (connection === undefined) {
            current.waiting++
            late++
          } else {
            send(connection, current)
          }
        }
        if (due >= total) resolve()
        else setTimeout(tick, 1)
      }
      tick()
    })
    // Drain: the last answers, within a bounded wait.
    const deadline = performance.now() + 2000
    await new Promise<void>((resolve) => {
      const timer = setInterval(() => { check() }, 50)
      const check = (): void => {
        if (current.answered >= current.sent || performance.now() > deadline) {
          current.onAnswer = null
          clearInterval(timer)
          resolve()
        }
      }
      current.onAnswer = check
      check()
    })
    const elapsed = (performance.now() - started) / 1000
    state = null
    const latencies = current.latencies.sort((a, b) => a - b)
    return {
      requests: current.answered,
      ok: current.ok,
      non2xx: current.non2xx,
      // A socket error leaves its request unanswered: count each failed request once.
      errors: Math.max(current.errors, current.sent - current.answered),
      seconds: elapsed,
      rps: current.answered / elapsed,
      rate,
      late,
      p50Ms: Math.round(percentile(latencies, 0.5) * 100) / 100,
      p99Ms: Math.round(percentile(latencies, 0.99) * 100) / 100,
      signedDuringRun
    }
  }

  return {
    run,
    close: () => { for (const connection of opened) connection.socket.destroy() }
  }
}

/** One run on connections of its own. */
export async function runOpenLoop (options: OpenLoopOptions): Promise<OpenLoopResult> {
  const client = await openLoopClient(options.port, options.connections)
  try {
    return await client.run(options)
  } finally {
    client.close()
  }
}
