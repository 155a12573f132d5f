#!/usr/bin/env bash
# Fetch real video frames for the tracker's tests and measurements (docs/tracking.md):
# the first $FRAMES frames of OpenCV's sample clip vtest.avi (768x576, pedestrians on a square,
# filmed from above), decoded to JPEG files frame-0001.jpg, ... and prints their folder.
#
# Where it comes from: Debian's `opencv-doc` package ships OpenCV's samples/data/vtest.avi
# (usr/share/doc/opencv-doc/examples/data/vtest.avi). Licence: OpenCV's own files, "Files: *" of
# that package's debian/copyright: Apache-2.0 AND BSD-3-Clause (OpenCV contributors). It is not
# committed here; it is cached outside the checkout.
# The clip is DivX 3 (MS-MPEG4v3), which nothing in Rust decodes, so frames are decoded with
# the ffmpeg binary shipped inside PyPI's `imageio-ffmpeg` wheel (pinned below).
#
# Cache: $SHOPLOOK_TOOLS (default /var/cache/shoplook-tools)/video/. Idempotent: when the
# frames are there (a stamp file records what made them) it only prints the folder.
# Usage: scripts/fetch-video.sh            # prints the frames folder on the last line of stdout
#        SHOPLOOK_VIDEO_FRAMES="$(scripts/fetch-video.sh | tail -n1)" cargo t --test tracking
set -euo pipefail

TOOLS="${SHOPLOOK_TOOLS:-/var/cache/shoplook-tools}"
CACHE="$TOOLS/video"
FRAMES="${FRAMES:-150}"
DEB_PKG="opencv-doc"
AVI_PATH="usr/share/doc/opencv-doc/examples/data/vtest.avi"
AVI_SHA=45cddc9490be69345cbdab64ca583be65987e864ca408038e648db99e10516cf
FFMPEG_PKG="imageio-ffmpeg==0.6.0"
OUT="$CACHE/vtest-frames-$FRAMES"
STAMP="$OUT/.done"

log() { echo "[fetch-video] $*" >&2; }
# apt_get: every apt-get of the project's scripts under one lock (scripts/lib/apt.sh); `download`
# too, which reads the lists that another job's `update` may be rewriting.
# shellcheck source=lib/apt.sh
source "$(dirname "${BASH_SOURCE[0]}")/lib/apt.sh"

if [ -f "$STAMP" ]; then
    log "up to date: $OUT"
    echo "$OUT"
    exit 0
fi
mkdir -p "$CACHE"
TMP="$(mktemp -d "$CACHE/tmp.XXXXXX")"
trap 'rm -rf "$TMP"' EXIT
chmod 755 "$TMP"  # apt-get download writes as _apt when it can

# 1. vtest.avi from the opencv-doc .deb (96 MB; only the 8 MB clip is kept).
AVI="$CACHE/vtest.avi"
if [ ! -f "$AVI" ] || [ "$(sha256sum "$AVI" | cut -d' ' -f1)" != "$AVI_SHA" ]; then
    log "apt-get download $DEB_PKG"
    (cd "$TMP" && apt_get download "$DEB_PKG" >&2) || {
        log "apt-get download failed; trying after apt-get update"
        apt_get update -qq >&2
        (cd "$TMP" && apt_get download "$DEB_PKG" >&2)
    }
    DEB="$(ls "$TMP"/opencv-doc_*.deb)"
    dpkg-deb --fsys-tarfile "$DEB" | tar -x -C "$TMP" "./$AVI_PATH"
    got="$(sha256sum "$TMP/$AVI_PATH" | cut -d' ' -f1)"
    if [ "$got" != "$AVI_SHA" ]; then
        log "vtest.avi sha256 $got differs from the pinned $AVI_SHA (package $(basename "$DEB"))"
        exit 1
    fi
    mv "$TMP/$AVI_PATH" "$AVI"
    rm -f "$DEB"
fi

# 2. The ffmpeg binary from the imageio-ffmpeg wheel.
FFMPEG="$CACHE/ffmpeg"
if [ ! -x "$FFMPEG" ]; then
    if python3 -m pip --version >/dev/null 2>&1; then
        PY=python3
    else
        ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
        bash "$ROOT/scripts/setup-python.sh" >&2
        PY="$ROOT/.tools/venv/bin/python"
    fi
    log "pip download $FFMPEG_PKG"
    "$PY" -m pip download --disable-pip-version-check --no-input -q --no-deps \
        --only-binary=:all: "$FFMPEG_PKG" -d "$TMP/wheel" >&2
    "$PY" - "$TMP/wheel" "$FFMPEG.part" <<'PYEOF'
import glob, os, sys, zipfile
wheel_dir, out = sys.argv[1], sys.argv[2]
wheels = glob.glob(os.path.join(wheel_dir, "imageio_ffmpeg-*.whl"))
if len(wheels) != 1:
    sys.exit(f"expected one imageio_ffmpeg wheel, found {wheels}")
with zipfile.ZipFile(wheels[0]) as z:
    names = [n for n in z.namelist() if n.startswith("imageio_ffmpeg/binaries/ffmpeg")]
    if len(names) != 1:
        sys.exit(f"expected one ffmpeg binary in the wheel, found {names}")
    with open(out, "wb") as f:
        f.write(z.read(names[0]))
os.chmod(out, 0o755)
PYEOF
    mv "$FFMPEG.part" "$FFMPEG"
fi

# 3. Frames as JPEG (quality 2 of ffmpeg's 2-31 scale: near-lossless, ~60 KB a frame).
rm -rf "$OUT"
mkdir -p "$TMP/frames"
log "decoding the first $FRAMES frames"
"$FFMPEG" -hide_banner -loglevel error -i "$AVI" -frames:v "$FRAMES" -q:v 2 \
    "$TMP/frames/frame-%04d.jpg"
n="$(ls "$TMP/frames" | wc -l)"
if [ "$n" != "$FRAMES" ]; then
    log "expected $FRAMES frames, ffmpeg wrote $n"
    exit 1
fi
echo "vtest.avi sha256 $AVI_SHA, $FFMPEG_PKG, $FRAMES frames" >"$TMP/frames/.done"
mv "$TMP/frames" "$OUT"
log "frames in $OUT"
echo "$OUT"
