/**
 * The consent page in a real browser (Debian's Chromium through playwright-core): log in, switch
 * a scope off, accept, land on the app, and a JWT call on the user's behalf is granted exactly
 * that; reject; the 404 page; keyboard only; a cross-site POST; markup in a description; axe-core
 * finds no accessibility violation. Most contexts run with JavaScript off: the page needs none.
 * Saves docs/consent.png, the screenshot the docs show.
 */
import { after, before, describe, test } from 'node:test'
import assert from 'node:assert/strict'
import { readFileSync } from 'node:fs'
import { join } from 'node:path'
import Fastify, { type FastifyInstance } from 'fastify'
import type { Browser, BrowserContext, Page } from 'playwright-core'
import { MemoryStore } from '../plugin/index.js'
import { browserSkipSync, launchChromium } from './helpers/browser.js'
import { buildConsentServer, classroomApp, consentData, formToken, type ConsentServer } from './helpers/consent.js'

const skip = browserSkipSync()
const ROOT = join(__dirname, '..')
const AXE_SOURCE = readFileSync(require.resolve('axe-core/axe.min.js'), 'utf8')
const DESCRIPTIONS = {
  'read:user': 'See your name and email address',
  webhook: 'Tell you when your courses change',
  'write:user': 'Update your profile'
}

interface AxeResult { violations: Array<{ id: string, help: string, nodes: Array<{ target: string[] }> }> }

async function listen (app: FastifyInstance): Promise<number> {
  await app.listen({ host: '127.0.0.1', port: 0 })
  return (app.server.address() as { port: number }).port
}

