//! Simulated shoppers through the real HTTP service (`shoplook catalogue simulate`).
//!
//! The catalogue is real: the demo catalogue's products embedded by the real ingest path, plus
//! distractors cut from the repository's real photos (a grid of crops of each, embedded by
//! the same model as a user-drawn region). Each arm (`visual`, `learned`) gets a fresh
//! embedded store with the same products and an in-process `http::router_with` server on
//! loopback, and the same shoppers talk to it over HTTP (`/v1/search`, `/v1/events`).
//!
//! A shopper has a hidden taste: a segment (one of [`SEGMENTS`]) with a direction in
//! embedding space (near one product), a brand and a price band, plus every product's hidden
//! appeal. A session makes [`SimConfig::searches`] searches near its direction; it looks at
//! position `i` with probability `1 / i^0.8` (position bias), clicks what it looks at with
//! the probability its taste gives the product, and sometimes buys what it clicked. Random
//! draws are keyed by (seed, session, search, product) ("common random numbers"), so both
//! arms see the same shoppers making the same choices about the same products.
//!
//! Measured per search: clicks in the top 5 per result shown there (`ctr_at_5`), nDCG@5 with
//! the true click probability as the gain (the ideal list is the best 5 of the catalogue for
//! that shopper), and purchases per session.
//!
//! `arm.rs`: the server of one arm and the simulator's HTTP client; `error.rs`: [`SimError`];
//! `ads.rs`: the same shoppers against the ad click filter ([`ads::simulate_ads`]);
//! `attack.rs`: one app key trying to steer the learned ranking ([`attack::simulate_attack`]).

use std::path::{Path, PathBuf};

use serde::Serialize;
use serde_json::json;
use shoplook_core::wire::{Product, Ranking};
use shoplook_core::{Engine, ModelContract, Rect};

use shoplook_domain::ingest::{ImageLoader, ImagePolicy};
use shoplook_domain::learn::LearnConfig;

pub mod ads;
mod arm;
pub mod attack;
mod error;
pub mod synthetic;

pub use arm::{ArmServer, Http};
pub use error::SimError;

/// Hidden shopper segments.
pub const SEGMENTS: u64 = 8;
/// Brands of the distractor products.
const BRANDS: [&str; 6] = [
    "Demo Sports",
    "Northwind",
    "Contoso",
    "Fabrikam",
    "Tailspin",
    "Litware",
];

#[derive(Debug, Clone)]
pub struct SimConfig {
    pub sessions: usize,
    pub seed: u64,
    /// Searches per session.
    pub searches: usize,
    /// Results per search.
    pub k: usize,
    /// Crops taken of each photo as distractor products (at most 13).
    pub crops_per_photo: usize,
    /// Repository root (fixtures/).
    pub root: PathBuf,
    /// Send impression events for the top 5 (what a phone screen shows).
    pub impressions: bool,
    /// Points on the learning curve.
    pub curve_points: usize,
    pub learn: LearnConfig,
}

impl SimConfig {
    pub fn new(sessions: usize, seed: u64) -> Self {
        SimConfig {
            sessions,
            seed,
            searches: 2,
            k: 10,
            crops_per_photo: 13,
            root: Path::new(env!("CARGO_MANIFEST_DIR")).join("../.."),
            impressions: true,
            curve_points: 20,
            learn: LearnConfig::default(),
        }
    }
}

/// One arm's figures.
#[derive(Debug, Clone, Default, Serialize)]
pub struct ArmReport {
    pub ctr_at_5: f64,
    pub purchases_per_session: f64,
    pub ndcg_at_5: f64,
    /// The same over the first tenth of the sessions (at least one).
    pub first_sessions: Metrics,
    /// (sessions so far, nDCG@5 and CTR@5 of the sessions in that stretch).
    pub curve: Vec<CurvePoint>,
}

#[derive(Debug, Clone, Copy, Default, Serialize, PartialEq)]
pub struct Metrics {
    pub sessions: usize,
    pub ctr_at_5: f64,
    pub purchases_per_session: f64,
    pub ndcg_at_5: f64,
}

