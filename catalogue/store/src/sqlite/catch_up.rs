//! Bringing the ANN index up to date with the rows: every product write bumps `meta.gen` and
//! stamps its row (or a tombstone) with it, so the rows changed since the index's generation
//! are exactly what it lacks.

use std::time::{Duration, Instant};

use usearch::ScalarKind;

use super::SqliteStore;
use super::ann::{Ann, FilterMeta, index_threads, sign_bits};
use super::schema;
use crate::error::{CatError, CatResult};

impl SqliteStore {
    /// Applies every row written after `ann.generation` to the index.
    pub(super) fn catch_up_locked(&self, ann: &mut Ann, parallel: bool) -> CatResult<()> {
        let (db_gen, changed, removed) = self.with_reader(|conn| {
            let db_gen = schema::db_gen(conn)?;
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
                            category: r.get::<_, String>(1)?.to_ascii_lowercase().into(),
                            brand: r.get::<_, String>(2)?.to_ascii_lowercase().into(),
                            price: r.get(3)?,
                            in_stock: r.get::<_, i64>(4)? != 0,
                        },
                        schema::blob_to_vec(&r.get::<_, Vec<u8>>(5)?),
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
                .map_err(CatError::index("reserve"))?;
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
                    index
                        .add(*k, &sign_bits(v))
                        .map_err(CatError::index("add"))?;
                } else {
                    index
                        .add(*k, v.as_slice())
                        .map_err(CatError::index("add"))?;
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

    pub(super) fn catch_up(&self) -> CatResult<()> {
        let mut ann = self.ann.write().unwrap();
        self.catch_up_locked(&mut ann, false)
    }

    /// At most once a second, picks up writes made by another process.
    pub(super) fn maybe_catch_up(&self) -> CatResult<()> {
        if self.ann.read().unwrap().checked.elapsed() < Duration::from_secs(1) {
            return Ok(());
        }
        self.catch_up()
    }
}
