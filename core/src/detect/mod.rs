//! Object detectors driven by their manifests: pre-processing, inference, decoding, NMS and the
//! mapping from model labels to shopping categories.

pub mod gfl;
pub mod nms;
pub mod ssd;

use image::RgbImage;

use crate::error::{Error, Result};
use crate::geometry::Rect;
use crate::manifest::{DecoderSpec, ModelKind, ModelManifest};
use crate::model::{Plan, load_plan, output_slice};
use crate::preprocess::{fill_input, input_tensor, resize_rgb};

/// A raw detection in working-image pixels.
#[derive(Debug, Clone)]
pub struct Detection {
    pub rect: Rect,
    pub class: usize,
    pub label: String,
    pub category: String,
    pub score: f32,
    /// Id of the detector model that found it.
    pub model_id: String,
}

impl nms::Scored for Detection {
    fn rect(&self) -> &Rect {
        &self.rect
    }
    fn score(&self) -> f32 {
        self.score
    }
    fn same_group(&self, other: &Self) -> bool {
        // Within one model: per class. Across models: per shopping category, so a chair found
        // by both detectors is reported once.
        if self.model_id == other.model_id {
            self.class == other.class
        } else {
            self.category == other.category
        }
    }
}

/// A decoded box before NMS, in working-image pixels.
struct Candidate {
    rect: Rect,
    class: usize,
    score: f32,
}

impl nms::Scored for Candidate {
    fn rect(&self) -> &Rect {
        &self.rect
    }
    fn score(&self) -> f32 {
        self.score
    }
    fn same_group(&self, other: &Self) -> bool {
        self.class == other.class
    }
}

enum Decoder {
    Ssd {
        anchors: Vec<ssd::Anchor>,
        box_scales: [f32; 4],
    },
    Gfl {
        strides: Vec<u32>,
        bins: usize,
    },
}

/// A loaded detector. Immutable after loading; safe to share between threads.
pub struct Detector {
    manifest: ModelManifest,
    plan: Plan,
    decoder: Decoder,
    /// Shopping category per class index (`None`: not shoppable, dropped).
    class_categories: Vec<Option<String>>,
    nms_iou: f32,
}

impl Detector {
    pub fn load(manifest: ModelManifest, onnx: &[u8]) -> Result<Self> {
        if manifest.kind != ModelKind::Detector {
            return Err(Error::model_invalid(
                &manifest.id,
                "manifest kind is not `detector`",
            ));
        }
        let id = manifest.id.clone();
        let num_classes = manifest.labels.len();
        let class_categories = manifest
            .labels
            .iter()
            .map(|l| manifest.categories.get(l).cloned())
            .collect();
        let spec = manifest
            .decoder
            .clone()
            .expect("validated: detectors have a decoder");
        let (plan, decoder, nms_iou) = match spec {
            DecoderSpec::Ssd {
                boxes_output,
                scores_output,
                anchors,
                box_scales,
                nms_iou,
            } => {
                let plan = load_plan(&manifest, onnx, &[&boxes_output, &scores_output], 1)?;
                let generated =
                    ssd::generate_anchors(&anchors, manifest.input.width, manifest.input.height);
                let n = generated.len();
                if n != anchors.count {
                    return Err(Error::model_invalid(
                        &id,
                        format!(
                            "anchor generator gives {n}, manifest says {}",
                            anchors.count
                        ),
                    ));
                }
                expect_shape(&id, &plan.output_shapes[0], &[1, n, 4])?;
                expect_shape(&id, &plan.output_shapes[1], &[1, n, num_classes])?;
                (
                    plan,
                    Decoder::Ssd {
                        anchors: generated,
                        box_scales,
                    },
                    nms_iou,
                )
            }
            DecoderSpec::Gfl {
                outputs,
                strides,
                reg_max,
                nms_iou,
            } => {
                if outputs.len() != strides.len() || strides.is_empty() || strides.contains(&0) {
                    return Err(Error::model_invalid(
                        &id,
                        "one (scores, boxes) output pair per non-zero stride",
                    ));
                }
                let names: Vec<&str> = outputs
                    .iter()
                    .flat_map(|[s, b]| [s.as_str(), b.as_str()])
                    .collect();
                let plan = load_plan(&manifest, onnx, &names, 1)?;
                let bins = reg_max as usize + 1;
                for (i, &stride) in strides.iter().enumerate() {
                    let points = (manifest.input.width.div_ceil(stride)
                        * manifest.input.height.div_ceil(stride))
                        as usize;
                    expect_shape(&id, &plan.output_shapes[2 * i], &[1, points, num_classes])?;
                    expect_shape(&id, &plan.output_shapes[2 * i + 1], &[1, points, 4 * bins])?;
                }
                (plan, Decoder::Gfl { strides, bins }, nms_iou)
            }
        };
        Ok(Detector {
            manifest,
            plan,
            decoder,
            class_categories,
            nms_iou,
        })
    }

