//! The engine: models loaded once, then `analyze` any number of photos from any thread.

#[cfg(not(target_family = "wasm"))]
use std::path::Path;

use serde::{Deserialize, Serialize};

use crate::detect::{self, Detection, Detector, nms};
use crate::embed::{Embedder, Embedding, ModelContract};
use crate::error::{Error, Result};
use crate::geometry::Rect;
use crate::manifest::ModelManifest;
use crate::model::ModelFiles;
use crate::photo::{self, DecodeLimits, Photo};
use crate::platform::{Instant, elapsed_ms as ms};
use crate::pose::PoseModel;
use crate::pose::look;

/// Which models to load from a model directory.
#[derive(Debug, Clone, PartialEq)]
pub struct EngineConfig {
    /// Detector manifest names (without `.json`); results of several detectors are merged.
    pub detectors: Vec<String>,
    /// Embedder manifest name (without `.json`).
    pub embedder: String,
    pub decode_limits: DecodeLimits,
    /// Threads used to embed the crops of one photo (see [`default_threads`]).
    pub threads: usize,
    /// Pose model manifest name (e.g. [`POSE_MODEL`]): each person's top, bottoms, shoes,
    /// headwear and eyewear become items of their own, grouped by `person_id`. `None`: off.
    pub pose: Option<String>,
}

/// Up to 4 threads: phones have 2-4 fast cores, and more threads than crops buys nothing.
pub fn default_threads() -> usize {
    crate::platform::available_threads().min(4)
}

/// The detector shipped on by default.
pub const DEFAULT_DETECTOR: &str = "ssd_mbv2_oidv4";
/// The optional COCO detector (bags, ties, umbrellas, sofas...), merged when enabled.
pub const COCO_DETECTOR: &str = "nanodet";
/// The pose model that finds the pieces of each person's look (off by default: see
/// docs/garments.md for its cost).
pub const POSE_MODEL: &str = "movenet_multipose";
/// The embedder shipped by default.
pub const DEFAULT_EMBEDDER: &str = "efficientnet_lite0_feat";

impl Default for EngineConfig {
    fn default() -> Self {
        EngineConfig {
            detectors: vec![DEFAULT_DETECTOR.into()],
            embedder: DEFAULT_EMBEDDER.into(),
            decode_limits: DecodeLimits::default(),
            threads: default_threads(),
            pose: None,
        }
    }
}

/// Per-call options of [`Engine::analyze`].
#[derive(Debug, Clone, PartialEq)]
pub struct AnalyzeOptions {
    /// Minimum detection score; `None` uses each detector's own default.
    pub min_score: Option<f32>,
    /// At most this many objects per detector, best first (people included); with a pose
    /// model, each person's garments (up to 5) come in addition, so a look stays whole.
    pub max_items: usize,
    /// Compute an embedding for every item (needed to search the catalogue).
    pub embed: bool,
}

impl Default for AnalyzeOptions {
    fn default() -> Self {
        AnalyzeOptions {
            min_score: None,
            max_items: 20,
            embed: true,
        }
    }
}

/// A shoppable object found in a photo.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Item {
    /// Index of the item in this analysis (0 = best score).
    pub id: u32,
    /// The detector's label, e.g. `Footwear`.
    pub label: String,
    /// Shopping category the catalogue filters on, e.g. `shoes`.
    pub category: String,
    pub score: f32,
    /// Box in original-photo pixels (display orientation).
    pub bbox: Rect,
    /// Unit-length embedding under [`Analysis::embedder`]'s contract.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub embedding: Option<Vec<f32>>,
    /// Id of the model that found it (a detector, or the pose model for garments).
    pub detector: String,
    /// The person this item belongs to (with a pose model): their `outfit` item and each piece
    /// of their look (`tops`, `bottoms`, `shoes`, `headwear`, `eyewear`) share it.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub person_id: Option<u32>,
}

/// Wall-clock time of each stage, in milliseconds.
#[derive(Debug, Clone, Copy, Default, PartialEq, Serialize, Deserialize)]
pub struct Timings {
    pub decode_ms: f64,
    pub detect_ms: f64,
    /// The pose model and the garment regions (0 without a pose model).
    #[serde(default)]
    pub pose_ms: f64,
    pub embed_ms: f64,
    pub total_ms: f64,
}

/// Identifies a detector model.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct DetectorInfo {
    pub id: String,
    pub version: String,
}

/// What [`Engine::analyze`] found in one photo.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Analysis {
    /// Photo size in display orientation.
    pub width: u32,
    pub height: u32,
    pub items: Vec<Item>,
    pub timings: Timings,
    pub detectors: Vec<DetectorInfo>,
    pub embedder: ModelContract,
}

impl Analysis {
    /// The stable JSON shape of `shoplook analyze --json` (also what the WebAssembly build
    /// returns): `width`, `height`, `items`, `timings_ms`, `models`.
    pub fn to_json(&self) -> serde_json::Value {
        serde_json::json!({
            "width": self.width,
            "height": self.height,
            "items": self.items,
            "timings_ms": {
                "decode": self.timings.decode_ms,
                "detect": self.timings.detect_ms,
                "pose": self.timings.pose_ms,
                "embed": self.timings.embed_ms,
                "total": self.timings.total_ms,
            },
            "models": { "detectors": self.detectors, "embedder": self.embedder },
        })
    }
}

