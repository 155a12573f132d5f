//! A small blocking client of the catalogue lookup service (feature `client`).
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
//! Timeouts: 5 s to connect, 15 s per call (configurable). Connection failures, timeouts and
//! 5xx answers are retried with exponential backoff (default 2 retries: 0.25 s, 0.5 s); 4xx
//! answers never are. Errors are typed: [`Error::Offline`], [`Error::Unauthorized`],
//! [`Error::RateLimited`], [`Error::ContractMismatch`], [`Error::BadRequest`],
//! [`Error::Server`].

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
const MAX_BODY: u64 = 8 << 20;

/// Client of one catalogue server. Cheap to clone; safe to share between threads.
#[derive(Clone)]
pub struct CatalogueClient {
    base: String,
    api_key: String,
    agent: ureq::Agent,
    retries: u32,
    backoff: Duration,
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
    /// `base_url` like `https://catalogue.example.com` or `http://127.0.0.1:8787`.
    pub fn new(base_url: &str, api_key: &str) -> Result<Self> {
        Self::with_timeouts(
            base_url,
            api_key,
            Duration::from_secs(5),
            Duration::from_secs(15),
        )
    }

    /// Like [`CatalogueClient::new`] with explicit connect and whole-call timeouts.
    pub fn with_timeouts(
        base_url: &str,
        api_key: &str,
        connect: Duration,
        call: Duration,
    ) -> Result<Self> {
        let base = base_url.trim_end_matches('/').to_string();
        if !(base.starts_with("http://") || base.starts_with("https://")) {
            return Err(Error::BadRequest {
                status: 0,
                detail: format!("catalogue URL {base_url:?} must start with http:// or https://"),
            });
        }
        let agent = ureq::Agent::config_builder()
            .http_status_as_error(false)
            .timeout_connect(Some(connect))
            .timeout_global(Some(call))
            .user_agent(concat!("shoplook-core/", env!("CARGO_PKG_VERSION")))
            .build()
            .new_agent();
        Ok(CatalogueClient {
            base,
            api_key: api_key.to_string(),
            agent,
            retries: 2,
            backoff: Duration::from_millis(250),
        })
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
            session_id: None,
            ranking: None,
        };
        self.call("POST", "/v1/search", Some(&body))
    }

    /// Records an impression, click or purchase (the feedback loop's raw data).
    pub fn report_event(
        &self,
        kind: EventType,
        product_id: &str,
        query_id: Option<&str>,
    ) -> Result<()> {
        let body = Event {
            kind,
            product_id: product_id.to_string(),
            query_id: query_id.map(str::to_string),
            position: None,
            session_id: None,
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
        let auth = format!("Bearer {}", self.api_key);
        let sent = match (method, payload) {
            ("GET", _) => self.agent.get(url).header("Authorization", &auth).call(),
            ("DELETE", _) => self.agent.delete(url).header("Authorization", &auth).call(),
            (m, p) => {
                let req = match m {
                    "PUT" => self.agent.put(url),
                    _ => self.agent.post(url),
                };
                req.header("Authorization", &auth)
                    .header("Content-Type", "application/json")
                    .send(p.unwrap_or(b"{}"))
            }
        };
        let mut response = sent.map_err(|e| transport_error(url, e))?;
        let status = response.status().as_u16();
        let retry_after = response
            .headers()
            .get("retry-after")
            .and_then(|v| v.to_str().ok())
            .and_then(|v| v.trim().parse::<u64>().ok());
        let text = response
            .body_mut()
            .with_config()
            .limit(MAX_BODY)
            .read_to_string()
            .map_err(|e| {
                if status < 300 {
                    transport_error(url, e)
                } else {
                    Error::Server {
                        status,
                        detail: e.to_string(),
                    }
                }
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

fn transport_error(url: &str, e: ureq::Error) -> Error {
    Error::Offline {
        detail: format!("{url}: {e}"),
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
mod tests {
    use super::*;

    #[test]
    fn unreachable_server_is_offline_after_retries() {
        // Port 9 on loopback: nothing listens there; connection refused at once.
        let c = CatalogueClient::new("http://127.0.0.1:9", "k")
            .unwrap()
            .retries(1, Duration::from_millis(1));
        let model = ModelContract {
            id: "m".into(),
            version: "1".into(),
            dim: 2,
        };
        let err = c
            .search_vector(&[1.0, 0.0], &model, None, 3, &SearchFilters::default())
            .unwrap_err();
        assert!(matches!(err, Error::Offline { .. }), "{err:?}");
        assert!(err.is_retryable());
    }

    #[test]
    fn wrong_dimension_is_refused_before_sending() {
        let c = CatalogueClient::new("http://127.0.0.1:9", "k").unwrap();
        let model = ModelContract {
            id: "m".into(),
            version: "1".into(),
            dim: 3,
        };
        let err = c
            .search_vector(&[1.0], &model, None, 3, &SearchFilters::default())
            .unwrap_err();
        assert!(matches!(err, Error::ContractMismatch { .. }));
    }

    #[test]
    fn bad_base_url_is_refused() {
        assert!(CatalogueClient::new("ftp://x", "k").is_err());
    }

    #[test]
    fn ids_are_percent_encoded() {
        assert_eq!(encode_path("a b/c"), "a%20b%2Fc");
    }
}
