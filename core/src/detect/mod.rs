//! Object detectors driven by their manifests: pre-processing, inference, decoding, NMS and the
//! mapping from model labels to shopping categories.
//!
//! One [`Detector`] implementation per decoder family, each in its own file: SSD ([`ssd`]) and
//! GFL/NanoDet ([`gfl`]). What they share (resize + inference, label -> category, clamping, NMS)
//! is [`Head`]; [`load`] is the one place that maps a manifest's decoder kind to its
//! implementation. A new family (e.g. pose) is one file with a `load` and a
//! [`Detector::detect`] built on [`Head::detect`], plus one arm in [`load`].

pub mod gfl;
pub mod nms;
pub mod ssd;

use image::RgbImage;

use crate::error::{Error, Result};
use crate::geometry::Rect;
use crate::manifest::{DecoderSpec, InputSpec, ModelKind, ModelManifest};
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

/// A decoded box before NMS, in working-image pixels (clamped to the image by [`Head::detect`]).
pub(crate) struct Candidate {
    pub rect: Rect,
    pub class: usize,
    pub score: f32,
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

/// A loaded detector. Immutable after loading; safe to share between threads.
pub trait Detector: Send + Sync {
    fn manifest(&self) -> &ModelManifest;

    /// Minimum score used when the caller gives none.
    fn default_min_score(&self) -> f32 {
        self.manifest().default_min_score.unwrap_or(0.3)
    }

    /// Detects shoppable objects in `image`; boxes in `image` pixels, best first, after NMS.
    fn detect(&self, image: &RgbImage, min_score: f32, max_items: usize) -> Result<Vec<Detection>>;
}

/// Loads a detector with the implementation its manifest's decoder names.
pub fn load(manifest: ModelManifest, onnx: &[u8]) -> Result<Box<dyn Detector>> {
    if manifest.kind != ModelKind::Detector {
        return Err(Error::model_invalid(
            &manifest.id,
            "manifest kind is not `detector`",
        ));
    }
    match manifest.decoder {
        Some(DecoderSpec::Ssd { .. }) => Ok(Box::new(ssd::SsdDetector::load(manifest, onnx)?)),
        Some(DecoderSpec::Gfl { .. }) => Ok(Box::new(gfl::GflDetector::load(manifest, onnx)?)),
        // Manifest validation already refuses a detector without a decoder.
        None => Err(Error::model_invalid(
            &manifest.id,
            "detector without a decoder",
        )),
    }
}

/// What every detector has: its manifest, its inference plan, the shopping category of each
/// class and its NMS threshold; runs the shared steps around a family's decoding.
pub(crate) struct Head {
    pub manifest: ModelManifest,
    plan: Plan,
    /// Shopping category per class index (`None`: not shoppable, dropped).
    class_categories: Vec<Option<String>>,
    nms_iou: f32,
}

impl Head {
    /// Plans `onnx` keeping the given outputs (in the order decoding reads them).
    pub fn load(
        manifest: ModelManifest,
        onnx: &[u8],
        outputs: &[&str],
        nms_iou: f32,
    ) -> Result<Self> {
        let class_categories = manifest
            .labels
            .iter()
            .map(|l| manifest.categories.get(l).cloned())
            .collect();
        let plan = load_plan(&manifest, onnx, outputs, 1)?;
        Ok(Head {
            manifest,
            plan,
            class_categories,
            nms_iou,
        })
    }

    pub fn id(&self) -> &str {
        &self.manifest.id
    }

    pub fn input(&self) -> &InputSpec {
        &self.manifest.input
    }

    pub fn num_classes(&self) -> usize {
        self.class_categories.len()
    }

    /// Whether `class` maps to a shopping category (others are never reported).
    pub fn is_shoppable(&self, class: usize) -> bool {
        self.class_categories[class].is_some()
    }

    /// Checks the concrete shape of planned output `i`.
    pub fn expect_shape(&self, i: usize, want: &[usize]) -> Result<()> {
        let got = &self.plan.output_shapes[i];
        if got != want {
            return Err(Error::model_invalid(
                self.id(),
                format!("output shape {got:?}, manifest implies {want:?}"),
            ));
        }
        Ok(())
    }

    /// Resizes `image` to the model input, runs the model, hands its outputs (flat, in planned
    /// order) and the image size to `decode`, then clamps, filters and suppresses the
    /// candidates it returns. Boxes in `image` pixels, best first.
    pub fn detect(
        &self,
        image: &RgbImage,
        max_items: usize,
        decode: impl FnOnce(&[&[f32]], f32, f32) -> Vec<Candidate>,
    ) -> Result<Vec<Detection>> {
        let spec = &self.manifest.input;
        let resized = resize_rgb(image, spec.width, spec.height);
        let mut input = input_tensor(spec, 1);
        fill_input(&mut input, 0, &resized, spec);
        let id = &self.manifest.id;
        let outputs = self.plan.run(id, input)?;
        let outputs = (0..self.plan.output_shapes.len())
            .map(|i| output_slice(&outputs, i, id))
            .collect::<Result<Vec<_>>>()?;
        let (img_w, img_h) = (image.width() as f32, image.height() as f32);
        // NMS on plain (box, class, score) candidates; only the kept few get owned strings.
        let candidates = decode(&outputs, img_w, img_h)
            .into_iter()
            .map(|c| Candidate {
                rect: c.rect.clamp_to(img_w, img_h),
                ..c
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

/// The error of a family's `load` handed a manifest of another family.
fn wrong_decoder(manifest: &ModelManifest, family: &str) -> Error {
    Error::model_invalid(&manifest.id, format!("decoder is not `{family}`"))
}
