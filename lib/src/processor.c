/* libdae — the streaming processor: STFT -> features -> network -> gains
 * -> inverse STFT, with a sample-aligned dry path for the mix
 * Copyright (C) 2026 The dae authors
 * SPDX-License-Identifier: LGPL-2.1-or-later
 *
 * Everything is allocated in dae_processor_new(); the per-hop functions
 * only read and write those buffers.
 */

#include <float.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#if defined(__SSE__) || defined(__x86_64__)
#include <xmmintrin.h>
#define HAVE_MXCSR 1
#endif

#include "dae-private.h"

/* Finite input larger than this (about 120 dB above full scale) is clipped
 * on the wet path so the spectrum cannot overflow; the dry path keeps it. */
#define WET_INPUT_LIMIT 1e6f
/* Input samples smaller than this are treated as 0 (denormal flushing). */
#define DENORMAL_LIMIT 1e-30f
/* Cap for per-band errors so that the score stays finite. */
#define ERROR_LIMIT 1e30f

struct DaeProcessor
{
  DaeModel *model;
  DaeStft *stft;
  DaeBands bands;
  DaeNetState net_state;
  DaeQNet qnet;                 /* int8 matrices */
  int use_qnet;                 /* DAE_ARITHMETIC_INT8 */

  size_t hop;
  size_t latency;
  size_t n_bins;
  size_t n_bands;
  size_t n_features;            /* network input width */
  int has_vad;
  int predictive;               /* the net sees the previous frame */

  /* settings */
  float min_gain;               /* from the attenuation limit */
  float gain_scale;             /* the model's, for the network's gains */
  float mix;

  /* per-hop buffers, allocated once in one block */
  float *wet_in;                /* hop: sanitised, clipped input */
  float *wet_out;               /* hop */
  float *spectrum;              /* 2 * n_bins */
  float *bin_gains;             /* n_bins */
  float *energy;                /* n_bands */
  float *features;              /* n_features */
  float *prev_features;         /* n_features: predictive models' net input */
  float *tonality;              /* n_bands (models with band tonality) */
  float *gains;                 /* n_bands: the network's proposal */
  float *applied;               /* n_bands: after the limit */
  float *recon;                 /* n_bands */
  float *errors;                /* n_bands */
  float vad;

  /* dry path: a delay line of exactly latency samples */
  float *dry_line;              /* latency */
  float *dry_out;               /* hop */
  size_t dry_pos;

  int pending;                  /* analyze done, synthesize due */
  float *block;
};

/* Flush-to-zero / denormals-are-zero for the duration of one call, restored
 * before returning: MXCSR is per thread, so this touches no global state. */
typedef struct
{
#ifdef HAVE_MXCSR
  unsigned int csr;
#else
  int unused;
#endif
} FpuState;

static void
fpu_enter (FpuState * state)
{
#ifdef HAVE_MXCSR
  state->csr = _mm_getcsr ();
  _mm_setcsr (state->csr | 0x8040);     /* FTZ | DAZ */
#else
  (void) state;
#endif
}

static void
fpu_leave (const FpuState * state)
{
#ifdef HAVE_MXCSR
  _mm_setcsr (state->csr);
#else
  (void) state;
#endif
}

