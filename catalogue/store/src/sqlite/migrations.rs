//! The embedded store's schema versions (see `crate::migrations`). The version is SQLite's
//! `PRAGMA user_version` (0 in a new file). A migration's SQL is never edited once released:
//! a change to the schema is a new migration at the end of [`MIGRATIONS`].

use rusqlite::{Connection, Transaction, TransactionBehavior};

use crate::error::CatResult;
use crate::migrations::{Migration, MigrationError, latest, next};

const STORE: &str = "sqlite";

/// A migration's work, inside the transaction that records its version.
type Step = fn(&Transaction) -> CatResult<()>;

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
pub(super) fn migrate(conn: &mut Connection) -> CatResult<()> {
    run(conn, MIGRATIONS)
}

/// Applies the migrations `conn`'s database lacks, each in its own transaction.
fn run(conn: &mut Connection, migrations: &[Migration<Step>]) -> CatResult<()> {
    // Up to date (every open but the first): no write lock taken.
    if next(STORE, user_version(conn)?, migrations)?.is_none() {
        return Ok(());
    }
    loop {
        // IMMEDIATE: a second process opening the same catalogue waits here, then reads the
        // version this one wrote and applies nothing twice.
        let tx = conn.transaction_with_behavior(TransactionBehavior::Immediate)?;
        let Some(m) = next(STORE, user_version(&tx)?, migrations)? else {
            return Ok(());
        };
        (m.apply)(&tx).map_err(MigrationError::failed(STORE, m))?;
        tx.pragma_update(None, "user_version", m.version)?;
        tx.commit()?;
    }
}

fn user_version(conn: &Connection) -> CatResult<i64> {
    Ok(conn.query_row("PRAGMA user_version", [], |r| r.get(0))?)
}

/// 1: the layout of the last release without versions. A new file gets it whole. A file of an
/// unversioned release gets the tables and indexes it lacks (the search log, campaigns...) and
/// the two upgrades those releases made on open: an events table from before the search log
/// is rebuilt, a key table from before roles gets its roles. Then it is that layout too.
fn v1_baseline(tx: &Transaction) -> CatResult<()> {
    tx.execute_batch(V1_TABLES)?;
    rebuild_events_made_before_the_search_log(tx)?;
    add_roles_to_keys_made_before_them(tx)?;
    tx.execute_batch(V1_INDEXES)?;
    Ok(())
}

