//! Sponsored products end to end: the real `serve` binary (two processes on one store where it
//! matters), real HTTP, both stores. The catalogue is a handful of products with vectors made
//! by hand, so every similarity is known: the query is `e0`; `shoe-b` is 0.9 similar to it,
//! `shoe-c` 0.8, the boots 0.7-0.52, `lamp` 0 (unrelated); the relevance floor is 0.5.
//!
//! - `budget_is_never_overspent`: 200 concurrent clicks through two servers against a budget
//!   that covers 50: exactly 50 charged, spend == budget (and the report says so).
//! - `a_click_is_charged_once_per_search`: repeats, other keys, organic clicks.
//! - `advertisers_see_only_their_own_campaigns`: 404 for another's, 403 for other roles.
//! - `unrelated_ads_are_never_shown`: the relevance floor, category filters, slot positions.
//! - `bad_campaigns_are_refused_and_write_nothing`.
//! - `report_counts_what_happened`, `pacing_spreads_the_budget_over_the_day`,
//!   `frequency_cap_per_session`.
//!
//! Every search carries a fresh session id (a search without one gets no ad) and its clicks
//! claim it; clicks wait out the least plausible dwell ([`dwell`]); the click filter's own
//! attacks are in `catalogue_click_fraud.rs`.

mod common;

use common::{Backend, Server, create_key, create_key_with, http, not_near_midnight, vector};
use serde_json::{Value, json};

/// A catalogue served by one or more `serve` processes, with the keys the tests use.
struct Market {
    servers: Vec<Server>,
    backend: Backend,
    model: String,
    dim: usize,
    admin: String,
    app: String,
}

/// (id, category, similarity to e0, axis of the rest).
const PRODUCTS: [(&str, &str, f64, usize); 8] = [
    ("shoe-b", "shoes", 0.9, 1),
    ("shoe-c", "shoes", 0.8, 2),
    ("boot-1", "shoes", 0.7, 3),
    ("boot-2", "shoes", 0.65, 4),
    ("boot-3", "shoes", 0.6, 6),
    ("boot-4", "shoes", 0.55, 7),
    ("boot-5", "shoes", 0.52, 8),
    ("lamp", "home", 0.0, 5),
];

impl Market {
    fn open(backend: Backend, servers: usize, flags: &[&str]) -> Market {
        let admin = create_key(&backend, "ops", true);
        let app = create_key(&backend, "phone", false);
        let mut args = vec!["--rate-limit", "0"];
        args.extend_from_slice(flags);
        let first = Server::start(&backend, &args);
        let (s, _, doc) = http("GET", &format!("{}/openapi.json", first.url), None, None);
        assert_eq!(s, 200);
        let emb = &doc["components"]["schemas"]["Embedding"];
        let dim = emb["minItems"].as_u64().unwrap() as usize;
        let model = doc["components"]["schemas"]["Model"]["enum"][0]
            .as_str()
            .unwrap()
            .to_string();
        let products: Vec<Value> = PRODUCTS
            .iter()
            .map(|(id, cat, cos, axis)| {
                json!({"id": id, "title": format!("Test {id}"), "brand": "Test", "price": 10.0,
                       "currency": "EUR", "category": cat, "image": format!("{id}.jpg"),
                       "url": format!("https://example.com/{id}"),
                       "embedding": vector(dim, *cos, *axis), "model": model})
            })
            .collect();
        let (s, _, body) = http(
            "PUT",
            &format!("{}/v1/products", first.url),
            Some(&admin),
            Some(&json!(products).to_string()),
        );
        assert_eq!(s, 200, "{body}");
        let mut all = vec![first];
        for _ in 1..servers {
            all.push(Server::start(&backend, &args));
        }
        Market {
            servers: all,
            backend,
            model,
            dim,
            admin,
            app,
        }
    }

    fn url(&self, server: usize, path: &str) -> String {
        format!("{}{path}", self.servers[server % self.servers.len()].url)
    }

    fn advertiser(&self, name: &str) -> String {
        create_key_with(&self.backend, name, &["--role", "advertiser"])
    }

    /// Creates a campaign (201) and returns it.
    fn campaign(&self, key: &str, body: Value) -> Value {
        let (s, _, c) = http(
            "POST",
            &self.url(0, "/v1/campaigns"),
            Some(key),
            Some(&body.to_string()),
        );
        assert_eq!(s, 201, "{c}");
        c
    }

