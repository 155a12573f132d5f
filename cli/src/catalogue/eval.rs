//! `catalogue eval`: flags in, the library's `EvalReport` printed as a table or JSON.

use std::path::PathBuf;

use clap::Args;
use shoplook_tools::eval::EvalConfig;

use super::EngineArgs;
use crate::error::CliResult;

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
    pub engine: EngineArgs,
}

pub fn run(args: &EvalArgs) -> CliResult<()> {
    let engine = args.engine.load()?;
    let config = EvalConfig {
        feed: args.feed.clone(),
        distractors: args.distractors.clone(),
        photos: args.photos.clone(),
        random_distractors: args.random_distractors,
    };
    let report = shoplook_tools::eval::evaluate(&engine, &config)?;
    if !report.ingest.failed.is_empty() {
        eprint!("{}", report.ingest);
    }
    if args.json {
        println!(
            "{}",
            serde_json::json!({"catalogue_products": report.catalogue_products, "rows": report.rows})
        );
        return Ok(());
    }
    println!(
        "catalogue: {} products ({})",
        report.catalogue_products,
        args.feed.display()
    );
    println!("| query | queries | recall@1 | recall@5 |");
    println!("|---|---:|---:|---:|");
    for r in report.rows {
        println!(
            "| {} | {} | {:.2} | {:.2} |",
            r.query, r.queries, r.recall_at_1, r.recall_at_5
        );
    }
    Ok(())
}
