//! Synthetic demo traffic (`shoplook catalogue seed-events --demo`): seeded shoppers who
//! search the catalogue's own looks, tap and buy, with a daily shape (two peaks), a weekly one
//! (weekends busier), a slow growth, and one look that rises week after week. Every search and
//! event is logged under the key name [`DEMO_KEY`], so demo traffic is never mistaken for real.
//! Returns, with the logs, the true counts per week, which the console test compares with
//! what the console shows.

use std::collections::BTreeMap;

use serde::Serialize;
use shoplook_core::wire::{Event, EventType, Ranking};

use super::ProductFacts;
use super::cells::week_of;
use crate::store::SearchRecord;
use crate::store::trends::{DatedEvent, DatedSearch};

/// The key name of all demo traffic.
pub const DEMO_KEY: &str = "demo-traffic (synthetic, seed-events --demo)";

#[derive(Debug, Clone)]
pub struct DemoConfig {
    pub seed: u64,
    pub days: u32,
    /// Sessions on an average weekday at the start.
    pub sessions_per_day: u32,
    /// The last day of traffic is the day before this one (Unix day number).
    pub today: i64,
}

/// True counts of a week (keys: category, `category|brand`).
#[derive(Debug, Clone, Default, Serialize, PartialEq)]
pub struct WeekTruth {
    pub categories: BTreeMap<String, Counts>,
    pub brands: BTreeMap<String, Counts>,
}

#[derive(Debug, Clone, Copy, Default, Serialize, PartialEq)]
pub struct Counts {
    pub searches: u64,
    pub taps: u64,
    pub purchases: u64,
}

#[derive(Debug, Clone, Default, Serialize, PartialEq)]
pub struct Truth {
    pub label: String,
    pub key_name: String,
    pub seed: u64,
    pub days: u32,
    pub sessions: u64,
    pub searches: u64,
    pub events: u64,
    /// The product whose look rises.
    pub rising_product: String,
    /// Monday `YYYY-MM-DD` -> counts.
    pub weeks: BTreeMap<String, WeekTruth>,
}

/// splitmix64: small, seeded, the same on every platform.
pub struct Rng(u64);

impl Rng {
    pub fn new(seed: u64) -> Self {
        Rng(seed ^ 0x5EED_5EED_5EED_5EED)
    }
    pub fn next_u64(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }
    /// Uniform in [0, 1).
    pub fn unit(&mut self) -> f64 {
        (self.next_u64() >> 11) as f64 / (1u64 << 53) as f64
    }
    pub fn below(&mut self, n: usize) -> usize {
        (self.unit() * n as f64) as usize % n.max(1)
    }
    /// Standard normal (Box-Muller).
    pub fn normal(&mut self) -> f64 {
        let u = self.unit().max(1e-12);
        let v = self.unit();
        (-2.0 * u.ln()).sqrt() * (std::f64::consts::TAU * v).cos()
    }
}

/// Weekday shape, Monday first.
const WEEKDAY: [f64; 7] = [0.85, 0.9, 0.95, 1.0, 1.1, 1.3, 1.2];

/// A second of the day with two peaks (lunch, evening).
fn second_of_day(rng: &mut Rng) -> i64 {
    let hour = if rng.unit() < 0.4 {
        12.5 + rng.normal() * 1.5
    } else {
        20.0 + rng.normal() * 2.0
    };
    ((hour.rem_euclid(24.0)) * 3600.0) as i64
}

fn unit(v: Vec<f32>) -> Vec<f32> {
    let n = v.iter().map(|x| x * x).sum::<f32>().sqrt().max(1e-12);
    v.into_iter().map(|x| x / n).collect()
}

fn dot(a: &[f32], b: &[f32]) -> f32 {
    a.iter().zip(b).map(|(x, y)| x * y).sum()
}

