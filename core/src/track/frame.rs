//! Camera frames as the platforms hand them over, borrowed (never copied whole), and their
//! conversion to the RGB working image the detector and the embedder take.
//!
//! Layouts: RGBA/BGRA (Android `Bitmap`, iOS `kCVPixelFormatType_32BGRA`, browsers'
//! `ImageData`) with a row stride; NV21 (Android camera1), NV12 (iOS 420f/420v bi-planar) and
//! I420 / `YUV_420_888` (CameraX `ImageProxy`: three planes with row and pixel strides).
//! `rotation` is what the platform reports (CameraX `rotationDegrees`, the clockwise rotation
//! that makes the buffer upright); results are always in display orientation.
//!
//! Conversion reads each source pixel once: it averages `k` x `k` blocks (an integer factor that
//! brings the longer side down to at most twice the working size), converts YUV to RGB on the
//! averages and writes each result straight to its rotated place. No full-resolution RGB copy is
//! ever made.

use image::RgbImage;

use crate::error::{Error, Result};

/// Clockwise rotation that turns the buffer upright.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Rotation {
    #[default]
    R0,
    R90,
    R180,
    R270,
}

impl Rotation {
    /// From degrees as platforms report them (0, 90, 180, 270; negative and >= 360 wrap).
    pub fn from_degrees(degrees: i32) -> Result<Self> {
        match degrees.rem_euclid(360) {
            0 => Ok(Rotation::R0),
            90 => Ok(Rotation::R90),
            180 => Ok(Rotation::R180),
            270 => Ok(Rotation::R270),
            other => Err(bad_frame(format!(
                "rotation {other} is not a multiple of 90"
            ))),
        }
    }

    fn swaps_sides(self) -> bool {
        matches!(self, Rotation::R90 | Rotation::R270)
    }
}

/// YUV range: cameras deliver full range (JFIF, Android's NV21 and `YUV_420_888`, iOS 420f) or
/// video range (16-235, iOS 420v). Both with BT.601 coefficients.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum YuvRange {
    #[default]
    Full,
    Video,
}

/// The pixels of a frame, borrowed from the camera's buffers.
#[derive(Debug, Clone, Copy)]
pub enum Pixels<'a> {
    /// 4 bytes per pixel, R, G, B, A in memory order; `stride` bytes per row (>= 4 * width).
    Rgba { data: &'a [u8], stride: usize },
    /// 4 bytes per pixel, B, G, R, A in memory order.
    Bgra { data: &'a [u8], stride: usize },
    /// Three 8-bit planes, chroma subsampled 2x2 (I420, `YUV_420_888`; NV21 and NV12 are this
    /// with `uv_pixel_stride` 2 and U, V interleaved in one buffer, see [`Frame::nv21`]).
    Yuv420 {
        y: &'a [u8],
        y_row_stride: usize,
        u: &'a [u8],
        v: &'a [u8],
        uv_row_stride: usize,
        uv_pixel_stride: usize,
        range: YuvRange,
    },
}

/// One camera frame: its buffer size (before rotation), pixels and rotation.
#[derive(Debug, Clone, Copy)]
pub struct Frame<'a> {
    pub width: u32,
    pub height: u32,
    pub pixels: Pixels<'a>,
    pub rotation: Rotation,
}

fn bad_frame(detail: impl Into<String>) -> Error {
    Error::InvalidFrame {
        detail: detail.into(),
    }
}

impl<'a> Frame<'a> {
    pub fn rgba(width: u32, height: u32, data: &'a [u8], stride: usize) -> Self {
        Frame {
            width,
            height,
            pixels: Pixels::Rgba { data, stride },
            rotation: Rotation::R0,
        }
    }

    pub fn bgra(width: u32, height: u32, data: &'a [u8], stride: usize) -> Self {
        Frame {
            width,
            height,
            pixels: Pixels::Bgra { data, stride },
            rotation: Rotation::R0,
        }
    }

