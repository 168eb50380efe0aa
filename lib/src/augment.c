/* libdae — signal-level augmentation for training: microphone colouring,
 * level, clipping, synthetic reverberation and speed perturbation
 * Copyright (C) 2026 The dae authors
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */

#include <math.h>
#include <string.h>

#include <fftw3.h>

#include "train-private.h"

/* rnnoise's rand_resp () range for the colouring filter's coefficients */
#define MIC_FILTER_RANGE 0.375f

/* The rooms: RT60 uniform in [MIN, MAX] seconds, a pre-delay of up to
 * REVERB_MAX_PREDELAY_MS after the direct path, and a direct-to-reverberant
 * energy ratio uniform in [MIN, MAX] dB. */
#define REVERB_MIN_RT60 0.15
#define REVERB_MAX_RT60 0.6     /* DAE_REVERB_MAX_MS */
#define REVERB_MAX_PREDELAY_MS 8.0
#define REVERB_MIN_DRR_DB -3.0
#define REVERB_MAX_DRR_DB 12.0
/* 60 dB in nepers of amplitude: exp (-DECAY_60DB t / rt60) */
#define DECAY_60DB 6.907755278982137

static float
uniform_range (DaeRng * rng, double lo, double hi)
{
  return (float) (lo + (hi - lo) * (double) dae_rng_uniform (rng));
}

void
dae_mic_filter_random (DaeMicFilter * filter, DaeRng * rng)
{
  filter->b1 = uniform_range (rng, -MIC_FILTER_RANGE, MIC_FILTER_RANGE);
  filter->b2 = uniform_range (rng, -MIC_FILTER_RANGE, MIC_FILTER_RANGE);
  filter->a1 = uniform_range (rng, -MIC_FILTER_RANGE, MIC_FILTER_RANGE);
  filter->a2 = uniform_range (rng, -MIC_FILTER_RANGE, MIC_FILTER_RANGE);
}

void
dae_mic_filter_apply (const DaeMicFilter * filter, float *x, size_t n)
{
  float x1 = 0.0f;
  float x2 = 0.0f;
  float y1 = 0.0f;
  float y2 = 0.0f;
  size_t i;

  for (i = 0; i < n; i++) {
    float in = x[i];
    float out = in + filter->b1 * x1 + filter->b2 * x2 - filter->a1 * y1
        - filter->a2 * y2;

    x2 = x1;
    x1 = in;
    y2 = y1;
    y1 = out;
    x[i] = out;
  }
}

double
dae_signal_rms (const float *x, size_t n)
{
  double sum = 0.0;
  size_t i;

  if (n == 0)
    return 0.0;
  for (i = 0; i < n; i++)
    sum += (double) x[i] * (double) x[i];
  return sqrt (sum / (double) n);
}

float
dae_signal_peak (const float *x, size_t n)
{
  float peak = 0.0f;
  size_t i;

  for (i = 0; i < n; i++) {
    float a = fabsf (x[i]);

    if (a > peak)
      peak = a;
  }
  return peak;
}

void
dae_signal_scale (float *x, size_t n, float gain)
{
  size_t i;

  for (i = 0; i < n; i++)
    x[i] *= gain;
}

void
dae_signal_clip (float *x, size_t n, float limit)
{
  size_t i;

  for (i = 0; i < n; i++) {
    if (x[i] > limit)
      x[i] = limit;
    else if (x[i] < -limit)
      x[i] = -limit;
  }
}

/* ------------------------------------------------------------------------ */
/* Reverberation                                                             */

struct DaeReverb
{
  unsigned sample_rate;
  size_t max_samples;
  size_t max_ir;
  size_t nfft;
  size_t n_cplx;
  float *real;                  /* nfft */
  float *ir;                    /* max_ir */
  fftwf_complex *sig;           /* n_cplx */
  fftwf_complex *full;
  fftwf_complex *early;
  fftwf_plan forward;
  fftwf_plan inverse;
};

