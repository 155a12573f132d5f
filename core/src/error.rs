//! The one error type of the SDK. Every failure is a value of [`Error`]; nothing in the
//! pipeline panics on bad input. Variants are grouped by what a caller can do about them.

use std::fmt;

/// Result alias used throughout the crate.
pub type Result<T, E = Error> = std::result::Result<T, E>;

#[derive(Debug, Clone, PartialEq, thiserror::Error)]
#[non_exhaustive]
pub enum Error {
    // --- The photo: show "this photo can't be used", ask for another one. ---
    /// No bytes at all.
    #[error("the photo is empty (0 bytes)")]
    EmptyInput,
    /// Bytes that are not JPEG, PNG or WebP.
    #[error("unsupported image format: {detail}")]
    UnsupportedFormat { detail: String },
    /// A supported format whose data is damaged or truncated.
    #[error("corrupt or truncated image: {detail}")]
    CorruptImage { detail: String },
    /// The encoded file is larger than the configured limit.
    #[error("file too large: {bytes} bytes exceeds the limit of {max_bytes} bytes")]
    FileTooLarge { bytes: u64, max_bytes: u64 },
    /// Refused from the header alone, before any pixel memory is allocated.
    #[error("image too large: {width}x{height} exceeds the limit of {max_pixels} pixels")]
    ImageTooLarge {
        width: u32,
        height: u32,
        max_pixels: u64,
    },
    /// A user-drawn region that is empty or lies outside the photo.
    #[error("invalid region: {detail}")]
    InvalidRegion { detail: String },

    /// A camera frame whose size, strides or buffers do not fit together (tracker input).
    #[error("invalid frame: {detail}")]
    InvalidFrame { detail: String },

    // --- The models: a packaging or deployment bug in the app. ---
    /// A model or manifest file could not be read.
    #[error("cannot read model file {path}: {detail}")]
    ModelIo { path: String, detail: String },
    /// A manifest or ONNX file that does not describe a usable model.
    #[error("invalid model {model}: {detail}")]
    ModelInvalid { model: String, detail: String },
    /// Inference failed at run time (should not happen with a valid model).
    #[error("inference failed in {model}: {detail}")]
    Inference { model: String, detail: String },

    // --- The catalogue service. ---
    /// The server could not be reached (no network, DNS failure, refused, timed out).
    #[error("catalogue unreachable: {detail}")]
    Offline { detail: String },
    /// The API key is missing, unknown or revoked (HTTP 401/403).
    #[error("unauthorized: {detail}")]
    Unauthorized { detail: String },
    /// Too many requests; retry after the given number of seconds.
    #[error("rate limited, retry after {retry_after_s} s")]
    RateLimited { retry_after_s: u64 },
    /// The catalogue was built with another embedding model (or dimension).
    #[error("embedding contract mismatch: {detail}")]
    ContractMismatch { detail: String },
    /// The server refused the request as malformed (HTTP 4xx other than the above).
    #[error("bad request ({status}): {detail}")]
    BadRequest { status: u16, detail: String },
    /// The server failed (HTTP 5xx) or answered something unreadable.
    #[error("server error ({status}): {detail}")]
    Server { status: u16, detail: String },
}

impl Error {
    pub(crate) fn model_invalid(model: impl fmt::Display, detail: impl fmt::Display) -> Self {
        Error::ModelInvalid {
            model: model.to_string(),
            detail: detail.to_string(),
        }
    }

    pub(crate) fn inference(model: impl fmt::Display, err: impl fmt::Debug) -> Self {
        Error::Inference {
            model: model.to_string(),
            detail: format!("{err:?}"),
        }
    }

    /// True for failures caused by the photo (the user can try another one).
    pub fn is_bad_photo(&self) -> bool {
        matches!(
            self,
            Error::EmptyInput
                | Error::UnsupportedFormat { .. }
                | Error::CorruptImage { .. }
                | Error::ImageTooLarge { .. }
                | Error::FileTooLarge { .. }
                | Error::InvalidRegion { .. }
                | Error::InvalidFrame { .. }
        )
    }

    /// True for transient catalogue failures that are worth retrying later.
    pub fn is_retryable(&self) -> bool {
        matches!(
            self,
            Error::Offline { .. } | Error::RateLimited { .. } | Error::Server { .. }
        )
    }
}
