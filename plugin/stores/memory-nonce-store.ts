// PLACEHOLDER by the lead so the core compiles; the signature helper replaces this whole file.
import type { NonceStore } from '../../types/index.js'
export class MemoryNonceStore implements NonceStore {
  readonly #seen = new Set<string>()
  constructor (readonly options: { max?: number } = {}) {}
  async remember (nonce: string): Promise<boolean> {
    if (this.#seen.has(nonce)) return false
    this.#seen.add(nonce)
    return true
  }
}
