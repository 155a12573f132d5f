//! The shipped models match their manifests and the NOTICE.

mod common;

use sha2::{Digest, Sha256};
use shoplook_core::manifest::ModelManifest;

#[test]
fn every_shipped_model_matches_its_manifest_sha256_and_is_in_the_notice() {
    let dir = common::models_dir();
    let notice = std::fs::read_to_string(dir.join("NOTICE.md")).unwrap();
    let mut count = 0;
    for entry in std::fs::read_dir(&dir).unwrap() {
        let path = entry.unwrap().path();
        if path.extension().is_none_or(|e| e != "json") {
            continue;
        }
        let manifest = ModelManifest::from_json(&std::fs::read(&path).unwrap()).unwrap();
        let onnx = std::fs::read(dir.join(&manifest.file)).unwrap();
        let digest: String = Sha256::digest(&onnx)
            .iter()
            .map(|b| format!("{b:02x}"))
            .collect();
        assert_eq!(
            manifest.sha256.as_deref(),
            Some(digest.as_str()),
            "{}",
            manifest.file
        );
        assert!(
            notice.contains(&digest),
            "NOTICE.md lacks {} ({digest})",
            manifest.file
        );
        count += 1;
    }
    assert_eq!(
        count, 4,
        "detector, COCO detector, embedder and pose manifests"
    );
}
