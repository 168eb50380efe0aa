/* libdae — the in-memory model: config, allocation, tensors, random init
 * Copyright (C) 2026 The dae authors
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */

#include <math.h>
#include <stdatomic.h>
#include <stdint.h>
#include <string.h>

#include "dae-private.h"

#define MIN_SAMPLE_RATE 8000
#define MAX_SAMPLE_RATE 192000
#define MIN_WINDOW 16
#define MAX_WINDOW 16384
#define MAX_LAYER 1024
#define BAND_MIN_HZ 50.0f
#define BAND_MAX_HZ 20000.0f
#define BAND_MAX_FRACTION 0.45f
/* arrays inside the storage block start on 64-byte boundaries (relative to
 * the block) so that rows used by BLAS share cache lines with nothing else */
#define STORAGE_ALIGN_FLOATS 16
#define DAE_PI 3.14159265358979323846

/* ------------------------------------------------------------------------ */
/* Config                                                                    */

void
dae_model_config_init (DaeModelConfig * config, unsigned sample_rate)
{
  size_t hop;

  if (config == NULL)
    return;

  /* 10 ms rounded to samples; the window is exactly two hops so the hop
   * always divides it (50 % overlap) */
  hop = ((size_t) sample_rate + 50) / 100;
  if (hop < 1)
    hop = 1;

  memset (config, 0, sizeof (*config));
  config->sample_rate = sample_rate;
  config->hop_samples = hop;
  config->window_samples = 2 * hop;
  config->n_bands = 32;
  config->band_min_hz = BAND_MIN_HZ;
  config->band_max_hz = BAND_MAX_FRACTION * (float) sample_rate;
  if (config->band_max_hz > BAND_MAX_HZ)
    config->band_max_hz = BAND_MAX_HZ;
  config->enc_dense = 64;
  config->enc_gru = 96;
  config->bottleneck = 24;
  config->dec_gru = 96;
  config->has_vad = 0;
  config->gain_skip = 1;
  config->predictive = 0;
  config->tonality = 0;
}

static DaeStatus
check_layer (DaeError * error, const char *field, size_t value)
{
  if (value < 1 || value > MAX_LAYER)
    return dae_set_error (error, DAE_ERROR_INVALID_ARGUMENT,
        "%s = %zu out of range (1 to %d)", field, value, MAX_LAYER);
  return DAE_OK;
}

