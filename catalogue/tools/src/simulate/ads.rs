//! Honest shoppers against the click filter (issue 22): how many of their billable ad clicks
//! the filter (`shoplook_domain::ads::fraud`) refuses.
//!
//! The shoppers of [`super::World`] search with a session id, through one app key (as one
//! app's users do), on a server whose auction serves the ads of a few campaigns. They take
//! time as people do, on the process clock moved ahead ([`shoplook_store::skip_clock_ahead`])
//! rather than waited for: sessions arrive [`AdsSimConfig::arrival_s`] apart on average, a
//! search follows the last one after [`AdsSimConfig::between_searches_s`], and a click comes
//! a dwell after the list was shown (log-normal, median [`AdsSimConfig::dwell_median_s`];
//! studies of result pages put the time to a first click at several seconds, and under a
//! second is rare). A second click in the same list comes after the first product's page was
//! read ([`AdsSimConfig::page_s`]).
//!
//! Every click on a sponsored result is one the service billed before the filter (same key,
//! a serve it made) unless the budget had no room; the report says how many were billed now,
//! how many the budget refused, and why the filter refused the others.

use std::collections::BTreeMap;

use serde::Serialize;
use serde_json::json;
use shoplook_core::ModelContract;
use shoplook_domain::ads::AdsConfig;
use shoplook_domain::store::campaigns::{Campaign, InvalidReason, Pacing};

use super::{ArmServer, Http, SimError, SimProduct, World, examined, gaussian, jitter, mix};
use super::{text_id, uniform};

#[derive(Debug, Clone)]
pub struct AdsSimConfig {
    pub sessions: usize,
    pub seed: u64,
    /// Searches per session.
    pub searches: usize,
    /// Results per search.
    pub k: usize,
    /// Campaigns (each on a segment's anchor product, then others).
    pub campaigns: usize,
    /// Each campaign's daily budget (cents).
    pub daily_budget_cents: i64,
    /// Mean time between sessions (s).
    pub arrival_s: f64,
    /// Time between a session's searches (s).
    pub between_searches_s: f64,
    /// Median time from a list shown to a click on it (s).
    pub dwell_median_s: f64,
    /// Spread of that time (the log-normal's sigma).
    pub dwell_sigma: f64,
    /// Time on a product's page before the next click in the same list (s).
    pub page_s: f64,
    /// The ad system's settings (the filter's thresholds among them).
    pub ads: AdsConfig,
}

impl AdsSimConfig {
    pub fn new(sessions: usize, seed: u64) -> Self {
        AdsSimConfig {
            sessions,
            seed,
            searches: 3,
            k: 10,
            campaigns: 12,
            daily_budget_cents: 100_000,
            arrival_s: 60.0,
            between_searches_s: 30.0,
            dwell_median_s: 5.0,
            dwell_sigma: 0.8,
            page_s: 20.0,
            ads: AdsConfig {
                // Relevant enough for the simulated queries to get ads; 2 slots in 10.
                positions: vec![1, 5],
                min_similarity: 0.3,
                ..AdsConfig::default()
            },
        }
    }
}

/// What the honest shoppers' ad clicks became.
#[derive(Debug, Clone, Serialize)]
pub struct AdsSimReport {
    pub sessions: usize,
    pub searches: usize,
    pub ads_served: usize,
    /// Clicks on sponsored results: each billable before the filter.
    pub ad_clicks: usize,
    /// Of those, billed now.
    pub billed: u64,
    /// Refused by the filter, by reason.
    pub refused: BTreeMap<&'static str, u64>,
    /// Refused because the budget had no room (not the filter's doing).
    pub over_budget: u64,
    /// Refused by the filter / ad clicks.
    pub lost_share: f64,
    /// Simulated time the run covered (s).
    pub simulated_s: i64,
}

/// Log-normal seconds with median `median` and spread `sigma`, as milliseconds.
fn log_normal_ms(median: f64, sigma: f64, words: &[u64]) -> i64 {
    (1000.0 * median * (sigma * gaussian(words)).exp()) as i64
}

