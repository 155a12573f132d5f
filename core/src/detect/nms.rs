//! Greedy non-maximum suppression.

use crate::geometry::Rect;

/// Something with a box, a score and a group; suppression happens only within a group.
pub trait Scored {
    fn rect(&self) -> &Rect;
    fn score(&self) -> f32;
    fn same_group(&self, other: &Self) -> bool;
}

/// Keeps the best-scoring boxes, dropping any box whose IoU with a kept box of the same group
/// exceeds `iou`. Returns at most `max` items, best first.
pub fn nms<T: Scored>(mut items: Vec<T>, iou: f32, max: usize) -> Vec<T> {
    items.sort_by(|a, b| b.score().total_cmp(&a.score()));
    let mut kept: Vec<T> = Vec::new();
    for item in items {
        if kept.len() >= max {
            break;
        }
        if kept
            .iter()
            .all(|k| !k.same_group(&item) || k.rect().iou(item.rect()) <= iou)
        {
            kept.push(item);
        }
    }
    kept
}