DaeStatus
dae_processor_new (DaeModel * model, DaeProcessor ** proc_out)
{
  DaeProcessor *proc;
  const DaeModelConfig *config;
  DaeStatus status;
  size_t total;
  float *p;

  if (model == NULL || proc_out == NULL)
    return DAE_ERROR_INVALID_ARGUMENT;

  config = &model->config;
  proc = dae_calloc (1, sizeof (DaeProcessor));
  if (proc == NULL)
    return DAE_ERROR_NO_MEMORY;

  proc->model = dae_model_ref (model);
  proc->hop = config->hop_samples;
  proc->latency = config->window_samples - config->hop_samples;
  proc->n_bins = config->window_samples / 2 + 1;
  proc->n_bands = config->n_bands;
  proc->n_features = dae_model_config_n_features (config);
  proc->has_vad = model->net.vad.n_out > 0;
  proc->gain_scale = model->gain_scale;
  proc->predictive = config->predictive;
  proc->min_gain = 0.0f;
  proc->mix = 1.0f;

  status = dae_stft_new (config->window_samples, config->hop_samples,
      &proc->stft);
  if (status != DAE_OK)
    goto fail;

  status = dae_bands_init (&proc->bands, model->band_centers, proc->n_bands,
      config->sample_rate, config->window_samples);
  if (status != DAE_OK)
    goto fail;

  status = dae_net_state_init (&proc->net_state, &model->net);
  if (status != DAE_OK)
    goto fail;
  status = dae_qnet_init (&proc->qnet, &model->net, NULL);
  if (status != DAE_OK)
    goto fail;
  /* int8 where the CPU has a vector kernel for it; the portable one is
   * slower than the float products */
  proc->use_qnet = dae_qkernel_best () != dae_qkernel_generic ();

  total = 3 * proc->hop + 3 * proc->n_bins + 6 * proc->n_bands
      + 2 * proc->n_features + proc->latency;
  proc->block = dae_calloc (total, sizeof (float));
  if (proc->block == NULL) {
    status = DAE_ERROR_NO_MEMORY;
    goto fail;
  }
  p = proc->block;
  proc->wet_in = p;
  p += proc->hop;
  proc->wet_out = p;
  p += proc->hop;
  proc->dry_out = p;
  p += proc->hop;
  proc->spectrum = p;
  p += 2 * proc->n_bins;
  proc->bin_gains = p;
  p += proc->n_bins;
  proc->energy = p;
  p += proc->n_bands;
  proc->features = p;
  p += proc->n_features;
  proc->prev_features = p;
  p += proc->n_features;
  proc->tonality = p;
  p += proc->n_bands;
  proc->gains = p;
  p += proc->n_bands;
  proc->applied = p;
  p += proc->n_bands;
  proc->recon = p;
  p += proc->n_bands;
  proc->errors = p;
  p += proc->n_bands;
  proc->dry_line = p;

  dae_processor_reset (proc);
  *proc_out = proc;
  return DAE_OK;

fail:
  dae_processor_free (proc);
  return status;
}

void
dae_processor_free (DaeProcessor * proc)
{
  if (proc == NULL)
    return;

  dae_stft_free (proc->stft);
  dae_bands_clear (&proc->bands);
  dae_net_state_clear (&proc->net_state);
  dae_qnet_clear (&proc->qnet);
  dae_free (proc->block);
  dae_model_unref (proc->model);
  dae_free (proc);
}

void
dae_processor_reset (DaeProcessor * proc)
{
  size_t b;

  if (proc == NULL)
    return;

  dae_stft_reset (proc->stft);
  dae_net_state_reset (&proc->net_state);
  memset (proc->dry_line, 0, proc->latency * sizeof (float));
  proc->dry_pos = 0;
  proc->pending = 0;
  proc->vad = proc->has_vad ? 0.0f : -1.0f;
  for (b = 0; b < proc->n_bands; b++) {
    proc->gains[b] = 1.0f;
    proc->applied[b] = 1.0f;
    proc->errors[b] = 0.0f;
  }
  /* the normalised features' mean: what a predictive model sees before
   * the first frame */
  memset (proc->prev_features, 0, proc->n_features * sizeof (float));
}

DaeModel *
dae_processor_get_model (const DaeProcessor * proc)
{
  return proc != NULL ? proc->model : NULL;
}

DaeStatus
dae_processor_set_attenuation_limit (DaeProcessor * proc, double limit_db)
{
  if (proc == NULL || !(limit_db >= 0.0 && limit_db <= 100.0))
    return DAE_ERROR_INVALID_ARGUMENT;

  if (limit_db >= 100.0)
    proc->min_gain = 0.0f;
  else
    proc->min_gain = (float) pow (10.0, -limit_db / 20.0);

  return DAE_OK;
}

