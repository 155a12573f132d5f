#!/usr/bin/env python3
"""How many dimensions do real embeddings actually use? (issue #3, scale benchmark)

The scale benchmark (`catalogue/tools/src/bin/scale-bench/`) runs on synthetic vectors: isotropic
random unit vectors (the worst case, as the issue asks) and `--latent D` vectors whose intrinsic
dimension is D. This script measures real embeddings of the shipped embedder to say which of
the two a real catalogue looks like. It embeds random square crops of real photos, the same way
the SDK embeds a box: crop, resize to 224, normalise per the manifest, L2-normalise. Then it
prints, for the real set and for both synthetic sets of the same size:
  - the principal components needed for 50/90/95 % of the variance,
  - the spread of cosine similarity between unrelated vectors,
  - the gap between a query's nearest and 10th-nearest neighbour compared with a random
    vector. This gap is what lets an HNSW graph find neighbours at all.

    .tools/venv/bin/python bench/embedding_dimension.py DIR [DIR ...] [--crops 6]

DIRs are folders of photos, e.g. fixtures/photos and the OpenCV sample images (see
docs/catalogue.md). It uses onnxruntime for speed; tract's outputs match it to 1e-3
(core/tests/models.rs).
"""

import argparse
import json
import os
import sys

import numpy as np
import onnxruntime as ort
from PIL import Image, ImageOps

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


def load_embedder():
    manifest = json.load(open(os.path.join(ROOT, "models", "efficientnet_lite0_feat.json")))
    sess = ort.InferenceSession(
        os.path.join(ROOT, "models", manifest["file"]), providers=["CPUExecutionProvider"]
    )
    return sess, manifest


def real_embeddings(dirs, crops_per_photo, seed):
    sess, m = load_embedder()
    size = m["input"]["width"]
    mean = np.array(m["input"]["mean"], np.float32)
    std = np.array(m["input"]["std"], np.float32)
    rng = np.random.default_rng(seed)
    batch, out = [], []
    paths = sorted(
        os.path.join(d, f)
        for d in dirs
        for f in os.listdir(d)
        if f.lower().endswith((".jpg", ".jpeg", ".png", ".webp"))
    )
    for p in paths:
        try:
            im = ImageOps.exif_transpose(Image.open(p)).convert("RGB")
        except Exception as e:  # a sample folder may hold odd files
            print(f"skip {p}: {e}", file=sys.stderr)
            continue
        w, h = im.size
        for _ in range(crops_per_photo):
            side = int(min(w, h) * rng.uniform(0.3, 1.0))
            x, y = int(rng.integers(0, w - side + 1)), int(rng.integers(0, h - side + 1))
            c = im.resize((size, size), Image.BILINEAR, box=(x, y, x + side, y + side))
            batch.append((np.asarray(c, np.float32) - mean) / std)
            if len(batch) == 32:
                out.append(run(sess, m, batch))
                batch = []
    if batch:
        out.append(run(sess, m, batch))
    e = np.concatenate(out)
    return e / np.linalg.norm(e, axis=1, keepdims=True), len(paths)


def run(sess, m, batch):
    x = np.ascontiguousarray(np.stack(batch).transpose(0, 3, 1, 2))
    name = sess.get_inputs()[0].name
    # The shipped model has a fixed batch of 1.
    return np.concatenate(
        [sess.run([m["embedding"]["output"]], {name: x[i : i + 1]})[0].reshape(1, -1) for i in range(len(x))]
    )


def synthetic(n, dim, latent, rng):
    """Same definitions as scale-bench's `Data` (not the same random numbers)."""
    if latent == 0:
        v = rng.standard_normal((n, dim)).astype(np.float32)
    else:
        basis = rng.standard_normal((latent, dim)).astype(np.float32)
        basis /= np.linalg.norm(basis, axis=1, keepdims=True)
        noise = rng.standard_normal((n, dim)).astype(np.float32)
        noise *= np.sqrt(0.1 * latent / dim)
        v = rng.standard_normal((n, latent)).astype(np.float32) @ basis + noise
    return v / np.linalg.norm(v, axis=1, keepdims=True)


def describe(name, v):
    centred = v - v.mean(axis=0)
    s = np.linalg.svd(centred, compute_uv=False) ** 2
    cum = np.cumsum(s) / s.sum()
    comps = [int(np.searchsorted(cum, f)) + 1 for f in (0.5, 0.9, 0.95)]
    sims = v @ v.T
    np.fill_diagonal(sims, -np.inf)
    top = -np.sort(-sims, axis=1)
    nn1, nn10 = top[:, 0], top[:, 9]
    off = sims[np.isfinite(sims)]
    # How far the neighbours stand out from the crowd, in standard deviations of the
    # similarity to unrelated vectors.
    z1 = (nn1.mean() - off.mean()) / off.std()
    z10 = (nn10.mean() - off.mean()) / off.std()
    print(
        f"| {name} | {len(v)} | {comps[0]} | {comps[1]} | {comps[2]} | "
        f"{off.mean():.3f} ± {off.std():.3f} | {nn1.mean():.3f} ({z1:.1f} sd) | {nn10.mean():.3f} ({z10:.1f} sd) |"
    )


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("dirs", nargs="+")
    ap.add_argument("--crops", type=int, default=6, help="random crops per photo")
    ap.add_argument("--seed", type=int, default=7)
    ap.add_argument("--latent", default="32,64,128", help="synthetic intrinsic dimensions to compare")
    a = ap.parse_args()
    real, photos = real_embeddings(a.dirs, a.crops, a.seed)
    n, dim = real.shape
    rng = np.random.default_rng(a.seed)
    print(f"\n{n} real crops from {photos} photos ({a.crops} random square crops each), dim {dim}\n")
    print("| vectors | n | PCs for 50 % | 90 % | 95 % | cosine, unrelated (mean ± sd) | nearest | 10th nearest |")
    print("|---|---:|---:|---:|---:|---|---|---|")
    describe("real embeddings (EfficientNet-Lite0 crops)", real)
    for d in (int(x) for x in a.latent.split(",")):
        describe(f"synthetic `--latent {d}`", synthetic(n, dim, d, rng))
    describe("synthetic random unit vectors", synthetic(n, dim, 0, rng))


if __name__ == "__main__":
    main()