    /// NV21: the Y plane, then V, U interleaved at half resolution (`vu` starts with V).
    pub fn nv21(
        width: u32,
        height: u32,
        y: &'a [u8],
        y_row_stride: usize,
        vu: &'a [u8],
        vu_row_stride: usize,
    ) -> Self {
        Self::yuv420(
            width,
            height,
            y,
            y_row_stride,
            vu.get(1..).unwrap_or(&[]),
            vu,
            vu_row_stride,
            2,
        )
    }

    /// NV12: like NV21 with U first (iOS bi-planar buffers).
    pub fn nv12(
        width: u32,
        height: u32,
        y: &'a [u8],
        y_row_stride: usize,
        uv: &'a [u8],
        uv_row_stride: usize,
    ) -> Self {
        Self::yuv420(
            width,
            height,
            y,
            y_row_stride,
            uv,
            uv.get(1..).unwrap_or(&[]),
            uv_row_stride,
            2,
        )
    }

    /// I420 (`uv_pixel_stride` 1) or Android's `YUV_420_888` (the three `ImageProxy` planes as
    /// they are, `uv_pixel_stride` 1 or 2). Full range; see [`Frame::with_range`].
    #[allow(clippy::too_many_arguments)]
    pub fn yuv420(
        width: u32,
        height: u32,
        y: &'a [u8],
        y_row_stride: usize,
        u: &'a [u8],
        v: &'a [u8],
        uv_row_stride: usize,
        uv_pixel_stride: usize,
    ) -> Self {
        Frame {
            width,
            height,
            pixels: Pixels::Yuv420 {
                y,
                y_row_stride,
                u,
                v,
                uv_row_stride,
                uv_pixel_stride,
                range: YuvRange::Full,
            },
            rotation: Rotation::R0,
        }
    }

    pub fn with_rotation(mut self, rotation: Rotation) -> Self {
        self.rotation = rotation;
        self
    }

    /// Sets the YUV range (no effect on RGBA/BGRA).
    pub fn with_range(mut self, new_range: YuvRange) -> Self {
        if let Pixels::Yuv420 { range, .. } = &mut self.pixels {
            *range = new_range;
        }
        self
    }

    /// Size in display orientation (after rotation).
    pub fn display_size(&self) -> (u32, u32) {
        if self.rotation.swaps_sides() {
            (self.height, self.width)
        } else {
            (self.width, self.height)
        }
    }

    /// Checks sizes and strides against the buffers: every pixel read later is in bounds.
    pub fn validate(&self) -> Result<()> {
        let (w, h) = (self.width as usize, self.height as usize);
        if w == 0 || h == 0 {
            return Err(bad_frame(format!("zero-sized frame {w}x{h}")));
        }
        if w > 16_384 || h > 16_384 {
            return Err(bad_frame(format!("frame {w}x{h} larger than 16384 a side")));
        }
        // Bytes a plane needs: full rows but the last, which may end right after its pixels
        // (Android planes often do).
        let need = |rows: usize, stride: usize, last_row: usize| (rows - 1) * stride + last_row;
        match self.pixels {
            Pixels::Rgba { data, stride } | Pixels::Bgra { data, stride } => {
                if stride < 4 * w {
                    return Err(bad_frame(format!("row stride {stride} < 4 x width {w}")));
                }
                let n = need(h, stride, 4 * w);
                if data.len() < n {
                    return Err(bad_frame(format!(
                        "{} bytes for a {w}x{h} frame with stride {stride}: {n} needed",
                        data.len()
                    )));
                }
            }
            Pixels::Yuv420 {
                y,
                y_row_stride,
                u,
                v,
                uv_row_stride,
                uv_pixel_stride,
                ..
            } => {
                if y_row_stride < w {
                    return Err(bad_frame(format!(
                        "Y row stride {y_row_stride} < width {w}"
                    )));
                }
                if y.len() < need(h, y_row_stride, w) {
                    return Err(bad_frame(format!(
                        "Y plane of {} bytes, {} needed",
                        y.len(),
                        need(h, y_row_stride, w)
                    )));
                }
                if uv_pixel_stride == 0 || uv_pixel_stride > 4 {
                    return Err(bad_frame(format!(
                        "chroma pixel stride {uv_pixel_stride} (1 or 2 expected)"
                    )));
                }
                let (cw, ch) = (w.div_ceil(2), h.div_ceil(2));
                let row = (cw - 1) * uv_pixel_stride + 1;
                if uv_row_stride < row {
                    return Err(bad_frame(format!(
                        "chroma row stride {uv_row_stride} < {row} for width {w}"
                    )));
                }
                let n = need(ch, uv_row_stride, row);
                for (name, plane) in [("U", u), ("V", v)] {
                    if plane.len() < n {
                        return Err(bad_frame(format!(
                            "{name} plane of {} bytes, {n} needed",
                            plane.len()
                        )));
                    }
                }
            }
        }
        Ok(())
    }

