//! A report as one viewer sees it: the rows of the asked buckets (suppressed figures are
//! `null` and named in `suppressed`), growth, top and rising products, rising looks (its CSV form is
//! `export.rs`). Everything here is computed from published figures only.

use std::collections::{BTreeMap, HashMap};

use serde::Serialize;
use shoplook_core::wire::SearchFilters;

use super::cells::{self, Bucket, Cells, Level, MEASURES, Measure, Node};
use super::looks::{self, Cluster};
use super::{Granularity, ProductFacts, TrendQuery, TrendsConfig, Viewer, iso_date, noise};
use crate::error::CatResult;
use crate::store::Store;

/// One row: a bucket and a node, with the figures of each measure.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Row {
    /// First day of the bucket, `YYYY-MM-DD`.
    pub bucket: String,
    pub level: Level,
    pub category: String,
    pub brand: Option<String>,
    pub product_id: Option<String>,
    pub title: Option<String>,
    pub price_band: Option<String>,
    /// Category rows only (searches are not made for a brand or a product).
    pub searches: Option<u64>,
    pub taps: Option<u64>,
    pub purchases: Option<u64>,
    /// Purchases per tap.
    pub conversion: Option<f64>,
    /// Against the bucket a week before (`this / before - 1`), where both are published.
    pub taps_growth: Option<f64>,
    pub searches_growth: Option<f64>,
    /// Measures hidden (fewer than `k` sessions, possibly none; their fields are `null`).
    pub suppressed: Vec<Measure>,
}

/// A product's taps and purchases over the report's weeks.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct ProductTrend {
    pub product_id: String,
    pub title: String,
    pub brand: String,
    pub category: String,
    pub image: String,
    /// Sum of the published weekly figures.
    pub taps: u64,
    pub purchases: u64,
    /// Last week's taps against the week before.
    pub taps_growth: Option<f64>,
}

/// A cluster of last week's searches, shown by the catalogue products nearest its centre.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Look {
    pub week: String,
    pub searches: u64,
    /// Against the most similar look of the week before; `None`: a new look.
    pub growth: Option<f64>,
    pub products: Vec<ProductFacts>,
}

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct ViewerInfo {
    pub role: &'static str,
    pub brand: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Report {
    pub granularity: Granularity,
    pub k: usize,
    pub epsilon: Option<f64>,
    pub viewer: ViewerInfo,
    /// The buckets shown, oldest first.
    pub buckets: Vec<String>,
    pub rows: Vec<Row>,
    pub top_products: Vec<ProductTrend>,
    pub rising_products: Vec<ProductTrend>,
    pub looks: Vec<Look>,
    /// Figures of the shown rows hidden to protect sessions.
    pub suppressed: u64,
}

/// The published (and, with `epsilon`, noised) figure of a cell; `None` when suppressed, and
/// also for no activity at all: a hidden figure and a zero look the same, so that a hidden
/// one does not give away that at least one session is behind it.
struct Published<'a> {
    cells: &'a Cells,
    epsilon: Option<f64>,
}

impl Published<'_> {
    fn get(&self, m: Measure, b: Bucket, n: &Node) -> Option<u64> {
        match self.cells.get(&(m, b, n.clone())) {
            None => None,
            Some(f) if f.published => Some(match self.epsilon {
                Some(eps) => noise::noisy(f.count, eps, &format!("{m:?}|{b:?}|{n:?}")),
                None => f.count,
            }),
            Some(_) => None,
        }
    }
}

fn growth(now: Option<u64>, before: Option<u64>) -> Option<f64> {
    match (now, before) {
        (Some(a), Some(b)) if b > 0 => Some(a as f64 / b as f64 - 1.0),
        _ => None,
    }
}

fn visible(n: &Node, q: &TrendQuery, viewer: &Viewer) -> bool {
    if n.level == Level::All {
        return false;
    }
    if q.category
        .as_deref()
        .is_some_and(|c| !c.eq_ignore_ascii_case(&n.category))
    {
        return false;
    }
    if !matches!(n.level, Level::Brand | Level::Product) {
        return true;
    }
    let own = match viewer {
        Viewer::Admin => q.brand.as_deref(),
        Viewer::Brand(b) => Some(b.as_str()),
    };
    own.is_none_or(|b| b.eq_ignore_ascii_case(&n.brand))
}

