/**
 * RFC 9421 HTTP Message Signatures on incoming requests (`Signature-Input` + `Signature`).
 *
 * Order of checks (cheap and local first, the nonce store last):
 * 1. size caps, RFC 8941 parsing, choice of the signature label;
 * 2. parameters: `keyid`, `created` (window and skew), `expires`, `nonce`, `alg`;
 * 3. covered components: `@method`, `@authority`, `@path`, `@query` (with a query string) and
 *    `content-digest` (with a body) must be there;
 * 4. the calling app (store, cached) and its keys (current, then unexpired previous ones);
 * 5. the signature over the base rebuilt from the request as received;
 * 6. `Content-Digest` against the raw body bytes;
 * 7. the nonce, remembered only now: a forgery cannot burn it; the store is atomic, so of
 *    concurrent copies exactly one passes.
 */
import type { FastifyRequest } from 'fastify'
import type { Algorithm, LinkedSignatureToken, Mode } from '../../types/index.js'
import { callingApp, type AuthContext, type Authenticated } from '../caller/calling-app.js'
import { SLUG } from '../config.js'
import {
  AppNotFoundError, AuthorizationHeaderMalformedError, BadTimestampError, ContentDigestMismatchError, HeaderTooLargeError,
  SignatureMissingComponentError, WrongAppTokenError
} from '../errors.js'
import { candidateKeys } from '../keys/app-keys.js'
import { receivedBody, type ReceivedBody } from '../route/raw-body.js'
import type { ResolvedApp } from '../cache/resolved-app.js'
import { nonceKey, rememberNonce } from './nonces.js'
import { authorityOf, requestTarget } from './request-target.js'
import { RFC9421_ALG, signatureBase, verifyBase } from './rfc9421.js'
import {
  isInnerList, parseDictionary, serializeInnerList, StructuredFieldError, type Dictionary, type InnerList
} from './structured-fields.js'
import { createHash, timingSafeEqual } from 'node:crypto'

/** At most this many signatures in one request are looked at. */
const MAX_LABELS = 8
const MAX_NONCE_LENGTH = 256
const MIN_NONCE_LENGTH = 8

const DERIVED = new Set(['@method', '@authority', '@path', '@query', '@target-uri', '@scheme', '@request-target'])

function malformed (detail: string): never {
  throw new AuthorizationHeaderMalformedError(`: ${detail}`)
}

/** A header's value, read as an own property only (a covered `constructor` matches nothing inherited). */
function fieldOf (request: FastifyRequest, name: string): string | undefined {
  if (!Object.hasOwn(request.headers, name)) return undefined
  const value = request.headers[name]
  if (value === undefined) return undefined
  return typeof value === 'string' ? value : value.join(', ')
}

function header (request: FastifyRequest, name: string, maxLength: number, displayName: string): string | undefined {
  const text = fieldOf(request, name)
  if (text === undefined) return undefined
  if (text.length > maxLength) throw new HeaderTooLargeError(displayName)
  return text
}

function parse (text: string, name: string): Dictionary {
  try {
    return parseDictionary(text)
  } catch (error) {
    if (error instanceof StructuredFieldError) malformed(`${name} is not a valid structured field`)
    throw error
  }
}

interface Chosen {
  label: string
  input: InnerList
  signature: Buffer
  slug: string
  kid: string | null
}

function splitKeyid (input: InnerList): { slug: string, kid: string | null } {
  const keyid = input.params.get('keyid')
  if (typeof keyid !== 'string' || keyid.length === 0) malformed('the signature has no keyid')
  const hash = keyid.indexOf('#')
  const slug = hash === -1 ? keyid : keyid.slice(0, hash)
  const kid = hash === -1 ? null : keyid.slice(hash + 1)
  if (!SLUG.test(slug)) throw new AppNotFoundError()
  return { slug, kid: kid === '' ? null : kid }
}

function member (inputs: Dictionary, signatures: Dictionary, label: string): Chosen {
  const input = inputs.get(label)!
  if (!isInnerList(input)) malformed('a Signature-Input member is not an inner list')
  const signature = signatures.get(label)
  if (signature === undefined) malformed('a signature label has no Signature member')
  if (isInnerList(signature) || !Buffer.isBuffer(signature.value)) malformed('a Signature member is not a byte sequence')
  const { slug, kid } = splitKeyid(input)
  return { label, input, signature: signature.value, slug, kid }
}

/**
 * One label: that one. Several (a proxy may add its own): the one whose keyid names an app this
 * service knows; none or more than one is refused. Choosing costs at most ONE store lookup,
 * however many labels name apps that are not cached: the cache (known apps, and unknown ones in
 * its negative cache) answers for the others; without a known app among them, the first label
 * whose app is not cached is looked up (a proxy appends its label after the caller's).
 */
