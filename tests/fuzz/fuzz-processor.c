/* Fuzz target: the processor and the STFT fed arbitrary samples and
 * arbitrary parameter values
 * Copyright (C) 2026 The dae authors
 * SPDX-License-Identifier: LGPL-2.1-or-later
 *
 * The input is a program: the first byte picks one of a few models made at
 * start-up (tiny to default size, with and without a voice-activity head),
 * then each byte is an operation followed by its operands taken from the
 * input: raw float bit patterns as samples (so NaN, Inf, denormals and huge
 * values all occur), raw doubles as the attenuation limit and the mix,
 * synthetic signals (DC, full-scale square, sine, denormal constants) at a
 * fuzzed level, caller-supplied band gains, resets and calls out of order.
 *
 * Checked after every hop: the output is finite, the frame result is sane
 * (finite non-negative score, gains in [0, 1], finite gain_db, VAD in
 * [0, 1] or -1, n_nonfinite equal to the NaN/Inf samples given), setters
 * accept exactly their documented ranges, and calls in the wrong order are
 * refused with DAE_ERROR_INVALID_ARGUMENT.
 */

#include <float.h>
#include <math.h>
#include <string.h>

#include <glib.h>

#include "dae-private.h"
#include "fuzz.h"

#define MAX_OPS 64

typedef struct
{
  unsigned rate;
  size_t window;
  size_t hop;
  size_t n_bands;
  size_t layer;
  int has_vad;
  int gain_skip;
  int tonality;
} ModelSpec;

static const ModelSpec specs[] = {
  {8000, 16, 8, 2, 1, 0, 1, 0},
  {16000, 64, 16, 8, 8, 1, 0, 0},
  {16000, 320, 160, 32, 32, 0, 1, 0},
  {48000, 960, 480, 48, 16, 1, 1, 0},
  {11025, 256, 64, 24, 4, 0, 1, 0},
  {48000, 960, 480, 48, 16, 1, 1, 1},
};

#define N_MODELS (sizeof (specs) / sizeof (specs[0]))

static DaeModel *models[N_MODELS];

int
LLVMFuzzerInitialize (int *argc, char ***argv)
{
  size_t i;

  for (i = 0; i < N_MODELS; i++) {
    DaeModelConfig config;
    DaeError error;
    size_t b;

    dae_model_config_init (&config, specs[i].rate);
    config.window_samples = specs[i].window;
    config.hop_samples = specs[i].hop;
    config.n_bands = specs[i].n_bands;
    config.enc_dense = specs[i].layer;
    config.enc_gru = specs[i].layer;
    config.bottleneck = specs[i].layer;
    config.dec_gru = specs[i].layer;
    config.has_vad = specs[i].has_vad;
    config.gain_skip = specs[i].gain_skip;
    config.tonality = specs[i].tonality;
    if (dae_model_alloc (&config, &models[i], &error) != DAE_OK)
      g_error ("model %zu: %s", i, error.message);
    dae_model_init_random (models[i], 1000 + i);
    /* a non-trivial normalisation, as trained models have */
    for (b = 0; b < config.n_bands; b++) {
      models[i]->norm_mean[b] = -3.0f - 0.05f * (float) b;
      models[i]->norm_std[b] = 1.5f;
    }
    /* band tonality, in [0, 1] */
    for (; b < dae_model_get_n_features (models[i]); b++) {
      models[i]->norm_mean[b] = 0.3f;
      models[i]->norm_std[b] = 0.25f;
    }
  }
  return 0;
}

void
fuzz_cleanup (void)
{
  size_t i;

  for (i = 0; i < N_MODELS; i++)
    g_clear_pointer (&models[i], dae_model_unref);
}

static float
fuzz_float (FuzzInput * in)
{
  uint32_t bits = fuzz_u32 (in);
  float f;

  memcpy (&f, &bits, sizeof (f));
  return f;
}

static double
fuzz_double (FuzzInput * in)
{
  uint64_t bits = fuzz_u64 (in);
  double d;

  memcpy (&d, &bits, sizeof (d));
  return d;
}

/* Raw bit patterns: every float value, NaN and Inf included. */
static size_t
fill_raw (FuzzInput * in, float *x, size_t n)
{
  size_t i;
  size_t n_bad = 0;

  for (i = 0; i < n; i++) {
    x[i] = fuzz_float (in);
    if (!isfinite (x[i]))
      n_bad++;
  }
  return n_bad;
}

/* A synthetic signal at a fuzzed level (which may itself be NaN or Inf). */
static size_t
fill_signal (FuzzInput * in, float *x, size_t n, uint64_t * phase)
{
  uint8_t kind = fuzz_u8 (in);
  float level = fuzz_float (in);
  size_t period = 2 + fuzz_u8 (in);
  size_t i;
  size_t n_bad = 0;

  for (i = 0; i < n; i++) {
    uint64_t t = (*phase)++;
    float v;

    switch (kind % 6) {
      case 0:                  /* DC */
        v = level;
        break;
      case 1:                  /* square */
        v = (t / (period / 2 + 1)) % 2 ? level : -level;
        break;
      case 2:                  /* sine */
        v = level * (float) sin (2.0 * G_PI * (double) (t % period) /
            (double) period);
        break;
      case 3:                  /* denormals */
        v = (t % 2 ? 1.0f : -1.0f) * FLT_MIN * 0.5f * (float) (t % 7);
        break;
      case 4:                  /* full scale, alternating sign */
        v = t % 2 ? 1.0f : -1.0f;
        break;
      default:                 /* silence */
        v = 0.0f;
        break;
    }
    x[i] = v;
    if (!isfinite (v))
      n_bad++;
  }
  return n_bad;
}

