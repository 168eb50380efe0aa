/* libdae — band layout, band energy, gain interpolation and feature tests
 * Copyright (C) 2026 The dae authors
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */

#include <math.h>
#include <stdint.h>
#include <string.h>

#include <glib.h>

#include "dae-private.h"

/* relative tolerance for energies and gains computed in float */
#define REL_TOLERANCE 1e-5
/* tolerance on band centres recomputed in double from the ERB formula, Hz */
#define ERB_HZ_TOLERANCE 1e-2
/* absolute tolerance on features */
#define FEATURE_TOLERANCE 1e-5
/* how far (in bands) a sine's energy may peak from the band it sits on */
#define SINE_PEAK_SLACK 1
/* energy of bands far from a sine, relative to the peak band */
#define SINE_LEAKAGE_LIMIT 0.05
#define MAX_BANDS_ALLOCATIONS 16

#define DEFAULT_N_BANDS 32
#define DEFAULT_MIN_HZ 50.0f
#define DEFAULT_MAX_HZ 7200.0f

static double
erb_rate (double hz)
{
  return 21.4 * log10 (1.0 + 0.00437 * hz);
}

static void
default_centers (float *centers)
{
  g_assert_cmpint (dae_band_layout_erb (DEFAULT_N_BANDS, DEFAULT_MIN_HZ,
          DEFAULT_MAX_HZ, centers), ==, DAE_OK);
}

static void
flat_spectrum (float *spectrum, size_t n_bins, float power)
{
  size_t k;

  for (k = 0; k < n_bins; k++) {
    /* split between re and im so both are read */
    spectrum[2 * k] = sqrtf (power * 0.25f);
    spectrum[2 * k + 1] = -sqrtf (power * 0.75f);
  }
}

static void
assert_close_rel (double value, double expected, double rel)
{
  g_assert_cmpfloat_with_epsilon (value, expected,
      rel * MAX (fabs (expected), 1e-30));
}

/* ------------------------------------------------------------------------ */

static void
test_erb_layout (void)
{
  static const size_t counts[] = { 2, 3, 16, 32, 64, DAE_MAX_BANDS };
  float centers[DAE_MAX_BANDS];
  size_t i;

  g_test_summary ("ERB layouts are strictly increasing, hit both endpoints "
      "exactly and are equally spaced on the ERB-rate scale.");

  for (i = 0; i < G_N_ELEMENTS (counts); i++) {
    size_t n = counts[i];
    double step = (erb_rate (20000.0) - erb_rate (0.0)) / (double) (n - 1);
    size_t b;

    g_assert_cmpint (dae_band_layout_erb (n, 0.0f, 20000.0f, centers), ==,
        DAE_OK);
    g_assert_cmpfloat (centers[0], ==, 0.0f);
    g_assert_cmpfloat (centers[n - 1], ==, 20000.0f);
    for (b = 1; b < n; b++) {
      g_assert_cmpfloat (centers[b], >, centers[b - 1]);
      g_assert_cmpfloat_with_epsilon (erb_rate (centers[b]) - erb_rate
          (centers[b - 1]), step, 1e-4);
    }
  }

  default_centers (centers);
  g_assert_cmpfloat (centers[0], ==, DEFAULT_MIN_HZ);
  g_assert_cmpfloat (centers[DEFAULT_N_BANDS - 1], ==, DEFAULT_MAX_HZ);
  {
    /* one interior centre checked against the formula */
    double e = erb_rate (DEFAULT_MIN_HZ) + (erb_rate (DEFAULT_MAX_HZ)
        - erb_rate (DEFAULT_MIN_HZ)) * 10.0 / (DEFAULT_N_BANDS - 1);
    double hz = (pow (10.0, e / 21.4) - 1.0) / 0.00437;

    g_assert_cmpfloat_with_epsilon (centers[10], hz, ERB_HZ_TOLERANCE);
  }
}

static void
test_erb_invalid (void)
{
  float centers[DAE_MAX_BANDS + 1];

  g_assert_cmpint (dae_band_layout_erb (1, 50.0f, 8000.0f, centers), ==,
      DAE_ERROR_INVALID_ARGUMENT);
  g_assert_cmpint (dae_band_layout_erb (0, 50.0f, 8000.0f, centers), ==,
      DAE_ERROR_INVALID_ARGUMENT);
  g_assert_cmpint (dae_band_layout_erb (DAE_MAX_BANDS + 1, 50.0f, 8000.0f,
          centers), ==, DAE_ERROR_INVALID_ARGUMENT);
  g_assert_cmpint (dae_band_layout_erb (32, -1.0f, 8000.0f, centers), ==,
      DAE_ERROR_INVALID_ARGUMENT);
  g_assert_cmpint (dae_band_layout_erb (32, 8000.0f, 8000.0f, centers), ==,
      DAE_ERROR_INVALID_ARGUMENT);
  g_assert_cmpint (dae_band_layout_erb (32, 9000.0f, 8000.0f, centers), ==,
      DAE_ERROR_INVALID_ARGUMENT);
  g_assert_cmpint (dae_band_layout_erb (32, NAN, 8000.0f, centers), ==,
      DAE_ERROR_INVALID_ARGUMENT);
  g_assert_cmpint (dae_band_layout_erb (32, 50.0f, NAN, centers), ==,
      DAE_ERROR_INVALID_ARGUMENT);
  g_assert_cmpint (dae_band_layout_erb (32, 50.0f, INFINITY, centers), ==,
      DAE_ERROR_INVALID_ARGUMENT);
  g_assert_cmpint (dae_band_layout_erb (32, 50.0f, 8000.0f, NULL), ==,
      DAE_ERROR_INVALID_ARGUMENT);
}

