#!/bin/sh
# Trains the shipped default models models/default-16k.dae and
# models/default-48k.dae from Debian-packaged audio with a fixed seed.
#
#   models/train-default.sh                  # everything (3 h 40 min on the
#                                            # machine that made the shipped
#                                            # models, 16 kHz after 2 h 30 min;
#                                            # machines differ, see
#                                            # models/README.md)
#   DAE_TRAIN_QUICK=1 models/train-default.sh    # smoke run, about 1 minute
#
# Steps: install missing packages (apt-get, through sudo when not root),
# build dae-train, prepare the data cache (models/prepare-data.py: decode,
# split, synthesise noise), then `dae-train denoise` at 16 and 48 kHz.
# Training resumes from its checkpoint when one exists; a rate whose model
# was finished is skipped (DAE_FORCE=1 retrains).  What the models are
# trained on, and what is held out for evaluation: models/README.md.
#
# Environment:
#   DAE_CACHE        data cache (default models/.cache; never committed)
#   DAE_BUILD        meson build dir (default build)
#   DAE_ONLY         all (default), data, 16k or 48k
#   DAE_TRAIN_QUICK  1: 2 epochs of 10 steps on 5 minutes of audio per
#                    source kind, written to $DAE_CACHE/quick/ (the shipped
#                    models and logs are left alone)
#   DAE_EPOCHS_16K, DAE_EPOCHS_48K, DAE_STEPS, DAE_BATCH
#                    first-stage epochs per rate, steps per epoch, batch size
#   DAE_TOTAL_16K, DAE_TOTAL_48K
#                    epochs at the end of the second stage per rate (see
#                    below; 0 skips it: the default at 16 kHz)
#   DAE_TOTAL3_16K, DAE_TOTAL3_48K
#                    epochs at the end of the third stage per rate (not
#                    above the second stage's: no third stage)
#   DAE_SDR_WEIGHT   the third (and fourth) stage's dae-train --sdr-weight (0.5)
#   DAE_TOTAL4_16K, DAE_TOTAL4_48K
#                    epochs of the fourth stage, a fine-tuning restart
#                    (default 8 at both rates; 0 skips it); its model is
#                    the mean of all its epochs
#   DAE_AUG4_16K, DAE_AUG4_48K
#                    the fourth stage's extra augmentation per rate
#                    (default at 16 kHz: --speed-probability 0.5
#                    --speed-max 1.3 --snr-max 35; set empty for none)
#   DAE_EXTRA_VOICES 1: the fourth stage also trains on more voices
#                    (klettres-data and the game voice clips that are not
#                    full-band; tried, made the mean worse: models/README.md)
#   DAE_SEED4, DAE_LR4
#                    the fourth stage's seed (7) and learning rate (0.00015)
#   DAE_TRAIN_ARGS4  more dae-train options for the fourth stage only
#                    (default: none)
#   DAE_AVERAGE_16K, DAE_AVERAGE_48K
#                    the model is the mean of the weights of this many last
#                    epochs of the last stage (0: the best validation
#                    epoch instead)
#   DAE_SEED         seed (default 1)       DAE_THREADS  OpenBLAS threads per rate (1)
#   DAE_ARCH_16K, DAE_ARCH_48K
#                    architecture flags for dae-train per rate (DAE_ARCH
#                    sets both)
#   DAE_TRAIN_ARGS   more dae-train denoise options for every stage of
#                    both rates (for instance augmentation: --snr-max 35
#                    --speed-probability 0.5); default none
#   DAE_WEIGHT_BITS  16 (default) or 32: how the finished models store their
#                    weights (16-bit floats: half the file, the same
#                    benchmark figures; the stages in between keep 32)
#   DAE_GAIN_SCALE   1 (default): the finished model gets the gain scale
#                    that dae-train gain-scale chooses on the held-out part
#                    of the training audio (same seed and lists), its
#                    voices speed-perturbed to stand in for unheard ones
#                    (DAE_GAIN_SCALE_ARGS); 0: none
#   DAE_GAIN_SCALE_ARGS  dae-train options for that step, after
#                    DAE_TRAIN_ARGS (default --speed-probability 1
#                    --speed-max 1.3 --speed-validation; empty: the
#                    training voices as they are)
#   DAE_FORCE        1: retrain even if the model is finished
set -eu

