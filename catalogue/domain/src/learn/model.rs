//! The learned state: counts read from the search and event logs, and the boost they give a
//! candidate. Pure (no store, no clock): [`Model::add_search`] and [`Model::add_event`] in log
//! order, then [`Model::explain`].
//!
//! - **Examinations, position-corrected.** Once an event (impression, click or purchase)
//!   confirms that a search's list was shown, a product shown at position `i` (1-based) in its
//!   top [`LearnConfig::screen`] counts `1 / i^eta` examinations (the position-based click
//!   model: a shopper looks at lower positions less). Click and purchase rates are
//!   clicks / examinations, so a product is not punished for having been shown low.
//! - **Smoothing.** Rates are shrunk towards the catalogue-wide rate with a prior of
//!   [`LearnConfig::prior`] examinations: `(clicks + prior * global) / (exams + prior)`.
//! - **Neighbourhood votes.** What was clicked or bought (purchase = 2 votes) after past
//!   queries whose embeddings lie within [`LearnConfig::neighbour_min_sim`] of this one,
//!   weighted by closeness, over what was examined there: the same smoothed rate, local.
//! - **Confidence.** The rate terms are scaled by `clicks / (clicks + ramp_clicks)`.
//! - **Exploration.** `explore / sqrt(1 + exams)`: a product few shoppers have seen keeps a
//!   bonus, so a new product still gets shown.
//! - **Spam caps.** Per session (the SDK's id; else the search's): one examination, one click
//!   and one purchase per product, and at most [`LearnConfig::session_clicks`] clicks. Per API
//!   key: a key's clicks (and purchases) of one product are capped at `floor + its clicks of
//!   all other products`, in the global rates and in every neighbourhood; so a key clicking one
//!   product thousands of times moves it by `floor` clicks at most. And a key counts in full
//!   only while its examinations are backed by counted clicks at no less than half the global
//!   click rate (plus a floor), and while its clicks are not mostly over the per-product caps
//!   (it keeps the square of the share of its clicks that counted); past that all its counts
//!   are scaled down, so a bot's searches cannot drag the rates of the products they showed
//!   down either.

use std::collections::{HashMap, HashSet};

use shoplook_core::wire::EventType;

use super::LearnConfig;
use crate::store::{LoggedEvent, LoggedSearch};

/// Examinations, clicks and purchases (examinations are position-weighted).
#[derive(Debug, Clone, Copy, Default, PartialEq)]
pub struct Counts {
    pub exams: f64,
    pub clicks: f64,
    pub purchases: f64,
}

impl Counts {
    fn add(&mut self, o: &Counts) {
        self.exams += o.exams;
        self.clicks += o.clicks;
        self.purchases += o.purchases;
    }
    fn scaled(&self, s: f64) -> Counts {
        Counts {
            exams: s * self.exams,
            clicks: s * self.clicks,
            purchases: s * self.purchases,
        }
    }
    /// Votes: a click is one, a purchase two.
    fn votes(&self) -> f64 {
        self.clicks + 2.0 * self.purchases
    }
    /// `self` (one key's counts for one product) capped at `floor` + the key's counts for
    /// every other product (`total` - `self`).
    fn capped(&self, total: &Counts, floor: f64, exam_floor: f64) -> Counts {
        let cap = |mine: f64, all: f64, f: f64| mine.min(f + (all - mine).max(0.0));
        Counts {
            exams: cap(self.exams, total.exams, exam_floor),
            clicks: cap(self.clicks, total.clicks, floor),
            purchases: cap(self.purchases, total.purchases, floor),
        }
    }
}

/// Why a candidate got its boost (the parts sum to `boost`).
#[derive(Debug, Clone, Copy, Default, PartialEq)]
pub struct Explained {
    pub boost: f32,
    /// Weighted log ratio of the product's smoothed click rate to the global one.
    pub clicks: f32,
    /// The same for purchases.
    pub purchases: f32,
    /// Weighted log ratio of the neighbourhood's vote rate to the global one.
    pub neighbours: f32,
    pub explore: f32,
}

