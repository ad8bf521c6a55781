/**
 * The consent page over HTTP (no browser): who may see it, what it shows, what Accept stores and
 * what a call on the user's behalf is then granted, and the attacks on the form. The same flow in
 * a real browser: test/consent-browser.test.ts.
 */
import { test } from 'node:test'
import assert from 'node:assert/strict'
import Fastify from 'fastify'
import linkedServices, { linkedServicesConsent, MemoryStore } from '../plugin/index.js'
import type { AgreementRecord, LinkedServicesStore, StoreChange } from '../plugin/index.js'
import { createFormTokens } from '../plugin/consent/form-token.js'
import { createCatalogues, preferredTags } from '../plugin/consent/messages.js'
import { loginRedirect } from '../plugin/consent/plugin.js'
import { escapeHtml } from '../plugin/consent/html.js'
import { buildConsentServer, classroomApp, consentData, formToken, US } from './helpers/consent.js'

const PAGE = '/account/authorize/classroom'
const FORM = 'application/x-www-form-urlencoded'
const jane = { cookie: 'user=1' }

async function page (server: Awaited<ReturnType<typeof buildConsentServer>>, headers: Record<string, string> = jane) {
  return await server.app.inject({ url: PAGE, headers })
}

async function accept (server: Awaited<ReturnType<typeof buildConsentServer>>, scopes: string[], options: { token?: string, headers?: Record<string, string> } = {}) {
  const token = options.token ?? formToken((await page(server)).body)
  const body = new URLSearchParams([['token', token], ...scopes.map((scope) => ['scope', scope])]).toString()
  return await server.app.inject({ method: 'POST', url: PAGE, headers: { ...jane, 'content-type': FORM, ...options.headers }, payload: body })
}

/** The optional switches of a page: slug -> { checked, isNew }. */
function switches (html: string): Record<string, { checked: boolean, isNew: boolean }> {
  const result: Record<string, { checked: boolean, isNew: boolean }> = {}
  for (const match of html.matchAll(/<input type="checkbox" role="switch" id="(optional-\d+)" name="scope" value="([^"]+)"( checked)?[^>]*>\s*<label for="\1" class="scope-name"><code>[^<]*<\/code>(<span class="badge badge-new">)?/g)) {
    result[match[2]] = { checked: match[3] !== undefined, isNew: match[4] !== undefined }
  }
  return result
}

test('anonymous: sent to the login URL with url = base64 of the path and query, merged into its query', async (t) => {
  const server = await buildConsentServer({ consent: { loginUrl: 'https://id.example.com/login?next=1' } })
  t.after(async () => await server.app.close())
  const response = await server.app.inject({ url: `${PAGE}?from=mail` })
  assert.equal(response.statusCode, 302)
  const location = new URL(response.headers.location as string)
  assert.equal(location.origin + location.pathname, 'https://id.example.com/login')
  assert.equal(location.searchParams.get('next'), '1')
  assert.equal(Buffer.from(location.searchParams.get('url') as string, 'base64').toString(), `${PAGE}?from=mail`)
  // Standard base64 with padding, as the original (not base64url).
  assert.equal(loginRedirect('/login', '/a?b=c>'), `/login?url=${encodeURIComponent(Buffer.from('/a?b=c>').toString('base64'))}`)
  assert.equal((await server.app.inject({ method: 'POST', url: PAGE })).statusCode, 302, 'a POST without a session logs in too')
})