DaeStatus
dae_reverb_new (size_t max_samples, unsigned sample_rate,
    DaeReverb ** reverb_out)
{
  DaeReverb *reverb;
  size_t need;

  if (reverb_out == NULL || max_samples == 0 || sample_rate == 0)
    return DAE_ERROR_INVALID_ARGUMENT;

  reverb = dae_calloc (1, sizeof (DaeReverb));
  if (reverb == NULL)
    return DAE_ERROR_NO_MEMORY;
  reverb->sample_rate = sample_rate;
  reverb->max_samples = max_samples;
  reverb->max_ir = (size_t) ceil (REVERB_MAX_RT60 * sample_rate) + 1;
  /* linear convolution of the first max_samples outputs needs
   * nfft >= max_samples + max_ir - 1 */
  need = max_samples + reverb->max_ir;
  reverb->nfft = 64;
  while (reverb->nfft < need)
    reverb->nfft *= 2;
  reverb->n_cplx = reverb->nfft / 2 + 1;

  reverb->ir = dae_calloc (reverb->max_ir, sizeof (float));
  reverb->real = fftwf_malloc (reverb->nfft * sizeof (float));
  reverb->sig = fftwf_malloc (reverb->n_cplx * sizeof (fftwf_complex));
  reverb->full = fftwf_malloc (reverb->n_cplx * sizeof (fftwf_complex));
  reverb->early = fftwf_malloc (reverb->n_cplx * sizeof (fftwf_complex));
  if (reverb->ir == NULL || reverb->real == NULL || reverb->sig == NULL
      || reverb->full == NULL || reverb->early == NULL) {
    dae_reverb_free (reverb);
    return DAE_ERROR_NO_MEMORY;
  }

  dae_fftw_lock ();
  reverb->forward = fftwf_plan_dft_r2c_1d ((int) reverb->nfft, reverb->real,
      reverb->sig, FFTW_ESTIMATE);
  reverb->inverse = fftwf_plan_dft_c2r_1d ((int) reverb->nfft, reverb->full,
      reverb->real, FFTW_ESTIMATE | FFTW_DESTROY_INPUT);
  dae_fftw_unlock ();
  if (reverb->forward == NULL || reverb->inverse == NULL) {
    dae_reverb_free (reverb);
    return DAE_ERROR_INTERNAL;
  }

  *reverb_out = reverb;
  return DAE_OK;
}

void
dae_reverb_free (DaeReverb * reverb)
{
  if (reverb == NULL)
    return;
  if (reverb->forward != NULL || reverb->inverse != NULL) {
    dae_fftw_lock ();
    if (reverb->forward != NULL)
      fftwf_destroy_plan (reverb->forward);
    if (reverb->inverse != NULL)
      fftwf_destroy_plan (reverb->inverse);
    dae_fftw_unlock ();
  }
  fftwf_free (reverb->real);
  fftwf_free (reverb->sig);
  fftwf_free (reverb->full);
  fftwf_free (reverb->early);
  dae_free (reverb->ir);
  dae_free (reverb);
}

/* real[0, nfft) = src[0, n) zero-padded, then forward FFT into out */
static void
forward_padded (DaeReverb * reverb, const float *src, size_t n,
    fftwf_complex * out)
{
  memcpy (reverb->real, src, n * sizeof (float));
  memset (reverb->real + n, 0, (reverb->nfft - n) * sizeof (float));
  fftwf_execute_dft_r2c (reverb->forward, reverb->real, out);
}

/* spec *= sig, inverse FFT, dest[0, n) = result / nfft */
static void
multiply_inverse (DaeReverb * reverb, fftwf_complex * spec, float *dest,
    size_t n)
{
  const float scale = 1.0f / (float) reverb->nfft;
  size_t k;

  for (k = 0; k < reverb->n_cplx; k++) {
    float a = spec[k][0];
    float b = spec[k][1];
    float c = reverb->sig[k][0];
    float d = reverb->sig[k][1];

    spec[k][0] = a * c - b * d;
    spec[k][1] = a * d + b * c;
  }
  fftwf_execute_dft_c2r (reverb->inverse, spec, reverb->real);
  for (k = 0; k < n; k++)
    dest[k] = reverb->real[k] * scale;
}