struct Query {
    key: u32,
    session: String,
    shown: Vec<String>,
    /// Row in `vectors`.
    row: usize,
    /// What happened to each shown product after this query (session caps applied).
    outcomes: HashMap<String, Counts>,
    /// An event came for this query: the app showed the list, its top was examined.
    confirmed: bool,
}

#[derive(Default, Clone, Copy)]
struct Seen {
    exam: bool,
    click: bool,
    purchase: bool,
}

pub struct Model {
    cfg: LearnConfig,
    dim: usize,
    queries: HashMap<String, Query>,
    /// Query embeddings, row-major, and the query id of each row: a ring of at most
    /// [`LearnConfig::max_queries`] rows; once full, a new search takes the oldest's row.
    vectors: Vec<f32>,
    rows: Vec<String>,
    /// The row the next search takes once the ring is full (the oldest search's).
    oldest: usize,
    keys: Vec<String>,
    key_ids: HashMap<String, u32>,
    key_totals: Vec<Counts>,
    seen: HashMap<(String, String), Seen>,
    session_clicks: HashMap<String, u32>,
    /// Per product, per key: counts after the session caps.
    per_key: HashMap<String, HashMap<u32, Counts>>,
    /// Per product: the sum over keys of the key-capped counts, and their total.
    capped: HashMap<String, Counts>,
    /// Per key: the share of its examinations that count (1 for a key whose shoppers click).
    key_scale: Vec<f64>,
    global: Counts,
    dirty: HashSet<String>,
    counted_clicks: u64,
}

impl Model {
    pub fn new(cfg: LearnConfig) -> Self {
        Model {
            cfg,
            dim: 0,
            queries: HashMap::new(),
            vectors: Vec::new(),
            rows: Vec::new(),
            oldest: 0,
            keys: Vec::new(),
            key_ids: HashMap::new(),
            key_totals: Vec::new(),
            seen: HashMap::new(),
            session_clicks: HashMap::new(),
            per_key: HashMap::new(),
            capped: HashMap::new(),
            key_scale: Vec::new(),
            global: Counts::default(),
            dirty: HashSet::new(),
            counted_clicks: 0,
        }
    }

    /// Searches learned from.
    pub fn searches(&self) -> usize {
        self.queries.len()
    }

    /// Clicks counted (after the session and key caps and the key scaling, as of the last
    /// [`Model::settle`]): what a spammer cannot inflate.
    pub fn clicks(&self) -> u64 {
        self.global.clicks.round() as u64
    }

    /// Clicks after the session caps only.
    pub fn session_capped_clicks(&self) -> u64 {
        self.counted_clicks
    }

    fn key_id(&mut self, name: &str) -> u32 {
        if let Some(&k) = self.key_ids.get(name) {
            return k;
        }
        let k = self.keys.len() as u32;
        self.keys.push(name.to_string());
        self.key_ids.insert(name.to_string(), k);
        self.key_totals.push(Counts::default());
        k
    }

    /// Examination weight of a (1-based) position.
    pub fn propensity(&self, position: usize) -> f64 {
        1.0 / (position as f64).powf(self.cfg.eta)
    }

