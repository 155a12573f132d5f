//! One behaviour, every store: each case below is written once, as a function of a
//! [`Backend`], and `conformance_suite!` runs every case in-process against the embedded store
//! (`sqlite::*`, a temp dir) and PostgreSQL + pgvector (`postgres::*`, a fresh database on the
//! server of `SHOPLOOK_TEST_PG_URL`; skipped with a message when it is unset, a failure when
//! `CI` is set). The pattern is matrix-rust-sdk's store integration tests.
//!
//! Filtered search is checked against `store::passes`, the reference semantics, applied to an
//! exact scan: with 60 products the ANN searches (usearch HNSW at ef_search 512, pgvector HNSW
//! at 128) visit every node, so their answer must be the exact one.

use std::collections::BTreeSet;
use std::path::PathBuf;

use shoplook_core::ModelContract;
use shoplook_core::wire::{Event, EventType, Product, Ranking, SearchFilters};
use shoplook_store::CatError;
use shoplook_store::postgres::PgStore;
use shoplook_store::searches::{DEFAULT_RETENTION_DAYS, purge_older_than};
use shoplook_store::sqlite::{DEFAULT_QUANTIZATION, SqliteStore};
use shoplook_store::{
    KeyInfo, LoggedEvent, LoggedSearch, Purged, Role, SearchRecord, Store, Upserted, passes,
};

const DIM: usize = 32;
/// Products in the test catalogue.
const N: usize = 60;
/// Score tolerance: stores compute the cosine in f32, in their own summation order.
const TOL: f32 = 1e-4;

/// Where one test's catalogue lives. `open` may be called again: it reopens the same one.
trait Backend {
    fn open(&self) -> Box<dyn Store>;
}

struct SqliteDir(PathBuf);

impl SqliteDir {
    fn fresh() -> Option<Self> {
        let dir = std::env::temp_dir().join(format!(
            "shoplook-conformance-{}",
            shoplook_store::random_hex(6)
        ));
        Some(SqliteDir(dir))
    }
}

impl Backend for SqliteDir {
    fn open(&self) -> Box<dyn Store> {
        Box::new(SqliteStore::open(&self.0, DEFAULT_QUANTIZATION).expect("sqlite store opens"))
    }
}

