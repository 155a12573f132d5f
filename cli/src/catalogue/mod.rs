//! The command-line front end of the catalogue service: `shoplook catalogue ...` (ingest,
//! serve, keys, stats, eval) and `shoplook lookup`. Flags (clap), progress bars and printing
//! live here, on the binary side; the catalogue crates (`shoplook-store`, `shoplook-domain`,
//! `shoplook-http`, `shoplook-tools`) do the work and return values.
//!
//! Two binaries of this crate share this module: `shoplook` and `shoplook-catalogue` (the
//! same subcommands, so the catalogue's integration tests can run the real server).

mod ads;
mod eval;
mod images;
mod keys;
pub mod lookup;
mod progress;
mod seed_events;
mod simulate;

use std::io::IsTerminal;
use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;

use clap::{Args, Subcommand};
use shoplook_core::Engine;
use shoplook_domain::ingest::{IngestOptions, IngestProgress, Quiet};
use shoplook_domain::keys::{ROLE_NAMES, Role};
use shoplook_domain::trends::TrendsConfig;
use shoplook_http::{ConnLimits, ServeConfig};
use shoplook_store::{Store, StoreConfig, open_store};

use crate::error::{CliError, CliResult, FlagError};

pub use eval::EvalArgs;
pub use lookup::{LookupArgs, run_lookup};
pub use seed_events::SeedEventsArgs;
pub use simulate::SimulateArgs;

/// Log lines (`serve`'s requests) on stderr; `RUST_LOG` filters them (default `info`).
pub fn init_logging() {
    use tracing_subscriber::EnvFilter;
    let filter = EnvFilter::try_from_default_env().unwrap_or_else(|_| EnvFilter::new("info"));
    let _ = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(std::io::stderr)
        .with_ansi(std::io::stderr().is_terminal())
        .try_init();
}

#[derive(Args, Clone, Debug)]
pub struct StoreArgs {
    /// Data directory of the embedded store (SQLite + on-disk HNSW index).
    #[arg(long, value_name = "DIR", env = "SHOPLOOK_DATA")]
    pub data: Option<PathBuf>,
    /// PostgreSQL + pgvector instead of the embedded store: postgres://user@host:port/db
    #[arg(long, value_name = "URL", env = "SHOPLOOK_STORE")]
    pub store: Option<String>,
    /// Vector quantisation of a new embedded index: f32, f16, bf16, i8, b1.
    #[arg(long, default_value = shoplook_store::sqlite::DEFAULT_QUANTIZATION)]
    pub quantization: String,
}

impl StoreArgs {
    /// The flags, and the HNSW search breadth of `SHOPLOOK_EF_SEARCH` (unset: each store's
    /// default, see `StoreConfig::ef_search`).
    fn config(&self) -> StoreConfig {
        let mut c = StoreConfig::new(self.data.clone(), self.store.clone());
        c.quantization = self.quantization.clone();
        c.ef_search = env_setting("SHOPLOOK_EF_SEARCH");
        c
    }

    pub fn open(&self) -> CliResult<Box<dyn Store>> {
        open_and_report(&self.config())
    }
}

/// Opens the store and prints, one line each, the index files it passed over (the store
/// itself prints nothing).
fn open_and_report(config: &StoreConfig) -> CliResult<Box<dyn Store>> {
    let store = open_store(config)?;
    for ignored in store.ignored_index_files() {
        eprintln!("catalogue: {ignored}");
    }
    Ok(store)
}

/// A setting read once at start from the environment variable `name`; unset, or a value that
/// does not parse, leaves the default.
fn env_setting<T: std::str::FromStr>(name: &str) -> Option<T> {
    std::env::var(name).ok()?.parse().ok()
}

/// The trend reports' privacy settings, read once at start: `SHOPLOOK_TRENDS_K` (distinct
/// sessions per published cell; at least 2, default 20) and `SHOPLOOK_TRENDS_EPSILON` (Laplace
/// noise of scale 1/epsilon, > 0; default none). A value outside those is ignored.
fn trends_settings() -> TrendsConfig {
    TrendsConfig::with_settings(
        env_setting("SHOPLOOK_TRENDS_K"),
        env_setting("SHOPLOOK_TRENDS_EPSILON"),
    )
}

