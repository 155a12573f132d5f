//! Live camera mode: `Tracker` follows objects through camera frames with stable track ids
//! (core's `track` module, docs/tracking.md).
//!
//! Frames cross the boundary as byte arrays (one copy, UniFFI has no zero-copy buffers); frames
//! on which no detection is due are only checked, never converted. `needsPixels` tells the app
//! ahead of time, so it can call `carry` with the timestamp alone and copy nothing.
//!
//! The buffers of the last frame pushed with pixels are kept (moved, not copied) so that
//! `embedRegion` can embed a tapped box of it: a viewfinder that freezes on a tap searches what
//! it shows without converting the frame to a photo.

use std::sync::{Arc, Mutex};

use shoplook_core as core;
use shoplook_core::track::{Frame, Rotation, Schedule, YuvRange};

use crate::ShopLook;
use crate::error::{Result, ShopLookError, guard};
use crate::task::{CancelToken, run_blocking};
use crate::types::{Embedding, Rect};

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
    engine: Arc<core::Engine>,
    working_max_side: u32,
    /// The last frame pushed with pixels (its buffers, moved in by the push).
    last: Mutex<Option<Arc<OwnedFrame>>>,
}

/// A frame's buffers as they came across the boundary, and how to read them.
enum OwnedFrame {
    Rgba {
        width: u32,
        height: u32,
        data: Vec<u8>,
        stride: usize,
        bgra: bool,
        rotation: Rotation,
    },
    Yuv420 {
        width: u32,
        height: u32,
        y: Vec<u8>,
        y_row_stride: usize,
        u: Vec<u8>,
        v: Vec<u8>,
        uv_row_stride: usize,
        uv_pixel_stride: usize,
        range: YuvRange,
        rotation: Rotation,
    },
    /// NV12 (`uv` starts with U) or NV21 (`vu_order`: starts with V).
    SemiPlanar {
        width: u32,
        height: u32,
        y: Vec<u8>,
        y_row_stride: usize,
        uv: Vec<u8>,
        uv_row_stride: usize,
        vu_order: bool,
        range: YuvRange,
        rotation: Rotation,
    },
}

impl OwnedFrame {
    fn frame(&self) -> Frame<'_> {
        match self {
            OwnedFrame::Rgba {
                width,
                height,
                data,
                stride,
                bgra,
                rotation,
            } => if *bgra {
                Frame::bgra(*width, *height, data, *stride)
            } else {
                Frame::rgba(*width, *height, data, *stride)
            }
            .with_rotation(*rotation),
            OwnedFrame::Yuv420 {
                width,
                height,
                y,
                y_row_stride,
                u,
                v,
                uv_row_stride,
                uv_pixel_stride,
                range,
                rotation,
            } => Frame::yuv420(
                *width,
                *height,
                y,
                *y_row_stride,
                u,
                v,
                *uv_row_stride,
                *uv_pixel_stride,
            )
            .with_range(*range)
            .with_rotation(*rotation),
            OwnedFrame::SemiPlanar {
                width,
                height,
                y,
                y_row_stride,
                uv,
                uv_row_stride,
                vu_order,
                range,
                rotation,
            } => if *vu_order {
                Frame::nv21(*width, *height, y, *y_row_stride, uv, *uv_row_stride)
            } else {
                Frame::nv12(*width, *height, y, *y_row_stride, uv, *uv_row_stride)
            }
            .with_range(*range)
            .with_rotation(*rotation),
        }
    }
}

fn range(full_range: bool) -> YuvRange {
    if full_range {
        YuvRange::Full
    } else {
        YuvRange::Video
    }
}

