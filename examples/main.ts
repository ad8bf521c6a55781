/**
 * `npm start`: the example linked service on HOST (default 127.0.0.1) and PORT (default 3000),
 * with a MemoryStore loaded from examples/apps.json (or LINKED_SERVICES_APPS), printing curl
 * commands whose headers it has just signed.
 */
import { readFileSync } from 'node:fs'
import { join } from 'node:path'
import { buildExampleApp } from './app.js'
import { demoCommands } from './demo-commands.js'
import { redirectAppsHere } from './demo-login.js'

async function start (): Promise<void> {
  const file = process.env.LINKED_SERVICES_APPS ?? join(__dirname, 'apps.json')
  const data = JSON.parse(readFileSync(file, 'utf8'))
  const host = process.env.HOST ?? '127.0.0.1'
  const port = Number(process.env.PORT ?? 3000)
  const { app, appName, store } = await buildExampleApp({ data, logger: { level: process.env.LOG_LEVEL ?? 'info' } })
  await app.listen({ host, port })

  const { port: actualPort } = app.server.address() as { port: number }
  const curlHost = host === '0.0.0.0' || host === '::' ? '127.0.0.1' : host.includes(':') ? `[${host}]` : host
  const baseUrl = `http://${curlHost}:${actualPort}`
  await redirectAppsHere(store, baseUrl)
  const lines = [`\n${appName} is listening on ${baseUrl} (apps from ${file}). Try:\n`]
  for (const [index, demo] of demoCommands(`http://${curlHost}:${actualPort}`, appName, data.apps ?? []).entries()) {
    lines.push(`# ${index + 1}. ${demo.title} -> ${demo.expect}`, demo.curl, '')
  }
  lines.push('JWT headers stay valid 10 minutes; the signed request 2 minutes, once.', '')
  lines.push(`Consent page: open ${baseUrl}/account/authorize/4geeks in a browser, log in (jane is 4geeks user 5),`,
    'switch "webhook" off and Accept: command 4 is then refused (403) until you switch it on again.',
    `After Accept or Reject you land on ${baseUrl}/demo/back (4geeks' own site does not run here).`, '')
  lines.push('Ctrl+C stops the server.\n')
  process.stdout.write(lines.join('\n'))

  for (const signal of ['SIGINT', 'SIGTERM'] as const) {
    process.once(signal, () => { app.close().then(() => process.exit(0), () => process.exit(1)) })
  }
}

start().catch((error: unknown) => {
  process.stderr.write(`cannot start the example: ${(error as Error)?.stack ?? String(error)}\n`)
  process.exit(1)
})
