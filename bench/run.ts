/**
 * `npm run bench` (`-- --quick` for a smoke check of a few minutes).
 *
 * End to end: every scenario is a real Fastify server in a child process (bench/server.ts), the
 * load generators run here. Two views, each in rounds whose order rotates, each scenario on a
 * fresh, warmed-up server:
 * - throughput and latency, closed loop (autocannon);
 * - the headline, server CPU per request, with every scenario of a job offered the SAME rate
 *   open loop (bench/open-loop.ts; 40 % of the slowest closed-loop throughput of its rate group,
 *   chooseRates, or --rate=N). Each server has an unprotected control route beside the
 *   scenario's, sent the same requests: the two are measured in turns in the same process, in
 *   --pairs=N pairs of short slices whose order flips each pair;
 *   added = the mean of (route − control) over every pair of every round minus bare's, with a
 *   95 % bootstrap interval (bench/stats.ts, bench/targets.ts), and a target passes only when
 *   the whole interval does.
 * The server reports its own CPU time before and after each measured run.
 * Then: growth runs (apps in the store, scopes on the route, callers beyond `cache.max`), the
 * micro-benchmarks (bench/micro.ts) and the memory floods (bench/memory.ts), each in a child process.
 *
 * Writes bench/results.json and bench/results.svg; a quick run writes bench/.tmp/results.quick.json,
 * a run with any other option bench/.tmp/results.partial.json (the committed results stay those
 * of a whole default run).
 * Options: --quick, --rounds=N, --seconds=N, --rate=N, --cpu-seconds=N, --pairs=N, --only=a,b, --no-growth, --no-micro, --no-memory, --no-webhooks,
 * --no-instructions; --instructions alone counts instructions per call of the scope hook only
 * (with --profile, it also lists each path's costliest functions, V8's JIT code named).
 */
import { fork, type ChildProcess } from 'node:child_process'
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs'
import { createConnection } from 'node:net'
import { cpus, loadavg, totalmem, type as osType, release } from 'node:os'
import { join } from 'node:path'
import { growthPool, makePool, runLoad, type LoadResult, type Pool } from './load.js'
import { openLoopClient, type OpenLoopClient, type OpenLoopResult } from './open-loop.js'
import type { MemoryResults } from './memory.js'
import type { MicroResults } from './micro.js'
import { ensureBuilt, hasPostgresStore, ROOT } from './package.js'
import { CONTROL_PATH, ED25519_SCENARIOS, LOW_RATE_TOO, SCENARIOS, type GrowthConfig, type ScenarioName } from './scenarios.js'
import type { ServerMessage } from './server.js'
import { countInstructions, PEER_PATHS, peerRatio, valgrindAvailable, type InstructionResults } from './instructions.js'
import { judgeAndWrite, type GrowthRow, type RateGroup, type Report } from './report.js'
import { formatVerdicts, type ScenarioResult } from './targets.js'
import { benchWebhooks } from './webhooks.js'
import { mean, median } from './stats.js'

const args = process.argv.slice(2)
const flag = (name: string): boolean => args.includes(`--${name}`)
const option = (name: string): string | undefined => args.find((arg) => arg.startsWith(`--${name}=`))?.slice(name.length + 3)
const quick = flag('quick')
const settings = {
  mode: quick ? 'quick' : 'full',
  rounds: Number(option('rounds') ?? (quick ? 2 : 3)),
  seconds: Number(option('seconds') ?? (quick ? 2 : 5)),
  warmupSeconds: quick ? 0.5 : 2,
  connections: Number(option('connections') ?? 50),
  pipelining: 1,
  growthSeconds: quick ? 1 : 3,
  /** Unmeasured seconds at the fixed rate after a warm-up, before the measured run. */
  settleSeconds: quick ? 0.5 : 1,
  /** Seconds per route per round in the CPU view (the scenario's route and the control route each). */
  cpuSeconds: Number(option('cpu-seconds') ?? 8),
  /** Pairs of slices (route, control) per round of the CPU view: short slices, so that the machine drifts little within a pair. */
  pairs: Number(option('pairs') ?? 16),
  /** Unmeasured pairs of slices before the measured ones (alternate). */
  warmPairs: 4,
  /** Pairs per growth configuration (one round each, growthSeconds per route). */
  growthPairs: quick ? 2 : 6,
  memoryCount: quick ? 100_000 : 1_000_000
}
const only = option('only')?.split(',')
/**
 * A quick run measures the scenarios the targets name (and `bare`, `prehandler-floor` for
 * scale) with as many pairs per round as a full run has, so that its intervals can settle them
 * in a few minutes.
 */
const QUICK_SCENARIOS: readonly ScenarioName[] = ['bare', 'prehandler-floor', 'jwt-cached', 'jwt-cold', 'fastify-jwt', 'jose-hs256', 'signature-hmac', 'hms-hmac']
/** A run with any setting changed is a partial run: it must not overwrite the committed results. */
const partial = !quick && args.length > 0
const log = (line: string): void => { process.stderr.write(line + '\n') }

