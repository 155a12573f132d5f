//! The `shoplook catalogue ...` and `shoplook lookup` subcommands (clap), used by the
//! `shoplook` binary and by this crate's own `shoplook-catalogue` binary (the tests run it).

use std::io::IsTerminal;
use std::path::{Path, PathBuf};
use std::sync::Arc;

use clap::{Args, Subcommand};
use shoplook_core::client::CatalogueClient;
use shoplook_core::wire::{SearchFilters, SearchHit};
use shoplook_core::{AnalyzeOptions, Engine, Rect};

use crate::api::ServeConfig;
use crate::ingest::IngestOptions;
use crate::store::{Store, StoreConfig, open_store};

#[derive(Args, Clone, Debug)]
pub struct StoreArgs {
    /// Data directory of the embedded store (SQLite + on-disk HNSW index).
    #[arg(long, value_name = "DIR", env = "SHOPLOOK_DATA")]
    pub data: Option<PathBuf>,
    /// PostgreSQL + pgvector instead of the embedded store: postgres://user@host:port/db
    #[arg(long, value_name = "URL", env = "SHOPLOOK_STORE")]
    pub store: Option<String>,
    /// Vector quantisation of a new embedded index: f32, f16, bf16, i8, b1.
    #[arg(long, default_value = crate::store::sqlite::DEFAULT_QUANTIZATION)]
    pub quantization: String,
}

impl StoreArgs {
    pub fn open(&self) -> Result<Box<dyn Store>, String> {
        let mut c = StoreConfig::new(self.data.clone(), self.store.clone());
        c.quantization = self.quantization.clone();
        open_store(&c).map_err(|e| e.to_string())
    }
}

#[derive(Args, Clone, Debug)]
pub struct EngineArgs {
    /// Model directory (default: $SHOPLOOK_MODELS or the models/ folder of this checkout).
    #[arg(long, value_name = "DIR")]
    pub models: Option<PathBuf>,
}

impl EngineArgs {
    pub fn load(&self) -> Result<Engine, String> {
        let dir = self
            .models
            .clone()
            .unwrap_or_else(Engine::default_model_dir);
        Engine::from_dir(&dir).map_err(|e| e.to_string())
    }
}

#[derive(Subcommand, Debug)]
pub enum CatalogueCommand {
    /// Ingest a product feed (JSON Lines or CSV): embed every product image and upsert it.
    Ingest {
        /// The feed: .jsonl / .ndjson (one product per line) or .csv with the same columns.
        feed: PathBuf,
        #[command(flatten)]
        store: StoreArgs,
        /// Remove products that are not in the feed.
        #[arg(long)]
        delete_missing: bool,
        /// Worker threads for fetching and embedding images.
        #[arg(long)]
        workers: Option<usize>,
        /// Print one line per product once it is committed (`added<TAB>ID`...).
        #[arg(short, long)]
        verbose: bool,
        /// Print the summary as JSON.
        #[arg(long)]
        json: bool,
        #[command(flatten)]
        engine: EngineArgs,
    },
    /// Serve the HTTP API.
    Serve {
        #[command(flatten)]
        store: StoreArgs,
        /// Read replica for searches and product reads (postgres only).
        #[arg(long, value_name = "URL")]
        read_store: Option<String>,
        #[arg(long, default_value = "127.0.0.1:8787")]
        listen: std::net::SocketAddr,
        /// Requests per second per API key (0 = no limit).
        #[arg(long, default_value_t = 100.0)]
        rate_limit: f64,
        /// Burst size of the per-key rate limit.
        #[arg(long, default_value_t = 200.0)]
        burst: f64,
        /// Largest request body in bytes.
        #[arg(long, default_value_t = 2 << 20)]
        max_body: usize,
        #[command(flatten)]
        engine: EngineArgs,
    },
    /// API keys.
    Keys {
        #[command(subcommand)]
        command: KeysCommand,
    },
    /// Open the store, bring its index up to date, and print its size.
    Stats {
        #[command(flatten)]
        store: StoreArgs,
    },
    /// Retrieval quality: exact-item recall@1/@5 of real crops under transformed views.
    Eval(crate::eval::EvalArgs),
}

#[derive(Subcommand, Debug)]
pub enum KeysCommand {
    /// Create a key and print it (once: only its hash is stored).
    Create {
        #[command(flatten)]
        store: StoreArgs,
        #[arg(long)]
        name: String,
        /// May upsert and delete products.
        #[arg(long)]
        admin: bool,
    },
}

