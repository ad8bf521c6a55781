/** The built package loads with `require` and with `import`, in separate Node processes. */
import { test } from 'node:test'
import assert from 'node:assert/strict'
import { execFileSync } from 'node:child_process'
import { existsSync } from 'node:fs'
import { join } from 'node:path'

const root = join(__dirname, '..')
const built = existsSync(join(root, 'dist/plugin/cjs.js'))

function run (args: string[]): string {
  return execFileSync(process.execPath, args, { cwd: root, encoding: 'utf8' })
}

test('require() gives the plugin function with every named export', { skip: built ? false : 'run `npm run build` first (npm test does)' }, () => {
  const out = run(['-e', `
    const plugin = require('fastify-linked-services')
    const { linkedServices, MemoryStore, errors } = plugin
    console.log(JSON.stringify({
      type: typeof plugin, same: plugin === linkedServices || plugin.default === linkedServices,
      store: typeof MemoryStore, errors: typeof errors.ForbiddenScopeError, name: plugin[Symbol.for('fastify.display-name')]
    }))`])
  assert.deepEqual(JSON.parse(out), { type: 'function', same: true, store: 'function', errors: 'function', name: 'fastify-linked-services' })
})

test('import gives the default export and the named exports', { skip: built ? false : 'run `npm run build` first (npm test does)' }, () => {
  const out = run(['--input-type=module', '-e', `
    import plugin, { linkedServices, MemoryStore } from 'fastify-linked-services'
    import Fastify from 'fastify'
    const app = Fastify()
    await app.register(plugin, { appName: 'esm', store: new MemoryStore() })
    app.get('/', { preHandler: app.scope(['read:user']) }, async () => 'ok')
    const response = await app.inject('/')
    console.log(JSON.stringify({ same: plugin === linkedServices, status: response.statusCode }))`])
  assert.deepEqual(JSON.parse(out), { same: true, status: 401 })
})
