//! The trend reports' queries and the dated log import on PostgreSQL.

use super::{EVENT_LOG_LOCK, PgStore, SEARCH_LOG_LOCK};
use crate::ProductIndex;
use crate::error::CatResult;
use crate::events::sql_int;
use crate::searches::shown_to_text;
use crate::trends::{
    Activity, DatedEvent, DatedSearch, ProductFacts, QueryVector, TrendLog, activity_kind,
    activity_sql, session_key,
};

/// The day of `ts` as the embedded store computes it (whole seconds, then whole days).
const DAY: &str = "(floor(extract(epoch FROM ts))::bigint / 86400)";

fn floats(bytes: &[u8]) -> Vec<f32> {
    bytes
        .chunks_exact(4)
        .map(|c| f32::from_le_bytes([c[0], c[1], c[2], c[3]]))
        .collect()
}

impl TrendLog for PgStore {
    fn trend_activity(&self, from: i64, to: i64) -> CatResult<Vec<Activity>> {
        let sql = activity_sql(DAY, "to_timestamp($1::bigint)", "to_timestamp($2::bigint)");
        let rows = self.primary.with(|c| Ok(c.query(&sql, &[&from, &to])?))?;
        rows.iter()
            .map(|r| {
                Ok(Activity {
                    day: r.get(0),
                    kind: activity_kind(r.get(1))?,
                    product_id: r.get(2),
                    category: r.get(3),
                    session: session_key(r.get(4), r.get(5)),
                    count: r.get::<_, i64>(6) as u64,
                })
            })
            .collect()
    }

    fn query_vectors(&self, from: i64, to: i64, limit: usize) -> CatResult<Vec<QueryVector>> {
        let sql = format!(
            "SELECT {DAY}, key_name, session_id, embedding FROM searches
             WHERE ts >= to_timestamp($1::bigint) AND ts < to_timestamp($2::bigint)
                 AND session_id IS NOT NULL ORDER BY n LIMIT $3"
        );
        let rows = self
            .primary
            .with(|c| Ok(c.query(&sql, &[&from, &to, &sql_int(limit)])?))?;
        Ok(rows
            .iter()
            .map(|r| QueryVector {
                day: r.get(0),
                session: session_key(r.get(1), r.get(2)),
                embedding: floats(r.get(3)),
            })
            .collect())
    }

    fn product_facts(&self) -> CatResult<Vec<ProductFacts>> {
        // The products table is made with the first product (it needs the dimension).
        if self.contract()?.is_none() {
            return Ok(Vec::new());
        }
        let rows = self.primary.with(|c| {
            Ok(c.query(
                "SELECT id, title, brand, category, price, image, in_stock FROM products
                 ORDER BY id COLLATE \"C\"",
                &[],
            )?)
        })?;
        Ok(rows
            .iter()
            .map(|r| ProductFacts {
                id: r.get(0),
                title: r.get(1),
                brand: r.get(2),
                category: r.get(3),
                price: r.get(4),
                image: r.get(5),
                in_stock: r.get(6),
            })
            .collect())
    }

    fn product_vector(&self, id: &str) -> CatResult<Option<Vec<f32>>> {
        if self.contract()?.is_none() {
            return Ok(None);
        }
        let row = self
            .primary
            .with(|c| Ok(c.query_opt("SELECT embedding FROM products WHERE id = $1", &[&id])?))?;
        Ok(row.map(|r| r.get::<_, pgvector::Vector>(0).to_vec()))
    }

    fn import_logs(&self, searches: &[DatedSearch], events: &[DatedEvent]) -> CatResult<u64> {
        self.primary.with(|c| {
            let mut tx = c.transaction()?;
            tx.execute("SELECT pg_advisory_xact_lock($1)", &[&SEARCH_LOG_LOCK])?;
            tx.execute("SELECT pg_advisory_xact_lock($1)", &[&EVENT_LOG_LOCK])?;
            for (s, at) in searches {
                let emb: Vec<u8> = s.embedding.iter().flat_map(|x| x.to_le_bytes()).collect();
                tx.execute(
                    "INSERT INTO searches (query_id, ts, key_name, session_id, category, ranking,
                         embedding, shown) VALUES ($1, to_timestamp($2::bigint), $3,$4,$5,$6,$7,$8)",
                    &[
                        &s.query_id,
                        at,
                        &s.key_name,
                        &s.session_id,
                        &s.category,
                        &s.ranking.as_str(),
                        &emb,
                        &shown_to_text(&s.shown),
                    ],
                )?;
            }
            let mut written = 0;
            for (e, key_name, at) in events {
                let position = e.position.map(|p| p as i32);
                written += tx.execute(
                    "INSERT INTO events (ts, type, product_id, query_id, key_name, position,
                         session_id) VALUES (to_timestamp($1::bigint), $2,$3,$4,$5,$6,$7)
                     ON CONFLICT (key_name, type, query_id, product_id) WHERE query_id IS NOT NULL
                     DO NOTHING",
                    &[
                        at,
                        &e.kind.as_str(),
                        &e.product_id,
                        &e.query_id,
                        key_name,
                        &position,
                        &e.session_id,
                    ],
                )?;
            }
            tx.commit()?;
            Ok(written)
        })
    }
}
