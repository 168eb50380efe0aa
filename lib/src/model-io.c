/* libdae — model file reader and writer (format in model-format.h)
 * Copyright (C) 2026 The dae authors
 * SPDX-License-Identifier: LGPL-2.1-or-later
 *
 * Model files are untrusted input: every length is checked against the file
 * size before it is used (without overflowing), every record the
 * architecture needs must be present with exactly the shape it implies, and
 * nothing is allocated beyond what the validated file size accounts for.
 * This is the only file that converts byte order; it reads and writes bytes
 * one by one, so any host endianness and any input alignment work.
 */

#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/types.h>
#include <unistd.h>

#include "dae-private.h"
#include "model-format.h"

_Static_assert (sizeof (float) == 4, "float must be IEEE-754 binary32");

/* ------------------------------------------------------------------------ */
/* CRC-32                                                                    */

/* reflected polynomial 0xedb88320 */
static const uint32_t crc_table[256] = {
  0x00000000u, 0x77073096u, 0xee0e612cu, 0x990951bau,
  0x076dc419u, 0x706af48fu, 0xe963a535u, 0x9e6495a3u,
  0x0edb8832u, 0x79dcb8a4u, 0xe0d5e91eu, 0x97d2d988u,
  0x09b64c2bu, 0x7eb17cbdu, 0xe7b82d07u, 0x90bf1d91u,
  0x1db71064u, 0x6ab020f2u, 0xf3b97148u, 0x84be41deu,
  0x1adad47du, 0x6ddde4ebu, 0xf4d4b551u, 0x83d385c7u,
  0x136c9856u, 0x646ba8c0u, 0xfd62f97au, 0x8a65c9ecu,
  0x14015c4fu, 0x63066cd9u, 0xfa0f3d63u, 0x8d080df5u,
  0x3b6e20c8u, 0x4c69105eu, 0xd56041e4u, 0xa2677172u,
  0x3c03e4d1u, 0x4b04d447u, 0xd20d85fdu, 0xa50ab56bu,
  0x35b5a8fau, 0x42b2986cu, 0xdbbbc9d6u, 0xacbcf940u,
  0x32d86ce3u, 0x45df5c75u, 0xdcd60dcfu, 0xabd13d59u,
  0x26d930acu, 0x51de003au, 0xc8d75180u, 0xbfd06116u,
  0x21b4f4b5u, 0x56b3c423u, 0xcfba9599u, 0xb8bda50fu,
  0x2802b89eu, 0x5f058808u, 0xc60cd9b2u, 0xb10be924u,
  0x2f6f7c87u, 0x58684c11u, 0xc1611dabu, 0xb6662d3du,
  0x76dc4190u, 0x01db7106u, 0x98d220bcu, 0xefd5102au,
  0x71b18589u, 0x06b6b51fu, 0x9fbfe4a5u, 0xe8b8d433u,
  0x7807c9a2u, 0x0f00f934u, 0x9609a88eu, 0xe10e9818u,
  0x7f6a0dbbu, 0x086d3d2du, 0x91646c97u, 0xe6635c01u,
  0x6b6b51f4u, 0x1c6c6162u, 0x856530d8u, 0xf262004eu,
  0x6c0695edu, 0x1b01a57bu, 0x8208f4c1u, 0xf50fc457u,
  0x65b0d9c6u, 0x12b7e950u, 0x8bbeb8eau, 0xfcb9887cu,
  0x62dd1ddfu, 0x15da2d49u, 0x8cd37cf3u, 0xfbd44c65u,
  0x4db26158u, 0x3ab551ceu, 0xa3bc0074u, 0xd4bb30e2u,
  0x4adfa541u, 0x3dd895d7u, 0xa4d1c46du, 0xd3d6f4fbu,
  0x4369e96au, 0x346ed9fcu, 0xad678846u, 0xda60b8d0u,
  0x44042d73u, 0x33031de5u, 0xaa0a4c5fu, 0xdd0d7cc9u,
  0x5005713cu, 0x270241aau, 0xbe0b1010u, 0xc90c2086u,
  0x5768b525u, 0x206f85b3u, 0xb966d409u, 0xce61e49fu,
  0x5edef90eu, 0x29d9c998u, 0xb0d09822u, 0xc7d7a8b4u,
  0x59b33d17u, 0x2eb40d81u, 0xb7bd5c3bu, 0xc0ba6cadu,
  0xedb88320u, 0x9abfb3b6u, 0x03b6e20cu, 0x74b1d29au,
  0xead54739u, 0x9dd277afu, 0x04db2615u, 0x73dc1683u,
  0xe3630b12u, 0x94643b84u, 0x0d6d6a3eu, 0x7a6a5aa8u,
  0xe40ecf0bu, 0x9309ff9du, 0x0a00ae27u, 0x7d079eb1u,
  0xf00f9344u, 0x8708a3d2u, 0x1e01f268u, 0x6906c2feu,
  0xf762575du, 0x806567cbu, 0x196c3671u, 0x6e6b06e7u,
  0xfed41b76u, 0x89d32be0u, 0x10da7a5au, 0x67dd4accu,
  0xf9b9df6fu, 0x8ebeeff9u, 0x17b7be43u, 0x60b08ed5u,
  0xd6d6a3e8u, 0xa1d1937eu, 0x38d8c2c4u, 0x4fdff252u,
  0xd1bb67f1u, 0xa6bc5767u, 0x3fb506ddu, 0x48b2364bu,
  0xd80d2bdau, 0xaf0a1b4cu, 0x36034af6u, 0x41047a60u,
  0xdf60efc3u, 0xa867df55u, 0x316e8eefu, 0x4669be79u,
  0xcb61b38cu, 0xbc66831au, 0x256fd2a0u, 0x5268e236u,
  0xcc0c7795u, 0xbb0b4703u, 0x220216b9u, 0x5505262fu,
  0xc5ba3bbeu, 0xb2bd0b28u, 0x2bb45a92u, 0x5cb36a04u,
  0xc2d7ffa7u, 0xb5d0cf31u, 0x2cd99e8bu, 0x5bdeae1du,
  0x9b64c2b0u, 0xec63f226u, 0x756aa39cu, 0x026d930au,
  0x9c0906a9u, 0xeb0e363fu, 0x72076785u, 0x05005713u,
  0x95bf4a82u, 0xe2b87a14u, 0x7bb12baeu, 0x0cb61b38u,
  0x92d28e9bu, 0xe5d5be0du, 0x7cdcefb7u, 0x0bdbdf21u,
  0x86d3d2d4u, 0xf1d4e242u, 0x68ddb3f8u, 0x1fda836eu,
  0x81be16cdu, 0xf6b9265bu, 0x6fb077e1u, 0x18b74777u,
  0x88085ae6u, 0xff0f6a70u, 0x66063bcau, 0x11010b5cu,
  0x8f659effu, 0xf862ae69u, 0x616bffd3u, 0x166ccf45u,
  0xa00ae278u, 0xd70dd2eeu, 0x4e048354u, 0x3903b3c2u,
  0xa7672661u, 0xd06016f7u, 0x4969474du, 0x3e6e77dbu,
  0xaed16a4au, 0xd9d65adcu, 0x40df0b66u, 0x37d83bf0u,
  0xa9bcae53u, 0xdebb9ec5u, 0x47b2cf7fu, 0x30b5ffe9u,
  0xbdbdf21cu, 0xcabac28au, 0x53b39330u, 0x24b4a3a6u,
  0xbad03605u, 0xcdd70693u, 0x54de5729u, 0x23d967bfu,
  0xb3667a2eu, 0xc4614ab8u, 0x5d681b02u, 0x2a6f2b94u,
  0xb40bbe37u, 0xc30c8ea1u, 0x5a05df1bu, 0x2d02ef8du
};

