//! `shoplook`: the command-line front end of the SDK.
//!
//! Output contract (scripts rely on it): results on stdout; on any failure exactly one line on
//! stderr and exit code 2 (bad input, missing file...) — never a panic message.

mod annotate;
mod bench;
mod models;
mod track;

use std::path::{Path, PathBuf};
use std::process::ExitCode;

use clap::{Args, Parser, Subcommand};
use shoplook_cli::catalogue;
use shoplook_cli::error::{CliError, CliResult};
use shoplook_core::{Analysis, AnalyzeOptions, Engine, EngineConfig, Rect};

#[derive(Parser)]
#[command(
    name = "shoplook",
    version,
    about = "Shop the look: find shoppable objects in a photo, on this machine"
)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Detect shoppable objects in a photo.
    Analyze {
        photo: PathBuf,
        /// Print one JSON object instead of a table.
        #[arg(long)]
        json: bool,
        /// Write the photo with labelled boxes drawn on it (JPEG).
        #[arg(long, value_name = "OUT.jpg")]
        annotate: Option<PathBuf>,
        /// Minimum detection score (default: each detector's own).
        #[arg(long, value_name = "S")]
        min_score: Option<f32>,
        #[arg(long, value_name = "N", default_value_t = 20)]
        max_items: usize,
        /// Include each item's embedding in the JSON output.
        #[arg(long)]
        embeddings: bool,
        #[command(flatten)]
        models: ModelArgs,
    },
    /// Print the embedding of a whole photo or of a region of it.
    Embed {
        photo: PathBuf,
        /// Region in photo pixels: x,y,width,height.
        #[arg(long, value_name = "x,y,w,h", value_parser = catalogue::lookup::parse_region)]
        region: Option<Rect>,
        #[arg(long)]
        json: bool,
        #[command(flatten)]
        models: ModelArgs,
    },
    /// Time model loading and each pipeline stage over repeated runs.
    Bench {
        photo: PathBuf,
        #[arg(long, default_value_t = 20)]
        runs: usize,
        #[arg(long, default_value_t = 2)]
        warmup: usize,
        /// Print one JSON object instead of a table.
        #[arg(long)]
        json: bool,
        #[command(flatten)]
        models: ModelArgs,
    },
    /// The catalogue lookup service: ingest product feeds, serve the API, manage keys, evaluate.
    Catalogue {
        #[command(subcommand)]
        command: catalogue::CatalogueCommand,
    },
    /// Analyse a photo on this machine and look every item up in a catalogue server.
    Lookup(catalogue::LookupArgs),
    /// Measure the live-camera tracker on a folder of video frames (docs/tracking.md).
    Track(track::TrackArgs),
    /// Model files: export them as the NNEF archives the phone builds load.
    Models {
        #[command(subcommand)]
        command: models::ModelsCommand,
    },
}

#[derive(Args, Clone)]
struct ModelArgs {
    /// Model directory (default: $SHOPLOOK_MODELS or the models/ folder of this checkout).
    #[arg(long, value_name = "DIR", global = true)]
    models: Option<PathBuf>,
    /// Detectors to run, comma-separated manifest names (e.g. ssd_mbv2_oidv4,nanodet).
    #[arg(long, value_delimiter = ',', global = true)]
    detectors: Option<Vec<String>>,
    /// Threads that embed the crops of one photo (default: up to 4).
    #[arg(long, value_name = "N", global = true)]
    threads: Option<usize>,
    /// Find each person's top, bottoms, shoes, headwear and eyewear with the pose model
    /// (`--pose` alone: movenet_multipose; or a pose manifest name). Off by default.
    #[arg(long, value_name = "MANIFEST", num_args = 0..=1,
          default_missing_value = shoplook_core::engine::POSE_MODEL, global = true)]
    pose: Option<String>,
}

impl ModelArgs {
    fn load(&self) -> CliResult<Engine> {
        let dir = self
            .models
            .clone()
            .unwrap_or_else(shoplook_http::default_model_dir);
        let mut config = EngineConfig::default();
        if let Some(d) = &self.detectors {
            config.detectors = d.clone();
        }
        if let Some(t) = self.threads {
            config.threads = t.max(1);
        }
        config.pose = self.pose.clone();
        Engine::from_dir_with(&dir, &config).map_err(CliError::from)
    }
}