pub fn run_catalogue(cmd: CatalogueCommand) -> Result<(), String> {
    match cmd {
        CatalogueCommand::Ingest {
            feed,
            store,
            delete_missing,
            workers,
            verbose,
            json,
            engine,
        } => {
            let engine = engine.load()?;
            let store = store.open()?;
            let mut options = IngestOptions {
                delete_missing,
                progress: std::io::stderr().is_terminal() && !verbose,
                verbose,
                ..IngestOptions::default()
            };
            if let Some(w) = workers {
                options.workers = w;
            }
            let summary = crate::ingest::ingest_file(&engine, store.as_ref(), &feed, &options)
                .map_err(|e| e.to_string())?;
            if json {
                println!("{}", serde_json::to_string(&summary).unwrap());
            } else if verbose {
                eprint!("{summary}");
            } else {
                print!("{summary}");
            }
            Ok(())
        }
        CatalogueCommand::Serve {
            store,
            read_store,
            listen,
            rate_limit,
            burst,
            max_body,
            engine,
        } => {
            let mut config = StoreConfig::new(store.data.clone(), store.store.clone());
            config.read_url = read_store;
            config.quantization = store.quantization.clone();
            let store: Arc<dyn Store> = Arc::from(open_store(&config).map_err(|e| e.to_string())?);
            let contract = match store.contract().map_err(|e| e.to_string())? {
                Some(c) => c,
                None => {
                    // Empty catalogue: it will hold vectors of the shipped embedder.
                    let c = engine.load()?.embedder_contract().clone();
                    store.ensure_contract(&c).map_err(|e| e.to_string())?;
                    c
                }
            };
            let cfg = ServeConfig {
                listen,
                rate_limit,
                burst,
                max_body,
            };
            let rt = tokio::runtime::Builder::new_multi_thread()
                .enable_all()
                .build()
                .map_err(|e| e.to_string())?;
            let kind = store.kind();
            rt.block_on(crate::api::serve(store, contract.clone(), cfg, |addr| {
                // Scripts wait for this line (and read the port from it with --listen :0).
                println!("listening on http://{addr} ({kind} store, model {contract})");
                use std::io::Write;
                let _ = std::io::stdout().flush();
            }))
            .map_err(|e| e.to_string())
        }
        CatalogueCommand::Keys {
            command: KeysCommand::Create { store, name, admin },
        } => {
            let store = store.open()?;
            let key =
                crate::auth::create_key(store.as_ref(), &name, admin).map_err(|e| e.to_string())?;
            println!("{key}");
            eprintln!(
                "created {}key {name:?}; it is shown only this once (the store keeps its hash)",
                if admin { "admin " } else { "" }
            );
            Ok(())
        }
        CatalogueCommand::Stats { store } => {
            let store = store.open()?;
            store.flush().map_err(|e| e.to_string())?;
            let s = store.stats().map_err(|e| e.to_string())?;
            let contract = store.contract().map_err(|e| e.to_string())?;
            println!(
                "{}",
                serde_json::json!({
                    "store": store.kind(),
                    "model": contract.map(|c| c.to_string()),
                    "products": s.products,
                    "index_vectors": s.index_size,
                    "index_bytes": s.index_bytes,
                    "events": s.events,
                })
            );
            Ok(())
        }
        CatalogueCommand::Eval(args) => crate::eval::run(&args),
    }
}

/// `shoplook lookup PHOTO --server URL --api-key KEY`
#[derive(Args, Debug)]
pub struct LookupArgs {
    pub photo: PathBuf,
    /// Catalogue server, e.g. http://127.0.0.1:8787
    #[arg(long, env = "SHOPLOOK_SERVER")]
    pub server: String,
    #[arg(long, env = "SHOPLOOK_API_KEY", hide_env_values = true)]
    pub api_key: String,
    /// Search with this region only (what a user draws): x,y,width,height in photo pixels.
    #[arg(long, value_name = "x,y,w,h", value_parser = parse_region)]
    pub region: Option<Rect>,
    /// Products per item.
    #[arg(short, long, default_value_t = 3)]
    pub k: usize,
    /// At most this many items of the photo.
    #[arg(long, default_value_t = 5)]
    pub max_items: usize,
    /// Search every category, not only the item's.
    #[arg(long)]
    pub any_category: bool,
    #[arg(long)]
    pub max_price: Option<f64>,
    #[arg(long)]
    pub brand: Option<String>,
    #[arg(long)]
    pub in_stock: bool,
    /// Print one JSON object.
    #[arg(long)]
    pub json: bool,
    #[command(flatten)]
    pub engine: EngineArgs,
}

