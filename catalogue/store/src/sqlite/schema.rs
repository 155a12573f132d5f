//! The SQLite side of the embedded store: the connection settings, the row mappings and the
//! product writes that bump the generation counter. The schema is in `migrations.rs`.

use std::path::Path;
use std::time::Duration;

use rusqlite::{Connection, OptionalExtension, params};
use shoplook_core::wire::Product;

use crate::Upserted;
use crate::error::{CatError, CatResult};

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
    g.parse().map_err(CatError::Generation)
}

pub(super) fn bump_gen(tx: &rusqlite::Transaction) -> CatResult<i64> {
    let g: String = tx.query_row(
        "UPDATE meta SET value = CAST(value AS INTEGER) + 1 WHERE key='gen' RETURNING value",
        [],
        |r| r.get(0),
    )?;
    g.parse().map_err(CatError::Generation)
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
