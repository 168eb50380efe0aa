/* libdae — the trainer: data split, training recipes, BPTT with Adam,
 * validation, early stopping, checkpoints, threshold calibration
 * Copyright (C) 2026 The dae authors
 * SPDX-License-Identifier: LGPL-2.1-or-later
 *
 * Sequences.  A training sequence is sequence_frames (T) consecutive frames
 * of one hop-aligned audio segment.  Every sequence starts from a fresh STFT
 * (dae_stft_reset) and a zero recurrent state, and its segment has
 * WARMUP_HOPS extra hops in front (window / hop - 1 to fill the analysis
 * window with real audio, plus a few for the colouring filter and the
 * reverberation to settle) whose frames are analysed but not used.  Band
 * energies (and band tonality) go through dae_stft_analyze,
 * dae_bands_energy (dae_bands_tonality) and dae_features_frame: the
 * streaming processor's own code.
 *
 * Normalisation.  In dae_trainer_prepare the mean and standard deviation of
 * log10 band energy (+ DAE_LOG_EPSILON) of NORM_SEQUENCES network inputs
 * drawn from the training audio with the recipe's augmentation (their own
 * random stream) become the model's norm (std floored at NORM_STD_FLOOR).
 *
 * Denoise recipe, per sequence: a speech segment (speech clips at least one
 * segment long) and a noise segment (any noise clip, looped if shorter);
 * with reverb_probability the speech is convolved with a synthetic room
 * (augment.c) and the *target* is the speech convolved with the direct path
 * plus the first reverb_early_ms of the response (by default
 * DAE_REVERB_EARLY_MS, so the network learns to remove late reverberation);
 * speech and noise each get an independent random colouring filter with
 * filter_probability; the speech is scaled to a level uniform in
 * [level_min_db, level_max_db] dBFS (RMS over the segment) and the noise to
 * that level minus an SNR uniform in [snr_min_db, snr_max_db];
 * NOISE_ONLY_PROBABILITY of the sequences have no speech and
 * SPEECH_ONLY_PROBABILITY no noise; with clip_probability the mixture is
 * clipped 1 to 20 dB below its peak, and it is always clipped to [-1, 1] as
 * a converter would.  Targets per frame and band, from the band energies of
 * the target speech (Ec) and of the mixture (En):
 *   gain g = min (1, sqrt (Ec / En)); where both are below the silence
 *     floor (SILENCE_DBFS white noise) the band is "don't care" (mask 0);
 *   reconstruction: the network's own (normalised) input features;
 *   voice activity: 1 where the target speech frame's mean band energy is
 *     within VAD_RELATIVE_DB of the sequence's mean and above the floor.
 * Loss, averaged over frames (and bands):
 *   gain_weight * mask * (d^2 + GAIN_LOSS_QUARTIC d^4), d = sqrt (ĝ) - sqrt (g)
 *     (rnnoise's loss without its cross-entropy term)
 *   + sdr_weight * 10 log10 (1 + Err / (Es 10^(-DISTORTION_CAP_DB / 10)))
 *     per sequence with target speech (averaged over all sequences), where
 *     Es is the sequence's target speech energy summed over frames and
 *     bands, and Err the energy of the error of the gains applied to the
 *     mixture, (ĝ - 1)^2 es + ĝ^2 (em - es) per frame and band with es the
 *     band's target energy (at most the mixture's) and em the mixture's,
 *     taking speech and noise as uncorrelated: a signal-to-distortion loss
 *     in dB that, unlike the gain loss, weighs a small error in a clean
 *     sequence as much as a large one in a noisy sequence, as SI-SDR does;
 *     0 when Err = 0, capped at DISTORTION_CAP_DB of SDR
 *   + recon_weight * (recon - input)^2
 *   + vad_weight * BCE (vad, target)      (only if the model has the head)
 *
 * Anomaly recipe, per sequence: a normal segment, scaled by a gain uniform
 * in [level_min_db, level_max_db] dB *relative to the recording* (so a
 * range around 0 keeps the machine's absolute level meaningful), optionally
 * coloured/clipped like the speech above.  The clean normalised features are
 * the reconstruction target; the input is them (for a predictive model,
 * those of the previous frame, 0 before the first) plus Gaussian noise of
 * std `corruption`, with each (frame, band) independently dropped to 0 (the
 * band's mean) with probability `dropout`.  Only recon_weight counts (the gain and
 * voice-activity heads are not trained).  dae_trainer_get_model runs the
 * best model through a DaeProcessor over the held-out normal audio (each
 * held-out segment from a reset, its first window / hop frames skipped) and
 * first sets the band error scale (each band's mean squared error on that
 * audio, so that every band's error is about 1 on normal audio), then
 * stores the threshold_quantile quantile of the frame scores on that scale
 * as the anomaly threshold, and with it the calibration
 * (DaeAnomalyCalibration):
 * the quantile, the seconds scored and the false alarms per hour that a
 * DaeScorer with that threshold and a hold of alarm_hold_seconds raises on
 * the same frames (the element's detector).
 *
 * Validation.  Each source's last validation_fraction of audio (whole clips
 * from the end, the boundary clip split) is held out; the validation set is
 * validation_sequences sequences made from it once, in prepare, from a
 * fixed random stream.  If the held-out audio of a source has no usable
 * segment (for example validation_fraction 0) the training audio is used
 * and the model's info says so.
 *
 * Optimisation.  A mini-batch is batch_size sequences stacked into
 * batch_size * T rows: dense layers run as one cblas_sgemm over all rows,
 * the GRUs sequence by sequence (dae_gru_forward_seq / backward_seq, BPTT
 * over the whole sequence).  Gradients of the batch-mean loss are clipped to
 * global norm grad_clip, then Adam (beta1 0.9, beta2 0.999, eps 1e-8); the
 * learning rate is multiplied by lr_decay after every completed epoch.  A
 * step whose gradient is not finite is skipped.  Everything is allocated in
 * prepare; an epoch allocates nothing.  All randomness comes from DaeRng
 * streams derived from the seed, so runs are reproducible for a given seed
 * and OpenBLAS thread count.
 *
 * Checkpoints: see CKPT_* below.
 */

#include <errno.h>
#include <fcntl.h>
#include <float.h>
#include <math.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "train-private.h"

#define WARMUP_EXTRA_HOPS 4
#define NORM_SEQUENCES 128
#define NORM_STD_FLOOR 0.1f
#define SILENCE_DBFS -90.0
#define RMS_FLOOR 1e-6
#define NOISE_ONLY_PROBABILITY 0.1
#define SPEECH_ONLY_PROBABILITY 0.05
#define CLIP_MIN_DB 1.0
#define CLIP_MAX_DB 20.0
#define GAIN_LOSS_QUARTIC 10.0f
#define DISTORTION_CAP_DB 30.0
#define VAD_RELATIVE_DB -30.0
#define VAD_PROB_EPS 1e-7f
#define GAIN_SQRT_FLOOR 1e-12f
#define ADAM_BETA1 0.9
#define ADAM_BETA2 0.999
#define ADAM_EPS 1e-8f
#define CALIBRATION_MAX_FRAMES 2000000
/* the smallest band error scale, relative to the mean over bands */
#define ERROR_SCALE_FLOOR 1e-6
/* daedenoise's default anomaly-hold */
#define ALARM_HOLD_SECONDS 0.2
/* the anomaly recipe's architecture (dae_model_config_init_for_recipe) */
#define ANOMALY_HOP_MS 32
#define ANOMALY_WINDOW_HOPS 8
#define ANOMALY_MAX_WINDOW 16384
#define ANOMALY_BANDS 256
#define ANOMALY_BAND_MIN_HZ 20.0f
#define ANOMALY_BAND_MAX_FRACTION 0.47f
#define ANOMALY_ENC_DENSE 128
#define ANOMALY_ENC_GRU 128
#define ANOMALY_BOTTLENECK 24
#define ANOMALY_DEC_GRU 128
#define MAX_BATCH_ROWS ((size_t) 1 << 22)
#define MAX_VALIDATION_ROWS ((size_t) 1 << 24)
#define MAX_VALIDATION_SEQUENCES 100000
#define NAMES_MAX 160

/* seeds of the independent random streams, XORed with the user's seed */
#define STREAM_TRAIN UINT64_C (0x7472616e5f6d6978)
#define STREAM_NORM UINT64_C (0x6e6f726d5f737461)
#define STREAM_VALID UINT64_C (0x76616c5f73657421)

#define N_SOURCES 3

static const char *const source_names[N_SOURCES] = {
  "speech", "noise", "normal"
};

typedef struct
{
  float *data;
  size_t n;
} Clip;

typedef struct
{
  const float *data;
  size_t n;
} Segment;

/* Segments with selection weights: fixed-length pick (speech, normal):
 * n - L + 1 start positions; looping pick (noise): n. */
typedef struct
{
  Segment *seg;
  uint64_t *cum;                /* cumulative weight up to and incl. i */
  size_t n_seg;
  uint64_t total;
} SegmentSet;

typedef struct
{
  Clip *clips;
  size_t n_clips;
  size_t cap;
  size_t n_skipped;
  uint64_t samples;             /* in kept clips */
  uint64_t skipped_samples;
  char names[NAMES_MAX];
  size_t n_named;
  SegmentSet train;
  SegmentSet valid;
  int valid_from_train;
} Source;

/* Scratch of one sequence generator. */
typedef struct
{
  float *speech;                /* L: dry speech / normal audio */
  float *wet;                   /* L: reverberant speech */
  float *target;                /* L: target speech */
  float *noise;                 /* L */
  float *mix;                   /* L */
  float *spectrum;              /* 2 * n_bins */
  float *e_mix;                 /* T * n_bands */
  float *e_clean;               /* T * n_bands */
  float *t_mix;                 /* T * n_bands: input tonality, if used */
  int noise_only;
  DaeStft *stft;
  DaeReverb *reverb;
  float *speech_long;           /* L_speech, with speed perturbation */
  DaeSpeedKernel *speed;        /* NULL without speed perturbation */
  float *block;
} Gen;

/* A set of sequences ready for the network: rows = n_seq * T. */
typedef struct
{
  float *x;                     /* [rows][nb] input features */
  float *tg;                    /* [rows][nb] gain target */
  float *mask;                  /* [rows][nb] gain loss mask */
  float *tr;                    /* [rows][nb] reconstruction target */
  float *tv;                    /* [rows] vad target */
  float *es;                    /* [rows][nb] target speech band energy */
  float *em;                    /* [rows][nb] mixture band energy */
  float *block;
} SeqSet;

/* Activations and their gradients for batch_size * T rows. */
typedef struct
{
  float *x;                     /* the sequences' inputs and targets, */
  float *tg;                    /* copied to time-major order */
  float *mask;
  float *tr;
  float *tv;
  float *es;
  float *em;
  float *a1;                    /* enc_dense out */
  float *h1;                    /* enc_gru out */
  float *c1;                    /* enc_gru cache */
  float *a2;                    /* bottleneck out */
  float *h2;                    /* dec_gru out */
  float *c2;                    /* dec_gru cache */
  float *gin;                   /* gain head input (gain_skip) */
  float *gout;
  float *rout;
  float *vout;
  float *dgout;
  float *drout;
  float *dvout;
  float *dgin;
  float *dtmp;
  float *dh2;
  float *da2;
  float *dh1;
  float *da1;
  float *gates;                 /* GRU backward scratch */
  float *gru_work;
  float *block;
} Work;

struct DaeTrainer
{
  DaeModelConfig mconfig;
  DaeTrainConfig config;
  size_t T;
  size_t warm;
  size_t L;                     /* samples per sequence incl. warm-up */
  size_t L_speech;              /* speech samples a training sequence reads:
                                 * L, more with speed perturbation */
  size_t nb;
  size_t nf;                    /* network input width (2 nb: tonality) */
  size_t n_bins;
  float silence;                /* band energy floor */

  Source sources[N_SOURCES];
  char *user_info;

  DaeModel *model;              /* current weights + norm */
  DaeModel *best;
  DaeModel *grad;
  DaeModel *adam_m;
  DaeModel *adam_v;
  DaeTensor tp[DAE_MAX_TENSORS];
  DaeTensor tg[DAE_MAX_TENSORS];
  DaeTensor tm[DAE_MAX_TENSORS];
  DaeTensor tv[DAE_MAX_TENSORS];
  DaeTensor tb[DAE_MAX_TENSORS];
  size_t n_tensors;

  DaeBands bands;
  Gen gen;
  SeqSet batch;
  SeqSet next_batch;            /* with generator_thread: being mixed */
  SeqSet valid;
  size_t n_valid;
  Work work;

  int use_gain;
  int use_recon;
  int tonality_added;           /* initial model without tonality: its
                                 * normalisation is computed in prepare */
  int use_vad;

  /* state (checkpointed) */
  DaeRng rng;
  uint64_t adam_step;
  size_t epoch;
  size_t since_best;
  double lr;
  double best_loss;
  int loaded;
  int prepared;
};

/* ------------------------------------------------------------------------ */
/* Config                                                                    */

void
dae_model_config_init_for_recipe (DaeModelConfig * config,
    unsigned sample_rate, DaeRecipe recipe)
{
  size_t hop;

  if (config == NULL)
    return;
  dae_model_config_init (config, sample_rate);
  if (recipe != DAE_RECIPE_ANOMALY)
    return;

  hop = ((size_t) sample_rate * ANOMALY_HOP_MS + 500) / 1000;
  /* at the highest rates the window stays within the STFT's limit */
  if (hop > ANOMALY_MAX_WINDOW / ANOMALY_WINDOW_HOPS)
    hop = ANOMALY_MAX_WINDOW / ANOMALY_WINDOW_HOPS;
  if (hop < 1)
    hop = 1;
  config->hop_samples = hop;
  config->window_samples = ANOMALY_WINDOW_HOPS * hop;
  config->n_bands = ANOMALY_BANDS;
  config->band_min_hz = ANOMALY_BAND_MIN_HZ;
  config->band_max_hz = ANOMALY_BAND_MAX_FRACTION * (float) sample_rate;
  config->enc_dense = ANOMALY_ENC_DENSE;
  config->enc_gru = ANOMALY_ENC_GRU;
  config->bottleneck = ANOMALY_BOTTLENECK;
  config->dec_gru = ANOMALY_DEC_GRU;
  config->has_vad = 0;
  config->gain_skip = 1;
  config->predictive = 1;
}

