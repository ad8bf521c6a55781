/**
 * Two server processes (test/fixtures/scale-out-server.ts) sharing one PostgreSQL schema and one
 * Redis prefix: a signed request accepted by one is a replay for the other; a key rotated through
 * one is honoured by both; an old key revoked, or an app revoked, through one is refused by both
 * within the stated bound (1 s; measured: a few ms). Their cache TTL is 60 s, so what is measured
 * is LISTEN/NOTIFY, not the TTL. Skipped with a message without the services; fails under CI.
 */
import { after, before, describe, test } from 'node:test'
import assert from 'node:assert/strict'
import { spawn, type ChildProcess } from 'node:child_process'
import http from 'node:http'
import { join } from 'node:path'
import { createInterface } from 'node:readline'
import { linkAuthorizationHeader, signJwt } from '../plugin/client/sign-jwt.js'
import { signRequest } from '../plugin/signature/sign.js'
import { PostgresStore } from '../plugin/stores/postgres-store.js'
import { hmacKeyHex } from './helpers/keys.js'
import {
  DATABASE_URL, deleteRedisPrefix, dropSchema, REDIS_URL, servicesSkipSync, uniquePrefix, uniqueSchema, waitFor
} from './helpers/services.js'

const skip = servicesSkipSync({ postgres: true, redis: true })
/** The bound this file holds the instances to: a change made through one is seen by all within it. */
const BOUND_MS = 1000
const APP_NAME = 'nodeservice'
const HOST = 'service.test'

interface Instance {
  child: ChildProcess
  port: number
}

async function spawnInstance (env: Record<string, string>): Promise<Instance> {
  const child = spawn(process.execPath, ['--import', 'tsx', join(__dirname, 'fixtures/scale-out-server.ts')], {
    env: { ...process.env, ...env },
    stdio: ['ignore', 'pipe', 'pipe']
  })
  let stderr = ''
  child.stderr?.on('data', (chunk: Buffer) => { stderr += chunk.toString() })
  const port = await new Promise<number>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`instance did not start: ${stderr}`)), 30_000)
    child.once('exit', (code) => { clearTimeout(timer); reject(new Error(`instance exited (${code}): ${stderr}`)) })
    createInterface({ input: child.stdout! }).once('line', (line) => {
      clearTimeout(timer)
      resolve((JSON.parse(line) as { port: number }).port)
    })
  })
  return { child, port }
}

async function stopInstance (instance: Instance | undefined): Promise<void> {
  if (instance === undefined || instance.child.exitCode !== null) return
  await new Promise<void>((resolve) => {
    const timer = setTimeout(() => { instance.child.kill('SIGKILL'); resolve() }, 5000)
    instance.child.once('exit', () => { clearTimeout(timer); resolve() })
    instance.child.kill('SIGTERM')
  })
}

interface Reply { status: number, body: Record<string, unknown> }

async function send (port: number, method: string, path: string, headers: Record<string, string> = {}, body?: Buffer | string): Promise<Reply> {
  return await new Promise<Reply>((resolve, reject) => {
    const request = http.request({ host: '127.0.0.1', port, method, path, headers: { host: HOST, ...headers }, agent: false }, (response) => {
      const chunks: Buffer[] = []
      response.on('data', (chunk: Buffer) => chunks.push(chunk))
      response.on('end', () => {
        const text = Buffer.concat(chunks).toString()
        resolve({ status: response.statusCode ?? 0, body: text === '' ? {} : JSON.parse(text) })
      })
    })
    request.on('error', reject)
    request.end(body)
  })
}

/** A `Link` JWT from the caller app, signed with `key`. */
function jwtHeader (key: string): Record<string, string> {
  const token = signJwt({ appName: 'caller', app: { slug: APP_NAME, algorithm: 'HMAC_SHA256', privateKey: key } })
  return { authorization: linkAuthorizationHeader('caller', token) }
}

function signed (key: string, body: unknown): { headers: Record<string, string>, body: Buffer | undefined } {
  const request = signRequest({ appName: 'caller', app: { slug: APP_NAME, algorithm: 'HMAC_SHA256', privateKey: key }, method: 'POST', url: `http://${HOST}/signed`, body })
  return { headers: request.headers, body: request.body }
}