/// Loaded models. `Send + Sync`: load once, share (e.g. in an `Arc`) and call from any thread.
pub struct Engine {
    detectors: Vec<Box<dyn Detector>>,
    embedder: Embedder,
    pose: Option<PoseModel>,
    limits: DecodeLimits,
    threads: usize,
}

impl Engine {
    /// Loads the default models from `dir` (not on wasm: no file system; use
    /// [`Engine::from_files`]). Where the model directory is (app assets, a download cache, a
    /// checkout's `models/`) is the caller's business.
    #[cfg(not(target_family = "wasm"))]
    pub fn from_dir(dir: impl AsRef<Path>) -> Result<Self> {
        Self::from_dir_with(dir, &EngineConfig::default())
    }

    /// Loads the models named in `config` from `dir` (not on wasm).
    #[cfg(not(target_family = "wasm"))]
    pub fn from_dir_with(dir: impl AsRef<Path>, config: &EngineConfig) -> Result<Self> {
        let dir = dir.as_ref();
        let detectors = config
            .detectors
            .iter()
            .map(|name| ModelFiles::from_dir(dir, name))
            .collect::<Result<Vec<_>>>()?;
        let embedder = ModelFiles::from_dir(dir, &config.embedder)?;
        let engine = Self::from_files(&detectors, &embedder, config.decode_limits)?
            .with_threads(config.threads);
        match &config.pose {
            Some(name) => engine.with_pose(&ModelFiles::from_dir(dir, name)?),
            None => Ok(engine),
        }
    }

    /// Adds a pose model: each person's garments become items (see [`EngineConfig::pose`]).
    pub fn with_pose(mut self, pose: &ModelFiles) -> Result<Self> {
        self.pose = Some(PoseModel::load(
            ModelManifest::from_json(&pose.manifest_json)?,
            &pose.onnx,
        )?);
        Ok(self)
    }

    /// Whether a pose model is loaded (garments are found).
    pub fn has_pose(&self) -> bool {
        self.pose.is_some()
    }

    /// Loads models handed over as bytes.
    pub fn from_files(
        detectors: &[ModelFiles],
        embedder: &ModelFiles,
        limits: DecodeLimits,
    ) -> Result<Self> {
        if detectors.is_empty() {
            return Err(Error::model_invalid(
                "engine",
                "at least one detector is needed",
            ));
        }
        // Loading (parsing, optimising) a model is single-threaded work inside tract: the
        // embedder loads on a second thread while the detectors load on this one.
        let load_detectors = || {
            detectors
                .iter()
                .map(|f| detect::load(ModelManifest::from_json(&f.manifest_json)?, &f.onnx))
                .collect::<Result<Vec<_>>>()
        };
        let load_embedder = || {
            Embedder::load(
                ModelManifest::from_json(&embedder.manifest_json)?,
                &embedder.onnx,
            )
        };
        let (detectors, embedder) = crate::platform::join(load_detectors, load_embedder);
        let (detectors, embedder) = (detectors?, embedder?);
        Ok(Engine {
            detectors,
            embedder,
            pose: None,
            limits,
            threads: default_threads(),
        })
    }

    /// Sets how many threads embed the crops of one photo (1 = the calling thread only).
    pub fn with_threads(mut self, threads: usize) -> Self {
        self.threads = threads.max(1);
        self
    }

    /// The embedding contract of this engine's vectors.
    pub fn embedder_contract(&self) -> &ModelContract {
        self.embedder.contract()
    }

    /// The detectors, then the pose model when there is one.
    pub fn detector_infos(&self) -> Vec<DetectorInfo> {
        self.detectors
            .iter()
            .map(|d| d.manifest())
            .chain(self.pose.as_ref().map(|p| p.manifest()))
            .map(|m| DetectorInfo {
                id: m.id.clone(),
                version: m.version.clone(),
            })
            .collect()
    }

    /// Decodes photo bytes under this engine's limits.
    pub fn decode(&self, bytes: &[u8]) -> Result<Photo> {
        photo::decode(bytes, &self.limits)
    }

    /// Decodes, detects and (optionally) embeds every shoppable object in a photo.
    pub fn analyze(&self, bytes: &[u8], options: &AnalyzeOptions) -> Result<Analysis> {
        let start = Instant::now();
        let photo = self.decode(bytes)?;
        let decode_ms = ms(start);
        let mut analysis = self.analyze_photo(&photo, options)?;
        analysis.timings.decode_ms = decode_ms;
        analysis.timings.total_ms = ms(start);
        Ok(analysis)
    }

