//! PostgreSQL + pgvector store: one `products` table with a `vector(dim)` column and an HNSW
//! index (inner product on unit vectors = cosine). API servers keep no state of their own, so
//! any number of them can serve one primary; searches and product reads can go to a read
//! replica (`read_url`).

mod campaigns;
mod migrations;
mod trends;

use std::sync::Mutex;

use pgvector::Vector;
use postgres::{Client, NoTls};
use shoplook_core::ModelContract;
use shoplook_core::wire::{Event, Product, SearchFilters};

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

pub use migrations::SCHEMA_VERSION;

/// Advisory lock held while an event is appended (see `record_event`).
const EVENT_LOG_LOCK: i64 = 7265824;
/// The same for the search log.
const SEARCH_LOG_LOCK: i64 = 7265825;

/// HNSW search breadth (pgvector's `hnsw.ef_search`) unless the caller sets one
/// ([`crate::StoreConfig::ef_search`] says why it is lower than the embedded store's).
pub const DEFAULT_EF_SEARCH: usize = 128;

/// A small connection pool: idle connections are reused, broken ones dropped.
struct Pool {
    url: String,
    /// `hnsw.ef_search` of every connection.
    ef_search: usize,
    idle: Mutex<Vec<Client>>,
}

impl Pool {
    fn new(url: &str, ef_search: usize) -> Self {
        Pool {
            url: url.to_string(),
            ef_search,
            idle: Mutex::new(Vec::new()),
        }
    }

    fn connect(&self) -> CatResult<Client> {
        let mut c = Client::connect(&self.url, NoTls)?;
        // Iterative scans keep filtered HNSW searches from returning fewer than k rows.
        c.batch_execute(&format!(
            "SET hnsw.ef_search = {}; SET hnsw.iterative_scan = relaxed_order;",
            self.ef_search
        ))?;
        Ok(c)
    }

    fn with<T>(&self, f: impl FnOnce(&mut Client) -> CatResult<T>) -> CatResult<T> {
        let idle = self.idle.lock().unwrap().pop();
        let mut client = match idle {
            Some(c) if !c.is_closed() => c,
            _ => self.connect()?,
        };
        let out = f(&mut client);
        if !client.is_closed() {
            let mut idle = self.idle.lock().unwrap();
            if idle.len() < 32 {
                idle.push(client);
            }
        }
        out
    }
}

pub struct PgStore {
    primary: Pool,
    replica: Option<Pool>,
}

fn row_product(r: &postgres::Row) -> Product {
    Product {
        id: r.get("id"),
        title: r.get("title"),
        brand: r.get("brand"),
        price: r.get("price"),
        currency: r.get("currency"),
        category: r.get("category"),
        image: r.get("image"),
        url: r.get("url"),
        in_stock: r.get("in_stock"),
    }
}

const PRODUCT_COLS: &str = "id, title, brand, price, currency, category, image, url, in_stock";

impl PgStore {
    /// The store at `url` (and its read replica) searched at [`DEFAULT_EF_SEARCH`].
    pub fn open(url: &str, read_url: Option<&str>) -> CatResult<Self> {
        Self::open_with(url, read_url, DEFAULT_EF_SEARCH)
    }

    /// The store at `url` (and its read replica) searched at `ef_search`.
    pub fn open_with(url: &str, read_url: Option<&str>, ef_search: usize) -> CatResult<Self> {
        let primary = Pool::new(url, ef_search);
        primary.with(migrations::migrate)?;
        let store = PgStore {
            primary,
            replica: read_url.map(|u| Pool::new(u, ef_search)),
        };
        if let Some(contract) = store.contract()? {
            store.create_products_table(&contract)?;
        }
        Ok(store)
    }

    fn reader(&self) -> &Pool {
        self.replica.as_ref().unwrap_or(&self.primary)
    }

    fn create_products_table(&self, contract: &ModelContract) -> CatResult<()> {
        self.primary
            .with(|c| migrations::create_products_table(c, contract.dim))
    }

    /// Many products in one transaction (bulk loads; the benchmarks).
    pub fn upsert_batch(&self, items: &[(Product, String, Vec<f32>)]) -> CatResult<()> {
        self.primary.with(|c| {
            let mut tx = c.transaction()?;
            let stmt = tx.prepare(UPSERT)?;
            for (p, h, v) in items {
                tx.execute(
                    &stmt,
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
                        h,
                        &Vector::from(v.clone()),
                    ],
                )?;
            }
            tx.commit()?;
            Ok(())
        })
    }

    /// Runs SQL on the primary (benchmarks: drop/create the index, VACUUM...).
    pub fn execute(&self, sql: &str) -> CatResult<()> {
        self.primary.with(|c| Ok(c.batch_execute(sql)?))
    }
}

