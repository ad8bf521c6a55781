/**
 * Remembering the nonce of a verified signed request, shared by both signature schemes. The
 * nonce is remembered for as long as its request could still be accepted; a replay (or a nonce
 * the store cannot vouch for) is refused, a failing or slow store answers 503.
 *
 * A store with `rememberSync` (the in-memory one) is asked without a promise or a timer: it
 * cannot hang. Any other store is awaited under `storeTimeout`.
 */
import type { NonceStore } from '../../types/index.js'
import { callStore } from '../cache/call-store.js'
import { NonceStoreUnavailableError, ReplayedRequestError } from '../errors.js'

/** The key a nonce is remembered under: scheme, calling app, nonce. */
export function nonceKey (scheme: 's' | 'l', app: string, nonce: string): string {
  return `${scheme}:${app}:${nonce}`
}

/** The time to live that ends the nonce's memory at `windowEndMs` (at least 1 ms). */
function ttlUntil (windowEndMs: number): number {
  return Math.max(1, windowEndMs - Date.now() + 1)
}

/**
 * Remembers `key` (in the calling app's partition) until `windowEndMs`. Returns `true` when the
 * store answered synchronously, otherwise a promise; both throw or reject with
 * `replayed-request` / `nonce-store-unavailable`.
 */
export function rememberNonce (store: NonceStore, key: string, app: string, windowEndMs: number, timeout: number): true | Promise<void> {
  if (typeof store.rememberSync === 'function') {
    let fresh: boolean
    try {
      fresh = store.rememberSync(key, ttlUntil(windowEndMs), app)
    } catch {
      throw new NonceStoreUnavailableError()
    }
    if (fresh !== true) throw new ReplayedRequestError()
    return true
  }
  return rememberAsync(store, key, app, windowEndMs, timeout)
}

async function rememberAsync (store: NonceStore, key: string, app: string, windowEndMs: number, timeout: number): Promise<void> {
  const fresh = await callStore(() => store.remember(key, ttlUntil(windowEndMs), app), timeout,
    () => new NonceStoreUnavailableError(), 'remember')
  if (fresh !== true) throw new ReplayedRequestError()
}