    /// A search for `e0` (or `query`) through server `server`, in a fresh session unless
    /// `extra` names one (or `null`: none); the response gets the session as `_session`.
    fn search(&self, server: usize, extra: Value) -> Value {
        self.search_as(&self.app, server, extra)
    }

    fn search_as(&self, key: &str, server: usize, extra: Value) -> Value {
        let session = format!("test-{}", shoplook_store::random_hex(6));
        let mut body = json!({"embedding": vector(self.dim, 1.0, 1), "model": self.model, "k": 5,
                              "session_id": session});
        body.as_object_mut()
            .unwrap()
            .extend(extra.as_object().unwrap().clone());
        if body["session_id"].is_null() {
            body.as_object_mut().unwrap().remove("session_id");
        }
        let (s, _, mut r) = http(
            "POST",
            &self.url(server, "/v1/search"),
            Some(key),
            Some(&body.to_string()),
        );
        assert_eq!(s, 200, "{r}");
        r["_session"] = body["session_id"].clone();
        r
    }

    /// Clicks `product` of search `r` (as the app key, unless `key`); the event's status.
    fn click(&self, server: usize, r: &Value, product: &str, key: Option<&str>) -> u16 {
        let pos = r["results"]
            .as_array()
            .unwrap()
            .iter()
            .position(|h| h["id"] == product)
            .map_or(1, |i| i + 1);
        let mut e = json!({"type": "click", "product_id": product, "query_id": r["query_id"],
                           "position": pos});
        if r["_session"].is_string() {
            e["session_id"] = r["_session"].clone();
        }
        let (s, _, body) = http(
            "POST",
            &self.url(server, "/v1/events"),
            Some(key.unwrap_or(&self.app)),
            Some(&e.to_string()),
        );
        assert!(s == 201, "{s} {body}");
        s
    }

    fn get(&self, key: &str, path: &str) -> (u16, Value) {
        let (s, _, v) = http("GET", &self.url(0, path), Some(key), None);
        (s, v)
    }

    fn report(&self, key: &str, id: &str) -> Value {
        let (s, r) = self.get(key, &format!("/v1/campaigns/{id}/report"));
        assert_eq!(s, 200, "{r}");
        r
    }
}

/// The sponsored hits of a response: (position, id, campaign id).
fn sponsored(r: &Value) -> Vec<(usize, String, String)> {
    r["results"]
        .as_array()
        .unwrap()
        .iter()
        .enumerate()
        .filter(|(_, h)| h["sponsored"] == true)
        .map(|(i, h)| {
            (
                i + 1,
                h["id"].as_str().unwrap().to_string(),
                h["campaign_id"].as_str().unwrap().to_string(),
            )
        })
        .collect()
}

/// Organic hits say so, and carry no campaign; sponsored ones carry theirs.
fn check_labels(r: &Value) {
    for h in r["results"].as_array().unwrap() {
        match h["sponsored"].as_bool() {
            Some(false) => assert!(h.get("campaign_id").is_none(), "{h}"),
            Some(true) => {
                assert!(
                    h["campaign_id"].as_str().unwrap().starts_with("cmp_"),
                    "{h}"
                );
                assert_eq!(h["score"], h["similarity"], "{h}");
            }
            None => panic!("no `sponsored` in {h}"),
        }
    }
}

/// Waits out the least time a person takes to click an ad after it is served (the filter
/// refuses clicks in the same second as the serve).
fn dwell() {
    std::thread::sleep(std::time::Duration::from_millis(1100));
}

fn id(c: &Value) -> String {
    c["id"].as_str().unwrap().to_string()
}

fn today() -> String {
    shoplook_store::iso_date(shoplook_store::now_s().div_euclid(86_400))
}

