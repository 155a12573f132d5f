//! Retrieval quality, measured: a catalogue of real product crops (ingested through the real
//! ingest path into a real embedded store), queried with transformed views of the same
//! products (crop, scale, rotation, perspective, lighting, JPEG quality, blur) and with another
//! real photo of one of them (`box_in_scene.png` for the `box.png` packshot). Reports
//! exact-item recall@1 and recall@5 per transformation.

use std::io::Cursor;
use std::path::PathBuf;

use clap::Args;
use image::{DynamicImage, ImageFormat, Rgb, RgbImage};
use shoplook_core::wire::SearchFilters;
use shoplook_core::{AnalyzeOptions, Engine, Rect};

use crate::feed::{FeedLine, read_feed};
use crate::ingest::{IngestOptions, embed_product, ingest_lines, load_image};
use crate::store::Store;
use crate::store::sqlite::SqliteStore;

#[derive(Args, Debug, Clone)]
pub struct EvalArgs {
    /// Catalogue feed of real product crops.
    #[arg(long, default_value = "fixtures/demo-catalogue/feed.jsonl")]
    pub feed: PathBuf,
    /// Folder of further real photos, each added whole as a distractor product.
    #[arg(long, value_name = "DIR")]
    pub distractors: Option<PathBuf>,
    /// Folder holding box.png and box_in_scene.png.
    #[arg(long, default_value = "fixtures/photos")]
    pub photos: PathBuf,
    /// Also add this many random unit vectors to the catalogue (ANN at scale with real
    /// queries: the real products must still come first among them).
    #[arg(long, default_value_t = 0)]
    pub random_distractors: usize,
    /// Print JSON instead of a table.
    #[arg(long)]
    pub json: bool,
    #[command(flatten)]
    pub engine: crate::cli::EngineArgs,
}

/// The box in `box_in_scene.png` (x, y, w, h), as a user would draw it.
pub const BOX_IN_SCENE_REGION: Rect = Rect {
    x: 95.0,
    y: 160.0,
    width: 185.0,
    height: 145.0,
};

