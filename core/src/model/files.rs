//! A model as bytes (manifest and model file), read from a model directory or handed over by
//! an app; what [`super::Plan`] loads and [`super::export_nnef`] converts.

#[cfg(not(target_family = "wasm"))]
use std::path::Path;

#[cfg(not(target_family = "wasm"))]
use crate::error::Error;
use crate::error::Result;
#[cfg(not(target_family = "wasm"))]
use crate::manifest::ModelManifest;

/// A model as bytes: its manifest JSON and its model file (apps load these from assets).
#[derive(Debug, Clone)]
pub struct ModelFiles {
    pub manifest_json: Vec<u8>,
    /// The ONNX file the manifest names, or the NNEF archive exported from it
    /// ([`crate::export_nnef`]); builds without the `onnx` feature (the phone libraries) read
    /// NNEF only.
    pub onnx: Vec<u8>,
}

impl ModelFiles {
    /// Reads `<dir>/<name>.json` and the model: its NNEF export `<dir>/<name>.nnef.tar` when
    /// there is one (it loads faster), else the ONNX file the manifest names (not on wasm: no
    /// file system).
    #[cfg(not(target_family = "wasm"))]
    pub fn from_dir(dir: &Path, name: &str) -> Result<Self> {
        let manifest_path = dir.join(format!("{name}.json"));
        let manifest_json = read(&manifest_path)?;
        let manifest = ModelManifest::from_json(&manifest_json)?;
        let nnef = dir.join(format!("{name}.{}", super::NNEF_EXTENSION));
        let onnx = if nnef.is_file() {
            read(&nnef)?
        } else {
            read(&dir.join(&manifest.file))?
        };
        Ok(ModelFiles {
            manifest_json,
            onnx,
        })
    }
}

#[cfg(not(target_family = "wasm"))]
fn read(path: &Path) -> Result<Vec<u8>> {
    std::fs::read(path).map_err(|e| Error::ModelIo {
        path: path.display().to_string(),
        detail: e.to_string(),
    })
}
