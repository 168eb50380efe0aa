#!/bin/sh
# Tests the dae-train command line end to end; prints TAP.
#
# Usage: tests/tools/test-dae-train.sh PATH/TO/dae-train
# Needs gst-launch-1.0 with audiotestsrc and wavenc (gstreamer1.0-tools,
# -plugins-base, -plugins-good) to make the synthetic WAV sources; the
# training tests are skipped without them.
set -u

TRAIN=${1:-${DAE_TRAIN:-dae-train}}
TMP=$(mktemp -d "${TMPDIR:-/tmp}/test-dae-train.XXXXXX")
trap 'rm -rf "$TMP"' EXIT INT TERM
export OPENBLAS_NUM_THREADS=1

. "$(dirname "$0")/tap.sh"

echo "TAP version 13"
echo "1..46"

check_status "--help exits 0" 0 "$TRAIN" --help
if grep -q -- "--steps-per-epoch" "$TMP/out" && grep -q -- "--bands" "$TMP/out"
then
  ok "--help documents the training and architecture options"
else
  not_ok "--help documents the training and architecture options" "$TMP/out"
fi

check_status "no arguments is a usage error (exit 2)" 2 "$TRAIN"
check_status "denoise without --noise is a usage error (exit 2)" 2 \
  "$TRAIN" denoise --speech "$TMP" -o "$TMP/x.dae"

check_status "--reverb-probability 1.5 is a usage error (exit 2)" 2 \
  "$TRAIN" denoise --speech "$TMP" --noise "$TMP" -o "$TMP/x.dae" \
  --reverb-probability 1.5

check_status "--sdr-weight with the anomaly recipe is a usage error (exit 2)" 2 \
  "$TRAIN" anomaly --normal "$TMP" -o "$TMP/x.dae" --sdr-weight 0.1

check_status "--speed-probability with the anomaly recipe is a usage error (exit 2)" 2 \
  "$TRAIN" anomaly --normal "$TMP" -o "$TMP/x.dae" --speed-probability 0.5

check_status "--speed-max 2 is a usage error (exit 2)" 2 \
  "$TRAIN" denoise --speech "$TMP" --noise "$TMP" -o "$TMP/x.dae" \
  --speed-probability 0.5 --speed-max 2

check_status "--reverb-keep-ms with the anomaly recipe is a usage error (exit 2)" 2 \
  "$TRAIN" anomaly --normal "$TMP" -o "$TMP/x.dae" --reverb-keep-ms 600

check_status "--reverb-keep-ms 601 is a usage error (exit 2)" 2 \
  "$TRAIN" denoise --speech "$TMP" --noise "$TMP" -o "$TMP/x.dae" \
  --reverb-keep-ms 601

check_status "--tonality with the anomaly recipe is a usage error (exit 2)" 2 \
  "$TRAIN" anomaly --normal "$TMP" -o "$TMP/x.dae" --tonality

check_status "average without model files is a usage error (exit 2)" 2 \
  "$TRAIN" average -o "$TMP/x.dae"

check_status "average --weight-bits 8 is a usage error (exit 2)" 2 \
  "$TRAIN" average -o "$TMP/x.dae" --weight-bits 8 "$TMP/x.dae"

check_status "convert of two files is a usage error (exit 2)" 2 \
  "$TRAIN" convert -o "$TMP/x.dae" --weight-bits 16 "$TMP/x.dae" "$TMP/y.dae"

check_status "gain-scale without a model file is a usage error (exit 2)" 2 \
  "$TRAIN" gain-scale --speech "$TMP" --noise "$TMP" -o "$TMP/x.dae"
check_status "gain-scale with --init is a usage error (exit 2)" 2 \
  "$TRAIN" gain-scale --speech "$TMP" --noise "$TMP" -o "$TMP/x.dae" \
  --init "$TMP/y.dae" "$TMP/y.dae"
check_status "gain-scale with --resume is a usage error (exit 2)" 2 \
  "$TRAIN" gain-scale --speech "$TMP" --noise "$TMP" -o "$TMP/x.dae" \
  --resume "$TMP/y.dae"
check_status "--speed-validation outside gain-scale is a usage error (exit 2)" 2 \
  "$TRAIN" denoise --speech "$TMP" --noise "$TMP" -o "$TMP/x.dae" \
  --speed-probability 1 --speed-validation
check_status "gain-scale --speed-validation without --speed-probability is a usage error (exit 2)" 2 \
  "$TRAIN" gain-scale --speech "$TMP" --noise "$TMP" -o "$TMP/x.dae" \
  --speed-validation "$TMP/y.dae"
if grep -q "needs --speed-probability" "$TMP/out"; then
  ok "gain-scale --speed-validation says what it needs"
else
  not_ok "gain-scale --speed-validation says what it needs" "$TMP/out"
