/**
 * Outgoing calls of createLinkedClient, published on the channel `fastify-linked-services:client`
 * once each call ends (when someone subscribes): who we called, how, and what came back. No URL
 * query, header or body: the path alone may carry identifiers, so not even that.
 */
import diagnosticsChannel from 'node:diagnostics_channel'

export const CLIENT_CHANNEL = 'fastify-linked-services:client'

export interface ClientCallEvent {
  /** The calling service (the client's appName). */
  service: string
  /** The app called (its slug). */
  peer: string
  method: string
  /** The response status; null when no response came (network failure, timeout, abort). */
  status: number | null
  durationMs: number
}

export const clientChannel = diagnosticsChannel.channel(CLIENT_CHANNEL)

export function publishClientCall (service: string, peer: string, method: string, status: number | null, startedAt: number): void {
  if (!clientChannel.hasSubscribers) return
  const event: ClientCallEvent = { service, peer, method, status, durationMs: performance.now() - startedAt }
  clientChannel.publish(event)
}
