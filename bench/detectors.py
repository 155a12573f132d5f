#!/usr/bin/env python3
"""Is the optional NanoDet (COCO) detector worth turning on by default?

Runs `shoplook analyze --json` on every test photo with the default detector alone and with
NanoDet merged in, and prints what each finds (labels per photo) and the detect-stage time
(median of N runs via `shoplook bench`).

    python3 bench/detectors.py [--shoplook target/release/shoplook] [--runs 5]
"""
import argparse, json, pathlib, subprocess, collections

ROOT = pathlib.Path(__file__).resolve().parent.parent
PHOTOS = ["bus.jpg", "zidane.jpg", "coffee.png", "astronaut.png", "grace_hopper.jpg",
          "box_in_scene.png", "stuff.jpg", "chelsea.png"]


def photo(name):
    for d in ("fixtures/photos", "fixtures/external"):
        p = ROOT / d / name
        if p.exists():
            return p
    raise SystemExit(f"{name} missing: run scripts/fetch-photos.sh")


def run(bin_, args):
    out = subprocess.run([bin_, *args], check=True, capture_output=True, text=True).stdout
    return json.loads(out)


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--shoplook", default=str(ROOT / "target/release/shoplook"))
    ap.add_argument("--runs", type=int, default=5)
    a = ap.parse_args()
    configs = [("SSD (default)", "ssd_mbv2_oidv4"), ("SSD + NanoDet", "ssd_mbv2_oidv4,nanodet")]
    print(f"| photo | {configs[0][0]} finds | {configs[1][0]} finds | detect ms (SSD) | detect ms (SSD+NanoDet) |")
    print("|---|---|---|---|---|")
    for name in PHOTOS:
        p = str(photo(name))
        cells, times = [], []
        for _, dets in configs:
            found = run(a.shoplook, ["analyze", p, "--json", "--detectors", dets])
            counts = collections.Counter(i["label"] for i in found["items"])
            cells.append(", ".join(f"{n}x {l}" for l, n in counts.most_common()) or "nothing")
            b = run(a.shoplook, ["bench", p, "--runs", str(a.runs), "--warmup", "1", "--json", "--detectors", dets])
            times.append(b["stages"]["detect"]["median_ms"])
        print(f"| {name} | {cells[0]} | {cells[1]} | {times[0]:.1f} | {times[1]:.1f} |")


if __name__ == "__main__":
    main()
