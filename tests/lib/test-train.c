/* libdae — tests for the trainer (train.c, augment.c)
 * Copyright (C) 2026 The dae authors
 * SPDX-License-Identifier: LGPL-2.1-or-later
 *
 * Tiny models (8 bands, 16-unit layers, 64-sample window, 32-sample hop at
 * 16 kHz) trained for a few epochs on synthetic audio made here: harmonic
 * "speech" bursts, white and pink noise, a machine-like hum.
 */

#include <math.h>
#include <stdint.h>
#include <string.h>
#include <unistd.h>

#include <glib.h>
#include <glib/gstdio.h>

#include "../test-valgrind.h"
#include "dae/dae-train.h"
#include "train-private.h"

#define RATE 16000
#define TEST_SEED 0x5eedu
/* validation loss after DENOISE_EPOCHS must be below this share of the
 * first epoch's */
#define DENOISE_EPOCHS 8
#define LOSS_RATIO 0.7
/* noise-only input must get at least this much more attenuation (mean
 * applied band gain, dB) than clean speech-like input */
#define GAIN_MARGIN_DB 3.0
/* anomalous audio must score this many times the held-out normal audio */
#define ANOMALY_SCORE_RATIO 3.0
#define ANOMALY_QUANTILE 0.9
/* the mean frame score of fresh normal audio, with band errors scaled by
 * the held-out normal audio's, lies within this factor of 1 */
#define NORMAL_SCORE_RANGE 2.0
/* the anomaly data set: clips of 3 s of machine hum */
#define ANOMALY_CLIPS 2
#define ANOMALY_AUDIO_SECONDS (ANOMALY_CLIPS * 3.0)
/* loose bounds on the share of fresh normal frames above the threshold
 * calibrated at ANOMALY_QUANTILE */
#define FALSE_ALARM_MIN 0.01
#define FALSE_ALARM_MAX 0.3
/* finite differences on the full training loss */
#define GRAD_EPS 1e-3f
#define GRAD_REL_TOL 3e-2
#define GRAD_ABS_TOL 5e-4
/* batched GRU (train-gru.c) vs the net.c primitives: float rounding only */
#define GRU_BATCH_TOL 1e-4

/* ------------------------------------------------------------------------ */
/* Synthetic audio                                                           */

static void
white_noise (GRand * rand, float *x, size_t n, double rms)
{
  size_t i;

  for (i = 0; i < n; i++) {
    /* sum of uniforms: variance 3 * (1/3) = 1 */
    double v = g_rand_double_range (rand, -1.0, 1.0)
        + g_rand_double_range (rand, -1.0, 1.0)
        + g_rand_double_range (rand, -1.0, 1.0);

    x[i] = (float) (rms * v);
  }
}

/* Paul Kellet's economy pink filter over white noise, normalised to rms. */
static void
pink_noise (GRand * rand, float *x, size_t n, double rms)
{
  double b0 = 0.0;
  double b1 = 0.0;
  double b2 = 0.0;
  double sum = 0.0;
  size_t i;

  white_noise (rand, x, n, 1.0);
  for (i = 0; i < n; i++) {
    double w = x[i];

    b0 = 0.99765 * b0 + w * 0.0990460;
    b1 = 0.96300 * b1 + w * 0.2965164;
    b2 = 0.57000 * b2 + w * 1.0526913;
    x[i] = (float) (b0 + b1 + b2 + w * 0.1848);
    sum += (double) x[i] * x[i];
  }
  sum = sqrt (sum / (double) n);
  for (i = 0; i < n; i++)
    x[i] = (float) (x[i] * rms / sum);
}

/* Voiced bursts of 150 to 400 ms (f0 100 to 250 Hz gliding, harmonics up
 * to 4 kHz falling 6 dB/octave, raised-cosine envelope); with pauses of 50
 * to 200 ms between them if pauses is set. */
static void
speech_like (GRand * rand, float *x, size_t n, double amplitude, int pauses)
{
  size_t i = 0;

  memset (x, 0, n * sizeof (float));
  while (i < n) {
    size_t len = (size_t) (g_rand_double_range (rand, 0.15, 0.4) * RATE);
    double f0 = g_rand_double_range (rand, 100.0, 250.0);
    double glide = g_rand_double_range (rand, -0.5, 0.5);
    double phase = 0.0;
    size_t j;

    for (j = 0; j < len && i + j < n; j++) {
      double t = (double) j / (double) len;
      double env = pauses ? 0.5 - 0.5 * cos (2.0 * G_PI * t) : 1.0;
      double f = f0 * (1.0 + glide * t);
      double v = 0.0;
      int k;

      phase += 2.0 * G_PI * f / RATE;
      for (k = 1; k * f < 4000.0; k++)
        v += sin (k * phase) / k;
      x[i + j] = (float) (amplitude * env * v);
    }
    i += len;
    if (pauses)
      i += (size_t) (g_rand_double_range (rand, 0.05, 0.2) * RATE);
  }
}

/* A machine hum: 100 Hz and harmonics with fixed amplitudes, slight
 * amplitude wobble, and a low broadband floor. */
static void
hum (GRand * rand, float *x, size_t n)
{
  static const double amps[] = { 0.1, 0.05, 0.08, 0.02, 0.03, 0.01 };
  double phase = g_rand_double_range (rand, 0.0, 2.0 * G_PI);
  size_t i;

  white_noise (rand, x, n, 0.003);
  for (i = 0; i < n; i++) {
    double t = (double) i / RATE;
    double wobble = 1.0 + 0.05 * sin (2.0 * G_PI * 0.7 * t);
    size_t k;

    for (k = 0; k < G_N_ELEMENTS (amps); k++)
      x[i] += (float) (wobble * amps[k] * sin ((double) (k + 1)
              * (2.0 * G_PI * 100.0 * t + phase)));
  }
}

/* ------------------------------------------------------------------------ */
/* Helpers                                                                   */

static void
tiny_model_config (DaeModelConfig * mc)
{
  dae_model_config_init (mc, RATE);
  mc->window_samples = 64;
  mc->hop_samples = 32;
  mc->n_bands = 8;
  mc->enc_dense = 16;
  mc->enc_gru = 16;
  mc->bottleneck = 8;
  mc->dec_gru = 16;
  mc->gain_skip = 1;
  mc->has_vad = 0;
}

static void
tiny_train_config (DaeTrainConfig * tc, DaeRecipe recipe)
{
  dae_train_config_init (tc, recipe);
  tc->seed = TEST_SEED;
  tc->max_epochs = 100;
  tc->steps_per_epoch = 12;
  tc->batch_size = 8;
  tc->sequence_frames = 48;
  tc->validation_sequences = 16;
  tc->validation_fraction = 0.2;
  tc->learning_rate = 1e-2;
  tc->lr_decay = 0.95;
  tc->patience = 0;
  tc->threshold_quantile = ANOMALY_QUANTILE;
  if (recipe == DAE_RECIPE_DENOISE) {
    tc->level_min_db = -35.0;
    tc->level_max_db = -15.0;
    tc->snr_min_db = -5.0;
    tc->snr_max_db = 20.0;
  }
}

static void
add_clip (DaeTrainer * trainer, DaeTrainSource source, const float *x,
    size_t n, const char *name)
{
  DaeError error = { 0 };

  g_assert_cmpint (dae_trainer_add_audio (trainer, source, x, n, name,
          &error), ==, DAE_OK);
}

/* Adds the denoise or anomaly data set (fixed seed). */
static void
add_data (DaeTrainer * trainer, DaeRecipe recipe)
{
  GRand *rand = g_rand_new_with_seed (1234);
  const size_t n = 3 * RATE;
  float *x = g_new (float, n);
  int i;

  if (recipe == DAE_RECIPE_DENOISE) {
    for (i = 0; i < 4; i++) {
      speech_like (rand, x, n, 0.1, 1);
      add_clip (trainer, DAE_SOURCE_SPEECH, x, n, "speech.wav");
    }
    white_noise (rand, x, n, 0.1);
    add_clip (trainer, DAE_SOURCE_NOISE, x, n, "white.wav");
    pink_noise (rand, x, n, 0.1);
    add_clip (trainer, DAE_SOURCE_NOISE, x, n, "pink.wav");
    /* a short noise clip is looped */
    white_noise (rand, x, RATE / 10, 0.05);
    add_clip (trainer, DAE_SOURCE_NOISE, x, RATE / 10, "short.wav");
  } else {
    for (i = 0; i < ANOMALY_CLIPS; i++) {
      hum (rand, x, n);
      add_clip (trainer, DAE_SOURCE_NORMAL, x, n, "hum.wav");
    }
  }
  g_free (x);
  g_rand_free (rand);
}

static DaeTrainer *
make_trainer (const DaeModelConfig * mc, const DaeTrainConfig * tc)
{
  DaeTrainer *trainer = NULL;
  DaeError error = { 0 };
  DaeStatus status;

  status = dae_trainer_new (mc, tc, &trainer, &error);
  if (status != DAE_OK)
    g_error ("dae_trainer_new: %s", error.message);
  add_data (trainer, tc->recipe);
  return trainer;
}

static void
save_checkpoint (DaeTrainer * trainer, const char *path)
{
  DaeError error = { 0 };

  if (dae_trainer_save_checkpoint (trainer, path, &error) != DAE_OK)
    g_error ("dae_trainer_save_checkpoint: %s", error.message);
}

/* A new trainer (make_trainer) resumed from the checkpoint at path */
static DaeTrainer *
resume_trainer (const DaeModelConfig * mc, const DaeTrainConfig * tc,
    const char *path)
{
  DaeTrainer *trainer = make_trainer (mc, tc);
  DaeError error = { 0 };

  if (dae_trainer_load_checkpoint (trainer, path, &error) != DAE_OK)
    g_error ("dae_trainer_load_checkpoint: %s", error.message);
  return trainer;
}

static void
prepare (DaeTrainer * trainer)
{
  DaeError error = { 0 };

  if (dae_trainer_prepare (trainer, &error) != DAE_OK)
    g_error ("dae_trainer_prepare: %s", error.message);
}

static void
run_epochs (DaeTrainer * trainer, size_t n, DaeEpochResult * last)
{
  DaeError error = { 0 };
  size_t i;

  for (i = 0; i < n; i++) {
    if (dae_trainer_run_epoch (trainer, NULL, NULL, last, &error) != DAE_OK)
      g_error ("dae_trainer_run_epoch: %s", error.message);
  }
}

/* The best model so far, or (current) the last epoch's weights */
static DaeModel *
get_model_of (DaeTrainer * trainer, gboolean current)
{
  DaeModel *model = NULL;
  DaeError error = { 0 };

  if ((current ? dae_trainer_get_current_model (trainer, &model, &error)
          : dae_trainer_get_model (trainer, &model, &error)) != DAE_OK)
    g_error ("dae_trainer_get_%smodel: %s", current ? "current_" : "",
        error.message);
  return model;
}

#define get_model(trainer) get_model_of ((trainer), FALSE)
#define get_current_model(trainer) get_model_of ((trainer), TRUE)

static GBytes *
model_bytes (DaeModel * model)
{
  void *data = NULL;
  size_t size = 0;
  GBytes *bytes;

  g_assert_cmpint (dae_model_save_memory (model, &data, &size, NULL), ==,
      DAE_OK);
  bytes = g_bytes_new (data, size);
  dae_free (data);
  return bytes;
}

typedef struct
{
  double mean_score;
  double mean_gain_db;
  double above;                 /* share of frames with score > threshold */
} RunStats;

/* Runs x through a processor; statistics over frames after the first
 * window / hop. */
