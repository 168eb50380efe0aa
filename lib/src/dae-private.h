/* libdae — internal declarations shared across the lib/src sources
 * Copyright (C) 2026 The dae authors
 * SPDX-License-Identifier: LGPL-2.1-or-later
 *
 * Nothing here is exported from the shared library (hidden visibility);
 * tests link the static convenience library to reach it.
 */

#ifndef DAE_PRIVATE_H
#define DAE_PRIVATE_H

#include <float.h>
#include <math.h>
#include <stdatomic.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include "dae/dae.h"

/* ------------------------------------------------------------------------ */
/* status.c                                                                  */

/* Sets error (if non-NULL) to status and a printf-style message; returns
 * status so callers can "return dae_set_error (error, ...)". */
DaeStatus       dae_set_error                 (DaeError *error,
                                               DaeStatus status,
                                               const char *format,
                                               ...) __attribute__ ((format (printf, 3, 4)));

/* Allocation hook so tests can make allocations fail (NULL = libc). */
void *          dae_malloc                    (size_t size);
void *          dae_calloc                    (size_t n, size_t size);
/* Test-only: make the n-th next allocation (0-based) and every later one
 * fail; SIZE_MAX disables.  Not thread safe; tests only. */
void            dae_debug_fail_allocations_after (size_t n);

/* Test-only: what dae_malloc()/dae_calloc() were asked for since the last
 * reset (sizes in bytes; a request whose n * size overflows counts as
 * SIZE_MAX).  Used to check that untrusted input never makes the library
 * allocate more than it accounts for. */
typedef struct
{
  size_t max_size;              /* largest single request */
  size_t total_size;            /* sum of all requests (saturating) */
  size_t count;                 /* number of requests */
} DaeAllocationStats;

void            dae_debug_reset_allocation_stats (void);
void            dae_debug_get_allocation_stats (DaeAllocationStats *stats);

/* ------------------------------------------------------------------------ */
/* stft.c                                                                    */

/* The library-wide FFTW planner lock. */
void            dae_fftw_lock                 (void);
void            dae_fftw_unlock               (void);

/* ------------------------------------------------------------------------ */
/* features.c: triangular band weights on FFT bins                           */

typedef struct
{
  size_t n_bands;
  size_t n_bins;
  /* For each bin k: it lies between band lo[k] and lo[k] + 1 with weight
   * frac[k] on the upper band and 1 - frac[k] on lo[k].  Bins below the first
   * centre or above the last one belong wholly to the first or last band
   * (lo = 0, frac = 0, or lo = n_bands - 1, frac = 0). */
  unsigned short *lo;
  float *frac;
  /* sum of weights per band, for normalising energies to a mean per bin */
  float *norm;
} DaeBands;

DaeStatus       dae_bands_init                (DaeBands *bands,
                                               const float *centers_hz,
                                               size_t n_bands,
                                               unsigned sample_rate,
                                               size_t fft_size);
void            dae_bands_clear               (DaeBands *bands);
/* spectrum: 2 * n_bins interleaved re/im; energy: n_bands (mean power per
 * bin of each band, >= 0). */
void            dae_bands_energy              (const DaeBands *bands,
                                               const float *spectrum,
                                               float *energy);
/* tonality: n_bands, for each band 1 - (geometric mean / arithmetic mean)
 * of its bins' powers (+ DAE_LOG_EPSILON) under the band's weights, in
 * [0, 1]: 0 for a flat spectrum and for a band without bins, near 1 for a
 * few strong bins among weak ones (one minus the spectral flatness);
 * energy: that frame's dae_bands_energy (). */
void            dae_bands_tonality            (const DaeBands *bands,
                                               const float *spectrum,
                                               const float *energy,
                                               float *tonality);
/* band_gain: n_bands; bin_gain: n_bins (linear interpolation between band
 * centres, so gains are smooth over frequency). */
void            dae_bands_interpolate         (const DaeBands *bands,
                                               const float *band_gain,
                                               float *bin_gain);