pub fn parse_region(s: &str) -> Result<Rect, String> {
    let v: Vec<f32> = s
        .split(',')
        .map(|p| {
            p.trim()
                .parse::<f32>()
                .map_err(|_| format!("{p:?} is not a number"))
        })
        .collect::<Result<_, _>>()?;
    match v[..] {
        [x, y, w, h] => Ok(Rect::new(x, y, w, h)),
        _ => Err("expected x,y,width,height".into()),
    }
}

/// One searched item of a lookup.
#[derive(Debug, serde::Serialize)]
pub struct LookedUp {
    pub label: String,
    pub category: String,
    pub score: f32,
    pub bbox: Rect,
    /// The category the results were restricted to (None: all categories).
    pub searched_category: Option<String>,
    pub query_id: String,
    pub results: Vec<SearchHit>,
}

pub fn run_lookup(args: LookupArgs) -> Result<(), String> {
    let bytes = std::fs::read(&args.photo)
        .map_err(|e| format!("cannot read {}: {e}", args.photo.display()))?;
    let engine = args.engine.load()?;
    let client = CatalogueClient::new(&args.server, &args.api_key).map_err(|e| e.to_string())?;
    let filters = SearchFilters {
        max_price: args.max_price,
        brand: args.brand.clone(),
        in_stock: args.in_stock.then_some(true),
        ..SearchFilters::default()
    };
    let photo = engine.decode(&bytes).map_err(|e| e.to_string())?;
    let (w, h) = (photo.original_width as f32, photo.original_height as f32);
    // (label, category, score, box, embedding)
    let mut queries: Vec<(String, String, f32, Rect, shoplook_core::Embedding)> = Vec::new();
    if let Some(r) = args.region {
        let e = engine
            .embed_region_of(&photo, r)
            .map_err(|e| e.to_string())?;
        queries.push(("region".into(), String::new(), 1.0, r, e));
    } else {
        let analysis = engine
            .analyze_photo(
                &photo,
                &AnalyzeOptions {
                    max_items: args.max_items,
                    ..AnalyzeOptions::default()
                },
            )
            .map_err(|e| e.to_string())?;
        for it in analysis.items {
            if let Some(v) = it.embedding {
                queries.push((
                    it.label,
                    it.category,
                    it.score,
                    it.bbox,
                    shoplook_core::Embedding {
                        vector: v,
                        model: analysis.embedder.clone(),
                    },
                ));
            }
        }
        if queries.is_empty() {
            // Nothing detected: search with the whole photo.
            let e = engine.embed_image(&bytes).map_err(|e| e.to_string())?;
            queries.push((
                "whole photo".into(),
                String::new(),
                1.0,
                Rect::new(0.0, 0.0, w, h),
                e,
            ));
        }
    }
    let mut found = Vec::new();
    for (label, category, score, bbox, emb) in queries {
        let mut searched = (!args.any_category && !category.is_empty()).then(|| category.clone());
        let mut resp = client
            .search_embedding(&emb, searched.as_deref(), args.k, &filters)
            .map_err(|e| e.to_string())?;
        if resp.results.is_empty() && searched.is_some() {
            // No product of that category: fall back to every category.
            searched = None;
            resp = client
                .search_embedding(&emb, None, args.k, &filters)
                .map_err(|e| e.to_string())?;
        }
        found.push(LookedUp {
            label,
            category,
            score,
            bbox,
            searched_category: searched,
            query_id: resp.query_id,
            results: resp.results,
        });
    }
    if args.json {
        println!(
            "{}",
            serde_json::json!({"photo": args.photo, "width": w, "height": h, "items": found})
        );
    } else {
        print_lookup(&args.photo, &found);
    }
    Ok(())
}

fn print_lookup(photo: &Path, found: &[LookedUp]) {
    println!("{}: {} item(s) looked up", photo.display(), found.len());
    for (i, f) in found.iter().enumerate() {
        let b = f.bbox;
        println!(
            "\n#{i} {} ({}) score {:.2} at {:.0},{:.0} {:.0}x{:.0}{}",
            f.label,
            if f.category.is_empty() {
                "-"
            } else {
                &f.category
            },
            f.score,
            b.x,
            b.y,
            b.width,
            b.height,
            match &f.searched_category {
                Some(c) => format!(" — searched in {c}"),
                None => " — searched in all categories".into(),
            }
        );
        if f.results.is_empty() {
            println!("   no matching products");
        }
        for (j, p) in f.results.iter().enumerate() {
            println!(
                "   {}. {} — {} — {:.2} {} — similarity {:.2}{}\n      buy: {}",
                j + 1,
                p.title,
                if p.brand.is_empty() { "-" } else { &p.brand },
                p.price,
                p.currency,
                p.score,
                if p.in_stock { "" } else { " (out of stock)" },
                p.url
            );
        }
    }
}
