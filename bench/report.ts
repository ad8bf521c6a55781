/**
 * bench/README.md, written by `npm run bench` from the run's results: the method, the machine,
 * the headline (server CPU each scenario adds over `bare`, next to the best peer for the same
 * job), the second view (throughput, latency), the targets, instruction counts, growth, memory
 * and micro-benchmarks. Nothing in it is written by hand: a new run rewrites all of it.
 */
import { PEER_PATHS, peerRatio, type InstructionResults } from './instructions.js'
import type { MemoryResults } from './memory.js'
import type { MicroResults } from './micro.js'
import { DESCRIPTIONS, ED25519_SCENARIOS, JOBS, type ScenarioName } from './scenarios.js'
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { ROOT } from './package.js'
import { addedChart } from './svg.js'
import { addedInterval, addedRatio, fixed, formatInterval, judge, measured, VERDICT_LABELS, withAddedFigures, type Judged, type ScenarioResult, type Verdict } from './targets.js'
import type { Interval } from './stats.js'
import type { WebhookBenchResults } from './webhooks.js'

export interface GrowthRow {
  store: string
  apps: number
  scopes: number
  callers: string
  distinctCallers: number
  rps: number
  cpuUsPerReq: number
  addedCpuUs: number
  serverRssMb: number
}

/** Scenarios measured at one rate in the CPU view, with the rule that chose it (bench/run.ts chooseRates). */
export interface RateGroup { rate: number, rule: string, scenarios: ScenarioName[] }

export interface Report extends Judged {
  machine: Record<string, unknown>
  node: string
  date: string
  settings: Record<string, unknown> & { mode: string, rounds: number, seconds: number, warmupSeconds: number, connections: number }
  micro?: MicroResults
  growth?: GrowthRow[]
  memory?: MemoryResults
  webhooks?: WebhookBenchResults | { skipped: string }
  instructions?: InstructionResults
  targets: Verdict[]
}

