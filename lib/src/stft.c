/* libdae — streaming STFT / iSTFT with perfect-reconstruction overlap-add
 * Copyright (C) 2026 The dae authors
 * SPDX-License-Identifier: LGPL-2.1-or-later
 *
 * Analysis: the last N input samples, multiplied by a square-root periodic
 * Hann window, go through a real FFT of size N every H samples.
 *
 * Synthesis: inverse real FFT, multiplied by a synthesis window, overlap-added
 * into an N-sample accumulator; the first H samples of the accumulator are
 * complete (every frame that overlaps them has been added) and are emitted.
 * The synthesis window is
 *
 *   ws[n] = wa[n] / (N * sum_m wa[(n mod H) + m H]^2),  m = 0 .. N/H - 1
 *
 * which makes the sum over overlapping frames of wa * ws exactly 1 / N at
 * every output sample for any hop that divides N (the 1 / N undoes FFTW's
 * unnormalised inverse), so an unmodified spectrum reproduces the input
 * delayed by N - H samples.
 *
 * All memory and both FFTW plans are made in dae_stft_new(); the per-hop
 * functions only run the plans on the object's own aligned buffers.
 */

#include <math.h>
#include <pthread.h>
#include <stdint.h>
#include <string.h>

#include <fftw3.h>

#include "dae-private.h"

#define STFT_MIN_WINDOW 16
#define STFT_MAX_WINDOW 16384
/* Alignment of the FFT buffers carved out of one dae_malloc() block; more
 * than any SIMD width FFTW uses. */
#define STFT_ALIGN 64

/* The one library-wide lock: FFTW's planner (plan creation and destruction)
 * is not thread safe. */
static pthread_mutex_t fftw_planner_lock = PTHREAD_MUTEX_INITIALIZER;

void
dae_fftw_lock (void)
{
  pthread_mutex_lock (&fftw_planner_lock);
}

void
dae_fftw_unlock (void)
{
  pthread_mutex_unlock (&fftw_planner_lock);
}

struct DaeStft
{
  size_t window_samples;        /* N */
  size_t hop_samples;           /* H */
  size_t n_bins;                /* N / 2 + 1 */

  float *analysis_window;       /* N */
  float *synthesis_window;      /* N, includes the 1 / N scaling */
  float *input;                 /* N: the last N input samples */
  float *accumulator;           /* N: overlap-add sum */

  /* FFT buffers, aligned */
  float *time;                  /* N real samples (r2c in, c2r out) */
  fftwf_complex *freq;          /* n_bins (r2c out, c2r in) */

  fftwf_plan forward;
  fftwf_plan inverse;

  void *block;                  /* owns every array above */
};

static size_t
align_up (size_t offset)
{
  return (offset + STFT_ALIGN - 1) / STFT_ALIGN * STFT_ALIGN;
}

static void
make_windows (DaeStft * stft)
{
  const size_t n = stft->window_samples;
  const size_t hop = stft->hop_samples;
  size_t i;

  for (i = 0; i < n; i++) {
    double hann = 0.5 - 0.5 * cos (2.0 * M_PI * (double) i / (double) n);

    stft->analysis_window[i] = (float) sqrt (hann);
  }

  for (i = 0; i < n; i++) {
    double sum = 0.0;
    size_t j;

    for (j = i % hop; j < n; j += hop) {
      double w = stft->analysis_window[j];

      sum += w * w;
    }
    /* sum > 0: with H <= N / 2 at least two frames overlap every sample and
     * the window vanishes only at i = 0. */
    stft->synthesis_window[i] =
        (float) ((double) stft->analysis_window[i] / (sum * (double) n));
  }
}

