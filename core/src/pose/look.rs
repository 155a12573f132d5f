//! A photo's people put together from the detectors' boxes and the pose model's keypoints.
//!
//! * Each pose is matched to the detectors' Person box it overlaps most (IoU, or most of its
//!   visible keypoints inside the box); a pose no detector found becomes a Person item of its
//!   own (box from the pose model), so every person with a look has an `outfit` item.
//! * Every person (detected, posed or both) gets a `person_id`: 0, 1, ... in the order of the
//!   detections (best first), then the unmatched poses (best first).
//! * A pose's garment regions become items of that person; its shoe region is merged with
//!   the detectors' Footwear boxes: boxes lying mostly inside it join the person (with their
//!   own box and score) and the region itself is dropped; with none, the region is the item.

use image::RgbImage;

use super::garments::{self, Garment, GarmentRules};
use super::{Pose, PoseModel};
use crate::detect::Detection;
use crate::error::Result;
use crate::geometry::Rect;

/// The category of a whole person in every detector manifest.
pub const OUTFIT: &str = "outfit";

/// A detection with the person it belongs to (if any).
#[derive(Debug, Clone)]
pub struct LookItem {
    pub detection: Detection,
    pub person_id: Option<u32>,
}

/// Thresholds of the assembly.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct LookRules {
    pub garments: GarmentRules,
    /// Least IoU between a pose's box and a Person box to be the same person...
    pub match_iou: f32,
    /// ...or least fraction of the pose's visible keypoints inside the Person box.
    pub match_keypoints: f32,
    /// Least fraction of a Footwear box inside a pose's shoe region to merge with it.
    pub footwear_inside: f32,
    /// Detected people no pose fits are looked at again, cropped, up to this many (each costs
    /// one more run of the pose model)...
    pub refine_max: usize,
    /// ...when their box is at least this tall (pixels of the working image).
    pub refine_min_height: f32,
}

impl Default for LookRules {
    fn default() -> Self {
        LookRules {
            garments: GarmentRules::default(),
            match_iou: 0.3,
            match_keypoints: 0.8,
            footwear_inside: 0.5,
            refine_max: 3,
            refine_min_height: 48.0,
        }
    }
}

fn intersection(a: &Rect, b: &Rect) -> f32 {
    let w = a.right().min(b.right()) - a.x.max(b.x);
    let h = a.bottom().min(b.bottom()) - a.y.max(b.y);
    if w <= 0.0 || h <= 0.0 { 0.0 } else { w * h }
}

/// How well a pose fits a Person box: their IoU, or the fraction of the pose's visible
/// keypoints inside the box when that reaches `rules.match_keypoints`; 0 when neither fits.
fn fit(pose: &Pose, person: &Rect, rules: &LookRules) -> f32 {
    let iou = pose.bbox.iou(person);
    let visible: Vec<_> = pose
        .keypoints
        .iter()
        .filter(|k| k.score >= rules.garments.min_keypoint_score)
        .collect();
    let inside = visible
        .iter()
        .filter(|k| {
            k.x >= person.x && k.x <= person.right() && k.y >= person.y && k.y <= person.bottom()
        })
        .count();
    let frac = if visible.len() >= 3 {
        inside as f32 / visible.len() as f32
    } else {
        0.0
    };
    if iou >= rules.match_iou {
        iou.max(frac)
    } else if frac >= rules.match_keypoints {
        frac
    } else {
        0.0
    }
}

/// The detected people (`outfit` boxes) that no pose fits, at least `refine_min_height`
/// tall, largest first: a second look at them, cropped, often finds their pose (people far
/// away are too small for the model's input in the whole photo).
pub fn unposed_people(found: &[Detection], poses: &[Pose], rules: &LookRules) -> Vec<Rect> {
    let mut out: Vec<Rect> = found
        .iter()
        .filter(|d| d.category == OUTFIT && d.rect.height >= rules.refine_min_height)
        .filter(|d| poses.iter().all(|p| fit(p, &d.rect, rules) == 0.0))
        .map(|d| d.rect)
        .collect();
    out.sort_by(|a, b| b.area().total_cmp(&a.area()));
    out
}

