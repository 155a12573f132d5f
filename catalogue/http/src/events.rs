//! `POST /v1/events`: impressions, clicks and purchases, stored with the key's name; a click on
//! an ad is charged to its campaign. The rules are the domain's
//! (`shoplook_domain::events::EventService`).
//!
//! Only app keys may report events (403 for brand, advertiser and admin keys): events are
//! what shoppers' apps saw and did, and a key of a party that reads the reports or pays for
//! clicks could otherwise invent shoppers (issue 22: a brand key's clicks on a competitor's
//! product made hidden trend cells visible). The trend reports rely on it: an event counts
//! there only when its search was logged under the same key name (`TrendLog::trend_activity`).

use std::sync::Arc;

use axum::extract::State;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::routing::post;
use axum::{Json, Router};
use serde_json::{Value, json};
use shoplook_core::wire::Event;

use super::AppState;
use super::error::ApiResult;
use super::extract::{
    Apps, JsonBody, RequireRole, from_json_value, integral_fields, require_objects,
};

pub fn routes() -> Router<Arc<AppState>> {
    Router::new().route("/v1/events", post(post_event))
}

async fn post_event(
    State(state): State<Arc<AppState>>,
    key: RequireRole<Apps>,
    JsonBody(mut body): JsonBody<Value>,
) -> ApiResult<Response> {
    require_objects(&body, &[])?;
    integral_fields(&mut body, &["position"]);
    let event: Event = from_json_value(body)?;
    let key = key.into_inner();
    let st = state.clone();
    let recorded = super::blocking(move || {
        st.events
            .record(&event, &key.name, shoplook_domain::now_s())
    })
    .await?;
    Ok((
        StatusCode::CREATED,
        Json(json!({"stored": true, "duplicate": !recorded.fresh})),
    )
        .into_response())
}

/// Checks a `POST /v1/events` body beyond its JSON shape, as the handler does before the
/// store is asked (`shoplook_domain::events::validate_event`).
pub fn validate_event(event: &Event) -> ApiResult<()> {
    Ok(shoplook_domain::events::validate_event(event)?)
}
