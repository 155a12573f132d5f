//! `GET /try`: the try-it page. A visitor drops a photo; the ShopLook core, compiled to
//! WebAssembly, finds the shoppable objects in their browser (the photo never leaves it), and a
//! tap on one searches this catalogue with the object's embedding. Everything the page needs is
//! served from here (no CDN; the CSP allows nothing else):
//!
//! - `/try` — the page (`web/try/index.html`);
//! - `/try/app/NAME` — the page's own files (`web/try/`);
//! - `/try/lib/NAME` — the wasm build (`web/pkg/`, from `scripts/build-wasm.sh`) and the
//!   modules it shares with the browser extension (`web/shared/`);
//! - `/try/models/NAME` — model manifests and ONNX files (the `--models` directory).
//!
//! Not in the OpenAPI document: these are files for browsers, not API operations. Without the
//! wasm build, `/try` answers 503 with a page that says how to build it.

use std::path::{Path, PathBuf};
use std::sync::Arc;

use axum::Router;
use axum::extract::{Path as UrlPath, State};
use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::routing::get;

use super::AppState;
use super::error::ApiError;

/// Where the page's files are.
#[derive(Debug, Clone, PartialEq)]
pub struct WebDirs {
    /// The checkout's `web/` (holds `try/`, `shared/` and, once built, `pkg/`).
    pub web: PathBuf,
    /// The model directory (manifests and ONNX files).
    pub models: PathBuf,
}

impl Default for WebDirs {
    /// `$SHOPLOOK_WEB` or this checkout's `web/`, and the default model directory.
    fn default() -> Self {
        WebDirs {
            web: std::env::var_os("SHOPLOOK_WEB")
                .map(PathBuf::from)
                .unwrap_or_else(|| Path::new(env!("CARGO_MANIFEST_DIR")).join("../../web")),
            models: default_model_dir(),
        }
    }
}

/// The model directory when `--models` is not given (the binaries, tests, eval): the
/// `$SHOPLOOK_MODELS` variable if set, else the `models/` folder of this checkout. The core
/// library has no default: where the models live is its caller's business.
pub fn default_model_dir() -> PathBuf {
    std::env::var_os("SHOPLOOK_MODELS")
        .map(PathBuf::from)
        .unwrap_or_else(|| Path::new(env!("CARGO_MANIFEST_DIR")).join("../../models"))
}

/// The wasm file whose absence makes `/try` a 503.
pub const WASM_FILE: &str = "shoplook_wasm_bg.wasm";

const CSP: &str = "default-src 'self'; script-src 'self' 'wasm-unsafe-eval'; \
    img-src 'self' blob: data:; style-src 'self'; connect-src 'self'; object-src 'none'; \
    base-uri 'none'; frame-ancestors 'none'";

pub fn routes() -> Router<Arc<AppState>> {
    Router::new()
        .route("/try", get(page))
        .route("/try/{area}/{name}", get(file))
}

fn dirs(state: &AppState) -> Result<&WebDirs, ApiError> {
    state.web.as_ref().ok_or_else(|| {
        ApiError::new(
            StatusCode::NOT_FOUND,
            "not_found",
            "this server has no try-it page",
        )
    })
}

async fn page(State(state): State<Arc<AppState>>) -> Response {
    let dirs = match dirs(&state) {
        Ok(d) => d.clone(),
        Err(e) => return e.into_response(),
    };
    if !dirs.web.join("pkg").join(WASM_FILE).is_file() {
        let text = format!(
            "<!doctype html><meta charset=utf-8><title>ShopLook: try it</title>\
             <h1>The try-it page is not built</h1><p>It runs ShopLook's WebAssembly build, \
             which is missing from <code>{}</code>. Build it with \
             <code>scripts/build-wasm.sh</code>; no restart is needed.</p>",
            html_escape(&dirs.web.join("pkg").display().to_string())
        );
        return with_headers(
            StatusCode::SERVICE_UNAVAILABLE,
            "text/html; charset=utf-8",
            text.into_bytes(),
        );
    }
    serve(dirs.web.join("try").join("index.html")).await
}

async fn file(
    State(state): State<Arc<AppState>>,
    UrlPath((area, name)): UrlPath<(String, String)>,
) -> Response {
    let dirs = match dirs(&state) {
        Ok(d) => d,
        Err(e) => return e.into_response(),
    };
    // One plain file name: no separators, no `..`, no hidden files.
    if name.is_empty()
        || name.starts_with('.')
        || name.contains(['/', '\\'])
        || content_type(&name).is_none()
    {
        return ApiError::new(StatusCode::NOT_FOUND, "not_found", "no such file").into_response();
    }
    let candidates: Vec<PathBuf> = match area.as_str() {
        "app" => vec![dirs.web.join("try").join(&name)],
        "lib" => vec![
            dirs.web.join("pkg").join(&name),
            dirs.web.join("shared").join(&name),
        ],
        "models" => vec![dirs.models.join(&name)],
        _ => vec![],
    };
    match candidates.into_iter().find(|p| p.is_file()) {
        Some(p) => serve(p).await,
        None => ApiError::new(StatusCode::NOT_FOUND, "not_found", "no such file").into_response(),
    }
}

fn content_type(name: &str) -> Option<&'static str> {
    let ext = name.rsplit_once('.')?.1;
    Some(match ext {
        "html" => "text/html; charset=utf-8",
        "js" | "mjs" => "text/javascript; charset=utf-8",
        "css" => "text/css; charset=utf-8",
        "wasm" => "application/wasm",
        "json" => "application/json",
        "onnx" => "application/octet-stream",
        "png" => "image/png",
        "svg" => "image/svg+xml",
        _ => return None,
    })
}

async fn serve(path: PathBuf) -> Response {
    let ctype = path
        .file_name()
        .and_then(|n| content_type(&n.to_string_lossy()))
        .unwrap_or("application/octet-stream");
    match tokio::task::spawn_blocking(move || std::fs::read(&path)).await {
        Ok(Ok(bytes)) => with_headers(StatusCode::OK, ctype, bytes),
        _ => ApiError::new(StatusCode::NOT_FOUND, "not_found", "no such file").into_response(),
    }
}

fn with_headers(status: StatusCode, ctype: &'static str, body: Vec<u8>) -> Response {
    let mut resp = (status, [(header::CONTENT_TYPE, ctype)], body).into_response();
    let h = resp.headers_mut();
    h.insert(
        header::CONTENT_SECURITY_POLICY,
        HeaderValue::from_static(CSP),
    );
    h.insert(
        header::X_CONTENT_TYPE_OPTIONS,
        HeaderValue::from_static("nosniff"),
    );
    h.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-cache"));
    resp
}

fn html_escape(s: &str) -> String {
    s.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
}
