//! Product images: read from a path or URL, embedded as the main object of a packshot or as
//! the whole image.

use std::io::Read;
use std::path::{Path, PathBuf};
use std::time::Duration;

use shoplook_core::{AnalyzeOptions, Engine, Rect};

use crate::error::CatResult;

/// Largest product image accepted (bytes).
pub const MAX_IMAGE_BYTES: u64 = 25 << 20;

/// Why a product image could not be loaded (the ingest reports it on the product's line).
#[derive(Debug, thiserror::Error)]
pub enum ImageLoadError {
    #[error("GET {url}: {source}")]
    Get {
        url: String,
        #[source]
        source: ureq::Error,
    },
    /// The answer's body broke off.
    #[error("GET {url}: {source}")]
    Body {
        url: String,
        #[source]
        source: std::io::Error,
    },
    /// `image` as given (a URL), or the resolved path.
    #[error("{image} is larger than {max} bytes", max = MAX_IMAGE_BYTES)]
    TooLarge { image: String },
    #[error("cannot read {}: {source}", path.display())]
    Read {
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },
}

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

/// Reads a product image from a local path (relative to the feed's folder) or http(s) URL.
pub fn load_image(image: &str, base: &Path) -> Result<Vec<u8>, ImageLoadError> {
    if image.starts_with("http://") || image.starts_with("https://") {
        let agent = ureq::Agent::config_builder()
            .timeout_global(Some(Duration::from_secs(30)))
            .build()
            .new_agent();
        let mut resp = agent
            .get(image)
            .call()
            .map_err(|source| ImageLoadError::Get {
                url: image.to_string(),
                source,
            })?;
        let mut bytes = Vec::new();
        resp.body_mut()
            .as_reader()
            .take(MAX_IMAGE_BYTES + 1)
            .read_to_end(&mut bytes)
            .map_err(|source| ImageLoadError::Body {
                url: image.to_string(),
                source,
            })?;
        if bytes.len() as u64 > MAX_IMAGE_BYTES {
            return Err(ImageLoadError::TooLarge {
                image: image.to_string(),
            });
        }
        Ok(bytes)
    } else {
        let path = image.strip_prefix("file://").unwrap_or(image);
        let p = Path::new(path);
        let p: PathBuf = if p.is_absolute() {
            p.into()
        } else {
            base.join(p)
        };
        let read_error = |source| ImageLoadError::Read {
            path: p.clone(),
            source,
        };
        let meta = std::fs::metadata(&p).map_err(read_error)?;
        if meta.len() > MAX_IMAGE_BYTES {
            return Err(ImageLoadError::TooLarge {
                image: p.display().to_string(),
            });
        }
        std::fs::read(&p).map_err(read_error)
    }
}
