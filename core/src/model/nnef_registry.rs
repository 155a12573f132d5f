//! The NNEF reader the library loads models with: NNEF's standard operators plus only the few
//! `tract_core` extension operators the shipped models' exports use.
//!
//! Why not `tract_nnef::nnef()`: its `tract_core` registry names every tract-core operator
//! (FFT/STFT, LSTM, GRU, scan, quantised products, ...) through function pointers, so a
//! link-time-optimised phone library keeps all of their code, rustfft included, although no
//! ShopLook model uses them. A reader that never builds that registry lets LTO drop them, with
//! the two places inside tract-nnef that built it anyway patched (third_party/tract-nnef/
//! PATCHED.md): 1.7 MB of the arm64 library (bindings/README.md, "Size"). The deserialisers
//! below follow tract-nnef 0.23.9's (`src/ops/core/*.rs`, MIT/Apache-2.0) for the operators
//! listed in [`SUPPORTED`].
//!
//! Exports are checked against this reader when they are written ([`super::nnef::write`]), so
//! a model that needs another operator fails at `shoplook models export-nnef`, not on a phone.

use tract_nnef::internal::*;
use tract_nnef::tract_core::ops;
use tract_nnef::tract_core::ops::nn::resize::{CoordTransformer, Interpolator, Nearest, Resize};

/// The `tract_core` operators this reader knows, beyond NNEF's standard set.
pub const SUPPORTED: &[&str] = &[
    "tract_core_cast",
    "tract_core_broadcast",
    "tract_core_gather_nd",
    "tract_core_resize",
    "tract_core_topk",
    "tract_shl",
];

/// NNEF's standard operators and [`SUPPORTED`]; reads graph.nnef and .dat tensors only.
pub(super) fn reader() -> tract_nnef::framework::Nnef {
    tract_nnef::framework::Nnef {
        stdlib: tract_nnef::framework::stdlib(),
        registries: vec![tract_nnef::ops::tract_nnef(), tract_core_subset()],
        resource_loaders: vec![GraphNnefLoader.into_boxed(), DatLoader.into_boxed()],
        allow_extended_identifier_syntax: false,
        extern_all_constants: false,
    }
}

/// A registry with tract's id `tract_core` (the exports declare `extension tract_registry
/// tract_core`) holding only [`SUPPORTED`].
fn tract_core_subset() -> Registry {
    let mut reg = Registry::new("tract_core");
    reg.register_primitive(
        "tract_core_cast",
        &[
            TypeName::Scalar.tensor().named("input"),
            TypeName::String.named("to"),
        ],
        &[("output", TypeName::Scalar.tensor())],
        load_cast,
    );
    reg.register_primitive(
        "tract_core_broadcast",
        &[
            TypeName::Scalar.tensor().named("input"),
            TypeName::Integer.array().named("shape"),
        ],
        &[("output", TypeName::Scalar.tensor())],
        load_broadcast,
    );
    reg.register_primitive(
        "tract_core_gather_nd",
        &[
            TypeName::Scalar.tensor().named("input"),
            TypeName::Scalar.tensor().named("indices"),
            TypeName::Integer.named("batch_dims"),
        ],
        &[("output", TypeName::Scalar.tensor())],
        load_gather_nd,
    );
    reg.register_primitive(
        "tract_core_resize",
        &[
            TypeName::Scalar.tensor().named("input"),
            TypeName::Scalar.tensor().named("scales").default(false),
            TypeName::Scalar.tensor().named("sizes").default(false),
            TypeName::String
                .named("coord_transformer")
                .default("half_pixel"),
            TypeName::String.named("interpolator").default("nearest"),
            TypeName::String.named("nearest_mode").default("floor"),
        ],
        &[("output", TypeName::Scalar.tensor())],
        load_resize,
    );
    reg.register_primitive(
        "tract_core_topk",
        &[
            TypeName::Scalar.tensor().named("input"),
            TypeName::Integer.tensor().named("k"),
            TypeName::Integer.named("axis"),
            TypeName::Logical.named("largest"),
        ],
        &[
            ("values", TypeName::Scalar.tensor()),
            ("indices", TypeName::Integer.tensor()),
        ],
        load_topk,
    );
    reg.register_binary("tract_shl", &ops::math::ShiftLeft);
    reg
}

