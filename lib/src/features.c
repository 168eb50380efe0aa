/* libdae — perceptual band layout, band energies and gain interpolation
 * Copyright (C) 2026 The dae authors
 * SPDX-License-Identifier: LGPL-2.1-or-later
 *
 * Bands are defined by their centre frequencies only.  Each FFT bin k at
 * frequency f_k = k * rate / fft_size lies between two neighbouring centres
 * c[b] <= f_k < c[b + 1] and gives weight 1 - t to band b and t to band b + 1,
 * t = (f_k - c[b]) / (c[b + 1] - c[b]): triangular weights that sum to 1 over
 * the bands at every bin.  Bins below c[0] (above c[n - 1]) belong wholly to
 * the first (last) band.  A band's energy is the weighted mean power per bin,
 * sum (w |X|^2) / sum (w); the gains of the bands are spread back over the
 * bins with the same weights, i.e. by linear interpolation between centres.
 *
 * Empty bands: when three or more centres fall between the same two bins (a
 * dense layout on a short FFT), the middle ones receive no bin at all.  Such a
 * band's energy is the power spectrum sampled at its centre instead, linearly
 * interpolated between the two bins around the centre, so it is finite, >= 0
 * and equal to the level of a flat spectrum.  Its gain is not used by any bin
 * (the bins around it follow its neighbours).  The position of the centre in
 * bins is kept after the n_bands norms, in the same allocation (norm holds
 * 2 * n_bands floats); nothing outside this file reads it.
 */

#include <math.h>
#include <string.h>

#include "dae-private.h"

#define BANDS_MIN_FFT 16
#define BANDS_MAX_FFT 16384

/* Glasberg & Moore (1990) ERB-rate scale, in ERBs */
static double
erb_rate_from_hz (double hz)
{
  return 21.4 * log10 (1.0 + 0.00437 * hz);
}

static double
hz_from_erb_rate (double erb)
{
  return (pow (10.0, erb / 21.4) - 1.0) / 0.00437;
}

/* The arguments both ERB layouts share. */
static int
layout_args_valid (size_t n_bands, float min_hz, float max_hz,
    const float *centers_hz)
{
  return centers_hz != NULL && n_bands >= 2 && n_bands <= DAE_MAX_BANDS
      && isfinite (min_hz) && isfinite (max_hz) && min_hz >= 0.0f
      && min_hz < max_hz;
}

DaeStatus
dae_band_layout_erb (size_t n_bands, float min_hz, float max_hz,
    float *centers_hz)
{
  double erb_min;
  double erb_max;
  size_t b;

  if (!layout_args_valid (n_bands, min_hz, max_hz, centers_hz))
    return DAE_ERROR_INVALID_ARGUMENT;

  erb_min = erb_rate_from_hz (min_hz);
  erb_max = erb_rate_from_hz (max_hz);

  centers_hz[0] = min_hz;
  for (b = 1; b + 1 < n_bands; b++) {
    double erb = erb_min + (erb_max - erb_min) * (double) b
        / (double) (n_bands - 1);

    centers_hz[b] = (float) hz_from_erb_rate (erb);
  }
  centers_hz[n_bands - 1] = max_hz;

  return DAE_OK;
}

/* The centre after @f: one @erb_step further on the ERB-rate scale, but at
 * least @min_spacing_hz above @f. */
static double
next_center (double f, double erb_step, double min_spacing_hz)
{
  double erb_next = hz_from_erb_rate (erb_rate_from_hz (f) + erb_step);

  return fmax (erb_next, f + min_spacing_hz);
}

/* The highest centre of n_bands laid out from min_hz with this ERB step. */
static double
last_center (size_t n_bands, double min_hz, double erb_step,
    double min_spacing_hz)
{
  double f = min_hz;
  size_t b;

  for (b = 1; b < n_bands; b++)
    f = next_center (f, erb_step, min_spacing_hz);
  return f;
}

