/**
 * The consent page over PostgresStore: Accept writes the agreement in PostgreSQL, and a JWT call
 * on the user's behalf is granted exactly the chosen scopes right after (no wait for NOTIFY).
 */
import { after, describe, test } from 'node:test'
import assert from 'node:assert/strict'
import { PostgresStore } from '../plugin/postgres.js'
import { buildConsentServer, consentData, formToken } from './helpers/consent.js'
import { DATABASE_URL, dropSchema, servicesSkipSync, uniqueSchema } from './helpers/services.js'

const skip = servicesSkipSync({ postgres: true })
const schema = uniqueSchema('consent')

describe('the consent page over PostgresStore', { skip }, () => {
  const store = new PostgresStore({ connectionString: DATABASE_URL, schema })

  after(async () => {
    await store.close()
    await dropSchema(schema)
  })

  test('Accept stores the chosen scopes at the current version; a JWT call on the user\'s behalf gets exactly those, at once', async (t) => {
    await store.migrate()
    const data = consentData('http://127.0.0.1:9/back')
    for (const app of data.apps ?? []) await store.createApp(app)
    for (const user of data.users ?? []) await store.addUser(user)
    await store.setAgreement({ app: 'classroom', userId: 1, optionalScopes: ['webhook', 'write:user'], agreementVersion: 1 })
    const server = await buildConsentServer({ store })
    t.after(async () => await server.app.close())
    assert.equal(await server.callAs('c-5', 'webhook'), 200, 'granted, and now cached')

    const html = (await server.app.inject({ url: '/account/authorize/classroom', headers: { cookie: 'user=1' } })).body
    assert.match(html, /value="webhook" checked/)
    const accepted = await server.app.inject({
      method: 'POST',
      url: '/account/authorize/classroom',
      headers: { cookie: 'user=1', 'content-type': 'application/x-www-form-urlencoded' },
      payload: `token=${formToken(html)}&scope=write:user`
    })
    assert.equal(accepted.statusCode, 303)
    assert.equal(accepted.headers.location, 'http://127.0.0.1:9/back?app=nodeservice&status=authorized')
    // PostgresStore hands back a numeric-looking id as a number.
    assert.deepEqual(await store.getAgreement('classroom', '1'), { app: 'classroom', userId: 1, optionalScopes: ['write:user'], agreementVersion: 1 })
    assert.equal(await server.callAs('c-5', 'webhook'), 403, 'switched off: refused on the very next call')
    assert.equal(await server.callAs('c-5', 'write:user'), 200)
    assert.equal(await server.callAs('c-5', 'read:user'), 200)
  })
})
