//! `shoplook track`: the live-camera tracker measured on a folder of video frames (e.g.
//! scripts/fetch-video.sh's vtest.avi frames): frames per second with tracking under several
//! detection schedules against detection on every frame, and identity figures (id switches,
//! fragmented tracklets) against a reference made of detection on every frame linked by IoU
//! (no human annotation exists for these frames; see docs/tracking.md).

use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::Instant;

use clap::Args;
use image::{RgbImage, imageops};
use shoplook_core::track::eval::{IdBoxes, IdMetrics, compare, link_reference};
use shoplook_core::track::{Frame, Schedule, TrackedItem, Tracker, TrackerConfig};
use shoplook_core::{AnalyzeOptions, Photo, Rect};

use crate::ModelArgs;
use shoplook_cli::error::{CliError, CliResult};

#[derive(Args)]
pub struct TrackArgs {
    /// Folder of frames (JPEG or PNG, taken in name order).
    frames: PathBuf,
    /// Milliseconds between frames (vtest.avi: 10 frames per second).
    #[arg(long, default_value_t = 100.0)]
    frame_ms: f64,
    /// Detection every Nth frame, one run per value.
    #[arg(long, value_delimiter = ',', default_value = "1,2,3,5,10")]
    every: Vec<u32>,
    /// Adaptive schedules: share of the time detection may take, one run per value.
    #[arg(long, value_delimiter = ',', default_value = "0.5,0.25")]
    adaptive: Vec<f32>,
    /// Only this label counts in the identity figures (the reference and the tracks).
    #[arg(long, default_value = "Person")]
    label: String,
    #[arg(long, default_value_t = 0.25)]
    min_iou: f32,
    #[arg(long, default_value_t = 3)]
    max_misses: u32,
    #[arg(long, default_value_t = 2)]
    min_hits: u32,
    #[arg(long, default_value_t = 0.15)]
    keep_score: f32,
    /// Reference tracklets shorter than this many frames are left out.
    #[arg(long, default_value_t = 10)]
    min_len: usize,
    /// Write a contact sheet of tracked frames (the first --every value) with ids drawn.
    #[arg(long, value_name = "OUT.jpg")]
    sheet: Option<PathBuf>,
    /// Frames on the contact sheet.
    #[arg(long, default_value_t = 12)]
    sheet_frames: usize,
    /// Also run the first --every schedule with embedding on (once per track).
    #[arg(long)]
    embed: bool,
    /// Print one JSON object instead of tables.
    #[arg(long)]
    json: bool,
    #[command(flatten)]
    models: ModelArgs,
}

struct Run {
    name: String,
    fps: f64,
    ms_per_frame: f64,
    detections: u64,
    tracks_confirmed: u64,
    /// Mean time of a push without detection (carrying boxes), microseconds.
    carry_us: f64,
    embeddings: u64,
    embed_ms: f64,
    metrics: IdMetrics,
    tracked: Vec<Vec<TrackedItem>>,
}

fn load_frames(dir: &Path) -> CliResult<Vec<RgbImage>> {
    let mut names: Vec<PathBuf> = std::fs::read_dir(dir)
        .map_err(|source| CliError::Read {
            path: dir.to_path_buf(),
            source,
        })?
        .filter_map(|e| e.ok().map(|e| e.path()))
        .filter(|p| {
            p.extension()
                .and_then(|e| e.to_str())
                .is_some_and(|e| matches!(e, "jpg" | "jpeg" | "png"))
        })
        .collect();
    names.sort();
    if names.is_empty() {
        return Err(CliError::NoFrames {
            dir: dir.to_path_buf(),
        });
    }
    names
        .iter()
        .map(|p| {
            image::open(p)
                .map(|i| i.into_rgb8())
                .map_err(|source| CliError::Frame {
                    path: p.clone(),
                    source,
                })
        })
        .collect()
}

fn to_rgba(img: &RgbImage) -> Vec<u8> {
    img.pixels().flat_map(|p| [p[0], p[1], p[2], 255]).collect()
}

