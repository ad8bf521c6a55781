/**
 * `fastify-linked-services/postgres`: the PostgreSQL store. Needs the optional peer `pg`
 * (and `@types/pg` for TypeScript).
 */
export { PostgresStore } from './stores/postgres-store.js'
export type { AppChanges, MigrationResult, NextKey, PostgresStoreOptions, ScopeRecord } from './stores/postgres-store.js'
