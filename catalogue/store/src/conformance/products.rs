//! [`ProductIndex`](crate::ProductIndex): the contract, product writes, and (filtered) search.

use std::collections::BTreeSet;

use shoplook_core::ModelContract;
use shoplook_core::wire::{Product, SearchFilters};

use super::*;
use crate::{CatError, Upserted};

pub fn contract_is_set_once_and_others_are_refused(backend: &dyn Backend) {
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

pub fn upsert_adds_then_updates(backend: &dyn Backend) {
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

pub fn update_fields_keeps_the_vector(backend: &dyn Backend) {
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
        Err(CatError::NotFound(crate::Missing::StoredProduct(id))) => assert_eq!(id, "missing"),
        r => panic!("update of a missing product: {r:?}"),
    }
}

pub fn delete_removes_everywhere(backend: &dyn Backend) {
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

pub fn ids_are_sorted(backend: &dyn Backend) {
    let store = backend.open();
    store.ensure_contract(&contract()).unwrap();
    for i in [31, 2, 17, 40, 9] {
        store.upsert(&product(i), &hash(i), &vector(i)).unwrap();
    }
    assert_eq!(store.ids().unwrap(), ["p02", "p09", "p17", "p31", "p40"]);
}

pub fn search_ranks_best_first_with_exact_scores(backend: &dyn Backend) {
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

pub fn filtered_search_matches_passes_on_an_exact_scan(backend: &dyn Backend) {
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
