/**
 * The `jwt-cached-postgres` scenario's store: the package's PostgresStore (in a schema of the
 * bench's own, so that tests sharing the database are not disturbed) holding the bench apps.
 */
import { benchApps } from './scenarios.js'

type PostgresStoreClass = typeof import('../plugin/stores/postgres-store.js')['PostgresStore']

export async function postgresStore (pkg: Record<string, unknown>, databaseUrl: string): Promise<unknown> {
  const PostgresStore = pkg.PostgresStore as PostgresStoreClass | undefined
  if (typeof PostgresStore !== 'function') throw new Error('the built package does not export PostgresStore')
  const store = new PostgresStore({ connectionString: databaseUrl, schema: 'bench_linked_services' })
  await store.migrate()
  for (const app of benchApps()) await store.upsertApp(app)
  return store
}
