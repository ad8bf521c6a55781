// PLACEHOLDER by the lead so the core compiles; the signature helper replaces this whole file.
import type { FastifyReply, FastifyRequest } from 'fastify'
export async function captureRawBody (_request: FastifyRequest, _reply: FastifyReply, payload: NodeJS.ReadableStream): Promise<NodeJS.ReadableStream> {
  return payload
}
export function rawBodyOf (_request: FastifyRequest): Buffer | undefined {
  return undefined
}
