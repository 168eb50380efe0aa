/* libdae — the network: streaming forward pass and sequence primitives
 * Copyright (C) 2026 The dae authors
 * SPDX-License-Identifier: LGPL-2.1-or-later
 *
 * Two views of the same network (see DaeNet in dae-private.h):
 *
 *  - dae_net_step() runs one frame for the streaming processor with
 *    matrix-vector products (matvec_add() below) and no allocation;
 *  - the *_seq primitives run one layer over T frames at once (cblas_sgemm
 *    where the frames are independent) and backpropagate through it, for the
 *    trainer and the gradient-check tests.
 *
 * Both compute every GRU step in the same order (biases first, then the
 * input product, then the recurrent product, see dae_gru_gates ()), so a
 * streaming run matches a sequence run to float rounding.
 *
 * Matrices are row-major; a dense layer's W is [n_out][n_in], a GRU's W is
 * [3H][n_in] and U is [3H][H] with gate blocks z, r, n.
 */

#include <assert.h>
#include <math.h>
#include <string.h>

#include <cblas.h>

#include "dae-private.h"

/* ------------------------------------------------------------------------ */
/* Activations                                                               */

static void
activate (DaeActivation act, float *v, size_t n)
{
  size_t i;

  switch (act) {
    case DAE_ACT_LINEAR:
      break;
    case DAE_ACT_TANH:
      dae_tanh_array (v, n);
      break;
    case DAE_ACT_SIGMOID:
      dae_sigmoid_array (v, n);
      break;
    case DAE_ACT_RELU:
      for (i = 0; i < n; i++)
        v[i] = v[i] > 0.0f ? v[i] : 0.0f;
      break;
  }
}

/* v[i] = f (v[i]), four lanes at a time; a partial group goes through a
 * zero-padded copy (static inline with a constant f: the compiler inlines
 * both) */
static inline void
map_vec4 (float *v, size_t n, DaeVec4 (*f) (DaeVec4))
{
  float pad[4];
  size_t i;

  for (i = 0; i + 4 <= n; i += 4)
    dae_vec4_store (v + i, f (dae_vec4_load (v + i)));
  if (i < n) {
    memset (pad, 0, sizeof (pad));
    memcpy (pad, v + i, (n - i) * sizeof (float));
    dae_vec4_store (pad, f (dae_vec4_load (pad)));
    memcpy (v + i, pad, (n - i) * sizeof (float));
  }
}

void
dae_sigmoid_array (float *v, size_t n)
{
  map_vec4 (v, n, dae_vec4_sigmoid);
}

void
dae_tanh_array (float *v, size_t n)
{
  map_vec4 (v, n, dae_vec4_tanh);
}

/* Four units at a time: z, r, n and h of units i .. i + 3 (the last group
 * of a layer whose size is not a multiple of four through zero-padded
 * copies).  Each group reads its h_prev lanes before it writes h_out's, so
 * h_prev may equal h_out. */
static void
gru_gates4 (const float *a_z, const float *a_r, const float *a_nx,
    const float *a_nh, const float *h_prev, float *z_out, float *r_out,
    float *n_out, float *h_out)
{
  DaeVec4 z = dae_vec4_sigmoid (dae_vec4_load (a_z));
  DaeVec4 r = dae_vec4_sigmoid (dae_vec4_load (a_r));
  DaeVec4 n = dae_vec4_tanh (dae_vec4_load (a_nx) + r * dae_vec4_load (a_nh));
  DaeVec4 hp = h_prev != NULL ? dae_vec4_load (h_prev) : DAE_VEC4 (0.0f);

  dae_vec4_store (z_out, z);
  dae_vec4_store (r_out, r);
  dae_vec4_store (n_out, n);
  dae_vec4_store (h_out, (DAE_VEC4 (1.0f) - z) * n + z * hp);
}

