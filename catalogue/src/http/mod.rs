//! The HTTP API (axum), one router per area merged here: search, products, events, campaigns
//! (sponsored products), ops (healthz, metrics, openapi). Later areas (reports, console) are
//! one more module and one more `.merge(..)`. JSON in and out; every error is `{"error":{"code","message"}}`
//! (`error.rs`); keys and bodies are extractors (`extract.rs`). Documented by `openapi.json`.
//!
//! Every request runs in a `tracing` span (request id, method, route) that ends with one
//! `INFO` line (status, latency); `x-request-id` is kept from the request or made here, and
//! echoed in the response. Internal errors are logged once, by [`track`], in that span.

pub mod campaigns;
pub mod console;
pub mod error;
pub mod events;
pub mod extract;
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

pub use error::{ApiError, ApiResult, InternalCause};
pub use ops::OPENAPI;
pub use server::ConnLimits;
pub use try_page::WebDirs;

use crate::error::CatError;
use crate::keys::{KeyCache, RateLimiter};
use crate::metrics::Metrics;
use crate::search::Pipeline;
use crate::store::Store;

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

/// What every handler shares.
pub struct AppState {
    pub store: Arc<dyn Store>,
    pub contract: ModelContract,
    pub pipeline: Pipeline,
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
        HeaderValue::from_str(&crate::random_hex(8))
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

/// The axum app over a store, with today's search (similarity ranking, organic results).
pub fn router(store: Arc<dyn Store>, contract: ModelContract, config: &ServeConfig) -> Router {
    router_with(store, contract, config, Pipeline::default())
}

/// The axum app with a search pipeline of the caller's (another `Ranker` or `Blender`): the
/// areas merged, then the layers (outermost last).
pub fn router_with(
    store: Arc<dyn Store>,
    contract: ModelContract,
    config: &ServeConfig,
    pipeline: Pipeline,
) -> Router {
    let state = Arc::new(AppState {
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
        .merge(console::routes())
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

/// Serves until Ctrl-C or SIGTERM, flushing the store every minute and at the end.
pub async fn serve(
    store: Arc<dyn Store>,
    contract: ModelContract,
    config: ServeConfig,
    ready: impl FnOnce(SocketAddr),
) -> Result<(), CatError> {
    serve_with(store, contract, config, Pipeline::default(), ready).await
}

/// [`serve`] with a search pipeline of the caller's (`serve` runs the learned ranking).
pub async fn serve_with(
    store: Arc<dyn Store>,
    contract: ModelContract,
    config: ServeConfig,
    pipeline: Pipeline,
    ready: impl FnOnce(SocketAddr),
) -> Result<(), CatError> {
    let listener = tokio::net::TcpListener::bind(config.listen)
        .await
        .map_err(|e| CatError::os_at(format!("cannot listen on {}", config.listen), e))?;
    let addr = listener.local_addr()?;
    let app = router_with(store.clone(), contract, &config, pipeline);
    tracing::info!(%addr, store = store.kind(), limits = ?config.limits, "serving");
    ready(addr);
    let flusher = tokio::spawn(flush_every_minute(store.clone()));
    server::serve_connections(listener, app, config.limits, shutdown_signal()).await;
    flusher.abort();
    tokio::task::spawn_blocking(move || store.flush()).await??;
    tracing::info!("stopped");
    Ok(())
}

/// [`serve`] on a runtime of its own, for a binary's `main`.
pub fn serve_blocking(
    store: Arc<dyn Store>,
    contract: ModelContract,
    config: ServeConfig,
    ready: impl FnOnce(SocketAddr),
) -> Result<(), CatError> {
    serve_blocking_with(store, contract, config, Pipeline::default(), ready)
}

/// [`serve_with`] on a runtime of its own.
pub fn serve_blocking_with(
    store: Arc<dyn Store>,
    contract: ModelContract,
    config: ServeConfig,
    pipeline: Pipeline,
    ready: impl FnOnce(SocketAddr),
) -> Result<(), CatError> {
    tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()?
        .block_on(serve_with(store, contract, config, pipeline, ready))
}

async fn flush_every_minute(store: Arc<dyn Store>) {
    let mut tick = tokio::time::interval(Duration::from_secs(60));
    tick.tick().await;
    loop {
        tick.tick().await;
        let s = store.clone();
        let _ = tokio::task::spawn_blocking(move || {
            if let Err(e) = s.flush() {
                tracing::error!(error = %e, "flush failed");
            }
        })
        .await;
    }
}

async fn shutdown_signal() {
    let ctrl_c = tokio::signal::ctrl_c();
    #[cfg(unix)]
    {
        let mut term = tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate())
            .expect("SIGTERM handler");
        tokio::select! {
            _ = ctrl_c => {},
            _ = term.recv() => {},
        }
    }
    #[cfg(not(unix))]
    {
        let _ = ctrl_c.await;
    }
}
