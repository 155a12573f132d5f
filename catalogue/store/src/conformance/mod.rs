//! The store conformance suite: one behaviour, every store. Each case is written once, as a
//! function of a [`Backend`] (how to open a fresh store, and reopen it), and
//! [`store_conformance_suite!`](crate::store_conformance_suite) makes a `#[test]` of every
//! case for a backend. `tests/conformance.rs` runs it on the embedded store (a temp dir) and on
//! PostgreSQL + pgvector (a fresh database); another backend runs it the same way. The pattern
//! is matrix-rust-sdk's store integration tests (a feature of the store crate, `testing` there,
//! `conformance` here, enabled by the crate's own dev-dependency on itself).
//!
//! The cases, by trait: `products` ([`ProductIndex`](crate::ProductIndex)), `logs`
//! ([`EventLog`](crate::EventLog), [`SearchLog`](crate::SearchLog)), `keys`
//! ([`KeyStore`](crate::KeyStore)), `campaigns` and `clicks` ([`CampaignStore`](crate::CampaignStore)),
//! `trends` ([`TrendLog`](crate::TrendLog)), `store` ([`Store`]: stats, and everything across a
//! reopen).
//!
//! Filtered search is checked against [`passes`], the reference semantics, applied to an exact
//! scan: with [`N`] products the ANN searches (usearch HNSW at ef_search 512, pgvector HNSW at
//! 128) visit every node, so their answer must be the exact one.

pub mod campaigns;
pub mod clicks;
pub mod keys;
pub mod logs;
pub mod products;
pub mod store;
pub mod trends;

use std::collections::BTreeSet;

use shoplook_core::ModelContract;
use shoplook_core::wire::{Event, EventType, Product, Ranking, SearchFilters};

use crate::{KeyInfo, LoggedEvent, LoggedSearch, Role, SearchRecord, Store, passes};

/// Where one test's store lives. `open` may be called again: it reopens the same one.
pub trait Backend {
    fn open(&self) -> Box<dyn Store>;
}

/// Makes a module `$backend` with one `#[test]` per conformance case, each on a fresh store
/// from `$fresh`: an expression, resolved in the invoking module, that returns
/// `Option<impl Backend>` (`None` skips the case: a backend that is not available here).
///
/// ```ignore
/// shoplook_store::store_conformance_suite!(sqlite, SqliteDir::fresh);
/// ```
#[macro_export]
macro_rules! store_conformance_suite {
    ($backend:ident, $fresh:expr $(,)?) => {
        $crate::store_conformance_suite!(
            @cases $backend, $fresh,
            products::contract_is_set_once_and_others_are_refused,
            products::upsert_adds_then_updates,
            products::update_fields_keeps_the_vector,
            products::delete_removes_everywhere,
            products::ids_are_sorted,
            products::search_ranks_best_first_with_exact_scores,
            products::filtered_search_matches_passes_on_an_exact_scan,
            logs::events_are_scanned_in_order_from_a_cursor,
            logs::concurrent_events_are_each_scanned_once,
            logs::searches_are_logged_and_scanned_from_a_cursor,
            logs::duplicate_events_count_once,
            logs::purge_deletes_what_is_older_than_the_cutoff_only,
            keys::keys_are_found_by_hash,
            keys::keys_of_every_role_survive_a_reopen,
            keys::keys_have_unique_ids_and_are_listed,
            keys::a_revoked_key_is_refused_at_once_by_every_handle,
            store::stats_count_products_events_and_vectors,
            store::everything_persists_across_reopen,
            campaigns::campaigns_are_created_listed_and_paused,
            campaigns::live_campaigns_are_unpaused_in_flight_and_have_their_product,
            campaigns::clicks_are_charged_once_within_the_cap_and_the_budget,
            campaigns::concurrent_clicks_never_overspend,
            campaigns::ad_serves_are_counted_per_session_and_day,
            clicks::session_and_key_caps_bound_billable_clicks,
            clicks::concurrent_clicks_never_pass_the_key_cap,
            clicks::invalid_clicks_are_kept_once_per_reason_and_counted,
            trends::imported_logs_keep_their_dates_and_count_events_once,
            trends::trend_activity_counts_sessions_per_day,
            trends::query_vectors_follow_the_log_within_the_window,
            trends::product_facts_and_vectors_read_the_catalogue,
        );
    };
    (@cases $backend:ident, $fresh:expr, $($area:ident :: $case:ident),* $(,)?) => {
        mod $backend {
            // `$fresh` names things of the invoking module.
            #[allow(unused_imports)]
            use super::*;
            $(
                #[test]
                fn $case() {
                    if let Some(backend) = ($fresh)() {
                        $crate::conformance::$area::$case(&backend);
                    }
                }
            )*
        }
    };
}

/// Dimension of the test catalogue's vectors.
pub const DIM: usize = 32;
/// Products in the test catalogue.
pub const N: usize = 60;
/// Score tolerance: stores compute the cosine in f32, in their own summation order.
pub const TOL: f32 = 1e-4;

// ---------------------------------------------------------------------------------------
// The test catalogue

pub fn contract() -> ModelContract {
    ModelContract {
        id: "conformance".into(),
        version: "1".into(),
        dim: DIM,
    }
}

