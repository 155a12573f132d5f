//! The store conformance suite (`shoplook_store::conformance`) on both stores:
//! `sqlite::CASE` on the embedded store (a temp dir), `postgres::CASE` on PostgreSQL +
//! pgvector (a fresh database on the server of `SHOPLOOK_TEST_PG_URL`; skipped with a message
//! when it is unset, a failure when `CI` is set).

mod common;

use common::{PgDatabase, SqliteDir};

shoplook_store::store_conformance_suite!(sqlite, SqliteDir::fresh);
shoplook_store::store_conformance_suite!(postgres, PgDatabase::fresh);
