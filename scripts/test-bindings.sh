#!/usr/bin/env bash
# Host tests of the Kotlin and Swift bindings against the real library.
#
#   1. `cargo b` (.cargo/config.toml: release, whole workspace, all targets, with
#      shoplook-ffi/test-hooks; the library with its test-only panicking exports, the pinned
#      uniffi-bindgen, the `shoplook` server binary)
#   2. generate Kotlin and Swift from the built library into target/bindings/{kotlin,swift}
#   3. toolchains (scripts/setup-kotlin.sh, scripts/setup-swift.sh: cached after the first run)
#      and the test photos (scripts/fetch-photos.sh)
#   4. a catalogue server on a free loopback port (scripts/bindings-catalogue.sh)
#   5. Kotlin: kotlinc (JVM) compiles the bindings + bindings/kotlin/tests, java runs them
#      -> closing line `kotlin: N passed, N failed`
#   6. Swift: swiftc (Debian trixie chroot) compiles the bindings + bindings/swift/{Sources,HostTests},
#      runs them -> closing line `swift: N passed, N failed`
# Exit status non-zero if either language failed (or did not run).
#
# Options (environment): SHOPLOOK_BINDINGS_LANGS="kotlin swift" (subset to run),
# SHOPLOOK_SKIP_BUILD=1 (use the library already built), SHOPLOOK_BINDINGS_PROFILE=dev or mobile (test
# another build of the library, e.g. a quicker one; default release).
# Needs root for the Swift chroot (as CI and dev sessions run).
set -uo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd -P)"
cd "$ROOT"
OUT="$ROOT/target/bindings"
LIB_NAME=libshoplook_ffi.so
LANGS="${SHOPLOOK_BINDINGS_LANGS:-kotlin swift}"
PROFILE="${SHOPLOOK_BINDINGS_PROFILE:-release}"
case "$PROFILE" in
  release) LIB_DIR=target/release ;;
  dev|debug) PROFILE=dev; LIB_DIR=target/debug ;;
  *) LIB_DIR="target/$PROFILE" ;;
esac

log() { printf '[test-bindings] %s\n' "$*" >&2; }
die() { printf '[test-bindings] ERROR: %s\n' "$*" >&2; exit 1; }

# ---------------------------------------------------------------------------- build + generate
if [ "${SHOPLOOK_SKIP_BUILD:-0}" != 1 ]; then
  # The whole workspace in one build (the library with test-hooks, uniffi-bindgen and the
  # `shoplook` binary that serves the catalogue for the client tests). Release: exactly
  # `cargo b`, the build scripts/test.sh makes, so nothing recompiles after it; without
  # --all-targets the dev-dependencies' features (e.g. image's bmp, from shoplook-core's tests)
  # would drop out and image and every crate above it would be compiled again.
  if [ "$PROFILE" = release ]; then
    log "cargo b (release, the workspace, all targets, shoplook-ffi/test-hooks)"
    cargo b || die "building the workspace (shoplook-ffi with test-hooks) failed"
  else
    log "cargo build --profile $PROFILE --workspace --features shoplook-ffi/test-hooks"
    cargo build --profile "$PROFILE" --workspace --features shoplook-ffi/test-hooks \
      || die "building the workspace (shoplook-ffi with test-hooks) failed"
  fi
  if [ "$PROFILE" != release ]; then
    cargo build --release -p uniffi-bindgen || die "building uniffi-bindgen failed"
  fi
fi
[ -f "$LIB_DIR/$LIB_NAME" ] || die "no $LIB_DIR/$LIB_NAME"

rm -rf "$OUT/kotlin" "$OUT/swift" "$OUT/lib"
mkdir -p "$OUT/lib" "$OUT/kotlin" "$OUT/swift"
cp "$LIB_DIR/$LIB_NAME" "$OUT/lib/"
# --metadata-no-deps: every exported type lives in shoplook-ffi, and a full `cargo metadata`
# fetches the crates of every platform (Windows included) on a fresh machine, so one network
# hiccup failed the stage (CI, stop 20). The output is the same file, byte for byte.
for lang in kotlin swift; do
  target/release/uniffi-bindgen generate "$OUT/lib/$LIB_NAME" --language "$lang" --no-format \
    --metadata-no-deps --out-dir "$OUT/$lang" >/dev/null || die "uniffi-bindgen generate --language $lang failed"
done
KT_GEN="$OUT/kotlin/com/shoplook/shoplook_ffi.kt"
[ -f "$KT_GEN" ] || die "generated Kotlin not found at $KT_GEN"
[ -f "$OUT/swift/ShopLook.swift" ] || die "generated Swift not found in $OUT/swift"
log "generated $(wc -l < "$KT_GEN") lines of Kotlin, $(wc -l < "$OUT/swift/ShopLook.swift") lines of Swift"