pub fn run(args: TrackArgs) -> CliResult<()> {
    let frames = load_frames(&args.frames)?;
    let (w, h) = frames[0].dimensions();
    // Camera buffers as a phone would hand them over (RGBA); made before timing.
    let buffers: Vec<Vec<u8>> = frames.iter().map(to_rgba).collect();
    let engine = Arc::new(args.models.load()?);
    let n = frames.len();

    // Reference: detection on every frame, no tracking.
    let options = AnalyzeOptions {
        embed: false,
        ..AnalyzeOptions::default()
    };
    let start = Instant::now();
    let mut detections: Vec<Vec<Rect>> = Vec::with_capacity(n);
    for (img, buf) in frames.iter().zip(&buffers) {
        // The same conversion from the camera buffer as the tracker's, then detection.
        let rgb = Frame::rgba(w, h, buf, w as usize * 4).to_rgb(640)?;
        let k = (img.width() / rgb.width()).max(1);
        let photo = Photo {
            original_width: rgb.width() * k,
            original_height: rgb.height() * k,
            image: rgb,
        };
        let a = engine.analyze_photo(&photo, &options)?;
        detections.push(
            a.items
                .into_iter()
                .filter(|i| i.label == args.label)
                .map(|i| i.bbox)
                .collect(),
        );
    }
    let detect_all_s = start.elapsed().as_secs_f64();
    let reference = link_reference(&detections, 0.5);

    let mut schedules: Vec<(String, Schedule)> = args
        .every
        .iter()
        .map(|&k| (format!("every {k}"), Schedule::EveryNth(k.max(1))))
        .collect();
    for &share in &args.adaptive {
        schedules.push((
            format!("adaptive {share}"),
            Schedule::Adaptive {
                share,
                max_interval_ms: 1000.0,
            },
        ));
    }
    if args.embed
        && let Some(&k) = args.every.first()
    {
        schedules.push((format!("every {k} + embed"), Schedule::EveryNth(k.max(1))));
    }
    let mut runs = Vec::new();
    for (name, schedule) in schedules {
        let config = TrackerConfig {
            schedule,
            embed: name.ends_with("embed"),
            min_iou: args.min_iou,
            max_misses: args.max_misses,
            min_hits: args.min_hits,
            keep_score: args.keep_score,
            ..TrackerConfig::default()
        };
        let mut tracker = Tracker::new(engine.clone(), config)?;
        let mut tracked = Vec::with_capacity(n);
        let start = Instant::now();
        for (i, buf) in buffers.iter().enumerate() {
            let frame = Frame::rgba(w, h, buf, w as usize * 4);
            tracked.push(tracker.push(&frame, i as f64 * args.frame_ms)?);
        }
        let secs = start.elapsed().as_secs_f64();
        let ids: Vec<IdBoxes> = tracked
            .iter()
            .map(|f| {
                f.iter()
                    .filter(|t| t.label == args.label)
                    .map(|t| (t.track_id, t.bbox))
                    .collect()
            })
            .collect();
        let stats = tracker.stats();
        runs.push(Run {
            name,
            fps: n as f64 / secs,
            ms_per_frame: secs * 1000.0 / n as f64,
            detections: stats.detections_run,
            tracks_confirmed: stats.tracks_confirmed,
            carry_us: if stats.frames > stats.detections_run {
                (stats.total_ms - stats.detect_ms - stats.embed_ms) * 1000.0
                    / (stats.frames - stats.detections_run) as f64
            } else {
                0.0
            },
            embeddings: stats.embeddings_run,
            embed_ms: stats.embed_ms,
            metrics: compare(&reference, &ids, 0.5, args.min_len),
            tracked,
        });
    }

    if let Some(out) = &args.sheet {
        let run = runs.first().ok_or(CliError::NoRun)?;
        contact_sheet(&frames, &run.tracked, args.sheet_frames, out)?;
        if !args.json {
            eprintln!("contact sheet ({}) written to {}", run.name, out.display());
        }
    }

    let ref_tracklets = {
        let mut len: HashMap<u64, usize> = HashMap::new();
        for f in &reference {
            for (id, _) in f {
                *len.entry(*id).or_default() += 1;
            }
        }
        (
            len.len(),
            len.values().filter(|l| **l >= args.min_len).count(),
        )
    };
    if args.json {
        let rows: Vec<serde_json::Value> = runs
            .iter()
            .map(|r| {
                serde_json::json!({
                    "schedule": r.name, "fps": r.fps, "ms_per_frame": r.ms_per_frame,
                    "detections": r.detections, "tracks_confirmed": r.tracks_confirmed,
                    "carry_us": r.carry_us, "embeddings": r.embeddings, "embed_ms": r.embed_ms,
                    "metrics": r.metrics, "coverage": r.metrics.coverage(),
                })
            })
            .collect();
        println!(
            "{}",
            serde_json::json!({
                "frames": n, "width": w, "height": h, "label": args.label,
                "detect_every_frame": { "fps": n as f64 / detect_all_s,
                    "ms_per_frame": detect_all_s * 1000.0 / n as f64,
                    "reference_tracklets": ref_tracklets.0,
                    "reference_tracklets_min_len": ref_tracklets.1 },
                "runs": rows,
            })
        );
        return Ok(());
    }
    println!(
        "{n} frames {w}x{h}; label {}; reference: detection on every frame, {:.1} fps ({:.1} ms/frame), {} tracklets ({} of >= {} frames)",
        args.label,
        n as f64 / detect_all_s,
        detect_all_s * 1000.0 / n as f64,
        ref_tracklets.0,
        ref_tracklets.1,
        args.min_len
    );
    println!(
        "| schedule | fps | ms/frame | detector runs | carry µs/frame | embeddings (ms) | tracks confirmed | ids on reference | id switches | fragmented tracklets | coverage |"
    );
    println!("|---|---|---|---|---|---|---|---|---|---|---|");
    for r in &runs {
        let m = &r.metrics;
        println!(
            "| {} | {:.1} | {:.1} | {} | {:.0} | {} ({:.0}) | {} | {} | {} | {} / {} | {:.3} |",
            r.name,
            r.fps,
            r.ms_per_frame,
            r.detections,
            r.carry_us,
            r.embeddings,
            r.embed_ms,
            r.tracks_confirmed,
            m.tracker_ids,
            m.id_switches,
            m.fragmented,
            m.reference_tracklets,
            m.coverage()
        );
    }
    conversion_bench(&frames[0]);
    Ok(())
}

