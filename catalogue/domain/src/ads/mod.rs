//! Sponsored products (issue 10, part 4): campaigns promote a product at a bid per click within
//! a daily budget; a search's ad slots go to an auction among the campaigns whose product is
//! relevant to the query; a click on an ad is charged once, never past the budget.
//!
//! ```text
//! /v1/campaigns ──▶ campaigns.rs (rules, CampaignService) ──▶ CampaignStore (both stores)
//! /v1/search ─▶ retrieve ─▶ rank ─▶ AdsBlender: live campaigns (cached 1 s)
//!                                     ─ floor: similarity >= min_similarity, category/filters, in stock
//!                                     ─ budget/pacing (pacing.rs), frequency cap per session
//!                                     ─ auction.rs: second price on bid x predicted CTR
//!                                     ─ winners placed at the slot positions ─▶ ad_serves logged
//! /v1/events click ─▶ Ads::charge_click ─▶ fraud.rs: same key and session, dwell, window
//!                                       ─▶ CampaignStore::charge_click (atomic in the database:
//!                                          once per search, session and key caps, budget)
//!                                       ─▶ not billed: CampaignStore::record_invalid_click
//! ```
//!
//! A search without a session id gets no ads: neither the frequency cap nor the click filter
//! ([`fraud`]) could tell its shopper from a script's.
//!
//! The predicted click rate is the learned one (`learn::Learner::click_rates`: position-corrected
//! clicks per examination, smoothed towards the catalogue-wide rate, so a product nobody has
//! seen gets the global rate), or [`AdsConfig::prior_ctr`] without a learner.

pub mod auction;
pub mod campaigns;
pub mod fraud;
pub mod pacing;
pub mod report;

use std::collections::HashSet;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use shoplook_core::wire::{Event, EventType, SearchRequest};

use crate::error::CatResult;
use crate::learn::Learner;
use crate::search::{Blender, Candidate, Sponsored};
use crate::store::campaigns::{ClickCharge, InvalidClick, InvalidReason, LiveCampaign, day_of};
use crate::store::{Store, passes};
use fraud::ClickRules;

/// Most a bid may be (cents).
pub const MAX_BID_CENTS: i64 = 100_000;
/// Most a daily budget may be (cents).
pub const MAX_DAILY_BUDGET_CENTS: i64 = 1_000_000_000;
/// Most a frequency cap may be (ads per session per day).
pub const MAX_FREQUENCY_CAP: i64 = 1000;

/// The ad system's settings (`serve --ad-...` flags).
#[derive(Debug, Clone)]
pub struct AdsConfig {
    /// 1-based positions of the ad slots in a result list, ascending; empty: no ads. A slot past
    /// `k`, or one that would leave no organic result, is not filled.
    pub positions: Vec<usize>,
    /// Relevance floor: an ad's product must be at least this similar (cosine) to the query.
    pub min_similarity: f32,
    /// Least price of a click (cents); bids below it do not take part.
    pub reserve_cents: i64,
    /// Predicted click rate without a learner.
    pub prior_ctr: f64,
    /// Ads of one campaign per app session per UTC day, for campaigns that do not set theirs.
    pub frequency_cap: u32,
    /// How far ahead of the clock even pacing lets a campaign spend (seconds).
    pub pacing_slack_s: i64,
    /// How long the list of live campaigns is reused (writes through this server drop it).
    pub refresh: Duration,
    /// The one currency of bids and budgets (minor units).
    pub currency: String,
    /// Which clicks are billable ([`fraud`]).
    pub clicks: ClickRules,
}

impl Default for AdsConfig {
    fn default() -> Self {
        AdsConfig {
            positions: vec![1],
            min_similarity: 0.5,
            reserve_cents: 5,
            prior_ctr: 0.05,
            frequency_cap: 3,
            pacing_slack_s: 3600,
            refresh: Duration::from_secs(1),
            currency: "EUR".into(),
            clicks: ClickRules::default(),
        }
    }
}

/// The ad system of one server: the live campaigns (cached), the auction, click charging.
pub struct Ads {
    store: Arc<dyn Store>,
    learner: Option<Arc<Learner>>,
    cfg: AdsConfig,
    live: Mutex<Option<(Instant, Arc<Vec<LiveCampaign>>)>>,
}

impl Ads {
    pub fn new(store: Arc<dyn Store>, learner: Option<Arc<Learner>>, cfg: AdsConfig) -> Arc<Self> {
        Arc::new(Ads {
            store,
            learner,
            cfg,
            live: Mutex::new(None),
        })
    }

    pub fn config(&self) -> &AdsConfig {
        &self.cfg
    }