MODELS_DIR=$(cd "$(dirname "$0")" && pwd)
ROOT=$(dirname "$MODELS_DIR")
CACHE=${DAE_CACHE:-$MODELS_DIR/.cache}
BUILD=${DAE_BUILD:-$ROOT/build}
ONLY=${DAE_ONLY:-all}
QUICK=${DAE_TRAIN_QUICK:-0}
SEED=${DAE_SEED:-1}
THREADS=${DAE_THREADS:-1}
# Both rates: GRUs of 208 (about 450 000 parameters, 0.9 MB in 16-bit floats).
ARCH_16K=${DAE_ARCH_16K:-${DAE_ARCH:---enc-dense 128 --enc-gru 208 --bottleneck 96 --dec-gru 208 --vad}}
ARCH_48K=${DAE_ARCH_48K:-${DAE_ARCH:---enc-dense 128 --enc-gru 208 --bottleneck 96 --dec-gru 208 --vad}}
FORCE=${DAE_FORCE:-0}
WEIGHT_BITS=${DAE_WEIGHT_BITS:-16}
GAIN_SCALE=${DAE_GAIN_SCALE:-1}
GAIN_SCALE_ARGS=${DAE_GAIN_SCALE_ARGS---speed-probability 1 --speed-max 1.3 --speed-validation}
TRAIN_ARGS=${DAE_TRAIN_ARGS:-}

# Up to four stages per rate (the fourth: below).  First: learning rate 0.001, times 0.97
# after every epoch, early stopping after 8 epochs without a better
# validation loss, at most EPOCHS.  Second: resumed from the first stage's
# checkpoint with a slower decay (0.985) and no early stopping, up to TOTAL
# epochs, keeping every epoch's weights.  Third: the same, up to TOTAL3
# epochs, with the signal-to-distortion loss added (dae-train --sdr-weight;
# it raised the SI-SDR improvement at every SNR, most at high SNR, see
# models/README.md).  16 kHz skips the second stage (TOTAL 0): with the
# loss straight after the first stage its model came out better on the
# benchmark in 28 fewer epochs.  48 kHz keeps it: without it the 20 dB
# SNR bucket lost 0.2-0.4 dB and its ESTOI fell below the noisy input's.  The
# model is the mean of the weights of the last AVERAGE epochs (dae-train
# average): from one epoch to the next the validation loss and the SI-SDR
# of single epochs jumped around by +-0.3 dB, and their mean was better
# than any one of them.  On the 2-core machine that made the shipped
# models (both rates at once, one OpenBLAS thread each) an epoch took
# about 90 s at 16 kHz and 100-110 s at 48 kHz: 16 kHz (31 + 57 epochs)
# was done after about 2 h 30 min with the data preparation, 48 kHz
# (40 + 36 + 28) after about 3 h 25 min, and 15 min more for its fourth
# stage (8 epochs).  Each dae-train also mixes its
# next mini-batch in a thread of its own, so once 16 kHz is done 48 kHz
# uses the free core.  Other machines of the same size were slower
# (models/README.md).
EPOCHS_16K=${DAE_EPOCHS_16K:-40}
EPOCHS_48K=${DAE_EPOCHS_48K:-40}
TOTAL_16K=${DAE_TOTAL_16K:-0}
TOTAL_48K=${DAE_TOTAL_48K:-76}
TOTAL3_16K=${DAE_TOTAL3_16K:-88}
TOTAL3_48K=${DAE_TOTAL3_48K:-104}
SDR_WEIGHT=${DAE_SDR_WEIGHT:-0.5}
# Fourth stage: the averaged model of the stages above trained on (dae-train
# --init) with a fresh Adam state and a learning rate near where the third
# stage ended; the model is the mean of all its epochs.  At 48 kHz it
# raised the SI-SDR improvement from 4.98 to 5.05 dB, most at 20 dB SNR.
# At 16 kHz it changed nothing alone (4.97), but with speed perturbation
# up to 1.3x and SNRs up to 35 dB (AUG4_16K) it raised the mean from 4.94
# to 5.05 dB on the corrected set, 20 dB SNR from 1.02 to 1.61
# (models/README.md).
TOTAL4_16K=${DAE_TOTAL4_16K:-8}
TOTAL4_48K=${DAE_TOTAL4_48K:-8}
AUG4_16K=${DAE_AUG4_16K---speed-probability 0.5 --speed-max 1.3 --snr-max 35}
AUG4_48K=${DAE_AUG4_48K-}
EXTRA_VOICES=${DAE_EXTRA_VOICES:-0}
SEED4=${DAE_SEED4:-7}
LR4=${DAE_LR4:-0.00015}
TRAIN_ARGS4=${DAE_TRAIN_ARGS4:-}
AVERAGE_16K=${DAE_AVERAGE_16K:-16}
AVERAGE_48K=${DAE_AVERAGE_48K:-16}
DECAY2=0.985
STEPS=${DAE_STEPS:-250}
BATCH=${DAE_BATCH:-32}
MAX_SECONDS=0
OUT_DIR=$MODELS_DIR
LOG_DIR=$MODELS_DIR/logs
CKPT_DIR=$CACHE/checkpoints
if [ "$QUICK" = 1 ]; then
  EPOCHS_16K=${DAE_EPOCHS_16K:-60}
  EPOCHS_48K=${DAE_EPOCHS_48K:-60}
  TOTAL_16K=${DAE_TOTAL_16K:-0}
  TOTAL_48K=${DAE_TOTAL_48K:-0}
  TOTAL3_16K=${DAE_TOTAL3_16K:-0}
  TOTAL3_48K=${DAE_TOTAL3_48K:-0}
  TOTAL4_16K=${DAE_TOTAL4_16K:-0}
  TOTAL4_48K=${DAE_TOTAL4_48K:-0}
  AVERAGE_16K=${DAE_AVERAGE_16K:-0}
  AVERAGE_48K=${DAE_AVERAGE_48K:-0}
  STEPS=${DAE_STEPS:-10}
  BATCH=${DAE_BATCH:-8}
  MAX_SECONDS=300
  OUT_DIR=$CACHE/quick
  LOG_DIR=$CACHE/quick/logs
  CKPT_DIR=$CACHE/quick/checkpoints
