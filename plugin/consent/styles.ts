/**
 * The consent pages' stylesheet, served by the plugin (no CDN, no inline style: the page's CSP
 * allows styles from 'self' only). Colours keep text at 4.5:1 or more; focus is always visible.
 */
export const STYLESHEET = `:root {
  --ink: #1f2933; --muted: #4b5563; --line: #d1d5db; --page: #f3f4f6; --card: #ffffff;
  --brand: #1d4ed8; --brand-dark: #1e3a8a; --new-bg: #fef3c7; --new-ink: #92400e;
  --locked-bg: #e5e7eb; --locked-ink: #374151; --focus: #1d4ed8;
  color-scheme: light;
}
* { box-sizing: border-box; }
html { font: 16px/1.5 system-ui, -apple-system, "Segoe UI", Roboto, "Helvetica Neue", Arial, sans-serif; color: var(--ink); background: var(--page); }
body { margin: 0; min-height: 100vh; display: flex; align-items: flex-start; justify-content: center; padding: 3rem 1rem; }
.card { width: 100%; max-width: 34rem; background: var(--card); border: 1px solid var(--line); border-radius: 12px; padding: 2rem; box-shadow: 0 10px 30px rgba(15, 23, 42, .08); }
.app { display: flex; align-items: center; gap: .875rem; margin-bottom: .75rem; }
.app-badge { flex: none; display: inline-grid; place-items: center; width: 2.75rem; height: 2.75rem; border-radius: 10px; background: var(--brand); color: #fff; font-weight: 700; font-size: 1.25rem; }
h1 { font-size: 1.375rem; line-height: 1.3; margin: 0; overflow-wrap: anywhere; }
.lead { margin: 0 0 .5rem; }
.app-description { margin: 0 0 1.25rem; color: var(--muted); overflow-wrap: anywhere; white-space: pre-line; }
.notice { margin: 0 0 1.25rem; padding: .75rem 1rem; border-radius: 8px; background: var(--new-bg); color: var(--new-ink); }
fieldset { border: 1px solid var(--line); border-radius: 10px; margin: 0 0 1rem; padding: .75rem 1rem 1rem; }
legend { font-weight: 600; padding: 0 .375rem; }
.hint { margin: 0 0 .5rem; color: var(--muted); font-size: .9375rem; }
.scopes { list-style: none; margin: 0; padding: 0; }
.scope { display: grid; grid-template-columns: auto 1fr; column-gap: .75rem; align-items: center; padding: .5rem 0; border-top: 1px solid var(--page); }
.scope:first-child { border-top: 0; }
.scope-name { display: flex; flex-wrap: wrap; align-items: center; gap: .5rem; cursor: pointer; }
.scope-name code { font: 600 .9375rem/1.4 ui-monospace, SFMono-Regular, Menlo, Consolas, monospace; overflow-wrap: anywhere; }
.scope-description { grid-column: 2; margin: .125rem 0 0; color: var(--muted); font-size: .9375rem; }
.badge { display: inline-block; padding: .0625rem .5rem; border-radius: 999px; font-size: .75rem; font-weight: 600; }
.badge-new { background: var(--new-bg); color: var(--new-ink); }
.badge-locked { background: var(--locked-bg); color: var(--locked-ink); }
input[type="checkbox"][role="switch"] { appearance: none; -webkit-appearance: none; margin: 0; position: relative; width: 2.75rem; height: 1.5rem; border-radius: 999px; background: #6b7280; cursor: pointer; transition: background-color .15s; }
input[type="checkbox"][role="switch"]::before { content: ""; position: absolute; top: .1875rem; left: .1875rem; width: 1.125rem; height: 1.125rem; border-radius: 50%; background: #fff; transition: transform .15s; }
input[type="checkbox"][role="switch"]:checked { background: var(--brand); }
input[type="checkbox"][role="switch"]:checked::before { transform: translateX(1.25rem); }
input[type="checkbox"][role="switch"]:disabled { cursor: not-allowed; background: #5b7bd5; }
.actions { display: flex; justify-content: flex-end; gap: .75rem; margin-top: 1.5rem; flex-wrap: wrap; }
.button { display: inline-block; min-width: 7rem; padding: .625rem 1.25rem; border-radius: 8px; border: 1px solid transparent; font: inherit; font-weight: 600; text-align: center; text-decoration: none; cursor: pointer; }
.button-primary { background: var(--brand); color: #fff; }
.button-primary:hover { background: var(--brand-dark); }
.button-secondary { background: #fff; color: var(--ink); border-color: #6b7280; }
.button-secondary:hover { background: var(--page); }
:focus-visible { outline: 3px solid var(--focus); outline-offset: 2px; }
.code { color: var(--muted); font-size: .875rem; }
@media (prefers-reduced-motion: reduce) { * { transition: none !important; } }
`
