#!/usr/bin/env bash
# Size and speed of libshoplook_ffi.so under the `mobile` profile, for one or more opt-levels.
#
#   bindings/tools/size-and-speed.sh 3 s z
#
# For each opt-level: cargo rustc --profile mobile -p shoplook-ffi --crate-type cdylib with
# CARGO_PROFILE_MOBILE_OPT_LEVEL=<level> (the library is copied to target/mobile-opt-<level>/),
# the stripped size, then the median `analyze` time of bus.jpg through the library itself (the
# UniFFI Python bindings, so the timing includes the FFI crossing). Prints one table row per level.
# Each build is a full fat-LTO link (several minutes on 2 cores).
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd -P)"
cd "$ROOT"
RUNS="${SHOPLOOK_BENCH_RUNS:-15}"
[ "$#" -gt 0 ] || set -- 3
bash scripts/fetch-photos.sh >/dev/null 2>&1 || true
[ -x target/release/uniffi-bindgen ] || cargo build --release -p uniffi-bindgen >&2

rows=()
for level in "$@"; do
  dir="target/mobile-opt-$level"
  # Built unstripped: uniffi-bindgen reads the API metadata from the symbol table (a stripped
  # library has none). The copy that is measured and loaded is stripped like `strip = true`.
  # cargo rustc --crate-type cdylib: with the manifest's rlib output too, cargo would skip LTO.
  echo "[size-and-speed] opt-level=$level: cargo rustc --profile mobile -p shoplook-ffi --crate-type cdylib" >&2
  CARGO_PROFILE_MOBILE_OPT_LEVEL="$level" CARGO_PROFILE_MOBILE_STRIP=false \
    cargo rustc --profile mobile -p shoplook-ffi --crate-type cdylib >&2
  rm -rf "$dir" && mkdir -p "$dir/unstripped"
  cp target/mobile/libshoplook_ffi.so "$dir/unstripped/"
  strip --strip-all -o "$dir/libshoplook_ffi.so" "$dir/unstripped/libshoplook_ffi.so"
  target/release/uniffi-bindgen generate "$dir/unstripped/libshoplook_ffi.so" --language python \
    --no-format --out-dir "$dir" >/dev/null
  size_so=$(stat -c %s "$dir/libshoplook_ffi.so")
  timing="$(cd "$dir" && python3 - "$ROOT/models" "$ROOT/fixtures/external/bus.jpg" "$RUNS" <<'PY'
import statistics, sys, time
import shoplook_ffi as s
models, photo, runs = sys.argv[1], open(sys.argv[2], "rb").read(), int(sys.argv[3])
t0 = time.perf_counter(); shop = s.ShopLook.from_model_dir(models, None); load = (time.perf_counter() - t0) * 1000
opts = s.AnalyzeOptions(min_score=None, max_items=20, embed=True)
shop.analyze(photo, opts)
total, detect, embed = [], [], []
for _ in range(runs):
    t0 = time.perf_counter(); a = shop.analyze(photo, opts); total.append((time.perf_counter() - t0) * 1000)
    detect.append(a.timings.detect_ms); embed.append(a.timings.embed_ms)
m = statistics.median
print(f"{load:.0f} {m(total):.1f} {m(detect):.1f} {m(embed):.1f} {len(a.items)}")
PY
)"
  read -r load total detect embed items <<<"$timing"
  rows+=("| $level | $((size_so / 1024)) KiB | $load ms | $total ms | $detect ms | $embed ms | $items |")
done
echo "| opt-level | stripped .so | model load | analyze bus.jpg (median of $RUNS) | detect | embed | items |"
echo "|---|---|---|---|---|---|---|"
printf '%s\n' "${rows[@]}"