void
dae_train_config_init (DaeTrainConfig * config, DaeRecipe recipe)
{
  if (config == NULL)
    return;
  memset (config, 0, sizeof (*config));
  config->recipe = recipe;
  config->seed = 1;
  config->batch_size = 32;
  config->learning_rate = 1e-3;
  config->lr_decay = 0.97;
  config->grad_clip = 1.0;
  config->patience = 8;
  config->validation_fraction = 0.1;
  config->threshold_quantile = 0.99;
  config->alarm_hold_seconds = ALARM_HOLD_SECONDS;
  config->speed_probability = 0.0;
  config->speed_max_factor = 1.15;
  config->generator_thread = 1;
  config->reverb_early_ms = DAE_REVERB_EARLY_MS;
  config->speed_validation = 0;

  if (recipe == DAE_RECIPE_ANOMALY) {
    config->max_epochs = 40;
    config->steps_per_epoch = 100;
    config->sequence_frames = 100;
    config->validation_sequences = 64;
    config->snr_min_db = 0.0;
    config->snr_max_db = 0.0;
    config->level_min_db = -3.0;
    config->level_max_db = 3.0;
    config->filter_probability = 0.0;
    config->reverb_probability = 0.0;
    config->clip_probability = 0.0;
    config->corruption = 0.5;
    config->dropout = 0.05;
    config->gain_weight = 0.0;
    config->recon_weight = 1.0;
    config->vad_weight = 0.0;
    config->sdr_weight = 0.0;
  } else {
    config->max_epochs = 60;
    config->steps_per_epoch = 250;
    config->sequence_frames = 200;
    config->validation_sequences = 128;
    config->snr_min_db = -5.0;
    config->snr_max_db = 25.0;
    config->level_min_db = -40.0;
    config->level_max_db = -10.0;
    config->filter_probability = 0.5;
    config->reverb_probability = 0.25;
    config->clip_probability = 0.05;
    config->corruption = 0.0;
    config->gain_weight = 1.0;
    config->recon_weight = 0.1;
    config->vad_weight = 0.1;
    config->sdr_weight = 0.0;
  }
}

static DaeStatus
check_real (DaeError * error, const char *name, double value, double lo,
    double hi)
{
  if (!(value >= lo && value <= hi))
    return dae_set_error (error, DAE_ERROR_INVALID_ARGUMENT,
        "%s = %g out of range (%g to %g)", name, value, lo, hi);
  return DAE_OK;
}

static DaeStatus
check_size (DaeError * error, const char *name, size_t value, size_t lo,
    size_t hi)
{
  if (value < lo || value > hi)
    return dae_set_error (error, DAE_ERROR_INVALID_ARGUMENT,
        "%s = %zu out of range (%zu to %zu)", name, value, lo, hi);
  return DAE_OK;
}

#define CHECK(expr) do { DaeStatus s_ = (expr); if (s_ != DAE_OK) return s_; } while (0)

static DaeStatus
validate_train_config (const DaeModelConfig * mc, const DaeTrainConfig * c,
    DaeError * error)
{
  if (c->recipe != DAE_RECIPE_DENOISE && c->recipe != DAE_RECIPE_ANOMALY)
    return dae_set_error (error, DAE_ERROR_INVALID_ARGUMENT,
        "recipe = %d is not a DaeRecipe", (int) c->recipe);
  CHECK (check_size (error, "max_epochs", c->max_epochs, 1, 1000000));
  CHECK (check_size (error, "steps_per_epoch", c->steps_per_epoch, 1,
          100000000));
  CHECK (check_size (error, "batch_size", c->batch_size, 1, 1024));
  CHECK (check_size (error, "sequence_frames", c->sequence_frames, 2, 10000));
  if (c->batch_size * c->sequence_frames > MAX_BATCH_ROWS)
    return dae_set_error (error, DAE_ERROR_INVALID_ARGUMENT,
        "batch_size * sequence_frames = %zu frames, at most %zu",
        c->batch_size * c->sequence_frames, MAX_BATCH_ROWS);
  CHECK (check_real (error, "learning_rate", c->learning_rate, 1e-12, 10.0));
  if (!(c->lr_decay > 0.0 && c->lr_decay <= 1.0))
    return dae_set_error (error, DAE_ERROR_INVALID_ARGUMENT,
        "lr_decay = %g out of range (0 exclusive to 1)", c->lr_decay);
  if (!(c->grad_clip > 0.0 && isfinite (c->grad_clip)))
    return dae_set_error (error, DAE_ERROR_INVALID_ARGUMENT,
        "grad_clip = %g must be finite and > 0", c->grad_clip);
  CHECK (check_real (error, "validation_fraction", c->validation_fraction,
          0.0, 0.5));
  CHECK (check_size (error, "validation_sequences", c->validation_sequences,
          1, MAX_VALIDATION_SEQUENCES));
  if (c->validation_sequences * c->sequence_frames > MAX_VALIDATION_ROWS)
    return dae_set_error (error, DAE_ERROR_INVALID_ARGUMENT,
        "validation_sequences * sequence_frames = %zu frames, at most %zu",
        c->validation_sequences * c->sequence_frames, MAX_VALIDATION_ROWS);
  CHECK (check_real (error, "snr_min_db", c->snr_min_db, -100.0, 100.0));
  CHECK (check_real (error, "snr_max_db", c->snr_max_db, c->snr_min_db, 100.0));
  if (c->recipe == DAE_RECIPE_DENOISE) {
    CHECK (check_real (error, "level_min_db", c->level_min_db, -120.0, 0.0));
    CHECK (check_real (error, "level_max_db", c->level_max_db,
            c->level_min_db, 0.0));
  } else {
    CHECK (check_real (error, "level_min_db", c->level_min_db, -60.0, 60.0));
    CHECK (check_real (error, "level_max_db", c->level_max_db,
            c->level_min_db, 60.0));
  }
  CHECK (check_real (error, "filter_probability", c->filter_probability, 0.0,
          1.0));
  CHECK (check_real (error, "reverb_probability", c->reverb_probability, 0.0,
          1.0));
  CHECK (check_real (error, "clip_probability", c->clip_probability, 0.0, 1.0));
  CHECK (check_real (error, "corruption", c->corruption, 0.0, 100.0));
  CHECK (check_real (error, "dropout", c->dropout, 0.0, 0.9));
  CHECK (check_real (error, "gain_weight", c->gain_weight, 0.0, 1e6));
  CHECK (check_real (error, "recon_weight", c->recon_weight, 0.0, 1e6));
  CHECK (check_real (error, "vad_weight", c->vad_weight, 0.0, 1e6));
  CHECK (check_real (error, "sdr_weight", c->sdr_weight, 0.0, 1e6));
  CHECK (check_real (error, "speed_probability", c->speed_probability, 0.0,
          1.0));
  CHECK (check_real (error, "speed_max_factor", c->speed_max_factor, 1.0,
          DAE_SPEED_MAX_FACTOR));
  CHECK (check_real (error, "reverb_early_ms", c->reverb_early_ms, 0.0,
          DAE_REVERB_MAX_MS));
  if (c->generator_thread != 0 && c->generator_thread != 1)
    return dae_set_error (error, DAE_ERROR_INVALID_ARGUMENT,
        "generator_thread = %d: must be 0 or 1", c->generator_thread);
  if (c->speed_validation != 0 && c->speed_validation != 1)
    return dae_set_error (error, DAE_ERROR_INVALID_ARGUMENT,
        "speed_validation = %d: must be 0 or 1", c->speed_validation);
  if (c->speed_validation && !(c->speed_probability > 0.0))
    return dae_set_error (error, DAE_ERROR_INVALID_ARGUMENT,
        "speed_validation = 1 needs speed_probability > 0 (the "
        "perturbation the validation sequences take)");
  if (!(c->threshold_quantile > 0.0 && c->threshold_quantile < 1.0))
    return dae_set_error (error, DAE_ERROR_INVALID_ARGUMENT,
        "threshold_quantile = %g out of range (0 to 1, exclusive)",
        c->threshold_quantile);
  CHECK (check_real (error, "alarm_hold_seconds", c->alarm_hold_seconds, 0.0,
          3600.0));

  if (c->recipe == DAE_RECIPE_ANOMALY) {
    if (c->gain_weight != 0.0)
      return dae_set_error (error, DAE_ERROR_INVALID_ARGUMENT,
          "gain_weight = %g: the anomaly recipe has no clean-frame target "
          "(must be 0)", c->gain_weight);
    if (c->vad_weight != 0.0)
      return dae_set_error (error, DAE_ERROR_INVALID_ARGUMENT,
          "vad_weight = %g: the anomaly recipe has no voice-activity target "
          "(must be 0)", c->vad_weight);
    if (c->sdr_weight != 0.0)
      return dae_set_error (error, DAE_ERROR_INVALID_ARGUMENT,
          "sdr_weight = %g: the anomaly recipe has no clean-speech target "
          "(must be 0)", c->sdr_weight);
    if (c->speed_probability != 0.0)
      return dae_set_error (error, DAE_ERROR_INVALID_ARGUMENT,
          "speed_probability = %g: speed perturbation is for speech (the "
          "anomaly recipe must keep its machine's frequencies; must be 0)",
          c->speed_probability);
    if (!(c->recon_weight > 0.0))
      return dae_set_error (error, DAE_ERROR_INVALID_ARGUMENT,
          "recon_weight must be > 0 for the anomaly recipe");
    if (mc->tonality)
      return dae_set_error (error, DAE_ERROR_INVALID_ARGUMENT,
          "band tonality is an input for denoising models (the anomaly "
          "recipe reconstructs its input, the band energies)");
  } else if (mc->predictive) {
    return dae_set_error (error, DAE_ERROR_INVALID_ARGUMENT,
        "a predictive model cannot denoise: it is for the anomaly recipe");
  } else if (!(c->gain_weight > 0.0 || c->sdr_weight > 0.0
          || c->recon_weight > 0.0 || (mc->has_vad && c->vad_weight > 0.0))) {
    return dae_set_error (error, DAE_ERROR_INVALID_ARGUMENT,
        "gain_weight, sdr_weight, recon_weight and vad_weight are all 0: "
        "nothing to train");
  }
  return DAE_OK;
}

/* ------------------------------------------------------------------------ */
/* Construction, audio                                                       */

static void
segment_set_clear (SegmentSet * set)
{
  dae_free (set->seg);
  dae_free (set->cum);
  memset (set, 0, sizeof (*set));
}

static void
gen_clear (Gen * gen)
{
  dae_stft_free (gen->stft);
  dae_reverb_free (gen->reverb);
  dae_free (gen->speed);
  dae_free (gen->speech_long);
  dae_free (gen->block);
  memset (gen, 0, sizeof (*gen));
}

void
dae_trainer_free (DaeTrainer * trainer)
{
  size_t s;
  size_t i;

  if (trainer == NULL)
    return;
  for (s = 0; s < N_SOURCES; s++) {
    Source *src = &trainer->sources[s];

    for (i = 0; i < src->n_clips; i++)
      dae_free (src->clips[i].data);
    dae_free (src->clips);
    segment_set_clear (&src->train);
    segment_set_clear (&src->valid);
  }
  dae_free (trainer->user_info);
  dae_model_unref (trainer->model);
  dae_model_unref (trainer->best);
  dae_model_unref (trainer->grad);
  dae_model_unref (trainer->adam_m);
  dae_model_unref (trainer->adam_v);
  dae_bands_clear (&trainer->bands);
  gen_clear (&trainer->gen);
  dae_free (trainer->batch.block);
  dae_free (trainer->next_batch.block);
  dae_free (trainer->valid.block);
  dae_free (trainer->work.block);
  dae_free (trainer);
}

DaeStatus
dae_trainer_new (const DaeModelConfig * model_config,
    const DaeTrainConfig * config, DaeTrainer ** trainer_out, DaeError * error)
{
  DaeTrainer *tr;
  DaeStatus status;
  DaeModel **models[5];
  size_t i;

  if (model_config == NULL || config == NULL || trainer_out == NULL)
    return dae_set_error (error, DAE_ERROR_INVALID_ARGUMENT,
        "model_config, config or trainer_out is NULL");
  if ((status = dae_model_config_validate (model_config, error)) != DAE_OK)
    return status;
  if ((status = validate_train_config (model_config, config, error)) != DAE_OK)
    return status;

  tr = dae_calloc (1, sizeof (DaeTrainer));
  if (tr == NULL)
    return dae_set_error (error, DAE_ERROR_NO_MEMORY,
        "out of memory allocating a trainer");
  tr->mconfig = *model_config;
  tr->mconfig.has_vad = model_config->has_vad ? 1 : 0;
  tr->mconfig.gain_skip = model_config->gain_skip ? 1 : 0;
  tr->mconfig.predictive = model_config->predictive ? 1 : 0;
  tr->mconfig.tonality = model_config->tonality ? 1 : 0;
  tr->config = *config;
  tr->T = config->sequence_frames;
  tr->warm = model_config->window_samples / model_config->hop_samples - 1
      + WARMUP_EXTRA_HOPS;
  tr->L = (tr->T + tr->warm) * model_config->hop_samples;
  tr->L_speech = tr->L;
  if (config->recipe == DAE_RECIPE_DENOISE && config->speed_probability > 0.0)
    tr->L_speech = dae_speed_input_length (tr->L, config->speed_max_factor);
  tr->nb = model_config->n_bands;
  tr->nf = dae_model_config_n_features (&tr->mconfig);
  tr->n_bins = model_config->window_samples / 2 + 1;
  /* band energy is the mean bin power; white noise of variance s^2 gives
   * s^2 * sum (window^2) = s^2 * N / 2 with the sqrt-Hann window */
  tr->silence = (float) (pow (10.0, SILENCE_DBFS / 10.0)
      * (double) model_config->window_samples / 2.0);
  tr->lr = config->learning_rate;
  tr->best_loss = INFINITY;
  dae_rng_seed (&tr->rng, config->seed ^ STREAM_TRAIN);

  tr->use_gain = config->recipe == DAE_RECIPE_DENOISE
      && (config->gain_weight > 0.0 || config->sdr_weight > 0.0);
  tr->use_recon = config->recon_weight > 0.0;
  tr->use_vad = config->recipe == DAE_RECIPE_DENOISE && tr->mconfig.has_vad
      && config->vad_weight > 0.0;

  models[0] = &tr->model;
  models[1] = &tr->best;
  models[2] = &tr->grad;
  models[3] = &tr->adam_m;
  models[4] = &tr->adam_v;
  for (i = 0; i < 5; i++) {
    status = dae_model_alloc (&tr->mconfig, models[i], error);
    if (status != DAE_OK) {
      dae_trainer_free (tr);
      return status;
    }
  }
  tr->n_tensors = dae_model_list_tensors (tr->model, tr->tp);
  dae_model_list_tensors (tr->best, tr->tb);
  dae_model_list_tensors (tr->grad, tr->tg);
  dae_model_list_tensors (tr->adam_m, tr->tm);
  dae_model_list_tensors (tr->adam_v, tr->tv);

  *trainer_out = tr;
  return DAE_OK;
}

