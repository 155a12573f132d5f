//! A small blocking client of the catalogue lookup service.
//!
//! ```no_run
//! use shoplook_core::{Engine, AnalyzeOptions};
//! use shoplook_core::client::CatalogueClient;
//! use shoplook_core::wire::{EventType, SearchFilters};
//! # fn main() -> shoplook_core::Result<()> {
//! let engine = Engine::from_dir("models")?; // wherever the app keeps its models
//! let analysis = engine.analyze(&std::fs::read("street.jpg").unwrap(), &AnalyzeOptions::default())?;
//! let client = CatalogueClient::new("http://127.0.0.1:8787", "slk_...")?;
//! for item in &analysis.items {
//!     let found = client.search(item, &analysis.embedder, 5, &SearchFilters::default())?;
//!     if let Some(top) = found.results.first() {
//!         client.report_event(EventType::Impression, &top.id, Some(&found.query_id))?;
//!     }
//! }
//! # Ok(()) }
//! ```
//!
//! The client builds each request and reads each answer; a [`Transport`] sends it. Two kinds:
//!
//! - the built-in one ([`CatalogueClient::new`], feature `client`): ureq with rustls, for the
//!   CLI, servers and host tests;
//! - one the app supplies ([`CatalogueClient::with_transport`], every build): phones send
//!   requests through the platform's HTTP stack (proxies, user-installed CAs, certificate
//!   pinning, cellular policy), the model of mozilla application-services' "viaduct". The mobile
//!   library is built without the feature, so neither ureq nor rustls/ring (whose C code needs
//!   the platform SDK's libc headers) is in it.
//!
//! Sessions: each client makes a random session id (128 bits from the OS's random source; never
//! a device or user id) and sends it with every search and event, so that the service can cap
//! what one app session teaches its learned ranking and how often it shows one session the same
//! ad. [`CatalogueClient::rotate_session`] starts a new one (an app calls it when it comes back
//! to the foreground, say); clones share their client's session.
//!
//! Timeouts: 5 s to connect, 15 s per call (configurable; an app's transport gets the per-call
//! timeout in [`HttpRequest::timeout`]). Connection failures, timeouts and 5xx answers are retried
//! with exponential backoff (default 2 retries: 0.25 s, 0.5 s); 4xx answers never are. Errors are
//! typed: [`Error::Offline`], [`Error::Unauthorized`], [`Error::RateLimited`],
//! [`Error::ContractMismatch`], [`Error::BadRequest`], [`Error::Server`].

use std::sync::{Arc, Mutex};
use std::time::Duration;

use serde::Serialize;
use serde::de::DeserializeOwned;

use crate::embed::{Embedding, ModelContract};
use crate::engine::Item;
use crate::error::{Error, Result};
use crate::wire::{
    CODE_CONTRACT_MISMATCH, ErrorBody, Event, EventType, Product, SearchFilters, SearchRequest,
    SearchResponse,
};

/// Largest answer body read (a search answer with k = 100 is a few tens of kB).
pub const MAX_BODY: u64 = 8 << 20;

/// One HTTP request as the client built it.
#[derive(Debug, Clone, PartialEq)]
pub struct HttpRequest {
    /// `GET`, `POST`, `PUT` or `DELETE`.
    pub method: String,
    /// Absolute `http://` or `https://` URL.
    pub url: String,
    /// Name and value of each header to send (`Authorization`, `Content-Type`).
    pub headers: Vec<(String, String)>,
    /// Empty for `GET` and `DELETE`.
    pub body: Vec<u8>,
    /// The whole exchange should not take longer than this.
    pub timeout: Duration,
}

/// The answer, whatever its status: the client maps statuses to errors itself.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct HttpResponse {
    pub status: u16,
    /// Header names in any case (looked up case-insensitively).
    pub headers: Vec<(String, String)>,
    pub body: Vec<u8>,
}

impl HttpResponse {
    fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(n, _)| n.eq_ignore_ascii_case(name))
            .map(|(_, v)| v.as_str())
    }
}