const METHOD = `## Method

- **Real servers, one run.** Every scenario is a Fastify server in a child process of its own
  (\`bench/server.ts\`, 127.0.0.1, port 0) serving the same trivial route (\`GET /\` →
  \`{ hello: 'world' }\`); only what stands in front of the route changes. The plugin is the BUILT
  package (\`dist/\`, rebuilt first when stale), as users run it.
- **The figure: server CPU added per request, at a fixed rate.** Each server reports its own
  \`process.cpuUsage()\` over IPC right before and after each slice, so the load generator's CPU
  never counts. The scenarios are offered a fixed request rate, open loop (\`bench/open-loop.ts\`:
  requests sent on a fixed schedule over 64 keep-alive connections, whatever the server answers),
  the SAME rate for every scenario of a job: 40 % of the closed-loop throughput of the slowest
  scenario of its group in this run, rounded down to 100 (or \`--rate=N\` for all), printed above:
  a rate the group sustains with room (at half, the slower peers sent more than 1 % of their
  requests late, when every connection was busy).
  There are two groups: the Ed25519 scenarios, which sustain a few thousand requests per second,
  and all the others, which sustain tens of thousands. At the Ed25519 rate the others would run
  on a mostly idle server, with cold caches and a few hundred requests per slice (one pause of a
  few ms moves such a slice by several µs per request): at 1300 req/s their intervals were four
  to six times wider than at 8000 req/s. The HMAC jobs are measured at the Ed25519 rate as well,
  in a table of their own. (In a closed loop a fast server takes
  requests in batches per event-loop turn, so its CPU per request falls with its throughput.)
  The headline compares what a scheme adds with what the peers a user would pick instead add for
  the same job (\`jose\`, \`@fastify/jwt\`, \`http-message-signatures\`, each set up as its docs
  recommend, in its fastest documented configuration: \`bench/peers.ts\`).
- **The control is the same process, with the same requests.** Every server also serves an
  unprotected control route (\`GET /bare\`, outside the scenario's plugin context), and the control
  gets the same requests as the scenario's route (the same headers, fresh tokens and nonces
  alike), so the difference is the scheme's code, not the parsing of its headers. After a
  closed-loop warm-up and a moment at the rate on both routes, the scenario's route and the
  control route are measured in turns at the rate, in pairs of short slices (full run: 16 pairs
  of 0.5 s per round, 3 rounds, after 4 pairs that are not counted; bare, whose pairs enter every
  figure as its offset, twice as many) whose order flips from pair to pair (growth runs: one
  round of 6 pairs). Measuring against a second \`bare\` process instead
  mixes in what differs between two processes (their JIT, their heaps, their cores): on this
  2-core machine that was several µs from round to round, more than the cheap schemes cost. The
  pairs right after the warm-up are not counted because the route was cheaper than the control
  in them by up to 45 µs, even with no auth at all.
- **Over bare.** The two routes of one server need not cost the same even with no auth (the
  control sits in the root context, the scenario's route in a plugin context of its own, with
  request objects of another shape), so \`bare\` is measured the same way, at every rate of the
  run, and what a scheme adds is the mean of its route − control differences minus the mean of
  bare's at the same rate. bare's own figure in the tables is that offset.
- **An interval, not a point.** A scenario's figure is the mean over every pair of every round
  (each round a fresh server), with a 95 % bootstrap interval (\`bench/stats.ts\`, resampling the
  pairs, seeded). A ratio to a peer is the ratio of the two figures over bare, with its interval. A
  target is PASS only when its whole interval is under the bar, MISS when the whole interval is
  over it, and UNRESOLVED when the run cannot tell.
- **Throughput and latency, the second view,** come from a closed loop (autocannon, programmatic,
  in the runner's process: 50 connections, pipelining 1), in rounds of their own whose order
  rotates (full run: 3 rounds × 5 s after a 2 s warm-up), each scenario on a fresh server.
- **Fresh requests are made beforehand.** New tokens and signed requests (each with its own nonce)
  are made before each measured run, so that signing never loads the generator; should a pool run
  out, requests are signed on the spot and counted (\`signedDuringRun\`). Signed scenarios run with a
  30-minute window and a nonce store that holds the whole run.
- **Foreign load.** The runner reads the machine's busy time (\`/proc/stat\`) around each run and
  shows the cores other processes took; a closed-loop run during which they took more than 0.15
  core is measured once more (the quieter is kept).
- **Instructions** (\`npm run bench -- --instructions\`, and in every full run where valgrind is
  installed): instructions per call of the scope hook, counted by valgrind's callgrind in one
  process (\`bench/instructions.ts\`): V8 on one thread, a full GC before each path and a young
  generation larger than the measured calls allocate, so no collection runs among them; the count
  repeats from run to run to well under a percent on a busy machine, which timings cannot. The
  collector's share shows as bytes allocated per call. It counts the hook alone, with warm caches:
  a real server at a moderate rate runs each request with colder caches and through Fastify's
  hook stages, which is why the µs above are more than these counts suggest.
  \`npm run bench -- --instructions --profile\` also lists each path's costliest functions (the
  instructions they take themselves, per call; V8's JIT code named from its perf map), to see
  where a change lands.
- **Micro-benchmarks** (\`bench/micro.ts\`) call the preHandler that \`scope()\` returns, and the
  primitives beneath it, in a process of their own. The Ed25519 target's ratio (our path over
  raw \`crypto.verify\`) is the median of 20 pairs of batches taken in turns (10 in a quick run),
  so that a burst of other load falls on both sides of a pair; **memory** floods (\`bench/memory.ts\`) send a
  million distinct tokens and nonces and read the heap after a full GC.

\`npm run bench -- --quick\` is a check of a few minutes that judges the same targets: the
scenarios they name (with \`bare\` and \`prehandler-floor\`), 2 rounds of 16 pairs (so its intervals
are wider than a full run's), a shorter growth, micro, memory and webhook run; it writes \`bench/.tmp/\`.
A run with any other option (\`--rounds=N --seconds=N --cpu-seconds=N --pairs=N --rate=N
--only=a,b --no-growth --no-micro --no-memory --no-webhooks --no-instructions\`) writes
\`bench/.tmp/\` too, so that this page and \`bench/results.json\` are always those of a whole default
run. \`node --import tsx bench/targets.ts\` judges \`bench/results.json\` again, \`node --import tsx
bench/report.ts\` rewrites this page from it;
\`node --import tsx bench/profile.ts <scenario>\` profiles one server.`

/** `value (low to high)`: an estimate with its 95 % interval, as in the tables. */
const withInterval = (interval: Interval, digits: number, unit = ''): string => formatInterval(interval, digits, unit, '')

