/**
 * What one delivery attempt's result means, and what is written on the row for it: any 2xx is
 * delivered; 408, 429, 5xx and network failures (refused, reset, timed out) are worth another
 * attempt, after the receiver's Retry-After when it gave one; any other status is a refusal that
 * no retry changes, dead at once.
 */
import { mayRetry, retryDelay, type RetryPolicy } from '../jobs/job-queue.js'
import type { AttemptRecord } from './outbox.js'

export type AttemptResult =
  | { kind: 'delivered', statusCode: number }
  | { kind: 'retry', reason: string, statusCode: number | null, retryAfterMs: number | null }
  | { kind: 'dead', reason: string, statusCode: number | null }

/** Retry-After as milliseconds from `now`: delay-seconds or an HTTP date; null when absent or unreadable. */
export function parseRetryAfter (value: string | string[] | undefined, now = Date.now()): number | null {
  const text = Array.isArray(value) ? value[0] : value
  if (typeof text !== 'string' || text.trim() === '') return null
  const trimmed = text.trim()
  if (/^\d+$/.test(trimmed)) return Number(trimmed) * 1000
  const at = Date.parse(trimmed)
  return Number.isNaN(at) ? null : Math.max(0, at - now)
}

export function resultOfStatus (statusCode: number, headers: Record<string, string | string[] | undefined>): AttemptResult {
  if (statusCode >= 200 && statusCode < 300) return { kind: 'delivered', statusCode }
  const reason = `receiver answered ${statusCode}`
  if (statusCode === 408 || statusCode === 429 || statusCode >= 500) {
    return { kind: 'retry', reason, statusCode, retryAfterMs: parseRetryAfter(headers['retry-after']) }
  }
  return { kind: 'dead', reason, statusCode }
}

/**
 * The row update for a result at attempt `attempt` of an event first written at `createdAt`:
 * a retryable failure is pending again (next attempt after the policy's delay, or Retry-After
 * capped by `maxDelayMs`) until the policy gives up, then dead with the last reason.
 */
export function attemptRecord (result: AttemptResult, attempt: number, createdAt: Date, policy: RetryPolicy, now = Date.now()): AttemptRecord {
  if (result.kind === 'delivered') return { status: 'delivered', lastError: null, lastStatusCode: result.statusCode, nextAttemptAt: null }
  if (result.kind === 'dead') return { status: 'dead', lastError: result.reason, lastStatusCode: result.statusCode, nextAttemptAt: null }
  if (!mayRetry(policy, attempt, createdAt, now)) {
    const why = attempt >= policy.maxAttempts ? `after ${attempt} attempts` : `after ${Math.round((now - createdAt.getTime()) / 1000)} s (maxAgeMs)`
    return { status: 'dead', lastError: `gave up ${why}: ${result.reason}`, lastStatusCode: result.statusCode, nextAttemptAt: null }
  }
  const delay = result.retryAfterMs === null ? retryDelay(policy, attempt) : Math.min(result.retryAfterMs, policy.maxDelayMs)
  return { status: 'pending', lastError: result.reason, lastStatusCode: result.statusCode, nextAttemptAt: new Date(now + delay) }
}
