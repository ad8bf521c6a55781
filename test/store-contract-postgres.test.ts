/**
 * PostgresStore passes the store contract suite, against a real PostgreSQL (a fresh schema per
 * store, dropped after). Skipped with a message when PostgreSQL does not answer; fails under CI.
 */
import { PostgresStore } from '../plugin/stores/postgres-store.js'
import { runStoreContract } from './helpers/store-contract.js'
import { DATABASE_URL, dropSchema, servicesSkipSync, uniqueSchema } from './helpers/services.js'

const skip = servicesSkipSync({ postgres: true })

runStoreContract('PostgresStore', async (data) => {
  const schema = uniqueSchema('contract')
  const store = new PostgresStore({ connectionString: DATABASE_URL, schema })
  await store.migrate()
  for (const app of data.apps) await store.createApp(app)
  for (const user of data.users) await store.addUser(user)
  for (const agreement of data.agreements) await store.setAgreement(agreement)
  return {
    store,
    admin: store.admin,
    updateAppKey: async (slug, privateKey) => { await store.updateApp(slug, { privateKey }) },
    cleanup: async () => {
      await store.close()
      await dropSchema(schema)
    }
  }
}, { skip })