fn load_cast(builder: &mut ModelBuilder, invocation: &ResolvedInvocation) -> TractResult<Value> {
    let input = invocation.named_arg_as(builder, "input")?;
    let to: DatumType = invocation.named_arg_as::<String>(builder, "to")?.parse()?;
    builder.wire(ops::cast::Cast { to }, &[input])
}

fn load_broadcast(
    builder: &mut ModelBuilder,
    invocation: &ResolvedInvocation,
) -> TractResult<Value> {
    let wire = invocation.named_arg_as(builder, "input")?;
    let shape: TVec<TDim> =
        builder.allowing_new_symbols(|builder| invocation.named_arg_as(builder, "shape"))?;
    builder.wire(
        ops::array::MultiBroadcastTo {
            shape: shape.into(),
        },
        &[wire],
    )
}

fn load_gather_nd(
    builder: &mut ModelBuilder,
    invocation: &ResolvedInvocation,
) -> TractResult<Value> {
    let wire = invocation.named_arg_as(builder, "input")?;
    let indices = invocation.named_arg_as(builder, "indices")?;
    let indices = builder.wire_as_outlets(ops::cast::cast(i64::datum_type()), &[indices])?[0];
    let batch_dims = invocation.named_arg_as(builder, "batch_dims")?;
    builder.wire(ops::array::GatherNd::new(batch_dims), &[wire, indices])
}

fn load_resize(builder: &mut ModelBuilder, invocation: &ResolvedInvocation) -> TractResult<Value> {
    let input = invocation.named_arg_as(builder, "input")?;
    let scales = invocation.optional_named_arg_as::<OutletId>(builder, "scales")?;
    let sizes = invocation.optional_named_arg_as::<OutletId>(builder, "sizes")?;
    let coord_transformer: String = invocation.named_arg_as(builder, "coord_transformer")?;
    let interpolator: String = invocation.named_arg_as(builder, "interpolator")?;
    let nearest_mode: String = invocation.named_arg_as(builder, "nearest_mode")?;
    let (aux, optional_scales_input, optional_sizes_input) = match (scales, sizes) {
        (Some(scales), None) => (scales, Some(1), None),
        (None, Some(sizes)) => (sizes, None, Some(1)),
        _ => bail!("tract_core_resize needs either scales or sizes"),
    };
    let op = Resize {
        coord_transformer: CoordTransformer::parse(&coord_transformer)?,
        interpolator: Interpolator::parse(&interpolator)?,
        nearest: Nearest::parse(&nearest_mode)?,
        optional_scales_input,
        optional_sizes_input,
    };
    builder.wire(op, &[input, aux])
}

fn load_topk(builder: &mut ModelBuilder, invocation: &ResolvedInvocation) -> TractResult<Value> {
    let input = invocation.named_arg_as(builder, "input")?;
    let k = invocation.named_arg_as(builder, "k")?;
    let axis = invocation.named_arg_as(builder, "axis")?;
    let largest = invocation.named_arg_as(builder, "largest")?;
    let fallback_k = builder.model.symbols.new_with_prefix("k").into();
    builder.wire(
        ops::array::Topk {
            largest,
            fallback_k,
            axis,
        },
        &[input, k],
    )
}

#[cfg(test)]
mod tests {
    use std::io::Cursor;

    use super::*;

    /// A tar of (path, text) entries, as tract writes one.
    fn archive(entries: &[(&str, &str)]) -> Vec<u8> {
        let mut tar = tar::Builder::new(Vec::new());
        for (path, text) in entries {
            let mut head = tar::Header::new_ustar();
            head.set_size(text.len() as u64);
            head.set_mode(0o644);
            head.set_cksum();
            tar.append_data(&mut head, path, text.as_bytes()).unwrap();
        }
        tar.into_inner().unwrap()
    }

    fn graph_with(op: &str) -> String {
        format!(
            "version 1.0;\nextension tract_registry tract_core;\n\
             graph g(input) -> (output) {{\n  input = external(shape = [1, 4]);\n  \
             output = {op};\n}}\n"
        )
    }

    #[test]
    fn an_operator_outside_the_subset_is_refused_by_name() {
        let bytes = archive(&[("graph.nnef", &graph_with("tract_core_erf(input)"))]);
        // tract's full reader knows it: the refusal is the subset's doing.
        tract_nnef::nnef()
            .model_for_read(&mut Cursor::new(&bytes))
            .unwrap();
        let e = match reader().model_for_read(&mut Cursor::new(&bytes)) {
            Ok(_) => panic!("the subset read tract_core_erf"),
            Err(e) => format!("{e:#}"),
        };
        assert!(e.contains("tract_core_erf"), "{e}");
    }

