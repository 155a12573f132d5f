//! The API's error shape, `{"error":{"code","message"}}`, and the one place that maps a
//! [`CatError`] to a status. An internal error answers a generic message and carries its cause
//! (with its source chain) in the response's extensions, where the request middleware logs it
//! once, inside the request's span (request id, route).

use std::error::Error as _;
use std::sync::Arc;

use axum::Json;
use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use shoplook_core::wire::{CODE_CONTRACT_MISMATCH, ErrorBody, ErrorDetail};

use shoplook_domain::error::CatError;

/// An error answer.
#[derive(Debug)]
pub struct ApiError {
    status: StatusCode,
    code: &'static str,
    message: String,
    retry_after: Option<u64>,
    cause: Option<Arc<CatError>>,
}

pub type ApiResult<T> = Result<T, ApiError>;

/// The cause of a 500, for the logging middleware (not sent to the client).
#[derive(Debug, Clone)]
pub struct InternalCause(pub Arc<CatError>);

impl InternalCause {
    /// The error and every source under it: `store: postgres: ...: connection refused`.
    pub fn chain(&self) -> String {
        let mut out = self.0.to_string();
        let mut next = self.0.source();
        while let Some(e) = next {
            let s = e.to_string();
            // Many errors repeat their source in their own message; say each thing once.
            if !out.contains(&s) {
                out.push_str(": ");
                out.push_str(&s);
            }
            next = e.source();
        }
        out
    }
}

impl ApiError {
    pub fn new(status: StatusCode, code: &'static str, message: impl Into<String>) -> Self {
        ApiError {
            status,
            code,
            message: message.into(),
            retry_after: None,
            cause: None,
        }
    }

    pub fn bad(message: impl Into<String>) -> Self {
        Self::new(StatusCode::BAD_REQUEST, "bad_request", message)
    }

    pub fn unauthorized(message: impl Into<String>) -> Self {
        Self::new(StatusCode::UNAUTHORIZED, "unauthorized", message)
    }

    pub fn payload_too_large(message: impl Into<String>) -> Self {
        Self::new(StatusCode::PAYLOAD_TOO_LARGE, "payload_too_large", message)
    }

    pub fn rate_limited(message: impl Into<String>, retry_after_s: u64) -> Self {
        let mut e = Self::new(StatusCode::TOO_MANY_REQUESTS, "rate_limited", message);
        e.retry_after = Some(retry_after_s);
        e
    }

    /// The same error with its message prefixed (`product 3: ...`).
    pub fn prefixed(mut self, prefix: &str) -> Self {
        self.message = format!("{prefix}{}", self.message);
        self
    }

    pub fn status(&self) -> StatusCode {
        self.status
    }
}

impl From<CatError> for ApiError {
    fn from(e: CatError) -> Self {
        match e {
            CatError::Invalid(m) => ApiError::bad(m.to_string()),
            CatError::Contract(m) => ApiError::new(
                StatusCode::UNPROCESSABLE_ENTITY,
                CODE_CONTRACT_MISMATCH,
                m.to_string(),
            ),
            CatError::NotFound(m) => ApiError::new(
                StatusCode::NOT_FOUND,
                "not_found",
                format!("not found: {m}"),
            ),
            other => {
                let mut e = ApiError::new(
                    StatusCode::INTERNAL_SERVER_ERROR,
                    "internal",
                    "internal error (see the server log)",
                );
                e.cause = Some(Arc::new(other));
                e
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
        if let Some(cause) = self.cause {
            resp.extensions_mut().insert(InternalCause(cause));
        }
        resp
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn errors_map_to_the_api_shape() {
        let r = ApiError::from(CatError::NotFound(shoplook_store::Missing::Product(
            "x".into(),
        )))
        .into_response();
        assert_eq!(r.status(), StatusCode::NOT_FOUND);
        assert!(r.extensions().get::<InternalCause>().is_none());
        let r = ApiError::from(CatError::Contract(
            shoplook_store::ContractMismatch::Model {
                held: Box::new(shoplook_core::ModelContract {
                    id: "m".into(),
                    version: "1".into(),
                    dim: 2,
                }),
                model: "other".into(),
            },
        ))
        .into_response();
        assert_eq!(r.status(), StatusCode::UNPROCESSABLE_ENTITY);
        let r = ApiError::unauthorized("no key").into_response();
        assert_eq!(r.headers()[header::WWW_AUTHENTICATE], "Bearer");
        let r = ApiError::rate_limited("slow down", 3).into_response();
        assert_eq!(r.headers()[header::RETRY_AFTER], "3");
    }

    #[test]
    fn internal_errors_keep_their_cause_for_the_log_only() {
        let e = CatError::from(rusqlite::Error::InvalidQuery);
        let r = ApiError::from(e).into_response();
        assert_eq!(r.status(), StatusCode::INTERNAL_SERVER_ERROR);
        let cause = r
            .extensions()
            .get::<InternalCause>()
            .expect("cause attached");
        assert!(
            cause.chain().starts_with("store: sqlite: "),
            "{}",
            cause.chain()
        );
    }
}
