/* libdae — STFT tests: perfect reconstruction, reset, arguments, allocation
 * failures, concurrent planning
 * Copyright (C) 2026 The dae authors
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */

#include <math.h>
#include <stdint.h>
#include <string.h>

#include <glib.h>

#include "dae-private.h"

/* Largest allowed difference between the output and the delayed input for
 * full-scale signals. */
#define RECONSTRUCTION_TOLERANCE 1e-5
/* Hops pushed through in each round-trip test, after the latency. */
#define ROUNDTRIP_HOPS 200
/* Most allocations dae_stft_new() may make; the failure test stops at the
 * first count that succeeds and asserts it is below this. */
#define MAX_STFT_ALLOCATIONS 16
#define N_THREADS 8
#define THREAD_ITERATIONS 50

typedef struct
{
  size_t window;
  size_t hop;
} StftSize;

/* Fills x with a full-scale mixture: uniform noise plus two sines, clipped
 * to [-1, 1]. */
static void
make_signal (float *x, size_t n, unsigned sample_rate, guint32 seed)
{
  GRand *rand = g_rand_new_with_seed (seed);
  size_t i;

  for (i = 0; i < n; i++) {
    double t = (double) i / sample_rate;
    double v = 0.5 * g_rand_double_range (rand, -1.0, 1.0)
        + 0.3 * sin (2.0 * G_PI * 440.0 * t)
        + 0.2 * sin (2.0 * G_PI * 3217.0 * t + 0.3);

    x[i] = (float) CLAMP (v, -1.0, 1.0);
  }
  /* a few exact full-scale samples */
  if (n > 10) {
    x[3] = 1.0f;
    x[7] = -1.0f;
  }
  g_rand_free (rand);
}

/* Runs x (n samples, a multiple of the hop) through analyze + synthesize and
 * writes the output to y. */
static void
run_stft (DaeStft * stft, size_t hop, const float *x, float *y, size_t n)
{
  size_t n_bins = dae_stft_get_n_bins (stft);
  float *spectrum = g_new0 (float, 2 * n_bins);
  size_t i;

  for (i = 0; i + hop <= n; i += hop) {
    dae_stft_analyze (stft, x + i, spectrum);
    dae_stft_synthesize (stft, spectrum, y + i);
  }
  g_free (spectrum);
}

static double
max_delayed_error (const float *x, const float *y, size_t n, size_t latency)
{
  double max_err = 0.0;
  size_t i;

  for (i = 0; i < n; i++) {
    double expected = i >= latency ? x[i - latency] : 0.0;
    double err = fabs ((double) y[i] - expected);

    if (err > max_err)
      max_err = err;
  }
  return max_err;
}

static void
test_roundtrip (gconstpointer data)
{
  const StftSize *size = data;
  DaeStft *stft = NULL;
  size_t latency;
  size_t n;
  float *x;
  float *y;
  double err;

  g_test_summary ("Analysis followed by synthesis of an unmodified spectrum "
      "reproduces the input delayed by exactly window - hop samples.");

  g_assert_cmpint (dae_stft_new (size->window, size->hop, &stft), ==, DAE_OK);
  g_assert_nonnull (stft);
  latency = dae_stft_get_latency_samples (stft);
  g_assert_cmpuint (latency, ==, size->window - size->hop);

  n = latency + ROUNDTRIP_HOPS * size->hop;
  n = (n + size->hop - 1) / size->hop * size->hop;
  x = g_new (float, n);
  y = g_new (float, n);
  make_signal (x, n, size->window >= 960 ? 48000 : 16000,
      (guint32) (size->window * 7 + size->hop));

  run_stft (stft, size->hop, x, y, n);
  err = max_delayed_error (x, y, n, latency);
  g_test_message ("window %zu hop %zu: max error %g", size->window,
      size->hop, err);
  g_assert_cmpfloat (err, <=, RECONSTRUCTION_TOLERANCE);

  g_free (x);
  g_free (y);
  dae_stft_free (stft);
}

