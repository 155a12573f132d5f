//! Pixel work shared by detectors and the embedder: resizing, cropping, and filling input
//! tensors laid out and normalised as a model's manifest says.

use image::RgbImage;
use image::imageops::{self, FilterType};
use ndarray::Array4;

use crate::geometry::Rect;
use crate::manifest::{ChannelOrder, InputSpec, Layout};

/// Resizes (stretching) an RGB image. Triangle (bilinear with proper support when shrinking)
/// avoids the aliasing that nearest-neighbour would feed the models.
pub fn resize_rgb(src: &RgbImage, width: u32, height: u32) -> RgbImage {
    if src.dimensions() == (width, height) {
        return src.clone();
    }
    imageops::resize(src, width, height, FilterType::Triangle)
}

/// Copies the integer-pixel part of `rect` (clamped to the image) out of `src`.
pub fn crop(src: &RgbImage, rect: &Rect) -> RgbImage {
    let (w, h) = src.dimensions();
    let x0 = (rect.x.floor().max(0.0) as u32).min(w - 1);
    let y0 = (rect.y.floor().max(0.0) as u32).min(h - 1);
    let x1 = ((rect.x + rect.width).ceil().max(0.0) as u32).clamp(x0 + 1, w);
    let y1 = ((rect.y + rect.height).ceil().max(0.0) as u32).clamp(y0 + 1, h);
    imageops::crop_imm(src, x0, y0, x1 - x0, y1 - y0).to_image()
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
