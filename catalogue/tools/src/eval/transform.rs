//! The transformed views a query is made from: crop, scale, rotation, perspective, lighting,
//! JPEG quality, blur.

use std::io::Cursor;

use image::{DynamicImage, ImageFormat, Rgb, RgbImage};

pub type Transform = (&'static str, fn(&RgbImage) -> (RgbImage, ImageFormat));

pub fn transforms() -> Vec<Transform> {
    vec![
        ("identity (re-encoded PNG)", |i| {
            (i.clone(), ImageFormat::Png)
        }),
        ("crop 70% off-centre", |i| {
            let (w, h) = i.dimensions();
            let (cw, ch) = ((w as f32 * 0.7) as u32, (h as f32 * 0.7) as u32);
            (
                image::imageops::crop_imm(i, w - cw, 0, cw.max(1), ch.max(1)).to_image(),
                ImageFormat::Png,
            )
        }),
        ("scale 0.4x", |i| {
            let (w, h) = i.dimensions();
            (
                image::imageops::resize(
                    i,
                    ((w as f32 * 0.4) as u32).max(8),
                    ((h as f32 * 0.4) as u32).max(8),
                    image::imageops::FilterType::Triangle,
                ),
                ImageFormat::Png,
            )
        }),
        ("rotate 15 deg", |i| {
            (rotate(i, 15f32.to_radians()), ImageFormat::Png)
        }),
        ("rotate 90 deg", |i| {
            (image::imageops::rotate90(i), ImageFormat::Png)
        }),
        ("perspective (top 25% narrower)", |i| {
            (perspective(i, 0.25), ImageFormat::Png)
        }),
        ("brighter (+60)", |i| {
            (image::imageops::brighten(i, 60), ImageFormat::Png)
        }),
        ("darker (-70, contrast -30)", |i| {
            let d = image::imageops::brighten(i, -70);
            (image::imageops::contrast(&d, -30.0), ImageFormat::Png)
        }),
        ("JPEG quality 15", |i| (i.clone(), ImageFormat::Jpeg)),
        ("blur sigma 2.5", |i| {
            (image::imageops::blur(i, 2.5), ImageFormat::Png)
        }),
    ]
}

fn bilinear(img: &RgbImage, x: f32, y: f32) -> Option<Rgb<u8>> {
    let (w, h) = img.dimensions();
    if x < 0.0 || y < 0.0 || x > (w - 1) as f32 || y > (h - 1) as f32 {
        return None;
    }
    let (x0, y0) = (x.floor() as u32, y.floor() as u32);
    let (x1, y1) = ((x0 + 1).min(w - 1), (y0 + 1).min(h - 1));
    let (fx, fy) = (x - x0 as f32, y - y0 as f32);
    let mut out = [0u8; 3];
    for (c, o) in out.iter_mut().enumerate() {
        let p = |xx, yy| img.get_pixel(xx, yy)[c] as f32;
        let v = p(x0, y0) * (1.0 - fx) * (1.0 - fy)
            + p(x1, y0) * fx * (1.0 - fy)
            + p(x0, y1) * (1.0 - fx) * fy
            + p(x1, y1) * fx * fy;
        *o = v.round().clamp(0.0, 255.0) as u8;
    }
    Some(Rgb(out))
}

const FILL: Rgb<u8> = Rgb([235, 235, 235]);

/// Rotation about the centre into a canvas that holds the whole rotated image.
pub fn rotate(img: &RgbImage, angle: f32) -> RgbImage {
    let (w, h) = (img.width() as f32, img.height() as f32);
    let (s, c) = angle.sin_cos();
    let ow = (w * c.abs() + h * s.abs()).ceil() as u32;
    let oh = (w * s.abs() + h * c.abs()).ceil() as u32;
    let (cx, cy, ocx, ocy) = (w / 2.0, h / 2.0, ow as f32 / 2.0, oh as f32 / 2.0);
    RgbImage::from_fn(ow, oh, |u, v| {
        let (dx, dy) = (u as f32 - ocx, v as f32 - ocy);
        let x = c * dx + s * dy + cx;
        let y = -s * dx + c * dy + cy;
        bilinear(img, x, y).unwrap_or(FILL)
    })
}

/// A keystone view: the top edge appears `amount` narrower (a photo taken from below).
pub fn perspective(img: &RgbImage, amount: f32) -> RgbImage {
    let (w, h) = (img.width() as f32, img.height() as f32);
    RgbImage::from_fn(img.width(), img.height(), |u, v| {
        let t = v as f32 / h; // 0 at the top
        let shrink = amount * (1.0 - t);
        let row_w = w * (1.0 - shrink);
        let x0 = (w - row_w) / 2.0;
        let x = (u as f32 - x0) / row_w * w;
        // Foreshortening: rows near the top are compressed.
        let y = h * (t + amount * 0.5 * t * (1.0 - t));
        if !(0.0..w).contains(&x) {
            return FILL;
        }
        bilinear(img, x, y.min(h - 1.0)).unwrap_or(FILL)
    })
}

pub fn encode(img: &RgbImage, format: ImageFormat) -> Vec<u8> {
    let mut out = Cursor::new(Vec::new());
    if format == ImageFormat::Jpeg {
        let mut enc = image::codecs::jpeg::JpegEncoder::new_with_quality(&mut out, 15);
        enc.encode_image(&DynamicImage::ImageRgb8(img.clone()))
            .expect("JPEG encoding");
    } else {
        DynamicImage::ImageRgb8(img.clone())
            .write_to(&mut out, format)
            .expect("PNG encoding");
    }
    out.into_inner()
}
