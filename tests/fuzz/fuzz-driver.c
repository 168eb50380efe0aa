/* Replays fuzz inputs without libFuzzer: one GTest case per file
 * Copyright (C) 2026 The dae authors
 * SPDX-License-Identifier: LGPL-2.1-or-later
 *
 * Usage: fuzz-<target> [--tap] DIR_OR_FILE...
 *
 * Used in normal (non-fuzzing) builds so that the seed corpus and every
 * crash ever found (tests/fuzz/regressions/<target>/) run as ordinary
 * tests, under valgrind and the sanitizers too.  Missing directories are
 * skipped (git keeps no empty directories).
 */

#include <string.h>

#include <glib.h>

#include "fuzz.h"

#ifndef FUZZ_TARGET
#error "FUZZ_TARGET must name the target"
#endif

static GPtrArray *paths;

static void
run_file (gconstpointer user_data)
{
  const gchar *path = user_data;
  gchar *contents = NULL;
  gsize size = 0;
  GError *error = NULL;

  g_assert_true (g_file_get_contents (path, &contents, &size, &error));
  g_assert_no_error (error);
  g_assert_cmpint (LLVMFuzzerTestOneInput ((const uint8_t *) contents, size),
      ==, 0);
  g_free (contents);
}

static gint
compare_names (gconstpointer a, gconstpointer b)
{
  return strcmp (*(const gchar * const *) a, *(const gchar * const *) b);
}

static void
add_file (const gchar * group, const gchar * path)
{
  gchar *base = g_path_get_basename (path);
  gchar *name = g_strdup_printf ("/fuzz/%s/%s/%s", FUZZ_TARGET, group, base);
  gchar *copy = g_strdup (path);

  g_ptr_array_add (paths, copy);
  g_test_add_data_func (name, copy, run_file);
  g_free (name);
  g_free (base);
}

static void
add_path (const gchar * path)
{
  GDir *dir;
  GPtrArray *names;
  const gchar *entry;
  gchar *parent;
  gchar *group;
  guint i;

  if (g_file_test (path, G_FILE_TEST_IS_REGULAR)) {
    add_file ("file", path);
    return;
  }
  dir = g_dir_open (path, 0, NULL);
  if (dir == NULL)
    return;
  /* corpus/<target> or regressions/<target>: the group is the parent */
  parent = g_path_get_dirname (path);
  group = g_path_get_basename (parent);
  g_free (parent);
  names = g_ptr_array_new_with_free_func (g_free);
  while ((entry = g_dir_read_name (dir)) != NULL) {
    if (entry[0] == '.' || g_str_has_suffix (entry, ".md"))
      continue;
    g_ptr_array_add (names, g_strdup (entry));
  }
  g_dir_close (dir);
  g_ptr_array_sort (names, compare_names);
  for (i = 0; i < names->len; i++) {
    gchar *file = g_build_filename (path, g_ptr_array_index (names, i), NULL);

    if (g_file_test (file, G_FILE_TEST_IS_REGULAR))
      add_file (group, file);
    g_free (file);
  }
  g_ptr_array_unref (names);
  g_free (group);
}

int
main (int argc, char **argv)
{
  int ret;
  int i;

  LLVMFuzzerInitialize (&argc, &argv);
  g_test_init (&argc, &argv, NULL);
  paths = g_ptr_array_new_with_free_func (g_free);
  for (i = 1; i < argc; i++)
    add_path (argv[i]);
  ret = g_test_run ();
  g_ptr_array_unref (paths);
  fuzz_cleanup ();
  return ret;
}
