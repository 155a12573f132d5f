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

use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::sync::{Condvar, Mutex, RwLock};
use std::time::{Duration, Instant};

use rusqlite::{Connection, OptionalExtension, params};
use shoplook_core::ModelContract;
use shoplook_core::wire::{Event, Product, SearchFilters};
use usearch::{Index, IndexOptions, MetricKind, ScalarKind, b1x8};

use super::{KeyInfo, Store, StoreStats, StoredProduct, Upserted};
use crate::error::{CatError, CatResult};

const SCHEMA: &str = "
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
    n INTEGER PRIMARY KEY, ts INTEGER NOT NULL, type TEXT NOT NULL, product_id TEXT NOT NULL,
    query_id TEXT, key_name TEXT NOT NULL
);
CREATE TABLE IF NOT EXISTS api_keys (
    hash TEXT PRIMARY KEY, name TEXT NOT NULL, admin INTEGER NOT NULL, created_at INTEGER NOT NULL
);
INSERT OR IGNORE INTO meta VALUES ('gen', '0');
";

const PRODUCT_COLS: &str = "id, title, brand, price, currency, category, image, url, in_stock";

/// Quantisation of a new embedded index. Candidates are re-ranked with the exact vectors, so
/// i8 loses no recall against f16 while it takes a third of the memory and builds twice as
/// fast (docs/catalogue.md, scale benchmark).
pub const DEFAULT_QUANTIZATION: &str = "i8";

/// HNSW parameters of the embedded index.
#[derive(Debug, Clone, Copy)]
pub struct HnswParams {
    pub connectivity: usize,
    pub expansion_add: usize,
    pub expansion_search: usize,
}

impl Default for HnswParams {
    fn default() -> Self {
        HnswParams {
            connectivity: 16,
            expansion_add: 128,
            // Measured (docs/catalogue.md): recall@10 0.71 at 128, 0.96 at 512 on 100k vectors
            // shaped like real embeddings, at 3.9 ms p50 on 2 cores.
            expansion_search: env_usize("SHOPLOOK_EF_SEARCH").unwrap_or(512),
        }
    }
}

fn env_usize(name: &str) -> Option<usize> {
    std::env::var(name).ok()?.parse().ok()
}

struct FilterMeta {
    category: Box<str>,
    brand: Box<str>,
    price: f64,
    in_stock: bool,
}

struct Ann {
    index: Option<Index>,
    meta: HashMap<u64, FilterMeta>,
    /// Generation the index reflects.
    generation: i64,
    /// Generation of the newest saved index file.
    saved_gen: i64,
    checked: Instant,
}

pub struct SqliteStore {
    dir: PathBuf,
    write: Mutex<Connection>,
    readers: Mutex<Vec<Connection>>,
    ann: RwLock<Ann>,
    quantization: ScalarKind,
    /// Queues searches for one of the index's per-thread contexts.
    slots: IndexSlots,
    params: HnswParams,
}

/// usearch gives each concurrent call on an index a scratch context and fails a call when
/// none is free ("Reserve capacity ahead of searches!") instead of waiting. The index is
/// reserved with this many contexts and `IndexSlots` makes callers queue for one: searches
/// are CPU-bound, so more of them at once than cores would not be faster anyway.
fn index_threads() -> usize {
    std::thread::available_parallelism().map_or(2, |n| n.get())
}

struct IndexSlots {
    free: Mutex<usize>,
    released: Condvar,
}

impl IndexSlots {
    fn new(n: usize) -> Self {
        IndexSlots {
            free: Mutex::new(n),
            released: Condvar::new(),
        }
    }
    fn run<T>(&self, f: impl FnOnce() -> T) -> T {
        {
            let mut free = self.free.lock().unwrap();
            while *free == 0 {
                free = self.released.wait(free).unwrap();
            }
            *free -= 1;
        }
        // Give the slot back even if `f` unwinds.
        struct Release<'a>(&'a IndexSlots);
        impl Drop for Release<'_> {
            fn drop(&mut self) {
                *self.0.free.lock().unwrap() += 1;
                self.0.released.notify_one();
            }
        }
        let _release = Release(self);
        f()
    }
}

