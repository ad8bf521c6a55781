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
  const deadline = new Promise<never>((_resolve, reject) => {
    timer = setTimeout(() => reject(makeError()), timeoutMs)
  })
  try {
    // Promise.resolve().then(call) turns a synchronous throw into a rejection too.
    return await Promise.race([Promise.resolve().then(call), deadline])
  } catch {
    // No `cause`: a store's message may hold secrets (a connection string), and loggers print causes.
    throw makeError()
  } finally {
    clearTimeout(timer)
  }
}
