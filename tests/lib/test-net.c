/* libdae — tests for the network (net.c)
 * Copyright (C) 2026 The dae authors
 * SPDX-License-Identifier: LGPL-2.1-or-later
 *
 * Gradient checks of the sequence primitives against central differences,
 * and the streaming forward pass against a composition of them.  Networks
 * are built by hand here (no model.c) with random weights from a fixed seed.
 */

#include <math.h>
#include <stdint.h>
#include <string.h>

#include <glib.h>

#include "dae-private.h"

/* central-difference step on float parameters and inputs */
#define GRAD_EPS 1e-3f
/* |numeric - analytic| <= GRAD_REL_TOL * max (|numeric|, |analytic|)
 *   + GRAD_ABS_TOL; the floor covers float rounding in the forward pass
 *   divided by 2 eps */
#define GRAD_REL_TOL 1e-2
#define GRAD_ABS_TOL 2e-3
/* constant the parameter gradients start from, to check that backward
 * accumulates rather than overwrites */
#define GRAD_OFFSET 0.25f
/* relu pre-activations must stay this far from the kink */
#define RELU_MARGIN 0.05f
/* streaming (sgemv per frame) vs sequence (sgemm over frames): float
 * rounding only */
#define STEP_TOL 1e-5
/* one GRU call over T frames vs T calls of one frame */
#define GRU_CHUNK_TOL 1e-6
/* random weights: uniform in +-WEIGHT_SCALE / sqrt (n_in); biases in
 * +-BIAS_SCALE */
#define WEIGHT_SCALE 1.5
#define BIAS_SCALE 0.5
#define TEST_SEED 0x5eed

/* ------------------------------------------------------------------------ */
/* Hand-built layers and networks                                            */

static void
fill_uniform (GRand * rand, float *v, size_t n, double scale)
{
  size_t i;

  for (i = 0; i < n; i++)
    v[i] = (float) g_rand_double_range (rand, -scale, scale);
}

static void
fill_constant (float *v, size_t n, float value)
{
  size_t i;

  for (i = 0; i < n; i++)
    v[i] = value;
}

/* rand == NULL: all zeros (a gradient accumulator) */
static void
dense_init (DaeDense * layer, size_t n_in, size_t n_out, DaeActivation act,
    GRand * rand)
{
  layer->n_in = n_in;
  layer->n_out = n_out;
  layer->act = act;
  layer->w = g_new0 (float, n_in * n_out);
  layer->b = g_new0 (float, n_out);
  if (rand != NULL) {
    fill_uniform (rand, layer->w, n_in * n_out, WEIGHT_SCALE / sqrt (n_in));
    fill_uniform (rand, layer->b, n_out, BIAS_SCALE);
  }
}

static void
dense_clear (DaeDense * layer)
{
  g_free (layer->w);
  g_free (layer->b);
  memset (layer, 0, sizeof (*layer));
}

static void
gru_init (DaeGru * layer, size_t n_in, size_t n_hidden, GRand * rand)
{
  layer->n_in = n_in;
  layer->n_hidden = n_hidden;
  layer->w = g_new0 (float, 3 * n_hidden * n_in);
  layer->u = g_new0 (float, 3 * n_hidden * n_hidden);
  layer->bx = g_new0 (float, 3 * n_hidden);
  layer->bh = g_new0 (float, 3 * n_hidden);
  if (rand != NULL) {
    fill_uniform (rand, layer->w, 3 * n_hidden * n_in,
        WEIGHT_SCALE / sqrt (n_in));
    fill_uniform (rand, layer->u, 3 * n_hidden * n_hidden,
        WEIGHT_SCALE / sqrt (n_hidden));
    fill_uniform (rand, layer->bx, 3 * n_hidden, BIAS_SCALE);
    fill_uniform (rand, layer->bh, 3 * n_hidden, BIAS_SCALE);
  }
}

static void
gru_clear (DaeGru * layer)
{
  g_free (layer->w);
  g_free (layer->u);
  g_free (layer->bx);
  g_free (layer->bh);
  memset (layer, 0, sizeof (*layer));
}

typedef struct
{
  const char *name;
  size_t n_bands;
  size_t enc_dense;
  size_t enc_gru;
  size_t bottleneck;
  size_t dec_gru;
  gboolean gain_skip;
  gboolean has_vad;
} NetShape;

/* largest n_bands below, for stack buffers in the step tests */
#define MAX_BANDS 8

static const NetShape net_shapes[] = {
  {"plain", 6, 7, 5, 3, 4, FALSE, FALSE},
  {"gain-skip", 6, 7, 5, 3, 4, TRUE, FALSE},
  {"vad", 6, 7, 5, 3, 4, FALSE, TRUE},
  {"gain-skip-vad", 6, 7, 4, 3, 5, TRUE, TRUE},
};

static void
net_init (DaeNet * net, const NetShape * shape, GRand * rand)
{
  g_assert_cmpuint (shape->n_bands, <=, MAX_BANDS);
  memset (net, 0, sizeof (*net));
  dense_init (&net->enc_dense, shape->n_bands, shape->enc_dense, DAE_ACT_TANH,
      rand);
  gru_init (&net->enc_gru, shape->enc_dense, shape->enc_gru, rand);
  dense_init (&net->bottleneck, shape->enc_gru, shape->bottleneck,
      DAE_ACT_TANH, rand);
  gru_init (&net->dec_gru, shape->bottleneck, shape->dec_gru, rand);
  dense_init (&net->gain,
      shape->dec_gru + (shape->gain_skip ? shape->n_bands : 0),
      shape->n_bands, DAE_ACT_SIGMOID, rand);
  dense_init (&net->recon, shape->dec_gru, shape->n_bands, DAE_ACT_LINEAR,
      rand);
  if (shape->has_vad)
    dense_init (&net->vad, shape->dec_gru, 1, DAE_ACT_SIGMOID, rand);
}

static void
net_clear (DaeNet * net)
{
  dense_clear (&net->enc_dense);
  gru_clear (&net->enc_gru);
  dense_clear (&net->bottleneck);
  gru_clear (&net->dec_gru);
  dense_clear (&net->gain);
  dense_clear (&net->recon);
  dense_clear (&net->vad);
}

typedef struct
{
  const char *name;
  float *data;
  size_t n;
} Param;

#define MAX_PARAMS 18

static void
add_param (Param * params, size_t *n, const char *name, float *data,
    size_t count)
{
  g_assert_cmpuint (*n, <, MAX_PARAMS);
  params[*n].name = name;
  params[*n].data = data;
  params[*n].n = count;
  (*n)++;
}

static void
add_dense_params (const char *w_name, const char *b_name, DaeDense * layer,
    Param * params, size_t *n)
{
  if (layer->n_out == 0)
    return;
  add_param (params, n, w_name, layer->w, layer->n_in * layer->n_out);
  add_param (params, n, b_name, layer->b, layer->n_out);
}

static void
add_gru_params (const char *const names[4], DaeGru * layer, Param * params,
    size_t *n)
{
  size_t h = layer->n_hidden;

  add_param (params, n, names[0], layer->w, 3 * h * layer->n_in);
  add_param (params, n, names[1], layer->u, 3 * h * h);
  add_param (params, n, names[2], layer->bx, 3 * h);
  add_param (params, n, names[3], layer->bh, 3 * h);
}

