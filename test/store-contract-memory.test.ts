import { MemoryStore } from '../plugin/index.js'
import { test } from 'node:test'
import assert from 'node:assert/strict'
import { contractData, runStoreContract } from './helpers/store-contract.js'

runStoreContract('MemoryStore', async (data) => {
  const store = new MemoryStore(data)
  return { store, admin: store.admin, updateAppKey: (slug, privateKey) => { store.updateApp(slug, { privateKey }) } }
})

test('MemoryStore: exportData() round-trips through the constructor; JSON.stringify(store) shows no key', async () => {
  const data = contractData()
  const store = new MemoryStore(data)
  assert.equal(JSON.stringify(store).includes(String(data.apps[0].privateKey)), false, 'a logged store prints no key')
  const copy = new MemoryStore(store.exportData())
  assert.equal((await copy.getApp('alpha'))?.privateKey, data.apps[0].privateKey)
  assert.deepEqual((await copy.admin.listScopes()).map((scope) => scope.slug), ['read:user', 'webhook', 'write:user'])
})