    /// The block size [`Frame::to_rgb`] averages for a working size of `max_side`.
    pub fn block_for(&self, max_side: u32) -> u32 {
        let longer = self.width.max(self.height);
        (longer / max_side.max(1)).max(1)
    }

    /// RGB image in display orientation, reduced by whole `k` x `k` blocks (box filter) so its
    /// longer side is at most `2 * max_side` (and at least `max_side` when the frame is larger).
    /// Rows/columns left over at the right and bottom edges (fewer than `k`) are dropped.
    pub fn to_rgb(&self, max_side: u32) -> Result<RgbImage> {
        self.validate()?;
        let k = self.block_for(max_side) as usize;
        let (bw, bh) = (self.width as usize / k, self.height as usize / k);
        let (dw, dh) = if self.rotation.swaps_sides() {
            (bh, bw)
        } else {
            (bw, bh)
        };
        let mut out = vec![0u8; dw * dh * 3];
        let rotation = self.rotation;
        // Destination index of block (bx, by).
        let place = |bx: usize, by: usize| -> usize {
            let (dx, dy) = match rotation {
                Rotation::R0 => (bx, by),
                Rotation::R90 => (bh - 1 - by, bx),
                Rotation::R180 => (bw - 1 - bx, bh - 1 - by),
                Rotation::R270 => (by, bw - 1 - bx),
            };
            (dy * dw + dx) * 3
        };
        let n = (k * k) as u32;
        match self.pixels {
            Pixels::Rgba { data, stride } | Pixels::Bgra { data, stride } => {
                let order = if matches!(self.pixels, Pixels::Rgba { .. }) {
                    [0, 1, 2]
                } else {
                    [2, 1, 0]
                };
                for by in 0..bh {
                    for bx in 0..bw {
                        let mut acc = [0u32; 3];
                        for yy in by * k..by * k + k {
                            let row =
                                &data[yy * stride + bx * k * 4..yy * stride + (bx + 1) * k * 4];
                            for p in row.chunks_exact(4) {
                                acc[0] += p[order[0]] as u32;
                                acc[1] += p[order[1]] as u32;
                                acc[2] += p[order[2]] as u32;
                            }
                        }
                        let i = place(bx, by);
                        for c in 0..3 {
                            out[i + c] = ((acc[c] + n / 2) / n) as u8;
                        }
                    }
                }
            }
            Pixels::Yuv420 {
                y,
                y_row_stride,
                u,
                v,
                uv_row_stride,
                uv_pixel_stride,
                range,
            } => {
                let c = FixedYuv::new(range);
                // Block averages in 8.8 fixed point by multiplying with reciprocals (no
                // division per pixel); chroma blocks cover 1 or 2 samples a side.
                let recip = |count: u64| (((256u64 << 16) + count / 2) / count.max(1)) as u32;
                let y_recip = recip(n as u64) as u64;
                let c_recip: Vec<u32> = (0..=((k / 2 + 1) * (k / 2 + 1)) as u64)
                    .map(recip)
                    .collect();
                for by in 0..bh {
                    let (cy0, cy1) = (by * k / 2, (by * k + k - 1) / 2);
                    let rows = &y[by * k * y_row_stride..];
                    for bx in 0..bw {
                        let mut ys = 0u32;
                        for r in 0..k {
                            let o = r * y_row_stride + bx * k;
                            ys += rows[o..o + k].iter().map(|&b| b as u32).sum::<u32>();
                        }
                        let (cx0, cx1) = (bx * k / 2, (bx * k + k - 1) / 2);
                        let (mut us, mut vs) = (0u32, 0u32);
                        for cy in cy0..=cy1 {
                            let row = cy * uv_row_stride;
                            for cx in cx0..=cx1 {
                                let o = row + cx * uv_pixel_stride;
                                us += u[o] as u32;
                                vs += v[o] as u32;
                            }
                        }
                        let cn = (cx1 - cx0 + 1) * (cy1 - cy0 + 1);
                        let y8 = ((ys as u64 * y_recip) >> 16) as i32;
                        let u8_ = ((us as u64 * c_recip[cn] as u64) >> 16) as i32;
                        let v8 = ((vs as u64 * c_recip[cn] as u64) >> 16) as i32;
                        let i = place(bx, by);
                        out[i..i + 3].copy_from_slice(&c.rgb(y8, u8_, v8));
                    }
                }
            }
        }
        RgbImage::from_raw(dw as u32, dh as u32, out)
            .ok_or_else(|| bad_frame("internal: RGB buffer size"))
    }
}