/* Activations shared by the network (net.c) and the batched trainer GRU
 * (train-gru.c), so that training and inference compute the same values.
 * They work on four floats at a time with the GCC/Clang vector extension
 * (16 bytes: SSE2 on x86-64, NEON on arm64, plain scalar code elsewhere),
 * and every caller goes through these lanes, so a value does not depend on
 * where in an array it sits.
 *
 * dae_vec4_exp is Cephes' expf: x = k ln 2 + r with |r| <= ln 2 / 2 (ln 2
 * in two parts), e^r by a degree-7 polynomial, 2^k through the exponent
 * bits.  Relative error below 2.5e-7 (test-net checks it against exp() in
 * double); x is clamped to [-87.34, 88.38] so 2^k stays a normal number:
 * e^x saturates at 1.2e-38 below and 2.4e38 above, and NaN stays NaN.  It
 * replaced glibc's expf, which the compiler cannot vectorise and which with
 * the loops around it took a quarter of the trainer's time at 48 kHz.
 *
 * dae_vec4_sigmoid never evaluates e^x of a positive argument (for x < 0 it
 * is e^x / (1 + e^x)).  dae_vec4_tanh is 1 - 2 / (e^2x + 1): absolute error
 * below 2e-7, saturating cleanly to -1 and 1; NaN stays NaN. */
typedef float DaeVec4 __attribute__((vector_size (16)));
typedef uint32_t DaeVec4u __attribute__((vector_size (16)));

#define DAE_VEC4(c) ((DaeVec4) { (c), (c), (c), (c) })
#define DAE_VEC4U(c) ((DaeVec4u) { (c), (c), (c), (c) })

static inline DaeVec4
dae_vec4_load (const float *p)
{
  DaeVec4 v;

  memcpy (&v, p, sizeof (v));
  return v;
}

static inline void
dae_vec4_store (float *p, DaeVec4 v)
{
  memcpy (p, &v, sizeof (v));
}

/* lanes of a where mask is all ones, of b where it is zero */
static inline DaeVec4
dae_vec4_select (DaeVec4u mask, DaeVec4 a, DaeVec4 b)
{
  return (DaeVec4) ((mask & (DaeVec4u) a) | (~mask & (DaeVec4u) b));
}

static inline DaeVec4
dae_vec4_exp (DaeVec4 x)
{
  /* 1.5 * 2^23: adding it rounds to an integer held in the low bits */
  const DaeVec4 round_magic = DAE_VEC4 (12582912.0f);
  DaeVec4 t;
  DaeVec4 k;
  DaeVec4 r;
  DaeVec4 p;
  DaeVec4u scale;

  x = dae_vec4_select ((DaeVec4u) (x > DAE_VEC4 (88.3762626647949f)),
      DAE_VEC4 (88.3762626647949f), x);
  x = dae_vec4_select ((DaeVec4u) (x < DAE_VEC4 (-87.3365447504f)),
      DAE_VEC4 (-87.3365447504f), x);
  t = x * DAE_VEC4 (1.44269504088896341f) + round_magic;
  k = t - round_magic;
  r = x - k * DAE_VEC4 (0.693359375f);
  r = r - k * DAE_VEC4 (-2.12194440e-4f);
  p = DAE_VEC4 (1.9875691500e-4f);
  p = p * r + DAE_VEC4 (1.3981999507e-3f);
  p = p * r + DAE_VEC4 (8.3334519073e-3f);
  p = p * r + DAE_VEC4 (4.1665795894e-2f);
  p = p * r + DAE_VEC4 (1.6666665459e-1f);
  p = p * r + DAE_VEC4 (5.0000001201e-1f);
  p = p * (r * r) + r + DAE_VEC4 (1.0f);
  /* k in [-126, 127]: 2^k has the biased exponent k + 127 in [1, 254]
   * (unsigned arithmetic: a NaN lane gives a meaningless scale, and its
   * product stays NaN) */
  scale = ((DaeVec4u) t - (DaeVec4u) round_magic + DAE_VEC4U (127u)) << 23;
  return p * (DaeVec4) scale;
}

static inline DaeVec4
dae_vec4_sigmoid (DaeVec4 x)
{
  DaeVec4u negative = (DaeVec4u) (x < DAE_VEC4 (0.0f));
  DaeVec4 e = dae_vec4_exp (dae_vec4_select (negative, x, -x));
  DaeVec4 one_plus = DAE_VEC4 (1.0f) + e;

  /* NaN: not negative, e is NaN and so is 1 / (1 + e) */
  return dae_vec4_select (negative, e / one_plus, DAE_VEC4 (1.0f) / one_plus);
}

static inline DaeVec4
dae_vec4_tanh (DaeVec4 x)
{
  return DAE_VEC4 (1.0f) - DAE_VEC4 (2.0f) /
      (dae_vec4_exp (DAE_VEC4 (2.0f) * x) + DAE_VEC4 (1.0f));
}

/* In place over n floats (any n; a partial group of four goes through the
 * same lanes, padded with zeros) */
void            dae_sigmoid_array             (float *v,
                                               size_t n);
