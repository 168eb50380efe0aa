/* Tests for the anomaly scorer (lib/src/score.c). */

#include <float.h>
#include <math.h>
#include <stdint.h>

#include <glib.h>

#include "dae-private.h"

#define SCORE_EPSILON 1e-6

static void
test_score_immediate (void)
{
  DaeScorer *scorer = NULL;

  g_assert_cmpint (dae_scorer_new (1.0, 0, 1, &scorer), ==, DAE_OK);
  g_assert_false (dae_scorer_is_anomaly (scorer));
  g_assert_cmpint (dae_scorer_push (scorer, 0.5f, NULL), ==, DAE_ANOMALY_NONE);
  g_assert_cmpint (dae_scorer_push (scorer, 1.0f, NULL), ==, DAE_ANOMALY_NONE);
  g_assert_cmpint (dae_scorer_push (scorer, 1.5f, NULL), ==, DAE_ANOMALY_START);
  g_assert_true (dae_scorer_is_anomaly (scorer));
  g_assert_cmpint (dae_scorer_push (scorer, 2.0f, NULL), ==, DAE_ANOMALY_NONE);
  g_assert_cmpint (dae_scorer_push (scorer, 0.2f, NULL), ==, DAE_ANOMALY_END);
  g_assert_false (dae_scorer_is_anomaly (scorer));
  dae_scorer_free (scorer);
}

static void
test_score_hold (void)
{
  DaeScorer *scorer = NULL;
  int i;

  g_test_summary ("An anomaly starts only after hold_frames consecutive "
      "frames above the threshold and ends after hold_frames below; shorter "
      "excursions are ignored.");

  g_assert_cmpint (dae_scorer_new (1.0, 3, 1, &scorer), ==, DAE_OK);
  /* two frames above, then one below: no start */
  g_assert_cmpint (dae_scorer_push (scorer, 2.0f, NULL), ==, DAE_ANOMALY_NONE);
  g_assert_cmpint (dae_scorer_push (scorer, 2.0f, NULL), ==, DAE_ANOMALY_NONE);
  g_assert_cmpint (dae_scorer_push (scorer, 0.0f, NULL), ==, DAE_ANOMALY_NONE);
  g_assert_false (dae_scorer_is_anomaly (scorer));
  /* three above: start on the third */
  g_assert_cmpint (dae_scorer_push (scorer, 2.0f, NULL), ==, DAE_ANOMALY_NONE);
  g_assert_cmpint (dae_scorer_push (scorer, 2.0f, NULL), ==, DAE_ANOMALY_NONE);
  g_assert_cmpint (dae_scorer_push (scorer, 2.0f, NULL), ==, DAE_ANOMALY_START);
  /* two below then above again: still anomalous */
  g_assert_cmpint (dae_scorer_push (scorer, 0.0f, NULL), ==, DAE_ANOMALY_NONE);
  g_assert_cmpint (dae_scorer_push (scorer, 0.0f, NULL), ==, DAE_ANOMALY_NONE);
  g_assert_cmpint (dae_scorer_push (scorer, 2.0f, NULL), ==, DAE_ANOMALY_NONE);
  g_assert_true (dae_scorer_is_anomaly (scorer));
  for (i = 0; i < 2; i++)
    g_assert_cmpint (dae_scorer_push (scorer, 0.0f, NULL), ==,
        DAE_ANOMALY_NONE);
  g_assert_cmpint (dae_scorer_push (scorer, 0.0f, NULL), ==, DAE_ANOMALY_END);
  dae_scorer_free (scorer);
}

static void
test_score_smoothing (void)
{
  DaeScorer *scorer = NULL;
  float smoothed = -1.0f;
  int i;

  g_assert_cmpint (dae_scorer_new (10.0, 1, 4, &scorer), ==, DAE_OK);
  dae_scorer_push (scorer, 4.0f, &smoothed);
  g_assert_cmpfloat_with_epsilon (smoothed, 4.0, SCORE_EPSILON);
  dae_scorer_push (scorer, 8.0f, &smoothed);
  g_assert_cmpfloat_with_epsilon (smoothed, 6.0, SCORE_EPSILON);
  dae_scorer_push (scorer, 0.0f, &smoothed);
  dae_scorer_push (scorer, 0.0f, &smoothed);
  g_assert_cmpfloat_with_epsilon (smoothed, 3.0, SCORE_EPSILON);
  /* window of 4: the 4.0 and 8.0 drop out */
  dae_scorer_push (scorer, 0.0f, &smoothed);
  dae_scorer_push (scorer, 0.0f, &smoothed);
  g_assert_cmpfloat_with_epsilon (smoothed, 0.0, SCORE_EPSILON);
  /* a single spike of 30 averages to 7.5 < 10: no anomaly */
  g_assert_cmpint (dae_scorer_push (scorer, 30.0f, &smoothed), ==,
      DAE_ANOMALY_NONE);
  g_assert_cmpfloat_with_epsilon (smoothed, 7.5, SCORE_EPSILON);
  /* long runs stay exact (the sum is recomputed on wrap) */
  for (i = 0; i < 100000; i++)
    dae_scorer_push (scorer, 0.1f, &smoothed);
  g_assert_cmpfloat_with_epsilon (smoothed, 0.1, SCORE_EPSILON);
  dae_scorer_free (scorer);
}

