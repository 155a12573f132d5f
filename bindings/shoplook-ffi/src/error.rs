//! The one error type apps see: [`shoplook_core::Error`] variant for variant, plus the two
//! failures that only exist at the boundary (a caught panic, a cancelled wait).
//!
//! UniFFI builds the Kotlin exception message from the variant's fields (not from `Display`),
//! so every variant carries what a developer needs to read in a crash report.

use std::any::Any;
use std::panic::{AssertUnwindSafe, catch_unwind};

use shoplook_core::Error as CoreError;

/// Everything that can go wrong in a ShopLook call.
///
/// Kotlin: `ShopLookException` (a sealed class; one subclass per variant).
/// Swift: `ShopLookError` (an enum conforming to `Error`).
///
/// Groups, and what an app does about them:
/// - the photo (`EmptyInput`, `UnsupportedFormat`, `CorruptImage`, `FileTooLarge`,
///   `ImageTooLarge`, `InvalidRegion`): show "this photo can't be used", ask for another one
///   (`isBadPhoto()` is true);
/// - the models (`ModelIo`, `ModelInvalid`, `Inference`): a packaging bug in the app; report it;
/// - the catalogue (`Offline`, `Unauthorized`, `RateLimited`, `ContractMismatch`, `BadRequest`,
///   `Server`): `Offline`, `RateLimited` and `Server` are worth retrying (`isRetryable()`);
/// - `Cancelled`: the caller cancelled the wait (Swift wrappers turn it into `CancellationError`);
/// - `Internal`: a bug in ShopLook (a Rust panic, caught before it could cross the boundary).
#[derive(Debug, Clone, PartialEq, thiserror::Error, uniffi::Error)]
pub enum ShopLookError {
    /// The photo has no bytes at all.
    #[error("the photo is empty (0 bytes)")]
    EmptyInput,
    /// The bytes are not JPEG, PNG or WebP.
    #[error("unsupported image format: {detail}")]
    UnsupportedFormat { detail: String },
    /// A supported format whose data is damaged or truncated.
    #[error("corrupt or truncated image: {detail}")]
    CorruptImage { detail: String },
    /// The encoded file is larger than `DecodeLimits.maxFileBytes`.
    #[error("file too large: {bytes} bytes exceeds the limit of {max_bytes} bytes")]
    FileTooLarge { bytes: u64, max_bytes: u64 },
    /// The photo has more pixels than `DecodeLimits.maxPixels` (refused from the header alone).
    #[error("image too large: {width}x{height} exceeds the limit of {max_pixels} pixels")]
    ImageTooLarge {
        width: u32,
        height: u32,
        max_pixels: u64,
    },
    /// A region (e.g. drawn by the user) that is empty or lies outside the photo.
    #[error("invalid region: {detail}")]
    InvalidRegion { detail: String },
    /// A model or manifest file could not be read (wrong path, missing asset).
    #[error("cannot read model file {path}: {detail}")]
    ModelIo { path: String, detail: String },
    /// A manifest or ONNX file that does not describe a usable model, or invalid options.
    #[error("invalid model {model}: {detail}")]
    ModelInvalid { model: String, detail: String },
    /// Inference failed at run time (should not happen with a valid model).
    #[error("inference failed in {model}: {detail}")]
    Inference { model: String, detail: String },
    /// The catalogue server could not be reached (no network, DNS failure, refused, timed out).
    #[error("catalogue unreachable: {detail}")]
    Offline { detail: String },
    /// The API key is missing, unknown or revoked (HTTP 401/403).
    #[error("unauthorized: {detail}")]
    Unauthorized { detail: String },
    /// Too many requests: retry after `retryAfterS` seconds.
    #[error("rate limited, retry after {retry_after_s} s")]
    RateLimited { retry_after_s: u64 },
    /// The catalogue was built with another embedding model (or dimension) than this engine's.
    #[error("embedding contract mismatch: {detail}")]
    ContractMismatch { detail: String },
    /// The server refused the request as malformed (HTTP 4xx other than the above).
    #[error("bad request ({status}): {detail}")]
    BadRequest { status: u16, detail: String },
    /// The server failed (HTTP 5xx) or answered something unreadable.
    #[error("server error ({status}): {detail}")]
    Server { status: u16, detail: String },
    /// The caller cancelled the call through a `CancelToken`; any result is dropped.
    #[error("cancelled")]
    Cancelled,
    /// A bug in ShopLook: a Rust panic caught at the boundary, or an error this version of the
    /// bindings does not know. The engine stays usable.
    #[error("internal error: {detail}")]
    Internal { detail: String },
}

#[uniffi::export]
impl ShopLookError {
    /// True for failures caused by the photo: the user can try another one.
    pub fn is_bad_photo(&self) -> bool {
        matches!(
            self,
            ShopLookError::EmptyInput
                | ShopLookError::UnsupportedFormat { .. }
                | ShopLookError::CorruptImage { .. }
                | ShopLookError::FileTooLarge { .. }
                | ShopLookError::ImageTooLarge { .. }
                | ShopLookError::InvalidRegion { .. }
        )
    }