/// Sends one request and returns the answer of any HTTP status; `Err` only when no answer came
/// (no network, DNS failure, refused, TLS failure, timeout): the text says why, and the client
/// reports it as [`Error::Offline`] (and retries).
pub trait Transport: Send + Sync {
    fn send(&self, request: &HttpRequest) -> std::result::Result<HttpResponse, String>;
}

/// Client of one catalogue server. Cheap to clone; safe to share between threads.
#[derive(Clone)]
pub struct CatalogueClient {
    base: String,
    api_key: String,
    transport: Arc<dyn Transport>,
    timeout: Duration,
    retries: u32,
    backoff: Duration,
    /// The session id sent with searches and events (shared by clones).
    session: Arc<Mutex<String>>,
}

/// A new random session id: 32 hex digits (what the service takes: 8-64 of `[A-Za-z0-9_-]`).
pub fn new_session_id() -> String {
    let mut bytes = [0u8; 16];
    getrandom::fill(&mut bytes).expect("the OS random source failed");
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

impl std::fmt::Debug for CatalogueClient {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        // Never print the key.
        f.debug_struct("CatalogueClient")
            .field("base", &self.base)
            .field("retries", &self.retries)
            .finish()
    }
}

impl CatalogueClient {
    /// `base_url` like `https://catalogue.example.com` or `http://127.0.0.1:8787`; requests
    /// go through the built-in ureq + rustls transport.
    #[cfg(feature = "client")]
    pub fn new(base_url: &str, api_key: &str) -> Result<Self> {
        Self::with_timeouts(
            base_url,
            api_key,
            Duration::from_secs(5),
            Duration::from_secs(15),
        )
    }

    /// Like [`CatalogueClient::new`] with explicit connect and whole-call timeouts.
    #[cfg(feature = "client")]
    pub fn with_timeouts(
        base_url: &str,
        api_key: &str,
        connect: Duration,
        call: Duration,
    ) -> Result<Self> {
        let transport = Arc::new(UreqTransport::new(connect, call));
        Ok(Self::with_transport(base_url, api_key, transport)?.timeout(call))
    }

    /// A client whose requests go through `transport` (the app's HTTP stack), available in
    /// every build. No request is made here.
    pub fn with_transport(
        base_url: &str,
        api_key: &str,
        transport: Arc<dyn Transport>,
    ) -> Result<Self> {
        let base = base_url.trim_end_matches('/').to_string();
        if !(base.starts_with("http://") || base.starts_with("https://")) {
            return Err(Error::BadRequest {
                status: 0,
                detail: format!("catalogue URL {base_url:?} must start with http:// or https://"),
            });
        }
        Ok(CatalogueClient {
            base,
            api_key: api_key.to_string(),
            transport,
            timeout: Duration::from_secs(15),
            retries: 2,
            backoff: Duration::from_millis(250),
            session: Arc::new(Mutex::new(new_session_id())),
        })
    }

    /// The session id sent with every search and event.
    pub fn session_id(&self) -> String {
        self.session.lock().unwrap().clone()
    }

    /// Starts a new session (a new random id) and returns its id.
    pub fn rotate_session(&self) -> String {
        let id = new_session_id();
        *self.session.lock().unwrap() = id.clone();
        id
    }

    /// The whole-call timeout handed to the transport with each request.
    pub fn timeout(mut self, call: Duration) -> Self {
        self.timeout = call;
        self
    }

    /// Number of retries after a connection failure or a 5xx answer, and the first backoff
    /// (doubled after each retry).
    pub fn retries(mut self, retries: u32, first_backoff: Duration) -> Self {
        self.retries = retries;
        self.backoff = first_backoff;
        self
    }

    pub fn base_url(&self) -> &str {
        &self.base
    }

