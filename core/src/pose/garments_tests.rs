//! Each rule on synthetic keypoints: a person standing facing the camera in a 400x800 image,
//! torso 200 px, then changed one way at a time.

use super::kp::*;
use super::*;
use crate::pose::KEYPOINTS;

const W: f32 = 400.0;
const H: f32 = 800.0;

fn standing() -> Pose {
    let at = [
        (200.0, 100.0), // nose
        (210.0, 90.0),  // left eye (the person's left: the image's right)
        (190.0, 90.0),
        (225.0, 95.0), // left ear
        (175.0, 95.0),
        (250.0, 180.0), // left shoulder
        (150.0, 180.0),
        (265.0, 280.0), // left elbow
        (135.0, 280.0),
        (270.0, 370.0), // left wrist
        (130.0, 370.0),
        (235.0, 380.0), // left hip
        (165.0, 380.0),
        (235.0, 530.0), // left knee
        (165.0, 530.0),
        (235.0, 680.0), // left ankle
        (165.0, 680.0),
    ];
    let keypoints: [Keypoint; KEYPOINTS] = std::array::from_fn(|i| Keypoint {
        x: at[i].0,
        y: at[i].1,
        score: 0.8,
    });
    Pose {
        bbox: Rect::from_corners(120.0, 60.0, 280.0, 740.0),
        score: 0.7,
        keypoints,
    }
}

fn find(regions: &[GarmentRegion], g: Garment) -> Option<Rect> {
    regions.iter().find(|r| r.garment == g).map(|r| r.rect)
}

fn get(p: &Pose, g: Garment) -> Option<Rect> {
    find(&regions(p, W, H, &GarmentRules::default()), g)
}

fn contains(r: &Rect, x: f32, y: f32) -> bool {
    x >= r.x && x <= r.right() && y >= r.y && y <= r.bottom()
}

#[test]
fn a_standing_person_has_all_five_pieces_in_place() {
    let p = standing();
    let rs = regions(&p, W, H, &GarmentRules::default());
    let kinds: Vec<Garment> = rs.iter().map(|r| r.garment).collect();
    assert_eq!(kinds, Garment::ALL.to_vec());
    let top = find(&rs, Garment::Top).unwrap();
    let bottoms = find(&rs, Garment::Bottoms).unwrap();
    let shoes = find(&rs, Garment::Shoes).unwrap();
    let hat = find(&rs, Garment::Headwear).unwrap();
    let glasses = find(&rs, Garment::Eyewear).unwrap();
    // Top: shoulders to hips, elbows inside; hanging wrists do not stretch it down.
    assert!(contains(&top, 250.0, 180.0) && contains(&top, 150.0, 180.0));
    assert!(contains(&top, 265.0, 280.0) && contains(&top, 135.0, 280.0));
    assert!(top.y < 180.0 && top.bottom() > 380.0 && top.bottom() < 450.0);
    // Bottoms: hips to ankles.
    assert!(bottoms.y < 380.0 && bottoms.bottom() >= 680.0 && bottoms.bottom() < 720.0);
    // Shoes: both ankles, reaching below them (the feet).
    assert!(contains(&shoes, 235.0, 680.0) && contains(&shoes, 165.0, 680.0));
    assert!(shoes.bottom() > 720.0 && shoes.y > 600.0);
    // Headwear above the eyes, eyewear across them, both about a head wide.
    assert!(hat.bottom() < 95.0 && hat.y < 60.0 && contains(&hat, 200.0, 60.0));
    assert!(contains(&glasses, 210.0, 90.0) && contains(&glasses, 190.0, 90.0));
    assert!(glasses.width < 100.0 && glasses.height < glasses.width);
    // Scores are the weakest defining keypoint's.
    assert!(rs.iter().all(|r| (r.score - 0.8).abs() < 1e-6));
}

#[test]
fn raised_arms_widen_the_top_to_the_wrists() {
    let hanging = get(&standing(), Garment::Top).unwrap();
    let mut p = standing();
    // Arms up and out: elbows beside the head, wrists above it.
    p.keypoints[L_ELBOW] = Keypoint {
        x: 320.0,
        y: 120.0,
        score: 0.8,
    };
    p.keypoints[L_WRIST] = Keypoint {
        x: 340.0,
        y: 40.0,
        score: 0.8,
    };
    p.keypoints[R_ELBOW] = Keypoint {
        x: 80.0,
        y: 120.0,
        score: 0.8,
    };
    p.keypoints[R_WRIST] = Keypoint {
        x: 60.0,
        y: 40.0,
        score: 0.8,
    };
    let raised = get(&p, Garment::Top).unwrap();
    assert!(contains(&raised, 340.0, 40.0) && contains(&raised, 60.0, 40.0));
    assert!(raised.width > hanging.width + 100.0 && raised.y < hanging.y - 100.0);
    // A forearm bent up (wrist above its elbow) counts as raised too; a hanging one does not.
    let mut bent = standing();
    bent.keypoints[L_WRIST] = Keypoint {
        x: 300.0,
        y: 200.0,
        score: 0.8,
    };
    assert!(contains(&get(&bent, Garment::Top).unwrap(), 300.0, 200.0));
    assert!(hanging.y > 140.0 && hanging.bottom() < 420.0, "{hanging:?}");
}

