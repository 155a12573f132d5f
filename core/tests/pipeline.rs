//! The whole on-device pipeline on real photos with the shipped models.

mod common;

use common::{analyze, cosine, engine, photo};
use image::{ImageFormat, RgbImage};
use shoplook_core::{AnalyzeOptions, Rect};

#[test]
fn bus_photo_yields_shoes_in_the_lower_part_and_a_person() {
    let a = analyze("bus.jpg");
    assert_eq!((a.width, a.height), (810, 1080));
    let shoes: Vec<_> = a.items.iter().filter(|i| i.category == "shoes").collect();
    assert!(shoes.len() >= 4, "expected >= 4 shoes, got {:?}", a.items);
    for s in &shoes {
        let centre_y = s.bbox.y + s.bbox.height / 2.0;
        assert!(
            centre_y > 0.7 * a.height as f32,
            "shoe box not near the feet: {:?}",
            s.bbox
        );
        assert!(
            s.bbox.width < 120.0 && s.bbox.height < 120.0,
            "shoe box too large: {:?}",
            s.bbox
        );
    }
    assert!(
        a.items
            .iter()
            .any(|i| i.label == "Person" && i.category == "outfit")
    );
    // Items come best first, every one embedded under the engine's contract.
    assert!(a.items.windows(2).all(|w| w[0].score >= w[1].score));
    for item in &a.items {
        let e = item.embedding.as_ref().expect("embedded by default");
        assert_eq!(e.len(), a.embedder.dim);
        assert!(
            (cosine(e, e) - 1.0).abs() < 1e-4,
            "embeddings are unit length"
        );
    }
}

#[test]
fn coffee_photo_yields_a_cup_in_kitchen() {
    let a = analyze("coffee.png");
    let best = a.items.first().expect("the cup is found");
    assert!(
        best.label == "Coffee cup" || best.label == "Mug",
        "{:?}",
        a.items
    );
    assert_eq!(best.category, "kitchen");
    // The cup fills the middle of the photo.
    assert!(
        best.bbox.x > 100.0 && best.bbox.right() < 500.0,
        "{:?}",
        best.bbox
    );
}

#[test]
fn cat_photo_yields_nothing_shoppable() {
    let a = analyze("chelsea.png");
    assert!(a.items.is_empty(), "a cat is not for sale: {:?}", a.items);
}

#[test]
fn max_items_and_min_score_are_honoured() {
    let opts = AnalyzeOptions {
        min_score: Some(0.5),
        max_items: 3,
        embed: false,
    };
    let a = engine().analyze(&photo("bus.jpg"), &opts).unwrap();
    assert!(!a.items.is_empty() && a.items.len() <= 3);
    assert!(
        a.items
            .iter()
            .all(|i| i.score >= 0.5 && i.embedding.is_none())
    );
}

fn encode(img: &RgbImage, format: ImageFormat) -> Vec<u8> {
    let mut out = std::io::Cursor::new(Vec::new());
    img.write_to(&mut out, format).unwrap();
    out.into_inner()
}

/// The first shoe of bus.jpg, embedded from a slightly different copy of the photo.
fn best_shoe_embedding(bytes: &[u8], sx: f32, dx: f32) -> Vec<f32> {
    let a = analyze("bus.jpg");
    let shoe = a.items.iter().find(|i| i.category == "shoes").unwrap().bbox;
    let region = Rect::new(
        shoe.x * sx + dx,
        shoe.y * sx,
        shoe.width * sx,
        shoe.height * sx,
    );
    engine().embed_region(bytes, region).unwrap().vector
}

#[test]
fn embedding_is_stable_under_reencoding_scaling_and_shift_but_tells_objects_apart() {
    let original = photo("bus.jpg");
    let base = best_shoe_embedding(&original, 1.0, 0.0);
    let decoded = engine().decode(&original).unwrap().image;

    let reencoded = {
        let mut out = std::io::Cursor::new(Vec::new());
        image::codecs::jpeg::JpegEncoder::new_with_quality(&mut out, 70)
            .encode_image(&decoded)
            .unwrap();
        out.into_inner()
    };
    let scaled = encode(
        &image::imageops::resize(&decoded, 648, 864, image::imageops::FilterType::Triangle),
        ImageFormat::Png,
    );

    let same = [
        (
            "re-encoded JPEG q70",
            cosine(&base, &best_shoe_embedding(&reencoded, 1.0, 0.0)),
        ),
        (
            "scaled to 80%",
            cosine(&base, &best_shoe_embedding(&scaled, 0.8, 0.0)),
        ),
        (
            "shifted 4 px",
            cosine(&base, &best_shoe_embedding(&original, 1.0, 4.0)),
        ),
    ];
    // Different objects: the shoe against a person and against the bus.
    let person = engine()
        .embed_region(&original, Rect::new(44.0, 384.0, 170.0, 498.0))
        .unwrap()
        .vector;
    let bus = engine()
        .embed_region(&original, Rect::new(20.0, 230.0, 780.0, 520.0))
        .unwrap()
        .vector;
    let different = cosine(&base, &person).max(cosine(&base, &bus));
    for (what, c) in same {
        assert!(c > 0.85, "{what}: cosine {c} too low");
        assert!(
            c > different + 0.2,
            "{what}: cosine {c} not well above different objects ({different})"
        );
    }
}

#[test]
fn concurrent_analyses_match_serial_ones() {
    let names = ["bus.jpg", "coffee.png", "astronaut.png", "grace_hopper.jpg"];
    let serial: Vec<_> = names.iter().map(|n| analyze(n).items).collect();
    std::thread::scope(|s| {
        let handles: Vec<_> = (0..8)
            .map(|t| {
                let name = names[t % names.len()];
                s.spawn(move || (t % names.len(), analyze(name).items))
            })
            .collect();
        for h in handles {
            let (i, items) = h.join().unwrap();
            assert_eq!(items, serial[i], "thread result differs for {}", names[i]);
        }
    });
}

#[test]
fn whole_image_and_region_embeddings_carry_the_model_contract() {
    let e = engine().embed_image(&photo("box.png")).unwrap();
    assert_eq!(e.model.to_string(), "efficientnet-lite0-imagenet@1");
    assert_eq!(e.vector.len(), 1280);
    let r = engine()
        .embed_region(
            &photo("box_in_scene.png"),
            Rect::new(0.0, 0.0, 100.0, 100.0),
        )
        .unwrap();
    assert_eq!(r.model, e.model);
}