    /// Searches the catalogue for products like an analysed item (its embedding, restricted to
    /// its category unless `category` is overridden in a later call to
    /// [`CatalogueClient::search_embedding`]).
    pub fn search(
        &self,
        item: &Item,
        model: &ModelContract,
        k: usize,
        filters: &SearchFilters,
    ) -> Result<SearchResponse> {
        let vector = item.embedding.as_ref().ok_or_else(|| Error::BadRequest {
            status: 0,
            detail: "the item has no embedding (analyse with embed = true)".into(),
        })?;
        let category = Some(item.category.as_str()).filter(|c| !c.is_empty());
        self.search_vector(vector, model, category, k, filters)
    }

    /// Searches with a whole-photo or user-region embedding.
    pub fn search_embedding(
        &self,
        embedding: &Embedding,
        category: Option<&str>,
        k: usize,
        filters: &SearchFilters,
    ) -> Result<SearchResponse> {
        self.search_vector(&embedding.vector, &embedding.model, category, k, filters)
    }

    pub fn search_vector(
        &self,
        vector: &[f32],
        model: &ModelContract,
        category: Option<&str>,
        k: usize,
        filters: &SearchFilters,
    ) -> Result<SearchResponse> {
        if vector.len() != model.dim {
            return Err(Error::ContractMismatch {
                detail: format!(
                    "vector has {} values, {model} has {}",
                    vector.len(),
                    model.dim
                ),
            });
        }
        let body = SearchRequest {
            embedding: vector.to_vec(),
            model: model.to_string(),
            k,
            category: category.map(str::to_string),
            filters: filters.clone(),
            session_id: Some(self.session_id()),
            ranking: None,
        };
        self.call("POST", "/v1/search", Some(&body))
    }

    /// Records an impression, click or purchase (the feedback loop's raw data), without a
    /// position: [`CatalogueClient::report`].
    pub fn report_event(
        &self,
        kind: EventType,
        product_id: &str,
        query_id: Option<&str>,
    ) -> Result<()> {
        self.report(kind, product_id, query_id, None)
    }

    /// Records that the user saw (`Impression`), tapped (`Click`) or bought (`Purchase`) a
    /// product: `query_id` is the search it came from and `position` its 1-based place in that
    /// search's results. A click on a sponsored result is what its campaign pays for (once per
    /// search). The session id goes with it.
    pub fn report(
        &self,
        kind: EventType,
        product_id: &str,
        query_id: Option<&str>,
        position: Option<u32>,
    ) -> Result<()> {
        let body = Event {
            kind,
            product_id: product_id.to_string(),
            query_id: query_id.map(str::to_string),
            position,
            session_id: Some(self.session_id()),
        };
        let _: serde_json::Value = self.call("POST", "/v1/events", Some(&body))?;
        Ok(())
    }

    /// One product by id.
    pub fn product(&self, id: &str) -> Result<Product> {
        self.call::<(), _>("GET", &format!("/v1/products/{}", encode_path(id)), None)
    }

    fn call<B: Serialize, T: DeserializeOwned>(
        &self,
        method: &str,
        path: &str,
        body: Option<&B>,
    ) -> Result<T> {
        let url = format!("{}{}", self.base, path);
        let payload = match body {
            Some(b) => Some(serde_json::to_vec(b).map_err(|e| Error::BadRequest {
                status: 0,
                detail: e.to_string(),
            })?),
            None => None,
        };
        let mut attempt = 0;
        loop {
            let result = self.once(method, &url, payload.as_deref());
            let retry = matches!(
                result,
                Err(Error::Offline { .. }) | Err(Error::Server { .. })
            );
            if !retry || attempt >= self.retries {
                let text = result?;
                return serde_json::from_str(&text).map_err(|e| Error::Server {
                    status: 200,
                    detail: format!("unreadable answer from {url}: {e}"),
                });
            }
            std::thread::sleep(self.backoff * 2u32.saturating_pow(attempt));
            attempt += 1;
        }
    }

