/**
 * Validates an options object against its schema (ajv, compiled once per schema on first use),
 * after moving deprecated names to their new ones. Returns a new object with the defaults filled
 * in; the caller's object is never changed. The first problem found throws
 * FST_LINKED_SERVICES_INVALID_OPTION naming the option's path, and for an unknown key the
 * closest known one ("did you mean …?"). Messages name types and limits, never a value (a value
 * may be a secret: a connection string, a key).
 */
import type { ErrorObject, ValidateFunction } from 'ajv'
import { InvalidOptionError } from '../errors.js'
import type { OptionSchema, OptionSet } from './schema-types.js'
import { closest } from './suggest.js'

type Plain = Record<string, unknown>

let ajv: { compile: (schema: object) => ValidateFunction } | undefined
const compiled = new WeakMap<OptionSchema, ValidateFunction>()

function compile (schema: OptionSchema): ValidateFunction {
  let validate = compiled.get(schema)
  if (validate !== undefined) return validate
  if (ajv === undefined) {
    // Loaded on first use: importing the package stays cheap.
    const Ajv = (require('ajv') as typeof import('ajv')).default
    const instance = new Ajv({ allErrors: false, verbose: true, strict: true, allowUnionTypes: true })
    instance.addVocabulary(['unit', 'defaultText', 'expect'])
    instance.addKeyword({
      keyword: 'implements',
      schemaType: 'array',
      errors: false,
      validate: (methods: string[], data: unknown) => data !== null && typeof data === 'object' &&
        methods.every((method) => typeof (data as Plain)[method] === 'function')
    })
    ajv = instance
  }
  validate = ajv.compile(schema)
  compiled.set(schema, validate)
  return validate
}

function isPlain (value: unknown): value is Plain {
  return value !== null && typeof value === 'object' && !Array.isArray(value)
}

/** Copies the objects the schema describes (not the values inside: stores, clients stay as they are). */
function copyStructure (schema: OptionSchema, value: unknown): unknown {
  if (schema.properties === undefined || !isPlain(value)) return value
  const copy: Plain = {}
  for (const [key, item] of Object.entries(value)) {
    const child = schema.properties[key]
    copy[key] = child === undefined ? item : copyStructure(child, item)
  }
  return copy
}

function fillDefaults (schema: OptionSchema, value: Plain): Plain {
  for (const [key, child] of Object.entries(schema.properties ?? {})) {
    if (value[key] === undefined) {
      if (child.default !== undefined) value[key] = child.default
      else if (child.properties !== undefined) value[key] = fillDefaults(child, {})
    } else if (child.properties !== undefined && isPlain(value[key])) {
      fillDefaults(child, value[key] as Plain)
    }
  }
  return value
}

function parentOf (root: Plain, path: string): [Plain | undefined, string] {
  const parts = path.split('.')
  let node: unknown = root
  for (const part of parts.slice(0, -1)) node = isPlain(node) ? node[part] : undefined
  return [isPlain(node) ? node : undefined, parts[parts.length - 1]]
}

function applyRenames (set: OptionSet, root: Plain): void {
  for (const rename of set.renames) {
    const [parent, oldKey] = parentOf(root, rename.from)
    if (parent === undefined || parent[oldKey] === undefined) continue
    const newKey = rename.to.split('.').pop() as string
    if (parent[newKey] !== undefined) {
      fail(set, rename.from, `${rename.from} and ${rename.to} are both given: ${rename.from} is the deprecated name of ${rename.to}, keep only ${rename.to}`)
    }
    parent[newKey] = parent[oldKey]
    delete parent[oldKey]
    rename.warn()
  }
}

function fail (set: OptionSet, path: string, message: string): never {
  if (set.makeError !== undefined) throw set.makeError(path, message)
  throw Object.assign(new InvalidOptionError(`${set.owner}: ${message}`), { option: path })
}

const ARTICLE: Record<string, string> = {
  object: 'an object', string: 'a string', number: 'a number', integer: 'an integer', boolean: 'true or false', array: 'an array'
}