/* Every parameter tensor of @net, in a fixed order (the same for a net and
 * its gradient). */
static size_t
net_params (DaeNet * net, Param * params)
{
  static const char *const enc_names[4] = {
    "enc_gru.w", "enc_gru.u", "enc_gru.bx", "enc_gru.bh"
  };
  static const char *const dec_names[4] = {
    "dec_gru.w", "dec_gru.u", "dec_gru.bx", "dec_gru.bh"
  };
  size_t n = 0;

  add_dense_params ("enc_dense.w", "enc_dense.b", &net->enc_dense, params, &n);
  add_gru_params (enc_names, &net->enc_gru, params, &n);
  add_dense_params ("bottleneck.w", "bottleneck.b", &net->bottleneck, params,
      &n);
  add_gru_params (dec_names, &net->dec_gru, params, &n);
  add_dense_params ("gain.w", "gain.b", &net->gain, params, &n);
  add_dense_params ("recon.w", "recon.b", &net->recon, params, &n);
  add_dense_params ("vad.w", "vad.b", &net->vad, params, &n);
  g_assert_cmpuint (n, <=, MAX_PARAMS);
  return n;
}

static gboolean
net_gain_skip (const DaeNet * net)
{
  return net->gain.n_in != net->dec_gru.n_hidden;
}

/* ------------------------------------------------------------------------ */
/* The network over a sequence, composed from the _seq primitives            */

typedef struct
{
  size_t T;
  float *e;
  float *enc_h;
  float *enc_cache;
  float *bn;
  float *dec_h;
  float *dec_cache;
  float *gain_in;               /* NULL without gain skip */
  float *gain;
  float *recon;
  float *vad;                   /* NULL without vad head */
} SeqActs;

static void
seq_acts_init (SeqActs * a, const DaeNet * net, size_t T)
{
  memset (a, 0, sizeof (*a));
  a->T = T;
  a->e = g_new0 (float, T * net->enc_dense.n_out);
  a->enc_h = g_new0 (float, T * net->enc_gru.n_hidden);
  a->enc_cache = g_new0 (float, T * 4 * net->enc_gru.n_hidden);
  a->bn = g_new0 (float, T * net->bottleneck.n_out);
  a->dec_h = g_new0 (float, T * net->dec_gru.n_hidden);
  a->dec_cache = g_new0 (float, T * 4 * net->dec_gru.n_hidden);
  if (net_gain_skip (net))
    a->gain_in = g_new0 (float, T * net->gain.n_in);
  a->gain = g_new0 (float, T * net->gain.n_out);
  a->recon = g_new0 (float, T * net->recon.n_out);
  if (net->vad.n_out > 0)
    a->vad = g_new0 (float, T * net->vad.n_out);
}

static void
seq_acts_clear (SeqActs * a)
{
  g_free (a->e);
  g_free (a->enc_h);
  g_free (a->enc_cache);
  g_free (a->bn);
  g_free (a->dec_h);
  g_free (a->dec_cache);
  g_free (a->gain_in);
  g_free (a->gain);
  g_free (a->recon);
  g_free (a->vad);
  memset (a, 0, sizeof (*a));
}

static void
seq_forward (const DaeNet * net, const float *x, SeqActs * a)
{
  const size_t T = a->T;
  const size_t hd = net->dec_gru.n_hidden;
  const size_t nf = net->enc_dense.n_in;
  const float *head_in = a->dec_h;
  size_t t;

  dae_dense_forward_seq (&net->enc_dense, T, x, a->e);
  dae_gru_forward_seq (&net->enc_gru, T, a->e, NULL, a->enc_h, a->enc_cache);
  dae_dense_forward_seq (&net->bottleneck, T, a->enc_h, a->bn);
  dae_gru_forward_seq (&net->dec_gru, T, a->bn, NULL, a->dec_h, a->dec_cache);
  if (a->gain_in != NULL) {
    for (t = 0; t < T; t++) {
      memcpy (a->gain_in + t * (hd + nf), a->dec_h + t * hd,
          hd * sizeof (float));
      memcpy (a->gain_in + t * (hd + nf) + hd, x + t * nf, nf * sizeof (float));
    }
    head_in = a->gain_in;
  }
  dae_dense_forward_seq (&net->gain, T, head_in, a->gain);
  dae_dense_forward_seq (&net->recon, T, a->dec_h, a->recon);
  if (a->vad != NULL)
    dae_dense_forward_seq (&net->vad, T, a->dec_h, a->vad);
}

static void
add_into (float *dst, const float *src, size_t n)
{
  size_t i;

  for (i = 0; i < n; i++)
    dst[i] += src[i];
}

/* Backward through the whole net as the trainer does it: heads, then the
 * decoder GRU (BPTT), bottleneck, encoder GRU (BPTT), encoder dense; the
 * gain-skip gradient is added to dx at the end. */
static void
seq_backward (const DaeNet * net, const float *x, const SeqActs * a,
    const float *d_gain, const float *d_recon, const float *d_vad,
    DaeNet * grad, float *dx)
{
  const size_t T = a->T;
  const size_t hd = net->dec_gru.n_hidden;
  const size_t he = net->enc_gru.n_hidden;
  const size_t nf = net->enc_dense.n_in;
  float *d_dech = g_new0 (float, T * hd);
  float *tmp = g_new0 (float, T * hd);
  float *d_bn = g_new0 (float, T * net->bottleneck.n_out);
  float *d_ench = g_new0 (float, T * he);
  float *d_e = g_new0 (float, T * net->enc_dense.n_out);
  float *work = g_new0 (float, 6 * MAX (he, hd));
  float *d_gin = NULL;
  size_t t;

  dae_dense_backward_seq (&net->recon, T, a->dec_h, a->recon, d_recon,
      &grad->recon, tmp);
  add_into (d_dech, tmp, T * hd);
  if (a->vad != NULL) {
    dae_dense_backward_seq (&net->vad, T, a->dec_h, a->vad, d_vad,
        &grad->vad, tmp);
    add_into (d_dech, tmp, T * hd);
  }
  if (a->gain_in != NULL) {
    d_gin = g_new0 (float, T * (hd + nf));
    dae_dense_backward_seq (&net->gain, T, a->gain_in, a->gain, d_gain,
        &grad->gain, d_gin);
    for (t = 0; t < T; t++)
      add_into (d_dech + t * hd, d_gin + t * (hd + nf), hd);
  } else {
    dae_dense_backward_seq (&net->gain, T, a->dec_h, a->gain, d_gain,
        &grad->gain, tmp);
    add_into (d_dech, tmp, T * hd);
  }

  dae_gru_backward_seq (&net->dec_gru, T, a->bn, NULL, a->dec_h,
      a->dec_cache, d_dech, &grad->dec_gru, d_bn, work);
  dae_dense_backward_seq (&net->bottleneck, T, a->enc_h, a->bn, d_bn,
      &grad->bottleneck, d_ench);
  dae_gru_backward_seq (&net->enc_gru, T, a->e, NULL, a->enc_h,
      a->enc_cache, d_ench, &grad->enc_gru, d_e, work);
  dae_dense_backward_seq (&net->enc_dense, T, x, a->e, d_e,
      &grad->enc_dense, dx);

  if (d_gin != NULL)
    for (t = 0; t < T; t++)
      add_into (dx + t * nf, d_gin + t * (hd + nf) + hd, nf);

  g_free (d_dech);
  g_free (tmp);
  g_free (d_bn);
  g_free (d_ench);
  g_free (d_e);
  g_free (work);
  g_free (d_gin);
}

