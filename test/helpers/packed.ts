/**
 * The package as npm publishes it: `npm pack` of the built tree into a temporary directory
 * (never into the repository), once per test process. The tests that use it check the tarball's
 * contents and install it into fresh consumer projects.
 */
import { execFileSync } from 'node:child_process'
import { existsSync, mkdirSync, mkdtempSync, readdirSync, rmSync, symlinkSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join, resolve } from 'node:path'

export const ROOT = resolve(__dirname, '..', '..')

export interface Packed {
  /** Absolute path of the .tgz. */
  tarball: string
  /** Paths inside the tarball, without the leading `package/`, sorted. */
  files: string[]
  /** The directory holding the tarball and everything made from it; removed by cleanup(). */
  dir: string
}

let packed: Packed | null = null

export function packPackage (): Packed {
  if (packed !== null) return packed
  if (!existsSync(join(ROOT, 'dist', 'plugin', 'cjs.d.ts'))) throw new Error('dist/ is missing: run `npm run build` first (npm test does)')
  const dir = mkdtempSync(join(tmpdir(), 'fls-pack-'))
  // --ignore-scripts: the tree is already built; `prepare` would rebuild dist/ under other tests.
  const out = execFileSync('npm', ['pack', '--json', '--ignore-scripts', '--pack-destination', dir], { cwd: ROOT, encoding: 'utf8' })
  const [info] = JSON.parse(out) as Array<{ filename: string, files: Array<{ path: string }> }>
  packed = { tarball: join(dir, info.filename), files: info.files.map((file) => file.path).sort(), dir }
  return packed
}

export function cleanupPacked (): void {
  if (packed !== null) rmSync(packed.dir, { recursive: true, force: true })
  packed = null
}

/** Unpacks the tarball into `<consumer>/node_modules/fastify-linked-services`. */
export function unpackInto (consumer: string): void {
  const target = join(consumer, 'node_modules', 'fastify-linked-services')
  mkdirSync(target, { recursive: true })
  execFileSync('tar', ['xzf', packPackage().tarball, '-C', target, '--strip-components=1'])
}

/**
 * A consumer project whose node_modules links the repository's installed packages (fastify,
 * typescript, @types/node, ...) except `exclude`, with the tarball unpacked as
 * fastify-linked-services. No network, no install step: the type tests run in seconds.
 */
export function linkedConsumer (name: string, exclude: readonly string[] = []): string {
  const consumer = join(packPackage().dir, name)
  const modules = join(consumer, 'node_modules')
  mkdirSync(modules, { recursive: true })
  for (const entry of readdirSync(join(ROOT, 'node_modules'))) {
    if (entry === 'fastify-linked-services' || entry.startsWith('.')) continue
    if (entry.startsWith('@')) {
      mkdirSync(join(modules, entry), { recursive: true })
      for (const scoped of readdirSync(join(ROOT, 'node_modules', entry))) {
        if (!exclude.includes(`${entry}/${scoped}`)) symlinkSync(join(ROOT, 'node_modules', entry, scoped), join(modules, entry, scoped))
      }
    } else if (!exclude.includes(entry)) {
      symlinkSync(join(ROOT, 'node_modules', entry), join(modules, entry))
    }
  }
  unpackInto(consumer)
  return consumer
}
