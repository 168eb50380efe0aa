#!/bin/sh
# setup.sh: installs and builds what the quality benchmark needs, if missing.
#
#   - Debian packages (apt-get, through sudo when not root): the peers'
#     libraries and the tools the harness calls;
#   - the speexdsp harness, compiled to $OUT/bin/speex-denoise;
#   - the npm package @echogarden/rnnoise-wasm, installed into $OUT/node
#     (never into the repository).
#
# Env: OUT (default bench/out).  Safe to run again.
set -eu
HERE=$(cd "$(dirname "$0")" && pwd)
ROOT=$(dirname "$(dirname "$HERE")")
OUT=${OUT:-$ROOT/bench/out}
RNNOISE_PKG=@echogarden/rnnoise-wasm@0.2.0

PACKAGES="
  python3 python3-numpy ffmpeg sox gcc libc6-dev libspeexdsp-dev
  nodejs npm
  gstreamer1.0-tools gstreamer1.0-plugins-base gstreamer1.0-plugins-good
  gstreamer1.0-plugins-bad
  asterisk-core-sounds-it-g722 asterisk-core-sounds-ru-g722
  hedgewars-data ktuberling-data
"

missing=""
for pkg in $PACKAGES; do
  if ! dpkg-query -W -f='${Status}' "$pkg" 2>/dev/null |
      grep -q "install ok installed"; then
    # nodesource's nodejs ships npm itself
    if [ "$pkg" = npm ] && command -v npm >/dev/null 2>&1; then
      continue
    fi
    missing="$missing $pkg"
  fi
done
if [ -n "$missing" ]; then
  echo "setup: installing:$missing" >&2
  SUDO=""
  if [ "$(id -u)" -ne 0 ]; then
    SUDO="sudo"
  fi
  $SUDO apt-get update -qq
  # shellcheck disable=SC2086
  DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq \
    --no-install-recommends $missing >/dev/null
fi

mkdir -p "$OUT/bin"
if [ ! -x "$OUT/bin/speex-denoise" ] ||
    [ "$HERE/speex-denoise.c" -nt "$OUT/bin/speex-denoise" ]; then
  echo "setup: building $OUT/bin/speex-denoise" >&2
  gcc -O2 -Wall -Wextra -o "$OUT/bin/speex-denoise" "$HERE/speex-denoise.c" \
    -lspeexdsp
fi

if [ ! -f "$OUT/node/node_modules/@echogarden/rnnoise-wasm/rnnoise.js" ]; then
  echo "setup: npm install $RNNOISE_PKG into $OUT/node" >&2
  mkdir -p "$OUT/node"
  npm install --prefix "$OUT/node" --no-audit --no-fund --silent \
    "$RNNOISE_PKG" >&2
fi
