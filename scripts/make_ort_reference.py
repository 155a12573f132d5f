#!/usr/bin/env python3
"""Compute onnxruntime reference outputs for the project's ONNX models.

Run once (outputs are committed) so that the Rust tests can check tract's outputs against
onnxruntime without needing Python:

    scripts/setup-python.sh
    .tools/venv/bin/python scripts/make_ort_reference.py [MODEL_DIR]

MODEL_DIR defaults to models/ (falling back to /work/shared/models). For each model it writes
core/tests/data/ort_reference/<model_stem>.bin (all outputs, in the graph's output order,
concatenated as little-endian float32) and <model_stem>.json describing the input and where
each output lies in the .bin.

The input is built from the real photo fixtures/photos/coffee.png so that Rust can rebuild it
bit for bit, with no resampling filter involved:
  * decode with PIL and .convert("RGB") (coffee.png is 8-bit RGB, no EXIF, no alpha);
  * NEAREST sampling at integer positions: output pixel (y, x) of an SxS input takes source
    pixel (y*H//S, x*W//S) (integer division; H, W = photo height, width);
  * normalise in float32, exactly as written in the JSON (subtract, then divide).
The JSON also holds the sha256 of the float32 little-endian input tensor, so a Rust test can
first check that its preprocessing is bit-exact.
"""

import argparse
import hashlib
import json
import os
import sys

import numpy as np
import onnxruntime as ort
from PIL import Image

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
SHARED_MODELS = "/work/shared/models"
SHARED_PHOTO = "/work/shared/photos/coffee.png"
PHOTO_NAME = "coffee.png"
OUT_DIR = os.path.join(ROOT, "core", "tests", "data", "ort_reference")

F32 = np.float32

# NanoDet upstream default (BGR order): channel 0 of the tensor is B.
NANODET_MEAN_BGR = np.array([103.53, 116.28, 123.675], dtype=F32)
NANODET_STD_BGR = np.array([57.375, 57.12, 58.395], dtype=F32)

MODELS = [
    {
        "file": "ssd_mbv2_oidv4.onnx",
        "size": 300,
        "layout": "NHWC",
        "channels": "RGB",
        "normalisation": "(v - 127.5) / 127.5, in float32, v = 0..255 channel value",
        "norm": lambda x: (x - F32(127.5)) / F32(127.5),
    },
    {
        "file": "efficientnet_lite0_feat.onnx",
        "size": 224,
        "layout": "NCHW",
        "channels": "RGB",
        "normalisation": "(v - 127) / 128, in float32, v = 0..255 channel value",
        "norm": lambda x: (x - F32(127.0)) / F32(128.0),
    },
    {
        "file": "nanodet.onnx",
        "size": 416,
        "layout": "NCHW",
        "channels": "BGR",
        "normalisation": (
            "channels reordered to B,G,R; (v - mean[c]) / std[c] in float32 with "
            "mean = [103.53, 116.28, 123.675], std = [57.375, 57.12, 58.395] (as float32) "
            "for c = B, G, R"
        ),
        "mean": [103.53, 116.28, 123.675],
        "std": [57.375, 57.12, 58.395],
        "norm": lambda x: (x[..., ::-1] - NANODET_MEAN_BGR) / NANODET_STD_BGR,
    },
    {
        # A photo with a person in it (coffee.png has none), stretched like the others.
        "file": "movenet_multipose.onnx",
        "photo": "astronaut.png",
        "size": 256,
        "layout": "NHWC",
        "channels": "RGB",
        "normalisation": "none: v = 0..255 channel value as float32",
        "norm": lambda x: x,
    },
]


def role(stem, shape):
    """What an output holds (for humans and for tests that decode it)."""
    if stem == "ssd_mbv2_oidv4":
        return {4: "box codes (ty, tx, th, tw) per anchor", 24: "class logits, index 0 = background"}[shape[-1]]
    if stem == "nanodet":
        stride = {2704: 8, 676: 16, 169: 32}[shape[1]]
        kind = {80: "class scores (already sigmoid)", 44: "box distribution: 4 sides (l, t, r, b) x 11 bins"}[shape[-1]]
        return f"{kind}, stride {stride} ({416 // stride}x{416 // stride} grid, row-major)"
    if stem == "movenet_multipose":
        return "6 people x (17 keypoints x (y, x, score), ymin, xmin, ymax, xmax, score), normalised"
    if stem == "efficientnet_lite0_feat":
        return {"logits": "ImageNet logits", "embedding": "pooled features (L2-normalise for use)"}.get(
            {1000: "logits", 1280: "embedding"}[shape[-1]]
        )
    return None


def sha256_file(path):
    h = hashlib.sha256()
    with open(path, "rb") as f:
        for chunk in iter(lambda: f.read(1 << 20), b""):
            h.update(chunk)
    return h.hexdigest()


