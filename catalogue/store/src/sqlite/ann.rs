//! The embedded store's ANN index (usearch HNSW), derived from the rows: its parameters and
//! quantisation, the per-thread search contexts, binary sign bits, filtered candidate search,
//! and loading/saving `index-<gen>.usearch`.

use std::collections::HashMap;
use std::path::PathBuf;
use std::sync::{Condvar, Mutex};
use std::time::Instant;

use shoplook_core::wire::SearchFilters;
use usearch::{Index, IndexOptions, MetricKind, ScalarKind, b1x8};

use super::{SqliteStore, schema};
use crate::ProductIndex;
use crate::error::{CatError, CatResult, Invalid};

/// Quantisation of a new embedded index. Candidates are re-ranked with the exact vectors, so
/// i8 loses no recall against f16 while it takes a third of the memory and builds twice as
/// fast (docs/catalogue.md, scale benchmark).
pub const DEFAULT_QUANTIZATION: &str = "i8";

/// Search breadth (ef_search) of the embedded index unless the caller sets one
/// ([`crate::StoreConfig::ef_search`] says why PostgreSQL's default differs). Measured
/// (docs/catalogue.md): recall@10 0.71 at 128, 0.96 at 512 on 100k vectors shaped like real
/// embeddings, at 3.9 ms p50 on 2 cores.
pub const DEFAULT_EF_SEARCH: usize = 512;

/// HNSW parameters of the embedded index: plain values, chosen by whoever opens the store.
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
            expansion_search: DEFAULT_EF_SEARCH,
        }
    }
}

/// The filter fields of a product, for filtering inside the HNSW traversal. Category and
/// brand are ASCII-lowercased: [`passes`](crate::passes) compares them ignoring ASCII
/// case only, as PostgreSQL's `lower()` does under the C locale.
pub(super) struct FilterMeta {
    pub(super) category: Box<str>,
    pub(super) brand: Box<str>,
    pub(super) price: f64,
    pub(super) in_stock: bool,
}

/// An index file that opening the store passed over: the index came from an older file or was
/// rebuilt from the rows instead, so nothing is lost, but the file is worth a look. The store
/// prints nothing; whoever opened it reports these ([`crate::Store::ignored_index_files`]).
#[derive(Debug, thiserror::Error)]
#[error("ignoring unreadable index file {}: {problem}", path.display())]
pub struct IgnoredIndexFile {
    pub path: PathBuf,
    #[source]
    pub problem: IndexFileProblem,
}

