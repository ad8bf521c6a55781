// PLACEHOLDER by the lead so the core compiles; the signature helper replaces this whole file.
import type { FastifyRequest } from 'fastify'
import type { Mode } from '../../types/index.js'
import type { AuthContext, Authenticated } from '../auth-context.js'
import { UnknownAuthSchemaError } from '../errors.js'
export async function authenticateLegacy (_request: FastifyRequest, _params: string, _ctx: AuthContext, _mode: Mode | undefined): Promise<Authenticated> {
  throw new UnknownAuthSchemaError()
}