test('404 page (en/es) for an unknown app, one that requires no agreement, and one with no usable redirectUrl', async (t) => {
  const data = consentData('http://127.0.0.1:9/back')
  data.apps?.push(classroomApp('javascript:alert(1)', { slug: 'sneaky', name: 'Sneaky' }))
  const server = await buildConsentServer({ data, consent: { homeUrl: 'https://school.example.com/' } })
  t.after(async () => await server.app.close())
  for (const slug of ['nobody', 'open', 'sneaky', '__proto__', 'constructor']) {
    const en = await server.app.inject({ url: `/account/authorize/${slug}`, headers: jane })
    assert.equal(en.statusCode, 404, slug)
    assert.match(en.headers['content-type'] as string, /^text\/html/)
    assert.match(en.body, /<html lang="en">/)
    assert.match(en.body, /The app was not found/)
    assert.match(en.body, /href="https:\/\/school.example.com\/">Go back</)
    assert.equal(en.headers['cache-control'], 'no-store')
  }
  const es = await server.app.inject({ url: '/account/authorize/nobody', headers: { ...jane, 'accept-language': 'es-MX,es;q=0.9,en;q=0.5' } })
  assert.equal(es.statusCode, 404)
  assert.match(es.body, /<html lang="es">/)
  assert.match(es.body, /No encontrado/)
  assert.match(es.body, /La app no fue encontrada/)
  assert.match(es.body, />Volver</)
  // A POST to an app without a consent page stores nothing.
  const posted = await server.app.inject({ method: 'POST', url: '/account/authorize/open', headers: { ...jane, 'content-type': FORM }, payload: 'scope=webhook' })
  assert.equal(posted.statusCode, 404)
  assert.equal(await server.store.getAgreement('open', '1'), null)
})

test('the page: name, description, required scopes on and locked, optional switches all on without an agreement', async (t) => {
  const server = await buildConsentServer()
  t.after(async () => await server.app.close())
  const response = await page(server)
  assert.equal(response.statusCode, 200)
  const html = response.body
  assert.match(html, /<h1>Authorize Classroom<\/h1>/)
  assert.match(html, /This app is requesting permission to access your account\./)
  assert.match(html, /Keeps your courses and grades in sync\./)
  assert.match(html, /<fieldset>\s*<legend>Required permissions<\/legend>/)
  assert.match(html, /<input type="checkbox" role="switch" id="required-0" checked disabled[^>]*>\s*<label for="required-0" class="scope-name"><code>read:user<\/code>/)
  assert.doesNotMatch(html, /name="scope" value="read:user"/, 'a required scope is not a choice')
  assert.deepEqual(switches(html), { webhook: { checked: true, isNew: false }, 'write:user': { checked: true, isNew: false } })
  assert.match(html, /<a class="button button-secondary" href="http:\/\/127.0.0.1:9\/back\?app=nodeservice&amp;status=rejected">Reject<\/a>/)
  assert.match(html, /<button class="button button-primary" type="submit">Accept<\/button>/)
  assert.match(html, /<form method="post" action="\/account\/authorize\/classroom">/)
  assert.doesNotMatch(html, /<script|\sstyle=|\son[a-z]+=/i, 'no script, no inline style, no handler attribute')
})

test('the page in Spanish from Accept-Language, and a language the host adds (merged over English)', async (t) => {
  const server = await buildConsentServer({
    consent: { messages: { fr: { title: 'Autoriser {app}', accept: 'Accepter', scopes: { webhook: 'Vous prévenir des changements' } }, es: { scopes: { webhook: 'Avisarte de los cambios' } } } }
  })
  t.after(async () => await server.app.close())
  const es = (await page(server, { ...jane, 'accept-language': 'es' })).body
  assert.match(es, /<html lang="es">/)
  assert.match(es, /<h1>Autorizar a Classroom<\/h1>/)
  assert.match(es, /<legend>Permisos opcionales<\/legend>/)
  assert.match(es, />Aceptar</)
  assert.match(es, />Rechazar</)
  assert.match(es, /<p class="scope-description" id="optional-0-description">Avisarte de los cambios<\/p>/)
  assert.match(es, /id="optional-0" name="scope" value="webhook" checked aria-describedby="optional-0-description"/)
  const fr = (await page(server, { ...jane, 'accept-language': 'de;q=0.9, fr-CA;q=0.8, es;q=0.1' })).body
  assert.match(fr, /<html lang="fr">/)
  assert.match(fr, /<h1>Autoriser Classroom<\/h1>/)
  assert.match(fr, />Accepter</)
  assert.match(fr, />Reject</, 'missing messages fall back to English')
  assert.match((await page(server, { ...jane, 'accept-language': 'de, *;q=0.5' })).body, /<html lang="en">/)
})

