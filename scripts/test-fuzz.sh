#!/usr/bin/env bash
# Fuzzing (cargo-fuzz + libFuzzer): builds every target in fuzz/ once, runs each for a bounded
# time from a corpus seeded with the real fixtures, and prints `fuzz: N passed, N failed` (a
# target passes when it ran its time without a crash) and the time of each phase.
#
#   scripts/test-fuzz.sh                      # every target, SHOPLOOK_FUZZ_SECONDS (36) each
#   SHOPLOOK_FUZZ_SECONDS=600 scripts/test-fuzz.sh feed request    # longer, some targets
#
# Installs what it needs, idempotently (a fresh Debian machine as root): the nightly toolchain
# (rustup, minimal profile) and cargo-fuzz (pinned, `cargo install --locked` into
# $SHOPLOOK_TOOLS, default /var/cache/shoplook-tools, where later runs find it).
#
# Build: release with debug assertions and overflow checks, AddressSanitizer (cargo-fuzz's
# defaults) and 16 codegen units (cargo-fuzz defaults to 1, which makes tract's compile several
# minutes longer on 2 cores for a few percent of speed). Override with SHOPLOOK_FUZZ_BUILD_FLAGS,
# e.g. "-s none" (no ASan). Artifacts: fuzz/target (its own target dir, git-ignored).
#
# Corpora: fuzz/corpus/TARGET (git-ignored, kept and grown between runs) is seeded on each run
# from fuzz/seeds/TARGET and the repository's real inputs: the photos in fixtures/ (and
# fixtures/external/ when fetched), the demo feed, the model manifests. A crash is saved to
# fuzz/artifacts/TARGET/ and its libFuzzer log kept in fuzz/target/fuzz-logs/TARGET.log;
# reproduce with `fuzz/target/x86_64-unknown-linux-gnu/release/TARGET ARTIFACT`.
#
# Environment:
#   SHOPLOOK_FUZZ_SECONDS      run time per target (default 36: five targets, about 3 minutes)
#   SHOPLOOK_FUZZ_TOOLCHAIN    toolchain for the build (default nightly)
#   SHOPLOOK_FUZZ_BUILD_FLAGS  extra `cargo fuzz build` flags (default --codegen-units 16)
#   SHOPLOOK_FUZZ_JOBS         targets fuzzed at the same time (default 1)
#   SHOPLOOK_TOOLS             tool cache (default /var/cache/shoplook-tools)
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."
ROOT=$PWD

