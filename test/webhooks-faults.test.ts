/**
 * Webhook delivery under faults, with real processes and PostgreSQL: a sending service
 * (linkedWebhooks: the outbox, pg-boss) and a receiving service (linkedWebhooks' receive log), each in its own
 * process and schema. The receiver down for a while, answering 5xx, answering 4xx; the sender
 * SIGKILLed in the middle of a batch and restarted; two sending instances. What must hold: every
 * event ends in the receiver's log exactly once, with its data; a 4xx other than 408/429 is dead
 * at once. Conditions are waited on with deadlines, never fixed sleeps.
 */
import { after, before, describe, test } from 'node:test'
import assert from 'node:assert/strict'
import { DATABASE_URL, servicesSkipSync, waitFor } from './helpers/services.js'
import {
  EVENT_TYPE, RECEIVER_APP, getJson, linkedPair, postJson, spawnService, stopAll,
  type LinkedPair, type Service
} from './fixtures/webhook-processes.js'

const skip = servicesSkipSync({ postgres: true })

describe('webhook delivery under faults (real processes, PostgreSQL)', { skip }, () => {
  let pair: LinkedPair
  let receiver: Service
  let sender: Service

  const senderEnv = (): Record<string, string> => ({ DATABASE_URL, LS_SCHEMA: pair.senderSchema })
  const receiverEnv = (port = 0): Record<string, string> => ({ DATABASE_URL, LS_SCHEMA: pair.receiverSchema, LS_PORT: String(port) })

  async function send (via: Service, test: string, count = 1): Promise<number[]> {
    return (await postJson<{ ids: number[] }>(`${via.url}/send`, { app: RECEIVER_APP, type: EVENT_TYPE, data: { test }, count })).ids
  }

  /** The receive log's rows of one test: external id -> how many rows and their data. */
  async function received (test: string): Promise<Map<string, { rows: number, data: unknown }>> {
    const { rows } = await pair.receiverStore.pool.query(
      `SELECT external_id, count(*)::int AS rows, min(data::text) AS data FROM "${pair.receiverSchema}".webhook_log
       WHERE app = 'nodeservice' AND type = $1 AND data->>'test' = $2 GROUP BY external_id`, [EVENT_TYPE, test])
    return new Map(rows.map((row: { external_id: string, rows: number, data: string }) => [row.external_id, { rows: row.rows, data: JSON.parse(row.data) }]))
  }

  async function outboxRows (ids: number[]): Promise<Array<{ id: number, status: string, attempts: number, last_status_code: number | null, last_error: string | null }>> {
    const { rows } = await pair.senderStore.pool.query(
      `SELECT id::int, status, attempts, last_status_code, last_error FROM "${pair.senderSchema}".webhook_outbox WHERE id = ANY($1::bigint[]) ORDER BY id`, [ids])
    return rows
  }

  async function allReceived (test: string, ids: number[], timeoutMs = 60_000): Promise<Map<string, { rows: number, data: unknown }>> {
    let log = new Map<string, { rows: number, data: unknown }>()
    await waitFor(async () => {
      log = await received(test)
      return ids.every((id) => log.has(String(id)))
    }, timeoutMs, 100)
    return log
  }

  function assertExactlyOnce (log: Map<string, { rows: number, data: unknown }>, ids: number[], test: string): void {
    assert.equal(log.size, ids.length, 'no event the sender did not send')
    ids.forEach((id, n) => {
      assert.equal(log.get(String(id))?.rows, 1, `event ${id} stored ${log.get(String(id))?.rows ?? 0} times`)
      assert.deepEqual(log.get(String(id))?.data, { test, n })
    })
  }

  before(async () => {
    pair = await linkedPair(DATABASE_URL, 'whf')
    receiver = await spawnService('webhook-receiver', receiverEnv())
    await pair.linkTo(receiver.port)
    sender = await spawnService('webhook-sender', senderEnv())
  })

  after(async () => {
    await stopAll()
    await pair?.close()
  })

  test('the receiver down for a while: everything arrives once it is back, once each', async () => {
    const port = receiver.port
    await receiver.stop()
    const ids = await send(sender, 'down', 20)
    // Attempted while down (connection refused), and still pending.
    await waitFor(async () => (await outboxRows(ids)).every((row) => row.attempts >= 2 && row.status === 'pending'), 30_000, 50)
    const refused = await outboxRows(ids)
    assert.match(refused[0].last_error ?? '', /connection refused/)
    assert.equal(refused[0].last_status_code, null)

    receiver = await spawnService('webhook-receiver', receiverEnv(port))
    assertExactlyOnce(await allReceived('down', ids), ids, 'down')
    await waitFor(async () => (await outboxRows(ids)).every((row) => row.status === 'delivered'), 30_000, 50)
  })

  test('the receiver answers 5xx: retried, then delivered', async () => {
    await postJson(`${receiver.url}/control`, { failNext: 3, status: 503 })
    const ids = await send(sender, '5xx')
    assertExactlyOnce(await allReceived('5xx', ids), ids, '5xx')
    await waitFor(async () => (await outboxRows(ids))[0].status === 'delivered', 30_000, 50)
    const [row] = await outboxRows(ids)
    assert.equal(row.attempts, 4)
    assert.equal(row.last_status_code, 204)
  })

  test('stored but answered 503 (a lost answer): delivered again, the log keeps one row with the data', async () => {
    await postJson(`${receiver.url}/control`, { failAfterStoring: 2 })
    const ids = await send(sender, 'lost-answer')
    await waitFor(async () => (await outboxRows(ids))[0].status === 'delivered', 30_000, 50)
    const posts = await getJson<Record<string, number>>(`${receiver.url}/posts`)
    assert.equal(posts[String(ids[0])], 3, 'POSTed three times')
    assertExactlyOnce(await received('lost-answer'), ids, 'lost-answer')
  })

  test('the receiver answers 4xx (not 408/429): dead at once with the status', async () => {
    await postJson(`${receiver.url}/control`, { failNext: 1, status: 422 })
    const ids = await send(sender, '4xx')
    await waitFor(async () => (await outboxRows(ids))[0].status !== 'pending', 30_000, 50)
    const [row] = await outboxRows(ids)
    assert.deepEqual({ status: row.status, attempts: row.attempts, code: row.last_status_code, error: row.last_error },
      { status: 'dead', attempts: 1, code: 422, error: 'receiver answered 422' })
    assert.equal((await received('4xx')).size, 0)
  })

  test('the sender SIGKILLed in the middle of a batch: after restart nothing is lost, redeliveries absorbed by the log', async () => {
    // A slow receiver, so that the kill lands with deliveries in flight.
    await postJson(`${receiver.url}/control`, { delayMs: 100 })
    const ids = await send(sender, 'kill', 200)
    const postsBefore = async (): Promise<number> => {
      const posts = await getJson<Record<string, number>>(`${receiver.url}/posts`)
      return ids.reduce((sum, id) => sum + (posts[String(id)] ?? 0), 0)
    }
    await waitFor(async () => await postsBefore() >= 30, 30_000, 5)
    await sender.kill()
    const delivered = (await outboxRows(ids)).filter((row) => row.status === 'delivered').length
    assert.ok(delivered < ids.length, `the kill came after the batch (${delivered} of ${ids.length} delivered)`)

    sender = await spawnService('webhook-sender', senderEnv())
    await postJson(`${receiver.url}/control`, { delayMs: 0 })
    assertExactlyOnce(await allReceived('kill', ids, 90_000), ids, 'kill')
    await waitFor(async () => (await outboxRows(ids)).every((row) => row.status === 'delivered'), 60_000, 100)
    const posts = await postsBefore()
    assert.ok(posts >= ids.length, 'every event was POSTed at least once')
    console.log(`kill mid-batch: ${delivered} of ${ids.length} delivered before the kill, ${posts - ids.length} redelivered POSTs absorbed by the log`)
  })

  test('two sending instances on one database: each event POSTed once', async () => {
    const second = await spawnService('webhook-sender', senderEnv())
    try {
      const [a, b] = await Promise.all([send(sender, 'pair', 50), send(second, 'pair', 50)])
      const ids = [...a, ...b]
      await waitFor(async () => (await outboxRows(ids)).every((row) => row.status === 'delivered'), 60_000, 100)
      const posts = await getJson<Record<string, number>>(`${receiver.url}/posts`)
      for (const id of ids) assert.equal(posts[String(id)], 1, `event ${id} POSTed ${posts[String(id)] ?? 0} times`)
      const log = await received('pair')
      assert.equal(log.size, 100)
      for (const id of ids) assert.equal(log.get(String(id))?.rows, 1)
    } finally {
      await second.stop()
    }
  })
})
