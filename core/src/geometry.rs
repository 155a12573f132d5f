//! Boxes in pixel coordinates and the few operations on them the pipeline needs.

use serde::{Deserialize, Serialize};

/// An axis-aligned rectangle in pixels: top-left corner plus size.
#[derive(Debug, Clone, Copy, PartialEq, Default, Serialize, Deserialize)]
pub struct Rect {
    pub x: f32,
    pub y: f32,
    pub width: f32,
    pub height: f32,
}

impl Rect {
    pub fn new(x: f32, y: f32, width: f32, height: f32) -> Self {
        Rect {
            x,
            y,
            width,
            height,
        }
    }

    pub fn from_corners(x0: f32, y0: f32, x1: f32, y1: f32) -> Self {
        Rect {
            x: x0,
            y: y0,
            width: x1 - x0,
            height: y1 - y0,
        }
    }

    pub fn right(&self) -> f32 {
        self.x + self.width
    }

    pub fn bottom(&self) -> f32 {
        self.y + self.height
    }

    pub fn area(&self) -> f32 {
        self.width.max(0.0) * self.height.max(0.0)
    }

    pub fn is_finite(&self) -> bool {
        [self.x, self.y, self.width, self.height]
            .iter()
            .all(|v| v.is_finite())
    }

    /// Intersection over union; 0 for disjoint or degenerate boxes.
    pub fn iou(&self, other: &Rect) -> f32 {
        let w = self.right().min(other.right()) - self.x.max(other.x);
        let h = self.bottom().min(other.bottom()) - self.y.max(other.y);
        if w <= 0.0 || h <= 0.0 {
            return 0.0;
        }
        let inter = w * h;
        let union = self.area() + other.area() - inter;
        if union <= 0.0 { 0.0 } else { inter / union }
    }

    /// The part of the rectangle inside `width` x `height`.
    pub fn clamp_to(&self, width: f32, height: f32) -> Rect {
        let x0 = self.x.clamp(0.0, width);
        let y0 = self.y.clamp(0.0, height);
        let x1 = self.right().clamp(0.0, width);
        let y1 = self.bottom().clamp(0.0, height);
        Rect::from_corners(x0, y0, x1, y1)
    }

    pub fn scaled(&self, sx: f32, sy: f32) -> Rect {
        Rect {
            x: self.x * sx,
            y: self.y * sy,
            width: self.width * sx,
            height: self.height * sy,
        }
    }

    /// A square of side `context * max(width, height)` centred on the box, moved (not cut)
    /// to lie inside the image where it fits. Square crops keep the object's aspect ratio when
    /// the embedder stretches them to its square input; the margin gives it some context.
    pub fn square_context(&self, context: f32, img_w: f32, img_h: f32) -> Rect {
        let side = self.width.max(self.height) * context;
        let sw = side.min(img_w);
        let sh = side.min(img_h);
        let cx = self.x + self.width / 2.0;
        let cy = self.y + self.height / 2.0;
        let x = (cx - sw / 2.0).clamp(0.0, img_w - sw);
        let y = (cy - sh / 2.0).clamp(0.0, img_h - sh);
        Rect::new(x, y, sw, sh)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn iou_of_identical_disjoint_and_half_overlapping_boxes() {
        let a = Rect::new(0.0, 0.0, 10.0, 10.0);
        assert_eq!(a.iou(&a), 1.0);
        assert_eq!(a.iou(&Rect::new(20.0, 20.0, 5.0, 5.0)), 0.0);
        let b = Rect::new(5.0, 0.0, 10.0, 10.0);
        assert!((a.iou(&b) - 50.0 / 150.0).abs() < 1e-6);
    }

    #[test]
    fn square_context_stays_inside_the_image() {
        let r = Rect::new(90.0, 40.0, 10.0, 20.0).square_context(1.5, 100.0, 50.0);
        assert_eq!((r.width, r.height), (30.0, 30.0));
        assert_eq!((r.right(), r.bottom()), (100.0, 50.0));
        let big = Rect::new(0.0, 0.0, 100.0, 50.0).square_context(2.0, 100.0, 50.0);
        assert_eq!(big, Rect::new(0.0, 0.0, 100.0, 50.0));
    }
}
