//! `POST /v1/events`: impressions, clicks and purchases, stored with the key's name; a click on
//! an ad is charged to its campaign (`shoplook_domain::ads`).

use std::sync::Arc;

use axum::extract::State;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::routing::post;
use axum::{Json, Router};
use serde_json::{Value, json};
use shoplook_core::wire::Event;

use super::AppState;
use super::error::{ApiError, ApiResult};
use super::extract::{ApiKey, JsonBody, from_json_value, integral_fields, quoted, require_objects};
use shoplook_domain::error::CatError;

pub fn routes() -> Router<Arc<AppState>> {
    Router::new().route("/v1/events", post(post_event))
}

async fn post_event(
    State(state): State<Arc<AppState>>,
    ApiKey(key): ApiKey,
    JsonBody(mut body): JsonBody<Value>,
) -> ApiResult<Response> {
    require_objects(&body, &[])?;
    integral_fields(&mut body, &["position"]);
    let event: Event = from_json_value(body)?;
    shoplook_domain::store::searches::check_event(&event)?;
    validate_event(&event)?;
    // Product ids hold no control characters (feeds and the API refuse them), so such an id
    // names no product: 404 without asking the store (PostgreSQL cannot even hold a NUL).
    if !super::products::may_exist(&event.product_id) {
        return Err(CatError::NotFound(format!("product {}", quoted(&event.product_id))).into());
    }
    let st = state.clone();
    let fresh = super::blocking(move || {
        if st.store.get(&event.product_id)?.is_none() {
            return Err(CatError::NotFound(format!(
                "product {:?}",
                event.product_id
            )));
        }
        let fresh = st.store.record_event(&event, &key.name)?;
        // A click on an ad is charged to its campaign, once per search, within its budget;
        // a duplicate is charged again only if the first try did not reach the store.
        if let Some(ads) = st.pipeline.ads() {
            ads.charge_click(&key.name, &event, shoplook_domain::now_s())?;
        }
        Ok(fresh)
    })
    .await?;
    Ok((
        StatusCode::CREATED,
        Json(json!({"stored": true, "duplicate": !fresh})),
    )
        .into_response())
}

/// Checks a `POST /v1/events` body beyond its JSON shape.
pub fn validate_event(event: &Event) -> ApiResult<()> {
    if !(1..=200).contains(&event.product_id.chars().count()) {
        return Err(ApiError::bad("`product_id` must be 1..=200 characters"));
    }
    Ok(())
}