/// Embeds `region` (display-orientation frame pixels) of `frame` with the context crop the
/// tracker's own embeddings use, at the tracker's working size.
fn embed_frame_region(
    engine: &core::Engine,
    frame: Option<Arc<OwnedFrame>>,
    working_max_side: u32,
    region: Rect,
) -> Result<Embedding> {
    let Some(owned) = frame else {
        return Err(ShopLookError::InvalidRegion {
            detail: "no camera frame has been pushed with pixels yet".into(),
        });
    };
    let frame = owned.frame();
    let (fw, fh) = frame.display_size();
    let region: core::Rect = region.into();
    if !region.is_finite() || region.width <= 0.0 || region.height <= 0.0 {
        return Err(ShopLookError::InvalidRegion {
            detail: format!("{region:?} has no area"),
        });
    }
    let clamped = region.clamp_to(fw as f32, fh as f32);
    if clamped.width < 1.0 || clamped.height < 1.0 {
        return Err(ShopLookError::InvalidRegion {
            detail: format!("{region:?} lies outside the {fw}x{fh} frame"),
        });
    }
    let image = frame.to_rgb(working_max_side)?;
    let k = frame.block_for(working_max_side);
    let photo = core::Photo {
        original_width: image.width() * k,
        original_height: image.height() * k,
        image,
    };
    Ok(engine
        .embed_boxes_of(&photo, &[clamped])?
        .into_iter()
        .next()
        .ok_or_else(|| ShopLookError::Internal {
            detail: "the embedder returned nothing".into(),
        })?
        .into())
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
            let config: core::TrackerConfig = options.into();
            let working_max_side = config.working_max_side;
            let t = core::Tracker::new(shoplook.engine.clone(), config)?;
            Ok(Arc::new(Tracker {
                inner: Mutex::new(t),
                engine: shoplook.engine.clone(),
                working_max_side,
                last: Mutex::new(None),
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
            let owned = OwnedFrame::Rgba {
                width,
                height,
                data,
                stride: to_u(row_stride),
                bgra,
                rotation: rotation(rotation_degrees)?,
            };
            self.push(owned, timestamp_ms)
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
            let owned = OwnedFrame::Yuv420 {
                width,
                height,
                y,
                y_row_stride: to_u(y_row_stride),
                u,
                v,
                uv_row_stride: to_u(uv_row_stride),
                uv_pixel_stride: to_u(uv_pixel_stride),
                range: range(full_range),
                rotation: rotation(rotation_degrees)?,
            };
            self.push(owned, timestamp_ms)
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
            let mut y = data;
            let vu = y.split_off(split);
            let owned = OwnedFrame::SemiPlanar {
                width,
                height,
                y,
                y_row_stride: w,
                uv: vu,
                uv_row_stride: w.div_ceil(2) * 2,
                vu_order: true,
                range: YuvRange::Full,
                rotation: rotation(rotation_degrees)?,
            };
            self.push(owned, timestamp_ms)
        })
    }

    /// Two planes with row strides: Y, then chroma interleaved at half resolution, U first
    /// (NV12: iOS `420f`/`420v` bi-planar `CVPixelBuffer`s, plane 0 and plane 1 with their
    /// `bytesPerRow`) or V first with `vFirst` (NV21 with padded rows). `fullRange` false for
    /// video range (`420v`).
    #[allow(clippy::too_many_arguments)]
    #[uniffi::method(default(v_first = false, full_range = true))]
    pub fn push_semi_planar(
        &self,
        width: u32,
        height: u32,
        y: Vec<u8>,
        y_row_stride: u32,
        uv: Vec<u8>,
        uv_row_stride: u32,
        rotation_degrees: i32,
        timestamp_ms: f64,
        v_first: bool,
        full_range: bool,
    ) -> Result<Vec<TrackedItem>> {
        guard(|| {
            let owned = OwnedFrame::SemiPlanar {
                width,
                height,
                y,
                y_row_stride: to_u(y_row_stride),
                uv,
                uv_row_stride: to_u(uv_row_stride),
                vu_order: v_first,
                range: range(full_range),
                rotation: rotation(rotation_degrees)?,
            };
            self.push(owned, timestamp_ms)
        })
    }

    /// Embeds `region` (display-orientation frame pixels, as `TrackedItem.bbox`) of the last
    /// frame pushed with pixels, with the context crop the tracker's own embeddings use: what
    /// a viewfinder frozen on a tap searches. Blocks for one embedding (tens of ms).
    ///
    /// Throws `InvalidRegion` before any frame was pushed with pixels, or for a region with no
    /// area or outside the frame.
    pub fn embed_region(&self, region: Rect) -> Result<Embedding> {
        let last = self.last_frame();
        guard(|| embed_frame_region(&self.engine, last, self.working_max_side, region))
    }

    /// `embedRegion` as a Kotlin `suspend` / Swift `async` function (on a worker thread).
    #[uniffi::method(default(cancel = None))]
    pub async fn embed_region_async(
        &self,
        region: Rect,
        cancel: Option<Arc<CancelToken>>,
    ) -> Result<Embedding> {
        let (engine, last, side) = (
            self.engine.clone(),
            self.last_frame(),
            self.working_max_side,
        );
        run_blocking(cancel, move || {
            embed_frame_region(&engine, last, side, region)
        })
        .await
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

    /// Forgets every track (camera switched, app resumed) and the kept frame; ids keep
    /// increasing.
    pub fn reset(&self) {
        self.lock().reset();
        *self.last.lock().unwrap_or_else(|e| e.into_inner()) = None;
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

    fn last_frame(&self) -> Option<Arc<OwnedFrame>> {
        self.last.lock().unwrap_or_else(|e| e.into_inner()).clone()
    }

    /// Pushes the frame and, when it was accepted, keeps its buffers for `embed_region`.
    fn push(&self, owned: OwnedFrame, timestamp_ms: f64) -> Result<Vec<TrackedItem>> {
        let items: Vec<TrackedItem> = self
            .lock()
            .push(&owned.frame(), timestamp_ms)?
            .into_iter()
            .map(Into::into)
            .collect();
        *self.last.lock().unwrap_or_else(|e| e.into_inner()) = Some(Arc::new(owned));
        Ok(items)
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
