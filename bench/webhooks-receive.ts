/**
 * Events per second into the PostgreSQL receive log, on the write path the receiver route takes
 * (parse and check the body, then ONE multi-row INSERT ... ON CONFLICT in autocommit: the row is
 * its own job, there is no job to insert), without HTTP, against a plain `INSERT ... ON CONFLICT`
 * per event on the same pool at the same concurrency (what a receiver that forgets its events
 * could do, written as such code usually is: an unnamed query), and against the same loop with a
 * named prepared statement (the log's own writes are prepared by default: PostgresStore's
 * `preparedStatements`). Single events, and batches of 100 (the baseline inserts the 100 one by
 * one). Each side writes into its own fresh schema (same tables, same indexes); the rounds
 * alternate and the median is kept.
 *
 *   node --import tsx bench/webhooks-receive.ts [--events 2000] [--concurrency 8] [--rounds 3]
 */
import { randomBytes } from 'node:crypto'
import pg from 'pg'
import { PostgresStore } from '../plugin/stores/postgres-store.js'
import { dedupeEvents, parseEvents } from '../plugin/webhooks/receive/events.js'
import { PostgresReceiveLog } from '../plugin/webhooks/receive/postgres-log.js'

export interface BenchReceiveOptions {
  databaseUrl?: string
  /** Events written per round and case (single: this many requests; batch100: this / 100). Default 2000. */
  events?: number
  /** Requests in flight at once, on both sides. Default 8. */
  concurrency?: number
  /** Rounds per case; the median is reported. Default 3. */
  rounds?: number
  /** Pool size (both sides share the same pool settings). Default concurrency + 2. */
  poolSize?: number
}

export interface ReceiveFigures {
  eventsPerSecond: number
  baselinePerSecond: number
  /** eventsPerSecond / baselinePerSecond. */
  ratio: number
  /** The plain loop with a named prepared statement (as the log's writes by default). */
  preparedBaselinePerSecond?: number
  /** eventsPerSecond / preparedBaselinePerSecond: the log's cost on the same footing. */
  ratioToPrepared?: number
}

export interface BenchReceiveResult {
  single: ReceiveFigures
  batch100: ReceiveFigures
  settings: { events: number, concurrency: number, rounds: number }
}

const APP = 'bench-sender'

function median (values: number[]): number {
  const sorted = [...values].sort((a, b) => a - b)
  return sorted[Math.floor(sorted.length / 2)]
}

/** Runs `requests` calls of `work`, `concurrency` at a time; returns the seconds it took. */
async function timed (requests: number, concurrency: number, work: (index: number) => Promise<void>): Promise<number> {
  let next = 0
  const start = process.hrtime.bigint()
  await Promise.all(Array.from({ length: concurrency }, async () => {
    while (next < requests) await work(next++)
  }))
  return Number(process.hrtime.bigint() - start) / 1e9
}

function bodies (batch: number, requests: number, tag: string): unknown[] {
  return Array.from({ length: requests }, (_, request) => {
    const events = Array.from({ length: batch }, (_, index) => ({ id: request * batch + index + 1, type: `bench.${tag}`, data: { request, index, note: 'a webhook of typical size' } }))
    return batch === 1 ? events[0] : events
  })
}

