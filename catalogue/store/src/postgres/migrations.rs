//! The PostgreSQL store's schema versions (see `crate::migrations`). The version is the one row
//! of `schema_version` (no table, or 0: none recorded). A migration's SQL is never edited once
//! released: a change to the schema is a new migration at the end of [`MIGRATIONS`].
//!
//! The products table is made later than the rest, when the catalogue's model contract is set
//! (its vector column needs the dimension): [`create_products_table`] makes it in the current
//! layout, so a migration that changes it must change that function too, and change the table
//! where it exists.

use postgres::{Client, Transaction};

use crate::error::CatResult;
use crate::migrations::{Migration, MigrationError, latest, next};

const STORE: &str = "postgres";

/// Advisory lock held while the schema changes: API servers starting together take turns.
const SCHEMA_LOCK: i64 = 7265823;

/// A migration's work, inside the transaction that records its version.
type Step = fn(&mut Transaction<'_>) -> CatResult<()>;

const MIGRATIONS: &[Migration<Step>] = &[
    Migration {
        version: 1,
        name: "the layout of the last release without versions",
        apply: v1_baseline,
    },
    Migration {
        version: 2,
        name: "invalid clicks: who clicked, and the refused clicks",
        apply: v2_invalid_clicks,
    },
    Migration {
        version: 3,
        name: "key ids and revocation; campaigns owned by key id",
        apply: v3_key_ids,
    },
];

/// The schema version this release writes and reads.
pub const SCHEMA_VERSION: u32 = latest(MIGRATIONS);

/// Brings the database to [`SCHEMA_VERSION`], or refuses it when it is newer.
pub(super) fn migrate(c: &mut Client) -> CatResult<()> {
    run(c, MIGRATIONS)
}

/// Applies the migrations the database lacks, each in its own transaction.
fn run(c: &mut Client, migrations: &[Migration<Step>]) -> CatResult<()> {
    // Up to date (every open but the first): no lock taken, nothing written.
    let has_version: bool = c
        .query_one("SELECT to_regclass('schema_version') IS NOT NULL", &[])?
        .get(0);
    if has_version
        && let Some(row) = c.query_opt("SELECT version FROM schema_version", &[])?
        && next(STORE, row.get::<_, i32>(0).into(), migrations)?.is_none()
    {
        return Ok(());
    }
    loop {
        let mut tx = c.transaction()?;
        tx.execute("SELECT pg_advisory_xact_lock($1)", &[&SCHEMA_LOCK])?;
        // Read under the lock: another server may have migrated meanwhile.
        let found = schema_version(&mut tx)?;
        let Some(m) = next(STORE, found, migrations)? else {
            tx.commit()?;
            return Ok(());
        };
        (m.apply)(&mut tx).map_err(MigrationError::failed(STORE, m))?;
        tx.execute(
            "UPDATE schema_version SET version = $1",
            &[&(m.version as i32)],
        )?;
        tx.commit()?;
    }
}

/// The recorded version; makes the one-row table (at 0) where there is none.
fn schema_version(tx: &mut Transaction<'_>) -> CatResult<i64> {
    tx.batch_execute(
        "CREATE TABLE IF NOT EXISTS schema_version (
             one_row boolean PRIMARY KEY DEFAULT true CHECK (one_row),
             version integer NOT NULL
         );
         INSERT INTO schema_version (version) VALUES (0) ON CONFLICT DO NOTHING;",
    )?;
    let version: i32 = tx
        .query_one("SELECT version FROM schema_version", &[])?
        .get(0);
    Ok(version.into())
}

/// 1: the layout of the last release without versions. A new database gets it whole (but for
/// the products table, see the module's comment). A database of an unversioned release gets
/// what it lacks (the search log, roles, campaigns...) and the upgrades those releases made on
/// open: an events table from before the search log gets its columns and loses duplicates; a
/// key table from before roles gets its roles; a products table gets inline vectors and the
/// ASCII-case category index. Then it is that layout too.
fn v1_baseline(tx: &mut Transaction<'_>) -> CatResult<()> {
    tx.batch_execute(V1)?;
    let has_products: bool = tx
        .query_one("SELECT to_regclass('products') IS NOT NULL", &[])?
        .get(0);
    if has_products {
        tx.batch_execute(V1_PRODUCTS_UPGRADE)?;
    }
    Ok(())
}