static void
append_name (Source * src, const char *name)
{
  size_t len = strlen (src->names);
  size_t room = NAMES_MAX - len;

  if (name == NULL || name[0] == '\0' || src->n_named >= 3)
    return;
  /* only names that fit whole, ASCII-safe cut not needed */
  if (strlen (name) + 3 >= room)
    return;
  snprintf (src->names + len, room, "%s%s", len > 0 ? ", " : "", name);
  src->n_named++;
}

DaeStatus
dae_trainer_add_audio (DaeTrainer * trainer, DaeTrainSource source,
    const float *samples, size_t n_samples, const char *name, DaeError * error)
{
  Source *src;
  Clip *clip;
  size_t i;

  if (trainer == NULL || (samples == NULL && n_samples > 0))
    return dae_set_error (error, DAE_ERROR_INVALID_ARGUMENT,
        "trainer or samples is NULL");
  if (trainer->prepared)
    return dae_set_error (error, DAE_ERROR_INVALID_ARGUMENT,
        "audio must be added before dae_trainer_prepare()");
  if ((int) source < 0 || (int) source >= N_SOURCES)
    return dae_set_error (error, DAE_ERROR_INVALID_ARGUMENT,
        "source = %d is not a DaeTrainSource", (int) source);
  if (trainer->config.recipe == DAE_RECIPE_DENOISE
      && source == DAE_SOURCE_NORMAL)
    return dae_set_error (error, DAE_ERROR_INVALID_ARGUMENT,
        "the denoise recipe uses speech and noise sources, not normal");
  if (trainer->config.recipe == DAE_RECIPE_ANOMALY
      && source != DAE_SOURCE_NORMAL)
    return dae_set_error (error, DAE_ERROR_INVALID_ARGUMENT,
        "the anomaly recipe uses normal sources only, not %s",
        source_names[source]);
  for (i = 0; i < n_samples; i++) {
    if (!isfinite (samples[i]))
      return dae_set_error (error, DAE_ERROR_INVALID_ARGUMENT,
          "clip '%s': sample %zu is not finite", name ? name : "", i);
  }

  src = &trainer->sources[source];
  if (n_samples == 0 || (source != DAE_SOURCE_NOISE && n_samples < trainer->L)) {
    src->n_skipped++;
    src->skipped_samples += n_samples;
    return DAE_OK;
  }

  if (src->n_clips == src->cap) {
    size_t cap = src->cap ? 2 * src->cap : 16;
    Clip *clips = dae_calloc (cap, sizeof (Clip));

    if (clips == NULL)
      return dae_set_error (error, DAE_ERROR_NO_MEMORY, "out of memory");
    if (src->n_clips > 0)
      memcpy (clips, src->clips, src->n_clips * sizeof (Clip));
    dae_free (src->clips);
    src->clips = clips;
    src->cap = cap;
  }
  clip = &src->clips[src->n_clips];
  clip->data = dae_malloc (n_samples * sizeof (float));
  if (clip->data == NULL)
    return dae_set_error (error, DAE_ERROR_NO_MEMORY,
        "out of memory copying %zu samples", n_samples);
  memcpy (clip->data, samples, n_samples * sizeof (float));
  clip->n = n_samples;
  src->n_clips++;
  src->samples += n_samples;
  append_name (src, name);
  return DAE_OK;
}

DaeStatus
dae_trainer_set_info (DaeTrainer * trainer, const char *info)
{
  size_t len;
  char *copy;

  if (trainer == NULL || info == NULL)
    return DAE_ERROR_INVALID_ARGUMENT;
  len = strlen (info);
  copy = dae_malloc (len + 1);
  if (copy == NULL)
    return DAE_ERROR_NO_MEMORY;
  memcpy (copy, info, len + 1);
  dae_free (trainer->user_info);
  trainer->user_info = copy;
  return DAE_OK;
}

size_t
dae_trainer_get_epoch (const DaeTrainer * trainer)
{
  return trainer != NULL ? trainer->epoch : 0;
}

/* ------------------------------------------------------------------------ */
/* Data split and segment selection                                          */

static uint64_t
segment_weight (const Segment * seg, size_t L, int looping)
{
  if (looping)
    return seg->n;
  return seg->n >= L ? (uint64_t) (seg->n - L + 1) : 0;
}

static DaeStatus
segment_set_finish (SegmentSet * set, size_t L, int looping)
{
  size_t i;
  uint64_t sum = 0;

  set->cum = dae_calloc (set->n_seg > 0 ? set->n_seg : 1, sizeof (uint64_t));
  if (set->cum == NULL)
    return DAE_ERROR_NO_MEMORY;
  for (i = 0; i < set->n_seg; i++) {
    sum += segment_weight (&set->seg[i], L, looping);
    set->cum[i] = sum;
  }
  set->total = sum;
  return DAE_OK;
}

static DaeStatus
segment_set_copy (SegmentSet * dest, const SegmentSet * src)
{
  size_t n = src->n_seg > 0 ? src->n_seg : 1;

  segment_set_clear (dest);
  dest->seg = dae_calloc (n, sizeof (Segment));
  dest->cum = dae_calloc (n, sizeof (uint64_t));
  if (dest->seg == NULL || dest->cum == NULL)
    return DAE_ERROR_NO_MEMORY;
  memcpy (dest->seg, src->seg, src->n_seg * sizeof (Segment));
  memcpy (dest->cum, src->cum, src->n_seg * sizeof (uint64_t));
  dest->n_seg = src->n_seg;
  dest->total = src->total;
  return DAE_OK;
}

static void
reverse_segments (SegmentSet * set)
{
  size_t i;

  for (i = 0; i < set->n_seg / 2; i++) {
    Segment t = set->seg[i];

    set->seg[i] = set->seg[set->n_seg - 1 - i];
    set->seg[set->n_seg - 1 - i] = t;
  }
}

/* The last validation_fraction of the source's samples (whole clips from
 * the end, the boundary clip split) go to validation.  Training segments
 * are picked train_L samples long, validation ones valid_L (tr->L, or the
 * speech input of a perturbed sequence with speed_validation). */
static DaeStatus
split_source (DaeTrainer * tr, Source * src, int looping, size_t train_L,
    size_t valid_L)
{
  uint64_t held = (uint64_t) (tr->config.validation_fraction
      * (double) src->samples + 0.5);
  size_t n = src->n_clips + 1;
  size_t i;
  DaeStatus status;

  segment_set_clear (&src->train);
  segment_set_clear (&src->valid);
  src->train.seg = dae_calloc (n, sizeof (Segment));
  src->valid.seg = dae_calloc (n, sizeof (Segment));
  if (src->train.seg == NULL || src->valid.seg == NULL)
    return DAE_ERROR_NO_MEMORY;

  for (i = src->n_clips; i-- > 0;) {
    const Clip *c = &src->clips[i];

    if (held >= c->n) {
      src->valid.seg[src->valid.n_seg].data = c->data;
      src->valid.seg[src->valid.n_seg++].n = c->n;
      held -= c->n;
    } else if (held > 0) {
      src->valid.seg[src->valid.n_seg].data = c->data + (c->n - held);
      src->valid.seg[src->valid.n_seg++].n = (size_t) held;
      src->train.seg[src->train.n_seg].data = c->data;
      src->train.seg[src->train.n_seg++].n = c->n - (size_t) held;
      held = 0;
    } else {
      src->train.seg[src->train.n_seg].data = c->data;
      src->train.seg[src->train.n_seg++].n = c->n;
    }
  }
  reverse_segments (&src->train);
  reverse_segments (&src->valid);

  if ((status = segment_set_finish (&src->train, train_L, looping)) != DAE_OK)
    return status;
  if ((status = segment_set_finish (&src->valid, valid_L, looping)) != DAE_OK)
    return status;
  src->valid_from_train = 0;
  if (src->valid.total == 0) {
    src->valid_from_train = 1;
    if ((status = segment_set_copy (&src->valid, &src->train)) != DAE_OK)
      return status;
  }
  return DAE_OK;
}

static uint64_t
rng_below (DaeRng * rng, uint64_t n)
{
  /* the modulo bias is below 2^-40 for any realistic n */
  return dae_rng_next (rng) % n;
}

/* Copies L samples of a random position of set into dest. */
static void
pick_segment (const SegmentSet * set, DaeRng * rng, size_t L, int looping,
    float *dest)
{
  uint64_t r = rng_below (rng, set->total);
  size_t lo = 0;
  size_t hi = set->n_seg - 1;
  const Segment *seg;
  size_t offset;
  size_t done;

  while (lo < hi) {
    size_t mid = lo + (hi - lo) / 2;

    if (set->cum[mid] > r)
      hi = mid;
    else
      lo = mid + 1;
  }
  seg = &set->seg[lo];
  offset = (size_t) (r - (lo > 0 ? set->cum[lo - 1] : 0));

  if (!looping) {
    memcpy (dest, seg->data + offset, L * sizeof (float));
    return;
  }
  done = 0;
  while (done < L) {
    size_t chunk = seg->n - offset;

    if (chunk > L - done)
      chunk = L - done;
    memcpy (dest + done, seg->data + offset, chunk * sizeof (float));
    done += chunk;
    offset = 0;
  }
}

/* ------------------------------------------------------------------------ */
/* Sequence generation                                                       */

static float
uniform_range (DaeRng * rng, double lo, double hi)
{
  return (float) (lo + (hi - lo) * (double) dae_rng_uniform (rng));
}

/* energies of frames warm .. warm + T - 1 of audio (L samples), and their
 * tonality if tonality is not NULL */
static void
segment_energies (DaeTrainer * tr, const float *audio, float *energy,
    float *tonality)
{
  Gen *gen = &tr->gen;
  const size_t hop = tr->mconfig.hop_samples;
  size_t h;

  dae_stft_reset (gen->stft);
  for (h = 0; h < tr->warm + tr->T; h++) {
    dae_stft_analyze (gen->stft, audio + h * hop, gen->spectrum);
    if (h >= tr->warm) {
      float *e = energy + (h - tr->warm) * tr->nb;

      dae_bands_energy (&tr->bands, gen->spectrum, e);
      if (tonality != NULL)
        dae_bands_tonality (&tr->bands, gen->spectrum, e,
            tonality + (h - tr->warm) * tr->nb);
    }
  }
}

static void
maybe_colour (DaeTrainer * tr, DaeRng * rng, float *a, float *b)
{
  DaeMicFilter filter;

  if (!(dae_rng_uniform (rng) < tr->config.filter_probability))
    return;
  dae_mic_filter_random (&filter, rng);
  dae_mic_filter_apply (&filter, a, tr->L);
  if (b != NULL)
    dae_mic_filter_apply (&filter, b, tr->L);
}

static void
maybe_clip (DaeTrainer * tr, DaeRng * rng, float *mix)
{
  float peak;
  float db;

  if (!(dae_rng_uniform (rng) < tr->config.clip_probability))
    return;
  peak = dae_signal_peak (mix, tr->L);
  db = uniform_range (rng, CLIP_MIN_DB, CLIP_MAX_DB);
  if (peak > 0.0f)
    dae_signal_clip (mix, tr->L, peak * powf (10.0f, -db / 20.0f));
}

/* Fills gen->e_mix (network input energies) and gen->e_clean (target
 * energies) for one random sequence from the train or valid split. */
static void
generate_raw (DaeTrainer * tr, DaeRng * rng, int valid)
{
  const DaeTrainConfig *c = &tr->config;
  Gen *gen = &tr->gen;
  const size_t L = tr->L;
  size_t i;

  if (c->recipe == DAE_RECIPE_ANOMALY) {
    Source *src = &tr->sources[DAE_SOURCE_NORMAL];
    float gain_db;

    pick_segment (valid ? &src->valid : &src->train, rng, L, 0, gen->mix);
    gain_db = uniform_range (rng, c->level_min_db, c->level_max_db);
    dae_signal_scale (gen->mix, L, powf (10.0f, gain_db / 20.0f));
    maybe_colour (tr, rng, gen->mix, NULL);
    maybe_clip (tr, rng, gen->mix);
    gen->noise_only = 0;
    segment_energies (tr, gen->mix, gen->e_mix, NULL);
    memcpy (gen->e_clean, gen->e_mix, tr->T * tr->nb * sizeof (float));
    return;
  } else {
    Source *sp = &tr->sources[DAE_SOURCE_SPEECH];
    Source *no = &tr->sources[DAE_SOURCE_NOISE];
    float kind = dae_rng_uniform (rng);
    int speech_only;
    float level_db;
    float snr_db;
    double rms;
    float speech_gain;
    float noise_gain;

    gen->noise_only = kind < NOISE_ONLY_PROBABILITY;
    speech_only = !gen->noise_only
        && kind < NOISE_ONLY_PROBABILITY + SPEECH_ONLY_PROBABILITY;

    if ((!valid || c->speed_validation) && gen->speed != NULL) {
      pick_segment (valid ? &sp->valid : &sp->train, rng, tr->L_speech, 0,
          gen->speech_long);
      if (dae_rng_uniform (rng) < c->speed_probability) {
        double range = log (c->speed_max_factor);

        dae_speed_kernel_init (gen->speed,
            exp (uniform_range (rng, -range, range)));
        dae_speed_apply (gen->speed, gen->speech_long, gen->speech, L);
      } else {
        memcpy (gen->speech, gen->speech_long + DAE_SPEED_HALF_TAPS,
            L * sizeof (float));
      }
    } else {
      pick_segment (valid ? &sp->valid : &sp->train, rng, L, 0, gen->speech);
    }
    if (gen->reverb != NULL && dae_rng_uniform (rng) < c->reverb_probability) {
      dae_reverb_apply (gen->reverb, rng, gen->speech, L, c->reverb_early_ms,
          gen->wet, gen->target);
    } else {
      memcpy (gen->wet, gen->speech, L * sizeof (float));
      memcpy (gen->target, gen->speech, L * sizeof (float));
    }
    maybe_colour (tr, rng, gen->wet, gen->target);

    pick_segment (valid ? &no->valid : &no->train, rng, L, 1, gen->noise);
    maybe_colour (tr, rng, gen->noise, NULL);

    level_db = uniform_range (rng, c->level_min_db, c->level_max_db);
    snr_db = uniform_range (rng, c->snr_min_db, c->snr_max_db);

    rms = dae_signal_rms (gen->wet, L);
    speech_gain = rms > RMS_FLOOR ?
        (float) (pow (10.0, level_db / 20.0) / rms) : 1.0f;
    rms = dae_signal_rms (gen->noise, L);
    noise_gain = rms > RMS_FLOOR ?
        (float) (pow (10.0, (level_db - snr_db) / 20.0) / rms) : 0.0f;
    if (gen->noise_only)
      speech_gain = 0.0f;
    if (speech_only)
      noise_gain = 0.0f;

    for (i = 0; i < L; i++) {
      gen->target[i] *= speech_gain;
      gen->mix[i] = speech_gain * gen->wet[i] + noise_gain * gen->noise[i];
    }
    maybe_clip (tr, rng, gen->mix);
    dae_signal_clip (gen->mix, L, 1.0f);

    segment_energies (tr, gen->mix, gen->e_mix,
        tr->nf > tr->nb ? gen->t_mix : NULL);
    segment_energies (tr, gen->target, gen->e_clean, NULL);
  }
}