uint32_t
dae_crc32 (uint32_t crc, const void *data, size_t size)
{
  const unsigned char *p = data;
  size_t i;

  crc = ~crc;
  for (i = 0; i < size; i++)
    crc = crc_table[(crc ^ p[i]) & 0xff] ^ (crc >> 8);
  return ~crc;
}

/* CRC of a whole file (size >= header size) with its CRC field as zero */
static uint32_t
file_crc (const unsigned char *data, size_t size)
{
  static const unsigned char zero[4] = { 0, 0, 0, 0 };
  uint32_t crc;

  crc = dae_crc32 (0, data, DAE_FORMAT_OFF_CRC);
  crc = dae_crc32 (crc, zero, sizeof (zero));
  return dae_crc32 (crc, data + DAE_FORMAT_OFF_CRC + 4,
      size - DAE_FORMAT_OFF_CRC - 4);
}

/* ------------------------------------------------------------------------ */
/* Little-endian conversion                                                  */

static uint16_t
get_u16 (const unsigned char *p)
{
  return (uint16_t) (p[0] | (p[1] << 8));
}

static uint32_t
get_u32 (const unsigned char *p)
{
  return (uint32_t) p[0] | ((uint32_t) p[1] << 8) | ((uint32_t) p[2] << 16)
      | ((uint32_t) p[3] << 24);
}

static uint64_t
get_u64 (const unsigned char *p)
{
  return (uint64_t) get_u32 (p) | ((uint64_t) get_u32 (p + 4) << 32);
}

static float
get_f32 (const unsigned char *p)
{
  uint32_t u = get_u32 (p);
  float f;

  memcpy (&f, &u, sizeof (f));
  return f;
}

static void
put_u16 (unsigned char *p, uint16_t v)
{
  p[0] = (unsigned char) (v & 0xff);
  p[1] = (unsigned char) (v >> 8);
}

static void
put_u32 (unsigned char *p, uint32_t v)
{
  p[0] = (unsigned char) (v & 0xff);
  p[1] = (unsigned char) ((v >> 8) & 0xff);
  p[2] = (unsigned char) ((v >> 16) & 0xff);
  p[3] = (unsigned char) (v >> 24);
}

static void
put_u64 (unsigned char *p, uint64_t v)
{
  put_u32 (p, (uint32_t) (v & 0xffffffffu));
  put_u32 (p + 4, (uint32_t) (v >> 32));
}

static void
put_f32 (unsigned char *p, float f)
{
  uint32_t u;

  memcpy (&u, &f, sizeof (u));
  put_u32 (p, u);
}

uint16_t
dae_half_from_float (float value)
{
  uint32_t u;
  uint32_t a;
  uint32_t sign;
  uint32_t h;
  uint32_t rem;
  uint32_t half;

  memcpy (&u, &value, sizeof (u));
  sign = (u >> 16) & 0x8000u;
  a = u & 0x7fffffffu;
  if (a > 0x7f800000u)
    return (uint16_t) (sign | 0x7e00u); /* NaN */
  if (a >= 0x477ff000u)
    return (uint16_t) (sign | 0x7c00u); /* 65520 and up: infinity */
  if (a >= 0x38800000u) {
    /* normal: rebias the exponent, keep 10 of 23 mantissa bits; a carry
     * out of the mantissa correctly bumps the exponent */
    h = ((a >> 23) - 112u) << 10 | (a & 0x7fffffu) >> 13;
    rem = a & 0x1fffu;
    if (rem > 0x1000u || (rem == 0x1000u && (h & 1u)))
      h++;
    return (uint16_t) (sign | h);
  } else {
    /* below 2^-14: a multiple of 2^-24 (a subnormal half, or zero); the
     * value is m 2^(e - 150) with the implicit bit in m, so the count of
     * 2^-24 units is m >> (126 - e), rounded */
    uint32_t e = a >> 23;
    uint32_t m = (a & 0x7fffffu) | 0x800000u;
    uint32_t shift = 126u - e;

    if (e == 0 || shift > 24u)
      return (uint16_t) sign;   /* below a quarter unit: zero */
    h = m >> shift;
    rem = m & ((1u << shift) - 1u);
    half = 1u << (shift - 1u);
    if (rem > half || (rem == half && (h & 1u)))
      h++;
    return (uint16_t) (sign | h);
  }
}