fn read_photo(path: &Path) -> CliResult<Vec<u8>> {
    std::fs::read(path).map_err(|source| CliError::Read {
        path: path.to_path_buf(),
        source,
    })
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    catalogue::init_logging();
    // Library code returns errors rather than panicking; this guard keeps the promise of one
    // clean line on stderr even if a bug somewhere does panic.
    std::panic::set_hook(Box::new(|info| {
        eprintln!("shoplook: internal error: {info}")
    }));
    match std::panic::catch_unwind(|| run(cli)) {
        Ok(Ok(())) => ExitCode::SUCCESS,
        Ok(Err(e)) => {
            // The message of a `CliError` already ends with the words of its source chain
            // (`cannot read x.jpg: No such file...`): printed once, on one line.
            eprintln!("shoplook: {e}");
            ExitCode::from(2)
        }
        Err(_) => ExitCode::from(2),
    }
}

fn run(cli: Cli) -> CliResult<()> {
    match cli.command {
        Command::Analyze {
            photo,
            json,
            annotate,
            min_score,
            max_items,
            embeddings,
            models,
        } => {
            let bytes = read_photo(&photo)?;
            let engine = models.load()?;
            let options = AnalyzeOptions {
                min_score,
                max_items,
                embed: embeddings,
            };
            let analysis = engine.analyze(&bytes, &options)?;
            if let Some(out) = annotate {
                let photo = engine.decode(&bytes)?;
                annotate::write(&photo, &analysis.items, &out)?;
                if !json {
                    eprintln!("annotated photo written to {}", out.display());
                }
            }
            if json {
                println!("{}", analysis.to_json());
            } else {
                print_table(&photo, &analysis);
            }
            Ok(())
        }
        Command::Embed {
            photo,
            region,
            json,
            models,
        } => {
            let bytes = read_photo(&photo)?;
            let engine = models.load()?;
            let embedding = match region {
                Some(r) => engine.embed_region(&bytes, r),
                None => engine.embed_image(&bytes),
            }?;
            if json {
                println!("{}", embedding.to_json());
            } else {
                let v: Vec<String> = embedding.vector.iter().map(|x| format!("{x:.6}")).collect();
                println!("{} {}", embedding.model, v.join(" "));
            }
            Ok(())
        }
        Command::Bench {
            photo,
            runs,
            warmup,
            json,
            models,
        } => {
            let bytes = read_photo(&photo)?;
            bench::run(&photo, &bytes, &models, runs.max(1), warmup, json)
        }
        Command::Catalogue { command } => catalogue::run(command),
        Command::Lookup(args) => catalogue::run_lookup(args),
        Command::Track(args) => track::run(args),
        Command::Models { command } => models::run(command),
    }
}

fn print_table(photo: &Path, a: &Analysis) {
    println!(
        "{}: {}x{}, {} shoppable item(s)",
        photo.display(),
        a.width,
        a.height,
        a.items.len()
    );
    if !a.items.is_empty() {
        println!(
            "{:>3}  {:<18} {:<12} {:>5}  {:>24}  {:>6}",
            "#", "label", "category", "score", "box (x, y, w, h)", "person"
        );
    }
    for item in &a.items {
        let b = item.bbox;
        println!(
            "{:>3}  {:<18} {:<12} {:>5.2}  {:>24}  {:>6}",
            item.id,
            item.label,
            item.category,
            item.score,
            format!("{:.0}, {:.0}, {:.0}, {:.0}", b.x, b.y, b.width, b.height),
            item.person_id.map(|p| format!("P{p}")).unwrap_or_default()
        );
    }
    let t = a.timings;
    println!(
        "time: decode {:.1} ms, detect {:.1} ms, pose {:.1} ms, embed {:.1} ms, total {:.1} ms",
        t.decode_ms, t.detect_ms, t.pose_ms, t.embed_ms, t.total_ms
    );
}

pub(crate) use ModelArgs as Models;
