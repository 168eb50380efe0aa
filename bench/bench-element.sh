#!/bin/sh
# bench-element.sh: real-time factor of daedenoise in a real pipeline.
#
# For each rate (16000, 48000) and channel count (1, 2), runs
#   audiotestsrc (pink noise) ! daedenoise ! fakesink
# as fast as possible over SECONDS of audio, and the same pipeline without
# daedenoise; the element's real-time factor is the difference in process
# CPU time (user + system) divided by the audio duration.  One OpenBLAS
# thread.  Also the peak resident memory (maximum RSS) of both runs and
# its difference: what the element adds to a gst-launch-1.0 process.
#
# Env: SECONDS_OF_AUDIO (default 60), BUILD (default ./build),
#      MODEL_FILE (optional: benchmark this model instead of the defaults).
set -eu
cd "$(dirname "$0")/.."
BUILD=${BUILD:-build}
AUDIO_S=${SECONDS_OF_AUDIO:-60}
export OPENBLAS_NUM_THREADS=1
export GST_PLUGIN_PATH="$PWD/$BUILD/plugin${GST_PLUGIN_PATH:+:$GST_PLUGIN_PATH}"

model_prop=""
if [ -n "${MODEL_FILE:-}" ]; then
  model_prop="model-file=$MODEL_FILE"
fi

cpu_of () {
  # prints user+sys CPU seconds and the maximum RSS in kB of the command
  /usr/bin/env time -f "%U %S %M" -o /tmp/dae-bench-time.$$ "$@" >/dev/null 2>&1
  awk '{ printf "%.3f %d", $1 + $2, $3 }' /tmp/dae-bench-time.$$
  rm -f /tmp/dae-bench-time.$$
}

printf "%-6s %-3s %-9s %-9s %-8s %-10s %-10s %-8s\n" rate ch cpu_s base_s rtf \
  rss_kB base_kB added_MB
for rate in 16000 48000; do
  for ch in 1 2; do
    spb=$((rate / 100))
    nbuf=$((AUDIO_S * 100))
    src="audiotestsrc wave=pink-noise samplesperbuffer=$spb num-buffers=$nbuf ! audio/x-raw,format=F32LE,rate=$rate,channels=$ch"
    # shellcheck disable=SC2086
    with=$(cpu_of gst-launch-1.0 -q $src ! daedenoise $model_prop ! fakesink sync=false)
    # shellcheck disable=SC2086
    base=$(cpu_of gst-launch-1.0 -q $src ! fakesink sync=false)
    with_cpu=${with% *}
    with_rss=${with#* }
    base_cpu=${base% *}
    base_rss=${base#* }
    rtf=$(awk -v a="$with_cpu" -v b="$base_cpu" -v s="$AUDIO_S" 'BEGIN { printf "%.5f", (a - b) / s }')
    added=$(awk -v a="$with_rss" -v b="$base_rss" 'BEGIN { printf "%.1f", (a - b) / 1024 }')
    printf "%-6s %-3s %-9s %-9s %-8s %-10s %-10s %-8s\n" "$rate" "$ch" \
      "$with_cpu" "$base_cpu" "$rtf" "$with_rss" "$base_rss" "$added"
  done
done