fi

DATA_PACKAGES="
  asterisk-core-sounds-en-g722 asterisk-core-sounds-es-g722
  asterisk-core-sounds-fr-g722 asterisk-core-sounds-it-g722
  asterisk-core-sounds-ru-g722 hedgewars-data ktuberling-data
  ffmpeg sox python3-numpy
"

say () {
  echo "train-default: $*" >&2
}

# Debian 12's OpenBLAS (0.3.21) does not recognise some newer x86 CPUs and
# then falls back to its generic "Prescott" kernels: on this project's
# machine (AVX-512) sgemm ran 5x slower and training 3x slower.  Unless the
# caller chose, pick the kernel family from the CPU's flags.  (The kernels
# round differently: the same seed gives the same model only with the same
# kernel and thread count.)
if [ -z "${OPENBLAS_CORETYPE:-}" ] && [ -r /proc/cpuinfo ]; then
  flags=$(grep -m1 '^flags' /proc/cpuinfo)
  case "$flags" in
    *" avx512f "*) OPENBLAS_CORETYPE=SkylakeX; export OPENBLAS_CORETYPE ;;
    *" avx2 "*) OPENBLAS_CORETYPE=Haswell; export OPENBLAS_CORETYPE ;;
  esac
fi

if [ "$EXTRA_VOICES" = 1 ]; then
  DATA_PACKAGES="$DATA_PACKAGES klettres-data"
fi

install_packages () {
  missing=""
  for pkg in $DATA_PACKAGES; do
    if ! dpkg-query -W -f='${Status}' "$pkg" 2>/dev/null |
        grep -q "install ok installed"; then
      missing="$missing $pkg"
    fi
  done
  if [ -n "$missing" ]; then
    say "installing:$missing"
    SUDO=""
    if [ "$(id -u)" -ne 0 ]; then
      SUDO="sudo"
    fi
    $SUDO apt-get update -qq
    # shellcheck disable=SC2086
    DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq \
      --no-install-recommends $missing >/dev/null
  fi
  "$ROOT/scripts/deps.sh"
}

