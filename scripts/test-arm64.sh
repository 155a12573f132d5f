#!/usr/bin/env bash
# The core's tests on arm64 (issue 9, item 1): cross-builds every test of shoplook-core (unit
# tests, including tract against the onnxruntime reference outputs of each shipped model, and
# the integration tests: the pipeline on real photos, decoding, every bad input) for
# aarch64-unknown-linux-gnu with Debian's cross toolchain, and runs them under
# qemu-aarch64-static. That exercises tract's ARM (NEON) kernels, the same instruction set and
# kernels as Android/iOS arm64, against the same tolerances as on x86.
#
#   scripts/test-arm64.sh [--all] [-- LIBTEST ARGS]     e.g. scripts/test-arm64.sh -- nnef
#
# What runs (qemu-user emulates floating point in software: one model load + inference costs
# about 90 s of CPU, so CI's 2 cores can afford a handful): by default, CI's selection, what the
# phone depends on: every unit test of the core (the shipped models through their NNEF exports,
# which is what the phone libraries load, against the onnxruntime references; the pose model;
# decoding, the tracker's frame layouts, geometry, manifests, the catalogue client) and the
# integration tests of bad input (those that fail before inference: empty, random, truncated
# PNG, decompression bomb, oversized, unsupported format, bad regions and options, bad models and
# manifests, CMYK decoding) and of the shipped model files. Left to `--all`: the same references
# through the ONNX parser (the host runs those), the bad inputs that run whole analyses (a JPEG
# cut at 6 places, 16-bit/transparent PNG and WebP, EXIF orientation), the pipeline on whole
# photos, the tracker on 150 video frames, the NNEF engine against the ONNX one.
#
# Installs what is missing (apt: gcc/g++-aarch64-linux-gnu, qemu-user-static; rustup target);
# CI is a fresh Debian machine running as root. Release profile (tests under emulation at
# opt-level 0 would crawl) into target/cross, never target/release. Fetches the AGPL test photos
# (scripts/fetch-photos.sh) if they are not there.
#
# Closing line: `arm64: N passed, N failed` (the sum of libtest's results; a test binary that
# dies without a result line, e.g. on an illegal instruction, counts as one failure).
# Emulated timings say nothing about a phone's speed; none are reported.
set -uo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
CROSS_LOG_NAME=test-arm64
# shellcheck source=cross-env.sh
source "$ROOT/scripts/cross-env.sh"
cd "$ROOT"
START=$(date +%s)
TARGET=aarch64-unknown-linux-gnu

selection=(--lib --test bad_input --test models)
skips=(--skip detector_matches_onnxruntime --skip embedder_matches_onnxruntime
    --skip nnef_archive_of_another_model_or_version --skip damaged_nnef_archives
    --skip the_shipped_model_finds_the_astronaut
    --skip truncated_jpeg_is_corrupt --skip greyscale_16bit_and_transparent_pngs_and_webp_decode
    --skip exif_orientation_is_applied_so_boxes_match_the_displayed_photo)
if [ "${1:-}" = "--all" ]; then
    shift
    selection=(--lib --tests)
    skips=()
fi
extra=()
if [ "${1:-}" = "--" ]; then
    shift
    extra=("$@")
fi

set -e
cross_setup_aarch64_linux
bash "$ROOT/scripts/fetch-photos.sh"
set +e

LOG="$CARGO_TARGET_DIR/test-arm64.log"
mkdir -p "$CARGO_TARGET_DIR"

cross_log "building the tests of shoplook-core for $TARGET (release, $CARGO_TARGET_DIR)"
if ! cargo test --release -p shoplook-core --target "$TARGET" "${selection[@]}" --no-run; then
    cross_log "error: the arm64 build failed"
    echo "arm64: 0 passed, 1 failed (build failed)"
    exit 1
fi
BUILT=$(date +%s)

cross_log "running them under qemu-aarch64-static"
# The tests find models and photos through paths compiled in from CARGO_MANIFEST_DIR (or
# $SHOPLOOK_MODELS): qemu-user runs the binary on this machine's file system, so they resolve
# as on the host.
cargo test --release -p shoplook-core --target "$TARGET" "${selection[@]}" --no-fail-fast \
    -- "${skips[@]}" "${extra[@]}" 2>&1 | tee "$LOG"
status=${PIPESTATUS[0]}

# One "Running ..." line per test binary, one "test result:" line per binary that finished.
summary=$(awk '
    /^ *Running / { binaries++ }
    /^test result:/ {
        results++
        for (i = 1; i <= NF; i++) {
            if ($(i+1) ~ /^passed/) passed += $i
            if ($(i+1) ~ /^failed/) failed += $i
        }
    }
    END {
        died = binaries - results; if (died < 0) died = 0
        printf "%d %d %d", passed, failed + died, died
    }' "$LOG")
read -r passed failed died <<<"$summary"
if [ "$status" != 0 ] && [ "$failed" = 0 ]; then
    failed=1 # cargo failed without a failing test (e.g. a build step): never report success
fi

END=$(date +%s)
cross_log "build $((BUILT - START)) s, run under qemu $((END - BUILT)) s, total $((END - START)) s"
[ "$died" -gt 0 ] && cross_log "$died test binaries ended without a result line (counted as failures)"
echo "arm64: $passed passed, $failed failed"
[ "$failed" = 0 ]
