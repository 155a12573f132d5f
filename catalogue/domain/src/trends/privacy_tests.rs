//! Attacks on the suppression: each test plays a reader who has the published cells (of
//! every report at once: the decisions do not depend on the request) and tries to learn a
//! figure that counts fewer than `k` sessions.
//!
//! The strongest attacker here is linear algebra: every cell is a sum of atoms (one product on
//! one day); whatever is a linear combination of the published cells is known. For random weeks of traffic, no
//! cell, atom or pair of atoms with 1..k-1 sessions may be such a combination.

use std::collections::{BTreeMap, BTreeSet, HashMap};

use super::*;
use crate::store::trends::{Activity, ActivityKind, ProductFacts};
use crate::trends::cells::{self, Bucket, Level, Measure, Node, week_of};
use crate::trends::demo::Rng;

const K: usize = 20;

fn table(children: &[usize]) -> (Table, Vec<usize>) {
    let mut t = Table::default();
    let mut next = 0u32;
    let mut all = Vec::new();
    let mut ids = Vec::new();
    let mut kids = Vec::new();
    for &n in children {
        let s: Vec<u32> = (next..next + n as u32).collect();
        next += n as u32;
        all.extend(s.iter().copied());
        kids.push(s);
    }
    let parent = t.add(all, false);
    for s in kids {
        ids.push(t.add(s, false));
    }
    t.groups.push((parent, ids.clone()));
    ids.insert(0, parent);
    (t, ids)
}

#[test]
fn a_cell_of_k_minus_1_sessions_is_never_published() {
    let (t, ids) = table(&[K - 1]);
    let p = t.suppress(K);
    // Parent and child are the same 19 sessions: both hidden.
    assert!(!p[ids[0]] && !p[ids[1]]);
    let (t, ids) = table(&[K, K - 1, K + 5]);
    let p = t.suppress(K);
    assert!(!p[ids[2]], "19 sessions published");
}

#[test]
fn a_total_minus_the_published_cells_gives_nothing_below_k() {
    // Total 60 sessions = 30 + 25 + 5: hiding only the 5 would let total - 30 - 25 = the 5.
    let (t, ids) = table(&[30, 25, 5]);
    let p = t.suppress(K);
    assert!(p[ids[0]] && p[ids[1]], "total and the largest cell stay");
    assert!(
        !p[ids[2]] && !p[ids[3]],
        "the 5 and its complement are hidden"
    );
    // Two small cells together still below k: a third is hidden with them.
    let (t, ids) = table(&[40, 30, 6, 7]);
    let p = t.suppress(K);
    assert_eq!(
        (p[ids[1]], p[ids[2]], p[ids[3]], p[ids[4]]),
        (true, false, false, false)
    );
}

#[test]
fn a_total_of_fewer_than_k_sessions_hides_everything_under_it() {
    let mut t = Table::default();
    let total = t.add_known_total((0..15).collect());
    let a = t.add((0..8).collect(), false);
    let b = t.add((8..15).collect(), false);
    t.groups.push((total, vec![a, b]));
    assert_eq!(t.suppress(K), vec![false, false, false]);
}

/// Exact rank of rows over the rationals, by elimination in f64 on 0/1 rows (small: exact
/// enough, pivots are checked against a tolerance).
fn rank(rows: &[Vec<f64>]) -> usize {
    let mut m: Vec<Vec<f64>> = rows.to_vec();
    let cols = m.first().map_or(0, Vec::len);
    let mut r = 0;
    for c in 0..cols {
        let Some(p) = (r..m.len()).max_by(|&a, &b| m[a][c].abs().total_cmp(&m[b][c].abs())) else {
            break;
        };
        if m[p][c].abs() < 1e-9 {
            continue;
        }
        m.swap(r, p);
        for i in 0..m.len() {
            if i != r {
                let f = m[i][c] / m[r][c];
                if f != 0.0 {
                    let pivot_row = m[r].clone();
                    for (x, p) in m[i][c..cols].iter_mut().zip(&pivot_row[c..cols]) {
                        *x -= f * p;
                    }
                }
            }
        }
        r += 1;
    }
    r
}

struct Instance {
    activity: Vec<Activity>,
    products: HashMap<String, ProductFacts>,
    week: i64,
}

/// A random week: products in 2 categories and 3 brands, sessions tapping a skewed choice of
/// products on random days, so cells land on both sides of `k`.
fn instance(seed: u64) -> Instance {
    let mut rng = Rng::new(seed);
    let week = week_of(20_787);
    let n_products = 4 + rng.below(5);
    let products: HashMap<String, ProductFacts> = (0..n_products)
        .map(|i| {
            let p = ProductFacts {
                id: format!("p{i}"),
                title: format!("P{i}"),
                brand: format!("b{}", rng.below(3)),
                category: format!("c{}", rng.below(2)),
                price: [10.0, 30.0, 80.0][rng.below(3)],
                image: String::new(),
                in_stock: true,
            };
            (p.id.clone(), p)
        })
        .collect();
    let mut activity = Vec::new();
    let sessions = 30 + rng.below(90);
    for s in 0..sessions {
        let day = week + rng.below(7) as i64;
        for _ in 0..1 + rng.below(3) {
            // Skewed: low-numbered products are popular.
            let i = (rng.unit().powi(2) * n_products as f64) as usize;
            activity.push(Activity {
                day,
                kind: ActivityKind::Click,
                product_id: format!("p{i}"),
                category: None,
                session: format!("s{s}"),
                count: 1 + rng.below(2) as u64,
            });
        }
    }
    activity.sort();
    Instance {
        activity,
        products,
        week,
    }
}

