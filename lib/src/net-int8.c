/* libdae — 8-bit weights for the streaming forward pass
 * Copyright (C) 2026 The dae authors
 * SPDX-License-Identifier: LGPL-2.1-or-later
 *
 * The GRU matrices and the bottleneck (more than 90 % of a frame's
 * multiply-adds) as int8 weights with one scale per row, and their inputs
 * (all in [-1, 1]: tanh and GRU outputs) as uint8 with one scale per
 * product:
 *
 *   y[r] += ws[r] * sx * sum_c wq[r][c] * (xq[c] - 128)
 *
 * where wq = round (w / ws) in [-127, 127], ws = max |w[r]| / 127, and
 * xq = round (x / sx) + 128 in [1, 255], sx = max |x| / 127.  The sum is
 * exact in int32 (at most 127 * 255 * cols); it is formed as
 * sum wq * xq - 128 * sum wq, the unsigned-by-signed product that AVX-512
 * VNNI does 64 at a time (vpdpbusd); AVX2 widens to int16 (vpmaddwd).
 * Every kernel computes the same integers and the float part is shared, so
 * the output does not depend on the CPU.
 *
 * Weight layout: blocks of 16 rows; within a block, for each group of 4
 * columns, 16 rows x 4 bytes (64 bytes: one vpdpbusd).  Rows are padded to
 * a multiple of 16 and columns to a multiple of 4 with zero weights.
 */

#include <assert.h>
#include <math.h>
#include <string.h>

#include "dae-private.h"

#if defined(__x86_64__) && (defined(__GNUC__) || defined(__clang__))
#define DAE_HAVE_VNNI_KERNEL 1
#include <immintrin.h>
#define DAE_TARGET_VNNI \
  __attribute__ ((target ("avx512f,avx512bw,avx512vnni")))
#define DAE_TARGET_AVX2 __attribute__ ((target ("avx2")))
#endif

#define ROWS_PER_BLOCK 16

/* Rows and inputs whose largest magnitude is below this count as zero:
 * 127 / max must stay finite (a denormal max made it infinite, and 0 times
 * that NaN). */
#define QUANT_MIN 1e-30f

/* acc[16 * b + i] = sum over the columns of block b, row i */
static void
kernel_generic (const int8_t * w, size_t n_blocks, size_t cols4,
    const uint8_t * xq, int32_t * acc)
{
  size_t b;
  size_t c;
  size_t i;

  for (b = 0; b < n_blocks; b++) {
    const int8_t *wb = w + b * ROWS_PER_BLOCK * 4 * cols4;
    int32_t sum[ROWS_PER_BLOCK] = { 0 };

    for (c = 0; c < cols4; c++) {
      const int8_t *wc = wb + c * ROWS_PER_BLOCK * 4;
      const int32_t x0 = xq[4 * c];
      const int32_t x1 = xq[4 * c + 1];
      const int32_t x2 = xq[4 * c + 2];
      const int32_t x3 = xq[4 * c + 3];

      for (i = 0; i < ROWS_PER_BLOCK; i++)
        sum[i] += wc[4 * i] * x0 + wc[4 * i + 1] * x1 + wc[4 * i + 2] * x2
            + wc[4 * i + 3] * x3;
    }
    memcpy (acc + b * ROWS_PER_BLOCK, sum, sizeof (sum));
  }
}

#ifdef DAE_HAVE_VNNI_KERNEL
/* Four blocks at a time (four independent accumulator chains), then the
 * rest one by one. */