static void
process (DaeModel * model, const float *x, size_t n, RunStats * stats)
{
  DaeProcessor *proc = NULL;
  size_t hop = dae_model_get_hop_samples (model);
  size_t skip = dae_model_get_window_samples (model) / hop;
  float threshold = dae_model_get_anomaly_threshold (model);
  float *out = g_new (float, hop);
  size_t frames = 0;
  size_t h;

  memset (stats, 0, sizeof (*stats));
  g_assert_cmpint (dae_processor_new (model, &proc), ==, DAE_OK);
  for (h = 0; h + 1 <= n / hop; h++) {
    DaeFrameResult res;

    g_assert_cmpint (dae_processor_process (proc, x + h * hop, out, &res),
        ==, DAE_OK);
    if (h < skip)
      continue;
    stats->mean_score += res.score;
    stats->mean_gain_db += res.gain_db;
    stats->above += res.score > threshold ? 1.0 : 0.0;
    frames++;
  }
  stats->mean_score /= (double) frames;
  stats->mean_gain_db /= (double) frames;
  stats->above /= (double) frames;
  dae_processor_free (proc);
  g_free (out);
}

/* ------------------------------------------------------------------------ */
/* Config                                                                    */

static void
test_config_defaults (void)
{
  DaeModelConfig mc;
  DaeTrainConfig tc;
  DaeTrainer *trainer = NULL;
  DaeError error = { 0 };

  g_test_summary ("The defaults of both recipes are accepted with the "
      "default architecture and are what each recipe needs.");

  dae_model_config_init (&mc, 16000);
  dae_train_config_init (&tc, DAE_RECIPE_DENOISE);
  g_assert_cmpint (tc.recipe, ==, DAE_RECIPE_DENOISE);
  g_assert_cmpuint (tc.max_epochs, >=, 1);
  g_assert_cmpfloat (tc.learning_rate, >, 0.0);
  g_assert_cmpfloat (tc.snr_min_db, <, 0.0);
  g_assert_cmpfloat (tc.snr_max_db, >, tc.snr_min_db);
  g_assert_cmpfloat (tc.gain_weight, >, 0.0);
  g_assert_cmpfloat (tc.level_max_db, <=, 0.0);
  g_assert_cmpfloat (tc.reverb_early_ms, ==, 20.0);
  g_assert_cmpint (dae_trainer_new (&mc, &tc, &trainer, &error), ==, DAE_OK);
  g_assert_cmpuint (dae_trainer_get_epoch (trainer), ==, 0);
  dae_trainer_free (trainer);

  dae_train_config_init (&tc, DAE_RECIPE_ANOMALY);
  g_assert_cmpint (tc.recipe, ==, DAE_RECIPE_ANOMALY);
  g_assert_cmpfloat (tc.gain_weight, ==, 0.0);
  g_assert_cmpfloat (tc.recon_weight, >, 0.0);
  g_assert_cmpfloat (tc.corruption, >, 0.0);
  g_assert_cmpfloat (tc.threshold_quantile, >, 0.5);
  g_assert_cmpfloat (tc.threshold_quantile, <, 1.0);
  g_assert_cmpfloat (tc.alarm_hold_seconds, >, 0.0);
  g_assert_cmpfloat (tc.dropout, >, 0.0);
  g_assert_cmpfloat (tc.dropout, <, 0.9);
  g_assert_cmpint (dae_trainer_new (&mc, &tc, &trainer, &error), ==, DAE_OK);
  dae_trainer_free (trainer);

  dae_trainer_free (NULL);
}

/* Breaks one setting of tc; returns the word the error message must
 * contain, or NULL past the last case. */
static const char *
break_setting (DaeTrainConfig * tc, int which)
{
  switch (which) {
    case 0:
      tc->max_epochs = 0;
      return "max_epochs";
    case 1:
      tc->steps_per_epoch = 0;
      return "steps_per_epoch";
    case 2:
      tc->batch_size = 0;
      return "batch_size";
    case 3:
      tc->batch_size = 5000;
      return "batch_size";
    case 4:
      tc->sequence_frames = 1;
      return "sequence_frames";
    case 5:
      tc->learning_rate = 0.0;
      return "learning_rate";
    case 6:
      tc->learning_rate = NAN;
      return "learning_rate";
    case 7:
      tc->lr_decay = 1.5;
      return "lr_decay";
    case 8:
      tc->grad_clip = 0.0;
      return "grad_clip";
    case 9:
      tc->validation_fraction = 0.9;
      return "validation_fraction";
    case 10:
      tc->validation_sequences = 0;
      return "validation_sequences";
    case 11:
      tc->snr_max_db = tc->snr_min_db - 1.0;
      return "snr_max_db";
    case 12:
      tc->level_max_db = 6.0;
      return "level_max_db";
    case 13:
      tc->reverb_probability = 1.5;
      return "reverb_probability";
    case 14:
      tc->gain_weight = -1.0;
      return "gain_weight";
    case 15:
      tc->threshold_quantile = 1.0;
      return "threshold_quantile";
    case 16:
      tc->recipe = (DaeRecipe) 7;
      return "recipe";
    case 17:
      tc->gain_weight = 0.0;
      tc->recon_weight = 0.0;
      tc->vad_weight = 0.0;
      return "nothing to train";
    case 18:
      tc->alarm_hold_seconds = -0.1;
      return "alarm_hold_seconds";
    case 19:
      tc->alarm_hold_seconds = NAN;
      return "alarm_hold_seconds";
    case 20:
      tc->dropout = 0.95;
      return "dropout";
    case 21:
      tc->dropout = -0.1;
      return "dropout";
    case 22:
      tc->speed_probability = 1.5;
      return "speed_probability";
    case 23:
      tc->speed_probability = NAN;
      return "speed_probability";
    case 24:
      tc->speed_max_factor = 0.9;
      return "speed_max_factor";
    case 25:
      tc->speed_max_factor = 2.0;
      return "speed_max_factor";
    case 26:
      tc->generator_thread = 2;
      return "generator_thread";
    case 27:
      tc->reverb_early_ms = -1.0;
      return "reverb_early_ms";
    case 28:
      tc->reverb_early_ms = DAE_REVERB_MAX_MS + 1.0;
      return "reverb_early_ms";
    case 29:
      tc->speed_validation = 2;
      return "speed_validation";
    case 30:
      /* nothing to perturb with */
      tc->speed_validation = 1;
      tc->speed_probability = 0.0;
      return "speed_validation";
    default:
      return NULL;
  }
}

static void
test_config_invalid (void)
{
  DaeModelConfig mc;
  DaeTrainConfig tc;
  DaeTrainer *trainer = NULL;
  DaeError error;
  int i;

  g_test_summary ("dae_trainer_new refuses every out-of-range setting with "
      "DAE_ERROR_INVALID_ARGUMENT and a message naming it.");

  tiny_model_config (&mc);
  for (i = 0;; i++) {
    const char *field;

    dae_train_config_init (&tc, DAE_RECIPE_DENOISE);
    field = break_setting (&tc, i);
    if (field == NULL)
      break;
    memset (&error, 0, sizeof (error));
    g_assert_cmpint (dae_trainer_new (&mc, &tc, &trainer, &error), ==,
        DAE_ERROR_INVALID_ARGUMENT);
    g_assert_null (trainer);
    g_assert_nonnull (strstr (error.message, field));
  }

  /* anomaly: no gain target */
  dae_train_config_init (&tc, DAE_RECIPE_ANOMALY);
  tc.gain_weight = 1.0;
  g_assert_cmpint (dae_trainer_new (&mc, &tc, &trainer, &error), ==,
      DAE_ERROR_INVALID_ARGUMENT);
  g_assert_nonnull (strstr (error.message, "gain_weight"));
  dae_train_config_init (&tc, DAE_RECIPE_ANOMALY);
  tc.recon_weight = 0.0;
  g_assert_cmpint (dae_trainer_new (&mc, &tc, &trainer, &error), ==,
      DAE_ERROR_INVALID_ARGUMENT);
  /* anomaly: no speed perturbation (a machine's frequencies are its sound) */
  dae_train_config_init (&tc, DAE_RECIPE_ANOMALY);
  tc.speed_probability = 0.5;
  g_assert_cmpint (dae_trainer_new (&mc, &tc, &trainer, &error), ==,
      DAE_ERROR_INVALID_ARGUMENT);
  g_assert_nonnull (strstr (error.message, "speed_probability"));

  /* a predictive model cannot be trained to denoise */
  dae_train_config_init (&tc, DAE_RECIPE_DENOISE);
  mc.predictive = 1;
  g_assert_cmpint (dae_trainer_new (&mc, &tc, &trainer, &error), ==,
      DAE_ERROR_INVALID_ARGUMENT);
  g_assert_nonnull (strstr (error.message, "predictive"));
  mc.predictive = 0;

  /* bad architecture */
  dae_train_config_init (&tc, DAE_RECIPE_DENOISE);
  mc.hop_samples = 48;
  g_assert_cmpint (dae_trainer_new (&mc, &tc, &trainer, &error), ==,
      DAE_ERROR_INVALID_ARGUMENT);
  g_assert_nonnull (strstr (error.message, "hop_samples"));

  g_assert_cmpint (dae_trainer_new (NULL, &tc, &trainer, NULL), ==,
      DAE_ERROR_INVALID_ARGUMENT);
}

/* ------------------------------------------------------------------------ */
/* Denoise                                                                   */

static void
test_denoise_learns (void)
{
  DaeModelConfig mc;
  DaeTrainConfig tc;
  DaeTrainer *trainer;
  DaeEpochResult first;
  DaeEpochResult last;
  DaeModel *model;
  GRand *rand = g_rand_new_with_seed (99);
  const size_t n = 2 * RATE;
  float *x = g_new (float, n);
  RunStats noise;
  RunStats speech;
  const char *info;

  g_test_summary ("Denoise recipe on synthetic speech and noise: the "
      "validation loss falls well below the first epoch's, and the trained "
      "model, run through a DaeProcessor, attenuates noise-only input much "
      "more than clean speech-like input.");

  tiny_model_config (&mc);
  tiny_train_config (&tc, DAE_RECIPE_DENOISE);
  trainer = make_trainer (&mc, &tc);
  g_assert_cmpint (dae_trainer_set_info (trainer, "test model"), ==, DAE_OK);
  prepare (trainer);
  run_epochs (trainer, 1, &first);
  g_assert_cmpuint (first.epoch, ==, 1);
  g_assert_true (first.improved);
  g_assert_true (isfinite (first.validation_loss));
  run_epochs (trainer, DENOISE_EPOCHS - 1, &last);
  g_assert_cmpuint (last.epoch, ==, DENOISE_EPOCHS);
  g_assert_cmpuint (dae_trainer_get_epoch (trainer), ==, DENOISE_EPOCHS);
  g_test_message ("validation loss: epoch 1 %g, epoch %d %g",
      first.validation_loss, DENOISE_EPOCHS, last.validation_loss);
  g_assert_cmpfloat (last.validation_loss, <,
      LOSS_RATIO * first.validation_loss);
  g_assert_cmpfloat (last.learning_rate, <, first.learning_rate);

  model = get_model (trainer);
  info = dae_model_get_info (model);
  g_assert_true (g_str_has_prefix (info, "test model\n"));
  g_assert_nonnull (strstr (info, "recipe: denoise"));
  g_assert_nonnull (strstr (info, "speech: 4 clips, 12.0 s"));
  g_assert_nonnull (strstr (info, "noise: 3 clips"));
  g_assert_cmpfloat (dae_model_get_anomaly_threshold (model), <, 0.0f);

  white_noise (rand, x, n, 0.03);
  process (model, x, n, &noise);
  speech_like (rand, x, n, 0.05, 0);
  process (model, x, n, &speech);
  g_test_message ("mean gain: noise %.2f dB, speech %.2f dB",
      noise.mean_gain_db, speech.mean_gain_db);
  g_assert_cmpfloat (noise.mean_gain_db, <,
      speech.mean_gain_db - GAIN_MARGIN_DB);

  dae_model_unref (model);
  dae_trainer_free (trainer);
  g_free (x);
  g_rand_free (rand);
}

/* ------------------------------------------------------------------------ */
/* Anomaly                                                                   */

