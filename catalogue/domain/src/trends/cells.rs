//! From the logs' activity rows to the cells of the reports, with the suppression decision of
//! each (`privacy.rs`, then `guard.rs`). One component per measure and week (the week and its seven days): the
//! cells of a week never depend on any other week, on the request or on the viewer.

use std::collections::{BTreeMap, HashMap};

use super::guard::{Atoms, guard};
use super::privacy::Table;
use super::{Activity, ActivityKind, ProductFacts};

/// What is counted.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, serde::Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Measure {
    Searches,
    Taps,
    Purchases,
}

pub const MEASURES: [Measure; 3] = [Measure::Searches, Measure::Taps, Measure::Purchases];

/// A day (Unix day number) or a week (Unix day number of its Monday).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Bucket {
    Week(i64),
    Day(i64),
}

/// The breakdown of a row.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, serde::Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Level {
    /// All categories together: never published (a virtual total).
    All,
    Category,
    PriceBand,
    Brand,
    Product,
}

/// Where a cell sits: level, category, brand, product, price band.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct Node {
    pub level: Level,
    pub category: String,
    pub brand: String,
    pub product: String,
    pub band: &'static str,
}

/// A cell's figures: its events, its distinct sessions and whether it may be published.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Figure {
    pub count: u64,
    pub sessions: usize,
    pub published: bool,
}

/// Every cell of the reported weeks: (measure, bucket, node) -> figure.
pub type Cells = BTreeMap<(Measure, Bucket, Node), Figure>;

/// Price bands (the price in the product's own currency).
pub const BANDS: [(&str, f64); 5] = [
    ("under 25", 25.0),
    ("25-50", 50.0),
    ("50-100", 100.0),
    ("100-200", 200.0),
    ("200 and over", f64::INFINITY),
];

pub fn price_band(price: f64) -> &'static str {
    BANDS
        .iter()
        .find(|(_, below)| price < *below)
        .map_or(BANDS[BANDS.len() - 1].0, |(name, _)| name)
}

/// Monday (Unix day number) of the week of `day` (Unix day 0, 1970-01-01, was a Thursday).
pub fn week_of(day: i64) -> i64 {
    (day + 3).div_euclid(7) * 7 - 3
}

/// The category of searches made without one.
pub const NO_CATEGORY: &str = "(none)";

fn node(level: Level, category: &str, brand: &str, product: &str, band: &'static str) -> Node {
    Node {
        level,
        category: category.to_string(),
        brand: brand.to_string(),
        product: product.to_string(),
        band,
    }
}

/// The nodes an activity row counts in (the virtual total first).
fn nodes_of(
    a: &Activity,
    products: &HashMap<String, ProductFacts>,
) -> Option<(Measure, Vec<Node>)> {
    let measure = match a.kind {
        ActivityKind::Search => {
            let cat = a.category.as_deref().unwrap_or(NO_CATEGORY);
            return Some((
                Measure::Searches,
                vec![
                    node(Level::All, "", "", "", ""),
                    node(Level::Category, cat, "", "", ""),
                ],
            ));
        }
        ActivityKind::Click => Measure::Taps,
        ActivityKind::Purchase => Measure::Purchases,
    };
    // Events of products no longer in the catalogue are not reported.
    let p = products.get(&a.product_id)?;
    let band = price_band(p.price);
    Some((
        measure,
        vec![
            node(Level::All, "", "", "", ""),
            node(Level::Category, &p.category, "", "", ""),
            node(Level::PriceBand, &p.category, "", "", band),
            node(Level::Brand, &p.category, &p.brand, "", ""),
            node(Level::Product, &p.category, &p.brand, &p.id, band),
        ],
    ))
}

/// The parents of a node in the category tree, each with the partition of it the node is in
/// (a category is split by brand and, again, by price band; a product sits in both).
fn parents_of(n: &Node) -> Vec<(Node, u8)> {
    let cat = n.category.as_str();
    match n.level {
        Level::All => vec![],
        Level::Category => vec![(node(Level::All, "", "", "", ""), 0)],
        Level::PriceBand => vec![(node(Level::Category, cat, "", "", ""), 1)],
        Level::Brand => vec![(node(Level::Category, cat, "", "", ""), 2)],
        Level::Product => vec![
            (node(Level::Brand, cat, &n.brand, "", ""), 0),
            (node(Level::PriceBand, cat, "", "", n.band), 0),
        ],
    }
}

