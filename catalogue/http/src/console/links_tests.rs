//! The console puts only http(s) addresses (and its own paths) in `href` and `src` (issue 22,
//! item 8): product images are any text a feed or the API gave.

use super::*;
use shoplook_domain::trends::report::{Look, ViewerInfo};
use shoplook_domain::trends::{Granularity, ProductFacts};

const HOSTILE: [&str; 9] = [
    "javascript:alert(1)",
    "JavaScript:alert(1)",
    " javascript:alert(1)",
    "data:text/html;base64,PHNjcmlwdD4=",
    "vbscript:msgbox(1)",
    "//evil.example/x.jpg",
    "https:/evil.example",
    "https://",
    "https://evil.example/a b.jpg",
];

#[test]
fn only_http_addresses_with_a_host_are_links() {
    for ok in [
        "https://example.com/a.jpg",
        "http://example.com",
        "HTTPS://Example.com/x?y=1",
    ] {
        assert_eq!(web_link(ok), Some(ok));
    }
    for bad in HOSTILE
        .iter()
        .copied()
        .chain(["https://x\u{0}y", "ftp://x", "", "é"])
    {
        assert_eq!(web_link(bad), None, "{bad:?}");
    }
}

fn facts(id: &str, image: &str) -> ProductFacts {
    ProductFacts {
        id: id.into(),
        title: format!("Title {id}"),
        brand: "Acme".into(),
        category: "shoes".into(),
        price: 10.0,
        image: image.into(),
        in_stock: true,
    }
}

/// Every `href="..."` and `src="..."` value of a page.
fn links(page: &str) -> Vec<String> {
    let mut out = Vec::new();
    for attr in ["href=\"", "src=\""] {
        for (i, _) in page.match_indices(attr) {
            let rest = &page[i + attr.len()..];
            out.push(rest[..rest.find('"').unwrap()].to_string());
        }
    }
    out
}

#[test]
fn the_dashboard_links_only_http_addresses_and_its_own_pages() {
    let mut products: Vec<ProductFacts> = HOSTILE
        .iter()
        .enumerate()
        .map(|(i, img)| facts(&format!("bad{i}"), img))
        .collect();
    products.push(facts("good", "https://cdn.example/good.jpg"));
    let report = Report {
        granularity: Granularity::Week,
        k: 20,
        epsilon: None,
        viewer: ViewerInfo {
            role: "admin",
            brand: None,
        },
        buckets: vec!["2026-11-30".into()],
        rows: vec![],
        top_products: vec![],
        rising_products: vec![],
        looks: vec![Look {
            week: "2026-11-30".into(),
            searches: 40,
            growth: None,
            products,
        }],
        suppressed: 0,
    };
    let page = dashboard(&Dashboard {
        key_name: "ops",
        role: "admin",
        brand: None,
        report: Some(&report),
        products: 10,
        in_stock: 10,
        index_size: 10,
        events: 0,
        granularity: "week",
        period: 8,
        category: None,
        categories: vec!["shoes".into()],
        campaigns: None,
    });
    let found = links(&page);
    assert!(
        found.contains(&"https://cdn.example/good.jpg".to_string()),
        "{found:?}"
    );
    for link in &found {
        let own = link.starts_with('#') || link.starts_with("/console");
        assert!(own || web_link(link).is_some(), "{link:?} in the page");
    }
    for bad in HOSTILE {
        let attribute = format!("\"{}\"", esc(bad));
        assert!(!page.contains(&attribute), "{bad:?} reached the page");
    }
}
