//! The PostgreSQL store's schema version (the one row of `schema_version`).

use pgvector::Vector;
// `::`: this module is named `postgres` too.
use ::postgres::Client;
use shoplook_store::conformance::Backend;
use shoplook_store::postgres::{PgStore, SCHEMA_VERSION};

use super::common::PgDatabase;
use super::*;

const UNVERSIONED: &str = include_str!("../fixtures/postgres-unversioned.sql");
const FIRST_RELEASE: &str = include_str!("../fixtures/postgres-first-release.sql");

fn schema_version(db: &PgDatabase) -> i64 {
    let row = db
        .connect()
        .query_one("SELECT version FROM schema_version", &[])
        .unwrap();
    row.get::<_, i32>(0).into()
}

/// Every column (type, null, storage, default), index, constraint and extension, but for the
/// version's own table.
fn layout(db: &PgDatabase) -> Vec<String> {
    let rows = db
        .connect()
        .query(
            "SELECT 'column ' || c.relname || '.' || a.attname || ' #' || a.attnum || ' '
                    || format_type(a.atttypid, a.atttypmod)
                    || CASE WHEN a.attnotnull THEN ' not null' ELSE '' END
                    || ' storage ' || a.attstorage::text
                    || coalesce(' default ' || pg_get_expr(d.adbin, d.adrelid), '')
             FROM pg_attribute a
             JOIN pg_class c ON c.oid = a.attrelid
             LEFT JOIN pg_attrdef d ON d.adrelid = a.attrelid AND d.adnum = a.attnum
             WHERE c.relnamespace = 'public'::regnamespace AND c.relkind = 'r'
                 AND c.relname <> 'schema_version' AND a.attnum > 0 AND NOT a.attisdropped
             UNION ALL
             SELECT 'index ' || indexdef FROM pg_indexes
             WHERE schemaname = 'public' AND tablename <> 'schema_version'
             UNION ALL
             SELECT 'constraint ' || conrelid::regclass::text || ' ' || conname || ' '
                    || pg_get_constraintdef(oid)
             FROM pg_constraint
             WHERE connamespace = 'public'::regnamespace
                 AND conrelid::regclass::text <> 'schema_version'
             UNION ALL
             SELECT 'extension ' || extname FROM pg_extension
             ORDER BY 1",
            &[],
        )
        .unwrap();
    rows.iter().map(|r| r.get(0)).collect()
}

/// The layout of a database made by this release, once it has a contract (and so products).
fn fresh_layout() -> Option<Vec<String>> {
    let db = PgDatabase::fresh()?;
    db.open().ensure_contract(&contract()).unwrap();
    Some(layout(&db))
}

/// A database holding `ddl`, made by a release without versions.
fn old_database(ddl: &str) -> Option<(PgDatabase, Client)> {
    let db = PgDatabase::fresh()?;
    let mut c = db.connect();
    c.batch_execute(ddl).unwrap();
    Some((db, c))
}

/// The contract and products `p00`..`p07`.
fn insert_products(c: &mut Client) {
    c.execute(
        "INSERT INTO catalogue_meta VALUES ('contract', $1)",
        &[&serde_json::to_string(&contract()).unwrap()],
    )
    .unwrap();
    for i in 0..PRODUCTS {
        let p = product(i);
        c.execute(
            "INSERT INTO products (id, title, brand, price, currency, category, image, url,
                 in_stock, content_hash, embedding, updated_at)
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, to_timestamp($12::bigint))",
            &[
                &p.id,
                &p.title,
                &p.brand,
                &p.price,
                &p.currency,
                &p.category,
                &p.image,
                &p.url,
                &p.in_stock,
                &hash(i),
                &Vector::from(vector(i)),
                &T,
            ],
        )
        .unwrap();
    }
}

