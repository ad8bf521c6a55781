/**
 * The original's defaults for an app record, shared by the stores, the cache's view of an app and
 * the remote user lookup.
 */

/** Where a caller serves its users (`usersPath`). The PostgreSQL migration spells it in SQL too. */
export const DEFAULT_USERS_PATH = '/v1/auth/app/user/'

/** How long the original's legacy key (and a key replaced by rotateKey) still verifies: 2 minutes. */
export const LEGACY_KEY_LIFETIME_MS = 2 * 60 * 1000
