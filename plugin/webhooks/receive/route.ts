/**
 * The receiver: `POST <path>` behind `fastify.scope(scopes, { mode })`, taking one event or an
 * array of them and answering 204 once the receive log holds them all (and their processing
 * jobs). A bad event refuses the request (400, nothing stored); too many events or too many
 * bytes, 413; a log that cannot be written, 503 (fail closed: the sender's retry redelivers).
 */
import type { FastifyError, FastifyInstance, FastifyReply, FastifyRequest } from 'fastify'
import type { Mode } from '../../../types/index.js'
import { isLinkedServicesError, ReceivedWebhookInvalidError, ReceivedWebhookTooLargeError, ReceivedWebhookUnavailableError } from '../../errors.js'
import { dedupeEvents, parseEvents } from './events.js'
import { publishWebhookEvent, webhookChannel } from '../webhook-events.js'
import type { ReceiveLog } from './receive-log.js'

export interface ReceiveRouteOptions {
  /** This service's appName (named on the webhook channel's events). */
  service: string
  path: string
  scopes: string[]
  /** Undefined: the scheme the calling app's strategy names (JWT or signed requests). */
  mode?: Mode
  maxEvents: number
  bodyLimit: number
}

export async function registerReceiveRoute (fastify: FastifyInstance, log: ReceiveLog, options: ReceiveRouteOptions): Promise<void> {
  // An encapsulated context, so that its error handler (Fastify's body errors as this receiver's
  // coded ones) applies to this route only; every other error goes on to the parent's handler.
  await fastify.register(async function webhookReceiver (scope) {
    scope.setErrorHandler(async (error: FastifyError) => {
      if (error.code === 'FST_ERR_CTP_BODY_TOO_LARGE') {
        throw new ReceivedWebhookTooLargeError(`the body is over ${options.bodyLimit} bytes`)
      }
      if (error.code === 'FST_ERR_CTP_INVALID_JSON_BODY' || error.code === 'FST_ERR_CTP_EMPTY_JSON_BODY') {
        throw Object.assign(new ReceivedWebhookInvalidError('the body is not valid JSON (send one event object or an array of them, Content-Type: application/json)'), { field: 'body' })
      }
      throw error
    })
    scope.post(options.path, {
      bodyLimit: options.bodyLimit,
      preHandler: scope.scope(options.scopes, options.mode === undefined ? {} : { mode: options.mode })
    }, async function receiveWebhook (request: FastifyRequest, reply: FastifyReply) {
      const events = dedupeEvents(parseEvents(request.body, options.maxEvents))
      const started = performance.now()
      try {
        await log.record(request.app.slug, request.token.sub, events)
      } catch (error) {
        if (isLinkedServicesError(error) && error.statusCode < 500) throw error
        // The cause is logged, never sent: it may name the database.
        request.log.error({ err: error, events: events.length }, 'fastify-linked-services: the webhook log could not store the events (answered 503)')
        throw new ReceivedWebhookUnavailableError()
      }
      if (webhookChannel.hasSubscribers) {
        const types = new Set(events.map((event) => event.type))
        publishWebhookEvent({
          service: options.service,
          direction: 'received',
          app: request.app.slug,
          type: types.size === 1 ? [...types][0] : null,
          id: null,
          outcome: 'stored',
          attempt: 0,
          statusCode: null,
          error: null,
          count: events.length,
          durationMs: performance.now() - started
        })
      }
      return await reply.code(204).send()
    })
  })
}
