//! Feed ingest: read the feed, fetch each product image, embed it with `core` exactly as the
//! phone does, and upsert it. Images are fetched and embedded on worker threads; one writer
//! commits each product (row + vector) in one transaction, then reports it done.
//!
//! Re-ingest: the content hash (SHA-256 of the image bytes and the model contract) decides
//! whether a product must be re-embedded; a product whose image did not change only gets its
//! other fields refreshed (or nothing, when they did not change either).

use std::collections::HashSet;
use std::io::Read;
use std::path::{Path, PathBuf};
use std::sync::mpsc;
use std::time::{Duration, Instant};

use shoplook_core::wire::Product;
use shoplook_core::{AnalyzeOptions, Engine, Rect};

use crate::error::{CatError, CatResult};
use crate::feed::{FeedLine, read_feed};
use crate::store::{Store, Upserted};

/// Largest product image accepted (bytes).
pub const MAX_IMAGE_BYTES: u64 = 25 << 20;

#[derive(Debug, Clone)]
pub struct IngestOptions {
    pub delete_missing: bool,
    /// Worker threads fetching and embedding images.
    pub workers: usize,
    /// Show a progress bar (on a terminal).
    pub progress: bool,
    /// Print one line per product on stdout once it is committed (`added ID`, ...).
    pub verbose: bool,
}

impl Default for IngestOptions {
    fn default() -> Self {
        IngestOptions {
            delete_missing: false,
            workers: std::thread::available_parallelism().map_or(2, |n| n.get()),
            progress: false,
            verbose: false,
        }
    }
}

#[derive(Debug, Clone, Default, serde::Serialize)]
pub struct IngestSummary {
    pub added: usize,
    pub updated: usize,
    pub unchanged: usize,
    pub deleted: usize,
    pub failed: Vec<Failure>,
    /// Why `--delete-missing` did nothing, if it did not run.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub delete_skipped: Option<String>,
    pub seconds: f64,
}

#[derive(Debug, Clone, serde::Serialize)]
pub struct Failure {
    pub line: usize,
    pub id: Option<String>,
    pub reason: String,
}

