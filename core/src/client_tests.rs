//! Tests of the catalogue client (`client.rs`): request shapes, status mapping, transports.

use std::sync::Mutex;

use super::*;

/// A transport that records each request and answers from a script (what an app's
/// transport would return), to check what the client sends and how it reads answers.
struct Scripted {
    answers: Mutex<Vec<std::result::Result<HttpResponse, String>>>,
    seen: Mutex<Vec<HttpRequest>>,
}

impl Scripted {
    fn new(answers: Vec<std::result::Result<HttpResponse, String>>) -> Arc<Self> {
        Arc::new(Scripted {
            answers: Mutex::new(answers),
            seen: Mutex::new(Vec::new()),
        })
    }
}

impl Transport for Scripted {
    fn send(&self, request: &HttpRequest) -> std::result::Result<HttpResponse, String> {
        self.seen.lock().unwrap().push(request.clone());
        self.answers.lock().unwrap().remove(0)
    }
}

fn answer(status: u16, headers: &[(&str, &str)], body: &str) -> HttpResponse {
    HttpResponse {
        status,
        headers: headers
            .iter()
            .map(|(n, v)| (n.to_string(), v.to_string()))
            .collect(),
        body: body.as_bytes().to_vec(),
    }
}

fn contract(dim: usize) -> ModelContract {
    ModelContract {
        id: "m".into(),
        version: "1".into(),
        dim,
    }
}

#[test]
fn app_transport_gets_the_request_and_its_answer_is_read() {
    let t = Scripted::new(vec![
        Err("no route to host".into()),
        Ok(answer(503, &[], "busy")),
        Ok(answer(
            200,
            &[("Content-Type", "application/json")],
            r#"{"results":[],"query_id":"q1","model":"m@1"}"#,
        )),
    ]);
    let c = CatalogueClient::with_transport("https://cat.example/", "slk_k", t.clone())
        .unwrap()
        .timeout(Duration::from_secs(3))
        .retries(2, Duration::from_millis(1));
    let found = c
        .search_vector(
            &[0.6, 0.8],
            &contract(2),
            Some("shoes"),
            5,
            &SearchFilters::default(),
        )
        .unwrap();
    assert_eq!(found.query_id, "q1");
    let seen = t.seen.lock().unwrap();
    assert_eq!(seen.len(), 3, "an offline try and a 503 are retried");
    let r = &seen[2];
    assert_eq!(r.method, "POST");
    assert_eq!(r.url, "https://cat.example/v1/search");
    assert_eq!(r.timeout, Duration::from_secs(3));
    assert!(
        r.headers
            .contains(&("Authorization".into(), "Bearer slk_k".into()))
    );
    assert!(
        r.headers
            .contains(&("Content-Type".into(), "application/json".into()))
    );
    let body: serde_json::Value = serde_json::from_slice(&r.body).unwrap();
    assert_eq!(body["model"], "m@1");
    assert_eq!(body["k"], 5);
    assert_eq!(body["category"], "shoes");
}

/// An answer of the app's transport and the error it must become.
type StatusCase = (HttpResponse, fn(&Error) -> bool);

#[test]
fn app_transport_statuses_map_to_typed_errors() {
    let cases: Vec<StatusCase> = vec![
        (
            answer(
                401,
                &[],
                r#"{"error":{"code":"unauthorized","message":"bad key"}}"#,
            ),
            |e| matches!(e, Error::Unauthorized { detail } if detail == "bad key"),
        ),
        (answer(429, &[("Retry-After", " 7 ")], ""), |e| {
            matches!(e, Error::RateLimited { retry_after_s: 7 })
        }),
        (answer(404, &[], "gone"), |e| {
            matches!(e, Error::BadRequest { status: 404, .. })
        }),
        (answer(200, &[], "not json"), |e| {
            matches!(e, Error::Server { status: 200, .. })
        }),
        (
            HttpResponse {
                status: 200,
                headers: vec![],
                body: vec![b' '; MAX_BODY as usize + 1],
            },
            |e| matches!(e, Error::Server { .. }),
        ),
    ];
    for (response, expected) in cases {
        let t = Scripted::new(vec![Ok(response.clone())]);
        // No retries: 5xx-class errors (the oversized answer) would be asked for again.
        let c = CatalogueClient::with_transport("http://h", "k", t)
            .unwrap()
            .retries(0, Duration::ZERO);
        let err = c.product("p 1").unwrap_err();
        assert!(expected(&err), "status {}: {err:?}", response.status);
    }
    let t = Scripted::new(vec![Ok(answer(200, &[], "{}"))]);
    let c = CatalogueClient::with_transport("http://h", "k", t.clone()).unwrap();
    let _ = c.product("a b/c");
    let seen = t.seen.lock().unwrap();
    assert_eq!(seen[0].method, "GET");
    assert_eq!(seen[0].url, "http://h/v1/products/a%20b%2Fc");
    assert!(seen[0].body.is_empty());
}

