//! The rules for the text fields of products sent through the API (`PUT /v1/products`) and of
//! campaign names, stated once here and as JSON Schema patterns in `openapi.json`; a test in
//! `shoplook-http` checks that both say the same on tricky strings, so a client generated from
//! the document sends only what the server accepts and the server refuses everything the
//! document forbids.
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

/// Why a text value breaks the text rule; the Display is the message clients see, after the
/// field's name (`` `name` must not be empty ``).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum TextError {
    #[error("must not be empty")]
    Empty,
    #[error("is {chars} characters; at most {max}")]
    TooLong { chars: usize, max: usize },
    #[error("must not contain control characters")]
    ControlCharacter,
    #[error("must not start or end with white space")]
    EdgeWhiteSpace,
}

/// Why a product field's value breaks its [`FieldRule`].
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum FieldProblem {
    #[error("is missing")]
    Missing,
    #[error("must be a string")]
    NotAString,
    #[error(transparent)]
    Text(#[from] TextError),
    #[error("must be an http(s) link")]
    NotALink,
    #[error("must be a three-letter ISO 4217 code like EUR")]
    NotACurrency,
    #[error("must be a number >= 0")]
    NotAPrice,
    #[error("must be true or false")]
    NotABool,
}

/// A product field that breaks its rule: `` `price` must be a number >= 0 ``.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("`{field}` {problem}")]
pub struct FieldError {
    pub field: &'static str,
    #[source]
    pub problem: FieldProblem,
}

/// Checks a product object's known fields against [`PRODUCT_FIELDS`].
pub fn check_product(obj: &Map<String, Value>) -> Result<(), FieldError> {
    for (field, rule, required) in PRODUCT_FIELDS {
        let checked = match obj.get(field) {
            None if required => Err(FieldProblem::Missing),
            None => Ok(()),
            Some(v) => check_field(rule, v),
        };
        checked.map_err(|problem| FieldError { field, problem })?;
    }
    Ok(())
}

fn as_str(v: &Value) -> Result<&str, FieldProblem> {
    v.as_str().ok_or(FieldProblem::NotAString)
}

fn check_field(rule: FieldRule, v: &Value) -> Result<(), FieldProblem> {
    match rule {
        FieldRule::Text { max, empty_ok } => Ok(check_text(as_str(v)?, max, empty_ok)?),
        FieldRule::Link { max } => {
            let s = as_str(v)?;
            if !(s.starts_with("https://") || s.starts_with("http://")) {
                return Err(FieldProblem::NotALink);
            }
            Ok(check_text(s, max, false)?)
        }
        FieldRule::Currency => {
            let s = as_str(v)?;
            if s.len() == 3 && s.bytes().all(|b| b.is_ascii_alphabetic()) {
                Ok(())
            } else {
                Err(FieldProblem::NotACurrency)
            }
        }
        FieldRule::Price => match v.as_f64() {
            Some(p) if v.is_number() && p >= 0.0 => Ok(()),
            _ => Err(FieldProblem::NotAPrice),
        },
        FieldRule::Bool => v.is_boolean().then_some(()).ok_or(FieldProblem::NotABool),
    }
}

/// The text rule (see the module comment).
pub fn check_text(s: &str, max: usize, empty_ok: bool) -> Result<(), TextError> {
    let n = s.chars().count();
    if n == 0 {
        return if empty_ok {
            Ok(())
        } else {
            Err(TextError::Empty)
        };
    }
    if n > max {
        return Err(TextError::TooLong { chars: n, max });
    }
    if s.chars().any(char::is_control) {
        return Err(TextError::ControlCharacter);
    }
    let edge = |c: Option<char>| c.is_some_and(char::is_whitespace);
    if edge(s.chars().next()) || edge(s.chars().last()) {
        return Err(TextError::EdgeWhiteSpace);
    }
    Ok(())
}

/// Whether a product could have this id: stored ids hold no control characters (feeds and the
/// API refuse them), and PostgreSQL cannot even be asked about one with a NUL.
pub fn may_exist(product_id: &str) -> bool {
    !product_id.is_empty() && !product_id.chars().any(char::is_control)
}

/// A client-supplied string as quoted back in a message: at most 64 characters, so an error
/// never echoes a huge input (`"aaa…" (10000 characters)`).
pub use crate::store::error::quoted;

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
            assert_eq!(e.field, field, "{field}={bad}: {e}");
            assert!(
                e.to_string().starts_with(&format!("`{field}` ")),
                "{field}={bad}: {e}"
            );
        }
        let mut p = product();
        p.as_object_mut().unwrap().remove("url");
        let e = check_product(p.as_object().unwrap()).unwrap_err();
        assert_eq!(e.to_string(), "`url` is missing");
        let mut p = product();
        p["brand"] = json!("");
        p["id"] = json!("a b\u{00e9}");
        assert_eq!(check_product(p.as_object().unwrap()), Ok(()));
    }

    #[test]
    fn text_errors_say_what_clients_read() {
        assert_eq!(
            check_text(&"é".repeat(6), 5, false)
                .unwrap_err()
                .to_string(),
            "is 6 characters; at most 5"
        );
        assert_eq!(check_text("", 5, true), Ok(()));
        assert_eq!(check_text("", 5, false), Err(TextError::Empty));
        assert_eq!(
            check_text("a\u{7f}", 5, false),
            Err(TextError::ControlCharacter)
        );
        assert_eq!(
            check_text("a\u{3000}", 5, false),
            Err(TextError::EdgeWhiteSpace)
        );
    }

    #[test]
    fn ids_with_control_characters_name_no_product() {
        assert!(may_exist("p 1"));
        assert!(!may_exist(""));
        assert!(!may_exist("p\u{0}1"));
    }
}
