/* dae
 *
 * test-element-checks.h: checks of what daedenoise puts on buffers and
 * the bus, shared by the element's hardening tests
 * (tests/plugin/test-hardening.c) and its fuzzer (tests/fuzz/fuzz-element.c):
 * whatever the input, the anomaly meta and the dae-anomaly messages carry
 * finite, non-negative scores.  Aborts through g_assert on a violation.
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */

#ifndef DAE_TEST_ELEMENT_CHECKS_H
#define DAE_TEST_ELEMENT_CHECKS_H

#include <math.h>

#include <gst/gst.h>

/* Every value of the GValueArray field of s is finite and >= 0. */
static inline void
dae_check_double_array (const GstStructure * s, const gchar * field)
{
  const GValue *v = gst_structure_get_value (s, field);
  GValueArray *arr;
  guint i;

  g_assert_nonnull (v);
  G_GNUC_BEGIN_IGNORE_DEPRECATIONS;
  arr = g_value_get_boxed (v);
  for (i = 0; i < arr->n_values; i++) {
    gdouble d = g_value_get_double (g_value_array_get_nth (arr, i));

    g_assert_true (isfinite (d));
    g_assert_cmpfloat (d, >=, 0.0);
  }
  G_GNUC_END_IGNORE_DEPRECATIONS;
}

/* The buffer's GstDaeAnomalyMeta, if it has one: a finite score >= 0 and
 * a finite threshold.  With required, the meta must be there. */
static inline void
dae_check_meta (GstBuffer * buf, gboolean required)
{
  GstCustomMeta *meta = gst_buffer_get_custom_meta (buf, "GstDaeAnomalyMeta");
  GstStructure *s;
  gdouble score;
  gdouble threshold;

  if (required)
    g_assert_nonnull (meta);
  if (meta == NULL)
    return;
  s = gst_custom_meta_get_structure (meta);
  g_assert_true (gst_structure_get_double (s, "score", &score));
  g_assert_true (gst_structure_get_double (s, "threshold", &threshold));
  g_assert_true (isfinite (score));
  g_assert_cmpfloat (score, >=, 0.0);
  g_assert_true (isfinite (threshold));
}

/* A dae-anomaly message's structure: finite scores >= 0, a finite
 * threshold, frames > 0, finite per-channel scores and band errors. */
static inline void
dae_check_anomaly_message (const GstStructure * s)
{
  gdouble d;
  gint frames;

  g_assert_true (gst_structure_get_double (s, "score", &d));
  g_assert_true (isfinite (d) && d >= 0.0);
  g_assert_true (gst_structure_get_double (s, "max-score", &d));
  g_assert_true (isfinite (d) && d >= 0.0);
  g_assert_true (gst_structure_get_double (s, "threshold", &d));
  g_assert_true (isfinite (d));
  g_assert_true (gst_structure_get_int (s, "frames", &frames));
  g_assert_cmpint (frames, >, 0);
  dae_check_double_array (s, "scores");
  dae_check_double_array (s, "band-errors");
}

#endif /* DAE_TEST_ELEMENT_CHECKS_H */
