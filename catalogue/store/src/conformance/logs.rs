//! [`EventLog`](crate::EventLog) and [`SearchLog`](crate::SearchLog): appends, cursors, events
//! counted once, and the retention purge.

use shoplook_core::wire::{Event, EventType};

use super::*;
use crate::Purged;
use crate::searches::{DEFAULT_RETENTION_DAYS, purge_older_than};

pub fn events_are_scanned_in_order_from_a_cursor(backend: &dyn Backend) {
    let store = backend.open();
    assert!(store.events_since(0, 10).unwrap().is_empty());
    let t0 = crate::now_s();
    for i in 0..25 {
        let key = if i % 3 == 0 { "app-android" } else { "app-ios" };
        store.record_event(&event(i), key).unwrap();
    }
    let t1 = crate::now_s();

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

pub fn concurrent_events_are_each_scanned_once(backend: &dyn Backend) {
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

pub fn searches_are_logged_and_scanned_from_a_cursor(backend: &dyn Backend) {
    let store = backend.open();
    assert!(store.searches_since(0, 10).unwrap().is_empty());
    let t0 = crate::now_s();
    for i in 0..12 {
        store.record_search(&search_record(i)).unwrap();
    }
    let t1 = crate::now_s();
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

pub fn duplicate_events_count_once(backend: &dyn Backend) {
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

pub fn purge_deletes_what_is_older_than_the_cutoff_only(backend: &dyn Backend) {
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
        purge_older_than(store.as_ref(), DEFAULT_RETENTION_DAYS, crate::now_s()).unwrap(),
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
    let purged = store.purge_before(crate::now_s()).unwrap();
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