build_tool () {
  if [ ! -f "$BUILD/build.ninja" ]; then
    meson setup "$BUILD" "$ROOT"
  fi
  ninja -C "$BUILD" tools/dae-train >/dev/null
}

prepare_data () {
  extra_option=""
  if [ "$EXTRA_VOICES" = 1 ]; then
    extra_option="--extra-voices"
  fi
  if [ -f "$CACHE/summary.txt" ] &&
      [ "$CACHE/summary.txt" -nt "$MODELS_DIR/prepare-data.py" ] &&
      { [ "$EXTRA_VOICES" != 1 ] ||
        [ -f "$CACHE/lists/speech-48k-extra.txt" ]; }; then
    say "data cache $CACHE is ready ($CACHE/summary.txt)"
    return 0
  fi
  say "preparing the data cache in $CACHE"
  # bench/eval-sources.txt is not rewritten here: it defines the committed
  # evaluation set, and one held-out file (ktuberling sl/pizzeria_broccolli,
  # 1.0e-4 of its energy above 8 kHz) sits exactly on the full-band
  # threshold and came and went between runs.  prepare-data.py --eval-list
  # rewrites it on purpose.
  # shellcheck disable=SC2086
  /usr/bin/python3 "$MODELS_DIR/prepare-data.py" "$CACHE" $extra_option
}

# run_dae_train LOG STATUS_FILE ARGS...: dae-train ARGS, output to the log
# as well; exits the script (resumable) if dae-train fails
run_dae_train () {
  log=$1
  status_file=$2
  shift 2
  {
    set +e
    "$BUILD/tools/dae-train" "$@" 2>&1
    echo $? >"$status_file"
  } | tee -a "$log"
  rc=$(cat "$status_file")
  if [ "$rc" -ne 0 ]; then
    say "dae-train exited with status $rc (rerun this script to resume)"
    exit "$rc"
  fi
}

# average_epochs LAST STAGE COUNT DIR OUTPUT: with COUNT > 0, OUTPUT is the
# mean of the weights of epochs LAST - COUNT + 1 to LAST in DIR (run inside
# train)
average_epochs () {
  last=$1
  stage=$2
  count=$3
  dir=$4
  target=$5
  [ "$count" -gt 0 ] || return 0
  first=$((last - count + 1))
  set --
  e=$first
  while [ "$e" -le "$last" ]; do
    set -- "$@" "$dir/$(printf 'epoch-%03d.dae' "$e")"
    e=$((e + 1))
  done
  say "averaging the weights of epochs $first to $last into $target"
  run_dae_train "$log" "$CKPT_DIR/$name.status" average -o "$target" \
    --info-text "dae default $khz kHz speech model, made by models/train-default.sh (see models/README.md): the mean of the weights of epochs $first to $last of the $stage stage" \
    "$@"
}