/// Binary quantisation: one sign bit per dimension, packed 8 to a byte (what a `b1` index
/// stores and compares by Hamming distance).
fn sign_bits(v: &[f32]) -> Vec<b1x8> {
    v.chunks(8)
        .map(|c| {
            b1x8(
                c.iter()
                    .enumerate()
                    .fold(0u8, |acc, (i, x)| acc | (u8::from(*x > 0.0) << i)),
            )
        })
        .collect()
}

fn parse_quantization(q: &str) -> CatResult<ScalarKind> {
    Ok(match q {
        "f32" => ScalarKind::F32,
        "f16" => ScalarKind::F16,
        "bf16" => ScalarKind::BF16,
        "i8" => ScalarKind::I8,
        "b1" => ScalarKind::B1,
        _ => {
            return Err(CatError::Invalid(format!(
                "unknown quantization {q:?} (f32, f16, bf16, i8, b1)"
            )));
        }
    })
}

fn open_conn(path: &Path) -> CatResult<Connection> {
    let conn = Connection::open(path)?;
    conn.busy_timeout(Duration::from_secs(10))?;
    // WAL: readers never block the writer. synchronous=FULL: a committed product survives a
    // crash of the process and of the machine.
    conn.pragma_update(None, "journal_mode", "WAL")?;
    conn.pragma_update(None, "synchronous", "FULL")?;
    Ok(conn)
}

fn vec_to_blob(v: &[f32]) -> Vec<u8> {
    v.iter().flat_map(|x| x.to_le_bytes()).collect()
}

fn blob_to_vec(b: &[u8]) -> Vec<f32> {
    b.chunks_exact(4)
        .map(|c| f32::from_le_bytes([c[0], c[1], c[2], c[3]]))
        .collect()
}