/* Turns gen's energies into one sequence of set at index s. */
static void
finish_sequence (DaeTrainer * tr, DaeRng * rng, SeqSet * set, size_t s)
{
  const DaeTrainConfig *c = &tr->config;
  const Gen *gen = &tr->gen;
  const size_t nb = tr->nb;
  const size_t nf = tr->nf;
  const size_t T = tr->T;
  const float *mean = tr->model->norm_mean;
  const float *std = tr->model->norm_std;
  float *x = set->x + s * T * nf;
  float *tg = set->tg + s * T * nb;
  float *mask = set->mask + s * T * nb;
  float *trc = set->tr + s * T * nb;
  float *tv = set->tv + s * T;
  float *es = set->es + s * T * nb;
  float *em = set->em + s * T * nb;
  size_t t;
  size_t b;

  if (c->recipe == DAE_RECIPE_ANOMALY) {
    const float sigma = (float) c->corruption;
    const float dropout = (float) c->dropout;
    /* a predictive model sees the previous frame (0, the mean, before the
     * first one, as a processor after a reset) */
    const size_t shift = tr->mconfig.predictive ? nb : 0;

    for (t = 0; t < T; t++)
      dae_features_from_energy (gen->e_clean + t * nb, mean, std, nb,
          trc + t * nb);
    for (t = 0; t < T * nb; t++) {
      float v = t >= shift ? trc[t - shift] : 0.0f;

      if (sigma > 0.0f)
        v += sigma * dae_rng_normal (rng);
      if (dae_rng_uniform (rng) < dropout)
        v = 0.0f;
      x[t] = v;
      tg[t] = 1.0f;
      mask[t] = 0.0f;
    }
    memset (tv, 0, T * sizeof (float));
    return;
  } else {
    double mean_energy = 0.0;
    float threshold;

    for (t = 0; t < T; t++) {
      const float *en = gen->e_mix + t * nb;
      const float *ec = gen->e_clean + t * nb;
      double frame = 0.0;

      dae_features_frame (en, nf > nb ? gen->t_mix + t * nb : NULL, mean,
          std, nb, x + t * nf);
      memcpy (trc + t * nb, x + t * nf, nb * sizeof (float));
      for (b = 0; b < nb; b++) {
        float g = 1.0f;
        float m = 1.0f;

        if (en[b] < tr->silence && ec[b] < tr->silence)
          m = 0.0f;
        else if (en[b] > 0.0f && ec[b] < en[b])
          g = sqrtf (ec[b] / en[b]);
        tg[t * nb + b] = g;
        mask[t * nb + b] = m;
        em[t * nb + b] = en[b];
        es[t * nb + b] = fminf (ec[b], en[b]);
        frame += ec[b];
      }
      tv[t] = (float) (frame / (double) nb);
      mean_energy += tv[t];
    }
    mean_energy /= (double) T;
    threshold = (float) (mean_energy * pow (10.0, VAD_RELATIVE_DB / 10.0));
    if (threshold < tr->silence)
      threshold = tr->silence;
    for (t = 0; t < T; t++)
      tv[t] = !gen->noise_only && tv[t] > threshold ? 1.0f : 0.0f;
  }
}

/* ------------------------------------------------------------------------ */
/* Forward, loss, backward                                                   */

static void
zero_grad (DaeTrainer * tr)
{
  size_t i;

  for (i = 0; i < tr->n_tensors; i++)
    memset (tr->tg[i].data, 0,
        tr->tg[i].rows * tr->tg[i].cols * sizeof (float));
}

static void
add_columns (float *dest, const float *src, size_t rows, size_t cols,
    size_t src_stride)
{
  size_t r;
  size_t j;

  for (r = 0; r < rows; r++)
    for (j = 0; j < cols; j++)
      dest[r * cols + j] += src[r * src_stride + j];
}

/* Copies sequences first .. first + n_seq - 1 of set into the work
 * buffers in time-major order (row t * n_seq + s), the order the batched
 * GRU needs; the dense layers and the loss do not care about row order. */
static void
gather_time_major (DaeTrainer * tr, const SeqSet * set, size_t first,
    size_t n_seq)
{
  Work *w = &tr->work;
  const size_t T = tr->T;
  const size_t nb = tr->nb;
  const size_t nf = tr->nf;
  const size_t row = nb * sizeof (float);
  size_t s;
  size_t t;

  for (s = 0; s < n_seq; s++) {
    for (t = 0; t < T; t++) {
      size_t src = (first + s) * T + t;
      size_t dst = t * n_seq + s;

      memcpy (w->x + dst * nf, set->x + src * nf, nf * sizeof (float));
      memcpy (w->tg + dst * nb, set->tg + src * nb, row);
      memcpy (w->mask + dst * nb, set->mask + src * nb, row);
      memcpy (w->tr + dst * nb, set->tr + src * nb, row);
      memcpy (w->es + dst * nb, set->es + src * nb, row);
      memcpy (w->em + dst * nb, set->em + src * nb, row);
      w->tv[dst] = set->tv[src];
    }
  }
}

/* The distortion term of n_seq sequences in the work buffers (see the top
 * of the file), weighted and averaged over the sequences; adds its gradient
 * to w->dgout. */
static double
distortion_loss (DaeTrainer * tr, size_t n_seq)
{
  Work *w = &tr->work;
  const size_t T = tr->T;
  const size_t nb = tr->nb;
  const double weight = tr->config.sdr_weight / (double) n_seq;
  const double cap = pow (10.0, DISTORTION_CAP_DB / 10.0);
  double loss = 0.0;
  size_t s;
  size_t t;
  size_t b;

  for (s = 0; s < n_seq; s++) {
    double err = 0.0;
    double sig = 0.0;
    double eps;
    double c;

    for (t = 0; t < T; t++) {
      const size_t row = (t * n_seq + s) * nb;

      for (b = 0; b < nb; b++) {
        const double g = w->gout[row + b];
        const double es = w->es[row + b];

        err += (g - 1.0) * (g - 1.0) * es + g * g * (w->em[row + b] - es);
        sig += es;
      }
    }
    /* no speech (a noise-only sequence): the gain loss alone */
    if (!(sig > (double) tr->silence * (double) (T * nb)))
      continue;
    eps = sig / cap;
    loss += weight * 10.0 * log10 (1.0 + err / eps);
    c = weight * 10.0 / log (10.0) / (err + eps);
    for (t = 0; t < T; t++) {
      const size_t row = (t * n_seq + s) * nb;

      for (b = 0; b < nb; b++)
        w->dgout[row + b] += (float) (c * 2.0
            * (w->gout[row + b] * w->em[row + b] - w->es[row + b]));
    }
  }
  return loss;
}

/* Scale-invariant SDR in dB, capped at DISTORTION_CAP_DB, of sequence s
 * of the n_seq in the work buffers with the gains min (1, scale gout)
 * applied, from band energies as distortion_loss takes them (speech and
 * noise uncorrelated): with y = g x, A = <y, s> = sum g es,
 * |y|^2 = sum g^2 em and E = |s|^2 = sum es, the projection of y on s has
 * energy A^2 / E and the rest |y|^2 - A^2 / E. */
static double
band_si_sdr (const Work * w, size_t T, size_t n_seq, size_t nb, size_t s,
    double sig, double scale)
{
  const double cap = pow (10.0, DISTORTION_CAP_DB / 10.0);
  double a = 0.0;
  double y2 = 0.0;
  double target;
  double rest;
  size_t t;
  size_t b;

  for (t = 0; t < T; t++) {
    const size_t row = (t * n_seq + s) * nb;

    for (b = 0; b < nb; b++) {
      double g = fmin (1.0, scale * fmax (w->gout[row + b], 0.0f));

      a += g * w->es[row + b];
      y2 += g * g * w->em[row + b];
    }
  }
  target = a * a / sig;
  rest = y2 - target;
  if (!(target > 0.0))
    return -DISTORTION_CAP_DB;
  if (!(rest > target / cap))
    return DISTORTION_CAP_DB;
  return 10.0 * log10 (target / rest);
}

/* Loss of n_seq sequences of set starting at first; with backward,
 * accumulates the gradient of that loss into tr->grad. */
static double
forward_backward (DaeTrainer * tr, const SeqSet * set, size_t first,
    size_t n_seq, int backward)
{
  const DaeNet *net = &tr->model->net;
  DaeNet *gnet = &tr->grad->net;
  Work *w = &tr->work;
  const size_t T = tr->T;
  const size_t nb = tr->nb;
  const size_t R = n_seq * T;
  const size_t H2 = net->dec_gru.n_hidden;
  const size_t GI = net->gain.n_in;
  const int skip = GI != H2;
  const float *x = w->x;
  const float *tg = w->tg;
  const float *mask = w->mask;
  const float *trc = w->tr;
  const float *tv = w->tv;
  const float *gain_in = w->h2;
  double loss = 0.0;
  size_t i;
  size_t r;

  gather_time_major (tr, set, first, n_seq);

  dae_dense_forward_seq (&net->enc_dense, R, x, w->a1);
  dae_gru_forward_batch (&net->enc_gru, T, n_seq, w->a1, w->h1, w->c1);
  dae_dense_forward_seq (&net->bottleneck, R, w->h1, w->a2);
  dae_gru_forward_batch (&net->dec_gru, T, n_seq, w->a2, w->h2, w->c2);

  if (tr->use_gain) {
    const float cg = (float) (tr->config.gain_weight / (double) (R * nb));
    double sum = 0.0;

    if (skip) {
      for (r = 0; r < R; r++) {
        memcpy (w->gin + r * GI, w->h2 + r * H2, H2 * sizeof (float));
        memcpy (w->gin + r * GI + H2, x + r * tr->nf, tr->nf * sizeof (float));
      }
      gain_in = w->gin;
    }
    dae_dense_forward_seq (&net->gain, R, gain_in, w->gout);
    for (i = 0; i < R * nb; i++) {
      float sg;
      float d;
      float d2;

      if (mask[i] == 0.0f) {
        w->dgout[i] = 0.0f;
        continue;
      }
      sg = sqrtf (fmaxf (w->gout[i], GAIN_SQRT_FLOOR));
      d = sg - sqrtf (tg[i]);
      d2 = d * d;
      sum += d2 + GAIN_LOSS_QUARTIC * d2 * d2;
      w->dgout[i] = cg * (2.0f * d + 4.0f * GAIN_LOSS_QUARTIC * d2 * d)
          / (2.0f * sg);
    }
    loss += tr->config.gain_weight * sum / (double) (R * nb);
    if (tr->config.sdr_weight > 0.0)
      loss += distortion_loss (tr, n_seq);
  }

  if (tr->use_recon) {
    const float cr = (float) (tr->config.recon_weight / (double) (R * nb));
    double sum = 0.0;

    dae_dense_forward_seq (&net->recon, R, w->h2, w->rout);
    for (i = 0; i < R * nb; i++) {
      float d = w->rout[i] - trc[i];

      sum += (double) d *d;
      w->drout[i] = cr * 2.0f * d;
    }
    loss += tr->config.recon_weight * sum / (double) (R * nb);
  }

  if (tr->use_vad) {
    const float cv = (float) (tr->config.vad_weight / (double) R);
    double sum = 0.0;

    dae_dense_forward_seq (&net->vad, R, w->h2, w->vout);
    for (i = 0; i < R; i++) {
      float p = fminf (fmaxf (w->vout[i], VAD_PROB_EPS), 1.0f - VAD_PROB_EPS);
      float y = tv[i];

      sum -= y * logf (p) + (1.0f - y) * logf (1.0f - p);
      w->dvout[i] = cv * (-y / p + (1.0f - y) / (1.0f - p));
    }
    loss += tr->config.vad_weight * sum / (double) R;
  }

  if (!backward)
    return loss;

  memset (w->dh2, 0, R * H2 * sizeof (float));
  if (tr->use_gain) {
    dae_dense_backward_seq (&net->gain, R, gain_in, w->gout, w->dgout,
        &gnet->gain, w->dgin);
    add_columns (w->dh2, w->dgin, R, H2, GI);
  }
  if (tr->use_recon) {
    dae_dense_backward_seq (&net->recon, R, w->h2, w->rout, w->drout,
        &gnet->recon, w->dtmp);
    add_columns (w->dh2, w->dtmp, R, H2, H2);
  }
  if (tr->use_vad) {
    dae_dense_backward_seq (&net->vad, R, w->h2, w->vout, w->dvout,
        &gnet->vad, w->dtmp);
    add_columns (w->dh2, w->dtmp, R, H2, H2);
  }
  dae_gru_backward_batch (&net->dec_gru, T, n_seq, w->a2, w->h2, w->c2,
      w->dh2, &gnet->dec_gru, w->da2, w->gates, w->gru_work);
  dae_dense_backward_seq (&net->bottleneck, R, w->h1, w->a2, w->da2,
      &gnet->bottleneck, w->dh1);
  dae_gru_backward_batch (&net->enc_gru, T, n_seq, w->a1, w->h1, w->c1,
      w->dh1, &gnet->enc_gru, w->da1, w->gates, w->gru_work);
  dae_dense_backward_seq (&net->enc_dense, R, x, w->a1, w->da1,
      &gnet->enc_dense, NULL);

  return loss;
}

/* Global-norm clipping and one Adam step.  Returns 0 (and changes nothing)
 * if the gradient is not finite. */
