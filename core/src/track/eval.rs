//! Measuring a tracker without human annotation: identity metrics of tracked boxes against
//! reference tracklets.
//!
//! The reference is built from detection on every frame, linked frame to frame by optimal IoU
//! matching ([`link_reference`]): while the detector sees an object continuously, its boxes form
//! one reference tracklet. Against these, [`compare`] counts what a tracker's ids do: an *id
//! switch* is a reference box matched to another id than the previous box of its tracklet, a
//! *fragmented* tracklet is one that got more than one id. This measures identity stability
//! where the detector is reliable; it says nothing about objects the detector never sees.

use std::collections::{HashMap, HashSet};

use serde::{Deserialize, Serialize};

use super::sort::match_iou;
use crate::geometry::Rect;

/// Boxes of one frame with their track (or reference tracklet) ids.
pub type IdBoxes = Vec<(u64, Rect)>;

/// Links per-frame boxes into tracklets: consecutive frames matched by IoU >= `min_iou`
/// (Hungarian); a box with no match starts a new tracklet. Returns the boxes with ids.
pub fn link_reference(frames: &[Vec<Rect>], min_iou: f32) -> Vec<IdBoxes> {
    let mut next = 0u64;
    let mut out: Vec<IdBoxes> = Vec::with_capacity(frames.len());
    let mut prev: IdBoxes = Vec::new();
    for boxes in frames {
        let prev_rects: Vec<Rect> = prev.iter().map(|(_, r)| *r).collect();
        let m = match_iou(&prev_rects, boxes, min_iou, |_, _| true);
        let mut ids: Vec<Option<u64>> = vec![None; boxes.len()];
        for (i, j) in m {
            ids[j] = Some(prev[i].0);
        }
        let cur: IdBoxes = boxes
            .iter()
            .zip(ids)
            .map(|(r, id)| {
                let id = id.unwrap_or_else(|| {
                    next += 1;
                    next
                });
                (id, *r)
            })
            .collect();
        out.push(cur.clone());
        prev = cur;
    }
    out
}

/// Identity figures of a tracker against reference tracklets.
#[derive(Debug, Clone, Copy, Default, PartialEq, Serialize, Deserialize)]
pub struct IdMetrics {
    /// Reference tracklets of at least the minimum length.
    pub reference_tracklets: usize,
    /// Their boxes, and how many of them a tracked box covered (IoU >= threshold).
    pub reference_boxes: usize,
    pub covered_boxes: usize,
    /// Changes of id along a tracklet (see the module doc).
    pub id_switches: usize,
    /// Tracklets that got more than one id.
    pub fragmented: usize,
    /// Distinct tracker ids that covered any reference box.
    pub tracker_ids: usize,
}

impl IdMetrics {
    pub fn coverage(&self) -> f64 {
        self.covered_boxes as f64 / self.reference_boxes.max(1) as f64
    }
}

/// Compares tracked boxes with reference tracklets frame by frame (both slices one entry per
/// frame). Tracklets shorter than `min_len` frames are left out (detector noise).
pub fn compare(
    reference: &[IdBoxes],
    tracked: &[IdBoxes],
    min_iou: f32,
    min_len: usize,
) -> IdMetrics {
    let mut len: HashMap<u64, usize> = HashMap::new();
    for f in reference {
        for (id, _) in f {
            *len.entry(*id).or_default() += 1;
        }
    }
    let kept: HashSet<u64> = len
        .iter()
        .filter(|(_, n)| **n >= min_len)
        .map(|(id, _)| *id)
        .collect();
    let mut last: HashMap<u64, u64> = HashMap::new();
    let mut seen: HashMap<u64, HashSet<u64>> = HashMap::new();
    let mut all_ids: HashSet<u64> = HashSet::new();
    let mut m = IdMetrics {
        reference_tracklets: kept.len(),
        ..IdMetrics::default()
    };
    for (refs, tracks) in reference.iter().zip(tracked) {
        let refs: Vec<&(u64, Rect)> = refs.iter().filter(|(id, _)| kept.contains(id)).collect();
        m.reference_boxes += refs.len();
        let rr: Vec<Rect> = refs.iter().map(|(_, r)| *r).collect();
        let tr: Vec<Rect> = tracks.iter().map(|(_, r)| *r).collect();
        for (i, j) in match_iou(&rr, &tr, min_iou, |_, _| true) {
            let (ref_id, tid) = (refs[i].0, tracks[j].0);
            m.covered_boxes += 1;
            all_ids.insert(tid);
            if let Some(prev) = last.insert(ref_id, tid)
                && prev != tid
            {
                m.id_switches += 1;
            }
            seen.entry(ref_id).or_default().insert(tid);
        }
    }
    m.fragmented = seen.values().filter(|s| s.len() > 1).count();
    m.tracker_ids = all_ids.len();
    m
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn track_eval_counts_switches_and_fragments() {
        let r = |x: f32| Rect::new(x, 0.0, 10.0, 10.0);
        // One object moving right over 4 frames; reference links it into one tracklet.
        let frames: Vec<Vec<Rect>> = (0..4).map(|i| vec![r(i as f32)]).collect();
        let reference = link_reference(&frames, 0.5);
        assert!(reference.iter().all(|f| f[0].0 == reference[0][0].0));
        // A tracker that changes id once at frame 2 and misses frame 3.
        let tracked = vec![
            vec![(7, r(0.0))],
            vec![(7, r(1.0))],
            vec![(8, r(2.0))],
            vec![],
        ];
        let m = compare(&reference, &tracked, 0.5, 2);
        assert_eq!(m.reference_tracklets, 1);
        assert_eq!((m.reference_boxes, m.covered_boxes), (4, 3));
        assert_eq!((m.id_switches, m.fragmented, m.tracker_ids), (1, 1, 2));
    }
}
