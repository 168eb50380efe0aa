/* libdae — status strings, version, error and allocation helpers
 * Copyright (C) 2026 The dae authors
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */

#include <stdarg.h>
#include <stdatomic.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "dae-private.h"

#ifndef DAE_VERSION
#define DAE_VERSION "0.0.0"
#endif

const char *
dae_status_to_string (DaeStatus status)
{
  switch (status) {
    case DAE_OK:
      return "success";
    case DAE_ERROR_INVALID_ARGUMENT:
      return "invalid argument";
    case DAE_ERROR_NO_MEMORY:
      return "out of memory";
    case DAE_ERROR_IO:
      return "input/output error";
    case DAE_ERROR_BAD_FORMAT:
      return "bad model file format";
    case DAE_ERROR_UNSUPPORTED_VERSION:
      return "unsupported model file version";
    case DAE_ERROR_INCOMPATIBLE:
      return "incompatible model";
    case DAE_ERROR_INTERNAL:
      return "internal error";
  }
  return "unknown status";
}

const char *
dae_version_string (void)
{
  return DAE_VERSION;
}

DaeStatus
dae_set_error (DaeError * error, DaeStatus status, const char *format, ...)
{
  va_list args;

  if (error == NULL)
    return status;

  error->status = status;
  va_start (args, format);
  vsnprintf (error->message, sizeof (error->message), format, args);
  va_end (args);

  return status;
}

/* Test hook: allocations fail once this many more have been made; SIZE_MAX
 * (the default) means never.  Only the tests set it; it is the one piece of
 * global state besides the FFTW planner lock, atomic so that concurrent
 * constructors stay race-free. */
static atomic_size_t allocations_left = SIZE_MAX;

void
dae_debug_fail_allocations_after (size_t n)
{
  allocations_left = n;
}

/* Test hook: what the library asked for since the last reset, so tests can
 * check that no input makes it allocate more than that input accounts for.
 * Atomic like the failure hook; relaxed order, the counts are statistics. */
static atomic_size_t allocation_max;
static atomic_size_t allocation_total;
static atomic_size_t allocation_count;

void
dae_debug_reset_allocation_stats (void)
{
  atomic_store_explicit (&allocation_max, 0, memory_order_relaxed);
  atomic_store_explicit (&allocation_total, 0, memory_order_relaxed);
  atomic_store_explicit (&allocation_count, 0, memory_order_relaxed);
}

void
dae_debug_get_allocation_stats (DaeAllocationStats * stats)
{
  stats->max_size = atomic_load_explicit (&allocation_max,
      memory_order_relaxed);
  stats->total_size = atomic_load_explicit (&allocation_total,
      memory_order_relaxed);
  stats->count = atomic_load_explicit (&allocation_count, memory_order_relaxed);
}

/* size: the requested size; SIZE_MAX if n * size overflowed */
static void
record_allocation (size_t size)
{
  size_t max = atomic_load_explicit (&allocation_max, memory_order_relaxed);
  size_t total;

  while (size > max && !atomic_compare_exchange_weak_explicit (&allocation_max,
          &max, size, memory_order_relaxed, memory_order_relaxed));
  total = atomic_load_explicit (&allocation_total, memory_order_relaxed);
  while (!atomic_compare_exchange_weak_explicit (&allocation_total, &total,
          total > SIZE_MAX - size ? SIZE_MAX : total + size,
          memory_order_relaxed, memory_order_relaxed));
  atomic_fetch_add_explicit (&allocation_count, 1, memory_order_relaxed);
}

static int
allocation_allowed (size_t size)
{
  size_t left = atomic_load_explicit (&allocations_left, memory_order_relaxed);

  record_allocation (size);
  if (left == SIZE_MAX)
    return 1;
  if (left == 0)
    return 0;
  atomic_store_explicit (&allocations_left, left - 1, memory_order_relaxed);
  return 1;
}

void *
dae_malloc (size_t size)
{
  if (!allocation_allowed (size))
    return NULL;
  return malloc (size > 0 ? size : 1);
}

void *
dae_calloc (size_t n, size_t size)
{
  if (!allocation_allowed (size != 0 && n > SIZE_MAX / size ? SIZE_MAX :
          n * size))
    return NULL;
  if (n == 0 || size == 0)
    return calloc (1, 1);
  return calloc (n, size);
}

void
dae_free (void *ptr)
{
  free (ptr);
}
