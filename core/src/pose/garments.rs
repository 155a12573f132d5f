//! From one person's keypoints, the regions where the pieces of their look are: top, bottoms,
//! shoes, headwear, eyewear. Pure geometry on COCO keypoints, in image pixels (y down).
//!
//! A keypoint is *visible* when its score reaches the rules' minimum and it lies inside the
//! image. A region is only emitted when the keypoints that define it are visible: what is out
//! of frame or occluded is left out, never guessed. The one exception is deliberate: a top
//! whose shoulders are visible but whose hips lie below the bottom edge of the photo (a
//! portrait) is emitted down to that edge, since what is in the photo is the top itself.
//! Every region is clamped to the image and dropped when less than
//! [`GarmentRules::min_inside`] of it was inside.
//!
//! Sizes scale with the person: `s` is the torso length (shoulder midpoint to hip midpoint)
//! when both are visible, else derived from the shoulders, legs or head (see [`body_scale`]).

use serde::{Deserialize, Serialize};

use super::{Keypoint, Pose};
use crate::geometry::Rect;

/// COCO keypoint indices.
pub mod kp {
    pub const NOSE: usize = 0;
    pub const L_EYE: usize = 1;
    pub const R_EYE: usize = 2;
    pub const L_EAR: usize = 3;
    pub const R_EAR: usize = 4;
    pub const L_SHOULDER: usize = 5;
    pub const R_SHOULDER: usize = 6;
    pub const L_ELBOW: usize = 7;
    pub const R_ELBOW: usize = 8;
    pub const L_WRIST: usize = 9;
    pub const R_WRIST: usize = 10;
    pub const L_HIP: usize = 11;
    pub const R_HIP: usize = 12;
    pub const L_KNEE: usize = 13;
    pub const R_KNEE: usize = 14;
    pub const L_ANKLE: usize = 15;
    pub const R_ANKLE: usize = 16;
}

/// A piece of the look.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Garment {
    Top,
    Bottoms,
    Shoes,
    Headwear,
    Eyewear,
}

impl Garment {
    pub const ALL: [Garment; 5] = [
        Garment::Top,
        Garment::Bottoms,
        Garment::Shoes,
        Garment::Headwear,
        Garment::Eyewear,
    ];

    /// The shopping category the catalogue filters on.
    pub fn category(self) -> &'static str {
        match self {
            Garment::Top => "tops",
            Garment::Bottoms => "bottoms",
            Garment::Shoes => "shoes",
            Garment::Headwear => "headwear",
            Garment::Eyewear => "eyewear",
        }
    }

    /// The item label.
    pub fn label(self) -> &'static str {
        match self {
            Garment::Top => "Top",
            Garment::Bottoms => "Bottoms",
            Garment::Shoes => "Shoes",
            Garment::Headwear => "Headwear",
            Garment::Eyewear => "Eyewear",
        }
    }
}

/// One region derived from a pose.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct GarmentRegion {
    pub garment: Garment,
    /// In image pixels, clamped to the image.
    pub rect: Rect,
    /// The lowest score of the keypoints that define the region.
    pub score: f32,
}

/// Thresholds of the rules.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct GarmentRules {
    /// Keypoints scoring less are not visible.
    pub min_keypoint_score: f32,
    /// Least fraction of a region's area that must lie inside the image.
    pub min_inside: f32,
}

impl Default for GarmentRules {
    fn default() -> Self {
        GarmentRules {
            min_keypoint_score: 0.3,
            min_inside: 0.5,
        }
    }
}

/// A pose seen through the rules: which keypoints are visible.
struct Body<'a> {
    kps: &'a [Keypoint; super::KEYPOINTS],
    rules: &'a GarmentRules,
    w: f32,
    h: f32,
}

impl Body<'_> {
    fn visible(&self, i: usize) -> Option<Keypoint> {
        let k = self.kps[i];
        let inside = k.x >= 0.0 && k.y >= 0.0 && k.x <= self.w && k.y <= self.h;
        (k.score >= self.rules.min_keypoint_score && k.x.is_finite() && k.y.is_finite() && inside)
            .then_some(k)
    }

    fn both(&self, a: usize, b: usize) -> Option<(Keypoint, Keypoint)> {
        Some((self.visible(a)?, self.visible(b)?))
    }

    fn any(&self, idx: &[usize]) -> Vec<Keypoint> {
        idx.iter().filter_map(|&i| self.visible(i)).collect()
    }
}

fn mid(a: Keypoint, b: Keypoint) -> (f32, f32) {
    ((a.x + b.x) / 2.0, (a.y + b.y) / 2.0)
}

