//! The embedded store: one data directory, no server.
//!
//! - `catalogue.db` (SQLite, WAL): products with their vectors, events, API keys. The source
//!   of truth. Every product write is one transaction that also bumps a generation counter
//!   (`meta.gen`) and stamps the row (or a tombstone, for a delete) with it.
//! - `index-<gen>.usearch`: the HNSW index (usearch), derived from the rows. It is saved with
//!   the generation it reflects; on open the newest file is loaded and the rows changed since
//!   its generation are applied (or the whole index is rebuilt when there is no usable file).
//!   So a `kill -9` at any point loses nothing that was committed, and the index never serves
//!   a product whose row is gone for longer than the catch-up (at most 1 s for writes by
//!   another process; immediately for writes by this one).
//!
//! One writer process at a time is expected (an ingest, or a server taking `PUT`s); a server
//! notices another process's writes within a second.
//!
//! Files: `migrations.rs` (the schema, versioned), `schema.rs` (connections, row mapping),
//! `ann.rs` (the usearch index), `catch_up.rs` (index <- rows), `campaigns.rs` (sponsored
//! products).

mod ann;
mod campaigns;
mod catch_up;
mod migrations;
mod schema;
mod trends;

use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::sync::{Mutex, RwLock};
use std::time::Instant;

use rusqlite::{Connection, OptionalExtension, params};
use shoplook_core::ModelContract;
use shoplook_core::wire::{Event, Product, SearchFilters};
use usearch::ScalarKind;

use ann::{Ann, IndexSlots, index_threads, parse_quantization};
pub use ann::{
    DEFAULT_EF_SEARCH, DEFAULT_QUANTIZATION, HnswParams, IgnoredIndexFile, IndexFileProblem,
};
pub use migrations::SCHEMA_VERSION;
use schema::{PRODUCT_COLS, blob_to_vec, open_conn, row_product};

use super::events::{parse_event_type, sql_int};
use super::keys::{KeyRecord, Revoked, new_key_id};
use super::searches::{
    LoggedSearch, Purged, SearchLog, SearchRecord, parse_ranking, shown_from_text, shown_to_text,
};
use super::{
    EventLog, KeyInfo, KeyStore, LoggedEvent, ProductIndex, Role, Store, StoreStats, StoredProduct,
    Upserted,
};
use crate::error::{CatError, CatResult, ContractMismatch, Missing};

pub struct SqliteStore {
    dir: PathBuf,
    write: Mutex<Connection>,
    readers: Mutex<Vec<Connection>>,
    ann: RwLock<Ann>,
    quantization: ScalarKind,
    /// Queues searches for one of the index's per-thread contexts.
    slots: IndexSlots,
    params: HnswParams,
    /// Index files the open passed over.
    ignored_index_files: Vec<IgnoredIndexFile>,
}

impl SqliteStore {
    pub fn open(dir: &Path, quantization: &str) -> CatResult<Self> {
        Self::open_with(dir, quantization, HnswParams::default())
    }

    pub fn open_with(dir: &Path, quantization: &str, params: HnswParams) -> CatResult<Self> {
        std::fs::create_dir_all(dir)
            .map_err(|e| CatError::os_at(format!("cannot create {}", dir.display()), e))?;
        let db = dir.join("catalogue.db");
        let mut conn = open_conn(&db)?;
        migrations::migrate(&mut conn)?;
        // A catalogue keeps the quantisation it was created with.
        let stored_q: Option<String> = conn
            .query_row("SELECT value FROM meta WHERE key='quantization'", [], |r| {
                r.get(0)
            })
            .optional()?;
        let q = match stored_q {
            Some(q) => q,
            None => {
                parse_quantization(quantization)?;
                conn.execute(
                    "INSERT INTO meta VALUES ('quantization', ?1)",
                    [quantization],
                )?;
                quantization.to_string()
            }
        };
        let mut store = SqliteStore {
            dir: dir.to_path_buf(),
            write: Mutex::new(conn),
            readers: Mutex::new(Vec::new()),
            ann: RwLock::new(Ann {
                index: None,
                meta: HashMap::new(),
                generation: 0,
                saved_gen: -1,
                checked: Instant::now(),
            }),
            quantization: parse_quantization(&q)?,
            params,
            slots: IndexSlots::new(index_threads()),
            ignored_index_files: Vec::new(),
        };
        store.ignored_index_files = store.load_index()?;
        Ok(store)
    }

