/**
 * The body of a received webhook request, checked before anything is stored: one event object or
 * an array of them, each `{ id?, type?, data? }` (or the original sender's `external_id` in place
 * of `id`). The first bad event refuses the whole request (400 naming its index and field), so
 * that a request is stored all or nothing.
 */
import { ReceivedWebhookInvalidError, ReceivedWebhookTooLargeError } from '../../errors.js'

/** One event as the log stores it. */
export interface IncomingEvent {
  /** The sender's id as text, or null (an event without an id is appended, never matched). */
  externalId: string | null
  type: string
  data: unknown
}

/** The longest id and type kept (the log's columns hold 100 characters). */
export const MAX_EVENT_TEXT = 100
/** What the original stores for an event sent without a type. */
export const DEFAULT_EVENT_TYPE = 'unknown'

// PostgreSQL cannot store NUL in text or jsonb, nor half a surrogate pair: refuse them here, in
// memory too, so that both logs take the same events.
// eslint-disable-next-line no-control-regex -- NUL is what this pattern looks for
const UNSTORABLE = /\u0000|[\uD800-\uDBFF](?![\uDC00-\uDFFF])|(?<![\uD800-\uDBFF])[\uDC00-\uDFFF]/

function invalid (field: string, problem: string): never {
  throw Object.assign(new ReceivedWebhookInvalidError(`${field} ${problem}`), { field })
}

function isPlainObject (value: unknown): value is Record<string, unknown> {
  return value !== null && typeof value === 'object' && !Array.isArray(value)
}

function eventId (event: Record<string, unknown>, field: string): string | null {
  const hasId = event.id !== undefined && event.id !== null
  const value = hasId ? event.id : event.external_id
  const name = hasId ? `${field}.id` : `${field}.external_id`
  if (value === undefined || value === null) return null
  if (typeof value === 'number') {
    if (!Number.isSafeInteger(value)) invalid(name, 'must be an integer or a string (got a number that is not a safe integer)')
    return String(value)
  }
  if (typeof value !== 'string') invalid(name, `must be an integer or a string (got ${describe(value)})`)
  if (value.length === 0 || value.length > MAX_EVENT_TEXT) invalid(name, `must be an integer or a string of 1 to ${MAX_EVENT_TEXT} characters`)
  if (UNSTORABLE.test(value)) invalid(name, 'must not contain NUL or unpaired surrogate characters')
  return value
}

function eventType (value: unknown, field: string): string {
  if (value === undefined || value === null) return DEFAULT_EVENT_TYPE
  if (typeof value !== 'string' || value.length === 0 || value.length > MAX_EVENT_TEXT) {
    invalid(`${field}.type`, `must be a string of 1 to ${MAX_EVENT_TEXT} characters (got ${describe(value)})`)
  }
  if (UNSTORABLE.test(value)) invalid(`${field}.type`, 'must not contain NUL or unpaired surrogate characters')
  return value
}

/** How deep `data` may nest: deeper is refused before anything walks it recursively (a stack overflow). */
export const MAX_DATA_DEPTH = 100

/** Walks the data (without recursion) for strings PostgreSQL's jsonb refuses, keys included, and for excessive depth. */
function checkData (data: unknown, field: string): void {
  const stack: Array<[unknown, number]> = [[data, 1]]
  while (stack.length > 0) {
    const [value, depth] = stack.pop() as [unknown, number]
    if (typeof value === 'string') {
      if (UNSTORABLE.test(value)) invalid(field, 'holds a string with NUL or an unpaired surrogate character, which cannot be stored')
    } else if (value !== null && typeof value === 'object') {
      if (depth > MAX_DATA_DEPTH) invalid(field, `is nested deeper than ${MAX_DATA_DEPTH} levels`)
      if (Array.isArray(value)) {
        for (const item of value) stack.push([item, depth + 1])
      } else {
        for (const [key, item] of Object.entries(value)) {
          if (UNSTORABLE.test(key)) invalid(field, 'holds a key with NUL or an unpaired surrogate character, which cannot be stored')
          stack.push([item, depth + 1])
        }
      }
    }
  }
}

function describe (value: unknown): string {
  if (value === null) return 'null'
  if (Array.isArray(value)) return 'an array'
  if (typeof value === 'string') return `a string of ${value.length} characters`
  return `a ${typeof value}`
}

/**
 * The events of one request body, in order. Throws 400 RECEIVED_WEBHOOK_INVALID for the first bad
 * event and 413 RECEIVED_WEBHOOK_TOO_LARGE for more than `maxEvents`.
 */
export function parseEvents (body: unknown, maxEvents: number): IncomingEvent[] {
  const list = Array.isArray(body) ? body : [body]
  if (!Array.isArray(body) && !isPlainObject(body)) {
    invalid('the body', `must be a JSON event object or an array of them (got ${body === undefined ? 'no JSON body' : describe(body)})`)
  }
  if (list.length > maxEvents) {
    throw Object.assign(new ReceivedWebhookTooLargeError(`${list.length} events in one request, at most ${maxEvents} are taken`), { events: list.length })
  }
  return list.map((event: unknown, index) => {
    const field = `events[${index}]`
    if (!isPlainObject(event)) invalid(field, `must be an object { id, type, data } (got ${describe(event)})`)
    const data = event.data === undefined ? null : event.data
    checkData(data, `${field}.data`)
    return { externalId: eventId(event, field), type: eventType(event.type, field), data }
  })
}

/**
 * One event per (id, type) of a request, the last one winning (what a redelivery does), ids
 * sorted so that concurrent requests lock the log's rows in the same order; events without an id
 * follow, in order.
 */
export function dedupeEvents (events: readonly IncomingEvent[]): IncomingEvent[] {
  const keyed = new Map<string, IncomingEvent>()
  const anonymous: IncomingEvent[] = []
  for (const event of events) {
    if (event.externalId === null) anonymous.push(event)
    else keyed.set(JSON.stringify([event.type, event.externalId]), event)
  }
  const sorted = [...keyed.entries()].sort(([a], [b]) => a < b ? -1 : a > b ? 1 : 0).map(([, event]) => event)
  return [...sorted, ...anonymous]
}
