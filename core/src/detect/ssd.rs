//! SSD decoding (TF Object Detection API models such as SSD-MobileNetV2): anchor generation
//! and box-code decoding. Scores are sigmoid logits with class 0 as background.

use image::RgbImage;

use super::{Candidate, Detection, Detector, Head, wrong_decoder};
use crate::error::{Error, Result};
use crate::geometry::Rect;
use crate::manifest::{DecoderSpec, ModelManifest, SsdAnchorSpec};

/// An SSD detector: box codes against generated anchors, sigmoid class logits.
pub struct SsdDetector {
    head: Head,
    anchors: Vec<Anchor>,
    box_scales: [f32; 4],
}

impl SsdDetector {
    /// Loads a detector whose manifest has an `ssd` decoder; checks the anchor count and the
    /// output shapes against the manifest.
    pub fn load(manifest: ModelManifest, onnx: &[u8]) -> Result<Self> {
        let Some(DecoderSpec::Ssd {
            anchors,
            box_scales,
            nms_iou,
            ..
        }) = manifest.decoder.clone()
        else {
            return Err(wrong_decoder(&manifest, "ssd"));
        };
        let outputs = manifest.outputs(); // [boxes_output, scores_output]
        let names: Vec<&str> = outputs.iter().map(String::as_str).collect();
        let head = Head::load(manifest.clone(), onnx, &names, nms_iou)?;
        let generated = generate_anchors(&anchors, head.input().width, head.input().height);
        let n = generated.len();
        if n != anchors.count {
            return Err(Error::model_invalid(
                head.id(),
                format!(
                    "anchor generator gives {n}, manifest says {}",
                    anchors.count
                ),
            ));
        }
        head.expect_shape(0, &[1, n, 4])?;
        head.expect_shape(1, &[1, n, head.num_classes()])?;
        Ok(SsdDetector {
            head,
            anchors: generated,
            box_scales,
        })
    }
}

impl Detector for SsdDetector {
    fn manifest(&self) -> &ModelManifest {
        &self.head.manifest
    }

    fn detect(&self, image: &RgbImage, min_score: f32, max_items: usize) -> Result<Vec<Detection>> {
        self.head.detect(image, max_items, |outputs, img_w, img_h| {
            let (codes, logits) = (outputs[0], outputs[1]);
            let classes = self.head.num_classes();
            // sigmoid(x) >= t  <=>  x >= logit(t): compare logits, no exp per score.
            let min_logit = (min_score / (1.0 - min_score)).ln();
            let mut candidates = Vec::new();
            for (a, anchor) in self.anchors.iter().enumerate() {
                let row = &logits[a * classes..(a + 1) * classes];
                for (class, &logit) in row.iter().enumerate() {
                    if logit < min_logit || !self.head.is_shoppable(class) {
                        continue;
                    }
                    let code = &codes[a * 4..a * 4 + 4];
                    candidates.push(Candidate {
                        rect: decode_box(code, anchor, &self.box_scales, img_w, img_h),
                        class,
                        score: 1.0 / (1.0 + (-logit).exp()),
                    });
                }
            }
            candidates
        })
    }
}

/// One anchor in normalised [0, 1] image coordinates.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Anchor {
    pub cx: f32,
    pub cy: f32,
    pub w: f32,
    pub h: f32,
}

