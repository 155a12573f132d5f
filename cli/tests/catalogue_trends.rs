//! Trend reports on real stores and through the real server:
//!
//! - `both_stores_give_the_same_report`: the same products and the same dated demo traffic
//!   in SQLite and PostgreSQL give the same report (JSON, every viewer and granularity), and
//!   a brand viewer's rows are its brand's and the market's only.
//! - `overlapping_reports_agree_on_every_shared_figure`: reports of other periods, filters
//!   and viewers show the same value (or the same hidden figure) for every row they share,
//!   so together they show no more than the widest one.
//! - `the_api_refuses_bad_queries_and_other_roles`: 400 for bad parameters (nothing
//!   panics), 401 without a key, 403 for app keys and for another brand, CSV on request.

mod common;

use common::{Backend, Server, create_key_with, http};
use shoplook_core::ModelContract;
use shoplook_core::wire::Product;
use shoplook_domain::trends::demo::{DemoConfig, generate};
use shoplook_domain::trends::{
    Granularity, ProductFacts, TrendQuery, TrendsConfig, Viewer, build_report,
};
use shoplook_store::Store;

const DIM: usize = 16;

fn unit(i: usize) -> Vec<f32> {
    let mut v: Vec<f32> = (0..DIM)
        .map(|j| ((i * 7 + j * 3) % 11) as f32 * 0.01)
        .collect();
    v[i % DIM] += 1.0;
    let n = v.iter().map(|x| x * x).sum::<f32>().sqrt();
    v.iter().map(|x| x / n).collect()
}

fn product(i: usize) -> Product {
    Product {
        id: format!("p{i:02}"),
        title: format!("Product {i}"),
        brand: ["Acme", "Nova", "Zeta"][i % 3].into(),
        price: 10.0 + 30.0 * (i % 5) as f64,
        currency: "EUR".into(),
        category: ["shoes", "bags"][i % 2].into(),
        image: format!("https://example.com/{i}.jpg"),
        url: format!("https://example.com/p/{i}"),
        in_stock: true,
    }
}

/// Fills a store: 12 products, 21 days of seeded demo traffic ending yesterday.
fn fill(store: &dyn Store, now: i64) {
    store
        .ensure_contract(&ModelContract {
            id: "trends-test".into(),
            version: "1".into(),
            dim: DIM,
        })
        .unwrap();
    let mut products = Vec::new();
    for i in 0..12 {
        let p = product(i);
        store.upsert(&p, &format!("h{i}"), &unit(i)).unwrap();
        products.push((
            ProductFacts {
                id: p.id,
                title: p.title,
                brand: p.brand,
                category: p.category,
                price: p.price,
                image: p.image,
                in_stock: p.in_stock,
            },
            unit(i),
        ));
    }
    let cfg = DemoConfig {
        seed: 5,
        days: 21,
        sessions_per_day: 120,
        today: now.div_euclid(86_400),
    };
    generate(&products, &cfg, |s, e| store.import_logs(s, e).map(|_| ())).unwrap();
    store.flush().unwrap();
}

fn reports(store: &dyn Store, now: i64) -> Vec<String> {
    let mut out = Vec::new();
    for viewer in [Viewer::Admin, Viewer::Brand("nova".into())] {
        for (granularity, period) in [(Granularity::Week, 12), (Granularity::Day, 21)] {
            let q = TrendQuery {
                granularity,
                period,
                category: None,
                brand: None,
            };
            let r = build_report(store, &q, &viewer, &TrendsConfig::default(), now).unwrap();
            if let Viewer::Brand(b) = &viewer {
                for row in &r.rows {
                    assert!(
                        row.brand
                            .as_deref()
                            .is_none_or(|x| x.eq_ignore_ascii_case(b)),
                        "{row:?}"
                    );
                }
                assert!(r.top_products.iter().all(|p| p.brand == "Nova"));
            }
            out.push(serde_json::to_string(&r).unwrap());
        }
    }
    out
}

