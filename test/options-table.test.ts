/** The README's option table is the options schema, rendered: it cannot drift from what is validated. */
import { test } from 'node:test'
import assert from 'node:assert/strict'
import { readFileSync } from 'node:fs'
import { currentTable, README, renderOptionsTable, renderWebhooksOptionsTable, WEBHOOKS_DOC, WEBHOOKS_END, WEBHOOKS_START } from '../scripts/options-table.js'
import { pluginOptions } from '../plugin/options/schemas.js'

test('README option table = the schema (run `npm run docs:options` after changing an option)', () => {
  assert.equal(currentTable(readFileSync(README, 'utf8')), renderOptionsTable())
})

test('every option of the schema has a description, and a default or a text saying what it is', () => {
  const walk = (schema: typeof pluginOptions.schema, path: string): void => {
    for (const [key, child] of Object.entries(schema.properties ?? {})) {
      if (child.properties !== undefined) { walk(child, `${path}${key}.`); continue }
      assert.ok((child.description ?? '').length > 0, `${path}${key} has a description`)
      assert.ok(child.default !== undefined || child.defaultText !== undefined, `${path}${key} has a default`)
    }
  }
  walk(pluginOptions.schema, '')
})

test('every deprecated name is recorded in the CHANGELOG', () => {
  const changelog = readFileSync(README.replace('README.md', 'CHANGELOG.md'), 'utf8')
  const { CLIENT_RENAMES, MEMORY_NONCE_STORE_RENAMES, PLUGIN_RENAMES, POSTGRES_STORE_RENAMES } = require('../plugin/options/deprecations.js') as typeof import('../plugin/options/deprecations.js')
  for (const rename of [...PLUGIN_RENAMES, ...MEMORY_NONCE_STORE_RENAMES, ...POSTGRES_STORE_RENAMES, ...CLIENT_RENAMES]) {
    assert.ok(changelog.includes(`\`${rename.from}\` → \`${rename.to}\` (${rename.code})`), `${rename.from} → ${rename.to} in CHANGELOG.md`)
  }
})

test('docs/webhooks.md option table = linkedWebhooks\' schema (run `npm run docs:options` after changing an option)', () => {
  assert.equal(currentTable(readFileSync(WEBHOOKS_DOC, 'utf8'), WEBHOOKS_START, WEBHOOKS_END), renderWebhooksOptionsTable())
})
