/**
 * The benchmark's targets, judged within one run from a results object (bench/results.json).
 * Each server's route is measured against the same server's unprotected control route, at the
 * same fixed rate in alternation (bench/run.ts), giving paired differences. What a scenario adds
 * over `bare` is the mean of its differences minus the mean of bare's (the two routes of a server
 * are not quite alike, and bare's pairs measure by how much), with its 95 % interval. A bar is
 * passed only when the whole interval is under it (bench/stats.ts atMost).
 * Alone: `node --import tsx bench/targets.ts [bench/results.json]` prints the verdicts.
 */
import { readFileSync } from 'node:fs'
import { join } from 'node:path'
import { JOBS } from './scenarios.js'
import { atMost, mean, meanInterval, ratioInterval, type Interval } from './stats.js'

export interface RoundResult {
  rps: number
  cpuUsPerReq: number
  /** This round's mean of route − control (not over bare), µs. */
  addedCpuUs: number | null
  [extra: string]: unknown
}

export interface ScenarioResult {
  rps: number
  p50Ms: number
  p99Ms: number
  cpuUsPerReq: number
  ratioToBare: number
  /** What the scenario adds over bare, µs (addedInterval; for bare itself: its route − its control). */
  addedCpuUs: number
  /** Every paired difference, all rounds, µs: what the intervals are taken from. */
  differences: number[]
  /** The rate (req/s) of `differences`. */
  rate?: number
  /** The differences at each rate the scenario was measured at, `rate`'s included (bare's: the offsets of the figures taken there). */
  byRate?: Record<string, number[]>
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

/** A scenario's differences at `rate` (none when it was not measured there); at its own rate when none is given. */
function differencesAt (result: ScenarioResult, rate?: number): number[] {
  if (rate === undefined || rate === result.rate) return result.differences
  return result.byRate?.[String(rate)] ?? []
}

/**
 * bare's differences at a rate: what the design's two routes differ by there with no auth at all
 * (none when bare was not run). Results written before rates had groups: bare's only ones.
 */
function offsetAt (results: Judged, rate: number | undefined): number[] {
  const bare = measured(results, 'bare')
  if (bare === undefined) return []
  return rate === undefined ? bare.differences : bare.byRate?.[String(rate)] ?? bare.differences
}

/** The rate a figure is taken at: the one asked for, else the scenario's own. */
const rateFor = (result: ScenarioResult, rate?: number): number | undefined => rate ?? result.rate

/**
 * What a scenario adds over bare, with its 95 % interval: the mean of its route − control
 * differences minus the mean of bare's at the same rate (the scenario's own, unless `rate` is
 * given). For bare itself: its route − its control, the offset (and the resolution) of the
 * method in this run.
 */
export function addedInterval (results: Judged, name: string, rate?: number): Interval {
  const result = measured(results, name)
  if (result === undefined) return { value: NaN, low: NaN, high: NaN }
  const samples = differencesAt(result, rate)
  return meanInterval(samples, name === 'bare' ? [] : offsetAt(results, rateFor(result, rate)))
}

/** The results with every scenario's addedCpuUs (and its interval) taken over bare, as addedInterval. */
export function withAddedFigures<T extends Judged> (results: T): T {
  const round2 = (value: number): number => Math.round(value * 100) / 100
  for (const name of Object.keys(results.scenarios)) {
    const result = measured(results, name)
    if (result === undefined) continue
    const added = addedInterval(results, name)
    Object.assign(result, { addedCpuUs: round2(added.value), addedLowUs: round2(added.low), addedHighUs: round2(added.high) })
  }
  return results
}

/** `value` with `digits` decimals; a figure that could not be taken (NaN) shows as n/a. */
export const fixed = (value: number, digits: number): string => (Number.isFinite(value) ? value.toFixed(digits) : 'n/a')

/** `value unit (label low to high)`, each as `fixed`. */
export function formatInterval (interval: Interval, digits: number, unit = '', label = '95 % interval '): string {
  return `${fixed(interval.value, digits)}${unit} (${label}${fixed(interval.low, digits)} to ${fixed(interval.high, digits)})`
}

/**
 * What `ours` adds as a fraction of what the best (cheapest on average) of `peers` adds: the
 * ratio of the means, with its 95 % interval; with the best peer's name. At `ours`' own rate
 * unless `rate` is given (peers not measured there do not count).
 */
export function addedRatio (results: Judged, ours: string, peers: string[], rate?: number): { ratio: Interval, peer: string } | undefined {
  const mine = measured(results, ours)
  if (mine === undefined) return undefined
  const at = rateFor(mine, rate)
  const theirs = peers.flatMap((name) => {
    const result = measured(results, name)
    const samples = result === undefined ? [] : differencesAt(result, at)
    return samples.length === 0 ? [] : [{ name, samples }]
  })
  const samples = differencesAt(mine, at)
  if (samples.length === 0 || theirs.length === 0) return undefined
  const best = theirs.reduce((a, b) => (mean(a.samples) <= mean(b.samples) ? a : b))
  return { ratio: ratioInterval(samples, best.samples, offsetAt(results, at)), peer: best.name }
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
    const added = addedInterval(results, 'jwt-cached')
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
