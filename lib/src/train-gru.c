/* libdae — the GRU over a batch of sequences, for the trainer
 * Copyright (C) 2026 The dae authors
 * SPDX-License-Identifier: LGPL-2.1-or-later
 *
 * The same layer and the same arithmetic as dae_gru_forward_seq () and
 * dae_gru_backward_seq () in net.c (see there for the equations and the
 * cache layout), but for B sequences at once in time-major order (row
 * t * B + b is frame t of sequence b), so that every product is a
 * cblas_sgemm: per step the recurrent products of all B sequences, and once
 * per batch the input products and all weight gradients.  Each sequence
 * starts from a zero state.  test-train checks it against the net.c
 * primitives; both compute the gates with dae_gru_gates () (net.c).
 */

#include <math.h>
#include <string.h>

#include <cblas.h>

#include "train-private.h"

void
dae_gru_forward_batch (const DaeGru * layer, size_t T, size_t B,
    const float *x, float *h, float *cache)
{
  const size_t H = layer->n_hidden;
  const size_t R = T * B;
  size_t t;
  size_t r;
  size_t i;

  if (R == 0)
    return;
  for (r = 0; r < R; r++) {
    float *row = cache + r * 4 * H;

    for (i = 0; i < 2 * H; i++)
      row[i] = layer->bx[i] + layer->bh[i];
    memcpy (row + 2 * H, layer->bx + 2 * H, H * sizeof (float));
    memcpy (row + 3 * H, layer->bh + 2 * H, H * sizeof (float));
  }
  cblas_sgemm (CblasRowMajor, CblasNoTrans, CblasTrans, (int) R, (int) (3 * H),
      (int) layer->n_in, 1.0f, x, (int) layer->n_in, layer->w,
      (int) layer->n_in, 1.0f, cache, (int) (4 * H));

  for (t = 0; t < T; t++) {
    float *rows = cache + t * B * 4 * H;
    const float *h_prev = t > 0 ? h + (t - 1) * B * H : NULL;
    float *h_out = h + t * B * H;
    size_t b;

    if (h_prev != NULL) {
      cblas_sgemm (CblasRowMajor, CblasNoTrans, CblasTrans, (int) B,
          (int) (2 * H), (int) H, 1.0f, h_prev, (int) H, layer->u, (int) H,
          1.0f, rows, (int) (4 * H));
      cblas_sgemm (CblasRowMajor, CblasNoTrans, CblasTrans, (int) B, (int) H,
          (int) H, 1.0f, h_prev, (int) H, layer->u + 2 * H * H, (int) H, 1.0f,
          rows + 3 * H, (int) (4 * H));
    }
    for (b = 0; b < B; b++)
      dae_gru_gates (H, rows + b * 4 * H,
          h_prev != NULL ? h_prev + b * H : NULL, h_out + b * H);
  }
}

/* dest[i] += src[i], four at a time (each element's sum over the rows
 * keeps its order, so this rounds as the plain loop does) */
static void
add_row (float *dest, const float *src, size_t n)
{
  size_t i;

  for (i = 0; i + 4 <= n; i += 4)
    dae_vec4_store (dest + i,
        dae_vec4_load (dest + i) + dae_vec4_load (src + i));
  for (; i < n; i++)
    dest[i] += src[i];
}

/* One frame of one sequence: the pre-activation gradients g4 = [d a_z |
 * d a_r | d a_n (input part) | d a_n (recurrent part)] from the gates in
 * row, dh and the carried gradient cb (replaced by its part through z).
 * Four units at a time, then the rest one by one: the same operations in
 * the same order, so the lanes and the scalar tail round alike. */
