/**
 * One benchmark server, in its own process: `node --import tsx bench/server.ts` with the
 * scenario in env BENCH_SERVER (JSON: `{ scenario, growth? }`). Listens on 127.0.0.1, port 0,
 * and reports its port over IPC; answers `{ type: 'stats' }` with its own CPU accounting
 * (process.cpuUsage()) and memory, so that the load generator's CPU never counts.
 */
import diagnosticsChannel from 'node:diagnostics_channel'
import Fastify, { type FastifyInstance } from 'fastify'
import { loadPackage, loadPostgresEntry } from './package.js'
import { httpMessageSignaturesRoute, joseRoute } from './peers.js'
import {
  APP_NAME, BEARER_TOKEN, benchApps, CONTROL_PATH, FASTIFY_JWT, growthApps, growthScope, ROUTE_SCOPE, SIGNATURE_OPTIONS,
  type GrowthConfig, type ScenarioName
} from './scenarios.js'

interface ServerConfig {
  scenario: ScenarioName | 'growth'
  growth?: GrowthConfig
  databaseUrl?: string
}

export type ServerMessage =
  | { type: 'ready', port: number }
  | { type: 'stats', cpu: NodeJS.CpuUsage, memory: NodeJS.MemoryUsage }
  | { type: 'error', message: string }

const reply = { hello: 'world' }
async function handler (): Promise<typeof reply> {
  return reply
}

async function protectedByPlugin (app: FastifyInstance, options: Record<string, unknown>, scopes: string[]): Promise<void> {
  const { default: linkedServices } = loadPackage()
  await app.register(linkedServices, { appName: APP_NAME, ...options } as never)
  app.get('/', { preHandler: app.scope(scopes) }, handler)
}

/**
 * Every server has the unprotected control route CONTROL_PATH beside the scenario's `/`: the
 * CPU view measures the two in turns in the same process (bench/run.ts). The scenario is
 * registered in a context of its own, so its hooks and decorators stay off the control route.
 */
async function build (config: ServerConfig): Promise<FastifyInstance> {
  // No plugin timeout: a growth scenario fills a PostgreSQL store of 10 000 apps inside its plugin.
  const root = Fastify({ logger: false, pluginTimeout: 0 })
  root.get(CONTROL_PATH, handler)
  await root.register(async (app) => { await scenario(app, config) })
  return root
}

async function scenario (app: FastifyInstance, config: ServerConfig): Promise<void> {
  const { MemoryStore } = loadPackage()
  switch (config.scenario) {
    case 'bare':
      app.get('/', handler)
      break
    case 'prehandler-floor':
      // A preHandler that grants at once: what Fastify's hook stage costs by itself.
      app.get('/', { preHandler: (_request, _reply, done) => { done() } }, handler)
      break
    case 'fastify-jwt': {
      const { default: fastifyJwt } = await import('@fastify/jwt')
      await app.register(fastifyJwt, { secret: Buffer.from(FASTIFY_JWT.secretHex, 'hex'), verify: FASTIFY_JWT.verify })
      app.get('/', {
        preHandler: async (request) => {
          await request.jwtVerify()
        }
      }, handler)
      break
    }
    case 'bearer-auth': {
      const { default: bearerAuth } = await import('@fastify/bearer-auth')
      await app.register(bearerAuth, { keys: new Set([BEARER_TOKEN]) })
      app.get('/', handler)
      break
    }
    case 'jose-hs256':
    case 'jose-eddsa':
      await joseRoute(app, config.scenario === 'jose-hs256' ? 'HS256' : 'EdDSA', handler)
      break
    case 'hms-hmac':
    case 'hms-ed25519':
      await httpMessageSignaturesRoute(app, config.scenario === 'hms-hmac' ? 'hmac-sha256' : 'ed25519', handler)
      break
    case 'jwt-cached':
    case 'jwt-cold':
    case 'jwt-cold-ed25519':
      await protectedByPlugin(app, { store: new MemoryStore({ apps: benchApps() }) }, [ROUTE_SCOPE])
      break
    case 'jwt-cached-observed': {
      // A subscriber as cheap as one can be: what is left is the cost of publishing.
      const { SCOPE_CHANNEL } = loadPackage()
      let decisions = 0
      diagnosticsChannel.tracingChannel(SCOPE_CHANNEL).subscribe({ start () {}, end () {}, asyncStart () {}, asyncEnd () { decisions++ }, error () {} })
      app.addHook('onClose', async () => { process.stdout.write(`jwt-cached-observed: ${decisions} decisions seen\n`) })
      await protectedByPlugin(app, { store: new MemoryStore({ apps: benchApps() }) }, [ROUTE_SCOPE])
      break
    }
    case 'signature-hmac':
    case 'signature-ed25519':
    case 'signature-legacy':
      await protectedByPlugin(app, { store: new MemoryStore({ apps: benchApps() }), signature: SIGNATURE_OPTIONS }, [ROUTE_SCOPE])
      break
    case 'jwt-cached-postgres': {
      const pkg = loadPostgresEntry()
      const { postgresStore } = await import('./postgres.js')
      const store = await postgresStore(pkg, config.databaseUrl ?? 'postgres://postgres@127.0.0.1:5432/test')
      await protectedByPlugin(app, { store }, [ROUTE_SCOPE])
      break
    }
    case 'growth': {
      const growth = config.growth!
      const scopes = Array.from({ length: growth.scopes }, (_, i) => growthScope(i))
      const apps = growthApps(growth)
      const store = growth.store === 'postgres'
        ? await (await import('./postgres.js')).postgresStore(loadPostgresEntry(), config.databaseUrl ?? 'postgres://postgres@127.0.0.1:5432/test', apps, `bench_growth_${growth.apps}_${growth.scopes}`)
        : new MemoryStore({ apps })
      await protectedByPlugin(app, { store }, scopes)
      break
    }
    default:
      throw new Error(`unknown scenario ${String(config.scenario)}`)
  }
}

function send (message: ServerMessage): void {
  process.send?.(message)
}

async function main (): Promise<void> {
  const config = JSON.parse(process.env.BENCH_SERVER ?? '{}') as ServerConfig
  const app = await build(config)
  await app.listen({ host: '127.0.0.1', port: 0 })
  const address = app.server.address()
  if (address === null || typeof address === 'string') throw new Error('no TCP address')
  process.on('message', (message: { type?: string }) => {
    if (message.type === 'stats') send({ type: 'stats', cpu: process.cpuUsage(), memory: process.memoryUsage() })
    if (message.type === 'close') app.close().then(() => process.exit(0), () => process.exit(1))
  })
  process.on('disconnect', () => process.exit(0))
  send({ type: 'ready', port: address.port })
}

main().catch((error: unknown) => {
  send({ type: 'error', message: error instanceof Error ? error.stack ?? error.message : String(error) })
  process.exit(1)
})
