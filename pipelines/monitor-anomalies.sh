#!/bin/sh
# Runs daedenoise as an anomaly monitor: gst-launch-1.0 -m prints every bus
# message, including `dae-anomaly` (every INTERVAL ns, with score, max-score,
# per-channel scores and per-band errors) and `dae-anomaly-start` /
# `dae-anomaly-end` when the debounced state changes.
#
# Give it a model of the machine's normal sound, trained with
# `dae-train anomaly --normal normal.wav -o machine.dae` (or saved by
# pipelines/learn-and-monitor.sh): MODEL=machine.dae.  Its calibrated
# threshold is used unless THRESHOLD is given.  The embedded default models
# are speech denoisers without a calibrated threshold, so without MODEL no
# start/end is reported unless THRESHOLD is given.
#
# Env:
#   MODEL      a .dae model file for model-file (default: none, the
#              embedded default model)
#   SRC        source description (default autoaudiosrc; CI uses
#              SRC="audiotestsrc num-buffers=100 wave=pink-noise")
#   SINK       sink description (default fakesink)
#   THRESHOLD  anomaly-threshold (default -1 = from the model)
#   INTERVAL   interval between dae-anomaly messages in ns (default 1 s)
set -eu

MODEL=${MODEL:-}
SRC=${SRC:-autoaudiosrc}
SINK=${SINK:-fakesink}
THRESHOLD=${THRESHOLD:--1}
INTERVAL=${INTERVAL:-1000000000}

# shellcheck disable=SC2086 # SRC and SINK are pipeline fragments
gst-launch-1.0 -m -e $SRC ! audioconvert ! audioresample ! daedenoise ${MODEL:+"model-file=$MODEL"} anomaly-threshold="$THRESHOLD" interval="$INTERVAL" ! $SINK