fi
check_status "--weight-bits with a training recipe is a usage error (exit 2)" 2 \
  "$TRAIN" denoise --speech "$TMP" --noise "$TMP" -o "$TMP/x.dae" \
  --weight-bits 16

check_status "--init with a missing model exits 1" 1 \
  "$TRAIN" denoise --init "$TMP/missing.dae" --speech "$TMP" --noise "$TMP" \
  -o "$TMP/x.dae"
check_status "--info on a missing file exits 1" 1 \
  "$TRAIN" --info "$TMP/no-such-model.dae"
if grep -q "no-such-model.dae" "$TMP/out"; then
  ok "--info names the missing file"
else
  not_ok "--info names the missing file" "$TMP/out"
fi

# synthetic sources: a harmonic "voice" and pink noise, 16 kHz WAV
if ! command -v gst-launch-1.0 >/dev/null 2>&1 ||
    ! gst-launch-1.0 -q audiotestsrc num-buffers=1 ! wavenc ! \
      filesink location="$TMP/probe.wav" >/dev/null 2>&1; then
  skip "tiny training run" "no gst-launch-1.0 with audiotestsrc/wavenc"
  skip "--info prints the trained model's rate" "no training run"
  skip "an unreadable source is skipped by name" "no training run"
  skip "--info shows the augmentation options" "no training run"
  skip "--info shows the speed perturbation" "no training run"
  skip "--info shows the signal-to-distortion loss weight" "no training run"
  skip "--save-epochs writes every epoch's weights" "no training run"
  skip "average writes the mean of the epochs and says so" "no training run"
  skip "--init fine-tunes a model with its architecture" "no training run"
  skip "--init says so, and the model keeps the --init model's architecture" "no training run"
  skip "--init with another architecture is a usage error (exit 2)" "no training run"
  skip "--init names the architecture mismatch" "no training run"
  skip "--init with another rate is a usage error (exit 2)" "no training run"
  skip "--init --tonality adds band tonality to a model without it" "no training run"
  skip "--info shows the tonality inputs" "no training run"
  skip "average --weight-bits 16 writes a smaller file with the same architecture" "no training run"
  skip "--info shows 16-bit weights" "no training run"
  skip "--init with more GRU units widens the model" "no training run"
  skip "convert --weight-bits 16 keeps all but the weight precision" "no training run"
  skip "gain-scale chooses a scale on the validation audio" "no training run"
  skip "gain-scale keeps all but the gain scale" "no training run"
  skip "gain-scale --speed-validation chooses a scale on speed-perturbed voices" "no training run"
  [ "$failed" -eq 0 ]
  exit
fi
mkdir -p "$TMP/speech" "$TMP/noise"
for f in 220 330; do
  gst-launch-1.0 -q audiotestsrc wave=saw freq=$f num-buffers=20 \
    samplesperbuffer=1600 ! audio/x-raw,rate=16000,channels=1 ! wavenc ! \
    filesink location="$TMP/speech/voice-$f.wav" >/dev/null 2>&1
done
gst-launch-1.0 -q audiotestsrc wave=pink-noise num-buffers=20 \
  samplesperbuffer=1600 ! audio/x-raw,rate=16000,channels=1 ! wavenc ! \
  filesink location="$TMP/noise/pink.wav" >/dev/null 2>&1
echo "this is not audio" >"$TMP/speech/broken.wav"

check_status "tiny training run" 0 \
  "$TRAIN" denoise --speech "$TMP/speech" --noise "$TMP/noise/pink.wav" \
  -o "$TMP/tiny.dae" --steps-per-epoch 2 --batch-size 2 \
  --sequence-frames 20 --validation-sequences 2 --threads 1 --seed 3 \
  --reverb-probability 0 --filter-probability 1 --clip-probability 0.5 \
  --sdr-weight 0.05 --speed-probability 0.5 --speed-max 1.1 --epochs 2 \
  --save-epochs "$TMP/epochs"
cp "$TMP/out" "$TMP/train.out"

if "$TRAIN" --info "$TMP/tiny.dae" >"$TMP/out" 2>&1 &&
    grep -q "^rate: *16000 Hz" "$TMP/out"; then
  ok "--info prints the trained model's rate"
else
  not_ok "--info prints the trained model's rate" "$TMP/out"
fi

if grep -q "colouring 1, reverberation 0, clipping 0.5" "$TMP/out"; then
  ok "--info shows the augmentation options"
else
  not_ok "--info shows the augmentation options" "$TMP/out"
fi

if grep -q "clipping 0.5, speed 0.5 (factor 1/1.1 to 1.1)$" "$TMP/out"; then
  ok "--info shows the speed perturbation"
else
  not_ok "--info shows the speed perturbation" "$TMP/out"
fi

