#!/usr/bin/env bash
# Builds ShopLook's core for browsers: bindings/shoplook-wasm -> web/pkg/ (git-ignored), then
# copies what the extension needs into web/extension/vendor/ (git-ignored: an unpacked
# extension cannot reach files outside its folder).
#
#   scripts/build-wasm.sh               installs its tools idempotently, builds, prints sizes and times
#   scripts/build-wasm.sh --tools-only  only installs the tools (test.sh runs it in the background)
#
# Tools (cached under /var/cache/shoplook-tools, installed once):
#   - the wasm32-unknown-unknown target (rustup);
#   - wasm-bindgen-cli at exactly the version of the `wasm-bindgen` crate in Cargo.lock;
#   - wasm-opt from npm's `binaryen` (optional: without it the .wasm is only smaller by LTO).
# The cargo build has its own target dir (target/wasm) and profile (`wasm` in Cargo.toml).
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$ROOT"
CACHE="${SHOPLOOK_TOOLS:-/var/cache/shoplook-tools}"
BINARYEN_VERSION=132.0.0
TARGET=wasm32-unknown-unknown
PKG="$ROOT/web/pkg"
log() { echo "[build-wasm] $*" >&2; }
now() { date +%s.%N; }
secs() { printf '%.1f' "$(echo "$(now) - $1" | bc)"; }
declare -a TIMES=()

t=$(now)
rustup target list --installed | grep -qx "$TARGET" || rustup target add "$TARGET" >&2
WB_VERSION="$(awk '/^name = "wasm-bindgen"$/{getline; gsub(/version = |"/, ""); print; exit}' Cargo.lock)"
[ -n "$WB_VERSION" ] || { log "no wasm-bindgen in Cargo.lock"; exit 1; }
WB_ROOT="$CACHE/wasm-bindgen-$WB_VERSION"
WB="$WB_ROOT/bin/wasm-bindgen"
if [ ! -x "$WB" ] || [ "$("$WB" --version | awk '{print $2}')" != "$WB_VERSION" ]; then
    log "installing wasm-bindgen-cli $WB_VERSION into $WB_ROOT"
    # --locked first; its lock file names a webpki-roots release the registry mirror may not
    # have, in which case the newest compatible versions are resolved instead.
    cargo install wasm-bindgen-cli --version "=$WB_VERSION" --locked --root "$WB_ROOT" >&2 ||
        cargo install wasm-bindgen-cli --version "=$WB_VERSION" --root "$WB_ROOT" >&2
fi
OPT_ROOT="$CACHE/binaryen-$BINARYEN_VERSION"
WASM_OPT="$OPT_ROOT/node_modules/.bin/wasm-opt"
if [ ! -x "$WASM_OPT" ]; then
    log "installing wasm-opt (npm binaryen@$BINARYEN_VERSION) into $OPT_ROOT"
    mkdir -p "$OPT_ROOT"
    npm install --prefix "$OPT_ROOT" --no-audit --no-fund "binaryen@$BINARYEN_VERSION" >&2 ||
        log "npm binaryen unavailable: the .wasm is not run through wasm-opt"
fi
TIMES+=("tools $(secs "$t") s")
if [ "${1:-}" = --tools-only ]; then
    log "tools ready: $WB, ${WASM_OPT}"
    exit 0
fi

t=$(now)
# simd128: tract's wasm matrix kernels (tract-linalg/src/wasm) and fast_image_resize's; see
# the SIMD note at wasm-opt below for browser support.
CARGO_TARGET_WASM32_UNKNOWN_UNKNOWN_RUSTFLAGS="-C target-feature=+simd128" \
    CARGO_TARGET_DIR="$ROOT/target/wasm" cargo build --profile wasm -p shoplook-wasm --target "$TARGET" >&2
RAW="$ROOT/target/wasm/$TARGET/wasm/shoplook_wasm.wasm"
TIMES+=("cargo $(secs "$t") s")

t=$(now)
rm -rf "$PKG"
"$WB" --target web --no-typescript --out-dir "$PKG" "$RAW"
BG="$PKG/shoplook_wasm_bg.wasm"
BOUND=$(stat -c %s "$BG")
TIMES+=("wasm-bindgen $(secs "$t") s")
# SHOPLOOK_WASM_OPT=0 skips wasm-opt: it takes about 3 minutes on a 2-core machine for 11% of
# the size (and the result gzips 5% larger; docs/web.md), so the test stage
# (scripts/test-web.sh) leaves it to release builds.
if [ -x "$WASM_OPT" ] && [ "${SHOPLOOK_WASM_OPT:-1}" != 0 ]; then
    t=$(now)
    # -Os: size first, as the cargo profile. The features are those rustc enables by default
    # for wasm32-unknown-unknown (bulk memory, sign-ext, mutable globals, non-trapping fptoint,
    # multivalue, reference types) plus SIMD (the build enables simd128; every
    # browser ShopLook targets runs wasm SIMD: Chromium 91+, Firefox 89+, Safari 16.4+).
    "$WASM_OPT" -Os --enable-simd --enable-bulk-memory --enable-sign-ext --enable-mutable-globals \
        --enable-nontrapping-float-to-int --enable-multivalue --enable-reference-types \
        "$BG" -o "$BG.opt"
    mv "$BG.opt" "$BG"
    TIMES+=("wasm-opt $(secs "$t") s")
fi
OPT=$(stat -c %s "$BG")
GZ=$(gzip -9 -c "$BG" | wc -c)

# The extension's copy: the bindings, the shared modules and the default models.
VENDOR="$ROOT/web/extension/vendor"
rm -rf "$VENDOR"
mkdir -p "$VENDOR/models"
cp "$PKG/shoplook_wasm.js" "$BG" "$ROOT"/web/shared/*.mjs "$VENDOR/"
for m in ssd_mbv2_oidv4 efficientnet_lite0_feat; do
    cp "$ROOT/models/$m.json" "$ROOT/models/$m.onnx" "$VENDOR/models/"
done

printf '[build-wasm] .wasm: %d bytes after cargo (LTO, opt-level s), %d after wasm-bindgen, %d after wasm-opt, %d gzipped\n' \
    "$(stat -c %s "$RAW")" "$BOUND" "$OPT" "$GZ" >&2
log "times: ${TIMES[*]}"
log "output: $PKG (and $VENDOR)"