void            dae_tanh_array                (float *v,
                                               size_t n);

/* The GRU's gates for one frame (net.c): row holds the pre-activations
 * [a_z | a_r | a_n (input part) | a_n (recurrent part)], 4 * H floats, and
 * gets [z | r | n | unchanged]; h_out = (1 - z) n + z h_prev.  h_prev may
 * be NULL (zeros) and may equal h_out. */
void            dae_gru_gates                 (size_t H,
                                               float *row,
                                               const float *h_prev,
                                               float *h_out);

/* log compression + normalisation: features[b] = (log10 (energy[b] + eps)
 * - mean[b]) / std[b] */
#define DAE_LOG_EPSILON 1e-10f
void            dae_features_from_energy      (const float *energy,
                                               const float *norm_mean,
                                               const float *norm_std,
                                               size_t n_bands,
                                               float *features);
/* A frame's network input: dae_features_from_energy () into
 * features[0, n_bands), then, if tonality is not NULL, features[n_bands + b]
 * = (tonality[b] - mean[n_bands + b]) / std[n_bands + b]; norm_mean and
 * norm_std hold the model's n_bands or 2 n_bands values. */
void            dae_features_frame            (const float *energy,
                                               const float *tonality,
                                               const float *norm_mean,
                                               const float *norm_std,
                                               size_t n_bands,
                                               float *features);
/* the network's input width for a config: n_bands, 2 n_bands with tonality */
static inline size_t
dae_model_config_n_features (const DaeModelConfig * config)
{
  return config->tonality ? 2 * config->n_bands : config->n_bands;
}

/* ------------------------------------------------------------------------ */
/* model.c: the in-memory model                                              */

typedef enum
{
  DAE_ACT_LINEAR = 0,
  DAE_ACT_TANH = 1,
  DAE_ACT_SIGMOID = 2,
  DAE_ACT_RELU = 3
} DaeActivation;

/* y = act (W x + b); W is row-major [n_out][n_in]. */
typedef struct
{
  size_t n_in;
  size_t n_out;
  DaeActivation act;
  float *w;
  float *b;
} DaeDense;

/* PyTorch-convention GRU, gate order z (update), r (reset), n (candidate):
 *   z = sigmoid (Wz x + bxz + Uz h + bhz)
 *   r = sigmoid (Wr x + bxr + Ur h + bhr)
 *   n = tanh (Wn x + bxn + r * (Un h + bhn))
 *   h' = (1 - z) * n + z * h
 * w: [3 * n_hidden][n_in], u: [3 * n_hidden][n_hidden], bx, bh: [3 * n_hidden]
 * (rows 0..H-1 = z, H..2H-1 = r, 2H..3H-1 = n). */
typedef struct
{
  size_t n_in;
  size_t n_hidden;
  float *w;
  float *u;
  float *bx;
  float *bh;
} DaeGru;

/* The network:
 *   features (n_bands)
 *   -> enc_dense (tanh, enc_dense) -> enc_gru (enc_gru)
 *   -> bottleneck (tanh, bottleneck) -> dec_gru (dec_gru)
 *   -> gain head (sigmoid, n_bands) from dec_gru [+ features if gain_skip]
 *   -> recon head (linear, n_bands) from dec_gru only
 *   -> vad head (sigmoid, 1) from dec_gru, if has_vad */
typedef struct
{
  DaeDense enc_dense;
  DaeGru enc_gru;
  DaeDense bottleneck;
  DaeGru dec_gru;
  DaeDense gain;
  DaeDense recon;
  DaeDense vad;                 /* n_out == 0 when absent */
} DaeNet;

/* A named parameter tensor inside a model, for I/O, init and training. */
typedef struct
{
  const char *name;             /* static string, e.g. "enc_gru.w" */
  float *data;
  size_t rows;
  size_t cols;                  /* 1 for vectors */
} DaeTensor;

#define DAE_MAX_TENSORS 24
#define DAE_MODEL_INFO_MAX 4096

struct DaeModel
{
  atomic_int refcount;
  DaeModelConfig config;
  float *band_centers;          /* n_bands, Hz */
  float *norm_mean;             /* n_bands, of log10 band energy */
  float *norm_std;              /* n_bands, > 0 */
  float *error_scale;           /* n_bands, > 0: band error divisors */
  float anomaly_threshold;      /* < 0: not calibrated */
  /* how the threshold was calibrated (DaeAnomalyCalibration without the
   * threshold); quantile 0 = unknown, then the others are 0 */
  float calib_quantile;
  float calib_false_alarms_per_hour;
  float calib_held_out_seconds;
  float calib_hold_seconds;
  char info[DAE_MODEL_INFO_MAX];        /* NUL-terminated */
  DaeNet net;
  size_t n_params;              /* trainable floats in net */
  unsigned weight_bits;         /* 32, or 16: every tensor value is an
                                 * IEEE half, and is stored as one */
  float gain_scale;             /* DAE_GAIN_SCALE_MIN..MAX: the network's
                                 * gains are multiplied by it (then capped
                                 * at 1) */
  float *storage;               /* one block: every array above */
};