static int
adam_step (DaeTrainer * tr)
{
  double norm2 = 0.0;
  float scale = 1.0f;
  double bc1;
  double bc2;
  float step;
  float vscale;
  const float b1 = (float) ADAM_BETA1;
  const float b2 = (float) ADAM_BETA2;
  size_t k;
  size_t i;

  for (k = 0; k < tr->n_tensors; k++) {
    const float *g = tr->tg[k].data;
    size_t n = tr->tg[k].rows * tr->tg[k].cols;

    for (i = 0; i < n; i++)
      norm2 += (double) g[i] * (double) g[i];
  }
  if (!isfinite (norm2))
    return 0;
  if (sqrt (norm2) > tr->config.grad_clip)
    scale = (float) (tr->config.grad_clip / sqrt (norm2));

  tr->adam_step++;
  bc1 = 1.0 - pow (ADAM_BETA1, (double) tr->adam_step);
  bc2 = 1.0 - pow (ADAM_BETA2, (double) tr->adam_step);
  step = (float) (tr->lr / bc1);
  vscale = (float) (1.0 / bc2);

  for (k = 0; k < tr->n_tensors; k++) {
    float *p = tr->tp[k].data;
    const float *g = tr->tg[k].data;
    float *m = tr->tm[k].data;
    float *v = tr->tv[k].data;
    size_t n = tr->tp[k].rows * tr->tp[k].cols;

    for (i = 0; i < n; i++) {
      float gi = g[i] * scale;

      m[i] = b1 * m[i] + (1.0f - b1) * gi;
      v[i] = b2 * v[i] + (1.0f - b2) * gi * gi;
      p[i] -= step * m[i] / (sqrtf (v[i] * vscale) + ADAM_EPS);
    }
  }
  return 1;
}

static double
validation_loss (DaeTrainer * tr)
{
  const size_t B = tr->config.batch_size;
  double sum = 0.0;
  size_t s;

  for (s = 0; s < tr->n_valid; s += B) {
    size_t n = tr->n_valid - s < B ? tr->n_valid - s : B;

    sum += forward_backward (tr, &tr->valid, s, n, 0) * (double) n;
  }
  return sum / (double) tr->n_valid;
}

/* Gain scales dae_trainer_choose_gain_scale tries: 1, 1.01, ... 2 */
#define GAIN_SCALE_STEPS 101
#define GAIN_SCALE_STEP 0.01

DaeStatus
dae_trainer_choose_gain_scale (DaeTrainer * trainer,
    DaeGainScaleChoice * choice, DaeError * error)
{
  DaeTrainer *tr = trainer;
  double sum[GAIN_SCALE_STEPS];
  size_t n_scored = 0;
  size_t best = 0;
  size_t first;
  size_t k;

  if (trainer == NULL || choice == NULL)
    return dae_set_error (error, DAE_ERROR_INVALID_ARGUMENT,
        "trainer or choice is NULL");
  if (!tr->prepared)
    return dae_set_error (error, DAE_ERROR_INVALID_ARGUMENT,
        "the trainer is not prepared (dae_trainer_prepare)");
  if (!tr->use_gain)
    return dae_set_error (error, DAE_ERROR_INVALID_ARGUMENT,
        "the gain scale needs the denoise recipe with a gain loss");
  memset (sum, 0, sizeof (sum));
  for (first = 0; first < tr->n_valid; first += tr->config.batch_size) {
    const Work *w = &tr->work;
    const size_t nb = tr->nb;
    const size_t n_seq = tr->n_valid - first < tr->config.batch_size ?
        tr->n_valid - first : tr->config.batch_size;
    size_t s;

    /* fills w->gout (the network's gains), w->es and w->em */
    forward_backward (tr, &tr->valid, first, n_seq, 0);
    for (s = 0; s < n_seq; s++) {
      double sig = 0.0;
      size_t t;
      size_t b;

      for (t = 0; t < tr->T; t++)
        for (b = 0; b < nb; b++)
          sig += w->es[(t * n_seq + s) * nb + b];
      /* no speech (a noise-only sequence): nothing to distort */
      if (!(sig > (double) tr->silence * (double) (tr->T * nb)))
        continue;
      for (k = 0; k < GAIN_SCALE_STEPS; k++)
        sum[k] += band_si_sdr (w, tr->T, n_seq, nb, s, sig,
            1.0 + GAIN_SCALE_STEP * (double) k);
      n_scored++;
    }
  }
  /* a larger scale must be better by more than rounding (1e-6 dB on
   * average; a uniform gain scores the same at every scale) */
  for (k = 1; k < GAIN_SCALE_STEPS; k++)
    if (sum[k] > sum[best] + 1e-6 * (double) n_scored)
      best = k;
  choice->scale = 1.0 + GAIN_SCALE_STEP * (double) best;
  choice->n_sequences = n_scored;
  choice->si_sdr_at_1 = n_scored > 0 ? sum[0] / (double) n_scored : 0.0;
  choice->si_sdr = n_scored > 0 ? sum[best] / (double) n_scored : 0.0;
  return DAE_OK;
}

static void
copy_weights (DaeTensor * dest, const DaeTensor * src, size_t n_tensors)
{
  size_t k;

  for (k = 0; k < n_tensors; k++)
    memcpy (dest[k].data, src[k].data,
        src[k].rows * src[k].cols * sizeof (float));
}

static void
copy_norm (DaeModel * dest, const DaeModel * src)
{
  size_t n = dae_model_config_n_features (&src->config);

  memcpy (dest->norm_mean, src->norm_mean, n * sizeof (float));
  memcpy (dest->norm_std, src->norm_std, n * sizeof (float));
}

/* ------------------------------------------------------------------------ */
/* Prepare                                                                   */

static DaeStatus
seqset_alloc (SeqSet * set, size_t rows, size_t nb, size_t nf)
{
  float *p;

  set->block = dae_calloc (rows * (5 * nb + nf + 1), sizeof (float));
  if (set->block == NULL)
    return DAE_ERROR_NO_MEMORY;
  p = set->block;
  set->x = p;
  p += rows * nf;
  set->tg = p;
  p += rows * nb;
  set->mask = p;
  p += rows * nb;
  set->tr = p;
  p += rows * nb;
  set->tv = p;
  p += rows;
  set->es = p;
  p += rows * nb;
  set->em = p;
  return DAE_OK;
}

static DaeStatus
work_alloc (DaeTrainer * tr)
{
  const DaeNet *net = &tr->model->net;
  Work *w = &tr->work;
  const size_t R = tr->config.batch_size * tr->T;
  const size_t nb = tr->nb;
  const size_t E = net->enc_dense.n_out;
  const size_t H1 = net->enc_gru.n_hidden;
  const size_t K = net->bottleneck.n_out;
  const size_t H2 = net->dec_gru.n_hidden;
  const size_t GI = net->gain.n_in;
  const size_t Hmax = H1 > H2 ? H1 : H2;
  const size_t B = tr->config.batch_size;
  size_t per_row = 5 * nb + tr->nf + 1 + E + H1 + 4 * H1 + K + H2 + 4 * H2 + GI
      + 3 * nb + 1 + 3 * nb + 1 + GI + H2 + H2 + K + H1 + E + 4 * Hmax;
  float *p;

  w->block = dae_calloc (R * per_row + B * Hmax, sizeof (float));
  if (w->block == NULL)
    return DAE_ERROR_NO_MEMORY;
  p = w->block;
#define TAKE(field, n) do { w->field = p; p += (n); } while (0)
  TAKE (x, R * tr->nf);
  TAKE (tg, R * nb);
  TAKE (mask, R * nb);
  TAKE (tr, R * nb);
  TAKE (tv, R);
  TAKE (es, R * nb);
  TAKE (em, R * nb);
  TAKE (a1, R * E);
  TAKE (h1, R * H1);
  TAKE (c1, R * 4 * H1);
  TAKE (a2, R * K);
  TAKE (h2, R * H2);
  TAKE (c2, R * 4 * H2);
  TAKE (gin, R * GI);
  TAKE (gout, R * nb);
  TAKE (rout, R * nb);
  TAKE (vout, R);
  TAKE (dgout, R * nb);
  TAKE (drout, R * nb);
  TAKE (dvout, R);
  TAKE (dgin, R * GI);
  TAKE (dtmp, R * H2);
  TAKE (dh2, R * H2);
  TAKE (da2, R * K);
  TAKE (dh1, R * H1);
  TAKE (da1, R * E);
  TAKE (gates, R * 4 * Hmax);
  TAKE (gru_work, B * Hmax);
#undef TAKE
  return DAE_OK;
}

static DaeStatus
gen_alloc (DaeTrainer * tr)
{
  Gen *gen = &tr->gen;
  const size_t L = tr->L;
  const size_t TB = tr->T * tr->nb;
  DaeStatus status;
  float *p;

  gen->block = dae_calloc (5 * L + 2 * tr->n_bins + 3 * TB, sizeof (float));
  if (gen->block == NULL)
    return DAE_ERROR_NO_MEMORY;
  p = gen->block;
  gen->speech = p;
  p += L;
  gen->wet = p;
  p += L;
  gen->target = p;
  p += L;
  gen->noise = p;
  p += L;
  gen->mix = p;
  p += L;
  gen->spectrum = p;
  p += 2 * tr->n_bins;
  gen->e_mix = p;
  p += TB;
  gen->e_clean = p;
  p += TB;
  gen->t_mix = p;

  status = dae_stft_new (tr->mconfig.window_samples, tr->mconfig.hop_samples,
      &gen->stft);
  if (status != DAE_OK)
    return status;
  if (tr->config.recipe == DAE_RECIPE_DENOISE
      && tr->config.reverb_probability > 0.0) {
    status = dae_reverb_new (L, tr->mconfig.sample_rate, &gen->reverb);
    if (status != DAE_OK)
      return status;
  }
  if (tr->L_speech > L) {
    gen->speech_long = dae_calloc (tr->L_speech, sizeof (float));
    gen->speed = dae_calloc (1, sizeof (DaeSpeedKernel));
    if (gen->speech_long == NULL || gen->speed == NULL)
      return DAE_ERROR_NO_MEMORY;
  }
  return DAE_OK;
}

/* The feature normalisation (mean and standard deviation of each input)
 * from NORM_SEQUENCES training mixtures; features from index first on (0:
 * all; nb: the tonality only, for a model that gains it in fine-tuning). */
static void
compute_norm (DaeTrainer * tr, size_t first)
{
  const size_t nb = tr->nb;
  double sum[2 * DAE_MAX_BANDS];
  double sum2[2 * DAE_MAX_BANDS];
  double count = 0.0;
  DaeRng rng;
  size_t n;
  size_t t;
  size_t b;

  memset (sum, 0, sizeof (sum));
  memset (sum2, 0, sizeof (sum2));
  dae_rng_seed (&rng, tr->config.seed ^ STREAM_NORM);
  for (n = 0; n < NORM_SEQUENCES; n++) {
    generate_raw (tr, &rng, 0);
    for (t = 0; t < tr->T; t++) {
      for (b = 0; b < tr->nf; b++) {
        double v = b < nb ? log10f (tr->gen.e_mix[t * nb + b] + DAE_LOG_EPSILON)
            : tr->gen.t_mix[t * nb + b - nb];

        sum[b] += v;
        sum2[b] += v * v;
      }
      count += 1.0;
    }
  }
  for (b = first; b < tr->nf; b++) {
    double mean = sum[b] / count;
    double var = sum2[b] / count - mean * mean;
    float std = (float) sqrt (var > 0.0 ? var : 0.0);

    tr->model->norm_mean[b] = (float) mean;
    tr->model->norm_std[b] = std > NORM_STD_FLOOR ? std : NORM_STD_FLOOR;
  }
}

DaeStatus
dae_trainer_prepare (DaeTrainer * trainer, DaeError * error)
{
  DaeTrainer *tr = trainer;
  DaeStatus status;
  DaeRng rng;
  size_t s;
  size_t train_L;

  if (tr == NULL)
    return dae_set_error (error, DAE_ERROR_INVALID_ARGUMENT, "trainer is NULL");
  if (tr->prepared)
    return dae_set_error (error, DAE_ERROR_INVALID_ARGUMENT,
        "the trainer is already prepared");

  if (tr->config.recipe == DAE_RECIPE_DENOISE) {
    if (tr->sources[DAE_SOURCE_SPEECH].n_clips == 0)
      return dae_set_error (error, DAE_ERROR_INVALID_ARGUMENT,
          "the denoise recipe needs speech clips of at least %.3f s "
          "(%zu given, %zu too short)",
          (double) tr->L / tr->mconfig.sample_rate,
          tr->sources[DAE_SOURCE_SPEECH].n_clips,
          tr->sources[DAE_SOURCE_SPEECH].n_skipped);
    if (tr->sources[DAE_SOURCE_NOISE].n_clips == 0)
      return dae_set_error (error, DAE_ERROR_INVALID_ARGUMENT,
          "the denoise recipe needs noise clips (none given)");
  } else if (tr->sources[DAE_SOURCE_NORMAL].n_clips == 0) {
    return dae_set_error (error, DAE_ERROR_INVALID_ARGUMENT,
        "the anomaly recipe needs normal clips of at least %.3f s "
        "(%zu given, %zu too short)", (double) tr->L / tr->mconfig.sample_rate,
        tr->sources[DAE_SOURCE_NORMAL].n_clips,
        tr->sources[DAE_SOURCE_NORMAL].n_skipped);
  }

  for (s = 0; s < N_SOURCES; s++) {
    Source *src = &tr->sources[s];

    if (src->n_clips == 0)
      continue;
    train_L = s == DAE_SOURCE_SPEECH ? tr->L_speech : tr->L;
    status = split_source (tr, src, s == DAE_SOURCE_NOISE, train_L,
        s == DAE_SOURCE_SPEECH
        && tr->config.speed_validation ? train_L : tr->L);
    if (status != DAE_OK)
      return dae_set_error (error, status, "out of memory splitting audio");
    if (src->train.total == 0)
      return dae_set_error (error, DAE_ERROR_INVALID_ARGUMENT,
          "%s: no training segment of %.3f s is left after holding out "
          "%g of the audio for validation", source_names[s],
          (double) train_L / tr->mconfig.sample_rate,
          tr->config.validation_fraction);
  }

  status = dae_bands_init (&tr->bands, tr->model->band_centers, tr->nb,
      tr->mconfig.sample_rate, tr->mconfig.window_samples);
  if (status != DAE_OK)
    return dae_set_error (error, status, "cannot lay out the bands");
  if ((status = gen_alloc (tr)) != DAE_OK)
    return dae_set_error (error, status, "cannot allocate the generator");
  tr->n_valid = tr->config.validation_sequences;
  if ((status = seqset_alloc (&tr->batch, tr->config.batch_size * tr->T,
              tr->nb, tr->nf)) != DAE_OK
      || (tr->config.generator_thread
          && (status = seqset_alloc (&tr->next_batch,
                  tr->config.batch_size * tr->T, tr->nb, tr->nf)) != DAE_OK)
      || (status = seqset_alloc (&tr->valid, tr->n_valid * tr->T,
              tr->nb, tr->nf)) != DAE_OK
      || (status = work_alloc (tr)) != DAE_OK)
    return dae_set_error (error, status,
        "out of memory allocating training buffers");

  if (!tr->loaded) {
    dae_model_init_random (tr->model, tr->config.seed);
    compute_norm (tr, 0);
    copy_weights (tr->tb, tr->tp, tr->n_tensors);
    copy_norm (tr->best, tr->model);
  } else if (tr->tonality_added) {
    compute_norm (tr, tr->nb);
    copy_norm (tr->best, tr->model);
  }

  dae_rng_seed (&rng, tr->config.seed ^ STREAM_VALID);
  for (s = 0; s < tr->n_valid; s++) {
    generate_raw (tr, &rng, 1);
    finish_sequence (tr, &rng, &tr->valid, s);
  }

  tr->prepared = 1;
  return DAE_OK;
}

