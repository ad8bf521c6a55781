/**
 * The fuzz target: a real Fastify server with the plugin, in its own process (so that a crash is
 * seen as a crash), listening on 127.0.0.1 only. Started by test/fuzz/run.ts with the app records
 * in FUZZ_CONFIG; reports `ready` (with its port), crashes, and on request how many log lines
 * hold secret material.
 */
import Fastify from 'fastify'
import linkedServices, { MemoryStore } from '../../plugin/index.js'
import type { AppRecord } from '../../plugin/index.js'
import { addRoutes, APP_NAME, captureLogs } from '../helpers/attacks.js'

interface Config { apps: AppRecord[], secrets: string[] }

function send (message: unknown): void {
  if (typeof process.send === 'function') process.send(message)
}

process.on('uncaughtException', (error) => {
  send({ type: 'crash', message: `uncaughtException: ${error.name}` })
  process.exit(70)
})
process.on('unhandledRejection', (reason) => {
  send({ type: 'crash', message: `unhandledRejection: ${reason instanceof Error ? reason.name : typeof reason}` })
})

async function main (): Promise<void> {
  const config = JSON.parse(process.env.FUZZ_CONFIG ?? '{}') as Config
  const logs = captureLogs()
  const app = Fastify({ logger: { level: 'info', stream: logs.stream } })
  await app.register(linkedServices, {
    appName: APP_NAME,
    store: new MemoryStore({ apps: config.apps, users: [{ id: 1, credentials: { hs256: 7 } }] }),
    signature: { legacy: true }
  })
  addRoutes(app)
  await app.listen({ port: 0, host: '127.0.0.1' })
  const address = app.server.address()
  send({ type: 'ready', port: typeof address === 'object' && address !== null ? address.port : 0 })
  process.on('message', (message: { type?: string }) => {
    if (message.type === 'leaks') {
      let leaks = 0
      let sample = ''
      for (const line of logs.lines) {
        if (config.secrets.some((secret) => line.includes(secret))) {
          leaks++
          sample ||= line.slice(0, 200)
        }
      }
      send({ type: 'leaks', leaks, lines: logs.lines.length, sample })
    } else if (message.type === 'close') {
      app.close().then(() => process.exit(0), () => process.exit(1))
    }
  })
}

main().catch((error: unknown) => {
  send({ type: 'crash', message: `startup: ${error instanceof Error ? error.message : String(error)}` })
  process.exit(1)
})