static void
check_result (const DaeProcessor * proc, const DaeFrameResult * r, size_t n_bad)
{
  const DaeModel *model = dae_processor_get_model (proc);
  size_t b;

  g_assert_true (isfinite (r->score));
  g_assert_cmpfloat (r->score, >=, 0.0f);
  g_assert_cmpuint (r->n_bands, ==, dae_model_get_n_bands (model));
  g_assert_true (isfinite (r->gain_db));
  g_assert_cmpfloat (r->gain_db, <=, 0.0f);
  g_assert_cmpuint (r->n_nonfinite, ==, n_bad);
  if (model->config.has_vad)
    g_assert_true (r->vad >= 0.0f && r->vad <= 1.0f);
  else
    g_assert_cmpfloat (r->vad, ==, -1.0f);
  for (b = 0; b < r->n_bands; b++) {
    g_assert_true (isfinite (r->band_errors[b]));
    g_assert_cmpfloat (r->band_errors[b], >=, 0.0f);
    g_assert_true (r->band_gains[b] >= 0.0f && r->band_gains[b] <= 1.0f);
  }
}

static void
check_finite (const float *x, size_t n)
{
  size_t i;

  for (i = 0; i < n; i++)
    g_assert_true (isfinite (x[i]));
}

int
LLVMFuzzerTestOneInput (const uint8_t * data, size_t size)
{
  FuzzInput in;
  DaeModel *model;
  DaeProcessor *proc = NULL;
  DaeStft *stft = NULL;
  size_t hop;
  size_t n_bands;
  size_t n_bins;
  float *x;
  float *y;
  float *gains;
  float *spectrum;
  uint64_t phase = 0;
  int pending = 0;
  int ops;

  fuzz_input_init (&in, data, size);
  model = models[fuzz_u8 (&in) % N_MODELS];
  hop = dae_model_get_hop_samples (model);
  n_bands = dae_model_get_n_bands (model);
  g_assert_cmpint (dae_processor_new (model, &proc), ==, DAE_OK);
  g_assert_cmpint (dae_stft_new (dae_model_get_window_samples (model), hop,
          &stft), ==, DAE_OK);
  n_bins = dae_stft_get_n_bins (stft);
  x = g_new0 (float, hop);
  y = g_new0 (float, hop);
  gains = g_new0 (float, n_bands);
  spectrum = g_new0 (float, 2 * n_bins);

  for (ops = 0; ops < MAX_OPS && fuzz_input_left (&in) > 0; ops++) {
    uint8_t op = fuzz_u8 (&in);
    DaeFrameResult result;
    DaeStatus status;
    size_t n_bad;
    double v;

    switch (op % 10) {
      case 0:
        v = fuzz_double (&in);
        status = dae_processor_set_attenuation_limit (proc, v);
        g_assert_cmpint (status, ==, v >= 0.0 && v <= 100.0 ? DAE_OK :
            DAE_ERROR_INVALID_ARGUMENT);
        break;
      case 1:
        v = fuzz_double (&in);
        status = dae_processor_set_mix (proc, v);
        g_assert_cmpint (status, ==, v >= 0.0 && v <= 1.0 ? DAE_OK :
            DAE_ERROR_INVALID_ARGUMENT);
        break;
      case 2:                  /* process raw samples, in place */
      case 3:                  /* process a synthetic signal */
        n_bad = op % 10 == 2 ? fill_raw (&in, x, hop) :
            fill_signal (&in, x, hop, &phase);
        g_assert_cmpint (dae_processor_process (proc, x, x, &result), ==,
            DAE_OK);
        check_result (proc, &result, n_bad);
        check_finite (x, hop);
        pending = 0;
        break;
      case 4:                  /* analyze only */
        n_bad = fill_raw (&in, x, hop);
        g_assert_cmpint (dae_processor_analyze (proc, x, &result), ==, DAE_OK);
        check_result (proc, &result, n_bad);
        pending = 1;
        break;
      case 5:                  /* synthesize with the processor's gains */
        status = dae_processor_synthesize (proc, NULL, y);
        g_assert_cmpint (status, ==, pending ? DAE_OK :
            DAE_ERROR_INVALID_ARGUMENT);
        if (status == DAE_OK)
          check_finite (y, hop);
        pending = 0;
        break;
      case 6:                  /* synthesize with arbitrary shared gains */
        fill_raw (&in, gains, n_bands);
        status = dae_processor_synthesize (proc, gains, y);
        g_assert_cmpint (status, ==, pending ? DAE_OK :
            DAE_ERROR_INVALID_ARGUMENT);
        if (status == DAE_OK)
          check_finite (y, hop);
        pending = 0;
        break;
      case 7:
        dae_processor_reset (proc);
        pending = 0;
        break;
      case 8:                  /* the bare STFT: arbitrary spectrum */
        fill_raw (&in, x, hop);
        dae_stft_analyze (stft, x, spectrum);
        fill_raw (&in, spectrum, MIN (2 * n_bins, (size_t) 64));
        dae_stft_synthesize (stft, spectrum, y);
        break;
      default:
        dae_stft_reset (stft);
        break;
    }
  }

  dae_stft_free (stft);
  dae_processor_free (proc);
  g_free (x);
  g_free (y);
  g_free (gains);
  g_free (spectrum);
  return 0;
}
