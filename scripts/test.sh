#!/usr/bin/env bash
# Runs every test of the project (the README's test command; .ci/run calls it).
#
#   toolchains  (background, network/disk bound) Kotlin -> Swift chroot; PostgreSQL + pgvector,
#               test photos, the tracker's video frames (vtest.avi), the wasm tools, chromium.
#               Cached under /var/cache/shoplook-tools.
#   build       ONE compile serves every suite: `cargo b` (release profile, whole workspace, all
#               targets, the bindings' test hooks): tests, the FFI library, uniffi-bindgen and
#               the `shoplook` binary. Nothing is compiled twice (see .cargo/config.toml).
#   rust        `cargo t`: core + CLI on real photos and models, catalogue end to end and the
#               store conformance suite on both stores (embedded; real PostgreSQL + pgvector),
#               the camera tracker on real video frames, FFI unit tests
#   schema      schemathesis (pinned) against the real server on both stores: every operation of
#               the served OpenAPI document, examples/coverage/fuzzing/stateful, all checks
#   console     the web console in Debian's chromium against a real server on both stores with
#               seeded demo traffic (scripts/test-console.sh; prints `console: N passed, N failed`)
#   web         the core built for wasm32 (scripts/build-wasm.sh), then the /try page and the
#               browser extension in Debian's chromium against a real catalogue server
#               (scripts/test-web.sh; prints `web: N passed, N failed`)
#   fuzz        the cargo-fuzz targets (fuzz/) coverage-guided for 30 s each from their seed
#               corpora; only the workspace crates are compiled again, with libFuzzer's
#               instrumentation (scripts/test-fuzz.sh --ci; prints `fuzz: N passed, N failed`)
#   bindings    generated Kotlin (JVM) and Swift (Linux) against the library built above and a
#               real catalogue server
#   mobile      (background from the end of the build, at low CPU priority, so it fills the
#               cycles the browser and server stages leave idle) the core's tests cross-built
#               for arm64 and run under qemu-aarch64 (scripts/test-arm64.sh: `arm64: N passed,
#               N failed`), then `cargo check` of the FFI crate for every phone target
#               (scripts/check-mobile.sh). Its own target dir (target/cross).
# At the end: the time of each stage, and a non-zero exit if any stage failed.
#
# SHOPLOOK_TEST_STAGES="rust web bindings" runs a subset (the build always runs).
set -uo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."
ROOT="$(pwd -P)"
STAGES="${SHOPLOOK_TEST_STAGES:-rust schema console fuzz web bindings mobile}"
LOGS="$ROOT/target/test-logs"
mkdir -p "$LOGS"
PG_PORT="${SHOPLOOK_TEST_PG_PORT:-54331}"

T0=$(date +%s)
declare -a TIMES=()
FAILED=()
now() { date +%s; }
step() { printf '\n=== %s\n' "$*" >&2; }
# record NAME START STATUS: one row of the closing table.
record() {
  local name="$1" start="$2" status="$3" end
  end=$(now)
  TIMES+=("$(printf '%-34s %5ds  %s' "$name" $((end - start)) "$status")")
  [ "$status" = ok ] || FAILED+=("$name")
}
# Each stage's output also goes to a log (foreground: $LOGS/stage-N.log), so that `finish` can
# repeat the end of a failed stage's log after the table: CI shows only the end of the output.
declare -A STAGE_LOG=()
run_stage() { # run_stage NAME CMD...: foreground stage with its time
  local name="$1" start log="$LOGS/stage-${#STAGE_LOG[@]}.log"
  shift
  step "$name"
  STAGE_LOG["$name"]="$log"
  start=$(now)
  # Process substitution, not a pipe: the stage runs in this shell and may set PG_URL.
  if "$@" > >(tee "$log") 2>&1; then record "$name" "$start" ok; else record "$name" "$start" FAILED; fi
}

