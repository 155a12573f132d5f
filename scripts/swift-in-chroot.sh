#!/usr/bin/env bash
# Run a command inside the Swift chroot built by scripts/setup-swift.sh, with a host directory
# bind-mounted at /work (the command starts there).
#
#   scripts/swift-in-chroot.sh HOST_DIR 'swiftc -module-name M main.swift && ./main'
#   scripts/swift-in-chroot.sh HOST_DIR swiftc --version     # several args: quoted and joined
#
# The command runs as `bash -lc CMD` under a clean environment (HOME=/root, LANG=C.UTF-8,
# PATH of the chroot; CI, TERM and http(s)_proxy are passed through). Exit status is the command's.
#
# Mounts (/proc, the bind mount) are made in a private mount namespace (unshare -m) when possible,
# so they are invisible to other processes (an `rm -rf` of the cache by someone else cannot reach
# HOST_DIR through the bind mount), vanish even if this script is killed, and concurrent runs do not
# collide. Either way a trap unmounts them on exit, success or failure.
#
# Environment: SWIFT_CHROOT (default ${SHOPLOOK_TOOLS:-/var/cache/shoplook-tools}/swift-chroot),
#              SWIFT_CHROOT_MOUNT (mount point inside the chroot, default /work).
set -euo pipefail

log() { printf '[swift-in-chroot] %s\n' "$*" >&2; }
die() { printf '[swift-in-chroot] ERROR: %s\n' "$*" >&2; exit 2; }

[ "$#" -ge 2 ] || die "usage: $0 HOST_DIR CMD [ARGS...]"
[ "$(id -u)" -eq 0 ] || die "must run as root (chroot and mount need it)"

TOOLS="${SHOPLOOK_TOOLS:-/var/cache/shoplook-tools}"
CHROOT="${SWIFT_CHROOT:-${TOOLS}/swift-chroot}"
INNER="${SWIFT_CHROOT_MOUNT:-/work}"
case "$INNER" in /?*) ;; *) die "SWIFT_CHROOT_MOUNT must be an absolute path" ;; esac
[ -x "$CHROOT/usr/bin/swiftc" ] || die "no Swift chroot at $CHROOT (run scripts/setup-swift.sh)"
# A private mount namespace: re-exec ourselves under unshare once.
if [ -z "${_SHOPLOOK_MNTNS:-}" ] && command -v unshare >/dev/null 2>&1 \
   && unshare --mount --propagation private true 2>/dev/null; then
  _SHOPLOOK_MNTNS=1 exec unshare --mount --propagation private bash "$0" "$@"
fi

HOST_DIR="$(cd "$1" && pwd -P)" || die "no such directory: $1"
shift
if [ "$#" -eq 1 ]; then
  CMD="$1"
else
  CMD="$(printf '%q ' "$@")"
fi

CHROOT="$(cd "$CHROOT" && pwd -P)"
# Shared lock next to the chroot: setup-swift.sh takes it exclusively while it (re)builds.
# (_SHOPLOOK_SWIFT_NOLOCK=1: internal, used by setup-swift.sh's own smoke test.)
if [ -z "${_SHOPLOOK_SWIFT_NOLOCK:-}" ]; then
  exec 8>"$(dirname "$CHROOT")/.$(basename "$CHROOT").lock"
  flock -s 8
fi

MOUNTED=()
cleanup() {
  local i m
  for (( i=${#MOUNTED[@]}-1; i>=0; i-- )); do
    m="${MOUNTED[$i]}"
    umount "$m" 2>/dev/null || umount -l "$m" 2>/dev/null || log "WARNING: could not unmount $m"
  done
  MOUNTED=()
}
trap cleanup EXIT
trap 'exit 129' HUP
trap 'exit 130' INT
trap 'exit 143' TERM

do_mount() { # do_mount TARGET mount-args...
  local target="$1"; shift
  if [ -z "${_SHOPLOOK_MNTNS:-}" ] && mountpoint -q "$target"; then
    die "$target is already a mount point (another run in progress?)"
  fi
  mount "$@" "$target"
  MOUNTED+=("$target")
}

mkdir -p "$CHROOT/proc" "$CHROOT$INNER"
do_mount "$CHROOT/proc" -t proc proc
do_mount "$CHROOT$INNER" --bind "$HOST_DIR"

envs=(HOME=/root LANG=C.UTF-8 LC_ALL=C.UTF-8
      PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin
      TERM="${TERM:-dumb}")
for v in CI http_proxy https_proxy no_proxy; do
  [ -n "${!v:-}" ] && envs+=("$v=${!v}")
done

set +e
chroot "$CHROOT" /usr/bin/env -i "${envs[@]}" /bin/bash -lc "cd $(printf '%q' "$INNER") && $CMD"
rc=$?
set -e
exit "$rc"
