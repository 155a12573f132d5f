#!/usr/bin/env python3
"""Benchmark the ShopLook pipeline with onnxruntime and compare it with `shoplook bench`.

Does, with numpy + PIL + onnxruntime, the same work as `shoplook bench PHOTO --runs N --json`:

  decode  PIL open, EXIF orientation (ImageOps.exif_transpose), convert("RGB"), to numpy
  detect  stretch the whole photo to 300x300 (bilinear), (x - 127.5) / 127.5, NHWC float32,
          run ssd_mbv2_oidv4, decode against the 1917 SSD anchors (sigmoid scores, class 0 =
          background), score >= 0.3, per-class NMS at IoU 0.5, top 20 overall
  embed   per detection a square crop centred on the box, side 1.2 * max(w, h) px, shifted to
          stay in the photo (each side clamped to the photo's), resized to 224x224 (bilinear),
          (x - 127) / 128, NCHW; run efficientnet_lite0_feat (one batch when the model takes a
          batch dimension > 1, else one run per crop); output `embedding`, L2-normalised

Each stage is timed for --runs runs after --warmup warm-up runs, with onnxruntime at
intra_op_num_threads=1 and at its default thread count; model load is session creation for both
models. Then, if the Rust binary exists, it runs `shoplook bench PHOTO --runs N --json` and prints
one side-by-side table.

    scripts/setup-python.sh
    .tools/venv/bin/python bench/ort_bench.py PHOTO [--runs 20] [--shoplook target/release/shoplook]
                                                   [--json-out FILE] [--models DIR]

Medians are the usual median (mean of the two middle values for an even count); p90 is the
nearest-rank 90th percentile (the ceil(0.9 n)-th smallest value).
"""

import argparse
import json
import math
import os
import resource
import shutil
import subprocess
import sys
import time

import numpy as np
import onnxruntime as ort
from PIL import Image, ImageOps

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
SHARED_MODELS = "/work/shared/models"
DETECTOR = "ssd_mbv2_oidv4.onnx"
DETECTOR_MANIFEST = "ssd_mbv2_oidv4.json"  # labels are inlined in the manifest
EMBEDDER = "efficientnet_lite0_feat.onnx"

DET_SIZE = 300
EMB_SIZE = 224
SCORE_THRESHOLD = 0.3
NMS_IOU = 0.5
MAX_DETECTIONS = 20
CROP_SCALE = 1.2
STAGES = ("decode", "detect", "embed", "total")


# ---------------------------------------------------------------------------------------------
# SSD anchors (MediaPipe SsdAnchorsCalculator / TF object detection multiple_grid_anchor_generator)
# ---------------------------------------------------------------------------------------------
def ssd_anchors(
    input_size=300,
    strides=(16, 32, 64, 128, 256, 512),
    min_scale=0.2,
    max_scale=0.95,
    aspect_ratios=(1.0, 2.0, 0.5, 3.0, 1.0 / 3.0),
):
    """Returns [1917, 4] float32 anchors as (y_center, x_center, h, w), normalised to 0..1.

    Order: layer, then row i, then column j, then the anchors of that cell. Layer k has scale
    s_k = min + (max - min) * k / (layers - 1); its boxes are the aspect ratios at s_k plus
    sqrt(s_k * s_{k+1}) at ratio 1, where s_{k+1} is 1.0 for the last layer (as in MediaPipe and
    the TF OD API). Layer 0 has 3 boxes only: (0.1, ratio 1), (s_0, 2), (s_0, 0.5).
    """
    n = len(strides)
    scale = lambda k: min_scale + (max_scale - min_scale) * k / (n - 1)  # noqa: E731
    out = []
    for k, stride in enumerate(strides):
        fm = math.ceil(input_size / stride)
        if k == 0:
            boxes = [(0.1, 1.0), (scale(0), 2.0), (scale(0), 0.5)]
        else:
            s = scale(k)
            s_next = 1.0 if k == n - 1 else scale(k + 1)
            boxes = [(s, r) for r in aspect_ratios] + [(math.sqrt(s * s_next), 1.0)]
        for i in range(fm):
            for j in range(fm):
                yc, xc = (i + 0.5) / fm, (j + 0.5) / fm
                for s, r in boxes:
                    out.append((yc, xc, s / math.sqrt(r), s * math.sqrt(r)))
    return np.array(out, dtype=np.float32)


