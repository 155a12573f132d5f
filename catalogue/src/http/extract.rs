//! Request extractors: the API key (with its rate limit), the admin key, and JSON bodies that
//! fail in the API's error shape (400, or 413 for a body over the limit).
//!
//! Handlers name what they need (`ApiKey`, `AdminKey`, `JsonBody<T>`); axum runs the key
//! extractors before the body is read, so an unauthorised request is refused unread.

use std::sync::Arc;

use axum::body::Bytes;
use axum::extract::{FromRequest, FromRequestParts, Request};
use axum::http::request::Parts;
use axum::http::{StatusCode, header};
use serde::de::DeserializeOwned;

use super::AppState;
use super::error::ApiError;
use crate::store::KeyInfo;

/// A valid API key within its rate limit (`Authorization: Bearer slk_...`).
pub struct ApiKey(pub KeyInfo);

impl FromRequestParts<Arc<AppState>> for ApiKey {
    type Rejection = ApiError;

    async fn from_request_parts(
        parts: &mut Parts,
        state: &Arc<AppState>,
    ) -> Result<Self, ApiError> {
        let secret = parts
            .headers
            .get(header::AUTHORIZATION)
            .and_then(|v| v.to_str().ok())
            .and_then(|v| v.strip_prefix("Bearer "))
            .map(|s| s.trim().to_string())
            .ok_or_else(|| {
                ApiError::unauthorized("missing `Authorization: Bearer <key>` header")
            })?;
        let st = state.clone();
        let found = super::blocking(move || st.keys.lookup(st.store.as_ref(), &secret)).await?;
        let (hash, info) = found.ok_or_else(|| ApiError::unauthorized("unknown API key"))?;
        if let Err(wait) = state.limiter.check(&hash) {
            return Err(ApiError::rate_limited(
                format!(
                    "rate limit exceeded for key {:?}; retry after {wait} s",
                    info.name
                ),
                wait,
            ));
        }
        Ok(ApiKey(info))
    }
}

/// An [`ApiKey`] that may write the catalogue (403 otherwise).
pub struct AdminKey(pub KeyInfo);

impl FromRequestParts<Arc<AppState>> for AdminKey {
    type Rejection = ApiError;

    async fn from_request_parts(
        parts: &mut Parts,
        state: &Arc<AppState>,
    ) -> Result<Self, ApiError> {
        let ApiKey(key) = ApiKey::from_request_parts(parts, state).await?;
        if !key.admin {
            return Err(ApiError::new(
                StatusCode::FORBIDDEN,
                "forbidden",
                format!("key {:?} is not an admin key", key.name),
            ));
        }
        Ok(AdminKey(key))
    }
}

/// A path segment such as a product id, percent-decoded; one that is not UTF-8 is 400 in the
/// API's shape (axum's own rejection is plain text).
pub struct PathSegment(pub String);

impl<S: Send + Sync> FromRequestParts<S> for PathSegment {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &S) -> Result<Self, ApiError> {
        axum::extract::Path::<String>::from_request_parts(parts, state)
            .await
            .map(|p| PathSegment(p.0))
            .map_err(|e| ApiError::bad(format!("bad path: {}", e.body_text())))
    }
}

/// A client-supplied string as quoted back in a message: at most 64 characters, so an error
/// never echoes a huge input (`"aaa…" (10000 characters)`).
pub fn quoted(s: &str) -> String {
    const SHOWN: usize = 64;
    let n = s.chars().count();
    if n <= SHOWN {
        format!("{s:?}")
    } else {
        let head: String = s.chars().take(SHOWN).collect();
        format!("{:?} ({n} characters)", format!("{head}…"))
    }
}

/// A JSON request body; malformed JSON, unknown fields and wrong types are 400 `bad_request`,
/// a body over the limit is 413 `payload_too_large`.
pub struct JsonBody<T>(pub T);

impl<T: DeserializeOwned, S: Send + Sync> FromRequest<S> for JsonBody<T> {
    type Rejection = ApiError;

    async fn from_request(req: Request, state: &S) -> Result<Self, ApiError> {
        let bytes = Bytes::from_request(req, state).await.map_err(|e| {
            if e.status() == StatusCode::PAYLOAD_TOO_LARGE {
                ApiError::payload_too_large("request body too large")
            } else {
                ApiError::bad(format!("cannot read the request body: {e}"))
            }
        })?;
        parse_json(&bytes).map(JsonBody)
    }
}

/// Parses a JSON body as [`JsonBody`] does (400 `bad_request` with the reason).
pub fn parse_json<T: DeserializeOwned>(bytes: &[u8]) -> Result<T, ApiError> {
    serde_json::from_slice(bytes).map_err(|e| ApiError::bad(format!("invalid JSON body: {e}")))
}

#[cfg(test)]
mod tests {
    use super::*;
    use shoplook_core::wire::SearchRequest;

    #[test]
    fn quoted_inputs_are_capped() {
        assert_eq!(quoted("abc"), "\"abc\"");
        let long = "x".repeat(10_000);
        let q = quoted(&long);
        assert!(q.len() < 100, "{q}");
        assert!(q.ends_with("(10000 characters)"), "{q}");
    }

    #[test]
    fn bodies_fail_as_bad_requests_with_the_reason() {
        let e = parse_json::<SearchRequest>(b"{\"embedding\":[1],\"model\":\"m\",\"x\":1}")
            .err()
            .unwrap();
        assert_eq!(e.status(), StatusCode::BAD_REQUEST);
        let e = parse_json::<SearchRequest>(b"").err().unwrap();
        assert_eq!(e.status(), StatusCode::BAD_REQUEST);
        assert!(parse_json::<SearchRequest>(b"{\"embedding\":[1],\"model\":\"m\"}").is_ok());
    }
}
