/**
 * The store contract, as a reusable suite: any LinkedServicesStore implementation runs it with a
 * factory that makes an empty store and a seeding function that puts records in it.
 *
 *   runStoreContract('MemoryStore', async (data) => ({ store: new MemoryStore(data) }))
 */
import { test } from 'node:test'
import assert from 'node:assert/strict'
import type { AgreementRecord, AppRecord, LinkedServicesStore, StoreChange, UserRecord } from '../../plugin/index.js'
import { hmacKeyHex } from './keys.js'

export interface SeedData {
  apps: AppRecord[]
  agreements: AgreementRecord[]
  users: UserRecord[]
}

export interface ContractStore {
  store: LinkedServicesStore
  /** Change an app's key through the store's admin API (for the change feed check), if it has one. */
  updateAppKey?: (slug: string, privateKey: string) => Promise<void> | void
  cleanup?: () => Promise<void>
}

export type MakeStore = (data: SeedData) => Promise<ContractStore>

export function contractData (): SeedData {
  return {
    apps: [
      {
        slug: 'alpha',
        name: 'Alpha',
        algorithm: 'HMAC_SHA512',
        strategy: 'JWT',
        schema: 'LINK',
        privateKey: hmacKeyHex(64),
        requireAnAgreement: true,
        requiredScopes: ['read:user'],
        optionalScopes: ['write:user', 'webhook'],
        agreementVersion: 2,
        appUrl: 'http://127.0.0.1:9/alpha',
        usersPath: '/v1/auth/app/user/',
        webhookUrl: 'http://127.0.0.1:9/alpha/webhook',
        redirectUrl: 'http://127.0.0.1:9/alpha/redirect'
      },
      { slug: 'beta', algorithm: 'HMAC_SHA256', privateKey: hmacKeyHex(32), requireAnAgreement: false }
    ],
    users: [
      { id: 1, username: 'jane', email: 'jane@example.com', credentials: { alpha: 9 } },
      { id: 2, username: 'john', email: 'john@example.com', credentials: { alpha: 'abc', beta: '77' } }
    ],
    agreements: [
      { app: 'alpha', userId: 1, optionalScopes: ['write:user'], agreementVersion: 2 }
    ]
  }
}