    fn with_reader<T>(&self, f: impl FnOnce(&Connection) -> CatResult<T>) -> CatResult<T> {
        let conn = self.readers.lock().unwrap().pop();
        let conn = match conn {
            Some(c) => c,
            None => open_conn(&self.dir.join("catalogue.db"))?,
        };
        let out = f(&conn);
        let mut pool = self.readers.lock().unwrap();
        if pool.len() < 16 {
            pool.push(conn);
        }
        out
    }

    /// Many products in one transaction (bulk loads; the benchmarks).
    pub fn upsert_batch(&self, items: &[(Product, String, Vec<f32>)]) -> CatResult<()> {
        {
            let mut conn = self.write.lock().unwrap();
            let tx = conn.transaction()?;
            for (p, h, v) in items {
                schema::upsert_tx(&tx, p, h, v)?;
            }
            tx.commit()?;
        }
        let mut ann = self.ann.write().unwrap();
        self.catch_up_locked(&mut ann, true)
    }
}

impl ProductIndex for SqliteStore {
    fn contract(&self) -> CatResult<Option<ModelContract>> {
        let conn = self.write.lock().unwrap();
        let v: Option<String> = conn
            .query_row("SELECT value FROM meta WHERE key='contract'", [], |r| {
                r.get(0)
            })
            .optional()?;
        v.map(|s| serde_json::from_str(&s).map_err(CatError::stored_json("model contract")))
            .transpose()
    }

    fn ensure_contract(&self, contract: &ModelContract) -> CatResult<()> {
        match self.contract()? {
            Some(c) if &c == contract => Ok(()),
            Some(c) => Err(CatError::Contract(ContractMismatch::Catalogue {
                held: Box::new(c),
                refused: Box::new(contract.clone()),
            })),
            None => {
                let conn = self.write.lock().unwrap();
                conn.execute(
                    "INSERT OR IGNORE INTO meta VALUES ('contract', ?1)",
                    [serde_json::to_string(contract).unwrap()],
                )?;
                Ok(())
            }
        }
    }

    fn get(&self, id: &str) -> CatResult<Option<StoredProduct>> {
        self.with_reader(|conn| {
            Ok(conn
                .query_row(
                    &format!("SELECT {PRODUCT_COLS}, content_hash FROM products WHERE id = ?1"),
                    [id],
                    |r| {
                        Ok(StoredProduct {
                            product: row_product(r, 0)?,
                            content_hash: r.get(9)?,
                        })
                    },
                )
                .optional()?)
        })
    }

    fn upsert(&self, product: &Product, content_hash: &str, vector: &[f32]) -> CatResult<Upserted> {
        let done = {
            let mut conn = self.write.lock().unwrap();
            let tx = conn.transaction()?;
            let done = schema::upsert_tx(&tx, product, content_hash, vector)?;
            tx.commit()?;
            done
        };
        self.catch_up()?;
        Ok(done)
    }

