//! Every piece of the look, on real photos: the pose model (MoveNet MultiPose) finds each
//! person's keypoints, the garment rules turn them into top / bottoms / shoes / headwear /
//! eyewear items grouped under a `person_id`, and shoe regions merge with the detector's
//! Footwear boxes. bus.jpg and zidane.jpg are fetched by scripts/fetch-photos.sh.

mod common;

use std::collections::BTreeMap;
use std::sync::OnceLock;

use shoplook_core::engine::POSE_MODEL;
use shoplook_core::{Analysis, AnalyzeOptions, Engine, EngineConfig, Item, Rect};

fn engine() -> &'static Engine {
    static ENGINE: OnceLock<Engine> = OnceLock::new();
    ENGINE.get_or_init(|| {
        let config = EngineConfig {
            pose: Some(POSE_MODEL.into()),
            ..Default::default()
        };
        Engine::from_dir_with(common::models_dir(), &config).expect("shipped models load")
    })
}

fn analyze_bytes(bytes: &[u8]) -> Analysis {
    engine()
        .analyze(bytes, &AnalyzeOptions::default())
        .expect("analysis succeeds")
}

fn analyze(name: &str) -> Analysis {
    analyze_bytes(&common::photo(name))
}

/// Items per person id, by category.
fn looks_of(a: &Analysis) -> BTreeMap<u32, BTreeMap<String, Vec<&Item>>> {
    let mut out: BTreeMap<u32, BTreeMap<String, Vec<&Item>>> = BTreeMap::new();
    for item in &a.items {
        if let Some(p) = item.person_id {
            out.entry(p)
                .or_default()
                .entry(item.category.clone())
                .or_default()
                .push(item);
        }
    }
    out
}

/// Fraction of `inner`'s area inside `outer`.
fn inside(inner: &Rect, outer: &Rect) -> f32 {
    let w = inner.right().min(outer.right()) - inner.x.max(outer.x);
    let h = inner.bottom().min(outer.bottom()) - inner.y.max(outer.y);
    if w <= 0.0 || h <= 0.0 {
        0.0
    } else {
        w * h / inner.area()
    }
}

fn one<'a>(look: &'a BTreeMap<String, Vec<&'a Item>>, category: &str) -> Option<&'a Item> {
    let items = look.get(category)?;
    assert_eq!(items.len(), 1, "one {category} per person: {items:?}");
    Some(items[0])
}

#[test]
fn every_person_in_the_street_photo_gets_a_top_and_bottoms_inside_their_box() {
    let a = analyze("bus.jpg");
    let looks = looks_of(&a);
    let mut complete = 0;
    for (pid, look) in &looks {
        let person = one(look, "outfit").expect("every person id has its outfit item");
        let (Some(top), Some(bottoms)) = (one(look, "tops"), one(look, "bottoms")) else {
            continue;
        };
        complete += 1;
        for g in [top, bottoms] {
            assert!(
                inside(&g.bbox, &person.bbox) > 0.8,
                "P{pid} {} {:?} not inside the person {:?}",
                g.label,
                g.bbox,
                person.bbox
            );
            assert_eq!(g.detector, "movenet-multipose-lightning");
            let e = g.embedding.as_ref().expect("garments are embedded");
            let norm: f32 = e.iter().map(|v| v * v).sum::<f32>().sqrt();
            assert!((norm - 1.0).abs() < 1e-3);
        }
        // The top is above the bottoms.
        assert!(top.bbox.y < bottoms.bbox.y && top.bbox.bottom() < bottoms.bbox.bottom());
    }
    // The three people standing in full view (the fourth is cut by the left edge).
    assert!(complete >= 3, "{complete} complete looks: {looks:#?}");
}

