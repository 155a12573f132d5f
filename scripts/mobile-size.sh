#!/usr/bin/env bash
# Size of the phone library (issue 9, item 3): libshoplook_ffi.so for arm64, built exactly as
# scripts/build-android.sh ships it (profile `mobile`: fat LTO, one codegen unit, stripped;
# `cargo rustc --crate-type cdylib` so that LTO applies; --no-default-features: no built-in HTTP
# client, apps supply the transport). aarch64-unknown-linux-gnu stands in for Android arm64
# (same instruction set, same tract kernels; no NDK here to link against Bionic).
#
#   scripts/mobile-size.sh            prints `arm64 libshoplook_ffi.so: N bytes` and the crates
#                                     whose code is biggest; exits 1 above the 8 MiB target
#                                     only with SHOPLOOK_SIZE_STRICT=1
#   SHOPLOOK_MOBILE_PROFILE=mobile-fast scripts/mobile-size.sh
#                                     the same for the opt-level 3 profile (Cargo.toml)
#
# The symbol table is needed to attribute bytes to crates, and `strip = true` removes it, so the
# library is linked unstripped (CARGO_PROFILE_<PROFILE>_STRIP=false: nothing else changes) and the
# shipped size is that of the same file after `strip --strip-all`. Builds go to target/cross.
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
CROSS_LOG_NAME=mobile-size
# shellcheck source=cross-env.sh
source "$ROOT/scripts/cross-env.sh"
cd "$ROOT"
START=$(date +%s)
TARGET=aarch64-unknown-linux-gnu
LIMIT=8388608

cross_setup_aarch64_linux
PROFILE="${SHOPLOOK_MOBILE_PROFILE:-mobile}"
# cargo's environment name of the profile's `strip` setting (mobile-fast -> MOBILE_FAST).
STRIP_VAR="CARGO_PROFILE_$(echo "$PROFILE" | tr 'a-z-' 'A-Z_')_STRIP"
cross_log "cargo rustc --profile $PROFILE -p shoplook-ffi --no-default-features --target $TARGET --crate-type cdylib"
env "$STRIP_VAR=false" \
    cargo rustc --profile "$PROFILE" -p shoplook-ffi --no-default-features --target "$TARGET" --crate-type cdylib
BUILT=$(date +%s)

dir="$CARGO_TARGET_DIR/$TARGET/$PROFILE"
full="$dir/libshoplook_ffi.unstripped.so"
lib="$dir/libshoplook_ffi.stripped.so"
cp "$dir/libshoplook_ffi.so" "$full"
aarch64-linux-gnu-strip --strip-all -o "$lib" "$full"
bytes=$(stat -c %s "$lib")

echo "sections of the stripped library (bytes):"
aarch64-linux-gnu-size -A "$lib" | awk '$2 > 65536 { printf "  %-20s %10d\n", $1, $2 }'
echo "code by crate (text symbols of the unstripped library; generic code counts for the crate"
echo "its path names, code inlined by LTO for the function it was inlined into):"
aarch64-linux-gnu-nm --print-size --size-sort --demangle "$full" | python3 -c '
import collections, re, sys
by, total = collections.Counter(), 0
path = re.compile(r"([A-Za-z_][A-Za-z0-9_]*)::")
for line in sys.stdin:
    p = line.split(None, 3)
    if len(p) < 4 or p[2] not in "tTwW":
        continue
    size, name = int(p[1], 16), p[3]
    total += size
    m = path.search(name.lstrip("<&*( "))
    if m:
        crate = m.group(1)
    elif re.search(r"arm64|neon|fma|avx|sse|mmm|sigmoid|tanh", name):
        crate = "tract_linalg (asm kernels)"
    else:
        crate = "(no crate path: " + (re.split(r"[^A-Za-z]", name.lstrip("_"))[0][:24] or "?") + ")"
    by[crate] += size
print(f"  text symbols total: {total:,} bytes")
for crate, size in by.most_common(15):
    print(f"  {size:>11,} {100 * size / total:5.1f}%  {crate}")
'
cross_log "build $((BUILT - START)) s, total $(($(date +%s) - START)) s"
echo "arm64 libshoplook_ffi.so: $bytes bytes (target <= $LIMIT: $([ "$bytes" -le "$LIMIT" ] && echo met || echo NOT met))"
if [ "${SHOPLOOK_SIZE_STRICT:-0}" = 1 ] && [ "$bytes" -gt "$LIMIT" ]; then
    exit 1
fi
