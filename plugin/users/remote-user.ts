/**
 * Remote user resolution (the original's create_user): when no local user is
 * linked to (calling app, `sub`), ask the calling app who `sub` is, with an app-level
 * authenticated GET of `appUrl + usersPath + sub`. Then the plugin creates and links the user
 * through the store's `linkRemoteUser`.
 *
 * Fixed on the way: `sub` is URL-encoded; no redirect is followed; the answer is bounded in size
 * and time; the profile's `id` must be the `sub` asked for (a caller cannot link a user under
 * someone else's id); only the profile fields the original reads are kept.
 */
import type { Dispatcher } from 'undici'
import { loadUndici } from '../lazy-modules.js'
import type { RemoteUserProfile } from '../../types/index.js'
import { signOutgoingWithKey } from '../client/outgoing-signature.js'
import { linkAuthorizationHeader, signJwtWithKey } from '../client/sign-jwt.js'
import { MissingRequiredFieldsError, RemoteUserUnavailableError, SigningError } from '../errors.js'
import { DEFAULT_USERS_PATH } from '../app-defaults.js'
import type { ResolvedApp } from '../cache/resolved-app.js'

const MAX_PROFILE_BYTES = 1024 * 1024

export interface FetchRemoteUserOptions {
  /** This service's own slug. */
  appName: string
  /** The calling app, resolved (its appUrl, usersPath, strategy and signing key). */
  app: ResolvedApp
  /** The caller-side user id (`token.sub`). */
  sub: string
  /** Milliseconds the whole lookup may take. */
  timeout: number
  /** Default: undici's global (keep-alive) dispatcher. */
  dispatcher?: Dispatcher
}

/** `appUrl` + `usersPath` (with one `/` on each side) + the URL-encoded `sub`. */
export function remoteUserUrl (appUrl: string, usersPath: string, sub: string): string {
  const path = usersPath.replace(/^\/*/, '/').replace(/\/*$/, '/')
  return appUrl.replace(/\/+$/, '') + path + encodeURIComponent(sub)
}

function nonEmpty (value: unknown): boolean {
  return (typeof value === 'string' && value.length > 0) || (typeof value === 'number' && Number.isFinite(value))
}

/** Checks the caller's answer; throws MissingRequiredFieldsError listing every problem. */
export function validateProfile (body: unknown, sub: string): RemoteUserProfile {
  const profile = body !== null && typeof body === 'object' && !Array.isArray(body) ? body as Record<string, unknown> : {}
  const problems: string[] = []
  if (!nonEmpty(profile.id)) problems.push('id not provided')
  if (typeof profile.username !== 'string' || profile.username.length === 0) problems.push('username not provided')
  if (typeof profile.email !== 'string' || profile.email.length === 0) problems.push('email not provided')
  if (problems.length === 0 && String(profile.id) !== sub) problems.push('id is not the requested user')
  if (problems.length > 0) throw new MissingRequiredFieldsError(problems.join(', '))
  const text = (value: unknown): string => typeof value === 'string' ? value : ''
  return {
    id: profile.id as string | number,
    username: profile.username as string,
    email: profile.email as string,
    first_name: text(profile.first_name),
    last_name: text(profile.last_name)
  }
}

function authorization (options: FetchRemoteUserOptions, url: string): Record<string, string> {
  const { app, appName } = options
  const key = app.keys?.signing ?? null
  if (key === null) throw new SigningError(`app ${app.slug} holds no key to sign with`)
  if (app.strategy === 'SIGNATURE') {
    return signOutgoingWithKey({ scheme: 'rfc9421', appName, key, method: 'GET', url, headers: { accept: 'application/json' }, body: null })
  }
  // An app-level token (no `sub`), as the original's Service(app) does.
  return { authorization: linkAuthorizationHeader(appName, signJwtWithKey({ appName, audience: app.slug, key })) }
}

/**
 * The caller's profile of `sub`, or null when the caller answers 404 / 410. Rejects with
 * MissingRequiredFieldsError (400) when the profile lacks id / username / email, and with
 * RemoteUserUnavailableError (502) when the caller cannot be reached, times out, answers another
 * status or something that is not JSON.
 */
export async function fetchRemoteUser (options: FetchRemoteUserOptions): Promise<RemoteUserProfile | null> {
  const { app, sub, timeout } = options
  const appUrl = app.publicApp.appUrl
  if (appUrl === null) return null
  const url = remoteUserUrl(appUrl, app.publicApp.usersPath ?? DEFAULT_USERS_PATH, sub)
  const headers = { accept: 'application/json', ...authorization(options, url) }

  const deadline = new AbortController()
  const timer = setTimeout(() => deadline.abort(), timeout)
  let status: number
  let bytes: Buffer
  try {
    const undici = loadUndici('resolveRemoteUsers')
    const response = await undici.request(url, {
      dispatcher: options.dispatcher ?? undici.getGlobalDispatcher(),
      method: 'GET',
      headers,
      signal: deadline.signal,
      headersTimeout: timeout,
      bodyTimeout: timeout
    })
    status = response.statusCode
    const chunks: Buffer[] = []
    let size = 0
    for await (const chunk of response.body) {
      size += (chunk as Buffer).length
      if (size > MAX_PROFILE_BYTES) {
        response.body.destroy()
        throw new Error('the profile is too large')
      }
      chunks.push(chunk as Buffer)
    }
    bytes = Buffer.concat(chunks)
  } catch (error) {
    throw Object.assign(new RemoteUserUnavailableError(), { cause: error })
  } finally {
    clearTimeout(timer)
  }

  if (status === 404 || status === 410) return null
  if (status < 200 || status >= 300) throw Object.assign(new RemoteUserUnavailableError(), { status })
  let body: unknown
  try {
    body = JSON.parse(bytes.toString('utf8'))
  } catch (error) {
    throw Object.assign(new RemoteUserUnavailableError(), { cause: error, status })
  }
  return validateProfile(body, sub)
}
