//! The web console (`/console`): sign in with an API key, see what its role may see (trend
//! reports: brand and admin keys; campaigns: advertiser and admin keys). The
//! pages are rendered by `crate::console`; this is the thin part: the key, the data, the
//! answers.
//!
//! The key lives in a cookie (`HttpOnly`, `SameSite=Strict`, `Path=/console`, no expiry: it
//! ends with the browser session). Pages are rendered on the server, so each request must
//! carry the key, and a cookie is the one thing a browser sends with a plain link or form
//! without script; `HttpOnly` keeps it from any script on the page, `SameSite=Strict` from
//! other sites' requests. The server keeps no session state, so any of several API servers
//! can answer. Behind TLS a deployment adds `Secure` at the proxy.

use std::collections::HashMap;
use std::sync::Arc;

use axum::Router;
use axum::body::Bytes;
use axum::extract::{Query, State};
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{Html, IntoResponse, Response};
use axum::routing::{get, post};

use crate::AppState;
use crate::console::campaigns::CampaignRow;
use crate::console::{self, Dashboard};
use crate::error::ApiResult;
use shoplook_domain::ads::campaigns::CampaignScope;
use shoplook_domain::error::CatResult;
use shoplook_domain::store::{KeyInfo, Role};
use shoplook_domain::trends::{Granularity, Viewer, build_report, parse_query};

const COOKIE: &str = "shoplook_key";

pub fn routes() -> Router<Arc<AppState>> {
    Router::new()
        .route("/console", get(get_console))
        .route("/console/sign-in", post(sign_in))
        .route("/console/sign-out", post(sign_out))
}

fn html(status: StatusCode, body: String) -> Response {
    let mut r = (status, Html(body)).into_response();
    let h = r.headers_mut();
    h.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    // Nothing but this page's own styles, inline SVG and http(s) product images.
    h.insert(
        header::CONTENT_SECURITY_POLICY,
        HeaderValue::from_static(
            "default-src 'none'; style-src 'unsafe-inline'; img-src http: https: data:; \
             form-action 'self'; frame-ancestors 'none'; base-uri 'none'",
        ),
    );
    r
}

fn cookie_key(headers: &HeaderMap) -> Option<String> {
    headers
        .get_all(header::COOKIE)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(';'))
        .filter_map(|kv| kv.trim().split_once('='))
        .find(|(k, _)| *k == COOKIE)
        .map(|(_, v)| v.to_string())
}

/// The key's record, or `None` (unknown, or over its rate limit: then `Err` with the page).
async fn lookup(state: &Arc<AppState>, secret: String) -> ApiResult<Option<KeyInfo>> {
    let st = state.clone();
    let found = crate::blocking(move || st.keys.lookup(st.store.as_ref(), &secret)).await?;
    Ok(match found {
        Some((hash, info)) if state.limiter.check(&hash).is_ok() => Some(info),
        _ => None,
    })
}