test('Accept-Language: q-values, ties in order, malformed items ignored, bounded', () => {
  assert.deepEqual(preferredTags('en;q=0.2, es-AR, es;q=0.9, *;q=0.1, x y, fr;q=0, pt;q=abc'), ['es-ar', 'es', 'en'])
  assert.deepEqual(preferredTags(undefined), [])
  assert.equal(preferredTags('en,'.repeat(10_000)).length, 32)
  const catalogues = createCatalogues()
  assert.equal(catalogues.pick('es-ES').lang, 'es')
  assert.equal(catalogues.pick('de').lang, 'en')
})

test('every text an app provides is escaped: markup in a name, description or scope shows as text', async (t) => {
  const evil = '<script>alert("x")</script><img src=x onerror=alert(1)>'
  const data = consentData('http://127.0.0.1:9/back?a="><script>1</script>')
  data.apps![0] = classroomApp('http://127.0.0.1:9/back?a="><script>1</script>', { name: `Class <b>${evil}`, description: evil })
  const server = await buildConsentServer({ data })
  t.after(async () => await server.app.close())
  const html = (await page(server)).body
  assert.doesNotMatch(html, /<script|<img|<b>/)
  assert.ok(html.includes(`<p class="app-description">${escapeHtml(evil)}</p>`))
  assert.ok(html.includes('&lt;script&gt;alert(&quot;x&quot;)&lt;/script&gt;'))
})

test('security headers: a CSP with no script and frame-ancestors none, no-store, no framing, no sniffing', async (t) => {
  const server = await buildConsentServer()
  t.after(async () => await server.app.close())
  for (const response of [await page(server), await server.app.inject({ url: '/account/authorize/nobody', headers: jane })]) {
    const csp = response.headers['content-security-policy'] as string
    assert.match(csp, /default-src 'none'/)
    assert.match(csp, /frame-ancestors 'none'/)
    assert.match(csp, /style-src 'self'/)
    assert.doesNotMatch(csp, /script-src|unsafe-inline|unsafe-eval/)
    assert.equal(response.headers['cache-control'], 'no-store')
    assert.equal(response.headers['x-frame-options'], 'DENY')
    assert.equal(response.headers['x-content-type-options'], 'nosniff')
    assert.equal(response.headers['referrer-policy'], 'same-origin')
  }
  // The form posts here and is redirected to the app's registered address: form-action allows both.
  assert.match((await page(server)).headers['content-security-policy'] as string, /form-action 'self' http:\/\/127.0.0.1:9;/)
  const css = await server.app.inject({ url: '/account/consent.css' })
  assert.equal(css.statusCode, 200)
  assert.match(css.headers['content-type'] as string, /^text\/css/)
  assert.match(css.body, /:focus-visible/)
  assert.equal(css.headers['cache-control'], 'public, max-age=3600', 'the stylesheet may be cached')
  assert.match((await page(server)).body, /<link rel="stylesheet" href="\/account\/consent.css">/)
})

test('Accept stores the chosen scopes at the current version, redirects to redirectUrl, and a JWT call on the user\'s behalf gets exactly those', async (t) => {
  const server = await buildConsentServer()
  t.after(async () => await server.app.close())
  assert.equal(await server.callAs('c-5', 'read:user'), 403, 'no agreement yet: refused')
  const response = await accept(server, ['write:user'])
  assert.equal(response.statusCode, 303)
  assert.equal(response.headers.location, 'http://127.0.0.1:9/back?app=nodeservice&status=authorized')
  assert.deepEqual(await server.store.getAgreement('classroom', '1'), { app: 'classroom', userId: '1', optionalScopes: ['write:user'], agreementVersion: 1 })
  assert.equal(await server.callAs('c-5', 'read:user'), 200, 'required scope')
  assert.equal(await server.callAs('c-5', 'write:user'), 200, 'chosen optional scope')
  assert.equal(await server.callAs('c-5', 'webhook'), 403, 'switched off')
  assert.equal(await server.callAs('c-5', 'read:grades'), 403, 'not offered at all')
  assert.equal(await server.callAs('c-6', 'read:user'), 403, 'another user agreed to nothing')
  // The page now shows the user's choice.
  assert.deepEqual(switches((await page(server)).body), { webhook: { checked: false, isNew: false }, 'write:user': { checked: true, isNew: false } })
})

