//! Live camera mode: `Tracker` follows objects through camera frames with stable track ids
//! (core's `track` module, docs/tracking.md).
//!
//! Frames cross the boundary as byte arrays (one copy, UniFFI has no zero-copy buffers); frames
//! on which no detection is due are only checked, never converted. `needsPixels` tells the app
//! ahead of time, so it can call `carry` with the timestamp alone and copy nothing.

use std::sync::{Arc, Mutex};

use shoplook_core as core;
use shoplook_core::track::{Frame, Rotation, Schedule, YuvRange};

use crate::ShopLook;
use crate::error::{Result, guard};
use crate::types::Rect;

/// Settings of a `Tracker`; the defaults are core's (detection on every 3rd frame).
#[derive(Debug, Clone, PartialEq, uniffi::Record)]
pub struct TrackerOptions {
    /// Detection on every Nth frame (1 = every frame). Ignored when `adaptiveShare` is set.
    #[uniffi(default = 3)]
    pub every_nth_frame: u32,
    /// Adaptive schedule instead: detection takes at most this share of the camera's time
    /// (e.g. 0.25), judged from the frames' timestamps and the measured detection time.
    #[uniffi(default = None)]
    pub adaptive_share: Option<f32>,
    /// Longer side of the image detection and embedding see.
    #[uniffi(default = 640)]
    pub working_max_side: u32,
    /// Detections a new track needs before it is reported.
    #[uniffi(default = 2)]
    pub min_hits: u32,
    /// Detection runs a track survives unmatched before it ends.
    #[uniffi(default = 3)]
    pub max_misses: u32,
    /// Embed each track once (and again when its box grew 1.5x).
    #[uniffi(default = false)]
    pub embed: bool,
}

impl From<TrackerOptions> for core::TrackerConfig {
    fn from(o: TrackerOptions) -> Self {
        let schedule = match o.adaptive_share {
            Some(share) => Schedule::Adaptive {
                share,
                max_interval_ms: 1000.0,
            },
            None => Schedule::EveryNth(o.every_nth_frame),
        };
        core::TrackerConfig {
            schedule,
            working_max_side: o.working_max_side,
            min_hits: o.min_hits,
            max_misses: o.max_misses,
            embed: o.embed,
            ..core::TrackerConfig::default()
        }
    }
}

/// An object followed across frames.
#[derive(Debug, Clone, PartialEq, uniffi::Record)]
pub struct TrackedItem {
    /// The same while the object is followed; never reused.
    pub track_id: u64,
    pub label: String,
    pub category: String,
    pub score: f32,
    /// Box in display-orientation frame pixels (rotation applied).
    pub bbox: Rect,
    /// True when this frame's detection placed the box, false when it was carried.
    pub detected: bool,
    /// Detections matched to this track so far.
    pub hits: u32,
    pub embedding: Option<Vec<f32>>,
    pub detector: String,
}

impl From<core::TrackedItem> for TrackedItem {
    fn from(t: core::TrackedItem) -> Self {
        TrackedItem {
            track_id: t.track_id,
            label: t.label,
            category: t.category,
            score: t.score,
            bbox: t.bbox.into(),
            detected: t.detected,
            hits: t.hits,
            embedding: t.embedding,
            detector: t.detector,
        }
    }
}

/// Counters since the tracker was made or reset.
#[derive(Debug, Clone, Copy, PartialEq, uniffi::Record)]
pub struct TrackerStats {
    pub frames: u64,
    pub detections_run: u64,
    pub embeddings_run: u64,
    pub tracks_confirmed: u64,
    pub detect_ms: f64,
    pub embed_ms: f64,
    pub total_ms: f64,
}

/// Follows objects through one camera stream. Methods block while a detection runs (tens of
/// milliseconds): call them on the camera's analysis thread (CameraX `ImageAnalysis` with
/// keep-only-latest, `AVCaptureVideoDataOutput`'s queue), not the UI thread.
#[derive(uniffi::Object)]
pub struct Tracker {
    inner: Mutex<core::Tracker>,
}

fn rotation(degrees: i32) -> Result<Rotation> {
    Ok(Rotation::from_degrees(degrees)?)
}

fn to_u(v: u32) -> usize {
    v as usize
}

#[uniffi::export]
impl Tracker {
    #[uniffi::constructor(default(options))]
    pub fn new(shoplook: Arc<ShopLook>, options: TrackerOptions) -> Result<Arc<Self>> {
        guard(|| {
            let t = core::Tracker::new(shoplook.engine.clone(), options.into())?;
            Ok(Arc::new(Tracker {
                inner: Mutex::new(t),
            }))
        })
    }