fn row_product(r: &rusqlite::Row, o: usize) -> rusqlite::Result<Product> {
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

impl SqliteStore {
    pub fn open(dir: &Path, quantization: &str) -> CatResult<Self> {
        Self::open_with(dir, quantization, HnswParams::default())
    }

    pub fn open_with(dir: &Path, quantization: &str, params: HnswParams) -> CatResult<Self> {
        std::fs::create_dir_all(dir)
            .map_err(|e| CatError::Io(format!("cannot create {}: {e}", dir.display())))?;
        let db = dir.join("catalogue.db");
        let conn = open_conn(&db)?;
        conn.execute_batch(SCHEMA)?;
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
        let store = SqliteStore {
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
        };
        store.load_index()?;
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

    fn db_gen(conn: &Connection) -> CatResult<i64> {
        let g: String =
            conn.query_row("SELECT value FROM meta WHERE key='gen'", [], |r| r.get(0))?;
        g.parse().map_err(CatError::store)
    }

    fn new_index(&self, dim: usize) -> CatResult<Index> {
        let opts = IndexOptions {
            dimensions: dim,
            // Unit vectors: inner product ranks like cosine and costs less. Binary vectors
            // are compared by Hamming distance. Candidates are re-ranked exactly.
            metric: if self.quantization == ScalarKind::B1 {
                MetricKind::Hamming
            } else {
                MetricKind::IP
            },
            quantization: self.quantization,
            connectivity: self.params.connectivity,
            expansion_add: self.params.expansion_add,
            expansion_search: self.params.expansion_search,
            multi: false,
        };
        let index = Index::new(&opts).map_err(CatError::store)?;
        index
            .reserve_capacity_and_threads(1024, index_threads())
            .map_err(CatError::store)?;
        Ok(index)
    }

    fn index_files(&self) -> Vec<(i64, PathBuf)> {
        let mut out = Vec::new();
        if let Ok(rd) = std::fs::read_dir(&self.dir) {
            for e in rd.flatten() {
                let name = e.file_name().to_string_lossy().to_string();
                if let Some(g) = name
                    .strip_prefix("index-")
                    .and_then(|s| s.strip_suffix(".usearch"))
                    .and_then(|s| s.parse::<i64>().ok())
                {
                    out.push((g, e.path()));
                }
            }
        }
        out.sort();
        out
    }

    /// Loads the newest usable index file and catches up with the rows, or rebuilds.
    fn load_index(&self) -> CatResult<()> {
        let contract = self.contract()?;
        let Some(contract) = contract else {
            return Ok(()); // empty catalogue: the index is created with the first product
        };
        let conn = self.write.lock().unwrap();
        let db_gen = Self::db_gen(&conn)?;
        let mut ann = self.ann.write().unwrap();
        let mut loaded = None;
        for (g, path) in self.index_files().into_iter().rev() {
            if g > db_gen {
                continue;
            }
            let index = self.new_index(contract.dim)?;
            match index.load(&path.to_string_lossy()) {
                Ok(()) if index.dimensions() == contract.dim => {
                    index.change_expansion_search(self.params.expansion_search);
                    // Loading resets the per-thread contexts.
                    index
                        .reserve_capacity_and_threads(index.size().max(1024), index_threads())
                        .map_err(CatError::store)?;
                    loaded = Some((g, index));
                    break;
                }
                _ => eprintln!(
                    "catalogue: ignoring unreadable index file {}",
                    path.display()
                ),
            }
        }
        // Filter metadata of every product (cheap: no vectors).
        let mut meta = HashMap::new();
        {
            let mut stmt =
                conn.prepare("SELECT key, category, brand, price, in_stock FROM products")?;
            let mut rows = stmt.query([])?;
            while let Some(r) = rows.next()? {
                meta.insert(
                    r.get::<_, i64>(0)? as u64,
                    FilterMeta {
                        category: r.get::<_, String>(1)?.to_lowercase().into(),
                        brand: r.get::<_, String>(2)?.to_lowercase().into(),
                        price: r.get(3)?,
                        in_stock: r.get::<_, i64>(4)? != 0,
                    },
                );
            }
        }
        ann.meta = meta;
        match loaded {
            Some((g, index)) => {
                ann.index = Some(index);
                ann.generation = g;
                ann.saved_gen = g;
            }
            None => {
                ann.index = Some(self.new_index(contract.dim)?);
                ann.generation = 0;
                ann.saved_gen = -1;
            }
        }
        drop(conn);
        // Rebuilding from scratch uses every core.
        let from = ann.generation;
        self.catch_up_locked(&mut ann, from == 0)?;
        Ok(())
    }

    /// Applies every row written after `ann.generation` to the index.
    fn catch_up_locked(&self, ann: &mut Ann, parallel: bool) -> CatResult<()> {
        let (db_gen, changed, removed) = self.with_reader(|conn| {
            let db_gen = Self::db_gen(conn)?;
            if db_gen == ann.generation {
                return Ok((db_gen, Vec::new(), Vec::new()));
            }
            let mut stmt = conn.prepare(
                "SELECT key, category, brand, price, in_stock, embedding FROM products WHERE seq > ?1",
            )?;
            let changed = stmt
                .query_map([ann.generation], |r| {
                    Ok((
                        r.get::<_, i64>(0)? as u64,
                        FilterMeta {
                            category: r.get::<_, String>(1)?.to_lowercase().into(),
                            brand: r.get::<_, String>(2)?.to_lowercase().into(),
                            price: r.get(3)?,
                            in_stock: r.get::<_, i64>(4)? != 0,
                        },
                        blob_to_vec(&r.get::<_, Vec<u8>>(5)?),
                    ))
                })?
                .collect::<rusqlite::Result<Vec<_>>>()?;
            let mut stmt = conn.prepare("SELECT key FROM tombstones WHERE seq > ?1")?;
            let removed = stmt
                .query_map([ann.generation], |r| Ok(r.get::<_, i64>(0)? as u64))?
                .collect::<rusqlite::Result<Vec<_>>>()?;
            Ok((db_gen, changed, removed))
        })?;
        ann.checked = Instant::now();
        if db_gen == ann.generation {
            return Ok(());
        }
        if ann.index.is_none() {
            let dim = changed.first().map(|c| c.2.len()).unwrap_or(0);
            if dim == 0 {
                ann.generation = db_gen;
                for k in removed {
                    ann.meta.remove(&k);
                }
                return Ok(());
            }
            ann.index = Some(self.new_index(dim)?);
        }
        let index = ann.index.as_ref().unwrap();
        for k in &removed {
            let _ = index.remove(*k);
        }
        let need = index.size() + changed.len();
        if need > index.capacity() {
            index
                .reserve_capacity_and_threads(need.max(index.capacity() * 2), index_threads())
                .map_err(CatError::store)?;
        }
        for (k, _, _) in &changed {
            if index.contains(*k) {
                let _ = index.remove(*k);
            }
        }
        let binary = self.quantization == ScalarKind::B1;
        let add = |chunk: &[(u64, FilterMeta, Vec<f32>)]| -> CatResult<()> {
            for (k, _, v) in chunk {
                if binary {
                    index.add(*k, &sign_bits(v)).map_err(CatError::store)?;
                } else {
                    index.add(*k, v.as_slice()).map_err(CatError::store)?;
                }
            }
            Ok(())
        };
        if parallel && changed.len() > 1000 {
            let chunk = changed.len().div_ceil(index_threads());
            std::thread::scope(|s| {
                let handles: Vec<_> = changed
                    .chunks(chunk)
                    .map(|c| s.spawn(move || add(c)))
                    .collect();
                handles.into_iter().try_for_each(|h| h.join().unwrap())
            })?;
        } else {
            add(&changed)?;
        }
        for k in removed {
            ann.meta.remove(&k);
        }
        for (k, m, _) in changed {
            ann.meta.insert(k, m);
        }
        ann.generation = db_gen;
        Ok(())
    }

    fn catch_up(&self) -> CatResult<()> {
        let mut ann = self.ann.write().unwrap();
        self.catch_up_locked(&mut ann, false)
    }

    /// At most once a second, picks up writes made by another process.
    fn maybe_catch_up(&self) -> CatResult<()> {
        if self.ann.read().unwrap().checked.elapsed() < Duration::from_secs(1) {
            return Ok(());
        }
        self.catch_up()
    }

    fn bump_gen(tx: &rusqlite::Transaction) -> CatResult<i64> {
        let g: String = tx.query_row(
            "UPDATE meta SET value = CAST(value AS INTEGER) + 1 WHERE key='gen' RETURNING value",
            [],
            |r| r.get(0),
        )?;
        g.parse().map_err(CatError::store)
    }

    /// Many products in one transaction (bulk loads; the benchmarks).
    pub fn upsert_batch(&self, items: &[(Product, String, Vec<f32>)]) -> CatResult<()> {
        {
            let mut conn = self.write.lock().unwrap();
            let tx = conn.transaction()?;
            for (p, h, v) in items {
                Self::upsert_tx(&tx, p, h, v)?;
            }
            tx.commit()?;
        }
        let mut ann = self.ann.write().unwrap();
        self.catch_up_locked(&mut ann, true)
    }

    fn upsert_tx(
        tx: &rusqlite::Transaction,
        p: &Product,
        hash: &str,
        vector: &[f32],
    ) -> CatResult<Upserted> {
        let generation = Self::bump_gen(tx)?;
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
}

impl Store for SqliteStore {
    fn kind(&self) -> &'static str {
        "sqlite"
    }

    fn contract(&self) -> CatResult<Option<ModelContract>> {
        let conn = self.write.lock().unwrap();
        let v: Option<String> = conn
            .query_row("SELECT value FROM meta WHERE key='contract'", [], |r| {
                r.get(0)
            })
            .optional()?;
        v.map(|s| serde_json::from_str(&s).map_err(CatError::store))
            .transpose()
    }

    fn ensure_contract(&self, contract: &ModelContract) -> CatResult<()> {
        match self.contract()? {
            Some(c) if &c == contract => Ok(()),
            Some(c) => Err(CatError::Contract(format!(
                "this catalogue holds {c} vectors ({} dims); refusing {contract} ({} dims)",
                c.dim, contract.dim
            ))),
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
            let done = Self::upsert_tx(&tx, product, content_hash, vector)?;
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
            let generation = Self::bump_gen(&tx)?;
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
                return Err(CatError::NotFound(p.id.clone()));
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
                let generation = Self::bump_gen(&tx)?;
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
        let hits: Vec<(u64, f32)> = {
            let ann = self.ann.read().unwrap();
            let Some(index) = ann.index.as_ref() else {
                return Ok(Vec::new());
            };
            // Candidates: more than k for coarse quantisations, re-ranked exactly below.
            let fetch = match self.quantization {
                ScalarKind::B1 => k * 10,
                ScalarKind::I8 => k * 2,
                _ => k,
            };
            let binary_query = (self.quantization == ScalarKind::B1).then(|| sign_bits(query));
            let unfiltered = category.is_none() && f.is_empty();
            let cat = category.map(str::to_lowercase);
            let brand = f.brand.as_deref().map(str::to_lowercase);
            let keep = |key: u64| {
                ann.meta.get(&key).is_some_and(|m| {
                    cat.as_deref().is_none_or(|c| *m.category == *c)
                        && brand.as_deref().is_none_or(|b| *m.brand == *b)
                        && f.max_price.is_none_or(|x| m.price <= x)
                        && f.min_price.is_none_or(|x| m.price >= x)
                        && f.in_stock.is_none_or(|s| !s || m.in_stock)
                })
            };
            let matches = self
                .slots
                .run(|| match (&binary_query, unfiltered) {
                    (Some(bits), true) => index.search(bits, fetch),
                    (Some(bits), false) => index.filtered_search(bits, fetch, keep),
                    (None, true) => index.search(query, fetch),
                    (None, false) => index.filtered_search(query, fetch, keep),
                })
                .map_err(CatError::store)?;
            matches.keys.iter().map(|k| (*k, 0.0)).collect()
        };
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
            let keys: Vec<i64> = hits.iter().map(|h| h.0 as i64).collect();
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

    fn record_event(&self, e: &Event, key_name: &str) -> CatResult<()> {
        let conn = self.write.lock().unwrap();
        conn.execute(
            "INSERT INTO events (ts, type, product_id, query_id, key_name) VALUES (?1,?2,?3,?4,?5)",
            params![
                crate::now_s(),
                e.kind.as_str(),
                e.product_id,
                e.query_id,
                key_name
            ],
        )?;
        Ok(())
    }

    fn create_key(&self, name: &str, key_hash: &str, admin: bool) -> CatResult<()> {
        let conn = self.write.lock().unwrap();
        conn.execute(
            "INSERT INTO api_keys VALUES (?1, ?2, ?3, ?4)",
            params![key_hash, name, admin as i64, crate::now_s()],
        )?;
        Ok(())
    }

    fn find_key(&self, key_hash: &str) -> CatResult<Option<KeyInfo>> {
        self.with_reader(|conn| {
            Ok(conn
                .query_row(
                    "SELECT name, admin FROM api_keys WHERE hash = ?1",
                    [key_hash],
                    |r| {
                        Ok(KeyInfo {
                            name: r.get(0)?,
                            admin: r.get::<_, i64>(1)? != 0,
                        })
                    },
                )
                .optional()?)
        })
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

    fn flush(&self) -> CatResult<()> {
        self.catch_up()?;
        let mut ann = self.ann.write().unwrap();
        if ann.generation == ann.saved_gen {
            return Ok(());
        }
        let Some(index) = ann.index.as_ref() else {
            return Ok(());
        };
        let path = self.dir.join(format!("index-{}.usearch", ann.generation));
        let tmp = self
            .dir
            .join(format!(".index-{}.usearch.tmp", ann.generation));
        index
            .save(&tmp.to_string_lossy())
            .map_err(CatError::store)?;
        std::fs::File::open(&tmp)?.sync_all()?;
        std::fs::rename(&tmp, &path)?;
        for (g, old) in self.index_files() {
            if g != ann.generation {
                let _ = std::fs::remove_file(old);
            }
        }
        ann.saved_gen = ann.generation;
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const DIM: usize = 64;

    /// Seeded pseudo-random unit vectors (xorshift), different per `seed`.
    fn unit(seed: u64) -> Vec<f32> {
        let mut x = seed.wrapping_mul(0x9E37_79B9_7F4A_7C15) | 1;
        let mut v: Vec<f32> = (0..DIM)
            .map(|_| {
                x ^= x << 13;
                x ^= x >> 7;
                x ^= x << 17;
                (x >> 40) as f32 / (1u64 << 24) as f32 - 0.5
            })
            .collect();
        let n = v.iter().map(|a| a * a).sum::<f32>().sqrt();
        v.iter_mut().for_each(|a| *a /= n);
        v
    }

    fn product(i: usize) -> Product {
        Product {
            id: format!("p{i}"),
            title: format!("Product {i}"),
            brand: "b".into(),
            price: 1.0,
            currency: "EUR".into(),
            category: "shoes".into(),
            image: String::new(),
            url: format!("https://example.com/p/{i}"),
            in_stock: true,
        }
    }

    fn filled_store(dir: &Path, quantization: &str, n: usize) -> SqliteStore {
        let store = SqliteStore::open(dir, quantization).unwrap();
        store
            .ensure_contract(&ModelContract {
                id: "test".into(),
                version: "1".into(),
                dim: DIM,
            })
            .unwrap();
        let items: Vec<_> = (0..n)
            .map(|i| (product(i), format!("h{i}"), unit(i as u64)))
            .collect();
        store.upsert_batch(&items).unwrap();
        store.flush().unwrap();
        store
    }

    fn temp_dir(name: &str) -> PathBuf {
        let dir =
            std::env::temp_dir().join(format!("shoplook-sqlite-{name}-{}", crate::random_hex(4)));
        let _ = std::fs::remove_dir_all(&dir);
        dir
    }

    /// A server restarted on a saved index gets many searches at once: every one must
    /// succeed (usearch refuses a call when all its per-thread contexts are taken).
    #[test]
    fn concurrent_searches_on_a_loaded_index_all_succeed() {
        let dir = temp_dir("concurrent");
        drop(filled_store(&dir, "f16", 500));
        let store = SqliteStore::open(&dir, "f16").unwrap();
        std::thread::scope(|s| {
            let handles: Vec<_> = (0..32)
                .map(|t| {
                    let store = &store;
                    s.spawn(move || {
                        for i in 0..20 {
                            let id = t * 7 + i;
                            let hits = store
                                .search(&unit(id as u64), 3, None, &SearchFilters::default())
                                .expect("search under concurrency");
                            assert_eq!(hits[0].0.id, format!("p{id}"));
                        }
                    })
                })
                .collect();
            handles.into_iter().for_each(|h| h.join().unwrap());
        });
        let _ = std::fs::remove_dir_all(&dir);
    }

    /// Every quantisation finds a stored vector itself first (binary ones through packed
    /// sign bits, then exact re-ranking), before and after a reload from the index file.
    #[test]
    fn every_quantisation_finds_the_stored_vector() {
        for q in ["f32", "f16", "i8", "b1"] {
            let dir = temp_dir(q);
            let built = filled_store(&dir, q, 300);
            let found = |store: &SqliteStore| {
                (0..300)
                    .filter(|&i| {
                        let r = store
                            .search(&unit(i), 1, None, &SearchFilters::default())
                            .unwrap();
                        r.first().is_some_and(|(p, _)| p.id == format!("p{i}"))
                    })
                    .count()
            };
            let hits = found(&built);
            assert!(hits >= 297, "{q}: {hits}/300 found");
            drop(built);
            let store = SqliteStore::open(&dir, q).unwrap();
            let hits = found(&store);
            assert!(hits >= 297, "{q} after reload: {hits}/300 found");
            drop(store);
            let _ = std::fs::remove_dir_all(&dir);
        }
    }
}
