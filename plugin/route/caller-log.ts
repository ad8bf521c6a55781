/**
 * Logs that say who called: once a call is granted, the request's logger is bound to the caller
 * (`linkedApp`, `linkedUser`), so every later line of that request names it; and refusals are
 * logged at most once per (app, code) per interval, so a flood of bad calls cannot flood the log.
 */
import type { FastifyReply, FastifyRequest } from 'fastify'

interface BindableLogger {
  setBindings?: (bindings: Record<string, unknown>) => void
  child: (bindings: Record<string, unknown>) => FastifyRequest['log']
}

/**
 * Binds the request's logger to the caller. Fastify gives each request a child logger of its
 * own: pino's setBindings() adds to it in place (request.log and reply.log are that one object),
 * about ten times cheaper than a child of the child. When the request has no logger of its own
 * (`logger: false` shares the server's no-op logger) there is nothing to bind, and binding the
 * shared one would name this caller on every request.
 */
export function bindCaller (request: FastifyRequest, reply: FastifyReply, linkedApp: string, linkedUser: string | null): void {
  const log = request.log as unknown as BindableLogger
  if (request.log === request.server.log) return
  const bindings = { linkedApp, linkedUser }
  if (typeof log.setBindings === 'function') {
    log.setBindings(bindings)
    return
  }
  const child = log.child(bindings)
  request.log = child
  reply.log = child
}

export interface RefusalLogOptions {
  /** At most one line per (app, code) per this many milliseconds. */
  intervalMs: number
  /** How many (app, code) pairs are remembered; the oldest is forgotten first. */
  max: number
  now?: () => number
}

interface Window {
  until: number
  suppressed: number
}

/** Rate-limits the refusal log lines of one plugin instance. */
export class RefusalLog {
  readonly #windows = new Map<string, Window>()
  readonly #options: Required<RefusalLogOptions>

  constructor (options: RefusalLogOptions) {
    this.#options = { now: Date.now, ...options }
  }

  /**
   * Whether this refusal should be logged now; if so, how many of the same were left unlogged
   * since the last line. `app` is a known app or null (logged as `unknown`).
   */
  admit (app: string | null, code: string): { suppressed: number } | null {
    const key = `${app ?? ''}\0${code}`
    const now = this.#options.now()
    const window = this.#windows.get(key)
    if (window !== undefined && now < window.until) {
      window.suppressed++
      return null
    }
    const suppressed = window?.suppressed ?? 0
    this.#windows.delete(key)
    if (this.#windows.size >= this.#options.max) this.#windows.delete(this.#windows.keys().next().value as string)
    this.#windows.set(key, { until: now + this.#options.intervalMs, suppressed: 0 })
    return { suppressed }
  }

  /** Logs a refusal unless one like it was logged within the interval. */
  report (request: FastifyRequest, app: string | null, code: string, statusCode: number): void {
    const admitted = this.admit(app, code)
    if (admitted === null) return
    request.log.info({ linkedApp: app ?? 'unknown', code, statusCode, route: request.routeOptions.url, suppressed: admitted.suppressed },
      'fastify-linked-services: call refused')
  }

  get size (): number {
    return this.#windows.size
  }
}