DaeStatus
dae_stft_new (size_t window_samples, size_t hop_samples, DaeStft ** stft_out)
{
  DaeStft *stft;
  size_t n_bins;
  size_t offsets[7];
  size_t size;
  char *base;

  if (stft_out == NULL)
    return DAE_ERROR_INVALID_ARGUMENT;
  if (window_samples < STFT_MIN_WINDOW || window_samples > STFT_MAX_WINDOW)
    return DAE_ERROR_INVALID_ARGUMENT;
  if (hop_samples < 1 || hop_samples > window_samples / 2
      || window_samples % hop_samples != 0)
    return DAE_ERROR_INVALID_ARGUMENT;

  n_bins = window_samples / 2 + 1;

  stft = dae_calloc (1, sizeof (DaeStft));
  if (stft == NULL)
    return DAE_ERROR_NO_MEMORY;
  stft->window_samples = window_samples;
  stft->hop_samples = hop_samples;
  stft->n_bins = n_bins;

  /* one block: five float arrays of N, one complex array of n_bins, each
   * start aligned; the slack lets the base itself be aligned */
  size = 0;
  offsets[0] = size;
  size = align_up (size + window_samples * sizeof (float));
  offsets[1] = size;
  size = align_up (size + window_samples * sizeof (float));
  offsets[2] = size;
  size = align_up (size + window_samples * sizeof (float));
  offsets[3] = size;
  size = align_up (size + window_samples * sizeof (float));
  offsets[4] = size;
  size = align_up (size + window_samples * sizeof (float));
  offsets[5] = size;
  size = align_up (size + n_bins * sizeof (fftwf_complex));
  offsets[6] = size;

  stft->block = dae_malloc (offsets[6] + STFT_ALIGN);
  if (stft->block == NULL) {
    dae_stft_free (stft);
    return DAE_ERROR_NO_MEMORY;
  }
  base = (char *) stft->block;
  base += (STFT_ALIGN - (uintptr_t) base % STFT_ALIGN) % STFT_ALIGN;

  stft->analysis_window = (float *) (void *) (base + offsets[0]);
  stft->synthesis_window = (float *) (void *) (base + offsets[1]);
  stft->input = (float *) (void *) (base + offsets[2]);
  stft->accumulator = (float *) (void *) (base + offsets[3]);
  stft->time = (float *) (void *) (base + offsets[4]);
  stft->freq = (fftwf_complex *) (void *) (base + offsets[5]);

  dae_fftw_lock ();
  stft->forward = fftwf_plan_dft_r2c_1d ((int) window_samples, stft->time,
      stft->freq, FFTW_ESTIMATE);
  stft->inverse = fftwf_plan_dft_c2r_1d ((int) window_samples, stft->freq,
      stft->time, FFTW_ESTIMATE | FFTW_DESTROY_INPUT);
  dae_fftw_unlock ();

  if (stft->forward == NULL || stft->inverse == NULL) {
    dae_stft_free (stft);
    return DAE_ERROR_INTERNAL;
  }

  make_windows (stft);
  dae_stft_reset (stft);

  *stft_out = stft;
  return DAE_OK;
}

void
dae_stft_free (DaeStft * stft)
{
  if (stft == NULL)
    return;

  if (stft->forward != NULL || stft->inverse != NULL) {
    dae_fftw_lock ();
    if (stft->forward != NULL)
      fftwf_destroy_plan (stft->forward);
    if (stft->inverse != NULL)
      fftwf_destroy_plan (stft->inverse);
    dae_fftw_unlock ();
  }

  dae_free (stft->block);
  dae_free (stft);
}

void
dae_stft_reset (DaeStft * stft)
{
  const size_t n = stft->window_samples;

  memset (stft->input, 0, n * sizeof (float));
  memset (stft->accumulator, 0, n * sizeof (float));
  memset (stft->time, 0, n * sizeof (float));
  memset (stft->freq, 0, stft->n_bins * sizeof (fftwf_complex));
}

size_t
dae_stft_get_n_bins (const DaeStft * stft)
{
  return stft->n_bins;
}

size_t
dae_stft_get_latency_samples (const DaeStft * stft)
{
  return stft->window_samples - stft->hop_samples;
}

void
dae_stft_analyze (DaeStft * stft, const float *in, float *spectrum)
{
  const size_t n = stft->window_samples;
  const size_t hop = stft->hop_samples;
  const float *window = stft->analysis_window;
  float *input = stft->input;
  float *time = stft->time;
  size_t i;

  memmove (input, input + hop, (n - hop) * sizeof (float));
  memcpy (input + n - hop, in, hop * sizeof (float));

  for (i = 0; i < n; i++)
    time[i] = input[i] * window[i];

  fftwf_execute (stft->forward);

  memcpy (spectrum, stft->freq, stft->n_bins * sizeof (fftwf_complex));
}

void
dae_stft_synthesize (DaeStft * stft, float *spectrum, float *out)
{
  const size_t n = stft->window_samples;
  const size_t hop = stft->hop_samples;
  const float *window = stft->synthesis_window;
  float *acc = stft->accumulator;
  const float *time = stft->time;
  size_t i;

  memcpy (stft->freq, spectrum, stft->n_bins * sizeof (fftwf_complex));
  /* the spectrum of a real signal has real DC and (for even N) Nyquist bins;
   * make that explicit so the result does not depend on what the caller
   * left in their imaginary parts */
  stft->freq[0][1] = 0.0f;
  if (n % 2 == 0)
    stft->freq[stft->n_bins - 1][1] = 0.0f;

  fftwf_execute (stft->inverse);

  for (i = 0; i < n; i++)
    acc[i] += time[i] * window[i];

  memcpy (out, acc, hop * sizeof (float));
  memmove (acc, acc + hop, (n - hop) * sizeof (float));
  memset (acc + n - hop, 0, hop * sizeof (float));
}
