/**
 * The webhook part of `npm run bench` (PostgreSQL only): events/s into the receive log against a
 * plain INSERT ... ON CONFLICT loop (bench/webhooks-receive.ts), and end-to-end delivery between
 * two local services with the delay from `send` to stored (bench/webhooks-e2e.ts).
 */
import { benchEndToEnd, type EndToEndResult } from './webhooks-e2e.js'
import { benchReceive, type BenchReceiveResult } from './webhooks-receive.js'

export interface WebhookBenchResults {
  receive: BenchReceiveResult
  /** As fast as `senders` callers can send: throughput, and the delay of a backlog. */
  endToEnd: EndToEndResult & { senders: number, concurrency: number }
  /** At a steady rate the workers keep up with: the delay of one event. */
  paced: EndToEndResult & { ratePerSecond: number }
}

export async function benchWebhooks (quick: boolean, log: (line: string) => void): Promise<WebhookBenchResults> {
  log('webhooks: receive log vs a plain INSERT ... ON CONFLICT loop ...')
  const receive = await benchReceive({ events: quick ? 500 : 2000, rounds: quick ? 1 : 3, concurrency: 8 })
  for (const [name, figures] of Object.entries({ single: receive.single, batch100: receive.batch100 })) {
    log(`webhooks receive ${name.padEnd(8)} ${Math.round(figures.eventsPerSecond)} events/s vs ${Math.round(figures.baselinePerSecond)} plain  ratio ${figures.ratio.toFixed(2)}`)
  }
  const senders = 4
  const concurrency = 10
  log('webhooks: end to end between two services ...')
  const endToEnd = await benchEndToEnd({ events: quick ? 200 : 1000, senders, concurrency })
  log(`webhooks end to end ${Math.round(endToEnd.eventsPerSecond)} events/s  p50 ${Math.round(endToEnd.p50Ms)} ms  p99 ${Math.round(endToEnd.p99Ms)} ms (${endToEnd.events} events)`)
  const ratePerSecond = 50
  const paced = await benchEndToEnd({ events: quick ? 100 : 500, ratePerSecond, concurrency })
  log(`webhooks at ${ratePerSecond} events/s: p50 ${Math.round(paced.p50Ms)} ms  p99 ${Math.round(paced.p99Ms)} ms (${paced.events} events)`)
  return { receive, endToEnd: { ...endToEnd, senders, concurrency }, paced: { ...paced, ratePerSecond } }
}