    /// One HTTP exchange: the body text of a 2xx answer, or the typed error.
    fn once(&self, method: &str, url: &str, payload: Option<&[u8]>) -> Result<String> {
        let mut headers = vec![("Authorization".into(), format!("Bearer {}", self.api_key))];
        let body = match method {
            "GET" | "DELETE" => Vec::new(),
            _ => {
                headers.push(("Content-Type".into(), "application/json".into()));
                payload.unwrap_or(b"{}").to_vec()
            }
        };
        let request = HttpRequest {
            method: method.to_string(),
            url: url.to_string(),
            headers,
            body,
            timeout: self.timeout,
        };
        let response = self
            .transport
            .send(&request)
            .map_err(|detail| Error::Offline {
                detail: format!("{url}: {detail}"),
            })?;
        let status = response.status;
        if response.body.len() as u64 > MAX_BODY {
            return Err(Error::Server {
                status,
                detail: format!("answer of {} bytes, over {MAX_BODY}", response.body.len()),
            });
        }
        let retry_after = response
            .header("retry-after")
            .and_then(|v| v.trim().parse::<u64>().ok());
        let text = String::from_utf8(response.body).map_err(|e| Error::Server {
            status,
            detail: format!("answer is not UTF-8: {e}"),
        })?;
        if (200..300).contains(&status) {
            return Ok(text);
        }
        let (code, message) = match serde_json::from_str::<ErrorBody>(&text) {
            Ok(b) => (b.error.code, b.error.message),
            Err(_) => (String::new(), text.chars().take(300).collect()),
        };
        Err(match status {
            401 | 403 => Error::Unauthorized { detail: message },
            429 => Error::RateLimited {
                retry_after_s: retry_after.unwrap_or(1),
            },
            400..=499 if code == CODE_CONTRACT_MISMATCH => {
                Error::ContractMismatch { detail: message }
            }
            400..=499 => Error::BadRequest {
                status,
                detail: message,
            },
            _ => Error::Server {
                status,
                detail: message,
            },
        })
    }
}

/// The built-in transport: ureq with rustls (feature `client`).
#[cfg(feature = "client")]
pub struct UreqTransport {
    agent: ureq::Agent,
}

#[cfg(feature = "client")]
impl UreqTransport {
    pub fn new(connect: Duration, call: Duration) -> Self {
        let agent = ureq::Agent::config_builder()
            .http_status_as_error(false)
            .timeout_connect(Some(connect))
            .timeout_global(Some(call))
            .user_agent(concat!("shoplook-core/", env!("CARGO_PKG_VERSION")))
            .build()
            .new_agent();
        UreqTransport { agent }
    }
}

#[cfg(feature = "client")]
impl Transport for UreqTransport {
    fn send(&self, r: &HttpRequest) -> std::result::Result<HttpResponse, String> {
        let sent = match r.method.as_str() {
            "GET" | "DELETE" => {
                let mut req = match r.method.as_str() {
                    "GET" => self.agent.get(&r.url),
                    _ => self.agent.delete(&r.url),
                };
                for (n, v) in &r.headers {
                    req = req.header(n, v);
                }
                req.call()
            }
            m => {
                let mut req = match m {
                    "PUT" => self.agent.put(&r.url),
                    _ => self.agent.post(&r.url),
                };
                for (n, v) in &r.headers {
                    req = req.header(n, v);
                }
                req.send(&r.body[..])
            }
        };
        let mut response = sent.map_err(|e| e.to_string())?;
        let status = response.status().as_u16();
        let headers = response
            .headers()
            .iter()
            .filter_map(|(n, v)| Some((n.as_str().to_string(), v.to_str().ok()?.to_string())))
            .collect();
        // One byte over the limit is enough for the client to refuse the answer.
        let body = response
            .body_mut()
            .with_config()
            .limit(MAX_BODY + 1)
            .read_to_vec()
            .map_err(|e| e.to_string())?;
        Ok(HttpResponse {
            status,
            headers,
            body,
        })
    }
}

/// Percent-encodes a path segment (ids may contain `/`, spaces...).
fn encode_path(s: &str) -> String {
    let mut out = String::new();
    for b in s.bytes() {
        if b.is_ascii_alphanumeric() || b"-._~".contains(&b) {
            out.push(b as char);
        } else {
            out.push_str(&format!("%{b:02X}"));
        }
    }
    out
}

#[cfg(test)]
#[path = "client_tests.rs"]
mod tests;
