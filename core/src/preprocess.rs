//! Pixel work shared by detectors and the embedder: resizing, cropping, and filling input
//! tensors laid out and normalised as a model's manifest says.

use image::RgbImage;
use ndarray::Array4;

use crate::geometry::Rect;
use crate::manifest::{ChannelOrder, InputSpec, Layout};

/// Resizes (stretching) an RGB image.
pub fn resize_rgb(src: &RgbImage, width: u32, height: u32) -> RgbImage {
    if src.dimensions() == (width, height) {
        return src.clone();
    }
    let (w, h) = src.dimensions();
    resize_region(src, &Rect::new(0.0, 0.0, w as f32, h as f32), width, height)
}

/// Resizes the part of `src` inside `region` (sub-pixel, clamped to the image) to
/// `width` x `height`, in one pass with no intermediate crop copy. Bilinear convolution with
/// support scaled to the reduction, i.e. antialiased when shrinking, like PIL's resize.
pub fn resize_region(src: &RgbImage, region: &Rect, width: u32, height: u32) -> RgbImage {
    use fast_image_resize::{FilterType, PixelType, ResizeAlg, ResizeOptions, Resizer, images};

    let (w, h) = src.dimensions();
    let r = region.clamp_to(w as f32, h as f32);
    let r = if r.width < 1.0 || r.height < 1.0 {
        Rect::new(0.0, 0.0, w as f32, h as f32)
    } else {
        r
    };
    let source = images::ImageRef::new(w, h, src.as_raw(), PixelType::U8x3)
        .expect("an RgbImage buffer always matches its size");
    let mut dest = images::Image::new(width.max(1), height.max(1), PixelType::U8x3);
    // The crop is checked in f64 against the source: an f32 region clamped to the edge can
    // still end an ulp past it once widened (x + width > w), which the resizer refuses.
    let (x, y) = (
        f64::from(r.x).clamp(0.0, f64::from(w)),
        f64::from(r.y).clamp(0.0, f64::from(h)),
    );
    let crop_w = f64::from(r.width).min(f64::from(w) - x);
    let crop_h = f64::from(r.height).min(f64::from(h) - y);
    let options = ResizeOptions::new()
        .resize_alg(ResizeAlg::Convolution(FilterType::Bilinear))
        .crop(x, y, crop_w, crop_h);
    Resizer::new()
        .resize(&source, &mut dest, &options)
        .expect("same pixel type on both sides and a crop inside the source");
    RgbImage::from_raw(width.max(1), height.max(1), dest.into_vec())
        .expect("buffer of the requested size")
}

/// Allocates a zeroed `[batch, ...]` input tensor for the model's input.
pub fn input_tensor(spec: &InputSpec, batch: usize) -> Array4<f32> {
    Array4::zeros(crate::model::input_shape(spec, batch))
}

/// Writes `image` (already resized to the input size) into slot `index` of `tensor`,
/// applying channel order and (v - mean) / std.
pub fn fill_input(tensor: &mut Array4<f32>, index: usize, image: &RgbImage, spec: &InputSpec) {
    let (w, h) = (spec.width as usize, spec.height as usize);
    debug_assert_eq!(image.dimensions(), (spec.width, spec.height));
    let plane = w * h;
    let data = tensor
        .as_slice_mut()
        .expect("freshly allocated tensors are contiguous");
    let slot = &mut data[index * plane * 3..(index + 1) * plane * 3];
    let order: [usize; 3] = match spec.channel_order {
        ChannelOrder::Rgb => [0, 1, 2],
        ChannelOrder::Bgr => [2, 1, 0],
    };
    let scale = spec.std.map(|s| 1.0 / s);
    let raw = image.as_raw();
    match spec.layout {
        Layout::Nhwc => {
            for (dst, src) in slot.chunks_exact_mut(3).zip(raw.chunks_exact(3)) {
                for c in 0..3 {
                    let v = src[order[c]] as f32;
                    dst[c] = (v - spec.mean[c]) * scale[c];
                }
            }
        }
        Layout::Nchw => {
            let (r, rest) = slot.split_at_mut(plane);
            let (g, b) = rest.split_at_mut(plane);
            let planes = [r, g, b];
            for (i, src) in raw.chunks_exact(3).enumerate() {
                for c in 0..3 {
                    planes[c][i] = (src[order[c]] as f32 - spec.mean[c]) * scale[c];
                }
            }
        }
    }
}

#[cfg(test)]
mod edge_tests {
    use super::*;

    #[test]
    #[allow(clippy::approx_constant)] // 0.3183 is an arbitrary step, not 1/pi
    fn regions_ending_on_the_edge_never_fall_outside_after_rounding() {
        // Regions clamped to the right/bottom edge at many fractional offsets: f32 rounding
        // once put `x + width` an ulp past the edge and the resizer panicked.
        let src = RgbImage::new(641, 479);
        for i in 0..2000 {
            let x = (i as f32 * 0.3183) % 630.0;
            let y = (i as f32 * 0.2371) % 470.0;
            let r = Rect::new(x, y, 641.0 - x, 479.0 - y);
            let out = resize_region(&src, &r, 8, 8);
            assert_eq!(out.dimensions(), (8, 8));
        }
    }
}
