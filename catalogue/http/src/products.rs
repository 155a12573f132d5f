//! `GET /v1/products/{id}` (any key), `DELETE /v1/products/{id}` and `PUT /v1/products`
//! (admin key; a batch of 1-1000 products with their embeddings, validated as a whole before
//! anything is written).

use std::sync::Arc;

use axum::extract::State;
use axum::response::{IntoResponse, Response};
use axum::routing::{get, put};
use axum::{Json, Router};
use serde_json::{Value, json};
use shoplook_core::ModelContract;
use shoplook_core::wire::Product;

use super::AppState;
use super::error::{ApiError, ApiResult};
use super::extract::{AdminKey, ApiKey, JsonBody, PathSegment, quoted, unit_embeddings};
use shoplook_domain::error::CatError;
use shoplook_domain::store::Upserted;

/// Largest batch of `PUT /v1/products`.
const MAX_BATCH: usize = 1000;

pub fn routes() -> Router<Arc<AppState>> {
    Router::new()
        .route("/v1/products", put(put_products))
        .route("/v1/products/{id}", get(get_product).delete(delete_product))
}

/// Whether a product could have this id: stored ids hold no control characters (feeds and the
/// API refuse them), and PostgreSQL cannot even be asked about one with a NUL.
pub fn may_exist(id: &str) -> bool {
    !id.is_empty() && !id.chars().any(char::is_control)
}

async fn get_product(
    State(state): State<Arc<AppState>>,
    _key: ApiKey,
    PathSegment(id): PathSegment,
) -> ApiResult<Response> {
    if !may_exist(&id) {
        return Err(CatError::NotFound(format!("product {}", quoted(&id))).into());
    }
    let st = state.clone();
    let idc = id.clone();
    match super::blocking(move || st.store.get(&idc)).await? {
        Some(p) => Ok(Json(p.product).into_response()),
        None => Err(CatError::NotFound(format!("product {}", quoted(&id))).into()),
    }
}

async fn delete_product(
    State(state): State<Arc<AppState>>,
    _admin: AdminKey,
    PathSegment(id): PathSegment,
) -> ApiResult<Response> {
    if !may_exist(&id) {
        return Err(CatError::NotFound(format!("product {}", quoted(&id))).into());
    }
    let st = state.clone();
    let idc = id.clone();
    if super::blocking(move || st.store.delete(&idc)).await? {
        Ok(Json(json!({"deleted": id})).into_response())
    } else {
        Err(CatError::NotFound(format!("product {}", quoted(&id))).into())
    }
}

async fn put_products(
    State(state): State<Arc<AppState>>,
    _admin: AdminKey,
    JsonBody(value): JsonBody<Value>,
) -> ApiResult<Response> {
    let batch = validate_batch(&state.contract, value)?;
    // The ids written, in the order sent (the OpenAPI links use them).
    let ids: Vec<String> = batch.iter().map(|(p, _, _)| p.id.clone()).collect();
    let st = state.clone();
    let (added, updated) = super::blocking(move || {
        let (mut a, mut u) = (0, 0);
        for (p, h, v) in &batch {
            match st.store.upsert(p, h, v)? {
                Upserted::Added => a += 1,
                Upserted::Updated => u += 1,
            }
        }
        Ok((a, u))
    })
    .await?;
    Ok(Json(json!({"added": added, "updated": updated, "ids": ids})).into_response())
}

/// Validates a whole `PUT /v1/products` body (an array of products, or `{"products":[...]}`)
/// before anything is written: each product with its checked embedding and content hash.
pub fn validate_batch(
    contract: &ModelContract,
    mut value: Value,
) -> ApiResult<Vec<(Product, String, Vec<f32>)>> {
    unit_embeddings(&mut value)?;
    let not_a_batch = || ApiError::bad("expected an array of products or {\"products\":[...]}");
    let items = match value {
        Value::Array(a) => a,
        Value::Object(mut o) => match o.remove("products") {
            Some(Value::Array(a)) => a,
            _ => return Err(not_a_batch()),
        },
        _ => return Err(not_a_batch()),
    };
    if items.is_empty() || items.len() > MAX_BATCH {
        return Err(ApiError::bad(format!(
            "a batch holds 1..={MAX_BATCH} products"
        )));
    }
    let mut batch = Vec::with_capacity(items.len());
    for (i, mut item) in items.into_iter().enumerate() {
        let obj = item
            .as_object_mut()
            .ok_or_else(|| ApiError::bad(format!("product {i}: not an object")))?;
        let embedding: Vec<f32> = obj
            .remove("embedding")
            .map(serde_json::from_value)
            .transpose()
            .map_err(|e| ApiError::bad(format!("product {i}: `embedding`: {e}")))?
            .ok_or_else(|| ApiError::bad(format!("product {i}: `embedding` is missing")))?;
        let model = obj
            .remove("model")
            .and_then(|m| m.as_str().map(str::to_string))
            .ok_or_else(|| ApiError::bad(format!("product {i}: `model` is missing")))?;
        shoplook_domain::search::check_query(contract, &model, &embedding)
            .map_err(|e| ApiError::from(e).prefixed(&format!("product {i}: ")))?;
        // The API's rules (as the OpenAPI document states them), then the feed's checks.
        super::rules::check_product(item.as_object().expect("checked above"))
            .map_err(|e| ApiError::bad(format!("product {i}: {e}")))?;
        let product = shoplook_domain::feed::validate_value(item)
            .map_err(|e| ApiError::bad(format!("product {i}: {e}")))?;
        let mut hashed: Vec<u8> = embedding.iter().flat_map(|v| v.to_le_bytes()).collect();
        hashed.extend_from_slice(model.as_bytes());
        batch.push((product, shoplook_domain::sha256_hex(&hashed), embedding));
    }
    Ok(batch)
}