test('after Accept the plugin\'s caches see the new agreement at once, even without a change feed', async (t) => {
  // A store with no subscribe(): only the consent plugin's invalidate() can refresh the cache.
  const memory = new MemoryStore({ ...consentData('http://127.0.0.1:9/back'), agreements: [{ app: 'classroom', userId: 1, optionalScopes: ['webhook', 'write:user'], agreementVersion: 1 }] })
  const store: LinkedServicesStore = {
    getApp: async (slug) => await memory.getApp(slug),
    getAgreement: async (slug, userId) => await memory.getAgreement(slug, userId),
    findUserByCredential: async (slug, id) => await memory.findUserByCredential(slug, id),
    setAgreement: (agreement) => { memory.setAgreement(agreement) }
  }
  const server = await buildConsentServer({ store })
  t.after(async () => await server.app.close())
  assert.equal(await server.callAs('c-5', 'webhook'), 200, 'granted before, and now cached')
  assert.equal((await accept(server, [])).statusCode, 303)
  assert.equal(await server.callAs('c-5', 'webhook'), 403, 'revoked: the cached agreement was forgotten')
  assert.equal(await server.callAs('c-5', 'read:user'), 200)
})

test('the redirect keeps the query of the registered redirectUrl and sets app and status', async (t) => {
  const data = consentData('http://127.0.0.1:9/back')
  data.apps![0] = classroomApp('https://classroom.example.com/done?tab=apps&status=old#top')
  const server = await buildConsentServer({ data })
  t.after(async () => await server.app.close())
  assert.match((await page(server)).body, /href="https:\/\/classroom.example.com\/done\?tab=apps&amp;status=rejected&amp;app=nodeservice#top"/)
  assert.equal((await accept(server, [])).headers.location, 'https://classroom.example.com/done?tab=apps&status=authorized&app=nodeservice#top')
})

test('scopes the app does not offer are refused with a coded 400 and nothing is stored', async (t) => {
  const server = await buildConsentServer()
  t.after(async () => await server.app.close())
  for (const scopes of [['admin'], ['webhook', 'read:grades'], ['__proto__'], ['x'.repeat(5000)]]) {
    const response = await accept(server, scopes)
    assert.equal(response.statusCode, 400, scopes[0])
    assert.equal(response.json().code, 'FST_LINKED_SERVICES_SCOPE_NOT_OFFERED')
    assert.match(response.json().message, /does not offer the scope/)
  }
  assert.equal(await server.store.getAgreement('classroom', '1'), null)
  // A browser gets the same refusal as a page in its language.
  const token = formToken((await page(server)).body)
  const html = await server.app.inject({ method: 'POST', url: PAGE, headers: { ...jane, 'content-type': FORM, accept: 'text/html', 'accept-language': 'es' }, payload: `token=${token}&scope=admin` })
  assert.equal(html.statusCode, 400)
  assert.match(html.body, /<html lang="es">/)
  assert.match(html.body, /FST_LINKED_SERVICES_SCOPE_NOT_OFFERED/)
  assert.match(html.body, /href="\/account\/authorize\/classroom">Volver</)
  // A required scope posted by hand changes nothing (it is always held) and is not stored.
  assert.equal((await accept(server, ['read:user', 'webhook'])).statusCode, 303)
  assert.deepEqual((await server.store.getAgreement('classroom', '1'))?.optionalScopes, ['webhook'])
})

