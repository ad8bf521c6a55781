/**
 * `npm run bench -- --instructions`: instructions per call of the scope hook (and of one peer's
 * preHandler for the same job, `fastify-jwt-new`: @fastify/jwt's jwtVerify), counted by
 * valgrind's callgrind (a count, not a time: the same for the same code on a busy machine, to
 * within a fraction of a percent). One process (bench/instructions-child.cjs, the BUILT package,
 * V8 on one thread) warms each path up, then makes `count` calls between a zeroing and a dump
 * of callgrind's counters. Instructions per call = (the dump's total − what the garbage collector
 * and the JIT compiler took, by their C++ symbols) / count; the collector's share is reported
 * beside it.
 * Alone: `node --import tsx bench/instructions.ts [count] [path,path] [--profile]`.
 */
import { execFileSync, spawn, spawnSync } from 'node:child_process'
import { mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { createInterface } from 'node:readline'
import { topFunctions, type ProfileRow } from './callgrind-profile.js'
import { loadSigners } from './package.js'
import {
  APP_NAME, benchApps, CALLER, FASTIFY_JWT, growthApps, growthCaller, ROUTE_SCOPE, SIGNATURE_OPTIONS, SIGNER_HMAC, SIGNER_LEGACY, TARGET_HMAC
} from './scenarios.js'

export interface InstructionResults {
  /** Instructions per call of the scope hook, by path: the call's own work (JS, builtins, crypto), without the collector and the JIT compiler. */
  perCall: Record<string, number>
  /** Instructions per call that the garbage collector took (what the call's allocations cost). */
  collectorPerCall: Record<string, number>
  /** Share of the measured window the JIT compiler took (left out of perCall; near 0 once warm). */
  compilerShare: Record<string, number>
  /** Windows measured per path (the count is the last; a path is measured until two windows agree). */
  windows: Record<string, number>
  /** Paths whose count had not settled after MAX_WINDOWS windows (their figure is less sure). */
  unsettled: string[]
  count: number
  warmup: number
  tool: string
  /** With `profile`: each path's costliest functions in its last window, JIT code named. */
  profile?: Record<string, ProfileRow[]>
}

const AUTHORITY = '127.0.0.1:3000'
/** The peer path counted beside a path of the plugin's, for the same job. */
export const PEER_PATHS = { 'jwt-new': 'fastify-jwt-new' } as const

/** A plugin path's instructions over its peer's (undefined unless both were counted). */
export function peerRatio (results: InstructionResults, path: keyof typeof PEER_PATHS): number | undefined {
  const ours = results.perCall[path]
  const peer = results.perCall[PEER_PATHS[path]]
  return ours === undefined || peer === undefined ? undefined : Math.round(ours / peer * 1000) / 1000
}
/** Two windows in a row whose counts differ by at most this fraction: the path has settled. */
const SETTLED = 0.005
const MAX_WINDOWS = 8

export function valgrindAvailable (): boolean {
  return spawnSync('valgrind', ['--version'], { encoding: 'utf8' }).status === 0
}

/**
 * The spread miss path: callers taken in turn from twice as many apps as the cache holds, so
 * every call misses the app and token caches (the store answers, the app is resolved, the token
 * verified); the warm-up has seen every caller once, so their key objects are built.
 */
const SPREAD = { callers: 4000, maxApps: 2000 }

interface InstructionPath {
  name: string
  requests: Array<Record<string, string>>
  /** Counted on a peer instead of the plugin's hook: `fastify-jwt` is @fastify/jwt's `request.jwtVerify()`. */
  peer?: 'fastify-jwt'
  /** Apps and plugin options of an instance of its own (else the shared one). */
  instance?: { apps: unknown[], options: Record<string, unknown> }
}

function spreadPath (): InstructionPath {
  const { signJwt } = loadSigners()
  const apps = growthApps({ apps: SPREAD.callers, scopes: 1 }).map((app) => ({ ...app, requiredScopes: [ROUTE_SCOPE] }))
  return {
    name: 'spread-miss',
    requests: apps.map((_, i) => ({ authorization: `Link App=${growthCaller(i)},Token=${signJwt({ appName: growthCaller(i), app: TARGET_HMAC, sub: '', expiresIn: 3600 })}` })),
    instance: { apps, options: { cache: { maxApps: SPREAD.maxApps }, jwt: { maxCachedTokens: SPREAD.maxApps } } }
  }
}

function requests (total: number): InstructionPath[] {
  const { signJwt, signRequest } = loadSigners()
  const jwt = (i: number | null): string => signJwt({ appName: CALLER, app: TARGET_HMAC, sub: '', expiresIn: 3600, claims: i === null ? undefined : { jti: String(i) } })
  const many = <T>(make: (i: number) => T): T[] => Array.from({ length: total }, (_, i) => make(i))
  const start = Date.now() - total - 1
  return [
    { name: 'jwt-cached', requests: [{ authorization: `Link App=${CALLER},Token=${jwt(null)}` }] },
    { name: 'jwt-new', requests: many((i) => ({ authorization: `Link App=${CALLER},Token=${jwt(i)}` })) },
    // jwt-new's peer, the fastify-jwt scenario's preHandler, with the same new tokens: the ratio
    // of the two is a count, which a busy machine does not move (the headline's is a time).
    { name: PEER_PATHS['jwt-new'], peer: 'fastify-jwt', requests: many((i) => ({ authorization: `Bearer ${jwt(i)}` })) },
    {
      name: 'rfc9421-hmac',
      // signRequest returns the Host it signed among the headers to send.
      requests: many(() => signRequest({ appName: SIGNER_HMAC, app: TARGET_HMAC, method: 'GET', url: '/', authority: AUTHORITY }).headers)
    },
    {
      name: 'legacy',
      requests: many((i) => ({ host: AUTHORITY, ...signRequest({ appName: SIGNER_LEGACY, app: TARGET_HMAC, method: 'GET', url: '/', authority: AUTHORITY, scheme: 'legacy', now: start + i }).headers }))
    },
    spreadPath(),
    // Last: its subscriber stays for the rest of the process.
    { name: 'jwt-cached-observed', requests: [{ authorization: `Link App=${CALLER},Token=${jwt(null)}` }] }
  ]
}

/** Inclusive instruction counts of the functions that are not the call's own work. */
const COLLECTOR = /v8::internal::Heap::CollectGarbage\(/
const COMPILER = /v8::internal::Compiler::Compile(Optimized)?\(|BaselineBatchCompiler::CompileBatch\(/

interface DumpSplit {
  total: number
  collector: number
  compiler: number
}

/**
 * A dump's total, and what the collector and the JIT compiler took of it (inclusive counts from
 * callgrind_annotate; V8's own C++ functions carry symbols, JIT code does not).
 */
function splitDump (file: string): DumpSplit {
  const text = annotate(file, true)
  const count = (line: string): number => Number(line.trim().split(/\s+/)[0].replace(/,/g, ''))
  let total = NaN
  let collector = 0
  let compiler = 0
  for (const line of text.split('\n')) {
    if (line.includes('PROGRAM TOTALS')) total = count(line)
    else if (COLLECTOR.test(line)) collector = Math.max(collector, count(line))
    else if (COMPILER.test(line)) compiler += count(line)
  }
  if (!Number.isFinite(total)) throw new Error(`no totals in ${file}`)
  return { total, collector, compiler }
}

/** `annotate`'s output for a dump (exclusive counts unless `inclusive`). */
function annotate (file: string, inclusive: boolean): string {
  return execFileSync('callgrind_annotate', [`--inclusive=${inclusive ? 'yes' : 'no'}`, '--threshold=100', file], { encoding: 'utf8', maxBuffer: 64 * 1024 * 1024 })
}

export interface CountOptions {
  /** Calls per window. */
  count?: number
  /** Calls before the first window. */
  warmup?: number
  /** The names of the paths to count (all when absent). */
  only?: string[]
  /** Also list where each path's instructions go (the child writes V8's perf map for it, which costs nothing in the measured windows). */
  profile?: boolean
}

export async function countInstructions ({ count = 1000, warmup = 5000, only, profile = false }: CountOptions = {}): Promise<InstructionResults> {
  const dir = mkdtempSync(join(tmpdir(), 'ls-callgrind-'))
  let perfMap = ''
  try {
    const paths = requests(warmup + count * MAX_WINDOWS).filter((path) => only === undefined || only.includes(path.name))
    const requestsFile = join(dir, 'requests.json')
    writeFileSync(requestsFile, JSON.stringify({ apps: benchApps(), appName: APP_NAME, scope: ROUTE_SCOPE, signature: SIGNATURE_OPTIONS, fastifyJwt: FASTIFY_JWT, paths }))
    const child = spawn('valgrind', [
      '--tool=callgrind', `--callgrind-out-file=${join(dir, 'cg.out')}`, '--dump-instr=no', '--compress-strings=no',
      process.execPath, '--single-threaded', '--no-concurrent-recompilation', ...(profile ? ['--perf-basic-prof'] : []),
      join(__dirname, 'instructions-child.cjs'), String(count), String(warmup), requestsFile
    ], { stdio: ['pipe', 'pipe', 'pipe'] })
    let stderr = ''
    child.stderr.on('data', (chunk: Buffer) => { stderr += chunk.toString() })
    const exited = new Promise<number | null>((resolve) => child.on('exit', (code) => resolve(code)))
    const perCall: Record<string, number> = {}
    const collectorPerCall: Record<string, number> = {}
    const seen = new Map<string, number>()
    const unsettled: string[] = []
    const compilerShare: Record<string, number> = {}
    const profiles: Record<string, ProfileRow[]> = {}
    // valgrind runs node in its own process: the child's pid is node's, the perf map's name
    // (V8 writes it to /tmp whatever TMPDIR says).
    if (profile) perfMap = `/tmp/perf-${String(child.pid)}.map`
    const control = (...args: string[]): void => { execFileSync('callgrind_control', [...args, String(child.pid)], { stdio: 'ignore' }) }
    for await (const line of createInterface({ input: child.stdout })) {
      const [event, name] = line.split(' ')
      if (event === 'ready') {
        control('--zero')
        child.stdin.write('go\n')
      } else if (event === 'done') {
        const before = new Set(readdirSync(dir))
        control(`--dump=${name}`)
        const dump = readdirSync(dir).find((file) => file.startsWith('cg.out') && !before.has(file))
        if (dump === undefined) throw new Error(`callgrind wrote no dump for ${name}`)
        const split = splitDump(join(dir, dump))
        const own = (split.total - split.collector - split.compiler) / count
        const windows = (seen.get(name) ?? 0) + 1
        seen.set(name, windows)
        const previous = perCall[name]
        perCall[name] = Math.round(own)
        collectorPerCall[name] = Math.round(split.collector / count)
        compilerShare[name] = Math.round(split.compiler / split.total * 1000) / 1000
        // Settled: two windows in a row within SETTLED of each other, with the compiler idle.
        const settled = previous !== undefined && Math.abs(own - previous) / previous <= SETTLED && split.compiler / split.total < 0.005
        if (!settled && windows >= MAX_WINDOWS) unsettled.push(name)
        const last = settled || windows >= MAX_WINDOWS
        if (last && profile) profiles[name] = topFunctions(annotate(join(dir, dump), false), readFileSync(perfMap, 'utf8'), count)
        child.stdin.write(last ? 'next\n' : 'again\n')
      }
    }
    const code = await exited
    if (code !== 0) throw new Error(`the callgrind run failed (${String(code)}): ${stderr.split('\n').filter((l) => !l.startsWith('==')).join('\n').slice(-2000)}`)
    const tool = `callgrind (${spawnSync('valgrind', ['--version'], { encoding: 'utf8' }).stdout.trim()})`
    const results: InstructionResults = { perCall, collectorPerCall, compilerShare, unsettled, windows: Object.fromEntries(seen), count, warmup, tool }
    if (profile) results.profile = profiles
    return results
  } finally {
    if (perfMap !== '') rmSync(perfMap, { force: true })
    // BENCH_KEEP_CALLGRIND=1 keeps the dumps, for callgrind_annotate.
    if (process.env.BENCH_KEEP_CALLGRIND === '1') process.stderr.write(`callgrind dumps kept in ${dir}\n`)
    else rmSync(dir, { recursive: true, force: true })
  }
}

if (require.main === module) {
  const [count, only] = process.argv.slice(2).filter((arg) => arg !== '--profile')
  countInstructions({ count: Number(count ?? 2000), only: only?.split(','), profile: process.argv.includes('--profile') }).then((results) => { console.log(JSON.stringify(results, null, 2)) }, (error: unknown) => {
    console.error(error)
    process.exit(1)
  })
}