fn dist(a: Keypoint, b: Keypoint) -> f32 {
    ((a.x - b.x).powi(2) + (a.y - b.y).powi(2)).sqrt()
}

fn min_score(points: &[Keypoint]) -> f32 {
    points.iter().map(|k| k.score).fold(1.0, f32::min)
}

/// Grows a box (x0, y0, x1, y1) to hold a point with a margin.
fn include(b: &mut (f32, f32, f32, f32), k: Keypoint, margin: f32) {
    b.0 = b.0.min(k.x - margin);
    b.1 = b.1.min(k.y - margin);
    b.2 = b.2.max(k.x + margin);
    b.3 = b.3.max(k.y + margin);
}

/// The person's size in pixels, about their torso length, from the best visible evidence:
/// torso; shoulder width; thigh; shin; head. `None` when nothing measurable is visible.
/// (The regions use the same measure through `body_scale_of`; this entry point is the tests'.)
#[cfg(test)]
pub fn body_scale(pose: &Pose, img_w: f32, img_h: f32, rules: &GarmentRules) -> Option<f32> {
    let b = Body {
        kps: &pose.keypoints,
        rules,
        w: img_w,
        h: img_h,
    };
    body_scale_of(&b)
}

fn body_scale_of(b: &Body) -> Option<f32> {
    use kp::*;
    let pair = |a, c, f: f32| b.both(a, c).map(|(p, q)| dist(p, q) * f);
    let torso = b
        .both(L_SHOULDER, R_SHOULDER)
        .zip(b.both(L_HIP, R_HIP))
        .map(|((ls, rs), (lh, rh))| {
            let (sx, sy) = mid(ls, rs);
            let (hx, hy) = mid(lh, rh);
            ((sx - hx).powi(2) + (sy - hy).powi(2)).sqrt()
        });
    let candidates = [
        torso,
        pair(L_SHOULDER, R_SHOULDER, 1.3),
        pair(L_HIP, L_KNEE, 1.0).or(pair(R_HIP, R_KNEE, 1.0)),
        pair(L_KNEE, L_ANKLE, 1.0).or(pair(R_KNEE, R_ANKLE, 1.0)),
        pair(L_EAR, R_EAR, 3.5),
        pair(L_EYE, R_EYE, 7.0),
    ];
    // The first measurable one, ignoring degenerate ones (a side view's shoulders overlap).
    candidates
        .into_iter()
        .flatten()
        .find(|s| s.is_finite() && *s >= 4.0)
}

/// Every region of the look that the visible keypoints support.
pub fn regions(pose: &Pose, img_w: f32, img_h: f32, rules: &GarmentRules) -> Vec<GarmentRegion> {
    let b = Body {
        kps: &pose.keypoints,
        rules,
        w: img_w,
        h: img_h,
    };
    let Some(s) = body_scale_of(&b) else {
        return Vec::new();
    };
    [
        top(&b, s),
        bottoms(&b, s),
        shoes(&b, s),
        headwear(&b, s),
        eyewear(&b, s),
    ]
    .into_iter()
    .flatten()
    .filter_map(|(garment, (x0, y0, x1, y1), score)| {
        let full = Rect::from_corners(x0, y0, x1, y1);
        let rect = full.clamp_to(img_w, img_h);
        let ok = full.area() > 0.0
            && rect.width >= 4.0
            && rect.height >= 4.0
            && rect.area() >= rules.min_inside * full.area();
        ok.then_some(GarmentRegion {
            garment,
            rect,
            score,
        })
    })
    .collect()
}

type Raw = (Garment, (f32, f32, f32, f32), f32);

/// Shoulders to hips; elbows widen it; a raised arm (elbow above its shoulder, or wrist above
/// its elbow) brings the whole arm in, wrist included.
fn top(b: &Body, s: f32) -> Option<Raw> {
    use kp::*;
    let (ls, rs) = b.both(L_SHOULDER, R_SHOULDER)?;
    let mut used = vec![ls, rs];
    let mut r = (f32::MAX, f32::MAX, f32::MIN, f32::MIN);
    include(&mut r, ls, 0.15 * s);
    include(&mut r, rs, 0.15 * s);
    match b.both(L_HIP, R_HIP) {
        Some((lh, rh)) => {
            include(&mut r, lh, 0.15 * s);
            include(&mut r, rh, 0.15 * s);
            used.extend([lh, rh]);
        }
        None => {
            // The hips are not visible: a top is only emitted when they are below the photo
            // (a portrait), down to its bottom edge; hips hidden inside the photo leave it out.
            let hips_below =
                [L_HIP, R_HIP].iter().all(|&i| b.kps[i].y >= b.h) || b.h - ls.y.max(rs.y) < 1.1 * s;
            if !hips_below {
                return None;
            }
            r.3 = b.h;
        }
    }
    for (shoulder, elbow, wrist) in [(ls, L_ELBOW, L_WRIST), (rs, R_ELBOW, R_WRIST)] {
        let Some(e) = b.visible(elbow) else { continue };
        include(&mut r, e, 0.1 * s);
        if let Some(w) = b.visible(wrist)
            && (e.y < shoulder.y || w.y < e.y)
        {
            include(&mut r, w, 0.1 * s);
        }
    }
    Some((Garment::Top, r, min_score(&used)))
}

