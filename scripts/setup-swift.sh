#!/usr/bin/env bash
# Set up a Linux Swift toolchain for the Swift binding tests.
#
# Debian 12 has no Swift, so this builds a Debian trixie chroot with Debian's `swiftlang` (6.0.x):
#   debootstrap --variant=minbase trixie; then inside: apt-get install --no-install-recommends
#   swiftlang libc6-dev
# at ${SWIFT_CHROOT:-${SHOPLOOK_TOOLS:-/var/cache/shoplook-tools}/swift-chroot} (~2.6 GB).
# Run commands in it with scripts/swift-in-chroot.sh.
#
# Cached: the chroot is built in a sibling ".building" dir, smoke-tested, stamped, then renamed into
# place, so a chroot at the final path is always complete; an interrupted build (leftover
# ".building" dir, or a chroot whose stamp is missing or from another recipe) is removed and rebuilt.
# A cached re-run only checks the stamp (under a second). SHOPLOOK_SMOKE=1 also re-runs the smoke test.
#
# Writes ${SHOPLOOK_TOOLS}/swift.env (SWIFT_CHROOT, SWIFT_VERSION). Needs root (debootstrap, chroot).
# Mirror: the host's Debian mirror from /etc/apt/sources.list*, or SHOPLOOK_DEBIAN_MIRROR.
set -euo pipefail

SCRIPT_DIR="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd -P)"
# apt_get: every apt-get on the host under the project's one lock (scripts/lib/apt.sh).
# shellcheck source=lib/apt.sh
source "$SCRIPT_DIR/lib/apt.sh"
SUITE=trixie
PACKAGES=(swiftlang libc6-dev)
RECIPE="shoplook-swift-chroot v1 suite=${SUITE} variant=minbase packages=${PACKAGES[*]}"
TOOLS="${SHOPLOOK_TOOLS:-/var/cache/shoplook-tools}"
CHROOT="${SWIFT_CHROOT:-${TOOLS}/swift-chroot}"
STAMP_NAME=.shoplook-complete

log() { printf '[setup-swift] %s\n' "$*" >&2; }
die() { printf '[setup-swift] ERROR: %s\n' "$*" >&2; exit 1; }

[ "$(id -u)" -eq 0 ] || die "must run as root (debootstrap, chroot, mount)"

# Every mount this script makes (debootstrap's /proc and /sys, ours) lives in a private mount
# namespace: invisible to other processes, and gone even if this script is killed.
if [ -z "${_SHOPLOOK_MNTNS:-}" ] && command -v unshare >/dev/null 2>&1 \
   && unshare --mount --propagation private true 2>/dev/null; then
  _SHOPLOOK_MNTNS=1 exec unshare --mount --propagation private bash "$0" "$@"
fi

mkdir -p "$TOOLS" "$(dirname "$CHROOT")"
PARENT="$(cd "$(dirname "$CHROOT")" && pwd -P)"
NAME="$(basename "$CHROOT")"
CHROOT="$PARENT/$NAME"
STAGING="$PARENT/.$NAME.building"
LOCK="$PARENT/.$NAME.lock"          # swift-in-chroot.sh holds it shared while it runs
BUILD_LOG="$PARENT/.$NAME.build.log"
ENV_FILE="$TOOLS/swift.env"

chroot_ok() { # chroot_ok DIR
  local d="$1"
  [ -f "$d/$STAMP_NAME" ] && [ "$(head -n1 "$d/$STAMP_NAME")" = "$RECIPE" ] \
    && [ -x "$d/usr/bin/swiftc" ] && [ -x "$d/bin/bash" ]
}

write_env() {
  local ver tmp
  ver="$(sed -n 's/^swift_version=//p' "$CHROOT/$STAMP_NAME" | head -n1)"
  tmp="$(mktemp "$ENV_FILE.XXXXXX")"
  cat > "$tmp" <<EOF
# Written by scripts/setup-swift.sh; source this file.
# Run: scripts/swift-in-chroot.sh HOST_DIR 'swiftc ...'   (HOST_DIR is mounted at /work)
export SWIFT_CHROOT='${CHROOT}'
export SWIFT_VERSION='${ver}'
EOF
  chmod 0644 "$tmp"
  mv -f "$tmp" "$ENV_FILE"
}

