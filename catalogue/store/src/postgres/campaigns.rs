//! Campaigns on PostgreSQL (`store::campaigns`). A click is charged in one transaction that
//! first locks the campaign's day row (`FOR UPDATE`): the clicks of a campaign take turns, and
//! under READ COMMITTED each statement after the lock sees every click committed before it,
//! so the duplicate check and the session and key caps cannot be passed by concurrent clicks
//! from any number of API servers; the spend `UPDATE` carries its own condition as well.

use std::collections::HashMap;

use pgvector::Vector;

use super::{PgStore, row_product};
use crate::campaigns::{
    AdServe, Campaign, CampaignDay, CampaignStore, Charged, ClickCharge, InvalidClick,
    LiveCampaign, Pacing, day_of, merge_days,
};
use crate::error::{CatError, CatResult};

/// The campaign columns (prefixed `c_`, so that a product's columns keep their names), with
/// the spend of the day bound to `$1`.
const CAMPAIGN_SELECT: &str = "SELECT c.id AS c_id, c.advertiser AS c_advertiser,
        c.name AS c_name, c.product_id AS c_product_id, c.bid_cents AS c_bid_cents,
        c.daily_budget_cents AS c_daily_budget_cents, c.pacing AS c_pacing,
        c.frequency_cap AS c_frequency_cap, c.starts_at AS c_starts_at, c.ends_at AS c_ends_at,
        c.paused AS c_paused, c.created_at AS c_created_at,
        coalesce(d.spent_cents, 0) AS c_spent_today";
const CAMPAIGN_FROM: &str = "FROM campaigns c
     LEFT JOIN campaign_days d ON d.campaign_id = c.id AND d.day = $1";

fn row_campaign(r: &postgres::Row) -> CatResult<Campaign> {
    Ok(Campaign {
        id: r.get("c_id"),
        advertiser: r.get("c_advertiser"),
        name: r.get("c_name"),
        product_id: r.get("c_product_id"),
        bid_cents: r.get("c_bid_cents"),
        daily_budget_cents: r.get("c_daily_budget_cents"),
        pacing: Pacing::parse(r.get("c_pacing"))?,
        frequency_cap: r.get::<_, i32>("c_frequency_cap") as u32,
        starts_at: r.get("c_starts_at"),
        ends_at: r.get("c_ends_at"),
        paused: r.get("c_paused"),
        created_at: r.get("c_created_at"),
        spent_today_cents: r.get("c_spent_today"),
    })
}

fn row_serve(r: &postgres::Row) -> AdServe {
    AdServe {
        query_id: r.get("query_id"),
        campaign_id: r.get("campaign_id"),
        product_id: r.get("product_id"),
        position: r.get::<_, i32>("position") as u32,
        price_cents: r.get("price_cents"),
        key_name: r.get("key_name"),
        session_id: r.get("session_id"),
        at: r.get("at"),
    }
}