float
dae_half_to_float (uint16_t half)
{
  uint32_t sign = (uint32_t) (half & 0x8000u) << 16;
  uint32_t e = (half >> 10) & 0x1fu;
  uint32_t m = half & 0x3ffu;
  uint32_t u;
  float f;

  if (e == 0) {
    f = 0x1p-24f * (float) m;   /* zero or subnormal, exact */
    return sign ? -f : f;
  }
  if (e == 31)
    u = sign | 0x7f800000u | m << 13;
  else
    u = sign | (e + 112u) << 23 | m << 13;
  memcpy (&f, &u, sizeof (f));
  return f;
}

/* ------------------------------------------------------------------------ */
/* Records                                                                   */

/* A record the reader looks for, or the writer writes. */
typedef struct
{
  const char *name;
  uint32_t dtype;
  uint32_t ndim;
  uint32_t shape[2];            /* shape[1] = 0 when ndim is 1 */
  int required;
  /* reader: index + 1 of the matching record, 0 if absent */
  size_t found;
  uint64_t byte_size;
  uint64_t offset;
  /* writer: where the payload comes from */
  const float *floats;
  const char *text;
} RecordSpec;

#define MAX_SPECS (5 + DAE_MAX_TENSORS)

static void
set_spec (RecordSpec * spec, const char *name, uint32_t dtype, uint32_t ndim,
    size_t shape0, size_t shape1, int required)
{
  memset (spec, 0, sizeof (*spec));
  spec->name = name;
  spec->dtype = dtype;
  spec->ndim = ndim;
  /* bounded by the validated config, so they fit */
  spec->shape[0] = (uint32_t) shape0;
  spec->shape[1] = (uint32_t) shape1;
  spec->required = required;
}

/* The records of a model with this (validated) config, in file order;
 * tensors[] receives the tensor shapes (same order from index 4 on).  The
 * band error scale comes last, at index 4 + n_tensors; it is required with
 * @with_scale and is not counted in the return value without it (it is
 * written only with the flag, and a reader finding it without the flag
 * refuses the file). */
static size_t
record_specs (const DaeModelConfig * config, int with_scale,
    RecordSpec * specs, DaeTensor * tensors)
{
  size_t n_tensors = dae_model_config_tensor_shapes (config, tensors);
  size_t i;

  set_spec (&specs[0], DAE_FORMAT_NAME_BAND_CENTERS, DAE_FORMAT_DTYPE_F32, 1,
      config->n_bands, 0, 1);
  set_spec (&specs[1], DAE_FORMAT_NAME_NORM_MEAN, DAE_FORMAT_DTYPE_F32, 1,
      dae_model_config_n_features (config), 0, 1);
  set_spec (&specs[2], DAE_FORMAT_NAME_NORM_STD, DAE_FORMAT_DTYPE_F32, 1,
      dae_model_config_n_features (config), 0, 1);
  /* shape[0] of info is its length, filled in by reader / writer */
  set_spec (&specs[3], DAE_FORMAT_NAME_INFO, DAE_FORMAT_DTYPE_UTF8, 1, 0, 0, 0);
  for (i = 0; i < n_tensors; i++)
    set_spec (&specs[4 + i], tensors[i].name, DAE_FORMAT_DTYPE_F32, 2,
        tensors[i].rows, tensors[i].cols, 1);
  set_spec (&specs[4 + n_tensors], DAE_FORMAT_NAME_ERROR_SCALE,
      DAE_FORMAT_DTYPE_F32, 1, config->n_bands, 0, with_scale);

  return 4 + n_tensors + (with_scale ? 1 : 0);
}

static void
format_shape (char *buf, size_t size, uint32_t ndim, uint32_t s0, uint32_t s1)
{
  if (ndim == 1)
    snprintf (buf, size, "%" PRIu32, s0);
  else
    snprintf (buf, size, "%" PRIu32 "x%" PRIu32, s0, s1);
}

/* ------------------------------------------------------------------------ */
/* Reader                                                                    */

static DaeStatus
bad_format_config (const DaeModelConfig * config, DaeError * error)
{
  DaeError inner;

  if (dae_model_config_validate (config, &inner) == DAE_OK)
    return DAE_OK;
  return dae_set_error (error, DAE_ERROR_BAD_FORMAT,
      "invalid architecture in header: %s", inner.message);
}

/* Checks one record header; on success fills *byte_size and *offset and
 * advances *prev_end past the payload. */
static DaeStatus
check_record (size_t size, size_t index,
    const unsigned char *rec, uint64_t * prev_end, DaeError * error)
{
  char name[DAE_FORMAT_NAME_SIZE];
  uint32_t dtype = get_u32 (rec + DAE_FORMAT_REC_DTYPE);
  uint32_t ndim = get_u32 (rec + DAE_FORMAT_REC_NDIM);
  uint32_t shape0 = get_u32 (rec + DAE_FORMAT_REC_SHAPE0);
  uint32_t shape1 = get_u32 (rec + DAE_FORMAT_REC_SHAPE1);
  uint64_t byte_size = get_u64 (rec + DAE_FORMAT_REC_BYTE_SIZE);
  uint64_t offset = get_u64 (rec + DAE_FORMAT_REC_OFFSET);
  uint64_t n_elems;
  uint64_t elem_size;

  if (memchr (rec, '\0', DAE_FORMAT_NAME_SIZE) == NULL)
    return dae_set_error (error, DAE_ERROR_BAD_FORMAT,
        "record %zu: name is not NUL-terminated", index);
  if (rec[0] == '\0')
    return dae_set_error (error, DAE_ERROR_BAD_FORMAT,
        "record %zu: empty name", index);
  memcpy (name, rec, sizeof (name));

  if (dtype == DAE_FORMAT_DTYPE_F32)
    elem_size = 4;
  else if (dtype == DAE_FORMAT_DTYPE_F16)
    elem_size = 2;
  else if (dtype == DAE_FORMAT_DTYPE_UTF8)
    elem_size = 1;
  else
    return dae_set_error (error, DAE_ERROR_BAD_FORMAT,
        "record '%s': unknown dtype %" PRIu32, name, dtype);

  if (ndim == 1 && shape1 == 0)
    n_elems = shape0;
  else if (ndim == 2)
    n_elems = shape0 * (uint64_t) shape1;       /* < 2^64 */
  else
    return dae_set_error (error, DAE_ERROR_BAD_FORMAT,
        "record '%s': bad dimensions (ndim %" PRIu32 ", shape %" PRIu32
        "x%" PRIu32 ")", name, ndim, shape0, shape1);

  if (n_elems > UINT64_MAX / elem_size || n_elems * elem_size != byte_size)
    return dae_set_error (error, DAE_ERROR_BAD_FORMAT,
        "record '%s': %" PRIu64 " bytes, its shape implies %" PRIu64
        " elements of %" PRIu64 " bytes", name, byte_size, n_elems, elem_size);

  if (offset % DAE_FORMAT_ALIGN != 0)
    return dae_set_error (error, DAE_ERROR_BAD_FORMAT,
        "record '%s': payload offset %" PRIu64 " is not %d-byte aligned",
        name, offset, DAE_FORMAT_ALIGN);
  if (offset > size || byte_size > size - offset)
    return dae_set_error (error, DAE_ERROR_BAD_FORMAT,
        "record '%s': payload of %" PRIu64 " bytes at offset %" PRIu64
        " runs past the end of the file (%zu bytes)", name, byte_size,
        offset, size);
  if (offset < *prev_end)
    return dae_set_error (error, DAE_ERROR_BAD_FORMAT,
        "record '%s': payload at offset %" PRIu64 " overlaps earlier data "
        "(which ends at %" PRIu64 ")", name, offset, *prev_end);

  *prev_end = offset + byte_size;
  return DAE_OK;
}

