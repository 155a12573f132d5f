//! Keys (issue 22, item 6), as an attacker and an operator meet them: the real `serve` binary,
//! real HTTP, both stores.
//!
//! - `a_namesake_key_cannot_manage_an_advertisers_campaigns`: a second advertiser key given
//!   the same name as acme's (names are labels, not owners) neither lists, reads, pauses nor
//!   reports acme's campaign; campaigns belong to the id of the key that made them.
//! - `a_revoked_key_is_refused_at_once_by_every_server`: two servers share one store and have
//!   both just accepted a key; `keys revoke ID` on the command line, and the very next request
//!   to either server is 401; `keys list` shows the key revoked, its sibling of the same name
//!   still works, an unknown id is an error that changes nothing.
//! - `metrics_need_an_admin_key`: `/metrics` (traffic and failure rates by route) is 401
//!   without a key, 403 with an app or advertiser key, 200 with an admin key.

mod common;

use common::{Backend, Server, create_key, http, issue_key as issue, run, vector};
use serde_json::{Value, json};

/// `keys <args>` on `backend`: (ok, stdout, stderr).
fn keys(backend: &Backend, args: &[&str]) -> (bool, String, String) {
    let mut all: Vec<String> = std::iter::once("keys")
        .chain(args.iter().copied())
        .map(String::from)
        .collect();
    all.extend(backend.args());
    run(&all)
}

/// Puts product `shoe-b` in the catalogue (a campaign promotes a product of it).
fn stock(url: &str, admin: &str) {
    let (_, _, doc) = http("GET", &format!("{url}/openapi.json"), None, None);
    let dim = doc["components"]["schemas"]["Embedding"]["minItems"]
        .as_u64()
        .unwrap() as usize;
    let model = doc["components"]["schemas"]["Model"]["enum"][0].clone();
    let product = json!([{"id": "shoe-b", "title": "Boot", "brand": "Test", "price": 10.0,
        "currency": "EUR", "category": "shoes", "image": "shoe-b.jpg",
        "url": "https://example.com/shoe-b", "embedding": vector(dim, 0.9, 1), "model": model}]);
    let (s, _, body) = http(
        "PUT",
        &format!("{url}/v1/products"),
        Some(admin),
        Some(&product.to_string()),
    );
    assert_eq!(s, 200, "{body}");
}

fn a_namesake_key_cannot_manage_an_advertisers_campaigns(backend: Backend) {
    let admin = create_key(&backend, "ops", true);
    let (acme, acme_id) = issue(&backend, "acme", &["--role", "advertiser"]);
    let (namesake, namesake_id) = issue(&backend, "acme", &["--role", "advertiser"]);
    assert_ne!(acme_id, namesake_id);
    let server = Server::start(&backend, &["--rate-limit", "0"]);
    let url = &server.url;
    stock(url, &admin);
    let body = json!({"name": "Boots", "product_id": "shoe-b", "bid_cents": 5,
                      "daily_budget_cents": 500});
    let (s, _, c) = http(
        "POST",
        &format!("{url}/v1/campaigns"),
        Some(&acme),
        Some(&body.to_string()),
    );
    assert_eq!(s, 201, "{c}");
    assert_eq!(c["advertiser"], json!(acme_id));
    let cid = c["id"].as_str().unwrap();
    let list = |key: &str| -> Vec<Value> {
        let (s, _, l) = http("GET", &format!("{url}/v1/campaigns"), Some(key), None);
        assert_eq!(s, 200, "{l}");
        l["campaigns"].as_array().unwrap().clone()
    };
    assert!(list(&namesake).is_empty(), "the namesake lists nothing");
    for (method, path) in [
        ("GET", format!("/v1/campaigns/{cid}")),
        ("POST", format!("/v1/campaigns/{cid}/pause")),
        ("GET", format!("/v1/campaigns/{cid}/report")),
    ] {
        let (s, _, e) = http(method, &format!("{url}{path}"), Some(&namesake), Some(""));
        assert_eq!(
            (s, e["error"]["code"].as_str()),
            (404, Some("not_found")),
            "{path}"
        );
    }
    let mine = list(&acme);
    assert_eq!(mine.len(), 1);
    assert_eq!(
        mine[0]["status"], "active",
        "the namesake's pause did nothing"
    );
    assert_eq!(list(&admin).len(), 1, "admins see every campaign");
}

