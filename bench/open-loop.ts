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
import type { Pool } from './load.js'

export interface OpenLoopOptions {
  port: number
  pool: Pool
  /** Requests per second offered. */
  rate: number
  seconds: number
  /** Keep-alive connections (enough that a request seldom waits for a free one). */
  connections?: number
}

export interface OpenLoopResult {
  /** Requests sent and answered within the run (and its short drain). */
  requests: number
  ok: number
  non2xx: number
  errors: number
  seconds: number
  /** Answers per second. */
  rps: number
  /** The rate offered. */
  rate: number
  /** Requests that found every connection busy and were sent later than scheduled. */
  late: number
  p50Ms: number
  p99Ms: number
  /** Requests made on the spot because the pool's fresh entries ran out (0 normally). */
  signedDuringRun: number
}

interface Connection {
  socket: Socket
  busy: boolean
  sentAt: number
  buffered: Buffer
}

/** One request's bytes: `GET /`, the Host the signer used (or ours), then the header set. */
function requestBytes (port: number, headers: Record<string, string>): Buffer {
  let host = `127.0.0.1:${port}`
  let lines = ''
  for (const [name, value] of Object.entries(headers)) {
    if (name.toLowerCase() === 'host') host = value
    else lines += `${name}: ${value}\r\n`
  }
  return Buffer.from(`GET / HTTP/1.1\r\nHost: ${host}\r\nConnection: keep-alive\r\n${lines}\r\n`, 'latin1')
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

export async function runOpenLoop (options: OpenLoopOptions): Promise<OpenLoopResult> {
  const { port, pool, rate, seconds } = options
  const total = Math.round(rate * seconds)
  // Fresh entries are sent once each, in order; repeated ones in turn.
  const serialised = (pool.fresh ? pool.entries.slice(0, total) : pool.entries).map((headers) => requestBytes(port, headers))
  let signedDuringRun = 0
  const bytesOf = (n: number): Buffer => {
    if (n < serialised.length) return serialised[n]
    if (pool.fresh && pool.more !== undefined) { signedDuringRun++; return requestBytes(port, pool.more()) }
    return serialised[n % serialised.length]
  }

  let ok = 0
  let non2xx = 0
  let errors = 0
  let answered = 0
  let late = 0
  const latencies: number[] = []
  const idle: Connection[] = []
  let waiting = 0
  let sent = 0
  let onAnswer: (() => void) | null = null

  const send = (connection: Connection): void => {
    connection.busy = true
    connection.sentAt = performance.now()
    connection.socket.write(bytesOf(sent++))
  }
  const opened = await Promise.all(Array.from({ length: options.connections ?? 64 }, async () => await new Promise<Connection>((resolve, reject) => {
    const socket = connect({ host: '127.0.0.1', port, noDelay: true })
    const connection: Connection = { socket, busy: false, sentAt: 0, buffered: Buffer.alloc(0) }
    socket.once('connect', () => resolve(connection))
    socket.once('error', reject)
    socket.on('data', (chunk: Buffer) => {
      const { statuses, rest } = takeResponses(connection.buffered.length === 0 ? chunk : Buffer.concat([connection.buffered, chunk]))
      connection.buffered = rest
      for (const status of statuses) {
        answered++
        if (status >= 200 && status < 300) ok++
        else non2xx++
        latencies.push(performance.now() - connection.sentAt)
        connection.busy = false
        if (waiting > 0 && sent < total) {
          waiting--
          send(connection)
        } else {
          idle.push(connection)
        }
      }
      onAnswer?.()
    })
  })))
  for (const connection of opened) {
    connection.socket.on('error', () => { errors++ })
    idle.push(connection)
  }

  const started = performance.now()
  await new Promise<void>((resolve) => {
    const tick = (): void => {
      const due = Math.min(total, Math.floor((performance.now() - started) / 1000 * rate))
      while (sent + waiting < due) {
        const connection = idle.pop()
        if (connection === undefined) {
          waiting++
          late++
        } else {
          send(connection)
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
    const check = (): void => {
      if (answered + errors >= sent || performance.now() > deadline) {
        onAnswer = null
        resolve()
      }
    }
    onAnswer = check
    const timer = setInterval(() => { check(); if (onAnswer === null) clearInterval(timer) }, 50)
    check()
  })
  const elapsed = (performance.now() - started) / 1000
  for (const connection of opened) connection.socket.destroy()
  latencies.sort((a, b) => a - b)
  return {
    requests: answered,
    ok,
    non2xx,
    // A socket error leaves its request unanswered: count each failed request once.
    errors: Math.max(errors, sent - answered),
    seconds: elapsed,
    rps: answered / elapsed,
    rate,
    late,
    p50Ms: Math.round(percentile(latencies, 0.5) * 100) / 100,
    p99Ms: Math.round(percentile(latencies, 0.99) * 100) / 100,
    signedDuringRun
  }
}