DaeStatus
dae_model_config_validate (const DaeModelConfig * config, DaeError * error)
{
  DaeStatus status;

  if (config == NULL)
    return dae_set_error (error, DAE_ERROR_INVALID_ARGUMENT, "config is NULL");

  if (config->sample_rate < MIN_SAMPLE_RATE
      || config->sample_rate > MAX_SAMPLE_RATE)
    return dae_set_error (error, DAE_ERROR_INVALID_ARGUMENT,
        "sample_rate = %u Hz out of range (%d to %d)", config->sample_rate,
        MIN_SAMPLE_RATE, MAX_SAMPLE_RATE);
  if (config->window_samples < MIN_WINDOW
      || config->window_samples > MAX_WINDOW)
    return dae_set_error (error, DAE_ERROR_INVALID_ARGUMENT,
        "window_samples = %zu out of range (%d to %d)",
        config->window_samples, MIN_WINDOW, MAX_WINDOW);
  if (config->hop_samples < 1
      || config->hop_samples > config->window_samples / 2)
    return dae_set_error (error, DAE_ERROR_INVALID_ARGUMENT,
        "hop_samples = %zu out of range (1 to window_samples / 2 = %zu)",
        config->hop_samples, config->window_samples / 2);
  if (config->window_samples % config->hop_samples != 0)
    return dae_set_error (error, DAE_ERROR_INVALID_ARGUMENT,
        "hop_samples = %zu does not divide window_samples = %zu",
        config->hop_samples, config->window_samples);
  if (config->n_bands < 2 || config->n_bands > DAE_MAX_BANDS)
    return dae_set_error (error, DAE_ERROR_INVALID_ARGUMENT,
        "n_bands = %zu out of range (2 to %d)", config->n_bands, DAE_MAX_BANDS);

  if (!isfinite (config->band_min_hz) || !isfinite (config->band_max_hz)
      || !(config->band_min_hz >= 0.0f)
      || !(config->band_min_hz < config->band_max_hz)
      || !((double) config->band_max_hz < 0.5 * (double) config->sample_rate))
    return dae_set_error (error, DAE_ERROR_INVALID_ARGUMENT,
        "band_min_hz = %g, band_max_hz = %g: need 0 <= band_min_hz < "
        "band_max_hz < sample_rate / 2 = %g Hz", (double) config->band_min_hz,
        (double) config->band_max_hz, 0.5 * (double) config->sample_rate);

  if (!isfinite (config->band_min_spacing_hz)
      || !(config->band_min_spacing_hz >= 0.0f)
      || (double) (config->n_bands - 1) * (double) config->band_min_spacing_hz
      > (double) config->band_max_hz - (double) config->band_min_hz)
    return dae_set_error (error, DAE_ERROR_INVALID_ARGUMENT,
        "band_min_spacing_hz = %g: need >= 0, and %zu bands that far apart "
        "must fit between %g and %g Hz", (double) config->band_min_spacing_hz,
        config->n_bands, (double) config->band_min_hz,
        (double) config->band_max_hz);

  if ((status = check_layer (error, "enc_dense", config->enc_dense)) != DAE_OK)
    return status;
  if ((status = check_layer (error, "enc_gru", config->enc_gru)) != DAE_OK)
    return status;
  if ((status = check_layer (error, "bottleneck",
              config->bottleneck)) != DAE_OK)
    return status;
  if ((status = check_layer (error, "dec_gru", config->dec_gru)) != DAE_OK)
    return status;

  return DAE_OK;
}

/* ------------------------------------------------------------------------ */
/* Layout                                                                    */

static void
set_dense (DaeDense * layer, size_t n_in, size_t n_out, DaeActivation act)
{
  layer->n_in = n_in;
  layer->n_out = n_out;
  layer->act = act;
  layer->w = NULL;
  layer->b = NULL;
}

static void
set_gru (DaeGru * layer, size_t n_in, size_t n_hidden)
{
  layer->n_in = n_in;
  layer->n_hidden = n_hidden;
  layer->w = NULL;
  layer->u = NULL;
  layer->bx = NULL;
  layer->bh = NULL;
}

/* Layer sizes of the network for a validated config (no storage). */
static void
net_layout (const DaeModelConfig * config, DaeNet * net)
{
  size_t n_features = dae_model_config_n_features (config);
  size_t gain_in = config->dec_gru + (config->gain_skip ? n_features : 0);

  set_dense (&net->enc_dense, n_features, config->enc_dense, DAE_ACT_TANH);
  set_gru (&net->enc_gru, config->enc_dense, config->enc_gru);
  set_dense (&net->bottleneck, config->enc_gru, config->bottleneck,
      DAE_ACT_TANH);
  set_gru (&net->dec_gru, config->bottleneck, config->dec_gru);
  set_dense (&net->gain, gain_in, config->n_bands, DAE_ACT_SIGMOID);
  set_dense (&net->recon, config->dec_gru, config->n_bands, DAE_ACT_LINEAR);
  set_dense (&net->vad, config->dec_gru, config->has_vad ? 1 : 0,
      DAE_ACT_SIGMOID);
}

static size_t
add_tensor (DaeTensor * tensors, size_t n, const char *name, float *data,
    size_t rows, size_t cols)
{
  tensors[n].name = name;
  tensors[n].data = data;
  tensors[n].rows = rows;
  tensors[n].cols = cols;
  return n + 1;
}

/* The one place that defines tensor names and order (the file format and
 * the trainer depend on it). */