    fn update_fields(&self, p: &Product) -> CatResult<()> {
        {
            let mut conn = self.write.lock().unwrap();
            let tx = conn.transaction()?;
            let generation = schema::bump_gen(&tx)?;
            let n = tx.execute(
                "UPDATE products SET title=?2, brand=?3, price=?4, currency=?5, category=?6,
                     image=?7, url=?8, in_stock=?9, seq=?10, updated_at=?11 WHERE id=?1",
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
                    generation,
                    crate::now_s()
                ],
            )?;
            if n == 0 {
                return Err(CatError::NotFound(Missing::StoredProduct(p.id.clone())));
            }
            tx.commit()?;
        }
        self.catch_up()
    }

    fn delete(&self, id: &str) -> CatResult<bool> {
        let found = {
            let mut conn = self.write.lock().unwrap();
            let tx = conn.transaction()?;
            let key: Option<i64> = tx
                .query_row("SELECT key FROM products WHERE id = ?1", [id], |r| r.get(0))
                .optional()?;
            if let Some(key) = key {
                let generation = schema::bump_gen(&tx)?;
                tx.execute("DELETE FROM products WHERE key = ?1", [key])?;
                tx.execute(
                    "INSERT OR REPLACE INTO tombstones VALUES (?1, ?2)",
                    [key, generation],
                )?;
                tx.commit()?;
            }
            key.is_some()
        };
        if found {
            self.catch_up()?;
        }
        Ok(found)
    }

    fn ids(&self) -> CatResult<Vec<String>> {
        self.with_reader(|conn| {
            let mut stmt = conn.prepare("SELECT id FROM products ORDER BY id")?;
            Ok(stmt
                .query_map([], |r| r.get(0))?
                .collect::<rusqlite::Result<Vec<String>>>()?)
        })
    }

    fn search(
        &self,
        query: &[f32],
        k: usize,
        category: Option<&str>,
        f: &SearchFilters,
    ) -> CatResult<Vec<(Product, f32)>> {
        self.maybe_catch_up()?;
        // Candidates from the index (filtered inside its traversal), then the rows.
        let hits = self.candidates(query, k, category, f)?;
        if hits.is_empty() {
            return Ok(Vec::new());
        }
        // The rows, with their exact vectors: the score is the exact cosine similarity
        // (the index may hold quantised vectors).
        let mut out: Vec<(Product, f32)> = self.with_reader(|conn| {
            let placeholders = vec!["?"; hits.len()].join(",");
            let mut stmt = conn.prepare_cached(&format!(
                "SELECT embedding, {PRODUCT_COLS} FROM products WHERE key IN ({placeholders})"
            ))?;
            let keys: Vec<i64> = hits.iter().map(|&key| key as i64).collect();
            let rows = stmt
                .query_map(rusqlite::params_from_iter(keys), |r| {
                    let v = blob_to_vec(&r.get::<_, Vec<u8>>(0)?);
                    Ok((row_product(r, 1)?, shoplook_core::embed::dot(&v, query)))
                })?
                .collect::<rusqlite::Result<Vec<_>>>()?;
            Ok(rows)
        })?;
        out.sort_by(|a, b| b.1.total_cmp(&a.1));
        out.truncate(k);
        Ok(out)
    }

    fn flush(&self) -> CatResult<()> {
        self.catch_up()?;
        self.save_index()
    }
}

impl EventLog for SqliteStore {
    fn record_event(&self, e: &Event, key_name: &str) -> CatResult<bool> {
        let conn = self.write.lock().unwrap();
        // A duplicate (same key, type, query and product) is ignored by the unique index.
        let n = conn.execute(
            "INSERT OR IGNORE INTO events (ts, type, product_id, query_id, key_name, position,
                 session_id) VALUES (?1,?2,?3,?4,?5,?6,?7)",
            params![
                crate::now_s(),
                e.kind.as_str(),
                e.product_id,
                e.query_id,
                key_name,
                e.position,
                e.session_id
            ],
        )?;
        Ok(n == 1)
    }

    fn events_since(&self, after: u64, limit: usize) -> CatResult<Vec<LoggedEvent>> {
        // `n` is an AUTOINCREMENT rowid: one writer at a time appends, and a purged number is
        // never reused, so it only grows, in commit order.
        self.with_reader(|conn| {
            let mut stmt = conn.prepare_cached(
                "SELECT n, ts, type, product_id, query_id, key_name, position, session_id
                 FROM events WHERE n > ?1 ORDER BY n LIMIT ?2",
            )?;
            let rows = stmt.query_map(params![sql_int(after), sql_int(limit)], |r| {
                Ok((
                    r.get::<_, i64>(0)?,
                    r.get::<_, i64>(1)?,
                    r.get::<_, String>(2)?,
                    r.get::<_, String>(3)?,
                    r.get::<_, Option<String>>(4)?,
                    r.get::<_, String>(5)?,
                    r.get::<_, Option<u32>>(6)?,
                    r.get::<_, Option<String>>(7)?,
                ))
            })?;
            let mut out = Vec::new();
            for row in rows {
                let (seq, at, kind, product_id, query_id, key_name, position, session_id) = row?;
                out.push(LoggedEvent {
                    seq: seq as u64,
                    at,
                    key_name,
                    event: Event {
                        kind: parse_event_type(&kind)?,
                        product_id,
                        query_id,
                        position,
                        session_id,
                    },
                });
            }
            Ok(out)
        })
    }
}

