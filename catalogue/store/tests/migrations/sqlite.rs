//! The embedded store's schema version (`PRAGMA user_version`).

use rusqlite::{Connection, params};
use shoplook_store::conformance::Backend;
use shoplook_store::sqlite::{DEFAULT_QUANTIZATION, SCHEMA_VERSION, SqliteStore};

use super::common::SqliteDir;
use super::*;

const UNVERSIONED: &str = include_str!("../fixtures/sqlite-unversioned.sql");
const FIRST_RELEASE: &str = include_str!("../fixtures/sqlite-first-release.sql");

fn connect(dir: &SqliteDir) -> Connection {
    Connection::open(dir.db_path()).unwrap()
}

fn user_version(dir: &SqliteDir) -> i64 {
    connect(dir)
        .query_row("PRAGMA user_version", [], |r| r.get(0))
        .unwrap()
}

/// Every table and index with its SQL, comments and whitespace left out (a column added by
/// `ALTER TABLE` is spliced into the stored text where a comment may precede it).
fn layout(dir: &SqliteDir) -> Vec<String> {
    let conn = connect(dir);
    let mut stmt = conn
        .prepare(
            "SELECT type, name, tbl_name, sql FROM sqlite_master
             WHERE name NOT LIKE 'sqlite_%' ORDER BY type, name",
        )
        .unwrap();
    let rows = stmt
        .query_map([], |r| {
            let sql: String = r.get(3)?;
            let sql: String = sql
                .lines()
                .map(|line| line.split("--").next().unwrap_or_default())
                .collect::<String>()
                .split_whitespace()
                .collect();
            Ok(format!(
                "{} {} on {}: {sql}",
                r.get::<_, String>(0)?,
                r.get::<_, String>(1)?,
                r.get::<_, String>(2)?
            ))
        })
        .unwrap();
    rows.collect::<rusqlite::Result<_>>().unwrap()
}

/// The layout of a catalogue made by this release.
fn fresh_layout() -> Vec<String> {
    let dir = SqliteDir::fresh().unwrap();
    drop(dir.open());
    layout(&dir)
}

/// The contract and products `p00`..`p07`, as rows (no index file: the store rebuilds it).
fn insert_products(conn: &Connection) {
    conn.execute(
        "INSERT INTO meta VALUES ('contract', ?1)",
        [serde_json::to_string(&contract()).unwrap()],
    )
    .unwrap();
    for i in 0..PRODUCTS {
        let p = product(i);
        conn.execute(
            "INSERT INTO products (id, title, brand, price, currency, category, image, url,
                 in_stock, content_hash, embedding, seq, updated_at)
             VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13)",
            params![
                p.id,
                p.title,
                p.brand,
                p.price,
                p.currency,
                p.category,
                p.image,
                p.url,
                p.in_stock as i64,
                hash(i),
                blob(&vector(i)),
                i as i64 + 1,
                T
            ],
        )
        .unwrap();
    }
    conn.execute(
        "UPDATE meta SET value = ?1 WHERE key = 'gen'",
        [PRODUCTS.to_string()],
    )
    .unwrap();
}

/// The rows of `assert_previous_release_data`, as the last unversioned release wrote them.
fn fill_previous_release(conn: &Connection) {
    insert_products(conn);
    conn.execute(
        "INSERT INTO meta VALUES ('quantization', ?1)",
        [DEFAULT_QUANTIZATION],
    )
    .unwrap();
    for (e, key_name, at) in old_events() {
        conn.execute(
            "INSERT INTO events (ts, type, product_id, query_id, key_name, position, session_id)
             VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7)",
            params![
                at,
                e.kind.as_str(),
                e.product_id,
                e.query_id,
                key_name,
                e.position,
                e.session_id
            ],
        )
        .unwrap();
    }
    let (s, at) = old_search();
    conn.execute(
        "INSERT INTO searches (query_id, ts, key_name, session_id, category, ranking, embedding,
             shown) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8)",
        params![
            s.query_id,
            at,
            s.key_name,
            s.session_id,
            s.category,
            s.ranking.as_str(),
            blob(&s.embedding),
            serde_json::to_string(&s.shown).unwrap()
        ],
    )
    .unwrap();
    for (hash, name, role) in old_keys() {
        conn.execute(
            "INSERT INTO api_keys (hash, name, admin, created_at, role, brand)
             VALUES (?1, ?2, ?3, ?4, ?5, ?6)",
            params![
                hash,
                name,
                (role == Role::Admin) as i64,
                T,
                role.as_str(),
                role.brand()
            ],
        )
        .unwrap();
    }
    let c = old_campaign();
    conn.execute(
        "INSERT INTO campaigns (id, advertiser, name, product_id, bid_cents, daily_budget_cents,
             pacing, frequency_cap, starts_at, ends_at, paused, created_at)
         VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12)",
        params![
            c.id,
            c.advertiser,
            c.name,
            c.product_id,
            c.bid_cents,
            c.daily_budget_cents,
            c.pacing.as_str(),
            c.frequency_cap,
            c.starts_at,
            c.ends_at,
            c.paused as i64,
            c.created_at
        ],
    )
    .unwrap();
    for (serve, clicked_at) in [
        (old_serve("q1", T), T + 1),
        (old_serve("q2", T + 30), T + 31),
    ] {
        conn.execute(
            "INSERT INTO ad_serves (query_id, campaign_id, product_id, position, price_cents,
                 key_name, session_id, day, at) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9)",
            params![
                serve.query_id,
                serve.campaign_id,
                serve.product_id,
                serve.position,
                serve.price_cents,
                serve.key_name,
                serve.session_id,
                day(),
                serve.at
            ],
        )
        .unwrap();
        conn.execute(
            "INSERT INTO ad_clicks (campaign_id, query_id, day, price_cents, at)
             VALUES (?1, ?2, ?3, ?4, ?5)",
            params![c.id, serve.query_id, day(), serve.price_cents, clicked_at],
        )
        .unwrap();
    }
    conn.execute(
        "INSERT INTO campaign_days (campaign_id, day, spent_cents, clicks) VALUES (?1, ?2, 120, 2)",
        params![c.id, day()],
    )
    .unwrap();
}

