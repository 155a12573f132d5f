//! Loading ONNX models into optimised tract plans.

use std::io::Cursor;
use std::sync::Arc;

use tract_onnx::prelude::*;

use crate::error::{Error, Result};
use crate::manifest::{InputSpec, Layout, ModelManifest};

/// A model ready to run: an optimised, immutable tract plan. Running it takes `&self` (each
/// run gets its own state), so one plan serves any number of threads.
pub(crate) struct Plan {
    pub plan: Arc<TypedRunnableModel>,
    /// Concrete shapes of the requested outputs, in request order.
    pub output_shapes: Vec<Vec<usize>>,
}

/// Parses `onnx`, fixes its input to the manifest's shape with the given batch size, keeps only
/// the `outputs` asked for (pruning the rest of the graph, e.g. an embedder's classifier head),
/// and optimises it for this CPU.
pub(crate) fn load_plan(
    manifest: &ModelManifest,
    onnx: &[u8],
    outputs: &[&str],
    batch: usize,
) -> Result<Plan> {
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

    let typed = model
        .into_optimized()
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

    /// Largest absolute difference, and the largest relative to the reference's range.
    fn compare(model: &str) -> Vec<(String, f32, f32)> {
        let manifest_json = std::fs::read(root().join(format!("models/{model}.json"))).unwrap();
        let manifest = ModelManifest::from_json(&manifest_json).unwrap();
        let onnx = std::fs::read(root().join("models").join(&manifest.file)).unwrap();
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
        let names: Vec<&str> = reference.outputs.iter().map(|o| o.name.as_str()).collect();
        let plan = load_plan(&manifest, &onnx, &names, 1).unwrap();
        let outputs = plan.run(&manifest.id, input).unwrap();
        reference
            .outputs
            .iter()
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

    #[test]
    fn detector_matches_onnxruntime() {
        for (name, abs, rel) in compare("ssd_mbv2_oidv4") {
            assert!(
                rel < RELATIVE_TOLERANCE,
                "{name}: max abs diff {abs} ({rel} of range)"
            );
        }
    }

    #[test]
    fn embedder_matches_onnxruntime() {
        for (name, abs, rel) in compare("efficientnet_lite0_feat") {
            assert!(
                rel < RELATIVE_TOLERANCE,
                "{name}: max abs diff {abs} ({rel} of range)"
            );
        }
    }

    #[test]
    fn coco_detector_matches_onnxruntime() {
        for (name, abs, rel) in compare("nanodet") {
            assert!(
                rel < RELATIVE_TOLERANCE,
                "{name}: max abs diff {abs} ({rel} of range)"
            );
        }
    }
}
