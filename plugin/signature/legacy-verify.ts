/**
 * The original's scheme, `Authorization: Signature App=..,Nonce=..,SignedHeaders=..,Date=..`,
 * accepted only when `signature.legacy` is on. HMAC apps only.
 *
 * The MAC is recomputed the way the Python SENDER computes it: the original's
 * receiver rebuilds a different string (Django's parsed request) and so refuses most requests
 * its own sender makes. Here `body` is what the sender passed (`None` without a body, the object
 * behind a JSON body, the form dict, or the text/bytes), `params` what it passed (a dict read back
 * from the query), `headers` the signed headers in the sender's order and spelling. Each reading
 * of the same bytes is tried (a handful of HMACs at most).
 *
 * Fixed on purpose: the `Date` is checked (offset honoured, within the tolerance, little future
 * skew), the MAC is compared in constant time, previous keys verify during a rotation, and the
 * `Nonce` value (the MAC itself) is remembered: a replay inside the window is refused.
 */
import type { FastifyRequest } from 'fastify'
import type { LinkedSignatureToken, Mode } from '../../types/index.js'
import { callingApp, type AuthContext, type Authenticated } from '../caller/calling-app.js'
import { parseParams } from '../caller/authorization-header.js'
import { AlgorithmNotImplementedError, BadTimestampError, WrongAppTokenError } from '../errors.js'
import { HMAC_HASH } from '../keys/algorithms.js'
import { candidateKeys } from '../keys/app-keys.js'
import { receivedBody } from '../route/raw-body.js'
import { bodyCandidates, legacyCanonical, legacyMac, parseLegacyTimestamp, queryCandidates, type LegacyHash } from './legacy-canonical.js'
import { nonceKey, rememberNonce } from './nonces.js'
import { PyDict, type PyValue } from './python-repr.js'
import { requestTarget } from './request-target.js'
import { timingSafeEqual } from 'node:crypto'

const LEGACY_PARAMS = ['App', 'Nonce', 'SignedHeaders', 'Date'] as const
const MAX_SIGNED_HEADERS = 32

function isLowerHex (text: string): boolean {
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i)
    if (!((c >= 0x30 && c <= 0x39) || (c >= 0x61 && c <= 0x66))) return false
  }
  return true
}

/** The sender's `headers` dict: the signed names in its order and spelling, values as received. */
function signedHeaders (request: FastifyRequest, names: string): { dict: PyDict, list: string[] } {
  const dict = new PyDict()
  const list: string[] = []
  if (names === '') return { dict, list }
  const parts = names.split(';')
  if (parts.length > MAX_SIGNED_HEADERS) throw new WrongAppTokenError(': too many signed headers')
  for (const name of parts) {
    const lower = name.toLowerCase()
    if (name === '' || lower === 'authorization') throw new WrongAppTokenError(': a signed header name is not accepted')
    const value = Object.hasOwn(request.headers, lower) ? request.headers[lower] : undefined
    if (typeof value !== 'string') throw new WrongAppTokenError(': a signed header is absent')
    dict.set(name, value)
    list.push(name)
  }
  return { dict, list }
}

export async function authenticateLegacy (request: FastifyRequest, params: string, ctx: AuthContext, mode: Mode | undefined): Promise<Authenticated> {
  const [slug, nonce, signedHeaderNames, date] = parseParams(params, LEGACY_PARAMS)
  const app = await callingApp(ctx, slug, 'signature', mode)
  if (app.algorithm !== 'HMAC_SHA256' && app.algorithm !== 'HMAC_SHA512') throw new AlgorithmNotImplementedError()
  const hash: LegacyHash = HMAC_HASH[app.algorithm]
  if (nonce.length !== (hash === 'sha256' ? 64 : 128) || !isLowerHex(nonce)) throw new WrongAppTokenError(': the signature is malformed')

  const nowMs = Date.now()
  const time = parseLegacyTimestamp(date)
  const { tolerance, clockSkew } = ctx.config.signature
  if (time === null || time > nowMs + clockSkew * 1000 || nowMs - time > tolerance * 1000) throw new BadTimestampError()

  const keys = candidateKeys(app.keys!, app.algorithm, null, nowMs)
  const { dict: headers, list } = signedHeaders(request, signedHeaderNames)
  const method = (request.raw.method ?? request.method).toUpperCase()
  const contentType = request.headers['content-type']
  // The bytes the route sees (HTTP/2 bodies need no Content-Length); a body that was not
  // captured cannot be checked: fail closed.
  const body = receivedBody(request)
  if (body.raw === undefined) throw new WrongAppTokenError(': the body was not kept for verification')
  const bodies: PyValue[] = bodyCandidates(body.raw, contentType)
  // The query as the router reads it (absolute-form targets included; ambiguous ones refused).
  const { query } = requestTarget(request)
  const paramsList = queryCandidates(query === null ? '' : query.slice(1))
  const expected = Buffer.from(nonce, 'latin1')
  let verified = false
  for (const body of bodies) {
    for (const candidateParams of paramsList) {
      const canonical = legacyCanonical({ timestamp: date, app: slug, method, params: candidateParams, body, headers })
      for (const key of keys) {
        const mac = Buffer.from(legacyMac(canonical, key.key, hash), 'latin1')
        if (mac.length === expected.length && timingSafeEqual(mac, expected)) verified = true
      }
      if (verified) break
    }
    if (verified) break
  }
  if (!verified) throw new WrongAppTokenError(': the signature does not verify')

  const remembered = rememberNonce(ctx.config.signature.nonceStore, nonceKey('l', app.slug, nonce), app.slug, time + tolerance * 1000, ctx.config.storeTimeout)
  if (remembered !== true) await remembered

  const token: LinkedSignatureToken = {
    mode: 'signature',
    scheme: 'legacy',
    sub: null,
    app: app.slug,
    created: Math.floor(time / 1000),
    nonce,
    components: Object.freeze(list)
  }
  return { app, token }
}
