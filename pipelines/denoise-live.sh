#!/bin/sh
# Denoises the default audio source live and plays it on the default sink
# (speak into the microphone; use headphones to avoid feedback).
#
# Env:
#   SRC   source description (default autoaudiosrc; CI uses
#         SRC="audiotestsrc num-buffers=100 wave=pink-noise")
#   SINK  sink description (default autoaudiosink; CI uses
#         SINK="fakesink sync=false")
set -eu

SRC=${SRC:-autoaudiosrc}
SINK=${SINK:-autoaudiosink}

# shellcheck disable=SC2086 # SRC and SINK are pipeline fragments
gst-launch-1.0 -e $SRC ! audioconvert ! audioresample ! daedenoise ! audioconvert ! audioresample ! $SINK
