/**
 * Runs the missing migrations of one schema, idempotently: under a session advisory lock (so two
 * instances starting together apply each migration once), each migration in its own transaction
 * together with its row in `schema_migrations`.
 */
import type { Pool, PoolClient } from 'pg'
import { checkIdentifier, quoteIdentifier } from './identifiers.js'
import { LATEST_VERSION, MIGRATIONS, type Migration } from './migrations.js'

export interface MigrationResult {
  schema: string
  /** The migrations applied by this call (empty when the schema was up to date). */
  applied: Array<{ version: number, name: string }>
  /** The schema's version after the call. */
  version: number
  /** The newest version this package knows. */
  latest: number
}

/** One advisory lock per schema, in a key space of our own (the first key of the two-int form). */
const LOCK_SPACE = 0x4c534d47 // 'LSMG'

export async function runMigrations (pool: Pool, schema: string, migrations: readonly Migration[] = MIGRATIONS): Promise<MigrationResult> {
  checkIdentifier(schema, 'schema')
  const s = quoteIdentifier(schema)
  const client: PoolClient = await pool.connect()
  let broken = false
  try {
    await client.query('SELECT pg_advisory_lock($1, hashtext($2))', [LOCK_SPACE, schema])
    try {
      await client.query(`CREATE SCHEMA IF NOT EXISTS ${s}`)
      await client.query(`CREATE TABLE IF NOT EXISTS ${s}.schema_migrations (
        version integer PRIMARY KEY,
        name text NOT NULL,
        applied_at timestamptz NOT NULL DEFAULT now()
      )`)
      const { rows } = await client.query<{ version: number }>(`SELECT version FROM ${s}.schema_migrations`)
      const done = new Set(rows.map((row) => Number(row.version)))
      const applied: MigrationResult['applied'] = []
      for (const migration of migrations) {
        if (done.has(migration.version)) continue
        await client.query('BEGIN')
        try {
          for (const statement of migration.statements(schema)) await client.query(statement)
          await client.query(`INSERT INTO ${s}.schema_migrations (version, name) VALUES ($1, $2)`, [migration.version, migration.name])
          await client.query('COMMIT')
        } catch (error) {
          await client.query('ROLLBACK').catch(() => { broken = true })
          throw error
        }
        done.add(migration.version)
        applied.push({ version: migration.version, name: migration.name })
      }
      return { schema, applied, version: Math.max(0, ...done), latest: LATEST_VERSION }
    } finally {
      await client.query('SELECT pg_advisory_unlock($1, hashtext($2))', [LOCK_SPACE, schema]).catch(() => { broken = true })
    }
  } catch (error) {
    broken = true
    throw error
  } finally {
    // A connection left in an unknown state (lock held, transaction open) is not reused.
    client.release(broken)
  }
}
