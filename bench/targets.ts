/**
 * The benchmark's targets, judged within one run from a results object (bench/results.json).
 * The figure is the server CPU a scenario adds per request over `bare`, both offered the same
 * fixed rate in alternation within a round (bench/run.ts); a ratio to a peer is the median over
 * rounds of the per-round ratios.
 * Alone: `node --import tsx bench/targets.ts [bench/results.json]` prints the verdicts.
 */
import { readFileSync } from 'node:fs'
import { join } from 'node:path'
import { JOBS } from './scenarios.js'

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
  /** Median over rounds of (this scenario's server CPU per request − bare's next to it, at the fixed rate), µs. */
  addedCpuUs: number
  rounds: RoundResult[]
  [extra: string]: unknown
}

export interface Verdict {
  target: string
  value: string
  pass: boolean | null
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

function median (values: number[]): number {
  const sorted = [...values].sort((a, b) => a - b)
  const mid = Math.floor(sorted.length / 2)
  return sorted.length % 2 === 1 ? sorted[mid] : (sorted[mid - 1] + sorted[mid]) / 2
}

/**
 * What `ours` adds over bare as a fraction of what the best (cheapest) of `peers` adds, per
 * round, then the median; with the best peer's name.
 */
export function addedRatio (results: Judged, ours: string, peers: string[]): { ratio: number, peer: string } | undefined {
  const mine = measured(results, ours)
  const theirs = peers.map((name) => ({ name, result: measured(results, name) })).filter((p) => p.result !== undefined)
  if (mine === undefined || theirs.length === 0) return undefined
  const best = theirs.reduce((a, b) => (a.result!.addedCpuUs <= b.result!.addedCpuUs ? a : b))
  const perRound = mine.rounds.map((round, i) => {
    const peerRound = best.result!.rounds[i]
    return round.addedCpuUs === null || peerRound?.addedCpuUs == null ? NaN : round.addedCpuUs / Math.max(0.01, peerRound.addedCpuUs)
  }).filter((value) => Number.isFinite(value))
  return perRound.length === 0 ? undefined : { ratio: median(perRound), peer: best.name }
}

export function judge (results: Judged): Verdict[] {
  const verdicts: Verdict[] = []
  const versus = (job: keyof typeof JOBS, max: number): void => {
    const { ours, peers } = JOBS[job]
    const label = `${ours} adds <= ${max}x what the best peer adds`
    const found = addedRatio(results, ours, peers)
    verdicts.push(found === undefined
      ? { target: label, value: 'not measured', pass: null }
      : { target: label, value: `${found.ratio.toFixed(3)}x ${found.peer}`, pass: found.ratio <= max })
  }
  versus('jwt-hs256', 0.6)
  versus('rfc9421-hmac', 0.5)
  const cached = measured(results, 'jwt-cached')
  verdicts.push(cached === undefined
    ? { target: 'jwt-cached adds <= 1.5 us', value: 'not measured', pass: null }
    : { target: 'jwt-cached adds <= 1.5 us', value: `${cached.addedCpuUs.toFixed(2)} us`, pass: cached.addedCpuUs <= 1.5 })
  const edRatio = results.micro?.ed25519PathRatio
  verdicts.push(edRatio === undefined
    ? { target: 'Ed25519 verify <= 1.1x raw node:crypto', value: 'not measured', pass: null }
    : { target: 'Ed25519 verify <= 1.1x raw node:crypto', value: `${edRatio.toFixed(3)}x`, pass: edRatio <= 1.1 })
  for (const size of ['single', 'batch100'] as const) {
    const label = `webhook receive log (${size === 'single' ? 'single events' : 'batches of 100'}) >= ${WEBHOOK_RECEIVE_TARGET}x a plain INSERT loop`
    const webhooks = results.webhooks
    const ratio = webhooks === undefined || 'skipped' in webhooks ? undefined : webhooks.receive[size].ratio
    verdicts.push(ratio === undefined
      ? { target: label, value: 'not measured', pass: null }
      : { target: label, value: `${ratio.toFixed(2)}x`, pass: ratio >= WEBHOOK_RECEIVE_TARGET })
  }
  return verdicts
}

export function formatVerdicts (verdicts: Verdict[]): string {
  return verdicts.map((v) => `${v.pass === null ? 'n/a ' : v.pass ? 'PASS' : 'MISS'}  ${v.target.padEnd(52)} ${v.value}`).join('\n')
}

if (require.main === module) {
  const file = process.argv[2] ?? join(__dirname, 'results.json')
  console.log(formatVerdicts(judge(JSON.parse(readFileSync(file, 'utf8')) as Judged)))
}
