//! Records that cross the boundary, each a copy of a `shoplook_core` type.
//!
//! Counts and pixel sizes are `u32` (Kotlin `UInt`, Swift `UInt32`) as in core; coordinates are
//! `f32` (`Float`), timings `f64` milliseconds (`Double`).

use shoplook_core as core;

/// An axis-aligned rectangle in photo pixels: top-left corner plus size.
#[derive(Debug, Clone, Copy, PartialEq, uniffi::Record)]
pub struct Rect {
    pub x: f32,
    pub y: f32,
    pub width: f32,
    pub height: f32,
}

impl From<core::Rect> for Rect {
    fn from(r: core::Rect) -> Self {
        Rect {
            x: r.x,
            y: r.y,
            width: r.width,
            height: r.height,
        }
    }
}

impl From<Rect> for core::Rect {
    fn from(r: Rect) -> Self {
        core::Rect::new(r.x, r.y, r.width, r.height)
    }
}

/// Limits checked before a photo is decoded, and the working resolution.
///
/// The defaults (64 MiB, 100 MP, 20000 px, 2048 px) are those of the Rust core;
/// `defaultDecodeLimits()` returns them from the library itself.
#[derive(Debug, Clone, Copy, PartialEq, uniffi::Record)]
pub struct DecodeLimits {
    /// Largest encoded file accepted, in bytes.
    #[uniffi(default = 67108864)]
    pub max_file_bytes: u64,
    /// Largest photo accepted, in pixels (width x height), checked from the header.
    #[uniffi(default = 100000000)]
    pub max_pixels: u64,
    /// Largest width or height accepted, checked from the header.
    #[uniffi(default = 20000)]
    pub max_side: u32,
    /// Longer side the photo is reduced to for analysis (boxes are still reported in
    /// original-photo pixels).
    #[uniffi(default = 2048)]
    pub working_max_side: u32,
}

impl From<core::DecodeLimits> for DecodeLimits {
    fn from(l: core::DecodeLimits) -> Self {
        DecodeLimits {
            max_file_bytes: l.max_file_bytes,
            max_pixels: l.max_pixels,
            max_side: l.max_side,
            working_max_side: l.working_max_side,
        }
    }
}

impl From<DecodeLimits> for core::DecodeLimits {
    fn from(l: DecodeLimits) -> Self {
        core::DecodeLimits {
            max_file_bytes: l.max_file_bytes,
            max_pixels: l.max_pixels,
            max_side: l.max_side,
            working_max_side: l.working_max_side,
        }
    }
}

/// Which models to load from a model directory. `defaultModelConfig()` returns the defaults.
#[derive(Debug, Clone, PartialEq, uniffi::Record)]
pub struct ModelConfig {
    /// Detector manifest names (without `.json`), e.g. `ssd_mbv2_oidv4`, `nanodet`; the
    /// results of several detectors are merged.
    pub detectors: Vec<String>,
    /// Embedder manifest name (without `.json`), e.g. `efficientnet_lite0_feat`.
    pub embedder: String,
    pub decode_limits: DecodeLimits,
    /// Pose model manifest name, e.g. `movenet_multipose`: each person's top, bottoms, shoes,
    /// headwear and eyewear become items grouped by `Item.personId`. Null/nil: off (default).
    pub pose: Option<String>,
}

impl From<core::EngineConfig> for ModelConfig {
    fn from(c: core::EngineConfig) -> Self {
        ModelConfig {
            detectors: c.detectors,
            embedder: c.embedder,
            decode_limits: c.decode_limits.into(),
            pose: c.pose,
        }
    }
}

impl From<ModelConfig> for core::EngineConfig {
    #[allow(clippy::needless_update)]
    fn from(c: ModelConfig) -> Self {
        core::EngineConfig {
            detectors: c.detectors,
            embedder: c.embedder,
            decode_limits: c.decode_limits.into(),
            pose: c.pose,
            // Fields the bindings do not expose keep core's defaults.
            ..Default::default()
        }
    }
}

/// A model handed over as bytes (Android assets, iOS bundle resources): its manifest JSON and
/// the model file.
#[derive(Debug, Clone, uniffi::Record)]
pub struct ModelBytes {
    pub manifest_json: Vec<u8>,
    /// The NNEF export of the model (`shoplook models export-nnef`: `<name>.nnef.tar`), which is
    /// all the phone libraries read; host builds (feature `onnx`) also take the ONNX file the
    /// manifest names. (The field keeps its first name so that apps keep compiling.)
    pub onnx: Vec<u8>,
}

impl From<ModelBytes> for core::ModelFiles {
    fn from(m: ModelBytes) -> Self {
        core::ModelFiles {
            manifest_json: m.manifest_json,
            onnx: m.onnx,
        }
    }
}

