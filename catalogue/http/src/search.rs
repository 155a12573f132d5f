//! `POST /v1/search`: validate, then the search pipeline (retrieve -> rank -> blend).

use std::sync::Arc;

use axum::extract::State;
use axum::routing::post;
use axum::{Json, Router};
use serde_json::Value;
use shoplook_core::wire::{SearchRequest, SearchResponse};

use super::AppState;
use super::error::ApiResult;
use super::extract::{
    ApiKey, JsonBody, from_json_value, integral_fields, require_objects, unit_embeddings,
};

pub fn routes() -> Router<Arc<AppState>> {
    Router::new().route("/v1/search", post(search))
}

async fn search(
    State(state): State<Arc<AppState>>,
    ApiKey(key): ApiKey,
    JsonBody(mut body): JsonBody<Value>,
) -> ApiResult<Json<SearchResponse>> {
    require_objects(&body, &["filters"])?;
    unit_embeddings(&mut body)?;
    integral_fields(&mut body, &["k"]);
    let req: SearchRequest = from_json_value(body)?;
    shoplook_domain::search::validate(&state.contract, &req)?;
    let st = state.clone();
    let resp = super::blocking(move || {
        st.pipeline
            .run_and_log(st.store.as_ref(), &st.contract, &req, &key.name)
    })
    .await?;
    Ok(Json(resp))
}