export function headline (results: Report): string {
  const rows = ['| job | this plugin | adds µs/req (95 % interval) | best peer | peer adds µs/req | ratio |', '|---|---|---:|---|---:|---:|']
  for (const job of Object.values(JOBS)) {
    const ours = measured(results, job.ours)
    const ratio = addedRatio(results, job.ours, job.peers)
    const peer = ratio === undefined ? undefined : measured(results, ratio.peer)
    if (ours === undefined || ratio === undefined || peer === undefined) continue
    rows.push(`| ${job.label} | \`${job.ours}\` | ${withInterval(addedInterval(results, job.ours), 1)} | \`${ratio.peer}\` | ${withInterval(addedInterval(results, ratio.peer), 1)} | ${withInterval(ratio.ratio, 2, '×')} |`)
  }
  for (const [name, label] of [['jwt-cached', 'a repeated JWT (the normal case between services)'], ['prehandler-floor', 'for scale: a `preHandler` that does nothing'],
    ['bare', 'the method\'s offset: bare\'s route against its control route (subtracted from every figure above)']] as const) {
    if (measured(results, name) !== undefined) rows.push(`| ${label} | \`${name}\` | ${withInterval(addedInterval(results, name), 1)} | | | |`)
  }
  const low = lowRate(results)
  if (low !== undefined) rows.push(`| the offset at ${low} req/s (the Ed25519 jobs' rate) | \`bare\` | ${withInterval(addedInterval(results, 'bare', low), 1)} | | | |`)
  return rows.join('\n')
}

/** The run's second rate (the Ed25519 scenarios'), when it had one. */
function lowRate (results: Report): number | undefined {
  const groups = results.settings.rates as RateGroup[] | undefined
  return groups !== undefined && groups.length > 1 ? groups[1].rate : undefined
}

/** The HMAC jobs again at the low rate: on a server idle most of the time, with colder caches. */
function lowRateTable (results: Report): string | undefined {
  const low = lowRate(results)
  if (low === undefined) return undefined
  const rows = ['| job | this plugin | adds µs/req (95 % interval) | peer | peer adds µs/req | ratio |', '|---|---|---:|---|---:|---:|']
  for (const job of Object.values(JOBS)) {
    if (measured(results, job.ours)?.rate === low) continue // measured there anyway: in the headline
    const found = addedRatio(results, job.ours, job.peers, low)
    if (found === undefined) continue
    rows.push(`| ${job.label} | \`${job.ours}\` | ${withInterval(addedInterval(results, job.ours, low), 1)} | \`${found.peer}\` | ${withInterval(addedInterval(results, found.peer, low), 1)} | ${withInterval(found.ratio, 2, '×')} |`)
  }
  if (rows.length === 2) return undefined
  return `## The HMAC jobs on a mostly idle server (${low} req/s)\n\n` +
    `The headline measures these jobs at ${String(results.settings.rate)} req/s. Here are the same jobs at the Ed25519 scenarios' rate, over bare at that rate. ` +
    'The server is idle most of the time there, so each request runs with colder caches. ' +
    'The targets are judged at the headline\'s rate.\n\n' + rows.join('\n')
}

function scenarioTable (results: Report): string {
  const rows = ['| scenario | what it is | fixed rate req/s | server CPU µs/req at that rate | control route µs/req | added over bare (95 % interval) | req/s (closed loop) | p50 ms | p99 ms | CPU µs/req (closed loop) | other load (cores) |',
    '|---|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|']
  for (const [name, entry] of Object.entries(results.scenarios)) {
    const description = DESCRIPTIONS[name as ScenarioName] ?? ''
    if ('skipped' in entry) { rows.push(`| \`${name}\` | ${description} | skipped: ${entry.skipped} | | | | | | | | |`); continue }
    const s = entry as ScenarioResult
    const foreign = s.rounds.map((round) => Number(round.foreignCores)).filter(Number.isFinite).sort((a, b) => a - b)
    const otherLoad = foreign.length === 0 ? 'n/a' : fixed(foreign[Math.floor(foreign.length / 2)], 2)
    // A scenario the server did not serve at the full rate in every round: its figure is marked.
    const mark = s.sustained === false ? ' (rate not sustained)' : ''
    rows.push(`| \`${name}\` | ${description} | ${String(s.rate ?? results.settings.rate ?? '?')} | ${fixed(s.cpuUsPerReq, 1)}${mark} | ${fixed(Number(s.controlCpuUsPerReq), 1)} | ${withInterval(addedInterval(results, name), 1)} | ${s.rps} | ${s.p50Ms} | ${s.p99Ms} | ` +
      `${fixed(Number(s.closedLoopCpuUsPerReq), 1)} | ${otherLoad} |`)
  }
  return rows.join('\n')
}

