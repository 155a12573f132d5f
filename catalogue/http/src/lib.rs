//! The HTTP API (axum), one router per area merged here: search, products, events, campaigns
//! (sponsored products), ops (healthz, metrics, openapi). Later areas (reports, console) are
//! one more module and one more `.merge(..)`. JSON in and out; every error is `{"error":{"code","message"}}`
//! (`error.rs`); keys and bodies are extractors (`extract.rs`). Documented by `openapi.json`.
//!
//! Every request runs in a `tracing` span (request id, method, route) that ends with one
//! `INFO` line (status, latency); `x-request-id` is kept from the request or made here, and
//! echoed in the response. Internal errors are logged once, by [`track`], in that span.

pub mod app;
pub mod campaigns;
pub mod console;
pub mod error;
pub mod events;
pub mod extract;
pub mod metrics;
pub mod ops;
pub mod products;
pub mod rules;
pub mod search;
pub mod server;
pub mod trends;
pub mod try_page;

use std::net::SocketAddr;
use std::sync::Arc;
use std::time::{Duration, Instant};

use axum::Router;
use axum::extract::{DefaultBodyLimit, MatchedPath, Request, State};
use axum::http::{HeaderValue, StatusCode, header};
use axum::middleware::{self, Next};
use axum::response::{IntoResponse, Response};
use shoplook_core::ModelContract;
use tower_http::request_id::{
    MakeRequestId, PropagateRequestIdLayer, RequestId, SetRequestIdLayer,
};
use tower_http::trace::{DefaultOnResponse, TraceLayer};
use tracing::Level;

pub use app::App;
pub use error::{ApiError, ApiResult, InternalCause};
pub use ops::OPENAPI;
pub use server::ConnLimits;
pub use try_page::{WebDirs, default_model_dir};

use crate::metrics::Metrics;
use shoplook_domain::ads::campaigns::CampaignService;
use shoplook_domain::error::CatError;
use shoplook_domain::events::EventService;
use shoplook_domain::keys::{KeyCache, RateLimiter};
use shoplook_domain::products::ProductService;
use shoplook_domain::search::Pipeline;
use shoplook_domain::store::Store;
use shoplook_domain::trends::TrendsConfig;

/// Server settings.
#[derive(Debug, Clone)]
pub struct ServeConfig {
    pub listen: SocketAddr,
    /// Requests per second per key (0 = unlimited) and burst size.
    pub rate_limit: f64,
    pub burst: f64,
    /// Largest request body in bytes.
    pub max_body: usize,
    /// Connection caps and client timeouts (`server.rs`).
    pub limits: ConnLimits,
    /// The try-it page's files (`try_page.rs`); `None`: no `/try`.
    pub web: Option<WebDirs>,
}

impl Default for ServeConfig {
    fn default() -> Self {
        ServeConfig {
            listen: "127.0.0.1:8787".parse().unwrap(),
            rate_limit: 100.0,
            burst: 200.0,
            max_body: 2 << 20,
            limits: ConnLimits::default(),
            web: Some(WebDirs::default()),
        }
    }
}

/// What every handler shares: the store, the services over it that handlers call, and the
/// settings filled once at start-up.
pub struct AppState {
    pub store: Arc<dyn Store>,
    pub contract: ModelContract,
    pub pipeline: Pipeline,
    products: ProductService,
    events: EventService,
    campaigns: CampaignService,
    trends: TrendsConfig,
    keys: KeyCache,
    limiter: RateLimiter,
    metrics: Metrics,
    max_body: usize,
    request_timeout: Duration,
    web: Option<WebDirs>,
}

/// Runs a blocking store call off the async workers.
pub(crate) async fn blocking<T: Send + 'static>(
    f: impl FnOnce() -> Result<T, CatError> + Send + 'static,
) -> ApiResult<T> {
    Ok(tokio::task::spawn_blocking(f)
        .await
        .map_err(CatError::from)??)
}

/// Request ids made here: 16 hex digits from the OS random source.
#[derive(Clone, Copy)]
struct NewRequestId;

impl MakeRequestId for NewRequestId {
    fn make_request_id<B>(&mut self, _: &axum::http::Request<B>) -> Option<RequestId> {
        HeaderValue::from_str(&shoplook_domain::random_hex(8))
            .ok()
            .map(RequestId::new)
    }
}

fn route_of<B>(req: &axum::http::Request<B>) -> String {
    req.extensions()
        .get::<MatchedPath>()
        .map_or("unmatched".to_string(), |p| p.as_str().to_string())
}

/// Counts the request for `/metrics` and logs an internal error's cause, once.
async fn track(State(state): State<Arc<AppState>>, req: Request, next: Next) -> Response {
    let start = Instant::now();
    let method = req.method().to_string();
    let route = route_of(&req);
    let resp = next.run(req).await;
    state.metrics.observe(
        &method,
        &route,
        resp.status().as_u16(),
        start.elapsed().as_secs_f64(),
    );
    if let Some(cause) = resp.extensions().get::<InternalCause>() {
        tracing::error!(error = %cause.chain(), "internal error");
    }
    resp
}

