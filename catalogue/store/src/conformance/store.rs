//! [`Store`]: the size figures, and everything the store keeps across a reopen.

use shoplook_core::wire::{Product, SearchFilters};

use super::*;

pub fn stats_count_products_events_and_vectors(backend: &dyn Backend) {
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

pub fn everything_persists_across_reopen(backend: &dyn Backend) {
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
        named(store.find_key("h-alice").unwrap()),
        key("alice", Role::Admin)
    );
    let s = store.stats().unwrap();
    assert_eq!(
        (s.products, s.events, s.index_size),
        (N as u64, 5, N as u64)
    );
}