/** The count's counterpart of the headline's jwt-cold ratio, when the peer path was counted. */
function peerRatioLine (results: InstructionResults): string {
  const ratio = peerRatio(results, 'jwt-new')
  if (ratio === undefined) return ''
  return `\n\n\`${PEER_PATHS['jwt-new']}\` is @fastify/jwt's \`request.jwtVerify()\` (the \`fastify-jwt\` scenario's preHandler) on the same new tokens: ` +
    `\`jwt-new\` takes **${ratio.toFixed(3)}×** its instructions. A count, the same on a busy machine; the headline's ratio is a time, ` +
    'over bare, with colder caches and everything the route adds, so the two need not agree.'
}

function sections (results: Report): string[] {
  const out: string[] = []
  if (results.instructions !== undefined) {
    const i = results.instructions
    out.push(`## Instructions per call of the scope hook\n\n${i.tool}, ${i.count} calls per path after ${i.warmup} warm-up calls:\n\n` +
      '| path | instructions per call | garbage collector, per call | JIT compiler share of the window |\n|---|---:|---:|---:|\n' +
      Object.keys(i.perCall).map((path) => `| ${path} | ${i.perCall[path]} | ${i.collectorPerCall[path]} | ${(i.compilerShare[path] * 100).toFixed(1)} % |`).join('\n') +
      peerRatioLine(i))
  }
  if (results.growth !== undefined && results.growth.length > 0) {
    out.push('## Cost as the work grows\n\nJWT app-level calls from apps that require an agreement (the route\'s scopes are checked), ' +
      `default \`cache.max\` (10 000 apps); server CPU per request at the run's main rate (${String(results.settings.rate ?? '?')} req/s); added: over the server's own control route ` +
      'measured in turns with it at the same rate (one round: a mean over the pairs), minus bare\'s offset at that rate; throughput closed loop:\n\n' +
      '| store | apps in store | scopes on route | callers | server CPU µs/req | added over bare | req/s (closed loop) | server RSS MB |\n|---|---:|---:|---|---:|---:|---:|---:|\n' +
      results.growth.map((g) => `| ${g.store} | ${g.apps} | ${g.scopes} | ${g.callers === 'one' ? 'one app' : `spread over ${g.distinctCallers} apps`} | ${fixed(g.cpuUsPerReq, 1)} | ${fixed(g.addedCpuUs, 1)} | ${g.rps} | ${g.serverRssMb} |`).join('\n'))
  }
  if (results.memory !== undefined) {
    const m = results.memory
    out.push('## Memory\n\nA process of its own (`--expose-gc`); heap after a full GC:\n\n' +
      '| flood | bound | heap retained | per entry at the bound | growth once the bound is reached | peak heap (no GC) |\n|---|---:|---:|---:|---:|---:|\n' +
      ([['distinct tokens, each sent twice, through the scope hook', m.tokens], ['distinct nonces into the configured nonce store', m.nonces]] as const)
        .map(([what, f]) => `| ${f.count} ${what} | ${f.bound} | ${fixed(f.retainedBytes / 1048576, 1)} MB | ${Math.round(f.retainedBytes / f.bound)} B | ${fixed(f.growthPastBoundBytes / 1048576, 1)} MB | ${fixed(f.peakHeapBytes / 1048576, 0)} MB |`).join('\n') +
      `\n\nA cached app (its resolved record, key objects and cache entry; ${m.perCachedApp.apps} apps, each calling once): ${m.perCachedApp.bytesPerApp} bytes of heap.`)
  }
  if (results.webhooks !== undefined) {
    const w = results.webhooks
    if ('skipped' in w) {
      out.push(`## Webhooks\n\nNot measured: ${w.skipped}.`)
    } else {
      const r = w.receive
      const row = (name: string, f: typeof r.single): string => `| ${name} | ${Math.round(f.eventsPerSecond)} | ${Math.round(f.baselinePerSecond)} | ${f.ratio.toFixed(2)}× | ` +
        `${f.preparedBaselinePerSecond === undefined ? 'n/a' : Math.round(f.preparedBaselinePerSecond)} | ${f.ratioToPrepared === undefined ? 'n/a' : `${f.ratioToPrepared.toFixed(2)}×`} |`
      out.push('## Webhooks\n\n' +
        'Events per second into the PostgreSQL receive log on the receiver route\'s write path (parse and check, then one `INSERT ... ON CONFLICT`), without HTTP, ' +
        'against a plain `INSERT ... ON CONFLICT` per event on the same pool (an unnamed query, as such code is usually written; the target is judged on it), and the same loop with a named prepared statement ' +
        '(as the log\'s own writes are by default, PostgresStore `preparedStatements`: the log\'s cost on the same footing); ' +
        `${r.settings.events} events per round, ${r.settings.concurrency} in flight, median of ${r.settings.rounds} alternating round(s) (\`bench/webhooks-receive.ts\`):\n\n` +
        '| requests of | receive log events/s | plain insert events/s | ratio | plain insert, prepared, events/s | ratio |\n|---|---:|---:|---:|---:|---:|\n' +
        row('one event', r.single) + '\n' + row('100 events', r.batch100) + '\n\n' +
        'End to end between two local services on PostgreSQL (a sender with `linkedWebhooks` and pg-boss, a receiver with its receive log; each a process of its own; `bench/webhooks-e2e.ts`), ' +
        'delay from just before `send` to the row in the receiver\'s log:\n\n' +
        '| load | events | events/s | p50 delay | p99 delay |\n|---|---:|---:|---:|---:|\n' +
        `| ${w.endToEnd.senders} callers sending as fast as they can, ${w.endToEnd.concurrency} deliveries at once | ${w.endToEnd.events} | ${w.endToEnd.eventsPerSecond} | ${fixed(w.endToEnd.p50Ms, 0)} ms | ${fixed(w.endToEnd.p99Ms, 0)} ms |\n` +
        `| a steady ${w.paced.ratePerSecond} events/s | ${w.paced.events} | ${w.paced.eventsPerSecond} | ${fixed(w.paced.p50Ms, 0)} ms | ${fixed(w.paced.p99Ms, 0)} ms |`)
    }
  }
  if (results.micro !== undefined) {
    const micro = results.micro
    out.push('## Micro-benchmarks\n\nns per operation; plugin cases call the preHandler returned by `scope()` directly:\n\n| path | case | ns/op |\n|---|---|---:|\n' +
      Object.values(micro.cases).map((c) => `| ${c.group} | ${c.name} | ${c.nsPerOp} |`).join('\n') +
      `\n\nEd25519: the plugin's path / raw \`crypto.verify\` = ${micro.ed25519PathRatio} (JWT path ${micro.ed25519JwtPathRatio}); tweetnacl / raw = ${micro.tweetnaclRatio}.`)
  }
  return out
}

