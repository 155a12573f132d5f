//! Operations: `GET /healthz`, `GET /metrics` (Prometheus text), `GET /openapi.json`, and the
//! 404 for unknown routes. No key needed.

use std::sync::Arc;

use axum::extract::State;
use axum::http::{StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use axum::{Json, Router};
use serde_json::json;

use super::AppState;
use super::error::{ApiError, ApiResult};

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

async fn metrics(State(state): State<Arc<AppState>>) -> ApiResult<Response> {
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

async fn openapi() -> Response {
    ([(header::CONTENT_TYPE, "application/json")], OPENAPI).into_response()
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
