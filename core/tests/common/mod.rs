//! Shared helpers of the integration tests: real photos and one engine for all tests.
#![allow(dead_code)]

use std::path::PathBuf;
use std::sync::OnceLock;

use shoplook_core::{Analysis, AnalyzeOptions, Engine};

pub fn repo_root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("..")
}

/// Bytes of a real test photo: committed ones live in fixtures/photos, AGPL ones (bus.jpg,
/// zidane.jpg) are fetched from their package by scripts/fetch-photos.sh into fixtures/external.
pub fn photo(name: &str) -> Vec<u8> {
    for dir in ["fixtures/photos", "fixtures/external"] {
        let path = repo_root().join(dir).join(name);
        if path.exists() {
            return std::fs::read(path).unwrap();
        }
    }
    panic!("test photo {name} not found: run scripts/fetch-photos.sh first");
}

/// The shipped models: `$SHOPLOOK_MODELS` if set, else `models/` of this checkout.
pub fn models_dir() -> PathBuf {
    std::env::var_os("SHOPLOOK_MODELS")
        .map(PathBuf::from)
        .unwrap_or_else(|| repo_root().join("models"))
}

pub fn engine() -> &'static Engine {
    static ENGINE: OnceLock<Engine> = OnceLock::new();
    ENGINE.get_or_init(|| Engine::from_dir(models_dir()).expect("shipped models load"))
}

pub fn analyze(name: &str) -> Analysis {
    engine()
        .analyze(&photo(name), &AnalyzeOptions::default())
        .expect("analysis succeeds")
}

pub fn cosine(a: &[f32], b: &[f32]) -> f32 {
    a.iter().zip(b).map(|(x, y)| x * y).sum()
}