/// Hips to the ankles (or to the knees when the ankles are not visible); none below the hips
/// visible: left out.
fn bottoms(b: &Body, s: f32) -> Option<Raw> {
    use kp::*;
    let (lh, rh) = b.both(L_HIP, R_HIP)?;
    let ankles = b.any(&[L_ANKLE, R_ANKLE]);
    let knees = b.any(&[L_KNEE, R_KNEE]);
    let mut r = (f32::MAX, f32::MAX, f32::MIN, f32::MIN);
    include(&mut r, lh, 0.2 * s);
    include(&mut r, rh, 0.2 * s);
    for k in &knees {
        include(&mut r, *k, 0.15 * s);
    }
    let mut used = vec![lh, rh];
    if !ankles.is_empty() {
        for a in &ankles {
            include(&mut r, *a, 0.1 * s);
        }
        used.extend(&ankles);
    } else if !knees.is_empty() {
        used.extend(&knees);
    } else {
        return None;
    }
    Some((Garment::Bottoms, r, min_score(&used)))
}

/// Around each visible ankle: from a little above it to the ground, a foot's length wide;
/// both feet in one region.
fn shoes(b: &Body, s: f32) -> Option<Raw> {
    let ankles = b.any(&[kp::L_ANKLE, kp::R_ANKLE]);
    if ankles.is_empty() {
        return None;
    }
    let mut r = (f32::MAX, f32::MAX, f32::MIN, f32::MIN);
    for a in &ankles {
        r.0 = r.0.min(a.x - 0.25 * s);
        r.2 = r.2.max(a.x + 0.25 * s);
        r.1 = r.1.min(a.y - 0.12 * s);
        r.3 = r.3.max(a.y + 0.25 * s);
    }
    Some((Garment::Shoes, r, min_score(&ankles)))
}

/// The head's centre and width from the visible eyes and ears (and nose, for a profile).
fn head(b: &Body, s: f32) -> Option<((f32, f32), f32, Vec<Keypoint>)> {
    use kp::*;
    let points = b.any(&[L_EYE, R_EYE, L_EAR, R_EAR]);
    if points.len() < 2 {
        return None;
    }
    let n = points.len() as f32;
    let cx = points.iter().map(|k| k.x).sum::<f32>() / n;
    let cy = points.iter().map(|k| k.y).sum::<f32>() / n;
    let ears = b.both(L_EAR, R_EAR).map(|(l, r)| dist(l, r) * 1.2);
    let eyes = b.both(L_EYE, R_EYE).map(|(l, r)| dist(l, r) * 2.5);
    // A face in profile: eyes and ears overlap, but nose to ear is about a head across.
    let profile = b.visible(NOSE).and_then(|n| {
        b.any(&[L_EAR, R_EAR])
            .into_iter()
            .map(|e| dist(n, e) * 1.1)
            .reduce(f32::max)
    });
    let width = [ears, eyes, profile, Some(0.3 * s)]
        .into_iter()
        .flatten()
        .fold(0.0, f32::max);
    Some(((cx, cy), width, points))
}

/// Above the eyes and ears, a head wide plus a brim.
fn headwear(b: &Body, s: f32) -> Option<Raw> {
    let ((cx, cy), hw, used) = head(b, s)?;
    let r = (cx - 0.7 * hw, cy - 1.0 * hw, cx + 0.7 * hw, cy - 0.05 * hw);
    Some((Garment::Headwear, r, min_score(&used)))
}

/// Across both eyes (a face seen from the side, one eye, is left out).
fn eyewear(b: &Body, s: f32) -> Option<Raw> {
    let (le, re) = b.both(kp::L_EYE, kp::R_EYE)?;
    let (_, hw, _) = head(b, s)?;
    let (cx, cy) = mid(le, re);
    let width = (dist(le, re) * 2.4).max(0.8 * hw);
    let height = 0.4 * width;
    let r = (
        cx - width / 2.0,
        cy - height / 2.0,
        cx + width / 2.0,
        cy + height / 2.0,
    );
    Some((Garment::Eyewear, r, min_score(&[le, re])))
}

#[cfg(test)]
#[path = "garments_tests.rs"]
mod tests;