#[test]
fn shoes_merge_with_the_footwear_boxes_instead_of_duplicating_them() {
    let a = analyze("bus.jpg");
    let footwear: Vec<&Item> = a.items.iter().filter(|i| i.label == "Footwear").collect();
    let claimed = footwear.iter().filter(|i| i.person_id.is_some()).count();
    assert!(
        claimed >= 4,
        "most Footwear boxes belong to a person: {footwear:#?}"
    );
    for (pid, look) in looks_of(&a) {
        let Some(shoes) = look.get("shoes") else {
            continue;
        };
        let detected = shoes.iter().filter(|i| i.label == "Footwear").count();
        let regions = shoes.iter().filter(|i| i.label == "Shoes").count();
        assert!(
            regions == 0 || detected == 0,
            "P{pid}: a shoe region beside detected footwear: {shoes:#?}"
        );
        assert!(regions <= 1);
    }
}

#[test]
fn hips_out_of_frame_give_no_bottoms_and_no_shoes() {
    // zidane.jpg: two men seen from the waist up.
    let a = analyze("zidane.jpg");
    let looks = looks_of(&a);
    assert!(looks.len() >= 2, "{looks:#?}");
    let with_top = looks.values().filter(|l| l.contains_key("tops")).count();
    assert!(with_top >= 2, "{looks:#?}");
    for (pid, look) in &looks {
        assert!(!look.contains_key("bottoms"), "P{pid}: {look:#?}");
        assert!(!look.contains_key("shoes"), "P{pid}: {look:#?}");
    }
    // The astronaut's portrait: a top down to the edge of the photo, nothing below.
    let a = analyze("astronaut.png");
    let looks = looks_of(&a);
    assert_eq!(looks.len(), 1, "{looks:#?}");
    let look = &looks[&0];
    let top = one(look, "tops").expect("a top");
    assert!((top.bbox.bottom() - a.height as f32).abs() < 2.0, "{top:?}");
    assert!(!look.contains_key("bottoms") && !look.contains_key("shoes"));
}

#[test]
fn the_footballer_has_a_whole_look() {
    let bytes = std::fs::read(common::repo_root().join("fixtures/web/messi5.jpg")).unwrap();
    let a = analyze_bytes(&bytes);
    let looks = looks_of(&a);
    assert_eq!(looks.len(), 1, "one person: {looks:#?}");
    let look = &looks[&0];
    for c in ["outfit", "tops", "bottoms", "shoes"] {
        assert!(look.contains_key(c), "{c} missing: {look:#?}");
    }
    let person = one(look, "outfit").unwrap();
    for (c, items) in look {
        for i in items {
            assert!(
                inside(&i.bbox, &person.bbox) > 0.6,
                "{c} {i:?} vs {person:?}"
            );
        }
    }
}

#[test]
fn without_a_pose_model_nothing_changes() {
    let a = common::analyze("bus.jpg");
    assert!(a.items.iter().all(|i| i.person_id.is_none()));
    assert!(
        a.items
            .iter()
            .all(|i| !["tops", "bottoms"].contains(&i.category.as_str()))
    );
    assert_eq!(a.timings.pose_ms, 0.0);
    let b = analyze("bus.jpg");
    assert!(b.timings.pose_ms > 0.0);
    assert!(
        b.detectors
            .iter()
            .any(|d| d.id == "movenet-multipose-lightning")
    );
    // The detectors' own items are the same, with person ids added.
    let same = |i: &Item| (i.label.clone(), (i.bbox.x * 10.0).round() as i64);
    let mut plain: Vec<_> = a.items.iter().map(same).collect();
    let mut posed: Vec<_> = b
        .items
        .iter()
        .filter(|i| i.detector != "movenet-multipose-lightning")
        .map(same)
        .collect();
    plain.sort();
    posed.sort();
    assert_eq!(plain, posed);
}

#[test]
fn photos_without_people_get_no_garments() {
    for name in ["coffee.png", "chelsea.png", "box_in_scene.png"] {
        let a = analyze(name);
        assert!(
            a.items.iter().all(|i| i.person_id.is_none()),
            "{name}: {:#?}",
            a.items
        );
    }
}