/* Allocates a model for a validated config: all arrays zeroed, band centres
 * from dae_band_layout_erb (config->band_min_hz .. band_max_hz), norm mean
 * 0 / std 1, threshold -1, calibration unknown, refcount 1. */
DaeStatus       dae_model_alloc               (const DaeModelConfig *config,
                                               DaeModel **model_out,
                                               DaeError *error);
#define DAE_GAIN_SCALE_MIN 1.0
#define DAE_GAIN_SCALE_MAX 2.0

/* IEEE 754 binary16: dae_half_from_float rounds to the nearest half, ties
 * to even (beyond 65504 to infinity; NaN stays NaN); dae_half_to_float is
 * exact. */
uint16_t        dae_half_from_float           (float value);
float           dae_half_to_float             (uint16_t half);
#define DAE_HALF_MAX 65504.0f

/* Fills tensors[] with the model's trainable tensors in a fixed order;
 * returns their count (<= DAE_MAX_TENSORS). */
size_t          dae_model_list_tensors        (DaeModel *model,
                                               DaeTensor *tensors);
/* Deterministic Glorot-uniform weights, zero biases (GRU update-gate bias
 * +1), from seed. */
void            dae_model_init_random         (DaeModel *model,
                                               uint64_t seed);

/* Small deterministic PRNG (splitmix64 / xoshiro-style), for init and
 * training; no global state. */
typedef struct
{
  uint64_t s;
} DaeRng;
void            dae_rng_seed                  (DaeRng *rng,
                                               uint64_t seed);
uint64_t        dae_rng_next                  (DaeRng *rng);
/* uniform in [0, 1) */
float           dae_rng_uniform               (DaeRng *rng);
/* standard normal */
float           dae_rng_normal                (DaeRng *rng);

/* ------------------------------------------------------------------------ */
/* net.c: forward (streaming, one frame) and training (sequences)            */

/* net-int8.c: int8 weights for dae_net_step (see there) */

/* acc[16 b + i] = the exact integer sum of block b's row i (see net-int8.c
 * for the layout); acc holds 16 * n_blocks int32s */
typedef void (*DaeQKernel) (const int8_t *w, size_t n_blocks, size_t cols4,
    const uint8_t *xq, int32_t *acc);

typedef struct
{
  size_t rows;
  size_t cols;
  size_t cols4;                 /* columns rounded up to 4, / 4 */
  size_t n_blocks;              /* rows rounded up to 16, / 16 */
  int8_t *w;
  float *scale;                 /* per row: max |w| / 127 (0: a zero row) */
  int32_t *offset;              /* per row: 128 * the sum of its int8 weights */
} DaeQMat;

/* The quantised matrices of a net and their scratch; built once (from the
 * net's float weights, which it does not track afterwards), then only read
 * except for the scratch, so one DaeQNet serves one stream. */
typedef struct
{
  DaeQMat enc_w;
  DaeQMat enc_uzr;              /* U rows of the z and r gates */
  DaeQMat enc_un;               /* U rows of the n gate */
  DaeQMat dec_w;
  DaeQMat dec_uzr;
  DaeQMat dec_un;
  DaeQMat bottleneck;
  DaeQKernel kernel;
  int32_t *acc;                 /* scratch */
  uint8_t *xq;                  /* scratch */
  void *block;                  /* the one allocation */
} DaeQNet;

/* The kernels this CPU can run, fastest first (AVX-512 VNNI, AVX2, then
 * the portable one, always last), with their names; returns how many there
 * are (fills at most max).  They all give the same integers. */
size_t          dae_qkernels                  (DaeQKernel *kernels,
                                               const char **names,
                                               size_t max);
/* The portable kernel, and the fastest one for this CPU. */
DaeQKernel      dae_qkernel_generic           (void);
DaeQKernel      dae_qkernel_best              (void);
/* kernel NULL: dae_qkernel_best () */
DaeStatus       dae_qnet_init                 (DaeQNet *q,
                                               const DaeNet *net,
                                               DaeQKernel kernel);