#[derive(Args, Clone, Debug)]
pub struct EngineArgs {
    /// Model directory (default: $SHOPLOOK_MODELS or the models/ folder of this checkout).
    #[arg(long, value_name = "DIR")]
    pub models: Option<PathBuf>,
}

impl EngineArgs {
    pub fn load(&self) -> CliResult<Engine> {
        let dir = self
            .models
            .clone()
            .unwrap_or_else(shoplook_http::default_model_dir);
        Engine::from_dir(&dir).map_err(CliError::from)
    }

    /// The default models plus the pose model (each person's garments become items).
    pub fn load_with_pose(&self) -> CliResult<Engine> {
        let dir = self
            .models
            .clone()
            .unwrap_or_else(shoplook_http::default_model_dir);
        let config = shoplook_core::EngineConfig {
            pose: Some(shoplook_core::engine::POSE_MODEL.into()),
            ..Default::default()
        };
        Engine::from_dir_with(&dir, &config).map_err(CliError::from)
    }
}

/// The try-it page's files: `--web-dir` (or the default) and the `--models` directory.
fn web_dirs(web_dir: Option<PathBuf>, engine: &EngineArgs) -> shoplook_http::WebDirs {
    let mut dirs = shoplook_http::WebDirs::default();
    if let Some(w) = web_dir {
        dirs.web = w;
    }
    if let Some(m) = &engine.models {
        dirs.models = m.clone();
    }
    dirs
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
        images: images::ImageArgs,
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
        /// Seconds a client has to send a request's headers (idle keep-alive included).
        #[arg(long, default_value_t = 10.0, value_name = "SECONDS")]
        header_timeout: f64,
        /// Seconds a client has to send a request's body and get the answer (else 408).
        #[arg(long, default_value_t = 30.0, value_name = "SECONDS")]
        request_timeout: f64,
        /// Open connections in all (more wait to be accepted).
        #[arg(long, default_value_t = 1024)]
        max_connections: usize,
        /// Open connections from one IP address (more get 503).
        #[arg(long, default_value_t = 128)]
        max_connections_per_ip: usize,
        /// Days the search and event logs are kept (purged hourly; the learned ranking is
        /// rebuilt from what remains).
        #[arg(long, default_value_t = shoplook_domain::learn::RETENTION_DAYS)]
        retention_days: u32,
        /// Files of the try-it page at /try (default: $SHOPLOOK_WEB or this checkout's web/;
        /// its wasm build comes from scripts/build-wasm.sh).
        #[arg(long, value_name = "DIR")]
        web_dir: Option<PathBuf>,
        #[command(flatten)]
        ads: ads::AdArgs,
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
    Eval(EvalArgs),
    /// Simulated shoppers through the real HTTP service: visual vs learned ranking.
    Simulate(SimulateArgs),
    /// Fill the search and event logs with labelled synthetic demo traffic (for the console).
    SeedEvents(SeedEventsArgs),
}

#[derive(Subcommand, Debug)]
pub enum KeysCommand {
    /// Create a key and print it (once: only its hash is stored).
    Create {
        #[command(flatten)]
        store: StoreArgs,
        #[arg(long)]
        name: String,
        /// What the key may do besides searching and reporting events: `app` (nothing more),
        /// `admin` (write the catalogue, see all campaigns and reports), `advertiser` (its own
        /// campaigns), `brand` (reports on its own brand; needs --brand).
        #[arg(long, value_parser = clap::builder::PossibleValuesParser::new(ROLE_NAMES), default_value = "app")]
        role: String,
        /// The brand of a `--role brand` key (as the feed spells it; compared ignoring case).
        #[arg(long)]
        brand: Option<String>,
        /// Same as `--role admin`.
        #[arg(long, conflicts_with_all = ["role", "brand"])]
        admin: bool,
    },
    /// List every key: id, name, role, created, revoked (never a secret: only hashes are kept).
    List {
        #[command(flatten)]
        store: StoreArgs,
        /// One JSON object per line instead of a table.
        #[arg(long)]
        json: bool,
    },
    /// Revoke a key by its id (`keys list`): every server sharing the store refuses it from its
    /// next request.
    Revoke {
        #[command(flatten)]
        store: StoreArgs,
        /// The key's id (`key_` + 16 hex digits).
        id: String,
    },
}