export function runStoreContract (name: string, makeStore: MakeStore, options: { skip?: string | false } = {}): void {
  const skip = options.skip ?? false

  async function withStore (fn: (store: ContractStore, data: SeedData) => Promise<void>): Promise<void> {
    const data = contractData()
    const made = await makeStore(data)
    try {
      await fn(made, data)
    } finally {
      await made.cleanup?.()
    }
  }

  test(`${name}: getApp returns the record with its settings and scopes, null when missing`, { skip }, async () => {
    await withStore(async ({ store }, data) => {
      const alpha = await store.getApp('alpha')
      assert.ok(alpha !== null)
      const expected = data.apps[0]
      for (const field of ['slug', 'algorithm', 'strategy', 'privateKey', 'requireAnAgreement', 'agreementVersion', 'appUrl', 'usersPath', 'webhookUrl', 'redirectUrl'] as const) {
        assert.deepEqual(alpha[field], expected[field], field)
      }
      assert.deepEqual([...(alpha.requiredScopes ?? [])].sort(), ['read:user'])
      assert.deepEqual([...(alpha.optionalScopes ?? [])].sort(), ['webhook', 'write:user'])
      const beta = await store.getApp('beta')
      assert.equal(beta?.requireAnAgreement, false)
      assert.equal(await store.getApp('nope'), null)
      assert.equal(await store.getApp(''), null)
      assert.equal(await store.getApp('__proto__'), null)
    })
  })

  test(`${name}: findUserByCredential matches ids as strings, per app`, { skip }, async () => {
    await withStore(async ({ store }) => {
      assert.equal(String((await store.findUserByCredential('alpha', '9'))?.id), '1')
      assert.equal(String((await store.findUserByCredential('alpha', 'abc'))?.id), '2')
      assert.equal(String((await store.findUserByCredential('beta', '77'))?.id), '2')
      assert.equal(await store.findUserByCredential('beta', '9'), null)
      assert.equal(await store.findUserByCredential('alpha', '10'), null)
      assert.equal(await store.findUserByCredential('gamma', '9'), null)
    })
  })

  test(`${name}: getAgreement takes the LOCAL user id, null when there is none`, { skip }, async () => {
    await withStore(async ({ store }) => {
      const agreement = await store.getAgreement('alpha', '1')
      assert.ok(agreement !== null)
      assert.equal(agreement.app, 'alpha')
      assert.equal(String(agreement.userId), '1')
      assert.deepEqual(agreement.optionalScopes, ['write:user'])
      assert.equal(agreement.agreementVersion ?? 1, 2)
      assert.equal(await store.getAgreement('alpha', '2'), null)
      assert.equal(await store.getAgreement('alpha', '9'), null, 'the external id is not a local id')
      assert.equal(await store.getAgreement('beta', '1'), null)
    })
  })

  test(`${name}: returned records are copies or frozen (mutating them changes nothing)`, { skip }, async () => {
    await withStore(async ({ store }) => {
      const first = await store.getApp('alpha')
      assert.ok(first !== null)
      // A frozen record refuses the change (TypeError); a copy takes it: either way the store keeps its own.
      const attempt = (change: () => void): void => {
        try { change() } catch (error) { assert.ok(error instanceof TypeError && Object.isFrozen(first)) }
      }
      attempt(() => first.requiredScopes?.push('admin'))
      attempt(() => { first.privateKey = 'changed' })
      const second = await store.getApp('alpha')
      assert.deepEqual(second?.requiredScopes, ['read:user'])
      assert.notEqual(second?.privateKey, 'changed')
    })
  })

  test(`${name}: linkRemoteUser creates a user once and links it`, { skip }, async () => {
    await withStore(async ({ store }) => {
      if (typeof store.linkRemoteUser !== 'function') return
      const profile = { id: 501, username: 'remote', email: 'remote@example.com', first_name: 'Re', last_name: 'Mote' }
      const user = await store.linkRemoteUser('alpha', profile)
      assert.equal(user.username, 'remote')
      assert.equal(String((await store.findUserByCredential('alpha', '501'))?.id), String(user.id))
      const again = await store.linkRemoteUser('beta', { ...profile, id: 'b-501' })
      assert.equal(String(again.id), String(user.id), 'same username and email: the same local user')
      assert.equal(String((await store.findUserByCredential('beta', 'b-501'))?.id), String(user.id))
    })
  })

  test(`${name}: setAgreement records, replaces and announces an agreement (what the consent page writes)`, { skip }, async () => {
    await withStore(async ({ store }) => {
      if (typeof store.setAgreement !== 'function') return
      const changes: StoreChange[] = []
      const unsubscribe = typeof store.subscribe === 'function' ? await store.subscribe((change) => changes.push(change)) : () => {}
      try {
        await store.setAgreement({ app: 'alpha', userId: 2, optionalScopes: ['webhook', 'write:user'], agreementVersion: 2 })
        const created = await store.getAgreement('alpha', '2')
        assert.deepEqual(created?.optionalScopes.slice().sort(), ['webhook', 'write:user'])
        assert.equal(created?.agreementVersion, 2)
        assert.equal(String(created?.userId), '2')
        // Replacing: the new scope set wins (not merged), the version is the new one.
        await store.setAgreement({ app: 'alpha', userId: 1, optionalScopes: [], agreementVersion: 3 })
        const replaced = await store.getAgreement('alpha', '1')
        assert.deepEqual(replaced?.optionalScopes, [])
        assert.equal(replaced?.agreementVersion, 3)
        // The same write twice leaves the same record.
        await store.setAgreement({ app: 'alpha', userId: 1, optionalScopes: [], agreementVersion: 3 })
        assert.deepEqual(await store.getAgreement('alpha', '1'), replaced)
        if (typeof store.subscribe === 'function') {
          const deadline = Date.now() + 2000
          while (!changes.some((change) => change.type === 'agreement') && Date.now() < deadline) {
            await new Promise((resolve) => setTimeout(resolve, 10))
          }
          assert.ok(changes.some((change) => change.type === 'agreement' && change.app === 'alpha'), 'agreement change announced')
        }
      } finally {
        await unsubscribe()
      }
    })
  })

  test(`${name}: a change of an app's key is announced to subscribers`, { skip }, async () => {
    await withStore(async ({ store, updateAppKey }) => {
      if (typeof store.subscribe !== 'function' || updateAppKey === undefined) return
      const changes: StoreChange[] = []
      const unsubscribe = await store.subscribe((change) => changes.push(change))
      try {
        const key = hmacKeyHex(64)
        await updateAppKey('alpha', key)
        const deadline = Date.now() + 2000
        while (!changes.some((change) => change.app === 'alpha') && Date.now() < deadline) {
          await new Promise((resolve) => setTimeout(resolve, 10))
        }
        assert.ok(changes.some((change) => change.type === 'app' && change.app === 'alpha'), 'change announced')
        assert.equal((await store.getApp('alpha'))?.privateKey, key)
      } finally {
        unsubscribe()
      }
    })
  })
}