# train RATE EPOCHS TOTAL TOTAL3 AVERAGE BANDS ARCH TOTAL4
train () {
  rate=$1
  epochs=$2
  total=$3
  total3=$4
  average=$5
  bands=$6
  arch=$7
  total4=$8
  khz=$(($1 / 1000))
  k=${khz}k
  name=default-$k
  model=$OUT_DIR/$name.dae
  # the stages before fine-tuning write base (the model, without a fourth)
  base=$model
  if [ "$total4" -gt 0 ]; then
    base=$CKPT_DIR/$name-base.dae
  fi
  checkpoint=$CKPT_DIR/$name.dae.ckpt
  checkpoint4=$CKPT_DIR/$name-finetune.dae.ckpt
  done1=$CKPT_DIR/$name.done
  done2=$CKPT_DIR/$name.done2
  done3=$CKPT_DIR/$name.done3
  done4=$CKPT_DIR/$name.done4
  epoch_dir=$CKPT_DIR/$name-epochs
  epoch_dir4=$CKPT_DIR/$name-finetune-epochs
  log=$LOG_DIR/train-$k.log

  if [ "$total3" -gt "$total" ]; then
    if [ "$average" -gt $((total3 - total)) ]; then
      say "$k: averaging $average epochs needs a third stage of at least that many (second stage to $total, third to $total3)"
      exit 2
    fi
  elif [ "$average" -gt 0 ] && [ "$average" -gt $((total - epochs)) ]; then
    say "$k: averaging $average epochs needs a second stage of at least that many (total $total, first stage at most $epochs)"
    exit 2
  fi
  if [ "$FORCE" != 1 ] && [ "$QUICK" != 1 ] && first_stages_done &&
      { [ "$total4" -le 0 ] || [ -f "$done4" ]; } && [ -f "$model" ]; then
    say "$model is finished (DAE_FORCE=1 retrains); skipping"
    return 0
  fi
  if [ "$FORCE" = 1 ] || [ "$QUICK" = 1 ]; then
    rm -f "$checkpoint" "$checkpoint4" "$done1" "$done2" "$done3" "$done4"
    rm -f "$CKPT_DIR/$name-base.dae"
    rm -rf "$epoch_dir" "$epoch_dir4"
  fi
  mkdir -p "$OUT_DIR" "$LOG_DIR" "$CKPT_DIR"
  # the first three stages finished by a script without the fourth wrote
  # their model to models/: that is the base to fine-tune
  if [ "$total4" -gt 0 ] && [ ! -f "$base" ] && [ ! -f "$done4" ] &&
      first_stages_done && [ -f "$model" ]; then
    say "the first stages are done: fine-tuning $model (kept as $base)"
    cp "$model" "$base"
  fi
  set -- --rate "$rate" --window-ms 20 --hop-ms 10 --bands "$bands"
  # shellcheck disable=SC2086
  set -- "$@" $arch $TRAIN_ARGS --steps-per-epoch "$STEPS" --batch-size "$BATCH" \
    --threads "$THREADS" --max-seconds-per-source "$MAX_SECONDS" \
    --info-text "dae default $khz kHz speech model, made by models/train-default.sh (see models/README.md)"
  # a stage already done (by this script or an earlier one) is skipped
  first_stages "$@"
  if [ "$total4" -gt 0 ]; then
    finetune "$@"
  fi
  # the finished model with WEIGHT_BITS-bit weights (16 rounds each weight
  # to the nearest half; converting again changes nothing)
  run_dae_train "$log" "$CKPT_DIR/$name.status" convert \
    --weight-bits "$WEIGHT_BITS" -o "$model" "$model"
  if [ "$GAIN_SCALE" = 1 ]; then
    # on the first stages' validation split (their seed, lists and data
    # options), its voices speed-perturbed (GAIN_SCALE_ARGS): the model
    # knows the training voices as they are, and wants less scale for them
    # than for voices it has not heard; 512 sequences, so that the choice
    # does not hang on a few
    say "$k: choosing the gain scale of $model; log: $log"
    # shellcheck disable=SC2086
    run_dae_train "$log" "$CKPT_DIR/$name.status" gain-scale \
      --speech "@$CACHE/lists/speech-$k-train.txt" \
      --noise "@$CACHE/lists/noise-$k-train.txt" $TRAIN_ARGS $GAIN_SCALE_ARGS \
      --seed "$SEED" --threads "$THREADS" \
      --max-seconds-per-source "$MAX_SECONDS" --validation-sequences 512 \
      -o "$model" "$model"
  fi
  "$BUILD/tools/dae-train" --info "$model" | tee -a "$log"
}

# first_stages_done: whether the stages before the fourth are all done (run
# inside train)
first_stages_done () {
  [ -f "$done1" ] && { [ "$total" -le 0 ] || [ -f "$done2" ]; } &&
    { [ "$total3" -le "$total" ] || [ -f "$done3" ]; }
}