function choose (ctx: AuthContext, inputs: Dictionary, signatures: Dictionary): Chosen | Promise<Chosen> {
  if (inputs.size === 0) malformed('Signature-Input is empty')
  if (inputs.size === 1) return member(inputs, signatures, inputs.keys().next().value as string)
  return chooseAmong(ctx, inputs, signatures)
}

async function chooseAmong (ctx: AuthContext, inputs: Dictionary, signatures: Dictionary): Promise<Chosen> {
  if (inputs.size > MAX_LABELS) malformed('too many signatures')
  const known: Chosen[] = []
  let uncached: Chosen | undefined
  const now = Date.now()
  for (const label of inputs.keys()) {
    let chosen: Chosen
    try {
      chosen = member(inputs, signatures, label)
    } catch {
      continue
    }
    if (chosen.slug === ctx.config.appName) continue
    const cached = ctx.storeCache.peekApp(chosen.slug, now)
    if (cached === undefined) uncached ??= chosen
    else if (cached !== null) known.push(chosen)
  }
  if (known.length === 0 && uncached !== undefined && await ctx.storeCache.getApp(uncached.slug) !== null) known.push(uncached)
  if (known.length === 0) throw new AppNotFoundError()
  if (known.length > 1) malformed('more than one signature from a linked app')
  return known[0]
}

function integerParam (input: InnerList, name: string): number | undefined {
  const value = input.params.get(name)
  if (value === undefined) return undefined
  if (typeof value !== 'number') malformed(`${name} must be an integer`)
  return value
}

/** Checks `Content-Digest` against the raw bytes: every sha-256 / sha-512 entry must match. */
function checkContentDigest (request: FastifyRequest, maxLength: number, body: ReceivedBody): void {
  const text = header(request, 'content-digest', maxLength, 'Content-Digest')
  if (text === undefined) throw new ContentDigestMismatchError()
  // A body that was not captured (a route without the capture hook): fail closed.
  const raw = body.raw
  if (raw === undefined) throw new ContentDigestMismatchError()
  let digests: Dictionary
  try {
    digests = parseDictionary(text)
  } catch {
    throw new ContentDigestMismatchError()
  }
  let checked = 0
  for (const [algorithm, entry] of digests) {
    if (algorithm !== 'sha-256' && algorithm !== 'sha-512') continue
    if (isInnerList(entry) || !Buffer.isBuffer(entry.value)) throw new ContentDigestMismatchError()
    const actual = createHash(algorithm === 'sha-256' ? 'sha256' : 'sha512').update(raw).digest()
    if (actual.length !== entry.value.length || !timingSafeEqual(actual, entry.value)) throw new ContentDigestMismatchError()
    checked++
  }
  if (checked === 0) throw new ContentDigestMismatchError()
}

/**
 * Authenticates an RFC 9421 signed request. Like the JWT path, the warm path (one signature, the
 * app cached, the in-memory nonce store) runs without a promise; each stage that may wait (several
 * labels to choose among, an app to load, another nonce store) continues in a promise.
 */
export function authenticateRfc9421 (request: FastifyRequest, ctx: AuthContext, mode: Mode | undefined): Authenticated | Promise<Authenticated> {
  const maxLength = ctx.config.signature.maxHeaderLength
  const inputText = header(request, 'signature-input', maxLength, 'Signature-Input')
  const signatureText = header(request, 'signature', maxLength, 'Signature')
  if (inputText === undefined || signatureText === undefined) malformed('Signature-Input needs a Signature header')
  const inputs = parse(inputText, 'Signature-Input')
  const signatures = parse(signatureText, 'Signature')
  const chosen = choose(ctx, inputs, signatures)
  if (chosen instanceof Promise) return chosen.then((value) => verifyChosen(request, ctx, mode, value))
  return verifyChosen(request, ctx, mode, chosen)
}

