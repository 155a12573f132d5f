//! Product feeds: JSON Lines (one product per line) or CSV with the same columns
//! (`id,title,brand,price,currency,category,image,url[,in_stock]`). Every line is parsed and
//! validated on its own: a bad line becomes an error entry, never an abort.

use std::path::Path;

use serde::Deserialize;
use shoplook_core::wire::Product;

use crate::error::{CatError, CatResult};

/// One line of a feed.
#[derive(Debug, Clone)]
pub struct FeedLine {
    /// 1-based line (JSONL) or record (CSV, header = line 1) number.
    pub line: usize,
    /// The product id when it could be read, even if the line is otherwise bad.
    pub id: Option<String>,
    pub product: Result<Product, String>,
}

#[derive(Deserialize)]
struct RawProduct {
    id: serde_json::Value,
    title: String,
    #[serde(default)]
    brand: String,
    price: serde_json::Value,
    currency: String,
    #[serde(default)]
    category: String,
    image: String,
    url: String,
    #[serde(default)]
    in_stock: Option<serde_json::Value>,
}

/// Reads a feed file; the format follows the extension (`.csv`, else JSON Lines).
pub fn read_feed(path: &Path) -> CatResult<Vec<FeedLine>> {
    let text = std::fs::read_to_string(path)
        .map_err(|e| CatError::Io(format!("cannot read feed {}: {e}", path.display())))?;
    let is_csv = path
        .extension()
        .is_some_and(|e| e.eq_ignore_ascii_case("csv"));
    Ok(if is_csv {
        parse_csv(&text)
    } else {
        parse_jsonl(&text)
    })
}

pub fn parse_jsonl(text: &str) -> Vec<FeedLine> {
    let mut out = Vec::new();
    for (i, line) in text.lines().enumerate() {
        let line_no = i + 1;
        let trimmed = line.trim();
        if trimmed.is_empty() || trimmed.starts_with("//") {
            continue;
        }
        let value: Result<serde_json::Value, _> = serde_json::from_str(trimmed);
        let (id, product) = match value {
            Err(e) => (None, Err(format!("not valid JSON: {e}"))),
            Ok(v) => {
                let id = v.get("id").and_then(id_string);
                let p = serde_json::from_value::<RawProduct>(v)
                    .map_err(|e| e.to_string())
                    .and_then(validate);
                (id, p)
            }
        };
        out.push(FeedLine {
            line: line_no,
            id,
            product,
        });
    }
    out
}

pub fn parse_csv(text: &str) -> Vec<FeedLine> {
    let mut out = Vec::new();
    let mut reader = csv::ReaderBuilder::new()
        .flexible(true)
        .trim(csv::Trim::All)
        .from_reader(text.as_bytes());
    let headers = match reader.headers() {
        Ok(h) => h.clone(),
        Err(e) => {
            out.push(FeedLine {
                line: 1,
                id: None,
                product: Err(format!("unreadable CSV header: {e}")),
            });
            return out;
        }
    };
    for (i, record) in reader.records().enumerate() {
        let line_no = record
            .as_ref()
            .ok()
            .and_then(|r| r.position())
            .map_or(i + 2, |p| p.line() as usize);
        let (id, product) = match record {
            Err(e) => (None, Err(format!("unreadable CSV record: {e}"))),
            Ok(r) => {
                let mut obj = serde_json::Map::new();
                for (h, v) in headers.iter().zip(r.iter()) {
                    if h == "in_stock" && v.is_empty() {
                        continue;
                    }
                    obj.insert(h.to_string(), serde_json::Value::String(v.to_string()));
                }
                let v = serde_json::Value::Object(obj);
                let id = v.get("id").and_then(id_string);
                let p = serde_json::from_value::<RawProduct>(v)
                    .map_err(|e| e.to_string())
                    .and_then(validate);
                (id, p)
            }
        };
        out.push(FeedLine {
            line: line_no,
            id,
            product,
        });
    }
    out
}

/// Validates one product given as a JSON object (the `PUT /v1/products` path).
pub fn validate_value(v: serde_json::Value) -> Result<Product, String> {
    serde_json::from_value::<RawProduct>(v)
        .map_err(|e| e.to_string())
        .and_then(validate)
}