function typeOf (value: unknown): string {
  if (value === null) return 'null'
  if (Array.isArray(value)) return 'an array'
  if (typeof value === 'number' && !Number.isFinite(value)) return String(value)
  return ARTICLE[typeof value] ?? `a ${typeof value}`
}

function dotted (instancePath: string): string {
  return instancePath.split('/').slice(1).map((part) => part.replace(/~1/g, '/').replace(/~0/g, '~')).join('.')
}

function join (path: string, key: string): string {
  return path === '' ? key : `${path}.${key}`
}

/** The known names at one level, the deprecated ones standing for their new names. */
function knownNames (set: OptionSet, path: string, schema: OptionSchema): Map<string, string> {
  const names = new Map<string, string>()
  for (const key of Object.keys(schema.properties ?? {})) names.set(key, join(path, key))
  for (const rename of set.renames) {
    const [parent, oldKey] = [rename.from.split('.').slice(0, -1).join('.'), rename.from.split('.').pop() as string]
    if (parent === path) names.set(oldKey, rename.to)
  }
  return names
}

function describe (set: OptionSet, error: ErrorObject): [string, string] {
  const path = dotted(error.instancePath)
  const schema = error.parentSchema as OptionSchema
  const unit = schema.unit === undefined ? '' : ` ${schema.unit}`
  const name = path === '' ? 'options' : path
  switch (error.keyword) {
    case 'additionalProperties': {
      const key = (error.params as { additionalProperty: string }).additionalProperty
      const known = knownNames(set, path, schema)
      const guess = closest(key, known.keys())
      const hint = guess !== undefined
        ? `did you mean ${known.get(guess) as string}?`
        : `known ${set.noun ?? 'option'}s here: ${[...new Set(known.values())].join(', ')}`
      return [join(path, key), `unknown ${set.noun ?? 'option'} ${join(path, key)} (${hint})`]
    }
    case 'required': {
      const key = (error.params as { missingProperty: string }).missingProperty
      return [join(path, key), `${join(path, key)} is required`]
    }
    case 'type': {
      const types = Array.isArray(schema.type) ? schema.type : [schema.type ?? 'object']
      return [path, `${name} must be ${types.map((type) => type === 'null' ? 'null' : ARTICLE[type]).join(' or ')}, got ${typeOf(error.data)}`]
    }
    case 'minimum':
      return [path, `${name} must be at least ${String(schema.minimum)}${unit}${schema.maximum === undefined ? '' : ` and at most ${String(schema.maximum)}${unit}`}`]
    case 'maximum':
      return [path, `${name} must be at most ${String(schema.maximum)}${unit}${schema.minimum === undefined ? '' : ` and at least ${String(schema.minimum)}${unit}`}`]
    case 'enum':
      return [path, `${name} must be one of ${(schema.enum ?? []).map((item) => JSON.stringify(item)).join(', ')}`]
    case 'implements':
      return [path, `${name} must be an object with the methods ${(schema.implements ?? []).join(', ')}`]
    default:
      return [path, `${name} must be ${schema.expect ?? `valid (${error.keyword})`}`]
  }
}

/** Validates `value` (undefined counts as `{}`) and returns a new object with the defaults filled in. */
export function validateOptions<T> (set: OptionSet, value: unknown): T {
  if (value === undefined) value = {}
  if (!isPlain(value)) fail(set, '', `options must be an object, got ${typeOf(value)}`)
  const copy = copyStructure(set.schema, value) as Plain
  applyRenames(set, copy)
  check(set, copy)
  return fillDefaults(set.schema, copy) as T
}

/** Validates `value` as it is (no renames, no defaults): for records. */
export function check (set: OptionSet, value: unknown): void {
  const validate = compile(set.schema)
  if (!validate(value)) {
    const [path, message] = describe(set, (validate.errors as ErrorObject[])[0])
    fail(set, path, message)
  }
}