void
dae_gru_gates (size_t H, float *row, const float *h_prev, float *h_out)
{
  size_t i;

  for (i = 0; i + 4 <= H; i += 4)
    gru_gates4 (row + i, row + H + i, row + 2 * H + i, row + 3 * H + i,
        h_prev != NULL ? h_prev + i : NULL, row + i, row + H + i,
        row + 2 * H + i, h_out + i);
  if (i < H) {
    float pad[9][4];
    size_t m = H - i;
    size_t j;

    memset (pad, 0, sizeof (pad));
    for (j = 0; j < 4; j++)
      memcpy (pad[j], row + j * H + i, m * sizeof (float));
    if (h_prev != NULL)
      memcpy (pad[4], h_prev + i, m * sizeof (float));
    gru_gates4 (pad[0], pad[1], pad[2], pad[3], h_prev != NULL ? pad[4] : NULL,
        pad[5], pad[6], pad[7], pad[8]);
    memcpy (row + i, pad[5], m * sizeof (float));
    memcpy (row + H + i, pad[6], m * sizeof (float));
    memcpy (row + 2 * H + i, pad[7], m * sizeof (float));
    memcpy (h_out + i, pad[8], m * sizeof (float));
  }
}

/* g = dy * f'(a), with the derivative written in terms of the output
 * y = f (a): linear 1, tanh 1 - y^2, sigmoid y (1 - y), relu [y > 0]. */
static void
activation_backward (DaeActivation act, const float *y, const float *dy,
    float *g, size_t n)
{
  size_t i;

  switch (act) {
    case DAE_ACT_LINEAR:
      memcpy (g, dy, n * sizeof (float));
      break;
    case DAE_ACT_TANH:
      for (i = 0; i < n; i++)
        g[i] = dy[i] * (1.0f - y[i] * y[i]);
      break;
    case DAE_ACT_SIGMOID:
      for (i = 0; i < n; i++)
        g[i] = dy[i] * y[i] * (1.0f - y[i]);
      break;
    case DAE_ACT_RELU:
      for (i = 0; i < n; i++)
        g[i] = y[i] > 0.0f ? dy[i] : 0.0f;
      break;
  }
}

/* ------------------------------------------------------------------------ */
/* Matrix-vector product                                                     */

/* y += A x, A row-major [rows][cols].  The per-frame path uses this rather
 * than cblas_sgemv: OpenBLAS picks its kernels by CPU model and Debian 12's
 * (0.3.21) falls back to generic SSE3 ones on CPUs it does not know, which
 * doubled the element's CPU time on an AVX-512 machine.  With GCC on x86-64
 * the function is compiled for AVX-512, AVX2 and the baseline, and the
 * dynamic loader picks the clone for the CPU (target_clones); elsewhere it
 * is the portable code.  Every row is summed in the same order by every
 * clone: eight lanes of four interleaved accumulators, then the lanes
 * pairwise, then the leftover columns. */
typedef float DaeVec8 __attribute__((vector_size (32)));

/* Not under ThreadSanitizer: the loader runs the clones' resolver before
 * the TSan runtime is initialised, and the instrumented resolver crashes. */
#if defined(__GNUC__) && !defined(__clang__) && defined(__x86_64__) \
    && defined(__linux__) && !defined(__SANITIZE_THREAD__)
#define DAE_TARGET_CLONES \
  __attribute__ ((target_clones ("avx512f", "avx2", "default")))
#else
#define DAE_TARGET_CLONES
#endif

/* acc += a[0..7] * x[0..7], unaligned (a macro: passing or returning a
 * 32-byte vector by value changes the ABI between the clones) */
#define MAC8(acc, a, x) \
  do { \
    DaeVec8 va_, vx_; \
    memcpy (&va_, (a), sizeof (va_)); \
    memcpy (&vx_, (x), sizeof (vx_)); \
    (acc) += va_ * vx_; \
  } while (0)

DAE_TARGET_CLONES static void
matvec_add (size_t rows, size_t cols, const float *a, const float *x, float *y)
{
  size_t r;

  for (r = 0; r < rows; r++) {
    const float *row = a + r * cols;
    DaeVec8 acc0 = { 0 };
    DaeVec8 acc1 = { 0 };
    DaeVec8 acc2 = { 0 };
    DaeVec8 acc3 = { 0 };
    DaeVec8 acc;
    float sum;
    size_t c = 0;

    for (; c + 32 <= cols; c += 32) {
      MAC8 (acc0, row + c, x + c);
      MAC8 (acc1, row + c + 8, x + c + 8);
      MAC8 (acc2, row + c + 16, x + c + 16);
      MAC8 (acc3, row + c + 24, x + c + 24);
    }
    for (; c + 8 <= cols; c += 8)
      MAC8 (acc0, row + c, x + c);
    acc = (acc0 + acc1) + (acc2 + acc3);
    sum = ((acc[0] + acc[4]) + (acc[1] + acc[5]))
        + ((acc[2] + acc[6]) + (acc[3] + acc[7]));
    for (; c < cols; c++)
      sum += row[c] * x[c];
    y[r] += sum;
  }
}