/// Refuses a body whose declared Content-Length is over the limit before any of it is read, so
/// a client gets its 413 at once (and one that sent `Expect: 100-continue` sends no body at
/// all). Bodies without a length are still cut off by `DefaultBodyLimit` while being read.
async fn refuse_oversized_body(
    State(state): State<Arc<AppState>>,
    req: Request,
    next: Next,
) -> Response {
    let declared = req
        .headers()
        .get(header::CONTENT_LENGTH)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.parse::<u64>().ok());
    match declared {
        Some(n) if n > state.max_body as u64 => ApiError::payload_too_large(format!(
            "request body of {n} bytes is over the limit of {} bytes",
            state.max_body
        ))
        .into_response(),
        _ => next.run(req).await,
    }
}

/// Longest request target (path and query) read; longer ones are 414 in the API's shape.
/// (hyper itself refuses a target over 64 KiB with an empty 414 before the app sees it.)
pub const MAX_URI: usize = 8 << 10;

/// Refuses an over-long request target with 414 in the API's error shape.
async fn refuse_long_uri(req: Request, next: Next) -> Response {
    let len = req.uri().path_and_query().map_or(0, |p| p.as_str().len());
    if len > MAX_URI {
        return ApiError::new(
            StatusCode::URI_TOO_LONG,
            "uri_too_long",
            format!("request target of {len} bytes is over the limit of {MAX_URI} bytes"),
        )
        .into_response();
    }
    next.run(req).await
}

/// Gives a request `request_timeout` to send its body and be answered: past that the answer is
/// 408 and, the body being unread, hyper closes the connection. A client sending its body a
/// byte at a time holds a connection no longer than this.
async fn request_deadline(
    State(state): State<Arc<AppState>>,
    req: Request,
    next: Next,
) -> Response {
    let limit = state.request_timeout;
    match tokio::time::timeout(limit, next.run(req)).await {
        Ok(resp) => resp,
        Err(_) => {
            let mut resp = ApiError::new(
                StatusCode::REQUEST_TIMEOUT,
                "request_timeout",
                format!(
                    "the request was not received and answered within {} s",
                    limit.as_secs_f64()
                ),
            )
            .into_response();
            resp.headers_mut()
                .insert(header::CONNECTION, HeaderValue::from_static("close"));
            resp
        }
    }
}

/// The axum app with a search pipeline of the caller's (another `Ranker` or `Blender`): the
/// areas merged, then the layers (outermost last).
pub(crate) fn router_with(
    store: Arc<dyn Store>,
    contract: ModelContract,
    config: &ServeConfig,
    pipeline: Pipeline,
    trends: TrendsConfig,
) -> Router {
    let ads = pipeline.ads().cloned();
    let state = Arc::new(AppState {
        products: ProductService::new(store.clone()),
        events: EventService::new(store.clone(), ads.clone()),
        campaigns: CampaignService::new(store.clone(), ads),
        trends,
        store,
        contract,
        pipeline,
        keys: KeyCache::new(Duration::from_secs(5)),
        limiter: RateLimiter::new(config.rate_limit, config.burst),
        metrics: Metrics::default(),
        max_body: config.max_body,
        request_timeout: config.limits.request_timeout,
        web: config.web.clone(),
    });
    let trace = TraceLayer::new_for_http()
        .make_span_with(|req: &Request| {
            let id = req
                .headers()
                .get("x-request-id")
                .and_then(|v| v.to_str().ok())
                .unwrap_or("-");
            tracing::info_span!("request", id, method = %req.method(), route = %route_of(req))
        })
        .on_request(())
        .on_response(DefaultOnResponse::new().level(Level::INFO))
        // A 5xx is logged once, with its cause, by `track`.
        .on_failure(());
    Router::new()
        .merge(search::routes())
        .merge(products::routes())
        .merge(events::routes())
        .merge(trends::routes())
        .merge(console::handlers::routes())
        .merge(campaigns::routes())
        .merge(ops::routes())
        .merge(try_page::routes())
        .fallback(ops::not_found)
        .method_not_allowed_fallback(ops::method_not_allowed)
        .layer(middleware::from_fn_with_state(
            state.clone(),
            request_deadline,
        ))
        .layer(middleware::from_fn_with_state(
            state.clone(),
            refuse_oversized_body,
        ))
        .layer(middleware::from_fn(refuse_long_uri))
        .layer(middleware::from_fn_with_state(state.clone(), track))
        .layer(DefaultBodyLimit::max(config.max_body))
        .layer(PropagateRequestIdLayer::x_request_id())
        .layer(trace)
        .layer(SetRequestIdLayer::x_request_id(NewRequestId))
        .with_state(state)
}