    pub fn add_search(&mut self, s: &LoggedSearch) {
        let rec = &s.search;
        if self.queries.contains_key(&rec.query_id) || rec.embedding.is_empty() {
            return;
        }
        if self.dim == 0 {
            self.dim = rec.embedding.len();
        }
        if rec.embedding.len() != self.dim || self.cfg.max_queries == 0 {
            return;
        }
        let key = self.key_id(&rec.key_name);
        let session = match &rec.session_id {
            Some(s) => format!("s:{s}"),
            None => format!("q:{}", rec.query_id),
        };
        let row = if self.rows.len() < self.cfg.max_queries {
            self.vectors.extend_from_slice(&rec.embedding);
            self.rows.push(rec.query_id.clone());
            self.rows.len() - 1
        } else {
            // Full: the oldest search makes room (it no longer votes as a neighbour, and
            // events about it are not counted; what it already added to the product counts
            // stays, as those are per product, not per search).
            let row = self.oldest;
            self.oldest = (row + 1) % self.cfg.max_queries;
            let evicted = std::mem::replace(&mut self.rows[row], rec.query_id.clone());
            self.queries.remove(&evicted);
            self.vectors[row * self.dim..(row + 1) * self.dim].copy_from_slice(&rec.embedding);
            row
        };
        let q = Query {
            key,
            session,
            shown: rec.shown.clone(),
            row,
            outcomes: HashMap::new(),
            confirmed: false,
        };
        self.queries.insert(rec.query_id.clone(), q);
    }

    pub fn add_event(&mut self, e: &LoggedEvent) {
        let Some(qid) = &e.event.query_id else {
            return; // no query: nothing to learn from (position and session unknown)
        };
        let Some(mut q) = self.queries.remove(qid) else {
            return; // unknown or purged search
        };
        // The first event of a query confirms that its list was shown: its top `screen`
        // positions count as (position-weighted) examinations. A search no event ever
        // follows (nobody looked; a probe; a bot) teaches nothing.
        if !q.confirmed {
            q.confirmed = true;
            let shown = q.shown.clone();
            for (i, p) in shown.iter().take(self.cfg.screen).enumerate() {
                let w = self.propensity(i + 1);
                self.count(&mut q, p, EventType::Impression, w);
            }
        }
        // The position the server showed it at (the client's `position` is logged, not
        // trusted); a product the search did not show teaches nothing.
        if let Some(i) = q.shown.iter().position(|p| *p == e.event.product_id) {
            let w = self.propensity(i + 1);
            self.count(&mut q, &e.event.product_id, e.event.kind, w);
        }
        self.queries.insert(qid.clone(), q);
    }

    /// Counts one examination, click or purchase of `product` after query `q`, within the
    /// session caps (a click or purchase implies the examination).
    fn count(&mut self, q: &mut Query, product: &str, kind: EventType, w: f64) {
        let sk = (q.session.clone(), product.to_string());
        let mut seen = self.seen.get(&sk).copied().unwrap_or_default();
        let mut add = Counts::default();
        if !seen.exam {
            seen.exam = true;
            add.exams = w;
        }
        match kind {
            EventType::Impression => {}
            EventType::Click => {
                let n = self.session_clicks.entry(q.session.clone()).or_default();
                if !seen.click && *n < self.cfg.session_clicks {
                    seen.click = true;
                    *n += 1;
                    add.clicks = 1.0;
                    self.counted_clicks += 1;
                }
            }
            EventType::Purchase => {
                if !seen.purchase {
                    seen.purchase = true;
                    add.purchases = 1.0;
                }
            }
        }
        self.seen.insert(sk, seen);
        if add == Counts::default() {
            return;
        }
        q.outcomes.entry(product.to_string()).or_default().add(&add);
        self.key_totals[q.key as usize].add(&add);
        self.per_key
            .entry(product.to_string())
            .or_default()
            .entry(q.key)
            .or_default()
            .add(&add);
        self.dirty.insert(product.to_string());
    }

