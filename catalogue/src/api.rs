//! The HTTP API (axum). JSON in and out; every error is `{"error":{"code","message"}}`.
//! Documented by `openapi.json` (served at `/openapi.json`).

use std::net::SocketAddr;
use std::sync::Arc;
use std::time::{Duration, Instant};

use axum::body::Bytes;
use axum::extract::rejection::BytesRejection;
use axum::extract::{DefaultBodyLimit, MatchedPath, Path, Request, State};
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::middleware::{self, Next};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post, put};
use axum::{Json, Router};
use serde::de::DeserializeOwned;
use serde_json::json;
use shoplook_core::ModelContract;
use shoplook_core::wire::{
    CODE_CONTRACT_MISMATCH, ErrorBody, ErrorDetail, Event, MAX_K, SearchHit, SearchRequest,
    SearchResponse,
};

use crate::auth::{KeyCache, RateLimiter};
use crate::error::CatError;
use crate::metrics::Metrics;
use crate::store::{KeyInfo, Store, Upserted, check_vector};

pub const OPENAPI: &str = include_str!("../openapi.json");

/// Server settings.
#[derive(Debug, Clone)]
pub struct ServeConfig {
    pub listen: SocketAddr,
    /// Requests per second per key (0 = unlimited) and burst size.
    pub rate_limit: f64,
    pub burst: f64,
    /// Largest request body in bytes.
    pub max_body: usize,
}

impl Default for ServeConfig {
    fn default() -> Self {
        ServeConfig {
            listen: "127.0.0.1:8787".parse().unwrap(),
            rate_limit: 100.0,
            burst: 200.0,
            max_body: 2 << 20,
        }
    }
}

pub struct AppState {
    pub store: Arc<dyn Store>,
    pub contract: ModelContract,
    keys: KeyCache,
    limiter: RateLimiter,
    metrics: Metrics,
    max_body: usize,
}

/// An error answer.
#[derive(Debug)]
pub struct ApiError {
    status: StatusCode,
    code: &'static str,
    message: String,
    retry_after: Option<u64>,
}

impl ApiError {
    fn new(status: StatusCode, code: &'static str, message: impl Into<String>) -> Self {
        ApiError {
            status,
            code,
            message: message.into(),
            retry_after: None,
        }
    }
    fn bad(message: impl Into<String>) -> Self {
        Self::new(StatusCode::BAD_REQUEST, "bad_request", message)
    }
}

impl From<CatError> for ApiError {
    fn from(e: CatError) -> Self {
        match e {
            CatError::Invalid(m) => ApiError::bad(m),
            CatError::Contract(m) => {
                ApiError::new(StatusCode::UNPROCESSABLE_ENTITY, CODE_CONTRACT_MISMATCH, m)
            }
            CatError::NotFound(m) => ApiError::new(
                StatusCode::NOT_FOUND,
                "not_found",
                format!("not found: {m}"),
            ),
            other => {
                eprintln!("catalogue: internal error: {other}");
                ApiError::new(
                    StatusCode::INTERNAL_SERVER_ERROR,
                    "internal",
                    "internal error (see the server log)",
                )
            }
        }
    }
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        let body = ErrorBody {
            error: ErrorDetail {
                code: self.code.to_string(),
                message: self.message,
            },
        };
        let mut resp = (self.status, Json(body)).into_response();
        if let Some(s) = self.retry_after {
            resp.headers_mut()
                .insert(header::RETRY_AFTER, HeaderValue::from(s));
        }
        if self.status == StatusCode::UNAUTHORIZED {
            resp.headers_mut()
                .insert(header::WWW_AUTHENTICATE, HeaderValue::from_static("Bearer"));
        }
        resp
    }
}

type ApiResult<T> = Result<T, ApiError>;

/// Runs a blocking store call off the async workers.
async fn blocking<T: Send + 'static>(
    f: impl FnOnce() -> Result<T, CatError> + Send + 'static,
) -> ApiResult<T> {
    tokio::task::spawn_blocking(f)
        .await
        .map_err(|e| ApiError::from(CatError::Store(format!("task failed: {e}"))))?
        .map_err(ApiError::from)
}

