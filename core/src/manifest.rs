//! Model manifests: the JSON file shipped beside each ONNX model that tells the engine how to
//! feed it and how to read its outputs. The engine is driven by these, so another SSD/GFL
//! detector or another embedder can be dropped in without code changes.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

use crate::error::{Error, Result};

/// What a model does.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ModelKind {
    Detector,
    Embedder,
}

/// One model's manifest (`models/<name>.json`).
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ModelManifest {
    /// Stable identifier, e.g. `efficientnet-lite0-imagenet`. Part of the embedding contract.
    pub id: String,
    /// Bumped whenever the weights or pre-processing change (vectors become incomparable).
    pub version: String,
    pub kind: ModelKind,
    /// ONNX file name, relative to the manifest.
    pub file: String,
    /// sha256 of the ONNX file; checked on load when present.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub sha256: Option<String>,
    pub input: InputSpec,
    /// Detectors only: how to turn raw outputs into boxes.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub decoder: Option<DecoderSpec>,
    /// Detectors only: class labels, index = model class index.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub labels: Vec<String>,
    /// Detectors only: model label -> shopping category. Labels absent here are not shoppable
    /// (cats, cars...) and are dropped.
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub categories: BTreeMap<String, String>,
    /// Detectors only: default minimum score for this model.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub default_min_score: Option<f32>,
    /// Embedders only.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub embedding: Option<EmbeddingSpec>,
    /// Free-form provenance (source package, licence); not used by the engine.
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub provenance: BTreeMap<String, String>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Layout {
    Nchw,
    Nhwc,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum ChannelOrder {
    Rgb,
    Bgr,
}

/// The model's single image input. Pixel values v in 0..=255 are fed as (v - mean) / std.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct InputSpec {
    pub name: String,
    pub width: u32,
    pub height: u32,
    pub layout: Layout,
    pub channel_order: ChannelOrder,
    pub mean: [f32; 3],
    pub std: [f32; 3],
}

/// How a detector's outputs are decoded.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case", deny_unknown_fields)]
pub enum DecoderSpec {
    /// TF Object Detection API SSD: box codes (ty, tx, th, tw) against generated anchors,
    /// sigmoid class scores, class 0 = background.
    Ssd {
        boxes_output: String,
        scores_output: String,
        anchors: SsdAnchorSpec,
        /// Divisors of (ty, tx, th, tw), e.g. [10, 10, 5, 5].
        box_scales: [f32; 4],
        nms_iou: f32,
    },
    /// NanoDet / GFL head: per-stride class scores (already sigmoid) and a distribution over
    /// `reg_max + 1` bins for each box side.
    Gfl {
        /// (scores output, box distribution output) per stride, in `strides` order.
        outputs: Vec<[String; 2]>,
        strides: Vec<u32>,
        reg_max: u32,
        nms_iou: f32,
    },
}

/// SSD anchor generator parameters (as in the TF Object Detection API's
/// `multiple_grid_anchor_generator` with `reduce_boxes_in_lowest_layer`).
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SsdAnchorSpec {
    pub strides: Vec<u32>,
    pub min_scale: f32,
    pub max_scale: f32,
    pub aspect_ratios: Vec<f32>,
    pub reduce_boxes_in_lowest_layer: bool,
    /// Expected anchor count; checked against the generator and the model output.
    pub count: usize,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct EmbeddingSpec {
    pub output: String,
    pub dim: usize,
    /// Side of the square crop around a box, relative to the box's longer side (context).
    pub crop_context: f32,
}

impl ModelManifest {
    /// Parses and checks a manifest.
    pub fn from_json(bytes: &[u8]) -> Result<Self> {
        let m: ModelManifest = serde_json::from_slice(bytes)
            .map_err(|e| Error::model_invalid("manifest", format!("not a valid manifest: {e}")))?;
        m.validate()?;
        Ok(m)
    }

    fn validate(&self) -> Result<()> {
        let bad = |d: &str| Err(Error::model_invalid(&self.id, d));
        if self.id.is_empty() || self.version.is_empty() {
            return bad("id and version must not be empty");
        }
        let i = &self.input;
        if i.width == 0 || i.height == 0 || i.width > 4096 || i.height > 4096 {
            return bad("input size must be within 1..=4096");
        }
        if i.std.iter().any(|s| *s == 0.0 || !s.is_finite()) {
            return bad("input std must be finite and non-zero");
        }
        match self.kind {
            ModelKind::Detector => {
                if self.decoder.is_none() {
                    return bad("a detector needs a decoder");
                }
                if self.labels.is_empty() {
                    return bad("a detector needs labels");
                }
                if let Some(unknown) = self.categories.keys().find(|l| !self.labels.contains(l)) {
                    return bad(&format!("category mapping names unknown label {unknown:?}"));
                }
            }
            ModelKind::Embedder => match &self.embedding {
                None => return bad("an embedder needs an `embedding` section"),
                Some(e) if e.dim == 0 => return bad("embedding dim must be > 0"),
                Some(e) if !(1.0..=4.0).contains(&e.crop_context) => {
                    return bad("crop_context must be within 1..=4");
                }
                _ => {}
            },
        }
        Ok(())
    }
}