void
dae_reverb_apply (DaeReverb * reverb, DaeRng * rng, const float *x, size_t n,
    double early_ms, float *wet, float *early)
{
  const double rate = reverb->sample_rate;
  double rt60 = uniform_range (rng, REVERB_MIN_RT60, REVERB_MAX_RT60);
  double drr_db = uniform_range (rng, REVERB_MIN_DRR_DB, REVERB_MAX_DRR_DB);
  size_t predelay = 1 + (size_t) (dae_rng_uniform (rng)
      * REVERB_MAX_PREDELAY_MS * 1e-3 * rate);
  size_t len = (size_t) ceil (rt60 * rate);
  size_t early_len;
  double tail = 0.0;
  float tail_gain;
  size_t k;

  if (n > reverb->max_samples)
    n = reverb->max_samples;
  if (len > reverb->max_ir)
    len = reverb->max_ir;
  if (predelay >= len)
    predelay = len - 1;

  memset (reverb->ir, 0, reverb->max_ir * sizeof (float));
  reverb->ir[0] = 1.0f;
  for (k = predelay; k < len; k++) {
    float v = dae_rng_normal (rng)
        * (float) exp (-DECAY_60DB * (double) k / (rt60 * rate));

    reverb->ir[k] = v;
    tail += (double) v *v;
  }
  tail_gain = tail > 0.0 ? (float) sqrt (pow (10.0, -drr_db / 10.0) / tail)
      : 0.0f;
  for (k = predelay; k < len; k++)
    reverb->ir[k] *= tail_gain;

  forward_padded (reverb, x, n, reverb->sig);

  forward_padded (reverb, reverb->ir, len, reverb->full);
  multiply_inverse (reverb, reverb->full, wet, n);

  early_len = (size_t) fmin (early_ms * 1e-3 * rate, (double) len);
  if (early_len < 1)
    early_len = 1;
  forward_padded (reverb, reverb->ir, early_len, reverb->early);
  multiply_inverse (reverb, reverb->early, early, n);
}

/* ------------------------------------------------------------------------ */
/* Speed perturbation                                                        */

void
dae_speed_kernel_init (DaeSpeedKernel * kernel, double factor)
{
  const int half = DAE_SPEED_HALF_TAPS;
  /* cutoff relative to the input's Nyquist frequency */
  const double cutoff = factor > 1.0 ? 1.0 / factor : 1.0;
  size_t p;

  kernel->factor = factor;
  for (p = 0; p <= DAE_SPEED_PHASES; p++) {
    double frac = (double) p / DAE_SPEED_PHASES;
    double sum = 0.0;
    int j;

    /* tap j weighs input sample i0 + j - half + 1 for a position i0 + frac */
    for (j = 0; j < 2 * half; j++) {
      double d = (double) (j - half + 1) - frac;
      double x = M_PI * cutoff * d;
      double sinc = fabs (x) < 1e-9 ? 1.0 : sin (x) / x;
      double w = fabs (d) < half ? 0.5 + 0.5 * cos (M_PI * d / half) : 0.0;

      kernel->taps[p][j] = (float) (cutoff * sinc * w);
      sum += cutoff * sinc * w;
    }
    for (j = 0; j < 2 * half; j++)
      kernel->taps[p][j] = (float) (kernel->taps[p][j] / sum);
  }
}

size_t
dae_speed_input_length (size_t n_out, double max_factor)
{
  if (n_out == 0)
    return 0;
  return (size_t) ceil ((double) (n_out - 1) * max_factor)
      + 2 * DAE_SPEED_HALF_TAPS + 1;
}

void
dae_speed_apply (const DaeSpeedKernel * kernel, const float *in, float *out,
    size_t n_out)
{
  const int half = DAE_SPEED_HALF_TAPS;
  size_t i;

  for (i = 0; i < n_out; i++) {
    double pos = (double) half + (double) i * kernel->factor;
    size_t i0 = (size_t) pos;
    size_t p = (size_t) ((pos - (double) i0) * DAE_SPEED_PHASES + 0.5);
    const float *x = in + i0 - (size_t) half + 1;
    const float *h = kernel->taps[p];
    DaeVec4 acc = DAE_VEC4 (0.0f);
    int j;

    /* four partial sums, one per lane, added pairwise at the end */
    for (j = 0; j < 2 * half; j += 4)
      acc += dae_vec4_load (h + j) * dae_vec4_load (x + j);
    out[i] = (acc[0] + acc[2]) + (acc[1] + acc[3]);
  }
}
