/**
 * The authority signRequest signs is the Host the request carries: signRequest returns it among
 * the headers to send, so clients that spell the Host of a URL differently (with or without its
 * default port) still send what was signed.
 */
import { test } from 'node:test'
import assert from 'node:assert/strict'
import { request } from 'undici'
import { signRequest } from '../plugin/index.js'
import { hmacCaller, signatureServer } from './helpers/signature.js'

const caller = hmacCaller('caller')

test('signRequest for http://localhost:80/s: the returned headers carry the signed Host, and inject accepts it', async (t) => {
  const server = await signatureServer([caller.record])
  t.after(async () => await server.app.close())
  const signed = signRequest({ appName: 'caller', app: caller.own, method: 'GET', url: 'http://localhost:80/sig' })
  assert.equal(signed.headers.Host, 'localhost')
  assert.match(signed.headers['Signature-Input'], /"@authority"/)
  // inject, left to itself, would send `Host: localhost:80` for this URL.
  const response = await server.app.inject({ method: 'GET', url: signed.url, headers: signed.headers })
  assert.equal(response.statusCode, 200, response.body)
})

test('undici sends the returned Host, whatever address it connects to', async (t) => {
  const server = await signatureServer([caller.record])
  t.after(async () => await server.app.close())
  const address = await server.app.listen({ host: '127.0.0.1', port: 0 })
  const signed = signRequest({ appName: 'caller', app: caller.own, method: 'POST', url: 'http://localhost:80/sig', body: { a: 1 } })
  const response = await request(`${address}/sig`, { method: 'POST', headers: signed.headers, body: signed.body })
  assert.equal(response.statusCode, 200, await response.body.text())
})

test('a Host given by the caller is kept and signed', () => {
  const signed = signRequest({ appName: 'caller', app: caller.own, method: 'GET', url: '/sig', headers: { host: 'API.example.test:8443' } })
  assert.equal(signed.headers.host, 'API.example.test:8443')
  assert.equal(signed.headers.Host, undefined)
})