def nms(boxes, scores, iou_threshold):
    """Greedy NMS; boxes [n, 4] as (x0, y0, x1, y1). Returns kept indices, best first."""
    order = np.argsort(-scores, kind="stable")
    area = (boxes[:, 2] - boxes[:, 0]) * (boxes[:, 3] - boxes[:, 1])
    keep = []
    while order.size:
        i = order[0]
        keep.append(i)
        rest = order[1:]
        ix0 = np.maximum(boxes[i, 0], boxes[rest, 0])
        iy0 = np.maximum(boxes[i, 1], boxes[rest, 1])
        ix1 = np.minimum(boxes[i, 2], boxes[rest, 2])
        iy1 = np.minimum(boxes[i, 3], boxes[rest, 3])
        inter = np.clip(ix1 - ix0, 0, None) * np.clip(iy1 - iy0, 0, None)
        union = area[i] + area[rest] - inter
        iou = np.where(union > 0, inter / np.maximum(union, 1e-12), 0.0)
        order = rest[iou <= iou_threshold]
    return keep


# ---------------------------------------------------------------------------------------------
# The pipeline
# ---------------------------------------------------------------------------------------------
class Pipeline:
    def __init__(self, model_dir, threads):
        so = ort.SessionOptions()
        if threads:
            so.intra_op_num_threads = threads
            so.inter_op_num_threads = 1
        t0 = time.perf_counter()
        self.det = ort.InferenceSession(os.path.join(model_dir, DETECTOR), so, providers=["CPUExecutionProvider"])
        self.emb = ort.InferenceSession(os.path.join(model_dir, EMBEDDER), so, providers=["CPUExecutionProvider"])
        self.load_ms = (time.perf_counter() - t0) * 1e3

        self.det_in = self.det.get_inputs()[0].name
        names = [o.name for o in self.det.get_outputs()]
        self.det_box = next(n for n in names if "box" in n)
        self.det_cls = next(n for n in names if "class" in n)
        emb_in = self.emb.get_inputs()[0]
        self.emb_in = emb_in.name
        # A fixed batch dimension of 1 means one run per crop; anything else takes one batch.
        self.emb_batch = not (isinstance(emb_in.shape[0], int) and emb_in.shape[0] == 1)
        self.anchors = ssd_anchors()

    # decode: bytes on disk -> upright RGB image (kept as PIL for the resizes) + numpy array
    def decode(self, path):
        with Image.open(path) as im:
            im = ImageOps.exif_transpose(im)
            im = im.convert("RGB")
        rgb = np.asarray(im)
        return im, rgb

    def detect(self, im):
        w, h = im.size
        x = np.asarray(im.resize((DET_SIZE, DET_SIZE), Image.BILINEAR), dtype=np.float32)
        x -= 127.5
        x /= 127.5
        box_codes, logits = self.det.run([self.det_box, self.det_cls], {self.det_in: x[None]})
        box_codes, logits = box_codes[0], logits[0, :, 1:]  # drop background

        # Only anchors with some class over the threshold need decoding:
        # sigmoid(l) >= t  <=>  l >= logit(t).
        min_logit = math.log(SCORE_THRESHOLD / (1.0 - SCORE_THRESHOLD))
        cand_a, cand_c = np.nonzero(logits >= min_logit)
        if cand_a.size == 0:
            return []
        scores = 1.0 / (1.0 + np.exp(-logits[cand_a, cand_c]))
        a = self.anchors[cand_a]
        t = box_codes[cand_a]
        yc = t[:, 0] / 10.0 * a[:, 2] + a[:, 0]
        xc = t[:, 1] / 10.0 * a[:, 3] + a[:, 1]
        bh = np.exp(t[:, 2] / 5.0) * a[:, 2]
        bw = np.exp(t[:, 3] / 5.0) * a[:, 3]
        boxes = np.stack([(xc - bw / 2) * w, (yc - bh / 2) * h, (xc + bw / 2) * w, (yc + bh / 2) * h], 1)
        boxes[:, 0::2] = np.clip(boxes[:, 0::2], 0, w)
        boxes[:, 1::2] = np.clip(boxes[:, 1::2], 0, h)

        dets = []
        for c in np.unique(cand_c):
            m = np.nonzero(cand_c == c)[0]
            for k in nms(boxes[m], scores[m], NMS_IOU):
                dets.append((float(scores[m[k]]), int(c) + 1, boxes[m[k]]))
        dets.sort(key=lambda d: -d[0])
        return dets[:MAX_DETECTIONS]

    @staticmethod
    def crop_box(box, w, h):
        """Square crop around the box, side 1.2 * max(bw, bh), integer pixels, inside the photo."""
        x0, y0, x1, y1 = box
        side = CROP_SCALE * max(x1 - x0, y1 - y0)
        sw, sh = min(int(round(side)), w), min(int(round(side)), h)
        sw, sh = max(sw, 1), max(sh, 1)
        cx, cy = (x0 + x1) / 2, (y0 + y1) / 2
        left = min(max(int(round(cx - sw / 2)), 0), w - sw)
        top = min(max(int(round(cy - sh / 2)), 0), h - sh)
        return left, top, left + sw, top + sh

    def embed(self, im, dets):
        if not dets:
            return np.zeros((0, 1280), np.float32)
        w, h = im.size
        crops = []
        for _, _, box in dets:
            c = im.resize((EMB_SIZE, EMB_SIZE), Image.BILINEAR, box=self.crop_box(box, w, h))
            crops.append(np.asarray(c, dtype=np.float32))
        x = np.stack(crops)  # N, H, W, C
        x -= 127.0
        x /= 128.0
        x = np.ascontiguousarray(x.transpose(0, 3, 1, 2))
        if self.emb_batch:
            (e,) = self.emb.run(["embedding"], {self.emb_in: x})
        else:
            e = np.concatenate([self.emb.run(["embedding"], {self.emb_in: x[i : i + 1]})[0] for i in range(len(x))])
        e = e.reshape(len(dets), -1)
        return e / np.maximum(np.linalg.norm(e, axis=1, keepdims=True), 1e-12)

    def run_once(self, path):
        t0 = time.perf_counter()
        im, _rgb = self.decode(path)
        t1 = time.perf_counter()
        dets = self.detect(im)
        t2 = time.perf_counter()
        emb = self.embed(im, dets)
        t3 = time.perf_counter()
        ms = {"decode": (t1 - t0) * 1e3, "detect": (t2 - t1) * 1e3, "embed": (t3 - t2) * 1e3, "total": (t3 - t0) * 1e3}
        return ms, dets, emb, im.size


