#!/usr/bin/env bash
# Every phone target compiles (issue 9, item 2): `cargo check -p shoplook-ffi` for Android
# (aarch64, armv7, x86_64) and iOS (device, simulator), as the AAR / xcframework build it:
# without the built-in HTTP client (--no-default-features: apps supply the transport, so
# neither ureq nor rustls/ring is in the phone library). Then, where no platform SDK is needed,
# a full build: the iOS device staticlib (a static library is only an archive of objects, so
# nothing is linked against iOS's libraries).
#
#   scripts/check-mobile.sh [TARGET...]          default: all five
#   SHOPLOOK_MOBILE_FULL=0 scripts/check-mobile.sh   skip the staticlib build
#
# C and assembly in build scripts (tract-linalg's ARM/x86 kernels) are compiled by Debian's
# clang-14 with --target=<triple> (scripts/cross-env.sh); installed here if missing, with the
# rustup targets. Builds go to target/cross. One line per target: `<target>: ok` / `FAILED`.
#
# Not verified here (no NDK, no Xcode): linking an Android .so against Bionic, linking an iOS
# app against the staticlib, and running anything on those targets.
set -uo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
CROSS_LOG_NAME=check-mobile
# shellcheck source=cross-env.sh
source "$ROOT/scripts/cross-env.sh"
cd "$ROOT"
START=$(date +%s)

targets=("$@")
[ ${#targets[@]} -eq 0 ] && targets=(aarch64-linux-android armv7-linux-androideabi x86_64-linux-android aarch64-apple-ios aarch64-apple-ios-sim)

set -e
cross_setup_clang
set +e
# A target whose prebuilt standard library cannot be downloaded (aarch64-apple-ios-sim gets a
# 404 from the rustup mirror these machines use) is checked with std built from source
# (rust-src + -Zbuild-std, allowed on stable by RUSTC_BOOTSTRAP=1 for this check only).
declare -A build_std=()
for t in "${targets[@]}"; do
    if ! cross_add_targets "$t"; then
        cross_log "no prebuilt std for $t: building it from source (rust-src)"
        rustup component add rust-src >&2 || true
        build_std[$t]=1
    fi
done

declare -A result
failed=0
for t in "${targets[@]}"; do
    t0=$(date +%s)
    (
        cross_cc_env "$t"
        zflags=()
        if [ -n "${build_std[$t]:-}" ]; then
            export RUSTC_BOOTSTRAP=1
            zflags=(-Zbuild-std=std,panic_unwind)
        fi
        cross_log "cargo check -p shoplook-ffi --no-default-features --target $t ${zflags[*]}"
        cargo check -p shoplook-ffi --no-default-features --target "$t" "${zflags[@]}"
    )
    rc=$?
    if [ $rc = 0 ] && [ "$t" = aarch64-apple-ios ] && [ "${SHOPLOOK_MOBILE_FULL:-1}" = 1 ]; then
        # What scripts/build-ios.sh ships, minus lipo/xcodebuild: the release staticlib.
        (
            cross_cc_env "$t"
            cross_log "cargo rustc --release -p shoplook-ffi --no-default-features --crate-type staticlib --target $t"
            cargo rustc --release -p shoplook-ffi --no-default-features --crate-type staticlib --target "$t"
        ) && {
            lib="$CARGO_TARGET_DIR/$t/release/libshoplook_ffi.a"
            cross_log "$lib: $(stat -c %s "$lib") bytes (unstripped archive, not the app's size)"
        }
        rc=$?
        [ $rc = 0 ] && result[$t]="ok (check + staticlib build)"
    fi
    if [ $rc = 0 ]; then
        : "${result[$t]:=ok (check${build_std[$t]:+, std built from source})}"
    else
        result[$t]=FAILED
        failed=$((failed + 1))
    fi
    cross_log "$t: ${result[$t]} in $(($(date +%s) - t0)) s"
done

cross_log "elapsed $(($(date +%s) - START)) s"
for t in "${targets[@]}"; do
    echo "$t: ${result[$t]}"
done
[ "$failed" = 0 ]
