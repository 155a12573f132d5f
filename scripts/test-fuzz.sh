#!/usr/bin/env bash
# Fuzzing (cargo-fuzz + libFuzzer): builds every target in fuzz/ once, runs each for a bounded
# time from a corpus seeded with the real fixtures, and prints `fuzz: N passed, N failed` (a
# target passes when it ran its time without a crash) and the time of each phase.
#
#   scripts/test-fuzz.sh                      # every target, SHOPLOOK_FUZZ_SECONDS (36) each
#   SHOPLOOK_FUZZ_SECONDS=600 scripts/test-fuzz.sh feed request    # longer, some targets
#   scripts/test-fuzz.sh --ci                 # CI: instrument only our crates, reuse `cargo b`
#   scripts/test-fuzz.sh --prebuilt DIR       # run binaries built earlier (e.g. by --ci)
#
# Two builds of the same targets (fuzz/ is a member of the main workspace):
#   cargo-fuzz (default)  nightly, ASan, coverage of every crate (tract, image, serde...): the
#                         long runs of docs/fuzzing.md. A cold build takes over an hour on 2 cores.
#   --ci                  stable, no sanitizer; libFuzzer's coverage instrumentation of core,
#                         catalogue and the targets only, through a RUSTC_WORKSPACE_WRAPPER, so the
#                         dependencies `cargo b` built are reused as they are and only the
#                         workspace crates compile again (into target/fuzz-ci). Coverage-guided
#                         over our code; the dependencies' branches are not seen. What CI runs.
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
PREBUILT=""
CI_BUILD=0
case "${1:-}" in
--prebuilt)
    PREBUILT="$(cd "${2:?--prebuilt needs the directory of the binaries}" && pwd)"
    shift 2
    ;;
--ci)
    CI_BUILD=1
    PREBUILT="$ROOT/target/fuzz-ci/release"
    shift
    ;;
esac

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

# ---------------------------------------------------------------------------- tools + build
ci_build() {
    # target/fuzz-ci/release starts as hard links to `cargo b`'s target/release, so every
    # dependency is fresh; what the build below rewrites (the workspace crates' outputs, .d
    # files and fingerprints, which are rewritten in place) is copied, never linked, so the main
    # build's files are not touched. Then cargo recompiles the workspace crates the targets use,
    # with coverage instrumentation for core, catalogue and the targets (fuzz-rustc-wrapper.sh).
    # `--workspace` keeps the features of every dependency as `cargo b` resolved them (building
    # `-p shoplook-fuzz` alone would resolve fewer and recompile tract); `--bin` picks the targets.
    local src="$ROOT/target/release" dst="$ROOT/target/fuzz-ci"
    if [[ ! -d $src/deps ]]; then
        log "no target/release: run \`cargo b\` first"
        exit 1
    fi
    rm -rf "$dst"
    mkdir -p "$dst"
    cp -al "$src" "$dst/release"
    local f
    while IFS= read -r -d '' f; do
        cp -p "$f" "$f.copy" && mv -f "$f.copy" "$f"
    done < <(find "$dst/release" -type f \( -path '*/.fingerprint/*' -o -path '*/build/shoplook*' \
        -o -path '*/build/uniffi*' -o -name '*shoplook*' -o -name '*uniffi_bindgen*' \
        -o -name '*uniffi-bindgen*' -o -name '*scale_bench*' -o -name '*scale-bench*' \
        -o -regex '.*/\(decode\|analyze\|manifest\|feed\|request\)\(-[0-9a-f]+\)?\(\.d\)?' \) -print0)
    RUSTC_WORKSPACE_WRAPPER="$ROOT/scripts/fuzz-rustc-wrapper.sh" CARGO_TARGET_DIR="$dst" \
        cargo build --release --workspace --features shoplook-ffi/test-hooks \
        "${ALL_TARGETS[@]/#/--bin=}"
}

if [[ -n $PREBUILT ]]; then
    if [[ $CI_BUILD == 1 ]]; then
        log "building the targets with coverage instrumentation of core and catalogue (--ci)"
        ci_build
        phase_end build
    fi
    BIN_DIR="$PREBUILT"
    log "binaries in $BIN_DIR"
else
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

    log "building ${#ALL_TARGETS[@]} targets: cargo +$TOOLCHAIN fuzz build $BUILD_FLAGS"
    # shellcheck disable=SC2086  # BUILD_FLAGS is a list of flags
    (cd fuzz && cargo "+$TOOLCHAIN" fuzz build --target-dir "$ROOT/fuzz/target" $BUILD_FLAGS)
    BIN_DIR="$ROOT/fuzz/target/x86_64-unknown-linux-gnu/release"
    phase_end build
fi

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
seed feed fixtures/demo-catalogue/feed.jsonl
# Hand-written seeds and the inputs kept from coverage-guided runs (docs/fuzzing.md).
for t in "${ALL_TARGETS[@]}"; do
    seed "$t" fuzz/seeds/"$t"/*
done
shopt -u nullglob

# ---------------------------------------------------------------------------- run
# Per target: largest input (photos as big as the seeds; the others well above any seed).
max_len() {
    case $1 in
        decode) echo 1048576 ;;
        analyze) echo 65536 ;;
        *) echo 16384 ;;
    esac
}
LOG_DIR="$ROOT/fuzz/target/fuzz-logs"
mkdir -p "$LOG_DIR"
# Per-input time limit: a slow input is a failure. 30 s is far above any seed's time, except for
# analyze under ASan and comparison tracing, where three models run 100x slower than in release
# (a seed photo took 13-33 s on the loaded 2-core machine).
unit_timeout() {
    if [[ $1 == analyze && -z $PREBUILT ]]; then echo 180; else echo 30; fi
}
run_target() { # TARGET: runs one target for SECS; 0 when no crash
    local t=$1 bin="$BIN_DIR/$1"
    mkdir -p "$ROOT/fuzz/artifacts/$t"
    # RUST_BACKTRACE=0: libFuzzer prints the stack of a crash itself; Rust's own backtrace of a
    # 400 MB binary took longer than the time limit, and a panic was reported as a timeout.
    RUST_BACKTRACE=0 "$bin" "$ROOT/fuzz/corpus/$t" \
        -max_total_time="$SECS" -max_len="$(max_len "$t")" -timeout="$(unit_timeout "$t")" -rss_limit_mb=3072 \
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