describe('the consent page in Chromium', { skip }, () => {
  let browser: Browser
  let server: ConsentServer
  let store: MemoryStore
  let base: string
  let peerBase: string
  const peer = Fastify()
  const attacker = Fastify()

  before(async () => {
    // The linked app's own site, where the page sends the user back.
    peer.get('/back', async (request, reply) => await reply.type('text/html').send(`<!doctype html><title>Classroom</title><h1>Back at Classroom</h1><p id="query">${new URLSearchParams(request.query as Record<string, string>).toString()}</p>`))
    peerBase = `http://127.0.0.1:${await listen(peer)}`
    const data = consentData(`${peerBase}/back`)
    data.apps!.push(classroomApp(`${peerBase}/back`, {
      slug: 'evil',
      name: 'Evil <i>app</i>',
      description: '<script>window.pwned = true</script><b>bold</b> <img src=x onerror="window.pwned = true">'
    }))
    store = new MemoryStore(data)
    server = await buildConsentServer({ store, consent: { homeUrl: `${peerBase}/back`, messages: { en: { scopes: DESCRIPTIONS } } } })
    base = `http://127.0.0.1:${await listen(server.app)}`
    browser = await launchChromium()
  })

  after(async () => {
    await browser?.close()
    await server?.app.close()
    await peer.close()
    await attacker.close()
  })

  /** A context signed in as `user` through the demo login form (JavaScript off unless asked). */
  async function signedIn (user: string, options: { javaScriptEnabled?: boolean, locale?: string } = {}): Promise<{ context: BrowserContext, page: Page }> {
    const context = await browser.newContext({ javaScriptEnabled: options.javaScriptEnabled ?? false, locale: options.locale ?? 'en-US' })
    const page = await context.newPage()
    await page.goto(`${base}/account/authorize/classroom`)
    // Anonymous: sent to the login page, which knows where to come back to.
    assert.equal(new URL(page.url()).pathname, '/login')
    await page.fill('#user', user)
    await page.click('button')
    await page.waitForURL(`${base}/account/authorize/classroom`)
    return { context, page }
  }

  async function axe (page: Page): Promise<AxeResult['violations']> {
    // Through the debugging protocol: the page's CSP (rightly) forbids any script it did not serve.
    await page.evaluate(AXE_SOURCE)
    const result = await page.evaluate(async () => await (globalThis as unknown as { axe: { run: () => Promise<AxeResult> } }).axe.run()) as AxeResult
    return result.violations
  }

  test('log in, switch an optional scope off, accept, land on the app; a JWT call on the user\'s behalf gets exactly the chosen scopes', async () => {
    const { context, page } = await signedIn('1')
    try {
      assert.equal(await page.locator('h1').textContent(), 'Authorize Classroom')
      const required = page.getByRole('switch', { name: /read:user/ })
      assert.equal(await required.isChecked(), true)
      assert.equal(await required.isDisabled(), true)
      const webhook = page.getByRole('switch', { name: /webhook/ })
      const writeUser = page.getByRole('switch', { name: /write:user/ })
      assert.equal(await webhook.isChecked(), true, 'all on without an agreement')
      assert.equal(await writeUser.isChecked(), true)
      await page.screenshot({ path: join(ROOT, 'docs/consent.png'), fullPage: true })
      await page.getByText('webhook', { exact: true }).click() // the label toggles its switch
      assert.equal(await webhook.isChecked(), false)
      await page.getByRole('button', { name: 'Accept' }).click()
      await page.waitForURL(/\/back\?/)
      assert.equal(page.url(), `${peerBase}/back?app=nodeservice&status=authorized`)
      assert.equal(await page.locator('h1').textContent(), 'Back at Classroom')
    } finally {
      await context.close()
    }
    assert.deepEqual(await store.getAgreement('classroom', '1'), { app: 'classroom', userId: '1', optionalScopes: ['write:user'], agreementVersion: 1 })
    assert.equal(await server.callAs('c-5', 'read:user'), 200)
    assert.equal(await server.callAs('c-5', 'write:user'), 200)
    assert.equal(await server.callAs('c-5', 'webhook'), 403)
  })

  test('Reject goes back to the app with status=rejected and stores nothing', async () => {
    const { context, page } = await signedIn('2', { locale: 'es-ES' })
    try {
      assert.equal(await page.locator('h1').textContent(), 'Autorizar a Classroom')
      await page.getByRole('link', { name: 'Rechazar' }).click()
      await page.waitForURL(/\/back\?/)
      assert.equal(page.url(), `${peerBase}/back?app=nodeservice&status=rejected`)
    } finally {
      await context.close()
    }
    assert.equal(await store.getAgreement('classroom', '2'), null)
    assert.equal(await server.callAs('c-6', 'read:user'), 403)
  })

  test('an unknown app: the 404 page, in the browser\'s language, with a way back', async () => {
    for (const [locale, title, back] of [['en-US', 'Not found', 'Go back'], ['es-ES', 'No encontrado', 'Volver']]) {
      const { context, page } = await signedIn('1', { locale })
      try {
        const response = await page.goto(`${base}/account/authorize/nobody`)
        assert.equal(response?.status(), 404)
        assert.equal(await page.locator('h1').textContent(), title)
        await page.getByRole('link', { name: back }).click()
        await page.waitForURL(`${peerBase}/back`)
      } finally {
        await context.close()
      }
    }
  })

  // JavaScript on only to read where the focus is: the page itself runs none.
  test('keyboard only: Tab to a switch, Space turns it off, Tab to Accept, Enter; focus is visible on the way', async () => {
    store.removeAgreement('classroom', 1)
    const { context, page } = await signedIn('1', { javaScriptEnabled: true })
    try {
      const focused = async (): Promise<{ what: string, outline: string }> => await page.evaluate(() => {
        const element = document.activeElement as HTMLElement
        const style = getComputedStyle(element)
        return { what: `${element.tagName.toLowerCase()} ${element.getAttribute('value') ?? element.textContent ?? ''}`, outline: `${style.outlineStyle} ${style.outlineWidth}` }
      })
      await page.keyboard.press('Tab')
      assert.equal((await focused()).what, 'input webhook', 'the locked required switch is skipped')
      assert.equal((await focused()).outline, 'solid 3px', 'focus is visible')
      await page.keyboard.press('Space')
      assert.equal(await page.getByRole('switch', { name: /webhook/ }).isChecked(), false)
      await page.keyboard.press('Tab')
      assert.equal((await focused()).what, 'input write:user')
      await page.keyboard.press('Tab')
      assert.equal((await focused()).what, 'a Reject')
      assert.equal((await focused()).outline, 'solid 3px')
      await page.keyboard.press('Tab')
      assert.equal((await focused()).what, 'button Accept')
      assert.equal((await focused()).outline, 'solid 3px')
      await page.keyboard.press('Enter')
      await page.waitForURL(/\/back\?/)
      assert.equal(page.url(), `${peerBase}/back?app=nodeservice&status=authorized`)
    } finally {
      await context.close()
    }
    assert.deepEqual((await store.getAgreement('classroom', '1'))?.optionalScopes, ['write:user'])
  })

  test('a cross-site POST is refused, even with a form token the attacker got for their own account', async () => {
    store.setAgreement({ app: 'classroom', userId: 1, optionalScopes: [], agreementVersion: 1 })
    const attackersToken = formToken((await server.app.inject({ url: '/account/authorize/classroom', headers: { cookie: 'user=2' } })).body)
    attacker.get('/', async (_request, reply) => await reply.type('text/html').send(`<!doctype html><title>Win a prize</title>
<form method="post" action="${base}/account/authorize/classroom">
<input type="hidden" name="token" value="${attackersToken}"><input type="hidden" name="scope" value="webhook"><input type="hidden" name="scope" value="write:user">
<button>Claim your prize</button></form>`))
    // Another site: localhost is not the same site as 127.0.0.1.
    const attackerBase = `http://localhost:${await listen(attacker)}`
    const { context, page } = await signedIn('1')
    try {
      await page.goto(`${attackerBase}/`)
      const [response] = await Promise.all([
        page.waitForResponse((candidate) => candidate.url() === `${base}/account/authorize/classroom` && candidate.request().method() === 'POST'),
        page.click('button')
      ])
      assert.equal(response.status(), 403)
      await page.waitForLoadState()
      assert.match(await page.locator('h1').textContent() ?? '', /This request cannot be completed/)
      assert.notEqual(new URL(page.url()).origin, peerBase, 'not sent on to the app')
    } finally {
      await context.close()
    }
    assert.deepEqual((await store.getAgreement('classroom', '1'))?.optionalScopes, [], 'the agreement did not change')
    assert.equal(await server.callAs('c-5', 'webhook'), 403)
  })

  test('markup in an app\'s name and description shows as text and runs nothing', async () => {
    const { context, page } = await signedIn('1', { javaScriptEnabled: true })
    try {
      await page.goto(`${base}/account/authorize/evil`)
      assert.equal(await page.locator('h1').textContent(), 'Authorize Evil <i>app</i>')
      assert.equal(await page.locator('.app-description').textContent(), '<script>window.pwned = true</script><b>bold</b> <img src=x onerror="window.pwned = true">')
      assert.equal(await page.locator('.app-description b, .app-description img, .app-description script, h1 i').count(), 0)
      assert.equal(await page.evaluate(() => (globalThis as { pwned?: boolean }).pwned), undefined)
    } finally {
      await context.close()
    }
  })

  test('axe-core finds no accessibility violation: the consent page (with New badges), the 404 and the error page', async () => {
    store.updateApp('classroom', { optionalScopes: ['webhook', 'write:user', 'read:grades'], agreementVersion: 2 })
    const { context, page } = await signedIn('1', { javaScriptEnabled: true })
    try {
      assert.ok(await page.locator('.badge-new').count() > 0, 'the page shows a New badge')
      assert.deepEqual(await axe(page), [])
      await page.goto(`${base}/account/authorize/nobody`)
      assert.deepEqual(await axe(page), [])
      await page.goto(`${base}/account/authorize/classroom`)
      await page.evaluate(() => { (document.querySelector('input[name=token]') as HTMLInputElement).value = 'forged' })
      await page.getByRole('button', { name: 'Accept' }).click()
      await page.waitForLoadState()
      assert.equal(await page.locator('h1').textContent(), 'This request cannot be completed')
      assert.deepEqual(await axe(page), [])
    } finally {
      await context.close()
    }
  })
})
