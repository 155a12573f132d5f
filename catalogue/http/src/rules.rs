//! The rules for the text fields of products sent through the API (`PUT /v1/products`), stated
//! once here and as JSON Schema patterns in `openapi.json`; a test checks that both say the
//! same on tricky strings, so a client generated from the document sends only what the server
//! accepts and the server refuses everything the document forbids.
//!
//! A text value has no control characters and no white space at either end (the feed path
//! trims such values; the API says no, so the document can state it). Lengths count
//! characters, as JSON Schema's `maxLength` does.

use serde_json::{Map, Value};

/// The API's rule for one product field.
#[derive(Debug, Clone, Copy)]
pub enum FieldRule {
    /// Text of at most `max` characters; `empty_ok`: `""` is allowed (an absent brand).
    Text {
        max: usize,
        empty_ok: bool,
    },
    /// An http(s) link of at most `max` characters.
    Link {
        max: usize,
    },
    /// An ISO 4217 code: three ASCII letters.
    Currency,
    /// A JSON number >= 0.
    Price,
    Bool,
}

/// The product fields the API knows, with their rules (others are ignored, as in feeds).
pub const PRODUCT_FIELDS: [(&str, FieldRule, bool); 9] = [
    // (name, rule, required)
    (
        "id",
        FieldRule::Text {
            max: 200,
            empty_ok: false,
        },
        true,
    ),
    (
        "title",
        FieldRule::Text {
            max: 500,
            empty_ok: false,
        },
        true,
    ),
    (
        "brand",
        FieldRule::Text {
            max: 200,
            empty_ok: true,
        },
        false,
    ),
    (
        "category",
        FieldRule::Text {
            max: 100,
            empty_ok: true,
        },
        false,
    ),
    (
        "image",
        FieldRule::Text {
            max: 2048,
            empty_ok: false,
        },
        true,
    ),
    ("url", FieldRule::Link { max: 2048 }, true),
    ("currency", FieldRule::Currency, true),
    ("price", FieldRule::Price, true),
    ("in_stock", FieldRule::Bool, false),
];

/// Checks a product object's known fields against [`PRODUCT_FIELDS`].
pub fn check_product(obj: &Map<String, Value>) -> Result<(), String> {
    for (name, rule, required) in PRODUCT_FIELDS {
        match obj.get(name) {
            None if required => return Err(format!("`{name}` is missing")),
            None => {}
            Some(v) => check_field(rule, v).map_err(|e| format!("`{name}` {e}"))?,
        }
    }
    Ok(())
}

fn check_field(rule: FieldRule, v: &Value) -> Result<(), String> {
    match rule {
        FieldRule::Text { max, empty_ok } => check_text(as_str(v)?, max, empty_ok),
        FieldRule::Link { max } => {
            let s = as_str(v)?;
            if !(s.starts_with("https://") || s.starts_with("http://")) {
                return Err("must be an http(s) link".into());
            }
            check_text(s, max, false)
        }
        FieldRule::Currency => {
            let s = as_str(v)?;
            if s.len() == 3 && s.bytes().all(|b| b.is_ascii_alphabetic()) {
                Ok(())
            } else {
                Err("must be a three-letter ISO 4217 code like EUR".into())
            }
        }
        FieldRule::Price => match v.as_f64() {
            Some(p) if v.is_number() && p >= 0.0 => Ok(()),
            _ => Err("must be a number >= 0".into()),
        },
        FieldRule::Bool => v
            .is_boolean()
            .then_some(())
            .ok_or_else(|| "must be true or false".into()),
    }
}

fn as_str(v: &Value) -> Result<&str, String> {
    v.as_str().ok_or_else(|| "must be a string".to_string())
}

/// The text rule (see the module comment).
pub fn check_text(s: &str, max: usize, empty_ok: bool) -> Result<(), String> {
    let n = s.chars().count();
    if n == 0 {
        return if empty_ok {
            Ok(())
        } else {
            Err("must not be empty".into())
        };
    }
    if n > max {
        return Err(format!("is {n} characters; at most {max}"));
    }
    if s.chars().any(char::is_control) {
        return Err("must not contain control characters".into());
    }
    let edge = |c: Option<char>| c.is_some_and(char::is_whitespace);
    if edge(s.chars().next()) || edge(s.chars().last()) {
        return Err("must not start or end with white space".into());
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn product() -> Value {
        json!({"id": "p1", "title": "Red shoe", "price": 10.5, "currency": "EUR",
               "image": "p1.jpg", "url": "https://example.com/p1"})
    }

    #[test]
    fn a_plain_product_passes_and_each_bad_field_is_named() {
        assert_eq!(check_product(product().as_object().unwrap()), Ok(()));
        for (field, bad) in [
            ("id", json!("")),
            ("id", json!(5)),
            ("id", json!(" p1")),
            ("id", json!("p\u{0085}1")),
            ("id", json!("x".repeat(201))),
            ("title", json!("shoe\n")),
            ("brand", json!(null)),
            ("price", json!(-1)),
            ("price", json!("10")),
            ("currency", json!("EURO")),
            ("currency", json!("€UR")),
            ("url", json!("ftp://x")),
            ("url", json!("https://x ")),
            ("in_stock", json!("yes")),
        ] {
            let mut p = product();
            p[field] = bad.clone();
            let e = check_product(p.as_object().unwrap()).unwrap_err();
            assert!(e.starts_with(&format!("`{field}`")), "{field}={bad}: {e}");
        }
        let mut p = product();
        p.as_object_mut().unwrap().remove("url");
        assert!(check_product(p.as_object().unwrap()).is_err());
        let mut p = product();
        p["brand"] = json!("");
        p["id"] = json!("a b\u{00e9}");
        assert_eq!(check_product(p.as_object().unwrap()), Ok(()));
    }
}