test('forged forms are refused: no token, another user\'s or app\'s token, a bad or expired one, another site', async (t) => {
  const data = consentData('http://127.0.0.1:9/back')
  data.apps!.push(classroomApp('http://127.0.0.1:9/back', { slug: 'library', name: 'Library' }))
  const secret = 'k'.repeat(32)
  const server = await buildConsentServer({ data, consent: { secret } })
  t.after(async () => await server.app.close())
  const johnsToken = formToken((await page(server, { cookie: 'user=2' })).body)
  const libraryToken = formToken((await server.app.inject({ url: '/account/authorize/library', headers: jane })).body)
  const good = formToken((await page(server)).body)
  const tokens = createFormTokens(Buffer.from(secret), 60_000)
  const expired = tokens.issue('1', 'classroom', Date.now() - 120_000)
  const otherKey = createFormTokens(Buffer.from('z'.repeat(32)), 60_000).issue('1', 'classroom')
  const cases: Array<[string, string | undefined, Record<string, string>]> = [
    ['no token', undefined, {}],
    ['empty token', '', {}],
    ['John\'s token', johnsToken, {}],
    ['the token of another app', libraryToken, {}],
    ['expired', expired, {}],
    ['signed with another key', otherKey, {}],
    ['truncated', good.slice(0, -2), {}],
    ['sent from another site', good, { 'sec-fetch-site': 'cross-site' }],
    ['sent from a sibling site', good, { 'sec-fetch-site': 'same-site' }],
    ['with the Origin of another site', good, { origin: 'https://evil.example' }],
    ['with the Origin of another port', good, { origin: 'http://localhost:81' }],
    ['with an opaque Origin (a sandboxed or data: page)', good, { origin: 'null' }]
  ]
  for (const [label, token, headers] of cases) {
    const body = token === undefined ? 'scope=webhook' : `token=${encodeURIComponent(token)}&scope=webhook`
    const response = await server.app.inject({ method: 'POST', url: PAGE, headers: { ...jane, 'content-type': FORM, ...headers }, payload: body })
    assert.equal(response.statusCode, 403, label)
    assert.equal(response.json().code, 'FST_LINKED_SERVICES_CONSENT_FORM_INVALID', label)
  }
  assert.equal(await server.store.getAgreement('classroom', '1'), null)
  assert.equal(tokens.verify(tokens.issue('1', 'classroom'), '1', 'classroom'), true, 'the same secret verifies')
  // A same-origin form (inject's Host is localhost:80), or a client that sends neither header, with a good token passes.
  assert.equal((await accept(server, ['webhook'], { token: good, headers: { 'sec-fetch-site': 'same-origin', origin: 'http://localhost:80' } })).statusCode, 303)
  assert.equal((await accept(server, ['write:user'], { token: good })).statusCode, 303)
})

test('a body that is not a small urlencoded form is a 4xx, never a 500', async (t) => {
  const server = await buildConsentServer()
  t.after(async () => await server.app.close())
  const json = await server.app.inject({ method: 'POST', url: PAGE, headers: { ...jane, 'content-type': 'application/json' }, payload: '{"scope":["webhook"]}' })
  assert.equal(json.statusCode, 400)
  assert.equal(json.json().code, 'FST_LINKED_SERVICES_CONSENT_FORM_MALFORMED')
  const text = await server.app.inject({ method: 'POST', url: PAGE, headers: { ...jane, 'content-type': 'text/plain' }, payload: 'scope=webhook' })
  assert.equal(text.statusCode, 400)
  assert.equal(text.json().code, 'FST_LINKED_SERVICES_CONSENT_FORM_MALFORMED')
  const xml = await server.app.inject({ method: 'POST', url: PAGE, headers: { ...jane, 'content-type': 'application/xml' }, payload: '<scope/>' })
  assert.equal(xml.statusCode, 415)
  const huge = await server.app.inject({ method: 'POST', url: PAGE, headers: { ...jane, 'content-type': FORM }, payload: `scope=${'a'.repeat(20_000)}` })
  assert.equal(huge.statusCode, 413)
  const empty = await server.app.inject({ method: 'POST', url: PAGE, headers: { ...jane, 'content-type': FORM }, payload: '' })
  assert.equal(empty.statusCode, 403)
})

