//! Breaks the pipeline into its parts and times each (resize vs inference), to see where time goes.
//! `cargo run --release -p shoplook-core --example stage_profile -- PHOTO`
use std::path::PathBuf;
use std::time::Instant;

use shoplook_core::preprocess::{fill_input, input_tensor, resize_rgb};
use shoplook_core::{AnalyzeOptions, Engine};

fn main() {
    let path = std::env::args().nth(1).expect("usage: stage_profile PHOTO");
    let bytes = std::fs::read(path).unwrap();
    let engine = Engine::from_dir(models_dir()).unwrap();
    let photo = engine.decode(&bytes).unwrap();
    let t = Instant::now();
    for _ in 0..20 {
        let r = resize_rgb(&photo.image, 300, 300);
        std::hint::black_box(r);
    }
    println!(
        "resize to 300x300: {:.2} ms",
        t.elapsed().as_secs_f64() * 50.0
    );
    let r = resize_rgb(&photo.image, 224, 224);
    let t = Instant::now();
    for _ in 0..20 {
        let spec = &shoplook_core::manifest::ModelManifest::from_json(
            &std::fs::read(models_dir().join("efficientnet_lite0_feat.json")).unwrap(),
        )
        .unwrap()
        .input;
        let mut x = input_tensor(spec, 1);
        fill_input(&mut x, 0, &r, spec);
        std::hint::black_box(x);
    }
    println!(
        "fill 224 tensor (+manifest parse): {:.2} ms",
        t.elapsed().as_secs_f64() * 50.0
    );
    let opts = AnalyzeOptions {
        embed: false,
        ..Default::default()
    };
    for _ in 0..3 {
        engine.analyze_photo(&photo, &opts).unwrap();
    }
    let t = Instant::now();
    for _ in 0..20 {
        engine.analyze_photo(&photo, &opts).unwrap();
    }
    println!("detect stage: {:.2} ms", t.elapsed().as_secs_f64() * 50.0);
    let region = shoplook_core::Rect::new(10.0, 10.0, 200.0, 200.0);
    let t = Instant::now();
    for _ in 0..20 {
        engine.embed_region_of(&photo, region).unwrap();
    }
    println!("one embedding: {:.2} ms", t.elapsed().as_secs_f64() * 50.0);
}

/// `$SHOPLOOK_MODELS`, else `models/` of this checkout.
fn models_dir() -> PathBuf {
    std::env::var_os("SHOPLOOK_MODELS")
        .map(PathBuf::from)
        .unwrap_or_else(|| PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../models"))
}