/* ------------------------------------------------------------------------ */
/* Epochs                                                                    */

/* Mixes a mini-batch into set (the generator's scratch, tr->gen, and the
 * training random stream, tr->rng, are used by nothing else while a step
 * trains, so this may run beside it). */
static void
generate_batch (DaeTrainer * tr, SeqSet * set)
{
  size_t s;

  for (s = 0; s < tr->config.batch_size; s++) {
    generate_raw (tr, &tr->rng, 0);
    finish_sequence (tr, &tr->rng, set, s);
  }
}

typedef struct
{
  DaeTrainer *tr;
  SeqSet *set;
} GenerateJob;

static void *
generate_batch_thread (void *data)
{
  GenerateJob *job = data;

  generate_batch (job->tr, job->set);
  return NULL;
}

static void
swap_seqsets (SeqSet * a, SeqSet * b)
{
  SeqSet t = *a;

  *a = *b;
  *b = t;
}

/* One optimisation step on tr->batch (already mixed).  With more = 1 the
 * next batch is mixed meanwhile (into tr->next_batch, by a second thread
 * with generator_thread, else after the step) and swapped in, so that the
 * random stream is drawn in the same order either way. */
static double
train_step (DaeTrainer * tr, int more)
{
  const size_t B = tr->config.batch_size;
  GenerateJob job = { tr, &tr->next_batch };
  pthread_t thread;
  int threaded = 0;
  double loss;

  if (more && tr->config.generator_thread)
    threaded = pthread_create (&thread, NULL, generate_batch_thread, &job) == 0;
  zero_grad (tr);
  loss = forward_backward (tr, &tr->batch, 0, B, 1);
  adam_step (tr);
  if (threaded) {
    pthread_join (thread, NULL);
    swap_seqsets (&tr->batch, &tr->next_batch);
  } else if (more) {
    generate_batch (tr, &tr->batch);
  }
  return loss;
}

DaeStatus
dae_trainer_run_epoch (DaeTrainer * trainer, DaeTrainProgressFunc progress,
    void *user_data, DaeEpochResult * result, DaeError * error)
{
  DaeTrainer *tr = trainer;
  const size_t n_steps = tr != NULL ? tr->config.steps_per_epoch : 0;
  double sum = 0.0;
  double val;
  size_t step;
  int improved;

  if (tr == NULL)
    return dae_set_error (error, DAE_ERROR_INVALID_ARGUMENT, "trainer is NULL");
  if (!tr->prepared)
    return dae_set_error (error, DAE_ERROR_INVALID_ARGUMENT,
        "call dae_trainer_prepare() first");

  if (n_steps > 0)
    generate_batch (tr, &tr->batch);
  for (step = 0; step < n_steps; step++) {
    sum += train_step (tr, step + 1 < n_steps);
    if (progress != NULL
        && progress (step + 1, n_steps, sum / (double) (step + 1),
            user_data) != 0) {
      if (result != NULL) {
        result->epoch = tr->epoch;
        result->train_loss = sum / (double) (step + 1);
        result->validation_loss = NAN;
        result->learning_rate = tr->lr;
        result->improved = 0;
        result->stop = 0;
      }
      return DAE_OK;
    }
  }

  val = validation_loss (tr);
  tr->epoch++;
  improved = isfinite (val) && val < tr->best_loss;
  if (improved) {
    tr->best_loss = val;
    tr->since_best = 0;
    copy_weights (tr->tb, tr->tp, tr->n_tensors);
  } else {
    tr->since_best++;
  }
  if (result != NULL) {
    result->epoch = tr->epoch;
    result->train_loss = sum / (double) n_steps;
    result->validation_loss = val;
    result->learning_rate = tr->lr;
    result->improved = improved;
    result->stop = tr->epoch >= tr->config.max_epochs
        || (tr->config.patience > 0 && tr->since_best >= tr->config.patience);
  }
  tr->lr *= tr->config.lr_decay;
  return DAE_OK;
}

/* ------------------------------------------------------------------------ */
/* The model: info text, threshold calibration                               */

/* Appends printf output to buf (size DAE_MODEL_INFO_MAX), truncating at a
 * UTF-8 character boundary. */
static void info_append (char *buf, const char *format, ...)
    __attribute__((format (printf, 2, 3)));

static void
info_append (char *buf, const char *format, ...)
{
  size_t len = strlen (buf);
  size_t room = DAE_MODEL_INFO_MAX - len;
  va_list args;
  int n;

  if (room <= 1)
    return;
  va_start (args, format);
  n = vsnprintf (buf + len, room, format, args);
  va_end (args);
  if (n >= 0 && (size_t) n >= room) {
    /* truncated: drop a partial multi-byte character at the end */
    size_t end = DAE_MODEL_INFO_MAX - 1;

    while (end > len && ((unsigned char) buf[end - 1] & 0xc0) == 0x80)
      end--;
    if (end > len && ((unsigned char) buf[end - 1] & 0xc0) == 0xc0)
      end--;
    buf[end] = '\0';
  }
}

static int
compare_floats (const void *a, const void *b)
{
  float x = *(const float *) a;
  float y = *(const float *) b;

  return (x > y) - (x < y);
}

/* Runs model through a processor over the held-out normal audio; sets the
 * threshold (the threshold_quantile quantile of the frame scores) and the
 * calibration record: the false alarms a DaeScorer with that threshold and
 * a hold of alarm_hold_seconds raises on the same audio, per hour.  Each
 * held-out segment is scored from a reset processor and scorer, its first
 * window / hop frames (the analysis window filling up) skipped. */
static DaeStatus
calibrate (DaeTrainer * tr, DaeModel * model, size_t *n_frames_out,
    size_t *n_alarms_out, DaeError * error)
{
  const Source *src = &tr->sources[DAE_SOURCE_NORMAL];
  const SegmentSet *set = &src->valid;
  const size_t hop = tr->mconfig.hop_samples;
  const size_t skip = tr->mconfig.window_samples / hop;
  const double rate = tr->mconfig.sample_rate;
  size_t total = 0;
  size_t n = 0;
  size_t n_alarms = 0;
  size_t hold_frames;
  float *scores;
  float *sorted;
  size_t *seg_start;
  float *out;
  DaeProcessor *proc;
  DaeScorer *scorer = NULL;
  DaeFrameResult res;
  DaeStatus status;
  double pos;
  double seconds;
  size_t lo;
  size_t i;
  size_t h;

  for (i = 0; i < set->n_seg; i++)
    if (set->seg[i].n / hop > skip)
      total += set->seg[i].n / hop - skip;
  if (total > CALIBRATION_MAX_FRAMES)
    total = CALIBRATION_MAX_FRAMES;
  if (total == 0)
    return dae_set_error (error, DAE_ERROR_INVALID_ARGUMENT,
        "no held-out normal audio to calibrate the threshold");

  scores = dae_malloc (total * sizeof (float));
  sorted = dae_malloc (total * sizeof (float));
  seg_start = dae_malloc ((set->n_seg + 1) * sizeof (size_t));
  out = dae_malloc (hop * sizeof (float));
  if (scores == NULL || sorted == NULL || seg_start == NULL || out == NULL) {
    status = dae_set_error (error, DAE_ERROR_NO_MEMORY, "out of memory");
    goto done;
  }
  status = dae_processor_new (model, &proc);
  if (status != DAE_OK) {
    status = dae_set_error (error, status, "cannot create a processor");
    goto done;
  }

  /* pass 1: the band error scale = each band's mean error (floored so
   * that no band can weigh more than 1e6 times the average) */
  {
    double sum[DAE_MAX_BANDS];
    double mean = 0.0;
    size_t nb = tr->nb;
    size_t b;

    memset (sum, 0, sizeof (sum));
    for (i = 0; i < set->n_seg && n < total; i++) {
      size_t n_hops = set->seg[i].n / hop;

      dae_processor_reset (proc);
      for (h = 0; h < n_hops && n < total; h++) {
        if (dae_processor_process (proc, set->seg[i].data + h * hop, out,
                &res) != DAE_OK)
          continue;
        if (h < skip)
          continue;
        for (b = 0; b < nb; b++)
          sum[b] += res.band_errors[b];
        n++;
      }
    }
    for (b = 0; b < nb; b++)
      mean += sum[b] / (double) n / (double) nb;
    for (b = 0; b < nb; b++) {
      double scale = sum[b] / (double) n;

      if (!(scale >= ERROR_SCALE_FLOOR * mean))
        scale = ERROR_SCALE_FLOOR * mean;
      model->error_scale[b] = (float) fmax (scale, FLT_MIN);
    }
    n = 0;
  }

  /* pass 2: the frame scores on that scale */
  for (i = 0; i < set->n_seg; i++) {
    size_t n_hops = set->seg[i].n / hop;

    seg_start[i] = n;
    dae_processor_reset (proc);
    for (h = 0; h < n_hops && n < total; h++) {
      if (dae_processor_process (proc, set->seg[i].data + h * hop, out,
              &res) != DAE_OK)
        continue;
      if (h >= skip)
        scores[n++] = res.score;
    }
  }
  seg_start[set->n_seg] = n;
  dae_processor_free (proc);

  memcpy (sorted, scores, n * sizeof (float));
  qsort (sorted, n, sizeof (float), compare_floats);
  pos = tr->config.threshold_quantile * (double) (n - 1);
  lo = (size_t) pos;
  if (lo + 1 < n)
    model->anomaly_threshold = (float) ((double) sorted[lo]
        + (pos - (double) lo) * ((double) sorted[lo + 1] - sorted[lo]));
  else
    model->anomaly_threshold = sorted[n - 1];

  /* the element's detector on the same frames */
  hold_frames = (size_t) (tr->config.alarm_hold_seconds * rate
      / (double) hop + 0.5);
  status = dae_scorer_new (model->anomaly_threshold, hold_frames, 1, &scorer);
  if (status != DAE_OK) {
    status = dae_set_error (error, status, "cannot create a scorer");
    goto done;
  }
  for (i = 0; i < set->n_seg; i++) {
    dae_scorer_reset (scorer);
    for (h = seg_start[i]; h < seg_start[i + 1]; h++)
      if (dae_scorer_push (scorer, scores[h], NULL) == DAE_ANOMALY_START)
        n_alarms++;
  }
  dae_scorer_free (scorer);

  seconds = (double) (n * hop) / rate;
  model->calib_quantile = (float) tr->config.threshold_quantile;
  model->calib_held_out_seconds = (float) seconds;
  model->calib_false_alarms_per_hour = (float) ((double) n_alarms * 3600.0
      / seconds);
  model->calib_hold_seconds = (float) ((hold_frames > 0 ? hold_frames : 1)
      * (double) hop / rate);
  *n_frames_out = n;
  *n_alarms_out = n_alarms;
  status = DAE_OK;

done:
  dae_free (scores);
  dae_free (sorted);
  dae_free (seg_start);
  dae_free (out);
  return status;
}

static void
append_source_summary (DaeTrainer * tr, char *info, size_t s)
{
  const Source *src = &tr->sources[s];
  double rate = tr->mconfig.sample_rate;

  if (src->n_clips == 0 && src->n_skipped == 0)
    return;
  info_append (info, "%s: %zu clips, %.1f s", source_names[s],
      src->n_clips, (double) src->samples / rate);
  if (src->names[0] != '\0')
    info_append (info, " (%s%s)", src->names,
        src->n_clips > src->n_named ? ", ..." : "");
  if (src->n_skipped > 0)
    info_append (info, "; %zu clips (%.1f s) too short, skipped",
        src->n_skipped, (double) src->skipped_samples / rate);
  if (src->valid_from_train)
    info_append (info, "; no usable held-out audio, validated on training "
        "audio");
  info_append (info, "\n");
}

/* dae_trainer_get_model() (current 0: the best weights, calibrated) and
 * dae_trainer_get_current_model() (current 1: the weights as they are, no
 * calibration) */
