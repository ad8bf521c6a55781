/**
 * What `npm pack` publishes: only what a user needs (README, LICENSE, CHANGELOG, the built
 * JavaScript and its declarations, the subpath stubs for old resolvers), and declarations that
 * @arethetypeswrong/cli and publint find nothing wrong with, for the root and every subpath.
 */
import { after, test } from 'node:test'
import assert from 'node:assert/strict'
import { execFileSync } from 'node:child_process'
import { readFileSync } from 'node:fs'
import { join } from 'node:path'
import { cleanupPacked, packPackage, ROOT } from './helpers/packed.js'

after(cleanupPacked)

const TOP_LEVEL = ['CHANGELOG.md', 'LICENSE', 'README.md', 'package.json', 'postgres/package.json', 'redis/package.json', 'observability/package.json']
const BUILT = /^dist\/(?:plugin\/.+\.(?:js|mjs|d\.ts|d\.mts)|types\/index\.d\.ts)$/

test('the tarball holds the docs, the license, the built JavaScript and declarations, and nothing else', () => {
  const { files } = packPackage()
  const unexpected = files.filter((file) => !TOP_LEVEL.includes(file) && !BUILT.test(file))
  assert.deepEqual(unexpected, [], 'files a user does not need (sources, maps, tests, bench, examples)')
  for (const file of TOP_LEVEL) assert.ok(files.includes(file), `${file} is published`)
  // Every entry point of package.json is in the tarball.
  const pkg = JSON.parse(readFileSync(join(ROOT, 'package.json'), 'utf8'))
  const targets = [pkg.main, pkg.types, ...Object.values(pkg.bin as Record<string, string>)]
  for (const entry of Object.values(pkg.exports as Record<string, unknown>)) {
    const walk = (value: unknown): void => {
      if (typeof value === 'string') targets.push(value.replace(/^\.\//, ''))
      else if (value !== null && typeof value === 'object') Object.values(value).forEach(walk)
    }
    walk(entry)
  }
  for (const target of targets) assert.ok(files.includes(target), `${target} (named in package.json) is published`)
  assert.ok(!files.some((file) => file.endsWith('.map')), 'no source maps without their sources')
})

test('the license named in package.json is the LICENSE file', () => {
  const pkg = JSON.parse(readFileSync(join(ROOT, 'package.json'), 'utf8'))
  assert.equal(pkg.license, 'MIT')
  assert.match(readFileSync(join(ROOT, 'LICENSE'), 'utf8'), /^MIT License/)
  for (const field of ['repository', 'bugs', 'homepage']) assert.ok(pkg[field], `package.json has ${field}`)
})

test('@arethetypeswrong/cli finds no problem for the root and the subpaths', () => {
  const cli = join(ROOT, 'node_modules', '@arethetypeswrong', 'cli', 'dist', 'index.js')
  const report = JSON.parse(execFileSync(process.execPath, [cli, packPackage().tarball, '--format', 'json'], { encoding: 'utf8' }))
  assert.deepEqual(report.problems, {})
  assert.deepEqual(Object.keys(report.analysis.entrypoints).sort(), ['.', './observability', './package.json', './postgres', './redis'])
})

test('publint finds nothing to report, not even a suggestion', async () => {
  const { publint } = await import('publint')
  const tarball = new Uint8Array(readFileSync(packPackage().tarball)).buffer
  // pkgDir: the folder inside the tarball.
  const { messages } = await publint({ pkgDir: 'package', pack: { tarball }, level: 'suggestion', strict: true })
  assert.deepEqual(messages, [])
})
