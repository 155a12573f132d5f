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
    let options = ResizeOptions::new()
        .resize_alg(ResizeAlg::Convolution(FilterType::Bilinear))
        .crop(r.x as f64, r.y as f64, r.width as f64, r.height as f64);
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