fn budget_is_never_overspent(backend: Backend) {
    not_near_midnight(300);
    let m = Market::open(backend, 2, &[]);
    let a = m.advertiser("acme");
    let b = m.advertiser("rival");
    // acme outbids rival; at equal predicted click rates (nothing learned yet) a click costs
    // rival's bid, 30 cents. The budget covers 50 clicks.
    let ours = m.campaign(
        &a,
        json!({"name": "Boots", "product_id": "shoe-b", "bid_cents": 100,
               "daily_budget_cents": 1500, "pacing": "asap", "frequency_cap": 1000}),
    );
    m.campaign(
        &b,
        json!({"name": "Rival", "product_id": "shoe-c", "bid_cents": 30,
               "daily_budget_cents": 100000, "pacing": "asap"}),
    );
    // 200 searches through both servers, each showing acme's ad first, by 20 app keys: one
    // key's clicks may cost a campaign 10 % of its budget an hour (the click filter).
    let apps: Vec<String> = (0..20)
        .map(|i| create_key(&m.backend, &format!("phone-{i}"), false))
        .collect();
    let searches: Vec<(usize, Value)> = (0..200)
        .map(|i| (i % 20, m.search_as(&apps[i % 20], i, json!({}))))
        .collect();
    for (_, r) in &searches {
        check_labels(r);
        assert_eq!(sponsored(r), [(1, "shoe-b".to_string(), id(&ours))], "{r}");
    }
    dwell();
    // 200 clicks at once, half through each server.
    let (m, apps) = (&m, &apps);
    std::thread::scope(|s| {
        for (t, chunk) in searches.chunks(10).enumerate() {
            s.spawn(move || {
                for (k, r) in chunk {
                    m.click(t, r, "shoe-b", Some(&apps[*k]));
                }
            });
        }
    });
    let (_, c) = m.get(&a, &format!("/v1/campaigns/{}", id(&ours)));
    let r = m.report(&a, &id(&ours));
    eprintln!(
        "{} store: 200 concurrent clicks, budget 1500 = 50 clicks at 30: charged {} clicks, \
         spend {} (campaign says {})",
        m.backend.open().kind(),
        r["total"]["clicks"],
        r["total"]["spend_cents"],
        c["spent_today_cents"]
    );
    assert_eq!(r["total"]["clicks"], 50);
    assert_eq!(r["total"]["spend_cents"], 1500);
    assert_eq!(c["spent_today_cents"], 1500);
    assert_eq!(r["total"]["impressions"], 200);
    // The same 200 clicks again change nothing.
    for (i, (k, r)) in searches.iter().enumerate() {
        m.click(i, r, "shoe-b", Some(&apps[*k]));
    }
    assert_eq!(m.report(&a, &id(&ours))["total"]["spend_cents"], 1500);
}

fn a_click_is_charged_once_per_search(backend: Backend) {
    not_near_midnight(120);
    let m = Market::open(backend, 1, &["--ad-reserve-cents", "7"]);
    let a = m.advertiser("acme");
    let c = m.campaign(
        &a,
        json!({"name": "Boots", "product_id": "shoe-b", "bid_cents": 100,
               "daily_budget_cents": 10000}),
    );
    let r = m.search(0, json!({}));
    assert_eq!(sponsored(&r), [(1, "shoe-b".to_string(), id(&c))]);
    // Alone in the auction: the reserve price. Five clicks on one search: charged once.
    dwell();
    for _ in 0..5 {
        m.click(0, &r, "shoe-b", None);
    }
    // Another key clicking this search's ad, and a click on an organic result: not charged.
    let other = create_key(&m.backend, "other-app", false);
    m.click(0, &r, "shoe-b", Some(&other));
    m.click(0, &r, "shoe-c", None);
    let total = &m.report(&a, &id(&c))["total"];
    assert_eq!(
        (&total["clicks"], &total["spend_cents"]),
        (&json!(1), &json!(7))
    );
    // A new search is a new click.
    let r2 = m.search(0, json!({}));
    dwell();
    m.click(0, &r2, "shoe-b", None);
    assert_eq!(m.report(&a, &id(&c))["total"]["spend_cents"], 14);
}

