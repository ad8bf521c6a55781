/**
 * The JSON Schema subset the options are written in, with three annotations of our own:
 * `implements` (an object with these methods: checked), `unit` and `defaultText` (for the docs
 * table and the error messages), `expect` (what a pattern means, in words).
 */
export type JsonType = 'object' | 'string' | 'number' | 'integer' | 'boolean' | 'array' | 'null'

export interface OptionSchema {
  type?: JsonType | JsonType[]
  description?: string
  properties?: Record<string, OptionSchema>
  required?: string[]
  additionalProperties?: boolean | OptionSchema
  items?: OptionSchema
  enum?: readonly unknown[]
  minimum?: number
  maximum?: number
  minLength?: number
  maxLength?: number
  pattern?: string
  default?: unknown
  implements?: readonly string[]
  unit?: 's' | 'ms' | 'bytes' | 'characters'
  defaultText?: string
  expect?: string
}

/** An option kept under its old name until 1.0: the value moves to `to`, with a deprecation warning. */
export interface Rename {
  /** The process-warning code of this deprecation (`FSTLSDEP001`). */
  code: string
  /** Dotted path of the old name (`jwt.cacheSize`). */
  from: string
  /** Dotted path of the new name, under the same parent (`jwt.maxCachedTokens`). */
  to: string
  /** Emits the deprecation warning (once per process). */
  warn: () => void
}

/** One set of options: what it belongs to (named in errors), its schema and its deprecated names. */
export interface OptionSet {
  owner: string
  schema: OptionSchema
  renames: readonly Rename[]
  /** What a key is called in messages. Default `option`. */
  noun?: 'option' | 'field'
  /** The error to throw (default: InvalidOptionError naming `owner` and the path). */
  makeError?: (path: string, message: string) => Error
}
