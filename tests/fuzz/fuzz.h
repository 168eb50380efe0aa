/* Fuzz targets: shared declarations
 * Copyright (C) 2026 The dae authors
 * SPDX-License-Identifier: LGPL-2.1-or-later
 *
 * Each fuzz-*.c file defines the libFuzzer entry points below.  Built with
 * -Dfuzzing=enabled (clang) they link libFuzzer's main(); otherwise they
 * link fuzz-driver.c, a GTest program that replays the seed corpus and the
 * regression inputs as ordinary test cases.
 */

#ifndef DAE_FUZZ_H
#define DAE_FUZZ_H

#include <stddef.h>
#include <stdint.h>

/* Called once before the first input (libFuzzer calls it if defined). */
int             LLVMFuzzerInitialize          (int *argc,
                                               char ***argv);
/* Runs one input; must not leak, must return 0.  Invariant violations
 * abort (g_assert), which libFuzzer reports as a crash. */
int             LLVMFuzzerTestOneInput        (const uint8_t *data,
                                               size_t size);
/* Releases what LLVMFuzzerInitialize made (the replay driver calls it
 * before exiting so valgrind and LeakSanitizer see no leaks). */
void            fuzz_cleanup                  (void);

/* A cursor over the fuzz input: reads return zeros once it is used up, so
 * every input is a valid program. */
typedef struct
{
  const uint8_t *data;
  size_t size;
  size_t pos;
} FuzzInput;

static inline void
fuzz_input_init (FuzzInput *in, const uint8_t *data, size_t size)
{
  in->data = data;
  in->size = size;
  in->pos = 0;
}

static inline size_t
fuzz_input_left (const FuzzInput *in)
{
  return in->size - in->pos;
}

static inline uint8_t
fuzz_u8 (FuzzInput *in)
{
  return in->pos < in->size ? in->data[in->pos++] : 0;
}

static inline uint16_t
fuzz_u16 (FuzzInput *in)
{
  uint16_t lo = fuzz_u8 (in);

  return (uint16_t) (lo | (fuzz_u8 (in) << 8));
}

static inline uint32_t
fuzz_u32 (FuzzInput *in)
{
  uint32_t lo = fuzz_u16 (in);

  return lo | ((uint32_t) fuzz_u16 (in) << 16);
}

static inline uint64_t
fuzz_u64 (FuzzInput *in)
{
  uint64_t lo = fuzz_u32 (in);

  return lo | ((uint64_t) fuzz_u32 (in) << 32);
}

/* Copies up to n bytes into dest and zero-fills the rest; returns how
 * many came from the input. */
static inline size_t
fuzz_bytes (FuzzInput *in, void *dest, size_t n)
{
  size_t take = fuzz_input_left (in) < n ? fuzz_input_left (in) : n;
  size_t i;

  for (i = 0; i < take; i++)
    ((uint8_t *) dest)[i] = in->data[in->pos + i];
  for (; i < n; i++)
    ((uint8_t *) dest)[i] = 0;
  in->pos += take;
  return take;
}

#endif /* DAE_FUZZ_H */