/* ------------------------------------------------------------------------ */
/* Dense layer                                                               */

/* One frame: y = act (W x + b). */
static void
dense_step (const DaeDense * layer, const float *x, float *y)
{
  memcpy (y, layer->b, layer->n_out * sizeof (float));
  matvec_add (layer->n_out, layer->n_in, layer->w, x, y);
  activate (layer->act, y, layer->n_out);
}

/* Y[T][n_out] = act (X[T][n_in] W^T + 1 b^T) */
void
dae_dense_forward_seq (const DaeDense * layer, size_t T, const float *x,
    float *y)
{
  size_t t;

  if (T == 0)
    return;
  for (t = 0; t < T; t++)
    memcpy (y + t * layer->n_out, layer->b, layer->n_out * sizeof (float));
  cblas_sgemm (CblasRowMajor, CblasNoTrans, CblasTrans, (int) T,
      (int) layer->n_out, (int) layer->n_in, 1.0f, x, (int) layer->n_in,
      layer->w, (int) layer->n_in, 1.0f, y, (int) layer->n_out);
  activate (layer->act, y, T * layer->n_out);
}

/* Floats of stack used by dae_dense_backward_seq() for the pre-activation
 * gradient, so that it needs no allocation and no caller scratch. */
#define DENSE_BACKWARD_CHUNK 4096

/* With G = dY ⊙ f'(A) (A the pre-activations, f' from Y):
 *   dW += G^T X        ([n_out][n_in])
 *   db += sum_t G[t]
 *   dX  = G W          ([T][n_in])
 * G is formed in blocks of at most DENSE_BACKWARD_CHUNK floats (a block of
 * output units times a chunk of frames) and each block is applied with
 * cblas_sgemm. */
void
dae_dense_backward_seq (const DaeDense * layer, size_t T, const float *x,
    const float *y, const float *dy, DaeDense * grad, float *dx)
{
  float g[DENSE_BACKWARD_CHUNK];
  const size_t n_in = layer->n_in;
  const size_t n_out = layer->n_out;
  size_t block;
  size_t chunk;
  size_t o0;
  size_t t0;
  size_t t;
  size_t j;

  if (T == 0 || n_out == 0)
    return;
  if (dx != NULL)
    memset (dx, 0, T * n_in * sizeof (float));

  block = n_out < DENSE_BACKWARD_CHUNK ? n_out : DENSE_BACKWARD_CHUNK;
  chunk = DENSE_BACKWARD_CHUNK / block;

  for (o0 = 0; o0 < n_out; o0 += block) {
    size_t nb = n_out - o0 < block ? n_out - o0 : block;

    for (t0 = 0; t0 < T; t0 += chunk) {
      size_t nt = T - t0 < chunk ? T - t0 : chunk;

      for (t = 0; t < nt; t++) {
        size_t row = (t0 + t) * n_out + o0;

        activation_backward (layer->act, y + row, dy + row, g + t * nb, nb);
        for (j = 0; j < nb; j++)
          grad->b[o0 + j] += g[t * nb + j];
      }

      /* dW[o0:o0+nb] += G^T X[t0:t0+nt] */
      cblas_sgemm (CblasRowMajor, CblasTrans, CblasNoTrans, (int) nb,
          (int) n_in, (int) nt, 1.0f, g, (int) nb, x + t0 * n_in, (int) n_in,
          1.0f, grad->w + o0 * n_in, (int) n_in);

      /* dX[t0:t0+nt] += G W[o0:o0+nb] */
      if (dx != NULL)
        cblas_sgemm (CblasRowMajor, CblasNoTrans, CblasNoTrans, (int) nt,
            (int) n_in, (int) nb, 1.0f, g, (int) nb, layer->w + o0 * n_in,
            (int) n_in, 1.0f, dx + t0 * n_in, (int) n_in);
    }
  }
}

/* ------------------------------------------------------------------------ */
/* GRU                                                                       */

/* A GRU step works on one row of 4H floats, the same layout as the training
 * cache.  Before dae_gru_gates () the row holds pre-activations:
 *   [0, H)    a_z = Wz x + bxz + bhz + Uz h_prev
 *   [H, 2H)   a_r = Wr x + bxr + bhr + Ur h_prev
 *   [2H, 3H)  Wn x + bxn
 *   [3H, 4H)  hn = Un h_prev + bhn
 * and afterwards the cache row (z, r, n, hn). */

