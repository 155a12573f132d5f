//! Request bodies of the service, parsed and validated by the handlers' own functions: the
//! first byte picks the route (0: `POST /v1/search`, 1: `POST /v1/events`, 2:
//! `PUT /v1/products`; seeds start with the ASCII digit), the rest is the body. Validation
//! must answer with a 4xx, never panic, and what it accepts must be well formed.
#![no_main]

use libfuzzer_sys::fuzz_target;
use serde_json::Value;
use shoplook_core::ModelContract;
use shoplook_core::wire::{Event, MAX_K, SearchRequest};
use shoplook_domain::feed::validate_value;
use shoplook_domain::search;
use shoplook_http::events::validate_event;
use shoplook_http::extract::parse_json;
use shoplook_http::products::validate_batch;

fuzz_target!(|data: &[u8]| {
    let Some((&route, body)) = data.split_first() else {
        return;
    };
    // The shipped embedder's contract with a small dimension, so that valid vectors are
    // within the fuzzer's reach (seeds use 4-d unit vectors).
    let contract = ModelContract {
        id: "efficientnet-lite0-imagenet".into(),
        version: "1".into(),
        dim: 4,
    };
    let result = match route % 3 {
        0 => parse_json::<SearchRequest>(body).and_then(|req| {
            search::validate(&contract, &req)?;
            assert!((1..=MAX_K).contains(&req.k));
            assert_eq!(req.embedding.len(), contract.dim);
            assert!(req.embedding.iter().all(|v| v.is_finite()));
            Ok(())
        }),
        1 => parse_json::<Event>(body).and_then(|event| {
            validate_event(&event)?;
            assert!(!event.product_id.is_empty());
            Ok(())
        }),
        _ => parse_json::<Value>(body).and_then(|value| {
            let batch = validate_batch(&contract, value)?;
            assert!(!batch.is_empty());
            for checked in batch {
                assert_eq!(checked.content_hash.len(), 64);
                assert_eq!(checked.embedding.len(), contract.dim);
                let again = validate_value(serde_json::to_value(&checked.product).unwrap())
                    .expect("a validated product validates again");
                assert_eq!(again, checked.product);
            }
            Ok(())
        }),
    };
    if let Err(e) = result {
        assert!(e.status().is_client_error(), "{:?}", e.status());
    }
});