static void
test_erb_spaced_layout (void)
{
  static const struct
  {
    size_t n;
    float min_hz;
    float max_hz;
    float spacing;
  } cases[] = {
    {96, 50.0f, 7200.0f, 50.0f},        /* 16 kHz, 20 ms window: one bin */
    {128, 50.0f, 20000.0f, 50.0f},      /* 48 kHz, 20 ms window */
    {40, 50.0f, 7200.0f, 50.0f},
    {3, 0.0f, 1000.0f, 10.0f},
    {DAE_MAX_BANDS, 20.0f, 20000.0f, 25.0f},
    {11, 0.0f, 1000.0f, 100.0f},        /* exactly fits: linear */
  };
  float centers[DAE_MAX_BANDS];
  float erb[DAE_MAX_BANDS];
  size_t i;

  g_test_summary ("Spaced ERB layouts hit both endpoints, keep neighbours "
      "at least the minimum spacing apart, and where wider than that are "
      "one constant ERB-rate step apart; spacing 0 is the ERB layout.");

  for (i = 0; i < G_N_ELEMENTS (cases); i++) {
    size_t n = cases[i].n;
    float spacing = cases[i].spacing;
    double step = -1.0;
    size_t n_erb = 0;
    size_t b;

    g_assert_cmpint (dae_band_layout_erb_spaced (n, cases[i].min_hz,
            cases[i].max_hz, spacing, centers), ==, DAE_OK);
    g_assert_cmpfloat (centers[0], ==, cases[i].min_hz);
    g_assert_cmpfloat (centers[n - 1], ==, cases[i].max_hz);
    for (b = 1; b < n; b++) {
      double gap = (double) centers[b] - (double) centers[b - 1];
      double erb_gap = erb_rate (centers[b]) - erb_rate (centers[b - 1]);

      /* float rounding of the centres: 1e-3 Hz */
      g_assert_cmpfloat (gap, >=, spacing - 1e-3);
      if (b + 1 < n && gap > spacing + 1e-2) {
        /* an ERB step: all of them are the same */
        if (step < 0.0)
          step = erb_gap;
        g_assert_cmpfloat_with_epsilon (erb_gap, step, 1e-3);
        n_erb++;
      } else if (step >= 0.0 && b + 1 < n) {
        /* once the ERB step is wider, the spacing never takes over again */
        g_assert_not_reached ();
      }
    }
    if (i == 0 || i == 1) {
      /* the low bands are single bins, the high ones ERB-spaced */
      g_assert_cmpfloat_with_epsilon (centers[1] - centers[0], spacing, 1e-3);
      g_assert_cmpuint (n_erb, >, n / 4);
    }
  }

  /* the last case is linear: 0, 100, ..., 1000 Hz */
  for (i = 0; i < 11; i++)
    g_assert_cmpfloat_with_epsilon (centers[i], 100.0 * i, 1e-3);

  /* 0 spacing is dae_band_layout_erb (), bit for bit */
  g_assert_cmpint (dae_band_layout_erb_spaced (32, 50.0f, 7200.0f, 0.0f,
          centers), ==, DAE_OK);
  g_assert_cmpint (dae_band_layout_erb (32, 50.0f, 7200.0f, erb), ==, DAE_OK);
  g_assert_cmpmem (centers, 32 * sizeof (float), erb, 32 * sizeof (float));

  /* a spacing too small to matter is the ERB layout up to rounding */
  g_assert_cmpint (dae_band_layout_erb_spaced (32, 50.0f, 7200.0f, 1.0f,
          centers), ==, DAE_OK);
  for (i = 0; i < 32; i++)
    g_assert_cmpfloat_with_epsilon (centers[i], erb[i], ERB_HZ_TOLERANCE);

  /* invalid: does not fit, negative, NaN, and the ERB layout's own checks */
  g_assert_cmpint (dae_band_layout_erb_spaced (12, 0.0f, 1000.0f, 100.0f,
          centers), ==, DAE_ERROR_INVALID_ARGUMENT);
  g_assert_cmpint (dae_band_layout_erb_spaced (32, 50.0f, 7200.0f, -1.0f,
          centers), ==, DAE_ERROR_INVALID_ARGUMENT);
  g_assert_cmpint (dae_band_layout_erb_spaced (32, 50.0f, 7200.0f, NAN,
          centers), ==, DAE_ERROR_INVALID_ARGUMENT);
  g_assert_cmpint (dae_band_layout_erb_spaced (32, 50.0f, 7200.0f, INFINITY,
          centers), ==, DAE_ERROR_INVALID_ARGUMENT);
  g_assert_cmpint (dae_band_layout_erb_spaced (1, 50.0f, 7200.0f, 10.0f,
          centers), ==, DAE_ERROR_INVALID_ARGUMENT);
  g_assert_cmpint (dae_band_layout_erb_spaced (32, 7200.0f, 50.0f, 10.0f,
          centers), ==, DAE_ERROR_INVALID_ARGUMENT);
  g_assert_cmpint (dae_band_layout_erb_spaced (32, 50.0f, 7200.0f, 10.0f,
          NULL), ==, DAE_ERROR_INVALID_ARGUMENT);
}