DaeStatus
dae_band_layout_erb_spaced (size_t n_bands, float min_hz, float max_hz,
    float min_spacing_hz, float *centers_hz)
{
  double lo;
  double hi;
  double f;
  int i;
  size_t b;

  if (!isfinite (min_spacing_hz) || !(min_spacing_hz >= 0.0f))
    return DAE_ERROR_INVALID_ARGUMENT;
  if (min_spacing_hz == 0.0f)
    return dae_band_layout_erb (n_bands, min_hz, max_hz, centers_hz);
  if (!layout_args_valid (n_bands, min_hz, max_hz, centers_hz))
    return DAE_ERROR_INVALID_ARGUMENT;
  /* the bands must fit at the minimum spacing */
  if ((double) (n_bands - 1) * (double) min_spacing_hz
      > (double) max_hz - (double) min_hz)
    return DAE_ERROR_INVALID_ARGUMENT;

  /* bisect for the ERB step that puts the last centre on max_hz; the last
   * centre grows with the step, and the pure ERB step is an upper bound */
  lo = 0.0;
  hi = (erb_rate_from_hz (max_hz) - erb_rate_from_hz (min_hz))
      / (double) (n_bands - 1);
  for (i = 0; i < 100; i++) {
    double mid = 0.5 * (lo + hi);

    if (last_center (n_bands, min_hz, mid, min_spacing_hz) < max_hz)
      lo = mid;
    else
      hi = mid;
  }

  f = min_hz;
  centers_hz[0] = min_hz;
  for (b = 1; b + 1 < n_bands; b++) {
    f = next_center (f, lo, min_spacing_hz);
    centers_hz[b] = (float) f;
  }
  centers_hz[n_bands - 1] = max_hz;

  return DAE_OK;
}

static DaeStatus
validate_centers (const float *centers_hz, size_t n_bands, unsigned sample_rate)
{
  double nyquist = 0.5 * (double) sample_rate;
  size_t b;

  for (b = 0; b < n_bands; b++) {
    if (!isfinite (centers_hz[b]) || centers_hz[b] < 0.0f)
      return DAE_ERROR_INVALID_ARGUMENT;
    if (b > 0 && !(centers_hz[b] > centers_hz[b - 1]))
      return DAE_ERROR_INVALID_ARGUMENT;
  }
  if (!((double) centers_hz[n_bands - 1] < nyquist))
    return DAE_ERROR_INCOMPATIBLE;

  return DAE_OK;
}

DaeStatus
dae_bands_init (DaeBands * bands, const float *centers_hz, size_t n_bands,
    unsigned sample_rate, size_t fft_size)
{
  DaeStatus status;
  size_t n_bins;
  size_t k;
  size_t b;
  float *center_bin;

  if (bands == NULL)
    return DAE_ERROR_INVALID_ARGUMENT;
  memset (bands, 0, sizeof (DaeBands));

  if (centers_hz == NULL || sample_rate == 0)
    return DAE_ERROR_INVALID_ARGUMENT;
  if (n_bands < 2 || n_bands > DAE_MAX_BANDS)
    return DAE_ERROR_INVALID_ARGUMENT;
  if (fft_size < BANDS_MIN_FFT || fft_size > BANDS_MAX_FFT)
    return DAE_ERROR_INVALID_ARGUMENT;
  status = validate_centers (centers_hz, n_bands, sample_rate);
  if (status != DAE_OK)
    return status;

  n_bins = fft_size / 2 + 1;
  bands->n_bands = n_bands;
  bands->n_bins = n_bins;
  bands->lo = dae_calloc (n_bins, sizeof (unsigned short));
  bands->frac = dae_calloc (n_bins, sizeof (float));
  bands->norm = dae_calloc (2 * n_bands, sizeof (float));
  if (bands->lo == NULL || bands->frac == NULL || bands->norm == NULL) {
    dae_bands_clear (bands);
    return DAE_ERROR_NO_MEMORY;
  }

  b = 0;
  for (k = 0; k < n_bins; k++) {
    double f = (double) k * (double) sample_rate / (double) fft_size;

    if (f <= centers_hz[0]) {
      bands->lo[k] = 0;
      bands->frac[k] = 0.0f;
    } else if (f >= centers_hz[n_bands - 1]) {
      bands->lo[k] = (unsigned short) (n_bands - 1);
      bands->frac[k] = 0.0f;
    } else {
      double lo_hz;
      double hi_hz;

      /* frequencies increase with k, so the band pointer only moves up */
      while (f >= centers_hz[b + 1])
        b++;
      lo_hz = centers_hz[b];
      hi_hz = centers_hz[b + 1];
      bands->lo[k] = (unsigned short) b;
      bands->frac[k] = (float) ((f - lo_hz) / (hi_hz - lo_hz));
    }
    bands->norm[bands->lo[k]] += 1.0f - bands->frac[k];
    if (bands->frac[k] > 0.0f)
      bands->norm[bands->lo[k] + 1] += bands->frac[k];
  }

  /* centre positions in bins, for empty bands (see the top of the file) */
  center_bin = bands->norm + n_bands;
  for (b = 0; b < n_bands; b++)
    center_bin[b] = (float) ((double) centers_hz[b] * (double) fft_size
        / (double) sample_rate);

  return DAE_OK;
}

