//! The SQLite side of the embedded store: the schema, the connection settings, the row
//! mappings and the product writes that bump the generation counter.

use std::path::Path;
use std::time::Duration;

use rusqlite::{Connection, OptionalExtension, params};
use shoplook_core::wire::Product;

use crate::Upserted;
use crate::error::{CatError, CatResult};

pub(super) const SCHEMA: &str = "
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
CREATE INDEX IF NOT EXISTS products_seq ON products(seq);
CREATE TABLE IF NOT EXISTS tombstones (key INTEGER PRIMARY KEY, seq INTEGER NOT NULL);
CREATE INDEX IF NOT EXISTS tombstones_seq ON tombstones(seq);
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
CREATE INDEX IF NOT EXISTS searches_ts ON searches(ts);
CREATE TABLE IF NOT EXISTS api_keys (
    hash TEXT PRIMARY KEY, name TEXT NOT NULL, admin INTEGER NOT NULL, created_at INTEGER NOT NULL
    -- role TEXT NOT NULL (app, admin, advertiser, brand), brand TEXT: added by migrate_keys
);
INSERT OR IGNORE INTO meta VALUES ('gen', '0');
";

/// Brings an events table made before the search log (no AUTOINCREMENT, no position or
/// session) to the current shape, then adds the indexes: `ts` for the purge, and "an event
/// counts once" (same key, type, query and product).
pub(super) fn migrate_events(conn: &mut Connection) -> CatResult<()> {
    let sql: String = conn.query_row(
        "SELECT sql FROM sqlite_master WHERE type='table' AND name='events'",
        [],
        |r| r.get(0),
    )?;
    let tx = conn.transaction()?;
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
    tx.execute_batch(
        "CREATE INDEX IF NOT EXISTS events_ts ON events(ts);
         CREATE UNIQUE INDEX IF NOT EXISTS events_once ON events(key_name, type, query_id, product_id)
             WHERE query_id IS NOT NULL;",
    )?;
    tx.commit()?;
    Ok(())
}

/// Gives a key table made before roles its `role` (admin keys become `admin`, the others
/// `app`) and `brand` columns. `admin` stays, kept in step with the role.
pub(super) fn migrate_keys(conn: &mut Connection) -> CatResult<()> {
    let has_role: bool = conn.query_row(
        "SELECT count(*) > 0 FROM pragma_table_info('api_keys') WHERE name = 'role'",
        [],
        |r| r.get(0),
    )?;
    if !has_role {
        let tx = conn.transaction()?;
        tx.execute_batch(
            "ALTER TABLE api_keys ADD COLUMN role TEXT NOT NULL DEFAULT 'app';
             ALTER TABLE api_keys ADD COLUMN brand TEXT;
             UPDATE api_keys SET role = 'admin' WHERE admin <> 0;",
        )?;
        tx.commit()?;
    }
    Ok(())
}

pub(super) const PRODUCT_COLS: &str =
    "id, title, brand, price, currency, category, image, url, in_stock";

pub(super) fn open_conn(path: &Path) -> CatResult<Connection> {
    let conn = Connection::open(path)?;
    conn.busy_timeout(Duration::from_secs(10))?;
    // WAL: readers never block the writer. synchronous=FULL: a committed product survives a
    // crash of the process and of the machine.
    conn.pragma_update(None, "journal_mode", "WAL")?;
    conn.pragma_update(None, "synchronous", "FULL")?;
    Ok(conn)
}

pub(super) fn vec_to_blob(v: &[f32]) -> Vec<u8> {
    v.iter().flat_map(|x| x.to_le_bytes()).collect()
}

pub(super) fn blob_to_vec(b: &[u8]) -> Vec<f32> {
    b.chunks_exact(4)
        .map(|c| f32::from_le_bytes([c[0], c[1], c[2], c[3]]))
        .collect()
}

pub(super) fn row_product(r: &rusqlite::Row, o: usize) -> rusqlite::Result<Product> {
    Ok(Product {
        id: r.get(o)?,
        title: r.get(o + 1)?,
        brand: r.get(o + 2)?,
        price: r.get(o + 3)?,
        currency: r.get(o + 4)?,
        category: r.get(o + 5)?,
        image: r.get(o + 6)?,
        url: r.get(o + 7)?,
        in_stock: r.get::<_, i64>(o + 8)? != 0,
    })
}

pub(super) fn db_gen(conn: &Connection) -> CatResult<i64> {
    let g: String = conn.query_row("SELECT value FROM meta WHERE key='gen'", [], |r| r.get(0))?;
    g.parse().map_err(CatError::store)
}

pub(super) fn bump_gen(tx: &rusqlite::Transaction) -> CatResult<i64> {
    let g: String = tx.query_row(
        "UPDATE meta SET value = CAST(value AS INTEGER) + 1 WHERE key='gen' RETURNING value",
        [],
        |r| r.get(0),
    )?;
    g.parse().map_err(CatError::store)
}

pub(super) fn upsert_tx(
    tx: &rusqlite::Transaction,
    p: &Product,
    hash: &str,
    vector: &[f32],
) -> CatResult<Upserted> {
    let generation = bump_gen(tx)?;
    let existed: bool = tx
        .query_row("SELECT 1 FROM products WHERE id = ?1", [&p.id], |_| Ok(()))
        .optional()?
        .is_some();
    // An update keeps the row's key; the index entry is replaced on catch-up.
    tx.execute(
        "INSERT INTO products (id, title, brand, price, currency, category, image, url,
             in_stock, content_hash, embedding, seq, updated_at)
         VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13)
         ON CONFLICT(id) DO UPDATE SET title=excluded.title, brand=excluded.brand,
             price=excluded.price, currency=excluded.currency, category=excluded.category,
             image=excluded.image, url=excluded.url, in_stock=excluded.in_stock,
             content_hash=excluded.content_hash, embedding=excluded.embedding,
             seq=excluded.seq, updated_at=excluded.updated_at",
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
            hash,
            vec_to_blob(vector),
            generation,
            crate::now_s()
        ],
    )?;
    Ok(if existed {
        Upserted::Updated
    } else {
        Upserted::Added
    })
}
