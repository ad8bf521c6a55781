/**
 * `fastify-linked-services/postgres`: the PostgreSQL store. Needs the optional peer `pg`
 * (and `@types/pg` for TypeScript).
 */
export { PostgresStore } from './stores/postgres-store.js'
export type { AppChanges, MigrationResult, NextKey, PostgresStoreOptions, ScopeRecord } from './stores/postgres-store.js'
export { PostgresAuditSink } from './stores/postgres-audit-sink.js'
export type { AuditSinkStats, PostgresAuditSinkOptions } from './stores/postgres-audit-sink.js'
export type { AuditFilter, AuditRow } from './stores/postgres/audit-query.js'