DaeStatus
dae_processor_set_mix (DaeProcessor * proc, double mix)
{
  if (proc == NULL || !(mix >= 0.0 && mix <= 1.0))
    return DAE_ERROR_INVALID_ARGUMENT;

  proc->mix = (float) mix;
  return DAE_OK;
}

DaeStatus
dae_processor_set_arithmetic (DaeProcessor * proc, DaeArithmetic arithmetic)
{
  if (proc == NULL || (arithmetic != DAE_ARITHMETIC_INT8
          && arithmetic != DAE_ARITHMETIC_FLOAT))
    return DAE_ERROR_INVALID_ARGUMENT;

  proc->use_qnet = arithmetic == DAE_ARITHMETIC_INT8;
  return DAE_OK;
}

DaeArithmetic
dae_processor_get_arithmetic (const DaeProcessor * proc)
{
  if (proc == NULL)
    return DAE_ARITHMETIC_FLOAT;
  return proc->use_qnet ? DAE_ARITHMETIC_INT8 : DAE_ARITHMETIC_FLOAT;
}

/* Replaces NaN/Inf by 0 and flushes denormals into dry (kept at full
 * precision for the bit-exact dry path) and a clipped copy for the wet path.
 * Returns the number of non-finite samples. */
static size_t
sanitize_input (const float *in, float *dry, float *wet, size_t n)
{
  size_t i;
  size_t n_bad = 0;

  for (i = 0; i < n; i++) {
    float x = in[i];

    if (!isfinite (x)) {
      x = 0.0f;
      n_bad++;
    } else if (fabsf (x) < DENORMAL_LIMIT) {
      x = 0.0f;
    }
    dry[i] = x;
    wet[i] = fminf (fmaxf (x, -WET_INPUT_LIMIT), WET_INPUT_LIMIT);
  }

  return n_bad;
}

/* Pushes hop samples into the dry delay line and takes out the samples from
 * latency ago (latency >= hop, so in-place use of one buffer is safe). */
static void
delay_dry (DaeProcessor * proc, float *samples)
{
  size_t i;
  size_t pos = proc->dry_pos;

  for (i = 0; i < proc->hop; i++) {
    float delayed = proc->dry_line[pos];

    proc->dry_line[pos] = samples[i];
    samples[i] = delayed;
    if (++pos == proc->latency)
      pos = 0;
  }
  proc->dry_pos = pos;
}

static void
fill_result (const DaeProcessor * proc, DaeFrameResult * result, size_t n_bad)
{
  size_t b;
  double err_sum = 0.0;
  double gain_sum = 0.0;

  for (b = 0; b < proc->n_bands; b++) {
    err_sum += proc->errors[b];
    gain_sum += proc->applied[b];
  }

  result->score = (float) (err_sum / (double) proc->n_bands);
  if (!isfinite (result->score))
    result->score = ERROR_LIMIT;
  result->n_bands = proc->n_bands;
  result->band_errors = proc->errors;
  result->band_gains = proc->applied;
  result->gain_db = (float) (20.0 * log10 (fmax (gain_sum /
              (double) proc->n_bands, 1e-5)));
  result->vad = proc->vad;
  result->n_nonfinite = n_bad;
}

/* applied = gains times scale, capped to [min_gain, 1]; NaN and negative
 * gains count as 0 */
static void
apply_limit (DaeProcessor * proc, const float *gains, float scale)
{
  size_t b;

  for (b = 0; b < proc->n_bands; b++) {
    float g = gains[b] * scale;

    if (!(g >= 0.0f))           /* NaN or negative */
      g = 0.0f;
    if (g > 1.0f)
      g = 1.0f;
    if (g < proc->min_gain)
      g = proc->min_gain;
    proc->applied[b] = g;
  }
}