/// Checks the bearer key and its rate limit.
async fn authorize(state: &Arc<AppState>, headers: &HeaderMap) -> ApiResult<KeyInfo> {
    let secret = headers
        .get(header::AUTHORIZATION)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.strip_prefix("Bearer "))
        .map(|s| s.trim().to_string())
        .ok_or_else(|| {
            ApiError::new(
                StatusCode::UNAUTHORIZED,
                "unauthorized",
                "missing `Authorization: Bearer <key>` header",
            )
        })?;
    let st = state.clone();
    let found = blocking(move || st.keys.lookup(st.store.as_ref(), &secret)).await?;
    let (hash, info) = found.ok_or_else(|| {
        ApiError::new(StatusCode::UNAUTHORIZED, "unauthorized", "unknown API key")
    })?;
    if let Err(wait) = state.limiter.check(&hash) {
        let mut e = ApiError::new(
            StatusCode::TOO_MANY_REQUESTS,
            "rate_limited",
            format!(
                "rate limit exceeded for key {:?}; retry after {wait} s",
                info.name
            ),
        );
        e.retry_after = Some(wait);
        return Err(e);
    }
    Ok(info)
}

fn require_admin(key: &KeyInfo) -> ApiResult<()> {
    if key.admin {
        Ok(())
    } else {
        Err(ApiError::new(
            StatusCode::FORBIDDEN,
            "forbidden",
            format!("key {:?} is not an admin key", key.name),
        ))
    }
}

fn parse_body<T: DeserializeOwned>(body: Result<Bytes, BytesRejection>) -> ApiResult<T> {
    let bytes = body.map_err(|e| {
        if e.status() == StatusCode::PAYLOAD_TOO_LARGE {
            ApiError::new(
                StatusCode::PAYLOAD_TOO_LARGE,
                "payload_too_large",
                "request body too large",
            )
        } else {
            ApiError::bad(format!("cannot read the request body: {e}"))
        }
    })?;
    serde_json::from_slice(&bytes).map_err(|e| ApiError::bad(format!("invalid JSON body: {e}")))
}

/// Validates a query vector against the catalogue's contract.
fn check_query(contract: &ModelContract, model: &str, vector: &[f32]) -> ApiResult<()> {
    if model != contract.to_string() {
        return Err(ApiError::new(
            StatusCode::UNPROCESSABLE_ENTITY,
            CODE_CONTRACT_MISMATCH,
            format!("this catalogue holds {contract} vectors; the query is {model:?}"),
        ));
    }
    check_vector(vector, contract).map_err(ApiError::from)
}

async fn search(
    State(state): State<Arc<AppState>>,
    headers: HeaderMap,
    body: Result<Bytes, BytesRejection>,
) -> ApiResult<Json<SearchResponse>> {
    authorize(&state, &headers).await?;
    let req: SearchRequest = parse_body(body)?;
    check_query(&state.contract, &req.model, &req.embedding)?;
    if req.k == 0 || req.k > MAX_K {
        return Err(ApiError::bad(format!("k must be within 1..={MAX_K}")));
    }
    let f = &req.filters;
    if [f.max_price, f.min_price]
        .iter()
        .flatten()
        .any(|p| !p.is_finite())
    {
        return Err(ApiError::bad("price filters must be finite numbers"));
    }
    let st = state.clone();
    let hits = blocking(move || {
        st.store
            .search(&req.embedding, req.k, req.category.as_deref(), &req.filters)
    })
    .await?;
    Ok(Json(SearchResponse {
        results: hits
            .into_iter()
            .map(|(p, s)| SearchHit::new(p, s))
            .collect(),
        query_id: crate::random_hex(8),
        model: state.contract.to_string(),
    }))
}

async fn get_product(
    State(state): State<Arc<AppState>>,
    headers: HeaderMap,
    Path(id): Path<String>,
) -> ApiResult<Response> {
    authorize(&state, &headers).await?;
    let st = state.clone();
    let idc = id.clone();
    match blocking(move || st.store.get(&idc)).await? {
        Some(p) => Ok(Json(p.product).into_response()),
        None => Err(CatError::NotFound(format!("product {id:?}")).into()),
    }
}