// Servers.

interface Server {
  port: number
  stats: () => Promise<Extract<ServerMessage, { type: 'stats' }>>
  close: () => Promise<void>
}

async function startServer (config: Record<string, unknown>): Promise<Server> {
  const child = fork(join(__dirname, 'server.ts'), [], {
    execArgv: ['--import', 'tsx'],
    env: { ...process.env, BENCH_SERVER: JSON.stringify(config) },
    stdio: ['ignore', 'inherit', 'inherit', 'ipc']
  })
  const port = await new Promise<number>((resolve, reject) => {
    child.once('message', (message: ServerMessage) => {
      if (message.type === 'ready') resolve(message.port)
      else reject(new Error(`server ${JSON.stringify(config)}: ${message.type === 'error' ? message.message : message.type}`))
    })
    child.once('exit', (code) => reject(new Error(`server ${JSON.stringify(config)} exited with ${String(code)}`)))
  })
  return {
    port,
    stats: async () => await new Promise((resolve) => {
      child.once('message', (message: ServerMessage) => { if (message.type === 'stats') resolve(message) })
      child.send({ type: 'stats' })
    }),
    close: async () => await closeChild(child)
  }
}

async function closeChild (child: ChildProcess): Promise<void> {
  if (child.exitCode !== null) return
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()))
  child.send({ type: 'close' })
  const timer = setTimeout(() => child.kill('SIGKILL'), 5000)
  await exited
  clearTimeout(timer)
}

interface Measured {
  cpuUsPerReq: number
  serverRssBytes: number
  /** The machine's 1-minute load average after the run. */
  loadAvg: number
  /** Cores used by other processes during the run (the least of the attempts). */
  foreignCores: number
  attempts: number
}

/** Busy CPU time of the whole machine, in µs (Linux /proc/stat), or null elsewhere. */
function machineBusyUs (): number | null {
  if (!existsSync('/proc/stat')) return null
  const fields = readFileSync('/proc/stat', 'utf8').split('\n')[0].trim().split(/\s+/).slice(1).map(Number)
  const total = fields.reduce((sum, value) => sum + value, 0)
  const idle = fields[3] + (fields[4] ?? 0)
  return (total - idle) * 10_000 // USER_HZ = 100
}

/** Re-measure when other processes took more than this many cores during a run. */
const MAX_FOREIGN_CORES = 0.15
const MAX_ATTEMPTS = quick ? 1 : 2

interface RunFigures { requests: number, seconds: number }

/**
 * One measured run with the server's own CPU accounting around it; measured again (the quieter
 * kept) when other processes took more than MAX_FOREIGN_CORES during it.
 */
async function measureRun<T extends RunFigures> (server: Server, run: () => Promise<T>, attempts = MAX_ATTEMPTS): Promise<T & Measured> {
  let best: (T & Measured) | undefined
  for (let attempt = 1; attempt <= attempts; attempt++) {
    const before = await server.stats()
    const busyBefore = machineBusyUs()
    const selfBefore = process.cpuUsage()
    const load = await run()
    const self = process.cpuUsage(selfBefore)
    const busyAfter = machineBusyUs()
    const after = await server.stats()
    const cpuUs = (after.cpu.user - before.cpu.user) + (after.cpu.system - before.cpu.system)
    // CPU time on the machine that neither the server nor the load generator used.
    const foreignCores = busyBefore === null || busyAfter === null
      ? 0
      : Math.max(0, (busyAfter - busyBefore) - cpuUs - self.user - self.system) / (load.seconds * 1e6)
    const result = {
      ...load,
      cpuUsPerReq: cpuUs / Math.max(1, load.requests),
      serverRssBytes: after.memory.rss,
      loadAvg: round(loadavg()[0], 2),
      foreignCores: round(foreignCores, 2),
      attempts: attempt
    }
    if (best === undefined || result.foreignCores < best.foreignCores) best = result
    if (foreignCores <= MAX_FOREIGN_CORES || attempt === attempts) break
    log(`  (other processes used ${foreignCores.toFixed(2)} cores during the run: measuring again)`)
    await new Promise((resolve) => setTimeout(resolve, 2000))
  }
  return best!
}

/** Closed loop: warm up, then measure throughput and latency (the second view). */
async function measure (server: Server, pools: { warmup: Pool, measure: (warmupRps: number) => Pool }, seconds: number): Promise<LoadResult & Measured & { warmupRps: number }> {
  const warm = await runLoad({ port: server.port, pool: pools.warmup, seconds: settings.warmupSeconds, connections: settings.connections })
  const result = await measureRun(server, async () => await runLoad({ port: server.port, pool: pools.measure(warm.rps), seconds, connections: settings.connections }))
  return { ...result, warmupRps: warm.rps }
}