/// The crop a person is looked at again in: their box with a 10 % margin on each side.
pub fn refine_region(person: &Rect) -> Rect {
    let (mx, my) = (person.width * 0.1, person.height * 0.1);
    Rect::new(
        person.x - mx,
        person.y - my,
        person.width + 2.0 * mx,
        person.height + 2.0 * my,
    )
}

/// The pose among `candidates` that fits `person` best, if any does and it is not one of
/// `known` again (a crop around two people walking together finds the other one too).
pub fn best_fit(
    candidates: Vec<Pose>,
    person: &Rect,
    known: &[Pose],
    rules: &LookRules,
) -> Option<Pose> {
    candidates
        .into_iter()
        .filter(|p| known.iter().all(|k| k.bbox.iou(&p.bbox) < 0.5))
        .map(|p| (fit(&p, person, rules), p))
        .filter(|(f, _)| *f > 0.0)
        .max_by(|a, b| a.0.total_cmp(&b.0))
        .map(|(_, p)| p)
}

/// Every person's look in `image`: the pose model on the whole photo, a second, cropped look
/// at the largest detected people it missed (too small for its input), then [`assemble`] with
/// the detections `found`. Items come best first, as without a pose model; `person_id` holds
/// the grouping.
pub fn find(pose: &PoseModel, image: &RgbImage, found: Vec<Detection>) -> Result<Vec<LookItem>> {
    let (w, h) = image.dimensions();
    let min_score = pose.default_min_score();
    let mut poses = pose.estimate(image, min_score)?;
    let mut rules = LookRules::default();
    rules.garments.min_keypoint_score = pose.min_keypoint_score();
    let todo = unposed_people(&found, &poses, &rules);
    for person in todo.into_iter().take(rules.refine_max) {
        let again = pose.estimate_in(image, refine_region(&person), min_score)?;
        if let Some(p) = best_fit(again, &person, &poses, &rules) {
            poses.push(p);
        }
    }
    let mut items = assemble(
        found,
        &poses,
        &pose.manifest().id,
        w as f32,
        h as f32,
        &rules,
    );
    items.sort_by(|a, b| b.detection.score.total_cmp(&a.detection.score));
    Ok(items)
}

