#!/usr/bin/env bash
# Build the ShopLook Swift package for iOS. Run on a Mac with Xcode and rustup. NOT verified in
# this repository's CI, which runs on Linux (no Xcode, no Apple SDKs).
#
#   1. cargo builds libshoplook_ffi.a (profile `mobile`) for aarch64-apple-ios (devices),
#      aarch64-apple-ios-sim and x86_64-apple-ios (simulators; merged with lipo)
#   2. uniffi-bindgen generates ShopLook.swift, ShopLookFFI.h and the module map
#   3. xcodebuild -create-xcframework -> bindings/swift/ShopLookFFI.xcframework, and the generated
#      Swift goes to bindings/swift/Sources/ShopLook/ShopLook.swift; bindings/swift/Package.swift
#      is then a complete Swift package (add it to an app as a local package, or publish it).
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd -P)"
cd "$ROOT"
PKG="$ROOT/bindings/swift"
# SHOPLOOK_MOBILE_PROFILE=mobile-fast: opt-level 3 (faster, 3.4 MB bigger; see Cargo.toml).
PROFILE="${SHOPLOOK_MOBILE_PROFILE:-mobile}"
OUT="$ROOT/target/ios"
export IPHONEOS_DEPLOYMENT_TARGET="${IPHONEOS_DEPLOYMENT_TARGET:-15.0}"

log() { printf '[build-ios] %s\n' "$*" >&2; }
die() { printf '[build-ios] ERROR: %s\n' "$*" >&2; exit 1; }

[ "$(uname -s)" = Darwin ] || die "needs macOS with Xcode (xcodebuild)"
command -v xcodebuild >/dev/null 2>&1 || die "xcodebuild not found (install Xcode)"

TARGETS=(aarch64-apple-ios aarch64-apple-ios-sim x86_64-apple-ios)
rustup target add "${TARGETS[@]}"
for t in "${TARGETS[@]}"; do
  # The staticlib alone (not the manifest's cdylib + staticlib + rlib): cargo applies no LTO to
  # a crate whose outputs include an rlib.
  log "cargo rustc --profile $PROFILE --target $t --crate-type staticlib"
  cargo rustc --profile "$PROFILE" -p shoplook-ffi --no-default-features --target "$t" --crate-type staticlib
done

rm -rf "$OUT" && mkdir -p "$OUT/device" "$OUT/simulator" "$OUT/gen" "$OUT/include"
cp "target/aarch64-apple-ios/$PROFILE/libshoplook_ffi.a" "$OUT/device/"
lipo -create \
  "target/aarch64-apple-ios-sim/$PROFILE/libshoplook_ffi.a" \
  "target/x86_64-apple-ios/$PROFILE/libshoplook_ffi.a" \
  -output "$OUT/simulator/libshoplook_ffi.a"

log "generating Swift bindings"
# From an unstripped host build: uniffi-bindgen reads the API metadata from the symbol table,
# which `strip = true` (profile mobile) removes.
cargo build --release -p uniffi-bindgen -p shoplook-ffi
target/release/uniffi-bindgen generate target/release/libshoplook_ffi.dylib \
  --language swift --metadata-no-deps --out-dir "$OUT/gen"
cp "$OUT/gen/ShopLookFFI.h" "$OUT/include/"
cp "$OUT/gen/ShopLookFFI.modulemap" "$OUT/include/module.modulemap"

log "xcodebuild -create-xcframework"
rm -rf "$PKG/ShopLookFFI.xcframework"
xcodebuild -create-xcframework \
  -library "$OUT/device/libshoplook_ffi.a" -headers "$OUT/include" \
  -library "$OUT/simulator/libshoplook_ffi.a" -headers "$OUT/include" \
  -output "$PKG/ShopLookFFI.xcframework"
cp "$OUT/gen/ShopLook.swift" "$PKG/Sources/ShopLook/ShopLook.swift"
log "done: $PKG (Package.swift, ShopLookFFI.xcframework, Sources/ShopLook)"
