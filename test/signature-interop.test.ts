import assert from 'node:assert/strict'
import { createHash, createPrivateKey, createPublicKey, createSecretKey } from 'node:crypto'
import { after, before, describe, test } from 'node:test'
import { httpbis, createSigner, createVerifier } from 'http-message-signatures'
import nacl from 'tweetnacl'
import { signRequest } from '../plugin/signature/sign.js'
import { edCaller, HOST, hmacCaller, signatureServer, type SignatureServer } from './helpers/signature.js'

const caller = hmacCaller('caller')
const ed = edCaller('edcaller')
let server: SignatureServer
before(async () => { server = await signatureServer([caller.record, ed.record]) })
after(async () => { await server.app.close() })

function digest (body: Buffer): string {
  return `sha-256=:${createHash('sha256').update(body).digest('base64')}:`
}

/** Signs with the independent implementation and returns inject options. */
async function libSigned (key: ReturnType<typeof createSigner>, method: string, path: string, body?: Buffer, extraFields: string[] = []): Promise<{
  method: 'GET' | 'POST', url: string, headers: Record<string, string>, payload?: Buffer
}> {
  const url = `http://${HOST}${path}`
  const headers: Record<string, string> = { host: HOST }
  const fields = ['@method', '@authority', '@path']
  if (path.includes('?')) fields.push('@query')
  if (body !== undefined) {
    headers['content-type'] = 'application/json'
    headers['content-digest'] = digest(body)
    fields.push('content-digest')
  }
  fields.push(...extraFields)
  const signed = await httpbis.signMessage({
    key,
    fields,
    params: ['keyid', 'alg', 'created', 'nonce'],
    paramValues: { nonce: 'lib-' + Math.random().toString(36).slice(2) }
  }, { method, url, headers })
  return { method: method as 'GET', url: path, headers: signed.headers as Record<string, string>, ...(body === undefined ? {} : { payload: body }) }
}

describe('a request signed by http-message-signatures verifies', () => {
  test('hmac-sha256: GET with a query, POST with a body', async () => {
    const key = createSigner(Buffer.from(caller.record.privateKey as string, 'hex'), 'hmac-sha256', 'caller')
    const get = await server.app.inject(await libSigned(key, 'GET', '/sig?a=1&b=x%20y'))
    assert.equal(get.statusCode, 200, get.body)
    assert.deepEqual(JSON.parse(get.body).token.components, ['@method', '@authority', '@path', '@query'])
    const post = await server.app.inject(await libSigned(key, 'POST', '/sig', Buffer.from('{"a": [1, 2.50]}'), ['content-type']))
    assert.equal(post.statusCode, 200, post.body)
    const replay = await server.app.inject(await libSigned(key, 'GET', '/sig').then((r) => r))
    assert.equal(replay.statusCode, 200)
  })

  test('ed25519', async () => {
    const key = createSigner(createPrivateKey(ed.ed!.privatePem), 'ed25519', 'edcaller')
    const response = await server.app.inject(await libSigned(key, 'POST', '/sig', Buffer.from('{"x":1}')))
    assert.equal(response.statusCode, 200, response.body)
  })

  test('a wrong key from the library is refused', async () => {
    const key = createSigner(Buffer.alloc(64, 7), 'hmac-sha256', 'caller')
    assert.equal((await server.app.inject(await libSigned(key, 'GET', '/sig'))).statusCode, 401)
  })
})

describe('our signer is verified by http-message-signatures', () => {
  for (const [name, who, verifier] of [
    ['hmac-sha256', caller, createVerifier(createSecretKey(Buffer.from(caller.record.privateKey as string, 'hex')), 'hmac-sha256')],
    ['ed25519', ed, createVerifier(createPublicKey(ed.ed!.publicPem), 'ed25519')]
  ] as const) {
    test(name, async () => {
      const signed = signRequest({
        appName: who.record.slug, app: who.own, method: 'POST', url: `http://${HOST}/sig?q=1`, body: { a: 1 }
      })
      const ok = await httpbis.verifyMessage({
        keyLookup: async (params) => {
          assert.equal(params.keyid, who.record.slug)
          return { id: who.record.slug, algs: [name], verify: verifier }
        },
        requiredFields: ['@method', '@authority', '@path', '@query', 'content-digest'],
        requiredParams: ['created', 'nonce', 'keyid']
      }, { method: 'POST', url: signed.url, headers: signed.headers })
      assert.equal(ok, true)
      assert.equal(signed.headers['Content-Digest'], digest(signed.body!))
    })
  }
})

describe('Ed25519: node:crypto on the request path, tweetnacl as a cross-check', () => {
  test('our signature verifies with tweetnacl and with node:crypto', async () => {
    const signed = signRequest({ appName: 'edcaller', app: ed.own, method: 'GET', url: `http://${HOST}/sig`, nonce: 'cross-check-1', created: 1_700_000_000 })
    const signature = Buffer.from(signed.headers.Signature.slice(5, -1), 'base64')
    const base = '"@method": GET\n"@authority": api.example.test\n"@path": /sig\n"@signature-params": ' +
      signed.headers['Signature-Input'].slice(4)
    assert.equal(nacl.sign.detached.verify(Buffer.from(base), signature, ed.ed!.publicRaw), true)
  })

  test('a malleable signature (S + L) that tweetnacl accepts is refused', async () => {
    const request = signRequest({ appName: 'edcaller', app: ed.own, method: 'GET', url: '/sig', authority: HOST })
    const signature = Buffer.from(request.headers.Signature.slice(5, -1), 'base64')
    const L = 2n ** 252n + 27742317777372353535851937790883648493n
    let s = 0n
    for (let i = 63; i >= 32; i--) s = (s << 8n) | BigInt(signature[i])
    s += L
    const malleable = Buffer.from(signature)
    for (let i = 32; i < 64; i++) {
      malleable[i] = Number(s & 0xffn)
      s >>= 8n
    }
    const base = `"@method": GET\n"@authority": ${HOST}\n"@path": /sig\n"@signature-params": ${request.headers['Signature-Input'].slice(4)}`
    assert.equal(nacl.sign.detached.verify(Buffer.from(base), malleable, ed.ed!.publicRaw), true, 'tweetnacl accepts S + L')
    const response = await server.app.inject({
      method: 'GET', url: '/sig', headers: { ...request.headers, host: HOST, Signature: `sig=:${malleable.toString('base64')}:` }
    })
    assert.equal(response.statusCode, 401)
    // The genuine one still passes (the malleable copy did not burn the nonce).
    assert.equal((await server.app.inject({ method: 'GET', url: '/sig', headers: { ...request.headers, host: HOST } })).statusCode, 200)
  })
})