/** A server with keep-alive connections of the open-loop generator (opened before any measured run). */
interface Target { server: Server, client: OpenLoopClient }

async function target (server: Server): Promise<Target> {
  return { server, client: await openLoopClient(server.port) }
}

/** One slice at the fixed rate on one route, measured once (the pairs absorb a burst of other load). */
async function slice (at: Target, pool: Pool, rate: number, seconds: number, path: string): Promise<AtRate> {
  return await measureRun(at.server, async () => await at.client.run({ pool, rate, seconds, path }), 1)
}

/** Slices of one server taken as one run: sums, CPU per request over all of them, medians of the rest. */
function combine (slices: AtRate[]): AtRate {
  const sum = (pick: (m: AtRate) => number): number => slices.reduce((total, m) => total + pick(m), 0)
  const requests = sum((m) => m.requests)
  const seconds = sum((m) => m.seconds)
  return {
    requests,
    ok: sum((m) => m.ok),
    non2xx: sum((m) => m.non2xx),
    errors: sum((m) => m.errors),
    seconds,
    rps: requests / seconds,
    rate: slices[0].rate,
    late: sum((m) => m.late),
    p50Ms: median(slices.map((m) => m.p50Ms)),
    p99Ms: median(slices.map((m) => m.p99Ms)),
    signedDuringRun: sum((m) => m.signedDuringRun),
    cpuUsPerReq: sum((m) => m.cpuUsPerReq * m.requests) / Math.max(1, requests),
    serverRssBytes: Math.max(...slices.map((m) => m.serverRssBytes)),
    loadAvg: slices[slices.length - 1].loadAvg,
    foreignCores: round(median(slices.map((m) => m.foreignCores)), 2),
    attempts: slices.length
  }
}

interface Alternated {
  /** The scenario route's slices, taken as one run. */
  scenario: AtRate
  /** The control route's slices, taken as one run. */
  control: AtRate
  /** Per pair of slices: the route's CPU per request − the control route's, µs. */
  differences: number[]
}

/**
 * The scenario's route and the same server's control route in turns at the fixed rate, in
 * `pairs` pairs of slices (each `seconds / pairs` long) whose order flips from pair to pair, so
 * that a drift of the machine, or a cost of being first after the other route, hits both alike.
 * One process serves both: what differs between the two is the scheme alone, not the process
 * (its JIT, its heap, its core). Both routes get the same requests (`poolFor()`, one pool per
 * slice): the control parses the same headers, so the difference is the scheme's code, not the
 * size of its request. The first `settings.warmPairs` pairs are not measured: after a warm-up
 * the route was still cheaper than the control for about three pairs (up to 45 µs, even for
 * `bare`), a bias that the pairs around it did not cancel.
 */
async function alternate (at: Target, poolFor: () => Pool, rate: number, seconds: number, pairs: number): Promise<Alternated> {
  const length = seconds / pairs
  const routeSlice = async (): Promise<AtRate> => await slice(at, poolFor(), rate, length, '/')
  const controlSlice = async (): Promise<AtRate> => await slice(at, poolFor(), rate, length, CONTROL_PATH)
  const routeSlices: AtRate[] = []
  const controlSlices: AtRate[] = []
  for (let k = -settings.warmPairs; k < pairs; k++) {
    const [first, second] = k % 2 === 0 ? [controlSlice, routeSlice] : [routeSlice, controlSlice]
    const a = await first()
    const b = await second()
    if (k < 0) continue
    routeSlices.push(first === routeSlice ? a : b)
    controlSlices.push(first === routeSlice ? b : a)
  }
  const differences = routeSlices.map((route, k) => route.cpuUsPerReq - controlSlices[k].cpuUsPerReq)
  const scenario = combine(routeSlices)
  if (!sustained(scenario)) log(`  (the server did not keep up with ${rate} req/s: ${Math.round(scenario.rps)} answered per second, ${scenario.late} late)`)
  return { scenario, control: combine(controlSlices), differences }
}

/** Whether a fixed-rate run was served at the rate offered (then its CPU per request is comparable). */
function sustained (result: OpenLoopResult): boolean {
  return result.rps >= result.rate * 0.97 && result.late <= result.requests * 0.01 && result.errors === 0
}

/**
 * The rate a pool is sized for: the warm-up's, or an earlier round's when higher. A first warm-up
 * can run well below the measured rate (the JIT is still at work), so requests that are cheap to
 * make are also made for `bare`'s rate: signing during the run would load the generator.
 */
function expectedRps (name: ScenarioName, warmupRps: number, estimate: Map<ScenarioName, number>): number {
  const cheapToSign = name !== 'signature-ed25519' && name !== 'hms-ed25519' && name !== 'jose-eddsa' && name !== 'jwt-cold-ed25519'
  return Math.max(warmupRps, estimate.get(name) ?? 0, cheapToSign ? (estimate.get('bare') ?? 0) / 2 : 0)
}

