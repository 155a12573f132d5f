//! Learning from shoppers (issue #10): a learned [`Ranker`] over the search and event logs.
//!
//! ```text
//! /v1/search ──▶ SearchLog (query id, key, session, category, embedding, list shown)
//! /v1/events ──▶ EventLog  (impressions, clicks, purchases with query id and position)
//!                   │ searches_since / events_since (cursors), before each learned search
//!                   ▼
//!            Learner: Model (model.rs) in memory ──▶ LearnedRanker: score = similarity + boost
//! ```
//!
//! The model is a function of the retained logs: it follows them with their cursors (every
//! server on its own; the logs are in the store, shared by every server), and is rebuilt from
//! scratch after each retention purge (`shoplook_http::App` runs [`purge_and_rebuild`] on a schedule), so nothing purged is remembered. Both
//! stores feed it through the same traits, so the embedded and PostgreSQL stores rank alike.
//! The past queries are kept as an in-memory matrix of their embeddings, scanned exactly for
//! the neighbours of a query (at `max_queries` = 200k rows of 1280 floats that is 1 GB and a
//! ~50 ms scan: past that an HNSW index of its own is the next step). When it is full, each
//! new search takes the row of the oldest one, so the ranking keeps learning from new searches.

pub mod caps;
pub mod model;

use std::sync::{Arc, Mutex, RwLock};
use std::time::{Duration, Instant};

use shoplook_core::wire::{Ranking, SearchRequest};

pub use model::{Counts, Explained, Model};

use crate::error::CatResult;
use crate::search::{Candidate, Ranker};
use crate::store::Store;
use crate::store::searches::{DEFAULT_RETENTION_DAYS, Purged, purge_older_than};

/// The learned ranking's settings (defaults tuned with `shoplook catalogue simulate`).
#[derive(Debug, Clone)]
pub struct LearnConfig {
    /// Counted clicks before `learned` becomes the default ranking.
    pub min_clicks: u64,
    /// Candidates fetched per result, for the ranker to reorder.
    pub over_fetch: usize,
    /// Positions of a result list a shopper may look at (examinations counted).
    pub screen: usize,
    /// Position bias: position `i` is examined `1 / i^eta` as often as position 1.
    pub eta: f64,
    /// Smoothing: examinations' worth of the global rate each product starts with.
    pub prior: f64,
    /// The same for neighbourhood rates.
    pub neighbour_prior: f64,
    /// Weights of the log rate ratios in the boost (similarity units).
    pub w_clicks: f64,
    pub w_purchases: f64,
    pub w_neighbours: f64,
    /// Counted clicks at which the rate terms have half their weight.
    pub ramp_clicks: f64,
    /// Exploration bonus of a product nobody has examined yet.
    pub explore: f64,
    /// Past queries at least this similar to the query vote.
    pub neighbour_min_sim: f32,
    /// Nearest past queries per API key that vote.
    pub neighbours: usize,
    /// Clicks one session may contribute (one per product).
    pub session_clicks: u32,
    /// A key's clicks of one product count up to this many plus its clicks of other products.
    pub key_floor: f64,
    /// Examinations a key may contribute beyond what its clicks back.
    pub key_exam_floor: f64,
    /// A key short of full trust counts a product's clicks (and purchases) in full only up
    /// to `max(key_floor, key_share x the other keys' counts of it)` ([`caps`]).
    pub key_share: f64,
    /// Past queries kept in memory; past this the oldest make room for new ones.
    pub max_queries: usize,
    /// Least time between two reads of the logs (0: before every learned search).
    pub refresh_every: Duration,
}

impl Default for LearnConfig {
    fn default() -> Self {
        LearnConfig {
            min_clicks: 30,
            over_fetch: 3,
            screen: 10,
            eta: 1.0,
            prior: 4.0,
            neighbour_prior: 2.0,
            w_clicks: 0.04,
            w_purchases: 0.02,
            w_neighbours: 0.06,
            explore: 0.01,
            ramp_clicks: 50.0,
            neighbour_min_sim: 0.6,
            neighbours: 100,
            session_clicks: 20,
            key_floor: 2.0,
            key_exam_floor: 10.0,
            key_share: 0.5,
            max_queries: 200_000,
            refresh_every: Duration::ZERO,
        }
    }
}

/// The learned state of one server, following the store's logs.
pub struct Learner {
    store: Arc<dyn Store>,
    cfg: LearnConfig,
    /// (searches cursor, events cursor, last refresh); held while reading the logs.
    cursors: Mutex<(u64, u64, Option<Instant>)>,
    model: RwLock<Model>,
}

/// Log entries read per call.
const PAGE: usize = 5000;