/* ------------------------------------------------------------------------ */

typedef struct
{
  unsigned sample_rate;
  size_t fft_size;
} BandsSize;

static void
test_bands_flat (gconstpointer data)
{
  const BandsSize *size = data;
  static const size_t counts[] = { 2, 8, 32, DAE_MAX_BANDS };
  const float power = 0.37f;
  size_t i;

  g_test_summary ("A flat power spectrum gives every band exactly that "
      "power, including bands that no bin falls into.");

  for (i = 0; i < G_N_ELEMENTS (counts); i++) {
    float centers[DAE_MAX_BANDS];
    float energy[DAE_MAX_BANDS];
    DaeBands bands;
    float *spectrum;
    size_t b;

    g_assert_cmpint (dae_band_layout_erb (counts[i], DEFAULT_MIN_HZ,
            DEFAULT_MAX_HZ, centers), ==, DAE_OK);
    g_assert_cmpint (dae_bands_init (&bands, centers, counts[i],
            size->sample_rate, size->fft_size), ==, DAE_OK);
    g_assert_cmpuint (bands.n_bands, ==, counts[i]);
    g_assert_cmpuint (bands.n_bins, ==, size->fft_size / 2 + 1);

    spectrum = g_new (float, 2 * bands.n_bins);
    flat_spectrum (spectrum, bands.n_bins, power);
    dae_bands_energy (&bands, spectrum, energy);
    for (b = 0; b < counts[i]; b++)
      assert_close_rel (energy[b], power, REL_TOLERANCE);

    g_free (spectrum);
    dae_bands_clear (&bands);
  }
}

static void
test_bands_weights (void)
{
  float centers[DEFAULT_N_BANDS];
  DaeBands bands;
  float sum[DEFAULT_N_BANDS + 1] = { 0 };
  size_t k;
  size_t b;

  g_test_summary ("lo/frac describe a valid partition of unity and norm "
      "is the per-band sum of the weights.");

  default_centers (centers);
  g_assert_cmpint (dae_bands_init (&bands, centers, DEFAULT_N_BANDS, 16000,
          320), ==, DAE_OK);
  for (k = 0; k < bands.n_bins; k++) {
    double f = (double) k * 16000.0 / 320.0;

    g_assert_cmpuint (bands.lo[k], <, DEFAULT_N_BANDS);
    g_assert_cmpfloat (bands.frac[k], >=, 0.0f);
    g_assert_cmpfloat (bands.frac[k], <=, 1.0f);
    if (bands.lo[k] == DEFAULT_N_BANDS - 1)
      g_assert_cmpfloat (bands.frac[k], ==, 0.0f);
    if (f <= centers[0])
      g_assert_cmpuint (bands.lo[k], ==, 0);
    if (f >= centers[DEFAULT_N_BANDS - 1])
      g_assert_cmpuint (bands.lo[k], ==, DEFAULT_N_BANDS - 1);
    if (k > 0) {
      double pos = bands.lo[k] + bands.frac[k];
      double prev = bands.lo[k - 1] + bands.frac[k - 1];

      g_assert_cmpfloat (pos, >=, prev);
    }
    sum[bands.lo[k]] += 1.0f - bands.frac[k];
    sum[bands.lo[k] + 1] += bands.frac[k];
  }
  for (b = 0; b < DEFAULT_N_BANDS; b++)
    assert_close_rel (bands.norm[b], sum[b], REL_TOLERANCE);

  dae_bands_clear (&bands);
}

