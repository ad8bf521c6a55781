/**
 * `npm run bench -- --instructions`: instructions per call of the scope hook, counted by
 * valgrind's callgrind (a count, not a time: the same for the same code on a busy machine, to
 * within a fraction of a percent). One process (bench/instructions-child.cjs, the BUILT package,
 * V8 on one thread) warms each path up, then makes `count` calls between a zeroing and a dump
 * of callgrind's counters; instructions per call = the dump's total / count.
 * Alone: `node --import tsx bench/instructions.ts [count]`.
 */
import { execFileSync, spawn, spawnSync } from 'node:child_process'
import { mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { createInterface } from 'node:readline'
import { loadSigners } from './package.js'
import { APP_NAME, benchApps, CALLER, ROUTE_SCOPE, SIGNATURE_OPTIONS, SIGNER_HMAC, SIGNER_LEGACY, TARGET_HMAC } from './scenarios.js'

export interface InstructionResults {
  /** Instructions per call of the scope hook, by path. */
  perCall: Record<string, number>
  /** Bytes of heap allocated per call (young generation, no collection in between). */
  allocatedPerCall: Record<string, number>
  count: number
  warmup: number
  tool: string
}

const AUTHORITY = '127.0.0.1:3000'
/** Young generation size (MB): larger than what the measured calls allocate, so that no collection runs among them. */
const SEMI_SPACE_MB = 256

export function valgrindAvailable (): boolean {
  return spawnSync('valgrind', ['--version'], { encoding: 'utf8' }).status === 0
}

function requests (total: number): Array<{ name: string, requests: Array<Record<string, string>> }> {
  const { signJwt, signRequest } = loadSigners()
  const jwt = (i: number | null): string => signJwt({ appName: CALLER, app: TARGET_HMAC, sub: '', expiresIn: 3600, claims: i === null ? undefined : { jti: String(i) } })
  const many = <T>(make: (i: number) => T): T[] => Array.from({ length: total }, (_, i) => make(i))
  const start = Date.now() - total - 1
  return [
    { name: 'jwt-cached', requests: [{ authorization: `Link App=${CALLER},Token=${jwt(null)}` }] },
    { name: 'jwt-new', requests: many((i) => ({ authorization: `Link App=${CALLER},Token=${jwt(i)}` })) },
    {
      name: 'rfc9421-hmac',
      requests: many(() => ({ host: AUTHORITY, ...signRequest({ appName: SIGNER_HMAC, app: TARGET_HMAC, method: 'GET', url: '/', authority: AUTHORITY }).headers }))
    },
    {
      name: 'legacy',
      requests: many((i) => ({ host: AUTHORITY, ...signRequest({ appName: SIGNER_LEGACY, app: TARGET_HMAC, method: 'GET', url: '/', authority: AUTHORITY, scheme: 'legacy', now: start + i }).headers }))
    }
  ]
}

/** The total of the events line of a callgrind dump (instructions: `--collect` counts Ir only). */
function dumpTotal (file: string): number {
  const match = /^(?:summary|totals): (\d+)/m.exec(readFileSync(file, 'utf8'))
  if (match === null) throw new Error(`no totals in ${file}`)
  return Number(match[1])
}

export async function countInstructions (count = 2000, warmup = 3000): Promise<InstructionResults> {
  const dir = mkdtempSync(join(tmpdir(), 'ls-callgrind-'))
  try {
    const paths = requests(count + warmup)
    const requestsFile = join(dir, 'requests.json')
    writeFileSync(requestsFile, JSON.stringify({ apps: benchApps(), appName: APP_NAME, scope: ROUTE_SCOPE, signature: SIGNATURE_OPTIONS, paths }))
    const child = spawn('valgrind', [
      '--tool=callgrind', `--callgrind-out-file=${join(dir, 'cg.out')}`, '--dump-instr=no', '--compress-strings=no',
      process.execPath, '--single-threaded', '--expose-gc', `--min-semi-space-size=${SEMI_SPACE_MB}`, `--max-semi-space-size=${SEMI_SPACE_MB}`, join(__dirname, 'instructions-child.cjs'), String(count), String(warmup), requestsFile
    ], { stdio: ['pipe', 'pipe', 'pipe'] })
    let stderr = ''
    child.stderr.on('data', (chunk: Buffer) => { stderr += chunk.toString() })
    const exited = new Promise<number | null>((resolve) => child.on('exit', (code) => resolve(code)))
    const perCall: Record<string, number> = {}
    const allocatedPerCall: Record<string, number> = {}
    const control = (...args: string[]): void => { execFileSync('callgrind_control', [...args, String(child.pid)], { stdio: 'ignore' }) }
    for await (const line of createInterface({ input: child.stdout })) {
      const [event, name, allocated] = line.split(' ')
      if (event === 'ready') {
        control('--zero')
        child.stdin.write('go\n')
      } else if (event === 'done') {
        const before = new Set(readdirSync(dir))
        control(`--dump=${name}`)
        const dump = readdirSync(dir).find((file) => file.startsWith('cg.out') && !before.has(file))
        if (dump === undefined) throw new Error(`callgrind wrote no dump for ${name}`)
        perCall[name] = Math.round(dumpTotal(join(dir, dump)) / count)
        // A negative or implausible figure means a collection ran among the calls.
        const bytes = Number(allocated)
        if (!(bytes > 0)) throw new Error(`${name}: a garbage collection ran among the measured calls; raise SEMI_SPACE_MB`)
        allocatedPerCall[name] = Math.round(bytes / count)
        child.stdin.write('go\n')
      }
    }
    const code = await exited
    if (code !== 0) throw new Error(`the callgrind run failed (${String(code)}): ${stderr.split('\n').filter((l) => !l.startsWith('==')).join('\n').slice(-2000)}`)
    return { perCall, allocatedPerCall, count, warmup, tool: `callgrind (${spawnSync('valgrind', ['--version'], { encoding: 'utf8' }).stdout.trim()})` }
  } finally {
    rmSync(dir, { recursive: true, force: true })
  }
}

if (require.main === module) {
  const count = Number(process.argv[2] ?? 2000)
  countInstructions(count).then((results) => { console.log(JSON.stringify(results, null, 2)) }, (error: unknown) => {
    console.error(error)
    process.exit(1)
  })
}