/* Sets the bias part of a pre-activation row. */
static void
gru_row_biases (const DaeGru * layer, float *row)
{
  const size_t H = layer->n_hidden;
  size_t i;

  for (i = 0; i < 2 * H; i++)
    row[i] = layer->bx[i] + layer->bh[i];
  memcpy (row + 2 * H, layer->bx + 2 * H, H * sizeof (float));
  memcpy (row + 3 * H, layer->bh + 2 * H, H * sizeof (float));
}

/* Adds the recurrent products U h_prev to a pre-activation row. */
static void
gru_row_recurrent (const DaeGru * layer, const float *h_prev, float *row)
{
  const size_t H = layer->n_hidden;

  matvec_add (2 * H, H, layer->u, h_prev, row);
  matvec_add (H, H, layer->u + 2 * H * H, h_prev, row + 3 * H);
}

/* One frame, updating h in place; row: 4H floats of scratch.  With q
 * (non-NULL), the products use int8 weights: w is the layer's W, uzr and
 * un its U (see DaeQNet). */
static void
gru_step (const DaeGru * layer, const DaeQNet * q, const DaeQMat * w,
    const DaeQMat * uzr, const DaeQMat * un, const float *x, float *h,
    float *row)
{
  const size_t H = layer->n_hidden;

  gru_row_biases (layer, row);
  if (q != NULL) {
    float sh;

    dae_qmat_matvec_add (q, w, x, row);
    /* h quantised once for both parts of U */
    sh = dae_qnet_quantize (q, h, H, uzr->cols4);
    if (sh > 0.0f) {
      dae_qmat_apply (q, uzr, sh, row);
      dae_qmat_apply (q, un, sh, row + 3 * H);
    }
  } else {
    matvec_add (3 * H, layer->n_in, layer->w, x, row);
    gru_row_recurrent (layer, h, row);
  }
  dae_gru_gates (H, row, h, h);
}

/* The input products W x_t of all T frames go into the cache rows with one
 * cblas_sgemm (ldc = 4H); the recurrence then runs frame by frame. */
void
dae_gru_forward_seq (const DaeGru * layer, size_t T, const float *x,
    const float *h0, float *h, float *cache)
{
  const size_t H = layer->n_hidden;
  size_t t;

  if (T == 0)
    return;
  for (t = 0; t < T; t++)
    gru_row_biases (layer, cache + t * 4 * H);
  cblas_sgemm (CblasRowMajor, CblasNoTrans, CblasTrans, (int) T, (int) (3 * H),
      (int) layer->n_in, 1.0f, x, (int) layer->n_in, layer->w,
      (int) layer->n_in, 1.0f, cache, (int) (4 * H));

  for (t = 0; t < T; t++) {
    const float *h_prev = t > 0 ? h + (t - 1) * H : h0;
    float *row = cache + t * 4 * H;

    if (h_prev != NULL)
      gru_row_recurrent (layer, h_prev, row);
    dae_gru_gates (H, row, h_prev, h + t * H);
  }
}

/* Backpropagation through time, t = T-1 .. 0.  With g_t = dh[t] + c_t, where
 * c_t = dL/dh_t through h_{t+1} (c_{T-1} = 0), and p = h_{t-1} (h0 or 0):
 *
 *   dn   = g (1 - z)                 dz   = g (p - n)
 *   da_n = dn (1 - n^2)              da_z = dz z (1 - z)
 *   dhn  = da_n r                    da_r = da_n hn r (1 - r)
 *
 * Input side, gx = (da_z, da_r, da_n):
 *   dW += gx x_t^T,  dbx += gx,  dx_t = W^T gx
 * Recurrent side, gh = (da_z, da_r, dhn):
 *   dU += gh p^T,    dbh += gh,  c_{t-1} = g z + U^T gh
 *
 * work (6H): gates [4H] = (da_z, da_r, da_n, dhn), so gx is gates[0, 3H) and
 * gh is gates[0, 2H) + gates[3H, 4H); then g [H] and c [H].  Per frame the
 * products are rank-1 updates (cblas_sger) and cblas_sgemv: with 6H floats
 * of scratch the per-frame gradients cannot be kept for a batched sgemm. */
