//! [`TrendLog`](crate::TrendLog): dated logs imported, the activity rows and query vectors
//! the trend reports read, and the catalogue's facts and vectors.

use shoplook_core::wire::{Event, EventType};

use super::*;
use crate::trends::{
    Activity, ActivityKind, DatedEvent, DatedSearch, ProductFacts, QueryVector, session_key,
};

const DAY: i64 = 86_400;
/// Midnight (UTC) of the first day of the test logs.
const D0: i64 = 20_000 * DAY;

fn dated_search(
    i: usize,
    key: &str,
    session: Option<&str>,
    category: Option<&str>,
    at: i64,
) -> DatedSearch {
    let search = SearchRecord {
        query_id: format!("t-query-{i}"),
        key_name: key.into(),
        session_id: session.map(String::from),
        category: category.map(String::from),
        ranking: Ranking::Visual,
        embedding: vector(i),
        shown: vec![product(i).id],
    };
    (search, at)
}

fn dated_event(
    kind: EventType,
    product_index: usize,
    query: Option<usize>,
    session: Option<&str>,
    at: i64,
) -> DatedEvent {
    let event = Event {
        kind,
        product_id: product(product_index).id,
        query_id: query.map(|q| format!("t-query-{q}")),
        position: Some(1),
        session_id: session.map(String::from),
    };
    (event, "app".into(), at)
}

/// Three days of logs. The window `[D0, D0 + 2 days)` holds all but the last search and event
/// and the search before it; events[6] repeats events[0].
fn trend_logs() -> (Vec<DatedSearch>, Vec<DatedEvent>) {
    use EventType::{Click, Impression, Purchase};
    let searches = vec![
        dated_search(1, "app", Some("a"), Some("shoes"), D0 + 10),
        dated_search(2, "app", Some("a"), Some("shoes"), D0 + 20),
        dated_search(3, "app", Some("a"), None, D0 + 30),
        // The same session id under another app's key is another session.
        dated_search(4, "ios", Some("a"), Some("shoes"), D0 + 40),
        // Without a session: not activity.
        dated_search(5, "app", None, Some("shoes"), D0 + 50),
        dated_search(6, "app", Some("b"), Some("bags"), D0 + DAY + 5),
        dated_search(7, "app", Some("a"), Some("shoes"), D0 + 2 * DAY),
        dated_search(8, "app", Some("a"), Some("shoes"), D0 - 1),
    ];
    let events = vec![
        dated_event(Click, 1, Some(1), Some("a"), D0 + 11),
        dated_event(Click, 1, Some(2), Some("a"), D0 + 21),
        dated_event(Purchase, 1, Some(1), Some("a"), D0 + 12),
        // Impressions are not activity.
        dated_event(Impression, 2, Some(1), Some("a"), D0 + 13),
        dated_event(Click, 2, None, None, D0 + 14),
        dated_event(Click, 2, Some(6), Some("b"), D0 + DAY + 6),
        dated_event(Click, 1, Some(1), Some("a"), D0 + 15),
        dated_event(Click, 3, Some(7), Some("a"), D0 + 2 * DAY + 1),
    ];
    (searches, events)
}

/// What `trend_activity(D0, D0 + 2 days)` finds in [`trend_logs`], sorted.
fn trend_activity_in_the_window() -> Vec<Activity> {
    use ActivityKind::{Click, Purchase, Search};
    let row = |day: i64,
               kind: ActivityKind,
               product_id: &str,
               category: Option<&str>,
               key: &str,
               session: &str,
               count: u64| Activity {
        day: D0 / DAY + day,
        kind,
        product_id: product_id.into(),
        category: category.map(String::from),
        session: session_key(key, session),
        count,
    };
    let mut rows = vec![
        row(0, Search, "", Some("shoes"), "app", "a", 2),
        row(0, Search, "", None, "app", "a", 1),
        row(0, Search, "", Some("shoes"), "ios", "a", 1),
        row(1, Search, "", Some("bags"), "app", "b", 1),
        row(0, Click, "p01", None, "app", "a", 2),
        row(0, Purchase, "p01", None, "app", "a", 1),
        row(1, Click, "p02", None, "app", "b", 1),
    ];
    rows.sort();
    rows
}

