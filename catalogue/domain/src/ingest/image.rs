//! Product images: read from an http(s) URL (or, when allowed, a local path) under an
//! [`ImagePolicy`], and embedded as the main object of a packshot or as the whole image.

use shoplook_core::{AnalyzeOptions, Engine, Rect};

use crate::error::CatResult;

/// How a product image was embedded.
#[derive(Debug, Clone, PartialEq)]
pub enum EmbedSource {
    /// The main detected object (label, score, box).
    Object(String, f32, Rect),
    WholeImage,
}

/// Minimum detector score for a detection to be taken as "the product" of a packshot.
const MIN_OBJECT_SCORE: f32 = 0.5;
/// A detection covering more than this share of the image is the whole image anyway.
const MAX_OBJECT_AREA: f32 = 0.8;
/// A detection covering less than this share is a detail, not the packshot's subject.
const MIN_OBJECT_AREA: f32 = 0.05;

/// Embeds a product image: the main object of a packshot when the detector is confident
/// about one that is neither tiny nor the whole frame, else the whole image.
pub fn embed_product(engine: &Engine, bytes: &[u8]) -> CatResult<(Vec<f32>, EmbedSource)> {
    let analysis = engine.analyze(
        bytes,
        &AnalyzeOptions {
            embed: true,
            max_items: 5,
            ..AnalyzeOptions::default()
        },
    )?;
    let area = (analysis.width as f32) * (analysis.height as f32);
    let main = analysis.items.iter().find(|it| {
        let share = it.bbox.area() / area.max(1.0);
        it.score >= MIN_OBJECT_SCORE && (MIN_OBJECT_AREA..=MAX_OBJECT_AREA).contains(&share)
    });
    if let Some(it) = main
        && let Some(v) = &it.embedding
    {
        return Ok((
            v.clone(),
            EmbedSource::Object(it.label.clone(), it.score, it.bbox),
        ));
    }
    Ok((engine.embed_image(bytes)?.vector, EmbedSource::WholeImage))
}