static void
test_anomaly_calibrated (gconstpointer data)
{
  DaeModelConfig mc;
  DaeTrainConfig tc;
  DaeTrainer *trainer;
  DaeEpochResult last;
  DaeModel *model;
  GRand *rand = g_rand_new_with_seed (4321);
  const size_t n = 4 * RATE;
  float *x = g_new (float, n);
  RunStats normal;
  RunStats anomalous;
  float threshold;

  g_test_summary ("Anomaly recipe on a machine hum: a different sound "
      "scores clearly higher than fresh normal audio, and the calibrated "
      "threshold lets through about 1 - quantile of normal frames.");

  tiny_model_config (&mc);
  mc.predictive = GPOINTER_TO_INT (data);
  tiny_train_config (&tc, DAE_RECIPE_ANOMALY);
  trainer = make_trainer (&mc, &tc);
  prepare (trainer);
  run_epochs (trainer, 6, &last);
  model = get_model (trainer);
  threshold = dae_model_get_anomaly_threshold (model);
  g_test_message ("threshold %g, validation loss %g", threshold,
      last.validation_loss);
  g_assert_true (isfinite (threshold));
  g_assert_cmpfloat (threshold, >, 0.0f);
  g_assert_nonnull (strstr (dae_model_get_info (model), "anomaly threshold"));
  g_assert_nonnull (strstr (dae_model_get_info (model),
          "expected false alarms"));
  {
    DaeAnomalyCalibration cal;
    double hop_s = (double) mc.hop_samples / RATE;

    g_assert_cmpint (dae_model_get_anomaly_calibration (model, &cal), ==, 1);
    g_assert_true (cal.threshold == threshold);
    g_assert_cmpfloat_with_epsilon (cal.quantile, ANOMALY_QUANTILE, 1e-6);
    /* the hold is tc.alarm_hold_seconds rounded to hops */
    g_assert_cmpfloat_with_epsilon (cal.hold_seconds,
        round (tc.alarm_hold_seconds / hop_s) * hop_s, 1e-6);
    /* held out: validation_fraction of the normal audio, less the
     * skipped first frames of each held-out segment */
    g_assert_cmpfloat (cal.held_out_seconds, >, 0.0);
    g_assert_cmpfloat (cal.held_out_seconds, <=,
        tc.validation_fraction * ANOMALY_AUDIO_SECONDS + 1e-3);
    g_assert_cmpfloat (cal.false_alarms_per_hour, >=, 0.0);
    g_assert_true (isfinite (cal.false_alarms_per_hour));
    g_test_message ("calibration: quantile %g, %g false alarms per hour on "
        "%g s, hold %g s", cal.quantile, cal.false_alarms_per_hour,
        cal.held_out_seconds, cal.hold_seconds);
  }

  hum (rand, x, n);
  process (model, x, n, &normal);
  pink_noise (rand, x, n, dae_signal_rms (x, n));
  process (model, x, n, &anomalous);
  g_test_message ("mean score: normal %g (%.3f above threshold), "
      "anomalous %g (%.3f above)", normal.mean_score, normal.above,
      anomalous.mean_score, anomalous.above);
  g_assert_cmpfloat (anomalous.mean_score, >,
      ANOMALY_SCORE_RATIO * normal.mean_score);
  /* band errors are scaled to about 1 on normal audio */
  g_assert_cmpfloat (normal.mean_score, >, 1.0 / NORMAL_SCORE_RANGE);
  g_assert_cmpfloat (normal.mean_score, <, NORMAL_SCORE_RANGE);
  g_assert_cmpfloat (normal.above, >=, FALSE_ALARM_MIN);
  g_assert_cmpfloat (normal.above, <=, FALSE_ALARM_MAX);
  g_assert_cmpfloat (anomalous.above, >, 0.9);

  dae_model_unref (model);
  dae_trainer_free (trainer);
  g_free (x);
  g_rand_free (rand);
}

/* ------------------------------------------------------------------------ */
/* Determinism and checkpoints                                               */

static GBytes *
train_bytes_full (DaeRecipe recipe, guint64 seed, size_t epochs,
    double speed_probability, int generator_thread)
{
  DaeModelConfig mc;
  DaeTrainConfig tc;
  DaeTrainer *trainer;
  DaeModel *model;
  GBytes *bytes;

  tiny_model_config (&mc);
  tiny_train_config (&tc, recipe);
  tc.seed = seed;
  tc.steps_per_epoch = 4;
  tc.reverb_probability = recipe == DAE_RECIPE_DENOISE ? 0.5 : 0.0;
  tc.speed_probability = speed_probability;
  tc.generator_thread = generator_thread;
  trainer = make_trainer (&mc, &tc);
  prepare (trainer);
  run_epochs (trainer, epochs, NULL);
  model = get_model (trainer);
  bytes = model_bytes (model);
  dae_model_unref (model);
  dae_trainer_free (trainer);
  return bytes;
}

static GBytes *
train_bytes_speed (DaeRecipe recipe, guint64 seed, size_t epochs,
    double speed_probability)
{
  return train_bytes_full (recipe, seed, epochs, speed_probability, 1);
}

static GBytes *
train_bytes (DaeRecipe recipe, guint64 seed, size_t epochs)
{
  return train_bytes_speed (recipe, seed, epochs, 0.0);
}

static void
test_determinism (gconstpointer data)
{
  DaeRecipe recipe = (DaeRecipe) GPOINTER_TO_INT (data);
  GBytes *a = train_bytes (recipe, 1, 2);
  GBytes *b = train_bytes (recipe, 1, 2);
  GBytes *c = train_bytes (recipe, 2, 2);

  g_test_summary ("Two trainers with the same seed give bit-identical "
      "models after two epochs; another seed gives another model.");
  g_assert_true (g_bytes_equal (a, b));
  g_assert_false (g_bytes_equal (a, c));
  g_bytes_unref (a);
  g_bytes_unref (b);
  g_bytes_unref (c);
}

static void
test_speed_determinism (void)
{
  GBytes *a = train_bytes_speed (DAE_RECIPE_DENOISE, 1, 2, 0.5);
  GBytes *b = train_bytes_speed (DAE_RECIPE_DENOISE, 1, 2, 0.5);
  GBytes *c = train_bytes_speed (DAE_RECIPE_DENOISE, 1, 2, 0.0);

  g_test_summary ("With speed perturbation, two trainers with the same seed "
      "still give bit-identical models, and the perturbation changes what "
      "is learnt.");
  g_assert_true (g_bytes_equal (a, b));
  g_assert_false (g_bytes_equal (a, c));
  g_bytes_unref (a);
  g_bytes_unref (b);
  g_bytes_unref (c);
}

static void
test_generator_thread (gconstpointer data)
{
  DaeRecipe recipe = (DaeRecipe) GPOINTER_TO_INT (data);
  double speed = recipe == DAE_RECIPE_DENOISE ? 0.5 : 0.0;
  GBytes *a = train_bytes_full (recipe, 1, 2, speed, 1);
  GBytes *b = train_bytes_full (recipe, 1, 2, speed, 0);

  g_test_summary ("Mixing the next mini-batch in a second thread while one "
      "trains (generator_thread 1, the default) gives the same model, bit "
      "for bit, as mixing and training in turn (0): the batches and the "
      "order of the random stream are the same.");
  g_assert_true (g_bytes_equal (a, b));
  g_bytes_unref (a);
  g_bytes_unref (b);
}

/* ------------------------------------------------------------------------ */
/* Speed perturbation: the resampler                                         */

#define SPEED_N_OUT 4000
#define SPEED_SINE_TOL 2e-3
#define SPEED_ALIAS_MAX_RMS 0.1

static double
rms_of (const float *x, size_t n)
{
  double sum = 0.0;
  size_t i;

  for (i = 0; i < n; i++)
    sum += (double) x[i] * x[i];
  return sqrt (sum / (double) n);
}

/* a reverberated impulse: the room's response itself */
#define REVERB_N (RATE / 2)
#define REVERB_ZERO_TOL 1e-5f

static void
reverb_impulse (DaeReverb * reverb, double early_ms, float *wet, float *early)
{
  float *x = g_new0 (float, REVERB_N);
  DaeRng rng;

  x[0] = 1.0f;
  dae_rng_seed (&rng, TEST_SEED);
  dae_reverb_apply (reverb, &rng, x, REVERB_N, early_ms, wet, early);
  g_free (x);
}

static void
test_reverb_target (void)
{
  const size_t n_early = (size_t) (0.020 * RATE);
  DaeReverb *reverb = NULL;
  float *wet = g_new (float, REVERB_N);
  float *early = g_new (float, REVERB_N);
  float *wet2 = g_new (float, REVERB_N);
  float *early2 = g_new (float, REVERB_N);
  double tail = 0.0;
  size_t i;

  g_test_summary ("The dereverberation target keeps reverb_early_ms of the "
      "room's response: 20 ms keeps the response's first 20 ms and nothing "
      "after, the maximum keeps all of it (the target is the reverberant "
      "speech, bit for bit), and the room drawn does not depend on it.");

  g_assert_cmpint (dae_reverb_new (REVERB_N, RATE, &reverb), ==, DAE_OK);

  reverb_impulse (reverb, 20.0, wet, early);
  for (i = 0; i < n_early; i++)
    g_assert_cmpfloat_with_epsilon (early[i], wet[i], REVERB_ZERO_TOL);
  for (i = n_early; i < REVERB_N; i++) {
    g_assert_cmpfloat_with_epsilon (early[i], 0.0f, REVERB_ZERO_TOL);
    tail += (double) wet[i] * wet[i];
  }
  g_test_message ("response energy after 20 ms: %.3g", tail);
  g_assert_cmpfloat (tail, >, 1e-3);

  reverb_impulse (reverb, DAE_REVERB_MAX_MS, wet2, early2);
  g_assert_cmpmem (wet2, REVERB_N * sizeof (float), wet,
      REVERB_N * sizeof (float));
  g_assert_cmpmem (early2, REVERB_N * sizeof (float), wet2,
      REVERB_N * sizeof (float));

  /* 0 ms: the direct path alone */
  reverb_impulse (reverb, 0.0, wet2, early2);
  g_assert_cmpmem (wet2, REVERB_N * sizeof (float), wet,
      REVERB_N * sizeof (float));
  g_assert_cmpfloat_with_epsilon (early2[0], 1.0f, REVERB_ZERO_TOL);
  for (i = 1; i < REVERB_N; i++)
    g_assert_cmpfloat_with_epsilon (early2[i], 0.0f, REVERB_ZERO_TOL);

  dae_reverb_free (reverb);
  g_free (wet);
  g_free (early);
  g_free (wet2);
  g_free (early2);
}

static void
test_speed_resample (void)
{
  static const double factors[] = { 1.0 / 1.5, 1.0 / 1.15, 1.0, 1.15, 1.5 };
  const double max_factor = DAE_SPEED_MAX_FACTOR;
  const size_t n_in = dae_speed_input_length (SPEED_N_OUT, max_factor);
  float *in = g_new (float, n_in);
  float *out = g_new (float, SPEED_N_OUT);
  DaeSpeedKernel *kernel = g_new (DaeSpeedKernel, 1);
  size_t f;
  size_t i;

  g_test_summary ("Resampling by a factor r turns a sine of frequency f "
      "into one of frequency r f, sample for sample (the output at i is the "
      "input at DAE_SPEED_HALF_TAPS + i r); r = 1 copies exactly; speeding "
      "up does not alias a tone that would land above Nyquist; the input "
      "length covers the kernel at the largest factor.");

  g_assert_cmpuint (dae_speed_input_length (0, 1.15), ==, 0);
  g_assert_cmpuint (dae_speed_input_length (1, 1.15), ==,
      2 * DAE_SPEED_HALF_TAPS + 1);

  /* 700 Hz at 16 kHz: below the cutoff at every factor */
  for (i = 0; i < n_in; i++)
    in[i] = (float) sin (2.0 * G_PI * 700.0 * (double) i / RATE + 0.3);
  for (f = 0; f < G_N_ELEMENTS (factors); f++) {
    double r = factors[f];
    double max_err = 0.0;

    dae_speed_kernel_init (kernel, r);
    /* the last input sample the kernel may touch is inside the buffer: the
     * buffer is sized for the largest factor, so check the bound itself */
    g_assert_cmpuint (dae_speed_input_length (SPEED_N_OUT, r), <=, n_in);
    dae_speed_apply (kernel, in, out, SPEED_N_OUT);
    for (i = 0; i < SPEED_N_OUT; i++) {
      double pos = DAE_SPEED_HALF_TAPS + (double) i * r;
      double want = sin (2.0 * G_PI * 700.0 * pos / RATE + 0.3);

      max_err = fmax (max_err, fabs (out[i] - want));
      if (r == 1.0)
        g_assert_cmpfloat (out[i], ==, in[i + DAE_SPEED_HALF_TAPS]);
    }
    g_test_message ("factor %.3f: largest error %.2e", r, max_err);
    g_assert_cmpfloat (max_err, <, SPEED_SINE_TOL);
  }

  /* 7 kHz sped up by 1.5 would be 10.5 kHz, above the 8 kHz Nyquist
   * frequency: it must be filtered out, not folded back to 5.5 kHz */
  for (i = 0; i < n_in; i++)
    in[i] = (float) sin (2.0 * G_PI * 7000.0 * (double) i / RATE);
  dae_speed_kernel_init (kernel, 1.5);
  dae_speed_apply (kernel, in, out, SPEED_N_OUT);
  g_test_message ("7 kHz sped up by 1.5: rms %.4f (input 0.707)",
      rms_of (out, SPEED_N_OUT));
  g_assert_cmpfloat (rms_of (out, SPEED_N_OUT), <, SPEED_ALIAS_MAX_RMS);
  /* slowing it down keeps it (7 kHz / 1.5 = 4.7 kHz) */
  dae_speed_kernel_init (kernel, 1.0 / 1.5);
  dae_speed_apply (kernel, in, out, SPEED_N_OUT);
  g_assert_cmpfloat (rms_of (out, SPEED_N_OUT), >, 0.6);

  g_free (kernel);
  g_free (in);
  g_free (out);
}

