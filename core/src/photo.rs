//! Photo decoding with bounded memory.
//!
//! Every limit is checked from the header, before pixel memory is allocated. Large JPEGs (the
//! usual phone photo, 12-50 MP) are decoded with DCT-domain scaling straight to a working
//! resolution, which is both several times faster and several times smaller than a full decode.
//! The result is always 8-bit RGB in display orientation (EXIF applied).

use std::io::Cursor;

use image::metadata::Orientation;
use image::{DynamicImage, ImageDecoder, ImageFormat, ImageReader, RgbImage};

use crate::error::{Error, Result};

/// Limits and working-resolution settings for decoding.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct DecodeLimits {
    /// Largest encoded file accepted, in bytes.
    pub max_file_bytes: u64,
    /// Largest photo accepted, in pixels (width x height), checked from the header.
    pub max_pixels: u64,
    /// Largest width or height accepted, checked from the header.
    pub max_side: u32,
    /// Longer side the working image is reduced to at most (boxes are still reported in
    /// original-photo pixels). Large enough for crisp 224 px crops of small objects.
    pub working_max_side: u32,
}

impl Default for DecodeLimits {
    fn default() -> Self {
        DecodeLimits {
            max_file_bytes: 64 << 20,
            max_pixels: 100_000_000,
            max_side: 20_000,
            working_max_side: 2048,
        }
    }
}

/// A decoded photo at working resolution.
#[derive(Debug, Clone)]
pub struct Photo {
    /// RGB pixels, display orientation, longer side <= `working_max_side`.
    pub image: RgbImage,
    /// Size of the original photo in display orientation (EXIF applied).
    pub original_width: u32,
    pub original_height: u32,
}

impl Photo {
    /// Wraps an already-decoded RGB image (tests, other front ends).
    pub fn from_rgb(image: RgbImage) -> Self {
        let (w, h) = image.dimensions();
        Photo {
            image,
            original_width: w,
            original_height: h,
        }
    }

    /// Factor from working-image pixels to original-photo pixels (>= 1).
    pub fn to_original_scale(&self) -> (f32, f32) {
        (
            self.original_width as f32 / self.image.width() as f32,
            self.original_height as f32 / self.image.height() as f32,
        )
    }
}

/// Decodes JPEG, PNG or WebP bytes into a [`Photo`].
pub fn decode(bytes: &[u8], limits: &DecodeLimits) -> Result<Photo> {
    if bytes.is_empty() {
        return Err(Error::EmptyInput);
    }
    if bytes.len() as u64 > limits.max_file_bytes {
        return Err(Error::FileTooLarge {
            bytes: bytes.len() as u64,
            max_bytes: limits.max_file_bytes,
        });
    }
    let format = image::guess_format(bytes).map_err(|_| Error::UnsupportedFormat {
        detail: "not a JPEG, PNG or WebP file".into(),
    })?;
    let photo = match format {
        ImageFormat::Jpeg => decode_jpeg(bytes, limits)?,
        ImageFormat::Png | ImageFormat::WebP => decode_with_image(bytes, format, limits)?,
        other => {
            return Err(Error::UnsupportedFormat {
                detail: format!("{other:?} is not supported (JPEG, PNG, WebP are)"),
            });
        }
    };
    Ok(fit_working_size(photo, limits.working_max_side))
}

fn check_dimensions(width: u32, height: u32, limits: &DecodeLimits) -> Result<()> {
    if width == 0 || height == 0 {
        return Err(Error::CorruptImage {
            detail: format!("zero-sized image {width}x{height}"),
        });
    }
    let pixels = width as u64 * height as u64;
    if pixels > limits.max_pixels || width > limits.max_side || height > limits.max_side {
        return Err(Error::ImageTooLarge {
            width,
            height,
            max_pixels: limits.max_pixels,
        });
    }
    Ok(())
}

fn corrupt(e: impl std::fmt::Display) -> Error {
    Error::CorruptImage {
        detail: e.to_string(),
    }
}

