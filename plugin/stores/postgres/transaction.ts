/**
 * One transaction on a pooled connection: BEGIN, the work, COMMIT; ROLLBACK on any failure. A
 * connection that broke (a failed ROLLBACK, or lost while checked out) is destroyed, not handed
 * back to the pool. pg also reports a connection lost while checked out as an 'error' event on
 * the client; unheard, that event would crash the process.
 */
import type { Pool, PoolClient } from 'pg'

export async function inTransaction<T> (pool: Pick<Pool, 'connect'>, work: (client: PoolClient) => Promise<T>): Promise<T> {
  const client = await pool.connect()
  let broken = false
  const lost = (): void => { broken = true }
  client.on('error', lost)
  try {
    await client.query('BEGIN')
    const result = await work(client)
    await client.query('COMMIT')
    return result
  } catch (error) {
    await client.query('ROLLBACK').catch(() => { broken = true })
    throw error
  } finally {
    client.off('error', lost)
    client.release(broken)
  }
}
