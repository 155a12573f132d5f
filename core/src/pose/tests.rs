//! The pose model against onnxruntime on a real photo, and the decoder on hand-made rows.

use std::path::{Path, PathBuf};

use serde::Deserialize;

use super::*;

fn root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("..")
}

#[derive(Deserialize)]
struct Reference {
    photo: String,
    outputs: Vec<RefOutput>,
}
#[derive(Deserialize)]
struct RefOutput {
    name: String,
    len: usize,
}

fn shipped() -> (ModelManifest, Vec<u8>) {
    let json = std::fs::read(root().join("models/movenet_multipose.json")).unwrap();
    let manifest = ModelManifest::from_json(&json).unwrap();
    let onnx = std::fs::read(root().join("models").join(&manifest.file)).unwrap();
    (manifest, onnx)
}

/// tract against the onnxruntime reference of `scripts/make_ort_reference.py` (the astronaut
/// photo stretched to 256x256 by nearest sampling at integer positions, raw 0..255 values).
/// The model picks each person's keypoints with an argmax over a heatmap, so a tiny numeric
/// difference could move a keypoint by a cell; the check is per person and per keypoint
/// (within 1 % of the input side, scores within 1e-3) rather than bit for bit.
#[test]
fn pose_model_matches_onnxruntime() {
    let (manifest, onnx) = shipped();
    assert_matches_onnxruntime(&manifest, &onnx);
}

/// The NNEF export is what the phone library loads (its reader knows only the operators the
/// shipped exports use: model/nnef_registry.rs; this one uses the most of them).
#[cfg(feature = "onnx")]
#[test]
fn pose_model_nnef_export_matches_onnxruntime() {
    let (manifest, onnx) = shipped();
    let files = crate::ModelFiles {
        manifest_json: std::fs::read(root().join("models/movenet_multipose.json")).unwrap(),
        onnx,
    };
    let archive = crate::export_nnef(&files).unwrap();
    assert!(crate::model::is_nnef_archive(&archive));
    assert_matches_onnxruntime(&manifest, &archive);
}

fn assert_matches_onnxruntime(manifest: &ModelManifest, model: &[u8]) {
    let dir = root().join("core/tests/data/ort_reference");
    let reference: Reference =
        serde_json::from_slice(&std::fs::read(dir.join("movenet_multipose.json")).unwrap())
            .unwrap();
    let raw = std::fs::read(dir.join("movenet_multipose.bin")).unwrap();
    let want: Vec<f32> = raw
        .chunks_exact(4)
        .map(|b| f32::from_le_bytes(b.try_into().unwrap()))
        .collect();
    assert_eq!(reference.outputs.len(), 1);
    assert_eq!(want.len(), reference.outputs[0].len);

    let photo = image::open(root().join("fixtures/photos").join(&reference.photo))
        .unwrap()
        .into_rgb8();
    let spec = &manifest.input;
    let (sw, sh) = photo.dimensions();
    let sampled = RgbImage::from_fn(spec.width, spec.height, |x, y| {
        *photo.get_pixel(x * sw / spec.width, y * sh / spec.height)
    });
    let mut input = input_tensor(spec, 1);
    fill_input(&mut input, 0, &sampled, spec);
    let plan = load_plan(manifest, model, &[reference.outputs[0].name.as_str()], 1).unwrap();
    let outputs = plan.run(&manifest.id, input).unwrap();
    let got = output_slice(&outputs, 0, &manifest.id).unwrap();
    assert_eq!(got.len(), want.len());
    let mut people = 0;
    for (g, w) in got.chunks_exact(56).zip(want.chunks_exact(56)) {
        assert!(
            (g[55] - w[55]).abs() < 1e-3,
            "person score {} vs {}",
            g[55],
            w[55]
        );
        if w[55] < 0.2 {
            continue;
        }
        people += 1;
        for k in 0..KEYPOINTS {
            let (gy, gx, gs) = (g[3 * k], g[3 * k + 1], g[3 * k + 2]);
            let (wy, wx, ws) = (w[3 * k], w[3 * k + 1], w[3 * k + 2]);
            assert!(
                (gy - wy).abs() < 0.01 && (gx - wx).abs() < 0.01 && (gs - ws).abs() < 1e-3,
                "keypoint {k}: tract ({gx}, {gy}, {gs}) vs onnxruntime ({wx}, {wy}, {ws})"
            );
        }
        for i in 51..55 {
            assert!((g[i] - w[i]).abs() < 0.01, "box {i}: {} vs {}", g[i], w[i]);
        }
    }
    assert_eq!(people, 1, "the astronaut, once");
}

#[test]
fn the_shipped_model_finds_the_astronaut_with_her_face_and_shoulders() {
    let (manifest, onnx) = shipped();
    let model = PoseModel::load(manifest, &onnx).unwrap();
    let photo = image::open(root().join("fixtures/photos/astronaut.png"))
        .unwrap()
        .into_rgb8();
    let poses = model.estimate(&photo, model.default_min_score()).unwrap();
    assert_eq!(poses.len(), 1, "{poses:?}");
    let p = &poses[0];
    // The face lies in the upper middle of the 512x512 photo, the shoulders below it.
    let nose = p.keypoints[0];
    assert!(
        nose.score > 0.5 && (150.0..350.0).contains(&nose.x) && nose.y < 200.0,
        "{nose:?}"
    );
    let (ls, rs) = (p.keypoints[5], p.keypoints[6]);
    assert!(ls.score > 0.3 && rs.score > 0.3 && ls.y > nose.y && rs.y > nose.y);
    assert!(
        ls.x > rs.x,
        "left shoulder is on the image's right: {ls:?} {rs:?}"
    );
}

#[test]
fn a_manifest_of_another_kind_is_refused() {
    let json = std::fs::read(root().join("models/nanodet.json")).unwrap();
    let manifest = ModelManifest::from_json(&json).unwrap();
    let e = PoseModel::load(manifest, b"not onnx").err().unwrap();
    assert!(e.to_string().contains("not `pose`"), "{e}");
}

fn row(score: f32, kp_score: f32) -> Vec<f32> {
    let mut r = Vec::new();
    for k in 0..KEYPOINTS {
        r.extend([0.1 + 0.01 * k as f32, 0.5, kp_score]);
    }
    r.extend([0.1, 0.4, 0.9, 0.6, score]);
    r
}

#[test]
fn decoding_scales_filters_and_orders_people() {
    let mut raw = row(0.3, 0.8);
    raw.extend(row(0.9, 0.7));
    raw.extend(row(0.1, 0.9));
    let mut nan = row(0.95, 0.9);
    nan[4] = f32::NAN;
    raw.extend(nan);
    let poses = decode_movenet(&raw, 4, 0.2, 200.0, 100.0);
    assert_eq!(poses.len(), 2, "below 0.2 and non-finite rows are dropped");
    assert_eq!(poses[0].score, 0.9);
    assert_eq!(poses[1].score, 0.3);
    let p = &poses[0];
    let b = p.bbox;
    let want = [80.0, 10.0, 40.0, 80.0];
    for (got, want) in [b.x, b.y, b.width, b.height].into_iter().zip(want) {
        assert!((got - want).abs() < 1e-3, "{b:?}");
    }
    assert_eq!((p.keypoints[0].x, p.keypoints[0].y), (100.0, 10.0));
    assert_eq!(p.keypoints[0].score, 0.7);
    // A short output decodes the whole rows it has.
    assert_eq!(decode_movenet(&raw[..60], 6, 0.0, 1.0, 1.0).len(), 1);
}