static char *
temp_path (const char *name)
{
  char *dir = g_dir_make_tmp ("test-train-XXXXXX", NULL);
  char *path;

  g_assert_nonnull (dir);
  path = g_build_filename (dir, name, NULL);
  g_free (dir);
  return path;
}

static void
remove_temp (char *path)
{
  char *dir = g_path_get_dirname (path);

  g_unlink (path);
  g_rmdir (dir);
  g_free (dir);
  g_free (path);
}

static void
test_checkpoint_resume (gconstpointer data)
{
  DaeRecipe recipe = (DaeRecipe) GPOINTER_TO_INT (data);
  DaeModelConfig mc;
  DaeTrainConfig tc;
  DaeTrainer *trainer;
  DaeModel *model;
  GBytes *straight;
  GBytes *resumed;
  char *path = temp_path ("ckpt.daeckpt");

  g_test_summary ("Two epochs in one go and one epoch + checkpoint + load "
      "into a new trainer + one epoch give byte-identical models.");

  straight = train_bytes (recipe, 7, 2);

  tiny_model_config (&mc);
  tiny_train_config (&tc, recipe);
  tc.seed = 7;
  tc.steps_per_epoch = 4;
  tc.reverb_probability = recipe == DAE_RECIPE_DENOISE ? 0.5 : 0.0;
  trainer = make_trainer (&mc, &tc);
  prepare (trainer);
  run_epochs (trainer, 1, NULL);
  save_checkpoint (trainer, path);
  dae_trainer_free (trainer);

  trainer = resume_trainer (&mc, &tc, path);
  g_assert_cmpuint (dae_trainer_get_epoch (trainer), ==, 1);
  prepare (trainer);
  run_epochs (trainer, 1, NULL);
  model = get_model (trainer);
  resumed = model_bytes (model);
  g_assert_true (g_bytes_equal (straight, resumed));

  dae_model_unref (model);
  dae_trainer_free (trainer);
  g_bytes_unref (straight);
  g_bytes_unref (resumed);
  remove_temp (path);
}

static void
test_checkpoint_loss_change (void)
{
  DaeModelConfig mc;
  DaeTrainConfig tc;
  DaeTrainer *trainer;
  DaeEpochResult result;
  double best = INFINITY;
  size_t i;
  char *path = temp_path ("ckpt.daeckpt");

  g_test_summary ("A checkpoint resumed with another signal-to-distortion "
      "weight forgets its best validation loss (another loss): the first "
      "epoch after it is the new best although its loss is higher; with the "
      "same weight the best is kept.");

  tiny_model_config (&mc);
  tiny_train_config (&tc, DAE_RECIPE_DENOISE);
  tc.steps_per_epoch = 4;
  trainer = make_trainer (&mc, &tc);
  prepare (trainer);
  for (i = 0; i < 2; i++) {
    run_epochs (trainer, 1, &result);
    best = MIN (best, result.validation_loss);
  }
  save_checkpoint (trainer, path);
  dae_trainer_free (trainer);

  tc.sdr_weight = 0.5;
  trainer = resume_trainer (&mc, &tc, path);
  prepare (trainer);
  run_epochs (trainer, 1, &result);
  g_assert_cmpfloat (result.validation_loss, >, best);
  g_assert_true (result.improved);
  save_checkpoint (trainer, path);
  dae_trainer_free (trainer);

  /* the same weight again: the best loss (now with the term) is kept, so
   * an epoch is only the best if it beats it */
  trainer = resume_trainer (&mc, &tc, path);
  prepare (trainer);
  best = result.validation_loss;
  run_epochs (trainer, 1, &result);
  g_assert_cmpint (result.improved, ==, result.validation_loss < best);
  dae_trainer_free (trainer);
  remove_temp (path);
}

static void
test_checkpoint_corrupt (void)
{
  DaeModelConfig mc;
  DaeTrainConfig tc;
  DaeTrainer *trainer;
  DaeError error = { 0 };
  char *path = temp_path ("ckpt.daeckpt");
  char *bad = g_strconcat (path, ".bad", NULL);
  gchar *contents = NULL;
  gsize size = 0;
  gsize cuts[] = { 0, 7, 64, 127, 128, 200, 0 };
  gsize flips[] = { 0, 9, 20, 40, 130, 0 };
  size_t i;

  g_test_summary ("Truncated, corrupt, missing and foreign checkpoints are "
      "refused with an error (no crash); a checkpoint of another "
      "architecture, band layout or recipe gives DAE_ERROR_INCOMPATIBLE.");

  tiny_model_config (&mc);
  tiny_train_config (&tc, DAE_RECIPE_DENOISE);
  tc.steps_per_epoch = 2;
  trainer = make_trainer (&mc, &tc);
  prepare (trainer);
  run_epochs (trainer, 1, NULL);
  g_assert_cmpint (dae_trainer_save_checkpoint (trainer, path, &error), ==,
      DAE_OK);
  /* loading after prepare is refused */
  g_assert_cmpint (dae_trainer_load_checkpoint (trainer, path, &error), ==,
      DAE_ERROR_INVALID_ARGUMENT);
  dae_trainer_free (trainer);
  g_assert_true (g_file_get_contents (path, &contents, &size, NULL));

  cuts[G_N_ELEMENTS (cuts) - 1] = size - 1;
  flips[G_N_ELEMENTS (flips) - 1] = size - 1;
  flips[3] = size / 2;
  for (i = 0; i < G_N_ELEMENTS (cuts); i++) {
    DaeStatus status;

    g_assert_true (g_file_set_contents (bad, contents, cuts[i], NULL));
    trainer = make_trainer (&mc, &tc);
    status = dae_trainer_load_checkpoint (trainer, bad, &error);
    g_assert_cmpint (status, ==, DAE_ERROR_BAD_FORMAT);
    g_assert_cmpuint (dae_trainer_get_epoch (trainer), ==, 0);
    /* the trainer still works after a failed load */
    if (i == 0) {
      prepare (trainer);
      run_epochs (trainer, 1, NULL);
    }
    dae_trainer_free (trainer);
  }
  for (i = 0; i < G_N_ELEMENTS (flips); i++) {
    gchar *copy = g_memdup2 (contents, size);
    DaeStatus status;

    copy[flips[i]] ^= 0x40;
    g_assert_true (g_file_set_contents (bad, copy, size, NULL));
    trainer = make_trainer (&mc, &tc);
    status = dae_trainer_load_checkpoint (trainer, bad, &error);
    g_assert_true (status == DAE_ERROR_BAD_FORMAT
        || status == DAE_ERROR_UNSUPPORTED_VERSION);
    dae_trainer_free (trainer);
    g_free (copy);
  }

  trainer = make_trainer (&mc, &tc);
  g_assert_cmpint (dae_trainer_load_checkpoint (trainer, "/nonexistent/x",
          &error), ==, DAE_ERROR_IO);
  dae_trainer_free (trainer);

  /* another architecture */
  mc.enc_gru = 12;
  trainer = make_trainer (&mc, &tc);
  g_assert_cmpint (dae_trainer_load_checkpoint (trainer, path, &error), ==,
      DAE_ERROR_INCOMPATIBLE);
  g_assert_nonnull (strstr (error.message, "architecture"));
  dae_trainer_free (trainer);

  /* another band range */
  tiny_model_config (&mc);
  mc.band_min_hz = 100.0f;
  trainer = make_trainer (&mc, &tc);
  g_assert_cmpint (dae_trainer_load_checkpoint (trainer, path, &error), ==,
      DAE_ERROR_INCOMPATIBLE);
  g_assert_nonnull (strstr (error.message, "bands from"));
  dae_trainer_free (trainer);

  /* the same band range with another spacing: another layout */
  tiny_model_config (&mc);
  mc.band_min_spacing_hz = 300.0f;
  trainer = make_trainer (&mc, &tc);
  g_assert_cmpint (dae_trainer_load_checkpoint (trainer, path, &error), ==,
      DAE_ERROR_INCOMPATIBLE);
  g_assert_nonnull (strstr (error.message, "band layout"));
  dae_trainer_free (trainer);
  tiny_model_config (&mc);

  /* another recipe */
  tiny_model_config (&mc);
  tiny_train_config (&tc, DAE_RECIPE_ANOMALY);
  trainer = make_trainer (&mc, &tc);
  g_assert_cmpint (dae_trainer_load_checkpoint (trainer, path, &error), ==,
      DAE_ERROR_INCOMPATIBLE);
  dae_trainer_free (trainer);

  g_unlink (bad);
  g_free (bad);
  g_free (contents);
  remove_temp (path);
}

/* 1 if a and b (same architecture) hold the same weights and
 * normalisation, bit for bit */
static gboolean
same_weights (DaeModel * a, DaeModel * b)
{
  DaeTensor ta[DAE_MAX_TENSORS];
  DaeTensor tb[DAE_MAX_TENSORS];
  size_t n = dae_model_list_tensors (a, ta);
  size_t nb = a->config.n_bands;
  size_t i;

  g_assert_cmpuint (dae_model_list_tensors (b, tb), ==, n);
  for (i = 0; i < n; i++) {
    g_assert_cmpuint (ta[i].rows * ta[i].cols, ==, tb[i].rows * tb[i].cols);
    if (memcmp (ta[i].data, tb[i].data,
            ta[i].rows * ta[i].cols * sizeof (float)) != 0)
      return FALSE;
  }
  return memcmp (a->norm_mean, b->norm_mean, nb * sizeof (float)) == 0
      && memcmp (a->norm_std, b->norm_std, nb * sizeof (float)) == 0;
}

/* The tiny denoising configs (2 steps per epoch) and a model trained for 2
 * epochs with them, to start other trainers from */
static DaeModel *
starting_model (DaeModelConfig * mc, DaeTrainConfig * tc)
{
  DaeTrainer *trainer;
  DaeModel *model;

  tiny_model_config (mc);
  tiny_train_config (tc, DAE_RECIPE_DENOISE);
  tc->steps_per_epoch = 2;
  trainer = make_trainer (mc, tc);
  prepare (trainer);
  run_epochs (trainer, 2, NULL);
  model = get_current_model (trainer);
  dae_trainer_free (trainer);
  return model;
}

/* A prepared trainer of mc and tc holding model's weights */
static DaeTrainer *
trainer_from (const DaeModelConfig * mc, const DaeTrainConfig * tc,
    DaeModel * model)
{
  DaeTrainer *trainer = make_trainer (mc, tc);
  DaeError error = { 0 };

  if (dae_trainer_init_from_model (trainer, model, &error) != DAE_OK)
    g_error ("dae_trainer_init_from_model: %s", error.message);
  prepare (trainer);
  return trainer;
}

