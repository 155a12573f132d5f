//! Sponsored-product campaigns, for advertiser keys (their own campaigns: those made by a key
//! of the same name) and admin keys (every campaign). The rules and the cache of live
//! campaigns are the domain's (`shoplook_domain::ads::campaigns::CampaignService`); these
//! handlers parse, call it and answer:
//!
//! - `POST /v1/campaigns`: create (201); a bad campaign is 400 with the reason, nothing written
//! - `GET /v1/campaigns`: list
//! - `GET /v1/campaigns/{id}`, `POST /v1/campaigns/{id}/pause`, `POST /v1/campaigns/{id}/resume`
//! - `GET /v1/campaigns/{id}/report`: impressions, clicks, spend and click rate per UTC day
//!
//! Another advertiser's campaign is 404, as if it did not exist.

use std::sync::Arc;

use axum::extract::State;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use axum::{Json, Router};
use serde_json::{Value, json};

use super::AppState;
use super::error::{ApiError, ApiResult};
use super::extract::{
    AdvertiserKey, JsonBody, PathSegment, from_json_value, integral_fields, require_objects,
};
use shoplook_domain::ads::campaigns::{CampaignRequest, CampaignScope};
use shoplook_domain::ads::report::CampaignView;
use shoplook_domain::now_s;
use shoplook_domain::store::KeyInfo;

pub fn routes() -> Router<Arc<AppState>> {
    Router::new()
        .route("/v1/campaigns", post(create).get(list))
        .route("/v1/campaigns/{id}", get(get_one))
        .route("/v1/campaigns/{id}/pause", post(pause))
        .route("/v1/campaigns/{id}/resume", post(resume))
        .route("/v1/campaigns/{id}/report", get(report))
}

/// Whose campaigns `key` manages (an `AdvertiserKey` is an advertiser's or an admin's).
fn scope(key: &KeyInfo) -> CampaignScope<'_> {
    CampaignScope::of(key).unwrap_or(CampaignScope::Own(&key.id))
}

async fn create(
    State(state): State<Arc<AppState>>,
    key: AdvertiserKey,
    JsonBody(mut body): JsonBody<Value>,
) -> ApiResult<Response> {
    require_objects(&body, &[])?;
    const INTEGERS: [&str; 5] = [
        "bid_cents",
        "daily_budget_cents",
        "frequency_cap",
        "starts_at",
        "ends_at",
    ];
    integral_fields(&mut body, &INTEGERS);
    // Name the field a fraction or a string was given for (serde's message does not).
    for f in INTEGERS {
        if body.get(f).is_some_and(|v| !v.is_null() && !v.is_i64()) {
            return Err(ApiError::bad(format!(
                "`{f}` must be an integer{}",
                if f.ends_with("_cents") {
                    " (minor units: cents)"
                } else {
                    ""
                }
            )));
        }
    }
    let req: CampaignRequest = from_json_value(body)?;
    let st = state.clone();
    let campaign = super::blocking(move || st.campaigns.create(req, &key.id, now_s())).await?;
    let view = state.campaigns.view(&campaign, now_s());
    Ok((StatusCode::CREATED, Json(view)).into_response())
}

async fn list(State(state): State<Arc<AppState>>, key: AdvertiserKey) -> ApiResult<Response> {
    let st = state.clone();
    let all = super::blocking(move || st.campaigns.list(scope(&key), now_s())).await?;
    let now = now_s();
    let views: Vec<CampaignView> = all.iter().map(|c| state.campaigns.view(c, now)).collect();
    Ok(Json(json!({ "campaigns": views })).into_response())
}

async fn get_one(
    State(state): State<Arc<AppState>>,
    key: AdvertiserKey,
    PathSegment(id): PathSegment,
) -> ApiResult<Response> {
    let st = state.clone();
    let c = super::blocking(move || st.campaigns.get(scope(&key), &id, now_s())).await?;
    Ok(Json(state.campaigns.view(&c, now_s())).into_response())
}

async fn set_paused(
    state: Arc<AppState>,
    key: AdvertiserKey,
    id: String,
    paused: bool,
) -> ApiResult<Response> {
    let st = state.clone();
    let c =
        super::blocking(move || st.campaigns.set_paused(scope(&key), &id, paused, now_s())).await?;
    Ok(Json(state.campaigns.view(&c, now_s())).into_response())
}

async fn pause(
    State(state): State<Arc<AppState>>,
    key: AdvertiserKey,
    PathSegment(id): PathSegment,
) -> ApiResult<Response> {
    set_paused(state, key, id, true).await
}

async fn resume(
    State(state): State<Arc<AppState>>,
    key: AdvertiserKey,
    PathSegment(id): PathSegment,
) -> ApiResult<Response> {
    set_paused(state, key, id, false).await
}

async fn report(
    State(state): State<Arc<AppState>>,
    key: AdvertiserKey,
    PathSegment(id): PathSegment,
) -> ApiResult<Response> {
    let st = state.clone();
    let report = super::blocking(move || {
        let c = st.campaigns.get(scope(&key), &id, now_s())?;
        st.campaigns.report(&c)
    })
    .await?;
    Ok(Json(report).into_response())
}