static void
test_bands_empty_band (void)
{
  /* bins every 50 Hz: 110 and 120 Hz lie strictly between the bins at 100
   * and 150 Hz, between neighbours that leave them no bin */
  static const float centers[] = { 0.0f, 100.0f, 110.0f, 120.0f, 130.0f,
    200.0f, 1000.0f
  };
  const size_t n_bands = G_N_ELEMENTS (centers);
  DaeBands bands;
  float energy[G_N_ELEMENTS (centers)];
  float *spectrum;
  size_t k;
  size_t b;

  g_test_summary ("Bands that receive no bin get the power spectrum "
      "sampled at their centre: finite, and flat in, flat out.");

  g_assert_cmpint (dae_bands_init (&bands, centers, n_bands, 16000, 320), ==,
      DAE_OK);
  g_assert_cmpfloat (bands.norm[2], ==, 0.0f);
  g_assert_cmpfloat (bands.norm[3], ==, 0.0f);

  spectrum = g_new0 (float, 2 * bands.n_bins);
  for (k = 0; k < bands.n_bins; k++)
    spectrum[2 * k] = (float) (k + 1);  /* power (k + 1)^2 */
  dae_bands_energy (&bands, spectrum, energy);
  for (b = 0; b < n_bands; b++) {
    g_assert_true (isfinite (energy[b]));
    g_assert_cmpfloat (energy[b], >=, 0.0f);
  }
  /* 110 Hz = bin 2.2, 120 Hz = bin 2.4: powers 9 and 16 */
  assert_close_rel (energy[2], 0.8 * 9.0 + 0.2 * 16.0, REL_TOLERANCE);
  assert_close_rel (energy[3], 0.6 * 9.0 + 0.4 * 16.0, REL_TOLERANCE);

  flat_spectrum (spectrum, bands.n_bins, 2.5f);
  dae_bands_energy (&bands, spectrum, energy);
  for (b = 0; b < n_bands; b++)
    assert_close_rel (energy[b], 2.5, REL_TOLERANCE);

  g_free (spectrum);
  dae_bands_clear (&bands);
}

/* Energy of a sine at freq_hz through a full window of a DaeStft. */
static void
sine_band_energy (const DaeBands * bands, unsigned sample_rate,
    size_t window, double freq_hz, float *energy)
{
  const size_t hop = window / 2;
  DaeStft *stft = NULL;
  float *x = g_new (float, window);
  float *spectrum;
  size_t i;

  g_assert_cmpint (dae_stft_new (window, hop, &stft), ==, DAE_OK);
  g_assert_cmpuint (dae_stft_get_n_bins (stft), ==, bands->n_bins);
  spectrum = g_new (float, 2 * bands->n_bins);
  for (i = 0; i < window; i++)
    x[i] = (float) sin (2.0 * G_PI * freq_hz * (double) i / sample_rate);
  for (i = 0; i < window; i += hop)
    dae_stft_analyze (stft, x + i, spectrum);
  dae_bands_energy (bands, spectrum, energy);

  dae_stft_free (stft);
  g_free (spectrum);
  g_free (x);
}

static size_t
argmax (const float *x, size_t n)
{
  size_t best = 0;
  size_t i;

  for (i = 1; i < n; i++)
    if (x[i] > x[best])
      best = i;
  return best;
}

static void
test_bands_sinusoid (gconstpointer data)
{
  const BandsSize *size = data;
  float centers[DEFAULT_N_BANDS];
  float energy[DEFAULT_N_BANDS];
  DaeBands bands;
  double bin_hz = (double) size->sample_rate / (double) size->fft_size;
  size_t n_tested = 0;
  size_t b;

  g_test_summary ("A sine's energy peaks in the band whose centre it sits "
      "on and stays small in bands well away from it.");

  default_centers (centers);
  g_assert_cmpint (dae_bands_init (&bands, centers, DEFAULT_N_BANDS,
          size->sample_rate, size->fft_size), ==, DAE_OK);

  for (b = 0; b < DEFAULT_N_BANDS; b++) {
    size_t peak;
    size_t other;

    /* only bands at least four bins from both neighbours can resolve the
     * window's main lobe */
    if (b > 0 && centers[b] - centers[b - 1] < 4.0 * bin_hz)
      continue;
    if (b + 1 < DEFAULT_N_BANDS && centers[b + 1] - centers[b] < 4.0 * bin_hz)
      continue;

    n_tested++;
    sine_band_energy (&bands, size->sample_rate, size->fft_size, centers[b],
        energy);
    peak = argmax (energy, DEFAULT_N_BANDS);
    g_assert_cmpuint (peak + SINE_PEAK_SLACK, >=, b);
    g_assert_cmpuint (peak, <=, b + SINE_PEAK_SLACK);
    for (other = 0; other < DEFAULT_N_BANDS; other++) {
      if (other + 2 <= b || other >= b + 2)
        g_assert_cmpfloat (energy[other], <, SINE_LEAKAGE_LIMIT * energy[peak]);
    }
  }
  g_test_message ("%zu bands resolved", n_tested);
  g_assert_cmpuint (n_tested, >=, DEFAULT_N_BANDS / 4);

  dae_bands_clear (&bands);
}

