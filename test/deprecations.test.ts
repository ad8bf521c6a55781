/**
 * Renamed options (one vocabulary) keep working under their old names until 1.0, each with its
 * own DeprecationWarning code. Its own file: node --test runs it in a fresh process, where no
 * warning was emitted yet (process-warning emits each one once per process).
 */
import { test } from 'node:test'
import assert from 'node:assert/strict'
import Fastify from 'fastify'
import linkedServices, { createLinkedClient, MemoryNonceStore, MemoryStore } from '../plugin/index.js'
import { PostgresStore } from '../plugin/postgres.js'
import { APP_NAME } from './helpers/server.js'

function collectWarnings (t: { after: (fn: () => void) => void }): Array<{ code?: string, message: string }> {
  const warnings: Array<{ code?: string, message: string }> = []
  const onWarning = (warning: Error & { code?: string }): void => { warnings.push({ code: warning.code, message: warning.message }) }
  process.on('warning', onWarning)
  t.after(() => process.off('warning', onWarning))
  return warnings
}

// process.emitWarning delivers on the next tick.
const nextTick = async (): Promise<void> => await new Promise((resolve) => setImmediate(resolve))

test('every old name works, with one deprecation warning per rename', async (t) => {
  const warnings = collectWarnings(t)
  const app = Fastify()
  await app.register(linkedServices, { appName: APP_NAME, jwt: { cacheSize: 7 }, signature: { clockSkew: 9 }, cache: { max: 3 } } as never)
  await app.ready()
  await app.close()
  const nonces = new MemoryNonceStore({ max: 4 })
  assert.equal(nonces.maxNonces, 4)
  const store = new PostgresStore({ connectionString: 'postgres://127.0.0.1:1/none', poolSize: 2, connectionTimeoutMillis: 10, listenReconnectMs: 5, listenPingMs: 0 })
  await store.close()
  const client = createLinkedClient({ appName: APP_NAME, store: new MemoryStore(), connections: 2 } as never)
  await client.close()
  await nextTick()
  const codes = warnings.map((warning) => warning.code).sort()
  assert.deepEqual(codes, ['FSTLSDEP001', 'FSTLSDEP002', 'FSTLSDEP003', 'FSTLSDEP004', 'FSTLSDEP005', 'FSTLSDEP006', 'FSTLSDEP007', 'FSTLSDEP008', 'FSTLSDEP009'])
  assert.ok(warnings.some((warning) => /plugin option jwt\.cacheSize is deprecated, use jwt\.maxCachedTokens/.test(warning.message)))
  assert.ok(warnings.some((warning) => /PostgresStore option connectionTimeoutMillis is deprecated, use connectionTimeout/.test(warning.message)))

  // Emitted once per process.
  await new MemoryNonceStore({ max: 5 }).close()
  await nextTick()
  assert.equal(warnings.length, 9)
})

test('an old and a new name given together are refused', () => {
  assert.throws(() => new MemoryNonceStore({ max: 3, maxNonces: 4 }),
    { code: 'FST_LINKED_SERVICES_INVALID_OPTION', message: /max and maxNonces are both given: max is the deprecated name of maxNonces/ })
})