/* ------------------------------------------------------------------------ */
/* Gradient-check helpers                                                    */

typedef double (*LossFunc) (gpointer ctx);

/* Central difference of loss w.r.t. *p, dividing by the step actually
 * taken in float. */
static double
numeric_grad (float *p, LossFunc loss, gpointer ctx)
{
  float orig = *p;
  float plus = orig + GRAD_EPS;
  float minus = orig - GRAD_EPS;
  double l_plus;
  double l_minus;

  *p = plus;
  l_plus = loss (ctx);
  *p = minus;
  l_minus = loss (ctx);
  *p = orig;
  return (l_plus - l_minus) / ((double) plus - (double) minus);
}

static void
assert_grad_close (const char *what, size_t index, double numeric,
    double analytic)
{
  double err = fabs (numeric - analytic);
  double tol = GRAD_REL_TOL * MAX (fabs (numeric), fabs (analytic))
      + GRAD_ABS_TOL;

  if (!(err <= tol))
    g_test_message ("%s[%zu]: numeric %.6g, analytic %.6g", what, index,
        numeric, analytic);
  g_assert_cmpfloat (err, <=, tol);
}

/* Checks entries of @param (all if n_samples == 0, else n_samples random
 * ones) against the accumulated analytic gradient @grad (which started at
 * GRAD_OFFSET). */
static void
check_param (const char *what, float *param, const float *grad, size_t n,
    size_t n_samples, GRand * rand, LossFunc loss, gpointer ctx)
{
  size_t k;
  size_t count = n_samples == 0 || n_samples > n ? n : n_samples;

  for (k = 0; k < count; k++) {
    size_t i = count == n ? k : (size_t) g_rand_int_range (rand, 0, (gint) n);

    assert_grad_close (what, i, numeric_grad (param + i, loss, ctx),
        (double) grad[i] - GRAD_OFFSET);
  }
}

/* Checks the written (not accumulated) input gradient. */
static void
check_input (const char *what, float *x, const float *dx, size_t n,
    LossFunc loss, gpointer ctx)
{
  size_t i;

  for (i = 0; i < n; i++)
    assert_grad_close (what, i, numeric_grad (x + i, loss, ctx), dx[i]);
}

static double
dot_double (const float *a, const float *b, size_t n)
{
  double sum = 0.0;
  size_t i;

  for (i = 0; i < n; i++)
    sum += (double) a[i] * b[i];
  return sum;
}

/* ------------------------------------------------------------------------ */
/* /net/dense/gradient/<act>                                                 */

typedef struct
{
  DaeDense *layer;
  size_t T;
  float *x;
  float *y;
  const float *c;
} DenseCtx;

/* L = sum (c ⊙ y) */
static double
dense_loss (gpointer data)
{
  DenseCtx *ctx = data;

  dae_dense_forward_seq (ctx->layer, ctx->T, ctx->x, ctx->y);
  return dot_double (ctx->c, ctx->y, ctx->T * ctx->layer->n_out);
}

static const char *act_names[] = { "linear", "tanh", "sigmoid", "relu" };

static void
test_dense_gradient (gconstpointer data)
{
  const DaeActivation act = (DaeActivation) GPOINTER_TO_INT (data);
  const size_t T = 4;
  const size_t n_in = 5;
  const size_t n_out = 3;
  GRand *rand = g_rand_new_with_seed (TEST_SEED + act);
  DaeDense layer;
  DaeDense grad;
  DenseCtx ctx;
  float *x = g_new0 (float, T * n_in);
  float *y = g_new0 (float, T * n_out);
  float *c = g_new0 (float, T * n_out);
  float *dx = g_new0 (float, T * n_in);
  int attempt;

  g_test_summary ("Central differences match dae_dense_backward_seq() for "
      "every weight, bias and input, with relu pre-activations kept away "
      "from the kink; parameter gradients accumulate, dx is overwritten.");

  dense_init (&layer, n_in, n_out, act, rand);
  for (attempt = 0;; attempt++) {
    gboolean near_kink = FALSE;
    size_t i;

    g_assert_cmpint (attempt, <, 100);
    fill_uniform (rand, layer.w, n_in * n_out, WEIGHT_SCALE / sqrt (n_in));
    fill_uniform (rand, layer.b, n_out, BIAS_SCALE);
    fill_uniform (rand, x, T * n_in, 1.0);
    if (act != DAE_ACT_RELU)
      break;
    layer.act = DAE_ACT_LINEAR;
    dae_dense_forward_seq (&layer, T, x, y);
    layer.act = act;
    for (i = 0; i < T * n_out; i++)
      near_kink |= fabsf (y[i]) < RELU_MARGIN;
    if (!near_kink)
      break;
  }
  fill_uniform (rand, c, T * n_out, 1.0);

  dense_init (&grad, n_in, n_out, act, NULL);
  fill_constant (grad.w, n_in * n_out, GRAD_OFFSET);
  fill_constant (grad.b, n_out, GRAD_OFFSET);
  fill_constant (dx, T * n_in, NAN);

  dae_dense_forward_seq (&layer, T, x, y);
  dae_dense_backward_seq (&layer, T, x, y, c, &grad, dx);

  ctx.layer = &layer;
  ctx.T = T;
  ctx.x = x;
  ctx.y = y;
  ctx.c = c;
  check_param ("w", layer.w, grad.w, n_in * n_out, 0, rand, dense_loss, &ctx);
  check_param ("b", layer.b, grad.b, n_out, 0, rand, dense_loss, &ctx);
  check_input ("x", x, dx, T * n_in, dense_loss, &ctx);

  dense_clear (&layer);
  dense_clear (&grad);
  g_free (x);
  g_free (y);
  g_free (c);
  g_free (dx);
  g_rand_free (rand);
}

/* A layer wider than the backward's stack block, so the blocked path (over
 * output units and frame chunks) is used, against a direct computation. */
static void
test_dense_backward_blocks (void)
{
  const size_t T = 7;
  const size_t n_in = 3;
  const size_t n_out = 4099;
  GRand *rand = g_rand_new_with_seed (TEST_SEED);
  DaeDense layer;
  DaeDense grad;
  float *x = g_new0 (float, T * n_in);
  float *y = g_new0 (float, T * n_out);
  float *dy = g_new0 (float, T * n_out);
  float *dx = g_new0 (float, T * n_in);
  size_t t;
  size_t o;
  size_t i;

  g_test_summary ("dae_dense_backward_seq() on a layer with more outputs "
      "than its stack block matches a direct double-precision computation.");

  dense_init (&layer, n_in, n_out, DAE_ACT_TANH, rand);
  dense_init (&grad, n_in, n_out, DAE_ACT_TANH, NULL);
  fill_uniform (rand, x, T * n_in, 1.0);
  fill_uniform (rand, dy, T * n_out, 1.0);
  dae_dense_forward_seq (&layer, T, x, y);
  dae_dense_backward_seq (&layer, T, x, y, dy, &grad, dx);

  for (i = 0; i < n_in; i++) {
    for (t = 0; t < T; t++) {
      double sum = 0.0;

      for (o = 0; o < n_out; o++)
        sum += (double) dy[t * n_out + o] * (1.0 - (double) y[t * n_out + o]
            * y[t * n_out + o]) * layer.w[o * n_in + i];
      g_assert_cmpfloat_with_epsilon (dx[t * n_in + i], sum, STEP_TOL * 100);
    }
  }
  for (o = 0; o < n_out; o += 97) {
    double sum_b = 0.0;
    double sum_w = 0.0;

    for (t = 0; t < T; t++) {
      double g = (double) dy[t * n_out + o] * (1.0 - (double) y[t * n_out + o]
          * y[t * n_out + o]);

      sum_b += g;
      sum_w += g * x[t * n_in + 1];
    }
    g_assert_cmpfloat_with_epsilon (grad.b[o], sum_b, STEP_TOL);
    g_assert_cmpfloat_with_epsilon (grad.w[o * n_in + 1], sum_w, STEP_TOL);
  }

  dense_clear (&layer);
  dense_clear (&grad);
  g_free (x);
  g_free (y);
  g_free (dy);
  g_free (dx);
  g_rand_free (rand);
}