static void
test_bands_sample_rates (void)
{
  float centers[DEFAULT_N_BANDS];
  float energy16[DEFAULT_N_BANDS];
  float energy48[DEFAULT_N_BANDS];
  DaeBands bands16;
  DaeBands bands48;
  const double freq_hz = 2000.0;

  g_test_summary ("The same centres work for 16 kHz / 320 and 48 kHz / 960 "
      "FFTs (same 50 Hz bin spacing) and a sine lands in the same band.");

  default_centers (centers);
  g_assert_cmpint (dae_bands_init (&bands16, centers, DEFAULT_N_BANDS, 16000,
          320), ==, DAE_OK);
  g_assert_cmpint (dae_bands_init (&bands48, centers, DEFAULT_N_BANDS, 48000,
          960), ==, DAE_OK);

  sine_band_energy (&bands16, 16000, 320, freq_hz, energy16);
  sine_band_energy (&bands48, 48000, 960, freq_hz, energy48);
  g_assert_cmpuint (argmax (energy16, DEFAULT_N_BANDS), ==,
      argmax (energy48, DEFAULT_N_BANDS));

  dae_bands_clear (&bands16);
  dae_bands_clear (&bands48);
}

static void
test_bands_invalid (void)
{
  float centers[DEFAULT_N_BANDS];
  float bad[DEFAULT_N_BANDS];
  DaeBands bands;

  g_test_summary ("Centres at or above Nyquist are incompatible; unsorted, "
      "negative or non-finite centres and bad sizes are invalid; a failed "
      "init leaves a struct that dae_bands_clear() accepts.");

  memset (&bands, 0, sizeof (bands));
  dae_bands_clear (&bands);
  dae_bands_clear (NULL);

  default_centers (centers);

  /* DEFAULT_MAX_HZ = 7200 Hz: fine at 16 kHz, not at 14.4 kHz or less */
  g_assert_cmpint (dae_bands_init (&bands, centers, DEFAULT_N_BANDS, 14400,
          320), ==, DAE_ERROR_INCOMPATIBLE);
  dae_bands_clear (&bands);
  g_assert_cmpint (dae_bands_init (&bands, centers, DEFAULT_N_BANDS, 8000,
          160), ==, DAE_ERROR_INCOMPATIBLE);
  dae_bands_clear (&bands);

  memcpy (bad, centers, sizeof (bad));
  bad[DEFAULT_N_BANDS - 1] = 8000.0f;
  g_assert_cmpint (dae_bands_init (&bands, bad, DEFAULT_N_BANDS, 16000, 320),
      ==, DAE_ERROR_INCOMPATIBLE);
  dae_bands_clear (&bands);

  memcpy (bad, centers, sizeof (bad));
  bad[5] = bad[4];
  g_assert_cmpint (dae_bands_init (&bands, bad, DEFAULT_N_BANDS, 16000, 320),
      ==, DAE_ERROR_INVALID_ARGUMENT);
  dae_bands_clear (&bands);

  memcpy (bad, centers, sizeof (bad));
  bad[0] = -1.0f;
  g_assert_cmpint (dae_bands_init (&bands, bad, DEFAULT_N_BANDS, 16000, 320),
      ==, DAE_ERROR_INVALID_ARGUMENT);
  dae_bands_clear (&bands);

  memcpy (bad, centers, sizeof (bad));
  bad[7] = NAN;
  g_assert_cmpint (dae_bands_init (&bands, bad, DEFAULT_N_BANDS, 16000, 320),
      ==, DAE_ERROR_INVALID_ARGUMENT);
  dae_bands_clear (&bands);

  g_assert_cmpint (dae_bands_init (&bands, NULL, DEFAULT_N_BANDS, 16000, 320),
      ==, DAE_ERROR_INVALID_ARGUMENT);
  g_assert_cmpint (dae_bands_init (NULL, centers, DEFAULT_N_BANDS, 16000,
          320), ==, DAE_ERROR_INVALID_ARGUMENT);
  g_assert_cmpint (dae_bands_init (&bands, centers, 1, 16000, 320), ==,
      DAE_ERROR_INVALID_ARGUMENT);
  g_assert_cmpint (dae_bands_init (&bands, centers, DAE_MAX_BANDS + 1, 16000,
          320), ==, DAE_ERROR_INVALID_ARGUMENT);
  g_assert_cmpint (dae_bands_init (&bands, centers, DEFAULT_N_BANDS, 0, 320),
      ==, DAE_ERROR_INVALID_ARGUMENT);
  g_assert_cmpint (dae_bands_init (&bands, centers, DEFAULT_N_BANDS, 16000,
          0), ==, DAE_ERROR_INVALID_ARGUMENT);
  dae_bands_clear (&bands);
}

static void
test_bands_allocation_failure (void)
{
  float centers[DEFAULT_N_BANDS];
  gboolean succeeded = FALSE;
  size_t k;

  g_test_summary ("Every allocation failure in dae_bands_init() gives "
      "DAE_ERROR_NO_MEMORY and leaks nothing (checked under valgrind).");

  default_centers (centers);
  for (k = 0; k < MAX_BANDS_ALLOCATIONS && !succeeded; k++) {
    DaeBands bands;
    DaeStatus status;

    dae_debug_fail_allocations_after (k);
    status = dae_bands_init (&bands, centers, DEFAULT_N_BANDS, 16000, 320);
    dae_debug_fail_allocations_after (SIZE_MAX);
    if (status == DAE_OK)
      succeeded = TRUE;
    else
      g_assert_cmpint (status, ==, DAE_ERROR_NO_MEMORY);
    dae_bands_clear (&bands);
  }
  g_assert_true (succeeded);
}