async fn get_console(
    State(state): State<Arc<AppState>>,
    headers: HeaderMap,
    query: Result<Query<HashMap<String, String>>, axum::extract::rejection::QueryRejection>,
) -> ApiResult<Response> {
    let Some(secret) = cookie_key(&headers) else {
        return Ok(html(StatusCode::OK, console::sign_in(None)));
    };
    let Some(key) = lookup(&state, secret).await? else {
        return Ok(html(
            StatusCode::UNAUTHORIZED,
            console::sign_in(Some("That key is unknown (or over its rate limit).")),
        ));
    };
    let q = query.map(|Query(q)| q).unwrap_or_default();
    let (q, _) = match parse_query(&q) {
        Ok(parsed) => parsed,
        Err(e) => {
            return Ok(html(
                StatusCode::BAD_REQUEST,
                console::page(
                    "Bad filters",
                    &format!(
                        "<main id=\"main\"><p role=\"alert\">{}</p><a href=\"/console\">Back</a></main>",
                        console::esc(&e.to_string())
                    ),
                ),
            ));
        }
    };
    // A brand key's own brand, whatever the filters say; no reports for other roles.
    let viewer = match &key.role {
        Role::Admin => Some(Viewer::Admin),
        Role::Brand { brand } => Some(Viewer::Brand(brand.clone())),
        _ => None,
    };
    let st = state.clone();
    let qc = q.clone();
    let kc = key.clone();
    let (report, stats, facts, campaigns) = crate::blocking(move || {
        let now = shoplook_domain::now_s();
        let report = viewer
            .map(|v| build_report(st.store.as_ref(), &qc, &v, &st.trends, now))
            .transpose()?;
        // Campaigns: an advertiser's own, every one for an admin, none for other roles.
        let campaigns = CampaignScope::of(&kc)
            .map(|scope| {
                st.campaigns
                    .list(scope, now)?
                    .iter()
                    .map(|c| {
                        Ok(CampaignRow {
                            view: st.campaigns.view(c, now),
                            report: st.campaigns.report(c)?,
                        })
                    })
                    .collect::<CatResult<Vec<_>>>()
            })
            .transpose()?;
        Ok((
            report,
            st.store.stats()?,
            st.store.product_facts()?,
            campaigns,
        ))
    })
    .await?;
    let mut categories: Vec<String> = facts.iter().map(|p| p.category.clone()).collect();
    categories.sort();
    categories.dedup();
    let page = console::dashboard(&Dashboard {
        key_name: &key.name,
        role: key.role.as_str(),
        brand: key.role.brand(),
        report: report.as_ref(),
        products: stats.products,
        in_stock: facts.iter().filter(|p| p.in_stock).count() as u64,
        index_size: stats.index_size,
        events: stats.events,
        granularity: match q.granularity {
            Granularity::Day => "day",
            Granularity::Week => "week",
        },
        period: q.period,
        category: q.category.as_deref(),
        categories,
        campaigns: campaigns.as_deref(),
    });
    Ok(html(StatusCode::OK, page))
}

/// `application/x-www-form-urlencoded` value of `name`.
fn form_value(body: &[u8], name: &str) -> Option<String> {
    let text = std::str::from_utf8(body).ok()?;
    let raw = text
        .split('&')
        .filter_map(|kv| kv.split_once('='))
        .find(|(k, _)| *k == name)?
        .1;
    let bytes = raw.as_bytes();
    let mut out = Vec::new();
    let mut i = 0;
    while i < bytes.len() {
        match bytes[i] {
            b'+' => out.push(b' '),
            b'%' if i + 2 < bytes.len() => {
                let hex = std::str::from_utf8(&bytes[i + 1..i + 3]).ok()?;
                out.push(u8::from_str_radix(hex, 16).ok()?);
                i += 2;
            }
            b => out.push(b),
        }
        i += 1;
    }
    String::from_utf8(out).ok()
}

async fn sign_in(State(state): State<Arc<AppState>>, body: Bytes) -> ApiResult<Response> {
    let secret = form_value(&body, "key")
        .unwrap_or_default()
        .trim()
        .to_string();
    // A key is `slk_` and hex: nothing a cookie value cannot hold.
    let plausible = secret.len() <= 200
        && secret
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'_');
    if !plausible || lookup(&state, secret.clone()).await?.is_none() {
        return Ok(html(
            StatusCode::UNAUTHORIZED,
            console::sign_in(Some("That key is unknown (or over its rate limit).")),
        ));
    }
    let mut r = StatusCode::SEE_OTHER.into_response();
    let h = r.headers_mut();
    h.insert(header::LOCATION, HeaderValue::from_static("/console"));
    if let Ok(v) = HeaderValue::from_str(&format!(
        "{COOKIE}={secret}; HttpOnly; SameSite=Strict; Path=/console"
    )) {
        h.insert(header::SET_COOKIE, v);
    }
    Ok(r)
}

async fn sign_out() -> Response {
    let mut r = StatusCode::SEE_OTHER.into_response();
    let h = r.headers_mut();
    h.insert(header::LOCATION, HeaderValue::from_static("/console"));
    h.insert(
        header::SET_COOKIE,
        HeaderValue::from_static(
            "shoplook_key=; HttpOnly; SameSite=Strict; Path=/console; Max-Age=0",
        ),
    );
    r
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn form_values_are_decoded() {
        assert_eq!(
            form_value(b"key=slk_ab12", "key").as_deref(),
            Some("slk_ab12")
        );
        assert_eq!(
            form_value(b"a=1&key=x%5Fy+z", "key").as_deref(),
            Some("x_y z")
        );
        assert_eq!(form_value(b"key=%zz", "key"), None);
        assert_eq!(form_value(b"key=%4", "key").as_deref(), Some("%4"));
        assert_eq!(form_value(b"other=1", "key"), None);
    }
}
