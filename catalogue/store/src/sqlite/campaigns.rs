//! Campaigns on the embedded store (`store::campaigns`). A click is charged in one `BEGIN
//! IMMEDIATE` transaction: SQLite lets one writer in at a time across every process that opens
//! the file, so the caps read inside it hold until the charge is written, and the spend grows
//! by a conditional `UPDATE` that re-reads it under that lock.

use std::collections::HashMap;

use rusqlite::{OptionalExtension, TransactionBehavior, params};

use super::SqliteStore;
use super::schema::{PRODUCT_COLS, blob_to_vec, row_product};
use crate::campaigns::{
    AdServe, Campaign, CampaignDay, CampaignStore, Charged, ClickCharge, InvalidClick,
    LiveCampaign, Pacing, day_of, merge_days,
};
use crate::error::CatResult;

/// The campaign columns, with the spend of the day bound to `?1`.
const CAMPAIGN_SELECT: &str = "SELECT c.id, c.advertiser, c.name, c.product_id, c.bid_cents,
        c.daily_budget_cents, c.pacing, c.frequency_cap, c.starts_at, c.ends_at, c.paused,
        c.created_at, coalesce(d.spent_cents, 0)";
const CAMPAIGN_FROM: &str = "FROM campaigns c
     LEFT JOIN campaign_days d ON d.campaign_id = c.id AND d.day = ?1";
/// Columns read by [`row_campaign`].
const CAMPAIGN_NCOLS: usize = 13;

fn row_campaign(r: &rusqlite::Row) -> rusqlite::Result<Campaign> {
    let pacing: String = r.get(6)?;
    Ok(Campaign {
        id: r.get(0)?,
        advertiser: r.get(1)?,
        name: r.get(2)?,
        product_id: r.get(3)?,
        bid_cents: r.get(4)?,
        daily_budget_cents: r.get(5)?,
        pacing: Pacing::parse(&pacing).map_err(|e| {
            rusqlite::Error::FromSqlConversionFailure(6, rusqlite::types::Type::Text, e.into())
        })?,
        frequency_cap: r.get(7)?,
        starts_at: r.get(8)?,
        ends_at: r.get(9)?,
        paused: r.get::<_, i64>(10)? != 0,
        created_at: r.get(11)?,
        spent_today_cents: r.get(12)?,
    })
}

fn row_serve(r: &rusqlite::Row) -> rusqlite::Result<AdServe> {
    Ok(AdServe {
        query_id: r.get(0)?,
        campaign_id: r.get(1)?,
        product_id: r.get(2)?,
        position: r.get(3)?,
        price_cents: r.get(4)?,
        key_name: r.get(5)?,
        session_id: r.get(6)?,
        at: r.get(7)?,
    })
}