const UPSERT: &str =
    "INSERT INTO products (id, title, brand, price, currency, category, image, url,
        in_stock, content_hash, embedding)
    VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11)
    ON CONFLICT (id) DO UPDATE SET title=excluded.title, brand=excluded.brand,
        price=excluded.price, currency=excluded.currency, category=excluded.category,
        image=excluded.image, url=excluded.url, in_stock=excluded.in_stock,
        content_hash=excluded.content_hash, embedding=excluded.embedding, updated_at=now()
    RETURNING (xmax = 0) AS inserted";

impl ProductIndex for PgStore {
    fn contract(&self) -> CatResult<Option<ModelContract>> {
        self.primary.with(|c| {
            let row = c.query_opt(
                "SELECT value FROM catalogue_meta WHERE key = 'contract'",
                &[],
            )?;
            row.map(|r| {
                serde_json::from_str(r.get::<_, &str>(0))
                    .map_err(CatError::stored_json("model contract"))
            })
            .transpose()
        })
    }

    fn ensure_contract(&self, contract: &ModelContract) -> CatResult<()> {
        match self.contract()? {
            Some(c) if &c == contract => Ok(()),
            Some(c) => Err(CatError::Contract(ContractMismatch::Catalogue {
                held: Box::new(c),
                refused: Box::new(contract.clone()),
            })),
            None => {
                self.primary.with(|c| {
                    c.execute(
                        "INSERT INTO catalogue_meta VALUES ('contract', $1) ON CONFLICT DO NOTHING",
                        &[&serde_json::to_string(contract).unwrap()],
                    )?;
                    Ok(())
                })?;
                // Another server may have won the race with another contract.
                match self.contract()? {
                    Some(c) if &c == contract => self.create_products_table(contract),
                    _ => self.ensure_contract(contract),
                }
            }
        }
    }

    fn get(&self, id: &str) -> CatResult<Option<StoredProduct>> {
        if self.contract()?.is_none() {
            return Ok(None);
        }
        self.reader().with(|c| {
            Ok(c.query_opt(
                &format!("SELECT {PRODUCT_COLS}, content_hash FROM products WHERE id = $1"),
                &[&id],
            )?
            .map(|r| StoredProduct {
                product: row_product(&r),
                content_hash: r.get("content_hash"),
            }))
        })
    }