#[cfg(feature = "client")]
#[test]
fn unreachable_server_is_offline_after_retries() {
    // Port 9 on loopback: nothing listens there; connection refused at once.
    let c = CatalogueClient::new("http://127.0.0.1:9", "k")
        .unwrap()
        .retries(1, Duration::from_millis(1));
    let model = ModelContract {
        id: "m".into(),
        version: "1".into(),
        dim: 2,
    };
    let err = c
        .search_vector(&[1.0, 0.0], &model, None, 3, &SearchFilters::default())
        .unwrap_err();
    assert!(matches!(err, Error::Offline { .. }), "{err:?}");
    assert!(err.is_retryable());
}

#[test]
fn wrong_dimension_is_refused_before_sending() {
    let t = Scripted::new(vec![]);
    let c = CatalogueClient::with_transport("http://127.0.0.1:9", "k", t).unwrap();
    let model = ModelContract {
        id: "m".into(),
        version: "1".into(),
        dim: 3,
    };
    let err = c
        .search_vector(&[1.0], &model, None, 3, &SearchFilters::default())
        .unwrap_err();
    assert!(matches!(err, Error::ContractMismatch { .. }));
}

#[test]
fn searches_and_events_carry_the_session_until_it_rotates() {
    let ok = |body: &str| Ok(answer(200, &[], body));
    let found = r#"{"results":[],"query_id":"q1","model":"m@1"}"#;
    let t = Scripted::new(vec![ok(found), ok("{}"), ok(found)]);
    let c = CatalogueClient::with_transport("http://h", "k", t.clone()).unwrap();
    let first = c.session_id();
    assert_eq!(first.len(), 32);
    assert!(first.bytes().all(|b| b.is_ascii_hexdigit()));
    let none = SearchFilters::default();
    c.search_vector(&[1.0, 0.0], &contract(2), None, 3, &none)
        .unwrap();
    c.clone()
        .report(EventType::Click, "p1", Some("q1"), Some(2))
        .unwrap();
    let rotated = c.rotate_session();
    assert_ne!(rotated, first);
    assert_eq!(c.session_id(), rotated);
    c.search_vector(&[1.0, 0.0], &contract(2), None, 3, &none)
        .unwrap();
    let seen = t.seen.lock().unwrap();
    let body = |i: usize| serde_json::from_slice::<serde_json::Value>(&seen[i].body).unwrap();
    assert_eq!(body(0)["session_id"], first.as_str());
    assert_eq!(
        body(1),
        serde_json::json!({"type": "click", "product_id": "p1", "query_id": "q1",
                           "position": 2, "session_id": first})
    );
    assert_eq!(body(2)["session_id"], rotated.as_str());
    // Another client: another session.
    let other = CatalogueClient::with_transport("http://h", "k", Scripted::new(vec![])).unwrap();
    assert_ne!(other.session_id(), c.session_id());
}

#[test]
fn bad_base_url_is_refused() {
    assert!(CatalogueClient::with_transport("ftp://x", "k", Scripted::new(vec![])).is_err());
}

#[test]
fn ids_are_percent_encoded() {
    assert_eq!(encode_path("a b/c"), "a%20b%2Fc");
}