export async function benchReceive (options: BenchReceiveOptions = {}): Promise<BenchReceiveResult> {
  const databaseUrl = options.databaseUrl ?? process.env.DATABASE_URL ?? 'postgres://postgres@127.0.0.1:5432/test'
  const events = options.events ?? 2000
  const concurrency = options.concurrency ?? 8
  const rounds = options.rounds ?? 3
  const suffix = `${process.pid}_${randomBytes(3).toString('hex')}`
  const pool = new pg.Pool({ connectionString: databaseUrl, max: options.poolSize ?? concurrency + 2 })
  pool.on('error', () => {})
  const ours = new PostgresStore({ pool, schema: `bench_whr_ours_${suffix}` })
  const plain = new PostgresStore({ pool, schema: `bench_whr_plain_${suffix}` })
  try {
    await ours.migrate()
    await plain.migrate()
    const log = new PostgresReceiveLog({ pool, schema: ours.schema })
    const baselineSql = `INSERT INTO "${plain.schema}".webhook_log AS w (app, user_id, external_id, type, data) VALUES ($1, $2, $3, $4, $5)
      ON CONFLICT (app, (coalesce(user_id, '')), external_id, type) WHERE external_id IS NOT NULL DO UPDATE SET data = EXCLUDED.data`

    const measure = async (batch: number, round: number): Promise<{ ours: number, plain: number, prepared: number }> => {
      const requests = Math.max(1, Math.floor(events / batch))
      const tag = `${batch}.${round}`
      const ourBodies = bodies(batch, requests, tag)
      const ourSeconds = await timed(requests, concurrency, async (index) => {
        await log.record(APP, null, dedupeEvents(parseEvents(ourBodies[index], 100)))
      })
      // The plain loop as it is usually written (an unnamed query), then with a named prepared
      // statement, as the log's own writes are by default (new types: new rows, no conflicts).
      const plainLoop = async (name: string | undefined, bodyTag: string): Promise<number> => {
        const plainBodies = bodies(batch, requests, bodyTag)
        const seconds = await timed(requests, concurrency, async (index) => {
          const body = plainBodies[index]
          for (const event of (Array.isArray(body) ? body : [body]) as Array<{ id: number, type: string, data: unknown }>) {
            await pool.query({ name, text: baselineSql, values: [APP, null, String(event.id), event.type, JSON.stringify(event.data)] })
          }
        })
        return requests * batch / seconds
      }
      const plain = await plainLoop(undefined, tag)
      const prepared = await plainLoop(`bench_plain_${suffix}`, `${tag}.prepared`)
      return { ours: requests * batch / ourSeconds, plain, prepared }
    }

    const figures = async (batch: number): Promise<ReceiveFigures> => {
      await measure(batch, -1) // warm-up: connections, plans
      const results: Array<{ ours: number, plain: number, prepared: number }> = []
      for (let round = 0; round < rounds; round++) results.push(await measure(batch, round))
      const eventsPerSecond = median(results.map((result) => result.ours))
      const baselinePerSecond = median(results.map((result) => result.plain))
      const preparedPerSecond = median(results.map((result) => result.prepared))
      return {
        eventsPerSecond: Math.round(eventsPerSecond),
        baselinePerSecond: Math.round(baselinePerSecond),
        ratio: Number((eventsPerSecond / baselinePerSecond).toFixed(3)),
        preparedBaselinePerSecond: Math.round(preparedPerSecond),
        ratioToPrepared: Number((eventsPerSecond / preparedPerSecond).toFixed(3))
      }
    }

    const single = await figures(1)
    const batch100 = await figures(100)
    return { single, batch100, settings: { events, concurrency, rounds } }
  } finally {
    for (const schema of [ours.schema, plain.schema]) await pool.query(`DROP SCHEMA IF EXISTS "${schema}" CASCADE`).catch(() => {})
    await pool.end()
  }
}

function argument (name: string): number | undefined {
  const index = process.argv.indexOf(`--${name}`)
  return index === -1 ? undefined : Number(process.argv[index + 1])
}

if (require.main === module) {
  benchReceive({ events: argument('events'), concurrency: argument('concurrency'), rounds: argument('rounds') }).then((result) => {
    const line = (name: string, figures: ReceiveFigures): string =>
      `${name.padEnd(9)} ${String(figures.eventsPerSecond).padStart(7)} events/s into PostgresReceiveLog, ${String(figures.baselinePerSecond).padStart(7)} events/s plain INSERT ... ON CONFLICT loop: ratio ${figures.ratio.toFixed(2)} (target >= 0.8); ` +
      `${String(figures.preparedBaselinePerSecond)} events/s with a prepared statement: ratio ${figures.ratioToPrepared?.toFixed(2) ?? 'n/a'}`
    console.log(`webhooks-receive (${result.settings.events} events per round, concurrency ${result.settings.concurrency}, median of ${result.settings.rounds})`)
    console.log(line('single', result.single))
    console.log(line('batch100', result.batch100))
  }, (error: unknown) => {
    console.error(error)
    process.exitCode = 1
  })
}
