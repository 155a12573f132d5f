//! People's keypoints, and the shoppable regions derived from them ("every piece of the look").
//!
//! * this file: the pose model (MoveNet MultiPose, driven by its manifest's `pose` section):
//!   pre-processing (letterbox or stretch), inference and decoding into [`Pose`]s;
//! * [`garments`]: from one pose, the regions of its top, bottoms, shoes, headwear and eyewear
//!   (pure geometry, unit-tested on synthetic keypoints);
//! * [`look`]: a photo's people put together: poses matched to the detectors' Person boxes,
//!   footwear merged with the detectors' Footwear boxes, one `person_id` per person.

pub mod garments;
pub mod look;

use image::RgbImage;
use serde::{Deserialize, Serialize};

use crate::error::{Error, Result};
use crate::geometry::Rect;
use crate::manifest::{ModelKind, ModelManifest, PoseSpec};
use crate::model::{Plan, load_plan, output_slice};
use crate::preprocess::{fill_input, input_tensor, resize_region};

/// Number of keypoints (COCO order, see [`crate::manifest::COCO_KEYPOINTS`]).
pub const KEYPOINTS: usize = 17;
/// Values per person in a MoveNet MultiPose output: 17 x (y, x, score) + box (4) + score.
const MOVENET_STRIDE: usize = KEYPOINTS * 3 + 5;

/// One keypoint in image pixels, with the model's confidence that it is visible there.
#[derive(Debug, Clone, Copy, PartialEq, Default, Serialize, Deserialize)]
pub struct Keypoint {
    pub x: f32,
    pub y: f32,
    pub score: f32,
}

/// One person's pose: box, score and the 17 COCO keypoints, in image pixels.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Pose {
    pub bbox: Rect,
    pub score: f32,
    pub keypoints: [Keypoint; KEYPOINTS],
}

/// A loaded pose model. Immutable after loading; safe to share between threads.
pub struct PoseModel {
    manifest: ModelManifest,
    plan: Plan,
    max_people: usize,
    letterbox: bool,
    min_keypoint_score: f32,
}

impl PoseModel {
    /// Loads a model whose manifest has kind `pose`; checks its output shape.
    pub fn load(manifest: ModelManifest, onnx: &[u8]) -> Result<Self> {
        if manifest.kind != ModelKind::Pose {
            return Err(Error::model_invalid(
                &manifest.id,
                "manifest kind is not `pose`",
            ));
        }
        let Some(PoseSpec::MovenetMultipose {
            max_people,
            letterbox,
            min_keypoint_score,
            ..
        }) = manifest.pose.clone()
        else {
            return Err(Error::model_invalid(&manifest.id, "no `pose` section"));
        };
        let outputs = manifest.outputs(); // [output]
        let names: Vec<&str> = outputs.iter().map(String::as_str).collect();
        let plan = load_plan(&manifest, onnx, &names, 1)?;
        let want = [1, max_people, MOVENET_STRIDE];
        if plan.output_shapes[0] != want {
            return Err(Error::model_invalid(
                &manifest.id,
                format!(
                    "output shape {:?}, manifest implies {want:?}",
                    plan.output_shapes[0]
                ),
            ));
        }
        Ok(PoseModel {
            manifest,
            plan,
            max_people,
            letterbox,
            min_keypoint_score,
        })
    }

    pub fn manifest(&self) -> &ModelManifest {
        &self.manifest
    }

    /// Minimum person score used when the caller gives none.
    pub fn default_min_score(&self) -> f32 {
        self.manifest.default_min_score.unwrap_or(0.2)
    }

    /// Keypoints scoring less are not visible.
    pub fn min_keypoint_score(&self) -> f32 {
        self.min_keypoint_score
    }

    /// The people in `image` scoring at least `min_score`, best first, in `image` pixels.
    pub fn estimate(&self, image: &RgbImage, min_score: f32) -> Result<Vec<Pose>> {
        let (w, h) = image.dimensions();
        self.estimate_in(image, Rect::new(0.0, 0.0, w as f32, h as f32), min_score)
    }

    /// The people inside `region` of `image` (a person too small in the whole photo for the
    /// model's input, seen again at a larger scale), best first, in `image` pixels.
    pub fn estimate_in(&self, image: &RgbImage, region: Rect, min_score: f32) -> Result<Vec<Pose>> {
        let spec = &self.manifest.input;
        let (iw, ih) = (spec.width, spec.height);
        let (w, h) = image.dimensions();
        let r = region.clamp_to(w as f32, h as f32);
        if !r.is_finite() || r.width < 1.0 || r.height < 1.0 {
            return Ok(Vec::new());
        }
        // Letterbox: scale to fit, pad right/bottom with black. Normalised model coordinates
        // then map back with one scale per axis in both modes.
        let (model_input, sx, sy) = if self.letterbox {
            let s = (iw as f32 / r.width).min(ih as f32 / r.height);
            let nw = ((r.width * s).round() as u32).clamp(1, iw);
            let nh = ((r.height * s).round() as u32).clamp(1, ih);
            let resized = resize_region(image, &r, nw, nh);
            let mut canvas = RgbImage::new(iw, ih);
            image::imageops::replace(&mut canvas, &resized, 0, 0);
            (
                canvas,
                iw as f32 * r.width / nw as f32,
                ih as f32 * r.height / nh as f32,
            )
        } else {
            (resize_region(image, &r, iw, ih), r.width, r.height)
        };
        let mut input = input_tensor(spec, 1);
        fill_input(&mut input, 0, &model_input, spec);
        let id = &self.manifest.id;
        let outputs = self.plan.run(id, input)?;
        let raw = output_slice(&outputs, 0, id)?;
        let mut poses = decode_movenet(raw, self.max_people, min_score, sx, sy);
        for p in &mut poses {
            p.bbox.x += r.x;
            p.bbox.y += r.y;
            for k in &mut p.keypoints {
                k.x += r.x;
                k.y += r.y;
            }
        }
        Ok(poses)
    }
}

/// Decodes a MoveNet MultiPose output (`people` rows of 56 values, coordinates normalised to
/// the model input) into poses scoring at least `min_score`, best first; coordinates are
/// multiplied by (sx, sy). Rows with non-finite values are dropped.
pub fn decode_movenet(raw: &[f32], people: usize, min_score: f32, sx: f32, sy: f32) -> Vec<Pose> {
    let mut poses: Vec<Pose> = raw
        .chunks_exact(MOVENET_STRIDE)
        .take(people)
        .filter(|row| row.iter().all(|v| v.is_finite()) && row[55] >= min_score)
        .map(|row| {
            let keypoints = std::array::from_fn(|k| Keypoint {
                y: row[3 * k] * sy,
                x: row[3 * k + 1] * sx,
                score: row[3 * k + 2],
            });
            let b = &row[KEYPOINTS * 3..];
            Pose {
                bbox: Rect::from_corners(b[1] * sx, b[0] * sy, b[3] * sx, b[2] * sy),
                score: b[4],
                keypoints,
            }
        })
        .collect();
    poses.sort_by(|a, b| b.score.total_cmp(&a.score));
    poses
}

#[cfg(test)]
mod tests;