impl CampaignStore for SqliteStore {
    fn create_campaign(&self, c: &Campaign) -> CatResult<()> {
        let conn = self.write.lock().unwrap();
        conn.execute(
            "INSERT INTO campaigns (id, advertiser, name, product_id, bid_cents,
                 daily_budget_cents, pacing, frequency_cap, starts_at, ends_at, paused, created_at)
             VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12)",
            params![
                c.id,
                c.advertiser,
                c.name,
                c.product_id,
                c.bid_cents,
                c.daily_budget_cents,
                c.pacing.as_str(),
                c.frequency_cap,
                c.starts_at,
                c.ends_at,
                c.paused as i64,
                c.created_at
            ],
        )?;
        Ok(())
    }

    fn campaign(&self, id: &str, today: i64) -> CatResult<Option<Campaign>> {
        self.with_reader(|conn| {
            Ok(conn
                .query_row(
                    &format!("{CAMPAIGN_SELECT} {CAMPAIGN_FROM} WHERE c.id = ?2"),
                    params![today, id],
                    row_campaign,
                )
                .optional()?)
        })
    }

    fn campaigns(&self, advertiser: Option<&str>, today: i64) -> CatResult<Vec<Campaign>> {
        self.with_reader(|conn| {
            let mut stmt = conn.prepare_cached(&format!(
                "{CAMPAIGN_SELECT} {CAMPAIGN_FROM} WHERE ?2 IS NULL OR c.advertiser = ?2
                 ORDER BY c.created_at, c.id"
            ))?;
            let rows = stmt.query_map(params![today, advertiser], row_campaign)?;
            Ok(rows.collect::<rusqlite::Result<Vec<_>>>()?)
        })
    }

    fn set_paused(&self, id: &str, paused: bool) -> CatResult<bool> {
        let conn = self.write.lock().unwrap();
        let n = conn.execute(
            "UPDATE campaigns SET paused = ?2 WHERE id = ?1",
            params![id, paused as i64],
        )?;
        Ok(n == 1)
    }

    fn live_campaigns(&self, now: i64) -> CatResult<Vec<LiveCampaign>> {
        let product_cols: Vec<String> =
            PRODUCT_COLS.split(", ").map(|c| format!("p.{c}")).collect();
        self.with_reader(|conn| {
            let mut stmt = conn.prepare_cached(&format!(
                "{CAMPAIGN_SELECT}, {}, p.embedding {CAMPAIGN_FROM}
                 JOIN products p ON p.id = c.product_id
                 WHERE c.paused = 0 AND c.starts_at <= ?2 AND (c.ends_at IS NULL OR ?2 < c.ends_at)
                 ORDER BY c.id",
                product_cols.join(", ")
            ))?;
            let rows = stmt.query_map(params![day_of(now), now], |r| {
                Ok(LiveCampaign {
                    campaign: row_campaign(r)?,
                    product: row_product(r, CAMPAIGN_NCOLS)?,
                    embedding: blob_to_vec(&r.get::<_, Vec<u8>>(CAMPAIGN_NCOLS + 9)?),
                })
            })?;
            Ok(rows.collect::<rusqlite::Result<Vec<_>>>()?)
        })
    }

    fn record_ad_serves(&self, serves: &[AdServe]) -> CatResult<()> {
        if serves.is_empty() {
            return Ok(());
        }
        let mut conn = self.write.lock().unwrap();
        let tx = conn.transaction()?;
        for s in serves {
            tx.execute(
                "INSERT INTO ad_serves (query_id, campaign_id, product_id, position, price_cents,
                     key_name, session_id, day, at) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9)",
                params![
                    s.query_id,
                    s.campaign_id,
                    s.product_id,
                    s.position,
                    s.price_cents,
                    s.key_name,
                    s.session_id,
                    day_of(s.at),
                    s.at
                ],
            )?;
        }
        tx.commit()?;
        Ok(())
    }

    fn session_serves(&self, session_id: &str, day: i64) -> CatResult<HashMap<String, u32>> {
        self.with_reader(|conn| {
            let mut stmt = conn.prepare_cached(
                "SELECT campaign_id, count(*) FROM ad_serves
                 WHERE session_id = ?1 AND day = ?2 GROUP BY campaign_id",
            )?;
            let rows = stmt.query_map(params![session_id, day], |r| {
                Ok((r.get::<_, String>(0)?, r.get::<_, u32>(1)?))
            })?;
            Ok(rows.collect::<rusqlite::Result<HashMap<_, _>>>()?)
        })
    }

    fn ad_serve(&self, query_id: &str, product_id: &str) -> CatResult<Option<AdServe>> {
        self.with_reader(|conn| {
            Ok(conn
                .query_row(
                    "SELECT query_id, campaign_id, product_id, position, price_cents, key_name,
                         session_id, at
                     FROM ad_serves WHERE query_id = ?1 AND product_id = ?2",
                    params![query_id, product_id],
                    row_serve,
                )
                .optional()?)
        })
    }

    fn charge_click(&self, c: &ClickCharge) -> CatResult<Charged> {
        let day = day_of(c.at);
        let mut conn = self.write.lock().unwrap();
        // IMMEDIATE: the write lock is taken now, so no other connection (this process's or
        // another's) writes between the reads of the conditions and the writes below.
        let tx = conn.transaction_with_behavior(TransactionBehavior::Immediate)?;
        let (already, session_clicks, key_spend): (bool, u32, i64) = tx.query_row(
            "SELECT
                 EXISTS (SELECT 1 FROM ad_clicks WHERE campaign_id = ?1 AND query_id = ?2),
                 (SELECT count(*) FROM ad_clicks
                     WHERE campaign_id = ?1 AND session_id = ?3 AND day = ?4),
                 (SELECT coalesce(sum(price_cents), 0) FROM ad_clicks
                     WHERE campaign_id = ?1 AND key_name = ?5 AND at > ?6)",
            params![
                c.campaign_id,
                c.query_id,
                c.session_id,
                day,
                c.key_name,
                c.at - c.key_window_s
            ],
            |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?)),
        )?;
        // Nothing below is committed unless charged: dropping `tx` rolls back.
        if already {
            return Ok(Charged::Already);
        }
        if session_clicks >= c.session_cap {
            return Ok(Charged::SessionCap);
        }
        if key_spend.saturating_add(c.price_cents) > c.key_cap_cents {
            return Ok(Charged::KeyCap);
        }
        tx.execute(
            "INSERT INTO ad_clicks (campaign_id, query_id, day, price_cents, at, key_name,
                 session_id) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7)",
            params![
                c.campaign_id,
                c.query_id,
                day,
                c.price_cents,
                c.at,
                c.key_name,
                c.session_id
            ],
        )?;
        tx.execute(
            "INSERT OR IGNORE INTO campaign_days (campaign_id, day) VALUES (?1, ?2)",
            params![c.campaign_id, day],
        )?;
        // The budget of a paused or ended campaign reads as NULL: no row passes.
        let charged = tx.execute(
            "UPDATE campaign_days SET spent_cents = spent_cents + ?3, clicks = clicks + 1
             WHERE campaign_id = ?1 AND day = ?2 AND spent_cents + ?3 <= ?4
               AND spent_cents + ?3 <= (SELECT daily_budget_cents FROM campaigns
                   WHERE id = ?1 AND paused = 0 AND starts_at <= ?5
                     AND (ends_at IS NULL OR ?5 < ends_at))",
            params![c.campaign_id, day, c.price_cents, c.cap_cents, c.at],
        )?;
        if charged == 0 {
            return Ok(Charged::Refused); // rolled back: not even the click is kept
        }
        tx.commit()?;
        Ok(Charged::Yes)
    }

    fn record_invalid_click(&self, c: &InvalidClick) -> CatResult<()> {
        let conn = self.write.lock().unwrap();
        conn.execute(
            "INSERT OR IGNORE INTO ad_invalid_clicks (campaign_id, query_id, reason, key_name,
                 session_id, day, at) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7)",
            params![
                c.campaign_id,
                c.query_id,
                c.reason.as_str(),
                c.key_name,
                c.session_id,
                day_of(c.at),
                c.at
            ],
        )?;
        Ok(())
    }

    fn campaign_days(&self, id: &str) -> CatResult<Vec<CampaignDay>> {
        self.with_reader(|conn| {
            let mut stmt = conn.prepare_cached(
                "SELECT day, count(*) FROM ad_serves WHERE campaign_id = ?1 GROUP BY day",
            )?;
            let served = stmt
                .query_map([id], |r| Ok((r.get(0)?, r.get(1)?)))?
                .collect::<rusqlite::Result<Vec<_>>>()?;
            let mut stmt = conn.prepare_cached(
                "SELECT day, clicks, spent_cents FROM campaign_days
                 WHERE campaign_id = ?1 AND clicks > 0",
            )?;
            let charged = stmt
                .query_map([id], |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?)))?
                .collect::<rusqlite::Result<Vec<_>>>()?;
            let mut stmt = conn.prepare_cached(
                "SELECT day, reason, count(*) FROM ad_invalid_clicks
                 WHERE campaign_id = ?1 GROUP BY day, reason",
            )?;
            let invalid = stmt
                .query_map([id], |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?)))?
                .collect::<rusqlite::Result<Vec<_>>>()?;
            merge_days(served, charged, invalid)
        })
    }
}