void            dae_qnet_clear                (DaeQNet *q);
/* Quantises x[0, cols) into q's input scratch, padded to 4 * cols4;
 * returns its scale, 0 when x adds nothing (all zero or NaN). */
float           dae_qnet_quantize             (const DaeQNet *q,
                                               const float *x,
                                               size_t cols,
                                               size_t cols4);
/* y[0, m->rows) += M x for the x last quantised (m->cols of it), sx its
 * scale (> 0) */
void            dae_qmat_apply                (const DaeQNet *q,
                                               const DaeQMat *m,
                                               float sx,
                                               float *y);
/* Both: y[0, m->rows) += M x, with x quantised to 8 bits; no allocation */
void            dae_qmat_matvec_add           (const DaeQNet *q,
                                               const DaeQMat *m,
                                               const float *x,
                                               float *y);

/* Per-stream recurrent state and scratch for dae_net_step; sized from the
 * model at init, never reallocated. */
typedef struct
{
  float *enc_h;                 /* enc_gru.n_hidden */
  float *dec_h;                 /* dec_gru.n_hidden */
  float *scratch;               /* see net.c */
  size_t scratch_size;
} DaeNetState;

DaeStatus       dae_net_state_init            (DaeNetState *state,
                                               const DaeNet *net);
void            dae_net_state_clear           (DaeNetState *state);
void            dae_net_state_reset           (DaeNetState *state);

/* One frame: features (n_bands) -> gains (n_bands, in [0,1]),
 * recon (n_bands), vad (1 float, may be NULL if the net has none).
 * q: NULL for float weights throughout, or the net's int8 matrices (built
 * by dae_qnet_init () from this net) for the GRUs and the bottleneck.
 * No allocation. */
void            dae_net_step                  (const DaeNet *net,
                                               const DaeQNet *q,
                                               DaeNetState *state,
                                               const float *features,
                                               float *gains,
                                               float *recon,
                                               float *vad);

/* Layer primitives over a sequence of T frames (row-major [T][dim]), used by
 * the trainer and by the gradient-check tests.  Backward functions
 * *accumulate* into the parameter gradients (same layout as the layer) and
 * write (not accumulate) the input gradient dx when it is non-NULL. */
void            dae_dense_forward_seq         (const DaeDense *layer,
                                               size_t T,
                                               const float *x,
                                               float *y);
void            dae_dense_backward_seq        (const DaeDense *layer,
                                               size_t T,
                                               const float *x,
                                               const float *y,
                                               const float *dy,
                                               DaeDense *grad,
                                               float *dx);

/* h0: initial state (n_hidden, NULL = zeros); h: [T][n_hidden] outputs;
 * cache: [T][4 * n_hidden] (z, r, n, Un h + bhn) kept for backward. */
void            dae_gru_forward_seq           (const DaeGru *layer,
                                               size_t T,
                                               const float *x,
                                               const float *h0,
                                               float *h,
                                               float *cache);
/* Backpropagation through time.  dh: [T][n_hidden] gradient of the loss
 * w.r.t. each output h[t] (only direct contributions; the recurrence is
 * handled here).  work: scratch of 6 * n_hidden floats. */
void            dae_gru_backward_seq          (const DaeGru *layer,
                                               size_t T,
                                               const float *x,
                                               const float *h0,
                                               const float *h,
                                               const float *cache,
                                               const float *dh,
                                               DaeGru *grad,
                                               float *dx,
                                               float *work);

/* ------------------------------------------------------------------------ */
/* model.c / model-io.c: additions for I/O and tests                          */

/* As dae_model_list_tensors() for a validated config, without a model:
 * fills names, rows and cols (data = NULL) in the same fixed order. */
size_t          dae_model_config_tensor_shapes (const DaeModelConfig *config,
                                               DaeTensor *tensors);
/* Checks the values of a model (band centres, normalisation, threshold,
 * info, every weight finite); on failure returns status with a message
 * naming the record.  Used by the reader (DAE_ERROR_BAD_FORMAT) and the
 * writer (DAE_ERROR_INVALID_ARGUMENT). */
DaeStatus       dae_model_check_values        (const DaeModel *model,
                                               DaeStatus status,
                                               DaeError *error);
/* CRC-32 (IEEE 802.3, reflected, as zlib's crc32 ()): start with crc = 0 and
 * feed consecutive chunks. */
uint32_t        dae_crc32                     (uint32_t crc,
                                               const void *data,
                                               size_t size);

#endif /* DAE_PRIVATE_H */