/* the trainer's gain-scale choice (into choice) is within 1 to 2, at least
 * as good as scale 1, from some of tc's validation sequences, and the same
 * on a second call */
static void
assert_sound_choice (DaeTrainer * trainer, const DaeTrainConfig * tc,
    DaeGainScaleChoice * choice)
{
  DaeGainScaleChoice again;
  DaeError error = { 0 };

  g_assert_cmpint (dae_trainer_choose_gain_scale (trainer, choice, &error),
      ==, DAE_OK);
  g_test_message ("scale %.2f: %.3f dB (%.3f dB at 1), %zu sequences",
      choice->scale, choice->si_sdr, choice->si_sdr_at_1, choice->n_sequences);
  g_assert_cmpfloat (choice->scale, >=, 1.0);
  g_assert_cmpfloat (choice->scale, <=, 2.0);
  g_assert_cmpfloat (choice->si_sdr, >=, choice->si_sdr_at_1);
  g_assert_cmpuint (choice->n_sequences, >, 0);
  g_assert_cmpuint (choice->n_sequences, <=, tc->validation_sequences);
  g_assert_true (isfinite (choice->si_sdr_at_1));
  g_assert_cmpint (dae_trainer_choose_gain_scale (trainer, &again, &error),
      ==, DAE_OK);
  g_assert_cmpmem (choice, sizeof (*choice), &again, sizeof (again));
}

static void
test_gain_scale (void)
{
  DaeModelConfig mc;
  DaeTrainConfig tc;
  DaeModel *model = starting_model (&mc, &tc);
  DaeModel *flat = NULL;
  DaeTrainer *trainer;
  DaeGainScaleChoice choice;
  DaeGainScaleChoice again;
  DaeError error = { 0 };
  DaeTensor t[DAE_MAX_TENSORS];
  size_t n;
  size_t i;

  g_test_summary ("dae_trainer_choose_gain_scale needs a prepared denoise "
      "trainer; for a trained model it picks a scale from 1 to 2 whose "
      "validation SI-SDR is at least that of scale 1, the same on a second "
      "call, also with speed-perturbed validation sequences (which score "
      "otherwise at scale 1); a network whose gains are all 0.5 scores the same at every "
      "scale (a uniform gain does not change the SI-SDR) and gets exactly "
      "1.");

  /* not prepared */
  trainer = make_trainer (&mc, &tc);
  g_assert_cmpint (dae_trainer_choose_gain_scale (trainer, &choice, &error),
      ==, DAE_ERROR_INVALID_ARGUMENT);
  g_assert_nonnull (strstr (error.message, "not prepared"));
  g_assert_cmpint (dae_trainer_choose_gain_scale (trainer, NULL, &error),
      ==, DAE_ERROR_INVALID_ARGUMENT);
  dae_trainer_free (trainer);

  /* the trained model */
  trainer = trainer_from (&mc, &tc, model);
  assert_sound_choice (trainer, &tc, &choice);
  dae_trainer_free (trainer);

  /* speed-perturbed validation voices: other sequences, so another
   * SI-SDR at scale 1, still a valid and repeatable choice */
  tc.speed_probability = 1.0;
  tc.speed_max_factor = 1.3;
  tc.speed_validation = 1;
  trainer = trainer_from (&mc, &tc, model);
  assert_sound_choice (trainer, &tc, &again);
  g_assert_cmpfloat (again.si_sdr_at_1, !=, choice.si_sdr_at_1);
  dae_trainer_free (trainer);
  tc.speed_probability = 0.0;
  tc.speed_validation = 0;

  /* gain head weights and biases 0: every gain is sigmoid (0) = 0.5 */
  g_assert_cmpint (dae_model_new_with_weight_bits (model, 32, &flat, &error),
      ==, DAE_OK);
  n = dae_model_list_tensors (flat, t);
  for (i = 0; i < n; i++)
    if (g_str_has_prefix (t[i].name, "gain."))
      memset (t[i].data, 0, t[i].rows * t[i].cols * sizeof (float));
  trainer = trainer_from (&mc, &tc, flat);
  g_assert_cmpint (dae_trainer_choose_gain_scale (trainer, &choice, &error),
      ==, DAE_OK);
  g_assert_cmpfloat (choice.scale, ==, 1.0);
  g_assert_cmpfloat_with_epsilon (choice.si_sdr, choice.si_sdr_at_1, 1e-9);
  dae_trainer_free (trainer);
  dae_model_unref (flat);
  dae_model_unref (model);

  /* the anomaly recipe has no gains */
  tiny_model_config (&mc);
  tiny_train_config (&tc, DAE_RECIPE_ANOMALY);
  dae_model_config_init_for_recipe (&mc, RATE, DAE_RECIPE_ANOMALY);
  trainer = make_trainer (&mc, &tc);
  prepare (trainer);
  g_assert_cmpint (dae_trainer_choose_gain_scale (trainer, &choice, &error),
      ==, DAE_ERROR_INVALID_ARGUMENT);
  g_assert_nonnull (strstr (error.message, "denoise"));
  dae_trainer_free (trainer);
}

/* a trainer of mc and tc refuses to start from model, with an error that
 * contains needle */
static void
assert_init_incompatible (const DaeModelConfig * mc, const DaeTrainConfig * tc,
    DaeModel * model, const char *needle)
{
  DaeTrainer *trainer = make_trainer (mc, tc);
  DaeError error = { 0 };

  g_assert_cmpint (dae_trainer_init_from_model (trainer, model, &error), ==,
      DAE_ERROR_INCOMPATIBLE);
  g_assert_nonnull (strstr (error.message, needle));
  dae_trainer_free (trainer);
}

static void
test_init_from_model (void)
{
  DaeModelConfig mc;
  DaeModelConfig other;
  DaeTrainConfig tc;
  DaeTrainConfig tc2;
  DaeTrainer *trainer;
  DaeTrainer *fresh;
  DaeModel *start;
  DaeModel *model;
  DaeEpochResult result;
  DaeError error = { 0 };

  g_test_summary ("dae_trainer_init_from_model() starts a trainer from a "
      "model's weights and normalisation (epoch 0, then it trains); it is "
      "refused after prepare or a second time, and a model of another "
      "architecture or band layout gives DAE_ERROR_INCOMPATIBLE and leaves "
      "the trainer usable.");

  start = starting_model (&mc, &tc);

  /* another seed: its own initial weights and normalisation would differ */
  tc2 = tc;
  tc2.seed = TEST_SEED + 1;
  fresh = make_trainer (&mc, &tc2);
  prepare (fresh);
  model = get_current_model (fresh);
  g_assert_false (same_weights (model, start));
  dae_model_unref (model);
  dae_trainer_free (fresh);

  trainer = make_trainer (&mc, &tc2);
  g_assert_cmpint (dae_trainer_init_from_model (NULL, start, &error), ==,
      DAE_ERROR_INVALID_ARGUMENT);
  g_assert_cmpint (dae_trainer_init_from_model (trainer, NULL, &error), ==,
      DAE_ERROR_INVALID_ARGUMENT);
  g_assert_cmpint (dae_trainer_init_from_model (trainer, start, &error), ==,
      DAE_OK);
  g_assert_cmpint (dae_trainer_init_from_model (trainer, start, &error), ==,
      DAE_ERROR_INVALID_ARGUMENT);
  prepare (trainer);
  g_assert_cmpuint (dae_trainer_get_epoch (trainer), ==, 0);
  model = get_current_model (trainer);
  g_assert_true (same_weights (model, start));
  dae_model_unref (model);
  model = get_model (trainer);
  g_assert_true (same_weights (model, start));
  dae_model_unref (model);
  run_epochs (trainer, 1, &result);
  g_assert_cmpuint (dae_trainer_get_epoch (trainer), ==, 1);
  g_assert_true (isfinite (result.validation_loss));
  model = get_current_model (trainer);
  g_assert_false (same_weights (model, start));
  dae_model_unref (model);
  dae_trainer_free (trainer);

  /* another architecture; the trainer still trains from random weights */
  other = mc;
  other.enc_gru = 12;
  trainer = make_trainer (&other, &tc);
  g_assert_cmpint (dae_trainer_init_from_model (trainer, start, &error), ==,
      DAE_ERROR_INCOMPATIBLE);
  g_assert_nonnull (strstr (error.message, "architecture"));
  prepare (trainer);
  run_epochs (trainer, 1, NULL);
  dae_trainer_free (trainer);

  /* the same band range with another spacing: another layout */
  other = mc;
  other.band_min_spacing_hz = 300.0f;
  assert_init_incompatible (&other, &tc, start, "band layout");

  dae_model_unref (start);
}

/* max |a - b| over the outputs of two processors fed the same noisy
 * "speech" (float_net: both run the network in float) */
static float
max_output_difference (DaeModel * a, DaeModel * b, gboolean float_net)
{
  DaeProcessor *pa = NULL;
  DaeProcessor *pb = NULL;
  GRand *rand = g_rand_new_with_seed (TEST_SEED);
  size_t hop = dae_model_get_hop_samples (a);
  size_t n = 200 * hop;
  float *x = g_new0 (float, n);
  float *noise = g_new0 (float, n);
  float *ya = g_new0 (float, hop);
  float *yb = g_new0 (float, hop);
  float diff = 0.0f;
  size_t i;
  size_t k;

  speech_like (rand, x, n, 0.2, TRUE);
  white_noise (rand, noise, n, 0.02);
  for (i = 0; i < n; i++)
    x[i] += noise[i];
  g_assert_cmpint (dae_processor_new (a, &pa), ==, DAE_OK);
  g_assert_cmpint (dae_processor_new (b, &pb), ==, DAE_OK);
  if (float_net) {
    g_assert_cmpint (dae_processor_set_arithmetic (pa, DAE_ARITHMETIC_FLOAT),
        ==, DAE_OK);
    g_assert_cmpint (dae_processor_set_arithmetic (pb, DAE_ARITHMETIC_FLOAT),
        ==, DAE_OK);
  }
  for (i = 0; i < n; i += hop) {
    g_assert_cmpint (dae_processor_process (pa, x + i, ya, NULL), ==, DAE_OK);
    g_assert_cmpint (dae_processor_process (pb, x + i, yb, NULL), ==, DAE_OK);
    for (k = 0; k < hop; k++)
      diff = fmaxf (diff, fabsf (ya[k] - yb[k]));
  }
  dae_processor_free (pa);
  dae_processor_free (pb);
  g_free (x);
  g_free (noise);
  g_free (ya);
  g_free (yb);
  g_rand_free (rand);
  return diff;
}

/* the number of non-zero weights of model's tensor name in columns from
 * first_col on; the other columns must equal those of base's tensor */
static size_t
extra_columns_nonzero (DaeModel * model, DaeModel * base, const char *name,
    size_t first_col)
{
  DaeTensor t[DAE_MAX_TENSORS];
  DaeTensor tb[DAE_MAX_TENSORS];
  size_t n = dae_model_list_tensors (model, t);
  size_t nonzero = 0;
  size_t i;
  size_t r;
  size_t c;

  dae_model_list_tensors (base, tb);
  for (i = 0; i < n && strcmp (t[i].name, name) != 0; i++)
    continue;
  g_assert_cmpuint (i, <, n);
  g_assert_cmpuint (tb[i].cols, ==, first_col);
  for (r = 0; r < t[i].rows; r++) {
    for (c = first_col; c < t[i].cols; c++)
      nonzero += t[i].data[r * t[i].cols + c] != 0.0f;
  }
  return nonzero;
}

