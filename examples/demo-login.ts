/**
 * A demo login for the consent page of `npm start`: pick a user, get a `demo_user` cookie. A
 * demo only: the cookie is the user id in clear, so anyone can be anyone. A real host reads its
 * own session in `getSessionUser`.
 *
 * Also stands in for the linked apps' own sites, which do not run here: `/demo/back` is where
 * the consent page sends the user after Accept or Reject.
 */
import type { FastifyInstance, FastifyRequest } from 'fastify'
import type { MemoryStore, UserRecord } from '../plugin/index.js'
import { escapeHtml as escape } from '../plugin/consent/html.js'

const COOKIE = 'demo_user'

function page (title: string, body: string): string {
  return `<!doctype html><html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width, initial-scale=1">
<title>${escape(title)}</title><link rel="stylesheet" href="/account/consent.css"></head><body><main class="card">${body}</main></body></html>`
}

/** The signed-in user's local id, or null (what the consent plugin's getSessionUser returns). */
export function demoSessionUser (users: readonly UserRecord[]): (request: FastifyRequest) => string | null {
  const known = new Set(users.map((user) => String(user.id)))
  return (request) => {
    const match = new RegExp(`(?:^|;\\s*)${COOKIE}=([^;]+)`).exec(request.headers.cookie ?? '')
    const id = match === null ? null : decodeURIComponent(match[1])
    return id !== null && known.has(id) ? id : null
  }
}

/** Where a login returns to: a path of this site only (never `//other.host`). */
function safeReturn (encoded: string | undefined): string {
  const path = Buffer.from(encoded ?? '', 'base64').toString('utf8')
  return path.startsWith('/') && !path.startsWith('//') && !path.startsWith('/\\') ? path : '/demo/login'
}

export async function demoLogin (app: FastifyInstance, users: readonly UserRecord[]): Promise<void> {
  await app.register(async (demo) => {
    demo.addContentTypeParser('application/x-www-form-urlencoded', { parseAs: 'string', bodyLimit: 4096 },
      (_request, body, done) => { done(null, new URLSearchParams(body as string)) })

    demo.get('/demo/login', async (request, reply) => {
      const { url } = request.query as { url?: string }
      const options = users.map((user, index) => `<li class="scope"><input type="radio" name="user" id="user-${index}" value="${escape(String(user.id))}"${index === 0 ? ' checked' : ''}>
<label for="user-${index}" class="scope-name">${escape(String(user.username ?? user.id))} <span class="badge badge-locked">local id ${escape(String(user.id))}</span></label></li>`).join('')
      return await reply.type('text/html; charset=utf-8').header('cache-control', 'no-store').send(page('Demo login', `<h1>Demo login</h1>
<p class="lead">Pick who you are. (A demo: there is no password.)</p>
<form method="post" action="/demo/login"><input type="hidden" name="url" value="${escape(url ?? '')}">
<fieldset><legend>User</legend><ul class="scopes">${options}</ul></fieldset>
<div class="actions"><button class="button button-primary" type="submit">Log in</button></div></form>`))
    })

    demo.post('/demo/login', async (request, reply) => {
      const form = request.body instanceof URLSearchParams ? request.body : new URLSearchParams()
      const id = form.get('user') ?? ''
      if (!users.some((user) => String(user.id) === id)) return await reply.code(400).send({ detail: 'unknown user', slug: 'unknown-user', status_code: 400 })
      return await reply
        .header('set-cookie', `${COOKIE}=${encodeURIComponent(id)}; Path=/; HttpOnly; SameSite=Lax`)
        .redirect(safeReturn(form.get('url') ?? undefined), 303)
    })

    demo.get('/demo/back', async (request, reply) => {
      const { app: us, status, for: slug } = request.query as Record<string, string | undefined>
      return await reply.type('text/html; charset=utf-8').send(page('Back at the app', `<h1>Back at ${escape(slug ?? 'the app')}</h1>
<p class="lead">The consent page sent you here with <code>app=${escape(us ?? '')}</code> and <code>status=${escape(status ?? '')}</code>.</p>`))
    })
  })
}

/**
 * The linked apps' sites do not run in the demo: send their users back to `/demo/back` here
 * instead of their registered redirectUrl.
 */
export async function redirectAppsHere (store: MemoryStore, baseUrl: string): Promise<void> {
  for (const app of await store.listApps()) {
    if (app.requireAnAgreement === false) continue
    store.updateApp(app.slug, { redirectUrl: `${baseUrl}/demo/back?for=${encodeURIComponent(app.slug)}` })
  }
}
