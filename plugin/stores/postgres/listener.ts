/**
 * The change feed of PostgresStore: one dedicated connection (outside the pool) that LISTENs on
 * the store's channel and hands every notification to the subscribers. The connection is watched
 * (errors, end, and a periodic ping that catches a silently dead socket) and reopened with a
 * capped backoff. Notifications sent while it was down are lost, so every (re)connection is
 * followed by `onConnect`, which the store uses to invalidate every app it has served.
 */
import type { Client, ClientConfig, Notification } from 'pg'
import type { StoreChange } from '../../../types/index.js'
import { loadPg } from '../../lazy-modules.js'
import { quoteIdentifier } from './identifiers.js'

export interface ListenerOptions {
  config: ClientConfig
  channel: string
  onChange: (change: StoreChange) => void
  onConnect: () => void
  /** First reconnection delay; doubles up to `maxReconnectMs`. */
  reconnectMs: number
  maxReconnectMs: number
  /** How often the connection is checked with a query; 0 turns the ping off. */
  pingMs: number
}

const TYPES = new Set<StoreChange['type']>(['app', 'agreement', 'user'])

/** A notification payload, checked: `{"type":"app","app":"<slug>"}`; anything else is ignored. */
export function parseChange (payload: string | undefined): StoreChange | null {
  if (typeof payload !== 'string' || payload.length > 1000) return null
  try {
    const value = JSON.parse(payload) as Record<string, unknown>
    if (value === null || typeof value !== 'object') return null
    const { type, app } = value
    if (typeof type !== 'string' || !TYPES.has(type as StoreChange['type'])) return null
    if (typeof app !== 'string' || app.length === 0 || app.length > 200) return null
    return { type: type as StoreChange['type'], app }
  } catch {
    return null
  }
}

export class ChangeListener {
  readonly #options: ListenerOptions
  /** The connection being opened or in use. */
  #client: Client | null = null
  #connected = false
  #stopped = false
  #delay: number
  #retryTimer: NodeJS.Timeout | null = null
  #pingTimer: NodeJS.Timeout | null = null

  constructor (options: ListenerOptions) {
    this.#options = options
    this.#delay = options.reconnectMs
  }

  /** True while LISTEN is active. */
  get connected (): boolean {
    return this.#connected
  }

  /** Opens the connection; resolves after the first attempt, whether it worked or not (it retries). */
  async start (): Promise<void> {
    await this.#connect()
  }

  async stop (): Promise<void> {
    this.#stopped = true
    if (this.#retryTimer !== null) clearTimeout(this.#retryTimer)
    if (this.#pingTimer !== null) clearInterval(this.#pingTimer)
    this.#retryTimer = null
    this.#pingTimer = null
    const client = this.#client
    this.#client = null
    this.#connected = false
    if (client !== null) await client.end().catch(() => {})
  }

  async #connect (): Promise<void> {
    if (this.#stopped) return
    const client = new (loadPg().Client)(this.#options.config)
    this.#client = client
    client.on('error', () => this.#lost(client))
    client.on('end', () => this.#lost(client))
    client.on('notification', (message: Notification) => {
      if (message.channel !== this.#options.channel) return
      const change = parseChange(message.payload)
      if (change !== null) this.#options.onChange(change)
    })
    try {
      await client.connect()
      await client.query(`LISTEN ${quoteIdentifier(this.#options.channel)}`)
    } catch {
      this.#lost(client)
      return
    }
    if (this.#client !== client) return
    this.#connected = true
    this.#delay = this.#options.reconnectMs
    if (this.#options.pingMs > 0) {
      this.#pingTimer = setInterval(() => this.#ping(client), this.#options.pingMs)
      this.#pingTimer.unref()
    }
    // Whatever was announced while we were not listening is unknown: forget what was served.
    this.#options.onConnect()
  }

  #ping (client: Client): void {
    let timer: NodeJS.Timeout | undefined
    const deadline = new Promise<never>((_resolve, reject) => {
      timer = setTimeout(() => reject(new Error('ping timeout')), Math.max(1000, this.#options.pingMs))
      timer.unref()
    })
    Promise.race([client.query('SELECT 1'), deadline]).then(
      () => clearTimeout(timer),
      () => { clearTimeout(timer); this.#lost(client) })
  }

  #lost (client: Client): void {
    if (this.#client !== client) return
    this.#client = null
    this.#connected = false
    if (this.#pingTimer !== null) clearInterval(this.#pingTimer)
    this.#pingTimer = null
    client.end().catch(() => {})
    if (this.#stopped) return
    const delay = this.#delay
    this.#delay = Math.min(this.#delay * 2, this.#options.maxReconnectMs)
    this.#retryTimer = setTimeout(() => {
      this.#retryTimer = null
      this.#connect().catch(() => {})
    }, delay)
    this.#retryTimer.unref()
  }
}
