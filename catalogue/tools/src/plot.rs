//! A learning curve as a PNG, drawn with the `image` crate already in the build (no plotting
//! library): grid, axes with numbered ticks (a 3x5 pixel digit font), one line per series.

use image::{Rgb, RgbImage};

const W: u32 = 900;
const H: u32 = 520;
const LEFT: i32 = 70;
const RIGHT: i32 = 30;
const TOP: i32 = 30;
const BOTTOM: i32 = 50;

/// Digits, '.', '-' as 3x5 bitmaps (rows top to bottom, 3 bits each).
fn glyph(c: char) -> Option<[u8; 5]> {
    Some(match c {
        '0' => [7, 5, 5, 5, 7],
        '1' => [2, 6, 2, 2, 7],
        '2' => [7, 1, 7, 4, 7],
        '3' => [7, 1, 7, 1, 7],
        '4' => [5, 5, 7, 1, 1],
        '5' => [7, 4, 7, 1, 7],
        '6' => [7, 4, 7, 5, 7],
        '7' => [7, 1, 1, 1, 1],
        '8' => [7, 5, 7, 5, 7],
        '9' => [7, 5, 7, 1, 7],
        '.' => [0, 0, 0, 0, 2],
        '-' => [0, 0, 7, 0, 0],
        _ => return None,
    })
}

fn put(img: &mut RgbImage, x: i32, y: i32, c: Rgb<u8>) {
    if x >= 0 && y >= 0 && (x as u32) < img.width() && (y as u32) < img.height() {
        img.put_pixel(x as u32, y as u32, c);
    }
}

/// Text at (x, y) top-left, each font pixel drawn `scale` x `scale`.
fn text(img: &mut RgbImage, x: i32, y: i32, s: &str, scale: i32, c: Rgb<u8>) {
    for (i, ch) in s.chars().enumerate() {
        let Some(g) = glyph(ch) else { continue };
        for (row, bits) in g.iter().enumerate() {
            for col in 0..3 {
                if bits & (4 >> col) != 0 {
                    for dy in 0..scale {
                        for dx in 0..scale {
                            put(
                                img,
                                x + (i as i32 * 4 + col) * scale + dx,
                                y + row as i32 * scale + dy,
                                c,
                            );
                        }
                    }
                }
            }
        }
    }
}

fn line(img: &mut RgbImage, (x0, y0): (f64, f64), (x1, y1): (f64, f64), width: i32, c: Rgb<u8>) {
    let n = ((x1 - x0).abs().max((y1 - y0).abs()) as usize).max(1);
    for i in 0..=n {
        let t = i as f64 / n as f64;
        let (x, y) = (x0 + t * (x1 - x0), y0 + t * (y1 - y0));
        for dy in -(width / 2)..=(width / 2) {
            for dx in -(width / 2)..=(width / 2) {
                put(img, x.round() as i32 + dx, y.round() as i32 + dy, c);
            }
        }
    }
}

/// One line of the chart.
pub struct Series<'a> {
    pub color: [u8; 3],
    pub points: &'a [(f64, f64)],
}

/// Draws the series over a shared x and y range (y padded by 5 %), with 5 ticks per axis.
pub fn chart(series: &[Series]) -> RgbImage {
    let mut img = RgbImage::from_pixel(W, H, Rgb([255, 255, 255]));
    let all = series.iter().flat_map(|s| s.points.iter());
    let (mut x0, mut x1, mut y0, mut y1) = (f64::MAX, f64::MIN, f64::MAX, f64::MIN);
    for (x, y) in all {
        x0 = x0.min(*x);
        x1 = x1.max(*x);
        y0 = y0.min(*y);
        y1 = y1.max(*y);
    }
    if x0 > x1 {
        return img;
    }
    x0 = x0.min(0.0);
    let pad = ((y1 - y0) * 0.05).max(1e-3);
    let (y0, y1) = (y0 - pad, y1 + pad);
    let (pw, ph) = (
        (W as i32 - LEFT - RIGHT) as f64,
        (H as i32 - TOP - BOTTOM) as f64,
    );
    let px = |x: f64| LEFT as f64 + (x - x0) / (x1 - x0).max(1e-9) * pw;
    let py = |y: f64| TOP as f64 + (1.0 - (y - y0) / (y1 - y0)) * ph;
    let grid = Rgb([225, 225, 225]);
    let ink = Rgb([60, 60, 60]);
    for i in 0..=5 {
        let t = i as f64 / 5.0;
        let (gx, gy) = (x0 + t * (x1 - x0), y0 + t * (y1 - y0));
        line(
            &mut img,
            (px(gx), TOP as f64),
            (px(gx), TOP as f64 + ph),
            1,
            grid,
        );
        line(
            &mut img,
            (LEFT as f64, py(gy)),
            (LEFT as f64 + pw, py(gy)),
            1,
            grid,
        );
        let xs = format!("{}", gx.round() as i64);
        text(
            &mut img,
            px(gx) as i32 - xs.len() as i32 * 4,
            TOP + ph as i32 + 10,
            &xs,
            2,
            ink,
        );
        text(&mut img, 8, py(gy) as i32 - 5, &format!("{gy:.3}"), 2, ink);
    }
    line(
        &mut img,
        (LEFT as f64, TOP as f64 + ph),
        (LEFT as f64 + pw, TOP as f64 + ph),
        1,
        ink,
    );
    line(
        &mut img,
        (LEFT as f64, TOP as f64),
        (LEFT as f64, TOP as f64 + ph),
        1,
        ink,
    );
    for s in series {
        let c = Rgb(s.color);
        for w in s.points.windows(2) {
            line(
                &mut img,
                (px(w[0].0), py(w[0].1)),
                (px(w[1].0), py(w[1].1)),
                3,
                c,
            );
        }
        for p in s.points {
            line(
                &mut img,
                (px(p.0) - 3.0, py(p.1)),
                (px(p.0) + 3.0, py(p.1)),
                5,
                c,
            );
        }
    }
    img
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn draws_each_series_in_its_colour() {
        let a = [(0.0, 0.1), (10.0, 0.2), (20.0, 0.3)];
        let b = [(0.0, 0.1), (10.0, 0.1), (20.0, 0.1)];
        let img = chart(&[
            Series {
                color: [200, 0, 0],
                points: &a,
            },
            Series {
                color: [0, 0, 200],
                points: &b,
            },
        ]);
        let count = |c: [u8; 3]| img.pixels().filter(|p| p.0 == c).count();
        assert!(count([200, 0, 0]) > 500 && count([0, 0, 200]) > 500);
        // The rising series ends above (smaller y) the flat one.
        let top = |c: [u8; 3]| {
            img.enumerate_pixels()
                .filter(|(x, _, p)| p.0 == c && *x > W - RIGHT as u32 - 10)
                .map(|(_, y, _)| y)
                .min()
                .unwrap()
        };
        assert!(top([200, 0, 0]) < top([0, 0, 200]));
    }
}