const V1_TABLES: &str = "
CREATE TABLE IF NOT EXISTS meta (key TEXT PRIMARY KEY, value TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS products (
    key INTEGER PRIMARY KEY AUTOINCREMENT,   -- ANN key; never reused
    id TEXT NOT NULL UNIQUE,
    title TEXT NOT NULL, brand TEXT NOT NULL, price REAL NOT NULL, currency TEXT NOT NULL,
    category TEXT NOT NULL, image TEXT NOT NULL, url TEXT NOT NULL, in_stock INTEGER NOT NULL,
    content_hash TEXT NOT NULL,
    embedding BLOB NOT NULL,                 -- little-endian f32, unit length
    seq INTEGER NOT NULL,                    -- generation of the last write
    updated_at INTEGER NOT NULL
);
CREATE TABLE IF NOT EXISTS tombstones (key INTEGER PRIMARY KEY, seq INTEGER NOT NULL);
CREATE TABLE IF NOT EXISTS events (
    n INTEGER PRIMARY KEY AUTOINCREMENT,     -- never reused, also after a purge
    ts INTEGER NOT NULL, type TEXT NOT NULL, product_id TEXT NOT NULL,
    query_id TEXT, key_name TEXT NOT NULL, position INTEGER, session_id TEXT
);
CREATE TABLE IF NOT EXISTS searches (
    n INTEGER PRIMARY KEY AUTOINCREMENT, query_id TEXT NOT NULL UNIQUE, ts INTEGER NOT NULL,
    key_name TEXT NOT NULL, session_id TEXT, category TEXT, ranking TEXT NOT NULL,
    embedding BLOB NOT NULL,                 -- little-endian f32
    shown TEXT NOT NULL                      -- JSON array of product ids, position 1 first
);
-- role: app, admin, advertiser or brand; brand: only for brand. `admin` is kept in step with
-- the role for binaries that predate roles.
CREATE TABLE IF NOT EXISTS api_keys (
    hash TEXT PRIMARY KEY, name TEXT NOT NULL, admin INTEGER NOT NULL, created_at INTEGER NOT NULL,
    role TEXT NOT NULL DEFAULT 'app', brand TEXT
);
CREATE TABLE IF NOT EXISTS campaigns (
    id TEXT PRIMARY KEY, advertiser TEXT NOT NULL, name TEXT NOT NULL, product_id TEXT NOT NULL,
    bid_cents INTEGER NOT NULL CHECK (bid_cents > 0),
    daily_budget_cents INTEGER NOT NULL CHECK (daily_budget_cents > 0),
    pacing TEXT NOT NULL, frequency_cap INTEGER NOT NULL CHECK (frequency_cap > 0),
    starts_at INTEGER NOT NULL, ends_at INTEGER, paused INTEGER NOT NULL DEFAULT 0,
    created_at INTEGER NOT NULL
);
CREATE TABLE IF NOT EXISTS campaign_days (
    campaign_id TEXT NOT NULL, day INTEGER NOT NULL,
    spent_cents INTEGER NOT NULL DEFAULT 0 CHECK (spent_cents >= 0),
    clicks INTEGER NOT NULL DEFAULT 0,
    PRIMARY KEY (campaign_id, day)
);
CREATE TABLE IF NOT EXISTS ad_serves (
    query_id TEXT NOT NULL, campaign_id TEXT NOT NULL, product_id TEXT NOT NULL,
    position INTEGER NOT NULL, price_cents INTEGER NOT NULL, key_name TEXT NOT NULL,
    session_id TEXT, day INTEGER NOT NULL, at INTEGER NOT NULL,
    PRIMARY KEY (query_id, campaign_id)
);
CREATE TABLE IF NOT EXISTS ad_clicks (
    campaign_id TEXT NOT NULL, query_id TEXT NOT NULL, day INTEGER NOT NULL,
    price_cents INTEGER NOT NULL, at INTEGER NOT NULL,
    PRIMARY KEY (campaign_id, query_id)
);
INSERT OR IGNORE INTO meta VALUES ('gen', '0');
";

/// After the tables are in their v1 shape. `events_ts` serves the purge; `events_once` makes
/// an event count once (same key, type, query and product).
const V1_INDEXES: &str = "
CREATE INDEX IF NOT EXISTS products_seq ON products(seq);
CREATE INDEX IF NOT EXISTS tombstones_seq ON tombstones(seq);
CREATE INDEX IF NOT EXISTS events_ts ON events(ts);
CREATE UNIQUE INDEX IF NOT EXISTS events_once ON events(key_name, type, query_id, product_id)
    WHERE query_id IS NOT NULL;
CREATE INDEX IF NOT EXISTS searches_ts ON searches(ts);
CREATE INDEX IF NOT EXISTS campaigns_advertiser ON campaigns(advertiser);
CREATE INDEX IF NOT EXISTS ad_serves_campaign_day ON ad_serves(campaign_id, day);
CREATE INDEX IF NOT EXISTS ad_serves_session ON ad_serves(session_id, day)
    WHERE session_id IS NOT NULL;
";

/// 2 (issue 22): a charged click keeps the key and session that made it (the per-key and
/// per-session caps count them), and refused clicks are kept with their reason, once per
/// (campaign, search, reason) so that replays cannot grow the table.
fn v2_invalid_clicks(tx: &Transaction) -> CatResult<()> {
    tx.execute_batch(
        "ALTER TABLE ad_clicks ADD COLUMN key_name TEXT;
         ALTER TABLE ad_clicks ADD COLUMN session_id TEXT;
         CREATE INDEX ad_clicks_key ON ad_clicks(campaign_id, key_name, at);
         CREATE INDEX ad_clicks_session ON ad_clicks(campaign_id, session_id, day);
         CREATE TABLE ad_invalid_clicks (
             campaign_id TEXT NOT NULL, query_id TEXT NOT NULL, reason TEXT NOT NULL,
             key_name TEXT NOT NULL, session_id TEXT, day INTEGER NOT NULL, at INTEGER NOT NULL,
             PRIMARY KEY (campaign_id, query_id, reason)
         );",
    )?;
    Ok(())
}

/// 3 (issue 22): each key gets a unique id and may be revoked; a campaign's `advertiser` becomes
/// the id of the key that owns it. A campaign made under a name gets the oldest advertiser or
/// admin key of that name (the name its maker had; with duplicate names, the first such key);
/// one whose name no such key has keeps it, and only admins see it.
fn v3_key_ids(tx: &Transaction) -> CatResult<()> {
    tx.execute_batch(
        "ALTER TABLE api_keys ADD COLUMN id TEXT;
         ALTER TABLE api_keys ADD COLUMN revoked_at INTEGER;
         UPDATE api_keys SET id = 'key_' || lower(hex(randomblob(8)));
         CREATE UNIQUE INDEX api_keys_id ON api_keys(id);
         UPDATE campaigns SET advertiser = (
             SELECT k.id FROM api_keys k
             WHERE k.name = campaigns.advertiser AND k.role IN ('advertiser', 'admin')
             ORDER BY k.created_at, k.hash LIMIT 1)
         WHERE EXISTS (SELECT 1 FROM api_keys k
             WHERE k.name = campaigns.advertiser AND k.role IN ('advertiser', 'admin'));",
    )?;
    Ok(())
}

/// An events table made before the search log (no AUTOINCREMENT, no position or session) is
/// rebuilt in the v1 shape; of the events reported twice with a query id the first is kept.
fn rebuild_events_made_before_the_search_log(tx: &Transaction) -> CatResult<()> {
    let sql: String = tx.query_row(
        "SELECT sql FROM sqlite_master WHERE type='table' AND name='events'",
        [],
        |r| r.get(0),
    )?;
    if !sql.contains("AUTOINCREMENT") {
        tx.execute_batch(
            "ALTER TABLE events RENAME TO events_old;
             CREATE TABLE events (
                 n INTEGER PRIMARY KEY AUTOINCREMENT,
                 ts INTEGER NOT NULL, type TEXT NOT NULL, product_id TEXT NOT NULL,
                 query_id TEXT, key_name TEXT NOT NULL, position INTEGER, session_id TEXT
             );
             INSERT INTO events (n, ts, type, product_id, query_id, key_name)
                 SELECT n, ts, type, product_id, query_id, key_name FROM events_old
                 WHERE query_id IS NULL OR n IN (SELECT min(n) FROM events_old
                     WHERE query_id IS NOT NULL GROUP BY key_name, type, query_id, product_id);
             DROP TABLE events_old;",
        )?;
    }
    Ok(())
}

/// A key table made before roles gets `role` (admin keys become `admin`, the others `app`)
/// and `brand`.
fn add_roles_to_keys_made_before_them(tx: &Transaction) -> CatResult<()> {
    let has_role: bool = tx.query_row(
        "SELECT count(*) > 0 FROM pragma_table_info('api_keys') WHERE name = 'role'",
        [],
        |r| r.get(0),
    )?;
    if !has_role {
        tx.execute_batch(
            "ALTER TABLE api_keys ADD COLUMN role TEXT NOT NULL DEFAULT 'app';
             ALTER TABLE api_keys ADD COLUMN brand TEXT;
             UPDATE api_keys SET role = 'admin' WHERE admin <> 0;",
        )?;
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::error::CatError;

    fn steps() -> Vec<Migration<Step>> {
        vec![
            Migration {
                version: 1,
                name: "a table",
                apply: |tx| Ok(tx.execute_batch("CREATE TABLE t (a INTEGER)")?),
            },
            Migration {
                version: 2,
                name: "a column",
                apply: |tx| Ok(tx.execute_batch("ALTER TABLE t ADD COLUMN b TEXT")?),
            },
            Migration {
                version: 3,
                name: "a row, then a mistake",
                apply: |tx| {
                    tx.execute_batch("INSERT INTO t VALUES (1, 'x')")?;
                    Ok(tx.execute_batch("INSERT INTO no_such_table VALUES (1)")?)
                },
            },
        ]
    }

    fn columns(conn: &Connection) -> Vec<String> {
        let mut stmt = conn
            .prepare("SELECT name FROM pragma_table_info('t') ORDER BY cid")
            .unwrap();
        stmt.query_map([], |r| r.get(0))
            .unwrap()
            .collect::<rusqlite::Result<_>>()
            .unwrap()
    }

    #[test]
    fn missing_migrations_are_applied_in_order_and_recorded() {
        let mut conn = Connection::open_in_memory().unwrap();
        let steps = steps();
        run(&mut conn, &steps[..1]).unwrap();
        assert_eq!(user_version(&conn).unwrap(), 1);
        assert_eq!(columns(&conn), ["a"]);
        // A release with one more migration applies only that one.
        run(&mut conn, &steps[..2]).unwrap();
        assert_eq!(user_version(&conn).unwrap(), 2);
        assert_eq!(columns(&conn), ["a", "b"]);
        // Up to date: nothing runs again (a second CREATE TABLE t would fail).
        run(&mut conn, &steps[..2]).unwrap();
        // An older release refuses it.
        match run(&mut conn, &steps[..1]) {
            Err(CatError::Migration(MigrationError::TooNew {
                found: 2,
                latest: 1,
                ..
            })) => {}
            r => panic!("a version-2 database opened by a version-1 release: {r:?}"),
        }
    }

    #[test]
    fn a_failed_migration_is_rolled_back_and_the_version_kept() {
        let mut conn = Connection::open_in_memory().unwrap();
        match run(&mut conn, &steps()) {
            Err(CatError::Migration(MigrationError::Failed { version: 3, .. })) => {}
            r => panic!("migration 3 cannot succeed: {r:?}"),
        }
        assert_eq!(user_version(&conn).unwrap(), 2, "1 and 2 are kept");
        let rows: i64 = conn
            .query_row("SELECT count(*) FROM t", [], |r| r.get(0))
            .unwrap();
        assert_eq!(rows, 0, "the row written by the failed migration is gone");
    }

    #[test]
    fn the_schema_is_made_once_and_the_file_stamped() {
        let mut conn = Connection::open_in_memory().unwrap();
        migrate(&mut conn).unwrap();
        assert_eq!(user_version(&conn).unwrap(), i64::from(SCHEMA_VERSION));
        migrate(&mut conn).unwrap();
        let generation: String = conn
            .query_row("SELECT value FROM meta WHERE key = 'gen'", [], |r| r.get(0))
            .unwrap();
        assert_eq!(generation, "0");
    }
}