static void
test_reset (void)
{
  const size_t window = 640;
  const size_t hop = 160;
  const size_t n = 40 * hop;
  DaeStft *used = NULL;
  DaeStft *fresh = NULL;
  float *x = g_new (float, n);
  float *junk = g_new (float, n);
  float *y_used = g_new (float, n);
  float *y_fresh = g_new (float, n);
  size_t i;

  g_test_summary ("After dae_stft_reset() the output is bit-identical to "
      "that of a new STFT fed the same input.");

  make_signal (x, n, 16000, 1);
  make_signal (junk, n, 16000, 2);

  g_assert_cmpint (dae_stft_new (window, hop, &used), ==, DAE_OK);
  g_assert_cmpint (dae_stft_new (window, hop, &fresh), ==, DAE_OK);

  /* leave history (and a half-filled overlap) in the used one */
  run_stft (used, hop, junk, y_used, n - hop);
  dae_stft_reset (used);

  run_stft (used, hop, x, y_used, n);
  run_stft (fresh, hop, x, y_fresh, n);
  for (i = 0; i < n; i++)
    g_assert_cmpfloat (y_used[i], ==, y_fresh[i]);

  dae_stft_free (used);
  dae_stft_free (fresh);
  g_free (x);
  g_free (junk);
  g_free (y_used);
  g_free (y_fresh);
}

static void
test_invalid_arguments (void)
{
  static const StftSize invalid[] = {
    {15, 5},                    /* window too short */
    {16, 0},                    /* no hop */
    {320, 0},
    {320, 150},                 /* hop does not divide the window */
    {480, 320},                 /* hop > window / 2 */
    {320, 320},
    {16, 16},
    {32768, 128},               /* window too long */
    {16386, 8193},
    {0, 0},
  };
  DaeStft *stft;
  size_t i;

  for (i = 0; i < G_N_ELEMENTS (invalid); i++) {
    stft = NULL;
    g_assert_cmpint (dae_stft_new (invalid[i].window, invalid[i].hop, &stft),
        ==, DAE_ERROR_INVALID_ARGUMENT);
    g_assert_null (stft);
  }

  g_assert_cmpint (dae_stft_new (320, 160, NULL), ==,
      DAE_ERROR_INVALID_ARGUMENT);

  /* the limits themselves are valid */
  g_assert_cmpint (dae_stft_new (16, 8, &stft), ==, DAE_OK);
  dae_stft_free (stft);
  g_assert_cmpint (dae_stft_new (16384, 8192, &stft), ==, DAE_OK);
  dae_stft_free (stft);
  g_assert_cmpint (dae_stft_new (320, 1, &stft), ==, DAE_OK);
  dae_stft_free (stft);

  dae_stft_free (NULL);
}

static void
test_getters (void)
{
  static const StftSize sizes[] = {
    {320, 160},
    {960, 480},
    {512, 128},
    {16, 8},
  };
  size_t i;

  for (i = 0; i < G_N_ELEMENTS (sizes); i++) {
    DaeStft *stft = NULL;

    g_assert_cmpint (dae_stft_new (sizes[i].window, sizes[i].hop, &stft), ==,
        DAE_OK);
    g_assert_cmpuint (dae_stft_get_n_bins (stft), ==, sizes[i].window / 2 + 1);
    g_assert_cmpuint (dae_stft_get_latency_samples (stft), ==,
        sizes[i].window - sizes[i].hop);
    dae_stft_free (stft);
  }
}

static void
test_spectrum_of_sine (void)
{
  const size_t window = 512;
  const size_t hop = 128;
  const size_t bin = 32;
  DaeStft *stft = NULL;
  float *x = g_new (float, window);
  float *spectrum;
  size_t n_bins;
  size_t peak = 0;
  float peak_power = -1.0f;
  size_t i;

  g_test_summary ("A sine centred on a bin peaks in that bin once the "
      "window is full.");

  g_assert_cmpint (dae_stft_new (window, hop, &stft), ==, DAE_OK);
  n_bins = dae_stft_get_n_bins (stft);
  spectrum = g_new (float, 2 * n_bins);
  for (i = 0; i < window; i++)
    x[i] = (float) sin (2.0 * G_PI * (double) (bin * i) / (double) window);

  for (i = 0; i < window; i += hop)
    dae_stft_analyze (stft, x + i, spectrum);

  for (i = 0; i < n_bins; i++) {
    float p = spectrum[2 * i] * spectrum[2 * i] + spectrum[2 * i + 1]
        * spectrum[2 * i + 1];

    if (p > peak_power) {
      peak_power = p;
      peak = i;
    }
  }
  g_assert_cmpuint (peak, ==, bin);

  dae_stft_free (stft);
  g_free (spectrum);
  g_free (x);
}

