//! Request extractors: the API key (with its rate limit), a key of a given role
//! ([`RequireRole`]: [`AdminKey`], [`AdvertiserKey`], [`BrandKey`]), and JSON bodies that fail
//! in the API's error shape (400, or 413 for a body over the limit).
//!
//! Handlers name what they need (`ApiKey`, `AdminKey`, `JsonBody<T>`); axum runs the key
//! extractors before the body is read, so an unauthorised request is refused unread.

use std::marker::PhantomData;
use std::sync::Arc;

use axum::body::Bytes;
use axum::extract::{FromRequest, FromRequestParts, Request};
use axum::http::request::Parts;
use axum::http::{StatusCode, header};
use serde::de::DeserializeOwned;
use serde_json::Value;

use super::AppState;
use super::error::ApiError;
use shoplook_domain::store::{KeyInfo, Role};

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

/// Which roles an extractor lets through: one marker type per rule, so that a handler names
/// what it needs in its signature (`RequireRole<Advertisers>`) and the check runs before the
/// body is read. A new rule is a marker type and an `impl`.
pub trait RoleRule: Send + Sync + 'static {
    /// What the key must be, for the 403 message (`"an admin key"`).
    const NEEDS: &'static str;
    fn allows(role: &Role) -> bool;
}

/// Admin keys.
pub struct Admins;
/// Advertiser keys, and admins (who see every campaign).
pub struct Advertisers;
/// Brand keys, and admins (who see every brand).
pub struct Brands;
/// App keys only: the phone apps' keys, whose sessions are the shoppers the trend reports
/// count (so not admins either).
pub struct Apps;

impl RoleRule for Admins {
    const NEEDS: &'static str = "an admin key";
    fn allows(role: &Role) -> bool {
        *role == Role::Admin
    }
}

impl RoleRule for Advertisers {
    const NEEDS: &'static str = "an advertiser or admin key";
    fn allows(role: &Role) -> bool {
        matches!(role, Role::Advertiser | Role::Admin)
    }
}

impl RoleRule for Brands {
    const NEEDS: &'static str = "a brand or admin key";
    fn allows(role: &Role) -> bool {
        matches!(role, Role::Brand { .. } | Role::Admin)
    }
}

impl RoleRule for Apps {
    const NEEDS: &'static str = "an app key";
    fn allows(role: &Role) -> bool {
        *role == Role::App
    }
}

/// An [`ApiKey`] whose role `R` allows (403 `forbidden` otherwise). Derefs to the
/// [`KeyInfo`]: `key.name`, `key.role`, `key.is_admin()`.
pub struct RequireRole<R: RoleRule>(pub KeyInfo, PhantomData<R>);

impl<R: RoleRule> RequireRole<R> {
    pub fn into_inner(self) -> KeyInfo {
        self.0
    }
}

impl<R: RoleRule> std::ops::Deref for RequireRole<R> {
    type Target = KeyInfo;
    fn deref(&self) -> &KeyInfo {
        &self.0
    }
}

/// The 403 answer for a key whose role may not do something.
pub fn forbidden(key: &KeyInfo, needs: &str) -> ApiError {
    ApiError::new(
        StatusCode::FORBIDDEN,
        "forbidden",
        format!(
            "key {:?} is {} key; this needs {needs}",
            key.name,
            match key.role {
                Role::Brand { .. } => format!("a {}", key.role),
                _ => format!("an {}", key.role),
            }
        ),
    )
}

impl<R: RoleRule> FromRequestParts<Arc<AppState>> for RequireRole<R> {
    type Rejection = ApiError;

    async fn from_request_parts(
        parts: &mut Parts,
        state: &Arc<AppState>,
    ) -> Result<Self, ApiError> {
        let ApiKey(key) = ApiKey::from_request_parts(parts, state).await?;
        if !R::allows(&key.role) {
            return Err(forbidden(&key, R::NEEDS));
        }
        Ok(RequireRole(key, PhantomData))
    }
}

/// A key that may write the catalogue.
pub type AdminKey = RequireRole<Admins>;
/// A key that may manage campaigns (its own; an admin's: all).
pub type AdvertiserKey = RequireRole<Advertisers>;
/// A key that may read brand reports (its own brand; an admin's: all).
pub type BrandKey = RequireRole<Brands>;

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

/// A client-supplied string as quoted back in a message (the domain's rule, one copy).
pub use shoplook_domain::rules::quoted;