void
dae_gru_backward_seq (const DaeGru * layer, size_t T, const float *x,
    const float *h0, const float *h, const float *cache, const float *dh,
    DaeGru * grad, float *dx, float *work)
{
  const size_t H = layer->n_hidden;
  const size_t n_in = layer->n_in;
  float *gates = work;
  float *g = work + 4 * H;
  float *c = work + 5 * H;
  size_t t;
  size_t i;

  if (T == 0)
    return;
  memset (c, 0, H * sizeof (float));

  for (t = T; t-- > 0;) {
    const float *row = cache + t * 4 * H;
    const float *p = t > 0 ? h + (t - 1) * H : h0;

    for (i = 0; i < H; i++) {
      float z = row[i];
      float r = row[H + i];
      float n = row[2 * H + i];
      float hn = row[3 * H + i];
      float pi = p != NULL ? p[i] : 0.0f;
      float gi = dh[t * H + i] + c[i];
      float da_n = gi * (1.0f - z) * (1.0f - n * n);

      g[i] = gi;
      gates[i] = gi * (pi - n) * z * (1.0f - z);
      gates[H + i] = da_n * hn * r * (1.0f - r);
      gates[2 * H + i] = da_n;
      gates[3 * H + i] = da_n * r;
    }

    /* input side */
    cblas_sger (CblasRowMajor, (int) (3 * H), (int) n_in, 1.0f, gates, 1,
        x + t * n_in, 1, grad->w, (int) n_in);
    for (i = 0; i < 3 * H; i++)
      grad->bx[i] += gates[i];
    if (dx != NULL) {
      /* zeroed and accumulated: beta = 0 would still scale (not clear)
       * uninitialised memory in some CBLAS implementations */
      memset (dx + t * n_in, 0, n_in * sizeof (float));
      cblas_sgemv (CblasRowMajor, CblasTrans, (int) (3 * H), (int) n_in, 1.0f,
          layer->w, (int) n_in, gates, 1, 1.0f, dx + t * n_in, 1);
    }

    /* recurrent side */
    for (i = 0; i < 2 * H; i++)
      grad->bh[i] += gates[i];
    for (i = 0; i < H; i++)
      grad->bh[2 * H + i] += gates[3 * H + i];
    if (p != NULL) {
      cblas_sger (CblasRowMajor, (int) (2 * H), (int) H, 1.0f, gates, 1, p, 1,
          grad->u, (int) H);
      cblas_sger (CblasRowMajor, (int) H, (int) H, 1.0f, gates + 3 * H, 1, p,
          1, grad->u + 2 * H * H, (int) H);
    }
    if (t > 0) {
      for (i = 0; i < H; i++)
        c[i] = g[i] * row[i];
      cblas_sgemv (CblasRowMajor, CblasTrans, (int) (2 * H), (int) H, 1.0f,
          layer->u, (int) H, gates, 1, 1.0f, c, 1);
      cblas_sgemv (CblasRowMajor, CblasTrans, (int) H, (int) H, 1.0f,
          layer->u + 2 * H * H, (int) H, gates + 3 * H, 1, 1.0f, c, 1);
    }
  }
}

/* ------------------------------------------------------------------------ */
/* Streaming state and forward pass                                          */

/* The gain head sees concat (dec_h, features) when the model has the skip
 * connection; its input width tells. */
static int
has_gain_skip (const DaeNet * net)
{
  return net->gain.n_in == net->dec_gru.n_hidden + net->enc_dense.n_in;
}

/* Scratch layout for dae_net_step(), in floats:
 *   [0, enc)          enc_dense output
 *   [gates, +4H)      one GRU pre-activation row (4H for the wider GRU)
 *   [bottleneck, +B)  bottleneck output
 *   [gain_in, +G)     concat (dec_h, features) if gain_skip, else empty */
typedef struct
{
  size_t gates;
  size_t bottleneck;
  size_t gain_in;
  size_t total;
} ScratchLayout;

static void
scratch_layout (const DaeNet * net, ScratchLayout * layout)
{
  size_t h = net->enc_gru.n_hidden > net->dec_gru.n_hidden ?
      net->enc_gru.n_hidden : net->dec_gru.n_hidden;

  layout->gates = net->enc_dense.n_out;
  layout->bottleneck = layout->gates + 4 * h;
  layout->gain_in = layout->bottleneck + net->bottleneck.n_out;
  layout->total = layout->gain_in + (has_gain_skip (net) ? net->gain.n_in : 0);
}

