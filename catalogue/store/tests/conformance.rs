//! The store conformance suite (`shoplook_store::conformance`) on both stores:
//! `sqlite::CASE` on the embedded store (a temp dir), `postgres::CASE` on PostgreSQL +
//! pgvector (a fresh database on the server of `SHOPLOOK_TEST_PG_URL`; skipped with a message
//! when it is unset, a failure when `CI` is set).

mod common;

use common::{PgDatabase, SqliteDir};
use shoplook_core::wire::{Event, EventType};
use shoplook_store::conformance::{Backend, event, key};
use shoplook_store::postgres::PgStore;
use shoplook_store::{Role, Store};

shoplook_store::store_conformance_suite!(sqlite, SqliteDir::fresh);
shoplook_store::store_conformance_suite!(postgres, PgDatabase::fresh);

// ---------------------------------------------------------------------------------------
// Migration of an event log written before events counted once (store-specific set-up)

/// The old log's rows: a click reported twice with its query, and twice without one.
const OLD_EVENTS: &str = "('click','p01','q1','app'),('click','p01','q1','app'),
                          ('click','p01',NULL,'app'),('click','p01',NULL,'app')";

fn assert_migrated(store: &dyn Store) {
    let logged = store.events_since(0, 100).unwrap();
    let q: Vec<Option<&str>> = logged.iter().map(|e| e.event.query_id.as_deref()).collect();
    assert_eq!(
        q,
        [Some("q1"), None, None],
        "the duplicate with a query id is gone"
    );
    let again = Event {
        kind: EventType::Click,
        product_id: "p01".into(),
        query_id: Some("q1".into()),
        position: None,
        session_id: None,
    };
    assert!(
        !store.record_event(&again, "app").unwrap(),
        "and counts once from now on"
    );
    assert!(store.record_event(&event(0), "app").unwrap());
    let last = store.events_since(0, 100).unwrap();
    assert!(last[3].seq > last[2].seq);
}

#[test]
fn sqlite_old_event_log_is_migrated() {
    let dir = SqliteDir::fresh().unwrap();
    let conn = rusqlite::Connection::open(dir.db_path()).unwrap();
    conn.execute_batch(&format!(
        "CREATE TABLE events (n INTEGER PRIMARY KEY, ts INTEGER NOT NULL, type TEXT NOT NULL,
             product_id TEXT NOT NULL, query_id TEXT, key_name TEXT NOT NULL);
         INSERT INTO events (ts, type, product_id, query_id, key_name)
             SELECT 1, column1, column2, column3, column4 FROM (VALUES {OLD_EVENTS});"
    ))
    .unwrap();
    drop(conn);
    assert_migrated(dir.open().as_ref());
}

#[test]
fn postgres_old_event_log_is_migrated() {
    let Some(db) = PgDatabase::fresh() else {
        return;
    };
    let store = PgStore::open(&db.url, None).unwrap();
    store.execute("DROP INDEX events_once").unwrap();
    store
        .execute(&format!(
            "INSERT INTO events (type, product_id, query_id, key_name) VALUES {OLD_EVENTS}"
        ))
        .unwrap();
    drop(store);
    assert_migrated(db.open().as_ref());
}

// ---------------------------------------------------------------------------------------
// Migration of a key table made before roles: admin keys become `admin`, the others `app`

fn assert_keys_migrated(store: &dyn Store) {
    assert_eq!(
        store.find_key("h-old-app").unwrap(),
        key("phone", Role::App)
    );
    assert_eq!(
        store.find_key("h-old-admin").unwrap(),
        key("ops", Role::Admin)
    );
    // And new keys of every role can be added beside them.
    let acme = Role::Brand {
        brand: "Acme".into(),
    };
    store.create_key("acme", "h-new-brand", &acme).unwrap();
    assert_eq!(store.find_key("h-new-brand").unwrap(), key("acme", acme));
}

#[test]
fn sqlite_old_key_table_is_migrated() {
    let dir = SqliteDir::fresh().unwrap();
    let conn = rusqlite::Connection::open(dir.db_path()).unwrap();
    conn.execute_batch(
        "CREATE TABLE api_keys (hash TEXT PRIMARY KEY, name TEXT NOT NULL,
             admin INTEGER NOT NULL, created_at INTEGER NOT NULL);
         INSERT INTO api_keys VALUES ('h-old-app', 'phone', 0, 1), ('h-old-admin', 'ops', 1, 1);",
    )
    .unwrap();
    drop(conn);
    assert_keys_migrated(dir.open().as_ref());
    // Opening again changes nothing.
    let store = dir.open();
    assert_eq!(
        store.find_key("h-old-admin").unwrap(),
        key("ops", Role::Admin)
    );
    assert_eq!(
        store.find_key("h-old-app").unwrap(),
        key("phone", Role::App)
    );
}

#[test]
fn postgres_old_key_table_is_migrated() {
    let Some(db) = PgDatabase::fresh() else {
        return;
    };
    let store = PgStore::open(&db.url, None).unwrap();
    store
        .execute(
            "ALTER TABLE api_keys DROP COLUMN role; ALTER TABLE api_keys DROP COLUMN brand;
             INSERT INTO api_keys (hash, name, admin)
                 VALUES ('h-old-app', 'phone', false), ('h-old-admin', 'ops', true);",
        )
        .unwrap();
    drop(store);
    assert_keys_migrated(db.open().as_ref());
}