#[test]
fn a_new_catalogue_has_the_schema_of_the_last_unversioned_release() {
    let old = SqliteDir::fresh().unwrap();
    connect(&old).execute_batch(UNVERSIONED).unwrap();
    let new = SqliteDir::fresh().unwrap();
    drop(new.open());
    let new_layout = layout(&new);
    assert!(
        new_layout.len() >= 18,
        "10 tables, 8 indexes: {new_layout:#?}"
    );
    assert_eq!(user_version(&new), i64::from(SCHEMA_VERSION));
    assert_eq!(user_version(&old), 0, "that release recorded no version");
    // Later migrations (2: invalid clicks) change it the same way on both.
    drop(old.open());
    assert_same_layout(&new_layout, &layout(&old));
}

#[test]
fn a_catalogue_of_the_last_unversioned_release_is_upgraded_with_its_data() {
    let dir = SqliteDir::fresh().unwrap();
    let conn = connect(&dir);
    conn.execute_batch(UNVERSIONED).unwrap();
    fill_previous_release(&conn);
    drop(conn);

    let store = dir.open();
    assert_eq!(user_version(&dir), i64::from(SCHEMA_VERSION));
    assert_same_layout(&layout(&dir), &fresh_layout());
    assert_previous_release_data(store.as_ref());
    drop(store);
    // Opened again: nothing to migrate, everything kept.
    let store = dir.open();
    assert_eq!(user_version(&dir), i64::from(SCHEMA_VERSION));
    assert_eq!(store.events_since(0, 100).unwrap().len(), 4);
    assert_eq!(store.ids().unwrap().len(), PRODUCTS + 1);
}

#[test]
fn a_catalogue_of_the_first_release_is_upgraded_with_its_data() {
    let dir = SqliteDir::fresh().unwrap();
    let conn = connect(&dir);
    conn.execute_batch(FIRST_RELEASE).unwrap();
    insert_products(&conn);
    conn.execute_batch(&format!(
        "INSERT INTO events (ts, type, product_id, query_id, key_name)
             SELECT 1, column1, column2, column3, column4 FROM (VALUES {FIRST_RELEASE_EVENTS});
         INSERT INTO api_keys VALUES ('h-old-app', 'phone', 0, 1), ('h-old-admin', 'ops', 1, 1);"
    ))
    .unwrap();
    drop(conn);

    let store = dir.open();
    assert_eq!(user_version(&dir), i64::from(SCHEMA_VERSION));
    assert_same_layout(&layout(&dir), &fresh_layout());
    assert_products(store.as_ref());
    assert_first_release_events(store.as_ref());
    assert_first_release_keys(store.as_ref());
    assert_new_tables_work(store.as_ref());
}

/// An events table of the first release alone (the store makes the rest).
#[test]
fn old_event_log_is_migrated() {
    let dir = SqliteDir::fresh().unwrap();
    connect(&dir)
        .execute_batch(&format!(
            "CREATE TABLE events (n INTEGER PRIMARY KEY, ts INTEGER NOT NULL,
                 type TEXT NOT NULL, product_id TEXT NOT NULL, query_id TEXT,
                 key_name TEXT NOT NULL);
             INSERT INTO events (ts, type, product_id, query_id, key_name)
                 SELECT 1, column1, column2, column3, column4
                 FROM (VALUES {FIRST_RELEASE_EVENTS});"
        ))
        .unwrap();
    assert_first_release_events(dir.open().as_ref());
}

/// A key table of the first release alone.
#[test]
fn old_key_table_is_migrated() {
    let dir = SqliteDir::fresh().unwrap();
    connect(&dir)
        .execute_batch(
            "CREATE TABLE api_keys (hash TEXT PRIMARY KEY, name TEXT NOT NULL,
                 admin INTEGER NOT NULL, created_at INTEGER NOT NULL);
             INSERT INTO api_keys VALUES ('h-old-app', 'phone', 0, 1),
                 ('h-old-admin', 'ops', 1, 1);",
        )
        .unwrap();
    assert_first_release_keys(dir.open().as_ref());
    // Opening again changes nothing.
    let store = dir.open();
    assert_eq!(
        named(store.find_key("h-old-admin").unwrap()),
        key("ops", Role::Admin)
    );
    assert_eq!(
        named(store.find_key("h-old-app").unwrap()),
        key("phone", Role::App)
    );
}

#[test]
fn a_catalogue_of_a_newer_schema_is_refused() {
    let dir = SqliteDir::fresh().unwrap();
    dir.open().create_key("k", "h-k", &Role::App).unwrap();
    connect(&dir)
        .pragma_update(None, "user_version", SCHEMA_VERSION + 1)
        .unwrap();
    assert_too_new(
        SqliteStore::open(dir.path(), DEFAULT_QUANTIZATION),
        "sqlite",
        SCHEMA_VERSION,
    );
    assert_eq!(
        user_version(&dir),
        i64::from(SCHEMA_VERSION) + 1,
        "left as it was"
    );
    let keys: i64 = connect(&dir)
        .query_row("SELECT count(*) FROM api_keys", [], |r| r.get(0))
        .unwrap();
    assert_eq!(keys, 1);
}
