/**
 * An audit trail's entry (one per decision of the scope hook) and what receives them. A sink's
 * `record()` is called on the request path: it must return at once and never throw (a sink that
 * writes somewhere slow queues, and drops when its queue is full).
 */

export interface AuditEntry {
  at: Date
  service: string
  method: string
  route: string
  /** The calling app when the store knows it, else null. */
  app: string | null
  scheme: 'jwt' | 'rfc9421' | 'legacy' | null
  /** The user (`sub`) the call was made for, when authenticated. */
  user: string | null
  /** `granted`, or the refusal's error code. */
  outcome: string
  statusCode: number
  missingScopes: string[]
  durationMs: number
}

export interface AuditSink {
  record: (entry: AuditEntry) => void
  /** Writes what is queued and stops; called when the Fastify instance closes. */
  close?: () => Promise<void>
}