void
dae_bands_clear (DaeBands * bands)
{
  if (bands == NULL)
    return;
  dae_free (bands->lo);
  dae_free (bands->frac);
  dae_free (bands->norm);
  memset (bands, 0, sizeof (DaeBands));
}

/* adds value, the value of bin k, to the two bands that share the bin */
static void
spread_bin (const DaeBands * bands, size_t k, float value, float *per_band)
{
  float frac = bands->frac[k];
  size_t lo = bands->lo[k];

  per_band[lo] += (1.0f - frac) * value;
  if (frac > 0.0f)
    per_band[lo + 1] += frac * value;
}

static float
bin_power (const float *spectrum, size_t k)
{
  float re = spectrum[2 * k];
  float im = spectrum[2 * k + 1];

  return re * re + im * im;
}

void
dae_bands_energy (const DaeBands * bands, const float *spectrum, float *energy)
{
  const size_t n_bands = bands->n_bands;
  const size_t n_bins = bands->n_bins;
  const float *center_bin = bands->norm + n_bands;
  size_t k;
  size_t b;

  for (b = 0; b < n_bands; b++)
    energy[b] = 0.0f;

  for (k = 0; k < n_bins; k++)
    spread_bin (bands, k, bin_power (spectrum, k), energy);

  for (b = 0; b < n_bands; b++) {
    if (bands->norm[b] > 0.0f) {
      energy[b] /= bands->norm[b];
    } else {
      /* empty band: sample the power spectrum at the band's centre */
      float pos = center_bin[b];
      size_t k0 = (size_t) pos;
      float t = pos - (float) k0;

      if (k0 + 1 >= n_bins) {
        energy[b] = bin_power (spectrum, n_bins - 1);
      } else {
        energy[b] = (1.0f - t) * bin_power (spectrum, k0)
            + t * bin_power (spectrum, k0 + 1);
      }
    }
  }
}

void
dae_bands_tonality (const DaeBands * bands, const float *spectrum,
    const float *energy, float *tonality)
{
  const size_t n_bands = bands->n_bands;
  const size_t n_bins = bands->n_bins;
  size_t k;
  size_t b;

  /* first the weighted mean of log10 power per band */
  for (b = 0; b < n_bands; b++)
    tonality[b] = 0.0f;
  for (k = 0; k < n_bins; k++)
    spread_bin (bands, k, log10f (bin_power (spectrum, k) + DAE_LOG_EPSILON),
        tonality);
  for (b = 0; b < n_bands; b++) {
    float t = 0.0f;

    /* log10 (geometric / arithmetic mean), <= 0 by Jensen's inequality */
    if (bands->norm[b] > 0.0f)
      t = tonality[b] / bands->norm[b] - log10f (energy[b] + DAE_LOG_EPSILON);
    t = 1.0f - powf (10.0f, fminf (t, 0.0f));
    tonality[b] = t > 0.0f ? t : 0.0f;
  }
}

void
dae_bands_interpolate (const DaeBands * bands, const float *band_gain,
    float *bin_gain)
{
  const size_t n_bins = bands->n_bins;
  size_t k;

  for (k = 0; k < n_bins; k++) {
    float frac = bands->frac[k];
    size_t lo = bands->lo[k];
    float gain = band_gain[lo];

    if (frac > 0.0f)
      gain += frac * (band_gain[lo + 1] - gain);
    bin_gain[k] = gain;
  }
}

void
dae_features_from_energy (const float *energy, const float *norm_mean,
    const float *norm_std, size_t n_bands, float *features)
{
  size_t b;

  for (b = 0; b < n_bands; b++)
    features[b] = (log10f (energy[b] + DAE_LOG_EPSILON) - norm_mean[b])
        / norm_std[b];
}

void
dae_features_frame (const float *energy, const float *tonality,
    const float *norm_mean, const float *norm_std, size_t n_bands,
    float *features)
{
  size_t b;

  dae_features_from_energy (energy, norm_mean, norm_std, n_bands, features);
  if (tonality == NULL)
    return;
  for (b = 0; b < n_bands; b++)
    features[n_bands + b] = (tonality[b] - norm_mean[n_bands + b])
        / norm_std[n_bands + b];
}
