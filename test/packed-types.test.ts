/**
 * The README's example and the public types, compiled against the PACKED tarball by consumers
 * in every module resolution mode: an ES module (`"type": "module"`, nodenext, `.mts`), CommonJS
 * (`.cts` with `import x = require()` and with a default import) and a bundler. `skipLibCheck` is
 * off, so the package's own declarations are checked too: the root and /observability must
 * compile without pg, @types/pg, ioredis, undici, prom-client or @opentelemetry/api installed;
 * the backend subpaths compile with theirs.
 */
import { after, before, test } from 'node:test'
import assert from 'node:assert/strict'
import { spawnSync } from 'node:child_process'
import { copyFileSync, readFileSync, writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { cleanupPacked, linkedConsumer, ROOT } from './helpers/packed.js'

const FIXTURES = join(__dirname, 'fixtures', 'packed-types')
const BACKENDS = ['pg', '@types/pg', 'ioredis', 'undici', 'prom-client', '@opentelemetry/api']
const TSC = join(ROOT, 'node_modules', 'typescript', 'bin', 'tsc')

/** The README's "A complete example" code block. */
function readmeExample (): string {
  const readme = readFileSync(join(ROOT, 'README.md'), 'utf8')
  const section = readme.slice(readme.indexOf('## A complete example'))
  const match = /```ts\n([\s\S]*?)```/.exec(section)
  assert.ok(match, 'README.md has a complete example in a ts code block')
  return match[1]
}

/** The example as a CommonJS file: the same imports, the top-level awaits inside main(). */
function asCommonJs (code: string, importLines: string): string {
  const lines = code.split('\n')
  const body = lines.filter((line) => !line.startsWith('import '))
  return `${importLines}\n\nasync function main (): Promise<void> {\n${body.join('\n')}\n}\nvoid main()\n`
}

function tsc (consumer: string, config: Record<string, unknown>, files: string[]): void {
  const name = `tsconfig.${String(config.moduleResolution)}.json`
  writeFileSync(join(consumer, name), JSON.stringify({
    compilerOptions: { target: 'ES2022', strict: true, noEmit: true, skipLibCheck: false, types: ['node'], ...config },
    files
  }))
  const result = spawnSync(process.execPath, [TSC, '-p', name], { cwd: consumer, encoding: 'utf8' })
  assert.equal(result.status, 0, `tsc -p ${name} failed:\n${result.stdout}${result.stderr}`)
}

let rootOnly: string
let withBackends: string

before(() => {
  const example = readmeExample()
  rootOnly = linkedConsumer('types-root', BACKENDS)
  writeFileSync(join(rootOnly, 'package.json'), JSON.stringify({ name: 'consumer', private: true, type: 'module' }))
  writeFileSync(join(rootOnly, 'readme.mts'), example)
  writeFileSync(join(rootOnly, 'readme-bundler.ts'), example)
  writeFileSync(join(rootOnly, 'readme-require.cts'), asCommonJs(example,
    "import Fastify = require('fastify')\nimport linkedServices = require('fastify-linked-services')\nconst { MemoryStore } = linkedServices"))
  writeFileSync(join(rootOnly, 'readme-default.cts'), asCommonJs(example,
    "import Fastify from 'fastify'\nimport linkedServices, { MemoryStore } from 'fastify-linked-services'"))
  for (const file of ['checks.mts', 'checks.cts']) copyFileSync(join(FIXTURES, file), join(rootOnly, file))

  withBackends = linkedConsumer('types-backends')
  writeFileSync(join(withBackends, 'package.json'), JSON.stringify({ name: 'consumer', private: true, type: 'module' }))
  for (const file of ['backends.mts', 'backends.cts', 'augment.mts', 'augment.cts']) copyFileSync(join(FIXTURES, file), join(withBackends, file))
})

after(cleanupPacked)

test('nodenext: the README example and the type checks compile as ESM (.mts) and CommonJS (.cts, require and default import)', () => {
  tsc(rootOnly, { module: 'nodenext', moduleResolution: 'nodenext' },
    ['readme.mts', 'readme-require.cts', 'readme-default.cts', 'checks.mts', 'checks.cts'])
})

const OBSERVABILITY = `import Fastify from 'fastify'
import linkedServices from 'fastify-linked-services'
import { linkedServicesAudit, linkedServicesMetrics, linkedServicesTracing, SCOPE_CHANNEL, type AuditEntry, type ScopeEvent } from 'fastify-linked-services/observability'
const app = Fastify()
const entries: AuditEntry[] = []
app.register(linkedServices, { appName: 'me' })
app.register(linkedServicesAudit, { sink: { record: (entry: AuditEntry) => { entries.push(entry) } } })
app.register(linkedServicesMetrics, { maxApps: 10 })
app.register(linkedServicesTracing, {})
const channel: string = SCOPE_CHANNEL
const outcome = (event: ScopeEvent): string => event.outcome
export { channel, outcome }
`

test('/observability types from ESM and CommonJS without prom-client or @opentelemetry/api installed', () => {
  writeFileSync(join(rootOnly, 'observability.mts'), OBSERVABILITY)
  writeFileSync(join(rootOnly, 'observability.cts'), OBSERVABILITY.replace("import Fastify from 'fastify'", "import Fastify = require('fastify')"))
  tsc(rootOnly, { module: 'nodenext', moduleResolution: 'nodenext' }, ['observability.mts', 'observability.cts'])
})

test('bundler: the README example compiles', () => {
  tsc(rootOnly, { module: 'esnext', moduleResolution: 'bundler' }, ['readme-bundler.ts'])
})

test('subpaths /postgres and /redis type from ESM and CommonJS (with pg, @types/pg, ioredis installed); LinkedUserTypes merges from both', () => {
  tsc(withBackends, { module: 'nodenext', moduleResolution: 'nodenext' }, ['backends.mts', 'backends.cts', 'augment.mts', 'augment.cts'])
})

test('node10 (moduleResolution "node"): the root and the subpaths resolve to typed CommonJS', () => {
  writeFileSync(join(withBackends, 'node10.cts'),
    "import linkedServices = require('fastify-linked-services')\nimport { PostgresAuditSink, PostgresStore } from 'fastify-linked-services/postgres'\nimport { RedisNonceStore } from 'fastify-linked-services/redis'\n" +
    "import { linkedServicesMetrics } from 'fastify-linked-services/observability'\n" +
    'export const names: string[] = [typeof linkedServices.MemoryStore, typeof PostgresStore, typeof PostgresAuditSink, typeof RedisNonceStore, typeof linkedServicesMetrics]\n')
  tsc(withBackends, { module: 'commonjs', moduleResolution: 'node10', esModuleInterop: true }, ['node10.cts'])
})