static size_t
net_tensors (const DaeNet * net, DaeTensor * tensors)
{
  size_t n = 0;
  const DaeDense *ed = &net->enc_dense;
  const DaeGru *eg = &net->enc_gru;
  const DaeDense *bn = &net->bottleneck;
  const DaeGru *dg = &net->dec_gru;
  const DaeDense *ga = &net->gain;
  const DaeDense *re = &net->recon;
  const DaeDense *va = &net->vad;

  n = add_tensor (tensors, n, "enc_dense.w", ed->w, ed->n_out, ed->n_in);
  n = add_tensor (tensors, n, "enc_dense.b", ed->b, ed->n_out, 1);
  n = add_tensor (tensors, n, "enc_gru.w", eg->w, 3 * eg->n_hidden, eg->n_in);
  n = add_tensor (tensors, n, "enc_gru.u", eg->u, 3 * eg->n_hidden,
      eg->n_hidden);
  n = add_tensor (tensors, n, "enc_gru.bx", eg->bx, 3 * eg->n_hidden, 1);
  n = add_tensor (tensors, n, "enc_gru.bh", eg->bh, 3 * eg->n_hidden, 1);
  n = add_tensor (tensors, n, "bottleneck.w", bn->w, bn->n_out, bn->n_in);
  n = add_tensor (tensors, n, "bottleneck.b", bn->b, bn->n_out, 1);
  n = add_tensor (tensors, n, "dec_gru.w", dg->w, 3 * dg->n_hidden, dg->n_in);
  n = add_tensor (tensors, n, "dec_gru.u", dg->u, 3 * dg->n_hidden,
      dg->n_hidden);
  n = add_tensor (tensors, n, "dec_gru.bx", dg->bx, 3 * dg->n_hidden, 1);
  n = add_tensor (tensors, n, "dec_gru.bh", dg->bh, 3 * dg->n_hidden, 1);
  n = add_tensor (tensors, n, "gain.w", ga->w, ga->n_out, ga->n_in);
  n = add_tensor (tensors, n, "gain.b", ga->b, ga->n_out, 1);
  n = add_tensor (tensors, n, "recon.w", re->w, re->n_out, re->n_in);
  n = add_tensor (tensors, n, "recon.b", re->b, re->n_out, 1);
  if (va->n_out > 0) {
    n = add_tensor (tensors, n, "vad.w", va->w, va->n_out, va->n_in);
    n = add_tensor (tensors, n, "vad.b", va->b, va->n_out, 1);
  }

  return n;
}

size_t
dae_model_config_tensor_shapes (const DaeModelConfig * config,
    DaeTensor * tensors)
{
  DaeNet net;

  net_layout (config, &net);
  return net_tensors (&net, tensors);
}

size_t
dae_model_list_tensors (DaeModel * model, DaeTensor * tensors)
{
  return net_tensors (&model->net, tensors);
}

/* ------------------------------------------------------------------------ */
/* Allocation, references, getters                                           */

static size_t
round_up_floats (size_t n)
{
  return (n + STORAGE_ALIGN_FLOATS - 1) / STORAGE_ALIGN_FLOATS
      * STORAGE_ALIGN_FLOATS;
}

/* Hands out consecutive aligned slices of the storage block. */
static float *
take (float **cursor, size_t n)
{
  float *p = *cursor;

  *cursor += round_up_floats (n);
  return p;
}