/* ------------------------------------------------------------------------ */
/* /net/gru/...                                                              */

typedef struct
{
  DaeGru *layer;
  size_t T;
  float *x;
  const float *h0;
  float *h;
  float *cache;
  const float *c;
} GruCtx;

/* L = sum (c ⊙ h) over all frames */
static double
gru_loss (gpointer data)
{
  GruCtx *ctx = data;

  dae_gru_forward_seq (ctx->layer, ctx->T, ctx->x, ctx->h0, ctx->h, ctx->cache);
  return dot_double (ctx->c, ctx->h, ctx->T * ctx->layer->n_hidden);
}

static void
test_gru_gradient (void)
{
  const size_t T = 5;
  const size_t n_in = 3;
  const size_t H = 4;
  GRand *rand = g_rand_new_with_seed (TEST_SEED);
  DaeGru layer;
  DaeGru grad;
  GruCtx ctx;
  float *x = g_new0 (float, T * n_in);
  float *h0 = g_new0 (float, H);
  float *h = g_new0 (float, T * H);
  float *cache = g_new0 (float, T * 4 * H);
  float *c = g_new0 (float, T * H);
  float *dx = g_new0 (float, T * n_in);
  float *work = g_new0 (float, 6 * H);

  g_test_summary ("Backpropagation through time over 5 frames from a "
      "nonzero initial state matches central differences for every entry "
      "of w, u, bx, bh and the input.");

  gru_init (&layer, n_in, H, rand);
  gru_init (&grad, n_in, H, NULL);
  fill_uniform (rand, x, T * n_in, 1.0);
  fill_uniform (rand, h0, H, 0.8);
  fill_uniform (rand, c, T * H, 1.0);
  fill_constant (grad.w, 3 * H * n_in, GRAD_OFFSET);
  fill_constant (grad.u, 3 * H * H, GRAD_OFFSET);
  fill_constant (grad.bx, 3 * H, GRAD_OFFSET);
  fill_constant (grad.bh, 3 * H, GRAD_OFFSET);
  fill_constant (dx, T * n_in, NAN);
  fill_constant (work, 6 * H, NAN);

  dae_gru_forward_seq (&layer, T, x, h0, h, cache);
  dae_gru_backward_seq (&layer, T, x, h0, h, cache, c, &grad, dx, work);

  ctx.layer = &layer;
  ctx.T = T;
  ctx.x = x;
  ctx.h0 = h0;
  ctx.h = h;
  ctx.cache = cache;
  ctx.c = c;
  check_param ("w", layer.w, grad.w, 3 * H * n_in, 0, rand, gru_loss, &ctx);
  check_param ("u", layer.u, grad.u, 3 * H * H, 0, rand, gru_loss, &ctx);
  check_param ("bx", layer.bx, grad.bx, 3 * H, 0, rand, gru_loss, &ctx);
  check_param ("bh", layer.bh, grad.bh, 3 * H, 0, rand, gru_loss, &ctx);
  check_input ("x", x, dx, T * n_in, gru_loss, &ctx);

  gru_clear (&layer);
  gru_clear (&grad);
  g_free (x);
  g_free (h0);
  g_free (h);
  g_free (cache);
  g_free (c);
  g_free (dx);
  g_free (work);
  g_rand_free (rand);
}

static void
test_gru_chunked (void)
{
  const size_t T = 8;
  const size_t n_in = 5;
  const size_t H = 6;
  GRand *rand = g_rand_new_with_seed (TEST_SEED);
  DaeGru layer;
  float *x = g_new0 (float, T * n_in);
  float *h0 = g_new0 (float, H);
  float *h_seq = g_new0 (float, T * H);
  float *cache_seq = g_new0 (float, T * 4 * H);
  float *h_one = g_new0 (float, T * H);
  float *cache_one = g_new0 (float, T * 4 * H);
  size_t t;
  size_t i;

  g_test_summary ("dae_gru_forward_seq() called once per frame, each call "
      "starting from the previous output, gives the outputs and cache of one "
      "call over all frames.");

  gru_init (&layer, n_in, H, rand);
  fill_uniform (rand, x, T * n_in, 1.0);
  fill_uniform (rand, h0, H, 0.8);

  dae_gru_forward_seq (&layer, T, x, h0, h_seq, cache_seq);
  for (t = 0; t < T; t++)
    dae_gru_forward_seq (&layer, 1, x + t * n_in,
        t > 0 ? h_one + (t - 1) * H : h0, h_one + t * H, cache_one + t * 4 * H);

  for (i = 0; i < T * H; i++)
    g_assert_cmpfloat_with_epsilon (h_one[i], h_seq[i], GRU_CHUNK_TOL);
  for (i = 0; i < T * 4 * H; i++)
    g_assert_cmpfloat_with_epsilon (cache_one[i], cache_seq[i], GRU_CHUNK_TOL);

  gru_clear (&layer);
  g_free (x);
  g_free (h0);
  g_free (h_seq);
  g_free (cache_seq);
  g_free (h_one);
  g_free (cache_one);
  g_rand_free (rand);
}

/* ------------------------------------------------------------------------ */
/* /net/chain/gradient/<shape>                                               */

typedef struct
{
  DaeNet *net;
  float *x;
  SeqActs *acts;
  const float *c_gain;
  const float *target;
  const float *c_vad;
} ChainCtx;

/* L = sum (c_gain ⊙ gain) + 0.5 sum ((recon - target)^2)
 *   + sum (c_vad ⊙ vad) */
static double
chain_loss (gpointer data)
{
  ChainCtx *ctx = data;
  const DaeNet *net = ctx->net;
  const size_t T = ctx->acts->T;
  double loss;
  size_t i;

  seq_forward (net, ctx->x, ctx->acts);
  loss = dot_double (ctx->c_gain, ctx->acts->gain, T * net->gain.n_out);
  for (i = 0; i < T * net->recon.n_out; i++) {
    double d = (double) ctx->acts->recon[i] - ctx->target[i];

    loss += 0.5 * d * d;
  }
  if (ctx->acts->vad != NULL)
    loss += dot_double (ctx->c_vad, ctx->acts->vad, T * net->vad.n_out);
  return loss;
}

/* sampled entries per parameter tensor */
#define CHAIN_SAMPLES 5

