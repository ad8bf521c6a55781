/**
 * `npm start`: the example linked service on HOST (default 127.0.0.1) and PORT (default 3000),
 * with a MemoryStore loaded from examples/apps.json (or LINKED_SERVICES_APPS), printing curl
 * commands whose headers it has just signed.
 */
import { readFileSync } from 'node:fs'
import { join } from 'node:path'
import { buildExampleApp } from './app.js'
import { demoCommands } from './demo-commands.js'

async function start (): Promise<void> {
  const file = process.env.LINKED_SERVICES_APPS ?? join(__dirname, 'apps.json')
  const data = JSON.parse(readFileSync(file, 'utf8'))
  const host = process.env.HOST ?? '127.0.0.1'
  const port = Number(process.env.PORT ?? 3000)
  const { app, appName } = await buildExampleApp({ data, logger: { level: process.env.LOG_LEVEL ?? 'info' } })
  await app.listen({ host, port })

  const { port: actualPort } = app.server.address() as { port: number }
  const curlHost = host === '0.0.0.0' || host === '::' ? '127.0.0.1' : host.includes(':') ? `[${host}]` : host
  const lines = [`\n${appName} is listening on http://${curlHost}:${actualPort} (apps from ${file}). Try:\n`]
  for (const [index, demo] of demoCommands(`http://${curlHost}:${actualPort}`, appName, data.apps ?? []).entries()) {
    lines.push(`# ${index + 1}. ${demo.title} -> ${demo.expect}`, demo.curl, '')
  }
  lines.push('JWT headers stay valid 10 minutes; the signed request 2 minutes, once. Ctrl+C stops the server.\n')
  process.stdout.write(lines.join('\n'))

  for (const signal of ['SIGINT', 'SIGTERM'] as const) {
    process.once(signal, () => { app.close().then(() => process.exit(0), () => process.exit(1)) })
  }
}

start().catch((error: unknown) => {
  process.stderr.write(`cannot start the example: ${(error as Error)?.stack ?? String(error)}\n`)
  process.exit(1)
})