#[test]
fn bottoms_end_at_the_knees_when_the_ankles_are_not_visible() {
    let mut p = standing();
    p.keypoints[L_ANKLE].score = 0.1;
    p.keypoints[R_ANKLE].score = 0.1;
    let b = get(&p, Garment::Bottoms).unwrap();
    assert!(b.bottom() > 530.0 && b.bottom() < 600.0, "{b:?}");
    assert!(get(&p, Garment::Shoes).is_none(), "no ankles: no shoes");
    // No knees either: only the hips are left, the bottoms are left out.
    p.keypoints[L_KNEE].score = 0.1;
    p.keypoints[R_KNEE].score = 0.1;
    assert!(get(&p, Garment::Bottoms).is_none());
}

#[test]
fn low_confidence_keypoints_leave_their_pieces_out() {
    let mut p = standing();
    for i in [L_HIP, R_HIP] {
        p.keypoints[i].score = 0.2;
    }
    // Hips occluded inside the photo (the frame goes on far below the shoulders).
    assert!(get(&p, Garment::Bottoms).is_none());
    assert!(get(&p, Garment::Top).is_none());
    let mut q = standing();
    q.keypoints[L_EYE].score = 0.1;
    let rs = regions(&q, W, H, &GarmentRules::default());
    assert!(find(&rs, Garment::Eyewear).is_none(), "one eye: no eyewear");
    assert!(
        find(&rs, Garment::Headwear).is_some(),
        "the ears still place the head"
    );
    // Nothing measurable at all: nothing.
    let mut none = standing();
    for k in none.keypoints.iter_mut() {
        k.score = 0.05;
    }
    assert!(regions(&none, W, H, &GarmentRules::default()).is_empty());
}

#[test]
fn out_of_frame_keypoints_leave_their_pieces_out() {
    // A portrait: the photo ends at y = 300, below the shoulders; hips, knees, ankles are
    // predicted below the edge (MoveNet still places them, with some score).
    let p = standing();
    let rs = regions(&p, W, 300.0, &GarmentRules::default());
    assert!(find(&rs, Garment::Bottoms).is_none());
    assert!(find(&rs, Garment::Shoes).is_none());
    let top = find(&rs, Garment::Top).expect("the top is visible down to the edge");
    assert_eq!(top.bottom(), 300.0);
    assert!(find(&rs, Garment::Headwear).is_some());
    // Feet beyond the right edge of a narrow photo: no shoes there.
    let mut q = standing();
    for i in [L_ANKLE, R_ANKLE] {
        q.keypoints[i].x += 400.0;
    }
    assert!(get(&q, Garment::Shoes).is_none());
}

#[test]
fn regions_are_clamped_and_mostly_outside_ones_dropped() {
    // The head at the very top: the hat region would reach above the photo.
    let mut p = standing();
    for k in p.keypoints.iter_mut() {
        k.y -= 80.0;
    }
    let rs = regions(&p, W, H, &GarmentRules::default());
    for r in &rs {
        assert!(r.rect.x >= 0.0 && r.rect.y >= 0.0, "{r:?}");
        assert!(r.rect.right() <= W && r.rect.bottom() <= H, "{r:?}");
    }
    // Eyes at y = 10: over half of a hat region is above the photo, it is dropped.
    assert!(find(&rs, Garment::Headwear).is_none());
    assert!(find(&rs, Garment::Eyewear).is_some());
    // Feet at the bottom edge: the shoe region is cut to the photo but kept.
    let mut q = standing();
    for i in [L_ANKLE, R_ANKLE] {
        q.keypoints[i].y = 770.0;
    }
    let shoes = get(&q, Garment::Shoes).unwrap();
    assert_eq!(shoes.bottom(), H);
}

#[test]
fn the_scale_falls_back_from_torso_to_legs_to_head() {
    let rules = GarmentRules::default();
    let p = standing();
    assert!((body_scale(&p, W, H, &rules).unwrap() - 200.0).abs() < 1e-3);
    let mut legs = standing();
    for i in [L_SHOULDER, R_SHOULDER] {
        legs.keypoints[i].score = 0.0;
    }
    assert!((body_scale(&legs, W, H, &rules).unwrap() - 150.0).abs() < 1e-3);
    let mut head = standing();
    for i in 5..KEYPOINTS {
        head.keypoints[i].score = 0.0;
    }
    assert!((body_scale(&head, W, H, &rules).unwrap() - 175.0).abs() < 1e-3);
}

#[test]
fn a_head_in_profile_is_still_a_head_wide() {
    // Seen from the side: the eyes and ears almost on top of each other, the nose 40 px away.
    let mut p = standing();
    p.keypoints[NOSE] = Keypoint {
        x: 160.0,
        y: 100.0,
        score: 0.8,
    };
    for (i, x) in [
        (L_EYE, 171.0),
        (R_EYE, 172.0),
        (L_EAR, 198.0),
        (R_EAR, 202.0),
    ] {
        p.keypoints[i] = Keypoint {
            x,
            y: 92.0,
            score: 0.8,
        };
    }
    for i in [L_SHOULDER, R_SHOULDER] {
        p.keypoints[i].x = 200.0 + (p.keypoints[i].x - 200.0) * 0.3; // foreshortened
    }
    for i in [L_HIP, R_HIP] {
        p.keypoints[i].score = 0.1; // the body's scale comes from the narrow shoulders
    }
    let hat = get(&p, Garment::Headwear).unwrap();
    assert!(hat.width > 50.0, "{hat:?}");
}

#[test]
fn categories_and_labels() {
    let cats: Vec<&str> = Garment::ALL.iter().map(|g| g.category()).collect();
    assert_eq!(cats, ["tops", "bottoms", "shoes", "headwear", "eyewear"]);
    assert_eq!(Garment::Top.label(), "Top");
}
