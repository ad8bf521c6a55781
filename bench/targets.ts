/**
 * The benchmark's targets, judged within one run from a results object (bench/results.json).
 * The figure is the server CPU a scenario's route adds per request over the same server's
 * unprotected control route, both offered the same fixed rate in alternation (bench/run.ts):
 * the mean of the paired differences of every round, with its 95 % interval. A bar is passed
 * only when the whole interval is under it (bench/stats.ts atMost).
 * Alone: `node --import tsx bench/targets.ts [bench/results.json]` prints the verdicts.
 */
import { readFileSync } from 'node:fs'
import { join } from 'node:path'
import { JOBS } from './scenarios.js'
import { atMost, meanInterval, ratioInterval, type Interval } from './stats.js'

export interface RoundResult {
  rps: number
  cpuUsPerReq: number
  addedCpuUs: number | null
  [extra: string]: unknown
}

export interface ScenarioResult {
  rps: number
  p50Ms: number
  p99Ms: number
  cpuUsPerReq: number
  ratioToBare: number
  /** Mean over every pair of slices of (the route's CPU per request − the control route's), µs. */
  addedCpuUs: number
  /** Every paired difference, all rounds, µs: what the intervals are taken from. */
  differences: number[]
  rounds: RoundResult[]
  [extra: string]: unknown
}

export interface Verdict {
  target: string
  value: string
  verdict: 'pass' | 'miss' | 'unresolved' | 'not measured'
}

export interface Judged {
  scenarios: Record<string, ScenarioResult | { skipped: string }>
  micro?: { ed25519PathRatio: number }
  webhooks?: { receive: { single: { ratio: number }, batch100: { ratio: number } } } | { skipped: string }
}

/** Events/s into the PostgreSQL receive log, as a share of a plain INSERT ... ON CONFLICT loop. */
export const WEBHOOK_RECEIVE_TARGET = 0.8

export function measured (results: Judged, name: string): ScenarioResult | undefined {
  const entry = results.scenarios[name]
  return entry === undefined || 'skipped' in entry ? undefined : entry
}

/** What a scenario adds over its control route, with the 95 % interval. */
export function addedInterval (result: ScenarioResult): Interval {
  return meanInterval(result.differences)
}

export const formatInterval = (interval: Interval, digits: number, unit = ''): string =>
  `${interval.value.toFixed(digits)}${unit} (95 % interval ${interval.low.toFixed(digits)} to ${interval.high.toFixed(digits)})`

/**
 * What `ours` adds as a fraction of what the best (cheapest on average) of `peers` adds: the
 * ratio of the means, with its 95 % interval; with the best peer's name.
 */
export function addedRatio (results: Judged, ours: string, peers: string[]): { ratio: Interval, peer: string } | undefined {
  const mine = measured(results, ours)
  const theirs = peers.map((name) => ({ name, result: measured(results, name) })).filter((p) => p.result !== undefined)
  if (mine === undefined || theirs.length === 0) return undefined
  const best = theirs.reduce((a, b) => (a.result!.addedCpuUs <= b.result!.addedCpuUs ? a : b))
  return { ratio: ratioInterval(mine.differences, best.result!.differences), peer: best.name }
}

const pointVerdict = (pass: boolean): Verdict['verdict'] => (pass ? 'pass' : 'miss')

export function judge (results: Judged): Verdict[] {
  const verdicts: Verdict[] = []
  const versus = (job: keyof typeof JOBS, max: number): void => {
    const { ours, peers } = JOBS[job]
    const target = `${ours} adds <= ${max}x what the best peer adds`
    const found = addedRatio(results, ours, peers)
    verdicts.push(found === undefined
      ? { target, value: 'not measured', verdict: 'not measured' }
      : { target, value: `${formatInterval(found.ratio, 3, 'x')} ${found.peer}`, verdict: atMost(found.ratio, max) })
  }
  versus('jwt-hs256', 0.6)
  versus('rfc9421-hmac', 0.5)
  const cached = measured(results, 'jwt-cached')
  const cachedTarget = 'jwt-cached adds <= 1.5 us'
  if (cached === undefined) verdicts.push({ target: cachedTarget, value: 'not measured', verdict: 'not measured' })
  else {
    const added = addedInterval(cached)
    verdicts.push({ target: cachedTarget, value: formatInterval(added, 2, ' us'), verdict: atMost(added, 1.5) })
  }
  const edRatio = results.micro?.ed25519PathRatio
  const edTarget = 'Ed25519 verify <= 1.1x raw node:crypto'
  verdicts.push(edRatio === undefined
    ? { target: edTarget, value: 'not measured', verdict: 'not measured' }
    : { target: edTarget, value: `${edRatio.toFixed(3)}x`, verdict: pointVerdict(edRatio <= 1.1) })
  for (const size of ['single', 'batch100'] as const) {
    const target = `webhook receive log (${size === 'single' ? 'single events' : 'batches of 100'}) >= ${WEBHOOK_RECEIVE_TARGET}x a plain INSERT loop`
    const webhooks = results.webhooks
    const ratio = webhooks === undefined || 'skipped' in webhooks ? undefined : webhooks.receive[size].ratio
    verdicts.push(ratio === undefined
      ? { target, value: 'not measured', verdict: 'not measured' }
      : { target, value: `${ratio.toFixed(2)}x`, verdict: pointVerdict(ratio >= WEBHOOK_RECEIVE_TARGET) })
  }
  return verdicts
}

export const VERDICT_LABELS: Record<Verdict['verdict'], string> = { pass: 'PASS', miss: 'MISS', unresolved: 'UNRESOLVED', 'not measured': 'n/a' }

export function formatVerdicts (verdicts: Verdict[]): string {
  return verdicts.map((v) => `${VERDICT_LABELS[v.verdict].padEnd(10)}  ${v.target.padEnd(52)} ${v.value}`).join('\n')
}

if (require.main === module) {
  const file = process.argv[2] ?? join(__dirname, 'results.json')
  console.log(formatVerdicts(judge(JSON.parse(readFileSync(file, 'utf8')) as Judged)))
}