DAE_TARGET_VNNI static void
kernel_vnni (const int8_t * w, size_t n_blocks, size_t cols4,
    const uint8_t * xq, int32_t * acc)
{
  const size_t stride = ROWS_PER_BLOCK * 4 * cols4;
  size_t b = 0;
  size_t c;

  for (; b + 4 <= n_blocks; b += 4) {
    const int8_t *w0 = w + b * stride;
    __m512i a0 = _mm512_setzero_si512 ();
    __m512i a1 = _mm512_setzero_si512 ();
    __m512i a2 = _mm512_setzero_si512 ();
    __m512i a3 = _mm512_setzero_si512 ();

    for (c = 0; c < cols4; c++) {
      int32_t x4;
      __m512i xb;

      memcpy (&x4, xq + 4 * c, sizeof (x4));
      xb = _mm512_set1_epi32 (x4);
      a0 = _mm512_dpbusd_epi32 (a0, xb, _mm512_loadu_si512 (w0 + 64 * c));
      a1 = _mm512_dpbusd_epi32 (a1, xb,
          _mm512_loadu_si512 (w0 + stride + 64 * c));
      a2 = _mm512_dpbusd_epi32 (a2, xb,
          _mm512_loadu_si512 (w0 + 2 * stride + 64 * c));
      a3 = _mm512_dpbusd_epi32 (a3, xb,
          _mm512_loadu_si512 (w0 + 3 * stride + 64 * c));
    }
    _mm512_storeu_si512 (acc + b * ROWS_PER_BLOCK, a0);
    _mm512_storeu_si512 (acc + (b + 1) * ROWS_PER_BLOCK, a1);
    _mm512_storeu_si512 (acc + (b + 2) * ROWS_PER_BLOCK, a2);
    _mm512_storeu_si512 (acc + (b + 3) * ROWS_PER_BLOCK, a3);
  }
  for (; b < n_blocks; b++) {
    const int8_t *w0 = w + b * stride;
    __m512i a0 = _mm512_setzero_si512 ();

    for (c = 0; c < cols4; c++) {
      int32_t x4;

      memcpy (&x4, xq + 4 * c, sizeof (x4));
      a0 = _mm512_dpbusd_epi32 (a0, _mm512_set1_epi32 (x4),
          _mm512_loadu_si512 (w0 + 64 * c));
    }
    _mm512_storeu_si512 (acc + b * ROWS_PER_BLOCK, a0);
  }
}

/* AVX2: per block, four rows x four columns per instruction (weights
 * widened to int16, vpmaddwd: exact, at most 2 * 127 * 255 per lane), each
 * row's two column-pair lanes added at the end. */
DAE_TARGET_AVX2 static void
kernel_avx2 (const int8_t * w, size_t n_blocks, size_t cols4,
    const uint8_t * xq, int32_t * acc)
{
  const size_t stride = ROWS_PER_BLOCK * 4 * cols4;
  size_t b;
  size_t c;

  for (b = 0; b < n_blocks; b++) {
    const int8_t *wb = w + b * stride;
    __m256i a0 = _mm256_setzero_si256 ();
    __m256i a1 = _mm256_setzero_si256 ();
    __m256i a2 = _mm256_setzero_si256 ();
    __m256i a3 = _mm256_setzero_si256 ();
    __m256i lo;
    __m256i hi;

    for (c = 0; c < cols4; c++) {
      const int8_t *wc = wb + 64 * c;
      int32_t x4;
      __m256i xb;

      memcpy (&x4, xq + 4 * c, sizeof (x4));
      xb = _mm256_cvtepu8_epi16 (_mm_set1_epi32 (x4));
      a0 = _mm256_add_epi32 (a0, _mm256_madd_epi16 (_mm256_cvtepi8_epi16
              (_mm_loadu_si128 ((const __m128i *) wc)), xb));
      a1 = _mm256_add_epi32 (a1, _mm256_madd_epi16 (_mm256_cvtepi8_epi16
              (_mm_loadu_si128 ((const __m128i *) (wc + 16))), xb));
      a2 = _mm256_add_epi32 (a2, _mm256_madd_epi16 (_mm256_cvtepi8_epi16
              (_mm_loadu_si128 ((const __m128i *) (wc + 32))), xb));
      a3 = _mm256_add_epi32 (a3, _mm256_madd_epi16 (_mm256_cvtepi8_epi16
              (_mm_loadu_si128 ((const __m128i *) (wc + 48))), xb));
    }
    /* lanes (2 i, 2 i + 1) of a0 are row i's; hadd gives rows
     * 0 1 4 5 | 2 3 6 7, the permutation puts them in order */
    lo = _mm256_permute4x64_epi64 (_mm256_hadd_epi32 (a0, a1), 0xd8);
    hi = _mm256_permute4x64_epi64 (_mm256_hadd_epi32 (a2, a3), 0xd8);
    _mm256_storeu_si256 ((__m256i *) (acc + b * ROWS_PER_BLOCK), lo);
    _mm256_storeu_si256 ((__m256i *) (acc + b * ROWS_PER_BLOCK + 8), hi);
  }
}
#endif

