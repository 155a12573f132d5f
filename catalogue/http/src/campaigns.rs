//! Sponsored-product campaigns (`shoplook_domain::ads`), for advertiser keys (their own campaigns: those
//! made by a key of the same name) and admin keys (every campaign):
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
use serde::Deserialize;
use serde_json::{Value, json};

use super::AppState;
use super::error::{ApiError, ApiResult};
use super::extract::{
    AdvertiserKey, JsonBody, PathSegment, from_json_value, integral_fields, quoted, require_objects,
};
use shoplook_domain::ads::report::{CampaignView, Report};
use shoplook_domain::ads::{AdsConfig, MAX_BID_CENTS, MAX_DAILY_BUDGET_CENTS, MAX_FREQUENCY_CAP};
use shoplook_domain::error::CatError;
use shoplook_domain::store::KeyInfo;
use shoplook_domain::store::campaigns::{Campaign, Pacing, day_of};

/// Latest time a campaign may start or end (2200-01-01, Unix seconds).
pub const MAX_TIME: i64 = 7_258_118_400;

pub fn routes() -> Router<Arc<AppState>> {
    Router::new()
        .route("/v1/campaigns", post(create).get(list))
        .route("/v1/campaigns/{id}", get(get_one))
        .route("/v1/campaigns/{id}/pause", post(pause))
        .route("/v1/campaigns/{id}/resume", post(resume))
        .route("/v1/campaigns/{id}/report", get(report))
}

/// `POST /v1/campaigns` body.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct CampaignRequest {
    pub name: String,
    pub product_id: String,
    pub bid_cents: i64,
    pub daily_budget_cents: i64,
    #[serde(default)]
    pub pacing: Option<Pacing>,
    #[serde(default)]
    pub frequency_cap: Option<i64>,
    #[serde(default)]
    pub starts_at: Option<i64>,
    #[serde(default)]
    pub ends_at: Option<i64>,
}

/// The settings campaigns are checked against and shown with (the defaults when this server
/// serves no ads).
pub(super) fn ads_config(state: &AppState) -> AdsConfig {
    state
        .pipeline
        .ads()
        .map_or_else(AdsConfig::default, |a| a.config().clone())
}

/// Checks a campaign request at `now` and makes the campaign of `advertiser` (the product's
/// existence is checked against the store by the caller).
pub fn validate(
    req: CampaignRequest,
    advertiser: &str,
    now: i64,
    cfg: &AdsConfig,
) -> Result<Campaign, ApiError> {
    super::rules::check_text(&req.name, 200, false)
        .map_err(|e| ApiError::bad(format!("`name` {e}")))?;
    if !(1..=200).contains(&req.product_id.chars().count())
        || !super::products::may_exist(&req.product_id)
    {
        return Err(ApiError::bad(
            "`product_id` must be 1-200 characters without control characters",
        ));
    }
    let reserve = cfg.reserve_cents.max(1);
    if !(reserve..=MAX_BID_CENTS).contains(&req.bid_cents) {
        return Err(ApiError::bad(format!(
            "`bid_cents` must be {reserve}..={MAX_BID_CENTS} (cents per click; {reserve} is \
             the reserve price), not {}",
            req.bid_cents
        )));
    }
    if !(1..=MAX_DAILY_BUDGET_CENTS).contains(&req.daily_budget_cents) {
        return Err(ApiError::bad(format!(
            "`daily_budget_cents` must be 1..={MAX_DAILY_BUDGET_CENTS} (cents per UTC day), not {}",
            req.daily_budget_cents
        )));
    }
    let cap = req.frequency_cap.unwrap_or(i64::from(cfg.frequency_cap));
    if !(1..=MAX_FREQUENCY_CAP).contains(&cap) {
        return Err(ApiError::bad(format!(
            "`frequency_cap` must be 1..={MAX_FREQUENCY_CAP} (ads per app session per day), not {cap}"
        )));
    }
    let starts_at = req.starts_at.unwrap_or(now);
    if !(0..=MAX_TIME).contains(&starts_at) {
        return Err(ApiError::bad(format!(
            "`starts_at` must be 0..={MAX_TIME} (Unix seconds)"
        )));
    }
    // A past end is the more useful message when `starts_at` defaults to now.
    if let Some(end) = req.ends_at {
        if end > MAX_TIME {
            return Err(ApiError::bad(format!(
                "`ends_at` must be at most {MAX_TIME} (Unix seconds)"
            )));
        }
        if end <= now {
            return Err(ApiError::bad(format!(
                "`ends_at` ({end}) is in the past (now {now})"
            )));
        }
        if end <= starts_at {
            return Err(ApiError::bad(format!(
                "`ends_at` ({end}) must be after `starts_at` ({starts_at})"
            )));
        }
    }
    Ok(Campaign {
        id: format!("cmp_{}", shoplook_domain::random_hex(8)),
        advertiser: advertiser.to_string(),
        name: req.name,
        product_id: req.product_id,
        bid_cents: req.bid_cents,
        daily_budget_cents: req.daily_budget_cents,
        pacing: req.pacing.unwrap_or(Pacing::Even),
        frequency_cap: cap as u32,
        starts_at,
        ends_at: req.ends_at,
        paused: false,
        created_at: now,
        spent_today_cents: 0,
    })
}

