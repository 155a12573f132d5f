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
//! - **The searcher's events only.** An event counts only under the key and the session (the
//!   SDK's id; else the search's) of the search it names: a query id is no licence to report.
//! - **Spam caps.** Per session: one examination, one click and one purchase per product, and
//!   at most [`LearnConfig::session_clicks`] clicks. Per API key: a key's clicks (and
//!   purchases) of one product are capped at `floor + its clicks of all other products`, in
//!   the global rates and in every neighbourhood; so a key clicking one product thousands of
//!   times moves it by `floor` clicks at most. A key's trust falls when its habits (clicks on
//!   low positions, sessions that each buy a product shown low) are far from the other keys';
//!   what an odd key gives a product past a share of what the others gave it counts only at
//!   its trust, and all its counts are scaled by it ([`super::caps`]: one key over fresh
//!   sessions cannot steer). And a key counts in full only while its examinations are backed
//!   by counted clicks at no less than half the global click rate (plus a floor), and while its
//!   clicks are not mostly over the per-product caps (it keeps the square of the share of its
//!   clicks that counted); past that all its counts are scaled down, so a bot's searches
//!   cannot drag the rates of the products they showed down either.

use std::collections::{HashMap, HashSet};

use shoplook_core::wire::EventType;

use super::LearnConfig;
use super::caps::{self, KeyHabits, SessionShape};
use crate::store::{LoggedEvent, LoggedSearch};

/// Examinations, clicks and purchases (examinations are position-weighted).
#[derive(Debug, Clone, Copy, Default, PartialEq)]
pub struct Counts {
    pub exams: f64,
    pub clicks: f64,
    pub purchases: f64,
}

