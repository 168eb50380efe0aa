/* Fuzz target: the model reader (dae_model_load_memory) on arbitrary bytes
 * Copyright (C) 2026 The dae authors
 * SPDX-License-Identifier: LGPL-2.1-or-later
 *
 * Each input is tried twice: as it is, and with the header's file size and
 * CRC-32 fixed up, so that mutations get past the checksum and reach the
 * record table and the tensor checks.  Checked for every input:
 *
 * - the reader never allocates more than the input accounts for (the
 *   largest request at most the input size, all requests together at most
 *   the input size plus the fixed size of the model object);
 * - a model that loads runs through a processor for a few hops with finite
 *   output and scores;
 * - it saves, and the saved bytes load again and save to the same bytes.
 */

#include <math.h>
#include <string.h>

#include <glib.h>

#include "dae-private.h"
#include "model-format.h"
#include "fuzz.h"

/* Fixed allocations besides the tensor storage: the DaeModel object (its
 * info text buffer included). */
#define MODEL_OVERHEAD ((size_t) sizeof (DaeModel) + 1024)
#define MAX_HOPS 8

int
LLVMFuzzerInitialize (int *argc, char ***argv)
{
  return 0;
}

void
fuzz_cleanup (void)
{
}

static void
check_processor (DaeModel * model)
{
  size_t hop = dae_model_get_hop_samples (model);
  float *in = g_new (float, hop);
  float *out = g_new (float, hop);
  DaeProcessor *proc = NULL;
  guint32 state = 1;
  size_t i;
  int k;

  g_assert_cmpint (dae_processor_new (model, &proc), ==, DAE_OK);
  for (k = 0; k < MAX_HOPS; k++) {
    DaeFrameResult result;

    for (i = 0; i < hop; i++) {
      state = state * 1664525u + 1013904223u;
      in[i] = (float) ((double) state / 4294967296.0 - 0.5);
    }
    g_assert_cmpint (dae_processor_process (proc, in, out, &result), ==,
        DAE_OK);
    g_assert_true (isfinite (result.score) && result.score >= 0.0f);
    g_assert_true (isfinite (result.gain_db));
    for (i = 0; i < hop; i++)
      g_assert_true (isfinite (out[i]));
  }
  dae_processor_free (proc);
  g_free (in);
  g_free (out);
}

static void
check_roundtrip (const DaeModel * model)
{
  void *bytes = NULL;
  void *again = NULL;
  size_t size = 0;
  size_t again_size = 0;
  DaeModel *reloaded = NULL;
  DaeError error;

  g_assert_cmpint (dae_model_save_memory (model, &bytes, &size, &error), ==,
      DAE_OK);
  g_assert_cmpint (dae_model_load_memory (bytes, size, &reloaded, &error), ==,
      DAE_OK);
  g_assert_cmpint (dae_model_save_memory (reloaded, &again, &again_size,
          &error), ==, DAE_OK);
  g_assert_cmpuint (size, ==, again_size);
  g_assert_true (memcmp (bytes, again, size) == 0);
  dae_model_unref (reloaded);
  dae_free (bytes);
  dae_free (again);
}

static void
try_load (const uint8_t * data, size_t size)
{
  DaeModel *model = NULL;
  DaeError error;
  DaeAllocationStats stats;
  DaeStatus status;

  memset (&error, 0, sizeof (error));
  dae_debug_reset_allocation_stats ();
  status = dae_model_load_memory (data, size, &model, &error);
  dae_debug_get_allocation_stats (&stats);

  g_assert_cmpuint (stats.max_size, <=, MAX (size, MODEL_OVERHEAD));
  g_assert_cmpuint (stats.total_size, <=, size + MODEL_OVERHEAD);
  if (status != DAE_OK) {
    g_assert_null (model);
    g_assert_cmpint (error.status, ==, status);
    g_assert_nonnull (memchr (error.message, '\0', sizeof (error.message)));
    g_assert_cmpuint (strlen (error.message), >, 0);
    return;
  }
  g_assert_nonnull (model);
  check_processor (model);
  check_roundtrip (model);
  dae_model_unref (model);
}

static void
put_le (uint8_t * p, uint64_t value, size_t n)
{
  size_t i;

  for (i = 0; i < n; i++)
    p[i] = (uint8_t) (value >> (8 * i));
}

int
LLVMFuzzerTestOneInput (const uint8_t * data, size_t size)
{
  static const uint8_t zero[4] = { 0, 0, 0, 0 };
  uint8_t *fixed;
  uint32_t crc;

  try_load (data, size);

  /* the same with a consistent size field and checksum */
  if (size < DAE_FORMAT_HEADER_SIZE || size > DAE_MODEL_MAX_FILE_SIZE)
    return 0;
  fixed = g_memdup2 (data, size);
  put_le (fixed + DAE_FORMAT_OFF_FILE_SIZE, size, 8);
  crc = dae_crc32 (0, fixed, DAE_FORMAT_OFF_CRC);
  crc = dae_crc32 (crc, zero, sizeof (zero));
  crc = dae_crc32 (crc, fixed + DAE_FORMAT_OFF_CRC + 4,
      size - DAE_FORMAT_OFF_CRC - 4);
  put_le (fixed + DAE_FORMAT_OFF_CRC, crc, 4);
  try_load (fixed, size);
  g_free (fixed);
  return 0;
}
