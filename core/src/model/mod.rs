//! Loading models into optimised tract plans, from either of two files:
//!
//! - ONNX (feature `onnx`, on by default): parsed, its input fixed, pruned to the outputs the
//!   decoder reads, decluttered and optimised at every load ([`onnx`]).
//! - an NNEF archive exported from that ONNX ([`export_nnef`], `shoplook models export-nnef`):
//!   the graph is stored already decluttered, so loading skips the ONNX parser and the declutter
//!   pass (35-45 % of the load time of the shipped models: README, "Benchmarks") and the library
//!   needs neither (the phone builds are compiled without `onnx` and read NNEF only: a smaller
//!   library, a faster cold start) ([`nnef`]).

mod files;
mod nnef;
mod nnef_registry;
#[cfg(feature = "onnx")]
mod onnx;

use std::sync::Arc;

use tract_nnef::prelude::*;

use crate::error::{Error, Result};
use crate::manifest::{InputSpec, Layout, ModelManifest};

pub use files::ModelFiles;
pub use nnef::{NNEF_EXTENSION, is_nnef_archive};
#[cfg(feature = "onnx")]
pub use onnx::export_nnef;

/// A model ready to run: an optimised, immutable tract plan. Running it takes `&self` (each
/// run gets its own state), so one plan serves any number of threads.
pub(crate) struct Plan {
    pub plan: Arc<TypedRunnableModel>,
    /// Concrete shapes of the requested outputs, in request order.
    pub output_shapes: Vec<Vec<usize>>,
}

/// Plans `model` (ONNX, or an NNEF archive made by [`export_nnef`]) with its input fixed to
/// the manifest's shape at the given batch size and only the `outputs` asked for (pruning the
/// rest of the graph, e.g. an embedder's classifier head), optimised for this CPU.
pub(crate) fn load_plan(
    manifest: &ModelManifest,
    model: &[u8],
    outputs: &[&str],
    batch: usize,
) -> Result<Plan> {
    let typed = if is_nnef_archive(model) {
        nnef::load_decluttered(manifest, model, outputs, batch)?
    } else {
        #[cfg(feature = "onnx")]
        {
            onnx::load_decluttered(manifest, model, outputs, batch)?
        }
        #[cfg(not(feature = "onnx"))]
        {
            return Err(Error::model_invalid(
                &manifest.id,
                "this build reads NNEF models only (export them with \
                 `shoplook models export-nnef`)",
            ));
        }
    };
    optimise(manifest, typed, outputs)
}

/// Codegen for this CPU (kernel selection, layout): the part of loading neither file format
/// can store, since it depends on the machine.
fn optimise(manifest: &ModelManifest, mut typed: TypedModel, outputs: &[&str]) -> Result<Plan> {
    let id = &manifest.id;
    let invalid =
        |what: &str, e: &dyn std::fmt::Display| Error::model_invalid(id, format!("{what}: {e}"));
    typed
        .optimize()
        .map_err(|e| invalid("does not fit the manifest's input shape", &e))?;
    let mut output_shapes = Vec::with_capacity(outputs.len());
    for (i, name) in outputs.iter().enumerate() {
        let fact = typed.output_fact(i).map_err(|e| invalid("output", &e))?;
        let shape = fact.shape.as_concrete().ok_or_else(|| {
            Error::model_invalid(id, format!("output {name:?} has no concrete shape"))
        })?;
        output_shapes.push(shape.to_vec());
    }
    let plan = typed
        .into_runnable()
        .map_err(|e| invalid("cannot plan", &e))?;
    Ok(Plan {
        plan,
        output_shapes,
    })
}

pub(crate) fn input_shape(spec: &InputSpec, batch: usize) -> [usize; 4] {
    let (w, h) = (spec.width as usize, spec.height as usize);
    match spec.layout {
        Layout::Nchw => [batch, 3, h, w],
        Layout::Nhwc => [batch, h, w, 3],
    }
}

impl Plan {
    pub fn run(&self, model_id: &str, input: ndarray::Array4<f32>) -> Result<TVec<TValue>> {
        self.plan
            .run(tvec!(Tensor::from(input).into_tvalue()))
            .map_err(|e| Error::inference(model_id, e))
    }
}

/// Borrows output `i` as a flat f32 slice.
pub(crate) fn output_slice<'a>(
    outputs: &'a TVec<TValue>,
    i: usize,
    model_id: &str,
) -> Result<&'a [f32]> {
    outputs
        .get(i)
        .ok_or_else(|| Error::inference(model_id, format!("missing output {i}")))?
        .to_plain_array_view::<f32>()
        .map_err(|e| Error::inference(model_id, e))?
        .to_slice()
        .ok_or_else(|| Error::inference(model_id, "non-contiguous output"))
}

