//! GFL head decoding (NanoDet): for each stride, a grid of points; each point has class scores
//! (sigmoid already applied in the graph) and, per box side (left, top, right, bottom), a
//! distribution over `reg_max + 1` distance bins whose expectation times the stride is the
//! distance from the point to that side.

use crate::geometry::Rect;

/// Expected distance (in bins) of one side's distribution: softmax, then sum(p_i * i).
pub fn expected_bin(logits: &[f32]) -> f32 {
    let max = logits.iter().copied().fold(f32::NEG_INFINITY, f32::max);
    let mut sum = 0.0;
    let mut weighted = 0.0;
    for (i, &l) in logits.iter().enumerate() {
        let e = (l - max).exp();
        sum += e;
        weighted += e * i as f32;
    }
    if sum > 0.0 && sum.is_finite() {
        weighted / sum
    } else {
        0.0
    }
}

/// Decodes the box of grid point `index` on a `grid_w`-wide grid of the given stride, in
/// input-image pixels. `dist` holds 4 x (reg_max + 1) logits, side-major.
pub fn decode_box(dist: &[f32], index: usize, grid_w: usize, stride: f32, bins: usize) -> Rect {
    let cx = ((index % grid_w) as f32 + 0.5) * stride;
    let cy = ((index / grid_w) as f32 + 0.5) * stride;
    let side = |k: usize| expected_bin(&dist[k * bins..(k + 1) * bins]) * stride;
    Rect::from_corners(cx - side(0), cy - side(1), cx + side(2), cy + side(3))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn expectation_of_a_peaked_distribution_is_its_peak() {
        let mut l = vec![-50.0; 11];
        l[3] = 50.0;
        assert!((expected_bin(&l) - 3.0).abs() < 1e-4);
        assert!((expected_bin(&[0.0; 11]) - 5.0).abs() < 1e-4);
    }
}