#[derive(Debug, Clone, Copy, Default, Serialize)]
pub struct CurvePoint {
    pub sessions: usize,
    pub ndcg_at_5: f64,
    pub ctr_at_5: f64,
}

#[derive(Debug, Clone, Serialize)]
pub struct SimReport {
    pub visual: ArmReport,
    pub learned: ArmReport,
    pub sessions: usize,
    pub seed: u64,
    pub products: usize,
    pub searches: usize,
    pub requests: usize,
}

/// A product of the simulated catalogue with its real embedding.
#[derive(Debug, Clone)]
pub struct SimProduct {
    pub product: Product,
    pub vector: Vec<f32>,
}

/// splitmix64 of a few words: the simulator's only randomness.
fn mix(words: &[u64]) -> u64 {
    let mut z = 0x243F_6A88_85A3_08D3u64;
    for w in words {
        z = z.wrapping_add(*w).wrapping_add(0x9E37_79B9_7F4A_7C15);
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^= z >> 31;
    }
    z
}

fn uniform(words: &[u64]) -> f64 {
    ((mix(words) >> 11) as f64 + 0.5) / (1u64 << 53) as f64
}

fn gaussian(words: &[u64]) -> f64 {
    let mut w = words.to_vec();
    w.push(1);
    let u1 = uniform(&w);
    *w.last_mut().unwrap() = 2;
    let u2 = uniform(&w);
    (-2.0 * u1.ln()).sqrt() * (std::f64::consts::TAU * u2).cos()
}

fn text_id(s: &str) -> u64 {
    s.bytes().fold(0xcbf2_9ce4_8422_2325u64, |h, b| {
        (h ^ u64::from(b)).wrapping_mul(0x100_0000_01b3)
    })
}

fn dot(a: &[f32], b: &[f32]) -> f32 {
    a.iter().zip(b).map(|(x, y)| x * y).sum()
}

fn normalise(v: &mut [f32]) {
    let n = v.iter().map(|x| x * x).sum::<f32>().sqrt();
    if n > 0.0 {
        v.iter_mut().for_each(|x| *x /= n);
    }
}

/// `v` plus Gaussian noise of total length about `sigma`, made unit length.
fn jitter(v: &[f32], sigma: f64, words: &[u64]) -> Vec<f32> {
    let per = sigma / (v.len() as f64).sqrt();
    let mut out: Vec<f32> = v
        .iter()
        .enumerate()
        .map(|(i, x)| {
            let mut w = words.to_vec();
            w.push(i as u64);
            x + (per * gaussian(&w)) as f32
        })
        .collect();
    normalise(&mut out);
    out
}

/// Crops (fractions of width and height: x, y, w, h) taken of each photo.
const CROPS: [(f32, f32, f32, f32); 13] = [
    (0.25, 0.25, 0.5, 0.5),
    (0.0, 0.0, 0.7, 0.7),
    (0.3, 0.3, 0.7, 0.7),
    (0.0, 0.3, 0.7, 0.7),
    (0.3, 0.0, 0.7, 0.7),
    (0.0, 0.0, 0.5, 0.5),
    (0.5, 0.0, 0.5, 0.5),
    (0.0, 0.5, 0.5, 0.5),
    (0.5, 0.5, 0.5, 0.5),
    (0.25, 0.0, 0.5, 0.5),
    (0.25, 0.5, 0.5, 0.5),
    (0.0, 0.25, 0.5, 0.5),
    (0.5, 0.25, 0.5, 0.5),
];