#[cfg(test)]
mod tests {
    //! tract against onnxruntime: the same real photo, sampled identically, through each
    //! shipped model; outputs must agree with the reference computed once by
    //! `scripts/make_ort_reference.py` (onnxruntime 1.32, CPU) and committed.

    use std::path::{Path, PathBuf};

    use serde::Deserialize;

    use super::*;
    use crate::preprocess::{fill_input, input_tensor};

    #[derive(Deserialize)]
    struct Reference {
        outputs: Vec<RefOutput>,
    }
    #[derive(Deserialize)]
    struct RefOutput {
        name: String,
        offset: usize,
        len: usize,
    }

    fn root() -> PathBuf {
        Path::new(env!("CARGO_MANIFEST_DIR")).join("..")
    }

    /// Nearest sampling at integer positions, exactly as the reference script does it.
    fn nearest(img: &image::RgbImage, w: u32, h: u32) -> image::RgbImage {
        let (sw, sh) = img.dimensions();
        image::RgbImage::from_fn(w, h, |x, y| *img.get_pixel(x * sw / w, y * sh / h))
    }

    fn model_files(model: &str) -> crate::ModelFiles {
        let manifest_json = std::fs::read(root().join(format!("models/{model}.json"))).unwrap();
        let manifest = ModelManifest::from_json(&manifest_json).unwrap();
        let onnx = std::fs::read(root().join("models").join(&manifest.file)).unwrap();
        crate::ModelFiles {
            manifest_json,
            onnx,
        }
    }

    /// Largest absolute difference, and the largest relative to the reference's range, with
    /// the model loaded from its ONNX file or from its NNEF export.
    fn compare(model: &str, format: Format) -> Vec<(String, f32, f32)> {
        let files = model_files(model);
        let manifest = ModelManifest::from_json(&files.manifest_json).unwrap();
        let onnx = match format {
            Format::Onnx => files.onnx,
            Format::Nnef => {
                let archive = export_nnef(&files).unwrap();
                assert!(is_nnef_archive(&archive));
                archive
            }
        };
        let dir = root().join("core/tests/data/ort_reference");
        let reference: Reference =
            serde_json::from_slice(&std::fs::read(dir.join(format!("{model}.json"))).unwrap())
                .unwrap();
        let raw = std::fs::read(dir.join(format!("{model}.bin"))).unwrap();
        let expected: Vec<f32> = raw
            .chunks_exact(4)
            .map(|b| f32::from_le_bytes(b.try_into().unwrap()))
            .collect();

        let photo = image::open(root().join("fixtures/photos/coffee.png"))
            .unwrap()
            .into_rgb8();
        let spec = &manifest.input;
        let mut input = input_tensor(spec, 1);
        fill_input(
            &mut input,
            0,
            &nearest(&photo, spec.width, spec.height),
            spec,
        );
        // ONNX: every output the reference has. NNEF: the export keeps only what the engine
        // plans (e.g. not the embedder's logits), each of which the reference must cover.
        let compared: Vec<&RefOutput> = match format {
            Format::Onnx => reference.outputs.iter().collect(),
            Format::Nnef => manifest
                .outputs()
                .iter()
                .map(|name| {
                    let found = reference.outputs.iter().find(|o| &o.name == name);
                    found.unwrap_or_else(|| panic!("{model}: no reference for {name}"))
                })
                .collect(),
        };
        let names: Vec<&str> = compared.iter().map(|o| o.name.as_str()).collect();
        let plan = load_plan(&manifest, &onnx, &names, 1).unwrap();
        let outputs = plan.run(&manifest.id, input).unwrap();
        compared
            .into_iter()
            .enumerate()
            .map(|(i, o)| {
                let got = output_slice(&outputs, i, &manifest.id).unwrap();
                let want = &expected[o.offset..o.offset + o.len];
                assert_eq!(got.len(), want.len(), "{model} {}", o.name);
                let max_abs = got
                    .iter()
                    .zip(want)
                    .map(|(a, b)| (a - b).abs())
                    .fold(0.0, f32::max);
                let range = want.iter().fold(0.0f32, |m, v| m.max(v.abs()));
                (o.name.clone(), max_abs, max_abs / range.max(1e-6))
            })
            .collect()
    }

    /// Tolerance: 1e-3 of each output's largest magnitude. fp32 kernels differ in summation
    /// order and FMA use, so bit equality is not expected; a real bug (wrong layout,
    /// normalisation, channel order) shows up as errors of 10% or more.
    const RELATIVE_TOLERANCE: f32 = 1e-3;

    #[derive(Clone, Copy)]
    enum Format {
        Onnx,
        Nnef,
    }