    /// True for transient catalogue failures that are worth retrying later.
    pub fn is_retryable(&self) -> bool {
        matches!(
            self,
            ShopLookError::Offline { .. }
                | ShopLookError::RateLimited { .. }
                | ShopLookError::Server { .. }
        )
    }
}

impl From<CoreError> for ShopLookError {
    fn from(e: CoreError) -> Self {
        use ShopLookError as E;
        match e {
            CoreError::EmptyInput => E::EmptyInput,
            CoreError::UnsupportedFormat { detail } => E::UnsupportedFormat { detail },
            CoreError::CorruptImage { detail } => E::CorruptImage { detail },
            CoreError::FileTooLarge { bytes, max_bytes } => E::FileTooLarge { bytes, max_bytes },
            CoreError::ImageTooLarge {
                width,
                height,
                max_pixels,
            } => E::ImageTooLarge {
                width,
                height,
                max_pixels,
            },
            CoreError::InvalidRegion { detail } => E::InvalidRegion { detail },
            // A camera frame whose buffers do not fit its size: the frame's data is unusable,
            // as a truncated photo's is (the tracker's bad input).
            CoreError::InvalidFrame { detail } => E::CorruptImage {
                detail: format!("invalid camera frame: {detail}"),
            },
            CoreError::ModelIo { path, detail } => E::ModelIo { path, detail },
            CoreError::ModelInvalid { model, detail } => E::ModelInvalid { model, detail },
            CoreError::Inference { model, detail } => E::Inference { model, detail },
            CoreError::Offline { detail } => E::Offline { detail },
            CoreError::Unauthorized { detail } => E::Unauthorized { detail },
            CoreError::RateLimited { retry_after_s } => E::RateLimited { retry_after_s },
            CoreError::ContractMismatch { detail } => E::ContractMismatch { detail },
            CoreError::BadRequest { status, detail } => E::BadRequest { status, detail },
            CoreError::Server { status, detail } => E::Server { status, detail },
            // core's Error is #[non_exhaustive]: a variant added there after these bindings
            // still reaches the app, with its message.
            other => E::Internal {
                detail: other.to_string(),
            },
        }
    }
}

/// An exception that an app's `HttpTransport` threw other than `ShopLookError`: no answer came.
impl From<uniffi::UnexpectedUniFFICallbackError> for ShopLookError {
    fn from(e: uniffi::UnexpectedUniFFICallbackError) -> Self {
        ShopLookError::Offline { detail: e.reason }
    }
}

pub(crate) type Result<T, E = ShopLookError> = std::result::Result<T, E>;

/// Runs `f`, turning a panic into [`ShopLookError::Internal`].
///
/// UniFFI also catches panics at the boundary, but reports them as its own internal error
/// (Kotlin `InternalException`; Swift `try!` traps on it for functions that do not throw), so
/// every exported call that does real work goes through here instead.
pub(crate) fn guard<T>(f: impl FnOnce() -> Result<T>) -> Result<T> {
    catch_unwind(AssertUnwindSafe(f)).unwrap_or_else(|payload| {
        Err(ShopLookError::Internal {
            detail: format!("Rust panic: {}", panic_message(payload.as_ref())),
        })
    })
}

fn panic_message(payload: &(dyn Any + Send)) -> String {
    if let Some(s) = payload.downcast_ref::<&str>() {
        (*s).to_string()
    } else if let Some(s) = payload.downcast_ref::<String>() {
        s.clone()
    } else {
        "unknown panic payload".to_string()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn core_errors_map_one_to_one_and_keep_their_groups() {
        let cases = [
            CoreError::EmptyInput,
            CoreError::CorruptImage { detail: "x".into() },
            CoreError::ImageTooLarge {
                width: 1,
                height: 2,
                max_pixels: 1,
            },
            CoreError::Offline { detail: "x".into() },
            CoreError::RateLimited { retry_after_s: 3 },
            CoreError::Server {
                status: 500,
                detail: "x".into(),
            },
            CoreError::Unauthorized { detail: "x".into() },
        ];
        for core in cases {
            let ffi = ShopLookError::from(core.clone());
            assert_eq!(ffi.to_string(), core.to_string());
            assert_eq!(ffi.is_bad_photo(), core.is_bad_photo(), "{core:?}");
            assert_eq!(ffi.is_retryable(), core.is_retryable(), "{core:?}");
        }
    }

    #[test]
    fn guard_turns_a_panic_into_internal() {
        let r: Result<()> = guard(|| panic!("boom {}", 42));
        assert_eq!(
            r,
            Err(ShopLookError::Internal {
                detail: "Rust panic: boom 42".into()
            })
        );
        assert_eq!(guard(|| Ok(7)), Ok(7));
    }
}
