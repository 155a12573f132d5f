//! `GET /v1/trends`: the trend report (`shoplook_domain::trends`) as JSON or CSV. A brand key sees its
//! own brand's rows and the market-level rows; an admin key sees everything; other keys are
//! refused (403).

use std::collections::HashMap;
use std::sync::Arc;

use axum::extract::{Query, State};
use axum::http::{StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use axum::{Json, Router};

use super::AppState;
use super::error::{ApiError, ApiResult};
use super::extract::{BrandKey, quoted};
use shoplook_domain::store::Role;
use shoplook_domain::trends::{
    Granularity, TrendQuery, TrendsConfig, Viewer, build_report, report,
};

pub fn routes() -> Router<Arc<AppState>> {
    Router::new().route("/v1/trends", get(get_trends))
}

/// Most buckets a report asks for (days: 12 weeks of them).
pub const MAX_PERIOD: u32 = 84;

/// JSON or CSV.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum Format {
    Json,
    Csv,
}

/// Parses the query of `GET /v1/trends` (and of the console's pages); `Err`: why not.
pub fn parse_query(q: &HashMap<String, String>) -> Result<(TrendQuery, Format), String> {
    for k in q.keys() {
        if !["granularity", "period", "category", "brand", "format"].contains(&k.as_str()) {
            return Err(format!(
                "unknown parameter {}: granularity, period, category, brand, format",
                quoted(k)
            ));
        }
    }
    let granularity = match q.get("granularity").map(String::as_str) {
        None | Some("week") => Granularity::Week,
        Some("day") => Granularity::Day,
        Some(other) => {
            return Err(format!(
                "`granularity` is `day` or `week`, not {}",
                quoted(other)
            ));
        }
    };
    let period = match q.get("period") {
        None => match granularity {
            Granularity::Week => 8,
            Granularity::Day => 28,
        },
        Some(p) => p
            .parse::<u32>()
            .ok()
            .filter(|p| (1..=MAX_PERIOD).contains(p))
            .ok_or_else(|| {
                format!("`period` is a whole number of days or weeks, 1-{MAX_PERIOD}")
            })?,
    };
    let text = |name: &str| -> Result<Option<String>, String> {
        match q.get(name) {
            None => Ok(None),
            Some(v)
                if (1..=200).contains(&v.chars().count()) && !v.chars().any(char::is_control) =>
            {
                Ok(Some(v.clone()))
            }
            Some(_) => Err(format!(
                "`{name}` must be 1-200 characters, no control characters"
            )),
        }
    };
    let format = match q.get("format").map(String::as_str) {
        None | Some("json") => Format::Json,
        Some("csv") => Format::Csv,
        Some(other) => {
            return Err(format!(
                "`format` is `json` or `csv`, not {}",
                quoted(other)
            ));
        }
    };
    Ok((
        TrendQuery {
            granularity,
            period,
            category: text("category")?,
            brand: text("brand")?,
        },
        format,
    ))
}

/// The viewer of a key's reports, or 403 (a brand key asking for another brand's rows).
pub fn viewer_of(role: &Role, q: &TrendQuery) -> ApiResult<Viewer> {
    match role {
        Role::Admin => Ok(Viewer::Admin),
        Role::Brand { brand } => {
            if q.brand
                .as_deref()
                .is_some_and(|b| !b.eq_ignore_ascii_case(brand))
            {
                return Err(ApiError::new(
                    StatusCode::FORBIDDEN,
                    "forbidden",
                    format!("a brand key sees its own brand ({}) only", quoted(brand)),
                ));
            }
            Ok(Viewer::Brand(brand.clone()))
        }
        _ => Err(ApiError::new(
            StatusCode::FORBIDDEN,
            "forbidden",
            "trend reports need a brand or admin key",
        )),
    }
}

/// The report settings of this process: `SHOPLOOK_TRENDS_K` (at least 2; default 20) and
/// `SHOPLOOK_TRENDS_EPSILON` (Laplace noise, > 0; default none).
pub fn trends_config() -> TrendsConfig {
    let mut c = TrendsConfig::default();
    if let Some(k) = std::env::var("SHOPLOOK_TRENDS_K")
        .ok()
        .and_then(|v| v.parse::<usize>().ok())
        .filter(|k| *k >= 2)
    {
        c.k = k;
    }
    c.epsilon = std::env::var("SHOPLOOK_TRENDS_EPSILON")
        .ok()
        .and_then(|v| v.parse::<f64>().ok())
        .filter(|e| e.is_finite() && *e > 0.0);
    c
}

async fn get_trends(
    State(state): State<Arc<AppState>>,
    key: BrandKey,
    query: Result<Query<HashMap<String, String>>, axum::extract::rejection::QueryRejection>,
) -> ApiResult<Response> {
    let Query(q) = query.map_err(|e| ApiError::bad(format!("bad query: {}", e.body_text())))?;
    let (q, format) = parse_query(&q).map_err(ApiError::bad)?;
    let viewer = viewer_of(&key.role, &q)?;
    let st = state.clone();
    let report = super::blocking(move || {
        build_report(
            st.store.as_ref(),
            &q,
            &viewer,
            &trends_config(),
            shoplook_domain::now_s(),
        )
    })
    .await?;
    Ok(match format {
        Format::Json => Json(report).into_response(),
        Format::Csv => (
            [(header::CONTENT_TYPE, "text/csv; charset=utf-8")],
            report::to_csv(&report),
        )
            .into_response(),
    })
}