/// Builds every cell of `weeks` (Mondays) from `activity` and decides what may be published
/// with threshold `k`.
pub fn build(
    activity: &[Activity],
    products: &HashMap<String, ProductFacts>,
    weeks: &[i64],
    k: usize,
) -> Cells {
    // (measure, week) -> (bucket, node) -> (count, sessions, atoms)
    type Acc = HashMap<(Bucket, Node), (u64, Vec<u32>, Vec<u32>)>;
    // (measure, week) -> atom keys (day, product or category) and their sessions
    type AtomList = (
        Vec<(i64, String)>,
        HashMap<(i64, String), u32>,
        Vec<Vec<u32>>,
    );
    let mut by_component: BTreeMap<(Measure, i64), Acc> = BTreeMap::new();
    let mut atoms_of: BTreeMap<(Measure, i64), AtomList> = BTreeMap::new();
    let mut session_ids: HashMap<&str, u32> = HashMap::new();
    for a in activity {
        let week = week_of(a.day);
        if !weeks.contains(&week) {
            continue;
        }
        let Some((measure, nodes)) = nodes_of(a, products) else {
            continue;
        };
        let next = session_ids.len() as u32;
        let sid = *session_ids.entry(a.session.as_str()).or_insert(next);
        let what = nodes.last().map_or(String::new(), |n| {
            if n.level == Level::Product {
                n.product.clone()
            } else {
                n.category.clone()
            }
        });
        let (keys, ids, sessions) = atoms_of.entry((measure, week)).or_default();
        let atom = *ids.entry((a.day, what.clone())).or_insert_with(|| {
            keys.push((a.day, what));
            sessions.push(Vec::new());
            keys.len() as u32 - 1
        });
        sessions[atom as usize].push(sid);
        let acc = by_component.entry((measure, week)).or_default();
        for n in nodes {
            for bucket in [Bucket::Week(week), Bucket::Day(a.day)] {
                let e = acc.entry((bucket, n.clone())).or_default();
                e.0 += a.count;
                e.1.push(sid);
                e.2.push(atom);
            }
        }
    }
    let mut cells = Cells::new();
    for ((measure, week), acc) in by_component {
        let mut table = Table::default();
        let mut keys: Vec<(Bucket, Node)> = acc.keys().cloned().collect();
        keys.sort();
        let index: HashMap<(Bucket, Node), usize> = keys
            .iter()
            .map(|key| {
                let (_, sessions, _) = &acc[key];
                let i = table.add(sessions.clone(), key.1.level == Level::All);
                (key.clone(), i)
            })
            .collect();
        // parent -> partition -> children
        let mut groups: BTreeMap<(usize, u8), Vec<usize>> = BTreeMap::new();
        for (key, &i) in &index {
            let (bucket, n) = key;
            if let Bucket::Day(day) = bucket {
                let parent = index[&(Bucket::Week(week_of(*day)), n.clone())];
                groups.entry((parent, 9)).or_default().push(i);
            }
            for (p, partition) in parents_of(n) {
                let parent = index[&(*bucket, p)];
                groups.entry((parent, partition)).or_default().push(i);
            }
        }
        table.groups = groups
            .into_iter()
            .map(|((parent, _), mut children)| {
                children.sort_unstable();
                (parent, children)
            })
            .collect();
        let mut published = table.suppress(k);
        let (atom_keys, _, mut atom_sessions) =
            atoms_of.remove(&(measure, week)).unwrap_or_default();
        atom_sessions.iter_mut().for_each(|s| {
            s.sort_unstable();
            s.dedup();
        });
        let mut of_cell: Vec<Vec<u32>> = vec![Vec::new(); table.cells.len()];
        for (key, &i) in &index {
            let mut set = acc[key].2.clone();
            set.sort_unstable();
            set.dedup();
            of_cell[i] = set;
        }
        let sizes: Vec<usize> = table.cells.iter().map(|c| c.sessions.len()).collect();
        let atoms = Atoms {
            of_cell: &of_cell,
            sessions: &atom_sessions,
            keys: &atom_keys,
        };
        guard(&atoms, &sizes, &mut published, k);
        for (key, i) in index {
            let (count, _, _) = acc[&key];
            cells.insert(
                (measure, key.0, key.1),
                Figure {
                    count,
                    sessions: table.cells[i].sessions.len(),
                    published: published[i],
                },
            );
        }
    }
    cells
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn weeks_start_on_monday() {
        // 1970-01-05 (day 4) was a Monday; 2026-11-30 (day 20_787) too.
        assert_eq!(week_of(4), 4);
        assert_eq!(week_of(10), 4);
        assert_eq!(week_of(11), 11);
        assert_eq!(week_of(3), -3);
        assert_eq!(week_of(20_787), 20_787);
        assert_eq!(week_of(20_793), 20_787);
    }

    #[test]
    fn bands_cover_every_price() {
        assert_eq!(price_band(0.0), "under 25");
        assert_eq!(price_band(25.0), "25-50");
        assert_eq!(price_band(199.99), "100-200");
        assert_eq!(price_band(1e9), "200 and over");
    }
}