DaeStatus
dae_model_alloc (const DaeModelConfig * config, DaeModel ** model_out,
    DaeError * error)
{
  DaeModel *model;
  DaeTensor tensors[DAE_MAX_TENSORS];
  size_t n_tensors;
  size_t n_floats;
  size_t n_features;
  size_t n_params = 0;
  size_t i;
  float *cursor;
  DaeStatus status;

  if (model_out == NULL)
    return dae_set_error (error, DAE_ERROR_INVALID_ARGUMENT,
        "model_out is NULL");
  if ((status = dae_model_config_validate (config, error)) != DAE_OK)
    return status;

  /* Sizes are bounded by the validated config (at most a few million
   * floats), so none of the sums below can overflow. */
  n_tensors = dae_model_config_tensor_shapes (config, tensors);
  n_features = dae_model_config_n_features (config);
  n_floats = 2 * round_up_floats (config->n_bands)
      + 2 * round_up_floats (n_features);
  for (i = 0; i < n_tensors; i++) {
    n_params += tensors[i].rows * tensors[i].cols;
    n_floats += round_up_floats (tensors[i].rows * tensors[i].cols);
  }

  model = dae_calloc (1, sizeof (*model));
  if (model == NULL)
    return dae_set_error (error, DAE_ERROR_NO_MEMORY,
        "out of memory allocating a model");
  model->storage = dae_calloc (n_floats, sizeof (float));
  if (model->storage == NULL) {
    dae_free (model);
    return dae_set_error (error, DAE_ERROR_NO_MEMORY,
        "out of memory allocating %zu model parameters", n_floats);
  }

  atomic_init (&model->refcount, 1);
  model->config = *config;
  model->config.has_vad = config->has_vad ? 1 : 0;
  model->config.gain_skip = config->gain_skip ? 1 : 0;
  model->config.predictive = config->predictive ? 1 : 0;
  model->config.tonality = config->tonality ? 1 : 0;
  model->anomaly_threshold = -1.0f;
  model->info[0] = '\0';
  model->n_params = n_params;
  model->weight_bits = 32;
  model->gain_scale = 1.0f;

  cursor = model->storage;
  model->band_centers = take (&cursor, config->n_bands);
  model->norm_mean = take (&cursor, n_features);
  model->norm_std = take (&cursor, n_features);
  model->error_scale = take (&cursor, config->n_bands);
  for (i = 0; i < n_features; i++)
    model->norm_std[i] = 1.0f;
  for (i = 0; i < config->n_bands; i++)
    model->error_scale[i] = 1.0f;

  net_layout (&model->config, &model->net);
  {
    DaeNet *net = &model->net;
    DaeDense *dense[] = {
      &net->enc_dense, &net->bottleneck, &net->gain, &net->recon, &net->vad
    };
    DaeGru *gru[] = {
      &net->enc_gru, &net->dec_gru
    };
    size_t k;

    for (k = 0; k < sizeof (dense) / sizeof (dense[0]); k++) {
      if (dense[k]->n_out == 0)
        continue;
      dense[k]->w = take (&cursor, dense[k]->n_out * dense[k]->n_in);
      dense[k]->b = take (&cursor, dense[k]->n_out);
    }
    for (k = 0; k < sizeof (gru) / sizeof (gru[0]); k++) {
      size_t rows = 3 * gru[k]->n_hidden;

      gru[k]->w = take (&cursor, rows * gru[k]->n_in);
      gru[k]->u = take (&cursor, rows * gru[k]->n_hidden);
      gru[k]->bx = take (&cursor, rows);
      gru[k]->bh = take (&cursor, rows);
    }
  }

  status = dae_band_layout_erb_spaced (config->n_bands, config->band_min_hz,
      config->band_max_hz, config->band_min_spacing_hz, model->band_centers);
  for (i = 1; status == DAE_OK && i < config->n_bands; i++) {
    /* float rounding of a very narrow range */
    if (!(model->band_centers[i] > model->band_centers[i - 1]))
      status = DAE_ERROR_INVALID_ARGUMENT;
  }
  if (status != DAE_OK) {
    dae_free (model->storage);
    dae_free (model);
    return dae_set_error (error, DAE_ERROR_INVALID_ARGUMENT,
        "cannot lay out %zu distinct bands from %g to %g Hz",
        config->n_bands, (double) config->band_min_hz,
        (double) config->band_max_hz);
  }

  *model_out = model;
  return DAE_OK;
}

DaeModel *
dae_model_ref (DaeModel * model)
{
  if (model != NULL)
    atomic_fetch_add_explicit (&model->refcount, 1, memory_order_relaxed);
  return model;
}

void
dae_model_unref (DaeModel * model)
{
  if (model == NULL)
    return;
  /* release our writes; the thread that frees acquires everyone's */
  if (atomic_fetch_sub_explicit (&model->refcount, 1,
          memory_order_acq_rel) != 1)
    return;
  dae_free (model->storage);
  dae_free (model);
}