/// [`yuv_to_rgb`] in integers: inputs in 8.8 fixed point, coefficients in 2.14.
struct FixedYuv {
    y_off: i32,
    y_mul: i32,
    rv: i32,
    gu: i32,
    gv: i32,
    bu: i32,
}

impl FixedYuv {
    fn new(range: YuvRange) -> Self {
        let (y_off, y_scale, c_scale) = match range {
            YuvRange::Full => (0.0, 1.0, 1.0),
            YuvRange::Video => (16.0, 255.0 / 219.0, 255.0 / 224.0),
        };
        let q = |x: f64| (x * 16384.0).round() as i32;
        FixedYuv {
            y_off: (y_off * 256.0) as i32,
            y_mul: q(y_scale),
            rv: q(1.402 * c_scale),
            gu: q(0.344_136 * c_scale),
            gv: q(0.714_136 * c_scale),
            bu: q(1.772 * c_scale),
        }
    }

    #[inline]
    fn rgb(&self, y8: i32, u8_: i32, v8: i32) -> [u8; 3] {
        let y = ((y8 - self.y_off) * self.y_mul) >> 14;
        let (u, v) = (u8_ - (128 << 8), v8 - (128 << 8));
        let r = y + ((self.rv * v) >> 14);
        let g = y - ((self.gu * u + self.gv * v) >> 14);
        let b = y + ((self.bu * u) >> 14);
        let q = |x: i32| ((x + 128) >> 8).clamp(0, 255) as u8;
        [q(r), q(g), q(b)]
    }
}

/// BT.601 YUV to RGB, full or video range.
pub fn yuv_to_rgb(y: f32, u: f32, v: f32, range: YuvRange) -> [u8; 3] {
    let (y, scale) = match range {
        YuvRange::Full => (y, 1.0),
        YuvRange::Video => ((y - 16.0) * (255.0 / 219.0), 255.0 / 224.0),
    };
    let (u, v) = ((u - 128.0) * scale, (v - 128.0) * scale);
    let r = y + 1.402 * v;
    let g = y - 0.344_136 * u - 0.714_136 * v;
    let b = y + 1.772 * u;
    let q = |x: f32| x.round().clamp(0.0, 255.0) as u8;
    [q(r), q(g), q(b)]
}

