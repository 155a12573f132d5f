#!/usr/bin/env bash
# Redraw docs/garments/*.jpg: every piece of the look (`shoplook analyze --pose --annotate`) on
# real photos with people, and print each photo's items (the tables of docs/garments.md).
#
# Only permissively licensed photos are drawn into docs/ (see docs/garments.md for each one's
# licence); bus.jpg and zidane.jpg (AGPL-3.0, fetched by scripts/fetch-photos.sh) are analysed
# and listed but their drawings go to a temporary folder, never into the repository.
#
# Usage: scripts/garments-gallery.sh OPENCV_DATA [VTEST_FRAMES]
#   OPENCV_DATA: usr/share/doc/opencv-doc/examples/data of Debian's opencv-doc package
#                (apt-get download opencv-doc && dpkg-deb -x opencv-doc_*.deb x)
#   VTEST_FRAMES: the folder scripts/fetch-video.sh prints (default: it is run)
# Needs target/release/shoplook (cargo b).
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$ROOT"
OCV="${1:?usage: $0 OPENCV_DATA [VTEST_FRAMES]}"
FRAMES="${2:-$(scripts/fetch-video.sh | tail -n1)}"
BIN="$ROOT/target/release/shoplook"
OUT="$ROOT/docs/garments"
TMP="$(mktemp -d)"
trap 'rm -rf "$TMP"' EXIT
mkdir -p "$OUT"

draw() { # photo, output folder
  local photo="$1" dir="$2" name
  name="$(basename "${photo%.*}")"
  echo "== $name"
  "$BIN" analyze "$photo" --pose --annotate "$dir/$name.jpg" 2>/dev/null
}

draw fixtures/web/messi5.jpg "$OUT"
draw fixtures/photos/astronaut.png "$OUT"
draw fixtures/photos/grace_hopper.jpg "$OUT"
draw "$OCV/basketball1.png" "$OUT"
draw "$OCV/basketball2.png" "$OUT"
for n in 0036 0072 0144; do
  cp "$FRAMES/frame-$n.jpg" "$TMP/vtest-$n.jpg"
  draw "$TMP/vtest-$n.jpg" "$OUT"
done
for p in bus zidane; do
  if [ -f "fixtures/external/$p.jpg" ]; then
    draw "fixtures/external/$p.jpg" "$TMP"   # AGPL: listed, not drawn into docs/
  fi
done
