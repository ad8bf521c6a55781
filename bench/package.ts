/**
 * The plugin as users run it: the BUILT package (`dist/`, through its CommonJS entry point),
 * never the TypeScript sources. `ensureBuilt()` runs `npm run build` when `dist/` is missing or
 * older than a source file.
 */
import { execFileSync } from 'node:child_process'
import { existsSync, readdirSync, statSync } from 'node:fs'
import { createRequire } from 'node:module'
import { join, resolve } from 'node:path'

export const ROOT = resolve(__dirname, '..')
const ENTRY = join(ROOT, 'dist', 'plugin', 'cjs.js')
const require = createRequire(__filename)

type PackageModule = typeof import('../plugin/index.js')
type SignJwt = typeof import('../plugin/client/sign-jwt.js')['signJwt']
type SignRequest = typeof import('../plugin/signature/sign.js')['signRequest']

function newestSource (dir: string): number {
  let newest = 0
  for (const entry of readdirSync(dir, { withFileTypes: true })) {
    const path = join(dir, entry.name)
    if (entry.isDirectory()) newest = Math.max(newest, newestSource(path))
    else if (entry.name.endsWith('.ts')) newest = Math.max(newest, statSync(path).mtimeMs)
  }
  return newest
}

/** Whether dist/ is missing or older than plugin/ or types/. */
export function distIsStale (): boolean {
  if (!existsSync(ENTRY)) return true
  const built = statSync(ENTRY).mtimeMs
  return newestSource(join(ROOT, 'plugin')) > built || newestSource(join(ROOT, 'types')) > built
}

export function ensureBuilt (log: (line: string) => void): void {
  if (!distIsStale()) return
  log('dist/ is missing or stale: npm run build')
  execFileSync('npm', ['run', 'build'], { cwd: ROOT, stdio: ['ignore', 'ignore', 'inherit'] })
}

/** The built package: `require('fastify-linked-services')` as a CommonJS user gets it. */
export function loadPackage (): PackageModule {
  return require(ENTRY) as PackageModule
}

/**
 * The outgoing signers, from the package's exports when it has them, else from the built
 * modules that plugin/index.ts is to re-export (the bench only uses them to make requests).
 */
export function loadSigners (): { signJwt: SignJwt, signRequest: SignRequest } {
  const pkg = loadPackage() as unknown as Record<string, unknown>
  const signJwt = (pkg.signJwt ?? (require(join(ROOT, 'dist/plugin/client/sign-jwt.js')) as Record<string, unknown>).signJwt) as SignJwt
  const signRequest = (pkg.signRequest ?? (require(join(ROOT, 'dist/plugin/signature/sign.js')) as Record<string, unknown>).signRequest) as SignRequest
  return { signJwt, signRequest }
}

/** A module of the built package, by path under dist/plugin (micro-benchmarks of internals). */
export function loadBuilt<T> (relative: string): T {
  return require(join(ROOT, 'dist', 'plugin', relative)) as T
}

/** The built `fastify-linked-services/postgres` entry point. */
export function loadPostgresEntry (): Record<string, unknown> {
  const entry = join(ROOT, 'dist', 'plugin', 'postgres.js')
  return existsSync(entry) ? require(entry) as Record<string, unknown> : {}
}

/** Whether the built package exports PostgresStore (the scale-out scenario). */
export function hasPostgresStore (): boolean {
  return typeof loadPostgresEntry().PostgresStore === 'function'
}