impl Learner {
    pub fn new(store: Arc<dyn Store>, cfg: LearnConfig) -> Arc<Self> {
        Arc::new(Learner {
            store,
            model: RwLock::new(Model::new(cfg.clone())),
            cfg,
            cursors: Mutex::new((0, 0, None)),
        })
    }

    pub fn config(&self) -> &LearnConfig {
        &self.cfg
    }

    /// Reads what the logs gained since the last call. Events are read before the searches
    /// they may refer to (a search is logged before its answer is sent, so before any event
    /// about it), so no event is read before its search. If another thread is already
    /// reading, returns at once.
    pub fn refresh(&self) -> CatResult<()> {
        let Ok(mut cur) = self.cursors.try_lock() else {
            return Ok(());
        };
        if let Some(t) = cur.2
            && t.elapsed() < self.cfg.refresh_every
        {
            return Ok(());
        }
        loop {
            let events = self.store.events_since(cur.1, PAGE)?;
            let mut searches = Vec::new();
            loop {
                let page = self.store.searches_since(cur.0, PAGE)?;
                let n = page.len();
                if let Some(last) = page.last() {
                    cur.0 = last.seq;
                }
                searches.extend(page);
                if n < PAGE {
                    break;
                }
            }
            if let Some(last) = events.last() {
                cur.1 = last.seq;
            }
            if !searches.is_empty() || !events.is_empty() {
                let mut m = self.model.write().unwrap();
                searches.iter().for_each(|s| m.add_search(s));
                events.iter().for_each(|e| m.add_event(e));
                m.settle();
            }
            if events.len() < PAGE {
                break;
            }
        }
        cur.2 = Some(Instant::now());
        Ok(())
    }

    /// Forgets everything and reads the logs again from the start (after a purge).
    pub fn rebuild(&self) -> CatResult<()> {
        {
            let mut cur = self.cursors.lock().unwrap();
            *cur = (0, 0, None);
            *self.model.write().unwrap() = Model::new(self.cfg.clone());
        }
        self.refresh()
    }

    /// (searches, counted clicks) learned from.
    pub fn size(&self) -> (usize, u64) {
        let m = self.model.read().unwrap();
        (m.searches(), m.clicks())
    }

    /// Predicted click rates of `products` (see [`Model::click_rates`]).
    pub fn click_rates(&self, products: &[&str]) -> Vec<f64> {
        self.model.read().unwrap().click_rates(products)
    }

    /// Boosts of `products` for `query`.
    pub fn explain(&self, query: &[f32], products: &[&str]) -> Vec<Explained> {
        self.model.read().unwrap().explain(query, products)
    }
}

/// `similarity + boost`, best first. Default ranking: `learned` once the model has counted
/// [`LearnConfig::min_clicks`] clicks, `visual` before.
pub struct LearnedRanker {
    learner: Arc<Learner>,
}

impl LearnedRanker {
    pub fn new(learner: Arc<Learner>) -> Self {
        LearnedRanker { learner }
    }
}

impl Ranker for LearnedRanker {
    fn over_fetch(&self) -> usize {
        self.learner.cfg.over_fetch
    }

    fn ranking(&self, req: &SearchRequest) -> Ranking {
        if let Some(r) = req.ranking {
            return r;
        }
        if let Err(e) = self.learner.refresh() {
            tracing::warn!(error = %e, "cannot read the logs; ranking by similarity");
            return Ranking::Visual;
        }
        if self.learner.size().1 >= self.learner.cfg.min_clicks {
            Ranking::Learned
        } else {
            Ranking::Visual
        }
    }

    fn rank(&self, req: &SearchRequest, mut candidates: Vec<Candidate>) -> Vec<Candidate> {
        if let Err(e) = self.learner.refresh() {
            // The model is a little stale; still better than nothing.
            tracing::warn!(error = %e, "cannot read the logs; ranking with what was learned");
        }
        let ids: Vec<&str> = candidates.iter().map(|c| c.product.id.as_str()).collect();
        let boosts = self.learner.explain(&req.embedding, &ids);
        for (c, b) in candidates.iter_mut().zip(boosts) {
            c.boost = b.boost;
            c.rank_score = c.similarity + b.boost;
        }
        candidates.sort_by(|a, b| b.rank_score.total_cmp(&a.rank_score));
        candidates
    }
}

/// One retention purge and the rebuild after it.
pub fn purge_and_rebuild(
    store: &dyn Store,
    learner: &Learner,
    retention_days: u32,
) -> CatResult<Purged> {
    let purged = purge_older_than(store, retention_days, crate::now_s())?;
    learner.rebuild()?;
    Ok(purged)
}

/// The retention `serve` uses unless told otherwise.
pub const RETENTION_DAYS: u32 = DEFAULT_RETENTION_DAYS;