/* ------------------------------------------------------------------------ */

static void
test_interpolate_constant (gconstpointer data)
{
  const BandsSize *size = data;
  float centers[DEFAULT_N_BANDS];
  float gains[DEFAULT_N_BANDS];
  DaeBands bands;
  float *bin_gain;
  size_t k;
  size_t b;

  default_centers (centers);
  g_assert_cmpint (dae_bands_init (&bands, centers, DEFAULT_N_BANDS,
          size->sample_rate, size->fft_size), ==, DAE_OK);
  bin_gain = g_new (float, bands.n_bins);

  for (b = 0; b < DEFAULT_N_BANDS; b++)
    gains[b] = 0.7f;
  dae_bands_interpolate (&bands, gains, bin_gain);
  for (k = 0; k < bands.n_bins; k++)
    assert_close_rel (bin_gain[k], 0.7, REL_TOLERANCE);

  g_free (bin_gain);
  dae_bands_clear (&bands);
}

static void
test_interpolate_continuous (gconstpointer data)
{
  const BandsSize *size = data;
  float centers[DEFAULT_N_BANDS];
  float gains[DEFAULT_N_BANDS];
  DaeBands bands;
  GRand *rand = g_rand_new_with_seed (42);
  float *bin_gain;
  double max_band_step = 0.0;
  size_t k;
  size_t b;

  g_test_summary ("Interpolated bin gains are piecewise linear between "
      "band centres: they stay within the band gains' range, equal a band's "
      "gain at its centre, and adjacent bins differ by no more than the "
      "largest step between adjacent bands times the number of bands "
      "between them (at most one step when bins are denser than bands).");

  default_centers (centers);
  g_assert_cmpint (dae_bands_init (&bands, centers, DEFAULT_N_BANDS,
          size->sample_rate, size->fft_size), ==, DAE_OK);
  bin_gain = g_new (float, bands.n_bins);

  for (b = 0; b < DEFAULT_N_BANDS; b++) {
    gains[b] = (float) g_rand_double (rand);
    if (b > 0)
      max_band_step = MAX (max_band_step, fabs (gains[b] - gains[b - 1]));
  }
  dae_bands_interpolate (&bands, gains, bin_gain);

  for (k = 0; k < bands.n_bins; k++) {
    double f = (double) k * size->sample_rate / (double) size->fft_size;

    g_assert_cmpfloat (bin_gain[k], >=, 0.0f);
    g_assert_cmpfloat (bin_gain[k], <=, 1.0f);
    for (b = 0; b < DEFAULT_N_BANDS; b++) {
      if (f == centers[b])
        assert_close_rel (bin_gain[k], gains[b], REL_TOLERANCE);
    }
    if (k > 0) {
      double span = (bands.lo[k] + bands.frac[k])
          - (bands.lo[k - 1] + bands.frac[k - 1]);
      double diff = fabs (bin_gain[k] - bin_gain[k - 1]);

      g_assert_cmpfloat (diff, <=, max_band_step * MAX (span, 1.0) + 1e-6);
      if (span <= 1.0)
        g_assert_cmpfloat (diff, <=, max_band_step + 1e-6);
    }
  }
  /* below the first and above the last centre the gain is flat */
  g_assert_cmpfloat (bin_gain[0], ==, gains[0]);
  g_assert_cmpfloat (bin_gain[bands.n_bins - 1], ==,
      gains[DEFAULT_N_BANDS - 1]);

  g_rand_free (rand);
  g_free (bin_gain);
  dae_bands_clear (&bands);
}

/* ------------------------------------------------------------------------ */