    /// [`Engine::analyze`] on an already-decoded photo.
    pub fn analyze_photo(&self, photo: &Photo, options: &AnalyzeOptions) -> Result<Analysis> {
        let start = Instant::now();
        if let Some(s) = options.min_score
            && !(0.0..1.0).contains(&s)
        {
            return Err(Error::model_invalid(
                "options",
                format!("min_score {s} must be within [0, 1)"),
            ));
        }
        let mut found: Vec<Detection> = Vec::new();
        for detector in &self.detectors {
            let min_score = options
                .min_score
                .unwrap_or_else(|| detector.default_min_score());
            found.extend(detector.detect(&photo.image, min_score, options.max_items)?);
        }
        // Merge detectors: the same object found by two models is kept once.
        let found = if self.detectors.len() > 1 {
            nms::nms(found, 0.6, options.max_items)
        } else {
            found
        };
        let detect_ms = ms(start);

        let pose_start = Instant::now();
        let found: Vec<(Detection, Option<u32>)> = match &self.pose {
            Some(pose) => look::find(pose, &photo.image, found)?
                .into_iter()
                .map(|i| (i.detection, i.person_id))
                .collect(),
            None => found.into_iter().map(|d| (d, None)).collect(),
        };
        let pose_ms = if self.pose.is_some() {
            ms(pose_start)
        } else {
            0.0
        };

        let embed_start = Instant::now();
        let mut embeddings = if options.embed {
            let boxes: Vec<Rect> = found.iter().map(|(d, _)| d.rect).collect();
            self.embedder
                .embed_boxes(&photo.image, &boxes, self.threads)?
                .into_iter()
                .map(|e| Some(e.vector))
                .collect()
        } else {
            vec![None; found.len()]
        };
        let embed_ms = if options.embed { ms(embed_start) } else { 0.0 };

        let (sx, sy) = photo.to_original_scale();
        let items = found
            .into_iter()
            .zip(embeddings.drain(..))
            .enumerate()
            .map(|(i, ((d, person_id), embedding))| Item {
                id: i as u32,
                label: d.label,
                category: d.category,
                score: d.score,
                bbox: d.rect.scaled(sx, sy),
                embedding,
                detector: d.model_id,
                person_id,
            })
            .collect();
        Ok(Analysis {
            width: photo.original_width,
            height: photo.original_height,
            items,
            timings: Timings {
                decode_ms: 0.0,
                detect_ms,
                pose_ms,
                embed_ms,
                total_ms: ms(start),
            },
            detectors: self.detector_infos(),
            embedder: self.embedder.contract().clone(),
        })
    }

    /// Embeds boxes given in original-photo pixels with the same context crops as the items of
    /// [`Engine::analyze_photo`] (the tracker embeds each track once, not every detection).
    pub fn embed_boxes_of(&self, photo: &Photo, boxes: &[Rect]) -> Result<Vec<Embedding>> {
        let (sx, sy) = photo.to_original_scale();
        let working: Vec<Rect> = boxes.iter().map(|b| b.scaled(1.0 / sx, 1.0 / sy)).collect();
        self.embedder
            .embed_boxes(&photo.image, &working, self.threads)
    }

    /// The default minimum score of the detector with this model id.
    pub fn default_min_score_of(&self, detector_id: &str) -> Option<f32> {
        self.detectors
            .iter()
            .find(|d| d.manifest().id == detector_id)
            .map(|d| d.default_min_score())
    }

    /// Embeds a region the user drew, given in original-photo pixels (no context is added:
    /// the user chose the frame).
    pub fn embed_region(&self, bytes: &[u8], region: Rect) -> Result<Embedding> {
        let photo = self.decode(bytes)?;
        self.embed_region_of(&photo, region)
    }

    /// [`Engine::embed_region`] on an already-decoded photo.
    pub fn embed_region_of(&self, photo: &Photo, region: Rect) -> Result<Embedding> {
        let (ow, oh) = (photo.original_width as f32, photo.original_height as f32);
        if !region.is_finite() || region.width <= 0.0 || region.height <= 0.0 {
            return Err(Error::InvalidRegion {
                detail: format!("{region:?} has no area"),
            });
        }
        let clamped = region.clamp_to(ow, oh);
        if clamped.width < 1.0 || clamped.height < 1.0 {
            return Err(Error::InvalidRegion {
                detail: format!("{region:?} lies outside the {ow}x{oh} photo"),
            });
        }
        let (sx, sy) = photo.to_original_scale();
        let working = clamped.scaled(1.0 / sx, 1.0 / sy);
        Ok(self
            .embedder
            .embed_rects(&photo.image, &[working], 1)?
            .remove(0))
    }

    /// Embeds the whole photo (catalogue packshots where nothing is detected).
    pub fn embed_image(&self, bytes: &[u8]) -> Result<Embedding> {
        let photo = self.decode(bytes)?;
        let (w, h) = photo.image.dimensions();
        Ok(self
            .embedder
            .embed_rects(&photo.image, &[Rect::new(0.0, 0.0, w as f32, h as f32)], 1)?
            .remove(0))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn assert_send_sync<T: Send + Sync>() {}

    #[test]
    fn engine_is_send_and_sync() {
        assert_send_sync::<Engine>();
    }
}