impl Counts {
    pub(super) fn add(&mut self, o: &Counts) {
        self.exams += o.exams;
        self.clicks += o.clicks;
        self.purchases += o.purchases;
    }
    pub(super) fn scaled(&self, s: f64) -> Counts {
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
    /// `self - o`, never below 0.
    pub(super) fn minus(&self, o: &Counts) -> Counts {
        Counts {
            exams: (self.exams - o.exams).max(0.0),
            clicks: (self.clicks - o.clicks).max(0.0),
            purchases: (self.purchases - o.purchases).max(0.0),
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
    /// `s:` the session id, or `q:` the query id when the search gave none.
    session: String,
    shown: Vec<String>,
    /// Row in `vectors`.
    row: usize,
    /// What happened to each shown product after this query (session caps applied).
    outcomes: HashMap<String, Counts>,
    /// An event came for this query: the app showed the list, its top was examined.
    confirmed: bool,
    /// A product shown below [`caps::LOW_POSITION`] was clicked and bought after it.
    bought_low: bool,
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
    /// Per key: its trust ([`caps::trust`]), and what it is computed from.
    key_trust: Vec<f64>,
    key_habits: Vec<KeyHabits>,
    /// Per (key, session): its shape, for [`KeyHabits`].
    sessions: HashMap<(u32, String), SessionShape>,
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
            key_trust: Vec::new(),
            key_habits: Vec::new(),
            sessions: HashMap::new(),
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
        self.key_habits.push(KeyHabits::default());
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
        let session = session_key(rec.session_id.as_deref(), &rec.query_id);
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
            bought_low: false,
        };
        self.queries.insert(rec.query_id.clone(), q);
    }

    pub fn add_event(&mut self, e: &LoggedEvent) {
        let Some(qid) = &e.event.query_id else {
            return; // no query: nothing to learn from (position and session unknown)
        };
        let Some(q) = self.queries.get(qid) else {
            return; // unknown or purged search
        };
        // Only the shopper who searched can tell what became of the list: an event of
        // another key or another session (a bot replaying query ids) teaches nothing.
        let session = session_key(e.event.session_id.as_deref(), qid);
        if self.key_ids.get(&e.key_name) != Some(&q.key) || session != q.session {
            return;
        }
        let Some(mut q) = self.queries.remove(qid) else {
            return;
        };
        // The first event of a query confirms that its list was shown: its top `screen`
        // positions count as (position-weighted) examinations. A search no event ever
        // follows (nobody looked; a probe; a bot) teaches nothing.
        if !q.confirmed {
            q.confirmed = true;
            self.reshape(&q, |s| s.searches += 1);
            let shown = q.shown.clone();
            for (i, p) in shown.iter().take(self.cfg.screen).enumerate() {
                self.count(&mut q, p, EventType::Impression, i + 1);
            }
        }
        // The position the server showed it at (the client's `position` is logged, not
        // trusted); a product the search did not show teaches nothing.
        if let Some(i) = q.shown.iter().position(|p| *p == e.event.product_id) {
            self.count(&mut q, &e.event.product_id, e.event.kind, i + 1);
            let o = q.outcomes.get(&e.event.product_id).copied();
            let bought = o.is_some_and(|o| o.clicks > 0.0 && o.purchases > 0.0);
            if i + 1 > caps::LOW_POSITION && bought && !q.bought_low {
                q.bought_low = true;
                self.reshape(&q, |s| s.bought_low += 1);
            }
        }
        self.queries.insert(qid.clone(), q);
    }

    /// Changes the shape of `q`'s session, and its key's habits with it.
    fn reshape(&mut self, q: &Query, change: impl FnOnce(&mut SessionShape)) {
        let shape = self.sessions.entry((q.key, q.session.clone())).or_default();
        let before = shape.habits();
        change(shape);
        let after = shape.habits();
        let h = &mut self.key_habits[q.key as usize];
        h.sessions += after.0 - before.0;
        h.steering_sessions += after.1 - before.1;
    }

    /// Counts one examination, click or purchase of `product` shown at `position` after
    /// query `q`, within the session caps (a click or purchase implies the examination).
    fn count(&mut self, q: &mut Query, product: &str, kind: EventType, position: usize) {
        let w = self.propensity(position);
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
                    let habits = &mut self.key_habits[q.key as usize];
                    habits.clicks += 1.0;
                    if position > caps::LOW_POSITION {
                        habits.low_clicks += 1.0;
                    }
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
        let trust = caps::trust(&self.key_habits);
        // Each key's capped counts, per product and in total: first by its own counts of the
        // other products, then by the other keys' counts of this one (weighted by trust).
        let mut capped_by_key: Vec<(&String, u32, Counts)> = Vec::new();
        let mut vouched: HashMap<&String, Counts> = HashMap::new();
        for (p, keys) in &self.per_key {
            for (k, c) in keys {
                let cc = caps::own_capped(c, &self.key_totals[*k as usize], floor, exam_floor);
                vouched
                    .entry(p)
                    .or_default()
                    .add(&cc.scaled(trust[*k as usize]));
                capped_by_key.push((p, *k, cc));
            }
        }
        let mut per_key_total = vec![Counts::default(); self.keys.len()];
        for (p, k, cc) in capped_by_key.iter_mut() {
            let t = trust[*k as usize];
            let others = vouched[*p].minus(&cc.scaled(t));
            *cc = caps::share_capped(cc, &others, t, floor, self.cfg.key_share);
            per_key_total[*k as usize].add(cc);
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
                .zip(&trust)
                .map(|(s, t)| s * t)
                .collect();
        }
        self.key_scale = scale;
        self.key_trust = trust;
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
        // Each key's counts per candidate, capped by its own counts of every product here.
        let mut rows: Vec<(usize, Vec<Counts>)> = Vec::new();
        for (key, mut near) in by_key {
            near.sort_by(|a, b| b.0.total_cmp(&a.0));
            near.truncate(self.cfg.neighbours);
            // This key's weighted counts per candidate, and over every product.
            let mut mine = vec![Counts::default(); products.len()];
            let mut total = Counts::default();
            for (s, q) in near {
                let w = f64::from((s - floor) / (1.0 - floor).max(1e-6));
                for (p, c) in &q.outcomes {
                    let wc = c.scaled(w);
                    total.add(&wc);
                    if let Some(&i) = index.get(p.as_str()) {
                        mine[i].add(&wc);
                    }
                }
            }
            let (key_floor, exam_floor) = (self.cfg.key_floor, self.cfg.key_exam_floor);
            let capped = mine
                .iter()
                .map(|c| caps::own_capped(c, &total, key_floor, exam_floor))
                .collect();
            rows.push((key as usize, capped));
        }
        // Then by what the other keys gave each candidate here, as in the global rates.
        let (floor, share) = (self.cfg.key_floor, self.cfg.key_share);
        let shared = caps::share_capped_all(&rows, &self.key_trust, floor, share);
        for ((key, _), row) in rows.iter().zip(shared) {
            for (i, c) in row.iter().enumerate() {
                let c = c.scaled(self.scale_of(*key as u32));
                out[i].0 += c.votes();
                out[i].1 += c.exams;
            }
        }
        out
    }
}

/// The session a search or event belongs to: `s:` its session id, or `q:` its query id when
/// it gave none (a search without a session is a session of its own).
fn session_key(session_id: Option<&str>, query_id: &str) -> String {
    match session_id {
        Some(s) => format!("s:{s}"),
        None => format!("q:{query_id}"),
    }
}

#[cfg(test)]
mod tests;
