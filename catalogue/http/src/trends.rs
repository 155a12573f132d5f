//! `GET /v1/trends`: the trend report (`shoplook_domain::trends`) as JSON or CSV (its text
//! cells neutralised for spreadsheets: `trends::export`). A brand key sees its
//! own brand's rows and the market-level rows; an admin key sees everything; other keys are
//! refused (403). The parameters' rules and who may read what are the domain's
//! (`shoplook_domain::trends::query`); the privacy settings are the app's, filled at start.

use std::collections::HashMap;
use std::sync::Arc;

use axum::extract::{Query, State};
use axum::http::{StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use axum::{Json, Router};

use super::AppState;
use super::error::{ApiError, ApiResult};
use super::extract::BrandKey;
use shoplook_domain::trends::{AccessError, Format, build_report, export, parse_query, viewer_of};

pub fn routes() -> Router<Arc<AppState>> {
    Router::new().route("/v1/trends", get(get_trends))
}

impl From<AccessError> for ApiError {
    fn from(e: AccessError) -> Self {
        ApiError::new(StatusCode::FORBIDDEN, "forbidden", e.to_string())
    }
}

async fn get_trends(
    State(state): State<Arc<AppState>>,
    key: BrandKey,
    query: Result<Query<HashMap<String, String>>, axum::extract::rejection::QueryRejection>,
) -> ApiResult<Response> {
    let Query(q) = query.map_err(|e| ApiError::bad(format!("bad query: {}", e.body_text())))?;
    let (q, format) = parse_query(&q).map_err(|e| ApiError::bad(e.to_string()))?;
    let viewer = viewer_of(&key.role, &q)?;
    let st = state.clone();
    let report = super::blocking(move || {
        build_report(
            st.store.as_ref(),
            &q,
            &viewer,
            &st.trends,
            shoplook_domain::now_s(),
        )
    })
    .await?;
    Ok(match format {
        Format::Json => Json(report).into_response(),
        Format::Csv => (
            [(header::CONTENT_TYPE, "text/csv; charset=utf-8")],
            export::to_csv(&report),
        )
            .into_response(),
    })
}