DaeStatus
dae_processor_analyze (DaeProcessor * proc, const float *in,
    DaeFrameResult * result)
{
  FpuState fpu;
  size_t n_bad;
  size_t b;
  float vad = -1.0f;

  if (proc == NULL || in == NULL)
    return DAE_ERROR_INVALID_ARGUMENT;

  fpu_enter (&fpu);

  n_bad = sanitize_input (in, proc->dry_out, proc->wet_in, proc->hop);
  delay_dry (proc, proc->dry_out);

  dae_stft_analyze (proc->stft, proc->wet_in, proc->spectrum);
  dae_bands_energy (&proc->bands, proc->spectrum, proc->energy);
  if (proc->n_features > proc->n_bands)
    dae_bands_tonality (&proc->bands, proc->spectrum, proc->energy,
        proc->tonality);
  dae_features_frame (proc->energy,
      proc->n_features > proc->n_bands ? proc->tonality : NULL,
      proc->model->norm_mean, proc->model->norm_std, proc->n_bands,
      proc->features);
  dae_net_step (&proc->model->net, proc->use_qnet ? &proc->qnet : NULL,
      &proc->net_state,
      proc->predictive ? proc->prev_features : proc->features, proc->gains,
      proc->recon, proc->has_vad ? &vad : NULL);

  for (b = 0; b < proc->n_bands; b++) {
    float d = proc->recon[b] - proc->features[b];
    float e = d * d / proc->model->error_scale[b];

    proc->errors[b] = isfinite (e) ? fminf (e, ERROR_LIMIT) : ERROR_LIMIT;
  }
  if (proc->predictive)
    memcpy (proc->prev_features, proc->features,
        proc->n_features * sizeof (float));
  if (proc->has_vad)
    proc->vad = isfinite (vad) ? fminf (fmaxf (vad, 0.0f), 1.0f) : 0.0f;

  apply_limit (proc, proc->gains, proc->gain_scale);
  proc->pending = 1;

  if (result != NULL)
    fill_result (proc, result, n_bad);

  fpu_leave (&fpu);
  return DAE_OK;
}

DaeStatus
dae_processor_synthesize (DaeProcessor * proc, const float *band_gains,
    float *out)
{
  FpuState fpu;
  size_t k;
  size_t i;
  float mix;

  if (proc == NULL || out == NULL || !proc->pending)
    return DAE_ERROR_INVALID_ARGUMENT;

  fpu_enter (&fpu);

  if (band_gains != NULL)
    apply_limit (proc, band_gains, 1.0f);

  dae_bands_interpolate (&proc->bands, proc->applied, proc->bin_gains);
  for (k = 0; k < proc->n_bins; k++) {
    proc->spectrum[2 * k] *= proc->bin_gains[k];
    proc->spectrum[2 * k + 1] *= proc->bin_gains[k];
  }
  dae_stft_synthesize (proc->stft, proc->spectrum, proc->wet_out);

  mix = proc->mix;
  if (mix <= 0.0f) {
    memcpy (out, proc->dry_out, proc->hop * sizeof (float));
  } else if (mix >= 1.0f) {
    memcpy (out, proc->wet_out, proc->hop * sizeof (float));
  } else {
    for (i = 0; i < proc->hop; i++)
      out[i] = mix * proc->wet_out[i] + (1.0f - mix) * proc->dry_out[i];
  }
  proc->pending = 0;

  fpu_leave (&fpu);
  return DAE_OK;
}

DaeStatus
dae_processor_process (DaeProcessor * proc, const float *in, float *out,
    DaeFrameResult * result)
{
  DaeStatus status;

  if (proc == NULL || in == NULL || out == NULL)
    return DAE_ERROR_INVALID_ARGUMENT;

  status = dae_processor_analyze (proc, in, result);
  if (status != DAE_OK)
    return status;

  return dae_processor_synthesize (proc, NULL, out);
}