/// The demo catalogue (embedded as the ingest embeds it) plus crops of every photo under
/// `fixtures/` as distractors, each with a brand and a price.
pub fn build_catalogue(
    engine: &Engine,
    root: &Path,
    crops_per_photo: usize,
) -> Result<Vec<SimProduct>, SimError> {
    let demo = root.join("fixtures/demo-catalogue");
    let mut out = Vec::new();
    // The checkout's own fixtures: local paths; one loader (one HTTP agent) for all.
    let images = ImageLoader::new(ImagePolicy::trusted());
    for line in shoplook_domain::feed::read_feed(&demo.join("feed.jsonl"))? {
        let Ok(p) = line.product else { continue };
        let bytes = images.load(&p.image, &demo)?;
        let (vector, _) = shoplook_domain::ingest::embed_product(engine, &bytes)?;
        out.push(SimProduct { product: p, vector });
    }
    let mut photos: Vec<PathBuf> = Vec::new();
    for dir in [
        "fixtures/photos",
        "fixtures/demo-catalogue",
        "fixtures/external",
    ] {
        if let Ok(rd) = std::fs::read_dir(root.join(dir)) {
            photos.extend(rd.flatten().map(|e| e.path()).filter(|p| {
                p.extension()
                    .is_some_and(|e| ["jpg", "jpeg", "png"].contains(&e.to_string_lossy().as_ref()))
            }));
        }
    }
    photos.sort();
    for path in photos {
        let bytes = std::fs::read(&path).map_err(|source| SimError::Photo {
            path: path.clone(),
            source,
        })?;
        let photo = engine.decode(&bytes)?;
        let (w, h) = (photo.original_width as f32, photo.original_height as f32);
        let name = path.file_stem().unwrap().to_string_lossy().to_string();
        for (c, (x, y, cw, ch)) in CROPS.iter().take(crops_per_photo).enumerate() {
            // 2 % short of the right and bottom edges: a region ending exactly on the edge
            // can round past it when scaled (a panic in core's resize_region, reported).
            let rect = Rect::new(x * w, y * h, cw * w * 0.98, ch * h * 0.98);
            let e = engine.embed_region_of(&photo, rect)?;
            let id = format!("crop-{name}-{c}");
            let h = text_id(&id);
            out.push(SimProduct {
                product: Product {
                    title: format!("{name} crop {c}"),
                    brand: BRANDS[(h % BRANDS.len() as u64) as usize].into(),
                    price: (20 + (h >> 8) % 180) as f64,
                    currency: "EUR".into(),
                    category: "distractor".into(),
                    image: path.display().to_string(),
                    url: format!("https://example.com/sim/{id}"),
                    in_stock: true,
                    id,
                },
                vector: e.vector,
            });
        }
    }
    Ok(out)
}

/// The hidden world: segments and product appeal.
struct World<'a> {
    seed: u64,
    products: &'a [SimProduct],
    segments: Vec<Segment>,
    appeal: Vec<f64>,
}

struct Segment {
    anchor: usize,
    brand: String,
    price: (f64, f64),
}

struct Shopper {
    direction: Vec<f32>,
    /// True click probability of each product when looked at.
    attract: Vec<f64>,
    /// Purchase probability after a click.
    buy: Vec<f64>,
}

fn sigmoid(x: f64) -> f64 {
    1.0 / (1.0 + (-x).exp())
}

impl<'a> World<'a> {
    fn new(seed: u64, products: &'a [SimProduct]) -> Self {
        let n = products.len() as u64;
        let segments = (0..SEGMENTS)
            .map(|g| {
                let anchor = (mix(&[seed, 1, g]) % n) as usize;
                let lo = 20.0 + (mix(&[seed, 2, g]) % 120) as f64;
                Segment {
                    anchor,
                    brand: BRANDS[(mix(&[seed, 3, g]) % BRANDS.len() as u64) as usize].into(),
                    price: (lo, lo + 70.0),
                }
            })
            .collect();
        let appeal = products
            .iter()
            .map(|p| 0.8 * gaussian(&[seed, 4, text_id(&p.product.id)]))
            .collect();
        World {
            seed,
            products,
            segments,
            appeal,
        }
    }