    /// RGBA (or BGRA with `bgra`) pixels, `rowStride` bytes per row; `rotationDegrees` as the
    /// camera reports it; `timestampMs` the camera's timestamp (increasing).
    #[allow(clippy::too_many_arguments)]
    pub fn push_rgba(
        &self,
        width: u32,
        height: u32,
        data: Vec<u8>,
        row_stride: u32,
        bgra: bool,
        rotation_degrees: i32,
        timestamp_ms: f64,
    ) -> Result<Vec<TrackedItem>> {
        guard(|| {
            let stride = to_u(row_stride);
            let frame = if bgra {
                Frame::bgra(width, height, &data, stride)
            } else {
                Frame::rgba(width, height, &data, stride)
            }
            .with_rotation(rotation(rotation_degrees)?);
            self.push(&frame, timestamp_ms)
        })
    }

    /// Three 4:2:0 planes as CameraX's `ImageProxy` hands them (`YUV_420_888`; pixel stride 1
    /// is I420, 2 is NV12/NV21 seen as planes). `fullRange` false for video-range (16-235)
    /// buffers.
    #[allow(clippy::too_many_arguments)]
    #[uniffi::method(default(full_range = true))]
    pub fn push_yuv420(
        &self,
        width: u32,
        height: u32,
        y: Vec<u8>,
        y_row_stride: u32,
        u: Vec<u8>,
        v: Vec<u8>,
        uv_row_stride: u32,
        uv_pixel_stride: u32,
        rotation_degrees: i32,
        timestamp_ms: f64,
        full_range: bool,
    ) -> Result<Vec<TrackedItem>> {
        guard(|| {
            let frame = Frame::yuv420(
                width,
                height,
                &y,
                to_u(y_row_stride),
                &u,
                &v,
                to_u(uv_row_stride),
                to_u(uv_pixel_stride),
            )
            .with_range(if full_range {
                YuvRange::Full
            } else {
                YuvRange::Video
            })
            .with_rotation(rotation(rotation_degrees)?);
            self.push(&frame, timestamp_ms)
        })
    }

    /// NV21 in one buffer (Android camera1 preview): `width` x `height` Y bytes, then V, U
    /// interleaved, rows of `width` bytes.
    pub fn push_nv21(
        &self,
        width: u32,
        height: u32,
        data: Vec<u8>,
        rotation_degrees: i32,
        timestamp_ms: f64,
    ) -> Result<Vec<TrackedItem>> {
        guard(|| {
            let w = to_u(width);
            let split = (w * to_u(height)).min(data.len());
            let (y, vu) = data.split_at(split);
            let frame = Frame::nv21(width, height, y, w, vu, w.div_ceil(2) * 2)
                .with_rotation(rotation(rotation_degrees)?);
            self.push(&frame, timestamp_ms)
        })
    }

    /// Whether the frame at `timestampMs` gets a detection (and so needs its pixels). When
    /// false, `carry` with the timestamp alone gives the same result as a push.
    pub fn needs_pixels(&self, timestamp_ms: f64) -> bool {
        self.lock().needs_frame(timestamp_ms)
    }

    /// A frame without pixels: the boxes move by the motion model. Throws `CorruptImage` when
    /// a detection is due (see `needsPixels`).
    pub fn carry(&self, timestamp_ms: f64) -> Result<Vec<TrackedItem>> {
        guard(|| {
            Ok(self
                .lock()
                .carry(timestamp_ms)?
                .into_iter()
                .map(Into::into)
                .collect())
        })
    }

    /// Forgets every track (camera switched, app resumed); ids keep increasing.
    pub fn reset(&self) {
        self.lock().reset();
    }

    pub fn stats(&self) -> TrackerStats {
        let s = self.lock().stats();
        TrackerStats {
            frames: s.frames,
            detections_run: s.detections_run,
            embeddings_run: s.embeddings_run,
            tracks_confirmed: s.tracks_confirmed,
            detect_ms: s.detect_ms,
            embed_ms: s.embed_ms,
            total_ms: s.total_ms,
        }
    }
}

impl Tracker {
    fn lock(&self) -> std::sync::MutexGuard<'_, core::Tracker> {
        // A panic inside push (caught by guard) poisons the lock; the tracker state is still
        // consistent enough to go on (at worst a frame's update was half applied).
        self.inner.lock().unwrap_or_else(|e| e.into_inner())
    }

    fn push(&self, frame: &Frame, timestamp_ms: f64) -> Result<Vec<TrackedItem>> {
        Ok(self
            .lock()
            .push(frame, timestamp_ms)?
            .into_iter()
            .map(Into::into)
            .collect())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tracker_options_defaults_match_core() {
        let core = core::TrackerConfig::default();
        assert_eq!(core.schedule, Schedule::EveryNth(3));
        assert_eq!(
            (
                core.working_max_side,
                core.min_hits,
                core.max_misses,
                core.embed
            ),
            (640, 2, 3, false)
        );
    }
}
