/**
 * RedisNonceStore: replay protection shared by every instance. `remember` is one atomic
 * `SET <prefix><nonce> 1 PX <ttl> NX` — of concurrent calls with one nonce, on any number of
 * instances, exactly one gets `OK`. Redis drops each key when its window is over, so memory is
 * bounded by the request rate times the window.
 *
 * Fails closed: when Redis cannot answer, `remember` rejects (the plugin answers 503
 * nonce-store-unavailable) instead of accepting a request it cannot check. The client this store
 * makes does not queue commands while disconnected (they fail at once) and keeps reconnecting in
 * the background, so the service recovers by itself when Redis is back.
 */
import type { Redis, RedisOptions } from 'ioredis'
import { loadIoredis } from '../lazy-modules.js'
import type { NonceStore } from '../../types/index.js'
import { InvalidArgumentError, NonceStoreUnavailableError, StoreClosedError } from '../errors.js'
import { redisNonceStoreOptions } from '../options/schemas.js'
import { validateOptions } from '../options/validate.js'

export interface RedisNonceStoreOptions {
  /** An ioredis client of your own (not closed by close()). Give it `enableOfflineQueue: false` to fail fast. */
  client?: Redis
  /** A Redis URL (`redis://host:6379/0`), when the store makes its client. Default `redis://127.0.0.1:6379`. */
  url?: string
  /** Extra ioredis options for the client this store makes. */
  redisOptions?: RedisOptions
  /** Put before every nonce, so that several services (or test runs) share one Redis. Default `linked-services:nonce:`. */
  prefix?: string
}

/** Fail fast while Redis is away, reconnect forever with a capped backoff. */
export const FAIL_FAST_REDIS_OPTIONS: Readonly<RedisOptions> = Object.freeze({
  enableOfflineQueue: false,
  maxRetriesPerRequest: 1,
  connectTimeout: 2000,
  commandTimeout: 2000,
  retryStrategy: (times: number) => Math.min(50 * 2 ** Math.min(times, 10), 2000),
  // A Redis replica or a cluster failover answers READONLY (the error reply's code word, as the
  // protocol sends it; ioredis gives no other field): reconnect to find the primary.
  reconnectOnError: (error: Error) => error.message.startsWith('READONLY') ? 2 : false
})

export class RedisNonceStore implements NonceStore {
  readonly client: Redis
  readonly prefix: string
  readonly #ownsClient: boolean
  #closed = false

  constructor (options: RedisNonceStoreOptions = {}) {
    const valid = validateOptions<Required<Omit<RedisNonceStoreOptions, 'client' | 'redisOptions'>> & RedisNonceStoreOptions>(redisNonceStoreOptions, options)
    this.prefix = valid.prefix
    if (valid.client !== undefined) {
      this.client = valid.client
      this.#ownsClient = false
    } else {
      this.client = new (loadIoredis().Redis)(valid.url, { ...FAIL_FAST_REDIS_OPTIONS, ...valid.redisOptions })
      this.#ownsClient = true
    }
    // Connection errors are answered per call (fail closed); an unhandled 'error' event would crash.
    if (this.#ownsClient) this.client.on('error', () => {})
  }

  /** `true` when the nonce was new (and is now remembered for `ttlMs`), `false` when seen before. */
  async remember (nonce: string, ttlMs: number): Promise<boolean> {
    if (typeof nonce !== 'string' || nonce.length === 0 || typeof ttlMs !== 'number' || !Number.isFinite(ttlMs)) {
      throw new InvalidArgumentError('RedisNonceStore: remember(nonce: string, ttlMs: number)')
    }
    if (this.#closed) throw new StoreClosedError('RedisNonceStore')
    const answer = await this.client.set(this.prefix + nonce, '1', 'PX', Math.max(1, Math.ceil(ttlMs)), 'NX')
    return answer === 'OK'
  }

  /** Resolves when the client is connected (or rejects after `timeoutMs`): for start-up checks. */
  async ready (timeoutMs = 5000): Promise<void> {
    if (this.client.status === 'ready') return
    await new Promise<void>((resolve, reject) => {
      const timer = setTimeout(() => { cleanup(); reject(new NonceStoreUnavailableError()) }, timeoutMs)
      const onReady = (): void => { cleanup(); resolve() }
      const cleanup = (): void => { clearTimeout(timer); this.client.off('ready', onReady) }
      this.client.on('ready', onReady)
    })
  }

  async close (): Promise<void> {
    if (this.#closed) return
    this.#closed = true
    if (!this.#ownsClient) return
    if (this.client.status === 'ready') {
      await this.client.quit().catch(() => this.client.disconnect())
    } else {
      this.client.disconnect()
    }
  }
}