pub fn imported_logs_keep_their_dates_and_count_events_once(backend: &dyn Backend) {
    let store = backend.open();
    let (searches, events) = trend_logs();
    assert_eq!(
        store.import_logs(&searches, &events).unwrap(),
        events.len() as u64 - 1,
        "the repeated click is written once"
    );
    let logged: Vec<DatedSearch> = store
        .searches_since(0, 100)
        .unwrap()
        .into_iter()
        .map(|s| (s.search, s.at))
        .collect();
    assert_eq!(logged, searches, "in order, at their own times");
    let logged: Vec<DatedEvent> = store
        .events_since(0, 100)
        .unwrap()
        .into_iter()
        .map(|e| (e.event, e.key_name, e.at))
        .collect();
    let mut once = events.clone();
    once.remove(6);
    assert_eq!(logged, once);
    // Counted once against the live log too.
    let (click, key, _) = &events[0];
    assert!(!store.record_event(click, key).unwrap());

    // One transaction: a search logged before fails the import, and none of it is kept.
    let again = [
        dated_search(9, "app", Some("c"), None, D0),
        searches[0].clone(),
    ];
    let new_event = dated_event(EventType::Click, 5, Some(9), Some("c"), D0);
    assert!(store.import_logs(&again, &[new_event]).is_err());
    assert_eq!(store.searches_since(0, 100).unwrap().len(), searches.len());
    assert_eq!(store.events_since(0, 100).unwrap().len(), once.len());
}

pub fn trend_activity_counts_sessions_per_day(backend: &dyn Backend) {
    let store = backend.open();
    assert!(store.trend_activity(D0, D0 + 2 * DAY).unwrap().is_empty());
    let (searches, events) = trend_logs();
    store.import_logs(&searches, &events).unwrap();
    let sorted = |mut rows: Vec<Activity>| {
        rows.sort();
        rows
    };
    let want = trend_activity_in_the_window();
    assert_eq!(
        sorted(store.trend_activity(D0, D0 + 2 * DAY).unwrap()),
        want
    );
    let second_day: Vec<Activity> = want
        .iter()
        .filter(|a| a.day == D0 / DAY + 1)
        .cloned()
        .collect();
    assert_eq!(second_day.len(), 2);
    assert_eq!(
        sorted(store.trend_activity(D0 + DAY, D0 + 2 * DAY).unwrap()),
        second_day
    );
    assert!(
        store
            .trend_activity(D0 + 3 * DAY, D0 + 4 * DAY)
            .unwrap()
            .is_empty()
    );
}

pub fn query_vectors_follow_the_log_within_the_window(backend: &dyn Backend) {
    let store = backend.open();
    let (searches, _) = trend_logs();
    store.import_logs(&searches, &[]).unwrap();
    let query = |i: usize, day: i64, key: &str, session: &str| QueryVector {
        day: D0 / DAY + day,
        session: session_key(key, session),
        embedding: vector(i),
    };
    // With a session, in the window, in log order.
    let want = [
        query(1, 0, "app", "a"),
        query(2, 0, "app", "a"),
        query(3, 0, "app", "a"),
        query(4, 0, "ios", "a"),
        query(6, 1, "app", "b"),
    ];
    assert_eq!(store.query_vectors(D0, D0 + 2 * DAY, 100).unwrap(), want);
    assert_eq!(store.query_vectors(D0, D0 + 2 * DAY, 2).unwrap(), want[..2]);
    assert!(store.query_vectors(D0, D0 + 2 * DAY, 0).unwrap().is_empty());
    assert!(
        store
            .query_vectors(D0 + 3 * DAY, D0 + 4 * DAY, 100)
            .unwrap()
            .is_empty()
    );
}

pub fn product_facts_and_vectors_read_the_catalogue(backend: &dyn Backend) {
    let store = backend.open();
    assert!(
        store.product_facts().unwrap().is_empty(),
        "no catalogue yet"
    );
    assert_eq!(store.product_vector("p00").unwrap(), None);
    drop(store);

    let store = filled(backend);
    let facts = |p: &Product| ProductFacts {
        id: p.id.clone(),
        title: p.title.clone(),
        brand: p.brand.clone(),
        category: p.category.clone(),
        price: p.price,
        image: p.image.clone(),
        in_stock: p.in_stock,
    };
    let all: Vec<ProductFacts> = (0..N).map(|i| facts(&product(i))).collect();
    assert_eq!(store.product_facts().unwrap(), all, "every product, by id");
    assert_eq!(store.product_vector("p07").unwrap(), Some(vector(7)));
    assert_eq!(store.product_vector("no-such-product").unwrap(), None);

    let renamed = Product {
        title: "Renamed".into(),
        in_stock: false,
        ..product(7)
    };
    store.update_fields(&renamed).unwrap();
    assert!(store.delete("p08").unwrap());
    let now = store.product_facts().unwrap();
    assert_eq!(now.len(), N - 1);
    assert_eq!(now[7], facts(&renamed));
    assert!(now.iter().all(|f| f.id != "p08"));
    assert_eq!(store.product_vector("p08").unwrap(), None);
    assert_eq!(
        store.product_vector("p07").unwrap(),
        Some(vector(7)),
        "kept by update_fields"
    );
}
