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
 * primitives; both use dae_sigmoid and dae_tanh (dae-private.h).
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
    for (b = 0; b < B; b++) {
      float *row = rows + b * 4 * H;

      for (i = 0; i < H; i++) {
        float z = dae_sigmoid (row[i]);
        float rr = dae_sigmoid (row[H + i]);
        float n = dae_tanh (row[2 * H + i] + rr * row[3 * H + i]);
        float hp = h_prev != NULL ? h_prev[b * H + i] : 0.0f;

        row[i] = z;
        row[H + i] = rr;
        row[2 * H + i] = n;
        h_out[b * H + i] = (1.0f - z) * n + z * hp;
      }
    }
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
  size_t i;

  if (R == 0)
    return;
  memset (c, 0, B * H * sizeof (float));

  for (t = T; t-- > 0;) {
    const float *h_prev = t > 0 ? h + (t - 1) * B * H : NULL;
    float *grows = gates + t * B * 4 * H;
    size_t b;

    for (b = 0; b < B; b++) {
      const float *row = cache + (t * B + b) * 4 * H;
      const float *dhr = dh + (t * B + b) * H;
      float *g4 = grows + b * 4 * H;
      float *cb = c + b * H;

      for (i = 0; i < H; i++) {
        float z = row[i];
        float rr = row[H + i];
        float n = row[2 * H + i];
        float hn = row[3 * H + i];
        float pi = h_prev != NULL ? h_prev[b * H + i] : 0.0f;
        float gi = dhr[i] + cb[i];
        float da_n = gi * (1.0f - z) * (1.0f - n * n);

        g4[i] = gi * (pi - n) * z * (1.0f - z);
        g4[H + i] = da_n * hn * rr * (1.0f - rr);
        g4[2 * H + i] = da_n;
        g4[3 * H + i] = da_n * rr;
        cb[i] = gi * z;
      }
    }
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

    for (i = 0; i < 3 * H; i++)
      grad->bx[i] += g4[i];
    for (i = 0; i < 2 * H; i++)
      grad->bh[i] += g4[i];
    for (i = 0; i < H; i++)
      grad->bh[2 * H + i] += g4[3 * H + i];
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