    #[test]
    fn a_damaged_submodel_is_an_error_not_a_panic() {
        let bytes = archive(&[
            ("graph.nnef", &graph_with("input")),
            ("sub/graph.nnef", "version 1.0; graph ("),
        ]);
        let read = std::panic::catch_unwind(|| reader().model_for_read(&mut Cursor::new(&bytes)));
        assert!(
            matches!(read, Ok(Err(_))),
            "a damaged submodel was read or panicked"
        );
    }

    #[test]
    fn the_subset_reads_what_it_lists() {
        let graph = graph_with(
            "tract_core_cast(tract_core_broadcast(input, shape = [2, 4]), to = \"f16\")",
        );
        let model = reader()
            .model_for_read(&mut Cursor::new(archive(&[("graph.nnef", &graph)])))
            .unwrap();
        let fact = model.output_fact(0).unwrap();
        assert_eq!(fact.datum_type, f16::datum_type());
        assert_eq!(fact.shape.as_concrete(), Some(&[2usize, 4][..]));
    }

    /// The parser patch (third_party/tract-nnef, PATCHED.md): upstream parsed every atom
    /// without a subscript twice, so an argument nested `d` deep was parsed 2^d times. Upstream
    /// 0.23.9 measured on x86: 97 ms at depth 12, 1.9 s at 16, 7.3 s at 18, so about 30 s at
    /// this depth; the patched parser takes microseconds.
    #[test]
    fn nested_arguments_parse_in_linear_time() {
        let depth = 20;
        let nested = format!("{}1.0{}", "[".repeat(depth), "]".repeat(depth));
        let graph = graph_with(&format!(
            "add(input, constant(shape = [1], value = {nested}))"
        ));
        let started = std::time::Instant::now();
        tract_nnef::ast::parse::parse_document(&graph).unwrap();
        let took = started.elapsed();
        assert!(took < std::time::Duration::from_secs(2), "took {took:?}");
    }

    /// Subscripts still parse as upstream parsed them: single, open and closed ranges, and a
    /// bracket after an atom that is not a subscript stays an error.
    #[test]
    fn subscripts_parse_as_upstream() {
        use tract_nnef::ast::{RValue, Subscript};
        let parse = |expr: &str| {
            let doc = tract_nnef::ast::parse::parse_document(&graph_with(expr))?;
            Ok::<_, TractError>(doc.graph_def.body.last().unwrap().right.clone())
        };
        let id = |name: &str| RValue::Identifier(tract_nnef::ast::Identifier(name.into()));
        let sub = |s: Subscript| RValue::Subscript(Box::new(id("x")), Box::new(s));
        assert_eq!(parse("x[i]").unwrap(), sub(Subscript::Single(id("i"))));
        assert_eq!(
            parse("x[i:]").unwrap(),
            sub(Subscript::Range(Some(id("i")), None))
        );
        assert_eq!(
            parse("x[:j]").unwrap(),
            sub(Subscript::Range(None, Some(id("j"))))
        );
        assert_eq!(parse("x[:]").unwrap(), sub(Subscript::Range(None, None)));
        assert_eq!(
            parse("x[i:j]").unwrap(),
            sub(Subscript::Range(Some(id("i")), Some(id("j"))))
        );
        assert_eq!(parse("x").unwrap(), id("x"));
        assert!(parse("x[]").is_err());
    }

    #[cfg(feature = "onnx")]
    #[test]
    fn an_export_the_library_could_not_read_is_refused() {
        let root = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("..");
        let json = std::fs::read(root.join("models/efficientnet_lite0_feat.json")).unwrap();
        let manifest = crate::manifest::ModelManifest::from_json(&json).unwrap();
        let mut model = TypedModel::default();
        let input = model.add_source("input", f32::fact([1, 4])).unwrap();
        let output = model.wire_node("erf", ops::math::erf(), &[input]).unwrap();
        model.select_output_outlets(&output).unwrap();
        let header = super::super::nnef::Header {
            model_id: manifest.id.clone(),
            source_sha256: String::new(),
            outputs: vec!["erf".into()],
            batch: 1,
        };
        let e = super::super::nnef::write(&manifest, &header, &model).unwrap_err();
        assert!(e.to_string().contains("tract_core_erf"), "{e}");
    }
}