fn advertisers_see_only_their_own_campaigns(backend: Backend) {
    let m = Market::open(backend, 1, &[]);
    let a = m.advertiser("acme");
    let b = m.advertiser("rival");
    let mine = m.campaign(
        &a,
        json!({"name": "Boots", "product_id": "shoe-b", "bid_cents": 100,
               "daily_budget_cents": 10000}),
    );
    // Owned by the key's id (`keys list`), not its name.
    let owner = mine["advertiser"].as_str().unwrap();
    assert!(owner.starts_with("key_") && owner.len() == 20, "{owner}");
    assert_eq!(
        (&mine["status"], &mine["currency"]),
        (&json!("active"), &json!("EUR"))
    );
    let theirs = m.campaign(
        &b,
        json!({"name": "Rival", "product_id": "shoe-c", "bid_cents": 50,
               "daily_budget_cents": 10000}),
    );
    let mid = id(&mine);
    // B can neither see, pause nor read the report of A's campaign: 404, as if none.
    for (method, path) in [
        ("GET", format!("/v1/campaigns/{mid}")),
        ("POST", format!("/v1/campaigns/{mid}/pause")),
        ("POST", format!("/v1/campaigns/{mid}/resume")),
        ("GET", format!("/v1/campaigns/{mid}/report")),
    ] {
        let (s, _, e) = http(method, &m.url(0, &path), Some(&b), Some(""));
        assert_eq!(
            (s, e["error"]["code"].as_str()),
            (404, Some("not_found")),
            "{path}"
        );
    }
    let (_, list) = m.get(&b, "/v1/campaigns");
    let ids: Vec<&str> = list["campaigns"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| c["id"].as_str().unwrap())
        .collect();
    assert_eq!(ids, [theirs["id"].as_str().unwrap()]);
    // Still served: B's attempt to pause did nothing.
    assert_eq!(sponsored(&m.search(0, json!({})))[0].2, mid);
    // Other roles: 403 on campaigns; an advertiser cannot write the catalogue.
    let brand = create_key_with(
        &m.backend,
        "acme-brand",
        &["--role", "brand", "--brand", "Test"],
    );
    for key in [&m.app, &brand] {
        let (s, _, e) = http("GET", &m.url(0, "/v1/campaigns"), Some(key), None);
        assert_eq!(
            (s, e["error"]["code"].as_str()),
            (403, Some("forbidden")),
            "{e}"
        );
    }
    let (s, _, _) = http("DELETE", &m.url(0, "/v1/products/lamp"), Some(&a), None);
    assert_eq!(s, 403);
    // The admin sees both; A pauses its own: no longer served, then resumes.
    let (_, all) = m.get(&m.admin, "/v1/campaigns");
    assert_eq!(all["campaigns"].as_array().unwrap().len(), 2);
    assert_eq!(m.get(&m.admin, &format!("/v1/campaigns/{mid}")).0, 200);
    let (s, _, paused) = http(
        "POST",
        &m.url(0, &format!("/v1/campaigns/{mid}/pause")),
        Some(&a),
        None,
    );
    assert_eq!((s, &paused["status"]), (200, &json!("paused")));
    let r = m.search(0, json!({}));
    assert!(
        sponsored(&r).iter().all(|s| s.2 != mid),
        "paused yet served: {r}"
    );
    let (s, _, resumed) = http(
        "POST",
        &m.url(0, &format!("/v1/campaigns/{mid}/resume")),
        Some(&a),
        None,
    );
    assert_eq!((s, &resumed["status"]), (200, &json!("active")));
    assert_eq!(sponsored(&m.search(0, json!({})))[0].2, mid);
}