async fn delete_product(
    State(state): State<Arc<AppState>>,
    headers: HeaderMap,
    Path(id): Path<String>,
) -> ApiResult<Response> {
    let key = authorize(&state, &headers).await?;
    require_admin(&key)?;
    let st = state.clone();
    let idc = id.clone();
    if blocking(move || st.store.delete(&idc)).await? {
        Ok(Json(json!({"deleted": id})).into_response())
    } else {
        Err(CatError::NotFound(format!("product {id:?}")).into())
    }
}

/// Largest batch of `PUT /v1/products`.
const MAX_BATCH: usize = 1000;

async fn put_products(
    State(state): State<Arc<AppState>>,
    headers: HeaderMap,
    body: Result<Bytes, BytesRejection>,
) -> ApiResult<Response> {
    let key = authorize(&state, &headers).await?;
    require_admin(&key)?;
    let value: serde_json::Value = parse_body(body)?;
    let items = match value {
        serde_json::Value::Array(a) => a,
        serde_json::Value::Object(mut o) => match o.remove("products") {
            Some(serde_json::Value::Array(a)) => a,
            _ => {
                return Err(ApiError::bad(
                    "expected an array of products or {\"products\":[...]}",
                ));
            }
        },
        _ => {
            return Err(ApiError::bad(
                "expected an array of products or {\"products\":[...]}",
            ));
        }
    };
    if items.is_empty() || items.len() > MAX_BATCH {
        return Err(ApiError::bad(format!(
            "a batch holds 1..={MAX_BATCH} products"
        )));
    }
    // Validate the whole batch before writing anything.
    let mut batch = Vec::with_capacity(items.len());
    for (i, mut item) in items.into_iter().enumerate() {
        let obj = item
            .as_object_mut()
            .ok_or_else(|| ApiError::bad(format!("product {i}: not an object")))?;
        let embedding: Vec<f32> = obj
            .remove("embedding")
            .map(serde_json::from_value)
            .transpose()
            .map_err(|e| ApiError::bad(format!("product {i}: `embedding`: {e}")))?
            .ok_or_else(|| ApiError::bad(format!("product {i}: `embedding` is missing")))?;
        let model = obj
            .remove("model")
            .and_then(|m| m.as_str().map(str::to_string))
            .ok_or_else(|| ApiError::bad(format!("product {i}: `model` is missing")))?;
        check_query(&state.contract, &model, &embedding).map_err(|mut e| {
            e.message = format!("product {i}: {}", e.message);
            e
        })?;
        let product = crate::feed::validate_value(item)
            .map_err(|e| ApiError::bad(format!("product {i}: {e}")))?;
        let mut hashed: Vec<u8> = embedding.iter().flat_map(|v| v.to_le_bytes()).collect();
        hashed.extend_from_slice(model.as_bytes());
        batch.push((product, crate::sha256_hex(&hashed), embedding));
    }
    let st = state.clone();
    let (added, updated) = blocking(move || {
        let (mut a, mut u) = (0, 0);
        for (p, h, v) in &batch {
            match st.store.upsert(p, h, v)? {
                Upserted::Added => a += 1,
                Upserted::Updated => u += 1,
            }
        }
        Ok((a, u))
    })
    .await?;
    Ok(Json(json!({"added": added, "updated": updated})).into_response())
}

async fn post_event(
    State(state): State<Arc<AppState>>,
    headers: HeaderMap,
    body: Result<Bytes, BytesRejection>,
) -> ApiResult<Response> {
    let key = authorize(&state, &headers).await?;
    let event: Event = parse_body(body)?;
    if event.product_id.is_empty() || event.product_id.len() > 200 {
        return Err(ApiError::bad("`product_id` must be 1..=200 characters"));
    }
    let st = state.clone();
    blocking(move || {
        if st.store.get(&event.product_id)?.is_none() {
            return Err(CatError::NotFound(format!(
                "product {:?}",
                event.product_id
            )));
        }
        st.store.record_event(&event, &key.name)
    })
    .await?;
    Ok((StatusCode::CREATED, Json(json!({"stored": true}))).into_response())
}

async fn healthz(State(state): State<Arc<AppState>>) -> ApiResult<Response> {
    let st = state.clone();
    let stats = blocking(move || st.store.stats()).await?;
    Ok(Json(json!({
        "status": "ok",
        "store": state.store.kind(),
        "model": state.contract.to_string(),
        "products": stats.products,
    }))
    .into_response())
}