impl CampaignStore for PgStore {
    fn create_campaign(&self, c: &Campaign) -> CatResult<()> {
        self.primary.with(|db| {
            db.execute(
                "INSERT INTO campaigns (id, advertiser, name, product_id, bid_cents,
                     daily_budget_cents, pacing, frequency_cap, starts_at, ends_at, paused,
                     created_at)
                 VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12)",
                &[
                    &c.id,
                    &c.advertiser,
                    &c.name,
                    &c.product_id,
                    &c.bid_cents,
                    &c.daily_budget_cents,
                    &c.pacing.as_str(),
                    &(c.frequency_cap as i32),
                    &c.starts_at,
                    &c.ends_at,
                    &c.paused,
                    &c.created_at,
                ],
            )?;
            Ok(())
        })
    }

    fn campaign(&self, id: &str, today: i64) -> CatResult<Option<Campaign>> {
        // From the primary: an advertiser reads back what it just wrote.
        let row = self.primary.with(|db| {
            Ok(db.query_opt(
                &format!("{CAMPAIGN_SELECT} {CAMPAIGN_FROM} WHERE c.id = $2"),
                &[&today, &id],
            )?)
        })?;
        row.as_ref().map(row_campaign).transpose()
    }

    fn campaigns(&self, advertiser: Option<&str>, today: i64) -> CatResult<Vec<Campaign>> {
        let rows = self.primary.with(|db| {
            Ok(db.query(
                &format!(
                    "{CAMPAIGN_SELECT} {CAMPAIGN_FROM}
                     WHERE $2::text IS NULL OR c.advertiser = $2 ORDER BY c.created_at, c.id"
                ),
                &[&today, &advertiser],
            )?)
        })?;
        rows.iter().map(row_campaign).collect()
    }

    fn set_paused(&self, id: &str, paused: bool) -> CatResult<bool> {
        self.primary.with(|db| {
            Ok(db.execute(
                "UPDATE campaigns SET paused = $2 WHERE id = $1",
                &[&id, &paused],
            )? == 1)
        })
    }

    fn live_campaigns(&self, now: i64) -> CatResult<Vec<LiveCampaign>> {
        let rows = self.primary.with(|db| {
            Ok(db.query(
                &format!(
                    "{CAMPAIGN_SELECT}, p.id, p.title, p.brand, p.price, p.currency, p.category,
                         p.image, p.url, p.in_stock, p.embedding
                     {CAMPAIGN_FROM} JOIN products p ON p.id = c.product_id
                     WHERE NOT c.paused AND c.starts_at <= $2 AND (c.ends_at IS NULL OR $2 < c.ends_at)
                     ORDER BY c.id"
                ),
                &[&day_of(now), &now],
            )?)
        });
        let rows = match rows {
            // No product yet, so no products table: nothing to advertise.
            Err(CatError::Postgres(e))
                if e.code() == Some(&postgres::error::SqlState::UNDEFINED_TABLE) =>
            {
                return Ok(Vec::new());
            }
            r => r?,
        };
        rows.iter()
            .map(|r| {
                Ok(LiveCampaign {
                    campaign: row_campaign(r)?,
                    product: row_product(r),
                    embedding: r.get::<_, Vector>("embedding").to_vec(),
                })
            })
            .collect()
    }

    fn record_ad_serves(&self, serves: &[AdServe]) -> CatResult<()> {
        if serves.is_empty() {
            return Ok(());
        }
        self.primary.with(|db| {
            let mut tx = db.transaction()?;
            for s in serves {
                tx.execute(
                    "INSERT INTO ad_serves (query_id, campaign_id, product_id, position,
                         price_cents, key_name, session_id, day, at)
                     VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)",
                    &[
                        &s.query_id,
                        &s.campaign_id,
                        &s.product_id,
                        &(s.position as i32),
                        &s.price_cents,
                        &s.key_name,
                        &s.session_id,
                        &day_of(s.at),
                        &s.at,
                    ],
                )?;
            }
            tx.commit()?;
            Ok(())
        })
    }

    fn session_serves(&self, session_id: &str, day: i64) -> CatResult<HashMap<String, u32>> {
        let rows = self.primary.with(|db| {
            Ok(db.query(
                "SELECT campaign_id, count(*) AS n FROM ad_serves
                 WHERE session_id = $1 AND day = $2 GROUP BY campaign_id",
                &[&session_id, &day],
            )?)
        })?;
        Ok(rows
            .iter()
            .map(|r| (r.get(0), r.get::<_, i64>(1) as u32))
            .collect())
    }

    fn ad_serve(&self, query_id: &str, product_id: &str) -> CatResult<Option<AdServe>> {
        let row = self.primary.with(|db| {
            Ok(db.query_opt(
                "SELECT query_id, campaign_id, product_id, position, price_cents, key_name,
                     session_id, at
                 FROM ad_serves WHERE query_id = $1 AND product_id = $2",
                &[&query_id, &product_id],
            )?)
        })?;
        Ok(row.as_ref().map(row_serve))
    }

    fn charge_click(&self, c: &ClickCharge) -> CatResult<Charged> {
        let day = day_of(c.at);
        self.primary.with(|db| {
            let mut tx = db.transaction()?;
            // The campaign's clicks of the day take turns on this row; nothing below is
            // committed unless charged (dropping `tx` rolls back).
            tx.execute(
                "INSERT INTO campaign_days (campaign_id, day) VALUES ($1, $2)
                 ON CONFLICT DO NOTHING",
                &[&c.campaign_id, &day],
            )?;
            tx.execute(
                "SELECT 1 FROM campaign_days WHERE campaign_id = $1 AND day = $2 FOR UPDATE",
                &[&c.campaign_id, &day],
            )?;
            let row = tx.query_one(
                "SELECT
                     EXISTS (SELECT 1 FROM ad_clicks WHERE campaign_id = $1 AND query_id = $2),
                     (SELECT count(*) FROM ad_clicks
                         WHERE campaign_id = $1 AND session_id = $3 AND day = $4),
                     (SELECT coalesce(sum(price_cents), 0)::bigint FROM ad_clicks
                         WHERE campaign_id = $1 AND key_name = $5 AND at > $6)",
                &[
                    &c.campaign_id,
                    &c.query_id,
                    &c.session_id,
                    &day,
                    &c.key_name,
                    &(c.at - c.key_window_s),
                ],
            )?;
            let (already, session_clicks, key_spend): (bool, i64, i64) =
                (row.get(0), row.get(1), row.get(2));
            if already {
                return Ok(Charged::Already);
            }
            if session_clicks >= i64::from(c.session_cap) {
                return Ok(Charged::SessionCap);
            }
            if key_spend.saturating_add(c.price_cents) > c.key_cap_cents {
                return Ok(Charged::KeyCap);
            }
            // Another day's row (a click at midnight) does not serialise with this one: the
            // unique key still charges a search once.
            let fresh = tx.execute(
                "INSERT INTO ad_clicks (campaign_id, query_id, day, price_cents, at, key_name,
                     session_id) VALUES ($1, $2, $3, $4, $5, $6, $7) ON CONFLICT DO NOTHING",
                &[
                    &c.campaign_id,
                    &c.query_id,
                    &day,
                    &c.price_cents,
                    &c.at,
                    &c.key_name,
                    &c.session_id,
                ],
            )?;
            if fresh == 0 {
                return Ok(Charged::Already);
            }
            // The budget of a paused or ended campaign reads as NULL: no row passes.
            let charged = tx.execute(
                "UPDATE campaign_days SET spent_cents = spent_cents + $3, clicks = clicks + 1
                 WHERE campaign_id = $1 AND day = $2 AND spent_cents + $3 <= $4
                   AND spent_cents + $3 <= (SELECT daily_budget_cents FROM campaigns
                       WHERE id = $1 AND NOT paused AND starts_at <= $5
                         AND (ends_at IS NULL OR $5 < ends_at))",
                &[&c.campaign_id, &day, &c.price_cents, &c.cap_cents, &c.at],
            )?;
            if charged == 0 {
                return Ok(Charged::Refused); // rolled back: not even the click is kept
            }
            tx.commit()?;
            Ok(Charged::Yes)
        })
    }

    fn record_invalid_click(&self, c: &InvalidClick) -> CatResult<()> {
        self.primary.with(|db| {
            db.execute(
                "INSERT INTO ad_invalid_clicks (campaign_id, query_id, reason, key_name,
                     session_id, day, at) VALUES ($1, $2, $3, $4, $5, $6, $7)
                 ON CONFLICT DO NOTHING",
                &[
                    &c.campaign_id,
                    &c.query_id,
                    &c.reason.as_str(),
                    &c.key_name,
                    &c.session_id,
                    &day_of(c.at),
                    &c.at,
                ],
            )?;
            Ok(())
        })
    }

    fn campaign_days(&self, id: &str) -> CatResult<Vec<CampaignDay>> {
        self.primary.with(|db| {
            let served = db
                .query(
                    "SELECT day, count(*) FROM ad_serves WHERE campaign_id = $1 GROUP BY day",
                    &[&id],
                )?
                .iter()
                .map(|r| (r.get(0), r.get(1)))
                .collect();
            let charged = db
                .query(
                    "SELECT day, clicks, spent_cents FROM campaign_days
                     WHERE campaign_id = $1 AND clicks > 0",
                    &[&id],
                )?
                .iter()
                .map(|r| (r.get(0), r.get(1), r.get(2)))
                .collect();
            let invalid = db
                .query(
                    "SELECT day, reason, count(*) FROM ad_invalid_clicks
                     WHERE campaign_id = $1 GROUP BY day, reason",
                    &[&id],
                )?
                .iter()
                .map(|r| (r.get(0), r.get(1), r.get(2)))
                .collect();
            merge_days(served, charged, invalid)
        })
    }
}