if grep -q "^ *loss: gain 1, .*, signal-to-distortion 0.05$" "$TMP/out"; then
  ok "--info shows the signal-to-distortion loss weight"
else
  not_ok "--info shows the signal-to-distortion loss weight" "$TMP/out"
fi

if [ -f "$TMP/epochs/epoch-001.dae" ] && [ -f "$TMP/epochs/epoch-002.dae" ] &&
    "$TRAIN" --info "$TMP/epochs/epoch-002.dae" >"$TMP/out" 2>&1 &&
    grep -q "after epoch 2" "$TMP/out"; then
  ok "--save-epochs writes every epoch's weights"
else
  ls -l "$TMP/epochs" >>"$TMP/out" 2>&1
  not_ok "--save-epochs writes every epoch's weights" "$TMP/out"
fi

if "$TRAIN" average -o "$TMP/mean.dae" --info-text "two epochs" \
      "$TMP/epochs/epoch-001.dae" \
      "$TMP/epochs/epoch-002.dae" >"$TMP/out" 2>&1 &&
    "$TRAIN" --info "$TMP/mean.dae" >"$TMP/out" 2>&1 &&
    grep -q "weights: the mean of 2 model files: epoch-001.dae epoch-002.dae" \
      "$TMP/out" && grep -q "^  two epochs" "$TMP/out" &&
    ! grep -q "after epoch" "$TMP/out"; then
  ok "average writes the mean of the epochs and says so"
else
  not_ok "average writes the mean of the epochs and says so" "$TMP/out"
fi

check_status "--init fine-tunes a model with its architecture" 0 \
  "$TRAIN" denoise --init "$TMP/tiny.dae" --speech "$TMP/speech" \
  --noise "$TMP/noise/pink.wav" -o "$TMP/tuned.dae" --steps-per-epoch 2 \
  --batch-size 2 --sequence-frames 20 --validation-sequences 2 --threads 1 \
  --seed 4 --learning-rate 0.0002 --epochs 1
"$TRAIN" --info "$TMP/tiny.dae" 2>&1 | grep -E "^(rate|bands|layers):" >"$TMP/a"
"$TRAIN" --info "$TMP/tuned.dae" 2>&1 | grep -E "^(rate|bands|layers):" >"$TMP/b"
if grep -q "starting from the weights of $TMP/tiny.dae" "$TMP/out" &&
    [ -s "$TMP/a" ] && cmp -s "$TMP/a" "$TMP/b"; then
  ok "--init says so, and the model keeps the --init model's architecture"
else
  cat "$TMP/b" >>"$TMP/out"
  not_ok "--init says so, and the model keeps the --init model's architecture" \
    "$TMP/out"
fi

check_status "--init with another architecture is a usage error (exit 2)" 2 \
  "$TRAIN" denoise --init "$TMP/tiny.dae" --enc-gru 12 --speech "$TMP/speech" \
  --noise "$TMP/noise/pink.wav" -o "$TMP/x.dae" --epochs 1
if grep -q "another architecture" "$TMP/out"; then
  ok "--init names the architecture mismatch"
else
  not_ok "--init names the architecture mismatch" "$TMP/out"
fi

check_status "--init with another rate is a usage error (exit 2)" 2 \
  "$TRAIN" denoise --init "$TMP/tiny.dae" --rate 48000 --speech "$TMP/speech" \
  --noise "$TMP/noise/pink.wav" -o "$TMP/x.dae" --epochs 1

check_status "--init --tonality adds band tonality to a model without it" 0 \
  "$TRAIN" denoise --init "$TMP/tiny.dae" --tonality --speech "$TMP/speech" \
  --noise "$TMP/noise/pink.wav" -o "$TMP/tonal.dae" --steps-per-epoch 2 \
  --batch-size 2 --sequence-frames 20 --validation-sequences 2 --threads 1 \
  --seed 4 --learning-rate 0.0002 --epochs 1
bands=$("$TRAIN" --info "$TMP/tiny.dae" 2>&1 | sed -n 's/^layers: *\([0-9]*\) bands.*/\1/p')
if "$TRAIN" --info "$TMP/tonal.dae" >"$TMP/out" 2>&1 &&
    grep -q "^tonality: *yes" "$TMP/out" && [ -n "$bands" ] &&
    grep -q "^layers: *$((2 * bands)) inputs (band energies and tonality)" \
      "$TMP/out"; then
  ok "--info shows the tonality inputs"
else
  not_ok "--info shows the tonality inputs" "$TMP/out"
fi

check_status "average --weight-bits 16 writes a smaller file with the same architecture" 0 \
  "$TRAIN" average -o "$TMP/mean16.dae" --weight-bits 16 \
  "$TMP/epochs/epoch-001.dae" "$TMP/epochs/epoch-002.dae"
