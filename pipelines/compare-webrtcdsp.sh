#!/bin/sh
# A/B comparison: the same input denoised by daedenoise and by webrtcdsp's
# noise suppression (echo cancellation off), written to two WAV files at
# 48 kHz mono for listening side by side.
#
# Env:
#   IN          input file (default noisy.wav)
#   SRC         source description replacing "filesrc ... ! decodebin" (CI
#               uses SRC="audiotestsrc num-buffers=100 wave=pink-noise")
#   OUT_DAE     daedenoise output (default ab-daedenoise.wav)
#   OUT_WEBRTC  webrtcdsp output (default ab-webrtcdsp.wav)
set -eu

IN=${IN:-noisy.wav}
SRC=${SRC:-filesrc location="$IN" ! decodebin}
OUT_DAE=${OUT_DAE:-ab-daedenoise.wav}
OUT_WEBRTC=${OUT_WEBRTC:-ab-webrtcdsp.wav}

# shellcheck disable=SC2086 # SRC is a pipeline fragment
gst-launch-1.0 -e $SRC ! audioconvert ! audioresample ! audio/x-raw,rate=48000,channels=1 ! tee name=t t. ! queue ! daedenoise ! audioconvert ! wavenc ! filesink location="$OUT_DAE" t. ! queue ! audioconvert ! webrtcdsp echo-cancel=false noise-suppression=true ! audioconvert ! wavenc ! filesink location="$OUT_WEBRTC"