# ---------------------------------------------------------------------------- toolchains, photos
bash scripts/fetch-photos.sh || die "fetching test photos failed"
# Real video frames for the demo apps' live-viewfinder tests (cached; they skip without them, except under CI).
if [ -z "${SHOPLOOK_VIDEO_FRAMES:-}" ]; then
  SHOPLOOK_VIDEO_FRAMES="$(bash scripts/fetch-video.sh | tail -n1)" || { log "fetching video frames failed"; SHOPLOOK_VIDEO_FRAMES=""; }
fi
export SHOPLOOK_VIDEO_FRAMES

# ---------------------------------------------------------------------------- catalogue server
SERVER_PID=""
SERVER_DIR=""
cleanup() {
  if [ -n "$SERVER_PID" ]; then kill "$SERVER_PID" 2>/dev/null; wait "$SERVER_PID" 2>/dev/null; fi
  [ -n "$SERVER_DIR" ] && rm -rf "$SERVER_DIR"
}
trap cleanup EXIT
# shellcheck source=scripts/bindings-catalogue.sh
if [ -f scripts/bindings-catalogue.sh ]; then
  . scripts/bindings-catalogue.sh   # sets SHOPLOOK_CATALOGUE_URL / _KEY / _ADVERTISER_KEY / _OFFLINE_URL, SERVER_PID
fi
export SHOPLOOK_MODELS="$ROOT/models" SHOPLOOK_FIXTURES="$ROOT/fixtures" RUST_BACKTRACE=0

declare -A RESULT=()
summary_of() { # summary_of LANG LOGFILE -> the closing line, or empty
  grep -E "^$1: [0-9]+ passed, [0-9]+ failed$" "$2" | tail -n1
}

