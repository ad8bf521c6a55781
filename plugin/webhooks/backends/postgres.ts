/**
 * The PostgreSQL webhook backend of a PostgresStore: the tables of migration 3 in the store's
 * schema, on the store's pool. Two engines: the receive log runs itself (a pending row is its own
 * job, PostgresLogQueue), the outbox runs on pg-boss (PgBossJobs, schema `<schema>_jobs`). It
 * opens no connection of its own and ends none: the pool stays the store's.
 */
import type { Pool } from 'pg'
import { StoreNotMigratedError } from '../../errors.js'
import { requirePeer } from '../../lazy-modules.js'
import { PgBossJobs, type PgBossJobsOptions } from '../jobs/pg-boss-jobs.js'
import { PostgresLogQueue, type PostgresLogQueueOptions } from '../receive/postgres-log-queue.js'
import { PostgresReceiveLog } from '../receive/postgres-log.js'
import { RECEIVE_QUEUE } from '../receive/receive-log.js'
import { PostgresOutbox } from '../send/postgres-outbox.js'
import type { LinkedWebhooksBackend } from './backend.js'

/** What the backend needs of a PostgresStore. */
export interface PostgresLike {
  pool: Pool
  schema: string
  /** PostgresStore's option of that name (absent: true). */
  preparedStatements?: boolean
}

/** Whether `store` is a PostgresStore (by shape: a second copy of the package counts too). */
export function isPostgresLike (store: unknown): store is PostgresLike {
  const candidate = store as Partial<PostgresLike> & { migrate?: unknown } | null
  return candidate !== null && typeof candidate === 'object' && typeof candidate.schema === 'string' &&
    typeof candidate.migrate === 'function' && typeof candidate.pool?.query === 'function' && typeof candidate.pool?.connect === 'function'
}

export interface PostgresBackendOptions extends Omit<PgBossJobsOptions, 'pool' | 'schema'> {
  /** The receive queue's settings (lease, polling interval). */
  receive?: Pick<PostgresLogQueueOptions, 'leaseMs' | 'pollingIntervalMs'>
}

export function createPostgresBackend (store: PostgresLike, options: PostgresBackendOptions = {}): LinkedWebhooksBackend {
  // The outbox's jobs need pg-boss (an optional peer): say so at registration, not at ready().
  requirePeer('pg-boss', 'linkedWebhooks on PostgreSQL')
  const { receive, ...pgBoss } = options
  const jobs = new PgBossJobs({ ...pgBoss, pool: store.pool, schema: store.schema })
  const receiveJobs = new PostgresLogQueue({ ...receive, pool: store.pool, schema: store.schema, onError: options.onError })
  const received = new PostgresReceiveLog({
    pool: store.pool, schema: store.schema, preparedStatements: store.preparedStatements, wake: () => receiveJobs.wake(RECEIVE_QUEUE)
  })
  const outbox = new PostgresOutbox({ pool: store.pool, schema: store.schema, jobs })
  return {
    kind: 'postgres',
    jobs,
    receiveJobs,
    received,
    outbox,
    async start () {
      // Migration 3 made the tables: say so at start-up, not on the first event.
      const { rows } = await store.pool.query<{ log: string | null }>('SELECT to_regclass($1) AS log', [`"${store.schema}".webhook_log`])
      if (rows[0]?.log === null) throw new StoreNotMigratedError(`${store.schema} (its webhook tables, migration 3)`)
      await receiveJobs.start()
      await jobs.start()
    },
    async stop () {
      await receiveJobs.stop()
      await jobs.stop()
    }
  }
}