static void
read_floats (const unsigned char *src, size_t n, float *dest)
{
  size_t i;

  for (i = 0; i < n; i++)
    dest[i] = get_f32 (src + 4 * i);
}

static void
read_halfs (const unsigned char *src, size_t n, float *dest)
{
  size_t i;

  for (i = 0; i < n; i++)
    dest[i] = dae_half_to_float (get_u16 (src + 2 * i));
}

DaeStatus
dae_model_load_memory (const void *data, size_t size, DaeModel ** model_out,
    DaeError * error)
{
  const unsigned char *bytes = data;
  unsigned major;
  unsigned minor;
  uint32_t header_size;
  uint64_t file_size;
  uint32_t stored_crc;
  uint32_t computed_crc;
  uint32_t flags;
  uint32_t n_records;
  float threshold;
  DaeModelConfig config;
  RecordSpec specs[MAX_SPECS];
  DaeTensor tensors[DAE_MAX_TENSORS];
  size_t n_specs;
  size_t n_tensors;
  int weights_f16 = 0;
  size_t table_end;
  uint64_t prev_end;
  size_t i;
  size_t j;
  DaeModel *model = NULL;
  DaeStatus status;

  if (model_out == NULL || (data == NULL && size > 0))
    return dae_set_error (error, DAE_ERROR_INVALID_ARGUMENT,
        "model_out or data is NULL");

  /* 1. header framing */
  if (size > DAE_MODEL_MAX_FILE_SIZE)
    return dae_set_error (error, DAE_ERROR_BAD_FORMAT,
        "file too large: %zu bytes, a model file has at most %zu", size,
        DAE_MODEL_MAX_FILE_SIZE);
  if (size < DAE_FORMAT_HEADER_SIZE)
    return dae_set_error (error, DAE_ERROR_BAD_FORMAT,
        "truncated header: file has %zu bytes, a model file has at least %d",
        size, DAE_FORMAT_HEADER_SIZE);
  if (memcmp (bytes + DAE_FORMAT_OFF_MAGIC, DAE_FORMAT_MAGIC,
          DAE_FORMAT_MAGIC_SIZE) != 0)
    return dae_set_error (error, DAE_ERROR_BAD_FORMAT,
        "not a dae model file (bad magic)");

  major = get_u16 (bytes + DAE_FORMAT_OFF_MAJOR);
  minor = get_u16 (bytes + DAE_FORMAT_OFF_MINOR);
  if (major != DAE_FORMAT_VERSION_MAJOR)
    return dae_set_error (error, DAE_ERROR_UNSUPPORTED_VERSION,
        "model format version %u.%u is not supported (this library reads "
        "version %d.x)", major, minor, DAE_FORMAT_VERSION_MAJOR);

  header_size = get_u32 (bytes + DAE_FORMAT_OFF_HEADER_SIZE);
  file_size = get_u64 (bytes + DAE_FORMAT_OFF_FILE_SIZE);
  if (file_size > size)
    return dae_set_error (error, DAE_ERROR_BAD_FORMAT,
        "truncated: file has %zu bytes, header says %" PRIu64, size, file_size);
  if (file_size < size)
    return dae_set_error (error, DAE_ERROR_BAD_FORMAT,
        "size mismatch: file has %zu bytes, header says %" PRIu64, size,
        file_size);
  if (header_size < DAE_FORMAT_HEADER_SIZE || header_size > size
      || header_size % 8 != 0)
    return dae_set_error (error, DAE_ERROR_BAD_FORMAT,
        "bad header size %" PRIu32 " (file has %zu bytes)", header_size, size);

  stored_crc = get_u32 (bytes + DAE_FORMAT_OFF_CRC);
  computed_crc = file_crc (bytes, size);
  if (stored_crc != computed_crc)
    return dae_set_error (error, DAE_ERROR_BAD_FORMAT,
        "checksum mismatch (stored 0x%08" PRIx32 ", computed 0x%08" PRIx32
        ")", stored_crc, computed_crc);

  /* 2. architecture */
  flags = get_u32 (bytes + DAE_FORMAT_OFF_FLAGS);
  memset (&config, 0, sizeof (config));
  config.sample_rate = get_u32 (bytes + DAE_FORMAT_OFF_SAMPLE_RATE);
  config.window_samples = get_u32 (bytes + DAE_FORMAT_OFF_WINDOW);
  config.hop_samples = get_u32 (bytes + DAE_FORMAT_OFF_HOP);
  config.n_bands = get_u32 (bytes + DAE_FORMAT_OFF_N_BANDS);
  config.enc_dense = get_u32 (bytes + DAE_FORMAT_OFF_ENC_DENSE);
  config.enc_gru = get_u32 (bytes + DAE_FORMAT_OFF_ENC_GRU);
  config.bottleneck = get_u32 (bytes + DAE_FORMAT_OFF_BOTTLENECK);
  config.dec_gru = get_u32 (bytes + DAE_FORMAT_OFF_DEC_GRU);
  config.has_vad = (flags & DAE_FORMAT_FLAG_HAS_VAD) ? 1 : 0;
  config.gain_skip = (flags & DAE_FORMAT_FLAG_GAIN_SKIP) ? 1 : 0;
  config.predictive = (flags & DAE_FORMAT_FLAG_PREDICTIVE) ? 1 : 0;
  config.tonality = (flags & DAE_FORMAT_FLAG_TONALITY) ? 1 : 0;
  /* the band range is not in the header: the stored centres define it
   * (set from them in step 5); a valid range for this rate until then */
  config.band_min_hz = 0.0f;
  config.band_max_hz = 0.25f * (float) config.sample_rate;
  if ((status = bad_format_config (&config, error)) != DAE_OK)
    return status;
  if ((flags & ~DAE_FORMAT_FLAGS_KNOWN) != 0)
    return dae_set_error (error, DAE_ERROR_BAD_FORMAT,
        "unknown flags 0x%08" PRIx32 " in header", flags);
  threshold = get_f32 (bytes + DAE_FORMAT_OFF_THRESHOLD);
  if (!isfinite (threshold))
    return dae_set_error (error, DAE_ERROR_BAD_FORMAT,
        "anomaly threshold in header is not finite");

  /* 3. record table: header_size <= size <= 64 MiB and n_records <= 1024,
   * so table_end cannot overflow */
  n_records = get_u32 (bytes + DAE_FORMAT_OFF_N_RECORDS);
  if (n_records > DAE_FORMAT_MAX_RECORDS)
    return dae_set_error (error, DAE_ERROR_BAD_FORMAT,
        "n_records = %" PRIu32 " exceeds the maximum %d", n_records,
        DAE_FORMAT_MAX_RECORDS);
  table_end =
      (size_t) header_size + DAE_FORMAT_RECORD_SIZE * (size_t) n_records;
  if (table_end > size)
    return dae_set_error (error, DAE_ERROR_BAD_FORMAT,
        "truncated record table: %" PRIu32 " records end at byte %zu, "
        "file has %zu bytes", n_records, table_end, size);

  n_specs = record_specs (&config, (flags & DAE_FORMAT_FLAG_ERROR_SCALE) != 0,
      specs, tensors);
  n_tensors = dae_model_config_tensor_shapes (&config, tensors);

  /* Payloads lie after the table, in record order, without overlap; so the
   * records found below together account for at most size bytes. */
  prev_end = table_end;
  for (i = 0; i < n_records; i++) {
    const unsigned char *rec = bytes + header_size + i * DAE_FORMAT_RECORD_SIZE;
    const char *name = (const char *) rec;

    if ((status = check_record (size, i, rec, &prev_end, error)) != DAE_OK)
      return status;

    for (j = 0; j < i; j++) {
      const char *other = (const char *) (bytes + header_size +
          j * DAE_FORMAT_RECORD_SIZE);

      if (strncmp (name, other, DAE_FORMAT_NAME_SIZE) == 0)
        return dae_set_error (error, DAE_ERROR_BAD_FORMAT,
            "duplicate record '%s'", name);
    }

    if (!(flags & DAE_FORMAT_FLAG_ERROR_SCALE)
        && strcmp (name, DAE_FORMAT_NAME_ERROR_SCALE) == 0)
      return dae_set_error (error, DAE_ERROR_BAD_FORMAT,
          "record '%s' without the error-scale flag in the header", name);

    /* unknown names are ignored: later minor versions may add records */
    for (j = 0; j < n_specs; j++) {
      if (strcmp (name, specs[j].name) == 0) {
        specs[j].found = i + 1;
        specs[j].byte_size = get_u64 (rec + DAE_FORMAT_REC_BYTE_SIZE);
        specs[j].offset = get_u64 (rec + DAE_FORMAT_REC_OFFSET);
        break;
      }
    }
  }

  /* 4. every record the architecture needs, with exactly its shape */
  for (j = 0; j < n_specs; j++) {
    RecordSpec *spec = &specs[j];
    const unsigned char *rec;
    uint32_t dtype;
    uint32_t ndim;
    uint32_t shape0;
    uint32_t shape1;

    if (spec->found == 0) {
      if (spec->required)
        return dae_set_error (error, DAE_ERROR_BAD_FORMAT,
            "missing record '%s'", spec->name);
      continue;
    }

    rec = bytes + header_size + (spec->found - 1) * DAE_FORMAT_RECORD_SIZE;
    dtype = get_u32 (rec + DAE_FORMAT_REC_DTYPE);
    ndim = get_u32 (rec + DAE_FORMAT_REC_NDIM);
    shape0 = get_u32 (rec + DAE_FORMAT_REC_SHAPE0);
    shape1 = get_u32 (rec + DAE_FORMAT_REC_SHAPE1);

    /* since 1.3 the tensors may all be halves (and then all are) */
    if (j >= 4 && j < 4 + n_tensors && dtype == DAE_FORMAT_DTYPE_F16
        && spec->dtype == DAE_FORMAT_DTYPE_F32) {
      if (j > 4 && !weights_f16)
        return dae_set_error (error, DAE_ERROR_BAD_FORMAT,
            "record '%s': 16-bit floats, but '%s' has 32-bit ones (all "
            "tensors of a file have the same dtype)", spec->name,
            specs[4].name);
      weights_f16 = 1;
      spec->dtype = dtype;
    } else if (j > 4 && j < 4 + n_tensors && weights_f16) {
      return dae_set_error (error, DAE_ERROR_BAD_FORMAT,
          "record '%s': dtype %" PRIu32 ", but '%s' has 16-bit floats (all "
          "tensors of a file have the same dtype)", spec->name, dtype,
          specs[4].name);
    }
    if (dtype != spec->dtype)
      return dae_set_error (error, DAE_ERROR_BAD_FORMAT,
          "record '%s': dtype %" PRIu32 ", expected %" PRIu32, spec->name,
          dtype, spec->dtype);

    if (spec->dtype == DAE_FORMAT_DTYPE_UTF8) {
      /* info: any length below the limit, no NUL inside */
      if (ndim != 1)
        return dae_set_error (error, DAE_ERROR_BAD_FORMAT,
            "record '%s': %" PRIu32 " dimensions, expected 1", spec->name,
            ndim);
      if (shape0 > DAE_MODEL_INFO_MAX - 1)
        return dae_set_error (error, DAE_ERROR_BAD_FORMAT,
            "record '%s': %" PRIu32 " bytes, at most %d", spec->name,
            shape0, DAE_MODEL_INFO_MAX - 1);
      if (memchr (bytes + spec->offset, '\0', shape0) != NULL)
        return dae_set_error (error, DAE_ERROR_BAD_FORMAT,
            "record '%s': contains a NUL byte", spec->name);
      spec->shape[0] = shape0;
      continue;
    }

    if (ndim != spec->ndim || shape0 != spec->shape[0]
        || shape1 != spec->shape[1]) {
      char got[32];
      char want[32];

      format_shape (got, sizeof (got), ndim, shape0, shape1);
      format_shape (want, sizeof (want), spec->ndim, spec->shape[0],
          spec->shape[1]);
      return dae_set_error (error, DAE_ERROR_BAD_FORMAT,
          "record '%s': shape %s, expected %s", spec->name, got, want);
    }
  }

  /* 5. build the model; its size is that of the records just checked */
  if ((status = dae_model_alloc (&config, &model, error)) != DAE_OK)
    return status;

  {
    DaeTensor dest[DAE_MAX_TENSORS];

    dae_model_list_tensors (model, dest);

    read_floats (bytes + specs[0].offset, config.n_bands, model->band_centers);
    read_floats (bytes + specs[1].offset, dae_model_config_n_features (&config),
        model->norm_mean);
    read_floats (bytes + specs[2].offset, dae_model_config_n_features (&config),
        model->norm_std);
    if (specs[3].found != 0) {
      memcpy (model->info, bytes + specs[3].offset, specs[3].shape[0]);
      model->info[specs[3].shape[0]] = '\0';
    }
    for (i = 0; i < n_tensors; i++) {
      if (weights_f16)
        read_halfs (bytes + specs[4 + i].offset,
            dest[i].rows * dest[i].cols, dest[i].data);
      else
        read_floats (bytes + specs[4 + i].offset,
            dest[i].rows * dest[i].cols, dest[i].data);
    }
    model->weight_bits = weights_f16 ? 16 : 32;
    if (flags & DAE_FORMAT_FLAG_ERROR_SCALE)
      read_floats (bytes + specs[4 + n_tensors].offset, config.n_bands,
          model->error_scale);
  }
  model->config.band_min_hz = model->band_centers[0];
  model->config.band_max_hz = model->band_centers[config.n_bands - 1];
  model->anomaly_threshold = threshold;
  if (minor >= 1) {
    model->calib_quantile = get_f32 (bytes + DAE_FORMAT_OFF_CALIB_QUANTILE);
    model->calib_false_alarms_per_hour =
        get_f32 (bytes + DAE_FORMAT_OFF_CALIB_ALARMS);
    model->calib_held_out_seconds =
        get_f32 (bytes + DAE_FORMAT_OFF_CALIB_SECONDS);
    model->calib_hold_seconds = get_f32 (bytes + DAE_FORMAT_OFF_CALIB_HOLD);
  }
  if (minor >= 4)
    model->gain_scale = get_f32 (bytes + DAE_FORMAT_OFF_GAIN_SCALE);

  /* 6. values */
  if ((status = dae_model_check_values (model, DAE_ERROR_BAD_FORMAT,
              error)) != DAE_OK) {
    dae_model_unref (model);
    return status;
  }

  *model_out = model;
  return DAE_OK;
}

