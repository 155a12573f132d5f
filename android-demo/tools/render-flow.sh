#!/usr/bin/env bash
# Regenerates android-demo/docs/flow.jpg (referenced by both demo READMEs): the demo's flow drawn
# on the host from the shared Kotlin logic with the real library, bus.jpg and a real search of the
# demo catalogue on loopback. Not a device screenshot (no Android/iOS UI can run here).
#
#   android-demo/tools/render-flow.sh [OUT.jpg]
#
# Needs what scripts/test-bindings.sh sets up: target/bindings (run it first), the Kotlin toolchain
# (scripts/setup-kotlin.sh) and the `shoplook` binary.
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd -P)"
cd "$ROOT"
LIB_DIR=target/release
OUT_IMG="${1:-android-demo/docs/flow.jpg}"
log() { printf '[render-flow] %s\n' "$*" >&2; }
die() { printf '[render-flow] ERROR: %s\n' "$*" >&2; exit 1; }
KT_GEN=target/bindings/kotlin/com/shoplook/shoplook_ffi.kt
[ -f "$KT_GEN" ] && [ -f target/bindings/lib/libshoplook_ffi.so ] || die "run scripts/test-bindings.sh first (generated bindings)"
bash scripts/fetch-photos.sh
bash scripts/setup-kotlin.sh >/dev/null
. "${SHOPLOOK_TOOLS:-/var/cache/shoplook-tools}/kotlin.env"

SERVER_PID="" SERVER_DIR=""
trap '[ -n "$SERVER_PID" ] && kill "$SERVER_PID" 2>/dev/null; [ -n "$SERVER_DIR" ] && rm -rf "$SERVER_DIR"' EXIT
. scripts/bindings-catalogue.sh
[ -n "${SHOPLOOK_CATALOGUE_URL:-}" ] || die "no catalogue server"

JAR="$(mktemp -d)/render.jar"
log "compiling (kotlinc, ~1 min)"
"$KOTLINC" -nowarn -cp "$KOTLIN_TEST_CP" -d "$JAR" "$KT_GEN" \
  android-demo/app/src/main/java/com/shoplook/demo/logic/*.kt android-demo/tools/RenderFlow.kt
SHOPLOOK_MODELS="$ROOT/models" SHOPLOOK_FIXTURES="$ROOT/fixtures" \
  java -Djava.awt.headless=true -Djna.library.path=target/bindings/lib -cp "$JAR:$KOTLIN_RUN_CP" \
  com.shoplook.demo.tools.RenderFlowKt "$OUT_IMG"
rm -rf "$(dirname "$JAR")"