static DaeStatus
build_model (DaeTrainer * trainer, int current, DaeModel ** model_out,
    DaeError * error)
{
  DaeTrainer *tr = trainer;
  const DaeTrainConfig *c;
  DaeModel *model;
  DaeTensor dest[DAE_MAX_TENSORS];
  DaeStatus status;
  char *info;
  size_t s;

  if (tr == NULL || model_out == NULL)
    return dae_set_error (error, DAE_ERROR_INVALID_ARGUMENT,
        "trainer or model_out is NULL");
  if (!tr->prepared)
    return dae_set_error (error, DAE_ERROR_INVALID_ARGUMENT,
        "call dae_trainer_prepare() first");
  c = &tr->config;

  status = dae_model_alloc (&tr->mconfig, &model, error);
  if (status != DAE_OK)
    return status;
  dae_model_list_tensors (model, dest);
  copy_weights (dest, tr->epoch > 0 && !current ? tr->tb : tr->tp,
      tr->n_tensors);
  copy_norm (model, tr->model);

  info = model->info;
  info[0] = '\0';
  if (tr->user_info != NULL && tr->user_info[0] != '\0')
    info_append (info, "%s\n", tr->user_info);
  info_append (info, "recipe: %s (libdae %s trainer)\n",
      c->recipe == DAE_RECIPE_DENOISE ? "denoise" : "anomaly",
      dae_version_string ());
  for (s = 0; s < N_SOURCES; s++)
    append_source_summary (tr, info, s);
  info_append (info, "held out for validation: %g of each source, %zu "
      "sequences\n", c->validation_fraction, tr->n_valid);
  info_append (info, "training: %zu epochs, best validation loss %.6g, "
      "seed %llu, %zu x %zu steps of %zu sequences x %zu frames, "
      "lr %g decay %g, clip %g\n", tr->epoch, tr->best_loss,
      (unsigned long long) c->seed, tr->epoch, c->steps_per_epoch,
      c->batch_size, c->sequence_frames, c->learning_rate, c->lr_decay,
      c->grad_clip);
  if (current)
    info_append (info, "weights: as they were after epoch %zu (not the "
        "best validation epoch)\n", tr->epoch);
  if (c->recipe == DAE_RECIPE_DENOISE) {
    info_append (info, "augmentation: SNR %g to %g dB, speech level %g to "
        "%g dBFS, colouring %g, reverberation %g, clipping %g",
        c->snr_min_db, c->snr_max_db, c->level_min_db, c->level_max_db,
        c->filter_probability, c->reverb_probability, c->clip_probability);
    if (c->reverb_probability > 0.0
        && c->reverb_early_ms != DAE_REVERB_EARLY_MS)
      info_append (info, " (target keeps %g ms of the room)",
          c->reverb_early_ms);
    if (c->speed_probability > 0.0)
      info_append (info, ", speed %g (factor 1/%g to %g)%s",
          c->speed_probability, c->speed_max_factor, c->speed_max_factor,
          c->speed_validation ? ", validation too" : "");
    info_append (info, "\n");
    info_append (info, "loss: gain %g, reconstruction %g, voice activity "
        "%g", c->gain_weight, c->recon_weight,
        tr->use_vad ? c->vad_weight : 0.0);
    if (c->sdr_weight > 0.0)
      info_append (info, ", signal-to-distortion %g", c->sdr_weight);
    info_append (info, "\n");
  } else {
    size_t n_frames = 0;
    size_t n_alarms = 0;
    double hop_s = (double) tr->mconfig.hop_samples / tr->mconfig.sample_rate;
    double fraction = 1.0 - c->threshold_quantile;
    double hours;

    info_append (info, "%s: input features + noise std %g, band dropout "
        "%g; gain %g to %g dB\n", tr->mconfig.predictive ?
        "predictive model (each frame predicted from the previous ones)" :
        "denoising autoencoder", c->corruption, c->dropout,
        c->level_min_db, c->level_max_db);
    if (current) {
      info_append (info, "anomaly threshold: not calibrated (epoch "
          "weights)\n");
      *model_out = model;
      return DAE_OK;
    }
    status = calibrate (tr, model, &n_frames, &n_alarms, error);
    if (status != DAE_OK) {
      dae_model_unref (model);
      return status;
    }
    hours = model->calib_held_out_seconds / 3600.0;
    info_append (info, "anomaly threshold: %.6g = the %g quantile of %zu "
        "frame scores (%.0f s) of held-out normal audio%s, so %.3g %% of "
        "normal frames (about %.0f frames per hour) lie above it\n",
        (double) model->anomaly_threshold, c->threshold_quantile, n_frames,
        (double) model->calib_held_out_seconds,
        tr->sources[DAE_SOURCE_NORMAL].valid_from_train ?
        " (training audio: nothing usable was held out)" : "",
        100.0 * fraction, fraction * 3600.0 / hop_s);
    info_append (info, "expected false alarms: %.3g per hour (%zu anomaly "
        "starts with a %.3g s hold in that audio", (double)
        model->calib_false_alarms_per_hour, n_alarms,
        (double) model->calib_hold_seconds);
    if (n_alarms == 0)
      info_append (info, "; 95 %% upper bound %.3g per hour", 3.0 / hours);
    info_append (info, ")\n");
  }

  *model_out = model;
  return DAE_OK;
}

DaeStatus
dae_trainer_get_model (DaeTrainer * trainer, DaeModel ** model_out,
    DaeError * error)
{
  return build_model (trainer, 0, model_out, error);
}

DaeStatus
dae_trainer_get_current_model (DaeTrainer * trainer, DaeModel ** model_out,
    DaeError * error)
{
  return build_model (trainer, 1, model_out, error);
}

static int config_equal (const DaeModelConfig * a, const DaeModelConfig * b);

DaeStatus
dae_model_average (DaeModel * const *models, size_t n_models,
    const char *info, DaeModel ** model_out, DaeError * error)
{
  DaeTensor dest[DAE_MAX_TENSORS];
  DaeTensor src[DAE_MAX_TENSORS];
  const DaeModel *first;
  DaeModel *model;
  DaeStatus status;
  double *sum;
  size_t n_tensors;
  size_t nb;
  size_t i;
  size_t k;
  size_t j;

  if (models == NULL || n_models == 0 || model_out == NULL)
    return dae_set_error (error, DAE_ERROR_INVALID_ARGUMENT,
        "models is NULL or empty, or model_out is NULL");
  for (i = 0; i < n_models; i++)
    if (models[i] == NULL)
      return dae_set_error (error, DAE_ERROR_INVALID_ARGUMENT,
          "model %zu is NULL", i + 1);
  first = models[0];
  nb = first->config.n_bands;
  for (i = 0; i < n_models; i++) {
    const DaeModel *m = models[i];

    if (m->anomaly_threshold >= 0.0f)
      return dae_set_error (error, DAE_ERROR_INVALID_ARGUMENT,
          "model %zu has a calibrated anomaly threshold, which belongs to "
          "its own weights", i + 1);
    if (m->gain_scale != 1.0f)
      return dae_set_error (error, DAE_ERROR_INVALID_ARGUMENT,
          "model %zu has a gain scale (%g), which belongs to its own "
          "weights: average models without one, then choose one for the "
          "mean", i + 1, (double) m->gain_scale);
    if (i == 0)
      continue;
    if (!config_equal (&m->config, &first->config)
        || memcmp (m->band_centers, first->band_centers,
            nb * sizeof (float)) != 0)
      return dae_set_error (error, DAE_ERROR_INVALID_ARGUMENT,
          "model %zu has another architecture or band layout than model 1",
          i + 1);
    if (memcmp (m->norm_mean, first->norm_mean,
            dae_model_config_n_features (&m->config) * sizeof (float)) != 0
        || memcmp (m->norm_std, first->norm_std,
            dae_model_config_n_features (&m->config) * sizeof (float)) != 0)
      return dae_set_error (error, DAE_ERROR_INVALID_ARGUMENT,
          "model %zu has another feature normalisation than model 1 (not "
          "from the same training run)", i + 1);
  }

  status = dae_model_alloc (&first->config, &model, error);
  if (status != DAE_OK)
    return status;
  memcpy (model->band_centers, first->band_centers, nb * sizeof (float));
  copy_norm (model, first);
  memcpy (model->error_scale, first->error_scale, nb * sizeof (float));
  if (info != NULL) {
    model->info[0] = '\0';
    info_append (model->info, "%s", info);
  } else {
    memcpy (model->info, first->info, sizeof (model->info));
  }
  n_tensors = dae_model_list_tensors (model, dest);
  sum = dae_calloc (model->n_params, sizeof (double));
  if (sum == NULL) {
    dae_model_unref (model);
    return dae_set_error (error, DAE_ERROR_NO_MEMORY,
        "out of memory averaging %zu parameters", model->n_params);
  }
  /* in model order, so the result does not depend on anything else */
  for (i = 0; i < n_models; i++) {
    double *p = sum;

    dae_model_list_tensors (models[i], src);
    for (k = 0; k < n_tensors; k++)
      for (j = 0; j < src[k].rows * src[k].cols; j++)
        *p++ += src[k].data[j];
  }
  {
    const double *p = sum;

    for (k = 0; k < n_tensors; k++)
      for (j = 0; j < dest[k].rows * dest[k].cols; j++)
        dest[k].data[j] = (float) (*p++ / (double) n_models);
  }
  dae_free (sum);
  *model_out = model;
  return DAE_OK;
}

/* ------------------------------------------------------------------------ */
/* Checkpoints                                                               */

/* Layout (little-endian):
 *
 *     0  u8[8]  magic "DAECKPT\0"
 *     8  u32    version (1)
 *    12  u32    header size (128)
 *    16  u64    file size
 *    24  u32    CRC-32 of the whole file with these four bytes as zero
 *    28  u32    recipe
 *    32  u64    epochs completed
 *    40  u64    Adam steps
 *    48  u64    epochs since the best validation loss
 *    56  u64    training random state
 *    64  f64    learning rate of the next epoch
 *    72  f64    best validation loss (+inf if none yet)
 *    80  u64[4] sizes of the four model files that follow, in order:
 *               current weights (with the normalisation), best weights,
 *               Adam first moments, Adam second moments (the moments are
 *               stored as models whose tensors hold them)
 *   112  f64    sdr_weight the validation losses were measured with (0 in
 *               checkpoints from before it was stored: those had no such
 *               term)
 *   120  ...    reserved, zero
 *   128         the four model files, each as dae_model_save_memory()
 *
 * A checkpoint loaded into a trainer whose loss has another sdr_weight
 * forgets its best validation loss (the numbers are not comparable): the
 * first epoch after resuming is the new best.
 */
#define CKPT_MAGIC "DAECKPT"
#define CKPT_VERSION 1
#define CKPT_HEADER 128
#define CKPT_N_MODELS 4
#define CKPT_MAX_SIZE (CKPT_HEADER + CKPT_N_MODELS * DAE_MODEL_MAX_FILE_SIZE)

static void
put_u32 (unsigned char *p, uint32_t v)
{
  size_t i;

  for (i = 0; i < 4; i++)
    p[i] = (unsigned char) (v >> (8 * i));
}

static void
put_u64 (unsigned char *p, uint64_t v)
{
  size_t i;

  for (i = 0; i < 8; i++)
    p[i] = (unsigned char) (v >> (8 * i));
}

static void
put_f64 (unsigned char *p, double d)
{
  uint64_t v;

  memcpy (&v, &d, sizeof (v));
  put_u64 (p, v);
}

static uint32_t
get_u32 (const unsigned char *p)
{
  return (uint32_t) p[0] | (uint32_t) p[1] << 8 | (uint32_t) p[2] << 16
      | (uint32_t) p[3] << 24;
}

static uint64_t
get_u64 (const unsigned char *p)
{
  return (uint64_t) get_u32 (p) | (uint64_t) get_u32 (p + 4) << 32;
}

static double
get_f64 (const unsigned char *p)
{
  uint64_t v = get_u64 (p);
  double d;

  memcpy (&d, &v, sizeof (d));
  return d;
}

static DaeStatus
io_error (DaeError * error, const char *what, const char *path, int err)
{
  return dae_set_error (error, DAE_ERROR_IO, "cannot %s '%s': %s", what, path,
      strerror (err));
}

DaeStatus
dae_trainer_save_checkpoint (DaeTrainer * trainer, const char *path,
    DaeError * error)
{
  static const char suffix[] = ".tmp-XXXXXX";
  DaeTrainer *tr = trainer;
  const DaeModel *models[CKPT_N_MODELS];
  void *blobs[CKPT_N_MODELS] = { NULL, NULL, NULL, NULL };
  size_t sizes[CKPT_N_MODELS];
  unsigned char header[CKPT_HEADER];
  uint32_t crc;
  size_t total = CKPT_HEADER;
  char *tmp = NULL;
  FILE *f = NULL;
  int fd;
  DaeStatus status = DAE_OK;
  size_t i;

  if (tr == NULL || path == NULL || path[0] == '\0')
    return dae_set_error (error, DAE_ERROR_INVALID_ARGUMENT,
        "trainer or path is NULL or empty");

  models[0] = tr->model;
  models[1] = tr->best;
  models[2] = tr->adam_m;
  models[3] = tr->adam_v;
  copy_norm (tr->best, tr->model);
  for (i = 0; i < CKPT_N_MODELS; i++) {
    status = dae_model_save_memory (models[i], &blobs[i], &sizes[i], error);
    if (status != DAE_OK)
      goto out;
    total += sizes[i];
  }

  memset (header, 0, sizeof (header));
  memcpy (header, CKPT_MAGIC, 8);
  put_u32 (header + 8, CKPT_VERSION);
  put_u32 (header + 12, CKPT_HEADER);
  put_u64 (header + 16, total);
  put_u32 (header + 28, (uint32_t) tr->config.recipe);
  put_u64 (header + 32, tr->epoch);
  put_u64 (header + 40, tr->adam_step);
  put_u64 (header + 48, tr->since_best);
  put_u64 (header + 56, tr->rng.s);
  put_f64 (header + 64, tr->lr);
  put_f64 (header + 72, tr->best_loss);
  put_f64 (header + 112, tr->config.sdr_weight);
  for (i = 0; i < CKPT_N_MODELS; i++)
    put_u64 (header + 80 + 8 * i, sizes[i]);
  crc = dae_crc32 (0, header, sizeof (header));
  for (i = 0; i < CKPT_N_MODELS; i++)
    crc = dae_crc32 (crc, blobs[i], sizes[i]);
  put_u32 (header + 24, crc);

  tmp = dae_malloc (strlen (path) + sizeof (suffix));
  if (tmp == NULL) {
    status = dae_set_error (error, DAE_ERROR_NO_MEMORY, "out of memory");
    goto out;
  }
  memcpy (tmp, path, strlen (path));
  memcpy (tmp + strlen (path), suffix, sizeof (suffix));
  fd = mkstemp (tmp);
  if (fd < 0) {
    status = io_error (error, "create a temporary file beside", path, errno);
    dae_free (tmp);
    tmp = NULL;
    goto out;
  }
  (void) fchmod (fd, 0644);
  f = fdopen (fd, "wb");
  if (f == NULL) {
    status = io_error (error, "write", path, errno);
    close (fd);
    goto out;
  }
  if (fwrite (header, 1, sizeof (header), f) != sizeof (header))
    status = io_error (error, "write", path, errno);
  for (i = 0; i < CKPT_N_MODELS && status == DAE_OK; i++)
    if (fwrite (blobs[i], 1, sizes[i], f) != sizes[i])
      status = io_error (error, "write", path, errno);
  if (status == DAE_OK && fflush (f) != 0)
    status = io_error (error, "write", path, errno);
  if (status == DAE_OK && fsync (fileno (f)) != 0)
    status = io_error (error, "write", path, errno);
  if (fclose (f) != 0 && status == DAE_OK)
    status = io_error (error, "write", path, errno);
  if (status == DAE_OK && rename (tmp, path) != 0)
    status = io_error (error, "rename a temporary file to", path, errno);

out:
  if (tmp != NULL) {
    if (status != DAE_OK)
      unlink (tmp);
    dae_free (tmp);
  }
  for (i = 0; i < CKPT_N_MODELS; i++)
    dae_free (blobs[i]);
  return status;
}