pub type Transform = (&'static str, fn(&RgbImage) -> (RgbImage, ImageFormat));

pub fn transforms() -> Vec<Transform> {
    vec![
        ("identity (re-encoded PNG)", |i| {
            (i.clone(), ImageFormat::Png)
        }),
        ("crop 70% off-centre", |i| {
            let (w, h) = i.dimensions();
            let (cw, ch) = ((w as f32 * 0.7) as u32, (h as f32 * 0.7) as u32);
            (
                image::imageops::crop_imm(i, w - cw, 0, cw.max(1), ch.max(1)).to_image(),
                ImageFormat::Png,
            )
        }),
        ("scale 0.4x", |i| {
            let (w, h) = i.dimensions();
            (
                image::imageops::resize(
                    i,
                    ((w as f32 * 0.4) as u32).max(8),
                    ((h as f32 * 0.4) as u32).max(8),
                    image::imageops::FilterType::Triangle,
                ),
                ImageFormat::Png,
            )
        }),
        ("rotate 15 deg", |i| {
            (rotate(i, 15f32.to_radians()), ImageFormat::Png)
        }),
        ("rotate 90 deg", |i| {
            (image::imageops::rotate90(i), ImageFormat::Png)
        }),
        ("perspective (top 25% narrower)", |i| {
            (perspective(i, 0.25), ImageFormat::Png)
        }),
        ("brighter (+60)", |i| {
            (image::imageops::brighten(i, 60), ImageFormat::Png)
        }),
        ("darker (-70, contrast -30)", |i| {
            let d = image::imageops::brighten(i, -70);
            (image::imageops::contrast(&d, -30.0), ImageFormat::Png)
        }),
        ("JPEG quality 15", |i| (i.clone(), ImageFormat::Jpeg)),
        ("blur sigma 2.5", |i| {
            (image::imageops::blur(i, 2.5), ImageFormat::Png)
        }),
    ]
}

fn bilinear(img: &RgbImage, x: f32, y: f32) -> Option<Rgb<u8>> {
    let (w, h) = img.dimensions();
    if x < 0.0 || y < 0.0 || x > (w - 1) as f32 || y > (h - 1) as f32 {
        return None;
    }
    let (x0, y0) = (x.floor() as u32, y.floor() as u32);
    let (x1, y1) = ((x0 + 1).min(w - 1), (y0 + 1).min(h - 1));
    let (fx, fy) = (x - x0 as f32, y - y0 as f32);
    let mut out = [0u8; 3];
    for (c, o) in out.iter_mut().enumerate() {
        let p = |xx, yy| img.get_pixel(xx, yy)[c] as f32;
        let v = p(x0, y0) * (1.0 - fx) * (1.0 - fy)
            + p(x1, y0) * fx * (1.0 - fy)
            + p(x0, y1) * (1.0 - fx) * fy
            + p(x1, y1) * fx * fy;
        *o = v.round().clamp(0.0, 255.0) as u8;
    }
    Some(Rgb(out))
}

const FILL: Rgb<u8> = Rgb([235, 235, 235]);

/// Rotation about the centre into a canvas that holds the whole rotated image.
pub fn rotate(img: &RgbImage, angle: f32) -> RgbImage {
    let (w, h) = (img.width() as f32, img.height() as f32);
    let (s, c) = angle.sin_cos();
    let ow = (w * c.abs() + h * s.abs()).ceil() as u32;
    let oh = (w * s.abs() + h * c.abs()).ceil() as u32;
    let (cx, cy, ocx, ocy) = (w / 2.0, h / 2.0, ow as f32 / 2.0, oh as f32 / 2.0);
    RgbImage::from_fn(ow, oh, |u, v| {
        let (dx, dy) = (u as f32 - ocx, v as f32 - ocy);
        let x = c * dx + s * dy + cx;
        let y = -s * dx + c * dy + cy;
        bilinear(img, x, y).unwrap_or(FILL)
    })
}

/// A keystone view: the top edge appears `amount` narrower (a photo taken from below).
pub fn perspective(img: &RgbImage, amount: f32) -> RgbImage {
    let (w, h) = (img.width() as f32, img.height() as f32);
    RgbImage::from_fn(img.width(), img.height(), |u, v| {
        let t = v as f32 / h; // 0 at the top
        let shrink = amount * (1.0 - t);
        let row_w = w * (1.0 - shrink);
        let x0 = (w - row_w) / 2.0;
        let x = (u as f32 - x0) / row_w * w;
        // Foreshortening: rows near the top are compressed.
        let y = h * (t + amount * 0.5 * t * (1.0 - t));
        if !(0.0..w).contains(&x) {
            return FILL;
        }
        bilinear(img, x, y.min(h - 1.0)).unwrap_or(FILL)
    })
}

pub fn encode(img: &RgbImage, format: ImageFormat) -> Vec<u8> {
    let mut out = Cursor::new(Vec::new());
    if format == ImageFormat::Jpeg {
        let mut enc = image::codecs::jpeg::JpegEncoder::new_with_quality(&mut out, 15);
        enc.encode_image(&DynamicImage::ImageRgb8(img.clone()))
            .expect("JPEG encoding");
    } else {
        DynamicImage::ImageRgb8(img.clone())
            .write_to(&mut out, format)
            .expect("PNG encoding");
    }
    out.into_inner()
}

#[derive(Debug, Clone, serde::Serialize)]
pub struct Row {
    pub query: String,
    pub queries: usize,
    pub recall_at_1: f64,
    pub recall_at_5: f64,
}

/// Rank (0-based) of `want` among the top 5 results, if there.
fn rank(store: &dyn Store, vector: &[f32], want: &str) -> Result<Option<usize>, String> {
    let hits = store
        .search(vector, 5, None, &SearchFilters::default())
        .map_err(|e| e.to_string())?;
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

pub fn evaluate(engine: &Engine, args: &EvalArgs) -> Result<(Vec<Row>, usize), String> {
    let dir = std::env::temp_dir().join(format!("shoplook-eval-{}", crate::random_hex(6)));
    let store = SqliteStore::open(&dir, crate::store::sqlite::DEFAULT_QUANTIZATION)
        .map_err(|e| e.to_string())?;
    let mut lines = read_feed(&args.feed).map_err(|e| e.to_string())?;
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
        let mut n = lines.len();
        let mut entries: Vec<_> = std::fs::read_dir(d)
            .map_err(|e| format!("{}: {e}", d.display()))?
            .flatten()
            .map(|e| e.path())
            .filter(|p| {
                p.extension().is_some_and(|e| {
                    ["jpg", "jpeg", "png"].contains(&e.to_string_lossy().to_lowercase().as_str())
                })
            })
            .collect();
        entries.sort();
        for p in entries {
            n += 1;
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
    let summary = ingest_lines(engine, &store, lines, &base, &IngestOptions::default())
        .map_err(|e| e.to_string())?;
    if !summary.failed.is_empty() {
        eprint!("{summary}");
    }
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
            store.upsert_batch(&batch).map_err(|e| e.to_string())?;
        }
    }
    let catalogue_size = store.stats().map_err(|e| e.to_string())?.products as usize;

    let mut rows = Vec::new();
    let mut all = Vec::new();
    let images: Vec<(String, RgbImage)> = products
        .iter()
        .map(|p| {
            let bytes = load_image(&p.image, &base)?;
            let img = image::load_from_memory(&bytes)
                .map_err(|e| e.to_string())?
                .to_rgb8();
            Ok((p.id.clone(), img))
        })
        .collect::<Result<_, String>>()?;
    for (name, f) in transforms() {
        let mut ranks = Vec::new();
        for (id, img) in &images {
            let (t, fmt) = f(img);
            let bytes = encode(&t, fmt);
            let (v, _) = embed_product(engine, &bytes).map_err(|e| e.to_string())?;
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
        let scene = std::fs::read(args.photos.join("box_in_scene.png"))
            .map_err(|e| format!("box_in_scene.png: {e}"))?;
        let region = engine
            .embed_region(&scene, BOX_IN_SCENE_REGION)
            .map_err(|e| e.to_string())?;
        rows.push(row(
            "box_in_scene.png, user-drawn region -> box.png",
            &[rank(&store, &region.vector, &boxp.id)?],
        ));
        let whole = engine.embed_image(&scene).map_err(|e| e.to_string())?;
        rows.push(row(
            "box_in_scene.png, whole photo -> box.png",
            &[rank(&store, &whole.vector, &boxp.id)?],
        ));
        let a = engine
            .analyze(&scene, &AnalyzeOptions::default())
            .map_err(|e| e.to_string())?;
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
    Ok((rows, catalogue_size))
}

pub fn run(args: &EvalArgs) -> Result<(), String> {
    let engine = args.engine.load()?;
    let (rows, size) = evaluate(&engine, args)?;
    if args.json {
        println!(
            "{}",
            serde_json::json!({"catalogue_products": size, "rows": rows})
        );
        return Ok(());
    }
    println!("catalogue: {size} products ({})", args.feed.display());
    println!("| query | queries | recall@1 | recall@5 |");
    println!("|---|---:|---:|---:|");
    for r in rows {
        println!(
            "| {} | {} | {:.2} | {:.2} |",
            r.query, r.queries, r.recall_at_1, r.recall_at_5
        );
    }
    Ok(())
}