# ---------------------------------------------------------------------------- smoke test
# Builds a C shared library with the host gcc, compiles a Swift program that imports it through a
# module map (as UniFFI's generated Swift imports the Rust cdylib) and uses Foundation, runs it.
smoke_test() { # smoke_test CHROOT_DIR
  local root="$1" t out
  command -v gcc >/dev/null 2>&1 || apt_install gcc libc6-dev
  t="$(mktemp -d "${TMPDIR:-/tmp}/shoplook-swift-smoke.XXXXXX")"
  mkdir -p "$t/include" "$t/lib"
  cat > "$t/include/foo.h" <<'EOF'
#include <stdint.h>
int32_t foo_add(int32_t a, int32_t b);
EOF
  cat > "$t/foo.c" <<'EOF'
#include "foo.h"
int32_t foo_add(int32_t a, int32_t b) { return a + b; }
EOF
  cat > "$t/include/FooFFI.modulemap" <<'EOF'
module FooFFI {
    header "foo.h"
    export *
}
EOF
  cat > "$t/main.swift" <<'EOF'
import Foundation
#if canImport(FooFFI)
import FooFFI
#endif

struct Look: Codable { let id: String; let score: Double }
let sum = foo_add(40, 2)
let json = try JSONEncoder().encode(Look(id: "look-\(sum)", score: 0.5))
let back = try JSONDecoder().decode(Look.self, from: json)
precondition(sum == 42 && back.id == "look-42", "unexpected result")
print("swift smoke ok: foo_add=\(sum) json=\(String(decoding: json, as: UTF8.self)) bytes=\(Data(json).count)")
EOF
  gcc -shared -fPIC -O2 -o "$t/lib/libfoo.so" "$t/foo.c" -I"$t/include"
  log "smoke test: swiftc in the chroot (a few seconds)"
  if ! out="$(SWIFT_CHROOT="$root" _SHOPLOOK_SWIFT_NOLOCK=1 "$SCRIPT_DIR/swift-in-chroot.sh" "$t" \
      'swiftc -module-name Smoke main.swift -Xcc -fmodule-map-file=include/FooFFI.modulemap -I include -L lib -lfoo -o smoke && LD_LIBRARY_PATH=lib ./smoke' 2>&1)"; then
    printf '%s\n' "$out" >&2
    rm -rf "$t"
    die "Swift smoke test failed"
  fi
  rm -rf "$t"
  case "$out" in
    *"swift smoke ok: foo_add=42"*) log "$(printf '%s\n' "$out" | grep 'swift smoke ok')" ;;
    *) printf '%s\n' "$out" >&2; die "unexpected smoke output" ;;
  esac
}

APT_UPDATED=0
apt_install() {
  export DEBIAN_FRONTEND=noninteractive
  if [ "$APT_UPDATED" -eq 0 ]; then
    log "apt-get update (host)"
    apt_get update -qq
    APT_UPDATED=1
  fi
  log "apt-get install $* (host)"
  apt_get install -y -q --no-install-recommends "$@" >/dev/null
}

# ---------------------------------------------------------------------------- cached?
exec 9>"$LOCK"
flock -s 9
if chroot_ok "$CHROOT"; then
  log "cached: $CHROOT ($(sed -n 's/^swift_version=//p' "$CHROOT/$STAMP_NAME"))"
  [ "${SHOPLOOK_SMOKE:-0}" = 1 ] && smoke_test "$CHROOT"
  write_env
  echo "SWIFT_ENV=$ENV_FILE"
  exit 0
fi
flock -x 9   # waits for running swift-in-chroot.sh users and other setup runs
if chroot_ok "$CHROOT"; then        # built by a concurrent run meanwhile
  log "cached: $CHROOT"
  write_env
  echo "SWIFT_ENV=$ENV_FILE"
  exit 0
fi

# ---------------------------------------------------------------------------- build
START=$(date +%s)

MOUNTED=()
cleanup() {
  local i
  for (( i=${#MOUNTED[@]}-1; i>=0; i-- )); do
    umount "${MOUNTED[$i]}" 2>/dev/null || umount -l "${MOUNTED[$i]}" 2>/dev/null || true
  done
  MOUNTED=()
}
trap cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

# rm -rf that never follows a mount into the host: unmount what is below DIR first, and refuse
# to delete if anything is still mounted there.
safe_rm() {
  local d="$1" m
  [ -e "$d" ] || return 0
  while read -r m; do
    [ -n "$m" ] && { umount -R "$m" 2>/dev/null || umount -l "$m" 2>/dev/null || true; }
  done < <(findmnt -rn -o TARGET | awk -v d="$d" 'index($0, d"/") == 1' | sort -r)
  if findmnt -rn -o TARGET | awk -v d="$d" 'index($0, d"/") == 1' | grep -q .; then
    die "mounts remain below $d; not deleting it"
  fi
  rm -rf --one-file-system "$d"
}

detect_mirror() {
  local m=""
  if [ -n "${SHOPLOOK_DEBIAN_MIRROR:-}" ]; then echo "$SHOPLOOK_DEBIAN_MIRROR"; return; fi
  # deb822 (*.sources): URIs lines; one-line format (*.list): "deb [opts] URI suite ...".
  # Take the first Debian archive URI (path ending in /debian), skipping comments.
  m="$( { cat /etc/apt/sources.list.d/*.sources 2>/dev/null | sed -n 's/^[[:space:]]*URIs:[[:space:]]*//p' | tr ' ' '\n'
          cat /etc/apt/sources.list /etc/apt/sources.list.d/*.list 2>/dev/null \
            | sed -e 's/#.*//' -e 's/\[[^]]*\]//' | awk '$1 == "deb" { print $2 }'
        } | grep -E '^https?://[^ ]*/debian/?$' | head -n1 )"
  echo "${m:-http://deb.debian.org/debian}"
}

