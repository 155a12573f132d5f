//! Live camera mode: feed frames as they come, get items with stable `track_id`s.
//!
//! ```text
//! Frame ──(detection due?)──yes──▶ to_rgb at working size ─▶ detect ─▶ match (IoU, Hungarian)
//!   │                                                                    │ update / new / miss
//!   └─────no──▶ predict every track (constant velocity, Kalman) ◀───────┘
//! ```
//!
//! SORT (Bewley et al. 2016) with two refinements from ByteTrack (Zhang et al. 2022): detections
//! below the score that starts a track still keep an existing track alive (a second matching
//! round on the leftovers), and a track missed by a few detections is kept, predicted, and can
//! be matched again with its id. New tracks are reported only after `min_hits` detections, so a
//! single false detection never flickers on screen. Detection runs every Nth frame or
//! adaptively (a share of the camera's time); between detections the boxes follow the motion
//! model and the frame is not even converted. Embedding runs once per track (when it is
//! confirmed) and again only when its box has grown by `reembed_growth` (a closer view).

pub mod eval;
pub mod frame;
pub mod sort;

use std::sync::Arc;

use serde::{Deserialize, Serialize};

use crate::engine::{AnalyzeOptions, Engine};
use crate::error::{Error, Result};
use crate::geometry::Rect;
use crate::photo::Photo;
use crate::platform::{Instant, elapsed_ms};

pub use frame::{Frame, Pixels, Rotation, YuvRange};
pub use sort::{BoxFilter, MotionNoise};

/// When the detector runs.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum Schedule {
    /// On every Nth frame pushed (1 = every frame, no carrying).
    EveryNth(u32),
    /// When the time since the last detection (by the frames' timestamps) reaches what keeps
    /// detection to `share` of the time, given how long the last detections took; never more
    /// than `max_interval_ms` apart.
    Adaptive { share: f32, max_interval_ms: f64 },
}

/// Settings of a [`Tracker`].
#[derive(Debug, Clone, PartialEq)]
pub struct TrackerConfig {
    pub schedule: Schedule,
    /// Longer side of the working image detection and embedding see (the frame is reduced by
    /// whole blocks to between this and twice this).
    pub working_max_side: u32,
    /// Score a detection needs to start a track (`None`: the detector's own default).
    pub min_score: Option<f32>,
    /// Lower score that is still enough to keep an existing track going.
    pub keep_score: f32,
    /// At most this many detections per run.
    pub max_items: usize,
    /// Least IoU between a track's predicted box and a detection to match them.
    pub min_iou: f32,
    /// Detection runs a track survives unmatched (predicted, not reported) before it ends.
    pub max_misses: u32,
    /// Detections a new track needs before it is reported.
    pub min_hits: u32,
    /// Embed each confirmed track (once, see `reembed_growth`).
    pub embed: bool,
    /// Re-embed when a track's box area has grown by this factor since its last embedding.
    pub reembed_growth: f32,
    pub noise: MotionNoise,
}

impl Default for TrackerConfig {
    fn default() -> Self {
        TrackerConfig {
            schedule: Schedule::EveryNth(3),
            working_max_side: 640,
            min_score: None,
            keep_score: 0.15,
            max_items: 50,
            min_iou: 0.25,
            max_misses: 3,
            min_hits: 2,
            embed: false,
            reembed_growth: 1.5,
            noise: MotionNoise::default(),
        }
    }
}

/// An object followed across frames.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct TrackedItem {
    /// Stable across frames for as long as the object is followed; never reused.
    pub track_id: u64,
    pub label: String,
    pub category: String,
    /// Score of the track's last detection.
    pub score: f32,
    /// Box in display-orientation frame pixels (rotation applied).
    pub bbox: Rect,
    /// True when this frame's detection placed the box; false when the motion model carried it.
    pub detected: bool,
    /// Detections matched to this track so far.
    pub hits: u32,
    /// Unit-length embedding (when the tracker embeds); computed once per track.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub embedding: Option<Vec<f32>>,
    pub detector: String,
}

