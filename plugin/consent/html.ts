/**
 * HTML with escaping by default: every value interpolated into `html\`...\`` is escaped unless it
 * is itself the output of `html` (a fragment). App names, descriptions and scope slugs come from
 * the app registry, so they are text, never markup.
 */

const ESCAPES: Record<string, string> = { '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' }

export class SafeHtml {
  constructor (readonly text: string) {}
  toString (): string { return this.text }
}

export function escapeHtml (value: string): string {
  return value.replace(/[&<>"']/g, (char) => ESCAPES[char])
}

type Value = SafeHtml | string | number | boolean | null | undefined | Value[]

function render (value: Value): string {
  if (value instanceof SafeHtml) return value.text
  if (Array.isArray(value)) return value.map(render).join('')
  if (value === null || value === undefined || value === false) return ''
  return escapeHtml(String(value))
}

export function html (strings: TemplateStringsArray, ...values: Value[]): SafeHtml {
  let out = strings[0]
  for (let index = 0; index < values.length; index++) out += render(values[index]) + strings[index + 1]
  return new SafeHtml(out)
}
