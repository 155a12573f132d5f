//! What a trend report is asked for, read from the parameters of `GET /v1/trends` (and of the
//! console's page), and who may read it.

use std::collections::HashMap;

use super::{Granularity, TrendQuery, Viewer};
use crate::rules::quoted;
use crate::store::Role;

/// Most buckets a report asks for (days: 12 weeks of them).
pub const MAX_PERIOD: u32 = 84;
/// Longest `category` or `brand` parameter (characters).
pub const MAX_FILTER_CHARS: usize = 200;
/// The parameters a report takes.
pub const PARAMETERS: [&str; 5] = ["granularity", "period", "category", "brand", "format"];

/// How a report is written out.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Format {
    Json,
    Csv,
}

/// Why a report's parameters are refused; the Display is the message clients see.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum QueryError {
    #[error("unknown parameter {}: {}", quoted(.0), PARAMETERS.join(", "))]
    UnknownParameter(String),
    #[error("`granularity` is `day` or `week`, not {}", quoted(.0))]
    Granularity(String),
    #[error("`period` is a whole number of days or weeks, 1-{MAX_PERIOD}")]
    Period(String),
    #[error("`format` is `json` or `csv`, not {}", quoted(.0))]
    Format(String),
    #[error("`{name}` must be 1-{MAX_FILTER_CHARS} characters, no control characters")]
    Filter { name: &'static str },
}

/// Reads a report's parameters: `granularity` (`week` by default, or `day`), `period` (8 weeks
/// or 28 days by default), `category`, `brand`, `format` (`json` by default, or `csv`).
pub fn parse_query(q: &HashMap<String, String>) -> Result<(TrendQuery, Format), QueryError> {
    if let Some(k) = q.keys().find(|k| !PARAMETERS.contains(&k.as_str())) {
        return Err(QueryError::UnknownParameter(k.clone()));
    }
    let granularity = match q.get("granularity").map(String::as_str) {
        None | Some("week") => Granularity::Week,
        Some("day") => Granularity::Day,
        Some(other) => return Err(QueryError::Granularity(other.to_string())),
    };
    let period = match q.get("period") {
        None => match granularity {
            Granularity::Week => 8,
            Granularity::Day => 28,
        },
        Some(p) => p
            .parse::<u32>()
            .ok()
            .filter(|p| (1..=MAX_PERIOD).contains(p))
            .ok_or_else(|| QueryError::Period(p.clone()))?,
    };
    let format = match q.get("format").map(String::as_str) {
        None | Some("json") => Format::Json,
        Some("csv") => Format::Csv,
        Some(other) => return Err(QueryError::Format(other.to_string())),
    };
    let filter = |name: &'static str| match q.get(name) {
        None => Ok(None),
        Some(v)
            if (1..=MAX_FILTER_CHARS).contains(&v.chars().count())
                && !v.chars().any(char::is_control) =>
        {
            Ok(Some(v.clone()))
        }
        Some(_) => Err(QueryError::Filter { name }),
    };
    Ok((
        TrendQuery {
            granularity,
            period,
            category: filter("category")?,
            brand: filter("brand")?,
        },
        format,
    ))
}

/// Why a key may not read a report; the Display is the message clients see.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum AccessError {
    #[error("a brand key sees its own brand ({}) only", quoted(.own))]
    OtherBrand { own: String },
    #[error("trend reports need a brand or admin key")]
    Role,
}

/// The viewer of `role`'s reports: an admin sees everything, a brand key its own brand's rows
/// and the market-level rows (and may not ask for another brand's); other roles none.
pub fn viewer_of(role: &Role, q: &TrendQuery) -> Result<Viewer, AccessError> {
    match role {
        Role::Admin => Ok(Viewer::Admin),
        Role::Brand { brand } => {
            if q.brand
                .as_deref()
                .is_some_and(|b| !b.eq_ignore_ascii_case(brand))
            {
                return Err(AccessError::OtherBrand { own: brand.clone() });
            }
            Ok(Viewer::Brand(brand.clone()))
        }
        _ => Err(AccessError::Role),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn params(pairs: &[(&str, &str)]) -> HashMap<String, String> {
        pairs
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect()
    }

    #[test]
    fn defaults_and_explicit_values() {
        let (q, f) = parse_query(&params(&[])).unwrap();
        assert_eq!(
            (q.granularity, q.period, f),
            (Granularity::Week, 8, Format::Json)
        );
        let (q, f) = parse_query(&params(&[
            ("granularity", "day"),
            ("period", "84"),
            ("brand", "Acme"),
            ("format", "csv"),
        ]))
        .unwrap();
        assert_eq!(
            (q.granularity, q.period, f),
            (Granularity::Day, 84, Format::Csv)
        );
        assert_eq!(q.brand.as_deref(), Some("Acme"));
        assert_eq!(
            parse_query(&params(&[("granularity", "day")]))
                .unwrap()
                .0
                .period,
            28
        );
    }

    #[test]
    fn each_bad_parameter_is_refused_with_the_message_clients_read() {
        let long = "x".repeat(MAX_FILTER_CHARS + 1);
        for (pairs, message) in [
            (
                vec![("limit", "3")],
                "unknown parameter \"limit\": granularity, period, category, brand, format",
            ),
            (
                vec![("granularity", "month")],
                "`granularity` is `day` or `week`, not \"month\"",
            ),
            (
                vec![("period", "0")],
                "`period` is a whole number of days or weeks, 1-84",
            ),
            (
                vec![("period", "85")],
                "`period` is a whole number of days or weeks, 1-84",
            ),
            (
                vec![("format", "xml")],
                "`format` is `json` or `csv`, not \"xml\"",
            ),
            (
                vec![("category", "")],
                "`category` must be 1-200 characters, no control characters",
            ),
            (
                vec![("brand", long.as_str())],
                "`brand` must be 1-200 characters, no control characters",
            ),
            (
                vec![("brand", "a\u{7}")],
                "`brand` must be 1-200 characters, no control characters",
            ),
        ] {
            let e = parse_query(&params(&pairs)).unwrap_err();
            assert_eq!(e.to_string(), message, "{pairs:?}");
        }
    }

    #[test]
    fn brand_keys_see_their_own_brand_only() {
        let acme = Role::Brand {
            brand: "Acme".into(),
        };
        let mut q = parse_query(&params(&[])).unwrap().0;
        assert_eq!(viewer_of(&acme, &q), Ok(Viewer::Brand("Acme".into())));
        assert_eq!(viewer_of(&Role::Admin, &q), Ok(Viewer::Admin));
        assert_eq!(viewer_of(&Role::App, &q), Err(AccessError::Role));
        q.brand = Some("ACME".into());
        assert!(viewer_of(&acme, &q).is_ok());
        q.brand = Some("Other".into());
        assert_eq!(
            viewer_of(&acme, &q).unwrap_err().to_string(),
            "a brand key sees its own brand (\"Acme\") only"
        );
    }
}