# ---------------------------------------------------------------------------- Kotlin
run_kotlin() {
  bash scripts/setup-kotlin.sh >/dev/null || { log "Kotlin toolchain setup failed"; return 1; }
  # shellcheck disable=SC1091
  . "${SHOPLOOK_TOOLS:-/var/cache/shoplook-tools}/kotlin.env"
  local jar="$OUT/kotlin-tests.jar" sum stamp="$OUT/kotlin-tests.jar.sha256"
  # The Android demo's shared logic (plain Kotlin) and its host tests go into the same jar and
  # the same run (android-demo/README.md).
  local -a demo=()
  mapfile -t demo < <(find android-demo/app/src/main/java/com/shoplook/demo/logic android-demo/host-tests \
    -name '*.kt' 2>/dev/null | sort)
  # kotlinc costs ~30 s: reuse the jar when the sources and the compiler are unchanged.
  # The hand-written Kotlin the AAR ships next to the generated file (HttpUrlConnectionTransport).
  local -a shipped=(bindings/kotlin/shoplook-android/src/main/java/com/shoplook/HttpUrlConnectionTransport.kt)
  sum="$(cat "$KT_GEN" "${shipped[@]}" bindings/kotlin/tests/*.kt "${demo[@]}" <(echo "$KOTLINC $KOTLIN_TEST_CP") | sha256sum | cut -d' ' -f1)"
  if [ -f "$jar" ] && [ "$(cat "$stamp" 2>/dev/null)" = "$sum" ]; then
    log "kotlin: sources unchanged, reusing $jar"
  else
    log "kotlin: compiling generated bindings + tests (kotlinc, ~30 s)"
    rm -f "$jar" "$stamp"
    "$KOTLINC" -nowarn -cp "$KOTLIN_TEST_CP" -d "$jar" "$KT_GEN" "${shipped[@]}" bindings/kotlin/tests/*.kt "${demo[@]}" \
      || { log "kotlinc failed"; return 1; }
    echo "$sum" > "$stamp"
  fi
  log "kotlin: running tests"
  local extra=""
  if [ "${#demo[@]}" -gt 0 ]; then
    extra="com.shoplook.demo.logic.DemoGeometryTest,com.shoplook.demo.logic.DemoFlowTest"
    extra="$extra,com.shoplook.demo.logic.LiveViewfinderTest,com.shoplook.demo.logic.LiveFlowTest"
  fi
  java -Djava.awt.headless=true -Djna.library.path="$OUT/lib" -Dshoplook.extraTests="$extra" \
    -cp "$jar:$KOTLIN_RUN_CP" MainKt
}

# ---------------------------------------------------------------------------- Swift
run_swift() {
  bash scripts/setup-swift.sh >/dev/null || { log "Swift toolchain setup failed"; return 1; }
  # Inside the chroot the repository is mounted at /work; paths below are relative to it.
  local rel="${OUT#"$ROOT"/}" envs
  envs="SHOPLOOK_MODELS=/work/models SHOPLOOK_FIXTURES=/work/fixtures"
  for v in SHOPLOOK_CATALOGUE_URL SHOPLOOK_CATALOGUE_KEY SHOPLOOK_CATALOGUE_ADVERTISER_KEY SHOPLOOK_CATALOGUE_ADMIN_KEY SHOPLOOK_CATALOGUE_OFFLINE_URL; do
    [ -n "${!v:-}" ] && envs="$envs $v=$(printf '%q' "${!v}")"
  done
  # Hand-written extensions (not a generated ShopLook.swift that scripts/build-ios.sh may have put there).
  local ext
  ext="$(find bindings/swift/Sources/ShopLook -name '*.swift' ! -name ShopLook.swift | sort | tr '\n' ' ')"
  # The iOS demo's shared logic (Foundation only) and its host tests, in the same binary and run
  # (ios-demo/README.md); main.swift registers them under -D SHOPLOOK_DEMO_TESTS.
  local demo="" demoflag=""
  demo="$(find ios-demo/Core/Sources/ShopLookDemoCore ios-demo/Core/HostTests -name '*.swift' 2>/dev/null | sort | tr '\n' ' ')"
  [ -n "$demo" ] && demoflag="-D SHOPLOOK_DEMO_TESTS"
  # The demo logic is also type-checked as its own module importing the bindings as module
  # `ShopLook`, as the iOS app builds it (public API, `#if canImport(ShopLook)`).
  local modcheck=""
  if [ -n "$demo" ]; then
    modcheck="mkdir -p $rel/demo-mod
    swiftc -emit-module -parse-as-library -module-name ShopLook -swift-version 5 \
      $rel/swift/ShopLook.swift $ext -Xcc -fmodule-map-file=$rel/swift/ShopLookFFI.modulemap -I $rel/swift \
      -emit-module-path $rel/demo-mod/ShopLook.swiftmodule
    swiftc -typecheck -parse-as-library -module-name ShopLookDemoCore -swift-version 5 -I $rel/demo-mod \
      -Xcc -fmodule-map-file=$rel/swift/ShopLookFFI.modulemap -I $rel/swift ios-demo/Core/Sources/ShopLookDemoCore/*.swift
    echo 'ios-demo: ShopLookDemoCore type-checks as its own module importing ShopLook'"
  fi
  # The live viewfinder's tests read video frames as raw RGB24 (Foundation on Linux decodes no
  # JPEG): the first 60 vtest.avi frames, decoded by fetch-video.sh's ffmpeg into $OUT/video.
  local ffmpeg="${SHOPLOOK_TOOLS:-/var/cache/shoplook-tools}/video/ffmpeg" raw="$OUT/video/vtest-768x576-rgb24.raw"
  if [ -n "${SHOPLOOK_VIDEO_FRAMES:-}" ] && [ -f "$SHOPLOOK_VIDEO_FRAMES/frame-0001.jpg" ] && [ -x "$ffmpeg" ]; then
    mkdir -p "$OUT/video"
    if [ ! -s "$raw" ] || [ "$SHOPLOOK_VIDEO_FRAMES/frame-0060.jpg" -nt "$raw" ]; then
      "$ffmpeg" -hide_banner -loglevel error -y -i "$SHOPLOOK_VIDEO_FRAMES/frame-%04d.jpg" -frames:v 60 \
        -f rawvideo -pix_fmt rgb24 "$raw" || { log "decoding the video frames to RGB failed"; rm -f "$raw"; }
    fi
    [ -s "$raw" ] && envs="$envs SHOPLOOK_VIDEO_RGB24=/work/${raw#"$ROOT"/}"
  fi
  [ -n "${CI:-}" ] && envs="$envs CI=$(printf '%q' "$CI")"
  log "swift: compiling generated bindings + extensions + tests (swiftc in the chroot) and running"
  bash scripts/swift-in-chroot.sh "$ROOT" "set -e
    $modcheck
    swiftc -module-name ShopLookTests -swift-version 5 $demoflag \
      $rel/swift/ShopLook.swift $ext $demo bindings/swift/HostTests/main.swift \
      -Xcc -fmodule-map-file=$rel/swift/ShopLookFFI.modulemap -I $rel/swift \
      -L $rel/lib -lshoplook_ffi -o $rel/swift-tests
    LD_LIBRARY_PATH=$rel/lib $envs $rel/swift-tests"
}

rc=0
for lang in $LANGS; do
  logf="$OUT/$lang-tests.log"
  case "$lang" in
    kotlin) run_kotlin 2>&1 | tee "$logf" ;;
    swift)  run_swift 2>&1 | tee "$logf" ;;
    *) die "unknown language $lang" ;;
  esac
  status=${PIPESTATUS[0]}
  line="$(summary_of "$lang" "$logf")"
  if [ "$status" -ne 0 ] || [ -z "$line" ]; then
    rc=1
    if [ -z "$line" ]; then   # did not compile, or crashed before its closing line
      line="$lang: 0 passed, 1 failed"
      echo "$line"
    fi
  fi
  RESULT[$lang]="$line (exit $status)"
done

log "summary:"
for lang in $LANGS; do log "  ${RESULT[$lang]}"; done
exit "$rc"