/// Generates anchors as TF's `multiple_grid_anchor_generator` does: per layer, a grid of
/// ceil(input / stride) cells; per cell, one box per aspect ratio at the layer's scale plus one
/// of ratio 1 at the scale interpolated with the next layer. With
/// `reduce_boxes_in_lowest_layer`, the first layer has only (0.1, 1), (s0, 2), (s0, 0.5).
/// Order: layer, row, column, box — the order of the model's outputs.
pub fn generate_anchors(spec: &SsdAnchorSpec, input_w: u32, input_h: u32) -> Vec<Anchor> {
    let layers = spec.strides.len();
    let scale = |i: usize| -> f32 {
        if i >= layers {
            1.0
        } else if layers == 1 {
            spec.min_scale
        } else {
            spec.min_scale + (spec.max_scale - spec.min_scale) * i as f32 / (layers - 1) as f32
        }
    };
    let mut anchors = Vec::with_capacity(spec.count);
    for (layer, &stride) in spec.strides.iter().enumerate() {
        let s = scale(layer);
        let boxes: Vec<(f32, f32)> = if layer == 0 && spec.reduce_boxes_in_lowest_layer {
            vec![(0.1, 1.0), (s, 2.0), (s, 0.5)]
        } else {
            let mut b: Vec<(f32, f32)> = spec.aspect_ratios.iter().map(|&r| (s, r)).collect();
            b.push(((s * scale(layer + 1)).sqrt(), 1.0));
            b
        };
        let fm_h = input_h.div_ceil(stride);
        let fm_w = input_w.div_ceil(stride);
        for row in 0..fm_h {
            for col in 0..fm_w {
                let cy = (row as f32 + 0.5) / fm_h as f32;
                let cx = (col as f32 + 0.5) / fm_w as f32;
                for &(scale, ratio) in &boxes {
                    let r = ratio.sqrt();
                    anchors.push(Anchor {
                        cx,
                        cy,
                        w: scale * r,
                        h: scale / r,
                    });
                }
            }
        }
    }
    anchors
}

/// Decodes one box code (ty, tx, th, tw) against its anchor into a rectangle in a
/// `width` x `height` image.
pub fn decode_box(
    code: &[f32],
    anchor: &Anchor,
    scales: &[f32; 4],
    width: f32,
    height: f32,
) -> Rect {
    let cy = code[0] / scales[0] * anchor.h + anchor.cy;
    let cx = code[1] / scales[1] * anchor.w + anchor.cx;
    // Clamp the exponent: garbage codes must not produce inf boxes.
    let h = (code[2] / scales[2]).min(10.0).exp() * anchor.h;
    let w = (code[3] / scales[3]).min(10.0).exp() * anchor.w;
    Rect::new(
        (cx - w / 2.0) * width,
        (cy - h / 2.0) * height,
        w * width,
        h * height,
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    fn spec() -> SsdAnchorSpec {
        SsdAnchorSpec {
            strides: vec![16, 32, 64, 128, 256, 512],
            min_scale: 0.2,
            max_scale: 0.95,
            aspect_ratios: vec![1.0, 2.0, 0.5, 3.0, 1.0 / 3.0],
            reduce_boxes_in_lowest_layer: true,
            count: 1917,
        }
    }

    #[test]
    fn mobilenet_ssd_has_1917_anchors_in_model_order() {
        let a = generate_anchors(&spec(), 300, 300);
        assert_eq!(a.len(), 1917);
        // First cell of the 19x19 layer: centre (0.5/19, 0.5/19), first box 0.1 x 0.1.
        assert!((a[0].cx - 0.5 / 19.0).abs() < 1e-6 && (a[0].w - 0.1).abs() < 1e-6);
        // The last anchor is the 1x1 layer's interpolated box: sqrt(0.95 * 1.0), centred.
        let last = a[1916];
        assert_eq!((last.cx, last.cy), (0.5, 0.5));
        assert!((last.w - 0.95f32.sqrt()).abs() < 1e-6);
    }

    #[test]
    fn zero_code_decodes_to_the_anchor_itself() {
        let anchor = Anchor {
            cx: 0.5,
            cy: 0.25,
            w: 0.2,
            h: 0.1,
        };
        let r = decode_box(&[0.0; 4], &anchor, &[10.0, 10.0, 5.0, 5.0], 100.0, 200.0);
        assert!((r.x - 40.0).abs() < 1e-4 && (r.y - 40.0).abs() < 1e-4);
        assert!((r.width - 20.0).abs() < 1e-4 && (r.height - 20.0).abs() < 1e-4);
    }
}
