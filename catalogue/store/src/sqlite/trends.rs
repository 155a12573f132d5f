//! The trend reports' queries and the dated log import on the embedded store.

use rusqlite::params;

use super::SqliteStore;
use super::schema::{blob_to_vec, vec_to_blob};
use crate::error::CatResult;
use crate::events::sql_int;
use crate::searches::shown_to_text;
use crate::trends::{
    Activity, DatedEvent, DatedSearch, ProductFacts, QueryVector, TrendLog, activity_kind,
    activity_sql, session_key,
};

impl TrendLog for SqliteStore {
    fn trend_activity(&self, from: i64, to: i64) -> CatResult<Vec<Activity>> {
        self.with_reader(|conn| {
            let mut stmt = conn.prepare(&activity_sql("ts / 86400", "?1", "?2"))?;
            let rows = stmt.query_map(params![from, to], |r| {
                Ok((
                    r.get::<_, i64>(0)?,
                    r.get::<_, String>(1)?,
                    r.get::<_, String>(2)?,
                    r.get::<_, Option<String>>(3)?,
                    r.get::<_, String>(4)?,
                    r.get::<_, String>(5)?,
                    r.get::<_, i64>(6)?,
                ))
            })?;
            let mut out = Vec::new();
            for row in rows {
                let (day, kind, product_id, category, key, session, n) = row?;
                out.push(Activity {
                    day,
                    kind: activity_kind(&kind)?,
                    product_id,
                    category,
                    session: session_key(&key, &session),
                    count: n as u64,
                });
            }
            Ok(out)
        })
    }

    fn query_vectors(&self, from: i64, to: i64, limit: usize) -> CatResult<Vec<QueryVector>> {
        self.with_reader(|conn| {
            let mut stmt = conn.prepare(
                "SELECT ts, key_name, session_id, embedding FROM searches
                 WHERE ts >= ?1 AND ts < ?2 AND session_id IS NOT NULL ORDER BY n LIMIT ?3",
            )?;
            let rows = stmt.query_map(params![from, to, sql_int(limit)], |r| {
                Ok(QueryVector {
                    day: r.get::<_, i64>(0)?.div_euclid(86_400),
                    session: session_key(&r.get::<_, String>(1)?, &r.get::<_, String>(2)?),
                    embedding: blob_to_vec(&r.get::<_, Vec<u8>>(3)?),
                })
            })?;
            Ok(rows.collect::<Result<Vec<_>, _>>()?)
        })
    }

    fn product_facts(&self) -> CatResult<Vec<ProductFacts>> {
        self.with_reader(|conn| {
            let mut stmt = conn.prepare(
                "SELECT id, title, brand, category, price, image, in_stock FROM products ORDER BY id",
            )?;
            let rows = stmt.query_map([], |r| {
                Ok(ProductFacts {
                    id: r.get(0)?,
                    title: r.get(1)?,
                    brand: r.get(2)?,
                    category: r.get(3)?,
                    price: r.get(4)?,
                    image: r.get(5)?,
                    in_stock: r.get::<_, i64>(6)? != 0,
                })
            })?;
            Ok(rows.collect::<Result<Vec<_>, _>>()?)
        })
    }

    fn product_vector(&self, id: &str) -> CatResult<Option<Vec<f32>>> {
        use rusqlite::OptionalExtension;
        self.with_reader(|conn| {
            Ok(conn
                .query_row("SELECT embedding FROM products WHERE id = ?1", [id], |r| {
                    r.get::<_, Vec<u8>>(0)
                })
                .optional()?
                .map(|b| blob_to_vec(&b)))
        })
    }

    fn import_logs(&self, searches: &[DatedSearch], events: &[DatedEvent]) -> CatResult<u64> {
        let mut conn = self.write.lock().unwrap();
        let tx = conn.transaction()?;
        for (s, at) in searches {
            tx.execute(
                "INSERT INTO searches (query_id, ts, key_name, session_id, category, ranking,
                     embedding, shown) VALUES (?1,?2,?3,?4,?5,?6,?7,?8)",
                params![
                    s.query_id,
                    at,
                    s.key_name,
                    s.session_id,
                    s.category,
                    s.ranking.as_str(),
                    vec_to_blob(&s.embedding),
                    shown_to_text(&s.shown)
                ],
            )?;
        }
        let mut written = 0;
        for (e, key_name, at) in events {
            written += tx.execute(
                "INSERT OR IGNORE INTO events (ts, type, product_id, query_id, key_name, position,
                     session_id) VALUES (?1,?2,?3,?4,?5,?6,?7)",
                params![
                    at,
                    e.kind.as_str(),
                    e.product_id,
                    e.query_id,
                    key_name,
                    e.position,
                    e.session_id
                ],
            )? as u64;
        }
        tx.commit()?;
        Ok(written)
    }
}