void
dae_model_get_config (const DaeModel * model, DaeModelConfig * config)
{
  if (model == NULL || config == NULL)
    return;
  *config = model->config;
}

unsigned
dae_model_get_sample_rate (const DaeModel * model)
{
  return model != NULL ? model->config.sample_rate : 0;
}

size_t
dae_model_get_hop_samples (const DaeModel * model)
{
  return model != NULL ? model->config.hop_samples : 0;
}

size_t
dae_model_get_window_samples (const DaeModel * model)
{
  return model != NULL ? model->config.window_samples : 0;
}

size_t
dae_model_get_latency_samples (const DaeModel * model)
{
  if (model == NULL)
    return 0;
  return model->config.window_samples - model->config.hop_samples;
}

size_t
dae_model_get_n_bands (const DaeModel * model)
{
  return model != NULL ? model->config.n_bands : 0;
}

size_t
dae_model_get_n_features (const DaeModel * model)
{
  return model != NULL ? dae_model_config_n_features (&model->config) : 0;
}

const float *
dae_model_get_band_centers (const DaeModel * model)
{
  return model != NULL ? model->band_centers : NULL;
}

float
dae_model_get_anomaly_threshold (const DaeModel * model)
{
  return model != NULL ? model->anomaly_threshold : -1.0f;
}

const float *
dae_model_get_band_error_scale (const DaeModel * model)
{
  return model != NULL ? model->error_scale : NULL;
}

int
dae_model_get_anomaly_calibration (const DaeModel * model,
    DaeAnomalyCalibration * calibration)
{
  if (calibration == NULL)
    return 0;
  memset (calibration, 0, sizeof (*calibration));
  calibration->threshold = -1.0f;
  if (model == NULL)
    return 0;
  calibration->threshold = model->anomaly_threshold;
  if (!(model->anomaly_threshold >= 0.0f && model->calib_quantile > 0.0f))
    return 0;
  calibration->quantile = model->calib_quantile;
  calibration->false_alarms_per_hour = model->calib_false_alarms_per_hour;
  calibration->held_out_seconds = model->calib_held_out_seconds;
  calibration->hold_seconds = model->calib_hold_seconds;
  return 1;
}

const char *
dae_model_get_info (const DaeModel * model)
{
  return model != NULL ? model->info : "";
}

size_t
dae_model_get_n_params (const DaeModel * model)
{
  return model != NULL ? model->n_params : 0;
}

/* A new model equal to model in everything: config, normalisation, band
 * layout, error scale, threshold, calibration, gain scale, info, weights
 * and their precision. */
static DaeStatus
model_copy (const DaeModel * model, DaeModel ** copy_out, DaeError * error)
{
  DaeTensor src[DAE_MAX_TENSORS];
  DaeTensor dest[DAE_MAX_TENSORS];
  DaeModel *copy;
  size_t n_features = dae_model_config_n_features (&model->config);
  size_t nb = model->config.n_bands;
  size_t n_tensors;
  size_t k;
  DaeStatus status;

  if ((status = dae_model_alloc (&model->config, &copy, error)) != DAE_OK)
    return status;
  memcpy (copy->band_centers, model->band_centers, nb * sizeof (float));
  memcpy (copy->norm_mean, model->norm_mean, n_features * sizeof (float));
  memcpy (copy->norm_std, model->norm_std, n_features * sizeof (float));
  memcpy (copy->error_scale, model->error_scale, nb * sizeof (float));
  copy->config = model->config;
  copy->anomaly_threshold = model->anomaly_threshold;
  copy->calib_quantile = model->calib_quantile;
  copy->calib_false_alarms_per_hour = model->calib_false_alarms_per_hour;
  copy->calib_held_out_seconds = model->calib_held_out_seconds;
  copy->calib_hold_seconds = model->calib_hold_seconds;
  copy->gain_scale = model->gain_scale;
  copy->weight_bits = model->weight_bits;
  memcpy (copy->info, model->info, sizeof (copy->info));
  /* reads only: list_tensors takes a mutable model for the trainer */
  n_tensors = dae_model_list_tensors ((DaeModel *) model, src);
  dae_model_list_tensors (copy, dest);
  for (k = 0; k < n_tensors; k++)
    memcpy (dest[k].data, src[k].data,
        src[k].rows * src[k].cols * sizeof (float));
  *copy_out = copy;
  return DAE_OK;
}

