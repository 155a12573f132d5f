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
