//! `GET /v1/products/{id}` (any key), `DELETE /v1/products/{id}` and `PUT /v1/products`
//! (admin key; a batch of 1-1000 products with their embeddings, validated as a whole before
//! anything is written). The rules are the domain's (`shoplook_domain::products`).

use std::sync::Arc;

use axum::extract::State;
use axum::response::{IntoResponse, Response};
use axum::routing::{get, put};
use axum::{Json, Router};
use serde_json::{Value, json};
use shoplook_core::ModelContract;
use shoplook_domain::error::CatError;
use shoplook_domain::products::CheckedProduct;

use super::AppState;
use super::error::ApiResult;
use super::extract::{AdminKey, ApiKey, JsonBody, PathSegment, unit_embeddings};

pub fn routes() -> Router<Arc<AppState>> {
    Router::new()
        .route("/v1/products", put(put_products))
        .route("/v1/products/{id}", get(get_product).delete(delete_product))
}

async fn get_product(
    State(state): State<Arc<AppState>>,
    _key: ApiKey,
    PathSegment(id): PathSegment,
) -> ApiResult<Response> {
    let st = state.clone();
    let product = super::blocking(move || st.products.get(&id)).await?;
    Ok(Json(product).into_response())
}

async fn delete_product(
    State(state): State<Arc<AppState>>,
    _admin: AdminKey,
    PathSegment(id): PathSegment,
) -> ApiResult<Response> {
    let st = state.clone();
    let idc = id.clone();
    super::blocking(move || st.products.delete(&idc)).await?;
    Ok(Json(json!({"deleted": id})).into_response())
}

async fn put_products(
    State(state): State<Arc<AppState>>,
    _admin: AdminKey,
    JsonBody(value): JsonBody<Value>,
) -> ApiResult<Response> {
    let batch = validate_batch(&state.contract, value)?;
    // The ids written, in the order sent (the OpenAPI links use them).
    let ids: Vec<String> = batch.iter().map(|p| p.product.id.clone()).collect();
    let st = state.clone();
    let counts = super::blocking(move || st.products.upsert(&batch)).await?;
    Ok(Json(json!({"added": counts.added, "updated": counts.updated, "ids": ids})).into_response())
}

/// Validates a whole `PUT /v1/products` body (an array of products, or `{"products":[...]}`)
/// before anything is written: its embeddings scaled to unit length, then each product checked
/// by the domain with its embedding and content hash.
pub fn validate_batch(
    contract: &ModelContract,
    mut value: Value,
) -> ApiResult<Vec<CheckedProduct>> {
    unit_embeddings(&mut value)?;
    shoplook_domain::products::validate_batch(contract, value).map_err(|e| CatError::from(e).into())
}