/// Whether `id` could name a campaign (`cmp_` + 16 lowercase hex digits).
fn campaign_id_shape(id: &str) -> bool {
    id.len() == 20
        && id.starts_with("cmp_")
        && id[4..]
            .bytes()
            .all(|b| matches!(b, b'0'..=b'9' | b'a'..=b'f'))
}

/// The campaign if `key` may see it: its own, or any for an admin; else 404.
async fn visible(state: &Arc<AppState>, key: &KeyInfo, id: String) -> ApiResult<Campaign> {
    let missing = || CatError::NotFound(format!("campaign {}", quoted(&id)));
    if !campaign_id_shape(&id) {
        return Err(missing().into());
    }
    let st = state.clone();
    let idc = id.clone();
    let found =
        super::blocking(move || st.store.campaign(&idc, day_of(shoplook_domain::now_s()))).await?;
    match found {
        Some(c) if key.is_admin() || c.advertiser == key.name => Ok(c),
        _ => Err(missing().into()),
    }
}

fn view(state: &AppState, c: &Campaign) -> CampaignView {
    CampaignView::new(c, shoplook_domain::now_s(), &ads_config(state).currency)
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
    let campaign = validate(
        req,
        &key.name,
        shoplook_domain::now_s(),
        &ads_config(&state),
    )?;
    let st = state.clone();
    let c = campaign.clone();
    super::blocking(move || {
        if st.store.get(&c.product_id)?.is_none() {
            return Err(CatError::Invalid(format!(
                "unknown product {}: a campaign promotes a product of the catalogue",
                quoted(&c.product_id)
            )));
        }
        st.store.create_campaign(&c)
    })
    .await?;
    if let Some(ads) = state.pipeline.ads() {
        ads.changed();
    }
    Ok((StatusCode::CREATED, Json(view(&state, &campaign))).into_response())
}

async fn list(State(state): State<Arc<AppState>>, key: AdvertiserKey) -> ApiResult<Response> {
    let st = state.clone();
    let owner = (!key.is_admin()).then(|| key.name.clone());
    let all = super::blocking(move || {
        st.store
            .campaigns(owner.as_deref(), day_of(shoplook_domain::now_s()))
    })
    .await?;
    let views: Vec<CampaignView> = all.iter().map(|c| view(&state, c)).collect();
    Ok(Json(json!({ "campaigns": views })).into_response())
}

async fn get_one(
    State(state): State<Arc<AppState>>,
    key: AdvertiserKey,
    PathSegment(id): PathSegment,
) -> ApiResult<Response> {
    let c = visible(&state, &key, id).await?;
    Ok(Json(view(&state, &c)).into_response())
}