    pub fn manifest(&self) -> &ModelManifest {
        &self.manifest
    }

    /// Minimum score used when the caller gives none.
    pub fn default_min_score(&self) -> f32 {
        self.manifest.default_min_score.unwrap_or(0.3)
    }

    /// Detects shoppable objects in `image`; boxes in `image` pixels, best first, after NMS.
    pub fn detect(
        &self,
        image: &RgbImage,
        min_score: f32,
        max_items: usize,
    ) -> Result<Vec<Detection>> {
        let spec = &self.manifest.input;
        let resized = resize_rgb(image, spec.width, spec.height);
        let mut input = input_tensor(spec, 1);
        fill_input(&mut input, 0, &resized, spec);
        let outputs = self.plan.run(&self.manifest.id, input)?;
        let (img_w, img_h) = (image.width() as f32, image.height() as f32);
        let id = &self.manifest.id;
        let mut candidates = Vec::new();
        match &self.decoder {
            Decoder::Ssd {
                anchors,
                box_scales,
            } => {
                let codes = output_slice(&outputs, 0, id)?;
                let logits = output_slice(&outputs, 1, id)?;
                let classes = self.class_categories.len();
                // sigmoid(x) >= t  <=>  x >= logit(t): compare logits, no exp per score.
                let min_logit = (min_score / (1.0 - min_score)).ln();
                for (a, anchor) in anchors.iter().enumerate() {
                    let row = &logits[a * classes..(a + 1) * classes];
                    for (class, &logit) in row.iter().enumerate() {
                        if logit < min_logit || self.class_categories[class].is_none() {
                            continue;
                        }
                        let rect = ssd::decode_box(
                            &codes[a * 4..a * 4 + 4],
                            anchor,
                            box_scales,
                            img_w,
                            img_h,
                        );
                        let score = 1.0 / (1.0 + (-logit).exp());
                        candidates.push((rect, class, score));
                    }
                }
            }
            Decoder::Gfl { strides, bins } => {
                let classes = self.class_categories.len();
                let sx = img_w / spec.width as f32;
                let sy = img_h / spec.height as f32;
                for (i, &stride) in strides.iter().enumerate() {
                    let scores = output_slice(&outputs, 2 * i, id)?;
                    let dists = output_slice(&outputs, 2 * i + 1, id)?;
                    let grid_w = spec.width.div_ceil(stride) as usize;
                    for (p, row) in scores.chunks_exact(classes).enumerate() {
                        for (class, &score) in row.iter().enumerate() {
                            if score < min_score || self.class_categories[class].is_none() {
                                continue;
                            }
                            let dist = &dists[p * 4 * bins..(p + 1) * 4 * bins];
                            let rect = gfl::decode_box(dist, p, grid_w, stride as f32, *bins)
                                .scaled(sx, sy);
                            candidates.push((rect, class, score));
                        }
                    }
                }
            }
        }
        // NMS on plain (box, class, score) candidates; only the kept few get owned strings.
        let candidates = candidates
            .into_iter()
            .map(|(rect, class, score)| Candidate {
                rect: rect.clamp_to(img_w, img_h),
                class,
                score,
            })
            .filter(|c| {
                c.rect.is_finite()
                    && c.rect.width >= 1.0
                    && c.rect.height >= 1.0
                    && c.score.is_finite()
            })
            .collect();
        Ok(nms::nms(candidates, self.nms_iou, max_items)
            .into_iter()
            .map(|c| Detection {
                rect: c.rect,
                class: c.class,
                label: self.manifest.labels[c.class].clone(),
                category: self.class_categories[c.class].clone().unwrap_or_default(),
                score: c.score,
                model_id: id.clone(),
            })
            .collect())
    }
}

fn expect_shape(model: &str, got: &[usize], want: &[usize]) -> Result<()> {
    if got != want {
        return Err(Error::model_invalid(
            model,
            format!("output shape {got:?}, manifest implies {want:?}"),
        ));
    }
    Ok(())
}