static int
config_equal (const DaeModelConfig * a, const DaeModelConfig * b)
{
  return a->sample_rate == b->sample_rate
      && a->window_samples == b->window_samples
      && a->hop_samples == b->hop_samples && a->n_bands == b->n_bands
      && a->band_min_hz == b->band_min_hz && a->band_max_hz == b->band_max_hz
      && a->enc_dense == b->enc_dense && a->enc_gru == b->enc_gru
      && a->bottleneck == b->bottleneck && a->dec_gru == b->dec_gru
      && !a->has_vad == !b->has_vad && !a->gain_skip == !b->gain_skip
      && !a->predictive == !b->predictive && !a->tonality == !b->tonality;
}

/* DAE_OK if model (what names it in the error) has the trainer's band
 * layout, else DAE_ERROR_INCOMPATIBLE */
static DaeStatus
check_bands (const DaeTrainer * tr, const DaeModel * model, const char *what,
    DaeError * error)
{
  if (memcmp (model->band_centers, tr->model->band_centers,
          tr->nb * sizeof (float)) != 0)
    return dae_set_error (error, DAE_ERROR_INCOMPATIBLE,
        "%s has another band layout (band spacing)", what);
  return DAE_OK;
}

/* DAE_OK if model (what names it in the error) has the trainer's
 * architecture and band layout, else DAE_ERROR_INCOMPATIBLE */
static DaeStatus
check_fits (const DaeTrainer * tr, const DaeModel * model, const char *what,
    DaeError * error)
{
  const DaeModelConfig *m = &model->config;

  if (!config_equal (m, &tr->mconfig))
    return dae_set_error (error, DAE_ERROR_INCOMPATIBLE,
        "%s has another architecture: %u Hz, window %zu, hop %zu, %zu bands "
        "from %g to %g Hz, layers %zu/%zu/%zu/%zu, vad %d, skip %d, "
        "predictive %d, tonality %d", what, m->sample_rate, m->window_samples,
        m->hop_samples, m->n_bands, (double) m->band_min_hz,
        (double) m->band_max_hz, m->enc_dense, m->enc_gru, m->bottleneck,
        m->dec_gru, m->has_vad, m->gain_skip, m->predictive, m->tonality);
  return check_bands (tr, model, what, error);
}

static DaeStatus
read_file (const char *path, unsigned char **data_out, size_t *size_out,
    DaeError * error)
{
  FILE *f = fopen (path, "rb");
  unsigned char *data;
  long size;

  if (f == NULL)
    return io_error (error, "open", path, errno);
  if (fseek (f, 0, SEEK_END) != 0 || (size = ftell (f)) < 0
      || fseek (f, 0, SEEK_SET) != 0) {
    int err = errno;

    fclose (f);
    return io_error (error, "read", path, err);
  }
  if ((unsigned long) size < CKPT_HEADER
      || (unsigned long) size > CKPT_MAX_SIZE) {
    fclose (f);
    return dae_set_error (error, DAE_ERROR_BAD_FORMAT,
        "checkpoint '%s': %ld bytes, expected %d to %zu", path, size,
        CKPT_HEADER, (size_t) CKPT_MAX_SIZE);
  }
  data = dae_malloc ((size_t) size);
  if (data == NULL) {
    fclose (f);
    return dae_set_error (error, DAE_ERROR_NO_MEMORY, "out of memory");
  }
  if (fread (data, 1, (size_t) size, f) != (size_t) size) {
    int err = ferror (f) ? errno : EIO;

    fclose (f);
    dae_free (data);
    return io_error (error, "read", path, err);
  }
  fclose (f);
  *data_out = data;
  *size_out = (size_t) size;
  return DAE_OK;
}

DaeStatus
dae_trainer_load_checkpoint (DaeTrainer * trainer, const char *path,
    DaeError * error)
{
  static const char *const what[CKPT_N_MODELS] = {
    "current weights", "best weights", "Adam first moments",
    "Adam second moments"
  };
  DaeTrainer *tr = trainer;
  DaeModel *models[CKPT_N_MODELS] = { NULL, NULL, NULL, NULL };
  DaeTensor *dest[CKPT_N_MODELS];
  char label[1024];
  unsigned char *data = NULL;
  size_t size = 0;
  size_t offset = CKPT_HEADER;
  uint32_t crc;
  double lr;
  double best;
  double sdr_weight;
  DaeError sub;
  DaeStatus status;
  size_t i;

  if (tr == NULL || path == NULL)
    return dae_set_error (error, DAE_ERROR_INVALID_ARGUMENT,
        "trainer or path is NULL");
  if (tr->prepared)
    return dae_set_error (error, DAE_ERROR_INVALID_ARGUMENT,
        "load a checkpoint before dae_trainer_prepare()");

  if ((status = read_file (path, &data, &size, error)) != DAE_OK)
    return status;

#define BAD(...) do { status = dae_set_error (error, DAE_ERROR_BAD_FORMAT, __VA_ARGS__); goto out; } while (0)
  if (memcmp (data, CKPT_MAGIC, 8) != 0)
    BAD ("'%s' is not a dae checkpoint (bad magic)", path);
  if (get_u32 (data + 8) != CKPT_VERSION) {
    status = dae_set_error (error, DAE_ERROR_UNSUPPORTED_VERSION,
        "checkpoint '%s': version %u, expected %d", path,
        get_u32 (data + 8), CKPT_VERSION);
    goto out;
  }
  if (get_u32 (data + 12) != CKPT_HEADER)
    BAD ("checkpoint '%s': header size %u, expected %d", path,
        get_u32 (data + 12), CKPT_HEADER);
  if (get_u64 (data + 16) != size)
    BAD ("checkpoint '%s': truncated or padded (%zu bytes, header says "
        "%llu)", path, size, (unsigned long long) get_u64 (data + 16));
  crc = get_u32 (data + 24);
  put_u32 (data + 24, 0);
  if (dae_crc32 (0, data, size) != crc)
    BAD ("checkpoint '%s': checksum mismatch", path);
  for (i = 0; i < CKPT_N_MODELS; i++) {
    uint64_t n = get_u64 (data + 80 + 8 * i);

    if (n > size - offset)
      BAD ("checkpoint '%s': %s: %llu bytes, only %zu left", path, what[i],
          (unsigned long long) n, size - offset);
    status = dae_model_load_memory (data + offset, (size_t) n, &models[i],
        &sub);
    if (status != DAE_OK)
      BAD ("checkpoint '%s': %s: %s", path, what[i], sub.message);
    offset += (size_t) n;
  }
  if (offset != size)
    BAD ("checkpoint '%s': %zu bytes of trailing data", path, size - offset);
  lr = get_f64 (data + 64);
  best = get_f64 (data + 72);
  if (!(isfinite (lr) && lr > 0.0))
    BAD ("checkpoint '%s': learning rate %g", path, lr);
  if (!(best >= 0.0))
    BAD ("checkpoint '%s': best validation loss %g", path, best);
  sdr_weight = get_f64 (data + 112);
  if (!(isfinite (sdr_weight) && sdr_weight >= 0.0))
    BAD ("checkpoint '%s': signal-to-distortion weight %g", path, sdr_weight);
#undef BAD

  if (get_u32 (data + 28) != (uint32_t) tr->config.recipe) {
    status = dae_set_error (error, DAE_ERROR_INCOMPATIBLE,
        "checkpoint '%s' is for the %s recipe", path,
        get_u32 (data + 28) == DAE_RECIPE_DENOISE ? "denoise" : "anomaly");
    goto out;
  }
  snprintf (label, sizeof (label), "checkpoint '%.1000s'", path);
  for (i = 0; i < CKPT_N_MODELS; i++) {
    if ((status = check_fits (tr, models[i], label, error)) != DAE_OK)
      goto out;
  }

  dest[0] = tr->tp;
  dest[1] = tr->tb;
  dest[2] = tr->tm;
  dest[3] = tr->tv;
  for (i = 0; i < CKPT_N_MODELS; i++) {
    DaeTensor src[DAE_MAX_TENSORS];

    dae_model_list_tensors (models[i], src);
    copy_weights (dest[i], src, tr->n_tensors);
  }
  copy_norm (tr->model, models[0]);
  copy_norm (tr->best, models[0]);
  tr->epoch = (size_t) get_u64 (data + 32);
  tr->adam_step = get_u64 (data + 40);
  tr->since_best = (size_t) get_u64 (data + 48);
  tr->rng.s = get_u64 (data + 56);
  tr->lr = lr;
  tr->best_loss = best;
  if (sdr_weight != tr->config.sdr_weight) {
    tr->best_loss = INFINITY;
    tr->since_best = 0;
  }
  tr->loaded = 1;
  status = DAE_OK;

out:
  for (i = 0; i < CKPT_N_MODELS; i++)
    dae_model_unref (models[i]);
  dae_free (data);
  return status;
}

/* Whether a model of config from can start a trainer of config to: the
 * same, or with more units in one or more hidden layers, or with band
 * tonality added, or both; nothing else may differ. */
static int
config_extends (const DaeModelConfig * from, const DaeModelConfig * to)
{
  DaeModelConfig c = *from;

  if (to->enc_dense < from->enc_dense || to->enc_gru < from->enc_gru
      || to->bottleneck < from->bottleneck || to->dec_gru < from->dec_gru
      || (from->tonality && !to->tonality))
    return 0;
  c.enc_dense = to->enc_dense;
  c.enc_gru = to->enc_gru;
  c.bottleneck = to->bottleneck;
  c.dec_gru = to->dec_gru;
  c.tonality = to->tonality;
  return config_equal (&c, to);
}

/* Places the weights of src into dest, the same tensor of a network that
 * may be wider or see more inputs, which holds fresh random weights.  The
 * rows are `groups` equal blocks (the three gates of a GRU) that each grew
 * at their end.  The columns are two parts that each grew at their end:
 * the inputs from the previous layer, then tail_old -> tail_new inputs
 * (the gain head's skip connection from the features).  Old rows keep
 * their weights and get zero weights from the new inputs; new rows keep
 * their random weights. */
static void
grow_tensor (DaeTensor * dest, const DaeTensor * src, size_t groups,
    size_t tail_old, size_t tail_new)
{
  const size_t rows_old = src->rows / groups;
  const size_t rows_new = dest->rows / groups;
  const size_t head_old = src->cols - tail_old;
  const size_t head_new = dest->cols - tail_new;
  size_t g;
  size_t r;

  for (g = 0; g < groups; g++) {
    for (r = 0; r < rows_old; r++) {
      const float *s = src->data + (g * rows_old + r) * src->cols;
      float *d = dest->data + (g * rows_new + r) * dest->cols;

      memcpy (d, s, head_old * sizeof (float));
      memset (d + head_old, 0, (head_new - head_old) * sizeof (float));
      memcpy (d + head_new, s + head_old, tail_old * sizeof (float));
      memset (d + head_new + tail_old, 0,
          (tail_new - tail_old) * sizeof (float));
    }
  }
}

DaeStatus
dae_trainer_init_from_model (DaeTrainer * trainer, const DaeModel * model,
    DaeError * error)
{
  DaeTensor src[DAE_MAX_TENSORS];
  DaeTrainer *tr = trainer;
  size_t nf_old;
  size_t k;

  if (tr == NULL || model == NULL)
    return dae_set_error (error, DAE_ERROR_INVALID_ARGUMENT,
        "trainer or model is NULL");
  if (tr->prepared || tr->loaded)
    return dae_set_error (error, DAE_ERROR_INVALID_ARGUMENT,
        "initial weights must be set once, before dae_trainer_prepare() "
        "and instead of a checkpoint");
  if (!config_extends (&model->config, &tr->mconfig))
    /* the configs differ: check_fits says how */
    return check_fits (tr, model, "the initial model", error);
  if (check_bands (tr, model, "the initial model", error) != DAE_OK)
    return DAE_ERROR_INCOMPATIBLE;

  /* Every new unit gets random incoming weights and every new input zero
   * weights, so the network first computes what the model did.  Tonality
   * inputs added here get their normalisation in dae_trainer_prepare(). */
  nf_old = dae_model_config_n_features (&model->config);
  dae_model_init_random (tr->model, tr->config.seed);
  dae_model_list_tensors ((DaeModel *) model, src);
  for (k = 0; k < tr->n_tensors; k++) {
    const char *name = tr->tp[k].name;
    int gru = strncmp (name, "enc_gru.", 8) == 0
        || strncmp (name, "dec_gru.", 8) == 0;
    int skip = strcmp (name, "gain.w") == 0 && tr->mconfig.gain_skip;

    grow_tensor (&tr->tp[k], &src[k], gru ? 3 : 1, skip ? nf_old : 0,
        skip ? tr->nf : 0);
  }
  copy_weights (tr->tb, tr->tp, tr->n_tensors);
  copy_norm (tr->model, model);
  copy_norm (tr->best, model);
  tr->tonality_added = tr->nf > nf_old;
  tr->loaded = 1;
  return DAE_OK;
}

/* ------------------------------------------------------------------------ */
/* Test hooks                                                                */

size_t
dae_trainer_debug_n_params (DaeTrainer * trainer)
{
  return trainer->model->n_params;
}

float *
dae_trainer_debug_param (DaeTrainer * trainer, size_t index)
{
  size_t k;

  for (k = 0; k < trainer->n_tensors; k++) {
    size_t n = trainer->tp[k].rows * trainer->tp[k].cols;

    if (index < n)
      return trainer->tp[k].data + index;
    index -= n;
  }
  return NULL;
}

DaeStatus
dae_trainer_debug_loss (DaeTrainer * trainer, double *loss_out, float *grad)
{
  size_t n;
  size_t k;

  if (trainer == NULL || loss_out == NULL || !trainer->prepared)
    return DAE_ERROR_INVALID_ARGUMENT;
  n = trainer->n_valid < trainer->config.batch_size ?
      trainer->n_valid : trainer->config.batch_size;
  zero_grad (trainer);
  *loss_out = forward_backward (trainer, &trainer->valid, 0, n, grad != NULL);
  if (grad != NULL) {
    for (k = 0; k < trainer->n_tensors; k++) {
      size_t m = trainer->tg[k].rows * trainer->tg[k].cols;

      memcpy (grad, trainer->tg[k].data, m * sizeof (float));
      grad += m;
    }
  }
  return DAE_OK;
}
