/**
 * The SQL of the PostgreSQL receive log (table `webhook_log`, migration 3), built once per
 * schema. Every value is a bound parameter; only the checked schema name is interpolated.
 *
 * `updated_at` doubles as the row's version: every change sets it strictly later than before
 * (`greatest(now(), updated_at + 1 µs)`, now() being the transaction's start), and a run records
 * its outcome only where `updated_at` is still the one it read (as text: microseconds kept).
 *
 * A pending row is its own job (no job table): due at `next_attempt_at`, claimed by a worker by
 * setting `locked_until` (its lease). Every write that schedules a run (record, settle, retry)
 * sets `next_attempt_at` and clears `locked_until` in the same UPDATE.
 */
import { quoteIdentifier } from '../../stores/postgres/identifiers.js'

export const RECEIVED_COLUMNS = 'id, app, user_id, external_id, type, data, status, attempts, last_error, received_at, updated_at, next_attempt_at'

export interface ReceiveSql {
  record: string
  recordOne: string
  load: string
  settle: string
  list: string
  get: string
  retryOne: string
  retryFailed: string
  purge: string
  counts: string
  claim: string
}

export function buildReceiveSql (schema: string): ReceiveSql {
  const table = `${quoteIdentifier(schema)}.webhook_log`
  const bump = 'greatest(now(), w.updated_at + interval \'1 microsecond\')'
  // New data for a known event: pending again, due now, from a fresh start, the lease let go.
  const upsert = `ON CONFLICT (app, (coalesce(user_id, '')), external_id, type) WHERE external_id IS NOT NULL
      DO UPDATE SET data = EXCLUDED.data, status = 'pending', attempts = 0, last_error = NULL,
        next_attempt_at = now(), locked_until = NULL, received_at = now(), updated_at = ${bump}
        WHERE w.data IS DISTINCT FROM EXCLUDED.data
      RETURNING id`
  return {
    // One statement for the whole request. A row whose data is unchanged is left as it is (and
    // not returned: it is not queued again).
    record: `INSERT INTO ${table} AS w (app, user_id, external_id, type, data, next_attempt_at)
      SELECT $1, $2, e.external_id, e.type, e.data, now()
        FROM unnest($3::text[], $4::text[], $5::jsonb[]) WITH ORDINALITY AS e(external_id, type, data, position)
        ORDER BY e.position
      ${upsert}`,
    // The same for a request of one event, without the arrays: about half the time to parse and
    // plan, and most requests carry one event.
    recordOne: `INSERT INTO ${table} AS w (app, user_id, external_id, type, data, next_attempt_at)
      VALUES ($1, $2, $3, $4, $5::jsonb, now())
      ${upsert}`,
    load: `SELECT ${RECEIVED_COLUMNS}, updated_at::text AS version FROM ${table} WHERE id = $1`,
    settle: `UPDATE ${table} AS w SET status = $3, attempts = $4, last_error = $5, next_attempt_at = $6, locked_until = NULL, updated_at = ${bump}
      WHERE id = $1 AND updated_at = $2::timestamptz AND status = 'pending' RETURNING id`,
    list: `SELECT ${RECEIVED_COLUMNS} FROM ${table}
      WHERE ($1::text IS NULL OR status = $1) AND ($2::text IS NULL OR app = $2) AND ($3::text IS NULL OR type = $3)
      ORDER BY id DESC LIMIT $4`,
    get: `SELECT ${RECEIVED_COLUMNS} FROM ${table} WHERE id = $1`,
    retryOne: `UPDATE ${table} AS w SET status = 'pending', next_attempt_at = now(), locked_until = NULL, updated_at = ${bump}
      WHERE id = $1 AND status <> 'done' RETURNING id, attempts`,
    retryFailed: `UPDATE ${table} AS w SET status = 'pending', next_attempt_at = now(), locked_until = NULL, updated_at = ${bump}
      WHERE status = 'error' AND ($1::text IS NULL OR app = $1) RETURNING id, attempts`,
    purge: `DELETE FROM ${table}
      WHERE ($1::text IS NULL OR status = $1) AND ($2::text IS NULL OR app = $2) AND ($3::timestamptz IS NULL OR updated_at < $3)`,
    counts: `SELECT status, count(*)::int AS count FROM ${table} WHERE ($1::text IS NULL OR app = $1) GROUP BY status`,
    // $1 how many, $2 the lease in milliseconds. SKIP LOCKED: workers claiming at once take
    // different rows; the lease keeps a claimed row from the others once the claim commits.
    claim: `UPDATE ${table} SET locked_until = now() + $2 * interval '1 millisecond'
      WHERE id IN (SELECT id FROM ${table}
        WHERE status = 'pending' AND next_attempt_at <= now() AND (locked_until IS NULL OR locked_until < now())
        ORDER BY next_attempt_at LIMIT $1 FOR UPDATE SKIP LOCKED)
      RETURNING id, attempts`
  }
}
