#!/usr/bin/env bash
# The `web` stage of scripts/test.sh: builds the wasm core (scripts/build-wasm.sh: web/pkg and
# the extension's vendor/), then runs browser-tests/web.test.mjs in Debian's chromium: the /try
# page of a real catalogue server and the unpacked extension on a local page. Prints
# `web: N passed, N failed` (the test's own closing line, or this script's when it cannot run).
#
# Needs target/release/shoplook (`cargo b`); sets up chromium + puppeteer-core and the test
# photo itself (idempotent).
set -uo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."
log() { echo "[test-web] $*" >&2; }
fail() {
    log "$*"
    echo "web: 0 passed, 1 failed"
    exit 1
}

[ -x target/release/shoplook ] || fail "target/release/shoplook is missing: run \`cargo b\` first"
t=$(date +%s)
# wasm-opt (about 3 min on 2 cores, 11% smaller) is for release builds; set SHOPLOOK_WASM_OPT=1 to
# test the optimised file.
SHOPLOOK_WASM_OPT="${SHOPLOOK_WASM_OPT:-0}" scripts/build-wasm.sh || fail "the wasm build failed"
log "wasm build: $(($(date +%s) - t)) s"
scripts/setup-browser.sh || fail "the browser set-up failed"
scripts/fetch-photos.sh || fail "the test photo could not be fetched"
t=$(date +%s)
node browser-tests/web.test.mjs
rc=$?
log "browser tests: $(($(date +%s) - t)) s"
exit $rc
