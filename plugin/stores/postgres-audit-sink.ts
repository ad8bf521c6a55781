/**
 * PostgresAuditSink: writes the scope hook's decisions to `<schema>.audit_events` (migration 2;
 * `linked-services migrate` creates it). `record()` only queues: rows are written in batches
 * (one multi-row INSERT, at most one in flight) when a batch is full or every `flushIntervalMs`.
 * A slow or down database never slows or fails a request: the queue is bounded, and what does
 * not fit, or what the database refused, is dropped and counted (`stats()`).
 */
import type { Pool, PoolConfig } from 'pg'
import type { AuditEntry, AuditSink } from './audit-entry.js'
import { InvalidOptionError } from '../errors.js'
import { loadPg } from '../lazy-modules.js'
import { integerOption, pluginOptions } from '../option-checks.js'
import { checkIdentifier, quoteIdentifier } from './postgres/identifiers.js'
import { type AuditFilter, type AuditRow, queryAudit } from './postgres/audit-query.js'

export interface PostgresAuditSinkOptions {
  /** A PostgreSQL URL. Either this or `pool`. */
  connectionString?: string
  /** A `pg.Pool` of your own (e.g. PostgresStore's `.pool`); not ended on close(). */
  pool?: Pool
  /** The schema holding `audit_events` (the store's). Default `linked_services`. */
  schema?: string
  /** Rows per INSERT. Default 100. */
  batchSize?: number
  /** Entries held while the database is busy; beyond, new entries are dropped. Default 10 000. */
  maxQueue?: number
  /** Longest time an entry waits for its batch, in ms. Default 1000. */
  flushIntervalMs?: number
  /** How long close() waits for the last batches, in ms; what is left then is dropped. Default 5000. */
  closeTimeoutMs?: number
}

export interface AuditSinkStats {
  queued: number
  written: number
  /** Entries that did not fit the queue. */
  dropped: number
  /** Entries of batches the database refused or did not take in time. */
  failed: number
}

const COLUMNS = ['at', 'service', 'method', 'route', 'app', 'scheme', 'user_sub', 'outcome', 'status_code', 'missing_scopes', 'duration_ms']
const KNOWN = ['connectionString', 'pool', 'schema', 'batchSize', 'maxQueue', 'flushIntervalMs', 'closeTimeoutMs']

export class PostgresAuditSink implements AuditSink {
  readonly schema: string
  readonly pool: Pool
  readonly #ownsPool: boolean
  readonly #batchSize: number
  readonly #maxQueue: number
  readonly #table: string
  readonly #closeTimeoutMs: number
  #queue: AuditEntry[] = []
  #inFlight: Promise<void> | null = null
  #timer: NodeJS.Timeout | null = null
  #closed = false
  readonly #stats = { written: 0, dropped: 0, failed: 0 }

  constructor (options: PostgresAuditSinkOptions) {
    const raw = pluginOptions(options, 'PostgresAuditSink', KNOWN)
    this.schema = checkIdentifier(raw.schema ?? 'linked_services', 'schema')
    this.#table = `${quoteIdentifier(this.schema)}.audit_events`
    this.#batchSize = integerOption(raw.batchSize, 'batchSize', 100, 1, 10_000)
    this.#maxQueue = integerOption(raw.maxQueue, 'maxQueue', 10_000, 1, 10_000_000)
    const interval = integerOption(raw.flushIntervalMs, 'flushIntervalMs', 1000, 1, 3_600_000)
    this.#closeTimeoutMs = integerOption(raw.closeTimeoutMs, 'closeTimeoutMs', 5000, 1, 600_000)
    if (raw.pool !== undefined) {
      this.pool = raw.pool as Pool
      this.#ownsPool = false
    } else {
      if (typeof raw.connectionString !== 'string' || raw.connectionString === '') throw new InvalidOptionError('PostgresAuditSink needs a connectionString or a pool')
      const config: PoolConfig = { connectionString: raw.connectionString, max: 2, connectionTimeoutMillis: 2000, keepAlive: true }
      this.pool = new (loadPg().Pool)(config)
      this.pool.on('error', () => {})
      this.#ownsPool = true
    }
    this.#timer = setInterval(() => { this.#flushSoon() }, interval)
    this.#timer.unref()
  }

  record (entry: AuditEntry): void {
    if (this.#closed) return
    if (this.#queue.length >= this.#maxQueue) {
      this.#stats.dropped++
      return
    }
    this.#queue.push(entry)
    if (this.#queue.length >= this.#batchSize) this.#flushSoon()
  }

  stats (): AuditSinkStats {
    return { queued: this.#queue.length, ...this.#stats }
  }

  /** Writes everything queued (batch after batch); resolves when done. Never rejects. */
  async flush (): Promise<void> {
    while (this.#inFlight !== null || this.#queue.length > 0) {
      if (this.#inFlight === null) this.#flushSoon()
      await this.#inFlight
    }
  }

  /** Reads the trail (what the CLI's `audit tail|query` print). */
  async query (filter: AuditFilter): Promise<AuditRow[]> {
    return await queryAudit(this.pool, this.schema, filter)
  }

  /** Writes what is queued, for at most closeTimeoutMs (the rest is dropped), and stops. */
  async close (): Promise<void> {
    if (this.#timer !== null) clearInterval(this.#timer)
    this.#timer = null
    this.#closed = true
    let deadline: NodeJS.Timeout | undefined
    await Promise.race([this.flush(), new Promise((resolve) => { deadline = setTimeout(resolve, this.#closeTimeoutMs) })])
    clearTimeout(deadline)
    this.#stats.dropped += this.#queue.length
    this.#queue = []
    if (this.#ownsPool) await this.pool.end().catch(() => {})
  }

  /** Starts one INSERT of the next batch unless one is already running. */
  #flushSoon (): void {
    if (this.#inFlight !== null || this.#queue.length === 0) return
    const batch = this.#queue.splice(0, this.#batchSize)
    this.#inFlight = this.#insert(batch).then(() => {
      this.#stats.written += batch.length
    }, () => {
      this.#stats.failed += batch.length
    }).finally(() => {
      this.#inFlight = null
      if (this.#queue.length >= this.#batchSize) this.#flushSoon()
    })
  }

  async #insert (batch: AuditEntry[]): Promise<void> {
    const values: unknown[] = []
    const rows = batch.map((entry) => {
      const start = values.length
      values.push(entry.at, entry.service, entry.method, entry.route, entry.app, entry.scheme, entry.user, entry.outcome,
        entry.statusCode, entry.missingScopes, entry.durationMs)
      return `(${COLUMNS.map((_, i) => `$${start + i + 1}`).join(', ')})`
    })
    await this.pool.query(`INSERT INTO ${this.#table} (${COLUMNS.join(', ')}) VALUES ${rows.join(', ')}`, values)
  }
}
