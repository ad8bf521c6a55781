/**
 * The app that sign-jwt and sign-request sign for, with its keys: from the apps file (--apps,
 * LINKED_SERVICES_APPS), or from PostgreSQL (--database-url) through the store's admin interface.
 */
import type { AppRecord } from '../../types/index.js'
import { asCliError } from './admin-store.js'
import { CliError, findApp, ownAppName, readAppsFile, warnIfSelf, type CliIo, type Env } from './io.js'

type Values = Record<string, string | boolean | undefined>

export async function signingApp (values: Values, env: Env, io: CliIo, slug: string | undefined): Promise<{ app: AppRecord, appName: string }> {
  const url = values['database-url'] as string | undefined
  let app: AppRecord
  let appName: string
  if (url === undefined) {
    const file = readAppsFile((values.apps as string | undefined) ?? env.LINKED_SERVICES_APPS)
    app = findApp(file, slug)
    appName = ownAppName(values['app-name'] as string | undefined, file, env)
  } else {
    if (slug === undefined || slug === '') throw new CliError('missing app: give the slug of a linked app')
    appName = ownAppName(values['app-name'] as string | undefined, { apps: [] }, env)
    app = await fromDatabase(url, values.schema as string | undefined, slug)
  }
  warnIfSelf(app, appName, io)
  return { app, appName }
}

async function fromDatabase (url: string, schema: string | undefined, slug: string): Promise<AppRecord> {
  const { PostgresStore } = await import('../stores/postgres-store.js')
  let store: InstanceType<typeof PostgresStore> | undefined
  try {
    store = new PostgresStore({ connectionString: url, schema, maxConnections: 1, connectionTimeout: 5000 })
    await store.ready()
    const app = await store.getApp(slug)
    if (app === null) throw new CliError(`App ${slug} not found`, 1)
    return app
  } catch (error) {
    throw asCliError(error, url)
  } finally {
    await store?.close().catch(() => {})
  }
}