ALL_TARGETS=(decode analyze manifest feed request)
if [[ $# -gt 0 ]]; then TARGETS=("$@"); else TARGETS=("${ALL_TARGETS[@]}"); fi
SECS="${SHOPLOOK_FUZZ_SECONDS:-36}"
TOOLCHAIN="${SHOPLOOK_FUZZ_TOOLCHAIN:-nightly}"
BUILD_FLAGS="${SHOPLOOK_FUZZ_BUILD_FLAGS:---codegen-units 16}"
JOBS="${SHOPLOOK_FUZZ_JOBS:-1}"
TOOLS="${SHOPLOOK_TOOLS:-/var/cache/shoplook-tools}"
CARGO_FUZZ_VERSION=0.13.2
CARGO_FUZZ_ROOT="$TOOLS/cargo-fuzz-$CARGO_FUZZ_VERSION"
export PATH="$CARGO_FUZZ_ROOT/bin:${CARGO_HOME:-$HOME/.cargo}/bin:$PATH"
export CARGO_TERM_COLOR=never

log() { printf '[test-fuzz] %s\n' "$*" >&2; }
TIMES=()
phase_start=$(date +%s)
phase_end() { # NAME: records the time since the last phase ended
    local now
    now=$(date +%s)
    TIMES+=("$1 $((now - phase_start))s")
    phase_start=$now
}
start_all=$phase_start

# ---------------------------------------------------------------------------- tools
if ! command -v rustup >/dev/null 2>&1; then
    log "rustup is missing: install Rust with rustup first (https://rustup.rs)"
    exit 1
fi
if ! rustup run "$TOOLCHAIN" rustc --version >/dev/null 2>&1; then
    log "installing the $TOOLCHAIN toolchain (minimal profile)"
    rustup toolchain install "$TOOLCHAIN" --profile minimal
fi
log "toolchain: $(rustup run "$TOOLCHAIN" rustc --version)"
phase_end nightly
if ! cargo fuzz --version 2>/dev/null | grep -q "$CARGO_FUZZ_VERSION"; then
    log "installing cargo-fuzz $CARGO_FUZZ_VERSION into $CARGO_FUZZ_ROOT"
    mkdir -p "$TOOLS"
    cargo install cargo-fuzz --version "$CARGO_FUZZ_VERSION" --locked --root "$CARGO_FUZZ_ROOT"
fi
phase_end cargo-fuzz

# ---------------------------------------------------------------------------- build (once)
log "building ${#ALL_TARGETS[@]} targets: cargo +$TOOLCHAIN fuzz build $BUILD_FLAGS"
# shellcheck disable=SC2086  # BUILD_FLAGS is a list of flags
(cd fuzz && cargo "+$TOOLCHAIN" fuzz build $BUILD_FLAGS)
BIN_DIR="$ROOT/fuzz/target/x86_64-unknown-linux-gnu/release"
phase_end build

# ---------------------------------------------------------------------------- corpora
seed() { # TARGET FILES...: copies the files that exist into the target's corpus
    local dir="$ROOT/fuzz/corpus/$1"
    shift
    mkdir -p "$dir"
    local f
    for f in "$@"; do
        [[ -f $f ]] && cp -f "$f" "$dir/seed-$(basename "$f")"
    done
    return 0
}
shopt -s nullglob
photos=(fixtures/photos/* fixtures/demo-catalogue/*.jpg fixtures/external/*.jpg)
seed decode "${photos[@]}"
# analyze: the small photos (a few KB to 64 KB); each execution runs three models.
small=()
for f in "${photos[@]}"; do
    (($(stat -c %s "$f") <= 65536)) && small+=("$f")
done
seed analyze "${small[@]}"
seed manifest models/*.json
seed feed fixtures/demo-catalogue/feed.jsonl fuzz/seeds/feed/*
seed request fuzz/seeds/request/*
shopt -u nullglob

# ---------------------------------------------------------------------------- run
# Per target: largest input (photos as big as the seeds; the others well above any seed) and
# per-input time limit (a slow input is a failure: 30 s is far above any seed's time).
max_len() {
    case $1 in
        decode) echo 1048576 ;;
        analyze) echo 65536 ;;
        *) echo 16384 ;;
    esac
}
LOG_DIR="$ROOT/fuzz/target/fuzz-logs"
mkdir -p "$LOG_DIR"
run_target() { # TARGET: runs one target for SECS; 0 when no crash
    local t=$1 bin="$BIN_DIR/$1"
    mkdir -p "$ROOT/fuzz/artifacts/$t"
    "$bin" "$ROOT/fuzz/corpus/$t" \
        -max_total_time="$SECS" -max_len="$(max_len "$t")" -timeout=30 -rss_limit_mb=3072 \
        -artifact_prefix="$ROOT/fuzz/artifacts/$t/" -print_final_stats=1 \
        >"$LOG_DIR/$t.log" 2>&1
}
summary() { # TARGET: executions, exec/s, coverage and corpus from its log
    local log="$LOG_DIR/$1.log" execs rate last
    execs=$(grep -o 'stat::number_of_executed_units: *[0-9]*' "$log" | grep -o '[0-9]*$' || true)
    rate=$(grep -o 'stat::average_exec_per_sec: *[0-9]*' "$log" | grep -o '[0-9]*$' || true)
    last=$(grep -E '^#[0-9]+' "$log" | tail -n1 | grep -oE 'cov: [0-9]+ ft: [0-9]+ corp: [0-9]+/[0-9]+[a-zA-Z]*' || true)
    printf '%s execs, %s exec/s, %s' "${execs:-?}" "${rate:-?}" "${last:-no stats}"
}

log "running ${#TARGETS[@]} targets, ${SECS}s each, $JOBS at a time"
passed=0 failed=0
declare -A pids=()
finish() { # TARGET RC
    if [[ $2 -eq 0 ]]; then
        passed=$((passed + 1))
        echo "fuzz: $1 ok ($(summary "$1"))"
    else
        failed=$((failed + 1))
        echo "fuzz: $1 FAILED (exit $2; $(summary "$1")); last lines of $LOG_DIR/$1.log:"
        tail -n 40 "$LOG_DIR/$1.log" | sed 's/^/    /'
        ls "$ROOT/fuzz/artifacts/$1"/* 2>/dev/null | sed 's/^/    artifact: /' || true
    fi
}
wait_one() {
    local t rc
    while true; do
        for t in "${!pids[@]}"; do
            if ! kill -0 "${pids[$t]}" 2>/dev/null; then
                rc=0
                wait "${pids[$t]}" || rc=$?
                unset "pids[$t]"
                finish "$t" "$rc"
                return
            fi
        done
        sleep 1
    done
}
for t in "${TARGETS[@]}"; do
    if [[ ! -x $BIN_DIR/$t ]]; then
        failed=$((failed + 1))
        echo "fuzz: $t FAILED (no such target; targets: ${ALL_TARGETS[*]})"
        continue
    fi
    while ((${#pids[@]} >= JOBS)); do wait_one; done
    run_target "$t" &
    pids[$t]=$!
done
while ((${#pids[@]} > 0)); do wait_one; done
phase_end run

echo "fuzz: $passed passed, $failed failed"
echo "fuzz: times: ${TIMES[*]}; total $(($(date +%s) - start_all))s"
[[ $failed -eq 0 ]]