function poolSize (rps: number, seconds: number): number {
  return Math.ceil(rps * seconds * 2) + 2000
}

// End to end.

const round = (value: number, digits: number): number => Math.round(value * 10 ** digits) / 10 ** digits

async function postgresReachable (): Promise<boolean> {
  return await new Promise((resolve) => {
    const socket = createConnection({ host: '127.0.0.1', port: 5432 })
    socket.setTimeout(500, () => { socket.destroy(); resolve(false) })
    socket.once('connect', () => { socket.end(); resolve(true) })
    socket.once('error', () => resolve(false))
  })
}

type ClosedLoop = LoadResult & Measured & { warmupRps: number }
type AtRate = OpenLoopResult & Measured

const rotate = <T>(list: T[], r: number): T[] => [...list.slice(r % list.length), ...list.slice(0, r % list.length)]

/** Closed loop on a fresh server, sized from what earlier runs of the scenario served. */
async function closedLoopRun (server: Server, name: ScenarioName, estimate: Map<ScenarioName, number>, seconds: number): Promise<ClosedLoop> {
  const guess = estimate.get(name) ?? estimate.get('bare') ?? 70_000
  const result = await measure(server, {
    warmup: makePool(name, server.port, poolSize(guess, settings.warmupSeconds)),
    measure: (warmupRps) => makePool(name, server.port, poolSize(expectedRps(name, warmupRps, estimate), seconds))
  }, seconds)
  estimate.set(name, Math.max(estimate.get(name) ?? 0, result.rps))
  return result
}

function problemsOf (result: { non2xx: number, errors: number, signedDuringRun: number }): string {
  return [result.non2xx > 0 ? `${result.non2xx} non-2xx` : '', result.errors > 0 ? `${result.errors} errors` : '',
    result.signedDuringRun > 0 ? `${result.signedDuringRun} signed during the run` : ''].filter(Boolean).join(', ')
}

/**
 * The second view, throughput and latency: closed loop (autocannon), the scenarios in rounds of
 * rotating order, each on a fresh server. Returns each scenario's runs, by round.
 */
async function closedLoopView (scenarios: ScenarioName[], estimate: Map<ScenarioName, number>): Promise<Map<ScenarioName, ClosedLoop[]>> {
  const runs = new Map<ScenarioName, ClosedLoop[]>(scenarios.map((name) => [name, []]))
  for (let r = 0; r < settings.rounds; r++) {
    for (const name of rotate(scenarios, r)) {
      const server = await startServer({ scenario: name })
      try {
        const result = await closedLoopRun(server, name, estimate, settings.seconds)
        runs.get(name)!.push(result)
        const problems = problemsOf(result)
        log(`closed loop ${r + 1}/${settings.rounds}  ${name.padEnd(20)} ${Math.round(result.rps).toString().padStart(6)} req/s  ` +
          `p50 ${result.p50Ms} ms  p99 ${result.p99Ms} ms  ${result.cpuUsPerReq.toFixed(1)} CPU µs/req  foreign ${result.foreignCores} cores${problems === '' ? '' : '  (' + problems + ')'}`)
      } finally {
        await server.close()
      }
    }
  }
  return runs
}

/** Share of the slowest scenario's closed-loop throughput offered to every scenario of its rate group in the CPU view. */
const RATE_SHARE = 0.4

/**
 * The rates of the CPU view: `--rate=N` for every scenario; else one rate for the Ed25519
 * scenarios (ED25519_SCENARIOS) and one for the rest, each 40 % of the slowest closed-loop rate of
 * its group (rounded down to 100). Scenarios of one job always share a rate; bare is measured at
 * every rate, for the offset of the figures taken there. The HMAC jobs' own scenarios and peers
 * (LOW_RATE_TOO) are measured at the Ed25519 rate too, so that the report also shows them on a
 * mostly idle server.
 */
function chooseRates (closed: Map<ScenarioName, ClosedLoop[]>): RateGroup[] {
  const scenarios = [...closed.keys()]
  const given = option('rate')
  if (given !== undefined) return [{ rate: Number(given), rule: 'given (--rate)', scenarios }]
  const rateOf = (group: ScenarioName[]): { rate: number, rule: string } => {
    const slowest = group
      .map((name) => ({ name, rps: median(closed.get(name)!.map((m) => m.rps)) }))
      .reduce((a, b) => (a.rps <= b.rps ? a : b))
    const rate = Math.max(200, Math.floor(slowest.rps * RATE_SHARE / 100) * 100)
    return { rate, rule: `${RATE_SHARE * 100} % of the slowest closed-loop throughput among them (${slowest.name}, ${Math.round(slowest.rps)} req/s), rounded down to 100` }
  }
  const ed25519 = scenarios.filter((name) => ED25519_SCENARIOS.includes(name))
  const rest = scenarios.filter((name) => !ED25519_SCENARIOS.includes(name))
  if (ed25519.length === 0 || rest.length === 0) return [{ ...rateOf(scenarios), scenarios }]
  const main = rateOf(rest)
  const low = rateOf(ed25519)
  if (low.rate === main.rate) return [{ ...main, scenarios }]
  const alsoLow = rest.filter((name) => name === 'bare' || LOW_RATE_TOO.includes(name))
  return [{ ...main, scenarios: rest }, { ...low, scenarios: [...alsoLow, ...ed25519] }]
}

