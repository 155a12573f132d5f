//! `--annotate`: the photo with a labelled box per item, so a person can see what was found.

use std::path::Path;

use font8x8::UnicodeFonts;
use image::{Rgb, RgbImage};
use shoplook_cli::error::{CliError, CliResult};
use shoplook_core::{Item, Photo};

/// One colour per shopping category, so boxes of the same kind match.
pub fn colour(category: &str) -> Rgb<u8> {
    const PALETTE: [[u8; 3]; 8] = [
        [230, 25, 75],
        [60, 180, 75],
        [0, 130, 200],
        [245, 130, 48],
        [145, 30, 180],
        [70, 240, 240],
        [240, 50, 230],
        [210, 245, 60],
    ];
    let h = category
        .bytes()
        .fold(7u32, |h, b| h.wrapping_mul(31).wrapping_add(b as u32));
    Rgb(PALETTE[h as usize % PALETTE.len()])
}

pub fn write(photo: &Photo, items: &[Item], out: &Path) -> CliResult<()> {
    let mut img = photo.image.clone();
    let (sx, sy) = photo.to_original_scale();
    let thickness = (img.width().max(img.height()) / 400).max(2);
    let text_scale = (img.width().max(img.height()) / 500).max(1);
    for item in items {
        let b = item.bbox.scaled(1.0 / sx, 1.0 / sy);
        let c = colour(&item.category);
        draw_rect(
            &mut img,
            b.x as i64,
            b.y as i64,
            b.width as i64,
            b.height as i64,
            thickness as i64,
            c,
        );
        let label = match item.person_id {
            Some(p) => format!("P{p} {} {:.2}", item.label, item.score),
            None => format!("{} {:.2}", item.label, item.score),
        };
        draw_label(
            &mut img,
            b.x as i64,
            b.y as i64 - (8 * text_scale as i64 + 4),
            &label,
            text_scale,
            c,
        );
    }
    img.save(out).map_err(|source| CliError::WriteImage {
        path: out.to_path_buf(),
        source,
    })
}

fn put(img: &mut RgbImage, x: i64, y: i64, c: Rgb<u8>) {
    if x >= 0 && y >= 0 && (x as u32) < img.width() && (y as u32) < img.height() {
        img.put_pixel(x as u32, y as u32, c);
    }
}

pub fn draw_rect(img: &mut RgbImage, x: i64, y: i64, w: i64, h: i64, t: i64, c: Rgb<u8>) {
    for k in 0..t {
        for i in x..=x + w {
            put(img, i, y + k, c);
            put(img, i, y + h - k, c);
        }
        for j in y..=y + h {
            put(img, x + k, j, c);
            put(img, x + w - k, j, c);
        }
    }
}

/// White 8x8-font text on a filled box of the category colour.
pub fn draw_label(img: &mut RgbImage, x: i64, y: i64, text: &str, scale: u32, bg: Rgb<u8>) {
    let s = scale as i64;
    let y = y.max(0);
    let width = text.chars().count() as i64 * 8 * s + 4;
    for j in 0..8 * s + 4 {
        for i in 0..width {
            put(img, x + i, y + j, bg);
        }
    }
    for (n, ch) in text.chars().enumerate() {
        let Some(glyph) = font8x8::BASIC_FONTS.get(ch) else {
            continue;
        };
        for (row, bits) in glyph.iter().enumerate() {
            for col in 0..8 {
                if bits & (1 << col) != 0 {
                    for dy in 0..s {
                        for dx in 0..s {
                            let px = x + 2 + (n as i64 * 8 + col) * s + dx;
                            put(img, px, y + 2 + row as i64 * s + dy, Rgb([255, 255, 255]));
                        }
                    }
                }
            }
        }
    }
}