function verifyChosen (request: FastifyRequest, ctx: AuthContext, mode: Mode | undefined, chosen: Chosen): Authenticated | Promise<Authenticated> {
  const { config } = ctx
  const { input } = chosen

  // Parameters.
  const nowMs = Date.now()
  const now = nowMs / 1000
  const created = integerParam(input, 'created')
  if (created === undefined) throw new BadTimestampError()
  const { tolerance, clockSkew } = config.signature
  if (created > now + clockSkew || now - created > tolerance) throw new BadTimestampError()
  const expires = integerParam(input, 'expires')
  if (expires !== undefined && now > expires + clockSkew) throw new BadTimestampError()
  const nonce = input.params.get('nonce')
  if (typeof nonce !== 'string') malformed('the signature has no nonce')
  if (nonce.length < MIN_NONCE_LENGTH || nonce.length > MAX_NONCE_LENGTH) malformed('the nonce length is not accepted')
  const alg = input.params.get('alg')
  if (alg !== undefined && typeof alg !== 'string') malformed('alg must be a string')

  // Covered components.
  const { path, query } = requestTarget(request)
  const body = receivedBody(request)
  const components: string[] = []
  let method = false
  let authority = false
  let coversPath = false
  let coversQuery = false
  let coversDigest = false
  for (const item of input.items) {
    const name = item.value
    if (typeof name !== 'string') malformed('a covered component is not a string')
    if (item.params.size > 0) malformed('covered components with parameters are not supported')
    if (components.includes(name)) malformed('a component is covered twice')
    if (name.charCodeAt(0) === 0x40) { // @
      if (!DERIVED.has(name)) malformed('a covered derived component is not supported')
      if (name === '@method') method = true
      else if (name === '@authority') authority = true
      else if (name === '@path') coversPath = true
      else if (name === '@query') coversQuery = true
    } else {
      if (name !== name.toLowerCase() || name.length === 0) malformed('a covered field name is not lower case')
      if (name === 'content-digest') coversDigest = true
    }
    components.push(name)
  }
  if (!method) throw new SignatureMissingComponentError('@method')
  if (!authority) throw new SignatureMissingComponentError('@authority')
  if (!coversPath) throw new SignatureMissingComponentError('@path')
  if (query !== null && !coversQuery) throw new SignatureMissingComponentError('@query')
  if (body.present && !coversDigest) throw new SignatureMissingComponentError('content-digest')

  const checked: CheckedInput = { chosen, nowMs, created, expires, nonce, alg, path, query, body, components, authority, coversDigest }
  // The calling app and its keys.
  const app = callingApp(ctx, chosen.slug, 'signature', mode)
  if (app instanceof Promise) return app.then((loaded) => verifyWithApp(request, ctx, loaded, checked))
  return verifyWithApp(request, ctx, app, checked)
}

/** What the checks of the signature parameters and covered components established. */
interface CheckedInput {
  chosen: Chosen
  nowMs: number
  created: number
  expires: number | undefined
  nonce: string
  alg: string | undefined
  path: string
  query: string | null
  body: ReceivedBody
  components: string[]
  authority: boolean
  coversDigest: boolean
}

function verifyWithApp (request: FastifyRequest, ctx: AuthContext, app: ResolvedApp, checked: CheckedInput): Authenticated | Promise<Authenticated> {
  const { config } = ctx
  const maxLength = config.signature.maxHeaderLength
  const { tolerance, clockSkew } = config.signature
  const { chosen, nowMs, created, expires, nonce, alg, path, query, body, components, authority, coversDigest } = checked
  const { input } = chosen
  const algorithm = app.algorithm as Algorithm
  if (alg !== undefined && alg !== RFC9421_ALG[algorithm]) throw new WrongAppTokenError(': alg does not match the app')
  const keys = candidateKeys(app.keys!, algorithm, chosen.kid, nowMs)
  if (keys.length === 0) throw new WrongAppTokenError(': no usable key')

  // The signature base, from the request as received.
  const hostValue = authority ? authorityOf(request) : ''
  const lines: string[] = []
  for (const name of components) {
    let value: string
    switch (name) {
      case '@method': value = request.raw.method ?? request.method; break
      case '@authority': value = hostValue; break
      case '@path': value = path; break
      case '@query': value = query ?? '?'; break
      case '@scheme': value = request.protocol; break
      case '@request-target': value = request.raw.url ?? '/'; break
      case '@target-uri': value = `${request.protocol}://${hostValue}${path}${query ?? ''}`; break
      default: {
        const field = fieldOf(request, name)
        if (field === undefined) throw new WrongAppTokenError(': a covered field is absent')
        value = field
        if (value.length > maxLength * 4) throw new HeaderTooLargeError(name)
      }
    }
    lines.push(`"${name}": ${value}`)
  }
  let params: string
  try {
    params = serializeInnerList(input)
  } catch {
    malformed('the signature parameters cannot be serialised')
  }
  const base = signatureBase(lines, params)
  if (!keys.some((key) => verifyBase(algorithm, key.key, base, chosen.signature))) {
    throw new WrongAppTokenError(': the signature does not verify')
  }

  if (coversDigest || body.present) checkContentDigest(request, maxLength, body)

  let windowEnd = (created + tolerance) * 1000
  if (expires !== undefined) windowEnd = Math.min(windowEnd, (expires + clockSkew) * 1000)
  const token: LinkedSignatureToken = {
    mode: 'signature',
    scheme: 'rfc9421',
    sub: null,
    app: app.slug,
    created,
    nonce,
    components: Object.freeze(components)
  }
  const authenticated: Authenticated = { app, token }
  const remembered = rememberNonce(config.signature.nonceStore, nonceKey('s', app.slug, nonce), app.slug, windowEnd, config.storeTimeout)
  if (remembered === true) return authenticated
  return remembered.then(() => authenticated)
}