# first_stages ARGS...: the first three stages, each unless done, into base
# (run inside train; ARGS: the options common to all stages)
first_stages () {
  set -- --speech "@$CACHE/lists/speech-$k-train.txt" \
    --noise "@$CACHE/lists/noise-$k-train.txt" \
    --output "$base" --checkpoint "$checkpoint" --resume --seed "$SEED" "$@"

  if [ ! -f "$done1" ]; then
    say "training $model, first stage ($epochs epochs of $STEPS steps); log: $log"
    run_dae_train "$log" "$CKPT_DIR/$name.status" denoise "$@" \
      --epochs "$epochs"
    touch "$done1"
  fi
  if [ "$total" -gt 0 ] && [ ! -f "$done2" ]; then
    say "training $model, second stage (to $total epochs, decay $DECAY2); log: $log"
    run_dae_train "$log" "$CKPT_DIR/$name.status" denoise "$@" \
      --epochs "$total" --patience 0 --lr-decay "$DECAY2" --save-epochs "$epoch_dir"
    if [ "$total3" -le "$total" ]; then
      average_epochs "$total" "second" "$average" "$epoch_dir" "$base"
    fi
    touch "$done2"
  fi
  if [ "$total3" -gt "$total" ] && [ ! -f "$done3" ]; then
    say "training $model, third stage (to $total3 epochs, signal-to-distortion loss weight $SDR_WEIGHT); log: $log"
    run_dae_train "$log" "$CKPT_DIR/$name.status" denoise "$@" \
      --epochs "$total3" --patience 0 --lr-decay "$DECAY2" --save-epochs "$epoch_dir" \
      --sdr-weight "$SDR_WEIGHT"
    average_epochs "$total3" "third" "$average" "$epoch_dir" "$base"
    touch "$done3"
  fi
}

# finetune ARGS...: the fourth stage (run inside train; ARGS: the options
# common to all stages)
finetune () {
  if [ ! -f "$done4" ]; then
    extra=""
    if [ "$EXTRA_VOICES" = 1 ]; then
      extra="@$CACHE/lists/speech-$k-extra.txt"
    fi
    case $k in
      16k) aug4=$AUG4_16K ;;
      *) aug4=$AUG4_48K ;;
    esac
    say "fourth stage: training on from $base ($total4 epochs, learning rate $LR4${aug4:+, $aug4}); log: $log"
    # shellcheck disable=SC2086
    run_dae_train "$log" "$CKPT_DIR/$name.status" denoise --init "$base" \
      --speech "@$CACHE/lists/speech-$k-train.txt" $extra \
      --noise "@$CACHE/lists/noise-$k-train.txt" \
      --output "$model" --checkpoint "$checkpoint4" --resume --seed "$SEED4" \
      $aug4 $TRAIN_ARGS4 "$@" --epochs "$total4" --patience 0 --learning-rate "$LR4" \
      --lr-decay "$DECAY2" --sdr-weight "$SDR_WEIGHT" --save-epochs "$epoch_dir4"
    average_epochs "$total4" "fourth (fine-tuning)" "$total4" "$epoch_dir4" "$model"
    touch "$done4"
  fi
}

install_packages
build_tool
case "$ONLY" in
  all|data|16k|48k) ;;
  *) say "DAE_ONLY must be all, data, 16k or 48k"; exit 2 ;;
esac
case "$WEIGHT_BITS" in
  16|32) ;;
  *) say "DAE_WEIGHT_BITS must be 16 or 32"; exit 2 ;;
esac
case "$GAIN_SCALE" in
  0|1) ;;
  *) say "DAE_GAIN_SCALE must be 0 or 1"; exit 2 ;;
esac
prepare_data
if [ "$ONLY" = all ]; then
  # Both rates at once, one OpenBLAS thread each: the two cores are used
  # fully (48 kHz sequence preparation is single-threaded anyway).
  ( train 16000 "$EPOCHS_16K" "$TOTAL_16K" "$TOTAL3_16K" "$AVERAGE_16K" 40 "$ARCH_16K" "$TOTAL4_16K" ) &
  pid16=$!
  ( train 48000 "$EPOCHS_48K" "$TOTAL_48K" "$TOTAL3_48K" "$AVERAGE_48K" 48 "$ARCH_48K" "$TOTAL4_48K" ) &
  pid48=$!
  rc=0
  wait "$pid16" || rc=$?
  wait "$pid48" || rc=$?
  [ "$rc" -eq 0 ] || exit "$rc"
elif [ "$ONLY" = 16k ]; then
  train 16000 "$EPOCHS_16K" "$TOTAL_16K" "$TOTAL3_16K" "$AVERAGE_16K" 40 "$ARCH_16K" "$TOTAL4_16K"
elif [ "$ONLY" = 48k ]; then
  train 48000 "$EPOCHS_48K" "$TOTAL_48K" "$TOTAL3_48K" "$AVERAGE_48K" 48 "$ARCH_48K" "$TOTAL4_48K"
fi
say "done"
