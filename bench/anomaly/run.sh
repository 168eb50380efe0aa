#!/bin/sh
# run.sh: the machine-sound anomaly benchmark in one command.
#
#   bench/anomaly/run.sh [run.py options]     e.g. --kinds fan,valve
#
# Builds dae-train and dae-score if the meson build dir has none, makes the
# data set in bench/out/anomaly/data-seedSEED if it has no manifest
# (make-dataset.py, deterministic for SEED; seed 1 was the development set
# on which the anomaly recipe's defaults were chosen, the default seed 2 is
# the evaluation set: other units, other clips), then trains and scores
# dae, the DCASE 2020 Task 2
# baseline autoencoder and a PCA baseline on every machine kind (run.py),
# prints the AUC / pAUC table and writes bench/out/anomaly/results.json.
# About 40 minutes on 2 cores (dae training 5 x ~5 min, the DCASE baseline
# 5 x ~2 min with 100 epochs, data set ~2 min).
#
# Env: OUT (default bench/out/anomaly), BUILD (default build), SEED
#      (default 2), UNITS / TRAIN / TEST (data set size: units per kind,
#      normal training clips per unit, normal and anomalous test clips per
#      unit; default 4 / 40 / 25), JOBS (data set workers, default 2).
# Needs: meson, ninja, a C compiler and the Debian packages of
# scripts/deps.sh (GStreamer, FFTW, OpenBLAS, GLib), python3-numpy, ffmpeg.
set -eu
HERE=$(cd "$(dirname "$0")" && pwd)
ROOT=$(dirname "$(dirname "$HERE")")
OUT=${OUT:-$ROOT/bench/out/anomaly}
BUILD=${BUILD:-$ROOT/build}
PY=/usr/bin/python3

if ! $PY -c "import numpy" 2>/dev/null; then
  echo "run.sh: needs Debian's python3-numpy (apt-get install python3-numpy)" >&2
  exit 1
fi
if [ ! -x "$BUILD/tools/dae-score" ] || [ ! -x "$BUILD/tools/dae-train" ]; then
  if [ ! -f "$BUILD/build.ninja" ]; then
    meson setup "$BUILD" "$ROOT" >/dev/null
  fi
  ninja -C "$BUILD" tools/dae-train tools/dae-score >/dev/null
fi

SEED=${SEED:-2}
DATA=$OUT/data-seed$SEED
if [ ! -f "$DATA/manifest.json" ]; then
  $PY "$HERE/make-dataset.py" --out "$DATA" --seed "$SEED" \
    --units "${UNITS:-4}" --train "${TRAIN:-40}" --test "${TEST:-25}" \
    --jobs "${JOBS:-2}"
fi

OPENBLAS_NUM_THREADS=1 exec $PY "$HERE/run.py" --data "$DATA" \
  --out "$OUT" --build "$BUILD" "$@"
