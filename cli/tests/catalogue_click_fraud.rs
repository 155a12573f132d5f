//! Click fraud (issue 22, item 2), as an attacker does it: the real `serve` binary, real HTTP,
//! both stores. One app key (a leaked key or a rogue app) searches and clicks the ads it is
//! served, minting a fresh session id per search so that no per-session limit applies.
//!
//! - `a_bot_minting_sessions_is_charged_at_most_a_tenth_of_the_budget`: 150 searches, each ad
//!   clicked at once (too fast), then 150 more clicked concurrently after waiting out the
//!   dwell: at most 10 % of the daily budget is charged; the report shows the rest as invalid.
//! - `forged_and_replayed_clicks_are_not_billable`: another session's serve, no session,
//!   replays, another key's serve; a search without a session gets no ad.

mod common;

use std::time::Duration;

use common::{Backend, Server, create_key, create_key_with, http, not_near_midnight, vector};
use serde_json::{Value, json};

/// One product (`shoe-b`, 0.9 similar to the query `e0`) and a few others.
struct Shop {
    _server: Server,
    url: String,
    model: String,
    dim: usize,
    app: String,
    acme: String,
}

impl Shop {
    fn open(backend: Backend) -> Shop {
        let admin = create_key(&backend, "ops", true);
        let app = create_key(&backend, "bot-app", false);
        let acme = create_key_with(&backend, "acme", &["--role", "advertiser"]);
        let server = Server::start(&backend, &["--rate-limit", "0"]);
        let url = server.url.clone();
        let (_, _, doc) = http("GET", &format!("{url}/openapi.json"), None, None);
        let dim = doc["components"]["schemas"]["Embedding"]["minItems"]
            .as_u64()
            .unwrap() as usize;
        let model = doc["components"]["schemas"]["Model"]["enum"][0]
            .as_str()
            .unwrap()
            .to_string();
        let products: Vec<Value> = [("shoe-b", 0.9, 1), ("shoe-c", 0.8, 2), ("lamp", 0.0, 3)]
            .iter()
            .map(|(id, cos, axis)| {
                json!({"id": id, "title": id, "brand": "Test", "price": 10.0, "currency": "EUR",
                       "category": "shoes", "image": format!("{id}.jpg"),
                       "url": format!("https://example.com/{id}"),
                       "embedding": vector(dim, *cos, *axis), "model": model})
            })
            .collect();
        let (s, _, body) = http(
            "PUT",
            &format!("{url}/v1/products"),
            Some(&admin),
            Some(&json!(products).to_string()),
        );
        assert_eq!(s, 200, "{body}");
        Shop {
            _server: server,
            url,
            model,
            dim,
            app,
            acme,
        }
    }

    /// A campaign of acme for `shoe-b` at the reserve price (5 cents a click: it is alone).
    fn campaign(&self, budget: i64) -> String {
        let body = json!({"name": "Boots", "product_id": "shoe-b", "bid_cents": 5,
                          "daily_budget_cents": budget, "pacing": "asap"});
        let (s, _, c) = http(
            "POST",
            &format!("{}/v1/campaigns", self.url),
            Some(&self.acme),
            Some(&body.to_string()),
        );
        assert_eq!(s, 201, "{c}");
        c["id"].as_str().unwrap().to_string()
    }

    /// A search for `e0` by the app key, with `session` if given: (query id, ad's product).
    fn search(&self, session: Option<&str>) -> (String, Option<String>) {
        let mut body = json!({"embedding": vector(self.dim, 1.0, 1), "model": self.model,
                              "k": 3});
        if let Some(s) = session {
            body["session_id"] = json!(s);
        }
        let (s, _, r) = http(
            "POST",
            &format!("{}/v1/search", self.url),
            Some(&self.app),
            Some(&body.to_string()),
        );
        assert_eq!(s, 200, "{r}");
        let ad = r["results"]
            .as_array()
            .unwrap()
            .iter()
            .find(|h| h["sponsored"] == true)
            .map(|h| h["id"].as_str().unwrap().to_string());
        (r["query_id"].as_str().unwrap().to_string(), ad)
    }

    /// Clicks `product` of search `query_id` as `key`, claiming `session`.
    fn click(&self, key: &str, query_id: &str, product: &str, session: Option<&str>) {
        let mut e = json!({"type": "click", "product_id": product, "query_id": query_id,
                           "position": 1});
        if let Some(s) = session {
            e["session_id"] = json!(s);
        }
        let (s, _, body) = http(
            "POST",
            &format!("{}/v1/events", self.url),
            Some(key),
            Some(&e.to_string()),
        );
        assert_eq!(s, 201, "{body}");
    }

    fn report(&self, id: &str) -> Value {
        let (s, _, r) = http(
            "GET",
            &format!("{}/v1/campaigns/{id}/report", self.url),
            Some(&self.acme),
            None,
        );
        assert_eq!(s, 200, "{r}");
        r
    }
}

/// A fresh, well-formed session id (as the SDK makes one).
fn session(i: usize) -> String {
    format!("bot-{}-{i:05}", shoplook_store::random_hex(4))
}