describe('two instances sharing PostgreSQL and Redis', { skip }, () => {
  const schema = uniqueSchema('two')
  const prefix = uniquePrefix('two')
  let admin: PostgresStore
  let a: Instance
  let b: Instance
  let key = hmacKeyHex(32)

  before(async () => {
    admin = new PostgresStore({ connectionString: DATABASE_URL, schema })
    await admin.migrate()
    await admin.createApp({ slug: 'caller', algorithm: 'HMAC_SHA256', privateKey: key, requireAnAgreement: false })
    const env = { DATABASE_URL, REDIS_URL, LS_SCHEMA: schema, LS_PREFIX: prefix, LS_APP_NAME: APP_NAME, LS_CACHE_TTL: '60000' }
    ;[a, b] = await Promise.all([spawnInstance({ ...env, LS_ADMIN: '1' }), spawnInstance(env)])
  })

  after(async () => {
    await Promise.all([stopInstance(a), stopInstance(b)])
    await admin?.close()
    await dropSchema(schema)
    await deleteRedisPrefix(prefix)
  })

  test('both instances serve the app from PostgreSQL', async () => {
    for (const instance of [a, b]) {
      const reply = await send(instance.port, 'GET', '/open', jwtHeader(key))
      assert.equal(reply.status, 200, JSON.stringify(reply.body))
      assert.equal(reply.body.app, 'caller')
    }
    assert.notEqual((await send(a.port, 'GET', '/open', jwtHeader(key))).body.pid, (await send(b.port, 'GET', '/open', jwtHeader(key))).body.pid)
  })

  test('a signed request accepted by one instance is refused as a replay by the other', async () => {
    const request = signed(key, { n: 1 })
    const first = await send(a.port, 'POST', '/signed', request.headers, request.body)
    assert.equal(first.status, 200, JSON.stringify(first.body))
    assert.equal(first.body.mode, 'signature')
    const replay = await send(b.port, 'POST', '/signed', request.headers, request.body)
    assert.equal(replay.status, 401)
    assert.equal(replay.body.code, 'FST_LINKED_SERVICES_REPLAYED_REQUEST')
    assert.equal((await send(a.port, 'POST', '/signed', request.headers, request.body)).status, 401)
    // Copies sent at once to both instances: exactly one passes.
    const race = signed(key, { n: 2 })
    const replies = await Promise.all(Array.from({ length: 10 }, async (_, i) =>
      await send((i % 2 === 0 ? a : b).port, 'POST', '/signed', race.headers, race.body)))
    assert.equal(replies.filter((reply) => reply.status === 200).length, 1)
    assert.equal(replies.filter((reply) => reply.body.code === 'FST_LINKED_SERVICES_REPLAYED_REQUEST').length, 9)
  })

  test(`a key rotated through one instance is honoured by both; the old key, revoked, is refused by both within ${BOUND_MS} ms`, async (t) => {
    const oldKey = key
    // Warm both caches (and their verified-token caches) with the old key.
    const oldToken = jwtHeader(oldKey)
    for (const instance of [a, b]) assert.equal((await send(instance.port, 'GET', '/open', oldToken)).status, 200)
    // Rotate through A; the old key stays a previous key for a minute.
    const newKey = hmacKeyHex(32)
    const rotation = await send(a.port, 'POST', '/admin/rotate/caller', { 'content-type': 'application/json' },
      JSON.stringify({ privateKey: newKey, previousKeyExpiresAt: Date.now() + 60_000 }))
    assert.equal(rotation.status, 200, JSON.stringify(rotation.body))
    const newToken = jwtHeader(newKey)
    const seen = await Promise.all([a, b].map(async (instance) =>
      await waitFor(async () => (await send(instance.port, 'GET', '/open', newToken)).status === 200, BOUND_MS, 2)))
    for (const instance of [a, b]) {
      assert.equal((await send(instance.port, 'GET', '/open', oldToken)).status, 200, 'the previous key still verifies')
      assert.equal((await send(instance.port, 'GET', '/open', jwtHeader(oldKey))).status, 200)
      const request = signed(newKey, { rotated: true })
      assert.equal((await send(instance.port, 'POST', '/signed', request.headers, request.body)).status, 200)
    }
    // Rotate again, trusting the previous key no more (a leaked key): both refuse it at once.
    const newest = hmacKeyHex(32)
    const revoke = await send(a.port, 'POST', '/admin/rotate/caller', { 'content-type': 'application/json' },
      JSON.stringify({ privateKey: newest, previousKeyExpiresAt: Date.now() }))
    assert.equal(revoke.status, 200)
    const refused = await Promise.all([a, b].map(async (instance) =>
      await waitFor(async () => (await send(instance.port, 'GET', '/open', newToken)).status === 401, BOUND_MS, 2)))
    for (const instance of [a, b]) {
      const reply = await send(instance.port, 'GET', '/open', newToken)
      assert.equal(reply.status, 401)
      assert.equal((await send(instance.port, 'GET', '/open', jwtHeader(newest))).status, 200)
      const request = signed(newKey, { revoked: true })
      assert.equal((await send(instance.port, 'POST', '/signed', request.headers, request.body)).status, 401)
    }
    key = newest
    t.diagnostic(`rotation seen by A, B after ${seen.map((ms) => ms.toFixed(1)).join(', ')} ms; revoked key refused by A, B after ${refused.map((ms) => ms.toFixed(1)).join(', ')} ms (bound ${BOUND_MS} ms)`)
  })

  test(`an app revoked through one instance is refused by both within ${BOUND_MS} ms`, async (t) => {
    const token = jwtHeader(key)
    for (const instance of [a, b]) assert.equal((await send(instance.port, 'GET', '/open', token)).status, 200)
    const revoked = await send(a.port, 'DELETE', '/admin/apps/caller')
    assert.deepEqual(revoked.body.removed, true)
    const took = await Promise.all([a, b].map(async (instance) =>
      await waitFor(async () => (await send(instance.port, 'GET', '/open', token)).status === 401, BOUND_MS, 2)))
    for (const instance of [a, b]) {
      const reply = await send(instance.port, 'GET', '/open', token)
      assert.equal(reply.body.code, 'FST_LINKED_SERVICES_APP_NOT_FOUND')
      const request = signed(key, { after: 'revocation' })
      assert.equal((await send(instance.port, 'POST', '/signed', request.headers, request.body)).status, 401)
    }
    t.diagnostic(`revoked app refused by A, B after ${took.map((ms) => ms.toFixed(1)).join(', ')} ms (bound ${BOUND_MS} ms)`)
  })
})
