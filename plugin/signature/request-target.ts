/**
 * The request target and authority a signature is checked against, read the way Fastify's router
 * reads them, so that what is signed is what is served.
 *
 * - origin-form (`/a/b?q`): the raw text, as the router matches it;
 * - absolute-form (`http://host/a/b?q`): the router drops `scheme://authority` and matches the
 *   rest as raw text. The path here is that same rest, never a WHATWG-normalised URL (which
 *   resolves `..` and decodes `%2e`, so a request signed for `/sig` would be served by
 *   `/admin/*` through `http://host/admin/../sig`). The authority must be the one the request
 *   carries, and a dot segment (`.`, `..`, `%2e`, in any case) is refused outright: proxies
 *   normalise such targets and the router does not, so no one reading the target can be sure
 *   which route it names;
 * - a fragment, `*`, or a scheme other than http(s): refused.
 * Under HTTP/2 the authority is `:authority`; a `Host` naming another one is refused (RFC 9113
 * 8.3.1).
 */
import type { FastifyRequest } from 'fastify'
import { assertSingleHeader } from '../caller/authorization-header.js'
import { AuthorizationHeaderMalformedError, RequestTargetRefusedError } from '../errors.js'

export interface RequestTarget {
  /** `@path`: never empty. */
  path: string
  /** `@query` with its `?`, or null without a query. */
  query: string | null
}

function refuse (detail: string): never {
  throw new RequestTargetRefusedError(`: ${detail}`)
}

const DOT_SEGMENT = /(?:^|\/)(?:\.|%2e){1,2}(?:\/|$)/i

/** The request target as received: path and query split once. */
export function requestTarget (request: FastifyRequest): RequestTarget {
  let url = request.raw.url ?? '/'
  if (url.indexOf('#') !== -1) refuse('a request target carries no fragment')
  if (url.charCodeAt(0) !== 0x2f) url = absoluteFormPath(request, url)
  const q = url.indexOf('?')
  if (q === -1) return { path: url, query: null }
  return { path: q === 0 ? '/' : url.slice(0, q), query: url.slice(q) }
}

/** What the router matches for an absolute-form target: the raw text after the authority. */
function absoluteFormPath (request: FastifyRequest, url: string): string {
  const schemeEnd = url.indexOf('://')
  const scheme = schemeEnd === -1 ? '' : url.slice(0, schemeEnd).toLowerCase()
  if (scheme !== 'http' && scheme !== 'https') refuse('the request target is neither a path nor an http(s) URL')
  const start = schemeEnd + 3
  let end = url.length
  const slash = url.indexOf('/', start)
  if (slash !== -1) end = slash
  const q = url.indexOf('?', start)
  if (q !== -1 && q < end) end = q
  // RFC 9112 3.2.2: such a target's authority wins over Host, and proxies route on it.
  if (url.slice(start, end).toLowerCase() !== authorityOf(request)) refuse('the request target names another authority')
  const rest = end === url.length ? '/' : end === q ? '/' + url.slice(end) : url.slice(end)
  const pathEnd = rest.indexOf('?')
  if (DOT_SEGMENT.test(pathEnd === -1 ? rest : rest.slice(0, pathEnd))) refuse('an absolute-form target with dot segments is ambiguous')
  return rest
}

/** `@authority`: Host (HTTP/1.1) or `:authority` (HTTP/2), lower-cased. */
export function authorityOf (request: FastifyRequest): string {
  // Node keeps the first of two Host lines; a proxy may route on the last: refuse the ambiguity.
  assertSingleHeader(request, 'host')
  const host = request.headers.host
  if (request.raw.httpVersionMajor === 2) {
    const authority = request.headers[':authority']
    if (typeof authority === 'string' && authority.length > 0) {
      if (typeof host === 'string' && host.toLowerCase() !== authority.toLowerCase()) refuse('Host names another authority than :authority')
      return authority.toLowerCase()
    }
  }
  if (typeof host !== 'string' || host.length === 0) throw new AuthorizationHeaderMalformedError(': the request has no Host')
  return host.toLowerCase()
}