/// Seeded pseudo-random unit vector (xorshift), different per `seed`.
pub fn unit(seed: u64) -> Vec<f32> {
    let mut x = seed.wrapping_mul(0x9E37_79B9_7F4A_7C15) | 1;
    let mut v: Vec<f32> = (0..DIM)
        .map(|_| {
            x ^= x << 13;
            x ^= x >> 7;
            x ^= x << 17;
            (x >> 40) as f32 / (1u64 << 24) as f32 - 0.5
        })
        .collect();
    let n = v.iter().map(|a| a * a).sum::<f32>().sqrt();
    v.iter_mut().for_each(|a| *a /= n);
    v
}

pub fn dot(a: &[f32], b: &[f32]) -> f32 {
    a.iter().zip(b).map(|(x, y)| x * y).sum()
}

/// Product `i`: three categories (one capitalised), five brands (two spellings of Acme, one
/// non-ASCII), prices 0..147.5 in steps of 2.5 (50.0 is product 20), every 4th out of stock.
pub fn product(i: usize) -> Product {
    Product {
        id: format!("p{i:02}"),
        title: format!("Product {i}"),
        brand: ["Acme", "zeta", "Nova", "ACME", "Élan"][i % 5].into(),
        price: i as f64 * 2.5,
        currency: "EUR".into(),
        category: ["shoes", "Bags", "shirts"][i % 3].into(),
        image: format!("images/{i}.jpg"),
        url: format!("https://example.com/p/{i}"),
        in_stock: !i.is_multiple_of(4),
    }
}

pub fn vector(i: usize) -> Vec<f32> {
    unit(i as u64 + 1)
}

pub fn hash(i: usize) -> String {
    format!("hash-{i}")
}

/// A store holding the `N` test products.
pub fn filled(backend: &dyn Backend) -> Box<dyn Store> {
    let store = backend.open();
    store.ensure_contract(&contract()).unwrap();
    for i in 0..N {
        store.upsert(&product(i), &hash(i), &vector(i)).unwrap();
    }
    store
}

/// The exact answer: every product that `passes`, best first, as (id, score).
pub fn exact(query: &[f32], category: Option<&str>, f: &SearchFilters) -> Vec<(String, f32)> {
    let mut all: Vec<(String, f32)> = (0..N)
        .filter(|&i| passes(&product(i), category, f))
        .map(|i| (product(i).id, dot(query, &vector(i))))
        .collect();
    all.sort_by(|a, b| b.1.total_cmp(&a.1));
    all
}

pub fn ids(hits: &[(Product, f32)]) -> BTreeSet<String> {
    hits.iter().map(|(p, _)| p.id.clone()).collect()
}

pub fn assert_scores_match(got: &[(Product, f32)], want: &[(String, f32)], what: &str) {
    assert_eq!(got.len(), want.len(), "{what}: number of results");
    for (r, ((p, s), (_, w))) in got.iter().zip(want).enumerate() {
        assert!(
            (s - w).abs() < TOL,
            "{what}: result {r} ({}) scores {s}, the exact rank {r} scores {w}",
            p.id
        );
    }
}

pub fn event(i: usize) -> Event {
    Event {
        kind: [EventType::Impression, EventType::Click, EventType::Purchase][i % 3],
        product_id: format!("p{:02}", i % N),
        query_id: i.is_multiple_of(2).then(|| format!("q{i}")),
        position: i.is_multiple_of(4).then_some(i as u32 % 10 + 1),
        session_id: i.is_multiple_of(3).then(|| format!("session-{i:04}")),
    }
}

pub fn search_record(i: usize) -> SearchRecord {
    SearchRecord {
        query_id: format!("query-{i}"),
        key_name: ["app-android", "app-ios"][i % 2].into(),
        session_id: (!i.is_multiple_of(3)).then(|| format!("sess-{:04}", i / 2)),
        category: i.is_multiple_of(2).then(|| "shoes".to_string()),
        ranking: [Ranking::Visual, Ranking::Learned][i % 2],
        embedding: vector(i),
        shown: (0..(i % 5)).map(|j| product(i + j).id).collect(),
    }
}

pub fn scan_searches(store: &dyn Store, page: usize) -> Vec<LoggedSearch> {
    let mut out: Vec<LoggedSearch> = Vec::new();
    loop {
        let after = out.last().map_or(0, |e| e.seq);
        let got = store.searches_since(after, page).unwrap();
        assert!(got.len() <= page);
        if got.is_empty() {
            return out;
        }
        out.extend(got);
    }
}

/// Waits until the store's clock (whole seconds) has passed `t`.
pub fn wait_past(t: i64) {
    while crate::now_s() <= t {
        std::thread::sleep(std::time::Duration::from_millis(50));
    }
}

pub fn scan_all(store: &dyn Store, page: usize) -> Vec<LoggedEvent> {
    let mut out: Vec<LoggedEvent> = Vec::new();
    loop {
        let after = out.last().map_or(0, |e| e.seq);
        let got = store.events_since(after, page).unwrap();
        assert!(got.len() <= page, "limit {page} returned {}", got.len());
        if got.is_empty() {
            return out;
        }
        out.extend(got);
    }
}

/// A found key's name and role (its id is checked apart: the store makes it).
pub fn named(found: Option<KeyInfo>) -> Option<(String, Role)> {
    found.map(|k| (k.name, k.role))
}

/// `Some((name, role))`, to compare with [`named`].
pub fn key(name: &str, role: Role) -> Option<(String, Role)> {
    Some((name.into(), role))
}