    fn upsert(&self, p: &Product, content_hash: &str, vector: &[f32]) -> CatResult<Upserted> {
        self.primary.with(|c| {
            let row = c.query_one(
                UPSERT,
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
                    &content_hash,
                    &Vector::from(vector.to_vec()),
                ],
            )?;
            Ok(if row.get::<_, bool>(0) {
                Upserted::Added
            } else {
                Upserted::Updated
            })
        })
    }

    fn update_fields(&self, p: &Product) -> CatResult<()> {
        let n = self.primary.with(|c| {
            Ok(c.execute(
                "UPDATE products SET title=$2, brand=$3, price=$4, currency=$5, category=$6,
                    image=$7, url=$8, in_stock=$9, updated_at=now() WHERE id=$1",
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
                ],
            )?)
        })?;
        if n == 0 {
            return Err(CatError::NotFound(Missing::StoredProduct(p.id.clone())));
        }
        Ok(())
    }

    fn delete(&self, id: &str) -> CatResult<bool> {
        if self.contract()?.is_none() {
            return Ok(false);
        }
        self.primary
            .with(|c| Ok(c.execute("DELETE FROM products WHERE id = $1", &[&id])? > 0))
    }

    fn ids(&self) -> CatResult<Vec<String>> {
        if self.contract()?.is_none() {
            return Ok(Vec::new());
        }
        self.primary.with(|c| {
            Ok(c.query("SELECT id FROM products ORDER BY id", &[])?
                .iter()
                .map(|r| r.get(0))
                .collect())
        })
    }

    fn search(
        &self,
        query: &[f32],
        k: usize,
        category: Option<&str>,
        f: &SearchFilters,
    ) -> CatResult<Vec<(Product, f32)>> {
        let q = Vector::from(query.to_vec());
        let k = k as i64;
        let rows = self.reader().with(|c| {
            Ok(c.query(
                &format!(
                    "SELECT {PRODUCT_COLS}, -(embedding <#> $1) AS score FROM products
                     WHERE ($2::text IS NULL
                              OR lower(category COLLATE \"C\") = lower($2::text COLLATE \"C\"))
                       AND ($3::float8 IS NULL OR price <= $3)
                       AND ($4::float8 IS NULL OR price >= $4)
                       AND ($5::text IS NULL
                            OR lower(brand COLLATE \"C\") = lower($5::text COLLATE \"C\"))
                       AND ($6::bool IS NOT TRUE OR in_stock)
                     ORDER BY embedding <#> $1 LIMIT $7"
                ),
                &[
                    &q,
                    &category,
                    &f.max_price,
                    &f.min_price,
                    &f.brand,
                    &f.in_stock,
                    &k,
                ],
            )?)
        });
        let rows = match rows {
            // A catalogue whose products table does not exist yet has no results.
            Err(CatError::Postgres(e))
                if e.code() == Some(&postgres::error::SqlState::UNDEFINED_TABLE) =>
            {
                return Ok(Vec::new());
            }
            r => r?,
        };
        let mut out: Vec<(Product, f32)> = rows
            .iter()
            .map(|r| (row_product(r), r.get::<_, f64>("score") as f32))
            .collect();
        // relaxed_order iterative scans may return rows slightly out of order.
        out.sort_by(|a, b| b.1.total_cmp(&a.1));
        Ok(out)
    }

    fn flush(&self) -> CatResult<()> {
        Ok(())
    }
}

impl EventLog for PgStore {
    fn record_event(&self, e: &Event, key_name: &str) -> CatResult<bool> {
        self.primary.with(|c| {
            // `n` (bigserial) is taken at insert time but becomes visible at commit: two
            // concurrent inserts could commit out of `n` order, and a reader following the
            // cursor would skip the smaller one for good. One insert at a time (the lock is
            // released after the commit is visible) keeps `n` order = commit order.
            let mut tx = c.transaction()?;
            tx.execute("SELECT pg_advisory_xact_lock($1)", &[&EVENT_LOG_LOCK])?;
            let position = e.position.map(|p| p as i32);
            let n = tx.execute(
                "INSERT INTO events (type, product_id, query_id, key_name, position, session_id)
                 VALUES ($1,$2,$3,$4,$5,$6)
                 ON CONFLICT (key_name, type, query_id, product_id) WHERE query_id IS NOT NULL
                 DO NOTHING",
                &[
                    &e.kind.as_str(),
                    &e.product_id,
                    &e.query_id,
                    &key_name,
                    &position,
                    &e.session_id,
                ],
            )?;
            tx.commit()?;
            Ok(n == 1)
        })
    }

    fn events_since(&self, after: u64, limit: usize) -> CatResult<Vec<LoggedEvent>> {
        // From the primary: a replica may lag, and readers of the log want every event.
        let rows = self.primary.with(|c| {
            Ok(c.query(
                "SELECT n, floor(extract(epoch FROM ts))::bigint AS at, type, product_id, query_id,
                        key_name, position, session_id
                 FROM events WHERE n > $1 ORDER BY n LIMIT $2",
                &[&sql_int(after), &sql_int(limit)],
            )?)
        })?;
        rows.iter()
            .map(|r| {
                Ok(LoggedEvent {
                    seq: r.get::<_, i64>("n") as u64,
                    at: r.get("at"),
                    key_name: r.get("key_name"),
                    event: Event {
                        kind: parse_event_type(r.get("type"))?,
                        product_id: r.get("product_id"),
                        query_id: r.get("query_id"),
                        position: r.get::<_, Option<i32>>("position").map(|p| p as u32),
                        session_id: r.get("session_id"),
                    },
                })
            })
            .collect()
    }
}

impl SearchLog for PgStore {
    fn record_search(&self, s: &SearchRecord) -> CatResult<()> {
        self.primary.with(|c| {
            // One append at a time, so `n` order = commit order (see `record_event`).
            let mut tx = c.transaction()?;
            tx.execute("SELECT pg_advisory_xact_lock($1)", &[&SEARCH_LOG_LOCK])?;
            let emb: Vec<u8> = s.embedding.iter().flat_map(|x| x.to_le_bytes()).collect();
            tx.execute(
                "INSERT INTO searches (query_id, key_name, session_id, category, ranking,
                     embedding, shown) VALUES ($1,$2,$3,$4,$5,$6,$7)",
                &[
                    &s.query_id,
                    &s.key_name,
                    &s.session_id,
                    &s.category,
                    &s.ranking.as_str(),
                    &emb,
                    &shown_to_text(&s.shown),
                ],
            )?;
            tx.commit()?;
            Ok(())
        })
    }

    fn searches_since(&self, after: u64, limit: usize) -> CatResult<Vec<LoggedSearch>> {
        let rows = self.primary.with(|c| {
            Ok(c.query(
                "SELECT n, floor(extract(epoch FROM ts))::bigint AS at, query_id, key_name,
                        session_id, category, ranking, embedding, shown
                 FROM searches WHERE n > $1 ORDER BY n LIMIT $2",
                &[&sql_int(after), &sql_int(limit)],
            )?)
        })?;
        rows.iter()
            .map(|r| {
                let emb: Vec<u8> = r.get("embedding");
                Ok(LoggedSearch {
                    seq: r.get::<_, i64>("n") as u64,
                    at: r.get("at"),
                    search: SearchRecord {
                        query_id: r.get("query_id"),
                        key_name: r.get("key_name"),
                        session_id: r.get("session_id"),
                        category: r.get("category"),
                        ranking: parse_ranking(r.get("ranking")),
                        embedding: emb
                            .chunks_exact(4)
                            .map(|b| f32::from_le_bytes([b[0], b[1], b[2], b[3]]))
                            .collect(),
                        shown: shown_from_text(r.get("shown"))?,
                    },
                })
            })
            .collect()
    }

    fn purge_before(&self, cutoff: i64) -> CatResult<Purged> {
        self.primary.with(|c| {
            let mut tx = c.transaction()?;
            let cutoff = cutoff as f64;
            let searches = tx.execute(
                "DELETE FROM searches WHERE ts < to_timestamp($1)",
                &[&cutoff],
            )?;
            let events =
                tx.execute("DELETE FROM events WHERE ts < to_timestamp($1)", &[&cutoff])?;
            tx.commit()?;
            Ok(Purged { searches, events })
        })
    }
}

impl KeyStore for PgStore {
    fn create_key(&self, name: &str, key_hash: &str, role: &Role) -> CatResult<String> {
        let id = new_key_id();
        self.primary.with(|c| {
            c.execute(
                "INSERT INTO api_keys (hash, name, admin, role, brand, id)
                 VALUES ($1, $2, $3, $4, $5, $6)",
                &[
                    &key_hash,
                    &name,
                    &(*role == Role::Admin),
                    &role.as_str(),
                    &role.brand(),
                    &id,
                ],
            )?;
            Ok(())
        })?;
        Ok(id)
    }

    fn find_key(&self, key_hash: &str) -> CatResult<Option<KeyInfo>> {
        // The primary, not a replica: a key revoked there is refused at once.
        let row = self.primary.with(|c| {
            Ok(c.query_opt(
                "SELECT id, name, role, brand FROM api_keys
                 WHERE hash = $1 AND revoked_at IS NULL",
                &[&key_hash],
            )?)
        })?;
        row.map(|r| key_from_row(&r)).transpose()
    }

    fn list_keys(&self) -> CatResult<Vec<KeyRecord>> {
        let rows = self.primary.with(|c| {
            Ok(c.query(
                "SELECT id, name, role, brand, extract(epoch FROM created_at)::bigint, revoked_at
                 FROM api_keys ORDER BY created_at, id",
                &[],
            )?)
        })?;
        rows.iter()
            .map(|r| {
                Ok(KeyRecord {
                    key: key_from_row(r)?,
                    created_at: r.get(4),
                    revoked_at: r.get(5),
                })
            })
            .collect()
    }

    fn revoke_key(&self, id: &str, at: i64) -> CatResult<Revoked> {
        self.primary.with(|c| {
            let mut tx = c.transaction()?;
            let found = tx.query_opt(
                "SELECT revoked_at FROM api_keys WHERE id = $1 FOR UPDATE",
                &[&id],
            )?;
            let outcome = match found.map(|r| r.get::<_, Option<i64>>(0)) {
                None => Revoked::Unknown,
                Some(Some(_)) => Revoked::Already,
                Some(None) => {
                    tx.execute(
                        "UPDATE api_keys SET revoked_at = $2 WHERE id = $1",
                        &[&id, &at],
                    )?;
                    Revoked::Now
                }
            };
            tx.commit()?;
            Ok(outcome)
        })
    }
}

/// A key from a row starting `id, name, role, brand`.
fn key_from_row(r: &postgres::Row) -> CatResult<KeyInfo> {
    Ok(KeyInfo {
        id: r.get(0),
        name: r.get(1),
        role: Role::parse(r.get(2), r.get(3)).map_err(CatError::StoredRole)?,
    })
}

impl Store for PgStore {
    fn kind(&self) -> &'static str {
        "postgres"
    }

    fn stats(&self) -> CatResult<StoreStats> {
        let has_products = self.contract()?.is_some();
        self.reader().with(|c| {
            let events: i64 = c.query_one("SELECT count(*) FROM events", &[])?.get(0);
            let (products, index_bytes) = if has_products {
                let r = c.query_one(
                    "SELECT (SELECT count(*) FROM products),
                            coalesce(pg_relation_size(to_regclass('products_embedding_hnsw')), 0)",
                    &[],
                )?;
                (r.get::<_, i64>(0) as u64, r.get::<_, i64>(1) as u64)
            } else {
                (0, 0)
            };
            Ok(StoreStats {
                products,
                events: events as u64,
                index_size: products,
                index_bytes,
            })
        })
    }
}
