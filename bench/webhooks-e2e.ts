/**
 * End-to-end webhook delivery between two local services on PostgreSQL: a sending process
 * (linkedWebhooks: the outbox, pg-boss) and a receiving process (linkedWebhooks' receive log), each on its own
 * schema, linked by an HMAC key. N events are sent (by `senders` concurrent HTTP calls to the
 * sending service, each sending its share one after the other); an event's delay runs from just
 * before its `send` to its row's `received_at` in the receiver's log (one machine, one clock).
 * Events/s is N over the time from the first send to the last event stored.
 *
 *   node --import tsx bench/webhooks-e2e.ts [events]     (DATABASE_URL, default the test database)
 */
import { getJson, linkedPair, postJson, RECEIVER_APP, spawnService, stopAll, EVENT_TYPE } from '../test/fixtures/webhook-processes.js'

export interface EndToEndOptions {
  /** Default env DATABASE_URL, else postgres://postgres@127.0.0.1:5432/test. */
  databaseUrl?: string
  /** Events sent. Default 1000. */
  events?: number
  /** Concurrent `send` callers. Default 4. */
  senders?: number
  /** Deliveries at once in the sending process. Default 10. */
  concurrency?: number
  /** Give up waiting for the last event after this long. Default 120 s. */
  timeoutMs?: number
  /**
   * Send at this steady rate (one event per call, on a timer) instead of as fast as `senders`
   * callers can: the delay of an event that finds the workers idle, not of a backlog.
   */
  ratePerSecond?: number
}

export interface EndToEndResult {
  eventsPerSecond: number
  p50Ms: number
  p99Ms: number
  events: number
}

function percentile (sorted: number[], p: number): number {
  return sorted[Math.min(sorted.length - 1, Math.ceil((p / 100) * sorted.length) - 1)]
}

export async function benchEndToEnd (options: EndToEndOptions = {}): Promise<EndToEndResult> {
  const databaseUrl = options.databaseUrl ?? process.env.DATABASE_URL ?? 'postgres://postgres@127.0.0.1:5432/test'
  const events = options.events ?? 1000
  const senders = Math.max(1, Math.min(options.senders ?? 4, events))
  const pair = await linkedPair(databaseUrl, 'bench_e2e')
  try {
    const receiver = await spawnService('webhook-receiver', { DATABASE_URL: databaseUrl, LS_SCHEMA: pair.receiverSchema })
    await pair.linkTo(receiver.port)
    const sender = await spawnService('webhook-sender', {
      DATABASE_URL: databaseUrl, LS_SCHEMA: pair.senderSchema, LS_CONCURRENCY: String(options.concurrency ?? 10)
    })
    // One event through first, so that pg-boss's queue and both processes' connections are warm.
    await postJson(`${sender.url}/send`, { app: RECEIVER_APP, type: EVENT_TYPE, data: { warmup: true } })

    const send = async (data: Record<string, unknown>, count: number): Promise<{ ids: number[], sentAt: number[] }> =>
      await postJson<{ ids: number[], sentAt: number[] }>(`${sender.url}/send`, { app: RECEIVER_APP, type: EVENT_TYPE, data, count })
    let sent: Array<{ ids: number[], sentAt: number[] }>
    if (options.ratePerSecond !== undefined) {
      const interval = 1000 / options.ratePerSecond
      const started = performance.now()
      sent = await Promise.all(Array.from({ length: events }, async (_, n) => {
        await new Promise((resolve) => setTimeout(resolve, Math.max(0, started + n * interval - performance.now())))
        return await send({ paced: n }, 1)
      }))
    } else {
      const shares = Array.from({ length: senders }, (_, i) => Math.floor(events / senders) + (i < events % senders ? 1 : 0))
      sent = await Promise.all(shares.map(async (count, caller) => await send({ caller }, count)))
    }
    const sentAt = new Map<string, number>()
    for (const share of sent) share.ids.forEach((id, i) => sentAt.set(String(id), share.sentAt[i]))

    const deadline = Date.now() + (options.timeoutMs ?? 120_000)
    let stored: Array<{ external_id: string, at: number }> = []
    for (;;) {
      const { rows } = await pair.receiverStore.pool.query(
        `SELECT external_id, (extract(epoch from received_at) * 1000)::float8 AS at FROM "${pair.receiverSchema}".webhook_log
         WHERE type = $1 AND external_id = ANY($2::text[])`, [EVENT_TYPE, [...sentAt.keys()]])
      stored = rows
      if (stored.length >= sentAt.size) break
      if (Date.now() > deadline) throw new Error(`only ${stored.length} of ${sentAt.size} events stored within the time limit`)
      await new Promise((resolve) => setTimeout(resolve, 50))
    }
    const delays = stored.map((row) => row.at - (sentAt.get(row.external_id) as number)).sort((a, b) => a - b)
    const first = Math.min(...sentAt.values())
    const last = Math.max(...stored.map((row) => row.at))
    const posts = await getJson<Record<string, number>>(`${receiver.url}/posts`)
    const duplicates = [...sentAt.keys()].reduce((sum, id) => sum + Math.max(0, (posts[id] ?? 0) - 1), 0)
    if (duplicates > 0) process.stderr.write(`webhooks-e2e: ${duplicates} events were POSTed more than once\n`)
    await sender.stop()
    await receiver.stop()
    return {
      eventsPerSecond: Math.round(events / ((last - first) / 1000)),
      p50Ms: Math.round(percentile(delays, 50) * 10) / 10,
      p99Ms: Math.round(percentile(delays, 99) * 10) / 10,
      events
    }
  } finally {
    await stopAll()
    await pair.close()
  }
}

if (require.main === module) {
  const events = Number(process.argv.find((arg) => /^\d+$/.test(arg)) ?? 1000)
  benchEndToEnd({ events }).then((result) => {
    process.stdout.write(JSON.stringify(result) + '\n')
  }, (error: unknown) => {
    process.stderr.write(`webhooks-e2e failed: ${String((error as Error)?.stack ?? error)}\n`)
    process.exitCode = 1
  })
}