    fn shopper(&self, session: u64) -> Shopper {
        let seg = &self.segments[(mix(&[self.seed, 5, session]) % SEGMENTS) as usize];
        let direction = jitter(
            &self.products[seg.anchor].vector,
            0.5,
            &[self.seed, 6, session],
        );
        let sims: Vec<f32> = self
            .products
            .iter()
            .map(|p| dot(&p.vector, &direction))
            .collect();
        let best = sims.iter().copied().fold(f32::MIN, f32::max) as f64;
        let utility: Vec<f64> = self
            .products
            .iter()
            .zip(&sims)
            .zip(&self.appeal)
            .map(|((p, s), a)| {
                let brand = f64::from(u8::from(p.product.brand == seg.brand));
                let price = f64::from(u8::from(
                    (seg.price.0..=seg.price.1).contains(&p.product.price),
                ));
                6.0 * (*s as f64 - best) + 1.5 * brand + 1.0 * price + a - 1.0
            })
            .collect();
        Shopper {
            direction,
            attract: utility.iter().map(|u| sigmoid(*u)).collect(),
            buy: utility.iter().map(|u| 0.5 * sigmoid(u - 1.0)).collect(),
        }
    }
}

/// How often position `i` (1-based) is looked at.
fn examined(position: usize) -> f64 {
    1.0 / (position as f64).powf(0.8)
}

/// What one search of one session gave.
#[derive(Default, Clone, Copy)]
struct Outcome {
    clicks_top5: usize,
    shown_top5: usize,
    purchases: usize,
    ndcg5: f64,
}

/// Runs `config.sessions` sessions against one arm's server.
fn run_arm(
    world: &World,
    server: &ArmServer,
    contract: &ModelContract,
    config: &SimConfig,
    ranking: Ranking,
) -> Result<(Vec<Vec<Outcome>>, usize), SimError> {
    let mut http = Http::new(&server.url, &server.key);
    let index: std::collections::HashMap<&str, usize> = world
        .products
        .iter()
        .enumerate()
        .map(|(i, p)| (p.product.id.as_str(), i))
        .collect();
    let seed = config.seed;
    let mut sessions = Vec::with_capacity(config.sessions);
    for s in 0..config.sessions as u64 {
        let shopper = world.shopper(s);
        let mut ideal: Vec<f64> = shopper.attract.clone();
        ideal.sort_by(|a, b| b.total_cmp(a));
        let idcg: f64 = ideal
            .iter()
            .take(5)
            .enumerate()
            .map(|(i, g)| g / ((i + 2) as f64).log2())
            .sum();
        let session_id = format!("sim-{seed:x}-{s:06}");
        let mut outcomes = Vec::new();
        for j in 0..config.searches as u64 {
            let query = jitter(&shopper.direction, 0.35, &[seed, 7, s, j]);
            let resp = http.post_ok(
                "/v1/search",
                &json!({
                    "embedding": query,
                    "model": contract.to_string(),
                    "k": config.k,
                    "session_id": session_id,
                    "ranking": ranking,
                }),
            )?;
            let qid = resp["query_id"].as_str().unwrap_or_default().to_string();
            let shown: Vec<usize> = resp["results"]
                .as_array()
                .ok_or(SimError::NoResults)?
                .iter()
                .filter_map(|h| h["id"].as_str().and_then(|id| index.get(id).copied()))
                .collect();
            let mut o = Outcome::default();
            let dcg: f64 = shown
                .iter()
                .take(5)
                .enumerate()
                .map(|(i, p)| shopper.attract[*p] / ((i + 2) as f64).log2())
                .sum();
            o.ndcg5 = if idcg > 0.0 { dcg / idcg } else { 0.0 };
            let event = |kind: &str, p: usize, pos: usize| {
                json!({
                    "type": kind,
                    "product_id": world.products[p].product.id,
                    "query_id": qid,
                    "position": pos,
                    "session_id": session_id,
                })
            };
            for (i, &p) in shown.iter().enumerate() {
                let pos = i + 1;
                let pid = text_id(&world.products[p].product.id);
                if pos <= 5 {
                    o.shown_top5 += 1;
                    if config.impressions {
                        http.post_ok("/v1/events", &event("impression", p, pos))?;
                    }
                }
                let looked = uniform(&[seed, 8, s, j, pos as u64]) < examined(pos);
                let likes = uniform(&[seed, 9, s, j, pid]) < shopper.attract[p];
                if !(looked && likes) {
                    continue;
                }
                http.post_ok("/v1/events", &event("click", p, pos))?;
                if pos <= 5 {
                    o.clicks_top5 += 1;
                }
                if uniform(&[seed, 10, s, j, pid]) < shopper.buy[p] {
                    http.post_ok("/v1/events", &event("purchase", p, pos))?;
                    o.purchases += 1;
                }
            }
            outcomes.push(o);
        }
        sessions.push(outcomes);
    }
    Ok((sessions, http.requests))
}