const V1: &str = "
CREATE EXTENSION IF NOT EXISTS vector;
CREATE TABLE IF NOT EXISTS catalogue_meta (key text PRIMARY KEY, value text NOT NULL);
CREATE TABLE IF NOT EXISTS events (
    n bigserial PRIMARY KEY, ts timestamptz NOT NULL DEFAULT now(), type text NOT NULL,
    product_id text NOT NULL, query_id text, key_name text NOT NULL
);
-- An events table from before the search log: its columns, and of the events reported twice
-- with a query id the first is kept (events_once then makes an event count once).
ALTER TABLE events ADD COLUMN IF NOT EXISTS position integer;
ALTER TABLE events ADD COLUMN IF NOT EXISTS session_id text;
DO $$ BEGIN
    IF to_regclass('events_once') IS NULL THEN
        DELETE FROM events a USING events b
        WHERE a.query_id IS NOT NULL AND a.key_name = b.key_name AND a.type = b.type
            AND a.query_id = b.query_id AND a.product_id = b.product_id AND a.n > b.n;
    END IF;
END $$;
CREATE INDEX IF NOT EXISTS events_ts ON events (ts);
CREATE UNIQUE INDEX IF NOT EXISTS events_once ON events (key_name, type, query_id, product_id)
    WHERE query_id IS NOT NULL;
CREATE TABLE IF NOT EXISTS searches (
    n bigserial PRIMARY KEY, query_id text NOT NULL UNIQUE, ts timestamptz NOT NULL DEFAULT now(),
    key_name text NOT NULL, session_id text, category text, ranking text NOT NULL,
    embedding bytea NOT NULL, shown text NOT NULL
);
CREATE INDEX IF NOT EXISTS searches_ts ON searches (ts);
CREATE TABLE IF NOT EXISTS api_keys (
    hash text PRIMARY KEY, name text NOT NULL, admin boolean NOT NULL,
    created_at timestamptz NOT NULL DEFAULT now()
);
-- Roles (a key table from before them: admin keys become 'admin', the others 'app'). `admin`
-- stays, kept in step with the role for binaries that predate roles.
ALTER TABLE api_keys ADD COLUMN IF NOT EXISTS role text;
ALTER TABLE api_keys ADD COLUMN IF NOT EXISTS brand text;
UPDATE api_keys SET role = CASE WHEN admin THEN 'admin' ELSE 'app' END WHERE role IS NULL;
ALTER TABLE api_keys ALTER COLUMN role SET NOT NULL;
CREATE TABLE IF NOT EXISTS campaigns (
    id text PRIMARY KEY, advertiser text NOT NULL, name text NOT NULL, product_id text NOT NULL,
    bid_cents bigint NOT NULL CHECK (bid_cents > 0),
    daily_budget_cents bigint NOT NULL CHECK (daily_budget_cents > 0),
    pacing text NOT NULL, frequency_cap integer NOT NULL CHECK (frequency_cap > 0),
    starts_at bigint NOT NULL, ends_at bigint, paused boolean NOT NULL DEFAULT false,
    created_at bigint NOT NULL
);
CREATE INDEX IF NOT EXISTS campaigns_advertiser ON campaigns (advertiser);
CREATE TABLE IF NOT EXISTS campaign_days (
    campaign_id text NOT NULL, day bigint NOT NULL,
    spent_cents bigint NOT NULL DEFAULT 0 CHECK (spent_cents >= 0),
    clicks bigint NOT NULL DEFAULT 0,
    PRIMARY KEY (campaign_id, day)
);
CREATE TABLE IF NOT EXISTS ad_serves (
    query_id text NOT NULL, campaign_id text NOT NULL, product_id text NOT NULL,
    position integer NOT NULL, price_cents bigint NOT NULL, key_name text NOT NULL,
    session_id text, day bigint NOT NULL, at bigint NOT NULL,
    PRIMARY KEY (query_id, campaign_id)
);
CREATE INDEX IF NOT EXISTS ad_serves_campaign_day ON ad_serves (campaign_id, day);
CREATE INDEX IF NOT EXISTS ad_serves_session ON ad_serves (session_id, day)
    WHERE session_id IS NOT NULL;
CREATE TABLE IF NOT EXISTS ad_clicks (
    campaign_id text NOT NULL, query_id text NOT NULL, day bigint NOT NULL,
    price_cents bigint NOT NULL, at bigint NOT NULL,
    PRIMARY KEY (campaign_id, query_id)
);
";