static void
test_init_from_model_tonality (void)
{
  DaeModelConfig mc;
  DaeModelConfig tmc;
  DaeTrainConfig tc;
  DaeTrainer *trainer;
  DaeModel *start;
  DaeModel *model;
  DaeModel *trained;
  DaeModel *mean;
  DaeModel *pair[2];
  DaeEpochResult result;
  DaeError error = { 0 };
  size_t nb;
  size_t b;

  g_test_summary ("A model without band tonality starts a trainer whose "
      "model has it: the tonality inputs get zero weights, so before "
      "training the new model denoises exactly as the old one (the same "
      "output samples); the energies keep their normalisation, the tonality "
      "gets its own (positive, finite); an epoch then moves the new "
      "weights, and the run's epochs average with 2 n_bands normalisation.  "
      "The other way round, and averaging with the model it started from, "
      "are refused as another architecture.");

  start = starting_model (&mc, &tc);
  nb = mc.n_bands;

  tmc = mc;
  tmc.tonality = 1;
  trainer = make_trainer (&tmc, &tc);
  g_assert_cmpint (dae_trainer_init_from_model (trainer, start, &error), ==,
      DAE_OK);
  prepare (trainer);
  model = get_current_model (trainer);
  g_assert_cmpuint (dae_model_get_n_features (model), ==, 2 * nb);
  g_assert_cmpmem (model->norm_mean, nb * sizeof (float), start->norm_mean,
      nb * sizeof (float));
  g_assert_cmpmem (model->norm_std, nb * sizeof (float), start->norm_std,
      nb * sizeof (float));
  for (b = nb; b < 2 * nb; b++) {
    g_assert_true (isfinite (model->norm_mean[b]));
    g_assert_cmpfloat (model->norm_mean[b], >=, 0.0f);
    g_assert_true (isfinite (model->norm_std[b]));
    g_assert_cmpfloat (model->norm_std[b], >, 0.0f);
  }
  g_assert_cmpuint (extra_columns_nonzero (model, start, "enc_dense.w", nb),
      ==, 0);
  g_assert_cmpuint (extra_columns_nonzero (model, start, "gain.w",
          mc.dec_gru + nb), ==, 0);
  g_assert_cmpfloat (max_output_difference (model, start, FALSE), ==, 0.0f);

  run_epochs (trainer, 1, &result);
  g_assert_true (isfinite (result.validation_loss));
  trained = get_current_model (trainer);
  g_assert_cmpuint (extra_columns_nonzero (trained, start, "enc_dense.w", nb),
      >, 0);
  g_assert_cmpfloat (max_output_difference (trained, start, FALSE), >, 0.0f);

  /* the run's epochs average like any others, keeping the tonality inputs
   * and their normalisation; the model it started from is another
   * architecture */
  pair[0] = model;
  pair[1] = trained;
  g_assert_cmpint (dae_model_average (pair, 2, NULL, &mean, &error), ==,
      DAE_OK);
  g_assert_cmpuint (dae_model_get_n_features (mean), ==, 2 * nb);
  g_assert_cmpmem (mean->norm_mean, 2 * nb * sizeof (float), model->norm_mean,
      2 * nb * sizeof (float));
  g_assert_cmpmem (mean->norm_std, 2 * nb * sizeof (float), model->norm_std,
      2 * nb * sizeof (float));
  dae_model_unref (mean);
  pair[1] = start;
  mean = NULL;
  g_assert_cmpint (dae_model_average (pair, 2, NULL, &mean, &error), ==,
      DAE_ERROR_INVALID_ARGUMENT);
  g_assert_null (mean);
  g_assert_nonnull (strstr (error.message, "architecture"));
  dae_model_unref (trained);
  dae_trainer_free (trainer);

  /* a tonality model cannot start one without */
  assert_init_incompatible (&mc, &tc, model, "tonality 1");

  dae_model_unref (model);
  dae_model_unref (start);
}

/* The weights of start's tensors are where a network grown from it puts
 * them; the inputs from new units of old units are zero.  Returns the
 * number of non-zero weights of new units (rows) of weight matrices. */
static size_t
check_grown (DaeModel * grown, DaeModel * start)
{
  DaeTensor t[DAE_MAX_TENSORS];
  DaeTensor s[DAE_MAX_TENSORS];
  size_t n = dae_model_list_tensors (grown, t);
  size_t nf = dae_model_get_n_features (start);
  size_t new_nonzero = 0;
  DaeModelConfig config;
  size_t i;

  dae_model_get_config (start, &config);
  g_assert_cmpuint (dae_model_list_tensors (start, s), ==, n);
  for (i = 0; i < n; i++) {
    gboolean gru = g_str_has_prefix (t[i].name, "enc_gru.")
        || g_str_has_prefix (t[i].name, "dec_gru.");
    size_t groups = gru ? 3 : 1;
    size_t tail = strcmp (t[i].name, "gain.w") == 0 && config.gain_skip ?
        nf : 0;
    size_t ro = s[i].rows / groups;
    size_t rn = t[i].rows / groups;
    size_t g;
    size_t r;
    size_t c;

    g_assert_cmpstr (t[i].name, ==, s[i].name);
    g_assert_cmpuint (t[i].rows % groups, ==, 0);
    g_assert_cmpuint (rn, >=, ro);
    g_assert_cmpuint (t[i].cols, >=, s[i].cols);
    for (g = 0; g < groups; g++) {
      for (r = 0; r < rn; r++) {
        const float *row = t[i].data + (g * rn + r) * t[i].cols;
        const float *old = s[i].data + (g * ro + r) * s[i].cols;

        for (c = 0; c < t[i].cols; c++) {
          if (r >= ro) {
            new_nonzero += t[i].cols > 1 && row[c] != 0.0f;
          } else if (c < s[i].cols - tail) {
            g_assert_cmpfloat (row[c], ==, old[c]);
          } else if (c < t[i].cols - tail) {
            g_assert_cmpfloat (row[c], ==, 0.0f);
          } else {
            g_assert_cmpfloat (row[c], ==, old[c - (t[i].cols - s[i].cols)]);
          }
        }
      }
    }
  }
  return new_nonzero;
}

static void
test_init_from_model_grow (void)
{
  DaeModelConfig mc;
  DaeModelConfig gmc;
  DaeTrainConfig tc;
  DaeTrainer *trainer;
  DaeModel *start;
  DaeModel *model;
  DaeModel *trained;
  DaeEpochResult result;
  DaeError error = { 0 };
  gboolean vad;

  g_test_summary ("A model (without VAD and gain skip, then with both) "
      "starts a trainer whose network has more units "
      "in its hidden layers (and is otherwise the same): the old weights "
      "keep their places, the new units get random incoming and zero "
      "outgoing weights, so before training the wider network denoises as "
      "the old one (the same output samples in float, within the 8-bit "
      "rounding with 8-bit weights), also when band tonality is added at "
      "the same time; an epoch then trains the new units.  "
      "Fewer units are refused as another architecture.");

  /* under valgrind (where this test took about 100 s) with VAD only */
  for (vad = dae_test_under_valgrind (); vad <= TRUE; vad++) {
    DaeTrainer *t0;

    tiny_model_config (&mc);
    mc.has_vad = vad;
    mc.gain_skip = vad;         /* the gain head without, then with skip */
    tiny_train_config (&tc, DAE_RECIPE_DENOISE);
    tc.steps_per_epoch = 2;
    t0 = make_trainer (&mc, &tc);
    prepare (t0);
    run_epochs (t0, 2, NULL);
    start = get_current_model (t0);
    dae_trainer_free (t0);

    gmc = mc;
    gmc.enc_dense += 4;
    gmc.enc_gru += 8;
    gmc.bottleneck += 2;
    gmc.dec_gru += 6;
    trainer = make_trainer (&gmc, &tc);
    g_assert_cmpint (dae_trainer_init_from_model (trainer, start, &error),
        ==, DAE_OK);
    prepare (trainer);
    model = get_current_model (trainer);
    g_assert_cmpuint (dae_model_get_n_params (model), >,
        dae_model_get_n_params (start));
    g_assert_cmpmem (model->norm_mean, mc.n_bands * sizeof (float),
        start->norm_mean, mc.n_bands * sizeof (float));
    g_assert_cmpmem (model->norm_std, mc.n_bands * sizeof (float),
        start->norm_std, mc.n_bands * sizeof (float));
    g_assert_cmpuint (check_grown (model, start), >, 0);
    g_assert_cmpfloat (max_output_difference (model, start, TRUE), <=, 1e-6f);
    g_assert_cmpfloat (max_output_difference (model, start, FALSE), <=, 1e-3f);

    run_epochs (trainer, 1, &result);
    g_assert_true (isfinite (result.validation_loss));
    trained = get_current_model (trainer);
    g_assert_cmpfloat (max_output_difference (trained, start, TRUE), >, 1e-4f);
    dae_model_unref (trained);
    dae_model_unref (model);
    dae_trainer_free (trainer);

    /* only one layer wider */
    gmc = mc;
    gmc.dec_gru += 1;
    trainer = make_trainer (&gmc, &tc);
    g_assert_cmpint (dae_trainer_init_from_model (trainer, start, &error),
        ==, DAE_OK);
    prepare (trainer);
    model = get_current_model (trainer);
    g_assert_cmpuint (check_grown (model, start), >, 0);
    g_assert_cmpfloat (max_output_difference (model, start, TRUE), <=, 1e-6f);
    dae_model_unref (model);
    dae_trainer_free (trainer);

    /* wider and with band tonality at once */
    gmc = mc;
    gmc.enc_gru += 4;
    gmc.tonality = 1;
    trainer = make_trainer (&gmc, &tc);
    g_assert_cmpint (dae_trainer_init_from_model (trainer, start, &error),
        ==, DAE_OK);
    prepare (trainer);
    model = get_current_model (trainer);
    g_assert_cmpuint (dae_model_get_n_features (model), ==, 2 * mc.n_bands);
    g_assert_cmpfloat (max_output_difference (model, start, TRUE), <=, 1e-6f);
    dae_model_unref (model);
    dae_trainer_free (trainer);

    /* one layer wider, another narrower */
    gmc = mc;
    gmc.enc_gru += 4;
    gmc.bottleneck -= 1;
    assert_init_incompatible (&gmc, &tc, start, "architecture");

    dae_model_unref (start);
  }
}

/* ------------------------------------------------------------------------ */
/* Progress, misuse                                                          */

typedef struct
{
  size_t calls;
  size_t stop_at;
  size_t last_step;
} ProgressData;

static int
progress_cb (size_t step, size_t n_steps, double loss, void *user_data)
{
  ProgressData *p = user_data;

  g_assert_cmpuint (step, ==, p->last_step + 1);
  g_assert_cmpuint (n_steps, >=, step);
  g_assert_true (isfinite (loss));
  p->last_step = step;
  p->calls++;
  return step >= p->stop_at;
}

static void
test_progress_interrupt (void)
{
  DaeModelConfig mc;
  DaeTrainConfig tc;
  DaeTrainer *trainer;
  DaeEpochResult result;
  ProgressData p = { 0, 3, 0 };
  DaeError error = { 0 };

  g_test_summary ("The progress callback runs after every mini-batch; a "
      "non-zero return ends the epoch early with DAE_OK and no epoch "
      "counted; a full epoch then still works.");

  tiny_model_config (&mc);
  tiny_train_config (&tc, DAE_RECIPE_DENOISE);
  trainer = make_trainer (&mc, &tc);
  prepare (trainer);
  g_assert_cmpint (dae_trainer_run_epoch (trainer, progress_cb, &p, &result,
          &error), ==, DAE_OK);
  g_assert_cmpuint (p.calls, ==, 3);
  g_assert_cmpuint (result.epoch, ==, 0);
  g_assert_true (isnan (result.validation_loss));
  g_assert_false (result.stop);
  g_assert_cmpuint (dae_trainer_get_epoch (trainer), ==, 0);

  p.calls = 0;
  p.last_step = 0;
  p.stop_at = SIZE_MAX;
  g_assert_cmpint (dae_trainer_run_epoch (trainer, progress_cb, &p, &result,
          &error), ==, DAE_OK);
  g_assert_cmpuint (p.calls, ==, tc.steps_per_epoch);
  g_assert_cmpuint (result.epoch, ==, 1);
  g_assert_true (isfinite (result.validation_loss));
  dae_trainer_free (trainer);
}

