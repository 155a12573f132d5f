//! Product feeds: JSON Lines (one product per line) or CSV with the same columns
//! (`id,title,brand,price,currency,category,image,url[,in_stock]`). Every line is parsed and
//! validated on its own: a bad line becomes an error entry, never an abort.

use std::path::Path;

use serde::Deserialize;
use shoplook_core::wire::Product;

use crate::error::{CatError, CatResult};

/// One line of a feed.
#[derive(Debug)]
pub struct FeedLine {
    /// 1-based line (JSONL) or record (CSV, header = line 1) number.
    pub line: usize,
    /// The product id when it could be read, even if the line is otherwise bad.
    pub id: Option<String>,
    pub product: Result<Product, FeedLineError>,
}

/// Why a feed line is not a product.
#[derive(Debug, thiserror::Error)]
pub enum FeedLineError {
    #[error("not valid JSON: {0}")]
    Json(#[source] serde_json::Error),
    #[error("unreadable CSV header: {0}")]
    CsvHeader(#[source] csv::Error),
    #[error("unreadable CSV record: {0}")]
    CsvRecord(#[source] csv::Error),
    #[error("{0}")]
    Product(#[from] ProductError),
}

/// Why a product (a feed line, or an item of `PUT /v1/products`) is refused. The messages are
/// what API clients and the ingest report read.
#[derive(Debug, thiserror::Error)]
pub enum ProductError {
    /// A field is missing or of the wrong JSON type.
    #[error("{0}")]
    Shape(#[source] serde_json::Error),
    #[error("text fields must not contain NUL characters")]
    NulInText,
    #[error("`id` must be a non-empty string or a number")]
    MissingId,
    #[error("`id` must be at most 200 characters, without control characters")]
    BadId,
    #[error("`price` must be a number")]
    PriceNotANumber,
    #[error("`price` {0} must be a finite number >= 0")]
    PriceOutOfRange(f64),
    /// The currency as given.
    #[error("`currency` {0:?} must be an ISO 4217 code like EUR")]
    BadCurrency(String),
    #[error("`title` is empty")]
    EmptyTitle,
    /// The URL, trimmed.
    #[error("`url` {0:?} must be an http(s) purchase link")]
    BadUrl(String),
    #[error("`image` is empty")]
    EmptyImage,
    /// `in_stock` given as a string that is no yes/no word.
    #[error("`in_stock` {0:?} must be true or false")]
    InStockWord(String),
    /// `in_stock` given as another JSON value (a number, an array...).
    #[error("`in_stock` {0} must be true or false")]
    InStockValue(serde_json::Value),
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
        .map_err(|e| CatError::os_at(format!("cannot read feed {}", path.display()), e))?;
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
            Err(e) => (None, Err(FeedLineError::Json(e))),
            Ok(v) => {
                let id = v.get("id").and_then(id_string);
                (id, validate_value(v).map_err(FeedLineError::Product))
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
                product: Err(FeedLineError::CsvHeader(e)),
            });
            return out;
        }
    };
    let mut lines = LineCounter::new(text);
    let mut last_line = 1;
    for record in reader.records() {
        // The line a record starts on, counting line breaks as the CSV reader splits records
        // (`\r\n`, `\n` and a lone `\r`), so that two records never share a line number. An
        // unreadable record is numbered where the reader stopped, else right after the last.
        let start = match &record {
            Ok(r) => r.position().map(|p| p.byte()),
            Err(e) => e.position().map(|p| p.byte()),
        };
        let line_no = start
            .map(|b| lines.line_at(b as usize))
            .unwrap_or(last_line + 1)
            .max(last_line + 1);
        last_line = line_no;
        let (id, product) = match record {
            Err(e) => (None, Err(FeedLineError::CsvRecord(e))),
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
                (id, validate_value(v).map_err(FeedLineError::Product))
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

/// 1-based line numbers of byte offsets, read forwards only (offsets must not go back).
struct LineCounter<'a> {
    bytes: &'a [u8],
    at: usize,
    line: usize,
}

impl<'a> LineCounter<'a> {
    fn new(text: &'a str) -> Self {
        LineCounter {
            bytes: text.as_bytes(),
            at: 0,
            line: 1,
        }
    }

    /// The line of byte `offset`: `\r\n`, `\n` and a lone `\r` each end a line.
    fn line_at(&mut self, offset: usize) -> usize {
        let end = offset.min(self.bytes.len());
        while self.at < end {
            match self.bytes[self.at] {
                b'\n' => self.line += 1,
                b'\r' if self.bytes.get(self.at + 1) != Some(&b'\n') => self.line += 1,
                _ => {}
            }
            self.at += 1;
        }
        self.line
    }
}

/// Validates one product given as a JSON object (the `PUT /v1/products` path).
pub fn validate_value(v: serde_json::Value) -> Result<Product, ProductError> {
    serde_json::from_value::<RawProduct>(v)
        .map_err(ProductError::Shape)
        .and_then(validate)
}

fn id_string(v: &serde_json::Value) -> Option<String> {
    match v {
        serde_json::Value::String(s) if !s.trim().is_empty() => Some(s.trim().to_string()),
        serde_json::Value::Number(n) => Some(n.to_string()),
        _ => None,
    }
}

fn validate(raw: RawProduct) -> Result<Product, ProductError> {
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
        return Err(ProductError::NulInText);
    }
    let id = id_string(&raw.id).ok_or(ProductError::MissingId)?;
    if id.len() > 200 || id.chars().any(|c| c.is_control()) {
        return Err(ProductError::BadId);
    }
    let price = match &raw.price {
        serde_json::Value::Number(n) => n.as_f64(),
        serde_json::Value::String(s) => s.trim().parse::<f64>().ok(),
        _ => None,
    }
    .ok_or(ProductError::PriceNotANumber)?;
    if !price.is_finite() || price < 0.0 {
        return Err(ProductError::PriceOutOfRange(price));
    }
    let currency = raw.currency.trim().to_uppercase();
    if currency.len() != 3 || !currency.chars().all(|c| c.is_ascii_alphabetic()) {
        return Err(ProductError::BadCurrency(raw.currency));
    }
    if raw.title.trim().is_empty() {
        return Err(ProductError::EmptyTitle);
    }
    let url = raw.url.trim().to_string();
    if !(url.starts_with("https://") || url.starts_with("http://")) {
        return Err(ProductError::BadUrl(url));
    }
    if raw.image.trim().is_empty() {
        return Err(ProductError::EmptyImage);
    }
    let in_stock = match raw.in_stock {
        None | Some(serde_json::Value::Null) => true,
        Some(serde_json::Value::Bool(b)) => b,
        Some(serde_json::Value::String(s)) => match s.to_ascii_lowercase().as_str() {
            "true" | "1" | "yes" | "y" => true,
            "false" | "0" | "no" | "n" => false,
            _ => return Err(ProductError::InStockWord(s)),
        },
        Some(v) => return Err(ProductError::InStockValue(v)),
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
        assert!(
            matches!(
                lines[2].product,
                Err(FeedLineError::Product(ProductError::PriceNotANumber))
            ),
            "{:?}",
            lines[2].product
        );
        assert_eq!(lines[2].id.as_deref(), Some("c"));
        assert_eq!(lines[3].line, 5);
        assert!(!lines[3].product.as_ref().unwrap().in_stock);
    }

    /// Found by the `feed` fuzz target: a lone `\r` ends a CSV record, and the record after
    /// it was numbered with the line before it (`position().line()` counts `\n` only); an
    /// unreadable record was numbered by its index, behind records of multi-line fields.
    #[test]
    fn csv_line_numbers_follow_every_record_break() {
        let text = "id,title,price,currency,image,url\r\n\
                    a,A,1,EUR,a.png,https://example.com/a\rb,B,1,EUR,b.png,https://example.com/b\n\
                    c,\"two\nlines\",1,EUR,c.png,https://example.com/c\n\
                    d,D,1,EUR,d.png,https://example.com/d\n";
        let numbers: Vec<usize> = parse_csv(text).iter().map(|l| l.line).collect();
        assert_eq!(numbers, [2, 3, 4, 6]);
        let broken = "id,title\n\"a\nb\",x\n\"unterminated\n";
        let numbers: Vec<usize> = parse_csv(broken).iter().map(|l| l.line).collect();
        assert!(numbers.windows(2).all(|w| w[0] < w[1]), "{numbers:?}");
    }

    #[test]
    fn csv_same_columns() {
        let text = "id,title,brand,price,currency,category,image,url,in_stock\n\
                    a,A,B,10,EUR,shoes,a.png,https://example.com/a,false\n\
                    b,B,,-1,EUR,shoes,b.png,https://example.com/b,\n";
        let lines = parse_csv(text);
        assert_eq!(lines.len(), 2);
        assert!(!lines[0].product.as_ref().unwrap().in_stock);
        let e = lines[1].product.as_ref().unwrap_err();
        assert_eq!(e.to_string(), "`price` -1 must be a finite number >= 0");
        assert_eq!(lines[1].line, 3);
    }
}
