/**
 * The benchmark's open-loop generator (bench/open-loop.ts): it sends exactly rate × seconds
 * requests, each fresh header set once and in order, frames the answers and counts the refused.
 */
import { strict as assert } from 'node:assert'
import { createServer, type Server } from 'node:http'
import type { AddressInfo } from 'node:net'
import { test } from 'node:test'
import { openLoopClient, runOpenLoop } from '../bench/open-loop.js'

async function listen (handler: Parameters<typeof createServer>[1]): Promise<{ server: Server, port: number }> {
  const server = createServer(handler)
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
  return { server, port: (server.address() as AddressInfo).port }
}

test('every fresh header set is sent once, in order, and every request is answered', async (t) => {
  const seen: string[] = []
  const { server, port } = await listen((request, response) => {
    seen.push(String(request.headers['x-n']))
    response.setHeader('content-type', 'application/json')
    response.end('{"hello":"world"}')
  })
  t.after(() => { server.close() })
  const entries = Array.from({ length: 150 }, (_, i) => ({ 'x-n': String(i) }))
  const result = await runOpenLoop({ port, pool: { entries, fresh: true }, rate: 200, seconds: 0.5, connections: 8 })
  assert.equal(result.requests, 100)
  assert.equal(result.ok, 100)
  assert.equal(result.non2xx, 0)
  assert.equal(result.errors, 0)
  assert.equal(result.signedDuringRun, 0)
  assert.deepEqual(seen.map(Number).sort((a, b) => a - b), Array.from({ length: 100 }, (_, i) => i))
})

test('refusals are counted apart, and a repeated pool is taken in turn', async (t) => {
  let calls = 0
  const { server, port } = await listen((request, response) => {
    calls++
    response.statusCode = request.headers.authorization === 'good' ? 200 : 401
    response.end('no')
  })
  t.after(() => { server.close() })
  const result = await runOpenLoop({ port, pool: { entries: [{ authorization: 'good' }, { authorization: 'bad' }], fresh: false }, rate: 100, seconds: 0.4, connections: 4 })
  assert.equal(calls, 40)
  assert.equal(result.ok, 20)
  assert.equal(result.non2xx, 20)
})

test('one client serves two routes in turn: each run sends every request to the path it was given', async (t) => {
  const paths: string[] = []
  const { server, port } = await listen((request, response) => {
    paths.push(String(request.url))
    response.end('{}')
  })
  t.after(() => { server.close() })
  const client = await openLoopClient(port, 4)
  t.after(() => { client.close() })
  const pool = { entries: [{}], fresh: false }
  await client.run({ pool, rate: 100, seconds: 0.2 })
  await client.run({ pool, rate: 100, seconds: 0.2, path: '/bare' })
  assert.deepEqual(paths, [...Array(20).fill('/'), ...Array(20).fill('/bare')])
})