/// Counters since the tracker was made (or reset).
#[derive(Debug, Clone, Copy, Default, PartialEq, Serialize, Deserialize)]
pub struct TrackerStats {
    pub frames: u64,
    pub detections_run: u64,
    pub embeddings_run: u64,
    pub tracks_started: u64,
    /// Tracks that reached `min_hits` (were ever reported).
    pub tracks_confirmed: u64,
    /// Time spent in detection (conversion included) and embedding, and in all of `push`.
    pub detect_ms: f64,
    pub embed_ms: f64,
    pub total_ms: f64,
}

#[derive(Debug, Clone)]
struct Track {
    id: u64,
    filter: BoxFilter,
    label: String,
    category: String,
    detector: String,
    score: f32,
    hits: u32,
    misses: u32,
    detected_now: bool,
    embedding: Option<Vec<f32>>,
    embedded_area: f32,
}

impl Track {
    fn confirmed(&self, min_hits: u32) -> bool {
        self.hits >= min_hits
    }
}

/// Follows objects through a stream of camera frames. One per camera stream; the [`Engine`]
/// may be shared with other trackers and photo analyses.
pub struct Tracker {
    engine: Arc<Engine>,
    config: TrackerConfig,
    tracks: Vec<Track>,
    next_id: u64,
    last_ts_ms: Option<f64>,
    last_detect_ts_ms: Option<f64>,
    /// Moving average of the detection time, ms.
    detect_cost_ms: Option<f64>,
    /// Display size of the last pushed frame (what `carry` clamps to).
    display_size: Option<(u32, u32)>,
    stats: TrackerStats,
}

impl Tracker {
    pub fn new(engine: Arc<Engine>, config: TrackerConfig) -> Result<Self> {
        let bad = |d: String| Err(Error::model_invalid("tracker", d));
        match config.schedule {
            Schedule::EveryNth(0) => return bad("EveryNth(0): N must be at least 1".into()),
            Schedule::Adaptive {
                share,
                max_interval_ms,
                // Written so that NaN fails too (every comparison with NaN is false).
            } if !(share > 0.0 && share <= 1.0 && max_interval_ms > 0.0) => {
                return bad(format!(
                    "adaptive share {share} must be in (0, 1], max_interval_ms {max_interval_ms} > 0"
                ));
            }
            _ => {}
        }
        if config.working_max_side < 32 || !(0.0..1.0).contains(&config.keep_score) {
            return bad(format!(
                "working_max_side {} (>= 32) or keep_score {} (in [0, 1))",
                config.working_max_side, config.keep_score
            ));
        }
        Ok(Tracker {
            engine,
            config,
            tracks: Vec::new(),
            next_id: 1,
            last_ts_ms: None,
            last_detect_ts_ms: None,
            detect_cost_ms: None,
            display_size: None,
            stats: TrackerStats::default(),
        })
    }

    pub fn config(&self) -> &TrackerConfig {
        &self.config
    }

    pub fn stats(&self) -> TrackerStats {
        self.stats
    }

    /// Forgets every track (e.g. the camera was switched); ids keep increasing.
    pub fn reset(&mut self) {
        self.tracks.clear();
        self.last_ts_ms = None;
        self.last_detect_ts_ms = None;
        self.display_size = None;
    }

    /// Whether the frame at `timestamp_ms` gets a detection.
    fn detection_due(&self, timestamp_ms: f64) -> bool {
        let Some(last) = self.last_detect_ts_ms else {
            return true;
        };
        match self.config.schedule {
            Schedule::EveryNth(n) => self.stats.frames.is_multiple_of(n as u64),
            Schedule::Adaptive {
                share,
                max_interval_ms,
            } => {
                let cost = self.detect_cost_ms.unwrap_or(0.0);
                let wait = (cost * (1.0 - share as f64) / share as f64).min(max_interval_ms);
                timestamp_ms - last >= wait
            }
        }
    }

    /// Whether a frame at `timestamp_ms` would get a detection, i.e. needs its pixels. When
    /// false, [`Tracker::carry`] with the timestamp alone does what `push` would.
    pub fn needs_frame(&self, timestamp_ms: f64) -> bool {
        self.display_size.is_none() || self.detection_due(timestamp_ms)
    }