unsigned
dae_model_get_weight_bits (const DaeModel * model)
{
  return model != NULL ? model->weight_bits : 32;
}

DaeStatus
dae_model_new_with_weight_bits (const DaeModel * model, unsigned bits,
    DaeModel ** model_out, DaeError * error)
{
  DaeTensor tensors[DAE_MAX_TENSORS];
  DaeModel *copy;
  size_t n_tensors;
  size_t i;
  size_t k;
  DaeStatus status;

  if (model == NULL || model_out == NULL)
    return dae_set_error (error, DAE_ERROR_INVALID_ARGUMENT,
        "model or model_out is NULL");
  if (bits != 16 && bits != 32)
    return dae_set_error (error, DAE_ERROR_INVALID_ARGUMENT,
        "weight bits %u: 16 or 32", bits);
  /* reads only: list_tensors takes a mutable model for the trainer */
  n_tensors = dae_model_list_tensors ((DaeModel *) model, tensors);
  if (bits == 16) {
    for (k = 0; k < n_tensors; k++) {
      for (i = 0; i < tensors[k].rows * tensors[k].cols; i++) {
        float w = tensors[k].data[i];

        /* what rounds to a finite half: below 65520 in magnitude */
        if (!(fabsf (w) < DAE_HALF_MAX + 16.0f))
          return dae_set_error (error, DAE_ERROR_INVALID_ARGUMENT,
              "%s[%zu] = %g does not fit in a 16-bit float (at most %g)",
              tensors[k].name, i, (double) w, (double) DAE_HALF_MAX);
      }
    }
  }

  if ((status = model_copy (model, &copy, error)) != DAE_OK)
    return status;
  if (bits == 16) {
    dae_model_list_tensors (copy, tensors);
    for (k = 0; k < n_tensors; k++)
      for (i = 0; i < tensors[k].rows * tensors[k].cols; i++)
        tensors[k].data[i] =
            dae_half_to_float (dae_half_from_float (tensors[k].data[i]));
  }
  copy->weight_bits = bits;
  *model_out = copy;
  return DAE_OK;
}

float
dae_model_get_gain_scale (const DaeModel * model)
{
  return model != NULL ? model->gain_scale : 1.0f;
}

DaeStatus
dae_model_new_with_gain_scale (const DaeModel * model, double scale,
    DaeModel ** model_out, DaeError * error)
{
  DaeModel *copy;
  DaeStatus status;

  if (model == NULL || model_out == NULL)
    return dae_set_error (error, DAE_ERROR_INVALID_ARGUMENT,
        "model or model_out is NULL");
  if (!(scale >= DAE_GAIN_SCALE_MIN && scale <= DAE_GAIN_SCALE_MAX))
    return dae_set_error (error, DAE_ERROR_INVALID_ARGUMENT,
        "gain scale %g: %g to %g", scale, DAE_GAIN_SCALE_MIN,
        DAE_GAIN_SCALE_MAX);
  if ((status = model_copy (model, &copy, error)) != DAE_OK)
    return status;
  copy->gain_scale = (float) scale;
  *model_out = copy;
  return DAE_OK;
}

/* ------------------------------------------------------------------------ */
/* Value checks (shared by the reader and the writer)                        */