    /// Campaigns changed (created, paused, resumed): read them again at the next search.
    pub fn changed(&self) {
        *self.live.lock().unwrap() = None;
    }

    fn live(&self, now: i64) -> CatResult<Arc<Vec<LiveCampaign>>> {
        if let Some((at, live)) = &*self.live.lock().unwrap()
            && at.elapsed() < self.cfg.refresh
        {
            return Ok(live.clone());
        }
        let live = Arc::new(self.store.live_campaigns(now)?);
        *self.live.lock().unwrap() = Some((Instant::now(), live.clone()));
        Ok(live)
    }

    /// How many ad slots a list of `k` results has.
    fn slots(&self, k: usize) -> usize {
        self.cfg
            .positions
            .iter()
            .filter(|&&p| p >= 1 && p <= k)
            .count()
            .min(k.saturating_sub(1))
    }

    /// The ads for a search at `now`: the auction's winners as candidates (with their campaign
    /// and price), best first; at most one per slot.
    pub fn select(&self, req: &SearchRequest, k: usize, now: i64) -> CatResult<Vec<Candidate>> {
        let slots = self.slots(k);
        let Some(session) = &req.session_id else {
            return Ok(Vec::new()); // no session: nothing to cap, no click to attribute
        };
        if slots == 0 {
            return Ok(Vec::new());
        }
        let live = self.live(now)?;
        let reserve = self.cfg.reserve_cents.max(1);
        let category = req.category.as_deref();
        // Relevant, selling, and with budget left under its pacing.
        let mut eligible: Vec<(&LiveCampaign, f32)> = live
            .iter()
            .filter(|l| l.product.in_stock && passes(&l.product, category, &req.filters))
            .filter(|l| l.embedding.len() == req.embedding.len())
            .map(|l| (l, shoplook_core::embed::dot(&l.embedding, &req.embedding)))
            .filter(|(l, sim)| {
                let c = &l.campaign;
                *sim >= self.cfg.min_similarity
                    && c.bid_cents >= reserve
                    && c.spent_today_cents + reserve
                        <= pacing::spend_cap(c, now, self.cfg.pacing_slack_s)
            })
            .collect();
        if eligible.is_empty() {
            return Ok(Vec::new());
        }
        // Frequency cap: what this app session was shown today.
        let seen = self.store.session_serves(session, day_of(now))?;
        eligible.retain(|(l, _)| {
            seen.get(&l.campaign.id)
                .is_none_or(|&n| n < l.campaign.frequency_cap)
        });
        let ids: Vec<&str> = eligible
            .iter()
            .map(|(l, _)| l.product.id.as_str())
            .collect();
        let ctrs = match &self.learner {
            Some(learner) => learner.click_rates(&ids),
            None => vec![self.cfg.prior_ctr; ids.len()],
        };
        let bids: Vec<auction::Bid> = eligible
            .iter()
            .zip(ctrs)
            .map(|((l, sim), ctr)| auction::Bid {
                campaign_id: l.campaign.id.clone(),
                product_id: l.product.id.clone(),
                bid_cents: l.campaign.bid_cents,
                ctr,
                similarity: *sim,
            })
            .collect();
        Ok(auction::run(&bids, slots, reserve)
            .into_iter()
            .map(|w| {
                let (l, sim) = eligible[w.bid];
                let mut c = Candidate::new(l.product.clone(), sim);
                c.sponsored = Some(Sponsored {
                    campaign_id: l.campaign.id.clone(),
                    price_cents: w.price_cents,
                });
                c
            })
            .collect())
    }

    /// Charges a click on an ad if it is billable ([`fraud`]): `None` unless the event is a
    /// click, with a query id, on an ad that search served; a click that is not billed is
    /// kept with its reason.
    pub fn charge_click(
        &self,
        key_name: &str,
        e: &Event,
        now: i64,
    ) -> CatResult<Option<ClickVerdict>> {
        let (EventType::Click, Some(query_id)) = (e.kind, &e.query_id) else {
            return Ok(None);
        };
        let Some(serve) = self.store.ad_serve(query_id, &e.product_id)? else {
            return Ok(None);
        };
        let Some(c) = self.store.campaign(&serve.campaign_id, day_of(now))? else {
            return Ok(None);
        };
        let rules = &self.cfg.clicks;
        let verdict = match rules.screen(&serve, key_name, e.session_id.as_deref(), now) {
            Err(reason) => ClickVerdict::Invalid(reason),
            Ok(()) => {
                let charged = self.store.charge_click(&ClickCharge {
                    cap_cents: pacing::spend_cap(&c, now, self.cfg.pacing_slack_s),
                    campaign_id: serve.campaign_id.clone(),
                    query_id: serve.query_id.clone(),
                    price_cents: serve.price_cents,
                    at: now,
                    key_name: key_name.to_string(),
                    session_id: serve.session_id.clone().unwrap_or_default(),
                    session_cap: rules.session_cap,
                    key_cap_cents: rules.key_cap_cents(&c, serve.price_cents),
                    key_window_s: rules.key_window_s,
                })?;
                charged
                    .refusal()
                    .map_or(ClickVerdict::Billed, ClickVerdict::Invalid)
            }
        };
        if let ClickVerdict::Invalid(reason) = verdict {
            self.store.record_invalid_click(&InvalidClick {
                campaign_id: serve.campaign_id,
                query_id: serve.query_id,
                reason,
                key_name: key_name.to_string(),
                session_id: e.session_id.clone(),
                at: now,
            })?;
        }
        Ok(Some(verdict))
    }
}