pub fn run(cmd: CatalogueCommand) -> CliResult<()> {
    match cmd {
        CatalogueCommand::Ingest {
            feed,
            store,
            delete_missing,
            workers,
            verbose,
            json,
            images,
            engine,
        } => {
            let images = images.policy()?;
            let engine = engine.load()?;
            let store = store.open()?;
            let mut options = IngestOptions {
                delete_missing,
                images,
                ..IngestOptions::default()
            };
            if let Some(w) = workers {
                options.workers = w;
            }
            let reporter: Box<dyn IngestProgress> = if verbose {
                Box::new(progress::Lines)
            } else if std::io::stderr().is_terminal() {
                Box::new(progress::Bar::default())
            } else {
                Box::new(Quiet)
            };
            let summary = shoplook_domain::ingest::ingest_file(
                &engine,
                store.as_ref(),
                &feed,
                &options,
                reporter.as_ref(),
            )?;
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
            header_timeout,
            request_timeout,
            max_connections,
            max_connections_per_ip,
            retention_days,
            web_dir,
            ads,
            engine,
        } => {
            let ads = ads.config()?;
            let mut config = store.config();
            config.read_url = read_store;
            let store: Arc<dyn Store> = Arc::from(open_and_report(&config)?);
            let contract = match store.contract()? {
                Some(c) => c,
                None => {
                    // Empty catalogue: it will hold vectors of the shipped embedder.
                    let c = engine.load()?.embedder_contract().clone();
                    store.ensure_contract(&c)?;
                    c
                }
            };
            let seconds = |name: &'static str, s: f64| {
                Duration::try_from_secs_f64(s)
                    .ok()
                    .filter(|d| !d.is_zero())
                    .ok_or(FlagError::Seconds { flag: name })
            };
            let cfg = ServeConfig {
                listen,
                rate_limit,
                burst,
                max_body,
                limits: ConnLimits {
                    header_timeout: seconds("header-timeout", header_timeout)?,
                    request_timeout: seconds("request-timeout", request_timeout)?,
                    max_connections,
                    max_connections_per_ip,
                },
                web: Some(web_dirs(web_dir, &engine)),
            };
            let kind = store.kind();
            shoplook_http::App::new(store, contract.clone(), cfg)
                .with_trends(trends_settings())
                .with_learning_and_ads(
                    Default::default(),
                    retention_days,
                    Duration::from_secs(3600),
                    ads,
                )
                .serve_blocking(|addr| {
                    // Scripts wait for this line (and read the port from it with --listen :0).
                    println!("listening on http://{addr} ({kind} store, model {contract})");
                    use std::io::Write;
                    let _ = std::io::stdout().flush();
                })
                .map_err(CliError::from)
        }
        CatalogueCommand::Keys {
            command:
                KeysCommand::Create {
                    store,
                    name,
                    role,
                    brand,
                    admin,
                },
        } => {
            let role = if admin { "admin" } else { role.as_str() };
            let role = Role::parse(role, brand.as_deref()).map_err(CliError::Role)?;
            let store = store.open()?;
            let key = shoplook_domain::keys::issue_key(store.as_ref(), &name, &role)?;
            println!("{}", key.secret);
            eprintln!(
                "created {role} key {name:?} with id {}; the secret is shown only this once \
                 (the store keeps its hash)",
                key.id
            );
            Ok(())
        }
        CatalogueCommand::Keys {
            command: KeysCommand::List { store, json },
        } => {
            let store = store.open()?;
            let keys = store.list_keys()?;
            print!("{}", keys::listing(&keys, json));
            Ok(())
        }
        CatalogueCommand::Keys {
            command: KeysCommand::Revoke { store, id },
        } => {
            let store = store.open()?;
            keys::revoke(store.as_ref(), &id)
        }
        CatalogueCommand::Stats { store } => {
            let store = store.open()?;
            store.flush()?;
            let s = store.stats()?;
            let contract = store.contract()?;
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
        CatalogueCommand::Eval(args) => eval::run(&args),
        CatalogueCommand::Simulate(args) => simulate::run(&args),
        CatalogueCommand::SeedEvents(args) => seed_events::run(&args),
    }
}