static void
test_chain_gradient (gconstpointer data)
{
  const NetShape *shape = data;
  const size_t T = 6;
  const size_t nb = shape->n_bands;
  GRand *rand = g_rand_new_with_seed (TEST_SEED);
  DaeNet net;
  DaeNet grad;
  SeqActs acts;
  ChainCtx ctx;
  Param params[MAX_PARAMS];
  Param grads[MAX_PARAMS];
  size_t n_params;
  size_t n_grads;
  size_t i;
  float *x = g_new0 (float, T * nb);
  float *c_gain = g_new0 (float, T * nb);
  float *target = g_new0 (float, T * nb);
  float *c_vad = g_new0 (float, T);
  float *d_recon = g_new0 (float, T * nb);
  float *dx = g_new0 (float, T * nb);

  g_test_summary ("Backpropagation through the whole stack (dense, GRU, "
      "dense, GRU, gain/recon/vad heads, optional gain skip) with a loss on "
      "every head matches central differences for sampled entries of every "
      "parameter tensor and for every input.");

  net_init (&net, shape, rand);
  net_init (&grad, shape, NULL);
  seq_acts_init (&acts, &net, T);
  fill_uniform (rand, x, T * nb, 1.5);
  fill_uniform (rand, c_gain, T * nb, 1.0);
  fill_uniform (rand, target, T * nb, 1.0);
  fill_uniform (rand, c_vad, T, 1.0);

  n_params = net_params (&net, params);
  n_grads = net_params (&grad, grads);
  g_assert_cmpuint (n_params, ==, n_grads);
  for (i = 0; i < n_grads; i++)
    fill_constant (grads[i].data, grads[i].n, GRAD_OFFSET);
  fill_constant (dx, T * nb, NAN);

  ctx.net = &net;
  ctx.x = x;
  ctx.acts = &acts;
  ctx.c_gain = c_gain;
  ctx.target = target;
  ctx.c_vad = c_vad;
  chain_loss (&ctx);
  for (i = 0; i < T * nb; i++)
    d_recon[i] = acts.recon[i] - target[i];
  seq_backward (&net, x, &acts, c_gain, d_recon, c_vad, &grad, dx);

  for (i = 0; i < n_params; i++)
    check_param (params[i].name, params[i].data, grads[i].data, params[i].n,
        CHAIN_SAMPLES, rand, chain_loss, &ctx);
  check_input ("features", x, dx, T * nb, chain_loss, &ctx);

  seq_acts_clear (&acts);
  net_clear (&net);
  net_clear (&grad);
  g_free (x);
  g_free (c_gain);
  g_free (target);
  g_free (c_vad);
  g_free (d_recon);
  g_free (dx);
  g_rand_free (rand);
}

/* ------------------------------------------------------------------------ */
/* /net/step/...                                                             */

static void
test_step_matches_seq (gconstpointer data)
{
  const NetShape *shape = data;
  const size_t T = 10;
  const size_t nb = shape->n_bands;
  GRand *rand = g_rand_new_with_seed (TEST_SEED);
  DaeNet net;
  DaeNetState state;
  SeqActs acts;
  float *x = g_new0 (float, T * nb);
  float *gains = g_new0 (float, nb);
  float *recon = g_new0 (float, nb);
  float vad = -1.0f;
  size_t t;
  size_t i;

  g_test_summary ("dae_net_step() frame by frame gives the same gains, "
      "reconstruction and vad as the sequence primitives composed over "
      "10 frames.");

  net_init (&net, shape, rand);
  fill_uniform (rand, x, T * nb, 2.0);
  seq_acts_init (&acts, &net, T);
  seq_forward (&net, x, &acts);

  g_assert_cmpint (dae_net_state_init (&state, &net), ==, DAE_OK);
  for (t = 0; t < T; t++) {
    dae_net_step (&net, NULL, &state, x + t * nb, gains, recon, &vad);
    for (i = 0; i < nb; i++) {
      g_assert_cmpfloat_with_epsilon (gains[i], acts.gain[t * nb + i],
          STEP_TOL);
      g_assert_cmpfloat_with_epsilon (recon[i], acts.recon[t * nb + i],
          STEP_TOL);
    }
    if (shape->has_vad)
      g_assert_cmpfloat_with_epsilon (vad, acts.vad[t], STEP_TOL);
    else
      g_assert_cmpfloat (vad, ==, 0.0f);
    /* vad may be NULL */
    if (t == 0) {
      float gains2[MAX_BANDS];
      float recon2[MAX_BANDS];
      DaeNetState other;

      g_assert_cmpint (dae_net_state_init (&other, &net), ==, DAE_OK);
      dae_net_step (&net, NULL, &other, x, gains2, recon2, NULL);
      g_assert_cmpmem (gains2, nb * sizeof (float), gains, nb * sizeof (float));
      g_assert_cmpmem (recon2, nb * sizeof (float), recon, nb * sizeof (float));
      dae_net_state_clear (&other);
    }
  }

  dae_net_state_clear (&state);
  seq_acts_clear (&acts);
  net_clear (&net);
  g_free (x);
  g_free (gains);
  g_free (recon);
  g_rand_free (rand);
}

static void
test_step_reset (void)
{
  const NetShape *shape = &net_shapes[3];
  const size_t nb = shape->n_bands;
  const size_t T = 6;
  GRand *rand = g_rand_new_with_seed (TEST_SEED);
  DaeNet net;
  DaeNetState used;
  DaeNetState fresh;
  float *x = g_new0 (float, T * nb);
  float gains_a[MAX_BANDS];
  float recon_a[MAX_BANDS];
  float gains_b[MAX_BANDS];
  float recon_b[MAX_BANDS];
  float vad_a;
  float vad_b;
  size_t t;

  g_test_summary ("After dae_net_state_reset() a state gives exactly the "
      "outputs of a freshly initialised one.");

  net_init (&net, shape, rand);
  fill_uniform (rand, x, T * nb, 2.0);
  g_assert_cmpint (dae_net_state_init (&used, &net), ==, DAE_OK);
  g_assert_cmpint (dae_net_state_init (&fresh, &net), ==, DAE_OK);

  for (t = 0; t < T; t++)
    dae_net_step (&net, NULL, &used, x + t * nb, gains_a, recon_a, &vad_a);
  dae_net_state_reset (&used);

  for (t = 0; t < T; t++) {
    dae_net_step (&net, NULL, &used, x + t * nb, gains_a, recon_a, &vad_a);
    dae_net_step (&net, NULL, &fresh, x + t * nb, gains_b, recon_b, &vad_b);
    g_assert_cmpmem (gains_a, nb * sizeof (float), gains_b,
        nb * sizeof (float));
    g_assert_cmpmem (recon_a, nb * sizeof (float), recon_b,
        nb * sizeof (float));
    g_assert_cmpfloat (vad_a, ==, vad_b);
  }

  dae_net_state_clear (&used);
  dae_net_state_clear (&fresh);
  net_clear (&net);
  g_free (x);
  g_rand_free (rand);
}

