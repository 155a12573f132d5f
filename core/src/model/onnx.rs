//! ONNX models: parsed with tract-onnx and decluttered at load, and exported once to the NNEF
//! archives the phone builds load instead (see the parent module).

use std::io::Cursor;

use sha2::{Digest, Sha256};
use tract_onnx::prelude::*;

use super::ModelFiles;
use super::{input_shape, nnef};
use crate::error::{Error, Result};
use crate::manifest::ModelManifest;

/// Parses `onnx`, checks its one image input against the manifest, fixes the input shape, keeps
/// only `outputs` and declutters the graph (the machine-independent simplifications).
pub(super) fn load_decluttered(
    manifest: &ModelManifest,
    onnx: &[u8],
    outputs: &[&str],
    batch: usize,
) -> Result<TypedModel> {
    let id = &manifest.id;
    let invalid =
        |what: &str, e: &dyn std::fmt::Display| Error::model_invalid(id, format!("{what}: {e}"));
    let mut model = tract_onnx::onnx()
        .model_for_read(&mut Cursor::new(onnx))
        .map_err(|e| invalid("not a readable ONNX model", &e))?;

    let inputs = model
        .input_outlets()
        .map_err(|e| invalid("no inputs", &e))?
        .to_vec();
    if inputs.len() != 1 {
        return Err(Error::model_invalid(
            id,
            format!("expected 1 image input, found {}", inputs.len()),
        ));
    }
    let input_name = &model.node(inputs[0].node).name;
    if input_name != &manifest.input.name {
        return Err(Error::model_invalid(
            id,
            format!(
                "input is named {input_name:?}, manifest says {:?}",
                manifest.input.name
            ),
        ));
    }
    let shape = input_shape(&manifest.input, batch);
    model
        .set_input_fact(0, f32::fact(shape).into())
        .map_err(|e| invalid("cannot set input shape", &e))?;
    model
        .select_outputs_by_name(outputs)
        .map_err(|e| invalid("missing output", &e))?;
    model
        .into_typed()
        .and_then(|m| m.into_decluttered())
        .map_err(|e| invalid("does not fit the manifest's input shape", &e))
}

/// Exports a model as the NNEF archive a build without `onnx` loads: the graph with the input
/// and outputs exactly as the engine plans it (batch 1, the outputs the manifest's decoder or
/// embedding reads), decluttered, plus a header tying it to the ONNX file's sha256 (checked
/// against the manifest here, and by the loader against the manifest it is given).
pub fn export_nnef(files: &ModelFiles) -> Result<Vec<u8>> {
    let manifest = ModelManifest::from_json(&files.manifest_json)?;
    let sha256 = hex(&Sha256::digest(&files.onnx));
    if let Some(want) = &manifest.sha256
        && !want.eq_ignore_ascii_case(&sha256)
    {
        return Err(Error::model_invalid(
            &manifest.id,
            format!(
                "{} has sha256 {sha256}, the manifest says {want}",
                manifest.file
            ),
        ));
    }
    let outputs = manifest.outputs();
    let names: Vec<&str> = outputs.iter().map(String::as_str).collect();
    let typed = load_decluttered(&manifest, &files.onnx, &names, 1)?;
    let header = nnef::Header {
        model_id: manifest.id.clone(),
        source_sha256: sha256,
        outputs,
        batch: 1,
    };
    nnef::write(&manifest, &header, &typed)
}

fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}
