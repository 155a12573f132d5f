//! Schema versions on both stores (`sqlite::*`, `postgres::*`): a new database gets the schema
//! of the last release without versions; a database of that release, or of the first release,
//! made from its own DDL (`fixtures/*.sql`, copied verbatim) with a few rows, is brought to the
//! current version with its data and still searches; a database of a newer version is refused;
//! servers opening one database together migrate it once.

mod common;
#[path = "migrations/postgres.rs"]
mod postgres;
#[path = "migrations/sqlite.rs"]
mod sqlite;

use shoplook_core::wire::{Event, EventType, Ranking, SearchFilters};
use shoplook_store::campaigns::{
    AdServe, Campaign, CampaignDay, Charged, ClickCharge, InvalidClick, InvalidReason, Pacing,
};
use shoplook_store::conformance::{TOL, contract, hash, key, named, product, vector};
use shoplook_store::migrations::MigrationError;
use shoplook_store::{CatError, Role, SearchRecord, Store, Upserted};

/// Products `p00`..`p07` are in every old catalogue.
const PRODUCTS: usize = 8;
/// When the old release logged what the old catalogues hold (2026-09-21, 21:46 UTC).
const T: i64 = 1_790_027_160;

fn day() -> i64 {
    T.div_euclid(86_400)
}

/// The events of the last unversioned release's catalogue: (event, key name, time).
fn old_events() -> Vec<(Event, &'static str, i64)> {
    let event = |kind, product: &str, query: Option<&str>, position, session: Option<&str>| Event {
        kind,
        product_id: product.into(),
        query_id: query.map(String::from),
        position,
        session_id: session.map(String::from),
    };
    vec![
        (
            event(EventType::Click, "p01", Some("q1"), Some(2), Some("s1")),
            "phone",
            T,
        ),
        (
            event(EventType::Purchase, "p01", Some("q1"), None, Some("s1")),
            "phone",
            T + 60,
        ),
        (
            event(EventType::Impression, "p02", None, None, None),
            "phone",
            T + 120,
        ),
    ]
}

/// Its one logged search, and when.
fn old_search() -> (SearchRecord, i64) {
    let search = SearchRecord {
        query_id: "q1".into(),
        key_name: "phone".into(),
        session_id: Some("s1".into()),
        category: Some("shoes".into()),
        ranking: Ranking::Learned,
        embedding: vector(1),
        shown: vec!["p01".into(), "p02".into()],
    };
    (search, T - 5)
}

/// Its keys: (hash, name, role).
fn old_keys() -> Vec<(&'static str, &'static str, Role)> {
    vec![
        ("h-phone", "phone", Role::App),
        ("h-ops", "ops", Role::Admin),
        ("h-ads", "ads", Role::Advertiser),
        (
            "h-acme",
            "acme",
            Role::Brand {
                brand: "Acme".into(),
            },
        ),
    ]
}

/// Its campaign: served twice (q1, q2), clicked twice at 60 cents on [`day`].
fn old_campaign() -> Campaign {
    Campaign {
        id: "cmp_00000000000000aa".into(),
        advertiser: "ads".into(),
        name: "Autumn".into(),
        product_id: "p03".into(),
        bid_cents: 80,
        daily_budget_cents: 500,
        pacing: Pacing::Even,
        frequency_cap: 2,
        starts_at: T - 86_400,
        ends_at: Some(T + 30 * 86_400),
        paused: false,
        created_at: T - 86_400,
        spent_today_cents: 0,
    }
}

fn old_serve(query: &str, at: i64) -> AdServe {
    AdServe {
        query_id: query.into(),
        campaign_id: old_campaign().id,
        product_id: old_campaign().product_id,
        position: 3,
        price_cents: 60,
        key_name: "phone".into(),
        session_id: Some("s1".into()),
        at,
    }
}

/// Little-endian f32, as both stores keep logged query vectors (and SQLite product vectors).
fn blob(v: &[f32]) -> Vec<u8> {
    v.iter().flat_map(|x| x.to_le_bytes()).collect()
}