test('accepting twice is idempotent: the same agreement, written and announced once', async (t) => {
  const memory = new MemoryStore(consentData('http://127.0.0.1:9/back'))
  const changes: StoreChange[] = []
  memory.subscribe((change) => changes.push(change))
  const server = await buildConsentServer({ store: memory })
  t.after(async () => await server.app.close())
  const token = formToken((await page(server)).body)
  const first = await accept(server, ['webhook', 'webhook'], { token })
  const second = await accept(server, ['webhook'], { token })
  assert.equal(first.statusCode, 303)
  assert.equal(second.statusCode, 303)
  assert.equal(second.headers.location, first.headers.location)
  assert.deepEqual(await memory.getAgreement('classroom', '1'), { app: 'classroom', userId: '1', optionalScopes: ['webhook'], agreementVersion: 1 })
  assert.equal(changes.filter((change) => change.type === 'agreement').length, 1)
  assert.equal(await server.callAs('c-5', 'webhook'), 200)
})

test('agreementVersion: an app that adds a scope shows it as New; with requireCurrentAgreement calls pause until the user accepts again', async (t) => {
  const memory = new MemoryStore({ ...consentData('http://127.0.0.1:9/back'), agreements: [{ app: 'classroom', userId: 1, optionalScopes: ['webhook'], agreementVersion: 1 }] })
  const server = await buildConsentServer({ store: memory, plugin: { requireCurrentAgreement: true } })
  t.after(async () => await server.app.close())
  assert.equal(await server.callAs('c-5', 'webhook'), 200)
  let html = (await page(server)).body
  assert.doesNotMatch(html, /badge-new|class="notice"/, 'a current agreement: nothing new')
  assert.deepEqual(switches(html), { webhook: { checked: true, isNew: false }, 'write:user': { checked: false, isNew: false } })

  memory.updateApp('classroom', { optionalScopes: ['webhook', 'write:user', 'read:grades'], agreementVersion: 2 })
  assert.equal(await server.callAs('c-5', 'webhook'), 403, 'outdated agreement refused')
  html = (await page(server)).body
  assert.deepEqual(switches(html), {
    webhook: { checked: true, isNew: false },
    'write:user': { checked: false, isNew: true },
    'read:grades': { checked: false, isNew: true }
  })
  assert.match(html, /<p class="notice" role="status">This app has asked for new permissions since you last agreed\. Until you accept again it cannot act on your behalf\.<\/p>/)
  assert.equal((await accept(server, ['webhook', 'read:grades'])).statusCode, 303)
  assert.deepEqual(await memory.getAgreement('classroom', '1'), { app: 'classroom', userId: '1', optionalScopes: ['read:grades', 'webhook'], agreementVersion: 2 })
  assert.equal(await server.callAs('c-5', 'read:grades'), 200, 'current again')
  assert.equal(await server.callAs('c-5', 'write:user'), 403)
  assert.doesNotMatch((await page(server)).body, /badge-new/)
})

test('an outdated agreement without requireCurrentAgreement: New badges, no pause', async (t) => {
  const memory = new MemoryStore({ ...consentData('http://127.0.0.1:9/back'), agreements: [{ app: 'classroom', userId: 1, optionalScopes: [], agreementVersion: 1 }] })
  memory.updateApp('classroom', { agreementVersion: 3 })
  const server = await buildConsentServer({ store: memory })
  t.after(async () => await server.app.close())
  const html = (await page(server)).body
  assert.match(html, /This app has asked for new permissions since you last agreed\.<\/p>/)
  assert.deepEqual(switches(html), { webhook: { checked: false, isNew: true }, 'write:user': { checked: false, isNew: true } })
  assert.equal(await server.callAs('c-5', 'read:user'), 200)
})

test('a store that fails: 503, fail closed, nothing of what it said in the answer', async (t) => {
  const store: LinkedServicesStore & { setAgreement (agreement: AgreementRecord): Promise<void> } = {
    getApp: async () => { throw new Error('password=hunter2') },
    getAgreement: async () => null,
    findUserByCredential: async () => null,
    setAgreement: async () => {}
  }
  const server = await buildConsentServer({ store })
  t.after(async () => await server.app.close())
  const response = await page(server)
  assert.equal(response.statusCode, 503)
  assert.equal(response.json().code, 'FST_LINKED_SERVICES_STORE_UNAVAILABLE')
  assert.doesNotMatch(response.body, /hunter2/)
  const html = await page(server, { ...jane, accept: 'text/html' })
  assert.equal(html.statusCode, 503)
  assert.match(html.body, /not available right now/)
  assert.doesNotMatch(html.body, /hunter2/)
})

