//! The NNEF exports the phone builds load (`shoplook models export-nnef`): an engine made only
//! of exported archives, with no ONNX file in its directory, finds what the ONNX engine finds.

mod common;

use std::path::PathBuf;

use common::{cosine, engine, models_dir, photo};
use shoplook_core::{AnalyzeOptions, Engine, EngineConfig, ModelFiles, export_nnef};

/// A directory holding each model's manifest and NNEF archive, and no ONNX file.
fn exported(names: &[&str]) -> PathBuf {
    let dir = std::env::temp_dir().join(format!("shoplook-nnef-test-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    for name in names {
        let files = ModelFiles::from_dir(&models_dir(), name).unwrap();
        assert!(
            !shoplook_core::model::is_nnef_archive(&files.onnx),
            "the source directory must hold the ONNX files"
        );
        std::fs::write(dir.join(format!("{name}.json")), &files.manifest_json).unwrap();
        std::fs::write(
            dir.join(format!("{name}.nnef.tar")),
            export_nnef(&files).unwrap(),
        )
        .unwrap();
    }
    dir
}

#[test]
fn an_engine_of_nnef_exports_finds_what_the_onnx_engine_finds() {
    let config = EngineConfig::default();
    let mut names: Vec<&str> = config.detectors.iter().map(String::as_str).collect();
    names.push(&config.embedder);
    let dir = exported(&names);
    let nnef = Engine::from_dir_with(&dir, &config).expect("the exports load");
    let onnx = engine();
    assert_eq!(nnef.embedder_contract(), onnx.embedder_contract());

    for name in ["bus.jpg", "astronaut.png", "coffee.png"] {
        let bytes = photo(name);
        let a = onnx.analyze(&bytes, &AnalyzeOptions::default()).unwrap();
        let b = nnef.analyze(&bytes, &AnalyzeOptions::default()).unwrap();
        assert!(!a.items.is_empty(), "{name}: nothing found");
        assert_eq!(
            a.items.len(),
            b.items.len(),
            "{name}: {:?} vs {:?}",
            a.items,
            b.items
        );
        for (x, y) in a.items.iter().zip(&b.items) {
            assert_eq!((&x.label, &x.category), (&y.label, &y.category), "{name}");
            assert!((x.score - y.score).abs() < 1e-3, "{name}: {x:?} vs {y:?}");
            let (p, q) = (&x.bbox, &y.bbox);
            let moved = (p.x - q.x).abs()
                + (p.y - q.y).abs()
                + (p.width - q.width).abs()
                + (p.height - q.height).abs();
            assert!(
                moved < 2.0,
                "{name}: box moved by {moved} px: {p:?} vs {q:?}"
            );
            let (ex, ey) = (x.embedding.as_ref().unwrap(), y.embedding.as_ref().unwrap());
            assert!(cosine(ex, ey) > 0.999, "{name}: embeddings differ");
        }
    }
    std::fs::remove_dir_all(&dir).ok();
}

#[test]
fn a_stale_export_is_refused_with_a_clear_error() {
    let name = "efficientnet_lite0_feat";
    let dir = std::env::temp_dir().join(format!("shoplook-nnef-stale-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let files = ModelFiles::from_dir(&models_dir(), name).unwrap();
    std::fs::write(
        dir.join(format!("{name}.nnef.tar")),
        export_nnef(&files).unwrap(),
    )
    .unwrap();
    // The manifest moved on to other weights (its sha256 changed) after the export.
    let mut manifest: serde_json::Value = serde_json::from_slice(&files.manifest_json).unwrap();
    manifest["sha256"] = "11".repeat(32).into();
    std::fs::write(dir.join(format!("{name}.json")), manifest.to_string()).unwrap();
    let files = ModelFiles::from_dir(&dir, name).unwrap();
    let err = match shoplook_core::embed::Embedder::load(
        shoplook_core::manifest::ModelManifest::from_json(&files.manifest_json).unwrap(),
        &files.onnx,
    ) {
        Ok(_) => panic!("a stale export loaded"),
        Err(e) => e.to_string(),
    };
    assert!(err.contains("export the NNEF archive again"), "{err}");
    std::fs::remove_dir_all(&dir).ok();
}
