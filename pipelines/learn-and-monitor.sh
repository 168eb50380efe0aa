#!/bin/sh
# Online learning: daedenoise learns the machine's normal sound from the
# first LEARN ns of the source, saves the learned model to OUT, then
# reports anomalies with its calibrated threshold.  gst-launch-1.0 -m
# prints `dae-learning` (progress: phase, fraction, epoch, loss),
# `dae-learning-done` (threshold, seconds-of-audio, train-time, model-file),
# then `dae-anomaly`, `dae-anomaly-start` and `dae-anomaly-end`.
#
# Run it while the machine runs normally.  Next time, skip the learning:
# MODEL=machine.dae pipelines/monitor-anomalies.sh.  Ctrl-C while
# collecting learns from what was collected so far (at least 1 s) and
# ends when the model is saved.
#
# Env:
#   SRC       source description (default autoaudiosrc; CI uses
#             SRC="audiotestsrc num-buffers=… wave=…" and a short LEARN)
#   SINK      sink description (default fakesink)
#   LEARN     learn-duration in ns (default 60 s)
#   EPOCHS    learn-epochs, the training budget (default 20, up to about 25 s of
#             CPU each)
#   OUT       learned-model-file (default machine.dae)
#   INTERVAL  interval between dae-anomaly messages in ns (default 1 s)
set -eu

SRC=${SRC:-autoaudiosrc}
SINK=${SINK:-fakesink}
LEARN=${LEARN:-60000000000}
EPOCHS=${EPOCHS:-20}
OUT=${OUT:-machine.dae}
INTERVAL=${INTERVAL:-1000000000}

# shellcheck disable=SC2086 # SRC and SINK are pipeline fragments
gst-launch-1.0 -m -e $SRC ! audioconvert ! audioresample ! daedenoise learn-duration="$LEARN" learn-epochs="$EPOCHS" learned-model-file="$OUT" interval="$INTERVAL" ! $SINK