/// Full-range BT.601 RGB to YUV (the inverse of [`yuv_to_rgb`]); tests and hosts that
/// synthesise camera buffers use it.
pub fn rgb_to_yuv(r: u8, g: u8, b: u8) -> [u8; 3] {
    let (r, g, b) = (r as f32, g as f32, b as f32);
    let y = 0.299 * r + 0.587 * g + 0.114 * b;
    let u = 128.0 - 0.168_736 * r - 0.331_264 * g + 0.5 * b;
    let v = 128.0 + 0.5 * r - 0.418_688 * g - 0.081_312 * b;
    let q = |x: f32| x.round().clamp(0.0, 255.0) as u8;
    [q(y), q(u), q(v)]
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn track_frame_rotation_places_corners() {
        // 3x2 RGBA frame, pixel value = its index.
        let mut data = vec![0u8; 3 * 2 * 4];
        for i in 0..6 {
            data[i * 4..i * 4 + 3].fill(i as u8 * 40);
        }
        let f = Frame::rgba(3, 2, &data, 12);
        let r0 = f.to_rgb(100).unwrap();
        assert_eq!(r0.dimensions(), (3, 2));
        let r90 = f.with_rotation(Rotation::R90).to_rgb(100).unwrap();
        assert_eq!(r90.dimensions(), (2, 3));
        // Clockwise: the bottom-left source pixel (index 3) lands top-left.
        assert_eq!(r90.get_pixel(0, 0)[0], 120);
        assert_eq!(r90.get_pixel(1, 0)[0], 0);
        let r180 = f.with_rotation(Rotation::R180).to_rgb(100).unwrap();
        assert_eq!(r180.get_pixel(0, 0)[0], 200);
        let r270 = f.with_rotation(Rotation::R270).to_rgb(100).unwrap();
        assert_eq!(r270.get_pixel(0, 0)[0], 80);
    }

    #[test]
    fn track_frame_bad_strides_and_sizes_are_errors() {
        let data = vec![0u8; 100];
        assert!(Frame::rgba(5, 5, &data, 16).validate().is_err());
        assert!(Frame::rgba(5, 5, &data, 20).validate().is_ok());
        assert!(Frame::rgba(5, 6, &data, 20).validate().is_err());
        assert!(Frame::rgba(0, 5, &data, 20).to_rgb(10).is_err());
        let y = vec![0u8; 16];
        let vu = vec![0u8; 8];
        assert!(Frame::nv21(4, 4, &y, 4, &vu, 4).validate().is_ok());
        assert!(Frame::nv21(4, 4, &y, 4, &vu[..6], 4).validate().is_err());
        assert!(Frame::nv21(4, 4, &y, 3, &vu, 4).validate().is_err());
        assert!(
            Frame::yuv420(4, 4, &y, 4, &vu, &vu, 2, 0)
                .validate()
                .is_err()
        );
        assert!(Rotation::from_degrees(45).is_err());
        assert_eq!(Rotation::from_degrees(-90).unwrap(), Rotation::R270);
    }

    #[test]
    fn track_frame_fixed_point_yuv_matches_float() {
        for range in [YuvRange::Full, YuvRange::Video] {
            let c = FixedYuv::new(range);
            for y in (0..=255).step_by(5) {
                for u in (0..=255).step_by(15) {
                    for v in (0..=255).step_by(15) {
                        let f = yuv_to_rgb(y as f32, u as f32, v as f32, range);
                        let i = c.rgb(y << 8, u << 8, v << 8);
                        for ch in 0..3 {
                            assert!((f[ch] as i32 - i[ch] as i32).abs() <= 1, "{y} {u} {v}");
                        }
                    }
                }
            }
        }
    }

    #[test]
    fn track_frame_yuv_round_trip() {
        for rgb in [[0, 0, 0], [255, 255, 255], [200, 30, 90], [10, 220, 40]] {
            let [y, u, v] = rgb_to_yuv(rgb[0], rgb[1], rgb[2]);
            let back = yuv_to_rgb(y as f32, u as f32, v as f32, YuvRange::Full);
            for c in 0..3 {
                assert!(
                    (back[c] as i32 - rgb[c] as i32).abs() <= 2,
                    "{rgb:?} -> {back:?}"
                );
            }
        }
    }
}
