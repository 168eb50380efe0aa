#!/bin/sh
# run.sh: the denoising quality benchmark in one command.
#
#   bench/quality/run.sh [run.py options]      e.g. --model48 m.dae
#
# Installs/builds what is missing (setup.sh), builds the plugin if the meson
# build dir has none, builds the evaluation set if bench/out/evalset has none
# or one made by other versions of make-evalset.py / prepare-data.py /
# eval-sources.txt or another SEED / PER_CELL, runs noisy / daedenoise / webrtcdsp / speexdsp / rnnoise on it
# at 16 and 48 kHz (and on the clean speech alone: --clean-pass), prints the
# tables and writes bench/out/results.json.
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

# the set is rebuilt when the scripts or lists that define it, or the seed
# and size, differ from those that made it (.made-by: their digest)
made_by=$(cat "$HERE/make-evalset.py" "$ROOT/models/prepare-data.py" \
    "$ROOT/bench/eval-sources.txt" 2>/dev/null | sha1sum | cut -d' ' -f1)
made_by="$made_by seed ${SEED:-1} per-cell ${PER_CELL:-4}"
if [ ! -f "$OUT/evalset/manifest.json" ] ||
    [ "$(cat "$OUT/evalset/.made-by" 2>/dev/null)" != "$made_by" ]; then
  if [ -f "$OUT/evalset/manifest.json" ]; then
    echo "run.sh: the evaluation set was made by other scripts or settings; rebuilding it" >&2
    rm -rf "$OUT/evalset"
  fi
  /usr/bin/python3 "$HERE/make-evalset.py" --out "$OUT/evalset" \
    --seed "${SEED:-1}" --per-cell "${PER_CELL:-4}"
  echo "$made_by" >"$OUT/evalset/.made-by"
fi

exec /usr/bin/python3 "$HERE/run.py" --evalset "$OUT/evalset" --out "$OUT" \
  --tools "$OUT" --build "$BUILD" --clean-pass "$@"