def median(xs):
    return float(np.median(xs))


def p90(xs):
    s = sorted(xs)
    return float(s[max(0, math.ceil(0.9 * len(s)) - 1)])


def bench_ort(photo, model_dir, threads, runs, warmup):
    t0 = time.perf_counter()
    p = Pipeline(model_dir, threads)
    first_ms, dets, emb, size = p.run_once(photo)
    first_result_ms = (time.perf_counter() - t0) * 1e3
    for _ in range(max(warmup - 1, 0)):  # the first run above was a warm-up run too
        p.run_once(photo)
    samples = {s: [] for s in STAGES}
    for _ in range(runs):
        ms, d, _, _ = p.run_once(photo)
        assert len(d) == len(dets)
        for s in STAGES:
            samples[s].append(ms[s])
    return {
        "threads": threads or "default",
        "load_ms": p.load_ms,
        "first_result_ms": first_result_ms,
        "items": len(dets),
        "embed_batched": p.emb_batch,
        "stages": {s: {"median_ms": median(v), "p90_ms": p90(v)} for s, v in samples.items()},
        "samples_ms": samples,
    }, dets, emb, size


def run_shoplook(binary, photo, runs, extra):
    cmd = [os.path.abspath(binary), "bench", os.path.abspath(photo), "--runs", str(runs), "--json"] + extra
    print("running: " + " ".join(cmd), file=sys.stderr)
    r = subprocess.run(cmd, cwd=ROOT, capture_output=True, text=True)
    if r.returncode != 0:
        raise RuntimeError(f"shoplook exited {r.returncode}: {r.stderr.strip()[-2000:]}")
    out = r.stdout.strip()
    try:
        return json.loads(out)
    except json.JSONDecodeError:
        # Tolerate log lines around the JSON: take the last line that parses as an object.
        for line in reversed(out.splitlines()):
            line = line.strip()
            if line.startswith("{"):
                try:
                    return json.loads(line)
                except json.JSONDecodeError:
                    pass
        raise RuntimeError(f"no JSON in shoplook output: {out[-2000:]}")


