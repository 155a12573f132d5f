#!/usr/bin/env bash
# RUSTC_WORKSPACE_WRAPPER for the fuzz stage of scripts/test.sh (scripts/test-fuzz.sh --ci):
# cargo calls it for workspace crates only, so the dependencies stay exactly as `cargo b` built
# them and are not compiled again. The crates the fuzz targets exercise (core, the catalogue's store, domain and HTTP crates, and
# the targets themselves) get libFuzzer's coverage instrumentation (the flags cargo-fuzz uses,
# without a sanitizer); other workspace crates compile as usual.
rustc="$1"
shift
crate=""
prev=""
for arg in "$@"; do
    [[ $prev == --crate-name ]] && crate="$arg"
    prev="$arg"
done
case "$crate" in
shoplook_core | shoplook_store | shoplook_domain | shoplook_http | decode | analyze | manifest | feed | request)
    exec "$rustc" "$@" --cfg fuzzing \
        -Cpasses=sancov-module \
        -Cllvm-args=-sanitizer-coverage-level=4 \
        -Cllvm-args=-sanitizer-coverage-inline-8bit-counters \
        -Cllvm-args=-sanitizer-coverage-pc-table \
        -Cllvm-args=-sanitizer-coverage-trace-compares
    ;;
*) exec "$rustc" "$@" ;;
esac