static void
test_bands_tonality (void)
{
  const size_t n_bands = 48;
  float centers[48];
  float energy[48];
  float tonality[48];
  double log_sum[48];
  DaeBands bands;
  GRand *rand = g_rand_new_with_seed (7);
  float *spectrum;
  size_t peak_band = 40;
  size_t k;
  size_t b;

  g_test_summary ("Band tonality is 1 - the geometric over the arithmetic "
      "mean of the band's bin powers under the band's weights: 0 for a flat "
      "spectrum and for bands without bins, the formula (in double) for a "
      "random spectrum, in [0, 1], and near 1 for one strong bin in a wide "
      "band of weak ones.");

  g_assert_cmpint (dae_band_layout_erb (n_bands, DEFAULT_MIN_HZ, 20000.0f,
          centers), ==, DAE_OK);
  g_assert_cmpint (dae_bands_init (&bands, centers, n_bands, 48000, 960), ==,
      DAE_OK);
  spectrum = g_new0 (float, 2 * bands.n_bins);

  flat_spectrum (spectrum, bands.n_bins, 0.37f);
  dae_bands_energy (&bands, spectrum, energy);
  dae_bands_tonality (&bands, spectrum, energy, tonality);
  for (b = 0; b < n_bands; b++)
    g_assert_cmpfloat_with_epsilon (tonality[b], 0.0, 1e-5);

  /* random powers over six decades */
  for (k = 0; k < bands.n_bins; k++) {
    spectrum[2 * k] = (float) pow (10.0, g_rand_double_range (rand, -4, 2));
    spectrum[2 * k + 1] = (float) g_rand_double_range (rand, -1e-3, 1e-3);
  }
  dae_bands_energy (&bands, spectrum, energy);
  dae_bands_tonality (&bands, spectrum, energy, tonality);
  memset (log_sum, 0, sizeof (log_sum));
  for (k = 0; k < bands.n_bins; k++) {
    double p = (double) spectrum[2 * k] * spectrum[2 * k]
        + (double) spectrum[2 * k + 1] * spectrum[2 * k + 1];
    double lp = log10 (p + DAE_LOG_EPSILON);

    log_sum[bands.lo[k]] += (1.0 - bands.frac[k]) * lp;
    if (bands.frac[k] > 0.0f)
      log_sum[bands.lo[k] + 1] += bands.frac[k] * lp;
  }
  for (b = 0; b < n_bands; b++) {
    double expected = bands.norm[b] > 0.0f ?
        1.0 - pow (10.0, log_sum[b] / bands.norm[b]
        - log10 ((double) energy[b] + DAE_LOG_EPSILON)) : 0.0;

    g_assert_cmpfloat (tonality[b], >=, 0.0f);
    g_assert_cmpfloat (tonality[b], <=, 1.0f);
    g_assert_cmpfloat_with_epsilon (tonality[b], fmax (expected, 0.0), 2e-4);
  }

  /* one bin 60 dB above the rest of a wide band */
  g_assert_cmpfloat (bands.norm[peak_band], >, 10.0f);
  flat_spectrum (spectrum, bands.n_bins, 1e-6f);
  for (k = 0; k < bands.n_bins; k++) {
    if (bands.lo[k] == peak_band && bands.frac[k] < 0.5f) {
      spectrum[2 * k] = 1.0f;
      spectrum[2 * k + 1] = 0.0f;
      break;
    }
  }
  dae_bands_energy (&bands, spectrum, energy);
  dae_bands_tonality (&bands, spectrum, energy, tonality);
  g_assert_cmpfloat (tonality[peak_band], >, 0.99f);
  g_assert_cmpfloat_with_epsilon (tonality[10], 0.0, 1e-5);

  g_free (spectrum);
  dae_bands_clear (&bands);
  g_rand_free (rand);
}

static void
test_bands_tonality_empty (void)
{
  static const float centers[] = { 0.0f, 100.0f, 110.0f, 120.0f, 130.0f,
    200.0f, 1000.0f
  };
  const size_t n_bands = G_N_ELEMENTS (centers);
  float energy[G_N_ELEMENTS (centers)];
  float tonality[G_N_ELEMENTS (centers)];
  float features[2 * G_N_ELEMENTS (centers)];
  float mean[2 * G_N_ELEMENTS (centers)];
  float std[2 * G_N_ELEMENTS (centers)];
  DaeBands bands;
  float *spectrum;
  size_t k;
  size_t b;

  g_test_summary ("Bands without bins have tonality 0; zero and tiny "
      "spectra give finite tonality in [0, 1]; a frame's features are the "
      "energy features, then (tonality - mean) / std with the second half "
      "of the normalisation, and the energy features alone without "
      "tonality.");

  g_assert_cmpint (dae_bands_init (&bands, centers, n_bands, 16000, 320), ==,
      DAE_OK);
  spectrum = g_new0 (float, 2 * bands.n_bins);
  for (k = 0; k < bands.n_bins; k++)
    spectrum[2 * k] = (float) (k + 1);
  dae_bands_energy (&bands, spectrum, energy);
  dae_bands_tonality (&bands, spectrum, energy, tonality);
  g_assert_cmpfloat (tonality[2], ==, 0.0f);
  g_assert_cmpfloat (tonality[3], ==, 0.0f);
  for (b = 0; b < n_bands; b++) {
    g_assert_true (isfinite (tonality[b]));
    g_assert_cmpfloat (tonality[b], >=, 0.0f);
    mean[b] = -2.0f + 0.25f * (float) b;
    std[b] = 1.5f;
    mean[n_bands + b] = 0.1f * (float) b;
    std[n_bands + b] = 0.5f + (float) b;
  }
  dae_features_frame (energy, tonality, mean, std, n_bands, features);
  for (b = 0; b < n_bands; b++) {
    g_assert_cmpfloat_with_epsilon (features[b],
        (log10 ((double) energy[b] + DAE_LOG_EPSILON) - mean[b]) / std[b],
        FEATURE_TOLERANCE);
    g_assert_cmpfloat_with_epsilon (features[n_bands + b],
        (tonality[b] - mean[n_bands + b]) / std[n_bands + b],
        FEATURE_TOLERANCE);
  }
  /* without tonality: the energy features only, the rest untouched */
  features[n_bands] = 123.0f;
  dae_features_frame (energy, NULL, mean, std, n_bands, features);
  g_assert_cmpfloat (features[n_bands], ==, 123.0f);
  for (b = 0; b < n_bands; b++)
    g_assert_cmpfloat_with_epsilon (features[b],
        (log10 ((double) energy[b] + DAE_LOG_EPSILON) - mean[b]) / std[b],
        FEATURE_TOLERANCE);

  memset (spectrum, 0, 2 * bands.n_bins * sizeof (float));
  dae_bands_energy (&bands, spectrum, energy);
  dae_bands_tonality (&bands, spectrum, energy, tonality);
  for (b = 0; b < n_bands; b++)
    g_assert_cmpfloat_with_epsilon (tonality[b], 0.0, 1e-5);
  spectrum[2 * 5] = 1e-30f;
  dae_bands_energy (&bands, spectrum, energy);
  dae_bands_tonality (&bands, spectrum, energy, tonality);
  for (b = 0; b < n_bands; b++) {
    g_assert_true (isfinite (tonality[b]));
    g_assert_cmpfloat (tonality[b], >=, 0.0f);
    g_assert_cmpfloat (tonality[b], <=, 1.0f);
  }
  g_free (spectrum);
  dae_bands_clear (&bands);
}