/// Why an index file was passed over.
#[derive(Debug, thiserror::Error)]
pub enum IndexFileProblem {
    /// usearch could not load it (truncated, not an index, another format version).
    #[error("{0}")]
    Unreadable(#[source] cxx::Exception),
    /// It loaded, but holds vectors of another dimension than the catalogue's model.
    #[error("it holds {found}-dimensional vectors; the catalogue's model has {expected}")]
    OtherDimensions { found: usize, expected: usize },
}

pub(super) struct Ann {
    pub(super) index: Option<Index>,
    pub(super) meta: HashMap<u64, FilterMeta>,
    /// Generation the index reflects.
    pub(super) generation: i64,
    /// Generation of the newest saved index file.
    pub(super) saved_gen: i64,
    pub(super) checked: Instant,
}

/// usearch gives each concurrent call on an index a scratch context and fails a call when
/// none is free ("Reserve capacity ahead of searches!") instead of waiting. The index is
/// reserved with this many contexts and `IndexSlots` makes callers queue for one: searches
/// are CPU-bound, so more of them at once than cores would not be faster anyway.
pub(super) fn index_threads() -> usize {
    std::thread::available_parallelism().map_or(2, |n| n.get())
}

pub(super) struct IndexSlots {
    free: Mutex<usize>,
    released: Condvar,
}

impl IndexSlots {
    pub(super) fn new(n: usize) -> Self {
        IndexSlots {
            free: Mutex::new(n),
            released: Condvar::new(),
        }
    }
    pub(super) fn run<T>(&self, f: impl FnOnce() -> T) -> T {
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
pub(super) fn sign_bits(v: &[f32]) -> Vec<b1x8> {
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

pub(super) fn parse_quantization(q: &str) -> CatResult<ScalarKind> {
    Ok(match q {
        "f32" => ScalarKind::F32,
        "f16" => ScalarKind::F16,
        "bf16" => ScalarKind::BF16,
        "i8" => ScalarKind::I8,
        "b1" => ScalarKind::B1,
        _ => {
            return Err(CatError::Invalid(Invalid::Quantization(q.to_string())));
        }
    })
}

impl SqliteStore {
    pub(super) fn new_index(&self, dim: usize) -> CatResult<Index> {
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
        let index = Index::new(&opts).map_err(CatError::index("create"))?;
        index
            .reserve_capacity_and_threads(1024, index_threads())
            .map_err(CatError::index("reserve"))?;
        Ok(index)
    }

    pub(super) fn index_files(&self) -> Vec<(i64, PathBuf)> {
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

    /// Loads the newest usable index file and catches up with the rows, or rebuilds. Returns
    /// the newer files it passed over, for the caller to report.
    pub(super) fn load_index(&self) -> CatResult<Vec<IgnoredIndexFile>> {
        let contract = self.contract()?;
        let Some(contract) = contract else {
            return Ok(Vec::new()); // empty catalogue: the index is created with the first product
        };
        let conn = self.write.lock().unwrap();
        let db_gen = schema::db_gen(&conn)?;
        let mut ann = self.ann.write().unwrap();
        let mut loaded = None;
        let mut ignored = Vec::new();
        for (g, path) in self.index_files().into_iter().rev() {
            if g > db_gen {
                continue;
            }
            let index = self.new_index(contract.dim)?;
            let problem = match index.load(&path.to_string_lossy()) {
                Ok(()) if index.dimensions() == contract.dim => {
                    index.change_expansion_search(self.params.expansion_search);
                    // Loading resets the per-thread contexts.
                    index
                        .reserve_capacity_and_threads(index.size().max(1024), index_threads())
                        .map_err(CatError::index("reserve"))?;
                    loaded = Some((g, index));
                    break;
                }
                Ok(()) => IndexFileProblem::OtherDimensions {
                    found: index.dimensions(),
                    expected: contract.dim,
                },
                Err(e) => IndexFileProblem::Unreadable(e),
            };
            ignored.push(IgnoredIndexFile { path, problem });
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
                        category: r.get::<_, String>(1)?.to_ascii_lowercase().into(),
                        brand: r.get::<_, String>(2)?.to_ascii_lowercase().into(),
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
        Ok(ignored)
    }

    /// Keys of the nearest products that pass `category` and `f` (the filter is applied inside
    /// the HNSW traversal), more than `k` for coarse quantisations: the caller re-ranks them
    /// with the exact vectors.
    pub(super) fn candidates(
        &self,
        query: &[f32],
        k: usize,
        category: Option<&str>,
        f: &SearchFilters,
    ) -> CatResult<Vec<u64>> {
        let ann = self.ann.read().unwrap();
        let Some(index) = ann.index.as_ref() else {
            return Ok(Vec::new());
        };
        // More than k for coarse quantisations.
        let fetch = match self.quantization {
            ScalarKind::B1 => k * 10,
            ScalarKind::I8 => k * 2,
            _ => k,
        };
        let binary_query = (self.quantization == ScalarKind::B1).then(|| sign_bits(query));
        let unfiltered = category.is_none() && f.is_empty();
        let cat = category.map(str::to_ascii_lowercase);
        let brand = f.brand.as_deref().map(str::to_ascii_lowercase);
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
            .map_err(CatError::index("search"))?;
        Ok(matches.keys)
    }

    /// Saves the index as `index-<gen>.usearch` (temp file + rename) unless the newest file
    /// already reflects its generation, and removes older files.
    pub(super) fn save_index(&self) -> CatResult<()> {
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
            .map_err(CatError::index("save"))?;
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
    use std::path::Path;

    use shoplook_core::ModelContract;
    use shoplook_core::wire::{Product, SearchFilters};

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

    /// An index file that does not load is passed over and handed to the caller (the store
    /// prints nothing); the index is rebuilt from the rows and finds every product.
    #[test]
    fn an_unreadable_index_file_is_reported_and_the_index_rebuilt() {
        let dir = temp_dir("unreadable");
        drop(filled_store(&dir, "f16", 200));
        let files = SqliteStore::open(&dir, "f16").unwrap().index_files();
        let (_, file) = files.last().expect("a saved index file");
        std::fs::write(file, b"not an index").unwrap();

        let store = SqliteStore::open(&dir, "f16").unwrap();
        let ignored = crate::Store::ignored_index_files(&store);
        assert_eq!(ignored.len(), 1, "{ignored:?}");
        assert_eq!(&ignored[0].path, file);
        assert!(
            matches!(ignored[0].problem, IndexFileProblem::Unreadable(_)),
            "{:?}",
            ignored[0].problem
        );
        let source = std::error::Error::source(&ignored[0]).expect("the problem");
        assert!(
            std::error::Error::source(source)
                .is_some_and(|e| e.downcast_ref::<cxx::Exception>().is_some()),
            "{source:?}"
        );
        assert!(
            ignored[0]
                .to_string()
                .starts_with("ignoring unreadable index file "),
            "{}",
            ignored[0]
        );
        let found = (0..200)
            .filter(|&i| {
                let hits = store
                    .search(&unit(i), 1, None, &SearchFilters::default())
                    .unwrap();
                hits.first().is_some_and(|(p, _)| p.id == format!("p{i}"))
            })
            .count();
        assert!(found >= 198, "{found}/200 found after the rebuild");
        drop(store);
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
