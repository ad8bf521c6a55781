/**
 * Every SQL statement of PostgresStore, built once per store for its (checked, quoted) schema.
 * Values are always bound parameters ($1, $2, ...); the only text put into the SQL is the schema
 * identifier, which has passed `checkIdentifier`, and table names from this file.
 */
import { quoteIdentifier } from './identifiers.js'

export type ScopeTable = 'app_required_scopes' | 'app_optional_scopes'

export function buildSql (schema: string) {
  const s = quoteIdentifier(schema)
  const appScopes = (table: ScopeTable) =>
    `ARRAY(SELECT sc.slug FROM ${s}.${table} t JOIN ${s}.scopes sc ON sc.id = t.scope_id WHERE t.app_id = a.id ORDER BY sc.slug)`
  const userColumns = `u.id, u.username, u.email, u.first_name, u.last_name, u.extra,
    (SELECT json_object_agg(c.app_slug, c.external_id ORDER BY c.app_slug) FROM ${s}.credentials c WHERE c.user_id = u.id) AS credentials`

  return {
    /** $1 slug, $2 now (previous keys that expired by then are left out). */
    getApp: `SELECT a.slug, a.name, a.description, a.algorithm, a.strategy, a.schema, a.private_key, a.public_key, a.kid,
        a.require_an_agreement, a.agreement_version, a.app_url, a.users_path, a.webhook_url, a.redirect_url,
        ${appScopes('app_required_scopes')} AS required_scopes,
        ${appScopes('app_optional_scopes')} AS optional_scopes,
        COALESCE((SELECT json_agg(json_build_object(
            'kid', k.kid, 'algorithm', k.algorithm, 'privateKey', k.private_key, 'publicKey', k.public_key,
            'expiresAt', floor(extract(epoch FROM k.expires_at) * 1000)::float8
          ) ORDER BY k.created_at DESC, k.id DESC)
          FROM ${s}.previous_keys k WHERE k.app_id = a.id AND k.expires_at > $2), '[]'::json) AS previous_keys
      FROM ${s}.apps a WHERE a.slug = $1`,
    listAppSlugs: `SELECT slug FROM ${s}.apps ORDER BY slug`,
    /** $1 app slug, $2 local user id. */
    getAgreement: `SELECT g.user_id, g.agreement_version,
        ARRAY(SELECT sc.slug FROM ${s}.agreement_optional_scopes o JOIN ${s}.scopes sc ON sc.id = o.scope_id
          WHERE o.agreement_id = g.id ORDER BY sc.slug) AS optional_scopes
      FROM ${s}.agreements g JOIN ${s}.apps a ON a.id = g.app_id WHERE a.slug = $1 AND g.user_id = $2`,
    /** $1 app slug, $2 external id (text). */
    findUserByCredential: `SELECT ${userColumns} FROM ${s}.credentials l JOIN ${s}.users u ON u.id = l.user_id
      WHERE l.app_slug = $1 AND l.external_id = $2`,
    getUser: `SELECT ${userColumns} FROM ${s}.users u WHERE u.id = $1`,
    /** $1 email: compared as lower(btrim(...)), the expression of the index users_email_folded. */
    findUsersByEmail: `SELECT ${userColumns} FROM ${s}.users u WHERE lower(btrim(u.email)) = lower(btrim($1)) ORDER BY u.id`,
    /** $1 username, $2 email: the oldest such user. */
    findUserByNameAndEmail: `SELECT u.id FROM ${s}.users u WHERE u.username = $1 AND u.email = $2 ORDER BY u.created_at, u.id LIMIT 1`,
    credentialOwner: `SELECT user_id FROM ${s}.credentials WHERE app_slug = $1 AND external_id = $2`,
    credentialSlugs: `SELECT app_slug FROM ${s}.credentials WHERE user_id = $1`,

    notify: 'SELECT pg_notify($1, $2)',
    lockApp: `SELECT id, algorithm, private_key, public_key, kid FROM ${s}.apps WHERE slug = $1 FOR UPDATE`,
    insertApp: `INSERT INTO ${s}.apps (slug, name, description, algorithm, strategy, schema, private_key, public_key, kid,
        require_an_agreement, agreement_version, app_url, users_path, webhook_url, redirect_url)
      VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15) RETURNING id`,
    deleteApp: `DELETE FROM ${s}.apps WHERE slug = $1 RETURNING id`,
    /** $1 app id, $2 new private key, $3 new public key, $4 new kid. */
    setAppKey: `UPDATE ${s}.apps SET private_key = $2, public_key = $3, kid = $4, updated_at = now() WHERE id = $1`,
    /** Appended to `UPDATE apps SET <columns>`: the columns come from a fixed list. */
    updateAppPrefix: `UPDATE ${s}.apps SET `,
    ensureScopes: `INSERT INTO ${s}.scopes (slug) SELECT unnest($1::text[]) ON CONFLICT (slug) DO NOTHING`,
    /** $1 slug, $2 name, $3 description. */
    upsertScope: `INSERT INTO ${s}.scopes (slug, name, description) VALUES ($1, $2, $3)
      ON CONFLICT (slug) DO UPDATE SET name = EXCLUDED.name, description = EXCLUDED.description`,
    /** $1 app id, $2 the slugs to keep. */
    pruneAppScopes: (table: ScopeTable) => `DELETE FROM ${s}.${table} t USING ${s}.scopes sc
      WHERE t.app_id = $1 AND sc.id = t.scope_id AND NOT (sc.slug = ANY ($2::text[]))`,
    addAppScopes: (table: ScopeTable) => `INSERT INTO ${s}.${table} (app_id, scope_id)
      SELECT $1, sc.id FROM ${s}.scopes sc WHERE sc.slug = ANY ($2::text[]) ON CONFLICT DO NOTHING`,
    /** $1 app id, $2 kid, $3 algorithm, $4 private key, $5 public key, $6 expires at. */
    insertPreviousKey: `INSERT INTO ${s}.previous_keys (app_id, kid, algorithm, private_key, public_key, expires_at)
      VALUES ($1, $2, $3, $4, $5, $6)`,
    deletePreviousKeys: `DELETE FROM ${s}.previous_keys WHERE app_id = $1`,
    /** $1 app id, $2 now. */
    pruneExpiredKeys: `DELETE FROM ${s}.previous_keys WHERE app_id = $1 AND expires_at <= $2`,

    /** $1 id, $2 username, $3 email, $4 first name, $5 last name, $6 extra (jsonb). */
    upsertUser: `INSERT INTO ${s}.users (id, username, email, first_name, last_name, extra) VALUES ($1, $2, $3, $4, $5, $6)
      ON CONFLICT (id) DO UPDATE SET username = EXCLUDED.username, email = EXCLUDED.email,
        first_name = EXCLUDED.first_name, last_name = EXCLUDED.last_name, extra = EXCLUDED.extra`,
    /** Keeps generated ids above an explicit numeric id: $1 the id. */
    bumpUserIds: `SELECT setval('${s}.user_ids', GREATEST(last_value, $1::bigint)) FROM ${s}.user_ids`,
    /** $1 username, $2 email, $3 first name, $4 last name. */
    insertGeneratedUser: `INSERT INTO ${s}.users (id, username, email, first_name, last_name)
      VALUES (nextval('${s}.user_ids')::text, $1, $2, $3, $4) ON CONFLICT (id) DO NOTHING RETURNING id`,
    deleteCredentials: `DELETE FROM ${s}.credentials WHERE user_id = $1`,
    /** $1 user id, $2 app slug, $3 external id. */
    upsertCredential: `INSERT INTO ${s}.credentials (user_id, app_slug, external_id) VALUES ($1, $2, $3)
      ON CONFLICT (user_id, app_slug) DO UPDATE SET external_id = EXCLUDED.external_id, linked_at = now()`,
    userExists: `SELECT 1 FROM ${s}.users WHERE id = $1`,

    appId: `SELECT id FROM ${s}.apps WHERE slug = $1`,
    /** $1 app id, $2 user id, $3 agreement version. */
    upsertAgreement: `INSERT INTO ${s}.agreements (app_id, user_id, agreement_version) VALUES ($1, $2, $3)
      ON CONFLICT (app_id, user_id) DO UPDATE SET agreement_version = EXCLUDED.agreement_version, agreed_at = now()
      RETURNING id`,
    clearAgreementScopes: `DELETE FROM ${s}.agreement_optional_scopes WHERE agreement_id = $1`,
    addAgreementScopes: `INSERT INTO ${s}.agreement_optional_scopes (agreement_id, scope_id)
      SELECT $1, sc.id FROM ${s}.scopes sc WHERE sc.slug = ANY ($2::text[]) ON CONFLICT DO NOTHING`,
    /** $1 app slug, or null for every app. */
    listAgreements: `SELECT a.slug AS app, g.user_id, g.agreement_version,
        ARRAY(SELECT sc.slug FROM ${s}.agreement_optional_scopes o JOIN ${s}.scopes sc ON sc.id = o.scope_id
          WHERE o.agreement_id = g.id ORDER BY sc.slug) AS optional_scopes
      FROM ${s}.agreements g JOIN ${s}.apps a ON a.id = g.app_id WHERE $1::text IS NULL OR a.slug = $1
      ORDER BY a.slug, g.user_id`,
    /** $1 app slug, or null for every user. */
    listUsers: `SELECT ${userColumns} FROM ${s}.users u
      WHERE $1::text IS NULL OR EXISTS (SELECT 1 FROM ${s}.credentials c WHERE c.user_id = u.id AND c.app_slug = $1) ORDER BY u.id`,
    /** $1 user id, $2 app slug. */
    deleteCredential: `DELETE FROM ${s}.credentials WHERE user_id = $1 AND app_slug = $2 RETURNING app_slug`,
    listScopes: `SELECT slug, name, description FROM ${s}.scopes ORDER BY slug`,
    /** $1 slug, $2 name, $3 description. */
    insertScope: `INSERT INTO ${s}.scopes (slug, name, description) VALUES ($1, $2, $3)`,
    /** $1 scope slug: the apps that require or offer it (locks the scope row). */
    scopeHolders: `SELECT a.slug FROM ${s}.scopes sc
        JOIN (SELECT app_id, scope_id FROM ${s}.app_required_scopes UNION SELECT app_id, scope_id FROM ${s}.app_optional_scopes) t ON t.scope_id = sc.id
        JOIN ${s}.apps a ON a.id = t.app_id WHERE sc.slug = $1 ORDER BY a.slug`,
    lockScope: `SELECT id FROM ${s}.scopes WHERE slug = $1 FOR UPDATE`,
    deleteScope: `DELETE FROM ${s}.scopes WHERE id = $1`,
    /** $1 app id, $2 scope id. */
    detachScope: (table: ScopeTable) => `DELETE FROM ${s}.${table} WHERE app_id = $1 AND scope_id = $2`,
    attachScope: (table: ScopeTable) => `INSERT INTO ${s}.${table} (app_id, scope_id) VALUES ($1, $2) ON CONFLICT DO NOTHING`,
    deleteAgreement: `DELETE FROM ${s}.agreements g USING ${s}.apps a WHERE a.id = g.app_id AND a.slug = $1 AND g.user_id = $2 RETURNING g.id`
  }
}

export type Sql = ReturnType<typeof buildSql>
