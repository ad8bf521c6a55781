/**
 * The `jwt-cached-postgres` scenario's store: the package's PostgresStore (in a schema of the
 * bench's own, so that tests sharing the database are not disturbed) holding the bench apps.
 */
import type { AppRecord } from '../types/index.js'
import { benchApps } from './scenarios.js'

type PostgresStoreClass = typeof import('../plugin/stores/postgres-store.js')['PostgresStore']

export async function postgresStore (pkg: Record<string, unknown>, databaseUrl: string, apps: AppRecord[] = benchApps(), schema = 'bench_linked_services'): Promise<unknown> {
  const PostgresStore = pkg.PostgresStore as PostgresStoreClass | undefined
  if (typeof PostgresStore !== 'function') throw new Error('the built package does not export PostgresStore')
  const store = new PostgresStore({ connectionString: databaseUrl, schema })
  await store.migrate()
  // Ten writes at a time: a growth store of many apps fills in seconds, not minutes.
  for (let i = 0; i < apps.length; i += 10) await Promise.all(apps.slice(i, i + 10).map(async (app) => await store.upsertApp(app)))
  return store
}