/// Cost of turning a camera buffer into the detector's RGB working image: the tracker's direct
/// block-averaging conversion against a full-resolution RGB copy then the SIMD resize the
/// detectors use (fast_image_resize, bilinear), for a 1080p
/// frame (the vtest frame scaled up) in RGBA and NV21, upright and rotated.
fn conversion_bench(frame: &RgbImage) {
    use shoplook_core::track::Rotation;
    use shoplook_core::track::frame::rgb_to_yuv;
    let img = imageops::resize(frame, 1920, 1080, imageops::FilterType::Triangle);
    let (w, h) = img.dimensions();
    let rgba = to_rgba(&img);
    let y: Vec<u8> = img
        .pixels()
        .map(|p| rgb_to_yuv(p[0], p[1], p[2])[0])
        .collect();
    let mut vu = vec![0u8; w as usize * h as usize / 2];
    for cy in 0..h as usize / 2 {
        for cx in 0..w as usize / 2 {
            let p = img.get_pixel(cx as u32 * 2, cy as u32 * 2);
            let [_, u, v] = rgb_to_yuv(p[0], p[1], p[2]);
            vu[cy * w as usize + cx * 2] = v;
            vu[cy * w as usize + cx * 2 + 1] = u;
        }
    }
    let time = |f: &dyn Fn()| {
        f();
        let runs = 20;
        let start = Instant::now();
        for _ in 0..runs {
            f();
        }
        start.elapsed().as_secs_f64() * 1000.0 / runs as f64
    };
    println!();
    println!(
        "| 1920x1080 frame to the 640x360 working image | direct (block average) ms | full-res RGB copy + resize ms |"
    );
    println!("|---|---|---|");
    for (name, rot) in [("RGBA", Rotation::R0), ("RGBA rotated 90", Rotation::R90)] {
        let f = Frame::rgba(w, h, &rgba, w as usize * 4).with_rotation(rot);
        let direct = time(&|| {
            f.to_rgb(640).unwrap();
        });
        let full = time(&|| {
            let big = f.to_rgb(1 << 14).unwrap();
            let (bw, bh) = big.dimensions();
            shoplook_core::preprocess::resize_rgb(&big, bw / 3, bh / 3);
        });
        println!("| {name} | {direct:.1} | {full:.1} |");
    }
    for (name, rot) in [("NV21", Rotation::R0), ("NV21 rotated 90", Rotation::R90)] {
        let f = Frame::nv21(w, h, &y, w as usize, &vu, w as usize).with_rotation(rot);
        let direct = time(&|| {
            f.to_rgb(640).unwrap();
        });
        let full = time(&|| {
            let big = f.to_rgb(1 << 14).unwrap();
            let (bw, bh) = big.dimensions();
            shoplook_core::preprocess::resize_rgb(&big, bw / 3, bh / 3);
        });
        println!("| {name} | {direct:.1} | {full:.1} |");
    }
}

/// A grid of evenly spaced frames, each with its tracked boxes and `#id` labels.
fn contact_sheet(
    frames: &[RgbImage],
    tracked: &[Vec<TrackedItem>],
    count: usize,
    out: &Path,
) -> CliResult<()> {
    let count = count.clamp(1, frames.len());
    let cols = 4.min(count);
    let rows = count.div_ceil(cols);
    let (fw, fh) = frames[0].dimensions();
    let (tw, th) = (fw / 2, fh / 2);
    let mut sheet = RgbImage::from_pixel(tw * cols as u32, th * rows as u32, image::Rgb([0, 0, 0]));
    let step = frames.len() / count;
    for c in 0..count {
        let i = (c * step + step - 1).min(frames.len() - 1);
        let mut img = frames[i].clone();
        for t in &tracked[i] {
            let b = t.bbox;
            let colour = crate::annotate::colour(&format!("track{}", t.track_id));
            let thickness = if t.detected { 3 } else { 1 };
            crate::annotate::draw_rect(
                &mut img,
                b.x as i64,
                b.y as i64,
                b.width as i64,
                b.height as i64,
                thickness,
                colour,
            );
            crate::annotate::draw_label(
                &mut img,
                b.x as i64,
                b.y as i64 - 20,
                &format!("#{}", t.track_id),
                2,
                colour,
            );
        }
        crate::annotate::draw_label(
            &mut img,
            4,
            4,
            &format!("frame {}", i + 1),
            2,
            image::Rgb([0, 0, 0]),
        );
        let small = imageops::resize(&img, tw, th, imageops::FilterType::Triangle);
        imageops::replace(
            &mut sheet,
            &small,
            ((c % cols) as u32 * tw) as i64,
            ((c / cols) as u32 * th) as i64,
        );
    }
    sheet.save(out).map_err(|source| CliError::WriteImage {
        path: out.to_path_buf(),
        source,
    })
}
