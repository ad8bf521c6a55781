/**
 * Store-call deadlines without a timer per call (plugin/cache/deadlines.ts, used by callStore):
 * a call that settles in time never expires, one that does not expires once, in order.
 */
import { test } from 'node:test'
import assert from 'node:assert/strict'
import { deadlinesFor } from '../plugin/cache/deadlines.js'
import { callStore } from '../plugin/cache/call-store.js'

/** Resolves when `condition()` holds, polling; fails after `withinMs`. */
async function until (condition: () => boolean, withinMs: number): Promise<void> {
  const deadline = Date.now() + withinMs
  while (!condition()) {
    if (Date.now() > deadline) throw new Error('condition not met in time')
    await new Promise((resolve) => setImmediate(resolve))
  }
}

test('settled calls never expire; an unsettled one expires once, after its timeout', async () => {
  const queue = deadlinesFor(30)
  const expired: string[] = []
  const started = performance.now()
  const early = queue.add(() => expired.push('early'))
  const hung = queue.add(() => expired.push('hung'))
  const late = queue.add(() => expired.push('late'))
  queue.settle(early)
  queue.settle(late)
  await until(() => expired.length > 0, 5000)
  assert.ok(performance.now() - started >= 30, 'not before its timeout')
  // `early` was due first and `late` with `hung` (one timer turn): neither was expired.
  assert.deepEqual(expired, ['hung'])
  assert.equal(hung.settled, true)
})

test('calls added while others are pending expire in turn, each after its own timeout', async () => {
  const queue = deadlinesFor(25)
  const expired: number[] = []
  const at: number[] = []
  const started = performance.now()
  queue.add(() => { expired.push(1); at.push(performance.now() - started) })
  await until(() => performance.now() - started >= 15, 5000)
  queue.add(() => { expired.push(2); at.push(performance.now() - started) })
  await until(() => expired.length === 2, 5000)
  assert.deepEqual(expired, [1, 2])
  assert.ok(at[1] >= 15 + 25, `the second expired ${at[1].toFixed(1)} ms in, before its own timeout`)
})

test('callStore: a store that answers in time wins; one that hangs fails closed with a timeout', async () => {
  assert.equal(await callStore(async () => 'answer', 50), 'answer')
  await assert.rejects(callStore(async () => await new Promise(() => {}), 30), (error: unknown) =>
    (error as { code?: string, storeFailure?: string }).code === 'FST_LINKED_SERVICES_STORE_UNAVAILABLE' && (error as { storeFailure?: string }).storeFailure === 'timeout')
  await assert.rejects(callStore(() => { throw new Error('secret connection string') }, 50), (error: unknown) =>
    (error as { storeFailure?: string }).storeFailure !== 'timeout' && !String((error as Error).message).includes('secret'))
})
