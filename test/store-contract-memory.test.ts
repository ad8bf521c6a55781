import { MemoryStore } from '../plugin/index.js'
import { runStoreContract } from './helpers/store-contract.js'

runStoreContract('MemoryStore', async (data) => {
  const store = new MemoryStore(data)
  return { store, admin: store.admin, updateAppKey: (slug, privateKey) => { store.updateApp(slug, { privateKey }) } }
})