fn decode_jpeg(bytes: &[u8], limits: &DecodeLimits) -> Result<Photo> {
    use jpeg_decoder::{Decoder, PixelFormat};

    let mut decoder = Decoder::new(Cursor::new(bytes));
    decoder.read_info().map_err(corrupt)?;
    let info = decoder
        .info()
        .ok_or_else(|| corrupt("missing JPEG header"))?;
    let (full_w, full_h) = (info.width as u32, info.height as u32);
    check_dimensions(full_w, full_h, limits)?;
    let orientation = decoder
        .exif_data()
        .and_then(Orientation::from_exif_chunk)
        .unwrap_or(Orientation::NoTransforms);

    // DCT scaling: the smallest of 1, 1/2, 1/4, 1/8 whose longer side still reaches about
    // half the working size; `fit_working_size` does the final, exact reduction.
    let target = limits.working_max_side.max(64);
    let longer = full_w.max(full_h);
    let mut div = 1;
    while div < 8 && longer / (div * 2) >= target {
        div *= 2;
    }
    let (w, h) = if div > 1 {
        let (w, h) = decoder
            .scale((full_w / div).max(1) as u16, (full_h / div).max(1) as u16)
            .map_err(corrupt)?;
        (w as u32, h as u32)
    } else {
        (full_w, full_h)
    };
    // The decoder must not allocate more than the scaled output (+ slack for its planes).
    decoder.set_max_decoding_buffer_size((w as usize * h as usize * 4).max(1 << 20) * 2);
    let pixels = decoder.decode().map_err(corrupt)?;
    let rgb: Vec<u8> = match info.pixel_format {
        PixelFormat::RGB24 => pixels,
        PixelFormat::L8 => pixels.iter().flat_map(|&l| [l, l, l]).collect(),
        PixelFormat::L16 => pixels
            .chunks_exact(2)
            .flat_map(|p| [p[0], p[0], p[0]])
            .collect(),
        PixelFormat::CMYK32 => pixels
            .chunks_exact(4)
            .flat_map(|p| {
                let k = 255 - p[3] as u16;
                let ch = |c: u8| ((255 - c as u16) * k / 255) as u8;
                [ch(p[0]), ch(p[1]), ch(p[2])]
            })
            .collect(),
    };
    let image = RgbImage::from_raw(w, h, rgb).ok_or_else(|| corrupt("truncated pixel data"))?;
    let mut dynamic = DynamicImage::ImageRgb8(image);
    dynamic.apply_orientation(orientation);
    let (ow, oh) = oriented_size(full_w, full_h, orientation);
    Ok(Photo {
        image: dynamic.into_rgb8(),
        original_width: ow,
        original_height: oh,
    })
}

fn decode_with_image(bytes: &[u8], format: ImageFormat, limits: &DecodeLimits) -> Result<Photo> {
    let mut reader = ImageReader::with_format(Cursor::new(bytes), format);
    let mut image_limits = image::Limits::default();
    // Pixel buffers plus the decoder's own allocations (e.g. PNG text chunks).
    image_limits.max_alloc = Some(limits.max_pixels * 8 + (64 << 20));
    reader.limits(image_limits);
    let mut decoder = reader.into_decoder().map_err(map_image_error)?;
    let (w, h) = decoder.dimensions();
    check_dimensions(w, h, limits)?;
    let orientation = decoder.orientation().unwrap_or(Orientation::NoTransforms);
    let mut dynamic = DynamicImage::from_decoder(decoder).map_err(map_image_error)?;
    dynamic.apply_orientation(orientation);
    let (ow, oh) = oriented_size(w, h, orientation);
    Ok(Photo {
        image: to_rgb_on_white(dynamic),
        original_width: ow,
        original_height: oh,
    })
}

fn map_image_error(e: image::ImageError) -> Error {
    use image::ImageError as E;
    match e {
        E::Unsupported(u) => Error::UnsupportedFormat {
            detail: u.to_string(),
        },
        E::Limits(l) => Error::CorruptImage {
            detail: format!("decoder limit exceeded: {l}"),
        },
        other => corrupt(other),
    }
}

/// Transparent product shots are composited on white, as shops display them; a plain
/// alpha drop would expose whatever colour the transparent pixels happen to hold.
fn to_rgb_on_white(image: DynamicImage) -> RgbImage {
    if !image.color().has_alpha() {
        return image.into_rgb8();
    }
    let rgba = image.into_rgba8();
    let (w, h) = rgba.dimensions();
    let mut out = RgbImage::new(w, h);
    for (dst, src) in out.pixels_mut().zip(rgba.pixels()) {
        let a = src[3] as u32;
        for c in 0..3 {
            dst[c] = ((src[c] as u32 * a + 255 * (255 - a) + 127) / 255) as u8;
        }
    }
    out
}

fn oriented_size(w: u32, h: u32, orientation: Orientation) -> (u32, u32) {
    use Orientation::*;
    match orientation {
        Rotate90 | Rotate270 | Rotate90FlipH | Rotate270FlipH => (h, w),
        _ => (w, h),
    }
}

fn fit_working_size(photo: Photo, max_side: u32) -> Photo {
    let (w, h) = photo.image.dimensions();
    let longer = w.max(h);
    if longer <= max_side {
        return photo;
    }
    let scale = max_side as f64 / longer as f64;
    let nw = ((w as f64 * scale).round() as u32).max(1);
    let nh = ((h as f64 * scale).round() as u32).max(1);
    let image = crate::preprocess::resize_rgb(&photo.image, nw, nh);
    Photo { image, ..photo }
}