size_t
dae_qkernels (DaeQKernel * kernels, const char **names, size_t max)
{
  size_t n = 0;

#define ADD_KERNEL(k, name) \
  do { \
    if (n < max) { \
      kernels[n] = (k); \
      names[n] = (name); \
    } \
    n++; \
  } while (0)

  /* best first */
  /* (a plain run-time check, not an ifunc resolver: safe under the
   * sanitizers, see DAE_TARGET_CLONES in net.c) */
#ifdef DAE_HAVE_VNNI_KERNEL
  __builtin_cpu_init ();
  if (__builtin_cpu_supports ("avx512f")
      && __builtin_cpu_supports ("avx512bw")
      && __builtin_cpu_supports ("avx512vnni"))
    ADD_KERNEL (kernel_vnni, "avx512vnni");
  if (__builtin_cpu_supports ("avx2"))
    ADD_KERNEL (kernel_avx2, "avx2");
#endif
  ADD_KERNEL (kernel_generic, "portable");
#undef ADD_KERNEL
  return n;
}

DaeQKernel
dae_qkernel_generic (void)
{
  return kernel_generic;
}

DaeQKernel
dae_qkernel_best (void)
{
  DaeQKernel k[1];
  const char *name[1];

  dae_qkernels (k, name, 1);
  return k[0];
}

/* v in [-127, 127] to the nearest integer, halves away from zero */
static inline int
round_q (float v)
{
  return (int) (v >= 0.0f ? v + 0.5f : v - 0.5f);
}

static size_t
round_up (size_t n, size_t m)
{
  return (n + m - 1) / m * m;
}

/* Bytes of int8 weights, floats and int32s a matrix needs. */
static void
qmat_sizes (size_t rows, size_t cols, size_t *n_w, size_t *n_rows)
{
  *n_w = round_up (rows, ROWS_PER_BLOCK) * round_up (cols, 4);
  *n_rows = round_up (rows, ROWS_PER_BLOCK);
}

/* Quantises rows x cols floats (row-major, leading dimension cols) into m,
 * whose arrays are already set up. */
static void
qmat_fill (DaeQMat * m, const float *a)
{
  const size_t cols4 = m->cols4;
  size_t r;
  size_t c;

  memset (m->w, 0, m->n_blocks * ROWS_PER_BLOCK * 4 * cols4);
  for (r = 0; r < m->rows; r++) {
    const float *row = a + r * m->cols;
    int8_t *wb = m->w + (r / ROWS_PER_BLOCK) * ROWS_PER_BLOCK * 4 * cols4
        + 4 * (r % ROWS_PER_BLOCK);
    float amax = 0.0f;
    int32_t sum = 0;
    int finite = 1;

    for (c = 0; c < m->cols; c++) {
      finite &= isfinite (row[c]) != 0;
      if (fabsf (row[c]) > amax)
        amax = fabsf (row[c]);
    }
    if (!finite || !(amax >= QUANT_MIN)) {
      /* (nearly) all zero, or not finite (a loaded model is finite): the
       * row adds nothing */
      m->scale[r] = 0.0f;
      m->offset[r] = 0;
      continue;
    }
    m->scale[r] = amax / 127.0f;
    for (c = 0; c < m->cols; c++) {
      int q = round_q (row[c] * (127.0f / amax));

      q = q > 127 ? 127 : q < -127 ? -127 : q;
      wb[(c / 4) * ROWS_PER_BLOCK * 4 + c % 4] = (int8_t) q;
      sum += q;
    }
    m->offset[r] = 128 * sum;
  }
}

/* The matrices of one GRU: W whole; U as the z and r rows (added to the
 * row's first 2H) and the n rows (added to its last H). */
#define QNET_MATS 7

static void
qnet_matrices (DaeQNet * q, const DaeNet * net, DaeQMat ** mats,
    const float **src, size_t *rows, size_t *cols)
{
  const DaeGru *grus[2] = { &net->enc_gru, &net->dec_gru };
  DaeQMat *qm[2][3] = {
    {&q->enc_w, &q->enc_uzr, &q->enc_un},
    {&q->dec_w, &q->dec_uzr, &q->dec_un}
  };
  size_t k = 0;
  size_t g;

  for (g = 0; g < 2; g++) {
    const size_t H = grus[g]->n_hidden;

    mats[k] = qm[g][0];
    src[k] = grus[g]->w;
    rows[k] = 3 * H;
    cols[k++] = grus[g]->n_in;
    mats[k] = qm[g][1];
    src[k] = grus[g]->u;
    rows[k] = 2 * H;
    cols[k++] = H;
    mats[k] = qm[g][2];
    src[k] = grus[g]->u + 2 * H * H;
    rows[k] = H;
    cols[k++] = H;
  }
  mats[k] = &q->bottleneck;
  src[k] = net->bottleneck.w;
  rows[k] = net->bottleneck.n_out;
  cols[k++] = net->bottleneck.n_in;
  assert (k == QNET_MATS);
}