/// Builds the report `q` for `viewer` at `now` (Unix seconds).
pub fn build_report(
    store: &dyn Store,
    q: &TrendQuery,
    viewer: &Viewer,
    cfg: &TrendsConfig,
    now: i64,
) -> CatResult<Report> {
    let weeks = super::reportable_weeks(now, cfg.retention_days);
    let products: HashMap<String, ProductFacts> = store
        .product_facts()?
        .into_iter()
        .map(|p| (p.id.clone(), p))
        .collect();
    let (from, to) = match (weeks.first(), weeks.last()) {
        (Some(f), Some(l)) => (f * 86_400, (l + 7) * 86_400),
        _ => (0, 0),
    };
    let start = std::time::Instant::now();
    let mut activity = super::counted::counted_activity(store, from, to, &products)?;
    activity.sort();
    let read = start.elapsed();
    let cells = cells::build(&activity, &products, &weeks, cfg.k);
    tracing::debug!(rows = activity.len(), cells = cells.len(), ?read, built = ?start.elapsed() - read, "trend cells");
    let published = Published {
        cells: &cells,
        epsilon: cfg.epsilon,
    };
    // The buckets shown and the one a week before each.
    let period = q.period.max(1) as usize;
    let buckets: Vec<(Bucket, Bucket)> = match q.granularity {
        Granularity::Week => weeks
            .iter()
            .skip(1)
            .map(|&w| (Bucket::Week(w), Bucket::Week(w - 7)))
            .collect(),
        Granularity::Day => weeks
            .iter()
            .skip(1)
            .flat_map(|&w| (w..w + 7).map(|d| (Bucket::Day(d), Bucket::Day(d - 7))))
            .collect(),
    };
    let buckets = &buckets[buckets.len().saturating_sub(period)..];
    let mut nodes: BTreeMap<Bucket, Vec<&Node>> = BTreeMap::new();
    for (_, b, n) in cells.keys() {
        if visible(n, q, viewer) {
            let list = nodes.entry(*b).or_default();
            if list.last() != Some(&n) {
                list.push(n);
            }
        }
    }
    let mut rows = Vec::new();
    let mut suppressed = 0u64;
    for (b, before) in buckets {
        let mut list = nodes.get(b).cloned().unwrap_or_default();
        list.sort();
        list.dedup();
        for n in list {
            let day = match b {
                Bucket::Week(d) | Bucket::Day(d) => *d,
            };
            let fig = |m| published.get(m, *b, n);
            let mut hidden: Vec<Measure> =
                MEASURES.into_iter().filter(|&m| fig(m).is_none()).collect();
            let searches = (n.level == Level::Category).then(|| fig(Measure::Searches));
            if n.level != Level::Category {
                hidden.retain(|&m| m != Measure::Searches);
            }
            if hidden.len() == MEASURES.len() - usize::from(n.level != Level::Category) {
                // Nothing published: the row is left out (its existence would say that
                // someone was active there).
                continue;
            }
            suppressed += hidden.len() as u64;
            let (taps, purchases) = (fig(Measure::Taps), fig(Measure::Purchases));
            let p = products.get(&n.product);
            rows.push(Row {
                bucket: iso_date(day),
                level: n.level,
                category: n.category.clone(),
                brand: (!n.brand.is_empty()).then(|| n.brand.clone()),
                product_id: (!n.product.is_empty()).then(|| n.product.clone()),
                title: p.map(|p| p.title.clone()),
                price_band: (!n.band.is_empty()).then(|| n.band.to_string()),
                searches: searches.flatten(),
                taps,
                purchases,
                conversion: match (taps, purchases) {
                    (Some(t), Some(p)) if t > 0 => Some(p as f64 / t as f64),
                    _ => None,
                },
                taps_growth: growth(taps, published.get(Measure::Taps, *before, n)),
                searches_growth: searches
                    .and_then(|s| growth(s, published.get(Measure::Searches, *before, n))),
                suppressed: hidden,
            });
        }
    }
    let shown_weeks: Vec<i64> = weeks
        .iter()
        .copied()
        .skip(1)
        .filter(|&w| {
            buckets.iter().any(|(b, _)| match b {
                Bucket::Week(x) => *x == w,
                Bucket::Day(d) => cells::week_of(*d) == w,
            })
        })
        .collect();
    let (top, rising) = product_trends(&published, &products, &shown_weeks, &weeks, q, viewer);
    let start = std::time::Instant::now();
    let looks = rising_looks(store, &weeks, cfg, q)?;
    tracing::debug!(looks = looks.len(), took = ?start.elapsed(), "rising looks");
    Ok(Report {
        granularity: q.granularity,
        k: cfg.k,
        epsilon: cfg.epsilon,
        viewer: match viewer {
            Viewer::Admin => ViewerInfo {
                role: "admin",
                brand: None,
            },
            Viewer::Brand(b) => ViewerInfo {
                role: "brand",
                brand: Some(b.clone()),
            },
        },
        buckets: buckets
            .iter()
            .map(|(b, _)| match b {
                Bucket::Week(d) | Bucket::Day(d) => iso_date(*d),
            })
            .collect(),
        rows,
        top_products: top,
        rising_products: rising,
        looks,
        suppressed,
    })
}