# Background jobs write their log and, at the end, "status seconds [note]" to a .done file.
# --retry (the setup jobs only: toolchains and data, idempotent and cached): a job that fails
# runs once more after 10 s, so one network hiccup or lock race does not fail the stage that
# needs it; the line saying so goes to the terminal and the log, the table says "after a retry".
# Test stages never retry: a failed test is reported as it is.
bg() { # bg [--retry] NAME CMD...
  local retry=0
  if [ "$1" = --retry ]; then retry=1; shift; fi
  local name="$1" log="$LOGS/$1.log"
  shift
  STAGE_LOG["$name"]="$log"
  (
    s=$(now) note=""
    "$@" >"$log" 2>&1
    rc=$?
    if [ "$rc" -ne 0 ] && [ "$retry" = 1 ]; then
      echo "[test] setup job $name failed (exit $rc); running it again in 10 s" | tee -a "$log" >&2
      sleep 10
      "$@" >>"$log" 2>&1
      rc=$?
      note=" after a retry"
    fi
    if [ "$rc" -eq 0 ]; then st=ok; else st=FAILED; fi
    echo "$st $(($(now) - s))$note" >"$LOGS/$name.done"
  ) &
}
wait_done() { # wait_done NAME: until a background job has ended (ok or not)
  while [ ! -f "$LOGS/$1.done" ]; do sleep 2; done
}
await() { # await NAME: waits for a background job, prints its log on failure, records it
  local name="$1" st secs note
  wait_done "$name"
  read -r st secs note <"$LOGS/$name.done"
  TIMES+=("$(printf '%-34s %5ds  %s (background%s)' "$name" "$secs" "$st" "${note:+, $note}")")
  if [ "$st" != ok ]; then
    FAILED+=("$name")
    echo "--- $name failed; its log ($LOGS/$name.log):" >&2
    tail -n 40 "$LOGS/$name.log" >&2
    return 1
  fi
}

PG_STARTED=0
PG_URL=""
finish() {
  jobs -p | xargs -r kill 2>/dev/null
  [ "$PG_STARTED" = 1 ] && scripts/stop-postgres.sh "$PG_PORT" >/dev/null 2>&1
  printf '\n=== stage times (total %ds)\n' $(($(now) - T0))
  printf '%s\n' "${TIMES[@]}"
  if [ "${#FAILED[@]}" -gt 0 ]; then
    local name
    for name in "${FAILED[@]}"; do
      [ -f "${STAGE_LOG[$name]:-}" ] || continue
      printf '\n--- %s: the end of its log (%s)\n' "$name" "${STAGE_LOG[$name]}"
      grep -v '^ok  ' "${STAGE_LOG[$name]}" | tail -n 20
    done
    echo "FAILED: ${FAILED[*]}"
  fi
}
trap finish EXIT