/// Scales every `embedding` of a request body (a search, a product, or a batch of them) to
/// unit length. The numbers are read as f64, as JSON Schema reads them, so the rule is exactly
/// the document's: any numbers, not all zero (`contains: {not: {const: 0}}`). Scaling by the
/// largest value first keeps tiny and huge values finite. Every score is then a cosine.
/// Embeddings that are not arrays of numbers are left for the body's own parsing to refuse.
pub fn unit_embeddings(body: &mut Value) -> Result<(), ApiError> {
    match body {
        Value::Array(items) => {
            for (i, item) in items.iter_mut().enumerate() {
                unit_embeddings(item).map_err(|e| e.prefixed(&format!("product {i}: ")))?;
            }
        }
        Value::Object(obj) => {
            if let Some(products @ Value::Array(_)) = obj.get_mut("products") {
                return unit_embeddings(products);
            }
            if let Some(Value::Array(values)) = obj.get_mut("embedding") {
                let Some(numbers) = values
                    .iter()
                    .map(Value::as_f64)
                    .collect::<Option<Vec<f64>>>()
                else {
                    return Ok(());
                };
                let top = numbers.iter().fold(0.0f64, |m, x| m.max(x.abs()));
                if top == 0.0 {
                    return Err(ApiError::bad(
                        "`embedding` is all zeros: a vector with no direction matches nothing",
                    ));
                }
                let scaled: Vec<f64> = numbers.iter().map(|x| x / top).collect();
                let norm = scaled.iter().map(|x| x * x).sum::<f64>().sqrt();
                *values = scaled
                    .iter()
                    .map(|x| Value::from((x / norm) as f32))
                    .collect();
            }
        }
        _ => {}
    }
    Ok(())
}

/// Rewrites the integer fields `keys` of a JSON object given as integral floats (`46.0`) as
/// integers: JSON Schema counts `46.0` as an integer, serde's integer types do not, and the
/// API accepts what its document allows. Fractions and other types are left to be refused.
pub fn integral_fields(body: &mut Value, keys: &[&str]) {
    let Value::Object(obj) = body else { return };
    for key in keys {
        if let Some(v) = obj.get_mut(*key)
            && let Some(f) = v.as_f64()
            && v.is_f64()
            && f.fract() == 0.0
            && f.abs() < 9.0e15
        {
            *v = Value::from(f as i64);
        }
    }
}

/// Refuses a body that is not a JSON object, or whose `fields` are present and not objects:
/// serde reads a struct from an array too (`"filters": []`), which the document forbids.
pub fn require_objects(body: &Value, fields: &[&str]) -> Result<(), ApiError> {
    let obj = body
        .as_object()
        .ok_or_else(|| ApiError::bad("invalid JSON body: expected an object"))?;
    for f in fields {
        if obj.get(*f).is_some_and(|v| !v.is_object()) {
            return Err(ApiError::bad(format!(
                "invalid JSON body: `{f}` must be an object"
            )));
        }
    }
    Ok(())
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

/// Reads a body already parsed as JSON into its type (400 `bad_request` with the reason).
pub fn from_json_value<T: DeserializeOwned>(v: Value) -> Result<T, ApiError> {
    serde_path_to_error::deserialize(v).map_err(body_error)
}

/// Parses a JSON body as [`JsonBody`] does (400 `bad_request` with the reason).
pub fn parse_json<T: DeserializeOwned>(bytes: &[u8]) -> Result<T, ApiError> {
    serde_path_to_error::deserialize(&mut serde_json::Deserializer::from_slice(bytes))
        .map_err(body_error)
}

/// The 400 for a body serde refused, naming the field when the error is inside one (serde's own
/// message for a bad enum value, say, does not say which field it was).
fn body_error(e: serde_path_to_error::Error<serde_json::Error>) -> ApiError {
    let path = e.path().to_string();
    if path == "." {
        ApiError::bad(format!("invalid JSON body: {}", e.inner()))
    } else {
        ApiError::bad(format!("invalid JSON body: `{path}`: {}", e.inner()))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use shoplook_core::wire::SearchRequest;

    #[test]
    fn embeddings_become_unit_length_and_zero_is_refused() {
        use serde_json::json;
        let norm = |v: &Value| {
            v["embedding"]
                .as_array()
                .unwrap()
                .iter()
                .map(|x| x.as_f64().unwrap().powi(2))
                .sum::<f64>()
                .sqrt()
        };
        for raw in [
            json!([3.0, 4.0]),
            json!([1e300, -1e300]),
            json!([5e-324, 0.0]),
            json!([0.0, 2]),
        ] {
            let mut body = json!({"embedding": raw, "model": "m"});
            unit_embeddings(&mut body).unwrap();
            assert!((norm(&body) - 1.0).abs() < 1e-6, "{body}");
        }
        let mut batch = json!([{"embedding": [0.0, 0.0]}]);
        let e = unit_embeddings(&mut batch).unwrap_err();
        assert_eq!(e.status(), StatusCode::BAD_REQUEST);
        let mut wrapped = json!({"products": [{"embedding": [0.0, 2.0]}]});
        unit_embeddings(&mut wrapped).unwrap();
        assert_eq!(wrapped["products"][0]["embedding"], json!([0.0, 1.0]));
        // Not numbers: left for the body's parsing to refuse.
        let mut odd = json!({"embedding": ["a"]});
        unit_embeddings(&mut odd).unwrap();
        assert_eq!(odd["embedding"], json!(["a"]));
    }

    #[test]
    fn integral_floats_become_integers() {
        use serde_json::json;
        let mut body = json!({"k": 46.0, "position": 2.5, "other": 3.0});
        integral_fields(&mut body, &["k", "position"]);
        assert_eq!(body, json!({"k": 46, "position": 2.5, "other": 3.0}));
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