def fmt(v):
    if v is None:
        return "-"
    if isinstance(v, str):
        return v
    return f"{v:.1f}" if abs(v) >= 10 else f"{v:.2f}"


def print_table(header, rows):
    cells = [header] + [[fmt(c) for c in r] for r in rows]
    widths = [max(len(r[i]) for r in cells) for i in range(len(header))]
    line = lambda r: "| " + " | ".join(c.ljust(widths[i]) if i == 0 else c.rjust(widths[i]) for i, c in enumerate(r)) + " |"  # noqa: E731
    print(line(cells[0]))
    print("|" + "|".join("-" * (w + 2) for w in widths) + "|")
    for r in cells[1:]:
        print(line(r))


def main():
    ap = argparse.ArgumentParser(description="onnxruntime vs shoplook (tract) pipeline benchmark")
    ap.add_argument("photo")
    ap.add_argument("--runs", type=int, default=20)
    ap.add_argument("--warmup", type=int, default=2)
    ap.add_argument("--models", default=os.path.join(ROOT, "models"), help="model dir (default models/)")
    ap.add_argument("--shoplook", default=os.path.join(ROOT, "target", "release", "shoplook"))
    ap.add_argument("--shoplook-arg", action="append", default=[], help="extra argument for shoplook bench")
    ap.add_argument("--json-out", help="write all numbers (and the detections) to this file")
    ap.add_argument("--quiet-detections", action="store_true", help="do not print the detections")
    args = ap.parse_args()

    model_dir = args.models
    if not os.path.isfile(os.path.join(model_dir, DETECTOR)):
        print(f"no models in {model_dir}, using {SHARED_MODELS}", file=sys.stderr)
        model_dir = SHARED_MODELS
    with open(os.path.join(model_dir, DETECTOR_MANIFEST)) as f:
        labels = json.load(f)["labels"]

    ort1, dets, emb, size = bench_ort(args.photo, model_dir, 1, args.runs, args.warmup)
    ortd, dets_d, _, _ = bench_ort(args.photo, model_dir, 0, args.runs, args.warmup)
    if [d[1] for d in dets] != [d[1] for d in dets_d]:
        print("warning: the two onnxruntime thread settings found different detections", file=sys.stderr)

    detections = [
        {"label": labels[c], "class": c, "score": s, "box_px": [float(v) for v in b]} for s, c, b in dets
    ]
    if not args.quiet_detections:
        print(f"onnxruntime {ort.__version__}: {args.photo} ({size[0]}x{size[1]}), {len(dets)} detections "
              f"(embedder batch {'yes' if ort1['embed_batched'] else 'no: one run per crop'})")
        for d in detections:
            x0, y0, x1, y1 = d["box_px"]
            print(f"  {d['label']:<16} {d['score']:.3f}  [{x0:7.1f} {y0:7.1f} {x1:7.1f} {y1:7.1f}]")
        if len(emb) >= 2:
            sims = emb @ emb.T
            print(f"  embeddings: {emb.shape[0]} x {emb.shape[1]}, L2-normalised; cosine(0,1) = {sims[0, 1]:.3f}")
        print()

    tract, tract_err = None, None
    if os.path.isfile(args.shoplook) and os.access(args.shoplook, os.X_OK):
        try:
            tract = run_shoplook(args.shoplook, args.photo, args.runs, args.shoplook_arg)
        except Exception as e:  # keep the ORT numbers even when the binary fails
            tract_err = str(e)
    else:
        tract_err = f"shoplook binary not found at {args.shoplook}"

    print(f"{args.runs} runs after {args.warmup} warm-up runs; times in ms")
    if tract:
        ts = tract.get("stages", {})
        rows = []
        for s in STAGES:
            tm, tp = ts.get(s, {}).get("median_ms"), ts.get(s, {}).get("p90_ms")
            o1 = ort1["stages"][s]["median_ms"]
            ratio = f"{tm / o1:.2f}x" if tm is not None and o1 > 0 else "-"
            rows.append([s, tm, tp, o1, ort1["stages"][s]["p90_ms"], ortd["stages"][s]["median_ms"], ratio])
        for key, name in (("load_ms", "model load"), ("first_result_ms", "first result")):
            tv = tract.get(key)
            ratio = f"{tv / ort1[key]:.2f}x" if tv is not None and ort1[key] > 0 else "-"
            rows.append([name, tv, None, ort1[key], None, ortd[key], ratio])
        # What a person feels: boxes on screen (decode + detect), and a tap's vector (one crop).
        # onnxruntime embeds the crops one at a time, so its embed stage over the crop count is
        # one crop's time; shoplook spreads the crops over threads and times a lone crop itself
        # (its "tap" stage).
        def felt(r, stages):
            tap = stages.get("tap", {}).get("median_ms")
            return {
                "time to boxes": stages["decode"]["median_ms"] + stages["detect"]["median_ms"],
                "tap to vector (1 crop)": tap if tap else stages["embed"]["median_ms"] / max(r.get("items") or 1, 1),
            }
        tf, o1f, odf = felt(tract, ts), felt(ort1, ort1["stages"]), felt(ortd, ortd["stages"])
        for name in tf:
            ratio = f"{tf[name] / o1f[name]:.2f}x" if o1f[name] > 0 else "-"
            rows.append([name, tf[name], None, o1f[name], None, odf[name], ratio])
        rows.append(["items", str(tract.get("items", "-")), None, str(ort1["items"]), None, str(ortd["items"]), "-"])
        print_table(
            ["stage", "tract median", "tract p90", "ort-1thread median", "ort-1thread p90",
             "ort-default median", "ratio tract/ort-1thread"],
            rows,
        )
        if tract.get("items") is not None and tract.get("items") != ort1["items"]:
            print(f"note: shoplook found {tract.get('items')} items, this script {ort1['items']}")
    else:
        rows = [[s, ort1["stages"][s]["median_ms"], ort1["stages"][s]["p90_ms"],
                 ortd["stages"][s]["median_ms"], ortd["stages"][s]["p90_ms"]] for s in STAGES]
        rows.append(["model load", ort1["load_ms"], None, ortd["load_ms"], None])
        rows.append(["first result", ort1["first_result_ms"], None, ortd["first_result_ms"], None])
        rows.append(["items", str(ort1["items"]), None, str(ortd["items"]), None])
        print_table(["stage", "ort-1thread median", "ort-1thread p90", "ort-default median", "ort-default p90"], rows)
        print(f"tract: not run ({tract_err})")

    # ru_maxrss is in KiB on Linux (bytes on macOS).
    rss = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    rss_mib = rss / (1024 * 1024) if sys.platform == "darwin" else rss / 1024
    print(f"peak RSS of this python process (both onnxruntime configs): {rss_mib:.0f} MiB")

    if args.json_out:
        out = {
            "photo": args.photo,
            "photo_size": list(size),
            "runs": args.runs,
            "warmup": args.warmup,
            "cpu_count": os.cpu_count(),
            "onnxruntime_version": ort.__version__,
            "numpy_version": np.__version__,
            "pillow_version": Image.__version__,
            "ort_1thread": ort1,
            "ort_default": ortd,
            "tract": tract,
            "tract_error": tract_err,
            "detections": detections,
            "python_peak_rss_mib": rss_mib,
        }
        with open(args.json_out, "w") as f:
            json.dump(out, f, indent=2)
            f.write("\n")
        print(f"wrote {args.json_out}")


if __name__ == "__main__":
    main()