impl std::fmt::Display for IngestSummary {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        writeln!(
            f,
            "ingest: {} added, {} updated, {} unchanged, {} deleted, {} failed ({:.1} s)",
            self.added,
            self.updated,
            self.unchanged,
            self.deleted,
            self.failed.len(),
            self.seconds
        )?;
        for x in &self.failed {
            writeln!(
                f,
                "  failed: line {} {}: {}",
                x.line,
                x.id.as_deref().unwrap_or("(no id)"),
                x.reason
            )?;
        }
        if let Some(why) = &self.delete_skipped {
            writeln!(f, "  --delete-missing skipped: {why}")?;
        }
        Ok(())
    }
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
pub fn load_image(image: &str, base: &Path) -> Result<Vec<u8>, String> {
    if image.starts_with("http://") || image.starts_with("https://") {
        let agent = ureq::Agent::config_builder()
            .timeout_global(Some(Duration::from_secs(30)))
            .build()
            .new_agent();
        let mut resp = agent
            .get(image)
            .call()
            .map_err(|e| format!("GET {image}: {e}"))?;
        let mut bytes = Vec::new();
        resp.body_mut()
            .as_reader()
            .take(MAX_IMAGE_BYTES + 1)
            .read_to_end(&mut bytes)
            .map_err(|e| format!("GET {image}: {e}"))?;
        if bytes.len() as u64 > MAX_IMAGE_BYTES {
            return Err(format!("{image} is larger than {MAX_IMAGE_BYTES} bytes"));
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
        let meta =
            std::fs::metadata(&p).map_err(|e| format!("cannot read {}: {e}", p.display()))?;
        if meta.len() > MAX_IMAGE_BYTES {
            return Err(format!(
                "{} is larger than {MAX_IMAGE_BYTES} bytes",
                p.display()
            ));
        }
        std::fs::read(&p).map_err(|e| format!("cannot read {}: {e}", p.display()))
    }
}

/// What a worker hands the writer.
enum Work {
    Embedded {
        line: usize,
        product: Product,
        hash: String,
        vector: Vec<f32>,
    },
    Unchanged {
        line: usize,
        product: Product,
        fields_changed: bool,
    },
    Failed(Failure),
}

/// Ingests a feed file into a store.
pub fn ingest_file(
    engine: &Engine,
    store: &dyn Store,
    feed: &Path,
    options: &IngestOptions,
) -> CatResult<IngestSummary> {
    let lines = read_feed(feed)?;
    let base = feed.parent().unwrap_or(Path::new(".")).to_path_buf();
    ingest_lines(engine, store, lines, &base, options)
}

pub fn ingest_lines(
    engine: &Engine,
    store: &dyn Store,
    lines: Vec<FeedLine>,
    base: &Path,
    options: &IngestOptions,
) -> CatResult<IngestSummary> {
    let start = Instant::now();
    let contract = engine.embedder_contract().clone();
    store.ensure_contract(&contract)?;
    let contract_tag = contract.to_string();

    let mut summary = IngestSummary::default();
    let mut present: HashSet<String> = HashSet::new();
    let mut unidentified = 0usize;
    let mut todo: Vec<(usize, Product)> = Vec::new();
    for l in lines {
        match (&l.product, &l.id) {
            (_, Some(id)) => {
                present.insert(id.clone());
            }
            (_, None) => unidentified += 1,
        }
        match l.product {
            Ok(p) => {
                if todo.iter().any(|(_, q)| q.id == p.id) {
                    summary.failed.push(Failure {
                        line: l.line,
                        id: Some(p.id),
                        reason: "duplicate id in the feed (the first one is kept)".into(),
                    });
                } else {
                    todo.push((l.line, p));
                }
            }
            Err(reason) => summary.failed.push(Failure {
                line: l.line,
                id: l.id,
                reason,
            }),
        }
    }

    let bar = if options.progress {
        let b = indicatif::ProgressBar::new(todo.len() as u64);
        b.set_style(
            indicatif::ProgressStyle::with_template(
                "{spinner} [{elapsed_precise}] {wide_bar} {pos}/{len} products, {per_sec}, ETA {eta}",
            )
            .unwrap(),
        );
        b
    } else {
        indicatif::ProgressBar::hidden()
    };

    let workers = options.workers.max(1).min(todo.len().max(1));
    let (job_tx, job_rx) = mpsc::channel::<(usize, Product)>();
    let job_rx = std::sync::Mutex::new(job_rx);
    let (done_tx, done_rx) = mpsc::sync_channel::<Work>(workers * 2);
    for job in todo {
        job_tx.send(job).unwrap();
    }
    drop(job_tx);

    std::thread::scope(|s| -> CatResult<()> {
        for _ in 0..workers {
            let done_tx = done_tx.clone();
            let job_rx = &job_rx;
            let contract_tag = &contract_tag;
            s.spawn(move || {
                loop {
                    let job = job_rx.lock().unwrap().recv();
                    let Ok((line, product)) = job else { break };
                    let work = prepare(engine, store, base, contract_tag, line, product);
                    if done_tx.send(work).is_err() {
                        break;
                    }
                }
            });
        }
        drop(done_tx);
        for work in done_rx {
            match work {
                Work::Failed(f) => {
                    if options.verbose {
                        println!(
                            "failed\t{}\t{}",
                            f.id.as_deref().unwrap_or("-"),
                            f.reason.replace(['\t', '\n'], " ")
                        );
                    }
                    summary.failed.push(f);
                }
                Work::Unchanged {
                    line,
                    product,
                    fields_changed,
                } => {
                    let r = if fields_changed {
                        store.update_fields(&product)
                    } else {
                        Ok(())
                    };
                    match r {
                        Ok(()) if fields_changed => {
                            summary.updated += 1;
                            report(options, "updated", &product.id);
                        }
                        Ok(()) => {
                            summary.unchanged += 1;
                            report(options, "unchanged", &product.id);
                        }
                        Err(e) => summary.failed.push(Failure {
                            line,
                            id: Some(product.id),
                            reason: e.to_string(),
                        }),
                    }
                }
                Work::Embedded {
                    line,
                    product,
                    hash,
                    vector,
                } => match store.upsert(&product, &hash, &vector) {
                    Ok(Upserted::Added) => {
                        summary.added += 1;
                        report(options, "added", &product.id);
                    }
                    Ok(Upserted::Updated) => {
                        summary.updated += 1;
                        report(options, "updated", &product.id);
                    }
                    Err(e) => summary.failed.push(Failure {
                        line,
                        id: Some(product.id),
                        reason: e.to_string(),
                    }),
                },
            }
            bar.inc(1);
        }
        Ok(())
    })?;
    bar.finish_and_clear();

    if options.delete_missing {
        if unidentified > 0 {
            summary.delete_skipped = Some(format!(
                "{unidentified} feed line(s) have no readable id; deleting could remove products \
                 that are still in the feed"
            ));
        } else {
            for id in store.ids()? {
                if !present.contains(&id) && store.delete(&id)? {
                    summary.deleted += 1;
                    report(options, "deleted", &id);
                }
            }
        }
    }
    store.flush()?;
    summary.failed.sort_by_key(|f| f.line);
    summary.seconds = start.elapsed().as_secs_f64();
    Ok(summary)
}

fn report(options: &IngestOptions, what: &str, id: &str) {
    if options.verbose {
        use std::io::Write;
        let mut out = std::io::stdout().lock();
        let _ = writeln!(out, "{what}\t{id}");
        let _ = out.flush();
    }
}

fn prepare(
    engine: &Engine,
    store: &dyn Store,
    base: &Path,
    contract_tag: &str,
    line: usize,
    product: Product,
) -> Work {
    let fail = |id: &str, reason: String| {
        Work::Failed(Failure {
            line,
            id: Some(id.to_string()),
            reason,
        })
    };
    let bytes = match load_image(&product.image, base) {
        Ok(b) => b,
        Err(e) => return fail(&product.id, e),
    };
    let mut hashed = bytes.clone();
    hashed.extend_from_slice(contract_tag.as_bytes());
    let hash = crate::sha256_hex(&hashed);
    match store.get(&product.id) {
        Ok(Some(old)) if old.content_hash == hash => {
            let fields_changed = old.product != product;
            return Work::Unchanged {
                line,
                product,
                fields_changed,
            };
        }
        Ok(_) => {}
        Err(e) => return fail(&product.id, e.to_string()),
    }
    match embed_product(engine, &bytes) {
        Ok((vector, _)) => Work::Embedded {
            line,
            product,
            hash,
            vector,
        },
        Err(CatError::Core(e)) => fail(&product.id, format!("image {}: {e}", product.image)),
        Err(e) => fail(&product.id, e.to_string()),
    }
}
