//! Kotlin (Android) and Swift (iOS) bindings of ShopLook, generated with UniFFI.
//!
//! A thin layer over `shoplook-core`: every type here is a copy of a core type that UniFFI can
//! carry, every function calls core and maps its error. What this crate adds is only what the
//! boundary needs:
//! - panics are caught and returned as [`ShopLookError::Internal`] ([`error::guard`]);
//! - `async` variants run the blocking work on a small shared pool of worker threads so that no
//!   UI thread waits, and can be cancelled ([`task`]).
//!
//! See `bindings/README.md` for how apps call it.

use std::sync::Arc;

use shoplook_core as core;

mod catalogue;
mod error;
mod task;
#[cfg(feature = "test-hooks")]
mod test_hooks;
mod tracker;
mod types;

pub use catalogue::{
    CatalogueClient, EventType, HttpHeader, HttpRequest, HttpResponse, HttpTransport, Product,
    Ranking, SearchFilters, SearchHit, SearchResponse,
};
pub use error::ShopLookError;
use error::{Result, guard};
pub use task::CancelToken;
use task::run_blocking;
pub use tracker::{TrackedItem, Tracker, TrackerOptions, TrackerStats};
pub use types::*;

uniffi::setup_scaffolding!();

/// The on-device pipeline: models loaded once, then `analyze` any number of photos.
///
/// Create one per app (loading takes a second or two) and share it: every method may be called
/// from any thread, concurrently. Methods without `Async` block the calling thread (do not call
/// them on the UI thread); the `Async` variants are Kotlin `suspend` / Swift `async` functions
/// that run the work on a worker thread.
#[derive(uniffi::Object)]
pub struct ShopLook {
    engine: Arc<core::Engine>,
}

#[uniffi::export]
impl ShopLook {
    /// Loads the models from a directory holding `<name>.json` manifests and their ONNX files
    /// (e.g. files unpacked from Android assets, or an iOS bundle's resource path).
    /// `config` null/nil loads the default detector and embedder.
    ///
    /// Throws `ModelIo` if a file is missing, `ModelInvalid` if a model is unusable.
    #[uniffi::constructor(default(config = None))]
    pub fn from_model_dir(path: String, config: Option<ModelConfig>) -> Result<Arc<Self>> {
        guard(|| load_dir(path, config))
    }

    /// Loads models handed over as bytes (Android `AssetManager`, iOS `Data(contentsOf:)`).
    /// `decodeLimits` null/nil uses the defaults.
    ///
    /// Throws `ModelInvalid` if a model is unusable.
    #[uniffi::constructor(default(decode_limits = None))]
    pub fn from_model_bytes(
        detectors: Vec<ModelBytes>,
        embedder: ModelBytes,
        decode_limits: Option<DecodeLimits>,
    ) -> Result<Arc<Self>> {
        guard(|| load_bytes(detectors, embedder, decode_limits))
    }

    /// `fromModelDir` on a worker thread (Kotlin `suspend`, Swift `async`).
    #[uniffi::constructor(default(config = None, cancel = None))]
    pub async fn load_from_model_dir(
        path: String,
        config: Option<ModelConfig>,
        cancel: Option<Arc<CancelToken>>,
    ) -> Result<Arc<Self>> {
        run_blocking(cancel, move || load_dir(path, config)).await
    }

    /// `fromModelBytes` on a worker thread (Kotlin `suspend`, Swift `async`).
    #[uniffi::constructor(default(decode_limits = None, cancel = None))]
    pub async fn load_from_model_bytes(
        detectors: Vec<ModelBytes>,
        embedder: ModelBytes,
        decode_limits: Option<DecodeLimits>,
        cancel: Option<Arc<CancelToken>>,
    ) -> Result<Arc<Self>> {
        run_blocking(cancel, move || {
            load_bytes(detectors, embedder, decode_limits)
        })
        .await
    }

    /// Finds the shoppable items in a photo (JPEG, PNG or WebP bytes, EXIF orientation
    /// applied): their boxes in photo pixels, labels, categories, scores and embeddings.
    /// Blocks for roughly 50-500 ms: call it off the UI thread, or use `analyzeAsync`.
    ///
    /// Throws a bad-photo error (`EmptyInput`, `UnsupportedFormat`, `CorruptImage`,
    /// `FileTooLarge`, `ImageTooLarge`) for photos that cannot be used.
    #[uniffi::method(default(options))]
    pub fn analyze(&self, photo: Vec<u8>, options: AnalyzeOptions) -> Result<Analysis> {
        guard(|| analyze(&self.engine, &photo, options))
    }

    /// `analyze` as a Kotlin `suspend` / Swift `async` function: the work runs on a worker
    /// thread. Cancelling the coroutine (Kotlin), the task (Swift extension `analyze(...) async`)
    /// or `cancel` stops the wait at once; the inference in flight finishes in the background
    /// and its result is dropped.
    #[uniffi::method(default(cancel = None, options))]
    pub async fn analyze_async(
        &self,
        photo: Vec<u8>,
        options: AnalyzeOptions,
        cancel: Option<Arc<CancelToken>>,
    ) -> Result<Analysis> {
        let engine = self.engine.clone();
        run_blocking(cancel, move || analyze(&engine, &photo, options)).await
    }

