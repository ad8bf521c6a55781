/**
 * The store contract, as a reusable suite: any LinkedServicesStore implementation runs it with a
 * factory that makes an empty store and a seeding function that puts records in it.
 *
 *   runStoreContract('MemoryStore', async (data) => ({ store: new MemoryStore(data) }))
 */
import { test } from 'node:test'
import assert from 'node:assert/strict'
import type { AgreementRecord, AppRecord, LinkedServicesAdmin, LinkedServicesStore, StoreChange, UserRecord } from '../../types/index.js'
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
  /** The store's admin interface (`store.admin`), when it has one. */
  admin?: LinkedServicesAdmin
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

  runAdminContract(name, withStore, skip)
}

const code = (slug: string) => ({ code: `FST_LINKED_SERVICES_${slug}` })

function runAdminContract (name: string, withStore: (fn: (store: ContractStore, data: SeedData) => Promise<void>) => Promise<void>, skip: string | false): void {
  test(`${name} admin: apps are created, read, listed, updated and removed; reads hold no key material`, { skip }, async () => {
    await withStore(async ({ store, admin }, data) => {
      assert.ok(admin !== undefined)
      const secret = hmacKeyHex(64)
      const created = await admin.createApp({ slug: 'gamma', algorithm: 'HMAC_SHA512', privateKey: secret, kid: 'k1', optionalScopes: ['read:user'] })
      assert.deepEqual(created.keys, [{ kid: 'k1', algorithm: 'HMAC_SHA512', expiresAt: null }])
      assert.deepEqual(created.optionalScopes, ['read:user'])
      const everything = JSON.stringify([created, await admin.getApp('gamma'), await admin.listApps(), await (store as { listApps?: () => Promise<unknown> }).listApps?.()])
      for (const key of [secret, data.apps[0].privateKey, data.apps[1].privateKey]) assert.ok(!everything.includes(String(key)), 'no key in admin reads')
      assert.doesNotMatch(everything, /privateKey|publicKey/)
      assert.equal((await admin.getApp('gamma', { withSecrets: true })).privateKey, secret, 'asked for explicitly')
      assert.deepEqual((await admin.listApps()).map((app) => app.slug), ['alpha', 'beta', 'gamma'])
      assert.equal((await admin.updateApp('gamma', { name: 'Gamma', requireAnAgreement: false })).name, 'Gamma')
      assert.equal((await store.getApp('gamma'))?.requireAnAgreement, false)

      await assert.rejects(admin.createApp({ slug: 'gamma', algorithm: 'HMAC_SHA256', privateKey: hmacKeyHex(32) }), code('RECORD_EXISTS'))
      await assert.rejects(admin.createApp({ slug: 'bad slug', algorithm: 'HMAC_SHA256', privateKey: hmacKeyHex(32) }), code('INVALID_RECORD'))
      await assert.rejects(admin.createApp({ slug: 'weak', algorithm: 'HMAC_SHA256', privateKey: 'abcd' }), code('INVALID_RECORD'))
      await assert.rejects(admin.getApp('ghost'), code('RECORD_NOT_FOUND'))
      await assert.rejects(admin.getApp('../x'), code('INVALID_RECORD'))
      await assert.rejects(admin.updateApp('ghost', { name: 'x' }), code('RECORD_NOT_FOUND'))
      await assert.rejects(admin.updateApp('gamma', { slug: 'x' } as never), code('INVALID_ARGUMENT'))

      await admin.removeApp('alpha')
      assert.equal(await store.getApp('alpha'), null)
      assert.equal(await store.getAgreement('alpha', '1'), null, 'its agreements go with it')
      await assert.rejects(admin.removeApp('alpha'), code('RECORD_NOT_FOUND'))
      assert.ok(await admin.createApp({ slug: 'alpha', algorithm: 'HMAC_SHA256', privateKey: hmacKeyHex(32) }), 'the slug can be taken again')
    })
  })

  test(`${name} admin: rotateKey keeps the old key for the grace period; gracePeriod 0 and revokePreviousKeys end it now`, { skip }, async () => {
    await withStore(async ({ store, admin }, data) => {
      assert.ok(admin !== undefined)
      const oldKey = String(data.apps[0].privateKey)
      const next = hmacKeyHex(64)
      const before = Date.now()
      const rotated = await admin.rotateKey('alpha', { privateKey: next, kid: 'k2' }, { gracePeriod: 60_000 })
      assert.equal(rotated.keys.length, 2)
      assert.equal(rotated.keys[0].kid, 'k2')
      const expiresAt = rotated.keys[1].expiresAt?.getTime() ?? 0
      assert.ok(expiresAt >= before + 60_000 && expiresAt <= Date.now() + 60_000, 'expires a grace period from now')
      const app = await store.getApp('alpha')
      assert.equal(app?.privateKey, next)
      assert.deepEqual(app?.previousKeys?.map((key) => key.privateKey), [oldKey], 'the old key still verifies')

      const third = hmacKeyHex(64)
      await admin.rotateKey('alpha', { privateKey: third }, { gracePeriod: 0 })
      const verifying = async () => ((await store.getApp('alpha'))?.previousKeys ?? [])
        .filter((key) => new Date(key.expiresAt).getTime() > Date.now()).map((key) => key.privateKey)
      assert.deepEqual(await verifying(), [oldKey], 'no grace: the replaced key stops verifying at once')
      const revoked = await admin.revokePreviousKeys('alpha')
      assert.equal(revoked.keys.length, 1)
      assert.deepEqual(await verifying(), [])
      await assert.rejects(admin.rotateKey('ghost', { privateKey: next }), code('RECORD_NOT_FOUND'))
      await assert.rejects(admin.rotateKey('alpha', { privateKey: 'abcd' }), code('INVALID_RECORD'))
      await assert.rejects(admin.rotateKey('alpha', { privateKey: next }, { gracePeriod: -1 }), code('INVALID_ARGUMENT'))
      assert.equal((await store.getApp('alpha'))?.privateKey, third, 'a refused rotation changes nothing')
    })
  })

  test(`${name} admin: scopes are catalogued, attached as required or optional, detached, and removed only when unused`, { skip }, async () => {
    await withStore(async ({ store, admin }) => {
      assert.ok(admin !== undefined)
      assert.deepEqual(await admin.createScope({ slug: 'read:billing', name: 'Billing', description: 'Read invoices' }),
        { slug: 'read:billing', name: 'Billing', description: 'Read invoices' })
      await assert.rejects(admin.createScope({ slug: 'read:billing' }), code('RECORD_EXISTS'))
      await assert.rejects(admin.createScope({ slug: 'has space' }), code('INVALID_RECORD'))
      const slugs = (await admin.listScopes()).map((scope) => scope.slug)
      for (const slug of ['read:billing', 'read:user', 'webhook', 'write:user']) assert.ok(slugs.includes(slug), slug)

      assert.deepEqual((await admin.attachScope('beta', 'read:billing', 'required')).requiredScopes, ['read:billing'])
      assert.deepEqual((await store.getApp('beta'))?.requiredScopes, ['read:billing'])
      const moved = await admin.attachScope('beta', 'read:billing', 'optional')
      assert.deepEqual([moved.requiredScopes, moved.optionalScopes], [[], ['read:billing']])
      await assert.rejects(admin.attachScope('beta', 'nope', 'required'), code('RECORD_NOT_FOUND'))
      await assert.rejects(admin.attachScope('ghost', 'read:billing', 'required'), code('RECORD_NOT_FOUND'))
      await assert.rejects(admin.attachScope('beta', 'read:billing', 'maybe' as never), code('INVALID_ARGUMENT'))

      await assert.rejects(admin.removeScope('read:billing'), code('SCOPE_IN_USE'))
      assert.deepEqual((await admin.detachScope('beta', 'read:billing')).optionalScopes, [])
      await assert.rejects(admin.detachScope('beta', 'read:billing'), code('SCOPE_NOT_OFFERED'))
      await admin.removeScope('read:billing')
      await assert.rejects(admin.removeScope('read:billing'), code('RECORD_NOT_FOUND'))
      assert.ok(!(await admin.listScopes()).some((scope) => scope.slug === 'read:billing'))
    })
  })

  test(`${name} admin: agreements are granted with offered optional scopes only, listed and revoked`, { skip }, async () => {
    await withStore(async ({ store, admin }) => {
      assert.ok(admin !== undefined)
      const granted = await admin.grantAgreement('alpha', 2, ['webhook'])
      assert.deepEqual(granted, { app: 'alpha', userId: 2, optionalScopes: ['webhook'], agreementVersion: 2 })
      assert.deepEqual((await store.getAgreement('alpha', '2'))?.optionalScopes, ['webhook'])
      await assert.rejects(admin.grantAgreement('alpha', 2, ['read:user']), code('SCOPE_NOT_OFFERED'), 'a required scope is not an optional one')
      await assert.rejects(admin.grantAgreement('alpha', 2, ['admin']), code('SCOPE_NOT_OFFERED'))
      await assert.rejects(admin.grantAgreement('alpha', 404, []), code('RECORD_NOT_FOUND'))
      await assert.rejects(admin.grantAgreement('ghost', 2, []), code('RECORD_NOT_FOUND'))
      assert.deepEqual((await admin.listAgreements('alpha')).map((agreement) => String(agreement.userId)).sort(), ['1', '2'])
      assert.deepEqual(await admin.listAgreements('beta'), [])
      assert.equal((await admin.listAgreements()).length, 2)
      await admin.revokeAgreement('alpha', 2)
      assert.equal(await store.getAgreement('alpha', '2'), null)
      await assert.rejects(admin.revokeAgreement('alpha', 2), code('RECORD_NOT_FOUND'))
    })
  })

  test(`${name} admin: users are added, linked to an app, listed per app and unlinked`, { skip }, async () => {
    await withStore(async ({ store, admin }) => {
      assert.ok(admin !== undefined)
      const added = await admin.addUser({ id: 3, username: 'ann', email: 'ann@example.com' })
      assert.equal(String(added.id), '3')
      const linked = await admin.linkUser(3, 'beta', 'b-3')
      assert.equal(String(linked.credentials?.beta), 'b-3')
      assert.equal(String((await store.findUserByCredential('beta', 'b-3'))?.id), '3')
      await assert.rejects(admin.linkUser(3, 'ghost', 'x'), code('RECORD_NOT_FOUND'))
      await assert.rejects(admin.linkUser(404, 'beta', 'x'), code('RECORD_NOT_FOUND'))
      await assert.rejects(admin.linkUser(3, 'beta', '77'), code('RECORD_EXISTS'), '77 is john\'s id in beta')
      assert.deepEqual((await admin.listUsers('beta')).map((user) => String(user.id)).sort(), ['2', '3'])
      assert.equal((await admin.listUsers()).length, 3)
      const unlinked = await admin.unlinkUser(3, 'beta')
      assert.equal(unlinked.credentials?.beta, undefined)
      assert.equal(await store.findUserByCredential('beta', 'b-3'), null)
      await assert.rejects(admin.unlinkUser(3, 'beta'), code('RECORD_NOT_FOUND'))
      await assert.rejects(admin.unlinkUser(404, 'beta'), code('RECORD_NOT_FOUND'))
    })
  })
}