/// Runs honest sessions against a server with ads (an embedded store of `products`).
pub fn simulate_ads(
    products: &[SimProduct],
    contract: &ModelContract,
    config: &AdsSimConfig,
) -> Result<AdsSimReport, SimError> {
    if products.len() < 2 * config.k {
        return Err(SimError::TooFewProducts {
            products: products.len(),
        });
    }
    let world = World::new(config.seed, products);
    let server = ArmServer::start_with_ads(
        products,
        contract,
        &super::LearnConfig::default(),
        config.ads.clone(),
    )?;
    let campaigns = create_campaigns(&server, &world, config)?;
    let mut http = Http::new(&server.url, &server.key);
    let seed = config.seed;
    let started = shoplook_store::now_s();
    let (mut searches, mut served, mut ad_clicks) = (0, 0, 0);
    for s in 0..config.sessions as u64 {
        let gap = -config.arrival_s * uniform(&[seed, 20, s]).ln();
        shoplook_store::skip_clock_ahead((gap * 1000.0) as i64);
        let shopper = world.shopper(s);
        let session_id = format!("sim-ads-{seed:x}-{s:06}");
        for j in 0..config.searches as u64 {
            if j > 0 {
                shoplook_store::skip_clock_ahead((config.between_searches_s * 1000.0) as i64);
            }
            let query = jitter(&shopper.direction, 0.35, &[seed, 7, s, j]);
            let resp = http.post_ok(
                "/v1/search",
                &json!({"embedding": query, "model": contract.to_string(), "k": config.k,
                        "session_id": session_id}),
            )?;
            searches += 1;
            let qid = resp["query_id"].as_str().unwrap_or_default().to_string();
            let hits = resp["results"].as_array().ok_or(SimError::NoResults)?;
            let mut clicked_before = false;
            for (i, h) in hits.iter().enumerate() {
                let Some(p) = h["id"]
                    .as_str()
                    .and_then(|id| products.iter().position(|p| p.product.id == id))
                else {
                    continue;
                };
                let sponsored = h["sponsored"] == true;
                served += usize::from(sponsored);
                let pos = i + 1;
                let pid = text_id(&products[p].product.id);
                let looked = uniform(&[seed, 8, s, j, pos as u64]) < examined(pos);
                let likes = uniform(&[seed, 9, s, j, pid]) < shopper.attract[p];
                if !(looked && likes) {
                    continue;
                }
                // Reading the list (and, after a first click, that product's page) takes time.
                let mut wait = log_normal_ms(
                    config.dwell_median_s,
                    config.dwell_sigma,
                    &[seed, 21, s, j, pid],
                );
                if clicked_before {
                    wait += (config.page_s * 1000.0) as i64;
                }
                shoplook_store::skip_clock_ahead(wait);
                clicked_before = true;
                http.post_ok(
                    "/v1/events",
                    &json!({"type": "click", "product_id": products[p].product.id,
                            "query_id": qid, "position": pos, "session_id": session_id}),
                )?;
                ad_clicks += usize::from(sponsored);
            }
        }
    }
    let (mut billed, mut over_budget) = (0, 0);
    let mut refused: BTreeMap<&'static str, u64> = BTreeMap::new();
    for c in &campaigns {
        for d in server.store.campaign_days(&c.id)? {
            billed += d.clicks;
            for (reason, n) in d.invalid {
                if reason == InvalidReason::OverBudget {
                    over_budget += n;
                } else {
                    *refused.entry(reason.as_str()).or_default() += n;
                }
            }
        }
    }
    let lost: u64 = refused.values().sum();
    Ok(AdsSimReport {
        sessions: config.sessions,
        searches,
        ads_served: served,
        ad_clicks,
        billed,
        refused,
        over_budget,
        lost_share: lost as f64
            / (ad_clicks as u64 - over_budget.min(ad_clicks as u64)).max(1) as f64,
        simulated_s: shoplook_store::now_s() - started,
    })
}

/// One campaign on each segment's anchor product (what its shoppers look for), then on
/// products drawn at random; bids of 10-59 cents, asap, budgets of `daily_budget_cents`.
fn create_campaigns(
    server: &ArmServer,
    world: &World,
    config: &AdsSimConfig,
) -> Result<Vec<Campaign>, SimError> {
    let n = world.products.len() as u64;
    let mut picked: Vec<usize> = world.segments.iter().map(|g| g.anchor).collect();
    let mut i = 0;
    while picked.len() < config.campaigns {
        picked.push((mix(&[config.seed, 22, i]) % n) as usize);
        i += 1;
    }
    picked.dedup();
    let now = shoplook_store::now_s();
    let mut out = Vec::new();
    for (i, p) in picked.into_iter().take(config.campaigns).enumerate() {
        let c = Campaign {
            id: format!("cmp_{:016x}", mix(&[config.seed, 23, i as u64])),
            advertiser: format!("advertiser-{i}"),
            name: format!("Sim campaign {i}"),
            product_id: world.products[p].product.id.clone(),
            bid_cents: 10 + (mix(&[config.seed, 24, i as u64]) % 50) as i64,
            daily_budget_cents: config.daily_budget_cents,
            pacing: Pacing::Asap,
            frequency_cap: config.ads.frequency_cap,
            starts_at: now - 60,
            ends_at: None,
            paused: false,
            created_at: now - 60,
            spent_today_cents: 0,
        };
        if server.store.campaign(&c.id, 0)?.is_none() {
            server.store.create_campaign(&c)?;
            out.push(c);
        }
    }
    Ok(out)
}