static int
utf8_valid (const unsigned char *s, size_t len)
{
  size_t i = 0;

  while (i < len) {
    unsigned c = s[i];
    size_t n;
    unsigned cp;
    size_t k;

    if (c < 0x80) {
      i++;
      continue;
    } else if (c >= 0xc2 && c <= 0xdf) {
      n = 1;
      cp = c & 0x1f;
    } else if (c >= 0xe0 && c <= 0xef) {
      n = 2;
      cp = c & 0x0f;
    } else if (c >= 0xf0 && c <= 0xf4) {
      n = 3;
      cp = c & 0x07;
    } else {
      return 0;
    }
    if (len - i <= n)
      return 0;
    for (k = 1; k <= n; k++) {
      if ((s[i + k] & 0xc0) != 0x80)
        return 0;
      cp = (cp << 6) | (s[i + k] & 0x3f);
    }
    /* overlong, surrogate or beyond U+10FFFF */
    if ((n == 2 && cp < 0x800) || (n == 3 && cp < 0x10000)
        || (cp >= 0xd800 && cp <= 0xdfff) || cp > 0x10ffff)
      return 0;
    i += n + 1;
  }
  return 1;
}

static DaeStatus
check_finite (const char *name, const float *data, size_t n, DaeStatus status,
    DaeError * error)
{
  size_t i;

  for (i = 0; i < n; i++) {
    if (!isfinite (data[i]))
      return dae_set_error (error, status,
          "record '%s': element %zu is not finite", name, i);
  }
  return DAE_OK;
}

DaeStatus
dae_model_check_values (const DaeModel * model, DaeStatus status,
    DaeError * error)
{
  const DaeModelConfig *config = &model->config;
  size_t n_bands = config->n_bands;
  size_t n_features = dae_model_config_n_features (config);
  double nyquist = 0.5 * config->sample_rate;
  DaeTensor tensors[DAE_MAX_TENSORS];
  size_t n_tensors;
  size_t len;
  size_t i;

  for (i = 0; i < n_bands; i++) {
    float c = model->band_centers[i];

    if (!isfinite (c) || c < 0.0f || c >= nyquist)
      return dae_set_error (error, status,
          "record 'bands.centers': centre %zu = %g Hz outside 0 to %g Hz", i,
          (double) c, nyquist);
    if (i > 0 && !(c > model->band_centers[i - 1]))
      return dae_set_error (error, status,
          "record 'bands.centers': not strictly increasing at band %zu "
          "(%g Hz after %g Hz)", i, (double) c,
          (double) model->band_centers[i - 1]);
  }
  if (check_finite ("norm.mean", model->norm_mean, n_features, status,
          error) != DAE_OK)
    return status;
  for (i = 0; i < n_features; i++) {
    if (!isfinite (model->norm_std[i]) || !(model->norm_std[i] > 0.0f))
      return dae_set_error (error, status,
          "record 'norm.std': element %zu = %g, must be finite and > 0", i,
          (double) model->norm_std[i]);
  }
  for (i = 0; i < n_bands; i++) {
    if (!isfinite (model->error_scale[i]) || !(model->error_scale[i] > 0.0f))
      return dae_set_error (error, status,
          "record 'score.scale': element %zu = %g, must be finite and > 0",
          i, (double) model->error_scale[i]);
  }
  if (!isfinite (model->anomaly_threshold))
    return dae_set_error (error, status, "anomaly threshold is not finite");
  if (!(model->calib_quantile >= 0.0f && model->calib_quantile < 1.0f)
      || !(model->calib_false_alarms_per_hour >= 0.0f)
      || !isfinite (model->calib_false_alarms_per_hour)
      || !(model->calib_held_out_seconds >= 0.0f)
      || !isfinite (model->calib_held_out_seconds)
      || !(model->calib_hold_seconds >= 0.0f)
      || !isfinite (model->calib_hold_seconds))
    return dae_set_error (error, status, "threshold calibration out of range "
        "(quantile %g, %g false alarms per hour, %g s held out, hold %g s)",
        (double) model->calib_quantile,
        (double) model->calib_false_alarms_per_hour,
        (double) model->calib_held_out_seconds,
        (double) model->calib_hold_seconds);

  if (!(model->gain_scale >= DAE_GAIN_SCALE_MIN
          && model->gain_scale <= DAE_GAIN_SCALE_MAX))
    return dae_set_error (error, status, "gain scale %g outside %g to %g",
        (double) model->gain_scale, DAE_GAIN_SCALE_MIN, DAE_GAIN_SCALE_MAX);

  len = strnlen (model->info, DAE_MODEL_INFO_MAX);
  if (len >= DAE_MODEL_INFO_MAX)
    return dae_set_error (error, status, "record 'info': not NUL-terminated");
  if (!utf8_valid ((const unsigned char *) model->info, len))
    return dae_set_error (error, status, "record 'info': not valid UTF-8");

  n_tensors = net_tensors (&model->net, tensors);
  for (i = 0; i < n_tensors; i++) {
    if (check_finite (tensors[i].name, tensors[i].data,
            tensors[i].rows * tensors[i].cols, status, error) != DAE_OK)
      return status;
  }

  return DAE_OK;
}