/** At which rate each group of scenarios was measured, and why (runs before rate groups: one rate). */
function ratesLine (results: Report): string {
  const s = results.settings
  const groups = (s.rates as RateGroup[] | undefined) ?? [{ rate: Number(s.rate), rule: String(s.rateRule ?? ''), scenarios: [] }]
  if (groups.length === 1) return `at ${String(groups[0].rate)} req/s${groups[0].rule === '' ? '' : ` (${groups[0].rule})`}`
  const [main, low] = groups
  const ed25519 = low.scenarios.filter((name) => ED25519_SCENARIOS.includes(name))
  const also = low.scenarios.filter((name) => !ED25519_SCENARIOS.includes(name))
  return `at ${main.rate} req/s for every scenario but the Ed25519 ones (${main.rule}) and ${low.rate} req/s for ${ed25519.join(', ')} (${low.rule}; ${also.join(', ')} measured there too)`
}

export function renderReport (results: Report, files: { json: string, svg: string }): string {
  const m = results.machine
  const s = results.settings
  const lowTable = lowRateTable(results)
  return [
    '# Benchmark',
    '',
    `<!-- Written by \`npm run bench\` (bench/report.ts) from ${files.json}: edit the generator, not this file. -->`,
    '',
    `${String(m.cpu)}, ${String(m.cores)} cores, ${String(m.memoryGb)} GB, ${String(m.os)}, Node ${results.node}; ` +
      `${s.mode} run of ${results.date.slice(0, 16).replace('T', ' ')} UTC (${s.rounds} round(s); CPU open loop ${ratesLine(results)}, ${String(s.pairs ?? '?')} pairs of slices per round; ` +
      `throughput closed loop, ${s.seconds} s per round, ${s.connections} connections).`,
    '',
    '## Headline: server CPU added per request',
    '',
    headline(results),
    '',
    '## Targets',
    '',
    'A bar judged on a CPU figure is PASS only when the whole 95 % interval is under it.',
    '',
    '| target | measured | verdict |\n|---|---|---|\n' + results.targets.map((v) => `| ${v.target} | ${v.value} | ${VERDICT_LABELS[v.verdict]} |`).join('\n'),
    '',
    '## Every scenario',
    '',
    scenarioTable(results),
    '',
    `![Server CPU added per request over bare](${files.svg})`,
    '',
    ...(lowTable === undefined ? [] : [lowTable, '']),
    ...sections(results).flatMap((section) => [section, '']),
    METHOD,
    ''
  ].join('\n')
}

