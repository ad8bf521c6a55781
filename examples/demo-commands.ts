/**
 * The curl commands `npm start` prints: headers it has just signed, "reverse" (as if each linked
 * app called this service, with the key this service holds for it), exactly like
 * `npx linked-services sign-jwt` / `sign-request --url` would.
 */
import { linkAuthorizationHeader, signJwt } from '../plugin/client/sign-jwt.js'
import type { AppRecord } from '../plugin/index.js'
import { signRequest } from '../plugin/signature/sign.js'

export interface DemoCommand {
  title: string
  /** The status the command gets. */
  expect: number
  method: string
  url: string
  headers: Record<string, string>
  body?: string
  curl: string
}

/** POSIX shell single quoting. */
export function shellQuote (text: string): string {
  return `'${text.replace(/'/g, "'\\''")}'`
}

function curl (method: string, url: string, headers: Record<string, string>, body?: string): string {
  const parts = ['curl', '-i']
  if (method !== 'GET') parts.push('-X', method)
  for (const [name, value] of Object.entries(headers)) parts.push('-H', shellQuote(`${name}: ${value}`))
  if (body !== undefined) parts.push('--data-raw', shellQuote(body))
  parts.push(shellQuote(url))
  return parts.join(' ')
}

function command (title: string, expect: number, method: string, url: string, headers: Record<string, string>, body?: string): DemoCommand {
  return { title, expect, method, url, headers, body, curl: curl(method, url, headers, body) }
}

function app (apps: readonly AppRecord[], slug: string): AppRecord {
  const found = apps.find((candidate) => candidate.slug === slug)
  if (found === undefined) throw new Error(`examples/apps.json has no app "${slug}"`)
  return found
}

/** `baseUrl` is what curl connects to, e.g. http://127.0.0.1:3000. */
export function demoCommands (baseUrl: string, appName: string, apps: readonly AppRecord[]): DemoCommand[] {
  const jwtHeader = (slug: string, sub?: string): Record<string, string> => ({
    Authorization: linkAuthorizationHeader(slug, signJwt({ appName, app: app(apps, slug), sub, reverse: true }))
  })
  const userUrl = `${baseUrl}/v1/auth/app/user/1`
  const signed = signRequest({ appName: 'rigobot', app: app(apps, 'rigobot'), method: 'GET', url: userUrl })
  const event = JSON.stringify({ id: 1, type: 'user.updated', data: { id: 5, email: 'jane@example.com' } })
  return [
    command('Allowed: 4geeks reads user 1 on behalf of its user 5 (JWT, scope read:user)', 200, 'GET', userUrl, jwtHeader('4geeks', '5')),
    command('Refused for a scope: reporter holds only "webhook", the route needs read:user', 403, 'GET', userUrl, jwtHeader('reporter')),
    command('Signed request (RFC 9421): rigobot reads user 1 (works once: the nonce is remembered)', 200, 'GET', userUrl, signed.headers),
    command('Webhook: 4geeks sends an event for its user 5 (send it twice: stored once, updated)', 204, 'POST', `${baseUrl}/v1/webhook`,
      { ...jwtHeader('4geeks', '5'), 'Content-Type': 'application/json' }, event)
  ]
}