/// What a catalogue of the last unversioned release holds, read through the current code, and
/// that it takes new writes as a current one does.
fn assert_previous_release_data(store: &dyn Store) {
    assert_products(store);
    let events: Vec<(Event, String, i64)> = store
        .events_since(0, 100)
        .unwrap()
        .into_iter()
        .map(|e| (e.event, e.key_name, e.at))
        .collect();
    let want: Vec<(Event, String, i64)> = old_events()
        .into_iter()
        .map(|(e, k, at)| (e, k.to_string(), at))
        .collect();
    assert_eq!(events, want);
    let searches: Vec<(SearchRecord, i64)> = store
        .searches_since(0, 100)
        .unwrap()
        .into_iter()
        .map(|s| (s.search, s.at))
        .collect();
    assert_eq!(searches, [old_search()]);
    for (hash, name, role) in old_keys() {
        assert_eq!(named(store.find_key(hash).unwrap()), key(name, role));
    }
    // Migration 3: every key got its own id, and the campaign made under the name `ads` is
    // owned by the id of the advertiser key of that name.
    let ids: std::collections::BTreeSet<String> = store
        .list_keys()
        .unwrap()
        .into_iter()
        .map(|r| r.key.id)
        .collect();
    assert_eq!(ids.len(), old_keys().len());
    assert!(
        ids.iter()
            .all(|id| id.starts_with("key_") && id.len() == 20),
        "{ids:?}"
    );
    let ads_id = store.find_key("h-ads").unwrap().unwrap().id;
    let campaign = Campaign {
        advertiser: ads_id,
        ..old_campaign()
    };
    let today = store.campaign(&campaign.id, day()).unwrap();
    assert_eq!(
        today,
        Some(Campaign {
            spent_today_cents: 120,
            ..campaign.clone()
        })
    );
    assert_eq!(
        store.campaign_days(&campaign.id).unwrap(),
        [CampaignDay {
            day: day(),
            impressions: 2,
            clicks: 2,
            spend_cents: 120,
            ..Default::default()
        }]
    );
    assert_eq!(
        store.ad_serve("q1", "p03").unwrap(),
        Some(old_serve("q1", T))
    );

    // New writes: an event already logged counts once, a new one is appended after the old
    // ones; keys, products and clicks as on a new catalogue.
    let (first, key_name, _) = &old_events()[0];
    assert!(!store.record_event(first, key_name).unwrap());
    let late = Event {
        query_id: Some("q9".into()),
        ..first.clone()
    };
    assert!(store.record_event(&late, key_name).unwrap());
    let logged = store.events_since(0, 100).unwrap();
    assert_eq!(logged.len(), 4);
    assert!(logged[3].seq > logged[2].seq);
    store.create_key("new", "h-new", &Role::App).unwrap();
    assert_eq!(
        named(store.find_key("h-new").unwrap()),
        key("new", Role::App)
    );
    let click = ClickCharge {
        campaign_id: campaign.id.clone(),
        query_id: "q1".into(),
        price_cents: 60,
        cap_cents: 500,
        at: T + 10,
        key_name: "phone".into(),
        session_id: "s1".into(),
        session_cap: 2,
        key_cap_cents: 500,
        key_window_s: 3600,
    };
    assert_eq!(store.charge_click(&click).unwrap(), Charged::Already);
    let click = ClickCharge {
        query_id: "q3".into(),
        ..click
    };
    assert_eq!(store.charge_click(&click).unwrap(), Charged::Yes);
    // q3 is session s1's charged click of the day: at a cap of 1, q4's is refused (the old
    // release's clicks, kept without their session, count for no cap).
    let click = ClickCharge {
        query_id: "q4".into(),
        session_cap: 1,
        ..click
    };
    assert_eq!(store.charge_click(&click).unwrap(), Charged::SessionCap);
    // A refused click is kept (migration 2) and counted in the campaign's day.
    store
        .record_invalid_click(&InvalidClick {
            campaign_id: campaign.id.clone(),
            query_id: "q4".into(),
            reason: InvalidReason::SessionCap,
            key_name: "phone".into(),
            session_id: Some("s1".into()),
            at: T + 10,
        })
        .unwrap();
    let days = store.campaign_days(&campaign.id).unwrap();
    assert_eq!(days[0].invalid[&InvalidReason::SessionCap], 1);
}

