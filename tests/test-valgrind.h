/* dae
 *
 * test-valgrind.h: tests too slow to run under valgrind.
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */

#ifndef DAE_TEST_VALGRIND_H
#define DAE_TEST_VALGRIND_H

#include <glib.h>

/* The valgrind test setup (meson.build) sets DAE_TEST_UNDER_VALGRIND.  The
 * few tests that train for many epochs or stream minutes of audio would
 * take several minutes each there; they are registered with the macros
 * below, which make them skip under valgrind (the skip is counted and
 * reported).  They run in the normal, ASan + UBSan and, where they are
 * threaded, TSan passes. */
static inline gboolean
dae_test_under_valgrind (void)
{
  return g_getenv ("DAE_TEST_UNDER_VALGRIND") != NULL;
}

static inline void
dae_test_skipped_under_valgrind (void)
{
  g_test_skip ("too slow under valgrind; runs in the normal and sanitizer "
      "passes");
}

static inline void
dae_test_skipped_under_valgrind_data (gconstpointer data)
{
  (void) data;
  dae_test_skipped_under_valgrind ();
}

/* Seconds of audio for a streaming test: @seconds, or under valgrind a
 * quarter of it (at least 0.25 s and at least @min_seconds, e.g. one
 * buffer of the size the test is about). */
static inline gdouble
dae_test_valgrind_seconds (gdouble seconds, gdouble min_seconds)
{
  if (!dae_test_under_valgrind ())
    return seconds;
  return MAX (MAX (seconds / 4.0, 0.25), MIN (min_seconds, seconds));
}

#define DAE_TEST_ADD_SLOW_FUNC(path, func)                              \
  g_test_add_func ((path), dae_test_under_valgrind () ?                 \
      dae_test_skipped_under_valgrind : (func))
#define DAE_TEST_ADD_SLOW_DATA_FUNC(path, data, func)                   \
  g_test_add_data_func ((path), (data), dae_test_under_valgrind () ?    \
      dae_test_skipped_under_valgrind_data : (func))

#endif /* DAE_TEST_VALGRIND_H */
