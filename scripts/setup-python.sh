#!/usr/bin/env bash
# Create (or reuse) the Python venv used by bench/ort_bench.py and scripts/make_ort_reference.py.
#
#   scripts/setup-python.sh          # creates .tools/venv, installs scripts/requirements-bench.txt
#   .tools/venv/bin/python bench/ort_bench.py PHOTO
#
# Idempotent: a stamp file in the venv holds the sha256 of the requirements file (and the Python
# version); when it matches, nothing is done. Works on a fresh Debian 12 as root (installs
# python3-venv with apt-get when `python3 -m venv` is unavailable).
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
VENV="${SHOPLOOK_VENV:-$ROOT/.tools/venv}"
REQ="$ROOT/scripts/requirements-bench.txt"
STAMP="$VENV/.requirements.sha256"
PYTHON="${PYTHON:-python3}"

log() { echo "[setup-python] $*" >&2; }
# apt_get: every apt-get of the project's scripts under one lock (scripts/lib/apt.sh).
# shellcheck source=lib/apt.sh
source "$ROOT/scripts/lib/apt.sh"

if ! command -v "$PYTHON" >/dev/null 2>&1; then
    if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1; then
        log "installing python3 with apt-get"
        apt_get update -qq
        DEBIAN_FRONTEND=noninteractive apt_get install -y -qq python3 python3-venv >/dev/null
    else
        log "error: $PYTHON not found"; exit 1
    fi
fi

want="$( { sha256sum "$REQ" | cut -d' ' -f1; "$PYTHON" -c 'import sys; print(sys.version)'; } | sha256sum | cut -d' ' -f1)"

if [ -x "$VENV/bin/python" ] && [ -f "$STAMP" ] && [ "$(cat "$STAMP")" = "$want" ]; then
    log "venv up to date: $VENV"
    exit 0
fi

# `python3 -m venv` needs ensurepip, which Debian ships separately in python3-venv.
if ! "$PYTHON" -c 'import venv, ensurepip' >/dev/null 2>&1; then
    if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1; then
        log "installing python3-venv with apt-get"
        apt_get update -qq
        DEBIAN_FRONTEND=noninteractive apt_get install -y -qq python3-venv >/dev/null
    else
        log "error: '$PYTHON -m venv' is unavailable; install python3-venv"; exit 1
    fi
fi

if [ ! -x "$VENV/bin/python" ] || ! "$VENV/bin/python" -c 'import sys' >/dev/null 2>&1; then
    log "creating venv at $VENV"
    rm -rf "$VENV"
    mkdir -p "$(dirname "$VENV")"
    "$PYTHON" -m venv "$VENV"
fi

log "installing $(grep -cv '^\s*\(#\|$\)' "$REQ") pinned packages"
"$VENV/bin/python" -m pip install --disable-pip-version-check --no-input -q -r "$REQ"
"$VENV/bin/python" -c 'import onnxruntime, numpy, PIL; print("[setup-python] onnxruntime", onnxruntime.__version__, "numpy", numpy.__version__, "pillow", PIL.__version__)' >&2

echo "$want" > "$STAMP"
log "done: $VENV"