/* ------------------------------------------------------------------------ */
/* Files                                                                     */

static void
errno_text (int err, char *buf, size_t size)
{
#if defined(__GLIBC__) && defined(_GNU_SOURCE)
  const char *text = strerror_r (err, buf, size);

  if (text != buf)
    snprintf (buf, size, "%s", text);
#else
  if (strerror_r (err, buf, size) != 0)
    snprintf (buf, size, "error %d", err);
#endif
}

static DaeStatus
io_error (DaeError * error, const char *what, const char *path, int err)
{
  char text[128];

  errno_text (err, text, sizeof (text));
  return dae_set_error (error, DAE_ERROR_IO, "cannot %s '%s': %s", what, path,
      text);
}

DaeStatus
dae_model_load_file (const char *path, DaeModel ** model_out, DaeError * error)
{
  struct stat st;
  unsigned char *buf;
  size_t size;
  size_t got = 0;
  int fd;
  DaeStatus status;

  if (path == NULL || model_out == NULL)
    return dae_set_error (error, DAE_ERROR_INVALID_ARGUMENT,
        "path or model_out is NULL");

  /* O_NONBLOCK: opening a FIFO must not wait for a writer (it is refused
   * below); it has no effect on regular files */
  fd = open (path, O_RDONLY | O_CLOEXEC | O_NONBLOCK);
  if (fd < 0)
    return io_error (error, "open", path, errno);
  if (fstat (fd, &st) != 0) {
    int err = errno;

    close (fd);
    return io_error (error, "stat", path, err);
  }
  if (!S_ISREG (st.st_mode)) {
    close (fd);
    return dae_set_error (error, DAE_ERROR_IO,
        "cannot read '%s': not a regular file", path);
  }
  /* size check before any allocation */
  if (st.st_size < 0 || (uintmax_t) st.st_size > DAE_MODEL_MAX_FILE_SIZE) {
    close (fd);
    return dae_set_error (error, DAE_ERROR_BAD_FORMAT,
        "'%s': file too large: %jd bytes, a model file has at most %zu",
        path, (intmax_t) st.st_size, DAE_MODEL_MAX_FILE_SIZE);
  }
  size = (size_t) st.st_size;

  buf = dae_malloc (size);
  if (buf == NULL) {
    close (fd);
    return dae_set_error (error, DAE_ERROR_NO_MEMORY,
        "out of memory reading '%s' (%zu bytes)", path, size);
  }

  while (got < size) {
    ssize_t n = read (fd, buf + got, size - got);

    if (n < 0 && errno == EINTR)
      continue;
    if (n < 0) {
      int err = errno;

      close (fd);
      dae_free (buf);
      return io_error (error, "read", path, err);
    }
    if (n == 0)
      break;                    /* shrank under us: the reader reports it */
    got += (size_t) n;
  }
  close (fd);

  status = dae_model_load_memory (buf, got, model_out, error);
  dae_free (buf);

  if (status != DAE_OK && error != NULL) {
    char detail[DAE_ERROR_MESSAGE_SIZE];

    memcpy (detail, error->message, sizeof (detail));
    dae_set_error (error, status, "'%s': %s", path, detail);
  }
  return status;
}