DaeStatus
dae_qnet_init (DaeQNet * q, const DaeNet * net, DaeQKernel kernel)
{
  DaeQMat *mats[QNET_MATS];
  const float *src[QNET_MATS];
  size_t rows[QNET_MATS];
  size_t cols[QNET_MATS];
  size_t nw[QNET_MATS];
  size_t nr[QNET_MATS];
  size_t n_w = 0;
  size_t n_rows = 0;
  size_t max_rows = 0;
  size_t max_cols = 0;
  size_t total;
  unsigned char *p;
  size_t k;

  if (q == NULL)
    return DAE_ERROR_INVALID_ARGUMENT;
  memset (q, 0, sizeof (*q));
  if (net == NULL)
    return DAE_ERROR_INVALID_ARGUMENT;

  qnet_matrices (q, net, mats, src, rows, cols);
  for (k = 0; k < QNET_MATS; k++) {
    qmat_sizes (rows[k], cols[k], &nw[k], &nr[k]);
    n_w += nw[k];
    n_rows += nr[k];
    if (nr[k] > max_rows)
      max_rows = nr[k];
    if (round_up (cols[k], 4) > max_cols)
      max_cols = round_up (cols[k], 4);
  }

  /* floats and int32s first (4-byte aligned), then the bytes */
  total = (2 * n_rows + max_rows) * 4 + n_w + max_cols;
  q->block = dae_malloc (total);
  if (q->block == NULL)
    return DAE_ERROR_NO_MEMORY;
  q->acc = (int32_t *) q->block;
  p = (unsigned char *) (q->acc + max_rows);
  for (k = 0; k < QNET_MATS; k++) {
    DaeQMat *m = mats[k];

    m->rows = rows[k];
    m->cols = cols[k];
    m->cols4 = round_up (cols[k], 4) / 4;
    m->n_blocks = nr[k] / ROWS_PER_BLOCK;
    m->scale = (float *) p;
    p += nr[k] * 4;
    m->offset = (int32_t *) p;
    p += nr[k] * 4;
  }
  for (k = 0; k < QNET_MATS; k++) {
    mats[k]->w = (int8_t *) p;
    p += nw[k];
    qmat_fill (mats[k], src[k]);
  }
  q->xq = (uint8_t *) p;
  q->kernel = kernel != NULL ? kernel : dae_qkernel_best ();
  return DAE_OK;
}

void
dae_qnet_clear (DaeQNet * q)
{
  if (q == NULL)
    return;
  dae_free (q->block);
  memset (q, 0, sizeof (*q));
}

float
dae_qnet_quantize (const DaeQNet * q, const float *x, size_t cols, size_t cols4)
{
  uint8_t *xq = q->xq;
  float amax = 0.0f;
  float inv;
  float sx;
  size_t c;

  for (c = 0; c < cols; c++)
    if (fabsf (x[c]) > amax)
      amax = fabsf (x[c]);
  if (!(amax >= QUANT_MIN))
    return 0.0f;                /* x == 0 (or NaN): nothing to add */
  if (amax > FLT_MAX)
    amax = FLT_MAX;
  sx = amax / 127.0f;
  inv = 127.0f / amax;
  for (c = 0; c < cols; c++) {
    float v = x[c] * inv;

    if (!(v >= -127.0f))        /* also NaN */
      v = v != v ? 0.0f : -127.0f;
    if (v > 127.0f)
      v = 127.0f;
    xq[c] = (uint8_t) (round_q (v) + 128);
  }
  for (; c < 4 * cols4; c++)
    xq[c] = 128;
  return sx;
}

void
dae_qmat_apply (const DaeQNet * q, const DaeQMat * m, float sx, float *y)
{
  size_t r;

  q->kernel (m->w, m->n_blocks, m->cols4, q->xq, q->acc);
  for (r = 0; r < m->rows; r++)
    y[r] += (float) (q->acc[r] - m->offset[r]) * (m->scale[r] * sx);
}

void
dae_qmat_matvec_add (const DaeQNet * q, const DaeQMat * m, const float *x,
    float *y)
{
  float sx = dae_qnet_quantize (q, x, m->cols, m->cols4);

  if (sx > 0.0f)
    dae_qmat_apply (q, m, sx, y);
}