rm -f "$LOGS"/*.done "$LOGS"/stage-*.log
# Toolchains and data in the background while the compiler has the CPUs. Their apt-get calls
# wait for one another (scripts/lib/apt.sh); Kotlin and Swift still run one after the other.
case " $STAGES " in *" bindings "*)
  bg --retry setup-kotlin-swift bash -c 'scripts/setup-kotlin.sh && scripts/setup-swift.sh' ;;
esac
bg --retry setup-postgres-photos bash -c 'scripts/setup-postgres.sh && scripts/fetch-photos.sh && scripts/fetch-video.sh'
case " $STAGES " in *" web "*)
  bg --retry setup-wasm scripts/build-wasm.sh --tools-only ;;
esac
# Real-browser stages (console, web): Debian's chromium + puppeteer-core (scripts/setup-browser.sh).
case " $STAGES " in *" console "* | *" web "*)
  bg --retry setup-browser scripts/setup-browser.sh ;;
esac

run_stage "build (cargo b: one compile)" cargo b
if [ "${#FAILED[@]}" -gt 0 ]; then exit 1; fi

# The phone checks compile for other targets (nothing of the build above is reused), so they
# start now and run niced beside the test stages. They need the photos and video frames.
mobile_checks() {
  # Not `await`: this runs in a background job, where recording stage times means nothing.
  wait_done setup-postgres-photos
  local frames status=0
  frames="$(scripts/fetch-video.sh | tail -n 1)" || return 1
  SHOPLOOK_VIDEO_FRAMES="$frames" nice -n 15 scripts/test-arm64.sh || status=1
  # `cargo check` of every phone target; the full iOS staticlib build is left to
  # scripts/check-mobile.sh run by hand (the arm64 build above is CI's full phone-CPU build).
  SHOPLOOK_MOBILE_FULL=0 nice -n 15 scripts/check-mobile.sh || status=1
  return $status
}
case " $STAGES " in *" mobile "*)
  bg mobile mobile_checks ;;
esac

rust_tests() {
  await setup-postgres-photos || return 1
  local url
  url="$(scripts/start-postgres.sh "$PG_PORT" | tail -n 1)" || return 1
  PG_STARTED=1
  echo "[test] PostgreSQL + pgvector at $url" >&2
  PG_URL="$url"
  # The tracker's real video frames (fetched above; the last line is their folder).
  SHOPLOOK_VIDEO_FRAMES="$(scripts/fetch-video.sh | tail -n 1)" SHOPLOOK_TEST_PG_URL="$url" cargo t
}
schema_tests() {
  # The PostgreSQL started for the rust stage (or one started here when that stage is skipped).
  if [ -z "$PG_URL" ]; then
    await setup-postgres-photos || return 1
    PG_URL="$(scripts/start-postgres.sh "$PG_PORT" | tail -n 1)" || return 1
    PG_STARTED=1
  fi
  SHOPLOOK_TEST_PG_URL="$PG_URL" scripts/test-schema.sh sqlite postgres
}
web_tests() {
  await setup-wasm || return 1
  await setup-browser || return 1
  [ -f "$LOGS/setup-postgres-photos.done" ] || await setup-postgres-photos || return 1
  scripts/test-web.sh
}
console_tests() {
  await setup-browser || return 1
  if [ -z "$PG_URL" ]; then
    await setup-postgres-photos || return 1
    PG_URL="$(scripts/start-postgres.sh "$PG_PORT" | tail -n 1)" || return 1
    PG_STARTED=1
  fi
  SHOPLOOK_TEST_PG_URL="$PG_URL" scripts/test-console.sh sqlite postgres
}
fuzz_run() {
  [ -f "$LOGS/setup-postgres-photos.done" ] || await setup-postgres-photos || return 1
  SHOPLOOK_FUZZ_SECONDS="${SHOPLOOK_FUZZ_SECONDS:-30}" scripts/test-fuzz.sh --ci
}
bindings_tests() {
  await setup-kotlin-swift || return 1
  [ -f "$LOGS/setup-postgres-photos.done" ] || await setup-postgres-photos || return 1
  SHOPLOOK_SKIP_BUILD=1 scripts/test-bindings.sh
}

for stage in $STAGES; do
  case "$stage" in
    rust) run_stage "rust: core, cli, catalogue, ffi" rust_tests ;;
    schema) run_stage "schema: schemathesis, both stores" schema_tests ;;
    console) run_stage "console: chromium, both stores" console_tests ;;
    web) run_stage "web: wasm build, /try, extension" web_tests ;;
    fuzz) run_stage "fuzz: 5 targets, seed corpora" fuzz_run ;;
    bindings) run_stage "bindings: kotlin + swift" bindings_tests ;;
    mobile) ;; # awaited below
    *) echo "unknown stage $stage" >&2; FAILED+=("$stage") ;;
  esac
done
case " $STAGES " in *" mobile "*)
  step "mobile: arm64 tests under qemu, phone targets (background)"
  await mobile
  # The lines the checks end with: `arm64: N passed, N failed` and one per phone target.
  grep -E '^(arm64: |[a-z0-9_]+-(linux|apple)-[a-z0-9_-]+: )' "$LOGS/mobile.log" >&2 ;;
esac
[ "${#FAILED[@]}" -eq 0 ]
