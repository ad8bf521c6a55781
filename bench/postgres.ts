/**
 * The `jwt-cached-postgres` scenario's store: the package's PostgresStore holding the bench
 * apps. Runs only when the built package exports PostgresStore (the scale-out helper's work).
 */
import { benchApps } from './scenarios.js'

export async function postgresStore (pkg: Record<string, unknown>, databaseUrl: string): Promise<unknown> {
  const PostgresStore = pkg.PostgresStore as (new (options: Record<string, unknown>) => Record<string, unknown>) | undefined
  if (typeof PostgresStore !== 'function') throw new Error('the built package does not export PostgresStore')
  const store = new PostgresStore({ connectionString: databaseUrl, prefix: 'bench_' })
  const migrate = store.migrate as (() => Promise<void>) | undefined
  if (typeof migrate === 'function') await migrate.call(store)
  const upsert = (store.upsertApp ?? store.saveApp ?? store.addApp) as ((app: unknown) => Promise<void>) | undefined
  if (typeof upsert !== 'function') throw new Error('PostgresStore: no method to add an app')
  for (const app of benchApps()) await upsert.call(store, app)
  return store
}
