//! `POST /v1/search`: validate, then the search pipeline (retrieve -> rank -> blend).

use std::sync::Arc;

use axum::extract::State;
use axum::routing::post;
use axum::{Json, Router};
use shoplook_core::wire::{SearchRequest, SearchResponse};

use super::AppState;
use super::error::ApiResult;
use super::extract::{ApiKey, JsonBody};

pub fn routes() -> Router<Arc<AppState>> {
    Router::new().route("/v1/search", post(search))
}

async fn search(
    State(state): State<Arc<AppState>>,
    ApiKey(key): ApiKey,
    JsonBody(mut req): JsonBody<SearchRequest>,
) -> ApiResult<Json<SearchResponse>> {
    crate::search::validate(&state.contract, &req)?;
    // Within tolerance of unit length; made exact so the scores are cosines.
    crate::store::to_unit(&mut req.embedding);
    let st = state.clone();
    let resp = super::blocking(move || {
        st.pipeline
            .run_and_log(st.store.as_ref(), &st.contract, &req, &key.name)
    })
    .await?;
    Ok(Json(resp))
}
