/**
 * What the consent page shows and what Accept may store, from the app record and the user's
 * agreement:
 * - the optional switches are on for the scopes the user granted, all on when there is no
 *   agreement yet;
 * - an agreement older than the app's `agreementVersion` is outdated: the optional scopes the
 *   user has not granted are flagged "New" (the app may have added them since), and left off;
 * - a form may only send optional scopes the app offers (anything else is refused).
 */
import type { AgreementRecord, AppRecord } from '../../types/index.js'
import { ScopeNotOfferedError } from '../errors.js'

export interface ConsentApp {
  slug: string
  name: string
  description: string
  redirectUrl: URL
  agreementVersion: number
  required: readonly string[]
  optional: readonly string[]
}

export interface ConsentView {
  app: ConsentApp
  required: readonly string[]
  optional: Array<{ slug: string, checked: boolean, isNew: boolean }>
  outdated: boolean
  /** Outdated and the service refuses outdated agreements. */
  paused: boolean
  token: string
  formAction: string
  rejectUrl: string
}

function strings (value: unknown): string[] {
  return Array.isArray(value) ? [...new Set(value.filter((item): item is string => typeof item === 'string'))] : []
}

/** The app as the page needs it, or null when it has no consent page (unknown to it). */
export function consentApp (record: AppRecord | null): ConsentApp | null {
  if (record === null || record.requireAnAgreement === false) return null
  const redirectUrl = parseRedirect(record.redirectUrl)
  if (redirectUrl === null) return null
  const version = Number.isInteger(record.agreementVersion) ? record.agreementVersion as number : 1
  return {
    slug: record.slug,
    name: typeof record.name === 'string' && record.name !== '' ? record.name : record.slug,
    description: typeof record.description === 'string' ? record.description : '',
    redirectUrl,
    agreementVersion: version,
    required: strings(record.requiredScopes),
    optional: strings(record.optionalScopes)
  }
}

/** Only an absolute http(s) URL is a place to send the user back to. */
function parseRedirect (value: unknown): URL | null {
  if (typeof value !== 'string') return null
  try {
    const url = new URL(value)
    return url.protocol === 'https:' || url.protocol === 'http:' ? url : null
  } catch {
    return null
  }
}

export function agreementVersion (agreement: AgreementRecord): number {
  return Number.isInteger(agreement.agreementVersion) ? agreement.agreementVersion as number : 1
}

export function buildView (app: ConsentApp, agreement: AgreementRecord | null, requireCurrent: boolean,
  links: { token: string, formAction: string, rejectUrl: string }): ConsentView {
  const granted = agreement === null ? null : new Set(strings(agreement.optionalScopes))
  const outdated = agreement !== null && agreementVersion(agreement) < app.agreementVersion
  return {
    app,
    required: app.required,
    optional: app.optional.map((slug) => ({
      slug,
      checked: granted === null || granted.has(slug),
      isNew: outdated && granted !== null && !granted.has(slug)
    })),
    outdated,
    paused: outdated && requireCurrent,
    ...links
  }
}

/** The optional scopes a form chose, sorted; a scope the app does not offer is refused. */
export function chosenScopes (app: ConsentApp, sent: readonly string[]): string[] {
  const chosen = new Set<string>()
  for (const slug of sent) {
    // A required scope is always held; a client that posts it changes nothing.
    if (app.required.includes(slug)) continue
    if (!app.optional.includes(slug)) throw new ScopeNotOfferedError(`the app does not offer the scope ${JSON.stringify(slug.slice(0, 100))}; send only the optional scopes the page shows`)
    chosen.add(slug)
  }
  return [...chosen].sort()
}

/** `redirectUrl` with `app=<this service>&status=<status>` set (other query parameters kept). */
export function returnUrl (app: ConsentApp, appName: string, status: 'authorized' | 'rejected'): string {
  const url = new URL(app.redirectUrl)
  url.searchParams.set('app', appName)
  url.searchParams.set('status', status)
  return url.href
}
