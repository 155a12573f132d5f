//! The embedder: square context crops, resized to the model input, run as a batch, pooled
//! features L2-normalised so that a dot product is the cosine similarity.

use image::RgbImage;
use serde::{Deserialize, Serialize};

use crate::error::{Error, Result};
use crate::geometry::Rect;
use crate::manifest::{ModelKind, ModelManifest};
use crate::model::{Plan, load_plan, output_slice};
use crate::platform;
use crate::preprocess::{fill_input, input_tensor, resize_region};

/// Which model produced a vector. Vectors are only comparable under the same contract; the
/// catalogue refuses queries whose contract differs from its own.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct ModelContract {
    pub id: String,
    pub version: String,
    pub dim: usize,
}

impl std::fmt::Display for ModelContract {
    /// `id@version`, the form used on the wire.
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}@{}", self.id, self.version)
    }
}

/// An L2-normalised embedding with the contract of the model that made it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Embedding {
    pub vector: Vec<f32>,
    pub model: ModelContract,
}

impl Embedding {
    /// Cosine similarity (both vectors are unit length).
    pub fn cosine(&self, other: &Embedding) -> f32 {
        dot(&self.vector, &other.vector)
    }

    /// The JSON shape of `shoplook embed --json`: `{"model": {...}, "embedding": [...]}`.
    pub fn to_json(&self) -> serde_json::Value {
        serde_json::json!({"model": self.model, "embedding": self.vector})
    }
}

pub fn dot(a: &[f32], b: &[f32]) -> f32 {
    a.iter().zip(b).map(|(x, y)| x * y).sum()
}

/// A loaded embedder. Immutable after loading; safe to share between threads.
pub struct Embedder {
    manifest: ModelManifest,
    contract: ModelContract,
    crop_context: f32,
    single: Plan,
}

impl Embedder {
    pub fn load(manifest: ModelManifest, onnx: &[u8]) -> Result<Self> {
        if manifest.kind != ModelKind::Embedder {
            return Err(Error::model_invalid(
                &manifest.id,
                "manifest kind is not `embedder`",
            ));
        }
        let spec = manifest
            .embedding
            .clone()
            .expect("validated: embedders have an embedding spec");
        let outputs = manifest.outputs(); // [spec.output]
        let names: Vec<&str> = outputs.iter().map(String::as_str).collect();
        let single = load_plan(&manifest, onnx, &names, 1)?;
        let dim: usize = single.output_shapes[0].iter().product();
        if dim != spec.dim {
            return Err(Error::model_invalid(
                &manifest.id,
                format!(
                    "output {:?} has {dim} values, manifest says dim {}",
                    spec.output, spec.dim
                ),
            ));
        }
        let contract = ModelContract {
            id: manifest.id.clone(),
            version: manifest.version.clone(),
            dim,
        };
        Ok(Embedder {
            manifest,
            contract,
            crop_context: spec.crop_context,
            single,
        })
    }

    pub fn contract(&self) -> &ModelContract {
        &self.contract
    }

    pub fn manifest(&self) -> &ModelManifest {
        &self.manifest
    }

    /// Embeds each box of `image` (working pixels) with context around it.
    pub fn embed_boxes(
        &self,
        image: &RgbImage,
        boxes: &[Rect],
        threads: usize,
    ) -> Result<Vec<Embedding>> {
        let (w, h) = (image.width() as f32, image.height() as f32);
        let crops: Vec<Rect> = boxes
            .iter()
            .map(|b| b.square_context(self.crop_context, w, h))
            .collect();
        self.embed_rects(image, &crops, threads)
    }

    /// Embeds exactly the given rectangles (no added context), e.g. a user-drawn region or the
    /// whole image. Crops are spread over up to `threads` threads: tract runs one inference
    /// per thread, so crop-level parallelism is what uses a phone's several cores. (On wasm the
    /// crops run one after the other: see [`platform::parallel_map`].)
    pub fn embed_rects(
        &self,
        image: &RgbImage,
        rects: &[Rect],
        threads: usize,
    ) -> Result<Vec<Embedding>> {
        let threads = threads.clamp(1, rects.len().max(1));
        if threads == 1 {
            return rects.iter().map(|r| self.embed_one(image, r)).collect();
        }
        let chunk = rects.len().div_ceil(threads);
        let parts: Vec<&[Rect]> = rects.chunks(chunk).collect();
        let results = platform::parallel_map(parts, |part| {
            part.iter()
                .map(|r| self.embed_one(image, r))
                .collect::<Result<Vec<_>>>()
        });
        let mut all = Vec::with_capacity(rects.len());
        for part in results {
            let part = part.ok_or_else(|| {
                Error::inference(&self.manifest.id, "embedding worker panicked")
            })??;
            all.extend(part);
        }
        Ok(all)
    }

    fn embed_one(&self, image: &RgbImage, rect: &Rect) -> Result<Embedding> {
        let spec = &self.manifest.input;
        let pixels = resize_region(image, rect, spec.width, spec.height);
        let mut input = input_tensor(spec, 1);
        fill_input(&mut input, 0, &pixels, spec);
        let out = self.single.run(&self.manifest.id, input)?;
        Ok(self.finish(output_slice(&out, 0, &self.manifest.id)?))
    }

    fn finish(&self, raw: &[f32]) -> Embedding {
        let norm = dot(raw, raw).sqrt();
        let vector = if norm > 0.0 && norm.is_finite() {
            raw.iter().map(|v| v / norm).collect()
        } else {
            vec![0.0; raw.len()]
        };
        Embedding {
            vector,
            model: self.contract.clone(),
        }
    }
}
