//! The two backends of the store's tests: the embedded store in a temp dir, and PostgreSQL +
//! pgvector in a fresh database on the server of `SHOPLOOK_TEST_PG_URL` (skipped with a message
//! when it is unset, a failure when `CI` is set). Each test binary uses part of this.
#![allow(dead_code)]

use std::path::{Path, PathBuf};

use shoplook_store::Store;
use shoplook_store::conformance::Backend;
use shoplook_store::postgres::PgStore;
use shoplook_store::sqlite::{DEFAULT_QUANTIZATION, SqliteStore};

/// A catalogue directory, deleted when dropped.
pub struct SqliteDir(PathBuf);

impl SqliteDir {
    /// `Option` as every backend's `fresh`: the embedded store is always there.
    pub fn fresh() -> Option<Self> {
        let dir = std::env::temp_dir().join(format!(
            "shoplook-store-test-{}",
            shoplook_store::random_hex(6)
        ));
        Some(SqliteDir(dir))
    }

    pub fn path(&self) -> &Path {
        &self.0
    }

    /// The catalogue's SQLite file (the directory is made if needed).
    pub fn db_path(&self) -> PathBuf {
        std::fs::create_dir_all(&self.0).unwrap();
        self.0.join("catalogue.db")
    }
}

impl Backend for SqliteDir {
    fn open(&self) -> Box<dyn Store> {
        Box::new(SqliteStore::open(&self.0, DEFAULT_QUANTIZATION).expect("sqlite store opens"))
    }
}

impl Drop for SqliteDir {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

/// A database of its own on the test server, dropped when dropped.
pub struct PgDatabase {
    server: String,
    name: String,
    pub url: String,
}

impl PgDatabase {
    /// A fresh, empty database (as `cli/tests/common`'s `Backend::postgres`), or `None` when
    /// no test server is configured.
    pub fn fresh() -> Option<Self> {
        let Ok(server) = std::env::var("SHOPLOOK_TEST_PG_URL") else {
            if std::env::var_os("CI").is_some() {
                panic!(
                    "SHOPLOOK_TEST_PG_URL is not set: CI must run the store tests against a \
                     real PostgreSQL + pgvector (scripts/test-catalogue.sh starts one)"
                );
            }
            eprintln!(
                "SHOPLOOK_TEST_PG_URL not set: PostgreSQL store test skipped \
                 (run scripts/test-catalogue.sh)"
            );
            return None;
        };
        let (base, _) = server.rsplit_once('/').expect("URL with a database name");
        let name = format!("conf_{}", shoplook_store::random_hex(6));
        let admin = PgStore::open(&server, None).expect("the test PostgreSQL answers");
        // A UTF-8 locale, as production servers have (the test server's default is C): under
        // it `lower()` folds non-ASCII letters too, which `passes` does not.
        admin
            .execute(&format!(
                "CREATE DATABASE {name} TEMPLATE template0 ENCODING 'UTF8' \
                 LOCALE_PROVIDER builtin BUILTIN_LOCALE 'C.UTF-8'"
            ))
            .or_else(|e| {
                eprintln!("no builtin C.UTF-8 locale (PostgreSQL < 17?): {e}; default locale");
                admin.execute(&format!("CREATE DATABASE {name}"))
            })
            .expect("create a test database");
        let url = format!("{base}/{name}");
        Some(PgDatabase { server, name, url })
    }

    /// A plain connection, for what a test does below the store (an old schema, a version).
    pub fn connect(&self) -> postgres::Client {
        postgres::Client::connect(&self.url, postgres::NoTls).expect("connect to the test database")
    }
}

impl Backend for PgDatabase {
    fn open(&self) -> Box<dyn Store> {
        Box::new(PgStore::open(&self.url, None).expect("postgres store opens"))
    }
}

impl Drop for PgDatabase {
    fn drop(&mut self) {
        if let Ok(admin) = PgStore::open(&self.server, None) {
            let _ = admin.execute(&format!(
                "DROP DATABASE IF EXISTS {} WITH (FORCE)",
                self.name
            ));
        }
    }
}
