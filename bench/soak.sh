#!/bin/sh
# The one-hour soak: SOAK_SECONDS (default 3600) of synthetic 48 kHz stereo
# audio, as fast as possible, through audiotestsrc ! daedenoise ! fakesink
# with property changes and flushing seeks (tests/plugin/test-soak.c; CI
# runs the same test with five minutes).  Prints the figures: audio and
# wall time, real-time factor, resident memory after warm-up and at the
# end, samples, seeks, property changes, warnings.  Fails (exit 1) if any
# check fails: memory growth of 1 MB or more, sample counts, timestamps,
# non-finite output, any GStreamer warning.
#
# Usage: bench/soak.sh            (builds ./build if needed)
#        SOAK_SECONDS=600 bench/soak.sh
set -eu
cd "$(dirname "$0")/.."

if [ ! -f build/build.ninja ]; then
  meson setup build
fi
ninja -C build tests/plugin/test-soak plugin/libgstdae.so >/dev/null

export SOAK_SECONDS="${SOAK_SECONDS:-3600}"
export OPENBLAS_NUM_THREADS=1
export GST_PLUGIN_PATH_1_0="$PWD/build/plugin"
export GST_REGISTRY="$PWD/build/tests/plugin/soak-registry.bin"

echo "soak: ${SOAK_SECONDS} s of audio through daedenoise..."
status=0
out=$(build/tests/plugin/test-soak --tap 2>&1) || status=$?
printf '%s\n' "$out" | grep -E '^# soak:' | sed 's/^# //'
if [ "$status" -ne 0 ] || ! printf '%s\n' "$out" | grep -q '^ok 1'; then
  printf '%s\n' "$out" | tail -20
  echo "soak: FAILED"
  exit 1
fi
echo "soak: passed"