"$TRAIN" --info "$TMP/mean.dae" 2>&1 | grep -E "^(rate|bands|layers):" >"$TMP/a"
"$TRAIN" --info "$TMP/mean16.dae" >"$TMP/out" 2>&1
grep -E "^(rate|bands|layers):" "$TMP/out" >"$TMP/b"
size32=$(wc -c <"$TMP/mean.dae")
size16=$(wc -c <"$TMP/mean16.dae")
if [ -s "$TMP/a" ] && cmp -s "$TMP/a" "$TMP/b" &&
    [ "$size16" -lt $((size32 * 7 / 10)) ] &&
    grep -q "^parameters: .*(16-bit weights)" "$TMP/out"; then
  ok "--info shows 16-bit weights"
else
  echo "sizes: $size32 $size16" >>"$TMP/out"
  not_ok "--info shows 16-bit weights" "$TMP/out"
fi

"$TRAIN" convert --weight-bits 16 -o "$TMP/tiny16.dae" "$TMP/tiny.dae" \
  >"$TMP/out" 2>&1
"$TRAIN" --info "$TMP/tiny.dae" 2>&1 | sed 1d >"$TMP/a"
"$TRAIN" --info "$TMP/tiny16.dae" 2>&1 | sed 1d >"$TMP/b"
if grep -q "wrote $TMP/tiny16.dae (16-bit weights)" "$TMP/out" &&
    grep -q "^parameters: .*(32-bit weights)" "$TMP/a" &&
    sed 's/(32-bit weights)/(16-bit weights)/' "$TMP/a" | cmp -s - "$TMP/b"; then
  ok "convert --weight-bits 16 keeps all but the weight precision"
else
  diff "$TMP/a" "$TMP/b" >>"$TMP/out"
  not_ok "convert --weight-bits 16 keeps all but the weight precision" "$TMP/out"
fi

check_status "gain-scale chooses a scale on the validation audio" 0 \
  "$TRAIN" gain-scale --speech "$TMP/speech" --noise "$TMP/noise/pink.wav" \
  -o "$TMP/scaled.dae" --sequence-frames 20 --validation-sequences 4 \
  --threads 1 --seed 3 "$TMP/tiny.dae"
scale=$(sed -n 's/^dae-train: gain scale \([0-9.]*\): validation SI-SDR .* dB at 1) over [0-9]* sequences with speech$/\1/p' "$TMP/out")
"$TRAIN" --info "$TMP/tiny.dae" 2>&1 | sed 1d >"$TMP/a"
"$TRAIN" --info "$TMP/scaled.dae" 2>&1 | sed 1d >"$TMP/b"
if [ -n "$scale" ] && grep -q "^gain scale:  1.00$" "$TMP/a" &&
    grep -q "^gain scale:  $scale$" "$TMP/b" &&
    sed "s/^gain scale:  1.00$/gain scale:  $scale/" "$TMP/a" |
      cmp -s - "$TMP/b"; then
  ok "gain-scale keeps all but the gain scale"
else
  diff "$TMP/a" "$TMP/b" >>"$TMP/out"
  not_ok "gain-scale keeps all but the gain scale" "$TMP/out"
fi

check_status "gain-scale --speed-validation chooses a scale on speed-perturbed voices" 0 \
  "$TRAIN" gain-scale --speech "$TMP/speech" --noise "$TMP/noise/pink.wav" \
  -o "$TMP/scaled2.dae" --sequence-frames 20 --validation-sequences 4 \
  --threads 1 --seed 3 --speed-probability 1 --speed-max 1.3 \
  --speed-validation "$TMP/tiny.dae"

gru=$("$TRAIN" --info "$TMP/tiny.dae" 2>&1 | sed -n 's/^layers:.*-> GRU \([0-9]*\) -> gains.*/\1/p')
if [ -n "$gru" ] &&
    "$TRAIN" denoise --init "$TMP/tiny.dae" --dec-gru $((gru + 8)) \
      --speech "$TMP/speech" --noise "$TMP/noise/pink.wav" -o "$TMP/wide.dae" \
      --steps-per-epoch 2 --batch-size 2 --sequence-frames 20 \
      --validation-sequences 2 --threads 1 --seed 4 --epochs 1 \
      >"$TMP/out" 2>&1 &&
    "$TRAIN" --info "$TMP/wide.dae" >>"$TMP/out" 2>&1 &&
    grep -q "^layers:.*-> GRU $((gru + 8)) -> gains" "$TMP/out"; then
  ok "--init with more GRU units widens the model"
else
  not_ok "--init with more GRU units widens the model" "$TMP/out"
fi

if grep -q "skipping $TMP/speech/broken.wav" "$TMP/train.out"; then
  ok "an unreadable source is skipped by name"
else
  not_ok "an unreadable source is skipped by name" "$TMP/train.out"
fi

[ "$failed" -eq 0 ]
