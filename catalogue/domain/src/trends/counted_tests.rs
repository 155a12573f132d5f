//! What counts, on a real embedded store: each way an event can fail to be tied to its
//! session's search, and the search categories.

use super::*;
use crate::store::sqlite::SqliteStore;
use crate::store::{EventLog, SearchRecord, TrendLog};
use shoplook_core::wire::{Event, EventType, Ranking};

const DAY: i64 = 20_000;

fn store() -> SqliteStore {
    let dir = std::env::temp_dir().join(format!("shoplook-counted-{}", crate::random_hex(6)));
    SqliteStore::open(&dir, "f32").unwrap()
}

fn search(query_id: &str, key: &str, session: Option<&str>, category: &str) -> SearchRecord {
    SearchRecord {
        query_id: query_id.into(),
        key_name: key.into(),
        session_id: session.map(String::from),
        category: Some(category.into()),
        ranking: Ranking::Visual,
        embedding: vec![1.0, 0.0],
        shown: vec!["p1".into()],
    }
}

fn event(kind: EventType, query_id: Option<&str>, session: Option<&str>) -> Event {
    Event {
        kind,
        product_id: "p1".into(),
        query_id: query_id.map(String::from),
        position: Some(1),
        session_id: session.map(String::from),
    }
}

fn facts(category: &str) -> HashMap<String, ProductFacts> {
    let p = ProductFacts {
        id: "p1".into(),
        title: "P".into(),
        brand: "B".into(),
        category: category.into(),
        price: 1.0,
        image: String::new(),
        in_stock: true,
    };
    HashMap::from([(p.id.clone(), p)])
}

#[test]
fn only_events_tied_to_their_sessions_earlier_search_count() {
    let s = store();
    let t = DAY * 86_400 + 40_000;
    let searches = vec![
        (search("q1", "app", Some("s1"), "shoes"), t),
        (search("q2", "app", Some("s2"), "shoes"), t),
        (search("q3", "brand", Some("s3"), "shoes"), t),
        (search("q4", "app", None, "shoes"), t),
        (search("q5", "app", Some("s5"), "shoes"), t),
    ];
    let click = EventType::Click;
    let events = vec![
        // Counted: a click and a purchase of q1's session, after it (the purchase next day).
        (
            event(click, Some("q1"), Some("s1")),
            "app".to_string(),
            t + 5,
        ),
        (
            event(EventType::Purchase, Some("q1"), Some("s1")),
            "app".into(),
            t + 86_400,
        ),
        // Not counted: no query id; one no search has; another session's search; the same
        // session id under another key; a search of another key; before the search; a
        // search without session; an impression.
        (event(click, None, Some("s9")), "app".into(), t + 5),
        (event(click, Some("nope"), Some("s9")), "app".into(), t + 6),
        (event(click, Some("q2"), Some("s1")), "app".into(), t + 7),
        (
            event(click, Some("q1"), Some("s1")),
            "other-app".into(),
            t + 8,
        ),
        (event(click, Some("q3"), Some("s3")), "app".into(), t + 9),
        (event(click, Some("q5"), Some("s5")), "app".into(), t - 1),
        (event(click, Some("q4"), Some("s4")), "app".into(), t + 10),
        (
            event(EventType::Impression, Some("q2"), Some("s2")),
            "app".into(),
            t + 11,
        ),
    ];
    s.import_logs(&searches, &events).unwrap();
    let from = DAY * 86_400;
    let to = from + 7 * 86_400;
    let got = counted_activity(&s, from, to, &facts("Shoes")).unwrap();
    let taps: Vec<(i64, ActivityKind, &str)> = got
        .iter()
        .filter(|a| a.kind != ActivityKind::Search)
        .map(|a| (a.day, a.kind, a.session.as_str()))
        .collect();
    assert_eq!(
        taps,
        vec![
            (DAY, ActivityKind::Click, "app\0s1"),
            (DAY + 1, ActivityKind::Purchase, "app\0s1"),
        ]
    );
    // The log holds 9 click and purchase events with a session in the window (what the
    // reports counted before issue 22).
    let raw_events = s
        .events_since(0, 100)
        .unwrap()
        .iter()
        .filter(|e| e.event.kind != EventType::Impression && e.event.session_id.is_some())
        .filter(|e| (from..to).contains(&e.at))
        .count();
    assert_eq!(raw_events, 9);
    // Searches: their category in the catalogue's spelling.
    assert!(
        got.iter()
            .filter(|a| a.kind == ActivityKind::Search)
            .all(|a| a.category.as_deref() == Some("Shoes"))
    );
    // An event in the window whose search was before it counts; one after `to` does not.
    let later = counted_activity(&s, from + 86_400, to, &facts("shoes")).unwrap();
    assert_eq!(
        later
            .iter()
            .filter(|a| a.kind != ActivityKind::Search)
            .count(),
        1
    );
    assert!(
        counted_activity(&s, from, t + 6, &facts("shoes"))
            .unwrap()
            .iter()
            .all(|a| a.kind == ActivityKind::Search || a.day == DAY)
    );
}

#[test]
fn a_category_the_catalogue_lacks_is_no_category() {
    let cats = catalogue_categories(&facts("Shoes"));
    for (asked, counted) in [
        (Some("shoes"), Some("Shoes")),
        (Some("SHOES"), Some("Shoes")),
        (Some("=cmd|' /C calc'!A0"), None),
        (Some("@SUM(A1)"), None),
        (Some("bags"), None),
        (None, None),
    ] {
        assert_eq!(
            known_category(asked, &cats).as_deref(),
            counted,
            "{asked:?}"
        );
    }
}