/* enc_h, dec_h and scratch are consecutive parts of one allocation that
 * starts at enc_h; so dae_net_state_reset() can zero both hidden states
 * (everything before scratch) without seeing the net, and dae_net_state_clear()
 * frees enc_h only. */
DaeStatus
dae_net_state_init (DaeNetState * state, const DaeNet * net)
{
  ScratchLayout layout;
  size_t n_hidden;
  float *block;

  if (state == NULL)
    return DAE_ERROR_INVALID_ARGUMENT;
  memset (state, 0, sizeof (*state));
  if (net == NULL)
    return DAE_ERROR_INVALID_ARGUMENT;

  scratch_layout (net, &layout);
  n_hidden = net->enc_gru.n_hidden + net->dec_gru.n_hidden;
  if (layout.total > SIZE_MAX / sizeof (float) - n_hidden)
    return DAE_ERROR_NO_MEMORY;

  block = dae_calloc (n_hidden + layout.total, sizeof (float));
  if (block == NULL)
    return DAE_ERROR_NO_MEMORY;

  state->enc_h = block;
  state->dec_h = block + net->enc_gru.n_hidden;
  state->scratch = block + n_hidden;
  state->scratch_size = layout.total;
  return DAE_OK;
}

void
dae_net_state_clear (DaeNetState * state)
{
  if (state == NULL)
    return;
  dae_free (state->enc_h);
  memset (state, 0, sizeof (*state));
}

void
dae_net_state_reset (DaeNetState * state)
{
  if (state == NULL || state->enc_h == NULL)
    return;
  memset (state->enc_h, 0,
      (size_t) (state->scratch - state->enc_h) * sizeof (float));
}

/* If @vad is non-NULL but the net has no vad head, *vad is set to 0. */
void
dae_net_step (const DaeNet * net, const DaeQNet * q, DaeNetState * state,
    const float *features, float *gains, float *recon, float *vad)
{
  ScratchLayout layout;
  float *enc_out;
  float *gates;
  float *bottleneck_out;
  const float *head_in;

  scratch_layout (net, &layout);
  assert (state->scratch != NULL && state->scratch_size >= layout.total);
  assert (net->enc_gru.n_in == net->enc_dense.n_out);
  assert (net->bottleneck.n_in == net->enc_gru.n_hidden);
  assert (net->dec_gru.n_in == net->bottleneck.n_out);
  assert (net->recon.n_in == net->dec_gru.n_hidden);
  assert (net->gain.n_in == net->dec_gru.n_hidden || has_gain_skip (net));

  enc_out = state->scratch;
  gates = state->scratch + layout.gates;
  bottleneck_out = state->scratch + layout.bottleneck;

  /* The first layer (the features' range is wide) and the heads (the
   * gains are applied as they come out) stay in float. */
  dense_step (&net->enc_dense, features, enc_out);
  gru_step (&net->enc_gru, q, q ? &q->enc_w : NULL, q ? &q->enc_uzr : NULL,
      q ? &q->enc_un : NULL, enc_out, state->enc_h, gates);
  if (q != NULL) {
    memcpy (bottleneck_out, net->bottleneck.b,
        net->bottleneck.n_out * sizeof (float));
    dae_qmat_matvec_add (q, &q->bottleneck, state->enc_h, bottleneck_out);
    activate (net->bottleneck.act, bottleneck_out, net->bottleneck.n_out);
  } else {
    dense_step (&net->bottleneck, state->enc_h, bottleneck_out);
  }
  gru_step (&net->dec_gru, q, q ? &q->dec_w : NULL, q ? &q->dec_uzr : NULL,
      q ? &q->dec_un : NULL, bottleneck_out, state->dec_h, gates);

  head_in = state->dec_h;
  if (has_gain_skip (net)) {
    float *gain_in = state->scratch + layout.gain_in;

    memcpy (gain_in, state->dec_h, net->dec_gru.n_hidden * sizeof (float));
    memcpy (gain_in + net->dec_gru.n_hidden, features,
        net->enc_dense.n_in * sizeof (float));
    head_in = gain_in;
  }
  dense_step (&net->gain, head_in, gains);
  dense_step (&net->recon, state->dec_h, recon);

  if (vad != NULL) {
    if (net->vad.n_out > 0)
      dense_step (&net->vad, state->dec_h, vad);
    else
      vad[0] = 0.0f;
  }
}