/// Puts the detections and the poses (both in the same image's pixels, `img_w` x `img_h`)
/// together into items with person ids. `pose_model` is the id recorded on the items the
/// pose model made.
pub fn assemble(
    found: Vec<Detection>,
    poses: &[Pose],
    pose_model: &str,
    img_w: f32,
    img_h: f32,
    rules: &LookRules,
) -> Vec<LookItem> {
    let mut items: Vec<LookItem> = found
        .into_iter()
        .map(|detection| LookItem {
            detection,
            person_id: None,
        })
        .collect();
    let persons: Vec<usize> = (0..items.len())
        .filter(|&i| items[i].detection.category == OUTFIT)
        .collect();

    // Greedy matching, best fit first.
    let mut pairs: Vec<(f32, usize, usize)> = Vec::new();
    for (p, pose) in poses.iter().enumerate() {
        for &d in &persons {
            let f = fit(pose, &items[d].detection.rect, rules);
            if f > 0.0 {
                pairs.push((f, p, d));
            }
        }
    }
    pairs.sort_by(|a, b| b.0.total_cmp(&a.0));
    let mut pose_person: Vec<Option<usize>> = vec![None; poses.len()];
    let mut taken = vec![false; items.len()];
    for (_, p, d) in pairs {
        if pose_person[p].is_none() && !taken[d] {
            pose_person[p] = Some(d);
            taken[d] = true;
        }
    }

    // Person ids: detected people first (best first), then the poses nobody detected.
    let mut next = 0u32;
    for &d in &persons {
        items[d].person_id = Some(next);
        next += 1;
    }
    let mut pose_ids = vec![0u32; poses.len()];
    for (p, pose) in poses.iter().enumerate() {
        pose_ids[p] = match pose_person[p] {
            Some(d) => items[d].person_id.unwrap_or_default(),
            None => {
                let id = next;
                next += 1;
                items.push(LookItem {
                    detection: Detection {
                        rect: pose.bbox.clamp_to(img_w, img_h),
                        class: 0,
                        label: "Person".into(),
                        category: OUTFIT.into(),
                        score: pose.score,
                        model_id: pose_model.into(),
                    },
                    person_id: Some(id),
                });
                id
            }
        };
    }

    for (p, pose) in poses.iter().enumerate() {
        let person_id = Some(pose_ids[p]);
        for region in garments::regions(pose, img_w, img_h, &rules.garments) {
            if region.garment == Garment::Shoes {
                let mut merged = false;
                for item in items.iter_mut() {
                    let d = &item.detection;
                    if item.person_id.is_none()
                        && d.category == Garment::Shoes.category()
                        && d.rect.area() > 0.0
                        && intersection(&d.rect, &region.rect)
                            >= rules.footwear_inside * d.rect.area()
                    {
                        item.person_id = person_id;
                        merged = true;
                    }
                }
                if merged {
                    continue;
                }
            }
            items.push(LookItem {
                detection: Detection {
                    rect: region.rect,
                    class: Garment::ALL
                        .iter()
                        .position(|g| *g == region.garment)
                        .unwrap_or_default(),
                    label: region.garment.label().into(),
                    category: region.garment.category().into(),
                    score: region.score,
                    model_id: pose_model.into(),
                },
                person_id,
            });
        }
    }
    items
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::pose::{KEYPOINTS, Keypoint};

    fn det(label: &str, category: &str, rect: Rect, score: f32) -> Detection {
        Detection {
            rect,
            class: 0,
            label: label.into(),
            category: category.into(),
            score,
            model_id: "det".into(),
        }
    }

    /// A person standing in a 400x800 image, torso 200 px, offset by dx.
    fn pose(dx: f32) -> Pose {
        let at = [
            (200.0, 100.0),
            (210.0, 90.0),
            (190.0, 90.0),
            (225.0, 95.0),
            (175.0, 95.0),
            (250.0, 180.0),
            (150.0, 180.0),
            (265.0, 280.0),
            (135.0, 280.0),
            (270.0, 370.0),
            (130.0, 370.0),
            (235.0, 380.0),
            (165.0, 380.0),
            (235.0, 530.0),
            (165.0, 530.0),
            (235.0, 680.0),
            (165.0, 680.0),
        ];
        Pose {
            bbox: Rect::from_corners(120.0 + dx, 60.0, 280.0 + dx, 740.0),
            score: 0.6,
            keypoints: std::array::from_fn::<_, KEYPOINTS, _>(|i| Keypoint {
                x: at[i].0 + dx,
                y: at[i].1,
                score: 0.8,
            }),
        }
    }

    #[test]
    fn garments_join_their_person_and_shoes_merge_with_footwear() {
        let found = vec![
            det(
                "Person",
                OUTFIT,
                Rect::from_corners(110.0, 50.0, 290.0, 750.0),
                0.9,
            ),
            det(
                "Footwear",
                "shoes",
                Rect::new(215.0, 670.0, 45.0, 40.0),
                0.6,
            ),
            det(
                "Footwear",
                "shoes",
                Rect::new(140.0, 670.0, 45.0, 40.0),
                0.5,
            ),
            // Someone else's shoe, far away: stays unassigned.
            det("Footwear", "shoes", Rect::new(10.0, 10.0, 20.0, 20.0), 0.4),
        ];
        let items = assemble(
            found,
            &[pose(0.0)],
            "pose",
            400.0,
            800.0,
            &LookRules::default(),
        );
        let person = |c: &str| {
            items
                .iter()
                .filter(|i| i.detection.category == c)
                .map(|i| i.person_id)
                .collect::<Vec<_>>()
        };
        assert_eq!(person(OUTFIT), [Some(0)]);
        assert_eq!(
            person("shoes"),
            [Some(0), Some(0), None],
            "merged, not duplicated"
        );
        for c in ["tops", "bottoms", "headwear", "eyewear"] {
            assert_eq!(person(c), [Some(0)], "{c}");
        }
        assert!(items.iter().all(|i| i.detection.label != "Shoes"));
    }

    #[test]
    fn without_footwear_boxes_the_shoe_region_is_the_item() {
        let items = assemble(
            Vec::new(),
            &[pose(0.0)],
            "pose",
            400.0,
            800.0,
            &LookRules::default(),
        );
        let shoes: Vec<_> = items
            .iter()
            .filter(|i| i.detection.category == "shoes")
            .collect();
        assert_eq!(shoes.len(), 1);
        assert_eq!(shoes[0].detection.label, "Shoes");
        assert_eq!(shoes[0].detection.model_id, "pose");
    }

    #[test]
    fn poses_nobody_detected_become_people_and_ids_follow_detections() {
        let found = vec![det(
            "Person",
            OUTFIT,
            Rect::from_corners(1010.0, 50.0, 1190.0, 750.0),
            0.8,
        )];
        // Two poses in a 1600-wide image: one on the detected person, one not detected.
        let poses = [pose(0.0), pose(900.0)];
        let items = assemble(found, &poses, "pose", 1600.0, 800.0, &LookRules::default());
        let outfits: Vec<_> = items
            .iter()
            .filter(|i| i.detection.category == OUTFIT)
            .collect();
        assert_eq!(outfits.len(), 2);
        assert_eq!(outfits[0].detection.model_id, "det");
        assert_eq!(outfits[0].person_id, Some(0));
        assert_eq!(outfits[1].detection.model_id, "pose");
        assert_eq!(outfits[1].person_id, Some(1));
        // Each person's top lies on their own body.
        for o in outfits {
            let top = items
                .iter()
                .find(|i| i.detection.category == "tops" && i.person_id == o.person_id)
                .unwrap();
            assert!(top.detection.rect.iou(&o.detection.rect) > 0.0);
        }
    }

    #[test]
    fn people_without_a_pose_are_listed_for_a_second_look_largest_first() {
        let found = vec![
            det(
                "Person",
                OUTFIT,
                Rect::from_corners(110.0, 50.0, 290.0, 750.0),
                0.9,
            ),
            det("Person", OUTFIT, Rect::new(500.0, 100.0, 40.0, 100.0), 0.5),
            det("Person", OUTFIT, Rect::new(600.0, 100.0, 60.0, 150.0), 0.5),
            det("Person", OUTFIT, Rect::new(700.0, 100.0, 10.0, 20.0), 0.5), // too small
            det(
                "Footwear",
                "shoes",
                Rect::new(800.0, 100.0, 60.0, 150.0),
                0.5,
            ),
        ];
        let rules = LookRules::default();
        let todo = unposed_people(&found, &[pose(0.0)], &rules);
        assert_eq!(todo, [found[2].rect, found[1].rect]);
        let r = refine_region(&found[1].rect);
        assert_eq!((r.x, r.width), (496.0, 48.0));
        // The pose found in the crop is kept only if it is that person.
        assert!(best_fit(vec![pose(0.0)], &found[1].rect, &[], &rules).is_none());
        assert!(best_fit(vec![pose(0.0)], &found[0].rect, &[], &rules).is_some());
        // ...and only if it is not a pose already known.
        assert!(best_fit(vec![pose(0.0)], &found[0].rect, &[pose(2.0)], &rules).is_none());
    }

    #[test]
    fn a_detected_person_without_a_pose_keeps_an_id_and_gets_no_garments() {
        let found = vec![det("Person", OUTFIT, Rect::new(0.0, 0.0, 50.0, 100.0), 0.7)];
        let items = assemble(found, &[], "pose", 400.0, 800.0, &LookRules::default());
        assert_eq!(items.len(), 1);
        assert_eq!(items[0].person_id, Some(0));
    }
}