/* ------------------------------------------------------------------------ */
/* Random numbers and initialisation                                         */

void
dae_rng_seed (DaeRng * rng, uint64_t seed)
{
  rng->s = seed;
}

/* splitmix64 (Steele, Lea & Flood; public-domain reference by Vigna) */
uint64_t
dae_rng_next (DaeRng * rng)
{
  uint64_t z = (rng->s += UINT64_C (0x9e3779b97f4a7c15));

  z = (z ^ (z >> 30)) * UINT64_C (0xbf58476d1ce4e5b9);
  z = (z ^ (z >> 27)) * UINT64_C (0x94d049bb133111eb);
  return z ^ (z >> 31);
}

float
dae_rng_uniform (DaeRng * rng)
{
  /* top 24 bits: every value is exact in a float and < 1 */
  return (float) (dae_rng_next (rng) >> 40) * (1.0f / 16777216.0f);
}

float
dae_rng_normal (DaeRng * rng)
{
  /* Box–Muller; u1 in (0, 1] so the log is finite */
  double u1 = 1.0 - (double) dae_rng_uniform (rng);
  double u2 = (double) dae_rng_uniform (rng);

  return (float) (sqrt (-2.0 * log (u1)) * cos (2.0 * DAE_PI * u2));
}

static void
glorot_uniform (DaeRng * rng, float *w, size_t n, size_t fan_in, size_t fan_out)
{
  float limit = sqrtf (6.0f / (float) (fan_in + fan_out));
  size_t i;

  for (i = 0; i < n; i++)
    w[i] = (2.0f * dae_rng_uniform (rng) - 1.0f) * limit;
}

static void
init_dense (DaeRng * rng, DaeDense * layer)
{
  if (layer->n_out == 0)
    return;
  glorot_uniform (rng, layer->w, layer->n_out * layer->n_in, layer->n_in,
      layer->n_out);
  memset (layer->b, 0, layer->n_out * sizeof (float));
}

/* Glorot per gate: each of the three [H][n_in] blocks of w (and [H][H] of
 * u) gets the fan of one gate.  The update-gate input bias starts at +1 so
 * the fresh network leans towards keeping its state (long memory). */
static void
init_gru (DaeRng * rng, DaeGru * layer)
{
  size_t h = layer->n_hidden;
  size_t i;

  glorot_uniform (rng, layer->w, 3 * h * layer->n_in, layer->n_in, h);
  glorot_uniform (rng, layer->u, 3 * h * h, h, h);
  memset (layer->bx, 0, 3 * h * sizeof (float));
  memset (layer->bh, 0, 3 * h * sizeof (float));
  for (i = 0; i < h; i++)
    layer->bx[i] = 1.0f;
}

void
dae_model_init_random (DaeModel * model, uint64_t seed)
{
  DaeRng rng;

  if (model == NULL)
    return;

  /* layers in tensor order, so a seed means the same weights regardless of
   * storage layout */
  dae_rng_seed (&rng, seed);
  init_dense (&rng, &model->net.enc_dense);
  init_gru (&rng, &model->net.enc_gru);
  init_dense (&rng, &model->net.bottleneck);
  init_gru (&rng, &model->net.dec_gru);
  init_dense (&rng, &model->net.gain);
  init_dense (&rng, &model->net.recon);
  init_dense (&rng, &model->net.vad);
}
