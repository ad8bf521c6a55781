/**
 * The checks `send` makes on what it is given before anything is written: an event type of 1 to
 * 100 characters, a user id the JWT `sub` can carry, and data that is JSON (serialised once here,
 * so the stored event is a snapshot: changing the object after `send` changes nothing).
 */
import { WebhookEventInvalidError } from '../../errors.js'
import type { NewOutgoingEvent } from './outbox.js'

export const MAX_TYPE_LENGTH = 100
export const MAX_USER_LENGTH = 256
/** `\u0000` in JSON text, not preceded by an escaped backslash (`\\u0000` is text, not NUL). */
const NUL_ESCAPE = /(?:^|[^\\])(?:\\\\)*\\u0000/

export function checkType (type: unknown): string {
  if (typeof type !== 'string' || type.length === 0 || type.length > MAX_TYPE_LENGTH) {
    throw new WebhookEventInvalidError(`the type must be a string of 1 to ${MAX_TYPE_LENGTH} characters, like "user.updated"`)
  }
  return type
}

/** The local user id as text, or null for an app-level event. */
export function checkUser (user: unknown): string | null {
  if (user === undefined || user === null) return null
  if (typeof user === 'number' && Number.isSafeInteger(user)) return String(user)
  if (typeof user === 'string' && user.length > 0 && user.length <= MAX_USER_LENGTH) return user
  throw new WebhookEventInvalidError(`user must be the local user id (an integer or a string of 1 to ${MAX_USER_LENGTH} characters), or omitted for an app-level event`)
}

/** The data as JSON text; `undefined` is sent as `null` (the original's `data=None`). */
export function serialiseData (data: unknown): string {
  let text: string | undefined
  try {
    text = JSON.stringify(data === undefined ? null : data)
  } catch (error) {
    throw Object.assign(new WebhookEventInvalidError('data cannot be serialised to JSON (a cycle or a BigInt?): pass plain JSON values'), { cause: error })
  }
  if (text === undefined) throw new WebhookEventInvalidError('data is not a JSON value (a function or a symbol?): pass plain JSON values')
  // PostgreSQL's jsonb refuses the NUL character; refuse it on every backend alike.
  if (NUL_ESCAPE.test(text)) throw new WebhookEventInvalidError('data holds a NUL character (\\u0000), which the outbox cannot store: remove it')
  return text
}

export function newOutgoingEvent (app: string, type: unknown, data: unknown, user: unknown): NewOutgoingEvent {
  return { app, type: checkType(type), userId: checkUser(user), dataJson: serialiseData(data) }
}