async fn metrics(State(state): State<Arc<AppState>>) -> ApiResult<Response> {
    let st = state.clone();
    let s = blocking(move || st.store.stats()).await?;
    let text = state.metrics.render(&[
        (
            "shoplook_catalogue_products",
            "Products in the catalogue.",
            s.products as f64,
        ),
        (
            "shoplook_index_vectors",
            "Vectors in the ANN index.",
            s.index_size as f64,
        ),
        (
            "shoplook_index_bytes",
            "Size of the ANN index in bytes.",
            s.index_bytes as f64,
        ),
        (
            "shoplook_events",
            "Stored feedback events.",
            s.events as f64,
        ),
    ]);
    Ok(([(header::CONTENT_TYPE, "text/plain; version=0.0.4")], text).into_response())
}

async fn openapi() -> Response {
    ([(header::CONTENT_TYPE, "application/json")], OPENAPI).into_response()
}

async fn not_found() -> ApiError {
    ApiError::new(StatusCode::NOT_FOUND, "not_found", "no such endpoint")
}

async fn track(State(state): State<Arc<AppState>>, req: Request, next: Next) -> Response {
    let start = Instant::now();
    let method = req.method().to_string();
    let route = req
        .extensions()
        .get::<MatchedPath>()
        .map_or("unmatched".to_string(), |p| p.as_str().to_string());
    let resp = next.run(req).await;
    state.metrics.observe(
        &method,
        &route,
        resp.status().as_u16(),
        start.elapsed().as_secs_f64(),
    );
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
        Some(n) if n > state.max_body as u64 => ApiError::new(
            StatusCode::PAYLOAD_TOO_LARGE,
            "payload_too_large",
            format!(
                "request body of {n} bytes is over the limit of {} bytes",
                state.max_body
            ),
        )
        .into_response(),
        _ => next.run(req).await,
    }
}

/// The axum app over a store.
pub fn router(store: Arc<dyn Store>, contract: ModelContract, config: &ServeConfig) -> Router {
    let state = Arc::new(AppState {
        store,
        contract,
        keys: KeyCache::new(Duration::from_secs(5)),
        limiter: RateLimiter::new(config.rate_limit, config.burst),
        metrics: Metrics::default(),
        max_body: config.max_body,
    });
    Router::new()
        .route("/v1/search", post(search))
        .route("/v1/products", put(put_products))
        .route("/v1/products/{id}", get(get_product).delete(delete_product))
        .route("/v1/events", post(post_event))
        .route("/healthz", get(healthz))
        .route("/metrics", get(metrics))
        .route("/openapi.json", get(openapi))
        .fallback(not_found)
        .layer(middleware::from_fn_with_state(
            state.clone(),
            refuse_oversized_body,
        ))
        .layer(middleware::from_fn_with_state(state.clone(), track))
        .layer(DefaultBodyLimit::max(config.max_body))
        .with_state(state)
}

/// Serves until Ctrl-C or SIGTERM, flushing the store every minute and at the end.
pub async fn serve(
    store: Arc<dyn Store>,
    contract: ModelContract,
    config: ServeConfig,
    ready: impl FnOnce(SocketAddr),
) -> Result<(), CatError> {
    let listener = tokio::net::TcpListener::bind(config.listen)
        .await
        .map_err(|e| CatError::Io(format!("cannot listen on {}: {e}", config.listen)))?;
    let addr = listener.local_addr()?;
    let app = router(store.clone(), contract, &config);
    ready(addr);
    let flusher = {
        let store = store.clone();
        tokio::spawn(async move {
            let mut tick = tokio::time::interval(Duration::from_secs(60));
            tick.tick().await;
            loop {
                tick.tick().await;
                let s = store.clone();
                let _ = tokio::task::spawn_blocking(move || {
                    if let Err(e) = s.flush() {
                        eprintln!("catalogue: flush failed: {e}");
                    }
                })
                .await;
            }
        })
    };
    axum::serve(listener, app)
        .with_graceful_shutdown(shutdown_signal())
        .await
        .map_err(|e| CatError::Io(e.to_string()))?;
    flusher.abort();
    tokio::task::spawn_blocking(move || store.flush())
        .await
        .map_err(|e| CatError::Store(e.to_string()))??;
    Ok(())
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