/// The atoms (day, product) of a cell.
fn atoms_of(b: &Bucket, n: &Node, inst: &Instance) -> BTreeSet<(i64, String)> {
    let days: Vec<i64> = match b {
        Bucket::Week(w) => (*w..w + 7).collect(),
        Bucket::Day(d) => vec![*d],
    };
    let mut out = BTreeSet::new();
    for p in inst.products.values() {
        let inside = match n.level {
            Level::All => true,
            Level::Category => p.category == n.category,
            Level::PriceBand => p.category == n.category && cells::price_band(p.price) == n.band,
            Level::Brand => p.category == n.category && p.brand == n.brand,
            Level::Product => p.id == n.product,
        };
        if inside {
            for d in &days {
                out.insert((*d, p.id.clone()));
            }
        }
    }
    out
}

#[test]
fn no_linear_combination_of_published_cells_reveals_fewer_than_k_sessions() {
    let k = 10;
    let mut checked = 0;
    let mut published_total = 0;
    let mut cells_total = 0;
    for seed in 0..120 {
        let inst = instance(seed);
        let cells = cells::build(&inst.activity, &inst.products, &[inst.week], k);
        // Sessions of each atom.
        let mut atom_sessions: BTreeMap<(i64, String), BTreeSet<&str>> = BTreeMap::new();
        for a in &inst.activity {
            atom_sessions
                .entry((a.day, a.product_id.clone()))
                .or_default()
                .insert(&a.session);
        }
        let atoms: Vec<&(i64, String)> = atom_sessions.keys().collect();
        let index: HashMap<&(i64, String), usize> =
            atoms.iter().enumerate().map(|(i, a)| (*a, i)).collect();
        let vector = |set: &BTreeSet<(i64, String)>| -> Vec<f64> {
            let mut v = vec![0.0; atoms.len()];
            for a in set {
                if let Some(&i) = index.get(a) {
                    v[i] = 1.0;
                }
            }
            v
        };
        let sessions = |set: &BTreeSet<(i64, String)>| -> usize {
            set.iter()
                .filter_map(|a| atom_sessions.get(a))
                .flat_map(|s| s.iter())
                .collect::<BTreeSet<_>>()
                .len()
        };
        // What the attacker has: every published cell.
        let mut known: Vec<Vec<f64>> = Vec::new();
        let mut targets: Vec<BTreeSet<(i64, String)>> = Vec::new();
        for ((m, b, n), f) in &cells {
            assert_eq!(*m, Measure::Taps);
            let set = atoms_of(b, n, &inst);
            cells_total += usize::from(f.sessions >= k);
            if f.published {
                known.push(vector(&set));
                published_total += 1;
                assert!(f.sessions >= k, "published cell below k: {b:?} {n:?}");
            } else {
                targets.push(set);
            }
        }
        for a in &atoms {
            targets.push(BTreeSet::from([(*a).clone()]));
        }
        for (i, a) in atoms.iter().enumerate() {
            for b in &atoms[i + 1..] {
                if a.0 == b.0 || a.1 == b.1 {
                    targets.push(BTreeSet::from([(*a).clone(), (*b).clone()]));
                }
            }
        }
        let base = rank(&known);
        for t in targets {
            let s = sessions(&t);
            if s == 0 || s >= k {
                continue;
            }
            let mut with = known.clone();
            with.push(vector(&t));
            checked += 1;
            // Computable iff adding it leaves the rank unchanged.
            assert_eq!(
                rank(&with),
                base + 1,
                "seed {seed}: {t:?} ({s} sessions) is computable from the published cells"
            );
        }
    }
    eprintln!(
        "{checked} small figures checked; {published_total} of {cells_total} cells published"
    );
    // Not by publishing nothing: a good share of the cells remain.
    assert!(checked > 1000, "{checked}");
    assert!(
        published_total * 5 > cells_total,
        "{published_total} of {cells_total}"
    );
}

#[test]
fn a_week_is_decided_alone_so_reports_at_different_times_agree() {
    let inst = instance(3);
    let mut activity = inst.activity.clone();
    // The week before, with other traffic.
    for a in instance(4).activity {
        activity.push(Activity {
            day: a.day - 7,
            ..a
        });
    }
    activity.sort();
    let alone = cells::build(&activity, &inst.products, &[inst.week], K);
    let both = cells::build(&activity, &inst.products, &[inst.week - 7, inst.week], K);
    for (key, f) in &alone {
        assert_eq!(both.get(key), Some(f), "{key:?}");
    }
}
