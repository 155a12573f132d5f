//! The whole on-device path on arbitrary bytes: decode, both shipped detectors (SSD and GFL
//! decoders, NMS, label -> category), square context crops and the embedder. The real models
//! are loaded once per process. Photos are bounded to 1 MP and a 320 px working size so that an
//! execution stays in the tens of milliseconds.
#![no_main]

use std::path::PathBuf;
use std::sync::OnceLock;

use libfuzzer_sys::fuzz_target;
use shoplook_core::engine::{COCO_DETECTOR, DEFAULT_DETECTOR, DEFAULT_EMBEDDER};
use shoplook_core::{AnalyzeOptions, DecodeLimits, Engine, EngineConfig};

fn engine() -> &'static Engine {
    static ENGINE: OnceLock<Engine> = OnceLock::new();
    ENGINE.get_or_init(|| {
        let dir = std::env::var_os("SHOPLOOK_MODELS")
            .map(PathBuf::from)
            .unwrap_or_else(|| PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../models"));
        let config = EngineConfig {
            detectors: vec![DEFAULT_DETECTOR.into(), COCO_DETECTOR.into()],
            embedder: DEFAULT_EMBEDDER.into(),
            decode_limits: DecodeLimits {
                max_pixels: 1 << 20,
                working_max_side: 320,
                ..DecodeLimits::default()
            },
            threads: 1,
            pose: None,
        };
        Engine::from_dir_with(&dir, &config).expect("the shipped models load")
    })
}

fuzz_target!(|data: &[u8]| {
    let engine = engine();
    // A low threshold, so that boxes (and their crops) come out of most photos.
    let options = AnalyzeOptions {
        min_score: Some(0.2),
        max_items: 3,
        embed: true,
    };
    let Ok(analysis) = engine.analyze(data, &options) else {
        return;
    };
    let (w, h) = (analysis.width as f32, analysis.height as f32);
    assert!(analysis.items.len() <= options.max_items);
    for item in &analysis.items {
        assert!((0.2..=1.0).contains(&item.score), "score {}", item.score);
        let b = item.bbox;
        assert!(
            b.x >= 0.0 && b.y >= 0.0 && b.width >= 0.0 && b.height >= 0.0,
            "box {b:?}"
        );
        assert!(
            b.x + b.width <= w + 0.5 && b.y + b.height <= h + 0.5,
            "box {b:?} outside {w}x{h}"
        );
        let e = item
            .embedding
            .as_ref()
            .expect("embed: true gives embeddings");
        assert_eq!(e.len(), analysis.embedder.dim);
        assert!(e.iter().all(|v| v.is_finite()));
        let norm = e.iter().map(|v| v * v).sum::<f32>().sqrt();
        assert!((norm - 1.0).abs() < 1e-3, "embedding norm {norm}");
    }
});
