'use strict'
/**
 * The process that bench/instructions.ts runs under valgrind's callgrind: plain CommonJS on the
 * BUILT package (no TypeScript loader under valgrind), V8 on one thread (--single-threaded), so
 * that the instruction count of a call is the same from run to run.
 *
 * Protocol (lines): it prints `ready <path>` once a path is warmed up, waits for `go`, makes
 * `count` calls of the scope hook, prints `done <path>` and waits for `again` (another window of
 * the same path) or `next`. The parent zeroes callgrind's counters before `go` and dumps them
 * after `done`: each dump holds the instructions of `count` calls, and nothing else but the line
 * exchange itself.
 * argv: <count> <warm-up> <json of requests by path>, where each path is a list of header sets;
 * a path with `instance` (its own apps and plugin options) gets a plugin instance of its own, a
 * path with `peer` is counted on that peer's preHandler instead of the scope hook.
 */
const { createInterface } = require('node:readline')
const { readFileSync } = require('node:fs')
const { join } = require('node:path')
const Fastify = require('fastify')

const root = join(__dirname, '..')
const linkedServices = require(join(root, 'dist', 'plugin', 'cjs.js'))
const [count, warmup, requestsFile] = [Number(process.argv[2]), Number(process.argv[3]), process.argv[4]]
const { apps, appName, scope, signature, fastifyJwt, paths } = JSON.parse(readFileSync(requestsFile, 'utf8'))

const reply = { header () { return this } }
const log = { error () {}, warn () {}, info () {} }
/** Header strings as Node's HTTP parser gives them: flat, not concatenated. */
const flat = (text) => Buffer.from(text, 'latin1').toString('latin1')
function fakeRequest (given) {
  const rawHeaders = Object.entries(given).flat().map(flat)
  const headers = Object.fromEntries(Object.entries(given).map(([name, value]) => [flat(name.toLowerCase()), flat(value)]))
  return { headers, raw: { url: '/', method: 'GET', rawHeaders }, method: 'GET', url: '/', protocol: 'http', log, server: { log }, routeOptions: { url: '/' }, app: null, token: null }
}

/** A Fastify instance with the plugin and the scope hook of one route. */
async function instance (appList, options) {
  const app = Fastify()
  await app.register(linkedServices, { appName, store: new linkedServices.MemoryStore({ apps: appList }), signature, ...options })
  const hook = app.scope([scope])
  await app.ready()
  return { app, hook }
}

/**
 * How a path is called: `prepare` turns each header set into what `call` takes (made before
 * the warm-up, so that no window counts it), `call` makes one call and says whether it
 * authenticated. For the plugin's paths, the scope hook on a fake request; for the peer path
 * `fastify-jwt-new`, @fastify/jwt's `request.jwtVerify()` as the fastify-jwt scenario calls it,
 * on a real request object of a real route, taken once and given each call's headers
 * (jwtVerify reads them through `request.headers`, which Fastify takes from the raw request).
 */
async function fastifyJwtCaller () {
  const app = Fastify()
  await app.register(require('@fastify/jwt'), { secret: Buffer.from(fastifyJwt.secretHex, 'hex'), verify: fastifyJwt.verify })
  let captured = null
  app.get('/', { preHandler: async (request) => { captured = request } }, async () => ({}))
  await app.ready()
  await app.inject({ url: '/' })
  const call = async (headers) => {
    captured.raw.headers = headers
    captured.user = undefined
    await captured.jwtVerify()
    return captured.user !== undefined
  }
  return { prepare: (headers) => headers, call }
}

async function hookCaller (shared, own) {
  const { app, hook } = own === undefined ? shared : await instance(own.apps, own.options)
  const call = async (request) => {
    request.app = null
    await hook.call(app, request, reply)
    return request.app !== null
  }
  return { prepare: fakeRequest, call }
}

async function main () {
  const shared = await instance(apps, {})
  const lines = createInterface({ input: process.stdin })[Symbol.asyncIterator]()
  for (const { name, requests, instance: own, peer } of paths) {
    const { prepare, call: callOnce } = peer === 'fastify-jwt' ? await fastifyJwtCaller() : await hookCaller(shared, own)
    const built = requests.map(prepare)
    // `-observed`: the same path with a subscriber on the scope channel (from here on).
    if (name.endsWith('-observed')) {
      const noop = () => {}
      require('node:diagnostics_channel').tracingChannel(linkedServices.SCOPE_CHANNEL)
        .subscribe({ start: noop, end: noop, asyncStart: noop, asyncEnd: noop, error: noop })
    }
    const call = async (i) => {
      if (!(await callOnce(built[i % built.length]))) throw new Error(`${name}: call ${i} was not authenticated`)
    }
    for (let i = 0; i < warmup; i++) await call(i)
    // Windows of `count` calls until the parent has seen the count settle (it answers `again`
    // while the JIT is still at work, `next` once two windows agree).
    let next = warmup
    for (;;) {
      process.stdout.write(`ready ${name}\n`)
      await lines.next()
      for (const end = next + count; next < end; next++) await call(next)
      process.stdout.write(`done ${name}\n`)
      const { value } = await lines.next()
      if (value !== 'again') break
    }
  }
  await shared.app.close()
  process.exit(0)
}

main().catch((error) => {
  process.stderr.write(String(error && error.stack) + '\n')
  process.exit(1)
})