#[test]
fn both_stores_give_the_same_report() {
    let now = shoplook_store::now_s();
    let sqlite = Backend::sqlite("trends").open();
    fill(sqlite.as_ref(), now);
    let a = reports(sqlite.as_ref(), now);
    let published = a[0].matches("\"taps\":").count() - a[0].matches("\"taps\":null").count();
    eprintln!(
        "admin weekly report: {} bytes, {published} taps figures shown",
        a[0].len()
    );
    assert!(published > 5, "too little published: {}", a[0]);
    let Some(pg) = Backend::postgres() else {
        return;
    };
    let pg = pg.open();
    fill(pg.as_ref(), now);
    let b = reports(pg.as_ref(), now);
    for (x, y) in a.iter().zip(&b) {
        assert_eq!(x, y, "sqlite and postgres reports differ");
    }
}

#[test]
fn overlapping_reports_agree_on_every_shared_figure() {
    use std::collections::HashMap;
    let now = shoplook_store::now_s();
    let store = Backend::sqlite("trends-overlap").open();
    fill(store.as_ref(), now);
    let cfg = TrendsConfig::default();
    let mut seen: HashMap<String, String> = HashMap::new();
    let mut shared = 0;
    let queries = [
        (Viewer::Admin, Granularity::Week, 12, None, None),
        (Viewer::Admin, Granularity::Week, 1, None, None),
        (Viewer::Admin, Granularity::Week, 2, Some("bags"), None),
        (Viewer::Admin, Granularity::Week, 3, None, Some("zeta")),
        (
            Viewer::Brand("Nova".into()),
            Granularity::Week,
            12,
            None,
            None,
        ),
        (
            Viewer::Brand("Nova".into()),
            Granularity::Week,
            2,
            Some("shoes"),
            None,
        ),
        (Viewer::Admin, Granularity::Day, 21, None, None),
        (Viewer::Admin, Granularity::Day, 5, Some("shoes"), None),
        (
            Viewer::Brand("Acme".into()),
            Granularity::Day,
            14,
            None,
            None,
        ),
    ];
    for (viewer, granularity, period, category, brand) in queries {
        let q = TrendQuery {
            granularity,
            period,
            category: category.map(String::from),
            brand: brand.map(String::from),
        };
        let r = build_report(store.as_ref(), &q, &viewer, &cfg, now).unwrap();
        for row in &r.rows {
            let key = format!(
                "{granularity:?}|{}|{:?}|{}|{:?}|{:?}|{:?}",
                row.bucket, row.level, row.category, row.brand, row.product_id, row.price_band
            );
            let value = format!("{:?} {:?} {:?}", row.searches, row.taps, row.purchases);
            if let Some(before) = seen.insert(key.clone(), value.clone()) {
                shared += 1;
                assert_eq!(before, value, "{key}");
            }
        }
    }
    eprintln!("{shared} rows shared between reports, all equal");
    assert!(shared > 100, "{shared}");
}

#[test]
fn the_api_refuses_bad_queries_and_other_roles() {
    let backend = Backend::sqlite("trends-api");
    let admin = create_key_with(&backend, "admin", &["--role", "admin"]);
    let brand = create_key_with(&backend, "nova", &["--role", "brand", "--brand", "Nova"]);
    let app = create_key_with(&backend, "app", &["--role", "app"]);
    let server = Server::start(&backend, &[]);
    let get = |q: &str, key: Option<&str>| {
        http("GET", &format!("{}/v1/trends{q}", server.url), key, None)
    };
    for bad in [
        "?period=0",
        "?period=85",
        "?period=x",
        "?granularity=month",
        "?format=xml",
        "?color=red",
        "?category=",
        "?brand=%00",
    ] {
        let (s, _, body) = get(bad, Some(&admin));
        assert_eq!(s, 400, "{bad}: {body}");
        assert_eq!(body["error"]["code"], "bad_request", "{bad}");
    }
    assert_eq!(get("", None).0, 401);
    assert_eq!(get("", Some(&app)).0, 403);
    assert_eq!(get("?brand=Acme", Some(&brand)).0, 403);
    let (s, _, body) = get("?brand=NOVA&granularity=day", Some(&brand));
    assert_eq!(s, 200, "{body}");
    assert_eq!(body["viewer"]["brand"], "Nova");
    let (s, _, body) = get("?format=csv", Some(&admin));
    assert_eq!(s, 200);
    assert!(
        body.as_str().unwrap().starts_with("bucket,level,category"),
        "{body}"
    );
}
