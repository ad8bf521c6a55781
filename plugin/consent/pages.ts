/**
 * The three pages: the consent form, "app not found", and an error page. Plain server-rendered
 * HTML (no script: the switches are checkboxes, Reject is a link, Accept submits the form), one
 * stylesheet served by the plugin.
 */
import type { ConsentMessages } from './messages.js'
import { format } from './messages.js'
import { html, type SafeHtml } from './html.js'
import type { ConsentView } from './consent-view.js'

interface Layout {
  lang: string
  title: string
  stylesheet: string
  body: SafeHtml
}

function layout ({ lang, title, stylesheet, body }: Layout): string {
  return html`<!doctype html>
<html lang="${lang}">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<meta name="referrer" content="same-origin">
<title>${title}</title>
<link rel="stylesheet" href="${stylesheet}">
</head>
<body>
<main class="card">
${body}
</main>
</body>
</html>
`.text
}

function scopeItem (slug: string, description: string | undefined, control: SafeHtml, badge: SafeHtml | string, index: string): SafeHtml {
  const descriptionId = `${index}-description`
  return html`<li class="scope">
  ${control}
  <label for="${index}" class="scope-name"><code>${slug}</code>${badge}</label>
  ${description === undefined ? '' : html`<p class="scope-description" id="${descriptionId}">${description}</p>`}
</li>`
}

export function consentPage (view: ConsentView, messages: ConsentMessages, lang: string, stylesheet: string): string {
  const appName = view.app.name
  const describedBy = (slug: string, id: string): string | null => messages.scopes[slug] === undefined ? null : `${id}-description`
  const required = view.required.map((slug, index) => {
    const id = `required-${index}`
    const by = [describedBy(slug, id), 'required-hint'].filter((part) => part !== null).join(' ')
    return scopeItem(slug, messages.scopes[slug],
      html`<input type="checkbox" role="switch" id="${id}" checked disabled aria-describedby="${by}">`,
      html`<span class="badge badge-locked">${messages.alwaysOn}</span>`, id)
  })
  const optional = view.optional.map((scope, index) => {
    const id = `optional-${index}`
    const by = describedBy(scope.slug, id)
    return scopeItem(scope.slug, messages.scopes[scope.slug],
      html`<input type="checkbox" role="switch" id="${id}" name="scope" value="${scope.slug}"${scope.checked ? html` checked` : ''}${by === null ? '' : html` aria-describedby="${by}"`}>`,
      scope.isNew ? html`<span class="badge badge-new">${messages.newBadge}</span>` : '', id)
  })
  const notice = view.outdated
    ? html`<p class="notice" role="status">${messages.outdated}${view.paused ? ` ${messages.paused}` : ''}</p>`
    : ''
  const body = html`<header class="app">
  <span class="app-badge" aria-hidden="true">${appName.slice(0, 1).toUpperCase()}</span>
  <h1>${format(messages.title, { app: appName })}</h1>
</header>
<p class="lead">${messages.requesting}</p>
${view.app.description === '' ? '' : html`<p class="app-description">${view.app.description}</p>`}
${notice}
<form method="post" action="${view.formAction}">
  <input type="hidden" name="token" value="${view.token}">
  ${required.length === 0
    ? ''
    : html`<fieldset>
    <legend>${messages.requiredLegend}</legend>
    <p class="hint" id="required-hint">${messages.requiredHint}</p>
    <ul class="scopes">${required}</ul>
  </fieldset>`}
  ${optional.length === 0
    ? ''
    : html`<fieldset>
    <legend>${messages.optionalLegend}</legend>
    <p class="hint">${messages.optionalHint}</p>
    <ul class="scopes">${optional}</ul>
  </fieldset>`}
  <div class="actions">
    <a class="button button-secondary" href="${view.rejectUrl}">${messages.reject}</a>
    <button class="button button-primary" type="submit">${messages.accept}</button>
  </div>
</form>`
  return layout({ lang, title: format(messages.title, { app: appName }), stylesheet, body })
}

export function notFoundPage (messages: ConsentMessages, lang: string, stylesheet: string, homeUrl: string): string {
  const body = html`<h1>${messages.notFoundTitle}</h1>
<p class="lead">${messages.notFoundText}</p>
<div class="actions"><a class="button button-primary" href="${homeUrl}">${messages.goBack}</a></div>`
  return layout({ lang, title: messages.notFoundTitle, stylesheet, body })
}

/** `retryUrl`: a same-origin path to load the form again, or null. */
export function errorPage (messages: ConsentMessages, lang: string, stylesheet: string, statusCode: number, code: string | undefined, retryUrl: string | null): string {
  const advice = statusCode === 400 ? messages.badRequest : statusCode === 403 ? messages.forbidden : messages.unavailable
  const body = html`<h1>${messages.errorTitle}</h1>
<p class="lead">${advice}</p>
${code === undefined ? '' : html`<p class="code"><code>${code}</code></p>`}
${retryUrl === null ? '' : html`<div class="actions"><a class="button button-primary" href="${retryUrl}">${messages.goBack}</a></div>`}`
  return layout({ lang, title: messages.errorTitle, stylesheet, body })
}