/**
 * A server made ready for the fixed-rate view: closed-loop warm-ups of the scenario's route, the
 * control route, then the scenario's route again, then a short settle at the rate on both, so
 * that the JIT has seen both routes before anything is measured (their request objects come from
 * two contexts, of two shapes: code shared by both is optimised again once it has seen both).
 */
async function warmBoth (at: Target, routePool: () => Pool, settlePool: Pool, rate: number): Promise<void> {
  const { server, client } = at
  const closedLoop = async (pool: Pool, seconds: number, path?: string): Promise<void> => {
    await runLoad({ port: server.port, pool, seconds, connections: settings.connections, path })
  }
  await closedLoop(routePool(), settings.warmupSeconds)
  await closedLoop(routePool(), settings.warmupSeconds / 2, CONTROL_PATH)
  await closedLoop(routePool(), settings.warmupSeconds / 2)
  await client.run({ pool: routePool(), rate, seconds: settings.settleSeconds, path: CONTROL_PATH })
  await client.run({ pool: settlePool, rate, seconds: settings.settleSeconds })
  // The server's first answers over IPC run cold code (tens of ms) after it reads its CPU time:
  // outside a measured slice, or the first slice (always the control's) pays for them.
  for (let i = 0; i < 3; i++) await server.stats()
}

/** A server started, warmed up (`warm`) and measured in alternation with its control route, then closed. */
async function againstControl (start: () => Promise<Server>, warm: (at: Target) => Promise<void>, poolFor: (port: number) => Pool, rate: number, seconds: number, pairs: number): Promise<Alternated> {
  const at = await target(await start())
  try {
    await warm(at)
    return await alternate(at, () => poolFor(at.server.port), rate, seconds, pairs)
  } finally {
    at.client.close()
    await at.server.close()
  }
}

/** bare is measured in this many times the pairs of the other scenarios (it enters every figure's interval). */
const BARE_PAIRS_FACTOR = 2

/**
 * The headline view, server CPU per request: every scenario of a rate group at the SAME offered
 * rate (open loop), in rounds of rotating order, each on a fresh server measured against its own
 * control route (`bare` too: its route − control is the offset of every figure taken at that
 * rate, targets.ts).
 */
async function fixedRateView (scenarios: ScenarioName[], rate: number, estimate: Map<ScenarioName, number>): Promise<Map<ScenarioName, Alternated[]>> {
  const rounds = new Map<ScenarioName, Alternated[]>(scenarios.map((name) => [name, []]))
  const perSlice = Math.ceil(rate * settings.cpuSeconds / settings.pairs) + 200
  for (let r = 0; r < settings.rounds; r++) {
    for (const name of rotate(scenarios, r)) {
      const guess = estimate.get(name) ?? estimate.get('bare') ?? 70_000
      const warm = async (at: Target): Promise<void> => {
        const port = at.server.port
        await warmBoth(at, () => makePool(name, port, poolSize(guess, settings.warmupSeconds)), makePool(name, port, Math.ceil(rate * settings.settleSeconds) + 100), rate)
      }
      // bare's pairs are the offset of every other figure: twice as many of them (slices of the same length).
      const share = name === 'bare' ? BARE_PAIRS_FACTOR : 1
      const result = await againstControl(async () => await startServer({ scenario: name }), warm,
        (port) => makePool(name, port, perSlice), rate, settings.cpuSeconds * share, settings.pairs * share)
      rounds.get(name)!.push(result)
      const problems = problemsOf(result.scenario)
      log(`at ${rate} req/s ${r + 1}/${settings.rounds}  ${name.padEnd(20)} ${result.scenario.cpuUsPerReq.toFixed(1).padStart(6)} CPU µs/req  ` +
        `control route ${result.control.cpuUsPerReq.toFixed(1)}  route − control ${mean(result.differences).toFixed(2)}  ` +
        `foreign ${result.scenario.foreignCores} cores${problems === '' ? '' : '  (' + problems + ')'}`)
    }
  }
  return rounds
}

