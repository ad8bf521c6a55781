/**
 * The consent pages' words: an English and a Spanish catalogue, more from the host
 * (`messages: { fr: {...} }`, merged over English so a partial catalogue still renders), and the
 * choice of one from `Accept-Language` (q-values honoured, `es-AR` falls back to `es`, then `en`).
 */

export interface ConsentMessages {
  /** `{app}` is replaced by the app's name. */
  title: string
  requesting: string
  requiredLegend: string
  requiredHint: string
  optionalLegend: string
  optionalHint: string
  alwaysOn: string
  newBadge: string
  /** Shown when the app changed its permissions since the user agreed. */
  outdated: string
  /** Added to `outdated` when calls on the user's behalf stop until they accept again. */
  paused: string
  accept: string
  reject: string
  notFoundTitle: string
  notFoundText: string
  goBack: string
  errorTitle: string
  /** Per status code family: what the user can do about it. */
  badRequest: string
  forbidden: string
  unavailable: string
  /** Optional descriptions of scopes, by slug. */
  scopes: Record<string, string>
}

export type ConsentCatalogue = Partial<ConsentMessages>

const en: ConsentMessages = {
  title: 'Authorize {app}',
  requesting: 'This app is requesting permission to access your account.',
  requiredLegend: 'Required permissions',
  requiredHint: 'The app needs these to work; they cannot be turned off.',
  optionalLegend: 'Optional permissions',
  optionalHint: 'Choose what else the app may do for you. You can change this later.',
  alwaysOn: 'Always on',
  newBadge: 'New',
  outdated: 'This app has asked for new permissions since you last agreed.',
  paused: 'Until you accept again it cannot act on your behalf.',
  accept: 'Accept',
  reject: 'Reject',
  notFoundTitle: 'Not found',
  notFoundText: 'The app was not found',
  goBack: 'Go back',
  errorTitle: 'This request cannot be completed',
  badRequest: 'The form sent permissions that this app does not offer. Go back, reload the page and try again.',
  forbidden: 'The form has expired or did not come from this page. Go back, reload the page and try again.',
  unavailable: 'The service is not available right now. Try again in a moment.',
  scopes: {}
}

const es: ConsentMessages = {
  title: 'Autorizar a {app}',
  requesting: 'Esta app solicita permiso para acceder a tu cuenta.',
  requiredLegend: 'Permisos requeridos',
  requiredHint: 'La app los necesita para funcionar; no se pueden desactivar.',
  optionalLegend: 'Permisos opcionales',
  optionalHint: 'Elige qué más puede hacer la app por ti. Puedes cambiarlo más adelante.',
  alwaysOn: 'Siempre activo',
  newBadge: 'Nuevo',
  outdated: 'Esta app ha pedido permisos nuevos desde que aceptaste.',
  paused: 'Hasta que vuelvas a aceptar no puede actuar en tu nombre.',
  accept: 'Aceptar',
  reject: 'Rechazar',
  notFoundTitle: 'No encontrado',
  notFoundText: 'La app no fue encontrada',
  goBack: 'Volver',
  errorTitle: 'No se puede completar la solicitud',
  badRequest: 'El formulario envió permisos que esta app no ofrece. Vuelve, recarga la página e inténtalo de nuevo.',
  forbidden: 'El formulario ha caducado o no proviene de esta página. Vuelve, recarga la página e inténtalo de nuevo.',
  unavailable: 'El servicio no está disponible ahora. Inténtalo de nuevo en un momento.',
  scopes: {}
}

/** The names a catalogue may hold. */
export const MESSAGE_NAMES: ReadonlySet<string> = new Set(Object.keys(en))

const LANGUAGE_TAG = /^[a-z]{2,3}(?:-[a-z0-9]{2,8})*$/

export interface Catalogues {
  /** The language tag to use (the `lang` of the page) and its messages. */
  pick (acceptLanguage: string | undefined): { lang: string, messages: ConsentMessages }
}

/** Builds the catalogues: en and es, overridden or extended by the host's (keys: language tags). */
export function createCatalogues (extra: Record<string, ConsentCatalogue> = {}): Catalogues {
  const byTag = new Map<string, ConsentMessages>([['en', en], ['es', es]])
  for (const [tag, catalogue] of Object.entries(extra)) {
    const key = tag.toLowerCase()
    const base = byTag.get(key) ?? byTag.get(key.split('-')[0]) ?? en
    byTag.set(key, { ...base, ...catalogue, scopes: { ...base.scopes, ...catalogue.scopes } })
  }
  return {
    pick (acceptLanguage) {
      for (const tag of preferredTags(acceptLanguage)) {
        const exact = byTag.get(tag)
        if (exact !== undefined) return { lang: tag, messages: exact }
        const primary = tag.split('-')[0]
        const general = byTag.get(primary)
        if (general !== undefined) return { lang: primary, messages: general }
      }
      return { lang: 'en', messages: byTag.get('en') as ConsentMessages }
    }
  }
}

/** The tags of an Accept-Language header, most wanted first (ties keep their order); `*` and q=0 dropped. */
export function preferredTags (header: string | undefined): string[] {
  if (header === undefined || header === '') return []
  const ranked: Array<{ tag: string, q: number, index: number }> = []
  // A bounded look: browsers send a handful; nobody needs the 500th.
  for (const [index, item] of header.slice(0, 1024).split(',').slice(0, 32).entries()) {
    const [rawTag, ...params] = item.trim().split(';')
    const tag = rawTag.trim().toLowerCase()
    if (!LANGUAGE_TAG.test(tag)) continue
    let q = 1
    for (const param of params) {
      const [name, value] = param.trim().split('=')
      if (name === 'q') q = Number(value)
    }
    if (Number.isFinite(q) && q > 0 && q <= 1) ranked.push({ tag, q, index })
  }
  return ranked.sort((a, b) => b.q - a.q || a.index - b.index).map((entry) => entry.tag)
}

export function format (text: string, values: Record<string, string>): string {
  return text.replace(/\{(\w+)\}/g, (whole, name: string) => Object.hasOwn(values, name) ? values[name] : whole)
}
