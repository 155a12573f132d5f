//! GFL head decoding (NanoDet): for each stride, a grid of points; each point has class scores
//! (sigmoid already applied in the graph) and, per box side (left, top, right, bottom), a
//! distribution over `reg_max + 1` distance bins whose expectation times the stride is the
//! distance from the point to that side.

use image::RgbImage;

use super::{Candidate, Detection, Detector, Head, wrong_decoder};
use crate::error::{Error, Result};
use crate::geometry::Rect;
use crate::manifest::{DecoderSpec, ModelManifest};

/// A GFL (NanoDet) detector: per-stride score grids and box-side distributions.
pub struct GflDetector {
    head: Head,
    strides: Vec<u32>,
    bins: usize,
}

impl GflDetector {
    /// Loads a detector whose manifest has a `gfl` decoder; checks the output shapes of every
    /// stride against the manifest.
    pub fn load(manifest: ModelManifest, onnx: &[u8]) -> Result<Self> {
        let Some(DecoderSpec::Gfl {
            outputs,
            strides,
            reg_max,
            nms_iou,
        }) = manifest.decoder.clone()
        else {
            return Err(wrong_decoder(&manifest, "gfl"));
        };
        if outputs.len() != strides.len() || strides.is_empty() || strides.contains(&0) {
            return Err(Error::model_invalid(
                &manifest.id,
                "one (scores, boxes) output pair per non-zero stride",
            ));
        }
        let planned = manifest.outputs(); // (scores, boxes) of each stride, in stride order
        let names: Vec<&str> = planned.iter().map(String::as_str).collect();
        let head = Head::load(manifest.clone(), onnx, &names, nms_iou)?;
        let bins = reg_max as usize + 1;
        let (w, h) = (head.input().width, head.input().height);
        for (i, &stride) in strides.iter().enumerate() {
            let points = (w.div_ceil(stride) * h.div_ceil(stride)) as usize;
            head.expect_shape(2 * i, &[1, points, head.num_classes()])?;
            head.expect_shape(2 * i + 1, &[1, points, 4 * bins])?;
        }
        Ok(GflDetector {
            head,
            strides,
            bins,
        })
    }
}

impl Detector for GflDetector {
    fn manifest(&self) -> &ModelManifest {
        &self.head.manifest
    }

    fn detect(&self, image: &RgbImage, min_score: f32, max_items: usize) -> Result<Vec<Detection>> {
        self.head.detect(image, max_items, |outputs, img_w, img_h| {
            let (input, classes, bins) = (self.head.input(), self.head.num_classes(), self.bins);
            let sx = img_w / input.width as f32;
            let sy = img_h / input.height as f32;
            let mut candidates = Vec::new();
            for (i, &stride) in self.strides.iter().enumerate() {
                let (scores, dists) = (outputs[2 * i], outputs[2 * i + 1]);
                let grid_w = input.width.div_ceil(stride) as usize;
                for (p, row) in scores.chunks_exact(classes).enumerate() {
                    for (class, &score) in row.iter().enumerate() {
                        if score < min_score || !self.head.is_shoppable(class) {
                            continue;
                        }
                        let dist = &dists[p * 4 * bins..(p + 1) * 4 * bins];
                        candidates.push(Candidate {
                            rect: decode_box(dist, p, grid_w, stride as f32, bins).scaled(sx, sy),
                            class,
                            score,
                        });
                    }
                }
            }
            candidates
        })
    }
}

/// Expected distance (in bins) of one side's distribution: softmax, then sum(p_i * i).
pub fn expected_bin(logits: &[f32]) -> f32 {
    let max = logits.iter().copied().fold(f32::NEG_INFINITY, f32::max);
    let mut sum = 0.0;
    let mut weighted = 0.0;
    for (i, &l) in logits.iter().enumerate() {
        let e = (l - max).exp();
        sum += e;
        weighted += e * i as f32;
    }
    if sum > 0.0 && sum.is_finite() {
        weighted / sum
    } else {
        0.0
    }
}

/// Decodes the box of grid point `index` on a `grid_w`-wide grid of the given stride, in
/// input-image pixels. `dist` holds 4 x (reg_max + 1) logits, side-major.
pub fn decode_box(dist: &[f32], index: usize, grid_w: usize, stride: f32, bins: usize) -> Rect {
    let cx = ((index % grid_w) as f32 + 0.5) * stride;
    let cy = ((index / grid_w) as f32 + 0.5) * stride;
    let side = |k: usize| expected_bin(&dist[k * bins..(k + 1) * bins]) * stride;
    Rect::from_corners(cx - side(0), cy - side(1), cx + side(2), cy + side(3))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn expectation_of_a_peaked_distribution_is_its_peak() {
        let mut l = vec![-50.0; 11];
        l[3] = 50.0;
        assert!((expected_bin(&l) - 3.0).abs() < 1e-4);
        assert!((expected_bin(&[0.0; 11]) - 5.0).abs() < 1e-4);
    }
}
