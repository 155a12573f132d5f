//! ShopLook's core in WebAssembly, for browsers (the extension in `web/extension/`, the `/try`
//! page of the catalogue service). A thin layer over [`shoplook_core::Engine`]:
//!
//! - `new ShopLook(detectorManifests, detectorOnnx, embedderManifest, embedderOnnx)` loads
//!   models handed over as bytes (JSON manifests as strings);
//! - `analyze(bytes, optionsJson?)` returns the JSON of `shoplook analyze --json` (a string);
//! - `embedRegion(bytes, x, y, w, h)` returns the JSON of `shoplook embed --region --json`;
//! - `lastPanic()` is the message of a panic, if one ever happened (see below).
//!
//! Errors are thrown as JS `Error`s whose `name` is a stable code (`empty_input`,
//! `unsupported_format`, `image_too_large`, `model_invalid`, `bad_options`, ...; see
//! [`error_code`]) and whose `message` is the core's text.
//!
//! Panics: wasm32-unknown-unknown aborts on panic (no unwinding), so nothing can be caught
//! here. The core returns errors for bad input instead of panicking, and every argument is
//! checked before it reaches the core; should a bug panic anyway, the hook below keeps its
//! message for `lastPanic()` and the call fails in JS with a `RuntimeError` (`unreachable`),
//! after which the JS side drops this instance and instantiates the module again.
#![cfg(target_arch = "wasm32")]

use std::cell::RefCell;

use serde::Deserialize;
use shoplook_core::{AnalyzeOptions, DecodeLimits, Engine, Error, ModelFiles, Rect};
use wasm_bindgen::prelude::*;

thread_local! {
    static LAST_PANIC: RefCell<Option<String>> = const { RefCell::new(None) };
}

/// Installs the panic hook once, when the module is instantiated.
#[wasm_bindgen(start)]
pub fn start() {
    std::panic::set_hook(Box::new(|info| {
        let msg = info.to_string();
        LAST_PANIC.with(|p| *p.borrow_mut() = Some(msg));
    }));
}

/// The message of the panic that poisoned this instance, if any.
#[wasm_bindgen(js_name = lastPanic)]
pub fn last_panic() -> Option<String> {
    LAST_PANIC.with(|p| p.borrow().clone())
}

/// The stable code of a core error: the `name` of the JS `Error` thrown.
pub fn error_code(e: &Error) -> &'static str {
    match e {
        Error::EmptyInput => "empty_input",
        Error::UnsupportedFormat { .. } => "unsupported_format",
        Error::CorruptImage { .. } => "corrupt_image",
        Error::FileTooLarge { .. } => "file_too_large",
        Error::ImageTooLarge { .. } => "image_too_large",
        Error::InvalidRegion { .. } => "invalid_region",
        Error::ModelIo { .. } => "model_io",
        Error::ModelInvalid { .. } => "model_invalid",
        Error::Inference { .. } => "inference",
        _ => "internal",
    }
}

fn js_error(code: &str, message: impl std::fmt::Display) -> JsValue {
    let err = js_sys::Error::new(&message.to_string());
    err.set_name(code);
    err.into()
}

fn core_error(e: Error) -> JsValue {
    js_error(error_code(&e), e)
}

/// Options of `analyze`, as JSON: `{"min_score": 0.3, "max_items": 20, "embeddings": true}`
/// (every field optional; the CLI's `--min-score`, `--max-items`, `--embeddings`).
#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct Options {
    min_score: Option<f32>,
    #[serde(default = "default_max_items")]
    max_items: usize,
    #[serde(default)]
    embeddings: bool,
}

fn default_max_items() -> usize {
    AnalyzeOptions::default().max_items
}

fn parse_options(json: Option<String>) -> Result<AnalyzeOptions, JsValue> {
    let o: Options = match json.as_deref() {
        None | Some("") => serde_json::from_str("{}"),
        Some(s) => serde_json::from_str(s),
    }
    .map_err(|e| js_error("bad_options", format!("analyze options: {e}")))?;
    if let Some(s) = o.min_score
        && !(0.0..1.0).contains(&s)
    {
        return Err(js_error(
            "bad_options",
            format!("min_score {s} must be within [0, 1)"),
        ));
    }
    if o.max_items == 0 || o.max_items > 100 {
        return Err(js_error(
            "bad_options",
            format!("max_items {} must be within 1..=100", o.max_items),
        ));
    }
    Ok(AnalyzeOptions {
        min_score: o.min_score,
        max_items: o.max_items,
        embed: o.embeddings,
    })
}

/// Loaded models (one per page or worker; loading takes about a second).
#[wasm_bindgen]
pub struct ShopLook {
    engine: Engine,
}

#[wasm_bindgen]
impl ShopLook {
    /// Loads detectors (manifest JSON + ONNX bytes each, in the same order) and the embedder.
    /// `maxPixels` bounds decoded photos (default: the core's limit).
    #[wasm_bindgen(constructor)]
    pub fn new(
        detector_manifests: Vec<String>,
        detector_onnx: Vec<js_sys::Uint8Array>,
        embedder_manifest: String,
        embedder_onnx: Vec<u8>,
        max_pixels: Option<f64>,
    ) -> Result<ShopLook, JsValue> {
        if detector_manifests.len() != detector_onnx.len() {
            return Err(js_error(
                "bad_arguments",
                format!(
                    "{} detector manifests but {} ONNX files",
                    detector_manifests.len(),
                    detector_onnx.len()
                ),
            ));
        }
        let detectors: Vec<ModelFiles> = detector_manifests
            .into_iter()
            .zip(detector_onnx)
            .map(|(m, o)| ModelFiles {
                manifest_json: m.into_bytes(),
                onnx: o.to_vec(),
            })
            .collect();
        let embedder = ModelFiles {
            manifest_json: embedder_manifest.into_bytes(),
            onnx: embedder_onnx,
        };
        let mut limits = DecodeLimits::default();
        if let Some(p) = max_pixels {
            if !(p.is_finite() && p >= 1.0) {
                return Err(js_error(
                    "bad_arguments",
                    format!("maxPixels {p} is not a positive number"),
                ));
            }
            limits.max_pixels = p as u64;
        }
        let engine = Engine::from_files(&detectors, &embedder, limits).map_err(core_error)?;
        Ok(ShopLook { engine })
    }

    /// `id@version` of the embedder: the `model` of a catalogue search.
    #[wasm_bindgen(getter)]
    pub fn model(&self) -> String {
        self.engine.embedder_contract().to_string()
    }

    /// Decodes, detects and (with `"embeddings": true`) embeds: the JSON of `analyze --json`.
    pub fn analyze(&self, bytes: &[u8], options_json: Option<String>) -> Result<String, JsValue> {
        let options = parse_options(options_json)?;
        let analysis = self.engine.analyze(bytes, &options).map_err(core_error)?;
        Ok(analysis.to_json().to_string())
    }

    /// Embeds a region in photo pixels: `{"model": {...}, "embedding": [...]}` as `embed --json`.
    #[wasm_bindgen(js_name = embedRegion)]
    pub fn embed_region(
        &self,
        bytes: &[u8],
        x: f32,
        y: f32,
        width: f32,
        height: f32,
    ) -> Result<String, JsValue> {
        let e = self
            .engine
            .embed_region(bytes, Rect::new(x, y, width, height))
            .map_err(core_error)?;
        Ok(e.to_json().to_string())
    }
}
