/**
 * `request.getUser()`: the local user linked to (calling app, `token.sub`), or null. With
 * `resolveRemoteUsers`, an unknown user is fetched from the caller's users endpoint, created and
 * linked (the original's create_user). A store failure rejects with 503 `store-unavailable`.
 */
import type { FastifyRequest } from 'fastify'
import type { UserRecord } from '../../types/index.js'
import type { AuthContext } from '../caller/calling-app.js'
import { fetchRemoteUser } from './remote-user.js'

export async function getUser (request: FastifyRequest, ctx: AuthContext): Promise<UserRecord | null> {
  const { app, token } = request
  if (app === null || token === null || token.sub === null) return null
  const user = await ctx.storeCache.findUser(app.slug, token.sub)
  if (user !== null || !ctx.config.resolveRemoteUsers) return user
  const resolved = await ctx.storeCache.getApp(app.slug)
  if (resolved === null || resolved.keys === null) return null
  const profile = await fetchRemoteUser({
    appName: ctx.config.appName,
    app: resolved,
    sub: token.sub,
    timeout: ctx.config.storeTimeout
  })
  if (profile === null) return null
  return await ctx.storeCache.linkRemoteUser(app.slug, profile)
}