static void
test_step_extreme (void)
{
  const NetShape *shape = &net_shapes[3];
  const size_t nb = shape->n_bands;
  const float extremes[] = { 1e6f, -1e6f };
  GRand *rand = g_rand_new_with_seed (TEST_SEED);
  DaeNet net;
  DaeNetState state;
  float x[MAX_BANDS];
  float gains[MAX_BANDS];
  float recon[MAX_BANDS];
  float vad;
  size_t t;
  size_t i;

  g_test_summary ("Features of +-1e6 (all positive, all negative, "
      "alternating) give finite outputs, gains and vad in [0, 1]: the gain "
      "skip feeds them straight into a sigmoid.");

  net_init (&net, shape, rand);
  g_assert_cmpint (dae_net_state_init (&state, &net), ==, DAE_OK);
  for (t = 0; t < 12; t++) {
    for (i = 0; i < nb; i++) {
      switch (t % 3) {
        case 0:
          x[i] = extremes[0];
          break;
        case 1:
          x[i] = extremes[1];
          break;
        default:
          x[i] = extremes[i % 2];
          break;
      }
    }
    dae_net_step (&net, NULL, &state, x, gains, recon, &vad);
    for (i = 0; i < nb; i++) {
      g_assert_true (isfinite (gains[i]));
      g_assert_true (isfinite (recon[i]));
      g_assert_cmpfloat (gains[i], >=, 0.0f);
      g_assert_cmpfloat (gains[i], <=, 1.0f);
    }
    g_assert_true (isfinite (vad));
    g_assert_cmpfloat (vad, >=, 0.0f);
    g_assert_cmpfloat (vad, <=, 1.0f);
  }
  for (i = 0; i < net.enc_gru.n_hidden; i++)
    g_assert_true (isfinite (state.enc_h[i]));
  for (i = 0; i < net.dec_gru.n_hidden; i++)
    g_assert_true (isfinite (state.dec_h[i]));

  dae_net_state_clear (&state);
  net_clear (&net);
  g_rand_free (rand);
}

/* ------------------------------------------------------------------------ */
/* /net/state/...                                                            */

static void
test_state_allocation_failure (void)
{
  GRand *rand = g_rand_new_with_seed (TEST_SEED);
  DaeNet net;
  DaeNetState state;
  size_t k;
  gboolean succeeded = FALSE;

  g_test_summary ("When the k-th allocation fails, dae_net_state_init() "
      "returns DAE_ERROR_NO_MEMORY with a cleared state and leaks nothing "
      "(run under valgrind); once enough allocations succeed it works.");

  net_init (&net, &net_shapes[3], rand);
  for (k = 0; k <= 3; k++) {
    DaeStatus status;

    memset (&state, 0xaa, sizeof (state));
    dae_debug_fail_allocations_after (k);
    status = dae_net_state_init (&state, &net);
    dae_debug_fail_allocations_after (SIZE_MAX);
    if (status == DAE_OK) {
      succeeded = TRUE;
      g_assert_nonnull (state.enc_h);
      g_assert_nonnull (state.dec_h);
      g_assert_nonnull (state.scratch);
      dae_net_state_clear (&state);
    } else {
      g_assert_cmpint (status, ==, DAE_ERROR_NO_MEMORY);
      g_assert_false (succeeded);
      g_assert_null (state.enc_h);
      g_assert_null (state.dec_h);
      g_assert_null (state.scratch);
      /* clearing a failed state is harmless */
      dae_net_state_clear (&state);
    }
  }
  g_assert_true (succeeded);

  net_clear (&net);
  g_rand_free (rand);
}

static void
test_state_clear_zeroed (void)
{
  DaeNetState state;

  memset (&state, 0, sizeof (state));
  dae_net_state_clear (&state);
  dae_net_state_reset (&state);
  dae_net_state_clear (&state);
  dae_net_state_clear (NULL);
  g_assert_null (state.enc_h);
}

/* ------------------------------------------------------------------------ */
/* Activations (dae-private.h)                                               */

static void
test_activation_accuracy (void)
{
  const size_t n = 400001;
  double exp_err = 0.0;
  double sig_err = 0.0;
  double sig_rel = 0.0;
  double tanh_err = 0.0;
  size_t i;

  g_test_summary ("dae_vec4_exp, dae_sigmoid_array and dae_tanh_array "
      "against exp() in double over their whole range: e^x within 2.5e-7 "
      "relative on [-87, 88], sigmoid within 1.5e-7 absolute and 5e-7 "
      "relative, tanh within 2e-7 absolute on [-100, 100]");

  for (i = 0; i < n; i++) {
    float x = -87.0f + 175.0f * (float) i / (float) (n - 1);
    float v[4] = { x, x, x, x };
    DaeVec4 e = dae_vec4_exp (dae_vec4_load (v));
    double want = exp ((double) x);

    exp_err = MAX (exp_err, fabs ((double) e[0] - want) / want);
  }
  for (i = 0; i < n; i++) {
    float x = -100.0f + 200.0f * (float) i / (float) (n - 1);
    float s = x;
    float t = x;
    double want_s = 1.0 / (1.0 + exp (-(double) x));

    dae_sigmoid_array (&s, 1);
    dae_tanh_array (&t, 1);
    sig_err = MAX (sig_err, fabs ((double) s - want_s));
    if (want_s > 1e-37)
      sig_rel = MAX (sig_rel, fabs ((double) s - want_s) / want_s);
    tanh_err = MAX (tanh_err, fabs ((double) t - tanh ((double) x)));
  }
  g_test_message ("largest errors: exp %.3g relative, sigmoid %.3g absolute "
      "%.3g relative, tanh %.3g absolute", exp_err, sig_err, sig_rel, tanh_err);
  g_assert_cmpfloat (exp_err, <, 2.5e-7);
  g_assert_cmpfloat (sig_err, <, 1.5e-7);
  g_assert_cmpfloat (sig_rel, <, 5e-7);
  g_assert_cmpfloat (tanh_err, <, 2e-7);
}

static void
test_activation_special (void)
{
  float s[7] = { INFINITY, -INFINITY, NAN, 0.0f, -0.0f, 1e-40f, -1e-40f };
  float t[7];
  float one[7];
  size_t i;

  g_test_summary ("Infinities saturate (sigmoid to 1 and below 1.2e-38, "
      "tanh to exactly 1 and -1), NaN stays NaN, 0 and denormals give 0.5 "
      "and 0; a value is the same alone and inside an array (the partial "
      "group of four goes through the same lanes)");

  memcpy (t, s, sizeof (s));
  dae_sigmoid_array (s, 7);
  dae_tanh_array (t, 7);
  g_assert_cmpfloat (s[0], ==, 1.0f);
  g_assert_cmpfloat (s[1], >=, 0.0f);
  g_assert_cmpfloat (s[1], <, 1.2e-38f);
  g_assert_true (isnan (s[2]));
  g_assert_cmpfloat (s[3], ==, 0.5f);
  g_assert_cmpfloat (s[4], ==, 0.5f);
  g_assert_cmpfloat (s[5], ==, 0.5f);
  g_assert_cmpfloat (s[6], ==, 0.5f);
  g_assert_cmpfloat (t[0], ==, 1.0f);
  g_assert_cmpfloat (t[1], ==, -1.0f);
  g_assert_true (isnan (t[2]));
  g_assert_cmpfloat (fabsf (t[3]), <, 1e-7f);
  g_assert_cmpfloat (fabsf (t[5]), <, 1e-7f);

  /* alone vs in the array, bit for bit */
  for (i = 0; i < 7; i++) {
    float xs[7] = { 0.3f, -2.5f, 7.0f, -0.01f, 40.0f, -60.0f, 1.75f };
    float a = xs[i];
    float b = xs[i];

    memcpy (one, xs, sizeof (xs));
    dae_sigmoid_array (&a, 1);
    dae_sigmoid_array (one, 7);
    g_assert_cmpmem (&a, sizeof (a), &one[i], sizeof (float));
    memcpy (one, xs, sizeof (xs));
    dae_tanh_array (&b, 1);
    dae_tanh_array (one, 7);
    g_assert_cmpmem (&b, sizeof (b), &one[i], sizeof (float));
  }
}