async fn set_paused(
    state: Arc<AppState>,
    key: &KeyInfo,
    id: String,
    paused: bool,
) -> ApiResult<Response> {
    let mut c = visible(&state, key, id).await?;
    let st = state.clone();
    let cid = c.id.clone();
    super::blocking(move || st.store.set_paused(&cid, paused)).await?;
    if let Some(ads) = state.pipeline.ads() {
        ads.changed();
    }
    c.paused = paused;
    Ok(Json(view(&state, &c)).into_response())
}

async fn pause(
    State(state): State<Arc<AppState>>,
    key: AdvertiserKey,
    PathSegment(id): PathSegment,
) -> ApiResult<Response> {
    set_paused(state, &key, id, true).await
}

async fn resume(
    State(state): State<Arc<AppState>>,
    key: AdvertiserKey,
    PathSegment(id): PathSegment,
) -> ApiResult<Response> {
    set_paused(state, &key, id, false).await
}

async fn report(
    State(state): State<Arc<AppState>>,
    key: AdvertiserKey,
    PathSegment(id): PathSegment,
) -> ApiResult<Response> {
    let c = visible(&state, &key, id).await?;
    let st = state.clone();
    let cid = c.id.clone();
    let days = super::blocking(move || st.store.campaign_days(&cid)).await?;
    Ok(Json(Report::new(&c.id, &ads_config(&state).currency, &days)).into_response())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn req() -> CampaignRequest {
        CampaignRequest {
            name: "Boots".into(),
            product_id: "p1".into(),
            bid_cents: 50,
            daily_budget_cents: 1000,
            pacing: None,
            frequency_cap: None,
            starts_at: None,
            ends_at: None,
        }
    }

    #[test]
    fn a_plain_campaign_gets_the_defaults() {
        let c = validate(req(), "acme", 1000, &AdsConfig::default()).unwrap();
        assert!(campaign_id_shape(&c.id), "{}", c.id);
        assert_eq!((c.advertiser.as_str(), c.starts_at), ("acme", 1000));
        assert_eq!(
            (c.pacing, c.frequency_cap, c.ends_at),
            (Pacing::Even, 3, None)
        );
    }

    #[test]
    fn each_bad_field_is_refused_with_its_name() {
        let cfg = AdsConfig::default();
        let bad: Vec<(&str, Box<dyn Fn(&mut CampaignRequest)>)> = vec![
            ("name", Box::new(|r| r.name = " ".into())),
            ("product_id", Box::new(|r| r.product_id = "".into())),
            ("product_id", Box::new(|r| r.product_id = "a\u{0}b".into())),
            ("bid_cents", Box::new(|r| r.bid_cents = -5)),
            ("bid_cents", Box::new(|r| r.bid_cents = 0)),
            ("bid_cents", Box::new(|r| r.bid_cents = 4)),
            ("bid_cents", Box::new(|r| r.bid_cents = MAX_BID_CENTS + 1)),
            ("daily_budget_cents", Box::new(|r| r.daily_budget_cents = 0)),
            ("frequency_cap", Box::new(|r| r.frequency_cap = Some(0))),
            ("starts_at", Box::new(|r| r.starts_at = Some(-1))),
            ("ends_at", Box::new(|r| r.ends_at = Some(900))),
            (
                "ends_at",
                Box::new(|r| {
                    r.starts_at = Some(5000);
                    r.ends_at = Some(4000)
                }),
            ),
            ("ends_at", Box::new(|r| r.ends_at = Some(MAX_TIME + 1))),
        ];
        for (field, spoil) in bad {
            let mut r = req();
            spoil(&mut r);
            let e = validate(r, "acme", 1000, &cfg).unwrap_err();
            assert_eq!(e.status(), StatusCode::BAD_REQUEST);
            let msg = format!("{e:?}");
            assert!(msg.contains(&format!("`{field}`")), "{field}: {msg}");
        }
    }

    #[test]
    fn only_campaign_shaped_ids_are_looked_up() {
        assert!(campaign_id_shape("cmp_0123456789abcdef"));
        for bad in [
            "cmp_0123456789ABCDEF",
            "cmp_123",
            "xyz_0123456789abcdef",
            "",
        ] {
            assert!(!campaign_id_shape(bad), "{bad}");
        }
    }
}
