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
    /// Finds people's keypoints (see [`crate::pose`]).
    Pose,
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
    /// Pose models only: how to read the keypoints.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub pose: Option<PoseSpec>,
    /// Detectors: class labels, index = model class index. Pose models: keypoint names, in
    /// the model's order (must be the 17 COCO keypoints, which the garment rules rely on).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub labels: Vec<String>,
    /// Detectors only: model label -> shopping category. Labels absent here are not shoppable
    /// (cats, cars...) and are dropped.
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub categories: BTreeMap<String, String>,
    /// Detectors (and pose models, per person): default minimum score for this model.
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

/// How a pose model's output is read.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case", deny_unknown_fields)]
pub enum PoseSpec {
    /// MoveNet MultiPose: one output [1, max_people, 56] = per person 17 x (y, x, score),
    /// then (ymin, xmin, ymax, xmax, score), all coordinates normalised to the model input.
    MovenetMultipose {
        output: String,
        max_people: usize,
        /// Pad the photo to the input's aspect ratio (true) instead of stretching it.
        letterbox: bool,
        /// Keypoints scoring less are treated as not visible.
        min_keypoint_score: f32,
    },
}

/// The COCO keypoint order every pose model must follow.
pub const COCO_KEYPOINTS: [&str; 17] = [
    "nose",
    "left_eye",
    "right_eye",
    "left_ear",
    "right_ear",
    "left_shoulder",
    "right_shoulder",
    "left_elbow",
    "right_elbow",
    "left_wrist",
    "right_wrist",
    "left_hip",
    "right_hip",
    "left_knee",
    "right_knee",
    "left_ankle",
    "right_ankle",
];

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
    /// The outputs the engine keeps when it plans this model, in the order its decoder (or the
    /// embedder) reads them; the rest of the graph is pruned.
    pub fn outputs(&self) -> Vec<String> {
        match (&self.decoder, &self.embedding, &self.pose) {
            (
                Some(DecoderSpec::Ssd {
                    boxes_output,
                    scores_output,
                    ..
                }),
                _,
                _,
            ) => {
                vec![boxes_output.clone(), scores_output.clone()]
            }
            (Some(DecoderSpec::Gfl { outputs, .. }), _, _) => {
                outputs.iter().flatten().cloned().collect()
            }
            (None, Some(embedding), _) => vec![embedding.output.clone()],
            (None, None, Some(PoseSpec::MovenetMultipose { output, .. })) => vec![output.clone()],
            (None, None, None) => Vec::new(),
        }
    }

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
        // A JSON number past f32's range parses as infinity and serialises back as `null`.
        if !i.mean.iter().all(|m| m.is_finite()) {
            return bad("input mean must be finite");
        }
        match self.kind {
            ModelKind::Detector => {
                match &self.decoder {
                    None => return bad("a detector needs a decoder"),
                    Some(decoder) => self.validate_decoder(decoder)?,
                }
                if self.labels.is_empty() {
                    return bad("a detector needs labels");
                }
                if let Some(unknown) = self.categories.keys().find(|l| !self.labels.contains(l)) {
                    return bad(&format!("category mapping names unknown label {unknown:?}"));
                }
                if let Some(s) = self.default_min_score
                    && !(0.0..1.0).contains(&s)
                {
                    return bad("default_min_score must be within [0, 1)");
                }
            }
            ModelKind::Pose => {
                let Some(PoseSpec::MovenetMultipose {
                    max_people,
                    min_keypoint_score,
                    ..
                }) = &self.pose
                else {
                    return bad("a pose model needs a `pose` section");
                };
                if !(1..=64).contains(max_people) {
                    return bad("max_people must be within 1..=64");
                }
                if !(0.0..1.0).contains(min_keypoint_score) {
                    return bad("min_keypoint_score must be within [0, 1)");
                }
                if self.labels != COCO_KEYPOINTS {
                    return bad("a pose model's labels must be the 17 COCO keypoints, in order");
                }
                if let Some(s) = self.default_min_score
                    && !(0.0..1.0).contains(&s)
                {
                    return bad("default_min_score must be within [0, 1)");
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

/// Most anchors an SSD manifest may ask for (the shipped detector has 1917): anchors are
/// generated before the model's outputs can be checked against them.
pub const MAX_SSD_ANCHORS: usize = 1 << 20;

impl ModelManifest {
    /// Checks what the detector heads compute from the decoder section before any ONNX output
    /// is looked at: SSD anchors are generated from it and GFL grids divided by its strides.
    fn validate_decoder(&self, decoder: &DecoderSpec) -> Result<()> {
        let bad = |d: &str| Err(Error::model_invalid(&self.id, d));
        let nms_iou = match decoder {
            DecoderSpec::Ssd {
                anchors,
                box_scales,
                nms_iou,
                ..
            } => {
                if anchors.strides.is_empty() || anchors.strides.contains(&0) {
                    return bad("SSD anchor strides must be non-empty and non-zero");
                }
                if box_scales.iter().any(|s| *s == 0.0 || !s.is_finite()) {
                    return bad("SSD box_scales must be finite and non-zero");
                }
                let scales = [anchors.min_scale, anchors.max_scale];
                if !scales
                    .iter()
                    .chain(&anchors.aspect_ratios)
                    .all(|v| v.is_finite() && *v > 0.0)
                {
                    return bad("SSD anchor scales and aspect ratios must be finite and positive");
                }
                let n = ssd_anchor_count(anchors, self.input.width, self.input.height);
                if n != anchors.count || n > MAX_SSD_ANCHORS {
                    return bad(&format!(
                        "the anchor generator gives {n} anchors (at most {MAX_SSD_ANCHORS}), \
                         the manifest says {}",
                        anchors.count
                    ));
                }
                *nms_iou
            }
            DecoderSpec::Gfl {
                outputs,
                strides,
                nms_iou,
                ..
            } => {
                if outputs.len() != strides.len() || strides.is_empty() || strides.contains(&0) {
                    return bad("GFL needs one (scores, boxes) output pair per non-zero stride");
                }
                *nms_iou
            }
        };
        if !(0.0..=1.0).contains(&nms_iou) {
            return bad("nms_iou must be within [0, 1]");
        }
        Ok(())
    }
}

/// How many anchors [`crate::detect::ssd::generate_anchors`] makes for `spec`, counted without
/// generating them (saturating: a huge count is refused, not overflowed). Strides are non-zero.
fn ssd_anchor_count(spec: &SsdAnchorSpec, input_w: u32, input_h: u32) -> usize {
    spec.strides
        .iter()
        .enumerate()
        .fold(0usize, |total, (layer, &stride)| {
            let boxes = if layer == 0 && spec.reduce_boxes_in_lowest_layer {
                3
            } else {
                spec.aspect_ratios.len().saturating_add(1)
            };
            let cells = input_w.div_ceil(stride) as usize * input_h.div_ceil(stride) as usize;
            total.saturating_add(cells.saturating_mul(boxes))
        })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn shipped(name: &str) -> serde_json::Value {
        let path = format!("{}/../models/{name}.json", env!("CARGO_MANIFEST_DIR"));
        serde_json::from_slice(&std::fs::read(path).unwrap()).unwrap()
    }

    fn parse(v: &serde_json::Value) -> Result<ModelManifest> {
        ModelManifest::from_json(&serde_json::to_vec(v).unwrap())
    }

    #[test]
    fn shipped_manifests_pass() {
        for name in [
            "ssd_mbv2_oidv4",
            "nanodet",
            "efficientnet_lite0_feat",
            "movenet_multipose",
        ] {
            parse(&shipped(name)).unwrap();
        }
    }

    /// Found while writing the `manifest` fuzz target (which generates the anchors of every
    /// manifest that validates): an SSD stride of 0 divided by zero in the anchor generator,
    /// and a huge anchor count aborted on allocation, both before the count was checked.
    #[test]
    fn ssd_anchor_specs_that_would_panic_or_exhaust_memory_are_refused() {
        let mut zero_stride = shipped("ssd_mbv2_oidv4");
        zero_stride["decoder"]["anchors"]["strides"][2] = 0.into();
        let e = parse(&zero_stride).unwrap_err().to_string();
        assert!(e.contains("non-zero"), "{e}");

        let mut huge = shipped("ssd_mbv2_oidv4");
        huge["decoder"]["anchors"]["count"] = u64::MAX.into();
        let e = parse(&huge).unwrap_err().to_string();
        assert!(e.contains("anchor generator gives 1917"), "{e}");

        let mut dense = shipped("ssd_mbv2_oidv4");
        dense["input"]["width"] = 4096.into();
        dense["input"]["height"] = 4096.into();
        dense["decoder"]["anchors"]["strides"] = serde_json::json!([1, 1, 1]);
        dense["decoder"]["anchors"]["count"] = (4096 * 4096 * 3 + 2 * 4096 * 4096 * 6).into();
        let e = parse(&dense).unwrap_err().to_string();
        assert!(e.contains("at most"), "{e}");

        let mut bad_iou = shipped("nanodet");
        bad_iou["decoder"]["nms_iou"] = 1.5.into();
        assert!(parse(&bad_iou).is_err());
        let mut zero_gfl = shipped("nanodet");
        zero_gfl["decoder"]["strides"][0] = 0.into();
        assert!(parse(&zero_gfl).is_err());
        let mut min_score = shipped("ssd_mbv2_oidv4");
        min_score["default_min_score"] = 1.0.into();
        assert!(parse(&min_score).is_err());
    }

    /// Found by the `manifest` fuzz target in CI: a number past f32's range (1e39) parsed as
    /// infinity, passed validation, serialised as `null` and then failed to re-parse.
    #[test]
    fn floats_past_f32_range_are_refused() {
        let huge: serde_json::Value = serde_json::from_str("1e39").unwrap();
        for pointer in [
            "/input/mean/0",
            "/decoder/anchors/min_scale",
            "/decoder/anchors/max_scale",
            "/decoder/anchors/aspect_ratios/1",
        ] {
            let mut m = shipped("ssd_mbv2_oidv4");
            *m.pointer_mut(pointer).unwrap() = huge.clone();
            let e = parse(&m).expect_err(pointer).to_string();
            assert!(e.contains("finite"), "{pointer}: {e}");
        }
    }

    #[test]
    fn pose_manifests_need_a_pose_section_and_the_coco_keypoints() {
        let mut no_section = shipped("movenet_multipose");
        no_section.as_object_mut().unwrap().remove("pose");
        assert!(parse(&no_section).is_err());
        let mut swapped = shipped("movenet_multipose");
        swapped["labels"][1] = "right_eye".into();
        let e = parse(&swapped).unwrap_err().to_string();
        assert!(e.contains("COCO"), "{e}");
        let mut people = shipped("movenet_multipose");
        people["pose"]["max_people"] = 0.into();
        assert!(parse(&people).is_err());
        let mut kp = shipped("movenet_multipose");
        kp["pose"]["min_keypoint_score"] = 1.5.into();
        assert!(parse(&kp).is_err());
    }

    #[test]
    fn the_anchor_count_matches_the_generator() {
        let m = parse(&shipped("ssd_mbv2_oidv4")).unwrap();
        let Some(DecoderSpec::Ssd { anchors, .. }) = &m.decoder else {
            panic!("an SSD manifest")
        };
        let generated = crate::detect::ssd::generate_anchors(anchors, 300, 300);
        assert_eq!(ssd_anchor_count(anchors, 300, 300), generated.len());
    }
}