    /// Embeds a region of the photo (e.g. drawn by the user), given in photo pixels; the
    /// result can be searched in the catalogue like an item's embedding.
    ///
    /// Throws `InvalidRegion` if the region is empty or outside the photo.
    pub fn embed_region(&self, photo: Vec<u8>, region: Rect) -> Result<Embedding> {
        guard(|| embed_region(&self.engine, &photo, region))
    }

    /// `embedRegion` as a Kotlin `suspend` / Swift `async` function (see `analyzeAsync`).
    #[uniffi::method(default(cancel = None))]
    pub async fn embed_region_async(
        &self,
        photo: Vec<u8>,
        region: Rect,
        cancel: Option<Arc<CancelToken>>,
    ) -> Result<Embedding> {
        let engine = self.engine.clone();
        run_blocking(cancel, move || embed_region(&engine, &photo, region)).await
    }

    /// Embeds the whole photo (e.g. a product packshot).
    pub fn embed_image(&self, photo: Vec<u8>) -> Result<Embedding> {
        guard(|| Ok(self.engine.embed_image(&photo)?.into()))
    }

    /// The contract (model id, version, dimension) of this engine's embeddings.
    pub fn embedder_contract(&self) -> ModelContract {
        self.engine.embedder_contract().clone().into()
    }

    /// The detector models loaded, in the order their results are merged.
    pub fn detectors(&self) -> Vec<DetectorInfo> {
        self.engine
            .detector_infos()
            .into_iter()
            .map(DetectorInfo::from)
            .collect()
    }
}

fn load_dir(path: String, config: Option<ModelConfig>) -> Result<Arc<ShopLook>> {
    let config = config.map(core::EngineConfig::from).unwrap_or_default();
    let engine = core::Engine::from_dir_with(path, &config)?;
    Ok(Arc::new(ShopLook {
        engine: Arc::new(engine),
    }))
}

fn load_bytes(
    detectors: Vec<ModelBytes>,
    embedder: ModelBytes,
    decode_limits: Option<DecodeLimits>,
) -> Result<Arc<ShopLook>> {
    let detectors: Vec<core::ModelFiles> = detectors.into_iter().map(Into::into).collect();
    let limits = decode_limits.map(Into::into).unwrap_or_default();
    let engine = core::Engine::from_files(&detectors, &embedder.into(), limits)?;
    Ok(Arc::new(ShopLook {
        engine: Arc::new(engine),
    }))
}

fn analyze(engine: &core::Engine, photo: &[u8], options: AnalyzeOptions) -> Result<Analysis> {
    Ok(engine.analyze(photo, &options.into())?.into())
}

fn embed_region(engine: &core::Engine, photo: &[u8], region: Rect) -> Result<Embedding> {
    Ok(engine.embed_region(photo, region.into())?.into())
}

/// The default model configuration: detector `ssd_mbv2_oidv4`, embedder
/// `efficientnet_lite0_feat`, default decode limits. Add `nanodet` to `detectors` for bags,
/// ties and umbrellas.
#[uniffi::export]
pub fn default_model_config() -> ModelConfig {
    core::EngineConfig::default().into()
}

/// The default decode limits of the Rust core (the same values as `DecodeLimits()`).
#[uniffi::export]
pub fn default_decode_limits() -> DecodeLimits {
    core::DecodeLimits::default().into()
}

/// Cosine similarity of two embeddings (both unit length); 0 when their contracts differ.
#[uniffi::export]
pub fn cosine_similarity(a: Embedding, b: Embedding) -> f32 {
    if a.model != b.model {
        return 0.0;
    }
    core::embed::dot(&a.vector, &b.vector)
}

/// The version of the ShopLook library (the Rust crate version).
#[uniffi::export]
pub fn shoplook_version() -> String {
    env!("CARGO_PKG_VERSION").to_string()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn record_defaults_match_core() {
        // The foreign-side defaults are literals in types.rs; keep them equal to core's.
        let core = core::DecodeLimits::default();
        assert_eq!(core.max_file_bytes, 67108864);
        assert_eq!(core.max_pixels, 100000000);
        assert_eq!(core.max_side, 20000);
        assert_eq!(core.working_max_side, 2048);
        let opts = core::AnalyzeOptions::default();
        assert_eq!(
            (opts.min_score, opts.max_items, opts.embed),
            (None, 20, true)
        );
    }

    #[test]
    fn missing_model_dir_is_model_io() {
        let r = ShopLook::from_model_dir("/nonexistent/models".into(), None);
        assert!(matches!(r, Err(ShopLookError::ModelIo { .. })));
    }
}