    /// A frame without its pixels (no detection due, see [`Tracker::needs_frame`]): the boxes
    /// move by the motion model; nothing is copied or converted.
    pub fn carry(&mut self, timestamp_ms: f64) -> Result<Vec<TrackedItem>> {
        let Some(size) = self.display_size else {
            return Err(Error::InvalidFrame {
                detail: "carry before the first frame: push its pixels".into(),
            });
        };
        if self.detection_due(timestamp_ms) {
            return Err(Error::InvalidFrame {
                detail: format!("a detection is due at {timestamp_ms} ms: push the frame's pixels"),
            });
        }
        self.step(None, size, timestamp_ms)
    }

    /// Takes the next camera frame (`timestamp_ms`: the camera's timestamp, increasing) and
    /// returns the confirmed tracks in it.
    pub fn push(&mut self, frame: &Frame, timestamp_ms: f64) -> Result<Vec<TrackedItem>> {
        frame.validate()?;
        let size = frame.display_size();
        self.display_size = Some(size);
        self.step(Some(frame), size, timestamp_ms)
    }

    fn step(
        &mut self,
        frame: Option<&Frame>,
        (fw, fh): (u32, u32),
        timestamp_ms: f64,
    ) -> Result<Vec<TrackedItem>> {
        let start = Instant::now();
        if !timestamp_ms.is_finite() {
            return Err(Error::InvalidFrame {
                detail: format!("timestamp {timestamp_ms}"),
            });
        }
        let due = self.detection_due(timestamp_ms);
        if due && frame.is_none() {
            return Err(Error::InvalidFrame {
                detail: "a detection is due: the frame's pixels are needed".into(),
            });
        }
        let dt = match self.last_ts_ms {
            Some(last) => ((timestamp_ms - last) / 1000.0).max(0.0) as f32,
            None => 0.0,
        };
        self.last_ts_ms = Some(timestamp_ms);
        for t in &mut self.tracks {
            t.filter.predict(dt);
            t.detected_now = false;
        }
        self.stats.frames += 1;
        if let (true, Some(frame)) = (due, frame) {
            self.detect_and_update(frame, timestamp_ms)?;
        }
        // Tracks carried entirely out of the frame end.
        self.tracks
            .retain(|t| t.filter.rect().clamp_to(fw as f32, fh as f32).area() >= 1.0);
        let out = self
            .tracks
            .iter()
            .filter(|t| t.confirmed(self.config.min_hits) && t.misses == 0)
            .map(|t| TrackedItem {
                track_id: t.id,
                label: t.label.clone(),
                category: t.category.clone(),
                score: t.score,
                bbox: t.filter.rect().clamp_to(fw as f32, fh as f32),
                detected: t.detected_now,
                hits: t.hits,
                embedding: t.embedding.clone(),
                detector: t.detector.clone(),
            })
            .collect();
        self.stats.total_ms += elapsed_ms(start);
        Ok(out)
    }

