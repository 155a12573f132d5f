//! `catalogue simulate`: simulated shoppers through the real HTTP service, the same sessions
//! under `visual` and `learned` ranking; JSON or a table, and optionally the learning curve.

use std::path::PathBuf;

use clap::Args;
use shoplook_tools::plot::{Chart, Series, svg};
use shoplook_tools::simulate::{SimConfig, SimReport, simulate};

use super::EngineArgs;
use crate::error::{CliError, CliResult, FlagError};

#[derive(Args, Debug, Clone)]
pub struct SimulateArgs {
    /// Shopper sessions (each run under both rankings).
    #[arg(long, default_value_t = 500)]
    pub sessions: usize,
    #[arg(long, default_value_t = 1)]
    pub seed: u64,
    /// Searches per session.
    #[arg(long, default_value_t = 2)]
    pub searches: usize,
    /// Distractor crops per photo (0-13).
    #[arg(long, default_value_t = 13)]
    pub crops: usize,
    /// Print `{"visual": {...}, "learned": {...}}` only.
    #[arg(long)]
    pub json: bool,
    /// Write the learning curve (nDCG@5 per stretch of sessions, both rankings) as an SVG.
    #[arg(long, value_name = "SVG")]
    pub plot: Option<PathBuf>,
    #[command(flatten)]
    pub engine: EngineArgs,
}

pub fn run(args: &SimulateArgs) -> CliResult<()> {
    if let Some(path) = &args.plot
        && !path
            .extension()
            .is_some_and(|e| e.eq_ignore_ascii_case("svg"))
    {
        return Err(FlagError::PlotNotSvg { path: path.clone() }.into());
    }
    let engine = args.engine.load()?;
    let mut config = SimConfig::new(args.sessions, args.seed);
    config.searches = args.searches;
    config.crops_per_photo = args.crops;
    let report = simulate(&engine, &config)?;
    if let Some(path) = &args.plot {
        plot(&report, path)?;
    }
    let arm = |a: &shoplook_tools::simulate::ArmReport| {
        serde_json::json!({
            "ctr_at_5": round(a.ctr_at_5),
            "purchases_per_session": round(a.purchases_per_session),
            "ndcg_at_5": round(a.ndcg_at_5),
        })
    };
    if args.json {
        println!(
            "{}",
            serde_json::json!({"visual": arm(&report.visual), "learned": arm(&report.learned)})
        );
        return Ok(());
    }
    println!(
        "{} sessions ({} searches, {} HTTP requests) over {} products, seed {}",
        report.sessions, report.searches, report.requests, report.products, report.seed
    );
    println!("| ranking | CTR@5 | purchases/session | nDCG@5 | first 10 %: CTR@5 | nDCG@5 |");
    println!("|---|---:|---:|---:|---:|---:|");
    for (name, a) in [("visual", &report.visual), ("learned", &report.learned)] {
        println!(
            "| {name} | {:.4} | {:.4} | {:.4} | {:.4} | {:.4} |",
            a.ctr_at_5,
            a.purchases_per_session,
            a.ndcg_at_5,
            a.first_sessions.ctr_at_5,
            a.first_sessions.ndcg_at_5
        );
    }
    Ok(())
}

fn round(x: f64) -> f64 {
    (x * 10_000.0).round() / 10_000.0
}

/// nDCG@5 per stretch of sessions: visual in grey-blue, learned in orange.
fn plot(report: &SimReport, path: &PathBuf) -> CliResult<()> {
    let points = |a: &shoplook_tools::simulate::ArmReport| -> Vec<(f64, f64)> {
        a.curve
            .iter()
            .map(|p| (p.sessions as f64, p.ndcg_at_5))
            .collect()
    };
    let (v, l) = (points(&report.visual), points(&report.learned));
    // Every stretch but the last holds as many sessions as the first.
    let stretch = report.visual.curve.first().map_or(0, |p| p.sessions);
    let title = format!(
        "Learning curve: {} simulated shopper sessions (seed {}), {} searches each",
        report.sessions,
        report.seed,
        report.searches / report.sessions.max(1)
    );
    let y_label = format!("nDCG@5, mean per search over each {stretch} sessions (0 to 1)");
    let svg = svg(&Chart {
        title: &title,
        x_label: "shopper sessions so far (count)",
        y_label: &y_label,
        y_decimals: 2,
        series: &[
            Series {
                name: "learned ranking (similarity + clicks and purchases so far)",
                color: [230, 120, 20],
                points: &l,
            },
            Series {
                name: "visual similarity only",
                color: [70, 110, 170],
                points: &v,
            },
        ],
    })?;
    std::fs::write(path, svg).map_err(|source| CliError::Write {
        path: path.clone(),
        source,
    })
}
