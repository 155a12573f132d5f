//! `shoplook bench`: model load, first result, then per-stage median and p90 over N runs.

use std::path::Path;
use std::time::Instant;

use shoplook_core::AnalyzeOptions;

use crate::Models;
use shoplook_cli::error::CliResult;

/// Nearest-rank percentile of sorted values.
fn percentile(sorted: &[f64], p: f64) -> f64 {
    let rank = ((p * sorted.len() as f64).ceil() as usize).clamp(1, sorted.len());
    sorted[rank - 1]
}

fn median(sorted: &[f64]) -> f64 {
    let n = sorted.len();
    if n % 2 == 1 {
        sorted[n / 2]
    } else {
        (sorted[n / 2 - 1] + sorted[n / 2]) / 2.0
    }
}

pub fn run(
    photo: &Path,
    bytes: &[u8],
    models: &Models,
    runs: usize,
    warmup: usize,
    json: bool,
) -> CliResult<()> {
    let start = Instant::now();
    let engine = models.load()?;
    let load_ms = start.elapsed().as_secs_f64() * 1000.0;
    let options = AnalyzeOptions::default();
    let first = engine.analyze(bytes, &options)?;
    let first_result_ms = start.elapsed().as_secs_f64() * 1000.0;
    for _ in 0..warmup {
        engine.analyze(bytes, &options)?;
    }
    let mut stages: [(&str, Vec<f64>); 6] = [
        ("decode", vec![]),
        ("detect", vec![]),
        ("pose", vec![]),
        ("embed", vec![]),
        ("total", vec![]),
        // A shopper's tap: the vector of one box of the decoded photo, alone (the embed stage
        // spreads many crops over the threads, so its time over the crop count is not this).
        ("tap", vec![]),
    ];
    let photo_decoded = engine.decode(bytes)?;
    let tapped = first.items.first().map(|item| item.bbox);
    for _ in 0..runs {
        let t = engine.analyze(bytes, &options)?.timings;
        let tap_ms = match tapped {
            Some(region) => {
                let start = Instant::now();
                engine.embed_region_of(&photo_decoded, region)?;
                start.elapsed().as_secs_f64() * 1000.0
            }
            None => 0.0,
        };
        for (stage, v) in [
            t.decode_ms,
            t.detect_ms,
            t.pose_ms,
            t.embed_ms,
            t.total_ms,
            tap_ms,
        ]
        .into_iter()
        .enumerate()
        {
            stages[stage].1.push(v);
        }
    }
    let mut table = serde_json::Map::new();
    for (name, values) in &mut stages {
        values.sort_by(f64::total_cmp);
        table.insert(
            name.to_string(),
            serde_json::json!({"median_ms": median(values), "p90_ms": percentile(values, 0.9)}),
        );
    }
    let peak_rss_mb = peak_rss_mb();
    if json {
        let out = serde_json::json!({
            "photo": photo.display().to_string(),
            "runs": runs,
            "load_ms": load_ms,
            "first_result_ms": first_result_ms,
            // The names issue 9 asks for (same values): model load, and model load to the
            // first result (what a user waits for after opening the app).
            "model_load_ms": load_ms,
            "cold_start_ms": first_result_ms,
            "items": first.items.len(),
            "stages": table,
            "peak_rss_mb": peak_rss_mb,
        });
        println!("{out}");
    } else {
        println!(
            "{}: {} item(s), {runs} runs after {warmup} warm-up",
            photo.display(),
            first.items.len()
        );
        println!("model load {load_ms:.1} ms, first result {first_result_ms:.1} ms (cold start)");
        println!("{:<8} {:>10} {:>10}", "stage", "median ms", "p90 ms");
        for (name, values) in &stages {
            println!(
                "{:<8} {:>10.2} {:>10.2}",
                name,
                median(values),
                percentile(values, 0.9)
            );
        }
        if let Some(mb) = peak_rss_mb {
            println!("peak RSS {mb:.1} MB");
        }
    }
    Ok(())
}

/// Peak resident memory of this process (Linux `VmHWM`), in MB.
fn peak_rss_mb() -> Option<f64> {
    let status = std::fs::read_to_string("/proc/self/status").ok()?;
    let line = status.lines().find(|l| l.starts_with("VmHWM:"))?;
    let kb: f64 = line.split_whitespace().nth(1)?.parse().ok()?;
    Some(kb / 1024.0)
}