/// 2 (issue 22): a charged click keeps the key and session that made it (the per-key and
/// per-session caps count them), and refused clicks are kept with their reason, once per
/// (campaign, search, reason) so that replays cannot grow the table.
fn v2_invalid_clicks(tx: &mut Transaction<'_>) -> CatResult<()> {
    tx.batch_execute(
        "ALTER TABLE ad_clicks ADD COLUMN key_name text, ADD COLUMN session_id text;
         CREATE INDEX ad_clicks_key ON ad_clicks (campaign_id, key_name, at);
         CREATE INDEX ad_clicks_session ON ad_clicks (campaign_id, session_id, day);
         CREATE TABLE ad_invalid_clicks (
             campaign_id text NOT NULL, query_id text NOT NULL, reason text NOT NULL,
             key_name text NOT NULL, session_id text, day bigint NOT NULL, at bigint NOT NULL,
             PRIMARY KEY (campaign_id, query_id, reason)
         );",
    )?;
    Ok(())
}

/// 3 (issue 22): each key gets a unique id and may be revoked; a campaign's `advertiser` becomes
/// the id of the key that owns it (as in the embedded store's migration 3: the oldest advertiser
/// or admin key of the campaign's name; a name no such key has is kept, for admins only).
fn v3_key_ids(tx: &mut Transaction<'_>) -> CatResult<()> {
    tx.batch_execute(
        "ALTER TABLE api_keys ADD COLUMN id text, ADD COLUMN revoked_at bigint;
         UPDATE api_keys SET id = 'key_' || substr(md5(random()::text || hash), 1, 16);
         ALTER TABLE api_keys ALTER COLUMN id SET NOT NULL;
         CREATE UNIQUE INDEX api_keys_id ON api_keys (id);
         UPDATE campaigns c SET advertiser = (
             SELECT k.id FROM api_keys k
             WHERE k.name = c.advertiser AND k.role IN ('advertiser', 'admin')
             ORDER BY k.created_at, k.hash LIMIT 1)
         WHERE EXISTS (SELECT 1 FROM api_keys k
             WHERE k.name = c.advertiser AND k.role IN ('advertiser', 'admin'));",
    )?;
    Ok(())
}

/// A products table of an unversioned release: vectors inline (see [`create_products_table`]),
/// and the category index of the release before filters ignored ASCII case only replaced.
const V1_PRODUCTS_UPGRADE: &str = "
DO $$ BEGIN
  IF (SELECT attstorage FROM pg_attribute
      WHERE attrelid = 'products'::regclass AND attname = 'embedding') <> 'p' THEN
    ALTER TABLE products ALTER COLUMN embedding SET STORAGE PLAIN;
  END IF;
END $$;
CREATE INDEX IF NOT EXISTS products_embedding_hnsw ON products
   USING hnsw (embedding vector_ip_ops) WITH (m = 16, ef_construction = 128);
DROP INDEX IF EXISTS products_category;
CREATE INDEX IF NOT EXISTS products_category_ascii ON products (lower(category COLLATE \"C\"));
";

/// Makes the products table for vectors of `dim` dimensions, in the current layout, unless it
/// exists. Under the schema lock: servers setting the contract together make it once.
pub(super) fn create_products_table(c: &mut Client, dim: usize) -> CatResult<()> {
    let mut tx = c.transaction()?;
    tx.execute("SELECT pg_advisory_xact_lock($1)", &[&SCHEMA_LOCK])?;
    let exists: bool = tx
        .query_one("SELECT to_regclass('products') IS NOT NULL", &[])?
        .get(0);
    if !exists {
        tx.batch_execute(&format!(
            "CREATE TABLE products (
                id text PRIMARY KEY, title text NOT NULL, brand text NOT NULL,
                price double precision NOT NULL, currency text NOT NULL, category text NOT NULL,
                image text NOT NULL, url text NOT NULL, in_stock boolean NOT NULL,
                content_hash text NOT NULL, embedding vector({dim}) NOT NULL,
                updated_at timestamptz NOT NULL DEFAULT now());
             -- A 1280-d vector (5 KB) would be moved out of line (TOAST), where the planner
             -- does not count it: it then costs a full scan of the rows as cheap and, at
             -- some ef_search values, picks it over the HNSW index (measured: 700 ms instead
             -- of 3 ms per search at 100k products). Inline storage keeps the costs honest.
             ALTER TABLE products ALTER COLUMN embedding SET STORAGE PLAIN;
             CREATE INDEX products_embedding_hnsw ON products
                USING hnsw (embedding vector_ip_ops) WITH (m = 16, ef_construction = 128);
             -- Filters ignore ASCII case only (store::passes), whatever the database's
             -- locale: lower() under COLLATE \"C\" folds A-Z alone.
             CREATE INDEX products_category_ascii ON products (lower(category COLLATE \"C\"));"
        ))?;
    }
    tx.commit()?;
    Ok(())
}