/// Top products (published taps over the shown weeks) and rising ones (last week against the
/// week before), ten of each, among the products the viewer may see.
fn product_trends(
    published: &Published,
    products: &HashMap<String, ProductFacts>,
    shown_weeks: &[i64],
    weeks: &[i64],
    q: &TrendQuery,
    viewer: &Viewer,
) -> (Vec<ProductTrend>, Vec<ProductTrend>) {
    let mut all = Vec::new();
    let mut ids: Vec<&String> = products.keys().collect();
    ids.sort();
    for id in ids {
        let p = &products[id];
        let n = Node {
            level: Level::Product,
            category: p.category.clone(),
            brand: p.brand.clone(),
            product: p.id.clone(),
            band: cells::price_band(p.price),
        };
        if !visible(&n, q, viewer) {
            continue;
        }
        let sum = |m| -> u64 {
            shown_weeks
                .iter()
                .filter_map(|&w| published.get(m, Bucket::Week(w), &n))
                .sum()
        };
        let last = weeks.len().checked_sub(1).map(|i| weeks[i]);
        let taps_growth = last.and_then(|w| {
            growth(
                published.get(Measure::Taps, Bucket::Week(w), &n),
                published.get(Measure::Taps, Bucket::Week(w - 7), &n),
            )
        });
        let t = ProductTrend {
            product_id: p.id.clone(),
            title: p.title.clone(),
            brand: p.brand.clone(),
            category: p.category.clone(),
            image: p.image.clone(),
            taps: sum(Measure::Taps),
            purchases: sum(Measure::Purchases),
            taps_growth,
        };
        if t.taps > 0 || t.purchases > 0 {
            all.push(t);
        }
    }
    let mut top = all.clone();
    top.sort_by(|a, b| b.taps.cmp(&a.taps).then(a.product_id.cmp(&b.product_id)));
    top.truncate(10);
    let mut rising: Vec<ProductTrend> = all
        .into_iter()
        .filter(|t| t.taps_growth.is_some_and(|g| g > 0.0))
        .collect();
    rising.sort_by(|a, b| {
        b.taps_growth
            .unwrap_or(0.0)
            .total_cmp(&a.taps_growth.unwrap_or(0.0))
            .then(a.product_id.cmp(&b.product_id))
    });
    rising.truncate(10);
    (top, rising)
}

/// Most query vectors read for one week's clusters.
const MAX_VECTORS: usize = 50_000;

/// The published clusters of the last reportable week, with their growth, rising first.
fn rising_looks(
    store: &dyn Store,
    weeks: &[i64],
    cfg: &TrendsConfig,
    q: &TrendQuery,
) -> CatResult<Vec<Look>> {
    let Some(&last) = weeks.last() else {
        return Ok(Vec::new());
    };
    let week_clusters = |w: i64| -> CatResult<Vec<Cluster>> {
        let vectors = store.query_vectors(w * 86_400, (w + 7) * 86_400, MAX_VECTORS)?;
        let refs: Vec<&super::QueryVector> = vectors.iter().collect();
        Ok(looks::cluster_week(&refs, cfg.k))
    };
    let this = week_clusters(last)?;
    let before = if weeks.len() > 1 {
        week_clusters(last - 7)?
    } else {
        Vec::new()
    };
    let mut out = Vec::new();
    for c in this.iter().filter(|c| c.published) {
        let found = store.search(
            &c.centre,
            4,
            q.category.as_deref(),
            &SearchFilters::default(),
        )?;
        let searches = match cfg.epsilon {
            Some(eps) => noise::noisy(
                c.searches,
                eps,
                &format!("look|{last}|{:?}", &c.centre[..4.min(c.centre.len())]),
            ),
            None => c.searches,
        };
        out.push(Look {
            week: iso_date(last),
            searches,
            growth: looks::growth(c, &before),
            products: found
                .into_iter()
                .map(|(p, _)| ProductFacts {
                    id: p.id,
                    title: p.title,
                    brand: p.brand,
                    category: p.category,
                    price: p.price,
                    image: p.image,
                    in_stock: p.in_stock,
                })
                .collect(),
        });
    }
    out.sort_by(|a, b| {
        let g = |l: &Look| l.growth.unwrap_or(f64::INFINITY);
        g(b).total_cmp(&g(a)).then(b.searches.cmp(&a.searches))
    });
    Ok(out)
}