async function endToEnd (scenarios: ScenarioName[]): Promise<{ results: Record<string, ScenarioResult>, groups: RateGroup[] }> {
  const estimate = new Map<ScenarioName, number>()
  const closed = await closedLoopView(scenarios, estimate)
  const groups = chooseRates(closed)
  const atRate = new Map<ScenarioName, Alternated[]>()
  /** Every scenario's differences at each rate it was measured at (bare's: the offsets of the figures taken there). */
  const byRate = new Map<ScenarioName, Record<string, number[]>>()
  for (const group of groups) {
    log(`CPU view: ${group.scenarios.join(', ')} at ${group.rate} req/s, open loop (${group.rule}), in turns with the server's own control route`)
    const measured = await fixedRateView(group.scenarios, group.rate, estimate)
    for (const [name, rounds] of measured) {
      if (!atRate.has(name)) atRate.set(name, rounds)
      byRate.set(name, { ...byRate.get(name), [group.rate]: rounds.flatMap((x) => x.differences).map((d) => round(d, 3)) })
    }
  }
  // A scenario's rate is its first group's: the Ed25519 scenarios', theirs; every other's, the main rate.
  const rateOf = (name: ScenarioName): number => groups.find((group) => group.scenarios.includes(name))!.rate
  const bareClosed = closed.get('bare') ?? []
  const out: Record<string, ScenarioResult> = {}
  for (const name of scenarios) {
    const list = closed.get(name)!
    const rateRounds = atRate.get(name)!
    const rate = rateOf(name)
    const runs = [...list, ...rateRounds.map((x) => x.scenario)]
    out[name] = {
      rps: Math.round(median(list.map((m) => m.rps))),
      p50Ms: median(list.map((m) => m.p50Ms)),
      p99Ms: median(list.map((m) => m.p99Ms)),
      ratioToBare: bareClosed.length === 0 ? NaN : round(median(list.map((m, i) => m.rps / bareClosed[i].rps)), 3),
      closedLoopCpuUsPerReq: round(median(list.map((m) => m.cpuUsPerReq)), 1),
      cpuUsPerReq: round(median(rateRounds.map((x) => x.scenario.cpuUsPerReq)), 1),
      controlCpuUsPerReq: round(median(rateRounds.map((x) => x.control.cpuUsPerReq)), 1),
      addedCpuUs: NaN, // over bare: withAddedFigures, once every scenario is in
      differences: byRate.get(name)![rate],
      rate,
      byRate: byRate.get(name),
      sustained: rateRounds.every((x) => sustained(x.scenario) && sustained(x.control)),
      non2xx: runs.reduce((sum, m) => sum + m.non2xx + m.errors, 0),
      signedDuringRun: runs.reduce((sum, m) => sum + m.signedDuringRun, 0),
      rounds: list.map((m, i) => ({
        rps: Math.round(m.rps),
        p50Ms: m.p50Ms,
        p99Ms: m.p99Ms,
        closedLoopCpuUsPerReq: round(m.cpuUsPerReq, 2),
        cpuUsPerReq: rateRounds[i] === undefined ? NaN : round(rateRounds[i].scenario.cpuUsPerReq, 2),
        controlCpuUsPerReq: rateRounds[i] === undefined ? null : round(rateRounds[i].control.cpuUsPerReq, 2),
        addedCpuUs: rateRounds[i] === undefined ? null : round(mean(rateRounds[i].differences), 2),
        rateRps: rateRounds[i] === undefined ? null : Math.round(rateRounds[i].scenario.rps),
        late: rateRounds[i]?.scenario.late ?? null,
        foreignCores: Math.max(m.foreignCores, rateRounds[i]?.scenario.foreignCores ?? 0),
        attempts: m.attempts + (rateRounds[i]?.scenario.attempts ?? 0)
      }))
    }
  }
  return { results: out, groups }
}

// Growth.

/** The growth runs: apps in the store, scopes on the route, callers spread beyond `cache.max`. */
function growthConfigs (withPostgres: boolean): Array<GrowthConfig & { spread: boolean }> {
  if (quick) return [{ apps: 100_000, scopes: 50, spread: false }, { apps: 10_000, scopes: 1, spread: true }]
  return [
    ...[10, 1000, 100_000].map((apps) => ({ apps, scopes: 1, spread: false })),
    ...[10, 50].map((scopes) => ({ apps: 10, scopes, spread: false })),
    ...[10, 10_000, 100_000].map((apps) => ({ apps, scopes: 1, spread: true })),
    ...(withPostgres ? [{ apps: 10_000, scopes: 1, spread: false, store: 'postgres' as const }, { apps: 10_000, scopes: 1, spread: true, store: 'postgres' as const }] : [])
  ]
}

/**
 * Each growth configuration on a fresh server: throughput closed loop, then CPU per request at
 * the run's main rate against the server's own control route (as the CPU view), taken over bare
 * (`offset`: bare's mean route − control at that rate).
 */