impl SearchLog for SqliteStore {
    fn record_search(&self, s: &SearchRecord) -> CatResult<()> {
        let conn = self.write.lock().unwrap();
        conn.execute(
            "INSERT INTO searches (query_id, ts, key_name, session_id, category, ranking,
                 embedding, shown) VALUES (?1,?2,?3,?4,?5,?6,?7,?8)",
            params![
                s.query_id,
                crate::now_s(),
                s.key_name,
                s.session_id,
                s.category,
                s.ranking.as_str(),
                schema::vec_to_blob(&s.embedding),
                shown_to_text(&s.shown)
            ],
        )?;
        Ok(())
    }

    fn searches_since(&self, after: u64, limit: usize) -> CatResult<Vec<LoggedSearch>> {
        self.with_reader(|conn| {
            let mut stmt = conn.prepare_cached(
                "SELECT n, ts, query_id, key_name, session_id, category, ranking, embedding, shown
                 FROM searches WHERE n > ?1 ORDER BY n LIMIT ?2",
            )?;
            let rows = stmt.query_map(params![sql_int(after), sql_int(limit)], |r| {
                Ok((
                    r.get::<_, i64>(0)?,
                    r.get::<_, i64>(1)?,
                    r.get::<_, String>(2)?,
                    r.get::<_, String>(3)?,
                    r.get::<_, Option<String>>(4)?,
                    r.get::<_, Option<String>>(5)?,
                    r.get::<_, String>(6)?,
                    r.get::<_, Vec<u8>>(7)?,
                    r.get::<_, String>(8)?,
                ))
            })?;
            let mut out = Vec::new();
            for row in rows {
                let (seq, at, query_id, key_name, session_id, category, ranking, emb, shown) = row?;
                out.push(LoggedSearch {
                    seq: seq as u64,
                    at,
                    search: SearchRecord {
                        query_id,
                        key_name,
                        session_id,
                        category,
                        ranking: parse_ranking(&ranking),
                        embedding: blob_to_vec(&emb),
                        shown: shown_from_text(&shown)?,
                    },
                });
            }
            Ok(out)
        })
    }

    fn purge_before(&self, cutoff: i64) -> CatResult<Purged> {
        let mut conn = self.write.lock().unwrap();
        let tx = conn.transaction()?;
        let searches = tx.execute("DELETE FROM searches WHERE ts < ?1", [cutoff])?;
        let events = tx.execute("DELETE FROM events WHERE ts < ?1", [cutoff])?;
        tx.commit()?;
        Ok(Purged {
            searches: searches as u64,
            events: events as u64,
        })
    }
}