/// Generates the traffic, handing each day's logs to `write` (oldest day first).
pub fn generate(
    products: &[(ProductFacts, Vec<f32>)],
    cfg: &DemoConfig,
    mut write: impl FnMut(&[DatedSearch], &[DatedEvent]) -> crate::CatResult<()>,
) -> crate::CatResult<Truth> {
    let mut rng = Rng::new(cfg.seed);
    let rising = rng.below(products.len());
    let mut truth = Truth {
        label: "synthetic demo traffic, not real shoppers".into(),
        key_name: DEMO_KEY.into(),
        seed: cfg.seed,
        days: cfg.days,
        rising_product: products[rising].0.id.clone(),
        ..Truth::default()
    };
    let first = cfg.today - i64::from(cfg.days);
    for day in first..cfg.today {
        let age = (day - first) as f64 / f64::from(cfg.days.max(1));
        let weekday = (day - week_of(day)) as usize;
        let sessions = (f64::from(cfg.sessions_per_day)
            * WEEKDAY[weekday]
            * (1.0 + 0.15 * age)
            * (1.0 + 0.1 * rng.normal()).max(0.5)) as u64;
        // The rising look's share of searches: 2% at the start, 35% at the end.
        let rising_share = 0.02 + 0.33 * age * age;
        let week = super::iso_date(week_of(day));
        let (mut searches, mut events) = (Vec::new(), Vec::new());
        for s in 0..sessions {
            let session = format!("demo{:x}d{day}s{s}", cfg.seed);
            let n_searches = 1 + usize::from(rng.unit() < 0.5);
            for q in 0..n_searches {
                let anchor = if rng.unit() < rising_share {
                    rising
                } else {
                    rng.below(products.len())
                };
                let (facts, vector) = &products[anchor];
                let query: Vec<f32> = unit(
                    vector
                        .iter()
                        .map(|x| x + (rng.normal() * 0.01) as f32)
                        .collect(),
                );
                let mut shown: Vec<(f32, usize)> = products
                    .iter()
                    .enumerate()
                    .filter(|(_, (p, _))| p.category == facts.category)
                    .map(|(i, (_, v))| (dot(&query, v), i))
                    .collect();
                shown.sort_by(|a, b| b.0.total_cmp(&a.0).then(a.1.cmp(&b.1)));
                shown.truncate(6);
                let query_id = format!("demo{:x}d{day}s{s}q{q}", cfg.seed);
                let at = day * 86_400 + second_of_day(&mut rng);
                searches.push((
                    SearchRecord {
                        query_id: query_id.clone(),
                        key_name: DEMO_KEY.into(),
                        session_id: Some(session.clone()),
                        category: Some(facts.category.clone()),
                        ranking: Ranking::Visual,
                        embedding: query,
                        shown: shown
                            .iter()
                            .map(|(_, i)| products[*i].0.id.clone())
                            .collect(),
                    },
                    at,
                ));
                let wt = truth.weeks.entry(week.clone()).or_default();
                wt.categories
                    .entry(facts.category.clone())
                    .or_default()
                    .searches += 1;
                // A tap on one of the first three, most often the first.
                if rng.unit() < 0.6 && !shown.is_empty() {
                    let pos = [0, 0, 0, 1, 1, 2][rng.below(6)].min(shown.len() - 1);
                    let p = &products[shown[pos].1].0;
                    let buy = rng.unit() < if shown[pos].1 == rising { 0.25 } else { 0.12 };
                    let kinds: &[EventType] = if buy {
                        &[EventType::Click, EventType::Purchase]
                    } else {
                        &[EventType::Click]
                    };
                    for kind in kinds {
                        events.push((
                            Event {
                                kind: *kind,
                                product_id: p.id.clone(),
                                query_id: Some(query_id.clone()),
                                position: Some(pos as u32 + 1),
                                session_id: Some(session.clone()),
                            },
                            DEMO_KEY.to_string(),
                            at + 5 + rng.below(120) as i64,
                        ));
                        let brand_key = format!("{}|{}", p.category, p.brand);
                        for c in [
                            wt.categories.entry(p.category.clone()).or_default(),
                            wt.brands.entry(brand_key.clone()).or_default(),
                        ] {
                            match kind {
                                EventType::Click => c.taps += 1,
                                EventType::Purchase => c.purchases += 1,
                                EventType::Impression => {}
                            }
                        }
                    }
                }
            }
        }
        truth.sessions += sessions;
        truth.searches += searches.len() as u64;
        truth.events += events.len() as u64;
        write(&searches, &events)?;
    }
    Ok(truth)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn products() -> Vec<(ProductFacts, Vec<f32>)> {
        (0..6)
            .map(|i| {
                let mut v = vec![0.0f32; 8];
                v[i] = 1.0;
                (
                    ProductFacts {
                        id: format!("p{i}"),
                        title: format!("P{i}"),
                        brand: format!("B{}", i % 2),
                        category: format!("c{}", i % 3),
                        price: 10.0 * i as f64,
                        image: String::new(),
                        in_stock: true,
                    },
                    v,
                )
            })
            .collect()
    }

    #[test]
    fn seeded_traffic_is_reproducible_and_has_its_shapes() {
        let cfg = DemoConfig {
            seed: 7,
            days: 28,
            sessions_per_day: 100,
            today: 20_787,
        };
        let mut per_day = Vec::new();
        let t1 = generate(&products(), &cfg, |s, e| {
            per_day.push((s.len(), e.len()));
            Ok(())
        })
        .unwrap();
        let t2 = generate(&products(), &cfg, |_, _| Ok(())).unwrap();
        assert_eq!(t1, t2, "same seed, same traffic");
        assert_eq!(per_day.len(), 28);
        // Weekends busier than Mondays, on average.
        let first = cfg.today - 28;
        let avg = |wd: i64| {
            let days: Vec<usize> = (0..28)
                .filter(|i| (first + i - week_of(first + i)) == wd)
                .map(|i| per_day[i as usize].0)
                .collect();
            days.iter().sum::<usize>() as f64 / days.len() as f64
        };
        assert!(
            avg(5) > avg(0) * 1.2,
            "saturday {} monday {}",
            avg(5),
            avg(0)
        );
        assert!(t1.events > 0 && t1.searches > 2000);
    }
}