async function growth (rate: number, offset: number, withPostgres: boolean): Promise<GrowthRow[]> {
  const results: GrowthRow[] = []
  for (const config of growthConfigs(withPostgres)) {
    const store = config.store ?? 'memory'
    const pool = growthPool(config, config.spread)
    let closed: ClosedLoop | undefined
    const alternated = await againstControl(
      async () => await startServer({ scenario: 'growth', growth: { apps: config.apps, scopes: config.scopes, store } }),
      async (at) => {
        closed = await measure(at.server, { warmup: pool, measure: () => pool }, settings.growthSeconds)
        await warmBoth(at, () => pool, pool, rate)
      },
      () => pool, rate, settings.growthSeconds, settings.growthPairs)
    const m = alternated.scenario
    const result: GrowthRow = {
      store: store === 'postgres' ? 'PostgresStore' : 'MemoryStore',
      apps: config.apps,
      scopes: config.scopes,
      callers: config.spread ? 'spread' : 'one',
      distinctCallers: pool.entries.length,
      rps: Math.round(closed!.rps),
      cpuUsPerReq: round(m.cpuUsPerReq, 1),
      addedCpuUs: round(mean(alternated.differences) - offset, 1),
      serverRssMb: Math.round(Math.max(closed!.serverRssBytes, m.serverRssBytes) / 1048576)
    }
    results.push(result)
    const problems = closed!.non2xx + closed!.errors + m.non2xx + m.errors
    log(`growth  ${result.store.padEnd(13)} ${String(config.apps).padStart(6)} apps  ${String(config.scopes).padStart(2)} scopes  callers ${result.callers.padEnd(6)} ` +
      `${String(result.rps).padStart(6)} req/s  at ${rate} req/s: ${result.cpuUsPerReq} CPU µs/req, added ${result.addedCpuUs}  rss ${result.serverRssMb} MB${problems > 0 ? `  (${problems} non-2xx)` : ''}`)
    if (problems > 0) throw new Error(`growth run ${JSON.stringify(config)}: ${problems} requests failed`)
  }
  return results
}

// Child-process benchmarks.

async function childResult<T> (script: string, childArgs: string[], execArgv: string[] = []): Promise<T> {
  const child = fork(join(__dirname, script), childArgs, { execArgv: [...execArgv, '--import', 'tsx'], stdio: ['ignore', 'inherit', 'inherit', 'ipc'] })
  return await new Promise<T>((resolve, reject) => {
    child.once('message', (message: { results: T }) => resolve(message.results))
    child.once('exit', (code) => { if (code !== 0) reject(new Error(`${script} exited with ${String(code)}`)) })
  })
}

// Report.

function machine (): Record<string, unknown> {
  const cpu = cpus()
  return {
    cpu: cpu[0]?.model ?? 'unknown',
    cores: cpu.length,
    memoryGb: round(totalmem() / 1024 ** 3, 1),
    os: `${osType()} ${release()}`
  }
}

function table (scenarios: Record<string, ScenarioResult | { skipped: string }>): string {
  const lines = ['| scenario | server CPU µs/req (fixed rate) | added over bare | req/s (closed loop) | p50 ms | p99 ms |', '|---|---:|---:|---:|---:|---:|']
  for (const [name, s] of Object.entries(scenarios)) {
    if ('skipped' in s) lines.push(`| ${name} | skipped: ${s.skipped} | | | | |`)
    else lines.push(`| ${name} | ${s.cpuUsPerReq} | ${name === 'bare' ? '-' : s.addedCpuUs.toFixed(2)} | ${s.rps} | ${s.p50Ms} | ${s.p99Ms} |`)
  }
  return lines.join('\n')
}

function printInstructions (results: InstructionResults): void {
  console.log(`\ninstructions per call of the scope hook (${results.tool}, ${results.count} calls each):`)
  for (const [path, count] of Object.entries(results.perCall)) {
    console.log(`  ${path.padEnd(14)} ${String(count).padStart(9)} instructions  (+${results.collectorPerCall[path]} in the collector; compiler ${(results.compilerShare[path] * 100).toFixed(1)} % of the window)`)
  }
  const ratio = peerRatio(results, 'jwt-new')
  if (ratio !== undefined) console.log(`  jwt-new / ${PEER_PATHS['jwt-new']} (@fastify/jwt's jwtVerify, the same new tokens) = ${ratio}`)
  for (const [path, rows] of Object.entries(results.profile ?? {})) {
    console.log(`\n${path}: its costliest functions, instructions per call (their own, callees apart):`)
    for (const row of rows) console.log(`  ${String(row.perCall).padStart(7)}  ${row.name.slice(0, 150)}`)
  }
}

async function instructionsOnly (): Promise<void> {
  ensureBuilt(log)
  if (!valgrindAvailable()) throw new Error('valgrind is not installed (Debian: apt-get install -y valgrind)')
  log('counting instructions under callgrind (about a minute) ...')
  const results = await countInstructions({ profile: flag('profile') })
  mkdirSync(join(ROOT, 'bench', '.tmp'), { recursive: true })
  writeFileSync(join(ROOT, 'bench', '.tmp', 'instructions.json'), JSON.stringify(results, null, 2) + '\n')
  printInstructions(results)
}

