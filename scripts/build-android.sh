#!/usr/bin/env bash
# Build the ShopLook Android library (AAR). Run on a machine with the Android SDK + NDK (r27 or
# newer, ANDROID_NDK_HOME set) and Gradle. NOT verified in this repository's CI, which has no NDK.
#
#   1. cargo-ndk builds libshoplook_ffi.so (profile `mobile`) for arm64-v8a, armeabi-v7a, x86_64,
#      linked with 16 KB page alignment, into bindings/kotlin/shoplook-android/src/main/jniLibs/
#   2. uniffi-bindgen generates the Kotlin bindings (from an unstripped host build) into src/main/kotlin/
#   3. gradle assembles the AAR: bindings/kotlin/shoplook-android/build/outputs/aar/
#
# Options: SHOPLOOK_ANDROID_API (minSdk for the NDK link, default 24), GRADLE (default `gradle`).
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd -P)"
cd "$ROOT"
MODULE="$ROOT/bindings/kotlin/shoplook-android"
API="${SHOPLOOK_ANDROID_API:-24}"
# SHOPLOOK_MOBILE_PROFILE=mobile-fast: opt-level 3 (faster, 3.4 MB bigger; see Cargo.toml).
PROFILE="${SHOPLOOK_MOBILE_PROFILE:-mobile}"
declare -A TRIPLE=(
  [arm64-v8a]=aarch64-linux-android
  [armeabi-v7a]=armv7-linux-androideabi
  [x86_64]=x86_64-linux-android
)

log() { printf '[build-android] %s\n' "$*" >&2; }
die() { printf '[build-android] ERROR: %s\n' "$*" >&2; exit 1; }

[ -n "${ANDROID_NDK_HOME:-${ANDROID_NDK_ROOT:-}}" ] || die "set ANDROID_NDK_HOME to an NDK r27+ install"
command -v cargo-ndk >/dev/null 2>&1 || cargo install cargo-ndk --locked
rustup target add "${TRIPLE[@]}"

# 16 KB page alignment of the Rust .so (Android 15+ devices with 16 KB pages refuse 4 KB-aligned
# libraries). NDK r27 defaults to it for arm64/x86_64 already; this makes it explicit for all.
for t in "${TRIPLE[@]}"; do
  var="CARGO_TARGET_$(echo "$t" | tr 'a-z-' 'A-Z_')_RUSTFLAGS"
  export "$var"="${!var:-} -C link-arg=-Wl,-z,max-page-size=16384"
done

log "cargo ndk rustc --profile $PROFILE (${!TRIPLE[*]}, API $API)"
# `rustc --crate-type cdylib`, not `build`: the crate's manifest also lists `lib` (rlib), and
# cargo applies no LTO to a crate whose outputs include an rlib; building the cdylib alone gets
# the profile's fat LTO.
cargo ndk --platform "$API" -t arm64-v8a -t armeabi-v7a -t x86_64 \
  rustc --profile "$PROFILE" -p shoplook-ffi --no-default-features --crate-type cdylib

rm -rf "$MODULE/src/main/jniLibs" "$MODULE/src/main/kotlin"
for abi in "${!TRIPLE[@]}"; do
  so="target/${TRIPLE[$abi]}/$PROFILE/libshoplook_ffi.so"
  [ -f "$so" ] || die "missing $so"
  mkdir -p "$MODULE/src/main/jniLibs/$abi"
  cp "$so" "$MODULE/src/main/jniLibs/$abi/"
done

# Check the alignment of every LOAD segment (0x4000 = 16 KB).
READELF="$(ls "${ANDROID_NDK_HOME:-$ANDROID_NDK_ROOT}"/toolchains/llvm/prebuilt/*/bin/llvm-readelf 2>/dev/null | head -n1)"
if [ -n "$READELF" ]; then
  for so in "$MODULE"/src/main/jniLibs/*/libshoplook_ffi.so; do
    if "$READELF" -lW "$so" | awk '$1 == "LOAD" { print $NF }' | grep -qv '^0x4000$'; then
      die "$so has LOAD segments not aligned to 16 KB"
    fi
    log "16 KB aligned: $so ($(du -k "$so" | cut -f1) KiB)"
  done
fi

# The bindings are generated from an unstripped host build: uniffi-bindgen reads the API
# metadata from the symbol table, which `strip = true` (profile mobile) removes.
log "generating Kotlin bindings"
cargo build --release -p uniffi-bindgen -p shoplook-ffi
target/release/uniffi-bindgen generate target/release/libshoplook_ffi.so \
  --language kotlin --metadata-no-deps --out-dir "$MODULE/src/main/kotlin"

log "gradle :shoplook-android:assembleRelease"
( cd bindings/kotlin && "${GRADLE:-gradle}" :shoplook-android:assembleRelease )
log "AAR: $(ls "$MODULE"/build/outputs/aar/*.aar)"