fn unrelated_ads_are_never_shown(backend: Backend) {
    let m = Market::open(backend, 1, &["--ad-positions", "1,3"]);
    let a = m.advertiser("acme");
    // The highest bid there can be, for a product unrelated to the query.
    let lamp = m.campaign(
        &a,
        json!({"name": "Lamp", "product_id": "lamp", "bid_cents": 100000,
               "daily_budget_cents": 1000000, "pacing": "asap", "frequency_cap": 1000}),
    );
    let boots = m.campaign(
        &a,
        json!({"name": "Boots", "product_id": "boot-5", "bid_cents": 20,
               "daily_budget_cents": 1000000, "pacing": "asap", "frequency_cap": 1000}),
    );
    let shoe = m.campaign(
        &a,
        json!({"name": "Shoe", "product_id": "shoe-c", "bid_cents": 40,
               "daily_budget_cents": 1000000, "pacing": "asap", "frequency_cap": 1000}),
    );
    for _ in 0..20 {
        let r = m.search(0, json!({}));
        check_labels(&r);
        assert!(
            r["results"]
                .as_array()
                .unwrap()
                .iter()
                .all(|h| h["id"] != "lamp"),
            "the unrelated lamp was shown: {r}"
        );
        // Both relevant campaigns fill the two slots (1 and 3), best bid first, and their
        // products are not shown again as organic results.
        let ads = sponsored(&r);
        assert_eq!(
            ads,
            [
                (1, "shoe-c".to_string(), id(&shoe)),
                (3, "boot-5".to_string(), id(&boots))
            ],
            "{r}"
        );
        let ids: Vec<&str> = r["results"]
            .as_array()
            .unwrap()
            .iter()
            .map(|h| h["id"].as_str().unwrap())
            .collect();
        assert_eq!(ids, ["shoe-c", "shoe-b", "boot-5", "boot-1", "boot-2"]);
    }
    // The floor is what kept the lamp out: a query near the lamp gets its ad.
    let near_lamp = m.search(0, json!({"embedding": vector(m.dim, 0.0, 5)}));
    assert_eq!(sponsored(&near_lamp)[0].2, id(&lamp), "{near_lamp}");
    // An ad must pass the search's category and filters too.
    let home = m.search(0, json!({"category": "home"}));
    assert!(sponsored(&home).is_empty(), "{home}");
    let cheap = m.search(0, json!({"filters": {"max_price": 5.0}}));
    assert!(cheap["results"].as_array().unwrap().is_empty(), "{cheap}");
    // k = 1 leaves the one result organic.
    let one = m.search(0, json!({"k": 1}));
    assert_eq!(one["results"][0]["sponsored"], false);
    // No campaign, no ads: a server with --ad-positions none.
    let off = Server::start(&m.backend, &["--rate-limit", "0", "--ad-positions", "none"]);
    let body = json!({"embedding": vector(m.dim, 1.0, 1), "model": m.model, "k": 5});
    let (_, _, r) = http(
        "POST",
        &format!("{}/v1/search", off.url),
        Some(&m.app),
        Some(&body.to_string()),
    );
    assert!(sponsored(&r).is_empty(), "{r}");
}

fn bad_campaigns_are_refused_and_write_nothing(backend: Backend) {
    let m = Market::open(backend, 1, &[]);
    let a = m.advertiser("acme");
    let now = shoplook_store::now_s();
    let good = json!({"name": "Boots", "product_id": "shoe-b", "bid_cents": 100,
                      "daily_budget_cents": 10000});
    let cases: Vec<(Value, &str)> = vec![
        (json!({"bid_cents": -5}), "`bid_cents`"),
        (json!({"bid_cents": 0}), "`bid_cents`"),
        (json!({"bid_cents": 4}), "reserve"),
        (json!({"bid_cents": 1.5}), "`bid_cents` must be an integer"),
        (
            json!({"bid_cents": "100"}),
            "`bid_cents` must be an integer",
        ),
        (json!({"bid_cents": 100_001}), "`bid_cents`"),
        (json!({"daily_budget_cents": 0}), "`daily_budget_cents`"),
        (json!({"daily_budget_cents": -100}), "`daily_budget_cents`"),
        (json!({"product_id": "no-such-product"}), "unknown product"),
        (json!({"product_id": ""}), "`product_id`"),
        (json!({"name": ""}), "`name`"),
        (json!({"name": " padded "}), "`name`"),
        (
            json!({"starts_at": now + 1000, "ends_at": now + 500}),
            "after `starts_at`",
        ),
        (json!({"ends_at": now - 10}), "in the past"),
        (json!({"frequency_cap": 0}), "`frequency_cap`"),
        (json!({"pacing": "fast"}), "pacing"),
        (json!({"colour": "red"}), "unknown field"),
    ];
    for (spoil, says) in cases {
        let mut body = good.clone();
        body.as_object_mut()
            .unwrap()
            .extend(spoil.as_object().unwrap().clone());
        let (s, _, e) = http(
            "POST",
            &m.url(0, "/v1/campaigns"),
            Some(&a),
            Some(&body.to_string()),
        );
        let msg = e["error"]["message"].as_str().unwrap_or_default();
        assert_eq!(
            (s, e["error"]["code"].as_str()),
            (400, Some("bad_request")),
            "{body}: {e}"
        );
        assert!(msg.contains(says), "{body}: {msg:?} should say {says:?}");
    }
    for body in ["", "[]", "{\"name\": \"x\"}", "not json"] {
        let (s, _, _) = http("POST", &m.url(0, "/v1/campaigns"), Some(&a), Some(body));
        assert_eq!(s, 400, "{body}");
    }
    // Nothing was written: no campaign, and searches show no ad.
    let (_, all) = m.get(&m.admin, "/v1/campaigns");
    assert_eq!(all["campaigns"], json!([]));
    assert!(sponsored(&m.search(0, json!({}))).is_empty());
    // The good one passes.
    m.campaign(&a, good);
}