const HEADLINE_START = '<!-- bench-headline:start (written by npm run bench) -->'
const HEADLINE_END = '<!-- bench-headline:end -->'

/** The README with its headline table replaced by this run's (between the two markers). */
export function withHeadline (readme: string, results: Report): string {
  const start = readme.indexOf(HEADLINE_START)
  const end = readme.indexOf(HEADLINE_END)
  if (start === -1 || end < start) throw new Error('README.md has no bench-headline markers')
  const m = results.machine
  const table = `${headline(results)}\n\n${String(m.cpu)}, ${String(m.cores)} cores, Node ${results.node}, ${results.date.slice(0, 10)}.`
  return readme.slice(0, start + HEADLINE_START.length) + '\n' + table + '\n' + readme.slice(end)
}

/**
 * Figures over bare, verdicts, then the files of a run: a full run writes bench/results.json,
 * bench/results.svg, bench/README.md and the README's headline; a quick or partial run writes
 * bench/.tmp/ only. Returns the results with `written` (the files).
 */
export function judgeAndWrite (results: Report, kind: 'full' | 'quick' | 'partial'): Report & { written: string[] } {
  withAddedFigures(results)
  results.targets = judge(results)
  const outDir = kind === 'full' ? join(ROOT, 'bench') : join(ROOT, 'bench', '.tmp')
  const outName = kind === 'full' ? 'results' : `results.${kind}`
  mkdirSync(outDir, { recursive: true })
  const json = join(outDir, `${outName}.json`)
  const svg = join(outDir, `${outName}.svg`)
  const page = kind === 'full' ? join(ROOT, 'bench', 'README.md') : join(outDir, `${outName}.md`)
  writeFileSync(json, JSON.stringify(results, null, 2) + '\n')
  const rows = Object.entries(results.scenarios).flatMap(([name, s]) => 'skipped' in s || name === 'bare' ? [] : [{ name, addedCpuUs: s.addedCpuUs }])
  const m = results.machine
  writeFileSync(svg, addedChart(rows, `${String(m.cpu)}, ${String(m.cores)} cores, Node ${results.node}, ${results.settings.mode} run, ${results.date.slice(0, 10)}`))
  writeFileSync(page, renderReport(results, { json: `${outName}.json`, svg: `${outName}.svg` }))
  const written = [json, svg, page]
  if (kind === 'full') {
    const readme = join(ROOT, 'README.md')
    writeFileSync(readme, withHeadline(readFileSync(readme, 'utf8'), results))
    written.push(readme)
  }
  return Object.assign(results, { written })
}

// `node --import tsx bench/report.ts`: judges bench/results.json again and rewrites the files of
// the full run from it (after a change to how figures are taken or shown; no new measurement).
if (require.main === module) {
  const results = JSON.parse(readFileSync(join(ROOT, 'bench', 'results.json'), 'utf8')) as Report
  console.log(judgeAndWrite(results, 'full').written.join('\n'))
}