/* ------------------------------------------------------------------------ */
/* int8 weights (net-int8.c)                                                 */

/* Sizes that are not multiples of the kernel's 16 rows and 4 columns, and
 * enough rows for its four-block loop and its tail. */
static const NetShape int8_shape = { "int8", 6, 37, 41, 19, 23, TRUE, TRUE };

typedef struct
{
  const DaeQMat *m;
  const float *src;
} QPair;

static size_t
qnet_pairs (const DaeQNet * q, const DaeNet * net, QPair * pairs)
{
  size_t He = net->enc_gru.n_hidden;
  size_t Hd = net->dec_gru.n_hidden;
  QPair list[] = {
    {&q->enc_w, net->enc_gru.w}, {&q->enc_uzr, net->enc_gru.u},
    {&q->enc_un, net->enc_gru.u + 2 * He * He},
    {&q->dec_w, net->dec_gru.w}, {&q->dec_uzr, net->dec_gru.u},
    {&q->dec_un, net->dec_gru.u + 2 * Hd * Hd},
    {&q->bottleneck, net->bottleneck.w},
  };

  memcpy (pairs, list, sizeof (list));
  return G_N_ELEMENTS (list);
}

static int
round_away (float v)
{
  return (int) (v >= 0.0f ? v + 0.5f : v - 0.5f);
}

/* The definition in net-int8.c, written out plainly: per-row weight
 * scales, one input scale, integer sums. */
static void
int8_reference (const float *a, size_t rows, size_t cols, const float *x,
    float *y)
{
  float xmax = 0.0f;
  size_t r;
  size_t c;

  for (c = 0; c < cols; c++)
    xmax = MAX (xmax, fabsf (x[c]));
  if (xmax == 0.0f)
    return;
  for (r = 0; r < rows; r++) {
    const float *row = a + r * cols;
    float wmax = 0.0f;
    int64_t sum = 0;

    for (c = 0; c < cols; c++)
      wmax = MAX (wmax, fabsf (row[c]));
    if (wmax == 0.0f)
      continue;
    for (c = 0; c < cols; c++)
      sum += (int64_t) round_away (row[c] * (127.0f / wmax))
          * round_away (x[c] * (127.0f / xmax));
    y[r] += (float) sum *((wmax / 127.0f) * (xmax / 127.0f));
  }
}

static void
test_int8_matvec (void)
{
  GRand *rand = g_rand_new_with_seed (TEST_SEED);
  const double x_scales[] = { 1.0, 1e-3, 30.0 };
  DaeQKernel kernels[8];
  const char *names[8];
  size_t n_kernels;
  DaeNet net;
  DaeQNet qn[8];
  QPair pairs[8];
  size_t n_pairs;
  size_t j;
  size_t k;
  size_t s;
  double worst_ratio = 0.0;

  g_test_summary ("The int8 products equal their definition (per-row "
      "weight scales, one input scale, exact integer sums), every kernel "
      "this CPU runs gives the same bits as the portable one, and the error "
      "against the float product is within the rounding bound "
      "(|w|_1 max|x| + max|w| |x|_1) / 254 per row.");

  n_kernels = dae_qkernels (kernels, names, G_N_ELEMENTS (kernels));
  g_assert_cmpuint (n_kernels, >=, 1);
  g_assert_cmpuint (n_kernels, <=, G_N_ELEMENTS (kernels));
  g_assert_true (kernels[n_kernels - 1] == dae_qkernel_generic ());
  g_assert_true (kernels[0] == dae_qkernel_best ());

  net_init (&net, &int8_shape, rand);
  /* one all-zero row: scale 0, adds nothing */
  memset (net.enc_gru.w, 0, net.enc_gru.n_in * sizeof (float));
  for (j = 0; j < n_kernels; j++) {
    g_test_message ("kernel %s", names[j]);
    g_assert_cmpint (dae_qnet_init (&qn[j], &net, kernels[j]), ==, DAE_OK);
  }
  /* qn[n_kernels - 1] is the portable one */
  n_pairs = qnet_pairs (&qn[n_kernels - 1], &net, pairs);

  for (k = 0; k < n_pairs; k++) {
    const DaeQMat *m = pairs[k].m;
    const size_t offset = (const char *) m - (const char *) &qn[n_kernels - 1];

    for (s = 0; s < G_N_ELEMENTS (x_scales); s++) {
      float *x = g_new (float, m->cols);
      float *y_in = g_new (float, m->rows);
      float *y = g_new (float, m->rows);
      float *yk = g_new (float, m->rows);
      float *yr = g_new (float, m->rows);
      size_t r;
      size_t c;

      fill_uniform (rand, x, m->cols, x_scales[s]);
      fill_uniform (rand, y_in, m->rows, 1.0);
      memcpy (y, y_in, m->rows * sizeof (float));
      memcpy (yr, y_in, m->rows * sizeof (float));
      dae_qmat_matvec_add (&qn[n_kernels - 1], m, x, y);
      for (j = 0; j + 1 < n_kernels; j++) {
        memcpy (yk, y_in, m->rows * sizeof (float));
        dae_qmat_matvec_add (&qn[j], (const DaeQMat *) ((const char *) &qn[j]
                + offset), x, yk);
        g_assert_cmpmem (yk, m->rows * sizeof (float), y,
            m->rows * sizeof (float));
      }
      int8_reference (pairs[k].src, m->rows, m->cols, x, yr);

      for (r = 0; r < m->rows; r++) {
        const float *row = pairs[k].src + r * m->cols;
        double w1 = 0.0;
        double x1 = 0.0;
        double wmax = 0.0;
        double xmax = 0.0;
        double err;
        double bound;

        g_assert_cmpfloat_with_epsilon (y[r], yr[r],
            1e-6 * fabs (yr[r]) + 1e-7);
        for (c = 0; c < m->cols; c++) {
          w1 += fabs (row[c]);
          x1 += fabs (x[c]);
          wmax = MAX (wmax, fabs (row[c]));
          xmax = MAX (xmax, fabs (x[c]));
        }
        /* against the product in double; the last term covers float
         * rounding of y */
        err = fabs ((double) y[r] - ((double) y_in[r]
                + dot_double (row, x, m->cols)));
        bound = (w1 * xmax + wmax * x1) / 254.0 + 1e-6 * (1.0 + fabs (y[r]));
        g_assert_cmpfloat (err, <=, bound);
        worst_ratio = MAX (worst_ratio, err / bound);
      }
      g_free (x);
      g_free (y_in);
      g_free (y);
      g_free (yk);
      g_free (yr);
    }
  }
  g_test_message ("worst error / bound: %.3f", worst_ratio);

  for (j = 0; j < n_kernels; j++)
    dae_qnet_clear (&qn[j]);
  net_clear (&net);
  g_rand_free (rand);
}

