/**
 * Runs a store call under a deadline. A call that throws, rejects (with anything, Error or not)
 * or outlives the deadline becomes StoreUnavailableError: the caller fails closed and nothing the
 * store said reaches a response or a log line. A late answer is ignored.
 */
import { StoreUnavailableError } from '../errors.js'

export async function callStore<T> (call: () => Promise<T> | T, timeoutMs: number,
  makeError: () => Error = () => new StoreUnavailableError()): Promise<T> {
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