fn metrics(sessions: &[Vec<Outcome>]) -> Metrics {
    let all: Vec<&Outcome> = sessions.iter().flatten().collect();
    let shown: usize = all.iter().map(|o| o.shown_top5).sum();
    let clicks: usize = all.iter().map(|o| o.clicks_top5).sum();
    let purchases: usize = all.iter().map(|o| o.purchases).sum();
    Metrics {
        sessions: sessions.len(),
        ctr_at_5: clicks as f64 / shown.max(1) as f64,
        purchases_per_session: purchases as f64 / sessions.len().max(1) as f64,
        ndcg_at_5: all.iter().map(|o| o.ndcg5).sum::<f64>() / all.len().max(1) as f64,
    }
}

fn report(sessions: &[Vec<Outcome>], points: usize) -> ArmReport {
    let m = metrics(sessions);
    let first = metrics(&sessions[..(sessions.len() / 10).max(1).min(sessions.len())]);
    let step = sessions.len().div_ceil(points.max(1)).max(1);
    let curve = sessions
        .chunks(step)
        .enumerate()
        .map(|(i, c)| {
            let m = metrics(c);
            CurvePoint {
                sessions: i * step + c.len(),
                ndcg_at_5: m.ndcg_at_5,
                ctr_at_5: m.ctr_at_5,
            }
        })
        .collect();
    ArmReport {
        ctr_at_5: m.ctr_at_5,
        purchases_per_session: m.purchases_per_session,
        ndcg_at_5: m.ndcg_at_5,
        first_sessions: first,
        curve,
    }
}

/// Runs `config.sessions` simulated sessions against a running server (e.g. honest traffic
/// before a spam test) and reports them.
pub fn run_sessions(
    products: &[SimProduct],
    server: &ArmServer,
    contract: &ModelContract,
    config: &SimConfig,
    ranking: Ranking,
) -> Result<ArmReport, SimError> {
    let world = World::new(config.seed, products);
    let (sessions, _) = run_arm(&world, server, contract, config, ranking)?;
    Ok(report(&sessions, config.curve_points))
}

/// A query of each hidden segment's shoppers (what a probe of the rankings asks).
pub fn segment_queries(products: &[SimProduct], seed: u64) -> Vec<Vec<f32>> {
    let world = World::new(seed, products);
    (0..SEGMENTS)
        .map(|g| {
            jitter(
                &products[world.segments[g as usize].anchor].vector,
                0.3,
                &[seed, 11, g],
            )
        })
        .collect()
}

/// Builds the catalogue, then runs the same sessions under `visual` and under `learned`.
pub fn simulate(engine: &Engine, config: &SimConfig) -> Result<SimReport, SimError> {
    let products = build_catalogue(engine, &config.root, config.crops_per_photo)?;
    simulate_on(&products, engine.embedder_contract(), config)
}

/// [`simulate`] over an already built catalogue.
pub fn simulate_on(
    products: &[SimProduct],
    contract: &ModelContract,
    config: &SimConfig,
) -> Result<SimReport, SimError> {
    if products.len() < 2 * config.k {
        return Err(SimError::TooFewProducts {
            products: products.len(),
        });
    }
    let world = World::new(config.seed, products);
    let mut arms = Vec::new();
    let mut requests = 0;
    for ranking in [Ranking::Visual, Ranking::Learned] {
        let server = ArmServer::start(products, contract, &config.learn)?;
        let (sessions, n) = run_arm(&world, &server, contract, config, ranking)?;
        requests += n;
        arms.push(report(&sessions, config.curve_points));
    }
    let learned = arms.pop().unwrap();
    let visual = arms.pop().unwrap();
    Ok(SimReport {
        visual,
        learned,
        sessions: config.sessions,
        seed: config.seed,
        products: products.len(),
        searches: config.sessions * config.searches,
        requests,
    })
}