static void
test_prepare_missing (void)
{
  DaeModelConfig mc;
  DaeTrainConfig tc;
  DaeTrainer *trainer = NULL;
  DaeError error = { 0 };
  DaeModel *model = NULL;
  float x[4096];

  g_test_summary ("prepare without the sources the recipe needs, and "
      "calls in the wrong order or with the wrong source, fail with "
      "DAE_ERROR_INVALID_ARGUMENT.");

  memset (x, 0, sizeof (x));
  tiny_model_config (&mc);
  tiny_train_config (&tc, DAE_RECIPE_DENOISE);
  g_assert_cmpint (dae_trainer_new (&mc, &tc, &trainer, &error), ==, DAE_OK);
  g_assert_cmpint (dae_trainer_run_epoch (trainer, NULL, NULL, NULL, &error),
      ==, DAE_ERROR_INVALID_ARGUMENT);
  g_assert_cmpint (dae_trainer_get_model (trainer, &model, &error), ==,
      DAE_ERROR_INVALID_ARGUMENT);
  g_assert_null (model);
  g_assert_cmpint (dae_trainer_prepare (trainer, &error), ==,
      DAE_ERROR_INVALID_ARGUMENT);
  g_assert_nonnull (strstr (error.message, "speech"));
  g_assert_cmpint (dae_trainer_add_audio (trainer, DAE_SOURCE_NORMAL, x,
          G_N_ELEMENTS (x), NULL, &error), ==, DAE_ERROR_INVALID_ARGUMENT);
  add_clip (trainer, DAE_SOURCE_SPEECH, x, G_N_ELEMENTS (x), "silence");
  g_assert_cmpint (dae_trainer_prepare (trainer, &error), ==,
      DAE_ERROR_INVALID_ARGUMENT);
  g_assert_nonnull (strstr (error.message, "noise"));
  x[5] = NAN;
  g_assert_cmpint (dae_trainer_add_audio (trainer, DAE_SOURCE_NOISE, x,
          G_N_ELEMENTS (x), "nan", &error), ==, DAE_ERROR_INVALID_ARGUMENT);
  dae_trainer_free (trainer);

  /* clips shorter than a sequence are skipped for speech */
  trainer = NULL;
  g_assert_cmpint (dae_trainer_new (&mc, &tc, &trainer, &error), ==, DAE_OK);
  x[5] = 0.0f;
  add_clip (trainer, DAE_SOURCE_SPEECH, x, 100, "short");
  add_clip (trainer, DAE_SOURCE_NOISE, x, 100, "short");
  g_assert_cmpint (dae_trainer_prepare (trainer, &error), ==,
      DAE_ERROR_INVALID_ARGUMENT);
  g_assert_nonnull (strstr (error.message, "too short"));
  dae_trainer_free (trainer);

  tiny_train_config (&tc, DAE_RECIPE_ANOMALY);
  trainer = NULL;
  g_assert_cmpint (dae_trainer_new (&mc, &tc, &trainer, &error), ==, DAE_OK);
  g_assert_cmpint (dae_trainer_prepare (trainer, &error), ==,
      DAE_ERROR_INVALID_ARGUMENT);
  g_assert_nonnull (strstr (error.message, "normal"));
  g_assert_cmpint (dae_trainer_add_audio (trainer, DAE_SOURCE_SPEECH, x,
          G_N_ELEMENTS (x), NULL, &error), ==, DAE_ERROR_INVALID_ARGUMENT);
  dae_trainer_free (trainer);
}

/* ------------------------------------------------------------------------ */
/* Gradient                                                                  */

static void
check_gradient (DaeRecipe recipe, double sdr_weight)
{
  DaeModelConfig mc;
  DaeTrainConfig tc;
  DaeTrainer *trainer;
  DaeModel *model;
  DaeTensor tensors[DAE_MAX_TENSORS];
  size_t n_tensors;
  size_t n_params;
  float *grad;
  double loss;
  size_t offset = 0;
  size_t k;
  size_t checked = 0;

  tiny_model_config (&mc);
  mc.has_vad = recipe == DAE_RECIPE_DENOISE;
  tiny_train_config (&tc, recipe);
  tc.batch_size = 3;
  tc.sequence_frames = 20;
  if (recipe == DAE_RECIPE_DENOISE) {
    tc.recon_weight = 0.5;
    tc.vad_weight = 0.3;
    /* alone on the gain head, so that the check sees its gradient */
    if (sdr_weight > 0.0) {
      tc.gain_weight = 0.0;
      tc.sdr_weight = sdr_weight;
    }
  }
  trainer = make_trainer (&mc, &tc);
  prepare (trainer);
  /* a little training so the heads are not at their initial symmetry */
  run_epochs (trainer, 1, NULL);

  n_params = dae_trainer_debug_n_params (trainer);
  grad = g_new (float, n_params);
  g_assert_cmpint (dae_trainer_debug_loss (trainer, &loss, grad), ==, DAE_OK);
  g_assert_true (isfinite (loss));

  model = get_model (trainer);
  n_tensors = dae_model_list_tensors (model, tensors);
  for (k = 0; k < n_tensors; k++) {
    size_t n = tensors[k].rows * tensors[k].cols;
    size_t best = 0;
    size_t picks[2];
    size_t j;

    for (j = 1; j < n; j++)
      if (fabsf (grad[offset + j]) > fabsf (grad[offset + best]))
        best = j;
    picks[0] = best;
    picks[1] = (n * 7 / 13) % n;
    for (j = 0; j < 2; j++) {
      float *p = dae_trainer_debug_param (trainer, offset + picks[j]);
      float saved = *p;
      double plus;
      double minus;
      double numeric;
      double analytic = grad[offset + picks[j]];

      *p = saved + GRAD_EPS;
      g_assert_cmpint (dae_trainer_debug_loss (trainer, &plus, NULL), ==,
          DAE_OK);
      *p = saved - GRAD_EPS;
      g_assert_cmpint (dae_trainer_debug_loss (trainer, &minus, NULL), ==,
          DAE_OK);
      *p = saved;
      numeric = (plus - minus) / (2.0 * (double) GRAD_EPS);
      if (fabs (numeric - analytic) > GRAD_REL_TOL * MAX (fabs (numeric),
              fabs (analytic)) + GRAD_ABS_TOL)
        g_error ("%s[%zu]: analytic %g, numeric %g", tensors[k].name,
            picks[j], analytic, numeric);
      checked++;
    }
    offset += n;
  }
  g_assert_cmpuint (offset, ==, n_params);
  g_assert_cmpuint (checked, >=, 2 * 16);

  dae_model_unref (model);
  g_free (grad);
  dae_trainer_free (trainer);
}

static void
test_gradient (gconstpointer data)
{
  g_test_summary ("The gradient of the full training loss (all heads, "
      "masks, targets) with respect to parameters of every tensor matches "
      "central differences.");
  check_gradient ((DaeRecipe) GPOINTER_TO_INT (data), 0.0);
}

static void
test_gradient_sdr (void)
{
  DaeModelConfig mc;
  DaeTrainConfig tc;
  DaeTrainer *without;
  DaeTrainer *with;
  double loss0;
  double loss1;

  g_test_summary ("The signal-to-distortion loss is part of the loss (it "
      "adds to the same model's loss without it) and its gradient matches "
      "central differences.");

  /* same seed and no training: the same weights and sequences */
  tiny_model_config (&mc);
  mc.has_vad = TRUE;
  tiny_train_config (&tc, DAE_RECIPE_DENOISE);
  without = make_trainer (&mc, &tc);
  prepare (without);
  tc.sdr_weight = 0.05;
  with = make_trainer (&mc, &tc);
  prepare (with);
  g_assert_cmpint (dae_trainer_debug_loss (without, &loss0, NULL), ==, DAE_OK);
  g_assert_cmpint (dae_trainer_debug_loss (with, &loss1, NULL), ==, DAE_OK);
  g_assert_true (isfinite (loss0) && isfinite (loss1));
  /* an untrained network is far from 30 dB of SDR: at least 0.05 * 1 dB */
  g_assert_cmpfloat (loss1 - loss0, >, 0.05);
  dae_trainer_free (without);
  dae_trainer_free (with);

  check_gradient (DAE_RECIPE_DENOISE, 0.05);
}

/* ------------------------------------------------------------------------ */
/* Batched GRU                                                               */

static void
gru_alloc (DaeGru * layer, size_t n_in, size_t H, GRand * rand)
{
  size_t i;

  layer->n_in = n_in;
  layer->n_hidden = H;
  layer->w = g_new0 (float, 3 * H * n_in);
  layer->u = g_new0 (float, 3 * H * H);
  layer->bx = g_new0 (float, 3 * H);
  layer->bh = g_new0 (float, 3 * H);
  if (rand == NULL)
    return;
  for (i = 0; i < 3 * H * n_in; i++)
    layer->w[i] = (float) g_rand_double_range (rand, -0.5, 0.5);
  for (i = 0; i < 3 * H * H; i++)
    layer->u[i] = (float) g_rand_double_range (rand, -0.5, 0.5);
  for (i = 0; i < 3 * H; i++) {
    layer->bx[i] = (float) g_rand_double_range (rand, -0.5, 0.5);
    layer->bh[i] = (float) g_rand_double_range (rand, -0.5, 0.5);
  }
}

static void
gru_free (DaeGru * layer)
{
  g_free (layer->w);
  g_free (layer->u);
  g_free (layer->bx);
  g_free (layer->bh);
}

static void
assert_close (const float *a, const float *b, size_t n, const char *what)
{
  size_t i;

  for (i = 0; i < n; i++)
    if (fabsf (a[i] - b[i]) > GRU_BATCH_TOL * (1.0f + fabsf (b[i])))
      g_error ("%s[%zu]: batched %g, per sequence %g", what, i, a[i], b[i]);
}

static void
test_gru_batch (void)
{
  const size_t T = 9;
  const size_t B = 4;
  const size_t n_in = 11;
  const size_t H = 13;
  GRand *rand = g_rand_new_with_seed (77);
  DaeGru layer;
  DaeGru g_seq;
  DaeGru g_bat;
  float *x_tm = g_new (float, T * B * n_in);
  float *x_sm = g_new (float, T * B * n_in);
  float *dh_tm = g_new (float, T * B * H);
  float *dh_sm = g_new (float, T * B * H);
  float *h_tm = g_new (float, T * B * H);
  float *h_sm = g_new (float, T * B * H);
  float *c_tm = g_new (float, T * B * 4 * H);
  float *c_sm = g_new (float, T * B * 4 * H);
  float *dx_tm = g_new (float, T * B * n_in);
  float *dx_sm = g_new (float, T * B * n_in);
  float *gates = g_new (float, T * B * 4 * H);
  float *work = g_new (float, 6 * H * B);
  size_t s;
  size_t t;
  size_t i;

  g_test_summary ("The trainer's batched, time-major GRU gives the same "
      "outputs and gradients as dae_gru_forward_seq/backward_seq run "
      "sequence by sequence.");

  gru_alloc (&layer, n_in, H, rand);
  gru_alloc (&g_seq, n_in, H, NULL);
  gru_alloc (&g_bat, n_in, H, NULL);
  for (i = 0; i < T * B * n_in; i++)
    x_sm[i] = (float) g_rand_double_range (rand, -1.0, 1.0);
  for (i = 0; i < T * B * H; i++)
    dh_sm[i] = (float) g_rand_double_range (rand, -1.0, 1.0);
  for (s = 0; s < B; s++)
    for (t = 0; t < T; t++) {
      memcpy (x_tm + (t * B + s) * n_in, x_sm + (s * T + t) * n_in,
          n_in * sizeof (float));
      memcpy (dh_tm + (t * B + s) * H, dh_sm + (s * T + t) * H,
          H * sizeof (float));
    }

  for (s = 0; s < B; s++) {
    dae_gru_forward_seq (&layer, T, x_sm + s * T * n_in, NULL,
        h_sm + s * T * H, c_sm + s * T * 4 * H);
    dae_gru_backward_seq (&layer, T, x_sm + s * T * n_in, NULL,
        h_sm + s * T * H, c_sm + s * T * 4 * H, dh_sm + s * T * H, &g_seq,
        dx_sm + s * T * n_in, work);
  }
  dae_gru_forward_batch (&layer, T, B, x_tm, h_tm, c_tm);
  dae_gru_backward_batch (&layer, T, B, x_tm, h_tm, c_tm, dh_tm, &g_bat,
      dx_tm, gates, work);

  for (s = 0; s < B; s++)
    for (t = 0; t < T; t++) {
      assert_close (h_tm + (t * B + s) * H, h_sm + (s * T + t) * H, H, "h");
      assert_close (dx_tm + (t * B + s) * n_in, dx_sm + (s * T + t) * n_in,
          n_in, "dx");
    }
  assert_close (g_bat.w, g_seq.w, 3 * H * n_in, "dW");
  assert_close (g_bat.u, g_seq.u, 3 * H * H, "dU");
  assert_close (g_bat.bx, g_seq.bx, 3 * H, "dbx");
  assert_close (g_bat.bh, g_seq.bh, 3 * H, "dbh");

  gru_free (&layer);
  gru_free (&g_seq);
  gru_free (&g_bat);
  g_free (x_tm);
  g_free (x_sm);
  g_free (dh_tm);
  g_free (dh_sm);
  g_free (h_tm);
  g_free (h_sm);
  g_free (c_tm);
  g_free (c_sm);
  g_free (dx_tm);
  g_free (dx_sm);
  g_free (gates);
  g_free (work);
  g_rand_free (rand);
}