static void
gates_backward (size_t H, const float *row, const float *dh,
    const float *h_prev, float *g4, float *cb)
{
  const DaeVec4 one = DAE_VEC4 (1.0f);
  size_t i;

  for (i = 0; i + 4 <= H; i += 4) {
    DaeVec4 z = dae_vec4_load (row + i);
    DaeVec4 rr = dae_vec4_load (row + H + i);
    DaeVec4 n = dae_vec4_load (row + 2 * H + i);
    DaeVec4 hn = dae_vec4_load (row + 3 * H + i);
    DaeVec4 pi = h_prev != NULL ? dae_vec4_load (h_prev + i) : DAE_VEC4 (0.0f);
    DaeVec4 gi = dae_vec4_load (dh + i) + dae_vec4_load (cb + i);
    DaeVec4 da_n = gi * (one - z) * (one - n * n);

    dae_vec4_store (g4 + i, gi * (pi - n) * z * (one - z));
    dae_vec4_store (g4 + H + i, da_n * hn * rr * (one - rr));
    dae_vec4_store (g4 + 2 * H + i, da_n);
    dae_vec4_store (g4 + 3 * H + i, da_n * rr);
    dae_vec4_store (cb + i, gi * z);
  }
  for (; i < H; i++) {
    float z = row[i];
    float rr = row[H + i];
    float n = row[2 * H + i];
    float hn = row[3 * H + i];
    float pi = h_prev != NULL ? h_prev[i] : 0.0f;
    float gi = dh[i] + cb[i];
    float da_n = gi * (1.0f - z) * (1.0f - n * n);

    g4[i] = gi * (pi - n) * z * (1.0f - z);
    g4[H + i] = da_n * hn * rr * (1.0f - rr);
    g4[2 * H + i] = da_n;
    g4[3 * H + i] = da_n * rr;
    cb[i] = gi * z;
  }
}

void
dae_gru_backward_batch (const DaeGru * layer, size_t T, size_t B,
    const float *x, const float *h, const float *cache, const float *dh,
    DaeGru * grad, float *dx, float *gates, float *work)
{
  const size_t H = layer->n_hidden;
  const size_t n_in = layer->n_in;
  const size_t R = T * B;
  float *c = work;              /* [B][H]: dL/dh_t through h_{t+1} */
  size_t t;
  size_t r;

  if (R == 0)
    return;
  memset (c, 0, B * H * sizeof (float));

  for (t = T; t-- > 0;) {
    const float *h_prev = t > 0 ? h + (t - 1) * B * H : NULL;
    float *grows = gates + t * B * 4 * H;
    size_t b;

    for (b = 0; b < B; b++)
      gates_backward (H, cache + (t * B + b) * 4 * H, dh + (t * B + b) * H,
          h_prev != NULL ? h_prev + b * H : NULL, grows + b * 4 * H, c + b * H);
    if (t > 0) {
      cblas_sgemm (CblasRowMajor, CblasNoTrans, CblasNoTrans, (int) B,
          (int) H, (int) (2 * H), 1.0f, grows, (int) (4 * H), layer->u,
          (int) H, 1.0f, c, (int) H);
      cblas_sgemm (CblasRowMajor, CblasNoTrans, CblasNoTrans, (int) B,
          (int) H, (int) H, 1.0f, grows + 3 * H, (int) (4 * H),
          layer->u + 2 * H * H, (int) H, 1.0f, c, (int) H);
    }
  }

  /* input side: dW += G[:, 0:3H]^T X, dbx += sum G[:, 0:3H], dX = G W */
  cblas_sgemm (CblasRowMajor, CblasTrans, CblasNoTrans, (int) (3 * H),
      (int) n_in, (int) R, 1.0f, gates, (int) (4 * H), x, (int) n_in, 1.0f,
      grad->w, (int) n_in);
  if (dx != NULL) {
    memset (dx, 0, R * n_in * sizeof (float));
    cblas_sgemm (CblasRowMajor, CblasNoTrans, CblasNoTrans, (int) R,
        (int) n_in, (int) (3 * H), 1.0f, gates, (int) (4 * H), layer->w,
        (int) n_in, 1.0f, dx, (int) n_in);
  }
  for (r = 0; r < R; r++) {
    const float *g4 = gates + r * 4 * H;

    add_row (grad->bx, g4, 3 * H);
    add_row (grad->bh, g4, 2 * H);
    add_row (grad->bh + 2 * H, g4 + 3 * H, H);
  }

  /* recurrent side, frames 1 .. T-1 (the previous state of frame 0 is 0):
   * dU[0:2H] += G[:, 0:2H]^T P, dU[2H:3H] += G[:, 3H:4H]^T P, with P the
   * outputs one step earlier: rows 0 .. (T-1) B of h */
  if (T > 1) {
    const int K = (int) ((T - 1) * B);

    cblas_sgemm (CblasRowMajor, CblasTrans, CblasNoTrans, (int) (2 * H),
        (int) H, K, 1.0f, gates + B * 4 * H, (int) (4 * H), h, (int) H, 1.0f,
        grad->u, (int) H);
    cblas_sgemm (CblasRowMajor, CblasTrans, CblasNoTrans, (int) H, (int) H,
        K, 1.0f, gates + B * 4 * H + 3 * H, (int) (4 * H), h, (int) H, 1.0f,
        grad->u + 2 * H * H, (int) H);
  }
}
