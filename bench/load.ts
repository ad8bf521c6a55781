/**
 * The load generator side: request pools (headers per request) and one autocannon run.
 *
 * Every scenario goes through the same `setupRequest` path (a pool of header sets, taken in
 * turn), so the generator costs the same per request whatever the scenario. Requests that must
 * be fresh (new JWTs, signed requests with a new nonce) are PRE-COMPUTED before the run: signing
 * inside the generator would make the generator, not the server, the bottleneck on 2 cores.
 */
import autocannon from 'autocannon'
import { loadSigners } from './package.js'
import {
  APP_NAME, BEARER_TOKEN, CALLER, CALLER_ED25519, growthCaller, SIGNER_ED25519, SIGNER_HMAC, SIGNER_LEGACY, TARGET_ED25519, TARGET_HMAC,
  type GrowthConfig, type ScenarioName
} from './scenarios.js'

export type Headers = Record<string, string>

/**
 * Header sets, used in turn; `fresh: true` when each entry may be sent only once, with `more()`
 * making one more on the spot should the pre-computed entries run out.
 */
export interface Pool {
  entries: Headers[]
  fresh: boolean
  more?: () => Headers
}

let tokenCounter = 0
/** By server port: the earliest millisecond a legacy request was signed at so far. */
const legacyFloor = new Map<number, number>()

function linkToken (caller: string, unique: boolean, target = TARGET_HMAC): string {
  const { signJwt } = loadSigners()
  const claims = unique ? { jti: `${process.pid}-${++tokenCounter}` } : undefined
  return signJwt({ appName: caller, app: target, sub: '', expiresIn: 3600, claims })
}

/** `count` header sets for a scenario served on `port`. */
export function makePool (scenario: ScenarioName, port: number, count: number): Pool {
  const { signRequest } = loadSigners()
  const authority = `127.0.0.1:${port}`
  const many = <T>(make: (i: number) => T): T[] => Array.from({ length: count }, (_, i) => make(i))
  switch (scenario) {
    case 'bare':
    case 'prehandler-floor':
      return { entries: [{}], fresh: false }
    case 'bearer-auth':
      return { entries: [{ authorization: `Bearer ${BEARER_TOKEN}` }], fresh: false }
    case 'jwt-cached':
    case 'jwt-cached-observed':
    case 'jwt-cached-postgres':
      return { entries: [{ authorization: `Link App=${CALLER},Token=${linkToken(CALLER, false)}` }], fresh: false }
    case 'fastify-jwt':
    case 'jose-hs256': {
      // The same kind of token as jwt-cold (HS256, same claims), each new.
      const more = (): Headers => ({ authorization: `Bearer ${linkToken(CALLER, true)}` })
      return { entries: many(more), fresh: true, more }
    }
    case 'jose-eddsa': {
      const more = (): Headers => ({ authorization: `Bearer ${linkToken(CALLER_ED25519, true, TARGET_ED25519)}` })
      return { entries: many(more), fresh: true, more }
    }
    case 'jwt-cold': {
      const more = (): Headers => ({ authorization: `Link App=${CALLER},Token=${linkToken(CALLER, true)}` })
      return { entries: many(more), fresh: true, more }
    }
    case 'jwt-cold-ed25519': {
      const more = (): Headers => ({ authorization: `Link App=${CALLER_ED25519},Token=${linkToken(CALLER_ED25519, true, TARGET_ED25519)}` })
      return { entries: many(more), fresh: true, more }
    }
    case 'signature-hmac':
    case 'hms-hmac':
    case 'signature-ed25519':
    case 'hms-ed25519': {
      const hmac = scenario === 'signature-hmac' || scenario === 'hms-hmac'
      const more = (): Headers => signRequest({
        appName: hmac ? SIGNER_HMAC : SIGNER_ED25519, app: hmac ? TARGET_HMAC : TARGET_ED25519, method: 'GET', url: '/', authority
      }).headers
      return { entries: many(more), fresh: true, more }
    }
    case 'signature-legacy': {
      // The legacy Date has millisecond resolution and its MAC is the nonce: one distinct
      // millisecond per request, counted back from now and below every millisecond an earlier
      // pool for the same server used (the server's tolerance is 1800 s).
      const start = Math.min(Date.now(), legacyFloor.get(port) ?? Infinity) - count - 1
      let floor = start
      legacyFloor.set(port, start)
      const at = (ms: number): Headers => signRequest({ appName: SIGNER_LEGACY, app: TARGET_HMAC, method: 'GET', url: '/', authority, scheme: 'legacy', now: ms }).headers
      const more = (): Headers => {
        legacyFloor.set(port, --floor)
        return at(floor)
      }
      return { entries: many((i) => at(start + i)), fresh: true, more }
    }
  }
}

/** Growth: app-level JWTs from the hot caller alone, or spread over `distinct` apps of the store. */
export function growthPool (config: GrowthConfig, spread: boolean, distinct = 20_000): Pool {
  const { signJwt } = loadSigners()
  const callers = spread ? Math.min(config.apps, distinct) : 1
  const step = Math.max(1, Math.floor(config.apps / callers))
  const entries = Array.from({ length: callers }, (_, i) => {
    const caller = growthCaller(i * step)
    return { authorization: `Link App=${caller},Token=${signJwt({ appName: caller, app: TARGET_HMAC, sub: '', expiresIn: 3600 })}` }
  })
  // Random order: consecutive requests come from unrelated apps.
  for (let i = entries.length - 1; i > 0; i--) {
    const j = Math.floor(Math.random() * (i + 1))
    const swap = entries[i]
    entries[i] = entries[j]
    entries[j] = swap
  }
  return { entries, fresh: false }
}

export interface LoadResult {
  requests: number
  ok: number
  non2xx: number
  errors: number
  seconds: number
  rps: number
  p50Ms: number
  p99Ms: number
  /** Requests signed on the spot because the pre-computed entries ran out (0 normally). */
  signedDuringRun: number
}

export interface LoadOptions {
  port: number
  /** `/` (the scenario's route) unless given. */
  path?: string
  pool: Pool
  seconds: number
  connections: number
}

export async function runLoad (options: LoadOptions): Promise<LoadResult> {
  const { entries, fresh, more } = options.pool
  let next = 0
  let signedDuringRun = 0
  const result = await autocannon({
    url: `http://127.0.0.1:${options.port}/`,
    connections: options.connections,
    pipelining: 1,
    duration: options.seconds,
    requests: [{
      method: 'GET',
      path: options.path ?? '/',
      setupRequest: (request) => {
        if (next === entries.length && fresh && more !== undefined) {
          signedDuringRun++
          request.headers = more()
          return request
        }
        if (next === entries.length) next = 0
        request.headers = entries[next++]
        return request
      }
    }]
  })
  const seconds = result.duration
  const ok = result['2xx']
  return {
    requests: result.requests.total,
    ok,
    non2xx: result.non2xx,
    errors: result.errors + result.timeouts,
    seconds,
    rps: ok / seconds,
    p50Ms: result.latency.p50,
    p99Ms: result.latency.p99,
    signedDuringRun
  }
}

export { APP_NAME }
