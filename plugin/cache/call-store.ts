/**
 * Runs a store call under a deadline. A call that throws, rejects (with anything, Error or not)
 * or outlives the deadline becomes StoreUnavailableError: the caller fails closed and nothing the
 * store said reaches a response or a log line. A late answer is ignored.
 *
 * Each call is traced on the TracingChannel `fastify-linked-services:store` (context
 * `{ operation }`, and `error` when it failed) when, and only when, someone subscribes.
 */
import diagnosticsChannel from 'node:diagnostics_channel'
import { StoreUnavailableError } from '../errors.js'
import { deadlinesFor } from './deadlines.js'
import { classifyStoreFailure, FAILURE_HINT } from './store-failure.js'

export const STORE_CHANNEL = 'fastify-linked-services:store'

export type StoreOperation = 'getApp' | 'findUserByCredential' | 'getAgreement' | 'linkRemoteUser' | 'remember'

export interface StoreCallEvent {
  operation: StoreOperation
  error?: unknown
}

export const storeChannel = diagnosticsChannel.tracingChannel<string, StoreCallEvent>(STORE_CHANNEL)

export async function callStore<T> (call: () => Promise<T> | T, timeoutMs: number,
  makeError: () => Error = () => new StoreUnavailableError(), operation: StoreOperation = 'getApp'): Promise<T> {
  if (!storeChannel.hasSubscribers) return await underDeadline(call, timeoutMs, makeError)
  return await storeChannel.tracePromise(underDeadline<T>, { operation }, undefined, call, timeoutMs, makeError)
}

/** Thrown to the caller's handler when the deadline passed first. */
const TIMED_OUT = Symbol('timed out')

/**
 * The call's answer, or its failure; a call that outlives `timeoutMs` fails with TIMED_OUT (its
 * late answer is ignored). The store is called on the next microtask, as before this call
 * returned (the single-flight bookkeeping of the caller is in place by then); a synchronous throw
 * counts as a failure.
 */
function raceDeadline<T> (call: () => Promise<T> | T, timeoutMs: number): Promise<T> {
  return new Promise<T>((resolve, reject) => {
    const deadlines = deadlinesFor(timeoutMs)
    const deadline = deadlines.add(() => reject(TIMED_OUT))
    const settle = (): boolean => {
      if (deadline.settled) return false
      deadlines.settle(deadline)
      return true
    }
    Promise.resolve().then(call).then((value) => { if (settle()) resolve(value) }, (error: unknown) => { if (settle()) reject(error) })
  })
}

async function underDeadline<T> (call: () => Promise<T> | T, timeoutMs: number, makeError: () => Error): Promise<T> {
  try {
    return await raceDeadline(call, timeoutMs)
  } catch (error) {
    // No `cause`: a store's message may hold secrets (a connection string), and loggers print
    // causes. The failure's class goes to the log line only (the response schema drops it).
    const storeFailure = error === TIMED_OUT ? 'timeout' : classifyStoreFailure(error)
    throw Object.assign(makeError(), { storeFailure, hint: FAILURE_HINT[storeFailure] })
  }
}