impl Drop for SqliteDir {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

struct PgDatabase {
    server: String,
    name: String,
    url: String,
}

impl PgDatabase {
    /// A fresh database on the test server (as `tests/common`'s `Backend::postgres`).
    fn fresh() -> Option<Self> {
        let Ok(server) = std::env::var("SHOPLOOK_TEST_PG_URL") else {
            if std::env::var_os("CI").is_some() {
                panic!(
                    "SHOPLOOK_TEST_PG_URL is not set: CI must run the store conformance suite \
                     against a real PostgreSQL + pgvector (scripts/test-catalogue.sh starts one)"
                );
            }
            eprintln!(
                "SHOPLOOK_TEST_PG_URL not set: PostgreSQL conformance test skipped \
                 (run scripts/test-catalogue.sh)"
            );
            return None;
        };
        let (base, _) = server.rsplit_once('/').expect("URL with a database name");
        let name = format!("conf_{}", shoplook_store::random_hex(6));
        let admin = PgStore::open(&server, None).expect("the test PostgreSQL answers");
        // A UTF-8 locale, as production servers have (the test server's default is C): under
        // it `lower()` folds non-ASCII letters too, which `passes` does not.
        admin
            .execute(&format!(
                "CREATE DATABASE {name} TEMPLATE template0 ENCODING 'UTF8' \
                 LOCALE_PROVIDER builtin BUILTIN_LOCALE 'C.UTF-8'"
            ))
            .or_else(|e| {
                eprintln!("no builtin C.UTF-8 locale (PostgreSQL < 17?): {e}; default locale");
                admin.execute(&format!("CREATE DATABASE {name}"))
            })
            .expect("create a test database");
        let url = format!("{base}/{name}");
        Some(PgDatabase { server, name, url })
    }
}

impl Backend for PgDatabase {
    fn open(&self) -> Box<dyn Store> {
        Box::new(PgStore::open(&self.url, None).expect("postgres store opens"))
    }
}

impl Drop for PgDatabase {
    fn drop(&mut self) {
        if let Ok(admin) = PgStore::open(&self.server, None) {
            let _ = admin.execute(&format!(
                "DROP DATABASE IF EXISTS {} WITH (FORCE)",
                self.name
            ));
        }
    }
}

/// Runs every case against every store: `sqlite::CASE` and `postgres::CASE`.
macro_rules! conformance_suite {
    ($($case:ident),* $(,)?) => {
        mod sqlite {
            $(
                #[test]
                fn $case() {
                    if let Some(backend) = super::SqliteDir::fresh() {
                        super::$case(&backend);
                    }
                }
            )*
        }
        mod postgres {
            $(
                #[test]
                fn $case() {
                    if let Some(backend) = super::PgDatabase::fresh() {
                        super::$case(&backend);
                    }
                }
            )*
        }
    };
}

conformance_suite!(
    contract_is_set_once_and_others_are_refused,
    upsert_adds_then_updates,
    update_fields_keeps_the_vector,
    delete_removes_everywhere,
    ids_are_sorted,
    search_ranks_best_first_with_exact_scores,
    filtered_search_matches_passes_on_an_exact_scan,
    events_are_scanned_in_order_from_a_cursor,
    concurrent_events_are_each_scanned_once,
    keys_are_found_by_hash,
    stats_count_products_events_and_vectors,
    everything_persists_across_reopen,
    searches_are_logged_and_scanned_from_a_cursor,
    duplicate_events_count_once,
    purge_deletes_what_is_older_than_the_cutoff_only,
);

// ---------------------------------------------------------------------------------------
// The test catalogue

fn contract() -> ModelContract {
    ModelContract {
        id: "conformance".into(),
        version: "1".into(),
        dim: DIM,
    }
}

/// Seeded pseudo-random unit vector (xorshift), different per `seed`.
fn unit(seed: u64) -> Vec<f32> {
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

fn dot(a: &[f32], b: &[f32]) -> f32 {
    a.iter().zip(b).map(|(x, y)| x * y).sum()
}

/// Product `i`: three categories (one capitalised), five brands (two spellings of Acme, one
/// non-ASCII), prices 0..147.5 in steps of 2.5 (50.0 is product 20), every 4th out of stock.
fn product(i: usize) -> Product {
    Product {
        id: format!("p{i:02}"),
        title: format!("Product {i}"),
        brand: ["Acme", "zeta", "Nova", "ACME", "Élan"][i % 5].into(),
        price: i as f64 * 2.5,
        currency: "EUR".into(),
        category: ["shoes", "Bags", "shirts"][i % 3].into(),
        image: format!("images/{i}.jpg"),
        url: format!("https://example.com/p/{i}"),
        in_stock: i % 4 != 0,
    }
}

fn vector(i: usize) -> Vec<f32> {
    unit(i as u64 + 1)
}

fn hash(i: usize) -> String {
    format!("hash-{i}")
}

/// A store holding the `N` test products.
fn filled(backend: &dyn Backend) -> Box<dyn Store> {
    let store = backend.open();
    store.ensure_contract(&contract()).unwrap();
    for i in 0..N {
        store.upsert(&product(i), &hash(i), &vector(i)).unwrap();
    }
    store
}

/// The exact answer: every product that `passes`, best first, as (id, score).
fn exact(query: &[f32], category: Option<&str>, f: &SearchFilters) -> Vec<(String, f32)> {
    let mut all: Vec<(String, f32)> = (0..N)
        .filter(|&i| passes(&product(i), category, f))
        .map(|i| (product(i).id, dot(query, &vector(i))))
        .collect();
    all.sort_by(|a, b| b.1.total_cmp(&a.1));
    all
}

fn ids(hits: &[(Product, f32)]) -> BTreeSet<String> {
    hits.iter().map(|(p, _)| p.id.clone()).collect()
}

fn assert_scores_match(got: &[(Product, f32)], want: &[(String, f32)], what: &str) {
    assert_eq!(got.len(), want.len(), "{what}: number of results");
    for (r, ((p, s), (_, w))) in got.iter().zip(want).enumerate() {
        assert!(
            (s - w).abs() < TOL,
            "{what}: result {r} ({}) scores {s}, the exact rank {r} scores {w}",
            p.id
        );
    }
}

fn event(i: usize) -> Event {
    Event {
        kind: [EventType::Impression, EventType::Click, EventType::Purchase][i % 3],
        product_id: format!("p{:02}", i % N),
        query_id: (i % 2 == 0).then(|| format!("q{i}")),
        position: (i % 4 == 0).then_some(i as u32 % 10 + 1),
        session_id: (i % 3 == 0).then(|| format!("session-{i:04}")),
    }
}

fn search_record(i: usize) -> SearchRecord {
    SearchRecord {
        query_id: format!("query-{i}"),
        key_name: ["app-android", "app-ios"][i % 2].into(),
        session_id: (i % 3 != 0).then(|| format!("sess-{:04}", i / 2)),
        category: (i % 2 == 0).then(|| "shoes".to_string()),
        ranking: [Ranking::Visual, Ranking::Learned][i % 2],
        embedding: vector(i),
        shown: (0..(i % 5)).map(|j| product(i + j).id).collect(),
    }
}

fn scan_searches(store: &dyn Store, page: usize) -> Vec<LoggedSearch> {
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
fn wait_past(t: i64) {
    while shoplook_store::now_s() <= t {
        std::thread::sleep(std::time::Duration::from_millis(50));
    }
}

fn scan_all(store: &dyn Store, page: usize) -> Vec<LoggedEvent> {
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

// ---------------------------------------------------------------------------------------
// The cases

fn contract_is_set_once_and_others_are_refused(backend: &dyn Backend) {
    let store = backend.open();
    assert_eq!(store.contract().unwrap(), None);
    assert_eq!(store.get("p00").unwrap(), None);
    assert!(store.ids().unwrap().is_empty());
    let nothing = store
        .search(&vector(0), 5, None, &SearchFilters::default())
        .unwrap();
    assert!(nothing.is_empty(), "an empty catalogue finds nothing");

    store.ensure_contract(&contract()).unwrap();
    assert_eq!(store.contract().unwrap(), Some(contract()));
    store.ensure_contract(&contract()).unwrap();

    let other_dim = ModelContract {
        dim: DIM * 2,
        ..contract()
    };
    let other_model = ModelContract {
        id: "another-model".into(),
        ..contract()
    };
    let other_version = ModelContract {
        version: "2".into(),
        ..contract()
    };
    for other in [other_dim, other_model, other_version] {
        match store.ensure_contract(&other) {
            Err(CatError::Contract(_)) => {}
            r => panic!("{other} accepted by a {} catalogue: {r:?}", contract()),
        }
    }
    assert_eq!(store.contract().unwrap(), Some(contract()));
    drop(store);

    let store = backend.open();
    assert_eq!(store.contract().unwrap(), Some(contract()));
    assert!(matches!(
        store.ensure_contract(&ModelContract {
            dim: 16,
            ..contract()
        }),
        Err(CatError::Contract(_))
    ));
}

fn upsert_adds_then_updates(backend: &dyn Backend) {
    let store = backend.open();
    store.ensure_contract(&contract()).unwrap();
    let p = product(7);
    assert_eq!(store.upsert(&p, "h1", &vector(7)).unwrap(), Upserted::Added);
    let got = store.get(&p.id).unwrap().expect("stored");
    assert_eq!(got.product, p);
    assert_eq!(got.content_hash, "h1");

    let changed = Product {
        title: "New title".into(),
        price: 12.5,
        in_stock: false,
        ..p.clone()
    };
    assert_eq!(
        store.upsert(&changed, "h2", &vector(8)).unwrap(),
        Upserted::Updated
    );
    let got = store.get(&p.id).unwrap().expect("still stored");
    assert_eq!(got.product, changed);
    assert_eq!(got.content_hash, "h2");
    assert_eq!(store.ids().unwrap(), vec![p.id.clone()]);

    // The new vector replaced the old one.
    let hits = store
        .search(&vector(8), 1, None, &SearchFilters::default())
        .unwrap();
    assert_eq!(hits.len(), 1);
    assert_eq!(hits[0].0, changed);
    assert!((hits[0].1 - 1.0).abs() < TOL, "score {}", hits[0].1);
    let old = store
        .search(&vector(7), 1, None, &SearchFilters::default())
        .unwrap();
    assert!((old[0].1 - dot(&vector(7), &vector(8))).abs() < TOL);
}

fn update_fields_keeps_the_vector(backend: &dyn Backend) {
    let store = filled(backend);
    let before = store.get("p05").unwrap().unwrap();
    let changed = Product {
        title: "Renamed".into(),
        brand: "Newbrand".into(),
        price: 999.0,
        category: "hats".into(),
        in_stock: false,
        ..product(5)
    };
    store.update_fields(&changed).unwrap();
    let after = store.get("p05").unwrap().unwrap();
    assert_eq!(after.product, changed);
    assert_eq!(after.content_hash, before.content_hash, "hash untouched");

    let hits = store
        .search(&vector(5), 1, None, &SearchFilters::default())
        .unwrap();
    assert_eq!(hits[0].0, changed, "the vector is still the product's");
    assert!((hits[0].1 - 1.0).abs() < TOL);
    // The filters see the new fields at once.
    let in_hats = store
        .search(&vector(5), 5, Some("hats"), &SearchFilters::default())
        .unwrap();
    assert_eq!(ids(&in_hats), BTreeSet::from(["p05".to_string()]));
    let old_category = store
        .search(
            &vector(5),
            N,
            Some(product(5).category.as_str()),
            &SearchFilters::default(),
        )
        .unwrap();
    assert!(!ids(&old_category).contains("p05"));
    let by_brand = SearchFilters {
        brand: Some("NEWBRAND".into()),
        ..Default::default()
    };
    assert_eq!(
        ids(&store.search(&vector(0), 5, None, &by_brand).unwrap()),
        BTreeSet::from(["p05".to_string()])
    );

    match store.update_fields(&Product {
        id: "missing".into(),
        ..product(1)
    }) {
        Err(CatError::NotFound(id)) => assert_eq!(id, "missing"),
        r => panic!("update of a missing product: {r:?}"),
    }
}

fn delete_removes_everywhere(backend: &dyn Backend) {
    let store = filled(backend);
    assert!(store.delete("p10").unwrap());
    assert!(!store.delete("p10").unwrap(), "second delete finds nothing");
    assert!(!store.delete("never-there").unwrap());
    assert_eq!(store.get("p10").unwrap(), None);
    let ids_now = store.ids().unwrap();
    assert_eq!(ids_now.len(), N - 1);
    assert!(!ids_now.contains(&"p10".to_string()));
    let hits = store
        .search(&vector(10), N, None, &SearchFilters::default())
        .unwrap();
    assert_eq!(hits.len(), N - 1);
    assert!(!ids(&hits).contains("p10"));
    let s = store.stats().unwrap();
    assert_eq!((s.products, s.index_size), (N as u64 - 1, N as u64 - 1));
    // The id can come back.
    assert_eq!(
        store.upsert(&product(10), &hash(10), &vector(10)).unwrap(),
        Upserted::Added
    );
    let hits = store
        .search(&vector(10), 1, None, &SearchFilters::default())
        .unwrap();
    assert_eq!(hits[0].0.id, "p10");
}

fn ids_are_sorted(backend: &dyn Backend) {
    let store = backend.open();
    store.ensure_contract(&contract()).unwrap();
    for i in [31, 2, 17, 40, 9] {
        store.upsert(&product(i), &hash(i), &vector(i)).unwrap();
    }
    assert_eq!(store.ids().unwrap(), ["p02", "p09", "p17", "p31", "p40"]);
}

fn search_ranks_best_first_with_exact_scores(backend: &dyn Backend) {
    let store = filled(backend);
    let none = SearchFilters::default();
    // A stored vector finds its own product first, with cosine 1.
    for i in (0..N).step_by(7) {
        let hits = store.search(&vector(i), 3, None, &none).unwrap();
        assert_eq!(hits[0].0, product(i), "query {i}");
        assert!((hits[0].1 - 1.0).abs() < TOL, "query {i}: {}", hits[0].1);
    }
    // Other queries: the k best, best first, with exact scores.
    for q in 0..20 {
        let query = unit(10_000 + q);
        let want = exact(&query, None, &none);
        for k in [1, 5, 10, N, N + 40] {
            let hits = store.search(&query, k, None, &none).unwrap();
            assert!(
                hits.windows(2).all(|w| w[0].1 >= w[1].1),
                "query {q} k {k}: not best first"
            );
            for (p, s) in &hits {
                let i: usize = p.id[1..].parse().unwrap();
                assert!(
                    (s - dot(&query, &vector(i))).abs() < TOL,
                    "score of {}",
                    p.id
                );
                assert_eq!(*p, product(i), "the product's fields");
            }
            assert_scores_match(&hits, &want[..k.min(N)], &format!("query {q} k {k}"));
        }
    }
}

fn filtered_search_matches_passes_on_an_exact_scan(backend: &dyn Backend) {
    let store = filled(backend);
    let categories = [None, Some("shoes"), Some("BAGS"), Some("hats")];
    let max_prices = [None, Some(50.0), Some(0.0), Some(-1.0)];
    let min_prices = [None, Some(50.0), Some(140.0)];
    let brands = [
        None,
        Some("acme"),
        Some("Nova"),
        Some("ÉLAN"),
        Some("élan"),
        Some("nobody"),
    ];
    let in_stock = [None, Some(true), Some(false)];
    let (mut combos, mut empty, mut all) = (0, 0, 0);
    for category in categories {
        for max_price in max_prices {
            for min_price in min_prices {
                for brand in brands {
                    for stock in in_stock {
                        let f = SearchFilters {
                            max_price,
                            min_price,
                            brand: brand.map(String::from),
                            in_stock: stock,
                        };
                        let what = format!("category {category:?}, {f:?}");
                        let query = unit(20_000 + combos);
                        let want = exact(&query, category, &f);
                        // k >= matches: exactly the products that pass.
                        let hits = store.search(&query, N, category, &f).unwrap();
                        let want_ids: BTreeSet<String> =
                            want.iter().map(|(id, _)| id.clone()).collect();
                        assert_eq!(ids(&hits), want_ids, "{what}");
                        assert_scores_match(&hits, &want, &what);
                        // k < matches: the best k of them.
                        let hits = store.search(&query, 3, category, &f).unwrap();
                        assert_scores_match(&hits, &want[..want.len().min(3)], &what);
                        combos += 1;
                        empty += usize::from(want.is_empty());
                        all += usize::from(want.len() == N);
                    }
                }
            }
        }
    }
    // The table exercises both ends.
    assert!(
        empty > 100 && all >= 1,
        "{combos} combos, {empty} empty, {all} all"
    );
}

fn events_are_scanned_in_order_from_a_cursor(backend: &dyn Backend) {
    let store = backend.open();
    assert!(store.events_since(0, 10).unwrap().is_empty());
    let t0 = shoplook_store::now_s();
    for i in 0..25 {
        let key = if i % 3 == 0 { "app-android" } else { "app-ios" };
        store.record_event(&event(i), key).unwrap();
    }
    let t1 = shoplook_store::now_s();

    let logged = store.events_since(0, 1000).unwrap();
    assert_eq!(logged.len(), 25);
    for (i, e) in logged.iter().enumerate() {
        assert_eq!(e.event, event(i), "event {i} as recorded");
        let key = if i % 3 == 0 { "app-android" } else { "app-ios" };
        assert_eq!(e.key_name, key);
        assert!(
            e.at >= t0 - 1 && e.at <= t1 + 1,
            "at {} not in {t0}..={t1}",
            e.at
        );
    }
    assert!(
        logged.windows(2).all(|w| w[0].seq < w[1].seq),
        "seq increases: {:?}",
        logged.iter().map(|e| e.seq).collect::<Vec<_>>()
    );
    assert!(logged[0].seq > 0, "0 is the cursor before the first event");

    // The cursor is exclusive and the limit is kept.
    let page = store.events_since(logged[9].seq, 5).unwrap();
    assert_eq!(page, logged[10..15].to_vec());
    assert_eq!(store.events_since(0, 1).unwrap(), logged[..1].to_vec());
    assert!(store.events_since(0, 0).unwrap().is_empty(), "limit 0");
    assert_eq!(store.events_since(0, usize::MAX).unwrap(), logged);
    // Paging through gives the same log.
    assert_eq!(scan_all(store.as_ref(), 7), logged);
    // At and past the end: nothing.
    assert!(store.events_since(logged[24].seq, 10).unwrap().is_empty());
    assert!(store.events_since(u64::MAX, 10).unwrap().is_empty());
    assert!(
        store
            .events_since(i64::MAX as u64 + 1, 10)
            .unwrap()
            .is_empty()
    );

    // Appending continues after the cursor.
    store.record_event(&event(25), "late").unwrap();
    let more = store.events_since(logged[24].seq, 10).unwrap();
    assert_eq!(more.len(), 1);
    assert_eq!(
        (&more[0].event, more[0].key_name.as_str()),
        (&event(25), "late")
    );
    assert_eq!(store.stats().unwrap().events, 26);
}

fn concurrent_events_are_each_scanned_once(backend: &dyn Backend) {
    let store: std::sync::Arc<dyn Store> = std::sync::Arc::from(backend.open());
    const WRITERS: usize = 4;
    const EACH: usize = 40;
    let read = std::thread::scope(|s| {
        for w in 0..WRITERS {
            let store = store.clone();
            s.spawn(move || {
                for i in 0..EACH {
                    store.record_event(&event(i), &format!("w{w}")).unwrap();
                }
            });
        }
        // A reader follows the cursor while they write: it must miss none and see none twice.
        let reader = s.spawn(|| {
            let mut got: Vec<LoggedEvent> = Vec::new();
            let deadline = std::time::Instant::now() + std::time::Duration::from_secs(60);
            while got.len() < WRITERS * EACH && std::time::Instant::now() < deadline {
                let after = got.last().map_or(0, |e| e.seq);
                got.extend(store.events_since(after, 9).unwrap());
            }
            got
        });
        reader.join().unwrap()
    });
    assert_eq!(
        read.len(),
        WRITERS * EACH,
        "the reader saw every event once"
    );
    assert!(read.windows(2).all(|w| w[0].seq < w[1].seq));
    for w in 0..WRITERS {
        let mine: Vec<&Event> = read
            .iter()
            .filter(|e| e.key_name == format!("w{w}"))
            .map(|e| &e.event)
            .collect();
        let want: Vec<Event> = (0..EACH).map(event).collect();
        assert_eq!(
            mine,
            want.iter().collect::<Vec<_>>(),
            "writer {w}'s events in order"
        );
    }
    assert_eq!(scan_all(store.as_ref(), 1000), read);
}

fn key(name: &str, role: Role) -> Option<KeyInfo> {
    Some(KeyInfo {
        name: name.into(),
        role,
    })
}

fn keys_are_found_by_hash(backend: &dyn Backend) {
    let store = backend.open();
    assert_eq!(store.find_key("h-alice").unwrap(), None);
    store.create_key("alice", "h-alice", &Role::App).unwrap();
    store.create_key("root", "h-root", &Role::Admin).unwrap();
    assert_eq!(store.find_key("h-alice").unwrap(), key("alice", Role::App));
    assert_eq!(store.find_key("h-root").unwrap(), key("root", Role::Admin));
    assert_eq!(store.find_key("h-unknown").unwrap(), None);
    assert_eq!(
        store.find_key("alice").unwrap(),
        None,
        "found by hash, not name"
    );
    // A hash is stored once: a second key with it is refused and the first is kept.
    assert!(
        store
            .create_key("mallory", "h-alice", &Role::Admin)
            .is_err()
    );
    assert_eq!(store.find_key("h-alice").unwrap(), key("alice", Role::App));
    // Names need not be unique.
    store
        .create_key("alice", "h-alice-2", &Role::Admin)
        .unwrap();
    assert_eq!(
        store.find_key("h-alice-2").unwrap(),
        key("alice", Role::Admin)
    );
    // Every role comes back as it went in, a brand key with its brand.
    let acme = Role::Brand {
        brand: "Acme Shoes".into(),
    };
    store.create_key("ads", "h-ads", &Role::Advertiser).unwrap();
    store.create_key("acme", "h-acme", &acme).unwrap();
    assert_eq!(
        store.find_key("h-ads").unwrap(),
        key("ads", Role::Advertiser)
    );
    assert_eq!(store.find_key("h-acme").unwrap(), key("acme", acme));
}

fn stats_count_products_events_and_vectors(backend: &dyn Backend) {
    let store = backend.open();
    let s = store.stats().unwrap();
    assert_eq!((s.products, s.events, s.index_size), (0, 0, 0));
    store.ensure_contract(&contract()).unwrap();
    for i in 0..10 {
        store.upsert(&product(i), &hash(i), &vector(i)).unwrap();
    }
    // Updates do not count twice.
    store.upsert(&product(3), "other", &vector(33)).unwrap();
    store.update_fields(&product(4)).unwrap();
    for i in 0..3 {
        store.record_event(&event(i), "k").unwrap();
    }
    let s = store.stats().unwrap();
    assert_eq!((s.products, s.events, s.index_size), (10, 3, 10));
    assert!(s.index_bytes > 0);
    store.delete("p00").unwrap();
    let s = store.stats().unwrap();
    assert_eq!((s.products, s.events, s.index_size), (9, 3, 9));
    assert!(!store.kind().is_empty());
}

fn everything_persists_across_reopen(backend: &dyn Backend) {
    let none = SearchFilters::default();
    let query = unit(31_337);
    let (before, events) = {
        let store = filled(backend);
        for i in 0..5 {
            store.record_event(&event(i), "k").unwrap();
        }
        store.create_key("alice", "h-alice", &Role::Admin).unwrap();
        store.flush().unwrap();
        // Writes after the flush: the embedded index file does not have them yet.
        store.upsert(&product(N), &hash(N), &vector(N)).unwrap();
        store.delete("p01").unwrap();
        store
            .update_fields(&Product {
                price: 1.0,
                ..product(2)
            })
            .unwrap();
        let before = store.search(&query, 10, None, &none).unwrap();
        (before, store.events_since(0, 100).unwrap())
        // dropped: closed without a flush
    };
    let store = backend.open();
    assert_eq!(store.contract().unwrap(), Some(contract()));
    let ids_now = store.ids().unwrap();
    assert_eq!(ids_now.len(), N);
    assert!(ids_now.contains(&product(N).id) && !ids_now.contains(&"p01".to_string()));
    assert_eq!(store.get("p02").unwrap().unwrap().product.price, 1.0);
    assert_eq!(store.get("p03").unwrap().unwrap().content_hash, hash(3));
    let after = store.search(&query, 10, None, &none).unwrap();
    assert_eq!(after, before, "same answer after reopening");
    let hits = store.search(&vector(N), 1, None, &none).unwrap();
    assert_eq!(
        hits[0].0,
        product(N),
        "written after the flush, found after reopening"
    );
    assert!(
        store
            .search(&vector(1), N + 1, None, &none)
            .unwrap()
            .iter()
            .all(|(p, _)| p.id != "p01"),
        "deleted after the flush, gone after reopening"
    );
    let cheap = SearchFilters {
        max_price: Some(1.0),
        ..Default::default()
    };
    assert!(ids(&store.search(&query, N, None, &cheap).unwrap()).contains("p02"));
    assert_eq!(store.events_since(0, 100).unwrap(), events);
    assert_eq!(events.len(), 5);
    assert_eq!(
        store.find_key("h-alice").unwrap(),
        key("alice", Role::Admin)
    );
    let s = store.stats().unwrap();
    assert_eq!(
        (s.products, s.events, s.index_size),
        (N as u64, 5, N as u64)
    );
}

fn searches_are_logged_and_scanned_from_a_cursor(backend: &dyn Backend) {
    let store = backend.open();
    assert!(store.searches_since(0, 10).unwrap().is_empty());
    let t0 = shoplook_store::now_s();
    for i in 0..12 {
        store.record_search(&search_record(i)).unwrap();
    }
    let t1 = shoplook_store::now_s();
    let logged = store.searches_since(0, 100).unwrap();
    assert_eq!(logged.len(), 12);
    for (i, s) in logged.iter().enumerate() {
        assert_eq!(s.search, search_record(i), "search {i} as recorded");
        assert!(s.at >= t0 - 1 && s.at <= t1 + 1);
    }
    assert!(logged.windows(2).all(|w| w[0].seq < w[1].seq));
    assert_eq!(scan_searches(store.as_ref(), 5), logged);
    assert_eq!(
        store.searches_since(logged[3].seq, 2).unwrap(),
        logged[4..6].to_vec()
    );
    assert!(store.searches_since(logged[11].seq, 10).unwrap().is_empty());
    assert!(store.searches_since(u64::MAX, 10).unwrap().is_empty());
    // A query id is logged once.
    assert!(store.record_search(&search_record(3)).is_err());
    assert_eq!(store.searches_since(0, 100).unwrap(), logged);
    // And survives a reopen.
    drop(store);
    assert_eq!(backend.open().searches_since(0, 100).unwrap(), logged);
}

fn duplicate_events_count_once(backend: &dyn Backend) {
    let store = backend.open();
    let click = Event {
        kind: EventType::Click,
        product_id: "p01".into(),
        query_id: Some("q-dup".into()),
        position: Some(2),
        session_id: Some("sess-dup-1".into()),
    };
    assert!(store.record_event(&click, "app").unwrap(), "first: stored");
    assert!(
        !store.record_event(&click, "app").unwrap(),
        "again: a duplicate"
    );
    // Another position or session in the report is still the same click.
    let mut moved = click.clone();
    moved.position = Some(5);
    moved.session_id = None;
    assert!(!store.record_event(&moved, "app").unwrap());
    // Another type, product, query or key is another event.
    let mut purchase = click.clone();
    purchase.kind = EventType::Purchase;
    let mut other_product = click.clone();
    other_product.product_id = "p02".into();
    let mut other_query = click.clone();
    other_query.query_id = Some("q-dup-2".into());
    for e in [&purchase, &other_product, &other_query] {
        assert!(store.record_event(e, "app").unwrap(), "{e:?}");
    }
    assert!(store.record_event(&click, "other-app").unwrap());
    // Without a query id nothing tells two reports apart: each is stored.
    let mut bare = click.clone();
    bare.query_id = None;
    assert!(store.record_event(&bare, "app").unwrap());
    assert!(store.record_event(&bare, "app").unwrap());
    let logged = store.events_since(0, 100).unwrap();
    assert_eq!(logged.len(), 7);
    assert_eq!(logged[0].event, click, "position and session kept");
    assert_eq!(store.stats().unwrap().events, 7);
}

fn purge_deletes_what_is_older_than_the_cutoff_only(backend: &dyn Backend) {
    let store = backend.open();
    for i in 0..4 {
        store.record_search(&search_record(i)).unwrap();
        store.record_event(&event(i), "app").unwrap();
    }
    let old = store.searches_since(0, 100).unwrap();
    wait_past(old.last().unwrap().at);
    for i in 4..7 {
        store.record_search(&search_record(i)).unwrap();
        store.record_event(&event(i), "app").unwrap();
    }
    let all_searches = store.searches_since(0, 100).unwrap();
    let all_events = store.events_since(0, 100).unwrap();
    let cutoff = all_searches[4].at;
    assert!(old.iter().all(|s| s.at < cutoff));
    // The default retention (90 days) keeps all of it.
    assert_eq!(
        purge_older_than(
            store.as_ref(),
            DEFAULT_RETENTION_DAYS,
            shoplook_store::now_s()
        )
        .unwrap(),
        Purged::default()
    );
    let purged = store.purge_before(cutoff).unwrap();
    let kept_events: Vec<LoggedEvent> = all_events
        .iter()
        .filter(|e| e.at >= cutoff)
        .cloned()
        .collect();
    assert_eq!(
        purged,
        Purged {
            searches: 4,
            events: (all_events.len() - kept_events.len()) as u64
        }
    );
    assert!(purged.events >= 4);
    assert_eq!(
        store.searches_since(0, 100).unwrap(),
        all_searches[4..].to_vec()
    );
    assert_eq!(store.events_since(0, 100).unwrap(), kept_events);
    assert_eq!(store.stats().unwrap().events, kept_events.len() as u64);
    // Everything purged: numbers are not reused, so a reader's cursor stays valid.
    let (last_s, last_e) = (all_searches[6].seq, all_events.last().unwrap().seq);
    wait_past(all_searches[6].at);
    let purged = store.purge_before(shoplook_store::now_s()).unwrap();
    assert_eq!(
        (purged.searches, purged.events),
        (3, kept_events.len() as u64)
    );
    drop(store);
    let store = backend.open();
    store.record_search(&search_record(9)).unwrap();
    store.record_event(&event(9), "app").unwrap();
    let s = store.searches_since(last_s, 10).unwrap();
    let e = store.events_since(last_e, 10).unwrap();
    assert_eq!((s.len(), e.len()), (1, 1));
    assert!(s[0].seq > last_s && e[0].seq > last_e);
}

// ---------------------------------------------------------------------------------------
// Migration of an event log written before events counted once (store-specific set-up)

/// The old log's rows: a click reported twice with its query, and twice without one.
const OLD_EVENTS: &str = "('click','p01','q1','app'),('click','p01','q1','app'),
                          ('click','p01',NULL,'app'),('click','p01',NULL,'app')";

fn assert_migrated(store: &dyn Store) {
    let logged = store.events_since(0, 100).unwrap();
    let q: Vec<Option<&str>> = logged.iter().map(|e| e.event.query_id.as_deref()).collect();
    assert_eq!(
        q,
        [Some("q1"), None, None],
        "the duplicate with a query id is gone"
    );
    let again = Event {
        kind: EventType::Click,
        product_id: "p01".into(),
        query_id: Some("q1".into()),
        position: None,
        session_id: None,
    };
    assert!(
        !store.record_event(&again, "app").unwrap(),
        "and counts once from now on"
    );
    assert!(store.record_event(&event(0), "app").unwrap());
    let last = store.events_since(0, 100).unwrap();
    assert!(last[3].seq > last[2].seq);
}

#[test]
fn sqlite_old_event_log_is_migrated() {
    let dir = SqliteDir::fresh().unwrap();
    std::fs::create_dir_all(&dir.0).unwrap();
    let conn = rusqlite::Connection::open(dir.0.join("catalogue.db")).unwrap();
    conn.execute_batch(&format!(
        "CREATE TABLE events (n INTEGER PRIMARY KEY, ts INTEGER NOT NULL, type TEXT NOT NULL,
             product_id TEXT NOT NULL, query_id TEXT, key_name TEXT NOT NULL);
         INSERT INTO events (ts, type, product_id, query_id, key_name)
             SELECT 1, column1, column2, column3, column4 FROM (VALUES {OLD_EVENTS});"
    ))
    .unwrap();
    drop(conn);
    assert_migrated(dir.open().as_ref());
}

#[test]
fn postgres_old_event_log_is_migrated() {
    let Some(db) = PgDatabase::fresh() else {
        return;
    };
    let store = PgStore::open(&db.url, None).unwrap();
    store.execute("DROP INDEX events_once").unwrap();
    store
        .execute(&format!(
            "INSERT INTO events (type, product_id, query_id, key_name) VALUES {OLD_EVENTS}"
        ))
        .unwrap();
    drop(store);
    assert_migrated(db.open().as_ref());
}

// ---------------------------------------------------------------------------------------
// Migration of a key table made before roles: admin keys become `admin`, the others `app`

fn assert_keys_migrated(store: &dyn Store) {
    assert_eq!(
        store.find_key("h-old-app").unwrap(),
        key("phone", Role::App)
    );
    assert_eq!(
        store.find_key("h-old-admin").unwrap(),
        key("ops", Role::Admin)
    );
    // And new keys of every role can be added beside them.
    let acme = Role::Brand {
        brand: "Acme".into(),
    };
    store.create_key("acme", "h-new-brand", &acme).unwrap();
    assert_eq!(store.find_key("h-new-brand").unwrap(), key("acme", acme));
}

#[test]
fn sqlite_old_key_table_is_migrated() {
    let dir = SqliteDir::fresh().unwrap();
    std::fs::create_dir_all(&dir.0).unwrap();
    let conn = rusqlite::Connection::open(dir.0.join("catalogue.db")).unwrap();
    conn.execute_batch(
        "CREATE TABLE api_keys (hash TEXT PRIMARY KEY, name TEXT NOT NULL,
             admin INTEGER NOT NULL, created_at INTEGER NOT NULL);
         INSERT INTO api_keys VALUES ('h-old-app', 'phone', 0, 1), ('h-old-admin', 'ops', 1, 1);",
    )
    .unwrap();
    drop(conn);
    assert_keys_migrated(dir.open().as_ref());
    // Opening again changes nothing.
    let store = dir.open();
    assert_eq!(
        store.find_key("h-old-admin").unwrap(),
        key("ops", Role::Admin)
    );
    assert_eq!(
        store.find_key("h-old-app").unwrap(),
        key("phone", Role::App)
    );
}

#[test]
fn postgres_old_key_table_is_migrated() {
    let Some(db) = PgDatabase::fresh() else {
        return;
    };
    let store = PgStore::open(&db.url, None).unwrap();
    store
        .execute(
            "ALTER TABLE api_keys DROP COLUMN role; ALTER TABLE api_keys DROP COLUMN brand;
             INSERT INTO api_keys (hash, name, admin)
                 VALUES ('h-old-app', 'phone', false), ('h-old-admin', 'ops', true);",
        )
        .unwrap();
    drop(store);
    assert_keys_migrated(db.open().as_ref());
}