fn a_revoked_key_is_refused_at_once_by_every_server(backend: Backend) {
    let (phone, phone_id) = issue(&backend, "phone", &[]);
    let (sibling, _) = issue(&backend, "phone", &[]);
    let servers = [Server::start(&backend, &[]), Server::start(&backend, &[])];
    let campaigns = |s: &Server, key: &str| {
        // Any keyed route: 403 for an app key that is known, 401 for one that is not.
        http("GET", &format!("{}/v1/campaigns", s.url), Some(key), None).0
    };
    for s in &servers {
        assert_eq!(campaigns(s, &phone), 403, "known to {}", s.url);
    }
    let (ok, _, err) = keys(&backend, &["revoke", &phone_id]);
    assert!(ok, "{err}");
    assert!(err.contains(&format!("revoked key {phone_id}")), "{err}");
    for s in &servers {
        let (status, _, e) = http(
            "GET",
            &format!("{}/v1/campaigns", s.url),
            Some(&phone),
            None,
        );
        assert_eq!(
            (status, e["error"]["code"].as_str()),
            (401, Some("unauthorized")),
            "revoked, at once, on {}",
            s.url
        );
        assert_eq!(campaigns(s, &sibling), 403, "the sibling key still works");
    }
    // The listing shows every key, the revoked one with its date, and no secret.
    let (ok, out, err) = keys(&backend, &["list", "--json"]);
    assert!(ok, "{err}");
    let listed: Vec<Value> = out
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    assert_eq!(listed.len(), 2, "{out}");
    let revoked = listed.iter().find(|k| k["id"] == json!(phone_id)).unwrap();
    assert!(revoked["revoked_at"].is_i64(), "{revoked}");
    assert!(
        listed
            .iter()
            .all(|k| k["name"] == "phone" && k["role"] == "app")
    );
    assert!(!out.contains("slk_"), "no secret is listed");
    let (ok, table, _) = keys(&backend, &["list"]);
    assert!(
        ok && table.contains(&phone_id) && table.contains("\"phone\""),
        "{table}"
    );
    // Again: said so, nothing changes. An unknown id or a name: an error.
    let (ok, _, err) = keys(&backend, &["revoke", &phone_id]);
    assert!(ok && err.contains("was revoked before"), "{err}");
    for bad in ["key_0000000000000000", "phone"] {
        let (ok, _, err) = keys(&backend, &["revoke", bad]);
        assert!(!ok && err.contains("no key has the id"), "{bad}: {err}");
    }
    assert_eq!(campaigns(&servers[0], &sibling), 403);
}

fn metrics_need_an_admin_key(backend: Backend) {
    let admin = create_key(&backend, "ops", true);
    let app = create_key(&backend, "phone", false);
    let (ads, _) = issue(&backend, "acme", &["--role", "advertiser"]);
    let server = Server::start(&backend, &[]);
    let metrics = |key: Option<&str>| {
        let (s, _, body) = http("GET", &format!("{}/metrics", server.url), key, None);
        (s, body)
    };
    let (s, e) = metrics(None);
    assert_eq!(
        (s, e["error"]["code"].as_str()),
        (401, Some("unauthorized"))
    );
    for key in [&app, &ads] {
        let (s, e) = metrics(Some(key));
        assert_eq!((s, e["error"]["code"].as_str()), (403, Some("forbidden")));
    }
    let (s, text) = metrics(Some(&admin));
    assert_eq!(s, 200);
    assert!(
        text.as_str()
            .unwrap()
            .contains("shoplook_http_requests_total"),
        "{text}"
    );
}

both_stores!(
    a_namesake_key_cannot_manage_an_advertisers_campaigns,
    a_revoked_key_is_refused_at_once_by_every_server,
    metrics_need_an_admin_key,
);
