#!/bin/sh
# Runs daedenoise as an anomaly monitor: gst-launch-1.0 -m prints every bus
# message, including `dae-anomaly` (every INTERVAL ns, with score, max-score,
# per-channel scores and per-band errors) and `dae-anomaly-start` /
# `dae-anomaly-end` when the debounced state changes.
#
# The embedded default models are untrained placeholders without a
# calibrated threshold, so with THRESHOLD=-1 (the model's) no start/end is
# reported; give a trained model (MODEL) or an explicit THRESHOLD.
#
# Env:
#   SRC        source description (default autoaudiosrc; CI uses
#              SRC="audiotestsrc num-buffers=100 wave=pink-noise")
#   SINK       sink description (default fakesink)
#   THRESHOLD  anomaly-threshold (default -1 = from the model)
#   INTERVAL   interval between dae-anomaly messages in ns (default 1 s)
set -eu

SRC=${SRC:-autoaudiosrc}
SINK=${SINK:-fakesink}
THRESHOLD=${THRESHOLD:--1}
INTERVAL=${INTERVAL:-1000000000}

# shellcheck disable=SC2086 # SRC and SINK are pipeline fragments
gst-launch-1.0 -m -e $SRC ! audioconvert ! audioresample ! daedenoise anomaly-threshold="$THRESHOLD" interval="$INTERVAL" ! $SINK
