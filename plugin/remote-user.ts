// PLACEHOLDER by the lead so the core compiles; the outgoing-calls helper replaces this whole file.
import type { RemoteUserProfile } from '../types/index.js'
import type { ResolvedApp } from './resolved-app.js'
export async function fetchRemoteUser (_options: { appName: string, app: ResolvedApp, sub: string, timeout: number }): Promise<RemoteUserProfile | null> {
  return null
}
