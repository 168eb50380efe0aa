#!/bin/sh
# Denoises an audio file with daedenoise and writes the result as a WAV file.
# Any format decodebin reads works; audioconvert ! audioresample bring it to a
# rate with a model (16 or 48 kHz with the embedded defaults).
#
# Env:
#   IN   input file (default noisy.wav)
#   OUT  output WAV file (default denoised.wav)
#   SRC  source description replacing "filesrc ... ! decodebin" (CI uses
#        SRC="audiotestsrc num-buffers=100 wave=pink-noise")
#
# Example: IN=recording.ogg OUT=clean.wav sh pipelines/denoise-file.sh
set -eu

IN=${IN:-noisy.wav}
OUT=${OUT:-denoised.wav}
SRC=${SRC:-filesrc location="$IN" ! decodebin}

# shellcheck disable=SC2086 # SRC is a pipeline fragment: split it
gst-launch-1.0 -e $SRC ! audioconvert ! audioresample ! daedenoise ! audioconvert ! wavenc ! filesink location="$OUT"