fn report_counts_what_happened(backend: Backend) {
    not_near_midnight(120);
    let m = Market::open(backend, 1, &[]);
    let a = m.advertiser("acme");
    let c = m.campaign(
        &a,
        json!({"name": "Boots", "product_id": "shoe-b", "bid_cents": 100,
               "daily_budget_cents": 100000, "pacing": "asap", "frequency_cap": 1000}),
    );
    let empty = m.report(&a, &id(&c));
    assert_eq!(empty["days"], json!([]));
    let invalid = |duplicate: u64| {
        let mut by_reason = json!({});
        for reason in [
            "other_key",
            "other_session",
            "expired",
            "too_fast",
            "duplicate",
            "session_cap",
            "key_cap",
            "over_budget",
        ] {
            by_reason[reason] = json!(if reason == "duplicate" { duplicate } else { 0 });
        }
        json!({"total": duplicate, "by_reason": by_reason})
    };
    assert_eq!(
        empty["total"],
        json!({"impressions": 0, "clicks": 0, "spend_cents": 0, "click_rate": 0.0,
               "invalid_clicks": invalid(0)})
    );
    // 8 searches show the ad; 3 of them are clicked (one twice: the second is invalid, a
    // duplicate). Alone: the reserve, 5 cents.
    let searches: Vec<Value> = (0..8).map(|_| m.search(0, json!({}))).collect();
    dwell();
    for r in &searches[..3] {
        m.click(0, r, "shoe-b", None);
    }
    m.click(0, &searches[0], "shoe-b", None);
    let r = m.report(&a, &id(&c));
    let want = json!({"impressions": 8, "clicks": 3, "spend_cents": 15, "click_rate": 0.375,
                      "invalid_clicks": invalid(1)});
    assert_eq!(r["total"], want, "{r}");
    let mut day = want.clone();
    day["date"] = json!(today());
    assert_eq!(r["days"], json!([day]));
    assert_eq!(
        (&r["campaign_id"], &r["currency"]),
        (&c["id"], &json!("EUR"))
    );
    // The console shows the same totals to its advertiser and to an admin; nothing to others.
    let row = format!(
        "data-campaign=\"{}\" data-advertiser=\"{}\" data-spend-cents=\"15\" \
         data-clicks=\"3\" data-impressions=\"8\"",
        id(&c),
        c["advertiser"].as_str().unwrap()
    );
    let page = |key: &str| -> String {
        let mut resp = ureq::get(&m.url(0, "/console"))
            .header("Cookie", &format!("shoplook_key={key}"))
            .call()
            .expect("console page");
        resp.body_mut().read_to_string().unwrap()
    };
    assert!(page(&a).contains(&row) && page(&m.admin).contains(&row));
    assert!(page(&a).contains("0.15 EUR / 1000.00 EUR"), "{}", page(&a));
    let rival = page(&m.advertiser("rival")); // its own (empty) section only
    assert!(rival.contains("id=\"campaigns\"") && !rival.contains(&id(&c)));
    assert!(!page(&m.app).contains("id=\"campaigns\""));
}