static void
test_int8_special (void)
{
  GRand *rand = g_rand_new_with_seed (TEST_SEED);
  DaeNet net;
  DaeQNet q;
  const DaeQMat *m;
  float x[64];
  float x0[64];
  float y[256];
  float y0[256];
  size_t r;

  g_test_summary ("int8 products: an all-zero input adds nothing, a NaN "
      "input element counts as 0, an infinite one gives finite sums, and a "
      "weight row with a NaN, an infinity or only denormals adds nothing.");

  net_init (&net, &int8_shape, rand);
  net.enc_gru.w[1 * net.enc_gru.n_in + 2] = NAN;
  net.enc_gru.w[2 * net.enc_gru.n_in + 3] = INFINITY;
  /* a row of denormals (127 / max would be infinite) */
  fill_constant (net.enc_gru.w + 4 * net.enc_gru.n_in, net.enc_gru.n_in,
      1e-40f);
  g_assert_cmpint (dae_qnet_init (&q, &net, NULL), ==, DAE_OK);
  m = &q.enc_w;
  g_assert_cmpfloat (m->scale[1], ==, 0.0f);
  g_assert_cmpfloat (m->scale[2], ==, 0.0f);
  g_assert_cmpfloat (m->scale[4], ==, 0.0f);
  g_assert_cmpfloat (m->scale[0], >, 0.0f);
  g_assert_cmpuint (m->cols, <=, G_N_ELEMENTS (x));
  g_assert_cmpuint (m->rows, <=, G_N_ELEMENTS (y));

  memset (x, 0, sizeof (x));
  memset (y, 0, sizeof (y));
  fill_uniform (rand, y, m->rows, 1.0);
  memcpy (y0, y, sizeof (y));
  dae_qmat_matvec_add (&q, m, x, y);
  g_assert_cmpmem (y, sizeof (y), y0, sizeof (y0));

  fill_uniform (rand, x, m->cols, 1.0);
  memcpy (x0, x, sizeof (x));
  x[3] = NAN;
  x0[3] = 0.0f;
  memset (y, 0, sizeof (y));
  memset (y0, 0, sizeof (y0));
  dae_qmat_matvec_add (&q, m, x, y);
  dae_qmat_matvec_add (&q, m, x0, y0);
  g_assert_cmpmem (y, sizeof (y), y0, sizeof (y0));

  x[3] = INFINITY;
  x[5] = -INFINITY;
  memset (y, 0, sizeof (y));
  dae_qmat_matvec_add (&q, m, x, y);
  for (r = 0; r < m->rows; r++)
    g_assert_true (isfinite (y[r]));
  g_assert_cmpfloat (y[1], ==, 0.0f);
  g_assert_cmpfloat (y[2], ==, 0.0f);
  g_assert_cmpfloat (y[4], ==, 0.0f);
  /* denormal inputs count as zero */
  fill_constant (x, m->cols, 1e-40f);
  memcpy (y0, y, sizeof (y));
  dae_qmat_matvec_add (&q, m, x, y);
  g_assert_cmpmem (y, sizeof (y), y0, sizeof (y0));

  dae_qnet_clear (&q);
  net_clear (&net);
  g_rand_free (rand);
}

static void
test_int8_step (void)
{
  const size_t T = 200;
  const size_t nb = int8_shape.n_bands;
  GRand *rand = g_rand_new_with_seed (TEST_SEED);
  DaeNet net;
  DaeQNet q;
  DaeNetState sf;
  DaeNetState sq;
  float *x = g_new (float, T * nb);
  float gf[MAX_BANDS], gq[MAX_BANDS], rf[MAX_BANDS], rq[MAX_BANDS];
  float vf = 0.0f;
  float vq = 0.0f;
  double max_gain = 0.0;
  double max_vad = 0.0;
  size_t t;
  size_t i;

  g_test_summary ("dae_net_step() with int8 matrices follows the float "
      "network over 200 frames: gains and voice activity within 0.02 "
      "(8-bit rounding, not accumulating through the recurrence), and the "
      "outputs stay finite for huge features.");

  net_init (&net, &int8_shape, rand);
  fill_uniform (rand, x, T * nb, 2.0);
  g_assert_cmpint (dae_qnet_init (&q, &net, NULL), ==, DAE_OK);
  g_assert_cmpint (dae_net_state_init (&sf, &net), ==, DAE_OK);
  g_assert_cmpint (dae_net_state_init (&sq, &net), ==, DAE_OK);
  for (t = 0; t < T; t++) {
    dae_net_step (&net, NULL, &sf, x + t * nb, gf, rf, &vf);
    dae_net_step (&net, &q, &sq, x + t * nb, gq, rq, &vq);
    for (i = 0; i < nb; i++)
      max_gain = MAX (max_gain, fabs (gf[i] - gq[i]));
    max_vad = MAX (max_vad, fabs (vf - vq));
  }
  g_test_message ("largest differences: gain %.5f, vad %.5f", max_gain,
      max_vad);
  g_assert_cmpfloat (max_gain, <, 0.02);
  g_assert_cmpfloat (max_vad, <, 0.02);

  fill_constant (x, nb, 1e30f);
  dae_net_step (&net, &q, &sq, x, gq, rq, &vq);
  for (i = 0; i < nb; i++) {
    g_assert_true (isfinite (gq[i]));
    g_assert_true (isfinite (rq[i]));
  }
  g_assert_true (isfinite (vq));

  dae_net_state_clear (&sf);
  dae_net_state_clear (&sq);
  dae_qnet_clear (&q);
  net_clear (&net);
  g_free (x);
  g_rand_free (rand);
}

int
main (int argc, char **argv)
{
  size_t i;

  g_test_init (&argc, &argv, NULL);

  for (i = 0; i < G_N_ELEMENTS (act_names); i++) {
    gchar *path = g_strdup_printf ("/net/dense/gradient/%s", act_names[i]);

    g_test_add_data_func (path, GINT_TO_POINTER ((int) i), test_dense_gradient);
    g_free (path);
  }
  g_test_add_func ("/net/activation/accuracy", test_activation_accuracy);
  g_test_add_func ("/net/activation/special", test_activation_special);
  g_test_add_func ("/net/dense/backward-blocks", test_dense_backward_blocks);
  g_test_add_func ("/net/gru/gradient", test_gru_gradient);
  g_test_add_func ("/net/gru/chunked-equals-sequence", test_gru_chunked);
  for (i = 0; i < G_N_ELEMENTS (net_shapes); i++) {
    gchar *path = g_strdup_printf ("/net/chain/gradient/%s",
        net_shapes[i].name);

    g_test_add_data_func (path, &net_shapes[i], test_chain_gradient);
    g_free (path);
    path = g_strdup_printf ("/net/step/matches-seq/%s", net_shapes[i].name);
    g_test_add_data_func (path, &net_shapes[i], test_step_matches_seq);
    g_free (path);
  }
  g_test_add_func ("/net/step/reset", test_step_reset);
  g_test_add_func ("/net/step/extreme-inputs", test_step_extreme);
  g_test_add_func ("/net/state/allocation-failure",
      test_state_allocation_failure);
  g_test_add_func ("/net/state/clear-zeroed", test_state_clear_zeroed);
  g_test_add_func ("/net/int8/matvec", test_int8_matvec);
  g_test_add_func ("/net/int8/special", test_int8_special);
  g_test_add_func ("/net/int8/step", test_int8_step);

  return g_test_run ();
}