    fn assert_matches(model: &str, format: Format) {
        for (name, abs, rel) in compare(model, format) {
            assert!(
                rel < RELATIVE_TOLERANCE,
                "{model} {name}: max abs diff {abs} ({rel} of range)"
            );
        }
    }

    #[test]
    fn detector_matches_onnxruntime() {
        assert_matches("ssd_mbv2_oidv4", Format::Onnx);
    }

    #[test]
    fn embedder_matches_onnxruntime() {
        assert_matches("efficientnet_lite0_feat", Format::Onnx);
    }

    #[test]
    fn coco_detector_matches_onnxruntime() {
        assert_matches("nanodet", Format::Onnx);
    }

    // The NNEF exports are what the phone builds run: the same reference, the same tolerance.
    #[test]
    fn detector_nnef_export_matches_onnxruntime() {
        assert_matches("ssd_mbv2_oidv4", Format::Nnef);
    }

    #[test]
    fn embedder_nnef_export_matches_onnxruntime() {
        assert_matches("efficientnet_lite0_feat", Format::Nnef);
    }

    #[test]
    fn coco_detector_nnef_export_matches_onnxruntime() {
        assert_matches("nanodet", Format::Nnef);
    }

    fn refused(manifest: &ModelManifest, archive: &[u8], outputs: &[&str]) -> String {
        match load_plan(manifest, archive, outputs, 1) {
            Ok(_) => panic!("loaded an archive that does not belong to {}", manifest.id),
            Err(e) => {
                assert!(matches!(e, Error::ModelInvalid { .. }), "{e:?}");
                e.to_string()
            }
        }
    }

    #[test]
    fn nnef_archive_of_another_model_or_version_is_refused() {
        let embedder = model_files("efficientnet_lite0_feat");
        let archive = export_nnef(&embedder).unwrap();
        let manifest = ModelManifest::from_json(&embedder.manifest_json).unwrap();
        let outputs = manifest.outputs();
        let names: Vec<&str> = outputs.iter().map(String::as_str).collect();

        // Exported from another model.
        let detector = model_files("ssd_mbv2_oidv4");
        let ssd = ModelManifest::from_json(&detector.manifest_json).unwrap();
        let ssd_outputs = ssd.outputs();
        let ssd_names: Vec<&str> = ssd_outputs.iter().map(String::as_str).collect();
        let msg = refused(&ssd, &archive, &ssd_names);
        assert!(msg.contains("export the NNEF archive again"), "{msg}");

        // The manifest now names other weights (a new ONNX file, same id).
        let mut newer = manifest.clone();
        newer.sha256 = Some("00".repeat(32));
        let msg = refused(&newer, &archive, &names);
        assert!(msg.contains("sha256"), "{msg}");

        // Planned with other outputs than the archive keeps.
        let msg = refused(&manifest, &archive, &["logits"]);
        assert!(msg.contains("outputs"), "{msg}");

        // The same archive loads for its own manifest.
        load_plan(&manifest, &archive, &names, 1).unwrap();
    }

    #[test]
    fn damaged_nnef_archives_are_refused() {
        let files = model_files("efficientnet_lite0_feat");
        let manifest = ModelManifest::from_json(&files.manifest_json).unwrap();
        let outputs = manifest.outputs();
        let names: Vec<&str> = outputs.iter().map(String::as_str).collect();
        let archive = export_nnef(&files).unwrap();

        // Cut short: the graph's weights are missing.
        let cut = &archive[..archive.len() / 2];
        assert!(is_nnef_archive(cut));
        refused(&manifest, cut, &names);

        // A plain tar without the header (e.g. tract's own NNEF dump).
        let plain = tract_nnef::nnef().write_to_tar(
            &tract_nnef::nnef()
                .model_for_read(&mut std::io::Cursor::new(&archive))
                .unwrap(),
            Vec::new(),
        );
        let msg = refused(&manifest, &plain.unwrap(), &names);
        assert!(msg.contains("header"), "{msg}");

        // Bytes flipped inside the graph text: refused or loaded, never a panic.
        let mut flipped = archive.clone();
        for b in flipped.iter_mut().skip(4096).step_by(997).take(50) {
            *b ^= 0x5a;
        }
        let _ = load_plan(&manifest, &flipped, &names, 1);
    }

    #[test]
    fn export_refuses_an_onnx_file_the_manifest_does_not_name() {
        let mut files = model_files("efficientnet_lite0_feat");
        files.onnx = model_files("ssd_mbv2_oidv4").onnx;
        let e = match export_nnef(&files) {
            Ok(_) => panic!("exported the wrong ONNX file"),
            Err(e) => e,
        };
        assert!(e.to_string().contains("sha256"), "{e}");
    }
}
