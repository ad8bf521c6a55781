/**
 * Option checks of the observability plugins and PostgresAuditSink (apart from the main plugin's options):
 * a bad option fails registration with FST_LINKED_SERVICES_INVALID_OPTION naming it.
 */
import { InvalidOptionError } from './errors.js'

export function pluginOptions (value: unknown, plugin: string, known: readonly string[]): Record<string, unknown> {
  if (value === undefined) return {}
  if (value === null || typeof value !== 'object' || Array.isArray(value)) throw new InvalidOptionError(`${plugin}: options must be an object`)
  for (const key of Object.keys(value)) {
    if (!known.includes(key)) throw new InvalidOptionError(`${plugin}: unknown option "${key}" (known: ${known.join(', ')})`)
  }
  return value as Record<string, unknown>
}

export function integerOption (value: unknown, name: string, fallback: number, min: number, max: number): number {
  if (value === undefined) return fallback
  if (typeof value !== 'number' || !Number.isInteger(value) || value < min || value > max) {
    throw new InvalidOptionError(`${name} must be an integer from ${min} to ${max}`)
  }
  return value
}

export function objectWith (value: unknown, name: string, methods: readonly string[]): void {
  if (value === null || typeof value !== 'object' || methods.some((method) => typeof (value as Record<string, unknown>)[method] !== 'function')) {
    throw new InvalidOptionError(`${name} must be an object with ${methods.join(', ')}`)
  }
}

/**
 * Bounded label values: the first `max` distinct values are kept, later ones become `overflow`;
 * null (an app nobody knows) is `unknown`. A flood of names cannot grow a metric's series.
 */
export class LabelLimiter {
  readonly #seen = new Set<string>()

  constructor (readonly max: number, readonly overflow = 'other') {}

  label (value: string | null): string {
    if (value === null) return 'unknown'
    if (this.#seen.has(value)) return value
    if (this.#seen.size >= this.max) return this.overflow
    this.#seen.add(value)
    return value
  }
}
