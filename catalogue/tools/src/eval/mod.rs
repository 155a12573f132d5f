//! Retrieval quality, measured: a catalogue of real product crops (ingested through the real
//! ingest path into a real embedded store), queried with transformed views of the same
//! products (crop, scale, rotation, perspective, lighting, JPEG quality, blur) and with another
//! real photo of one of them (`box_in_scene.png` for the `box.png` packshot). Reports
//! exact-item recall@1 and recall@5 per transformation.
//!
//! A plain [`EvalConfig`] in, an [`EvalReport`] out; the binary parses its flags and prints it.

mod transform;

use std::path::PathBuf;

use image::RgbImage;
use shoplook_core::wire::SearchFilters;
use shoplook_core::{AnalyzeOptions, Engine, Rect};

pub use transform::{Transform, encode, perspective, rotate, transforms};

use shoplook_domain::error::CatError;
use shoplook_domain::feed::{FeedLine, read_feed};
use shoplook_domain::ingest::{
    ImageLoadError, ImageLoader, ImagePolicy, IngestOptions, IngestSummary, Quiet, embed_product,
    ingest_lines,
};
use shoplook_domain::store::Store;
use shoplook_domain::store::sqlite::SqliteStore;

/// What can stop an evaluation; each keeps the error underneath as its `source()`.
#[derive(Debug, thiserror::Error)]
pub enum EvalError {
    /// The evaluation's store, the feed or the ingest failed.
    #[error("{0}")]
    Catalogue(#[from] CatError),
    /// A catalogue product's image did not load.
    #[error("{0}")]
    Image(#[from] ImageLoadError),
    /// A catalogue product's image did not decode (product id).
    #[error("image of {id}: {source}")]
    Decode {
        id: String,
        #[source]
        source: image::ImageError,
    },
    /// A folder of distractors or a photo did not read.
    #[error("{}: {source}", path.display())]
    Read {
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },
    /// The on-device pipeline failed on a query photo.
    #[error("{0}")]
    Core(#[from] shoplook_core::Error),
}

/// What to evaluate.
#[derive(Debug, Clone)]
pub struct EvalConfig {
    /// Catalogue feed of real product crops.
    pub feed: PathBuf,
    /// Folder of further real photos, each added whole as a distractor product.
    pub distractors: Option<PathBuf>,
    /// Folder holding box.png and box_in_scene.png.
    pub photos: PathBuf,
    /// Also add this many random unit vectors to the catalogue (ANN at scale with real
    /// queries: the real products must still come first among them).
    pub random_distractors: usize,
}

/// What an evaluation measured.
#[derive(Debug, Clone, serde::Serialize)]
pub struct EvalReport {
    /// Products in the evaluated catalogue (products, distractors, random vectors).
    pub catalogue_products: usize,
    pub rows: Vec<Row>,
    /// The ingest of the catalogue (its failures are worth showing).
    #[serde(skip)]
    pub ingest: IngestSummary,
}

/// The box in `box_in_scene.png` (x, y, w, h), as a user would draw it.
pub const BOX_IN_SCENE_REGION: Rect = Rect {
    x: 95.0,
    y: 160.0,
    width: 185.0,
    height: 145.0,
};

#[derive(Debug, Clone, serde::Serialize)]
pub struct Row {
    pub query: String,
    pub queries: usize,
    pub recall_at_1: f64,
    pub recall_at_5: f64,
}

/// Rank (0-based) of `want` among the top 5 results, if there.
fn rank(store: &dyn Store, vector: &[f32], want: &str) -> Result<Option<usize>, CatError> {
    let hits = store.search(vector, 5, None, &SearchFilters::default())?;
    Ok(hits.iter().position(|(p, _)| p.id == want))
}

fn row(query: &str, ranks: &[Option<usize>]) -> Row {
    let n = ranks.len().max(1) as f64;
    Row {
        query: query.to_string(),
        queries: ranks.len(),
        recall_at_1: ranks.iter().filter(|r| **r == Some(0)).count() as f64 / n,
        recall_at_5: ranks.iter().filter(|r| r.is_some()).count() as f64 / n,
    }
}

pub fn evaluate(engine: &Engine, args: &EvalConfig) -> Result<EvalReport, EvalError> {
    let dir =
        std::env::temp_dir().join(format!("shoplook-eval-{}", shoplook_domain::random_hex(6)));
    let store = SqliteStore::open(&dir, shoplook_domain::store::sqlite::DEFAULT_QUANTIZATION)?;
    let mut lines = read_feed(&args.feed)?;
    let base = args
        .feed
        .parent()
        .unwrap_or(std::path::Path::new("."))
        .to_path_buf();
    let products: Vec<_> = lines
        .iter()
        .filter_map(|l| l.product.as_ref().ok().cloned())
        .collect();
    if let Some(d) = &args.distractors {
        let first_line = lines.len() + 1;
        let mut entries: Vec<_> = std::fs::read_dir(d)
            .map_err(|source| EvalError::Read {
                path: d.clone(),
                source,
            })?
            .flatten()
            .map(|e| e.path())
            .filter(|p| {
                p.extension().is_some_and(|e| {
                    ["jpg", "jpeg", "png"].contains(&e.to_string_lossy().to_lowercase().as_str())
                })
            })
            .collect();
        entries.sort();
        for (n, p) in (first_line..).zip(entries) {
            let name = p.file_name().unwrap().to_string_lossy().to_string();
            lines.push(FeedLine {
                line: n,
                id: Some(format!("distractor-{name}")),
                product: Ok(shoplook_core::wire::Product {
                    id: format!("distractor-{name}"),
                    title: name.clone(),
                    brand: String::new(),
                    price: 1.0,
                    currency: "EUR".into(),
                    category: "distractor".into(),
                    image: p.to_string_lossy().to_string(),
                    url: "https://example.com/distractor".into(),
                    in_stock: true,
                }),
            });
        }
    }
    let ingest = ingest_lines(
        engine,
        &store,
        lines,
        &base,
        // The checkout's own fixtures: local paths.
        &IngestOptions {
            images: ImagePolicy::trusted(),
            ..IngestOptions::default()
        },
        &Quiet,
    )?;
    if args.random_distractors > 0 {
        let dim = engine.embedder_contract().dim;
        let mut state = 0x5EEDu64;
        let mut next = move || {
            // splitmix64 -> two uniforms -> one Gaussian (Box-Muller)
            let mut g = || {
                state = state.wrapping_add(0x9E3779B97F4A7C15);
                let mut z = state;
                z = (z ^ (z >> 30)).wrapping_mul(0xBF58476D1CE4E5B9);
                z = (z ^ (z >> 27)).wrapping_mul(0x94D049BB133111EB);
                (((z ^ (z >> 31)) >> 40) as f32 + 0.5) / (1u64 << 24) as f32
            };
            let (u1, u2) = (g(), g());
            (-2.0 * u1.ln()).sqrt() * (std::f32::consts::TAU * u2).cos()
        };
        for start in (0..args.random_distractors).step_by(10_000) {
            let end = (start + 10_000).min(args.random_distractors);
            let batch: Vec<_> = (start..end)
                .map(|i| {
                    let mut v: Vec<f32> = (0..dim).map(|_| next()).collect();
                    let n = v.iter().map(|x| x * x).sum::<f32>().sqrt();
                    v.iter_mut().for_each(|x| *x /= n);
                    let p = shoplook_core::wire::Product {
                        id: format!("random-{i}"),
                        title: "random".into(),
                        brand: String::new(),
                        price: 1.0,
                        currency: "EUR".into(),
                        category: "random".into(),
                        image: "-".into(),
                        url: "https://example.com/random".into(),
                        in_stock: true,
                    };
                    (p, String::new(), v)
                })
                .collect();
            store.upsert_batch(&batch)?;
        }
    }
    let catalogue_size = store.stats()?.products as usize;

    let mut rows = Vec::new();
    let mut all = Vec::new();
    let loader = ImageLoader::new(ImagePolicy::trusted());
    let images: Vec<(String, RgbImage)> = products
        .iter()
        .map(|p| {
            let bytes = loader.load(&p.image, &base)?;
            let img = image::load_from_memory(&bytes)
                .map_err(|source| EvalError::Decode {
                    id: p.id.clone(),
                    source,
                })?
                .to_rgb8();
            Ok((p.id.clone(), img))
        })
        .collect::<Result<_, EvalError>>()?;
    for (name, f) in transforms() {
        let mut ranks = Vec::new();
        for (id, img) in &images {
            let (t, fmt) = f(img);
            let bytes = encode(&t, fmt);
            let (v, _) = embed_product(engine, &bytes)?;
            ranks.push(rank(&store, &v, id)?);
        }
        all.extend(ranks.iter().copied());
        rows.push(row(name, &ranks));
    }
    rows.push(row("all transformed views", &all));

    // Another real photo of the same product.
    if let Some(boxp) = products
        .iter()
        .find(|p| p.image.ends_with("demo-box-1.jpg"))
    {
        let scene_path = args.photos.join("box_in_scene.png");
        let scene = std::fs::read(&scene_path).map_err(|source| EvalError::Read {
            path: scene_path,
            source,
        })?;
        let region = engine.embed_region(&scene, BOX_IN_SCENE_REGION)?;
        rows.push(row(
            "box_in_scene.png, user-drawn region -> box.png",
            &[rank(&store, &region.vector, &boxp.id)?],
        ));
        let whole = engine.embed_image(&scene)?;
        rows.push(row(
            "box_in_scene.png, whole photo -> box.png",
            &[rank(&store, &whole.vector, &boxp.id)?],
        ));
        let a = engine.analyze(&scene, &AnalyzeOptions::default())?;
        let best = a
            .items
            .iter()
            .filter_map(|it| it.embedding.as_ref())
            .map(|v| rank(&store, v, &boxp.id))
            .collect::<Result<Vec<_>, _>>()?
            .into_iter()
            .flatten()
            .min();
        rows.push(row(
            "box_in_scene.png, best detected item -> box.png",
            &[best],
        ));
    }
    drop(store);
    let _ = std::fs::remove_dir_all(&dir);
    Ok(EvalReport {
        catalogue_products: catalogue_size,
        rows,
        ingest,
    })
}