test('a host whose getSessionUser throws: a 500 page that says nothing of the error', async (t) => {
  const server = await buildConsentServer({ consent: { getSessionUser: () => { throw new Error('session db password=hunter2') } } })
  t.after(async () => await server.app.close())
  const response = await page(server, { accept: 'text/html' })
  assert.equal(response.statusCode, 500)
  assert.match(response.body, /not available right now/)
  assert.doesNotMatch(response.body, /hunter2|Go back/)
  assert.equal(response.headers['cache-control'], 'no-store')
  const objects = await buildConsentServer({ consent: { getSessionUser: () => ({ id: 1 }) as never } })
  t.after(async () => await objects.app.close())
  assert.equal((await page(objects)).statusCode, 500, 'an object is not a user id')
})

test('options are checked at registration with coded errors naming the option', async () => {
  const store = new MemoryStore()
  const cases: Array<[Record<string, unknown>, RegExp, boolean?]> = [
    [{ loginUrl: '/login' }, /getSessionUser must be a function/],
    [{ getSessionUser: () => null }, /loginUrl must be/],
    [{ getSessionUser: () => null, loginUrl: '/login', secret: 'short' }, /secret must be at least 32 bytes/],
    [{ getSessionUser: () => null, loginUrl: '/login', secret: 42 }, /secret must be a string or a Buffer/],
    [{ getSessionUser: () => null, loginUrl: '/login', tokenTtl: 5 }, /tokenTtl must be/],
    [{ getSessionUser: () => null, loginUrl: '/login', messages: { 'not a tag': {} } }, /is not a language tag/],
    [{ getSessionUser: () => null, loginUrl: '/login', messages: { fr: 'x' } }, /messages.fr must be an object/],
    [{ getSessionUser: () => null, loginUrl: '/login', messages: { fr: { acept: 'Accepter' } } }, /messages.fr.acept is not a message \(they are: title, .*accept/],
    [{ getSessionUser: () => null, loginUrl: '/login', messages: { fr: { accept: 42 } } }, /messages.fr.accept must be a string/],
    [{ getSessionUser: () => null, loginUrl: '/login', messages: { fr: { scopes: { webhook: 1 } } } }, /messages.fr.scopes must map scope slugs/],
    [{ getSessionUser: () => null, loginUrl: '/login', homeUrl: '' }, /homeUrl must be/],
    [{ getSessionUser: () => null, loginUrl: '/login', requireCurrentAgreement: 'yes' }, /requireCurrentAgreement must be a boolean/],
    [{ getSessionUser: () => null, loginUrl: '/login', store: { getApp: async () => null } }, /needs a setAgreement\(agreement\) method/],
    [{ getSessionUser: () => null, loginUrl: '/login' }, /register fastify-linked-services first, or pass a store/, false],
    [{ getSessionUser: () => null, loginUrl: '/login', store }, /register fastify-linked-services first, or pass appName/, false]
  ]
  for (const [options, message, withCore = true] of cases) {
    const app = Fastify()
    if (withCore) await app.register(linkedServices, { appName: US, store })
    app.register(linkedServicesConsent, options as never)
    await assert.rejects(async () => { await app.ready() }, (error: Error & { code?: string }) => {
      assert.equal(error.code, 'FST_LINKED_SERVICES_INVALID_OPTION')
      assert.match(error.message, message)
      return true
    })
    await app.close()
  }
  // Without the core plugin, a store and appName are enough (no cache to invalidate then).
  const app = Fastify()
  await app.register(linkedServicesConsent, { store: new MemoryStore(consentData('http://127.0.0.1:9/back')), appName: US, loginUrl: '/login', getSessionUser: () => 1 })
  const token = formToken((await app.inject({ url: '/authorize/classroom' })).body)
  const accepted = await app.inject({ method: 'POST', url: '/authorize/classroom', headers: { 'content-type': FORM }, payload: `token=${token}` })
  assert.equal(accepted.statusCode, 303)
  assert.equal(accepted.headers.location, 'http://127.0.0.1:9/back?app=nodeservice&status=authorized')
  await app.close()
})
