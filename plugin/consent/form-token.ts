/**
 * The consent form's anti-forgery token: an HMAC of (user, app, expiry) under a server secret,
 * sent as a hidden field. It needs no cookie and no session store, so it works whatever the host
 * uses for sessions: a page on another site cannot read it (same-origin policy), and a token
 * that an attacker obtains for their own account is bound to their user id, not the victim's.
 */
import { createHmac, timingSafeEqual } from 'node:crypto'

export interface FormTokens {
  issue (userId: string, app: string, now?: number): string
  /** True when the token was issued for this user and app and has not expired. */
  verify (token: unknown, userId: string, app: string, now?: number): boolean
}

export function createFormTokens (secret: Buffer, ttlMs: number): FormTokens {
  const mac = (userId: string, app: string, expires: number): Buffer =>
    createHmac('sha256', secret).update(`consent\0${userId}\0${app}\0${expires}`).digest()
  return {
    issue (userId, app, now = Date.now()) {
      const expires = now + ttlMs
      return `${expires.toString(36)}.${mac(userId, app, expires).toString('base64url')}`
    },
    verify (token, userId, app, now = Date.now()) {
      if (typeof token !== 'string' || token.length > 200) return false
      const match = /^([0-9a-z]{1,12})\.([A-Za-z0-9_-]{43})$/.exec(token)
      if (match === null) return false
      const expires = parseInt(match[1], 36)
      if (!(expires > now)) return false
      return timingSafeEqual(Buffer.from(match[2], 'base64url'), mac(userId, app, expires))
    }
  }
}
