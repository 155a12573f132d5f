//! Feed ingest: read the feed, fetch each product image, embed it with `core` exactly as the
//! phone does, and upsert it. Images are fetched and embedded on worker threads; one writer
//! commits each product (row + vector) in one transaction, then reports it done.
//!
//! Re-ingest: the content hash (SHA-256 of the image bytes and the model contract) decides
//! whether a product must be re-embedded; a product whose image did not change only gets its
//! other fields refreshed (or nothing, when they did not change either).

mod address;
mod fetch;
mod image;
mod report;

use std::collections::HashSet;
use std::path::Path;
use std::sync::mpsc;
use std::time::Instant;

use shoplook_core::Engine;
use shoplook_core::wire::Product;

pub use address::{AddressClass, BlockedAddress, PrivateHosts, classify};
pub use fetch::{
    IMAGE_TIMEOUT, ImageLoadError, ImageLoader, ImagePolicy, MAX_IMAGE_BYTES, MAX_IMAGE_REDIRECTS,
};
pub use image::{EmbedSource, embed_product};
/// The networks of [`PrivateHosts::Networks`].
pub use ipnet::IpNet;
pub use report::{Failure, IngestProgress, IngestSummary, Quiet, Settled};

use crate::error::{CatError, CatResult};
use crate::feed::{FeedLine, read_feed};
use crate::store::{Store, Upserted};

#[derive(Debug, Clone)]
pub struct IngestOptions {
    pub delete_missing: bool,
    /// Worker threads fetching and embedding images.
    pub workers: usize,
    /// Where images may come from (default: http(s) from public hosts only).
    pub images: ImagePolicy,
}

impl Default for IngestOptions {
    fn default() -> Self {
        IngestOptions {
            delete_missing: false,
            workers: std::thread::available_parallelism().map_or(2, |n| n.get()),
            images: ImagePolicy::default(),
        }
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
    progress: &dyn IngestProgress,
) -> CatResult<IngestSummary> {
    let lines = read_feed(feed)?;
    let base = feed.parent().unwrap_or(Path::new(".")).to_path_buf();
    ingest_lines(engine, store, lines, &base, options, progress)
}

pub fn ingest_lines(
    engine: &Engine,
    store: &dyn Store,
    lines: Vec<FeedLine>,
    base: &Path,
    options: &IngestOptions,
    progress: &dyn IngestProgress,
) -> CatResult<IngestSummary> {
    let start = Instant::now();
    let contract = engine.embedder_contract().clone();
    store.ensure_contract(&contract)?;
    let contract_tag = contract.to_string();
    let loader = ImageLoader::new(options.images.clone());

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
                        code: None,
                    });
                } else {
                    todo.push((l.line, p));
                }
            }
            Err(reason) => summary.failed.push(Failure {
                line: l.line,
                id: l.id,
                reason: reason.to_string(),
                code: None,
            }),
        }
    }

    progress.start(todo.len() as u64);
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
            let loader = &loader;
            s.spawn(move || {
                loop {
                    let job = job_rx.lock().unwrap().recv();
                    let Ok((line, product)) = job else { break };
                    let work = prepare(engine, store, loader, base, contract_tag, line, product);
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
                    progress.failed(&f);
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
                            progress.settled(Settled::Updated, &product.id);
                        }
                        Ok(()) => {
                            summary.unchanged += 1;
                            progress.settled(Settled::Unchanged, &product.id);
                        }
                        Err(e) => summary.failed.push(Failure {
                            line,
                            id: Some(product.id),
                            reason: e.to_string(),
                            code: None,
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
                        progress.settled(Settled::Added, &product.id);
                    }
                    Ok(Upserted::Updated) => {
                        summary.updated += 1;
                        progress.settled(Settled::Updated, &product.id);
                    }
                    Err(e) => summary.failed.push(Failure {
                        line,
                        id: Some(product.id),
                        reason: e.to_string(),
                        code: None,
                    }),
                },
            }
            progress.advance();
        }
        Ok(())
    })?;
    progress.finish();

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
                    progress.settled(Settled::Deleted, &id);
                }
            }
        }
    }
    store.flush()?;
    summary.failed.sort_by_key(|f| f.line);
    summary.seconds = start.elapsed().as_secs_f64();
    Ok(summary)
}

fn prepare(
    engine: &Engine,
    store: &dyn Store,
    loader: &ImageLoader,
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
            code: None,
        })
    };
    let bytes = match loader.load(&product.image, base) {
        Ok(b) => b,
        Err(e) => {
            return Work::Failed(Failure {
                line,
                id: Some(product.id),
                reason: e.to_string(),
                code: Some(e.code()),
            });
        }
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