fn pacing_spreads_the_budget_over_the_day(backend: Backend) {
    not_near_midnight(300);
    // Just after midnight even pacing allows a few cents, and the cap grows faster than clicks
    // that wait out their dwell can spend: the ad would never stop. Start 5 minutes in.
    let into_day = shoplook_store::now_s().rem_euclid(86_400);
    std::thread::sleep(std::time::Duration::from_secs(
        (300 - into_day).max(0) as u64
    ));
    const BUDGET: i64 = 1_000_000;
    let cap_at = |t: i64| BUDGET * t.rem_euclid(86_400) / 86_400;
    // A reserve price (the price of every click here: one campaign) of a tenth of what even
    // pacing allows now: about ten clicks are charged, then the ad stops.
    let reserve = (cap_at(shoplook_store::now_s()) / 10).clamp(1, 100_000);
    let reserve_flag = reserve.to_string();
    let m = Market::open(
        backend,
        1,
        &[
            "--ad-pacing-slack",
            "0",
            "--ad-reserve-cents",
            &reserve_flag,
        ],
    );
    let a = m.advertiser("acme");
    // Started at midnight: the whole day is its pacing window.
    let midnight = shoplook_store::now_s().div_euclid(86_400) * 86_400;
    let c = m.campaign(
        &a,
        json!({"name": "Boots", "product_id": "shoe-b", "bid_cents": 100000,
               "daily_budget_cents": BUDGET, "pacing": "even", "frequency_cap": 1000,
               "starts_at": midnight}),
    );
    // Clicks come through 16 app keys: one key's may cost a campaign only 10 % of its daily
    // budget an hour (at least one click), and here a click can cost 10 % of it.
    let apps: Vec<String> = (0..16)
        .map(|i| create_key(&m.backend, &format!("phone-{i}"), false))
        .collect();
    let t_start = shoplook_store::now_s();
    let mut unshown = 0;
    for i in 0..2000 {
        let app = &apps[i % apps.len()];
        let r = m.search_as(app, 0, json!({}));
        if sponsored(&r).is_empty() {
            // Stopped: past the paced cap (the server's view of the spend is at most 1 s old).
            unshown += 1;
            if unshown == 3 {
                break;
            }
            std::thread::sleep(std::time::Duration::from_millis(1100));
        } else {
            dwell();
            m.click(0, &r, "shoe-b", Some(app));
        }
    }
    let t_end = shoplook_store::now_s();
    let spent = m.report(&a, &id(&c))["total"]["spend_cents"]
        .as_i64()
        .unwrap();
    eprintln!(
        "{} store: even pacing, budget {BUDGET}, price {reserve}: spent {spent} by {}s into the \
         day (cap {}..{})",
        m.backend.open().kind(),
        t_end.rem_euclid(86_400),
        cap_at(t_start),
        cap_at(t_end)
    );
    assert_eq!(unshown, 3, "the ad never stopped");
    assert!(
        spent <= cap_at(t_end),
        "spent {spent} past the paced cap {}",
        cap_at(t_end)
    );
    assert!(
        spent + reserve > cap_at(t_start),
        "stopped early: {spent} of {}",
        cap_at(t_start)
    );
    assert!(spent < BUDGET);
}

fn frequency_cap_per_session(backend: Backend) {
    not_near_midnight(120);
    let m = Market::open(backend, 1, &[]);
    let a = m.advertiser("acme");
    let c = m.campaign(
        &a,
        json!({"name": "Boots", "product_id": "shoe-b", "bid_cents": 100,
               "daily_budget_cents": 100000, "frequency_cap": 2}),
    );
    let shown =
        |session: Option<&str>| !sponsored(&m.search(0, json!({"session_id": session}))).is_empty();
    let first: Vec<bool> = (0..5).map(|_| shown(Some("session-aaaa-1"))).collect();
    assert_eq!(first, [true, true, false, false, false]);
    assert!(shown(Some("session-bbbb-2")), "another session sees it");
    assert!(
        (0..4).all(|_| !shown(None)),
        "no session id: no cap to apply, so no ad"
    );
    // The campaign's own default: the server's (3).
    let d = m.campaign(
        &a,
        json!({"name": "Shoe", "product_id": "shoe-c", "bid_cents": 100,
               "daily_budget_cents": 100000}),
    );
    assert_eq!(d["frequency_cap"], 3);
    assert_eq!(m.report(&a, &id(&c))["total"]["impressions"], 2 + 1);
}

both_stores!(
    budget_is_never_overspent,
    a_click_is_charged_once_per_search,
    advertisers_see_only_their_own_campaigns,
    unrelated_ads_are_never_shown,
    bad_campaigns_are_refused_and_write_nothing,
    report_counts_what_happened,
    pacing_spreads_the_budget_over_the_day,
    frequency_cap_per_session,
);