command -v debootstrap >/dev/null 2>&1 || apt_install debootstrap
[ -e "/usr/share/debootstrap/scripts/$SUITE" ] || apt_install debootstrap   # too old for $SUITE?
[ -e "/usr/share/debootstrap/scripts/$SUITE" ] || die "debootstrap does not know $SUITE"
MIRROR="$(detect_mirror)"

if [ -e "$CHROOT" ]; then
  log "found an incomplete or outdated chroot at $CHROOT; rebuilding it"
fi
if [ -e "$STAGING" ]; then
  log "removing a half-built chroot left by an interrupted run: $STAGING"
fi
safe_rm "$STAGING"
: > "$BUILD_LOG"

log "debootstrap --variant=minbase $SUITE from $MIRROR (log: $BUILD_LOG)"
if ! debootstrap --variant=minbase --components=main "$SUITE" "$STAGING" "$MIRROR" >>"$BUILD_LOG" 2>&1; then
  tail -n 30 "$BUILD_LOG" >&2
  [ -f "$STAGING/debootstrap/debootstrap.log" ] && tail -n 30 "$STAGING/debootstrap/debootstrap.log" >&2
  die "debootstrap failed"
fi
log "debootstrap done in $(( $(date +%s) - START )) s"

# Prepare for apt inside: DNS, no service starts, faster dpkg (the stamp protects against crashes).
cp -L /etc/resolv.conf "$STAGING/etc/resolv.conf" 2>/dev/null || true
printf '#!/bin/sh\nexit 101\n' > "$STAGING/usr/sbin/policy-rc.d"
chmod 0755 "$STAGING/usr/sbin/policy-rc.d"
echo force-unsafe-io > "$STAGING/etc/dpkg/dpkg.cfg.d/shoplook-unsafe-io"
printf 'APT::Install-Recommends "false";\nAPT::Install-Suggests "false";\n' \
  > "$STAGING/etc/apt/apt.conf.d/90shoplook-no-recommends"

mount -t proc proc "$STAGING/proc"; MOUNTED+=("$STAGING/proc")
in_staging() {
  local envs=(HOME=/root LANG=C.UTF-8 DEBIAN_FRONTEND=noninteractive
              PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin)
  local v
  for v in http_proxy https_proxy no_proxy; do [ -n "${!v:-}" ] && envs+=("$v=${!v}"); done
  chroot "$STAGING" /usr/bin/env -i "${envs[@]}" "$@"
}
log "apt-get install ${PACKAGES[*]} in the chroot (~450 MB download)"
# Plain apt-get here, not apt_get: the chroot's apt has its own lists, archives and dpkg
# database (so its own locks) and never touches the host's; only this script uses it, under the
# exclusive chroot lock taken above. Holding the host's apt lock through this ~450 MB download
# would only make the other setup jobs' host installs wait.
if ! { in_staging apt-get update -q && in_staging apt-get install -y -q -o Dpkg::Use-Pty=0 --no-install-recommends "${PACKAGES[@]}"; } \
     >>"$BUILD_LOG" 2>&1; then
  tail -n 40 "$BUILD_LOG" >&2
  die "apt-get install in the chroot failed"
fi
in_staging apt-get clean >>"$BUILD_LOG" 2>&1
rm -f "$STAGING/etc/dpkg/dpkg.cfg.d/shoplook-unsafe-io"
SWIFT_VERSION="$(in_staging swiftc --version 2>/dev/null | head -n1 || true)"
cleanup
[ -x "$STAGING/usr/bin/swiftc" ] || die "swiftc missing after install"
log "installed: ${SWIFT_VERSION:-unknown swift}"

smoke_test "$STAGING"

{
  echo "$RECIPE"
  echo "swift_version=$SWIFT_VERSION"
  echo "mirror=$MIRROR"
  echo "built=$(date -u +%Y-%m-%dT%H:%M:%SZ)"
} > "$STAGING/$STAMP_NAME"

safe_rm "$CHROOT"
mv "$STAGING" "$CHROOT"
write_env
log "done in $(( $(date +%s) - START )) s: $CHROOT ($(du -sh --one-file-system "$CHROOT" 2>/dev/null | cut -f1))"
echo "SWIFT_ENV=$ENV_FILE"