static void
test_score_nonfinite (void)
{
  DaeScorer *scorer = NULL;
  float smoothed = 0.0f;
  int i;

  g_test_summary ("NaN and Inf scores count as above the threshold and do "
      "not poison the average: it recovers once they leave the window.");

  g_assert_cmpint (dae_scorer_new (1.0, 1, 2, &scorer), ==, DAE_OK);
  g_assert_cmpint (dae_scorer_push (scorer, NAN, &smoothed), ==,
      DAE_ANOMALY_START);
  g_assert_true (isfinite (smoothed));
  dae_scorer_push (scorer, INFINITY, &smoothed);
  g_assert_true (isfinite (smoothed));
  for (i = 0; i < 3; i++)
    dae_scorer_push (scorer, 0.0f, &smoothed);
  g_assert_cmpfloat_with_epsilon (smoothed, 0.0, SCORE_EPSILON);
  g_assert_false (dae_scorer_is_anomaly (scorer));
  dae_scorer_free (scorer);
}

static void
test_score_reset_and_setters (void)
{
  DaeScorer *scorer = NULL;

  g_assert_cmpint (dae_scorer_new (1.0, 1, 1, &scorer), ==, DAE_OK);
  g_assert_cmpint (dae_scorer_push (scorer, 5.0f, NULL), ==, DAE_ANOMALY_START);
  dae_scorer_reset (scorer);
  g_assert_false (dae_scorer_is_anomaly (scorer));
  g_assert_cmpint (dae_scorer_set_threshold (scorer, 10.0), ==, DAE_OK);
  g_assert_cmpint (dae_scorer_push (scorer, 5.0f, NULL), ==, DAE_ANOMALY_NONE);
  g_assert_cmpint (dae_scorer_set_threshold (scorer, -1.0), ==,
      DAE_ERROR_INVALID_ARGUMENT);
  g_assert_cmpint (dae_scorer_set_threshold (scorer, NAN), ==,
      DAE_ERROR_INVALID_ARGUMENT);
  dae_scorer_set_hold_frames (scorer, 2);
  g_assert_cmpint (dae_scorer_push (scorer, 20.0f, NULL), ==, DAE_ANOMALY_NONE);
  g_assert_cmpint (dae_scorer_push (scorer, 20.0f, NULL), ==,
      DAE_ANOMALY_START);
  dae_scorer_free (scorer);
  dae_scorer_free (NULL);
}

static void
test_score_invalid (void)
{
  DaeScorer *scorer = NULL;

  g_assert_cmpint (dae_scorer_new (1.0, 1, 1, NULL), ==,
      DAE_ERROR_INVALID_ARGUMENT);
  g_assert_cmpint (dae_scorer_new (-1.0, 1, 1, &scorer), ==,
      DAE_ERROR_INVALID_ARGUMENT);
  g_assert_cmpint (dae_scorer_new (INFINITY, 1, 1, &scorer), ==,
      DAE_ERROR_INVALID_ARGUMENT);
  g_assert_cmpint (dae_scorer_new (1.0, 1, 0, &scorer), ==,
      DAE_ERROR_INVALID_ARGUMENT);
  g_assert_cmpint (dae_scorer_new (1.0, 1, 1025, &scorer), ==,
      DAE_ERROR_INVALID_ARGUMENT);
  g_assert_null (scorer);

  dae_debug_fail_allocations_after (0);
  g_assert_cmpint (dae_scorer_new (1.0, 1, 4, &scorer), ==,
      DAE_ERROR_NO_MEMORY);
  dae_debug_fail_allocations_after (1);
  g_assert_cmpint (dae_scorer_new (1.0, 1, 4, &scorer), ==,
      DAE_ERROR_NO_MEMORY);
  dae_debug_fail_allocations_after (SIZE_MAX);
  g_assert_null (scorer);
}

int
main (int argc, char **argv)
{
  g_test_init (&argc, &argv, NULL);

  g_test_add_func ("/score/threshold/immediate", test_score_immediate);
  g_test_add_func ("/score/threshold/hold", test_score_hold);
  g_test_add_func ("/score/smoothing/moving-average", test_score_smoothing);
  g_test_add_func ("/score/nonfinite", test_score_nonfinite);
  g_test_add_func ("/score/reset-and-setters", test_score_reset_and_setters);
  g_test_add_func ("/score/invalid-arguments", test_score_invalid);

  return g_test_run ();
}