    /// Recomputes the capped counts after new log entries (O(products x keys); a no-op when
    /// nothing changed).
    pub fn settle(&mut self) {
        if self.dirty.is_empty() {
            return;
        }
        self.dirty.clear();
        let (floor, exam_floor) = (self.cfg.key_floor, self.cfg.key_exam_floor);
        // Each key's capped counts, per product and in total.
        let mut per_key_total = vec![Counts::default(); self.keys.len()];
        let mut capped_by_key: Vec<(&String, u32, Counts)> = Vec::new();
        for (p, keys) in &self.per_key {
            for (k, c) in keys {
                let cc = c.capped(&self.key_totals[*k as usize], floor, exam_floor);
                per_key_total[*k as usize].add(&cc);
                capped_by_key.push((p, *k, cc));
            }
        }
        // A key counts in full while its examinations are backed by clicks at no less than
        // half the global click rate; past that all its counts are scaled down. Two rounds:
        // the global rate itself is computed over the scaled counts.
        let mut scale = vec![1.0; self.keys.len()];
        for _ in 0..2 {
            let (mut clicks, mut exams) = (1.0, 20.0);
            for (c, s) in per_key_total.iter().zip(&scale) {
                clicks += s * c.clicks;
                exams += s * c.exams;
            }
            let gc = clicks / exams;
            scale = per_key_total
                .iter()
                .zip(&self.key_totals)
                .map(|(c, raw)| {
                    let allowed = exam_floor + 2.0 * c.clicks / gc;
                    let backed = if c.exams > allowed {
                        allowed / c.exams
                    } else {
                        1.0
                    };
                    // A key whose clicks are mostly over the per-product caps is clicking for
                    // effect: it keeps the square of the share that counted.
                    let kept = (c.clicks + 1.0) / (raw.clicks + 1.0);
                    backed.min(kept * kept)
                })
                .collect();
        }
        self.key_scale = scale;
        let mut capped: HashMap<String, Counts> = HashMap::new();
        let mut global = Counts::default();
        for (p, k, c) in capped_by_key {
            let c = c.scaled(self.key_scale[k as usize]);
            capped.entry(p.clone()).or_default().add(&c);
            global.add(&c);
        }
        self.capped = capped;
        self.global = global;
    }

    fn scale_of(&self, key: u32) -> f64 {
        self.key_scale.get(key as usize).copied().unwrap_or(1.0)
    }

    /// Global click, purchase and vote rates per examination (with a weak prior so that
    /// they are never 0).
    fn global_rates(&self) -> (f64, f64, f64) {
        let g = &self.global;
        let e = g.exams + 20.0;
        (
            (g.clicks + 1.0) / e,
            (g.purchases + 0.25) / e,
            (g.votes() + 1.5) / e,
        )
    }

    /// Each product's predicted click rate: clicks per examination (position-corrected, the
    /// spam caps applied), smoothed towards the global rate with [`LearnConfig::prior`]
    /// examinations, so a product nobody has examined gets the global rate. What the ad
    /// auction multiplies bids by.
    pub fn click_rates(&self, products: &[&str]) -> Vec<f64> {
        let (gc, _, _) = self.global_rates();
        let a = self.cfg.prior;
        products
            .iter()
            .map(|p| {
                let c = self.capped.get(*p).copied().unwrap_or_default();
                (c.clicks + a * gc) / (c.exams + a)
            })
            .collect()
    }

    /// The boost of each candidate product for a query embedding.
    pub fn explain(&self, query: &[f32], products: &[&str]) -> Vec<Explained> {
        let (gc, gp, gv) = self.global_rates();
        let a = self.cfg.prior;
        let local = self.neighbourhood(query, products);
        // Confidence: boosts grow with the clicks counted, so that a handful of early clicks
        // do not reorder what similarity got right.
        let n = self.global.clicks;
        let ramp = n / (n + self.cfg.ramp_clicks);
        products
            .iter()
            .zip(local)
            .map(|(p, (votes, exams))| {
                let c = self.capped.get(*p).copied().unwrap_or_default();
                let rc = (c.clicks + a * gc) / (c.exams + a);
                let rp = (c.purchases + a * gp) / (c.exams + a);
                let b = self.cfg.neighbour_prior;
                let rv = (votes + b * gv) / (exams + b);
                let clamp = |x: f64| x.clamp(-2.0, 2.0);
                let clicks = (ramp * self.cfg.w_clicks * clamp((rc / gc).ln())) as f32;
                let purchases = (ramp * self.cfg.w_purchases * clamp((rp / gp).ln())) as f32;
                let neighbours = (ramp * self.cfg.w_neighbours * clamp((rv / gv).ln())) as f32;
                let explore = (self.cfg.explore / (1.0 + c.exams).sqrt()) as f32;
                Explained {
                    boost: clicks + purchases + neighbours + explore,
                    clicks,
                    purchases,
                    neighbours,
                    explore,
                }
            })
            .collect()
    }

