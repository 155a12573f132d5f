# Shared by the arm64 / mobile scripts (sourced, not run): installs what cross builds need on a
# fresh Debian machine running as root (idempotently) and exports the cross-build environment.
#
#   cross_setup_aarch64_linux   gcc/g++ for aarch64-linux-gnu, qemu-user-static, rustup target
#   cross_setup_clang           Debian clang-14 (+ lld), the C compiler/assembler used for the
#                               Android and iOS targets' build scripts (ring, tract-linalg)
#   cross_add_targets T...      rustup target add, only for the targets not installed yet
#
# Every build goes to CARGO_TARGET_DIR=target/cross (unless the caller set one): a separate
# directory, so these builds never lock or invalidate the main target/release.

ROOT="${ROOT:-$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)}"
export CARGO_TARGET_DIR="${CARGO_TARGET_DIR:-$ROOT/target/cross}"

cross_log() { echo "[${CROSS_LOG_NAME:-cross}] $*" >&2; }
# apt_get_sudo: every apt-get of the project's scripts under one lock (scripts/lib/apt.sh).
# shellcheck source=lib/apt.sh
source "$(dirname "${BASH_SOURCE[0]}")/lib/apt.sh"

# apt-get install of the packages whose dpkg status is not "installed" (nothing to do otherwise).
cross_apt() {
    local missing=()
    for p in "$@"; do
        dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
    done
    [ ${#missing[@]} -eq 0 ] && return 0
    cross_log "apt-get install ${missing[*]}"
    export DEBIAN_FRONTEND=noninteractive
    # Through the project's apt lock (sudo when not root): CI's other setup jobs may be
    # installing at the same time.
    apt_get_sudo install -y --no-install-recommends "${missing[@]}" >/dev/null 2>&1 || {
        apt_get_sudo update >/dev/null 2>&1
        apt_get_sudo install -y --no-install-recommends "${missing[@]}" >/dev/null
    }
}

cross_add_targets() {
    local installed missing=()
    installed="$(rustup target list --installed)"
    for t in "$@"; do
        grep -qx "$t" <<<"$installed" || missing+=("$t")
    done
    [ ${#missing[@]} -eq 0 ] && return 0
    cross_log "rustup target add ${missing[*]}"
    rustup target add "${missing[@]}" >&2
}

cross_setup_aarch64_linux() {
    cross_apt gcc-aarch64-linux-gnu g++-aarch64-linux-gnu libc6-dev-arm64-cross qemu-user-static
    cross_add_targets aarch64-unknown-linux-gnu
    export CARGO_TARGET_AARCH64_UNKNOWN_LINUX_GNU_LINKER=aarch64-linux-gnu-gcc
    export CC_aarch64_unknown_linux_gnu=aarch64-linux-gnu-gcc
    export CXX_aarch64_unknown_linux_gnu=aarch64-linux-gnu-g++
    # `cargo test --target aarch64-unknown-linux-gnu` runs each test binary through qemu; -L is
    # the sysroot where the arm64 dynamic loader and libc live.
    export CARGO_TARGET_AARCH64_UNKNOWN_LINUX_GNU_RUNNER="qemu-aarch64-static -L /usr/aarch64-linux-gnu"
}

cross_setup_clang() {
    cross_apt clang-14 lld-14 llvm-14
}

# Environment for cc-rs (the build scripts of tract-linalg and anything else with C or
# assembly) for a phone target without its SDK: Debian's clang-14 with `--target=<triple>`.
# tract-linalg only assembles its ARM/x86 kernels (no libc headers needed). For iOS, cc-rs
# would run `xcrun` to find the SDK: SDKROOT points it at an empty directory instead (enough
# for assembly, and a C file that includes a libc header fails loudly rather than silently
# using the host's headers).
cross_cc_env() {
    local t="$1" u clang_triple
    u="${t//-/_}"
    case "$t" in
        aarch64-linux-android) clang_triple=aarch64-linux-android24 ;;
        armv7-linux-androideabi) clang_triple=armv7a-linux-androideabi24 ;;
        x86_64-linux-android) clang_triple=x86_64-linux-android24 ;;
        aarch64-apple-ios) clang_triple=arm64-apple-ios13.0 ;;
        aarch64-apple-ios-sim) clang_triple=arm64-apple-ios13.0-simulator ;;
        x86_64-apple-ios) clang_triple=x86_64-apple-ios13.0-simulator ;;
        *) cross_log "no clang triple known for $t"; return 1 ;;
    esac
    export "CC_$u=clang-14" "CXX_$u=clang++-14" "AR_$u=llvm-ar-14"
    export "CFLAGS_$u=--target=$clang_triple" "CXXFLAGS_$u=--target=$clang_triple"
    case "$t" in
        *-apple-ios*)
            mkdir -p "$CARGO_TARGET_DIR/no-apple-sdk"
            export SDKROOT="$CARGO_TARGET_DIR/no-apple-sdk" IPHONEOS_DEPLOYMENT_TARGET=13.0
            ;;
    esac
}
