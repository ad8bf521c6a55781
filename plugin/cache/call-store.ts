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

async function underDeadline<T> (call: () => Promise<T> | T, timeoutMs: number, makeError: () => Error): Promise<T> {
  let timer: NodeJS.Timeout | undefined
  const timedOut = Symbol('timed out')
  const deadline = new Promise<never>((_resolve, reject) => {
    timer = setTimeout(() => reject(timedOut), timeoutMs)
  })
  try {
    // Promise.resolve().then(call) turns a synchronous throw into a rejection too.
    return await Promise.race([Promise.resolve().then(call), deadline])
  } catch (error) {
    // No `cause`: a store's message may hold secrets (a connection string), and loggers print
    // causes. The failure's class goes to the log line only (the response schema drops it).
    const storeFailure = error === timedOut ? 'timeout' : classifyStoreFailure(error)
    throw Object.assign(makeError(), { storeFailure, hint: FAILURE_HINT[storeFailure] })
  } finally {
    clearTimeout(timer)
  }
}