def nearest_square(rgb, size):
    """Output pixel (y, x) <- source pixel (y*H//size, x*W//size)."""
    h, w = rgb.shape[:2]
    ys = (np.arange(size, dtype=np.int64) * h) // size
    xs = (np.arange(size, dtype=np.int64) * w) // size
    return rgb[ys[:, None], xs[None, :]]


def build_input(rgb, spec):
    x = nearest_square(rgb, spec["size"]).astype(F32)  # HWC, RGB, 0..255
    x = spec["norm"](x).astype(F32)
    if spec["layout"] == "NCHW":
        x = x.transpose(2, 0, 1)
    return np.ascontiguousarray(x[None], dtype="<f4")


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("model_dir", nargs="?", default=os.path.join(ROOT, "models"))
    ap.add_argument("--photo", default=os.path.join(ROOT, "fixtures", "photos", PHOTO_NAME))
    ap.add_argument("--out", default=OUT_DIR)
    ap.add_argument("--only", help="model stem to (re)compute, e.g. movenet_multipose")
    args = ap.parse_args()

    model_dir = args.model_dir
    if not os.path.isfile(os.path.join(model_dir, MODELS[0]["file"])):
        print(f"no models in {model_dir}, using {SHARED_MODELS}", file=sys.stderr)
        model_dir = SHARED_MODELS
    photo = args.photo
    if not os.path.isfile(photo):
        print(f"{photo} absent, using {SHARED_PHOTO}", file=sys.stderr)
        photo = SHARED_PHOTO

    os.makedirs(args.out, exist_ok=True)

    so = ort.SessionOptions()
    so.intra_op_num_threads = 1
    so.inter_op_num_threads = 1
    total = 0
    for spec in MODELS:
        path = os.path.join(model_dir, spec["file"])
        stem = os.path.splitext(spec["file"])[0]
        if args.only and stem != args.only:
            continue
        spec_photo = photo
        if "photo" in spec:
            spec_photo = os.path.join(os.path.dirname(args.photo), spec["photo"])
        with Image.open(spec_photo) as im:
            rgb = np.asarray(im.convert("RGB"))
        h, w = rgb.shape[:2]
        sess = ort.InferenceSession(path, so, providers=["CPUExecutionProvider"])
        (inp,) = sess.get_inputs()
        x = build_input(rgb, spec)
        assert list(x.shape) == list(inp.shape), (x.shape, inp.shape)
        outs = sess.run(None, {inp.name: x})

        meta_outs, blobs, offset = [], [], 0
        for o, v in zip(sess.get_outputs(), outs):
            v = np.ascontiguousarray(v, dtype="<f4")
            assert np.isfinite(v).all(), o.name
            meta_outs.append(
                {"name": o.name, "shape": list(v.shape), "offset": offset, "len": int(v.size), "role": role(stem, v.shape)}
            )
            blobs.append(v.tobytes())
            offset += v.size
        data = b"".join(blobs)
        with open(os.path.join(args.out, stem + ".bin"), "wb") as f:
            f.write(data)
        total += len(data)

        inp_meta = {
            "name": inp.name,
            "shape": list(x.shape),
            "dtype": "float32",
            "layout": spec["layout"],
            "channels": spec["channels"],
            "sampling": (
                f"NEAREST at integer positions: tensor pixel (y, x) <- photo pixel "
                f"(y*H//{spec['size']}, x*W//{spec['size']}), H={h}, W={w}; photo decoded "
                f"with PIL .convert('RGB')"
            ),
            "normalisation": spec["normalisation"],
            "sha256_f32le": hashlib.sha256(x.tobytes()).hexdigest(),
        }
        if "mean" in spec:
            inp_meta["mean"] = spec["mean"]
            inp_meta["std"] = spec["std"]
        meta = {
            "model": spec["file"],
            "model_sha256": sha256_file(path),
            "photo": os.path.basename(spec_photo),
            "photo_sha256": sha256_file(spec_photo),
            "photo_size": [w, h],
            "input": inp_meta,
            "outputs": meta_outs,
            "bin": stem + ".bin",
            "bin_format": "outputs concatenated in this order, little-endian float32; offset and len in floats",
            "onnxruntime_version": ort.__version__,
            "onnxruntime_settings": "CPUExecutionProvider, intra_op_num_threads=1, default graph optimisation",
        }
        with open(os.path.join(args.out, stem + ".json"), "w") as f:
            json.dump(meta, f, indent=2)
            f.write("\n")
        shapes = ", ".join(f"{m['name']} {m['shape']}" for m in meta_outs)
        print(f"{stem}: {len(data)} bytes; {shapes}")
    print(f"total {total} bytes in {args.out}")


if __name__ == "__main__":
    main()
