//! Feed parsing on arbitrary text, as JSON Lines and as CSV: every line becomes a product or an
//! error entry, never a panic; a product that passed validation satisfies the rules and passes
//! them again unchanged (the `PUT /v1/products` path re-validates stored products).
#![no_main]

use libfuzzer_sys::fuzz_target;
use shoplook_domain::feed::{FeedLine, parse_csv, parse_jsonl, validate_value};

fn check(lines: &[FeedLine]) {
    let mut last = 0;
    for l in lines {
        assert!(l.line > last, "line numbers go up: {} after {last}", l.line);
        last = l.line;
        let Ok(p) = &l.product else { continue };
        assert_eq!(l.id.as_deref(), Some(p.id.as_str()));
        assert!(!p.id.is_empty() && p.id.len() <= 200);
        assert!(p.price.is_finite() && p.price >= 0.0);
        assert!(p.currency.len() == 3 && p.currency.bytes().all(|b| b.is_ascii_uppercase()));
        assert!(!p.title.is_empty());
        assert!(p.url.starts_with("http://") || p.url.starts_with("https://"));
        let value = serde_json::to_value(p).expect("a product serialises");
        let again = validate_value(value).expect("a valid product validates again");
        assert_eq!(&again, p);
    }
}

fuzz_target!(|data: &[u8]| {
    let text = String::from_utf8_lossy(data);
    check(&parse_jsonl(&text));
    check(&parse_csv(&text));
});
