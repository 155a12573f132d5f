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
