/**
 * `npm run fuzz -- --requests 5000 [--seed 1234] [--concurrency 16]`
 *
 * Sends N mutated JWT and signed requests to a real server on 127.0.0.1 and prints the counts.
 * Exits 1 when any of 5xx responses, crashes, forged requests accepted (or key material in a log
 * line) is not 0; 2 on a usage error.
 */
import { failures, runFuzz } from './run.js'

function usage (message: string): never {
  process.stderr.write(`${message}\nusage: npm run fuzz -- [--requests N] [--seed S] [--concurrency C]\n`)
  process.exit(2)
}

function parseArgs (argv: string[]): { requests: number, seed?: number, concurrency: number } {
  const out: { requests: number, seed?: number, concurrency: number } = { requests: 1000, concurrency: 16 }
  for (let i = 0; i < argv.length; i++) {
    const [flag, inline] = argv[i].split('=', 2)
    const value = inline ?? argv[++i]
    const number = Number(value)
    if (value === undefined || !Number.isSafeInteger(number) || number < 0) usage(`${flag} needs a non-negative integer`)
    if (flag === '--requests' || flag === '-n') out.requests = number
    else if (flag === '--seed') out.seed = number
    else if (flag === '--concurrency' || flag === '-c') out.concurrency = Math.max(1, number)
    else usage(`unknown flag ${flag}`)
  }
  return out
}

async function main (): Promise<void> {
  const args = parseArgs(process.argv.slice(2))
  const started = Date.now()
  const report = await runFuzz({ ...args, onProgress: (done) => process.stderr.write(`  ${done} requests...\n`) })
  const seconds = (Date.now() - started) / 1000
  const lines = [
    `fuzz: ${report.requests} requests in ${seconds.toFixed(1)} s (seed ${report.seed}, 127.0.0.1)`,
    `  5xx responses:            ${report.fiveXX}`,
    `  crashes:                  ${report.crashes}`,
    `  forged requests accepted: ${report.forgedAccepted}`,
    `  log lines with key material: ${report.secretLogLines}`,
    `  valid requests accepted:  ${report.validAccepted}/${report.validSent}`,
    `  mutated requests accepted (judged benign): ${report.mutatedAccepted}`,
    `  replays refused:          ${report.replaysRefused}`,
    `  no response:              ${report.noResponse}`,
    `  statuses: ${JSON.stringify(report.statuses)}`,
    `  mutations: ${JSON.stringify(report.byMutation)}`
  ]
  process.stdout.write(lines.join('\n') + '\n')
  if (report.samples.length > 0) process.stdout.write('samples:\n' + report.samples.map((s) => '  ' + s).join('\n') + '\n')
  const failed = failures(report)
  if (failed.length > 0) {
    process.stdout.write(`FAIL: ${failed.join(', ')}\n`)
    process.exit(1)
  }
  process.stdout.write('OK: no 5xx, no crash, no forgery accepted\n')
}

main().catch((error: unknown) => {
  process.stderr.write(`fuzz: ${error instanceof Error ? error.stack ?? error.message : String(error)}\n`)
  process.exit(1)
})