static void
test_model_config_for_recipe (void)
{
  static const unsigned rates[] = { 8000, 16000, 44100, 48000, 192000 };
  DaeModelConfig a;
  DaeModelConfig b;
  DaeError error;
  gsize i;

  g_test_summary ("dae_model_config_init_for_recipe: the denoise "
      "architecture is dae_model_config_init()'s; the anomaly one is a "
      "predictive model, valid at every rate, with an 8-hop window of about "
      "256 ms (at most 16384 samples), 256 bands from 20 Hz to 0.47 * rate and no voice-activity "
      "head.");

  for (i = 0; i < G_N_ELEMENTS (rates); i++) {
    dae_model_config_init (&a, rates[i]);
    dae_model_config_init_for_recipe (&b, rates[i], DAE_RECIPE_DENOISE);
    g_assert_cmpmem (&a, sizeof (a), &b, sizeof (b));

    dae_model_config_init_for_recipe (&b, rates[i], DAE_RECIPE_ANOMALY);
    g_assert_cmpint (dae_model_config_validate (&b, &error), ==, DAE_OK);
    g_assert_cmpuint (b.sample_rate, ==, rates[i]);
    g_assert_cmpuint (b.window_samples, ==, 8 * b.hop_samples);
    /* 256 ms, or the longest window the STFT allows */
    if (rates[i] <= 64000)
      g_assert_cmpfloat (fabs ((double) b.window_samples / rates[i] - 0.256),
          <, 0.001);
    else
      g_assert_cmpuint (b.window_samples, ==, 16384);
    g_assert_cmpuint (b.n_bands, ==, 256);
    g_assert_cmpint (b.predictive, ==, 1);
    g_assert_true (b.band_min_hz == 20.0f);
    g_assert_true (b.band_max_hz == 0.47f * (float) rates[i]);
    g_assert_cmpint (b.has_vad, ==, 0);
  }
  dae_model_config_init_for_recipe (NULL, 16000, DAE_RECIPE_ANOMALY);
}

/* ------------------------------------------------------------------------ */
/* Epoch weights and averaging                                               */

/* dae_model_average (a, a model from a new trainer with mc, tc) fails
 * with a message containing what */
static void
expect_refused (DaeModel * a, const DaeModelConfig * mc,
    const DaeTrainConfig * tc, const char *what)
{
  DaeTrainer *other_trainer = make_trainer (mc, tc);
  DaeModel *pair[2];
  DaeModel *mean = NULL;
  DaeError error = { 0 };

  prepare (other_trainer);
  pair[0] = a;
  pair[1] = get_current_model (other_trainer);
  g_assert_cmpint (dae_model_average (pair, 2, NULL, &mean, &error), ==,
      DAE_ERROR_INVALID_ARGUMENT);
  g_assert_null (mean);
  g_assert_nonnull (strstr (error.message, what));
  dae_model_unref (pair[1]);
  dae_trainer_free (other_trainer);
}

static void
test_average (void)
{
  DaeModelConfig mc;
  DaeTrainConfig tc;
  DaeTrainer *trainer;
  DaeModel *a;
  DaeModel *b;
  DaeModel *mean;
  DaeModel *calibrated;
  DaeModel *pair[2];
  DaeTensor ta[DAE_MAX_TENSORS];
  DaeTensor tb[DAE_MAX_TENSORS];
  DaeTensor tm[DAE_MAX_TENSORS];
  DaeError error = { 0 };
  GBytes *bytes_a;
  GBytes *bytes_one;
  size_t n_tensors;
  size_t k;
  size_t j;
  size_t n_different = 0;

  g_test_summary ("dae_trainer_get_current_model() returns the weights of "
      "the last epoch and says so; dae_model_average() returns the "
      "element-wise mean, is the identity for one model, and refuses models "
      "of another architecture, another run's normalisation, with a "
      "calibrated threshold or with a gain scale.");
  tiny_model_config (&mc);
  tiny_train_config (&tc, DAE_RECIPE_DENOISE);
  tc.steps_per_epoch = 4;
  trainer = make_trainer (&mc, &tc);
  g_assert_cmpint (dae_trainer_get_current_model (trainer, &a, &error), ==,
      DAE_ERROR_INVALID_ARGUMENT);
  prepare (trainer);
  run_epochs (trainer, 1, NULL);
  a = get_current_model (trainer);
  run_epochs (trainer, 1, NULL);
  b = get_current_model (trainer);
  g_assert_nonnull (strstr (dae_model_get_info (b), "after epoch 2"));

  pair[0] = a;
  pair[1] = b;
  g_assert_cmpint (dae_model_average (pair, 2, "averaged", &mean, &error),
      ==, DAE_OK);
  g_assert_cmpstr (dae_model_get_info (mean), ==, "averaged");
  n_tensors = dae_model_list_tensors (a, ta);
  g_assert_cmpuint (dae_model_list_tensors (b, tb), ==, n_tensors);
  g_assert_cmpuint (dae_model_list_tensors (mean, tm), ==, n_tensors);
  for (k = 0; k < n_tensors; k++) {
    for (j = 0; j < ta[k].rows * ta[k].cols; j++) {
      float expect = (float) (((double) ta[k].data[j] + tb[k].data[j]) / 2.0);

      g_assert_cmpfloat (tm[k].data[j], ==, expect);
      n_different += ta[k].data[j] != tb[k].data[j];
    }
  }
  /* the two epochs really had different weights */
  g_assert_cmpuint (n_different, >, 0);
  dae_model_unref (mean);

  /* one model: the same file */
  g_assert_cmpint (dae_model_average (pair, 1, NULL, &mean, &error), ==,
      DAE_OK);
  bytes_a = model_bytes (a);
  bytes_one = model_bytes (mean);
  g_assert_true (g_bytes_equal (bytes_a, bytes_one));
  g_bytes_unref (bytes_a);
  g_bytes_unref (bytes_one);
  dae_model_unref (mean);

  /* another run (other seed: another normalisation), then another
   * architecture */
  tc.seed = TEST_SEED + 1;
  expect_refused (a, &mc, &tc, "normalisation");
  mc.dec_gru = 12;
  expect_refused (a, &mc, &tc, "architecture");

  /* a calibrated threshold belongs to its own weights */
  calibrated = get_current_model (trainer);
  calibrated->anomaly_threshold = 1.0f;
  pair[1] = calibrated;
  g_assert_cmpint (dae_model_average (pair, 2, NULL, &mean, &error), ==,
      DAE_ERROR_INVALID_ARGUMENT);
  g_assert_nonnull (strstr (error.message, "threshold"));
  dae_model_unref (calibrated);
  /* so does a gain scale */
  calibrated = get_current_model (trainer);
  calibrated->gain_scale = 1.25f;
  pair[1] = calibrated;
  g_assert_cmpint (dae_model_average (pair, 2, NULL, &mean, &error), ==,
      DAE_ERROR_INVALID_ARGUMENT);
  g_assert_nonnull (strstr (error.message, "model 2 has a gain scale"));
  dae_model_unref (calibrated);

  pair[1] = NULL;
  g_assert_cmpint (dae_model_average (pair, 2, NULL, &mean, &error), ==,
      DAE_ERROR_INVALID_ARGUMENT);
  g_assert_cmpint (dae_model_average (pair, 0, NULL, &mean, &error), ==,
      DAE_ERROR_INVALID_ARGUMENT);
  g_assert_cmpint (dae_model_average (NULL, 1, NULL, &mean, &error), ==,
      DAE_ERROR_INVALID_ARGUMENT);
  g_assert_cmpint (dae_model_average (pair, 1, NULL, NULL, &error), ==,
      DAE_ERROR_INVALID_ARGUMENT);

  dae_model_unref (a);
  dae_model_unref (b);
  dae_trainer_free (trainer);
}

int
main (int argc, char **argv)
{
  g_test_init (&argc, &argv, NULL);

  g_test_add_func ("/train/config/defaults", test_config_defaults);
  g_test_add_func ("/train/config/invalid", test_config_invalid);
  g_test_add_func ("/train/config/model-for-recipe",
      test_model_config_for_recipe);
  g_test_add_func ("/train/prepare/missing-sources", test_prepare_missing);
  g_test_add_func ("/train/progress/interrupt", test_progress_interrupt);
  g_test_add_func ("/train/gru-batch", test_gru_batch);
  g_test_add_func ("/train/average", test_average);
  g_test_add_data_func ("/train/gradient/denoise",
      GINT_TO_POINTER (DAE_RECIPE_DENOISE), test_gradient);
  g_test_add_func ("/train/gradient/sdr", test_gradient_sdr);
  g_test_add_data_func ("/train/gradient/anomaly",
      GINT_TO_POINTER (DAE_RECIPE_ANOMALY), test_gradient);
  DAE_TEST_ADD_SLOW_DATA_FUNC ("/train/determinism/denoise",
      GINT_TO_POINTER (DAE_RECIPE_DENOISE), test_determinism);
  DAE_TEST_ADD_SLOW_FUNC ("/train/determinism/speed", test_speed_determinism);
  g_test_add_func ("/train/speed/resample", test_speed_resample);
  g_test_add_func ("/train/reverb/target", test_reverb_target);
  g_test_add_data_func ("/train/determinism/anomaly",
      GINT_TO_POINTER (DAE_RECIPE_ANOMALY), test_determinism);
  g_test_add_data_func ("/train/determinism/generator-thread/denoise",
      GINT_TO_POINTER (DAE_RECIPE_DENOISE), test_generator_thread);
  g_test_add_data_func ("/train/determinism/generator-thread/anomaly",
      GINT_TO_POINTER (DAE_RECIPE_ANOMALY), test_generator_thread);
  DAE_TEST_ADD_SLOW_DATA_FUNC ("/train/checkpoint/resume/denoise",
      GINT_TO_POINTER (DAE_RECIPE_DENOISE), test_checkpoint_resume);
  g_test_add_func ("/train/checkpoint/loss-change",
      test_checkpoint_loss_change);
  g_test_add_data_func ("/train/checkpoint/resume/anomaly",
      GINT_TO_POINTER (DAE_RECIPE_ANOMALY), test_checkpoint_resume);
  DAE_TEST_ADD_SLOW_FUNC ("/train/checkpoint/corrupt", test_checkpoint_corrupt);
  g_test_add_func ("/train/init-from-model", test_init_from_model);
  g_test_add_func ("/train/gain-scale", test_gain_scale);
  g_test_add_func ("/train/init-from-model/grow", test_init_from_model_grow);
  g_test_add_func ("/train/init-from-model/tonality",
      test_init_from_model_tonality);
  DAE_TEST_ADD_SLOW_FUNC ("/train/denoise/learns", test_denoise_learns);
  g_test_add_data_func ("/train/anomaly/calibrated/autoencoder",
      GINT_TO_POINTER (0), test_anomaly_calibrated);
  g_test_add_data_func ("/train/anomaly/calibrated/predictive",
      GINT_TO_POINTER (1), test_anomaly_calibrated);

  return g_test_run ();
}