fn a_bot_minting_sessions_is_charged_at_most_a_tenth_of_the_budget(backend: Backend) {
    not_near_midnight(300);
    let kind = backend.open().kind();
    let shop = Shop::open(backend);
    const BUDGET: i64 = 500; // 100 clicks at 5 cents
    let c = shop.campaign(BUDGET);
    // Round 1: 150 searches, each with a new session, its ad clicked at once.
    let mut served = 0;
    for i in 0..150 {
        let s = session(i);
        let (q, ad) = shop.search(Some(&s));
        if let Some(p) = ad {
            served += 1;
            shop.click(&shop.app, &q, &p, Some(&s));
        }
    }
    let r = shop.report(&c);
    let spend_at_once = r["total"]["spend_cents"].as_i64().unwrap();
    eprintln!(
        "{kind}: bot, 150 searches, fresh session each, {served} ads clicked at once: \
         {} clicks charged, spend {spend_at_once} of a {BUDGET} budget; invalid {}",
        r["total"]["clicks"], r["total"]["invalid_clicks"]
    );
    // Round 2: 150 more, waiting out any dwell time, then every click at once from 10 threads.
    let searches: Vec<(String, String)> = (150..300)
        .filter_map(|i| {
            let s = session(i);
            let (q, ad) = shop.search(Some(&s));
            ad.map(|p| (s, format!("{q} {p}")))
        })
        .collect();
    std::thread::sleep(Duration::from_millis(2100));
    let shop = &shop;
    std::thread::scope(|t| {
        for chunk in searches.chunks(15) {
            t.spawn(move || {
                for (s, qp) in chunk {
                    let (q, p) = qp.split_once(' ').unwrap();
                    shop.click(&shop.app, q, p, Some(s));
                }
            });
        }
    });
    let r = shop.report(&c);
    let spend = r["total"]["spend_cents"].as_i64().unwrap();
    eprintln!(
        "{kind}: + 150 searches clicked after 2.1 s, concurrently: {} clicks charged in all, \
         spend {spend} of {BUDGET} ({:.1} %); invalid {}",
        r["total"]["clicks"],
        100.0 * spend as f64 / BUDGET as f64,
        r["total"]["invalid_clicks"]
    );
    assert!(spend_at_once * 10 <= BUDGET, "at once: {spend_at_once}");
    assert!(spend * 10 <= BUDGET, "spent {spend} of {BUDGET}: {r}");
    assert!(spend > 0, "a patient key still gets its share: {r}");
    // Every click is accounted for: charged, or invalid with its reason.
    let invalid = &r["total"]["invalid_clicks"];
    let charged = r["total"]["clicks"].as_u64().unwrap();
    assert_eq!(charged + invalid["total"].as_u64().unwrap(), 300, "{r}");
    // Clock times are whole seconds: a click at once lands in the serve's second but for the
    // few that straddle a second's end (those count against the key's share like any other).
    assert!(
        invalid["by_reason"]["too_fast"].as_u64().unwrap() >= 140,
        "{r}"
    );
    assert!(
        invalid["by_reason"]["key_cap"].as_u64().unwrap() >= 130,
        "{r}"
    );
}

fn forged_and_replayed_clicks_are_not_billable(backend: Backend) {
    not_near_midnight(120);
    let shop = Shop::open(backend);
    let c = shop.campaign(100_000);
    let (q1, ad1) = shop.search(Some("honest-session-0001"));
    let (q2, ad2) = shop.search(Some("honest-session-0002"));
    let (q3, ad3) = shop.search(Some("honest-session-0003"));
    let (_, none) = shop.search(None);
    assert!(none.is_none(), "a search without a session gets no ad");
    let (ad1, ad2, ad3) = (ad1.unwrap(), ad2.unwrap(), ad3.unwrap());
    std::thread::sleep(Duration::from_millis(2100));
    // Another session's serve, and no session at all.
    shop.click(&shop.app, &q1, &ad1, Some("forged-session-9999"));
    shop.click(&shop.app, &q2, &ad2, None);
    // The genuine click, replayed 20 times concurrently: billed once.
    let shop = &shop;
    std::thread::scope(|t| {
        for _ in 0..20 {
            let (q3, ad3) = (&q3, &ad3);
            t.spawn(move || shop.click(&shop.app, q3, ad3, Some("honest-session-0003")));
        }
    });
    let r = shop.report(&c);
    eprintln!("forged/replayed: {}", r["total"]);
    assert_eq!(r["total"]["clicks"], 1, "{r}");
    assert_eq!(r["total"]["spend_cents"], 5, "{r}");
    let by = &r["total"]["invalid_clicks"]["by_reason"];
    assert_eq!(by["other_session"], 2, "{r}");
    assert_eq!(by["duplicate"], 1, "replays count once per search: {r}");
}

both_stores!(
    a_bot_minting_sessions_is_charged_at_most_a_tenth_of_the_budget,
    forged_and_replayed_clicks_are_not_billable,
);