static void
test_allocation_failure (void)
{
  size_t k;
  gboolean succeeded = FALSE;

  g_test_summary ("Every allocation failure in dae_stft_new() gives "
      "DAE_ERROR_NO_MEMORY, leaves the out pointer alone and leaks nothing "
      "(checked under valgrind).");

  for (k = 0; k < MAX_STFT_ALLOCATIONS && !succeeded; k++) {
    DaeStft *stft = NULL;
    DaeStatus status;

    dae_debug_fail_allocations_after (k);
    status = dae_stft_new (960, 480, &stft);
    dae_debug_fail_allocations_after (SIZE_MAX);

    if (status == DAE_OK) {
      g_assert_nonnull (stft);
      succeeded = TRUE;
    } else {
      g_assert_cmpint (status, ==, DAE_ERROR_NO_MEMORY);
      g_assert_null (stft);
    }
    dae_stft_free (stft);
  }
  g_assert_true (succeeded);
  g_assert_cmpuint (k, >, 1);
}

static gpointer
thread_func (gpointer data)
{
  guint index = GPOINTER_TO_UINT (data);
  static const StftSize sizes[] = {
    {320, 160},
    {960, 480},
    {512, 128},
    {256, 64},
  };
  const StftSize *size = &sizes[index % G_N_ELEMENTS (sizes)];
  size_t n = size->window * 4;
  float *x = g_new (float, n);
  float *y = g_new (float, n);
  int i;
  double worst = 0.0;

  make_signal (x, n, 16000, index);
  for (i = 0; i < THREAD_ITERATIONS; i++) {
    DaeStft *stft = NULL;
    double err;

    if (dae_stft_new (size->window, size->hop, &stft) != DAE_OK)
      return GINT_TO_POINTER (-1);
    run_stft (stft, size->hop, x, y, n);
    err = max_delayed_error (x, y, n, dae_stft_get_latency_samples (stft));
    worst = MAX (worst, err);
    dae_stft_free (stft);
  }
  g_free (x);
  g_free (y);

  return GINT_TO_POINTER (worst <= RECONSTRUCTION_TOLERANCE ? 1 : -2);
}

static void
test_threads (void)
{
  GThread *threads[N_THREADS];
  guint i;

  g_test_summary ("STFTs created, used and freed from several threads at "
      "once all work (plan creation is serialised by the planner lock).");

  for (i = 0; i < N_THREADS; i++)
    threads[i] = g_thread_new ("stft", thread_func, GUINT_TO_POINTER (i));
  for (i = 0; i < N_THREADS; i++)
    g_assert_cmpint (GPOINTER_TO_INT (g_thread_join (threads[i])), ==, 1);
}

int
main (int argc, char **argv)
{
  static const StftSize roundtrip_sizes[] = {
    {320, 160},
    {960, 480},
    {512, 128},
    {640, 160},
    {256, 64},
    {1024, 512},
    {16, 8},
    {480, 120},
    {27, 9},
  };
  static const char *const roundtrip_names[] = {
    "/stft/roundtrip/hann-50pct/320",
    "/stft/roundtrip/hann-50pct/960",
    "/stft/roundtrip/hann-75pct/512",
    "/stft/roundtrip/hann-75pct/640",
    "/stft/roundtrip/hann-75pct/256",
    "/stft/roundtrip/hann-50pct/1024",
    "/stft/roundtrip/hann-50pct/16",
    "/stft/roundtrip/hann-75pct/480",
    "/stft/roundtrip/odd-window/27",
  };
  size_t i;

  G_STATIC_ASSERT (G_N_ELEMENTS (roundtrip_sizes) ==
      G_N_ELEMENTS (roundtrip_names));

  g_test_init (&argc, &argv, NULL);

  for (i = 0; i < G_N_ELEMENTS (roundtrip_sizes); i++)
    g_test_add_data_func (roundtrip_names[i], &roundtrip_sizes[i],
        test_roundtrip);
  g_test_add_func ("/stft/reset/forgets-history", test_reset);
  g_test_add_func ("/stft/new/invalid-arguments", test_invalid_arguments);
  g_test_add_func ("/stft/new/allocation-failure", test_allocation_failure);
  g_test_add_func ("/stft/getters", test_getters);
  g_test_add_func ("/stft/analyze/sine-peak", test_spectrum_of_sine);
  g_test_add_func ("/stft/threads/concurrent-create", test_threads);

  return g_test_run ();
}