/// The old catalogue's products, and a search over them (the embedded index is rebuilt from the
/// rows: the old files have none). Then one more product.
fn assert_products(store: &dyn Store) {
    assert_eq!(store.contract().unwrap(), Some(contract()));
    let ids: Vec<String> = (0..PRODUCTS).map(|i| product(i).id).collect();
    assert_eq!(store.ids().unwrap(), ids);
    for i in 0..PRODUCTS {
        let stored = store.get(&product(i).id).unwrap().expect("kept");
        assert_eq!((stored.product, stored.content_hash), (product(i), hash(i)));
        let hits = store
            .search(&vector(i), 1, None, &SearchFilters::default())
            .unwrap();
        assert_eq!(hits[0].0, product(i), "search finds product {i}");
        assert!((hits[0].1 - 1.0).abs() < TOL, "score {}", hits[0].1);
    }
    // The category filter ignores ASCII case on both stores (the index the old PostgreSQL
    // release made folded case by the database's locale).
    let bags = store
        .search(
            &vector(1),
            PRODUCTS,
            Some("BAGS"),
            &SearchFilters::default(),
        )
        .unwrap();
    let bag_ids: Vec<&str> = bags.iter().map(|(p, _)| p.id.as_str()).collect();
    assert_eq!(bag_ids.len(), 3, "{bag_ids:?}");
    assert!(bags.iter().all(|(p, _)| p.category == "Bags"));
    let new = product(PRODUCTS);
    let added = store
        .upsert(&new, &hash(PRODUCTS), &vector(PRODUCTS))
        .unwrap();
    assert_eq!(added, Upserted::Added);
    let hits = store
        .search(&vector(PRODUCTS), 1, None, &SearchFilters::default())
        .unwrap();
    assert_eq!(hits[0].0, new);
}

/// The event log the first release could hold: a click reported twice with its query, and
/// twice without one (as `(type, product, query, key)` SQL values).
const FIRST_RELEASE_EVENTS: &str = "('click','p01','q1','app'),('click','p01','q1','app'),
                                    ('click','p01',NULL,'app'),('click','p01',NULL,'app')";

/// The first release's events, once upgraded: the duplicate with a query id is gone, and the
/// click counts once from now on.
fn assert_first_release_events(store: &dyn Store) {
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
    let other = Event {
        query_id: Some("q2".into()),
        ..again
    };
    assert!(store.record_event(&other, "app").unwrap());
    let last = store.events_since(0, 100).unwrap();
    assert!(last[3].seq > last[2].seq);
}

/// The first release's keys (`admin` 0/1 or false/true), once upgraded: admin keys are
/// `admin`, the others `app`; keys of every role can be added beside them.
fn assert_first_release_keys(store: &dyn Store) {
    assert_eq!(
        named(store.find_key("h-old-app").unwrap()),
        key("phone", Role::App)
    );
    assert_eq!(
        named(store.find_key("h-old-admin").unwrap()),
        key("ops", Role::Admin)
    );
    let acme = Role::Brand {
        brand: "Acme".into(),
    };
    store.create_key("acme", "h-new-brand", &acme).unwrap();
    assert_eq!(
        named(store.find_key("h-new-brand").unwrap()),
        key("acme", acme)
    );
}

/// What the tables of a first-release catalogue lacked work: the search log and campaigns.
fn assert_new_tables_work(store: &dyn Store) {
    let (search, _) = old_search();
    store.record_search(&search).unwrap();
    assert_eq!(store.searches_since(0, 10).unwrap()[0].search, search);
    let campaign = old_campaign();
    store.create_campaign(&campaign).unwrap();
    assert_eq!(
        store.campaigns(None, day()).unwrap(),
        std::slice::from_ref(&campaign)
    );
}

/// Two schemas' lines (`layout` of either store) are the same; else what differs.
fn assert_same_layout(got: &[String], want: &[String]) {
    let missing: Vec<&String> = want.iter().filter(|l| !got.contains(l)).collect();
    let extra: Vec<&String> = got.iter().filter(|l| !want.contains(l)).collect();
    assert!(
        missing.is_empty() && extra.is_empty() && got.len() == want.len(),
        "missing: {missing:#?}\nnot expected: {extra:#?}"
    );
}

/// A too-new database is refused with the versions in the error, and says so.
fn assert_too_new<T>(opened: Result<T, CatError>, store: &str, latest: u32) {
    let e = match opened {
        Err(e) => e,
        Ok(_) => panic!("a {store} database of schema version {} opened", latest + 1),
    };
    match &e {
        CatError::Migration(MigrationError::TooNew {
            store: s,
            found,
            latest: l,
        }) => assert_eq!((*s, *found, *l), (store, i64::from(latest) + 1, latest)),
        other => panic!("refused, but not as too new: {other:?}"),
    }
    let message = e.to_string();
    assert!(
        message.contains(&format!(
            "has schema version {}, newer than this release knows ({latest})",
            latest + 1
        )),
        "{message}"
    );
}