/// The rows of `assert_previous_release_data`, as the last unversioned release wrote them.
fn fill_previous_release(c: &mut Client) {
    insert_products(c);
    for (e, key_name, at) in old_events() {
        c.execute(
            "INSERT INTO events (ts, type, product_id, query_id, key_name, position, session_id)
             VALUES (to_timestamp($1::bigint), $2, $3, $4, $5, $6, $7)",
            &[
                &at,
                &e.kind.as_str(),
                &e.product_id,
                &e.query_id,
                &key_name,
                &e.position.map(|p| p as i32),
                &e.session_id,
            ],
        )
        .unwrap();
    }
    let (s, at) = old_search();
    c.execute(
        "INSERT INTO searches (query_id, ts, key_name, session_id, category, ranking, embedding,
             shown) VALUES ($1, to_timestamp($2::bigint), $3, $4, $5, $6, $7, $8)",
        &[
            &s.query_id,
            &at,
            &s.key_name,
            &s.session_id,
            &s.category,
            &s.ranking.as_str(),
            &blob(&s.embedding),
            &serde_json::to_string(&s.shown).unwrap(),
        ],
    )
    .unwrap();
    for (hash, name, role) in old_keys() {
        c.execute(
            "INSERT INTO api_keys (hash, name, admin, role, brand) VALUES ($1, $2, $3, $4, $5)",
            &[
                &hash,
                &name,
                &(role == Role::Admin),
                &role.as_str(),
                &role.brand(),
            ],
        )
        .unwrap();
    }
    let k = old_campaign();
    c.execute(
        "INSERT INTO campaigns (id, advertiser, name, product_id, bid_cents, daily_budget_cents,
             pacing, frequency_cap, starts_at, ends_at, paused, created_at)
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12)",
        &[
            &k.id,
            &k.advertiser,
            &k.name,
            &k.product_id,
            &k.bid_cents,
            &k.daily_budget_cents,
            &k.pacing.as_str(),
            &(k.frequency_cap as i32),
            &k.starts_at,
            &k.ends_at,
            &k.paused,
            &k.created_at,
        ],
    )
    .unwrap();
    for (serve, clicked_at) in [
        (old_serve("q1", T), T + 1),
        (old_serve("q2", T + 30), T + 31),
    ] {
        c.execute(
            "INSERT INTO ad_serves (query_id, campaign_id, product_id, position, price_cents,
                 key_name, session_id, day, at) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)",
            &[
                &serve.query_id,
                &serve.campaign_id,
                &serve.product_id,
                &(serve.position as i32),
                &serve.price_cents,
                &serve.key_name,
                &serve.session_id,
                &day(),
                &serve.at,
            ],
        )
        .unwrap();
        c.execute(
            "INSERT INTO ad_clicks (campaign_id, query_id, day, price_cents, at)
             VALUES ($1, $2, $3, $4, $5)",
            &[
                &k.id,
                &serve.query_id,
                &day(),
                &serve.price_cents,
                &clicked_at,
            ],
        )
        .unwrap();
    }
    c.execute(
        "INSERT INTO campaign_days (campaign_id, day, spent_cents, clicks) VALUES ($1, $2, 120, 2)",
        &[&k.id, &day()],
    )
    .unwrap();
}

/// The first release's event log with duplicates, and its keys.
fn fill_first_release_logs(c: &mut Client) {
    c.batch_execute(&format!(
        "INSERT INTO events (type, product_id, query_id, key_name) VALUES {FIRST_RELEASE_EVENTS};
         INSERT INTO api_keys (hash, name, admin)
             VALUES ('h-old-app', 'phone', false), ('h-old-admin', 'ops', true);"
    ))
    .unwrap();
}

#[test]
fn a_new_database_has_the_schema_of_the_last_unversioned_release() {
    let Some((old, _)) = old_database(UNVERSIONED) else {
        return;
    };
    let new = fresh_layout().unwrap();
    assert!(new.len() > 50, "{new:#?}");
    let unversioned: bool = old
        .connect()
        .query_one("SELECT to_regclass('schema_version') IS NULL", &[])
        .unwrap()
        .get(0);
    assert!(unversioned, "that release recorded no version");
    // Later migrations (2: invalid clicks) change it the same way on both.
    drop(old.open());
    assert_same_layout(&new, &layout(&old));
}