static void
test_features_formula (void)
{
  static const float energy[] = { 0.0f, 1e-12f, 1e-6f, 0.5f, 1.0f, 1e4f };
  static const float mean[] = { -10.0f, -8.0f, -5.0f, 0.0f, 1.0f, 3.0f };
  static const float std[] = { 1.0f, 2.0f, 0.5f, 1.5f, 3.0f, 0.25f };
  const size_t n = G_N_ELEMENTS (energy);
  float features[G_N_ELEMENTS (energy)];
  size_t b;

  dae_features_from_energy (energy, mean, std, n, features);
  for (b = 0; b < n; b++) {
    double expected = (log10 ((double) energy[b] + DAE_LOG_EPSILON)
        - mean[b]) / std[b];

    g_assert_true (isfinite (features[b]));
    g_assert_cmpfloat_with_epsilon (features[b], expected, FEATURE_TOLERANCE);
  }
  /* zero energy maps to log10 (eps) = -10 */
  g_assert_cmpfloat_with_epsilon (features[0], 0.0, FEATURE_TOLERANCE);
}

int
main (int argc, char **argv)
{
  static const BandsSize size_16k = { 16000, 320 };
  static const BandsSize size_48k = { 48000, 960 };
  static const BandsSize size_16k_fine = { 16000, 4096 };
  static const BandsSize size_16k_coarse = { 16000, 64 };

  g_test_init (&argc, &argv, NULL);

  g_test_add_func ("/features/erb/layout", test_erb_layout);
  g_test_add_func ("/features/erb/invalid-arguments", test_erb_invalid);
  g_test_add_func ("/features/erb/spaced-layout", test_erb_spaced_layout);

  g_test_add_data_func ("/features/bands/flat/16k-320", &size_16k,
      test_bands_flat);
  g_test_add_data_func ("/features/bands/flat/48k-960", &size_48k,
      test_bands_flat);
  g_test_add_data_func ("/features/bands/flat/16k-64", &size_16k_coarse,
      test_bands_flat);
  g_test_add_func ("/features/bands/weights", test_bands_weights);
  g_test_add_func ("/features/bands/empty-band", test_bands_empty_band);
  g_test_add_data_func ("/features/bands/sinusoid/16k-320", &size_16k,
      test_bands_sinusoid);
  g_test_add_data_func ("/features/bands/sinusoid/48k-960", &size_48k,
      test_bands_sinusoid);
  g_test_add_data_func ("/features/bands/sinusoid/16k-4096", &size_16k_fine,
      test_bands_sinusoid);
  g_test_add_func ("/features/bands/sample-rates", test_bands_sample_rates);
  g_test_add_func ("/features/bands/invalid-arguments", test_bands_invalid);
  g_test_add_func ("/features/bands/allocation-failure",
      test_bands_allocation_failure);

  g_test_add_data_func ("/features/interpolate/constant/16k-320", &size_16k,
      test_interpolate_constant);
  g_test_add_data_func ("/features/interpolate/constant/48k-960", &size_48k,
      test_interpolate_constant);
  g_test_add_data_func ("/features/interpolate/continuous/16k-320",
      &size_16k, test_interpolate_continuous);
  g_test_add_data_func ("/features/interpolate/continuous/16k-4096",
      &size_16k_fine, test_interpolate_continuous);
  g_test_add_data_func ("/features/interpolate/continuous/16k-64",
      &size_16k_coarse, test_interpolate_continuous);

  g_test_add_func ("/features/from-energy/formula", test_features_formula);
  g_test_add_func ("/features/bands/tonality", test_bands_tonality);
  g_test_add_func ("/features/bands/tonality-empty", test_bands_tonality_empty);

  return g_test_run ();
}
