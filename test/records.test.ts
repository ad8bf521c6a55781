/** MemoryStore checks its records when it is built and when they change: a coded error naming the record and the field. */
import { test } from 'node:test'
import assert from 'node:assert/strict'
import { MemoryStore } from '../plugin/index.js'
import type { AppRecord } from '../plugin/index.js'
import { ed25519Keys, hmacKeyHex } from './helpers/keys.js'

const good: AppRecord = { slug: 'good', algorithm: 'HMAC_SHA256', privateKey: hmacKeyHex(32) }

function refused (make: () => unknown, message: RegExp, field?: string): void {
  assert.throws(make, (error: { code?: string, message: string, field?: string }) => {
    assert.equal(error.code, 'FST_LINKED_SERVICES_INVALID_RECORD', error.message)
    assert.match(error.message, message)
    if (field !== undefined) assert.equal(error.field, field)
    return true
  })
}

test('new MemoryStore({ apps }) refuses an app with no key, a short HMAC key or a bad slug, naming the app and the field', () => {
  refused(() => new MemoryStore({ apps: [good, { slug: 'nokey', algorithm: 'HMAC_SHA256' }] }), /MemoryStore: app "nokey": privateKey: the HMAC secret is empty/, 'privateKey')
  refused(() => new MemoryStore({ apps: [{ slug: 'short', algorithm: 'HMAC_SHA256', privateKey: 'abcd' }] }), /app "short": privateKey: the HMAC secret is shorter than 32 bytes/, 'privateKey')
  refused(() => new MemoryStore({ apps: [{ ...good, slug: 'Bad Slug' }] }), /app "Bad Slug": slug must be a slug/, 'slug')
  refused(() => new MemoryStore({ apps: [{ slug: 'ed', algorithm: 'ED25519' }] }), /app "ed": publicKey: an Ed25519 app needs a publicKey/, 'publicKey')
  refused(() => new MemoryStore({ apps: [{ slug: 'ed', algorithm: 'ED25519', publicKey: 'zz' }] }), /app "ed": publicKey: the Ed25519 public key/, 'publicKey')
  refused(() => new MemoryStore({ apps: [{ ...good, algorithm: 'RS256' as 'ED25519' }] }), /app "good": algorithm must be one of "HMAC_SHA256", "HMAC_SHA512", "ED25519"/)
  refused(() => new MemoryStore({ apps: [{ ...good, private_key: 'x' } as never] }), /unknown field private_key \(did you mean privateKey\?\)/)
  refused(() => new MemoryStore({ apps: [{ ...good, previousKeys: [{ privateKey: 'abcd', expiresAt: Date.now() }] }] }), /previousKeys\[0\]\.privateKey: the HMAC secret is shorter/, 'previousKeys[0].privateKey')
  refused(() => new MemoryStore({ apps: [{ ...good, requiredScopes: [1 as never] }] }), /requiredScopes\.0 must be a string/)
  refused(() => new MemoryStore({ agreements: [{ app: 'good', userId: '', optionalScopes: [] }] }), /userId must be a non-empty string or an integer/)
  refused(() => new MemoryStore({ users: [{ credentials: {} } as never] }), /user: id is required/)
  assert.throws(() => new MemoryStore({ apps: [good, good] }), { code: 'FST_LINKED_SERVICES_RECORD_EXISTS' })
  assert.throws(() => new MemoryStore({ app: [good] } as never), { code: 'FST_LINKED_SERVICES_INVALID_OPTION', message: /unknown option app \(did you mean apps\?\)/ })
})

test('no key material in the error of a refused record', () => {
  const secret = 'ab'.repeat(8)
  assert.throws(() => new MemoryStore({ apps: [{ slug: 's', algorithm: 'HMAC_SHA256', privateKey: secret }] }), (error: Error) => !error.message.includes(secret))
})

test('addApp, updateApp and rotateKey check the record too; unknown records are coded errors', () => {
  const store = new MemoryStore({ apps: [good] })
  refused(() => store.addApp({ slug: 'x', algorithm: 'HMAC_SHA512', privateKey: hmacKeyHex(32) }), /app "x": privateKey: the HMAC secret is shorter than 64 bytes/)
  refused(() => store.updateApp('good', { privateKey: 'zz' }), /app "good": privateKey/)
  assert.equal(store.updateApp('good', { name: 'Good' }).name, 'Good')
  assert.throws(() => store.addApp(good), { code: 'FST_LINKED_SERVICES_RECORD_EXISTS' })
  assert.throws(() => store.updateApp('nope', {}), { code: 'FST_LINKED_SERVICES_RECORD_NOT_FOUND', message: /app nope/ })
  assert.throws(() => store.rotateKey('nope', { privateKey: hmacKeyHex(32) }), { code: 'FST_LINKED_SERVICES_RECORD_NOT_FOUND' })
  assert.throws(() => store.linkUser(9, 'good', 1), { code: 'FST_LINKED_SERVICES_RECORD_NOT_FOUND', message: /user 9/ })
  const ed = ed25519Keys()
  store.addApp({ slug: 'ed', algorithm: 'ED25519', publicKey: ed.publicPemHex })
})
