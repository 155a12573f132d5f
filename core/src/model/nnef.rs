//! NNEF archives: a tar of tract's NNEF serialisation of the decluttered graph, preceded by a
//! `shoplook.json` header saying which ONNX file it was exported from and how (model id, the
//! ONNX's sha256, the outputs kept, the batch size). tract's reader ignores files it does not
//! know, so the archive is also a plain NNEF model for tract's own tools.

use std::io::{Cursor, Read};

use serde::{Deserialize, Serialize};
use tract_nnef::prelude::*;

use super::input_shape;
use crate::error::{Error, Result};
use crate::manifest::ModelManifest;

/// File name extension of an exported model: `models/<name>.nnef.tar` next to `<name>.json`.
pub const NNEF_EXTENSION: &str = "nnef.tar";
const HEADER_FILE: &str = "shoplook.json";

#[derive(Debug, Serialize, Deserialize, PartialEq)]
#[serde(deny_unknown_fields)]
pub(super) struct Header {
    pub model_id: String,
    /// sha256 of the ONNX file the graph was exported from (the manifest's `sha256`).
    pub source_sha256: String,
    /// The graph's outputs, in order: what the engine's decoders read.
    pub outputs: Vec<String>,
    pub batch: usize,
}

/// A tar archive (POSIX `ustar` magic at byte 257), as [`write`] makes; ONNX files are
/// protobuf and never carry it there.
pub fn is_nnef_archive(bytes: &[u8]) -> bool {
    bytes.get(257..262) == Some(b"ustar".as_slice())
}

#[cfg_attr(not(feature = "onnx"), allow(dead_code))]
pub(super) fn write(
    manifest: &ModelManifest,
    header: &Header,
    typed: &TypedModel,
) -> Result<Vec<u8>> {
    let failed = |e: &dyn std::fmt::Display| {
        Error::model_invalid(&manifest.id, format!("cannot export as NNEF: {e}"))
    };
    let graph = tract_nnef::nnef()
        .write_to_tar(typed, Vec::new())
        .map_err(|e| failed(&e))?;
    // The library reads with a reader that knows only the operators the shipped models use
    // (nnef_registry.rs): refuse here an export it could not read on a phone.
    super::nnef_registry::reader()
        .model_for_read(&mut Cursor::new(&graph))
        .map_err(|e| {
            failed(&format_args!(
                "the library's NNEF reader cannot read the exported graph (it knows NNEF's \
                 standard operators and {:?}): {e:#}",
                super::nnef_registry::SUPPORTED
            ))
        })?;
    let mut out = tar::Builder::new(Vec::with_capacity(graph.len() + 1024));
    let json = serde_json::to_vec_pretty(header).map_err(|e| failed(&e))?;
    let mut head = tar::Header::new_ustar();
    head.set_size(json.len() as u64);
    head.set_mode(0o644);
    head.set_cksum();
    out.append_data(&mut head, HEADER_FILE, json.as_slice())
        .map_err(|e| failed(&e))?;
    let mut archive = tar::Archive::new(Cursor::new(graph));
    for entry in archive.entries().map_err(|e| failed(&e))? {
        let mut entry = entry.map_err(|e| failed(&e))?;
        let mut head = entry.header().clone();
        let path = entry.path().map_err(|e| failed(&e))?.into_owned();
        out.append_data(&mut head, path, &mut entry)
            .map_err(|e| failed(&e))?;
    }
    out.into_inner().map_err(|e| failed(&e))
}

/// The header of an archive made by [`write`] (its first entry).
fn read_header(manifest: &ModelManifest, bytes: &[u8]) -> Result<Header> {
    let invalid = |what: String| Error::model_invalid(&manifest.id, what);
    let mut archive = tar::Archive::new(Cursor::new(bytes));
    let mut entries = archive
        .entries()
        .map_err(|e| invalid(format!("not a readable NNEF archive: {e}")))?;
    let mut first = entries
        .next()
        .ok_or_else(|| invalid("empty NNEF archive".into()))?
        .map_err(|e| invalid(format!("not a readable NNEF archive: {e}")))?;
    let is_header = first
        .path()
        .is_ok_and(|p| p.as_os_str() == std::ffi::OsStr::new(HEADER_FILE));
    if !is_header {
        return Err(invalid(format!(
            "NNEF archive without its {HEADER_FILE} header: export it with \
             `shoplook models export-nnef`"
        )));
    }
    let mut json = Vec::new();
    first
        .read_to_end(&mut json)
        .map_err(|e| invalid(format!("unreadable {HEADER_FILE}: {e}")))?;
    serde_json::from_slice(&json).map_err(|e| invalid(format!("bad {HEADER_FILE}: {e}")))
}

/// Reads an archive made by [`write`] for `manifest`: refuses one exported from another model,
/// another version of its ONNX file, or with other outputs or batch than the caller plans.
pub(super) fn load_decluttered(
    manifest: &ModelManifest,
    bytes: &[u8],
    outputs: &[&str],
    batch: usize,
) -> Result<TypedModel> {
    let id = &manifest.id;
    let header = read_header(manifest, bytes)?;
    let mismatch = |what: String| {
        Err(Error::model_invalid(
            id,
            format!("{what}: export the NNEF archive again from this manifest's ONNX file"),
        ))
    };
    if header.model_id != *id {
        return mismatch(format!("NNEF archive of model {:?}", header.model_id));
    }
    if let Some(sha) = &manifest.sha256
        && !sha.eq_ignore_ascii_case(&header.source_sha256)
    {
        return mismatch(format!(
            "NNEF archive exported from ONNX sha256 {}, the manifest names {sha}",
            header.source_sha256
        ));
    }
    if header.outputs != outputs || header.batch != batch {
        return mismatch(format!(
            "NNEF archive has outputs {:?} at batch {}, the engine plans {outputs:?} at batch {batch}",
            header.outputs, header.batch
        ));
    }
    let model = super::nnef_registry::reader()
        .model_for_read(&mut Cursor::new(bytes))
        .map_err(|e| Error::model_invalid(id, format!("not a readable NNEF model: {e:#}")))?;

    let want = input_shape(&manifest.input, batch);
    let inputs = model.input_outlets().map(|o| o.len()).unwrap_or(0);
    let shape_ok = inputs == 1
        && model
            .input_fact(0)
            .ok()
            .and_then(|f| f.shape.as_concrete().map(|s| s == want))
            .unwrap_or(false);
    if !shape_ok {
        return mismatch(format!("NNEF graph's input is not one {want:?} tensor"));
    }
    if model.output_outlets().map(|o| o.len()).unwrap_or(0) != outputs.len() {
        return mismatch(format!(
            "NNEF graph does not have {} outputs",
            outputs.len()
        ));
    }
    Ok(model)
}