/* ------------------------------------------------------------------------ */
/* Writer                                                                    */

static uint64_t
spec_elems (const RecordSpec * spec)
{
  if (spec->ndim == 1)
    return spec->shape[0];
  return (uint64_t) spec->shape[0] * spec->shape[1];
}

static uint64_t
align_up (uint64_t x)
{
  return (x + DAE_FORMAT_ALIGN - 1) / DAE_FORMAT_ALIGN * DAE_FORMAT_ALIGN;
}

DaeStatus
dae_model_save_memory (const DaeModel * model, void **data_out,
    size_t *size_out, DaeError * error)
{
  const DaeModelConfig *config;
  RecordSpec specs[MAX_SPECS];
  DaeTensor shapes[DAE_MAX_TENSORS];
  DaeTensor tensors[DAE_MAX_TENSORS];
  size_t n_specs;
  size_t n_tensors;
  uint64_t pos;
  size_t total;
  unsigned char *buf;
  uint32_t flags = 0;
  size_t i;
  DaeStatus status;

  if (model == NULL || data_out == NULL || size_out == NULL)
    return dae_set_error (error, DAE_ERROR_INVALID_ARGUMENT,
        "model, data_out or size_out is NULL");
  config = &model->config;
  if ((status = dae_model_config_validate (config, error)) != DAE_OK)
    return status;
  /* never write a file the reader would refuse */
  if ((status = dae_model_check_values (model, DAE_ERROR_INVALID_ARGUMENT,
              error)) != DAE_OK)
    return status;

  for (i = 0; i < config->n_bands; i++)
    if (model->error_scale[i] != 1.0f)
      flags |= DAE_FORMAT_FLAG_ERROR_SCALE;
  n_specs = record_specs (config, (flags & DAE_FORMAT_FLAG_ERROR_SCALE) != 0,
      specs, shapes);
  /* reads only: list_tensors takes a mutable model because the trainer
   * writes through the pointers it returns */
  n_tensors = dae_model_list_tensors ((DaeModel *) model, tensors);
  specs[0].floats = model->band_centers;
  specs[1].floats = model->norm_mean;
  specs[2].floats = model->norm_std;
  specs[3].text = model->info;
  specs[3].shape[0] = (uint32_t) strlen (model->info);
  for (i = 0; i < n_tensors; i++) {
    specs[4 + i].floats = tensors[i].data;
    /* the values are halves already (dae_model_new_with_weight_bits) */
    if (model->weight_bits == 16)
      specs[4 + i].dtype = DAE_FORMAT_DTYPE_F16;
  }
  specs[4 + n_tensors].floats = model->error_scale;

  pos = DAE_FORMAT_HEADER_SIZE + DAE_FORMAT_RECORD_SIZE * (uint64_t) n_specs;
  for (i = 0; i < n_specs; i++) {
    uint64_t n_elems = spec_elems (&specs[i]);

    specs[i].byte_size = n_elems *
        (specs[i].dtype == DAE_FORMAT_DTYPE_F32 ? 4 :
        specs[i].dtype == DAE_FORMAT_DTYPE_F16 ? 2 : 1);
    specs[i].offset = align_up (pos);
    pos = specs[i].offset + specs[i].byte_size;
  }
  if (pos > DAE_MODEL_MAX_FILE_SIZE)
    return dae_set_error (error, DAE_ERROR_INVALID_ARGUMENT,
        "model too large: %" PRIu64 " bytes, a model file has at most %zu",
        pos, DAE_MODEL_MAX_FILE_SIZE);
  total = (size_t) pos;

  buf = dae_calloc (total, 1);
  if (buf == NULL)
    return dae_set_error (error, DAE_ERROR_NO_MEMORY,
        "out of memory for a %zu-byte model file", total);

  if (config->has_vad)
    flags |= DAE_FORMAT_FLAG_HAS_VAD;
  if (config->gain_skip)
    flags |= DAE_FORMAT_FLAG_GAIN_SKIP;
  if (config->predictive)
    flags |= DAE_FORMAT_FLAG_PREDICTIVE;
  if (config->tonality)
    flags |= DAE_FORMAT_FLAG_TONALITY;

  memcpy (buf + DAE_FORMAT_OFF_MAGIC, DAE_FORMAT_MAGIC, DAE_FORMAT_MAGIC_SIZE);
  put_u16 (buf + DAE_FORMAT_OFF_MAJOR, DAE_FORMAT_VERSION_MAJOR);
  put_u16 (buf + DAE_FORMAT_OFF_MINOR, DAE_FORMAT_VERSION_MINOR);
  put_u32 (buf + DAE_FORMAT_OFF_HEADER_SIZE, DAE_FORMAT_HEADER_SIZE);
  put_u64 (buf + DAE_FORMAT_OFF_FILE_SIZE, total);
  /* validated config: every field fits in 32 bits */
  put_u32 (buf + DAE_FORMAT_OFF_SAMPLE_RATE, config->sample_rate);
  put_u32 (buf + DAE_FORMAT_OFF_WINDOW, (uint32_t) config->window_samples);
  put_u32 (buf + DAE_FORMAT_OFF_HOP, (uint32_t) config->hop_samples);
  put_u32 (buf + DAE_FORMAT_OFF_N_BANDS, (uint32_t) config->n_bands);
  put_u32 (buf + DAE_FORMAT_OFF_ENC_DENSE, (uint32_t) config->enc_dense);
  put_u32 (buf + DAE_FORMAT_OFF_ENC_GRU, (uint32_t) config->enc_gru);
  put_u32 (buf + DAE_FORMAT_OFF_BOTTLENECK, (uint32_t) config->bottleneck);
  put_u32 (buf + DAE_FORMAT_OFF_DEC_GRU, (uint32_t) config->dec_gru);
  put_u32 (buf + DAE_FORMAT_OFF_FLAGS, flags);
  put_f32 (buf + DAE_FORMAT_OFF_THRESHOLD, model->anomaly_threshold);
  put_f32 (buf + DAE_FORMAT_OFF_CALIB_QUANTILE, model->calib_quantile);
  put_f32 (buf + DAE_FORMAT_OFF_CALIB_ALARMS,
      model->calib_false_alarms_per_hour);
  put_f32 (buf + DAE_FORMAT_OFF_CALIB_SECONDS, model->calib_held_out_seconds);
  put_f32 (buf + DAE_FORMAT_OFF_CALIB_HOLD, model->calib_hold_seconds);
  put_f32 (buf + DAE_FORMAT_OFF_GAIN_SCALE, model->gain_scale);
  put_u32 (buf + DAE_FORMAT_OFF_N_RECORDS, (uint32_t) n_specs);

  for (i = 0; i < n_specs; i++) {
    const RecordSpec *spec = &specs[i];
    unsigned char *rec = buf + DAE_FORMAT_HEADER_SIZE +
        i * DAE_FORMAT_RECORD_SIZE;
    unsigned char *payload = buf + spec->offset;

    /* names are static and shorter than the field; the rest stays zero */
    memcpy (rec + DAE_FORMAT_REC_NAME, spec->name, strlen (spec->name));
    put_u32 (rec + DAE_FORMAT_REC_DTYPE, spec->dtype);
    put_u32 (rec + DAE_FORMAT_REC_NDIM, spec->ndim);
    put_u32 (rec + DAE_FORMAT_REC_SHAPE0, spec->shape[0]);
    put_u32 (rec + DAE_FORMAT_REC_SHAPE1, spec->shape[1]);
    put_u64 (rec + DAE_FORMAT_REC_BYTE_SIZE, spec->byte_size);
    put_u64 (rec + DAE_FORMAT_REC_OFFSET, spec->offset);

    if (spec->dtype == DAE_FORMAT_DTYPE_UTF8) {
      memcpy (payload, spec->text, (size_t) spec->byte_size);
    } else if (spec->dtype == DAE_FORMAT_DTYPE_F16) {
      size_t k;

      for (k = 0; k < spec->byte_size / 2; k++)
        put_u16 (payload + 2 * k, dae_half_from_float (spec->floats[k]));
    } else {
      size_t k;

      for (k = 0; k < spec->byte_size / 4; k++)
        put_f32 (payload + 4 * k, spec->floats[k]);
    }
  }

  put_u32 (buf + DAE_FORMAT_OFF_CRC, file_crc (buf, total));

  *data_out = buf;
  *size_out = total;
  return DAE_OK;
}

