//! Operations: `GET /healthz`, `GET /metrics` (Prometheus text), `GET /openapi.json`, and the
//! 404 for unknown routes. No key needed, but `/metrics` takes an admin key: request rates by
//! route and status tell outsiders how much traffic and which failures a shop has.

use std::sync::Arc;

use axum::extract::State;
use axum::http::{StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use axum::{Json, Router};
use serde_json::{Value, json};
use shoplook_core::ModelContract;

use super::AppState;
use super::error::{ApiError, ApiResult};
use super::extract::AdminKey;

pub const OPENAPI: &str = include_str!("../../openapi.json");

pub fn routes() -> Router<Arc<AppState>> {
    Router::new()
        .route("/healthz", get(healthz))
        .route("/metrics", get(metrics))
        .route("/openapi.json", get(openapi))
}

async fn healthz(State(state): State<Arc<AppState>>) -> ApiResult<Response> {
    let st = state.clone();
    let stats = super::blocking(move || st.store.stats()).await?;
    Ok(Json(json!({
        "status": "ok",
        "store": state.store.kind(),
        "model": state.contract.to_string(),
        "products": stats.products,
    }))
    .into_response())
}

async fn metrics(State(state): State<Arc<AppState>>, _admin: AdminKey) -> ApiResult<Response> {
    let st = state.clone();
    let s = super::blocking(move || st.store.stats()).await?;
    let text = state.metrics.render(&[
        (
            "shoplook_catalogue_products",
            "Products in the catalogue.",
            s.products as f64,
        ),
        (
            "shoplook_index_vectors",
            "Vectors in the ANN index.",
            s.index_size as f64,
        ),
        (
            "shoplook_index_bytes",
            "Size of the ANN index in bytes.",
            s.index_bytes as f64,
        ),
        (
            "shoplook_events",
            "Stored feedback events.",
            s.events as f64,
        ),
    ]);
    Ok(([(header::CONTENT_TYPE, "text/plain; version=0.0.4")], text).into_response())
}

async fn openapi(State(state): State<Arc<AppState>>) -> Response {
    let mut doc = openapi_for(&state.contract);
    if let Some(ads) = state.pipeline.ads() {
        // This server's reserve price and default frequency cap.
        let fields = &mut doc["components"]["schemas"]["CampaignRequest"]["properties"];
        fields["bid_cents"]["minimum"] = json!(ads.config().reserve_cents.max(1));
        fields["frequency_cap"]["default"] = json!(ads.config().frequency_cap);
    }
    (
        [(header::CONTENT_TYPE, "application/json")],
        doc.to_string(),
    )
        .into_response()
}

/// The document as this catalogue serves it: the embedding's length and the model are the
/// catalogue's own (`minItems` = `maxItems` = its dimension, the model its one `enum` value),
/// so a client or fuzzer generated from it sends vectors the server can take.
pub fn openapi_for(contract: &ModelContract) -> Value {
    let mut doc: Value = serde_json::from_str(OPENAPI).expect("openapi.json is valid JSON");
    let schemas = &mut doc["components"]["schemas"];
    schemas["Embedding"]["minItems"] = json!(contract.dim);
    schemas["Embedding"]["maxItems"] = json!(contract.dim);
    schemas["Model"]["enum"] = json!([contract.to_string()]);
    doc
}

pub async fn not_found() -> ApiError {
    ApiError::new(StatusCode::NOT_FOUND, "not_found", "no such endpoint")
}

/// 405 in the API's shape (axum adds the `Allow` header).
pub async fn method_not_allowed(method: axum::http::Method) -> ApiError {
    let shown: String = method.as_str().chars().take(20).collect();
    ApiError::new(
        StatusCode::METHOD_NOT_ALLOWED,
        "method_not_allowed",
        format!("method {shown} is not allowed on this endpoint (see the Allow header)"),
    )
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::rules::{FieldRule, PRODUCT_FIELDS, check_text};

    fn contract() -> ModelContract {
        ModelContract {
            id: "m".into(),
            version: "1".into(),
            dim: 3,
        }
    }

    #[test]
    fn the_served_document_states_the_catalogues_dimension_and_model() {
        let doc = openapi_for(&contract());
        let e = &doc["components"]["schemas"]["Embedding"];
        assert_eq!(
            (e["minItems"].as_u64(), e["maxItems"].as_u64()),
            (Some(3), Some(3))
        );
        assert_eq!(
            doc["components"]["schemas"]["Model"]["enum"],
            json!(["m@1"])
        );
    }

    /// The document's patterns and the server's rules agree on strings chosen to sit on every
    /// edge: control characters (C0, DEL, C1), Unicode white space at the ends and inside,
    /// trailing newlines (where `$` is loose in some regex engines), lengths in characters.
    #[test]
    fn the_documents_text_patterns_match_the_servers_rules() {
        let doc: Value = serde_json::from_str(OPENAPI).unwrap();
        let props = &doc["components"]["schemas"]["ProductUpsert"]["properties"];
        let samples: Vec<String> = [
            "a",
            "ab",
            "a b",
            " a",
            "a ",
            "\u{a0}a",
            "a\u{3000}",
            "a\u{2028}b",
            "a\u{feff}",
            "\u{feff}",
            "a\n",
            "a\tb",
            "a\u{7f}",
            "a\u{85}b",
            "a\u{9f}",
            "a\u{a0}b",
            "é",
            "",
            " ",
            "\u{1680}",
            "https://x",
            "http://",
            "https://x y",
            "https://x ",
            "ftp://x",
            "HTTPS://x",
            "EUR",
            "eur",
            "EURO",
            "E1R",
        ]
        .iter()
        .map(|s| s.to_string())
        .chain([
            "x".repeat(100),
            "x".repeat(101),
            "é".repeat(200),
            "é".repeat(201),
        ])
        .collect();
        let mut checked = 0;
        for (name, rule, _) in PRODUCT_FIELDS {
            let p = &props[name];
            let Some(pattern) = p["pattern"].as_str() else {
                continue;
            };
            // The regex crate reads ECMA-262's `\uXXXX` escapes as they are.
            let re = regex::Regex::new(pattern).unwrap();
            let min = p["minLength"].as_u64().unwrap_or(0) as usize;
            let max = p["maxLength"].as_u64().map_or(usize::MAX, |m| m as usize);
            for s in &samples {
                let n = s.chars().count();
                let by_doc = re.is_match(s) && n >= min && n <= max;
                let by_server = match rule {
                    FieldRule::Text { max, empty_ok } => check_text(s, max, empty_ok).is_ok(),
                    FieldRule::Link { max } => {
                        (s.starts_with("https://") || s.starts_with("http://"))
                            && check_text(s, max, false).is_ok()
                    }
                    FieldRule::Currency => {
                        s.len() == 3 && s.bytes().all(|b| b.is_ascii_alphabetic())
                    }
                    _ => continue,
                };
                assert_eq!(by_doc, by_server, "field {name}, value {s:?}");
                checked += 1;
            }
        }
        assert!(checked > 150, "{checked}");
    }
}