fn id_string(v: &serde_json::Value) -> Option<String> {
    match v {
        serde_json::Value::String(s) if !s.trim().is_empty() => Some(s.trim().to_string()),
        serde_json::Value::Number(n) => Some(n.to_string()),
        _ => None,
    }
}

fn validate(raw: RawProduct) -> Result<Product, String> {
    // NUL fits in no PostgreSQL text value; refused on both stores alike.
    if [
        &raw.title,
        &raw.brand,
        &raw.currency,
        &raw.category,
        &raw.image,
        &raw.url,
    ]
    .iter()
    .any(|s| s.contains('\0'))
    {
        return Err("text fields must not contain NUL characters".into());
    }
    let id = id_string(&raw.id).ok_or("`id` must be a non-empty string or a number")?;
    if id.len() > 200 || id.chars().any(|c| c.is_control()) {
        return Err("`id` must be at most 200 characters, without control characters".into());
    }
    let price = match &raw.price {
        serde_json::Value::Number(n) => n.as_f64(),
        serde_json::Value::String(s) => s.trim().parse::<f64>().ok(),
        _ => None,
    }
    .ok_or("`price` must be a number")?;
    if !price.is_finite() || price < 0.0 {
        return Err(format!("`price` {price} must be a finite number >= 0"));
    }
    let currency = raw.currency.trim().to_uppercase();
    if currency.len() != 3 || !currency.chars().all(|c| c.is_ascii_alphabetic()) {
        return Err(format!(
            "`currency` {:?} must be an ISO 4217 code like EUR",
            raw.currency
        ));
    }
    if raw.title.trim().is_empty() {
        return Err("`title` is empty".into());
    }
    let url = raw.url.trim().to_string();
    if !(url.starts_with("https://") || url.starts_with("http://")) {
        return Err(format!("`url` {url:?} must be an http(s) purchase link"));
    }
    if raw.image.trim().is_empty() {
        return Err("`image` is empty".into());
    }
    let in_stock = match raw.in_stock {
        None | Some(serde_json::Value::Null) => true,
        Some(serde_json::Value::Bool(b)) => b,
        Some(serde_json::Value::String(s)) => match s.to_ascii_lowercase().as_str() {
            "true" | "1" | "yes" | "y" => true,
            "false" | "0" | "no" | "n" => false,
            _ => return Err(format!("`in_stock` {s:?} must be true or false")),
        },
        Some(v) => return Err(format!("`in_stock` {v} must be true or false")),
    };
    Ok(Product {
        id,
        title: raw.title.trim().to_string(),
        brand: raw.brand.trim().to_string(),
        price,
        currency,
        category: raw.category.trim().to_lowercase(),
        image: raw.image.trim().to_string(),
        url,
        in_stock,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn jsonl_good_and_bad_lines() {
        let text = r#"{"id":"a","title":"A","brand":"B","price":10,"currency":"eur","category":"Shoes","image":"a.png","url":"https://example.com/a"}
not json
{"id":"c","title":"C","price":"x","currency":"EUR","image":"c.png","url":"https://example.com/c"}

{"id":7,"title":"D","price":1.5,"currency":"USD","image":"d.png","url":"https://example.com/d","in_stock":false}"#;
        let lines = parse_jsonl(text);
        assert_eq!(lines.len(), 4);
        let a = lines[0].product.as_ref().unwrap();
        assert_eq!((a.currency.as_str(), a.category.as_str()), ("EUR", "shoes"));
        assert!(lines[1].product.is_err() && lines[1].id.is_none());
        assert!(lines[2].product.as_ref().unwrap_err().contains("price"));
        assert_eq!(lines[2].id.as_deref(), Some("c"));
        assert_eq!(lines[3].line, 5);
        assert!(!lines[3].product.as_ref().unwrap().in_stock);
    }

    #[test]
    fn csv_same_columns() {
        let text = "id,title,brand,price,currency,category,image,url,in_stock\n\
                    a,A,B,10,EUR,shoes,a.png,https://example.com/a,false\n\
                    b,B,,-1,EUR,shoes,b.png,https://example.com/b,\n";
        let lines = parse_csv(text);
        assert_eq!(lines.len(), 2);
        assert!(!lines[0].product.as_ref().unwrap().in_stock);
        assert!(lines[1].product.as_ref().unwrap_err().contains("price"));
        assert_eq!(lines[1].line, 3);
    }
}