async function main (): Promise<void> {
  ensureBuilt(log)
  const started = Date.now()
  const scenarios: Record<string, ScenarioResult | { skipped: string }> = {}
  let wanted = SCENARIOS.filter((name) => only !== undefined ? only.includes(name) : !quick || QUICK_SCENARIOS.includes(name))
  const postgresSkipped = !hasPostgresStore()
    ? 'the built package does not export PostgresStore'
    : !(await postgresReachable()) ? 'PostgreSQL is not reachable on 127.0.0.1:5432' : null
  if (wanted.includes('jwt-cached-postgres') && postgresSkipped !== null) {
    wanted = wanted.filter((name) => name !== 'jwt-cached-postgres')
    scenarios['jwt-cached-postgres'] = { skipped: postgresSkipped }
    log(`jwt-cached-postgres skipped: ${postgresSkipped}`)
  }
  if (!wanted.includes('bare') && wanted.length > 0) wanted.unshift('bare')
  log(`${settings.mode} run: ${settings.rounds} round(s) x ${settings.seconds} s per scenario (+${settings.warmupSeconds} s warm-up), ` +
    `${settings.connections} connections, pipelining ${settings.pipelining}`)
  const { results: measuredScenarios, groups } = await endToEnd(wanted)
  const { rate, rule: rateRule } = groups[0]
  Object.assign(scenarios, measuredScenarios)
  const ordered = Object.fromEntries(SCENARIOS.filter((name) => name in scenarios).map((name) => [name, scenarios[name]]))
  const growthResults = flag('no-growth') ? undefined : await growth(rate, mean(measuredScenarios.bare.differences), postgresSkipped === null)
  if (!flag('no-micro')) log('micro-benchmarks ...')
  const micro = flag('no-micro') ? undefined : await childResult<MicroResults>('micro.ts', quick ? ['--quick'] : [])
  if (!flag('no-memory')) log(`memory: ${settings.memoryCount} distinct tokens, then nonces ...`)
  const memory = flag('no-memory') ? undefined : await childResult<MemoryResults>('memory.ts', [String(settings.memoryCount)], ['--expose-gc'])
  const webhooks = flag('no-webhooks')
    ? undefined
    : postgresSkipped !== null ? { skipped: postgresSkipped } : await benchWebhooks(quick, log)
  const countThem = !quick && !flag('no-instructions') && valgrindAvailable()
  if (countThem) log('instructions per call under callgrind (about a minute) ...')
  const instructions = countThem ? await countInstructions() : undefined

  const results: Report = {
    machine: machine(),
    node: process.version,
    date: new Date().toISOString(),
    settings: {
      ...settings,
      rate,
      rateRule,
      rates: groups,
      loadGenerator: 'CPU view: bench/open-loop.ts (open loop, fixed rate); throughput view: autocannon (closed loop); both in the runner\'s process',
      durationSeconds: Math.round((Date.now() - started) / 1000)
    },
    scenarios: ordered,
    micro,
    growth: growthResults,
    memory,
    webhooks,
    instructions,
    targets: []
  }
  const { written } = judgeAndWrite(results, quick ? 'quick' : partial ? 'partial' : 'full')
  const m = results.machine

  console.log(`\n${String(m.cpu)} (${String(m.cores)} cores, ${String(m.memoryGb)} GB), Node ${process.version}, ${settings.mode} run\n`)
  console.log(table(ordered))
  if (micro !== undefined) {
    console.log('\nmicro-benchmarks (ns per operation):')
    for (const c of Object.values(micro.cases)) console.log(`  ${c.group.padEnd(13)} ${c.name.padEnd(58)} ${String(c.nsPerOp).padStart(9)}`)
    console.log(`  Ed25519: plugin path / raw node:crypto = ${micro.ed25519PathRatio} (JWT path ${micro.ed25519JwtPathRatio}); tweetnacl / raw = ${micro.tweetnaclRatio}`)
  }
  if (memory !== undefined) {
    for (const [what, f] of [['tokens', memory.tokens], ['nonces', memory.nonces]] as const) {
      console.log(`memory: ${f.count} distinct ${what} (bound ${f.bound}): retained ${(f.retainedBytes / 1048576).toFixed(1)} MB after GC, ` +
        `growth past the bound ${(f.growthPastBoundBytes / 1048576).toFixed(1)} MB, peak heap ${(f.peakHeapBytes / 1048576).toFixed(0)} MB`)
    }
  }
  if (instructions !== undefined) printInstructions(instructions)
  console.log('\ntargets:\n' + formatVerdicts(results.targets))
  console.log(`\nwritten: ${written.join(', ')} (${results.settings.durationSeconds} s)`)
}

(flag('instructions') ? instructionsOnly() : main()).catch((error: unknown) => {
  console.error(error)
  process.exit(1)
})