static int
write_all (int fd, const unsigned char *data, size_t size)
{
  while (size > 0) {
    ssize_t n = write (fd, data, size);

    if (n < 0 && errno == EINTR)
      continue;
    if (n < 0)
      return -1;
    data += n;
    size -= (size_t) n;
  }
  return 0;
}

/* Best effort: make the rename durable.  tmp holds path + suffix and is
 * reused for the directory name. */
static void
sync_parent_dir (char *tmp, const char *path)
{
  char *slash;
  int fd;

  strcpy (tmp, path);
  slash = strrchr (tmp, '/');
  if (slash == NULL)
    strcpy (tmp, ".");
  else if (slash == tmp)
    tmp[1] = '\0';
  else
    *slash = '\0';

  fd = open (tmp, O_RDONLY | O_CLOEXEC);
  if (fd < 0)
    return;
  (void) fsync (fd);
  close (fd);
}

DaeStatus
dae_model_save_file (const DaeModel * model, const char *path, DaeError * error)
{
  static const char suffix[] = ".tmp-XXXXXX";
  void *data;
  size_t size;
  size_t len;
  char *tmp;
  int fd;
  int err;
  DaeStatus status;

  if (model == NULL || path == NULL || path[0] == '\0')
    return dae_set_error (error, DAE_ERROR_INVALID_ARGUMENT,
        "model or path is NULL or empty");

  status = dae_model_save_memory (model, &data, &size, error);
  if (status != DAE_OK)
    return status;

  len = strlen (path);
  tmp = dae_malloc (len + sizeof (suffix));
  if (tmp == NULL) {
    dae_free (data);
    return dae_set_error (error, DAE_ERROR_NO_MEMORY,
        "out of memory saving '%s'", path);
  }
  memcpy (tmp, path, len);
  memcpy (tmp + len, suffix, sizeof (suffix));

  /* the temporary file sits beside the target so rename () is atomic */
  fd = mkstemp (tmp);
  if (fd < 0) {
    err = errno;
    dae_free (tmp);
    dae_free (data);
    return io_error (error, "create a temporary file to write", path, err);
  }
  (void) fcntl (fd, F_SETFD, FD_CLOEXEC);
  /* mkstemp creates 0600; a model is an ordinary readable file */
  (void) fchmod (fd, 0644);

  if (write_all (fd, data, size) != 0) {
    err = errno;
    close (fd);
    status = io_error (error, "write", path, err);
  } else if (fsync (fd) != 0) {
    err = errno;
    close (fd);
    status = io_error (error, "write", path, err);
  } else if (close (fd) != 0) {
    status = io_error (error, "write", path, errno);
  } else if (rename (tmp, path) != 0) {
    status = io_error (error, "rename a temporary file to", path, errno);
  } else {
    sync_parent_dir (tmp, path);
    status = DAE_OK;
  }

  if (status != DAE_OK)
    unlink (tmp);
  dae_free (tmp);
  dae_free (data);
  return status;
}
