#!/bin/sh
# The main job: installs missing Debian packages, builds, and denoises the
# bundled noisy sample (data/noisy-speech-16k.wav) with daedenoise and its
# embedded default model through pipelines/denoise-file.sh, then prints what
# happened.
#
# Env: IN (default data/noisy-speech-16k.wav), OUT (default
#      build/demo/denoised.wav).
set -eu
cd "$(dirname "$0")/.."

sh scripts/deps.sh
if [ ! -f build/build.ninja ]; then
  meson setup build ${DAE_MESON_ARGS:-} >/dev/null
fi
ninja -C build >/dev/null

IN=${IN:-data/noisy-speech-16k.wav}
OUT=${OUT:-build/demo/denoised.wav}
mkdir -p "$(dirname "$OUT")"

export GST_PLUGIN_PATH="$PWD/build/plugin${GST_PLUGIN_PATH:+:$GST_PLUGIN_PATH}"
export OPENBLAS_NUM_THREADS=1

echo "demo: denoising $IN -> $OUT"
echo "demo: pipeline: $(grep '^gst-launch-1.0' pipelines/denoise-file.sh)"
IN="$IN" OUT="$OUT" sh pipelines/denoise-file.sh >/dev/null
python3 scripts/wav-compare.py "$IN" "$OUT"