/// What became of a click on an ad.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ClickVerdict {
    /// Charged to the campaign.
    Billed,
    /// Not charged, and kept with this reason.
    Invalid(InvalidReason),
}

/// Places `ads` (best first) at the slot `positions` among the organic results, which lose
/// their duplicates of the ads' products; at most `k` results.
pub fn place(
    mut organic: Vec<Candidate>,
    ads: Vec<Candidate>,
    positions: &[usize],
    k: usize,
) -> Vec<Candidate> {
    let promoted: HashSet<&str> = ads.iter().map(|a| a.product.id.as_str()).collect();
    organic.retain(|c| !promoted.contains(c.product.id.as_str()));
    organic.truncate(k.saturating_sub(ads.len()));
    let mut out = organic;
    for (ad, &pos) in ads.into_iter().zip(positions) {
        let at = pos.saturating_sub(1).min(out.len());
        out.insert(at, ad);
    }
    out.truncate(k);
    out
}

/// The search pipeline's blender with ads: the auction's winners in their slots. A failure of
/// the ad system (the store unreachable) costs the ads, never the search.
pub struct AdsBlender(pub Arc<Ads>);

impl Blender for AdsBlender {
    fn blend(&self, req: &SearchRequest, organic: Vec<Candidate>, k: usize) -> Vec<Candidate> {
        match self.0.select(req, k, crate::now_s()) {
            Ok(ads) => place(organic, ads, &self.0.cfg.positions, k),
            Err(e) => {
                tracing::warn!(error = %e, "ads unavailable; organic results only");
                let mut organic = organic;
                organic.truncate(k);
                organic
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::search::tests::product;

    fn cand(id: &str, sim: f32) -> Candidate {
        Candidate::new(product(id), sim)
    }

    fn ad(id: &str) -> Candidate {
        let mut c = cand(id, 0.6);
        c.sponsored = Some(Sponsored {
            campaign_id: format!("cmp_{id}"),
            price_cents: 10,
        });
        c
    }

    fn ids(c: &[Candidate]) -> Vec<&str> {
        c.iter().map(|c| c.product.id.as_str()).collect()
    }

    #[test]
    fn ads_take_their_slots_and_organic_duplicates_go() {
        let organic = vec![
            cand("a", 0.9),
            cand("b", 0.8),
            cand("x", 0.7),
            cand("c", 0.6),
        ];
        let out = place(organic.clone(), vec![ad("x")], &[1], 3);
        assert_eq!(ids(&out), ["x", "a", "b"]);
        assert!(out[0].sponsored.is_some() && out[1].sponsored.is_none());
        let out = place(organic.clone(), vec![ad("y"), ad("z")], &[2, 4], 4);
        assert_eq!(ids(&out), ["a", "y", "b", "z"]);
        // Fewer organic results than the slot's position: the ad comes last.
        let out = place(vec![cand("a", 0.9)], vec![ad("y")], &[3], 5);
        assert_eq!(ids(&out), ["a", "y"]);
        assert_eq!(ids(&place(organic, vec![], &[1], 2)), ["a", "b"]);
    }

    #[test]
    fn slots_fit_in_k_and_leave_an_organic_result() {
        let store: Arc<dyn Store> = Arc::new(
            crate::store::sqlite::SqliteStore::open(
                &std::env::temp_dir().join(format!("shoplook-ads-{}", crate::random_hex(6))),
                "f32",
            )
            .unwrap(),
        );
        let cfg = AdsConfig {
            positions: vec![1, 4],
            ..AdsConfig::default()
        };
        let ads = Ads::new(store, None, cfg);
        assert_eq!([1, 2, 3, 4, 10].map(|k| ads.slots(k)), [0, 1, 1, 2, 2]);
    }
}