impl KeyStore for SqliteStore {
    fn create_key(&self, name: &str, key_hash: &str, role: &Role) -> CatResult<String> {
        let id = new_key_id();
        let conn = self.write.lock().unwrap();
        // `admin` is kept in step with the role for binaries that predate roles.
        conn.execute(
            "INSERT INTO api_keys (hash, name, admin, created_at, role, brand, id)
             VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7)",
            params![
                key_hash,
                name,
                (*role == Role::Admin) as i64,
                crate::now_s(),
                role.as_str(),
                role.brand(),
                id
            ],
        )?;
        Ok(id)
    }

    fn find_key(&self, key_hash: &str) -> CatResult<Option<KeyInfo>> {
        let row = self.with_reader(|conn| {
            Ok(conn
                .query_row(
                    &format!(
                        "SELECT {KEY_COLS} FROM api_keys WHERE hash = ?1 AND revoked_at IS NULL"
                    ),
                    [key_hash],
                    key_row,
                )
                .optional()?)
        })?;
        row.map(KeyRow::into_key).transpose()
    }

    fn list_keys(&self) -> CatResult<Vec<KeyRecord>> {
        let rows = self.with_reader(|conn| {
            let mut stmt = conn.prepare(&format!(
                "SELECT {KEY_COLS}, created_at, revoked_at FROM api_keys ORDER BY created_at, id"
            ))?;
            let rows = stmt.query_map([], |r| Ok((key_row(r)?, r.get(4)?, r.get(5)?)))?;
            Ok(rows.collect::<Result<Vec<(KeyRow, i64, Option<i64>)>, _>>()?)
        })?;
        rows.into_iter()
            .map(|(key, created_at, revoked_at)| {
                Ok(KeyRecord {
                    key: key.into_key()?,
                    created_at,
                    revoked_at,
                })
            })
            .collect()
    }

    fn revoke_key(&self, id: &str, at: i64) -> CatResult<Revoked> {
        // Under the write lock: nothing else writes between the read and the update.
        let conn = self.write.lock().unwrap();
        let found: Option<Option<i64>> = conn
            .query_row("SELECT revoked_at FROM api_keys WHERE id = ?1", [id], |r| {
                r.get(0)
            })
            .optional()?;
        Ok(match found {
            None => Revoked::Unknown,
            Some(Some(_)) => Revoked::Already,
            Some(None) => {
                conn.execute(
                    "UPDATE api_keys SET revoked_at = ?2 WHERE id = ?1",
                    params![id, at],
                )?;
                Revoked::Now
            }
        })
    }
}

/// The columns [`key_row`] reads.
const KEY_COLS: &str = "id, name, role, brand";

/// A key row as read: its role is parsed apart, so that a role this version cannot read is
/// a [`CatError::StoredRole`] (not a SQLite error).
struct KeyRow {
    id: String,
    name: String,
    role: String,
    brand: Option<String>,
}

impl KeyRow {
    fn into_key(self) -> CatResult<KeyInfo> {
        let role = Role::parse(&self.role, self.brand.as_deref()).map_err(CatError::StoredRole)?;
        Ok(KeyInfo {
            id: self.id,
            name: self.name,
            role,
        })
    }
}

fn key_row(r: &rusqlite::Row) -> rusqlite::Result<KeyRow> {
    Ok(KeyRow {
        id: r.get(0)?,
        name: r.get(1)?,
        role: r.get(2)?,
        brand: r.get(3)?,
    })
}

impl Store for SqliteStore {
    fn kind(&self) -> &'static str {
        "sqlite"
    }

    fn ignored_index_files(&self) -> &[IgnoredIndexFile] {
        &self.ignored_index_files
    }

    fn stats(&self) -> CatResult<StoreStats> {
        let (products, events) = self.with_reader(|conn| {
            let p: i64 = conn.query_row("SELECT count(*) FROM products", [], |r| r.get(0))?;
            let e: i64 = conn.query_row("SELECT count(*) FROM events", [], |r| r.get(0))?;
            Ok((p as u64, e as u64))
        })?;
        let ann = self.ann.read().unwrap();
        let (index_size, index_bytes) = ann
            .index
            .as_ref()
            .map_or((0, 0), |i| (i.size() as u64, i.memory_usage() as u64));
        Ok(StoreStats {
            products,
            events,
            index_size,
            index_bytes,
        })
    }
}