#[test]
fn a_database_of_the_last_unversioned_release_is_upgraded_with_its_data() {
    let Some((db, mut c)) = old_database(UNVERSIONED) else {
        return;
    };
    fill_previous_release(&mut c);
    drop(c);

    let store = db.open();
    assert_eq!(schema_version(&db), i64::from(SCHEMA_VERSION));
    assert_same_layout(&layout(&db), &fresh_layout().unwrap());
    assert_previous_release_data(store.as_ref());
    drop(store);
    let store = db.open();
    assert_eq!(schema_version(&db), i64::from(SCHEMA_VERSION));
    assert_eq!(store.events_since(0, 100).unwrap().len(), 4);
    assert_eq!(store.ids().unwrap().len(), PRODUCTS + 1);
}

#[test]
fn a_database_of_the_first_release_is_upgraded_with_its_data() {
    let Some((db, mut c)) = old_database(FIRST_RELEASE) else {
        return;
    };
    insert_products(&mut c);
    fill_first_release_logs(&mut c);
    drop(c);

    let store = db.open();
    assert_eq!(schema_version(&db), i64::from(SCHEMA_VERSION));
    // Vectors inline, the ASCII-case category index instead of the locale's, the rest made.
    assert_same_layout(&layout(&db), &fresh_layout().unwrap());
    assert_products(store.as_ref());
    assert_first_release_events(store.as_ref());
    assert_first_release_keys(store.as_ref());
    assert_new_tables_work(store.as_ref());
}

/// An events table of the first release, with duplicates (the store makes the rest).
#[test]
fn old_event_log_is_migrated() {
    let Some((db, mut c)) = old_database(FIRST_RELEASE) else {
        return;
    };
    fill_first_release_logs(&mut c);
    drop(c);
    assert_first_release_events(db.open().as_ref());
}

/// A key table of the first release.
#[test]
fn old_key_table_is_migrated() {
    let Some((db, mut c)) = old_database(FIRST_RELEASE) else {
        return;
    };
    fill_first_release_logs(&mut c);
    drop(c);
    assert_first_release_keys(db.open().as_ref());
    let store = db.open();
    assert_eq!(
        named(store.find_key("h-old-admin").unwrap()),
        key("ops", Role::Admin)
    );
}

#[test]
fn a_database_of_a_newer_schema_is_refused() {
    let Some(db) = PgDatabase::fresh() else {
        return;
    };
    db.open().create_key("k", "h-k", &Role::App).unwrap();
    db.connect()
        .execute(
            "UPDATE schema_version SET version = $1",
            &[&(SCHEMA_VERSION as i32 + 1)],
        )
        .unwrap();
    assert_too_new(PgStore::open(&db.url, None), "postgres", SCHEMA_VERSION);
    assert_eq!(
        schema_version(&db),
        i64::from(SCHEMA_VERSION) + 1,
        "left as it was"
    );
}

/// API servers starting together on a database of the first release: each opens it, the
/// upgrade runs once (the duplicates are dropped once, the version recorded once).
#[test]
fn servers_opening_together_migrate_once() {
    let Some((db, mut c)) = old_database(FIRST_RELEASE) else {
        return;
    };
    insert_products(&mut c);
    fill_first_release_logs(&mut c);
    drop(c);
    std::thread::scope(|s| {
        for _ in 0..4 {
            s.spawn(|| drop(db.open()));
        }
    });
    assert_eq!(schema_version(&db), i64::from(SCHEMA_VERSION));
    let store = db.open();
    assert_products(store.as_ref());
    assert_first_release_events(store.as_ref());
}
