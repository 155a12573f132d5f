//! ShopLook core: the on-device "shop the look" pipeline.
//!
//! ```text
//! photo bytes ──decode──▶ Photo ──detect──▶ boxes ──crop+embed──▶ Items (box, label, category, embedding)
//!   (photo.rs)            (detect/)          (embed.rs)            └─▶ catalogue client (client.rs)
//! ```
//!
//! Everything is driven by model manifests ([`manifest`]); [`Engine`] ties the stages together.

pub mod client;
pub mod detect;
pub mod embed;
pub mod engine;
pub(crate) mod error;
pub(crate) mod geometry;
pub mod manifest;
pub mod model;
pub mod photo;
pub(crate) mod platform;
pub(crate) mod pose;
pub mod preprocess;
pub mod track;
pub mod wire;

pub use embed::{Embedding, ModelContract};
pub use engine::{Analysis, AnalyzeOptions, DetectorInfo, Engine, EngineConfig, Item, Timings};
pub use error::{Error, Result};
pub use geometry::Rect;
pub use model::ModelFiles;
#[cfg(feature = "onnx")]
pub use model::export_nnef;
pub use photo::{DecodeLimits, Photo};
pub use track::{Frame, Rotation, Schedule, TrackedItem, Tracker, TrackerConfig};