/// Options of one `analyze` call.
#[derive(Debug, Clone, PartialEq, uniffi::Record)]
pub struct AnalyzeOptions {
    /// Minimum detection score in [0, 1); `null`/`nil` uses each detector's own default.
    #[uniffi(default = None)]
    pub min_score: Option<f32>,
    /// At most this many items, best first.
    #[uniffi(default = 20)]
    pub max_items: u32,
    /// Compute an embedding for every item (needed to search the catalogue).
    #[uniffi(default = true)]
    pub embed: bool,
}

impl From<AnalyzeOptions> for core::AnalyzeOptions {
    fn from(o: AnalyzeOptions) -> Self {
        core::AnalyzeOptions {
            min_score: o.min_score,
            max_items: o.max_items as usize,
            embed: o.embed,
        }
    }
}

/// Which model produced a vector. Vectors are only comparable under the same contract.
#[derive(Debug, Clone, PartialEq, Eq, uniffi::Record)]
pub struct ModelContract {
    pub id: String,
    pub version: String,
    /// Number of values in each vector.
    pub dim: u32,
}

impl From<core::ModelContract> for ModelContract {
    fn from(c: core::ModelContract) -> Self {
        ModelContract {
            id: c.id,
            version: c.version,
            dim: c.dim as u32,
        }
    }
}

/// An L2-normalised embedding (a dot product of two is their cosine similarity).
#[derive(Debug, Clone, PartialEq, uniffi::Record)]
pub struct Embedding {
    pub vector: Vec<f32>,
    pub model: ModelContract,
}

impl From<core::Embedding> for Embedding {
    fn from(e: core::Embedding) -> Self {
        Embedding {
            vector: e.vector,
            model: e.model.into(),
        }
    }
}

/// A shoppable object found in a photo.
#[derive(Debug, Clone, PartialEq, uniffi::Record)]
pub struct Item {
    /// Index of the item in this analysis (0 = best score).
    pub id: u32,
    /// The detector's label, e.g. `Footwear`.
    pub label: String,
    /// Shopping category the catalogue filters on, e.g. `shoes`.
    pub category: String,
    /// Detection score in [0, 1].
    pub score: f32,
    /// Bounding box in original-photo pixels (display orientation, EXIF applied).
    pub bbox: Rect,
    /// Unit-length embedding under `Analysis.embedder`, when `AnalyzeOptions.embed` was set.
    pub embedding: Option<Vec<f32>>,
    /// Id of the model that found it (a detector, or the pose model for garments).
    pub detector: String,
    /// The person this item belongs to (with a pose model): their `outfit` item and each piece
    /// of their look (`tops`, `bottoms`, `shoes`, `headwear`, `eyewear`) share it, so an app
    /// can offer "shop this look" as a set.
    pub person_id: Option<u32>,
}

impl From<core::Item> for Item {
    fn from(i: core::Item) -> Self {
        Item {
            id: i.id,
            label: i.label,
            category: i.category,
            score: i.score,
            bbox: i.bbox.into(),
            embedding: i.embedding,
            detector: i.detector,
            person_id: i.person_id,
        }
    }
}

/// Wall-clock time of each stage, in milliseconds.
#[derive(Debug, Clone, Copy, PartialEq, uniffi::Record)]
pub struct Timings {
    pub decode_ms: f64,
    pub detect_ms: f64,
    /// The pose model and garment regions (0 without a pose model).
    pub pose_ms: f64,
    pub embed_ms: f64,
    pub total_ms: f64,
}

impl From<core::Timings> for Timings {
    fn from(t: core::Timings) -> Self {
        Timings {
            decode_ms: t.decode_ms,
            detect_ms: t.detect_ms,
            pose_ms: t.pose_ms,
            embed_ms: t.embed_ms,
            total_ms: t.total_ms,
        }
    }
}

/// Identifies a detector model.
#[derive(Debug, Clone, PartialEq, Eq, uniffi::Record)]
pub struct DetectorInfo {
    pub id: String,
    pub version: String,
}

impl From<core::DetectorInfo> for DetectorInfo {
    fn from(d: core::DetectorInfo) -> Self {
        DetectorInfo {
            id: d.id,
            version: d.version,
        }
    }
}

/// What `analyze` found in one photo.
#[derive(Debug, Clone, PartialEq, uniffi::Record)]
pub struct Analysis {
    /// Photo width in pixels (display orientation).
    pub width: u32,
    /// Photo height in pixels (display orientation).
    pub height: u32,
    /// Items found, best score first.
    pub items: Vec<Item>,
    pub timings: Timings,
    pub detectors: Vec<DetectorInfo>,
    /// The contract of the items' embeddings.
    pub embedder: ModelContract,
}

impl From<core::Analysis> for Analysis {
    fn from(a: core::Analysis) -> Self {
        Analysis {
            width: a.width,
            height: a.height,
            items: a.items.into_iter().map(Item::from).collect(),
            timings: a.timings.into(),
            detectors: a.detectors.into_iter().map(DetectorInfo::from).collect(),
            embedder: a.embedder.into(),
        }
    }
}
