/**
 * A store that keeps its records exactly as given, unchecked: what a database may hold when rows
 * were written by something else. MemoryStore refuses bad records at construction; these tests
 * check that the plugin still refuses such an app at request time, and serves the others.
 */
import type { AgreementRecord, AppRecord, LinkedServicesStore, MemoryStoreData, UserRecord } from '../../plugin/index.js'

export class UncheckedStore implements LinkedServicesStore {
  readonly #data: Required<MemoryStoreData>

  constructor (data: MemoryStoreData = {}) {
    this.#data = { apps: data.apps ?? [], agreements: data.agreements ?? [], users: data.users ?? [], scopes: data.scopes ?? [] }
  }

  async getApp (slug: string): Promise<AppRecord | null> {
    const app = this.#data.apps.find((candidate) => candidate.slug === slug)
    return app === undefined ? null : structuredClone(app)
  }

  async getAgreement (appSlug: string, userId: string): Promise<AgreementRecord | null> {
    return this.#data.agreements.find((agreement) => agreement.app === appSlug && String(agreement.userId) === userId) ?? null
  }

  async findUserByCredential (appSlug: string, externalId: string): Promise<UserRecord | null> {
    return this.#data.users.find((user) => String(user.credentials?.[appSlug]) === externalId) ?? null
  }
}