    /// (votes, examinations) of each product after the past queries near `query`: the
    /// nearest [`LearnConfig::neighbours`] per key with cosine >= the floor, weighted by
    /// closeness, each key's counts for a product capped as in the global rates.
    fn neighbourhood(&self, query: &[f32], products: &[&str]) -> Vec<(f64, f64)> {
        let mut out = vec![(0.0, 0.0); products.len()];
        if self.dim == 0 || query.len() != self.dim || self.rows.is_empty() {
            return out;
        }
        let floor = self.cfg.neighbour_min_sim;
        // Exact scan of the past queries (a brute-force nearest-neighbour index).
        let mut by_key: HashMap<u32, Vec<(f32, &Query)>> = HashMap::new();
        for (row, v) in self.vectors.chunks_exact(self.dim).enumerate() {
            let s: f32 = v.iter().zip(query).map(|(a, b)| a * b).sum();
            if s >= floor {
                let q = &self.queries[&self.rows[row]];
                debug_assert_eq!(q.row, row);
                by_key.entry(q.key).or_default().push((s, q));
            }
        }
        let index: HashMap<&str, usize> =
            products.iter().enumerate().map(|(i, p)| (*p, i)).collect();
        for (key, mut near) in by_key {
            near.sort_by(|a, b| b.0.total_cmp(&a.0));
            near.truncate(self.cfg.neighbours);
            // This key's weighted counts per candidate, and over every product.
            let mut mine = vec![Counts::default(); products.len()];
            let mut total = Counts::default();
            for (s, q) in near {
                let w = f64::from((s - floor) / (1.0 - floor).max(1e-6));
                for (p, c) in &q.outcomes {
                    let wc = Counts {
                        exams: w * c.exams,
                        clicks: w * c.clicks,
                        purchases: w * c.purchases,
                    };
                    total.add(&wc);
                    if let Some(&i) = index.get(p.as_str()) {
                        mine[i].add(&wc);
                    }
                }
            }
            for (i, c) in mine.iter().enumerate() {
                let c = c
                    .capped(&total, self.cfg.key_floor, self.cfg.key_exam_floor)
                    .scaled(self.scale_of(key));
                out[i].0 += c.votes();
                out[i].1 += c.exams;
            }
        }
        out
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::store::SearchRecord;
    use shoplook_core::wire::{Event, Ranking};

    fn search(
        seq: u64,
        qid: &str,
        key: &str,
        session: &str,
        v: Vec<f32>,
        shown: &[&str],
    ) -> LoggedSearch {
        LoggedSearch {
            seq,
            at: 0,
            search: SearchRecord {
                query_id: qid.into(),
                key_name: key.into(),
                session_id: Some(session.into()),
                category: None,
                ranking: Ranking::Visual,
                embedding: v,
                shown: shown.iter().map(|s| s.to_string()).collect(),
            },
        }
    }

    fn event(kind: EventType, qid: &str, p: &str, key: &str) -> LoggedEvent {
        LoggedEvent {
            seq: 0,
            at: 0,
            key_name: key.into(),
            event: Event {
                kind,
                product_id: p.into(),
                query_id: Some(qid.into()),
                position: None,
                session_id: None,
            },
        }
    }

    #[test]
    fn clicked_products_gain_and_position_is_corrected() {
        let mut m = Model::new(LearnConfig::default());
        for i in 0..40 {
            let q = format!("q{i}");
            m.add_search(&search(
                i,
                &q,
                "app",
                &format!("s{i}"),
                vec![1.0, 0.0],
                &["a", "b", "c"],
            ));
            // "c" is shown third, yet clicked as often as "a" shown first: a higher rate.
            if i % 4 == 0 {
                m.add_event(&event(EventType::Click, &q, "a", "app"));
                m.add_event(&event(EventType::Click, &q, "c", "app"));
            }
        }
        m.settle();
        let e = m.explain(&[1.0, 0.0], &["a", "b", "c"]);
        assert!(e[2].clicks > e[0].clicks, "{e:?}");
        assert!(e[0].clicks > e[1].clicks, "{e:?}");
        assert!(e[1].clicks < 0.0, "shown, never clicked: {e:?}");
    }

    #[test]
    fn one_session_clicking_thousands_of_times_counts_once() {
        let mut m = Model::new(LearnConfig::default());
        for i in 0..3000 {
            let q = format!("q{i}");
            m.add_search(&search(
                i,
                &q,
                "spam",
                "same-session",
                vec![1.0, 0.0],
                &["a", "b"],
            ));
            m.add_event(&event(EventType::Click, &q, "b", "spam"));
        }
        m.settle();
        assert_eq!((m.session_capped_clicks(), m.clicks()), (1, 1));
    }

    /// Issue 22: once `max_queries` searches were held, new ones were dropped, so clicks on
    /// their results taught nothing. Now the oldest make room.
    #[test]
    fn a_full_memory_keeps_learning_from_new_searches() {
        let cfg = LearnConfig {
            max_queries: 3,
            ..LearnConfig::default()
        };
        let mut m = Model::new(cfg);
        let shown = ["a", "b"];
        for i in 0..3u64 {
            let q = format!("old{i}");
            m.add_search(&search(i, &q, "app", &q, vec![1.0, 0.0], &shown));
        }
        // Full. Two new searches, near another query, clicked.
        for i in 0..2u64 {
            let q = format!("new{i}");
            m.add_search(&search(10 + i, &q, "app", &q, vec![0.0, 1.0], &shown));
            m.add_event(&event(EventType::Click, &q, "b", "app"));
        }
        // The oldest search is gone: an event about it teaches nothing.
        m.add_event(&event(EventType::Click, "old0", "a", "app"));
        m.settle();
        assert_eq!(m.searches(), 3, "bounded");
        assert_eq!(
            m.session_capped_clicks(),
            2,
            "the new searches' clicks count"
        );
        // The new searches vote as neighbours of a query like theirs.
        let e = m.explain(&[0.0, 1.0], &["a", "b"]);
        assert!(e[1].neighbours > e[0].neighbours, "{e:?}");
        // And the ring keeps turning: rows hold the newest searches, each at its own row.
        for i in 0..7u64 {
            let q = format!("later{i}");
            m.add_search(&search(20 + i, &q, "app", &q, vec![0.6, 0.8], &shown));
        }
        assert_eq!(m.searches(), 3);
        for (row, qid) in m.rows.iter().enumerate() {
            assert_eq!(m.queries[qid].row, row, "{qid}");
            assert!(qid.starts_with("later"), "{qid}");
        }
    }

    #[test]
    fn click_rates_are_learned_or_the_global_rate() {
        let mut m = Model::new(LearnConfig::default());
        let fresh = m.click_rates(&["a", "never-seen"]);
        assert_eq!(fresh[0], fresh[1], "nothing learned: the prior for both");
        for i in 0..40 {
            let q = format!("q{i}");
            m.add_search(&search(
                i,
                &q,
                "app",
                &format!("s{i}"),
                vec![1.0, 0.0],
                &["a", "b"],
            ));
            m.add_event(&event(EventType::Click, &q, "a", "app"));
        }
        m.settle();
        let r = m.click_rates(&["a", "b", "never-seen"]);
        assert!(r[0] > r[2] && r[2] > r[1], "{r:?}");
    }
}
