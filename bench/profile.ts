/**
 * `node --import tsx bench/profile.ts <scenario> [seconds]`: runs one scenario's server under
 * `--cpu-prof` with the same load as `npm run bench`, then prints where the server's CPU time
 * goes: self time by function (top 30) and the share of time spent in the plugin's files.
 * Profiles are kept in bench/.tmp/prof/.
 */
import { fork } from 'node:child_process'
import { mkdirSync, readdirSync, readFileSync, rmSync } from 'node:fs'
import { join } from 'node:path'
import { makePool, runLoad } from './load.js'
import { ensureBuilt, ROOT } from './package.js'
import { SCENARIOS, type ScenarioName } from './scenarios.js'
import type { ServerMessage } from './server.js'

interface ProfileNode {
  id: number
  callFrame: { functionName: string, url: string, lineNumber: number }
  children?: number[]
}
interface CpuProfile { nodes: ProfileNode[], samples: number[], timeDeltas: number[] }

function areaOf (file: string, functionName: string): string {
  if (file.startsWith('dist/plugin')) return 'plugin (dist/plugin)'
  if (file.includes('node_modules/fastify/')) return 'fastify'
  if (file.includes('node_modules/')) return 'other node_modules'
  if (file.startsWith('node:')) return 'node core (JS)'
  if (functionName === '(garbage collector)') return 'garbage collector'
  if (functionName === '(idle)') return 'idle'
  if (functionName === '(program)') return 'program (native, unattributed)'
  return 'other'
}

export function summarise (profile: CpuProfile, requests: number, top = 30): string {
  const self = new Map<number, number>()
  profile.samples.forEach((id, i) => self.set(id, (self.get(id) ?? 0) + (profile.timeDeltas[i] ?? 0)))
  const byFunction = new Map<string, number>()
  const byArea = new Map<string, number>()
  let total = 0
  for (const node of profile.nodes) {
    const us = self.get(node.id) ?? 0
    total += us
    const { functionName, url, lineNumber } = node.callFrame
    const file = url.replace(/^file:\/\//, '').replace(ROOT + '/', '')
    const key = `${functionName === '' ? '(anonymous)' : functionName}  ${file === '' ? '' : `${file}:${lineNumber + 1}`}`
    byFunction.set(key, (byFunction.get(key) ?? 0) + us)
    const area = areaOf(file, functionName)
    byArea.set(area, (byArea.get(area) ?? 0) + us)
  }
  const pct = (us: number): string => `${(us / total * 100).toFixed(1).padStart(5)}%  ${(us / requests).toFixed(2).padStart(6)} µs/req`
  const lines = ['self time by area:']
  for (const [area, us] of [...byArea].sort((a, b) => b[1] - a[1])) lines.push(`  ${pct(us)}  ${area}`)
  // Inclusive time of the plugin's functions: a sample counts once for every plugin function on its stack.
  const parent = new Map<number, number>()
  for (const node of profile.nodes) for (const child of node.children ?? []) parent.set(child, node.id)
  const byId = new Map(profile.nodes.map((node) => [node.id, node]))
  const inclusive = new Map<string, number>()
  profile.samples.forEach((id, i) => {
    const seen = new Set<string>()
    for (let at: number | undefined = id; at !== undefined; at = parent.get(at)) {
      const { functionName, url, lineNumber } = byId.get(at)!.callFrame
      if (!url.includes('/dist/plugin/')) continue
      const key = `${functionName === '' ? '(anonymous)' : functionName}  ${url.replace(/^file:\/\//, '').replace(ROOT + '/', '')}:${lineNumber + 1}`
      if (!seen.has(key)) inclusive.set(key, (inclusive.get(key) ?? 0) + (profile.timeDeltas[i] ?? 0))
      seen.add(key)
    }
  })
  lines.push('plugin functions by inclusive time:')
  for (const [key, us] of [...inclusive].sort((a, b) => b[1] - a[1]).slice(0, 15)) lines.push(`  ${pct(us)}  ${key}`)
  lines.push(`top ${top} functions by self time:`)
  for (const [key, us] of [...byFunction].sort((a, b) => b[1] - a[1]).slice(0, top)) lines.push(`  ${pct(us)}  ${key}`)
  return lines.join('\n')
}

async function main (): Promise<void> {
  const scenario = process.argv[2] as ScenarioName
  if (!SCENARIOS.includes(scenario)) throw new Error(`usage: bench/profile.ts <${SCENARIOS.join('|')}> [seconds]`)
  const seconds = Number(process.argv[3] ?? 5)
  ensureBuilt((line) => console.error(line))
  const dir = join(ROOT, 'bench', '.tmp', 'prof', scenario)
  rmSync(dir, { recursive: true, force: true })
  mkdirSync(dir, { recursive: true })
  const child = fork(join(__dirname, 'server.ts'), [], {
    execArgv: ['--import', 'tsx', '--cpu-prof', `--cpu-prof-dir=${dir}`],
    env: { ...process.env, BENCH_SERVER: JSON.stringify({ scenario }) },
    stdio: ['ignore', 'inherit', 'inherit', 'ipc']
  })
  const port = await new Promise<number>((resolve, reject) => {
    child.once('message', (message: ServerMessage) => message.type === 'ready' ? resolve(message.port) : reject(new Error(JSON.stringify(message))))
  })
  const result = await runLoad({ port, pool: makePool(scenario, port, 40_000 * seconds), seconds, connections: 50 })
  console.log(`${scenario}: ${Math.round(result.rps)} req/s under the profiler (${result.non2xx} non-2xx)`)
  const exited = new Promise((resolve) => child.once('exit', resolve))
  child.send({ type: 'close' })
  await exited
  const file = readdirSync(dir).find((name) => name.endsWith('.cpuprofile'))
  if (file === undefined) throw new Error('no profile written')
  console.log(summarise(JSON.parse(readFileSync(join(dir, file), 'utf8')) as CpuProfile, result.requests))
  console.log(`profile: ${join(dir, file)}`)
}

if (require.main === module) {
  main().catch((error: unknown) => {
    console.error(error)
    process.exit(1)
  })
}
