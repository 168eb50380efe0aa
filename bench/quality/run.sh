#!/bin/sh
# run.sh: the denoising quality benchmark in one command.
#
#   bench/quality/run.sh [run.py options]      e.g. --model48 m.dae
#
# Installs/builds what is missing (setup.sh), builds the plugin if the meson
# build dir has none, builds the evaluation set if bench/out/evalset has no
# manifest, runs noisy / daedenoise / webrtcdsp / speexdsp / rnnoise on it
# at 16 and 48 kHz, prints the tables and writes bench/out/results.json.
#
# Env: OUT (default bench/out), BUILD (default build), SEED (default 1),
#      PER_CELL (utterances per kind x SNR, default 4),
#      MODEL16 / MODEL48 (model files for daedenoise; default: embedded).
set -eu
HERE=$(cd "$(dirname "$0")" && pwd)
ROOT=$(dirname "$(dirname "$HERE")")
OUT=${OUT:-$ROOT/bench/out}
BUILD=${BUILD:-$ROOT/build}
export OUT BUILD

OUT="$OUT" "$HERE/setup.sh"

if [ ! -f "$BUILD/plugin/libgstdae.so" ]; then
  "$ROOT/scripts/deps.sh"
  if [ ! -f "$BUILD/build.ninja" ]; then
    meson setup "$BUILD" "$ROOT" >/dev/null
  fi
  ninja -C "$BUILD" >/dev/null
fi

if [ ! -f "$OUT/evalset/manifest.json" ]; then
  /usr/bin/python3 "$HERE/make-evalset.py" --out "$OUT/evalset" \
    --seed "${SEED:-1}" --per-cell "${PER_CELL:-4}"
fi

exec /usr/bin/python3 "$HERE/run.py" --evalset "$OUT/evalset" --out "$OUT" \
  --tools "$OUT" --build "$BUILD" "$@"