    fn detect_and_update(&mut self, frame: &Frame, timestamp_ms: f64) -> Result<()> {
        let start = Instant::now();
        let cfg = &self.config;
        let image = frame.to_rgb(cfg.working_max_side)?;
        let k = frame.block_for(cfg.working_max_side);
        // Boxes come back in display-frame pixels: the working image times the block size.
        let photo = Photo {
            original_width: image.width() * k,
            original_height: image.height() * k,
            image,
        };
        let analysis = self.engine.analyze_photo(
            &photo,
            &AnalyzeOptions {
                min_score: Some(cfg.keep_score),
                max_items: cfg.max_items,
                embed: false,
            },
        )?;
        let took = elapsed_ms(start);
        self.stats.detect_ms += took;
        self.stats.detections_run += 1;
        self.detect_cost_ms = Some(match self.detect_cost_ms {
            Some(c) => 0.7 * c + 0.3 * took,
            None => took,
        });
        self.last_detect_ts_ms = Some(timestamp_ms);

        let high_score = |detector: &str| {
            cfg.min_score.unwrap_or_else(|| {
                if detector.is_empty() {
                    0.3
                } else {
                    self.engine.default_min_score_of(detector).unwrap_or(0.3)
                }
            })
        };
        let (high, low): (Vec<_>, Vec<_>) = analysis
            .items
            .into_iter()
            .partition(|it| it.score >= high_score(&it.detector));

        // Round 1: every track against the confident detections.
        let track_boxes: Vec<Rect> = self.tracks.iter().map(|t| t.filter.rect()).collect();
        let high_boxes: Vec<Rect> = high.iter().map(|d| d.bbox).collect();
        let tracks = &self.tracks;
        let m1 = sort::match_iou(&track_boxes, &high_boxes, cfg.min_iou, |i, j| {
            tracks[i].label == high[j].label
        });
        let mut track_matched = vec![false; self.tracks.len()];
        let mut high_used = vec![false; high.len()];
        for &(i, j) in &m1 {
            track_matched[i] = true;
            high_used[j] = true;
        }
        // Round 2: confirmed tracks left over against the weak detections.
        let rest: Vec<usize> = (0..self.tracks.len())
            .filter(|&i| !track_matched[i] && self.tracks[i].confirmed(cfg.min_hits))
            .collect();
        let rest_boxes: Vec<Rect> = rest.iter().map(|&i| track_boxes[i]).collect();
        let low_boxes: Vec<Rect> = low.iter().map(|d| d.bbox).collect();
        let m2 = sort::match_iou(&rest_boxes, &low_boxes, cfg.min_iou, |i, j| {
            tracks[rest[i]].label == low[j].label
        });

        let apply = |t: &mut Track, d: &crate::engine::Item| {
            t.filter.update(&d.bbox);
            t.score = d.score;
            t.hits += 1;
            t.misses = 0;
            t.detected_now = true;
        };
        for &(i, j) in &m1 {
            apply(&mut self.tracks[i], &high[j]);
        }
        for &(ri, j) in &m2 {
            track_matched[rest[ri]] = true;
            apply(&mut self.tracks[rest[ri]], &low[j]);
        }
        // Unmatched: a new track is dropped at once, a confirmed one coasts a few runs.
        let (min_hits, max_misses) = (cfg.min_hits, cfg.max_misses);
        let mut i = 0;
        self.tracks.retain_mut(|t| {
            let matched = track_matched[i];
            i += 1;
            if matched {
                return true;
            }
            t.misses += 1;
            t.confirmed(min_hits) && t.misses <= max_misses
        });
        let mut newly_confirmed = 0;
        for t in &self.tracks {
            if t.detected_now && t.hits == min_hits {
                newly_confirmed += 1;
            }
        }
        for (j, d) in high.iter().enumerate() {
            if high_used[j] {
                continue;
            }
            self.tracks.push(Track {
                id: self.next_id,
                filter: BoxFilter::new(&d.bbox, cfg.noise),
                label: d.label.clone(),
                category: d.category.clone(),
                detector: d.detector.clone(),
                score: d.score,
                hits: 1,
                misses: 0,
                detected_now: true,
                embedding: None,
                embedded_area: 0.0,
            });
            self.next_id += 1;
            self.stats.tracks_started += 1;
            if min_hits <= 1 {
                newly_confirmed += 1;
            }
        }
        self.stats.tracks_confirmed += newly_confirmed;

        if cfg.embed {
            let embed_start = Instant::now();
            let growth = cfg.reembed_growth;
            let todo: Vec<usize> = (0..self.tracks.len())
                .filter(|&i| {
                    let t = &self.tracks[i];
                    t.detected_now
                        && t.confirmed(min_hits)
                        && (t.embedding.is_none()
                            || t.filter.rect().area() > growth * t.embedded_area)
                })
                .collect();
            if !todo.is_empty() {
                let (fw, fh) = (photo.original_width as f32, photo.original_height as f32);
                let boxes: Vec<Rect> = todo
                    .iter()
                    .map(|&i| self.tracks[i].filter.rect().clamp_to(fw, fh))
                    .collect();
                let embeddings = self.engine.embed_boxes_of(&photo, &boxes)?;
                for ((&i, e), b) in todo.iter().zip(embeddings).zip(&boxes) {
                    self.tracks[i].embedding = Some(e.vector);
                    self.tracks[i].embedded_area = b.area();
                }
                self.stats.embeddings_run += todo.len() as u64;
            }
            self.stats.embed_ms += elapsed_ms(embed_start);
        }
        Ok(())
    }
}
