/**
 * The targets of DESIGN.md section 3, judged from a results object (bench/results.json).
 * Alone: `node --import tsx bench/targets.ts [bench/results.json]` prints the verdicts.
 */
import { readFileSync } from 'node:fs'
import { join } from 'node:path'

export interface ScenarioResult {
  rps: number
  p50Ms: number
  p99Ms: number
  cpuUsPerReq: number
  ratioToBare: number
  [extra: string]: unknown
}

export interface Verdict {
  target: string
  value: string
  pass: boolean | null
}

interface Judged {
  scenarios: Record<string, ScenarioResult | { skipped: string }>
  micro?: { ed25519PathRatio: number }
}

function measured (results: Judged, name: string): ScenarioResult | undefined {
  const entry = results.scenarios[name]
  return entry === undefined || 'skipped' in entry ? undefined : entry
}

export function judge (results: Judged): Verdict[] {
  const verdicts: Verdict[] = []
  const ratio = (name: string, min: number, label: string): void => {
    const s = measured(results, name)
    verdicts.push(s === undefined
      ? { target: label, value: 'not measured', pass: null }
      : { target: label, value: `${s.ratioToBare.toFixed(3)} of bare`, pass: s.ratioToBare >= min })
  }
  ratio('jwt-cached', 0.9, 'jwt-cached >= 0.90 of bare')
  const cold = measured(results, 'jwt-cold')
  const peer = measured(results, 'fastify-jwt')
  verdicts.push(cold === undefined || peer === undefined
    ? { target: 'jwt-cold above fastify-jwt', value: 'not measured', pass: null }
    : {
        target: 'jwt-cold above fastify-jwt',
        value: `${Math.round(cold.rps)} vs ${Math.round(peer.rps)} req/s (${(cold.rps / peer.rps).toFixed(3)}x)`,
        pass: cold.rps > peer.rps
      })
  ratio('signature-hmac', 0.75, 'signature-hmac >= 0.75 of bare')
  const edRatio = results.micro?.ed25519PathRatio
  verdicts.push(edRatio === undefined
    ? { target: 'Ed25519 verify <= 1.2x raw node:crypto', value: 'not measured', pass: null }
    : { target: 'Ed25519 verify <= 1.2x raw node:crypto', value: `${edRatio.toFixed(3)}x`, pass: edRatio <= 1.2 })
  const pg = measured(results, 'jwt-cached-postgres')
  const cached = measured(results, 'jwt-cached')
  verdicts.push(pg === undefined || cached === undefined
    ? { target: 'jwt-cached-postgres >= 0.95 of jwt-cached', value: 'not measured', pass: null }
    : {
        target: 'jwt-cached-postgres >= 0.95 of jwt-cached',
        value: `${(pg.ratioToBare / cached.ratioToBare).toFixed(3)} of jwt-cached`,
        pass: pg.ratioToBare / cached.ratioToBare >= 0.95
      })
  return verdicts
}

export function formatVerdicts (verdicts: Verdict[]): string {
  return verdicts.map((v) => `${v.pass === null ? 'n/a ' : v.pass ? 'PASS' : 'MISS'}  ${v.target.padEnd(44)} ${v.value}`).join('\n')
}

if (require.main === module) {
  const file = process.argv[2] ?? join(__dirname, 'results.json')
  console.log(formatVerdicts(judge(JSON.parse(readFileSync(file, 'utf8')) as Judged)))
}
