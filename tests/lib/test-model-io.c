/* libdae — tests for the model: config, allocation, random init, file I/O
 * Copyright (C) 2026 The dae authors
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */

#include <errno.h>
#include <fcntl.h>
#include <math.h>
#include <stdatomic.h>
#include <stdint.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <glib.h>
#include <glib/gstdio.h>

#include "dae-private.h"
#include "model-format.h"

#define TEST_SEED 42
#define FLIP_ITERATIONS 2000
#define FLIP_SEED 20260101
#define REF_THREADS 8
#define REF_ITERATIONS 20000
/* relative tolerance of the band centre checks (float ERB arithmetic) */
#define CENTER_TOLERANCE_HZ 0.5
/* statistics of 100000 draws: standard errors are ~0.001 (uniform mean)
 * and ~0.003 (normal mean) / ~0.005 (normal variance); 5x margin */
#define RNG_DRAWS 100000
#define RNG_MEAN_TOLERANCE 0.015
#define RNG_VAR_TOLERANCE 0.03

/* ------------------------------------------------------------------------ */
/* Helpers                                                                   */

static void
small_config (DaeModelConfig * config, gboolean has_vad)
{
  dae_model_config_init (config, 16000);
  config->window_samples = 64;
  config->hop_samples = 32;
  config->n_bands = 8;
  config->enc_dense = 6;
  config->enc_gru = 5;
  config->bottleneck = 4;
  config->dec_gru = 7;
  config->has_vad = has_vad;
  config->gain_skip = 1;
}

/* A small model with every field set to something non-default. */
static DaeModel *
make_model_full (gboolean has_vad, gboolean gain_skip, guint64 seed)
{
  DaeModelConfig config;
  DaeModel *model = NULL;
  DaeError error;
  size_t i;

  small_config (&config, has_vad);
  config.gain_skip = gain_skip;
  g_assert_cmpint (dae_model_alloc (&config, &model, &error), ==, DAE_OK);
  g_assert_nonnull (model);
  dae_model_init_random (model, seed);
  for (i = 0; i < config.n_bands; i++) {
    model->norm_mean[i] = -3.0f + 0.25f * (float) i;
    model->norm_std[i] = 0.5f + 0.125f * (float) i;
    model->error_scale[i] = 0.75f + 0.5f * (float) i;
  }
  model->anomaly_threshold = 0.25f;
  model->calib_quantile = 0.99f;
  model->calib_false_alarms_per_hour = 1.5f;
  model->calib_held_out_seconds = 120.0f;
  model->calib_hold_seconds = 0.2f;
  g_strlcpy (model->info, "tiny test model — ünïcödé",
      DAE_MODEL_INFO_MAX);
  return model;
}

/* A small model with every field set to something non-default. */
static DaeModel *
make_model (gboolean has_vad, guint64 seed)
{
  return make_model_full (has_vad, TRUE, seed);
}

static guint8 *
save_bytes (const DaeModel * model, gsize * size_out)
{
  void *data = NULL;
  size_t size = 0;
  DaeError error;
  guint8 *copy;

  g_assert_cmpint (dae_model_save_memory (model, &data, &size, &error), ==,
      DAE_OK);
  copy = g_memdup2 (data, size);
  dae_free (data);
  *size_out = size;
  return copy;
}

static void
assert_models_equal (DaeModel * a, DaeModel * b)
{
  DaeModelConfig ca;
  DaeModelConfig cb;
  DaeTensor ta[DAE_MAX_TENSORS];
  DaeTensor tb[DAE_MAX_TENSORS];
  size_t na;
  size_t nb;
  size_t i;

  dae_model_get_config (a, &ca);
  dae_model_get_config (b, &cb);
  g_assert_cmpuint (ca.sample_rate, ==, cb.sample_rate);
  g_assert_cmpuint (ca.window_samples, ==, cb.window_samples);
  g_assert_cmpuint (ca.hop_samples, ==, cb.hop_samples);
  g_assert_cmpuint (ca.n_bands, ==, cb.n_bands);
  g_assert_true (ca.band_min_hz == cb.band_min_hz);
  g_assert_true (ca.band_max_hz == cb.band_max_hz);
  g_assert_cmpuint (ca.enc_dense, ==, cb.enc_dense);
  g_assert_cmpuint (ca.enc_gru, ==, cb.enc_gru);
  g_assert_cmpuint (ca.bottleneck, ==, cb.bottleneck);
  g_assert_cmpuint (ca.dec_gru, ==, cb.dec_gru);
  g_assert_cmpint (ca.has_vad, ==, cb.has_vad);
  g_assert_cmpint (ca.gain_skip, ==, cb.gain_skip);
  g_assert_cmpint (ca.predictive, ==, cb.predictive);
  g_assert_cmpint (ca.tonality, ==, cb.tonality);
  g_assert_cmpuint (dae_model_get_n_features (a), ==,
      dae_model_get_n_features (b));
  g_assert_cmpuint (dae_model_get_n_params (a), ==, dae_model_get_n_params (b));
  g_assert_true (dae_model_get_anomaly_threshold (a) ==
      dae_model_get_anomaly_threshold (b));
  g_assert_true (dae_model_get_gain_scale (a) == dae_model_get_gain_scale (b));
  {
    DaeAnomalyCalibration ka;
    DaeAnomalyCalibration kb;

    g_assert_cmpint (dae_model_get_anomaly_calibration (a, &ka), ==,
        dae_model_get_anomaly_calibration (b, &kb));
    g_assert_cmpmem (&ka, sizeof (ka), &kb, sizeof (kb));
  }
  g_assert_cmpstr (dae_model_get_info (a), ==, dae_model_get_info (b));
  g_assert_cmpmem (dae_model_get_band_centers (a), ca.n_bands * sizeof (float),
      dae_model_get_band_centers (b), cb.n_bands * sizeof (float));
  g_assert_cmpmem (a->norm_mean, dae_model_get_n_features (a) * sizeof (float),
      b->norm_mean, dae_model_get_n_features (b) * sizeof (float));
  g_assert_cmpmem (a->norm_std, dae_model_get_n_features (a) * sizeof (float),
      b->norm_std, dae_model_get_n_features (b) * sizeof (float));
  g_assert_cmpmem (dae_model_get_band_error_scale (a),
      ca.n_bands * sizeof (float), dae_model_get_band_error_scale (b),
      cb.n_bands * sizeof (float));

  na = dae_model_list_tensors (a, ta);
  nb = dae_model_list_tensors (b, tb);
  g_assert_cmpuint (na, ==, nb);
  for (i = 0; i < na; i++) {
    g_assert_cmpstr (ta[i].name, ==, tb[i].name);
    g_assert_cmpuint (ta[i].rows, ==, tb[i].rows);
    g_assert_cmpuint (ta[i].cols, ==, tb[i].cols);
    g_assert_cmpmem (ta[i].data, ta[i].rows * ta[i].cols * sizeof (float),
        tb[i].data, tb[i].rows * tb[i].cols * sizeof (float));
  }
}

static void
assert_message_contains (const DaeError * error, const char *needle)
{
  g_test_message ("error message: %s", error->message);
  if (strstr (error->message, needle) == NULL)
    g_error ("expected '%s' in error message '%s'", needle, error->message);
}

static guint32
le32 (const guint8 * p)
{
  return (guint32) p[0] | ((guint32) p[1] << 8) | ((guint32) p[2] << 16)
      | ((guint32) p[3] << 24);
}

static guint64
le64 (const guint8 * p)
{
  return (guint64) le32 (p) | ((guint64) le32 (p + 4) << 32);
}

static void
set_le16 (guint8 * p, guint16 v)
{
  p[0] = v & 0xff;
  p[1] = v >> 8;
}

static void
set_le32 (guint8 * p, guint32 v)
{
  p[0] = v & 0xff;
  p[1] = (v >> 8) & 0xff;
  p[2] = (v >> 16) & 0xff;
  p[3] = v >> 24;
}

static void
set_le64 (guint8 * p, guint64 v)
{
  set_le32 (p, (guint32) (v & 0xffffffffu));
  set_le32 (p + 4, (guint32) (v >> 32));
}

static void
set_f32 (guint8 * p, float f)
{
  guint32 u;

  memcpy (&u, &f, sizeof (u));
  set_le32 (p, u);
}

static float
get_f32 (const guint8 * p)
{
  guint32 u = le32 (p);
  float f;

  memcpy (&f, &u, sizeof (f));
  return f;
}

/* Offset of the record header called name. */
static gsize
find_record (const guint8 * buf, const char *name)
{
  guint32 header_size = le32 (buf + DAE_FORMAT_OFF_HEADER_SIZE);
  guint32 n = le32 (buf + DAE_FORMAT_OFF_N_RECORDS);
  guint32 i;

  for (i = 0; i < n; i++) {
    gsize rec = header_size + (gsize) i * DAE_FORMAT_RECORD_SIZE;

    if (strcmp ((const char *) buf + rec, name) == 0)
      return rec;
  }
  g_error ("no record '%s'", name);
  return 0;
}

static guint8 *
payload (guint8 * buf, const char *name)
{
  return buf + le64 (buf + find_record (buf, name) + DAE_FORMAT_REC_OFFSET);
}

static void
fix_crc (guint8 * buf, gsize size)
{
  set_le32 (buf + DAE_FORMAT_OFF_CRC, 0);
  set_le32 (buf + DAE_FORMAT_OFF_CRC, dae_crc32 (0, buf, size));
}

/* Loads from an exactly sized heap copy (so valgrind sees any over-read);
 * releases the model if one was made. */
static DaeStatus
load_copy (const guint8 * buf, gsize size, DaeError * error)
{
  guint8 *copy = size > 0 ? g_memdup2 (buf, size) : NULL;
  DaeModel *model = NULL;
  DaeStatus status;

  status = dae_model_load_memory (copy, size, &model, error);
  if (status == DAE_OK) {
    g_assert_nonnull (model);
    g_assert_cmpuint (dae_model_get_hop_samples (model), >, 0);
    g_assert_cmpuint (strlen (dae_model_get_info (model)), <,
        DAE_MODEL_INFO_MAX);
    dae_model_unref (model);
  } else {
    g_assert_null (model);
    g_assert_cmpint (error->status, ==, status);
    g_assert_cmpuint (strlen (error->message), >, 0);
  }
  g_free (copy);
  return status;
}

static gsize
env_step (const char *name)
{
  const char *value = g_getenv (name);
  guint64 step;

  if (value == NULL || !g_ascii_string_to_unsigned (value, 10, 1, G_MAXSIZE,
          &step, NULL))
    return 1;
  return (gsize) step;
}

/* ------------------------------------------------------------------------ */
/* Config                                                                    */

static void
test_config_defaults (void)
{
  static const unsigned rates[] = { 8000, 16000, 22050, 44100, 48000, 96000,
    192000
  };
  DaeModelConfig config;
  DaeError error;
  gsize i;

  for (i = 0; i < G_N_ELEMENTS (rates); i++) {
    dae_model_config_init (&config, rates[i]);
    g_assert_cmpint (dae_model_config_validate (&config, &error), ==, DAE_OK);
    g_assert_cmpuint (config.sample_rate, ==, rates[i]);
    g_assert_cmpuint (config.hop_samples, ==, (rates[i] + 50) / 100);
    g_assert_cmpuint (config.window_samples, ==, 2 * config.hop_samples);
    g_assert_cmpuint (config.window_samples % config.hop_samples, ==, 0);
    g_assert_cmpuint (config.n_bands, ==, 32);
    g_assert_true (config.band_min_hz == 50.0f);
    g_assert_true (config.band_max_hz == MIN (0.45f * (float) rates[i],
            20000.0f));
    g_assert_cmpuint (config.enc_dense, ==, 64);
    g_assert_cmpuint (config.enc_gru, ==, 96);
    g_assert_cmpuint (config.bottleneck, ==, 24);
    g_assert_cmpuint (config.dec_gru, ==, 96);
    g_assert_cmpint (config.has_vad, ==, 0);
    g_assert_cmpint (config.gain_skip, ==, 1);
  }

  dae_model_config_init (&config, 16000);
  g_assert_cmpuint (config.hop_samples, ==, 160);
  g_assert_cmpuint (config.window_samples, ==, 320);
  dae_model_config_init (&config, 48000);
  g_assert_cmpuint (config.hop_samples, ==, 480);
  g_assert_cmpuint (config.window_samples, ==, 960);
}

typedef enum
{
  FIELD_SAMPLE_RATE,
  FIELD_WINDOW,
  FIELD_HOP,
  FIELD_N_BANDS,
  FIELD_ENC_DENSE,
  FIELD_ENC_GRU,
  FIELD_BOTTLENECK,
  FIELD_DEC_GRU
} ConfigField;

typedef struct
{
  ConfigField field;
  size_t value;
  const char *needle;
} BadConfig;

static void
test_config_invalid (void)
{
  static const BadConfig cases[] = {
    {FIELD_SAMPLE_RATE, 0, "sample_rate = 0"},
    {FIELD_SAMPLE_RATE, 7999, "sample_rate = 7999"},
    {FIELD_SAMPLE_RATE, 192001, "sample_rate = 192001"},
    {FIELD_WINDOW, 8, "window_samples = 8"},
    {FIELD_WINDOW, 32768, "window_samples = 32768"},
    {FIELD_HOP, 0, "hop_samples = 0"},
    {FIELD_HOP, 64, "hop_samples = 64"},        /* > window / 2 */
    {FIELD_HOP, 7, "hop_samples = 7"},  /* does not divide 64 */
    {FIELD_N_BANDS, 1, "n_bands = 1"},
    {FIELD_N_BANDS, DAE_MAX_BANDS + 1, "n_bands = 257"},
    {FIELD_ENC_DENSE, 0, "enc_dense = 0"},
    {FIELD_ENC_DENSE, 1025, "enc_dense = 1025"},
    {FIELD_ENC_GRU, 0, "enc_gru = 0"},
    {FIELD_BOTTLENECK, 2000, "bottleneck = 2000"},
    {FIELD_DEC_GRU, 0, "dec_gru = 0"},
  };
  /* band_min_hz, band_max_hz pairs at 16 kHz */
  static const float bad_bands[][2] = {
    {-1.0f, 7000.0f}, {100.0f, 100.0f}, {200.0f, 100.0f}, {50.0f, 8000.0f},
    {50.0f, 9000.0f}, {NAN, 7000.0f}, {50.0f, INFINITY}, {50.0f, NAN},
  };
  DaeModelConfig config;
  DaeModel *model = NULL;
  DaeError error;
  gsize i;

  g_test_summary ("Every documented config range is enforced and the "
      "message names the field and the value.");

  g_assert_cmpint (dae_model_config_validate (NULL, &error), ==,
      DAE_ERROR_INVALID_ARGUMENT);

  for (i = 0; i < G_N_ELEMENTS (cases); i++) {
    small_config (&config, FALSE);
    switch (cases[i].field) {
      case FIELD_SAMPLE_RATE:
        config.sample_rate = (unsigned) cases[i].value;
        break;
      case FIELD_WINDOW:
        config.window_samples = cases[i].value;
        break;
      case FIELD_HOP:
        config.hop_samples = cases[i].value;
        break;
      case FIELD_N_BANDS:
        config.n_bands = cases[i].value;
        break;
      case FIELD_ENC_DENSE:
        config.enc_dense = cases[i].value;
        break;
      case FIELD_ENC_GRU:
        config.enc_gru = cases[i].value;
        break;
      case FIELD_BOTTLENECK:
        config.bottleneck = cases[i].value;
        break;
      case FIELD_DEC_GRU:
        config.dec_gru = cases[i].value;
        break;
    }
    memset (&error, 0, sizeof (error));
    g_assert_cmpint (dae_model_config_validate (&config, &error), ==,
        DAE_ERROR_INVALID_ARGUMENT);
    g_assert_cmpint (error.status, ==, DAE_ERROR_INVALID_ARGUMENT);
    assert_message_contains (&error, cases[i].needle);
    /* and it is never allocated */
    g_assert_cmpint (dae_model_alloc (&config, &model, NULL), ==,
        DAE_ERROR_INVALID_ARGUMENT);
    g_assert_null (model);
  }

  /* a NULL error is fine */
  small_config (&config, FALSE);
  config.n_bands = 0;
  g_assert_cmpint (dae_model_config_validate (&config, NULL), ==,
      DAE_ERROR_INVALID_ARGUMENT);

  /* band ranges: 0 <= min < max < rate / 2, finite */
  for (i = 0; i < G_N_ELEMENTS (bad_bands); i++) {
    small_config (&config, FALSE);
    config.band_min_hz = bad_bands[i][0];
    config.band_max_hz = bad_bands[i][1];
    memset (&error, 0, sizeof (error));
    g_assert_cmpint (dae_model_config_validate (&config, &error), ==,
        DAE_ERROR_INVALID_ARGUMENT);
    assert_message_contains (&error, "band_min_hz");
    g_assert_cmpint (dae_model_alloc (&config, &model, NULL), ==,
        DAE_ERROR_INVALID_ARGUMENT);
    g_assert_null (model);
  }
  /* the edges that are allowed */
  small_config (&config, FALSE);
  config.band_min_hz = 0.0f;
  config.band_max_hz = 7999.0f;
  g_assert_cmpint (dae_model_config_validate (&config, &error), ==, DAE_OK);
}

/* ------------------------------------------------------------------------ */
/* Allocation and layout                                                     */

static void
test_alloc_layout (void)
{
  static const char *const names[] = {
    "enc_dense.w", "enc_dense.b", "enc_gru.w", "enc_gru.u", "enc_gru.bx",
    "enc_gru.bh", "bottleneck.w", "bottleneck.b", "dec_gru.w", "dec_gru.u",
    "dec_gru.bx", "dec_gru.bh", "gain.w", "gain.b", "recon.w", "recon.b",
    "vad.w", "vad.b"
  };
  DaeModelConfig config;
  DaeModel *model = NULL;
  DaeTensor tensors[DAE_MAX_TENSORS];
  DaeTensor shapes[DAE_MAX_TENSORS];
  DaeError error;
  const float *centers;
  size_t n;
  size_t n_params = 0;
  size_t i;
  size_t k;

  small_config (&config, TRUE);
  g_assert_cmpint (dae_model_alloc (&config, &model, &error), ==, DAE_OK);

  g_assert_cmpint (atomic_load (&model->refcount), ==, 1);
  g_assert_cmpuint (dae_model_get_sample_rate (model), ==, 16000);
  g_assert_cmpuint (dae_model_get_window_samples (model), ==, 64);
  g_assert_cmpuint (dae_model_get_hop_samples (model), ==, 32);
  g_assert_cmpuint (dae_model_get_latency_samples (model), ==, 32);
  g_assert_cmpuint (dae_model_get_n_bands (model), ==, 8);
  g_assert_cmpfloat (dae_model_get_anomaly_threshold (model), <, 0.0f);
  g_assert_cmpstr (dae_model_get_info (model), ==, "");

  /* layer sizes */
  g_assert_cmpuint (model->net.enc_dense.n_in, ==, 8);
  g_assert_cmpuint (model->net.enc_dense.n_out, ==, 6);
  g_assert_cmpint (model->net.enc_dense.act, ==, DAE_ACT_TANH);
  g_assert_cmpuint (model->net.enc_gru.n_in, ==, 6);
  g_assert_cmpuint (model->net.enc_gru.n_hidden, ==, 5);
  g_assert_cmpuint (model->net.bottleneck.n_in, ==, 5);
  g_assert_cmpuint (model->net.bottleneck.n_out, ==, 4);
  g_assert_cmpint (model->net.bottleneck.act, ==, DAE_ACT_TANH);
  g_assert_cmpuint (model->net.dec_gru.n_in, ==, 4);
  g_assert_cmpuint (model->net.dec_gru.n_hidden, ==, 7);
  g_assert_cmpuint (model->net.gain.n_in, ==, 7 + 8);
  g_assert_cmpuint (model->net.gain.n_out, ==, 8);
  g_assert_cmpint (model->net.gain.act, ==, DAE_ACT_SIGMOID);
  g_assert_cmpuint (model->net.recon.n_in, ==, 7);
  g_assert_cmpuint (model->net.recon.n_out, ==, 8);
  g_assert_cmpint (model->net.recon.act, ==, DAE_ACT_LINEAR);
  g_assert_cmpuint (model->net.vad.n_in, ==, 7);
  g_assert_cmpuint (model->net.vad.n_out, ==, 1);
  g_assert_cmpint (model->net.vad.act, ==, DAE_ACT_SIGMOID);

  /* tensors: fixed order, zeroed, disjoint, shapes as without a model */
  n = dae_model_list_tensors (model, tensors);
  g_assert_cmpuint (n, ==, G_N_ELEMENTS (names));
  g_assert_cmpuint (dae_model_config_tensor_shapes (&config, shapes), ==, n);
  for (i = 0; i < n; i++) {
    g_assert_cmpstr (tensors[i].name, ==, names[i]);
    g_assert_cmpstr (shapes[i].name, ==, names[i]);
    g_assert_cmpuint (shapes[i].rows, ==, tensors[i].rows);
    g_assert_cmpuint (shapes[i].cols, ==, tensors[i].cols);
    g_assert_null (shapes[i].data);
    g_assert_nonnull (tensors[i].data);
    for (k = 0; k < tensors[i].rows * tensors[i].cols; k++)
      g_assert_true (tensors[i].data[k] == 0.0f);
    /* write the whole tensor: must not touch any other tensor */
    for (k = 0; k < tensors[i].rows * tensors[i].cols; k++)
      tensors[i].data[k] = (float) (i + 1);
    n_params += tensors[i].rows * tensors[i].cols;
  }
  for (i = 0; i < n; i++) {
    for (k = 0; k < tensors[i].rows * tensors[i].cols; k++)
      g_assert_true (tensors[i].data[k] == (float) (i + 1));
  }
  g_assert_cmpuint (dae_model_get_n_params (model), ==, n_params);
  g_assert_cmpuint (tensors[2].rows, ==, 15);   /* enc_gru.w */
  g_assert_cmpuint (tensors[2].cols, ==, 6);
  g_assert_cmpuint (tensors[3].cols, ==, 5);    /* enc_gru.u */
  g_assert_cmpuint (tensors[4].cols, ==, 1);    /* enc_gru.bx */

  /* normalisation and bands */
  centers = dae_model_get_band_centers (model);
  for (i = 0; i < config.n_bands; i++) {
    g_assert_true (model->norm_mean[i] == 0.0f);
    g_assert_true (model->norm_std[i] == 1.0f);
    if (i > 0)
      g_assert_cmpfloat (centers[i], >, centers[i - 1]);
  }
  g_assert_cmpfloat_with_epsilon (centers[0], 50.0, CENTER_TOLERANCE_HZ);
  g_assert_cmpfloat_with_epsilon (centers[7], 0.45 * 16000,
      CENTER_TOLERANCE_HZ);
  dae_model_unref (model);

  /* no vad head: two tensors fewer */
  small_config (&config, FALSE);
  config.gain_skip = 0;
  g_assert_cmpint (dae_model_alloc (&config, &model, &error), ==, DAE_OK);
  g_assert_cmpuint (dae_model_list_tensors (model, tensors), ==,
      G_N_ELEMENTS (names) - 2);
  g_assert_cmpuint (model->net.vad.n_out, ==, 0);
  g_assert_cmpuint (model->net.gain.n_in, ==, 7);
  dae_model_unref (model);

  /* the default 48 kHz model: parameter count worked out by hand */
  dae_model_config_init (&config, 48000);
  g_assert_cmpint (dae_model_alloc (&config, &model, &error), ==, DAE_OK);
  g_assert_cmpuint (dae_model_get_n_params (model), ==,
      (32 * 64 + 64) + (288 * 64 + 288 * 96 + 2 * 288) + (96 * 24 + 24)
      + (288 * 24 + 288 * 96 + 2 * 288) + ((96 + 32) * 32 + 32)
      + (96 * 32 + 32));
  g_assert_cmpuint (dae_model_get_n_params (model), ==, 93464);
  centers = dae_model_get_band_centers (model);
  g_assert_cmpfloat_with_epsilon (centers[31], 20000.0, CENTER_TOLERANCE_HZ);
  g_assert_cmpuint (dae_model_get_latency_samples (model), ==, 480);
  dae_model_unref (model);

  /* a chosen band range: the centres run exactly from min to max */
  dae_model_config_init (&config, 16000);
  config.n_bands = 64;
  config.band_min_hz = 20.0f;
  config.band_max_hz = 7600.0f;
  g_assert_cmpint (dae_model_alloc (&config, &model, &error), ==, DAE_OK);
  centers = dae_model_get_band_centers (model);
  g_assert_true (centers[0] == 20.0f);
  g_assert_true (centers[63] == 7600.0f);
  {
    DaeModelConfig got;

    dae_model_get_config (model, &got);
    g_assert_true (got.band_min_hz == 20.0f);
    g_assert_true (got.band_max_hz == 7600.0f);
  }
  dae_model_unref (model);

  /* NULL-safe getters and unref */
  dae_model_unref (NULL);
  g_assert_null (dae_model_ref (NULL));
  g_assert_cmpstr (dae_model_get_info (NULL), ==, "");
}

static void
test_alloc_no_memory (void)
{
  DaeModelConfig config;
  DaeModel *model = NULL;
  DaeError error;
  size_t n;

  g_test_summary ("dae_model_alloc fails cleanly (no leak, no output) "
      "whichever allocation fails.");

  small_config (&config, TRUE);
  for (n = 0; n < 2; n++) {
    dae_debug_fail_allocations_after (n);
    g_assert_cmpint (dae_model_alloc (&config, &model, &error), ==,
        DAE_ERROR_NO_MEMORY);
    dae_debug_fail_allocations_after (SIZE_MAX);
    g_assert_null (model);
    g_assert_cmpint (error.status, ==, DAE_ERROR_NO_MEMORY);
  }
  dae_debug_fail_allocations_after (2);
  g_assert_cmpint (dae_model_alloc (&config, &model, &error), ==, DAE_OK);
  dae_debug_fail_allocations_after (SIZE_MAX);
  dae_model_unref (model);
}

/* ------------------------------------------------------------------------ */
/* Random numbers and initialisation                                         */

static void
test_rng (void)
{
  DaeRng a;
  DaeRng b;
  double sum = 0.0;
  double sum_sq = 0.0;
  double mean;
  double var;
  int i;

  dae_rng_seed (&a, 1);
  dae_rng_seed (&b, 1);
  for (i = 0; i < 100; i++)
    g_assert_cmpuint (dae_rng_next (&a), ==, dae_rng_next (&b));
  dae_rng_seed (&b, 2);
  g_assert_cmpuint (dae_rng_next (&a), !=, dae_rng_next (&b));

  /* splitmix64 reference value for seed 0 (Vigna's splitmix64.c) */
  dae_rng_seed (&a, 0);
  g_assert_cmpuint (dae_rng_next (&a), ==, G_GUINT64_CONSTANT
      (0xe220a8397b1dcdaf));

  dae_rng_seed (&a, TEST_SEED);
  for (i = 0; i < RNG_DRAWS; i++) {
    float u = dae_rng_uniform (&a);

    g_assert_cmpfloat (u, >=, 0.0f);
    g_assert_cmpfloat (u, <, 1.0f);
    sum += u;
  }
  g_assert_cmpfloat_with_epsilon (sum / RNG_DRAWS, 0.5, RNG_MEAN_TOLERANCE);

  sum = 0.0;
  for (i = 0; i < RNG_DRAWS; i++) {
    float x = dae_rng_normal (&a);

    g_assert_true (isfinite (x));
    sum += x;
    sum_sq += x * (double) x;
  }
  mean = sum / RNG_DRAWS;
  var = sum_sq / RNG_DRAWS - mean * mean;
  g_assert_cmpfloat_with_epsilon (mean, 0.0, RNG_MEAN_TOLERANCE);
  g_assert_cmpfloat_with_epsilon (var, 1.0, RNG_VAR_TOLERANCE);
}

static void
test_init_random (void)
{
  DaeModel *a = make_model (TRUE, TEST_SEED);
  DaeModel *b = make_model (TRUE, TEST_SEED);
  DaeModel *c = make_model (TRUE, TEST_SEED + 1);
  DaeTensor tensors[DAE_MAX_TENSORS];
  guint8 *bytes_a;
  guint8 *bytes_b;
  guint8 *bytes_c;
  gsize size_a;
  gsize size_b;
  gsize size_c;
  size_t n;
  size_t i;
  size_t k;

  g_test_summary ("Random init is a pure function of the seed (identical "
      "file bytes), differs between seeds, and follows the documented "
      "scheme: Glorot-uniform weights, zero biases, update-gate bias +1.");

  bytes_a = save_bytes (a, &size_a);
  bytes_b = save_bytes (b, &size_b);
  bytes_c = save_bytes (c, &size_c);
  g_assert_cmpmem (bytes_a, size_a, bytes_b, size_b);
  g_assert_cmpuint (size_a, ==, size_c);
  g_assert_true (memcmp (bytes_a, bytes_c, size_a) != 0);

  n = dae_model_list_tensors (a, tensors);
  for (i = 0; i < n; i++) {
    const char *name = tensors[i].name;
    size_t count = tensors[i].rows * tensors[i].cols;

    if (g_str_has_suffix (name, ".w") || g_str_has_suffix (name, ".u")) {
      /* per-gate fan for GRU matrices */
      size_t fan_out = g_str_has_prefix (name, "enc_gru")
          || g_str_has_prefix (name, "dec_gru") ? tensors[i].rows / 3 :
          tensors[i].rows;
      float limit = sqrtf (6.0f / (float) (tensors[i].cols + fan_out));
      gboolean nonzero = FALSE;

      for (k = 0; k < count; k++) {
        g_assert_cmpfloat (fabsf (tensors[i].data[k]), <=, limit);
        nonzero |= tensors[i].data[k] != 0.0f;
      }
      g_assert_true (nonzero);
    } else if (strcmp (name, "enc_gru.bx") == 0
        || strcmp (name, "dec_gru.bx") == 0) {
      size_t h = tensors[i].rows / 3;

      for (k = 0; k < count; k++)
        g_assert_true (tensors[i].data[k] == (k < h ? 1.0f : 0.0f));
    } else {
      for (k = 0; k < count; k++)
        g_assert_true (tensors[i].data[k] == 0.0f);
    }
  }

  g_free (bytes_a);
  g_free (bytes_b);
  g_free (bytes_c);
  dae_model_unref (a);
  dae_model_unref (b);
  dae_model_unref (c);
}

/* ------------------------------------------------------------------------ */
/* Format basics                                                             */

static void
test_crc32 (void)
{
  static const char check[] = "123456789";
  guint32 crc;

  g_test_summary ("CRC-32 matches the IEEE/zlib check value and can be "
      "computed in chunks.");

  g_assert_cmphex (dae_crc32 (0, check, 9), ==, 0xcbf43926);
  crc = dae_crc32 (0, check, 4);
  crc = dae_crc32 (crc, check + 4, 5);
  g_assert_cmphex (crc, ==, 0xcbf43926);
  g_assert_cmphex (dae_crc32 (0, NULL, 0), ==, 0);
}

static void
test_layout (void)
{
  DaeModel *model = make_model (TRUE, TEST_SEED);
  DaeTensor tensors[DAE_MAX_TENSORS];
  guint8 *buf;
  gsize size;
  guint32 n_records;
  guint32 crc;
  guint32 i;
  size_t n;

  g_test_summary ("The writer puts every header field at its documented "
      "offset, little-endian, and aligns payloads to 64 bytes.");

  buf = save_bytes (model, &size);
  g_assert_cmpmem (buf, 8, "DAEMODL\0", 8);
  g_assert_cmpuint (buf[8] | (buf[9] << 8), ==, 1);
  g_assert_cmpuint (buf[10] | (buf[11] << 8), ==, 4);
  g_assert_cmpuint (le32 (buf + 12), ==, 128);
  g_assert_cmpuint (le64 (buf + 16), ==, size);
  crc = le32 (buf + 24);
  set_le32 (buf + 24, 0);
  g_assert_cmphex (dae_crc32 (0, buf, size), ==, crc);
  set_le32 (buf + 24, crc);
  g_assert_cmpuint (le32 (buf + 28), ==, 16000);
  g_assert_cmpuint (le32 (buf + 32), ==, 64);
  g_assert_cmpuint (le32 (buf + 36), ==, 32);
  g_assert_cmpuint (le32 (buf + 40), ==, 8);
  g_assert_cmpuint (le32 (buf + 44), ==, 6);
  g_assert_cmpuint (le32 (buf + 48), ==, 5);
  g_assert_cmpuint (le32 (buf + 52), ==, 4);
  g_assert_cmpuint (le32 (buf + 56), ==, 7);
  /* has_vad | gain_skip | error scale */
  g_assert_cmpuint (le32 (buf + 60), ==, 11);
  g_assert_cmpfloat (get_f32 (buf + 64), ==, 0.25f);
  n = dae_model_list_tensors (model, tensors);
  n_records = le32 (buf + 68);
  g_assert_cmpuint (n_records, ==, 4 + n + 1);
  g_assert_cmpfloat (get_f32 (buf + 72), ==, 0.99f);    /* calibration */
  g_assert_cmpfloat (get_f32 (buf + 76), ==, 1.5f);
  g_assert_cmpfloat (get_f32 (buf + 80), ==, 120.0f);
  g_assert_cmpfloat (get_f32 (buf + 84), ==, 0.2f);
  g_assert_cmpfloat (get_f32 (buf + 88), ==, 1.0f);     /* gain scale */
  for (i = 92; i < 128; i++)
    g_assert_cmpuint (buf[i], ==, 0);

  for (i = 0; i < n_records; i++) {
    const guint8 *rec = buf + 128 + 64 * i;
    guint64 offset = le64 (rec + 56);

    g_assert_cmpuint (offset % 64, ==, 0);
    g_assert_cmpuint (offset + le64 (rec + 48), <=, size);
    if (i >= 4 && i < 4 + n) {
      g_assert_cmpstr ((const char *) rec, ==, tensors[i - 4].name);
      g_assert_cmpuint (le32 (rec + 32), ==, DAE_FORMAT_DTYPE_F32);
      g_assert_cmpuint (le32 (rec + 36), ==, 2);
      g_assert_cmpuint (le32 (rec + 40), ==, tensors[i - 4].rows);
      g_assert_cmpuint (le32 (rec + 44), ==, tensors[i - 4].cols);
      g_assert_true (get_f32 (buf + offset) == tensors[i - 4].data[0]);
    }
  }
  g_assert_cmpstr ((const char *) buf + 128, ==, "bands.centers");
  g_assert_cmpstr ((const char *) buf + 128 + 64, ==, "norm.mean");
  g_assert_cmpstr ((const char *) buf + 128 + 128, ==, "norm.std");
  g_assert_cmpstr ((const char *) buf + 128 + 192, ==, "info");
  /* the band error scale last */
  g_assert_cmpstr ((const char *) buf + 128 + 64 * (4 + n), ==, "score.scale");
  g_assert_cmpfloat (get_f32 (payload (buf, "score.scale") + 4), ==, 1.25f);
  g_assert_cmpuint (le32 (buf + 128 + 192 + 32), ==, DAE_FORMAT_DTYPE_UTF8);
  g_assert_cmpmem (payload (buf, "info"), le64 (buf + 128 + 192 + 48),
      model->info, strlen (model->info));

  g_free (buf);
  dae_model_unref (model);
}

/* ------------------------------------------------------------------------ */
/* Round trips                                                               */

static void
test_roundtrip_memory (gconstpointer data)
{
  gboolean has_vad = GPOINTER_TO_INT (data);
  DaeModel *model = make_model (TRUE, TEST_SEED);
  DaeModel *loaded = NULL;
  DaeError error;
  guint8 *buf;
  guint8 *buf2;
  gsize size;
  gsize size2;

  if (!has_vad) {
    /* the other variant: no vad head, no skip, no info, uncalibrated */
    dae_model_unref (model);
    model = make_model_full (FALSE, FALSE, TEST_SEED);
    model->info[0] = '\0';
    model->anomaly_threshold = -1.0f;
  }

  buf = save_bytes (model, &size);
  g_assert_cmpint (dae_model_load_memory (buf, size, &loaded, &error), ==,
      DAE_OK);
  assert_models_equal (model, loaded);

  /* writing the loaded model gives the same bytes */
  buf2 = save_bytes (loaded, &size2);
  g_assert_cmpmem (buf, size, buf2, size2);

  g_free (buf);
  g_free (buf2);
  dae_model_unref (loaded);
  dae_model_unref (model);
}

static void
test_roundtrip_info_max (void)
{
  DaeModel *model = make_model (TRUE, TEST_SEED);
  DaeModel *loaded = NULL;
  DaeError error;
  guint8 *buf;
  gsize size;

  memset (model->info, 'x', DAE_MODEL_INFO_MAX - 1);
  model->info[DAE_MODEL_INFO_MAX - 1] = '\0';
  buf = save_bytes (model, &size);
  g_assert_cmpint (dae_model_load_memory (buf, size, &loaded, &error), ==,
      DAE_OK);
  assert_models_equal (model, loaded);
  g_free (buf);
  dae_model_unref (loaded);
  dae_model_unref (model);
}

static void
test_roundtrip_file (void)
{
  DaeModel *model = make_model (TRUE, TEST_SEED);
  DaeModel *other = make_model (TRUE, TEST_SEED + 7);
  DaeModel *loaded = NULL;
  DaeError error;
  GError *gerror = NULL;
  gchar *dir;
  gchar *path;
  gchar *contents;
  gsize length;
  guint8 *buf;
  gsize size;
  GDir *listing;
  const gchar *entry;
  guint n_entries = 0;
  GStatBuf st;

  g_test_summary ("A model saved to a file loads back identical; the file "
      "holds exactly the save_memory bytes; overwriting works and leaves no "
      "temporary file behind.");

  dir = g_dir_make_tmp ("dae-model-XXXXXX", &gerror);
  g_assert_no_error (gerror);
  path = g_build_filename (dir, "model.dae", NULL);

  /* write another model first so the second save replaces a file */
  g_assert_cmpint (dae_model_save_file (other, path, &error), ==, DAE_OK);
  g_assert_cmpint (dae_model_save_file (model, path, &error), ==, DAE_OK);

  g_assert_cmpint (dae_model_load_file (path, &loaded, &error), ==, DAE_OK);
  assert_models_equal (model, loaded);

  g_assert_true (g_file_get_contents (path, &contents, &length, &gerror));
  g_assert_no_error (gerror);
  buf = save_bytes (model, &size);
  g_assert_cmpmem (contents, length, buf, size);
  g_assert_cmpint (g_stat (path, &st), ==, 0);
  g_assert_cmpuint (st.st_mode & 0777, ==, 0644);

  listing = g_dir_open (dir, 0, &gerror);
  g_assert_no_error (gerror);
  while ((entry = g_dir_read_name (listing)) != NULL) {
    g_assert_cmpstr (entry, ==, "model.dae");
    n_entries++;
  }
  g_assert_cmpuint (n_entries, ==, 1);
  g_dir_close (listing);

  g_free (contents);
  g_free (buf);
  g_assert_cmpint (g_remove (path), ==, 0);
  g_assert_cmpint (g_rmdir (dir), ==, 0);
  g_free (path);
  g_free (dir);
  dae_model_unref (loaded);
  dae_model_unref (other);
  dae_model_unref (model);
}

/* ------------------------------------------------------------------------ */
/* I/O errors                                                                */

static void
test_save_missing_dir (void)
{
  DaeModel *model = make_model (TRUE, TEST_SEED);
  DaeError error;
  GError *gerror = NULL;
  gchar *dir;
  gchar *path;

  dir = g_dir_make_tmp ("dae-model-XXXXXX", &gerror);
  g_assert_no_error (gerror);
  path = g_build_filename (dir, "no-such-dir", "model.dae", NULL);

  memset (&error, 0, sizeof (error));
  g_assert_cmpint (dae_model_save_file (model, path, &error), ==, DAE_ERROR_IO);
  g_assert_cmpint (error.status, ==, DAE_ERROR_IO);
  assert_message_contains (&error, path);
  assert_message_contains (&error, g_strerror (ENOENT));
  g_assert_false (g_file_test (path, G_FILE_TEST_EXISTS));

  g_assert_cmpint (g_rmdir (dir), ==, 0);
  g_free (path);
  g_free (dir);
  dae_model_unref (model);
}

static void
test_load_missing_file (void)
{
  DaeModel *model = NULL;
  DaeError error;
  GError *gerror = NULL;
  gchar *dir;
  gchar *path;

  dir = g_dir_make_tmp ("dae-model-XXXXXX", &gerror);
  g_assert_no_error (gerror);
  path = g_build_filename (dir, "missing.dae", NULL);

  g_assert_cmpint (dae_model_load_file (path, &model, &error), ==,
      DAE_ERROR_IO);
  g_assert_null (model);
  assert_message_contains (&error, path);
  assert_message_contains (&error, g_strerror (ENOENT));

  /* a directory is not a model file either */
  g_assert_cmpint (dae_model_load_file (dir, &model, &error), ==, DAE_ERROR_IO);
  g_assert_null (model);
  assert_message_contains (&error, dir);

  /* nor is a FIFO (and opening it must not block) */
  g_assert_cmpint (mkfifo (path, 0600), ==, 0);
  g_assert_cmpint (dae_model_load_file (path, &model, &error), ==,
      DAE_ERROR_IO);
  g_assert_null (model);
  assert_message_contains (&error, "not a regular file");
  g_assert_cmpint (g_remove (path), ==, 0);

  g_assert_cmpint (dae_model_load_file (NULL, &model, NULL), ==,
      DAE_ERROR_INVALID_ARGUMENT);
  g_assert_cmpint (dae_model_load_memory (NULL, 10, &model, NULL), ==,
      DAE_ERROR_INVALID_ARGUMENT);

  g_assert_cmpint (g_rmdir (dir), ==, 0);
  g_free (path);
  g_free (dir);
}

static void
test_save_invalid (void)
{
  DaeModel *model = make_model (TRUE, TEST_SEED);
  DaeError error;
  void *data = NULL;
  size_t size = 0;

  g_test_summary ("The writer refuses models the reader would refuse "
      "(non-finite weights, std <= 0) instead of writing them.");

  model->net.recon.w[3] = NAN;
  g_assert_cmpint (dae_model_save_memory (model, &data, &size, &error), ==,
      DAE_ERROR_INVALID_ARGUMENT);
  assert_message_contains (&error, "recon.w");
  g_assert_null (data);
  model->net.recon.w[3] = 0.0f;

  model->norm_std[2] = 0.0f;
  g_assert_cmpint (dae_model_save_memory (model, &data, &size, &error), ==,
      DAE_ERROR_INVALID_ARGUMENT);
  assert_message_contains (&error, "norm.std");
  g_assert_null (data);

  dae_model_unref (model);
}

/* ------------------------------------------------------------------------ */
/* Corruption                                                                */

static void
test_truncated (void)
{
  DaeModel *model = make_model (TRUE, TEST_SEED);
  DaeError error;
  guint8 *buf;
  gsize size;
  gsize len;
  gsize step = env_step ("DAE_TEST_TRUNCATION_STEP");

  g_test_summary ("Every proper prefix of a valid file is refused with "
      "BAD_FORMAT, read from an exactly sized buffer (no over-read).  Set "
      "DAE_TEST_TRUNCATION_STEP to test every n-th length only.");

  buf = save_bytes (model, &size);
  for (len = 0; len < size; len += step) {
    memset (&error, 0, sizeof (error));
    g_assert_cmpint (load_copy (buf, len, &error), ==, DAE_ERROR_BAD_FORMAT);
    if (len < DAE_FORMAT_HEADER_SIZE)
      assert_message_contains (&error, "truncated header");
    else
      assert_message_contains (&error, "truncated");
  }
  /* trailing garbage is refused as well */
  buf = g_realloc (buf, size + 1);
  buf[size] = 0;
  g_assert_cmpint (load_copy (buf, size + 1, &error), ==, DAE_ERROR_BAD_FORMAT);

  g_free (buf);
  dae_model_unref (model);
}

static void
run_flips (gboolean fix_checksum)
{
  DaeModel *model = make_model (TRUE, TEST_SEED);
  DaeError error;
  GRand *rand = g_rand_new_with_seed (FLIP_SEED + fix_checksum);
  guint8 *buf;
  guint8 *copy;
  gsize size;
  guint counts[3] = { 0, 0, 0 };
  int iter;

  buf = save_bytes (model, &size);
  copy = g_malloc (size);
  for (iter = 0; iter < FLIP_ITERATIONS; iter++) {
    int n_flips = g_rand_int_range (rand, 1, 5);
    int f;
    DaeStatus status;

    memcpy (copy, buf, size);
    for (f = 0; f < n_flips; f++) {
      gsize pos = (gsize) g_rand_int_range (rand, 0, (gint32) size);

      copy[pos] ^= (guint8) g_rand_int_range (rand, 1, 256);
    }
    if (fix_checksum)
      fix_crc (copy, size);

    status = load_copy (copy, size, &error);
    if (status == DAE_OK)
      counts[0]++;
    else if (status == DAE_ERROR_BAD_FORMAT)
      counts[1]++;
    else if (status == DAE_ERROR_UNSUPPORTED_VERSION)
      counts[2]++;
    else
      g_error ("iteration %d: unexpected status %d (%s)", iter, status,
          error.message);
  }
  g_test_message ("%d flip sets: %u loaded, %u bad format, %u unsupported "
      "version", FLIP_ITERATIONS, counts[0], counts[1], counts[2]);
  if (!fix_checksum)
    g_assert_cmpuint (counts[1], >, FLIP_ITERATIONS * 9 / 10);

  g_free (copy);
  g_free (buf);
  g_rand_free (rand);
  dae_model_unref (model);
}

static void
test_flips (void)
{
  g_test_summary ("Random 1-4 byte corruptions never crash or over-read; "
      "they load a valid model or fail with BAD_FORMAT or "
      "UNSUPPORTED_VERSION (almost always BAD_FORMAT: the checksum).");
  run_flips (FALSE);
}

static void
test_flips_valid_crc (void)
{
  g_test_summary ("As /model/io/byte-flips, with the checksum recomputed so "
      "the corruption reaches the record and value checks.");
  run_flips (TRUE);
}

typedef void (*Mutator) (guint8 * buf, gsize size);

typedef struct
{
  const char *path;
  Mutator mutate;
  gboolean fix_crc;
  DaeStatus expected;
  const char *needle;           /* in the message, or NULL */
  const char *summary;
} Corruption;

static void
mutate_magic (guint8 * buf, gsize size)
{
  buf[0] = 'X';
}

static void
mutate_version_2 (guint8 * buf, gsize size)
{
  set_le16 (buf + DAE_FORMAT_OFF_MAJOR, 2);
}

static void
mutate_minor_version (guint8 * buf, gsize size)
{
  set_le16 (buf + DAE_FORMAT_OFF_MINOR, 7);
}

static void
mutate_payload_byte (guint8 * buf, gsize size)
{
  buf[size - 1] ^= 0x40;
}

static void
mutate_file_size (guint8 * buf, gsize size)
{
  set_le64 (buf + DAE_FORMAT_OFF_FILE_SIZE, size + 64);
}

static void
mutate_header_size (guint8 * buf, gsize size)
{
  set_le32 (buf + DAE_FORMAT_OFF_HEADER_SIZE, 64);
}

static void
mutate_config (guint8 * buf, gsize size)
{
  set_le32 (buf + DAE_FORMAT_OFF_N_BANDS, 0);
}

static void
mutate_flags (guint8 * buf, gsize size)
{
  set_le32 (buf + DAE_FORMAT_OFF_FLAGS, 0x83);
}

static void
mutate_threshold (guint8 * buf, gsize size)
{
  set_f32 (buf + DAE_FORMAT_OFF_THRESHOLD, INFINITY);
}

static void
mutate_error_scale_zero (guint8 * buf, gsize size)
{
  set_f32 (payload (buf, "score.scale") + 3 * 4, 0.0f);
}

static void
mutate_error_scale_flag_cleared (guint8 * buf, gsize size)
{
  set_le32 (buf + DAE_FORMAT_OFF_FLAGS, le32 (buf + DAE_FORMAT_OFF_FLAGS)
      & ~DAE_FORMAT_FLAG_ERROR_SCALE);
}

static void
mutate_error_scale_missing (guint8 * buf, gsize size)
{
  guint8 *rec = buf + find_record (buf, "score.scale");

  memcpy (rec, "score.other", sizeof ("score.other"));
}

static void
mutate_calibration_quantile (guint8 * buf, gsize size)
{
  set_f32 (buf + DAE_FORMAT_OFF_CALIB_QUANTILE, 1.5f);
}

static void
mutate_calibration_alarms (guint8 * buf, gsize size)
{
  set_f32 (buf + DAE_FORMAT_OFF_CALIB_ALARMS, NAN);
}

static void
mutate_calibration_seconds (guint8 * buf, gsize size)
{
  set_f32 (buf + DAE_FORMAT_OFF_CALIB_SECONDS, -1.0f);
}

static void
mutate_gain_scale_low (guint8 * buf, gsize size)
{
  set_f32 (buf + DAE_FORMAT_OFF_GAIN_SCALE, 0.5f);
}

static void
mutate_gain_scale_nan (guint8 * buf, gsize size)
{
  set_f32 (buf + DAE_FORMAT_OFF_GAIN_SCALE, NAN);
}

static void
mutate_wrong_shape (guint8 * buf, gsize size)
{
  gsize rec = find_record (buf, "enc_gru.w");

  /* 15x6 -> 6x15: same byte size, wrong shape */
  set_le32 (buf + rec + DAE_FORMAT_REC_SHAPE0, 6);
  set_le32 (buf + rec + DAE_FORMAT_REC_SHAPE1, 15);
}

static void
mutate_wrong_byte_size (guint8 * buf, gsize size)
{
  gsize rec = find_record (buf, "enc_gru.w");

  set_le64 (buf + rec + DAE_FORMAT_REC_BYTE_SIZE, 15 * 6 * 4 + 4);
}

static void
mutate_missing_tensor (guint8 * buf, gsize size)
{
  gsize rec = find_record (buf, "recon.b");

  buf[rec + strlen ("recon.")] = 'c';
}

static void
mutate_unknown_record (guint8 * buf, gsize size)
{
  gsize rec = find_record (buf, "info");

  memset (buf + rec, 0, DAE_FORMAT_NAME_SIZE);
  memcpy (buf + rec, "future.thing", strlen ("future.thing"));
}

static void
mutate_duplicate (guint8 * buf, gsize size)
{
  gsize rec = find_record (buf, "recon.b");

  buf[rec + strlen ("recon.")] = 'w';
}

static void
mutate_name_unterminated (guint8 * buf, gsize size)
{
  gsize rec = find_record (buf, "gain.b");

  memset (buf + rec, 'a', DAE_FORMAT_NAME_SIZE);
}

static void
mutate_huge_n_records (guint8 * buf, gsize size)
{
  set_le32 (buf + DAE_FORMAT_OFF_N_RECORDS, 0xffffffffu);
}

static void
mutate_table_past_end (guint8 * buf, gsize size)
{
  set_le32 (buf + DAE_FORMAT_OFF_N_RECORDS, DAE_FORMAT_MAX_RECORDS);
}

static void
mutate_offset_beyond_end (guint8 * buf, gsize size)
{
  gsize rec = find_record (buf, "gain.w");

  set_le64 (buf + rec + DAE_FORMAT_REC_OFFSET, (size + 63) / 64 * 64 + 64);
}

static void
mutate_offset_huge (guint8 * buf, gsize size)
{
  gsize rec = find_record (buf, "gain.w");

  set_le64 (buf + rec + DAE_FORMAT_REC_OFFSET,
      G_GUINT64_CONSTANT (0xffffffffffffffc0));
}

static void
mutate_offset_misaligned (guint8 * buf, gsize size)
{
  gsize rec = find_record (buf, "gain.w");
  guint64 offset = le64 (buf + rec + DAE_FORMAT_REC_OFFSET);

  set_le64 (buf + rec + DAE_FORMAT_REC_OFFSET, offset + 4);
}

static void
mutate_overlap (guint8 * buf, gsize size)
{
  gsize gain = find_record (buf, "gain.w");
  gsize recon = find_record (buf, "recon.w");

  memcpy (buf + recon + DAE_FORMAT_REC_OFFSET,
      buf + gain + DAE_FORMAT_REC_OFFSET, 8);
}

static void
mutate_size_overflow (guint8 * buf, gsize size)
{
  gsize rec = find_record (buf, "gain.w");

  set_le64 (buf + rec + DAE_FORMAT_REC_BYTE_SIZE, G_GUINT64_CONSTANT (1) << 63);
}

static void
mutate_shape_overflow (guint8 * buf, gsize size)
{
  gsize rec = find_record (buf, "gain.w");
  guint64 elems = (guint64) 0xffffffffu * 0xffffffffu;

  set_le32 (buf + rec + DAE_FORMAT_REC_SHAPE0, 0xffffffffu);
  set_le32 (buf + rec + DAE_FORMAT_REC_SHAPE1, 0xffffffffu);
  /* what a wrapping multiplication would compute */
  set_le64 (buf + rec + DAE_FORMAT_REC_BYTE_SIZE, elems * 4);
}

static void
mutate_dtype (guint8 * buf, gsize size)
{
  set_le32 (buf + find_record (buf, "gain.b") + DAE_FORMAT_REC_DTYPE, 7);
}

static void
mutate_dtype_mismatch (guint8 * buf, gsize size)
{
  gsize rec = find_record (buf, "norm.mean");

  /* 8 floats = 32 utf8 bytes: self-consistent, but not what norm.mean is */
  set_le32 (buf + rec + DAE_FORMAT_REC_DTYPE, DAE_FORMAT_DTYPE_UTF8);
  set_le32 (buf + rec + DAE_FORMAT_REC_SHAPE0, 32);
}

static void
mutate_negative_std (guint8 * buf, gsize size)
{
  set_f32 (payload (buf, "norm.std") + 3 * 4, -1.0f);
}

static void
mutate_zero_std (guint8 * buf, gsize size)
{
  set_f32 (payload (buf, "norm.std"), 0.0f);
}

static void
mutate_nan_weight (guint8 * buf, gsize size)
{
  set_f32 (payload (buf, "enc_gru.u") + 5 * 4, NAN);
}

static void
mutate_inf_mean (guint8 * buf, gsize size)
{
  set_f32 (payload (buf, "norm.mean") + 7 * 4, -INFINITY);
}

static void
mutate_unsorted_centers (guint8 * buf, gsize size)
{
  guint8 *p = payload (buf, "bands.centers");
  guint8 tmp[4];

  memcpy (tmp, p + 2 * 4, 4);
  memcpy (p + 2 * 4, p + 3 * 4, 4);
  memcpy (p + 3 * 4, tmp, 4);
}

static void
mutate_center_above_nyquist (guint8 * buf, gsize size)
{
  set_f32 (payload (buf, "bands.centers") + 7 * 4, 8000.0f);
}

static void
mutate_info_utf8 (guint8 * buf, gsize size)
{
  payload (buf, "info")[0] = 0xff;
}

static void
mutate_info_nul (guint8 * buf, gsize size)
{
  payload (buf, "info")[1] = 0;
}

static const Corruption corruptions[] = {
  {"/model/io/corrupt/bad-magic", mutate_magic, TRUE,
      DAE_ERROR_BAD_FORMAT, "bad magic", NULL},
  {"/model/io/corrupt/version-2", mutate_version_2, TRUE,
      DAE_ERROR_UNSUPPORTED_VERSION, "version 2.4 is not supported", NULL},
  {"/model/io/corrupt/newer-minor-version", mutate_minor_version, TRUE,
        DAE_OK, NULL,
      "A higher minor version of major 1 still loads (forward compatible)."},
  {"/model/io/corrupt/checksum", mutate_payload_byte, FALSE,
      DAE_ERROR_BAD_FORMAT, "checksum mismatch", NULL},
  {"/model/io/corrupt/file-size-field", mutate_file_size, TRUE,
      DAE_ERROR_BAD_FORMAT, "header says", NULL},
  {"/model/io/corrupt/header-size", mutate_header_size, TRUE,
      DAE_ERROR_BAD_FORMAT, "header size", NULL},
  {"/model/io/corrupt/bad-config", mutate_config, TRUE,
      DAE_ERROR_BAD_FORMAT, "n_bands = 0", NULL},
  {"/model/io/corrupt/unknown-flags", mutate_flags, TRUE,
      DAE_ERROR_BAD_FORMAT, "flags", NULL},
  {"/model/io/corrupt/infinite-threshold", mutate_threshold, TRUE,
      DAE_ERROR_BAD_FORMAT, "threshold", NULL},
  {"/model/io/corrupt/error-scale-zero", mutate_error_scale_zero, TRUE,
      DAE_ERROR_BAD_FORMAT, "record 'score.scale': element 3", NULL},
  {"/model/io/corrupt/error-scale-without-flag",
        mutate_error_scale_flag_cleared, TRUE, DAE_ERROR_BAD_FORMAT,
        "without the error-scale flag",
      "A 'score.scale' record in a file without the flag is refused."},
  {"/model/io/corrupt/error-scale-missing", mutate_error_scale_missing,
        TRUE, DAE_ERROR_BAD_FORMAT, "missing record 'score.scale'",
      "The error-scale flag without its record is refused."},
  {"/model/io/corrupt/calibration-quantile", mutate_calibration_quantile,
      TRUE, DAE_ERROR_BAD_FORMAT, "calibration", NULL},
  {"/model/io/corrupt/calibration-alarms", mutate_calibration_alarms, TRUE,
      DAE_ERROR_BAD_FORMAT, "calibration", NULL},
  {"/model/io/corrupt/calibration-seconds", mutate_calibration_seconds,
      TRUE, DAE_ERROR_BAD_FORMAT, "calibration", NULL},
  {"/model/io/corrupt/gain-scale-low", mutate_gain_scale_low, TRUE,
        DAE_ERROR_BAD_FORMAT, "gain scale 0.5 outside 1 to 2",
      "A 1.4 header's gain scale below 1 is refused."},
  {"/model/io/corrupt/gain-scale-nan", mutate_gain_scale_nan, TRUE,
      DAE_ERROR_BAD_FORMAT, "gain scale nan outside 1 to 2", NULL},
  {"/model/io/corrupt/wrong-shape", mutate_wrong_shape, TRUE,
        DAE_ERROR_BAD_FORMAT, "record 'enc_gru.w': shape 6x15, expected 15x6",
      "A tensor with the right byte size but the wrong shape is refused, "
        "naming the record and both shapes."},
  {"/model/io/corrupt/wrong-byte-size", mutate_wrong_byte_size, TRUE,
      DAE_ERROR_BAD_FORMAT, "'enc_gru.w'", NULL},
  {"/model/io/corrupt/missing-tensor", mutate_missing_tensor, TRUE,
      DAE_ERROR_BAD_FORMAT, "missing record 'recon.b'", NULL},
  {"/model/io/corrupt/unknown-record", mutate_unknown_record, TRUE,
        DAE_OK, NULL,
      "Records with unknown names are skipped (the info record is optional)."},
  {"/model/io/corrupt/duplicate-record", mutate_duplicate, TRUE,
      DAE_ERROR_BAD_FORMAT, "duplicate record 'recon.w'", NULL},
  {"/model/io/corrupt/name-unterminated", mutate_name_unterminated, TRUE,
      DAE_ERROR_BAD_FORMAT, "NUL-terminated", NULL},
  {"/model/io/corrupt/huge-n-records", mutate_huge_n_records, TRUE,
      DAE_ERROR_BAD_FORMAT, "n_records", NULL},
  {"/model/io/corrupt/table-past-end", mutate_table_past_end, TRUE,
      DAE_ERROR_BAD_FORMAT, "record table", NULL},
  {"/model/io/corrupt/offset-beyond-end", mutate_offset_beyond_end, TRUE,
      DAE_ERROR_BAD_FORMAT, "'gain.w'", NULL},
  {"/model/io/corrupt/offset-huge", mutate_offset_huge, TRUE,
        DAE_ERROR_BAD_FORMAT, "'gain.w'",
      "An offset near 2^64 is refused without offset + size wrapping."},
  {"/model/io/corrupt/offset-misaligned", mutate_offset_misaligned, TRUE,
      DAE_ERROR_BAD_FORMAT, "aligned", NULL},
  {"/model/io/corrupt/overlapping-payloads", mutate_overlap, TRUE,
      DAE_ERROR_BAD_FORMAT, "overlaps", NULL},
  {"/model/io/corrupt/size-overflow", mutate_size_overflow, TRUE,
        DAE_ERROR_BAD_FORMAT, "'gain.w'",
      "byte_size = 2^63 is refused without arithmetic overflow."},
  {"/model/io/corrupt/shape-overflow", mutate_shape_overflow, TRUE,
        DAE_ERROR_BAD_FORMAT, "'gain.w'",
      "A shape whose byte size wraps 64 bits is refused."},
  {"/model/io/corrupt/unknown-dtype", mutate_dtype, TRUE,
      DAE_ERROR_BAD_FORMAT, "dtype", NULL},
  {"/model/io/corrupt/dtype-mismatch", mutate_dtype_mismatch, TRUE,
      DAE_ERROR_BAD_FORMAT, "record 'norm.mean': dtype", NULL},
  {"/model/io/corrupt/negative-std", mutate_negative_std, TRUE,
      DAE_ERROR_BAD_FORMAT, "norm.std", NULL},
  {"/model/io/corrupt/zero-std", mutate_zero_std, TRUE,
      DAE_ERROR_BAD_FORMAT, "norm.std", NULL},
  {"/model/io/corrupt/nan-weight", mutate_nan_weight, TRUE,
        DAE_ERROR_BAD_FORMAT, "record 'enc_gru.u': element 5 is not finite",
      NULL},
  {"/model/io/corrupt/infinite-mean", mutate_inf_mean, TRUE,
      DAE_ERROR_BAD_FORMAT, "norm.mean", NULL},
  {"/model/io/corrupt/unsorted-centers", mutate_unsorted_centers, TRUE,
      DAE_ERROR_BAD_FORMAT, "increasing", NULL},
  {"/model/io/corrupt/center-above-nyquist", mutate_center_above_nyquist,
      TRUE, DAE_ERROR_BAD_FORMAT, "bands.centers", NULL},
  {"/model/io/corrupt/info-utf8", mutate_info_utf8, TRUE,
      DAE_ERROR_BAD_FORMAT, "UTF-8", NULL},
  {"/model/io/corrupt/info-nul", mutate_info_nul, TRUE,
      DAE_ERROR_BAD_FORMAT, "NUL", NULL},
};

static void
test_corruption (gconstpointer data)
{
  const Corruption *c = data;
  DaeModel *model = make_model (TRUE, TEST_SEED);
  DaeModel *loaded = NULL;
  DaeError error;
  guint8 *buf;
  gsize size;
  DaeStatus status;

  if (c->summary != NULL)
    g_test_summary (c->summary);

  buf = save_bytes (model, &size);
  c->mutate (buf, size);
  if (c->fix_crc)
    fix_crc (buf, size);

  memset (&error, 0, sizeof (error));
  status = dae_model_load_memory (buf, size, &loaded, &error);
  g_test_message ("status %d: %s", status, error.message);
  g_assert_cmpint (status, ==, c->expected);
  if (status == DAE_OK) {
    g_assert_nonnull (loaded);
    dae_model_unref (loaded);
  } else {
    g_assert_null (loaded);
    g_assert_cmpint (error.status, ==, c->expected);
  }
  if (c->needle != NULL)
    assert_message_contains (&error, c->needle);

  g_free (buf);
  dae_model_unref (model);
}

static void
test_band_range_roundtrip (void)
{
  DaeModelConfig config;
  DaeModelConfig got;
  DaeModel *model = NULL;
  DaeModel *loaded = NULL;
  DaeError error;
  guint8 *buf;
  gsize size;

  g_test_summary ("A predictive model with a chosen band range "
      "round-trips: the flag is in the header, the file stores the centres, "
      "and the loaded model's config gives the range back as its first and "
      "last centre.");

  small_config (&config, FALSE);
  config.band_min_hz = 30.0f;
  config.band_max_hz = 7000.0f;
  config.predictive = 1;
  g_assert_cmpint (dae_model_alloc (&config, &model, &error), ==, DAE_OK);
  buf = save_bytes (model, &size);
  g_assert_cmpuint (le32 (buf + DAE_FORMAT_OFF_FLAGS), ==,
      DAE_FORMAT_FLAG_GAIN_SKIP | DAE_FORMAT_FLAG_PREDICTIVE);
  g_assert_cmpint (dae_model_load_memory (buf, size, &loaded, &error), ==,
      DAE_OK);
  assert_models_equal (model, loaded);
  dae_model_get_config (loaded, &got);
  g_assert_true (got.band_min_hz == 30.0f);
  g_assert_true (got.band_max_hz == 7000.0f);
  g_assert_cmpint (got.predictive, ==, 1);
  g_assert_true (got.band_min_hz == dae_model_get_band_centers (loaded)[0]);
  g_assert_true (got.band_max_hz ==
      dae_model_get_band_centers (loaded)[config.n_bands - 1]);
  g_assert_cmpint (dae_model_config_validate (&got, &error), ==, DAE_OK);
  dae_model_unref (loaded);
  g_free (buf);
  dae_model_unref (model);
}

static void
test_tonality_roundtrip (void)
{
  DaeModelConfig config;
  DaeModel *model = NULL;
  DaeModel *loaded = NULL;
  DaeError error;
  DaeTensor tensors[DAE_MAX_TENSORS];
  guint8 *buf;
  gsize size;
  gsize rec;
  size_t n;
  size_t i;

  g_test_summary ("A model with band tonality has twice n_bands inputs: the "
      "flag is in the header, the normalisation records hold 2 n_bands "
      "values and the input layers are that wide; it round-trips, and a "
      "file whose normalisation is n_bands long under the flag is refused "
      "with a message naming the record.");

  small_config (&config, TRUE);
  config.tonality = 1;
  g_assert_cmpint (dae_model_alloc (&config, &model, &error), ==, DAE_OK);
  g_assert_cmpuint (dae_model_get_n_features (model), ==, 2 * config.n_bands);
  n = dae_model_list_tensors (model, tensors);
  g_assert_cmpstr (tensors[0].name, ==, "enc_dense.w");
  g_assert_cmpuint (tensors[0].cols, ==, 2 * config.n_bands);
  for (i = 0; i < n && strcmp (tensors[i].name, "gain.w") != 0; i++)
    continue;
  g_assert_cmpuint (i, <, n);
  g_assert_cmpuint (tensors[i].cols, ==, config.dec_gru + 2 * config.n_bands);
  dae_model_init_random (model, TEST_SEED);
  for (i = 0; i < 2 * config.n_bands; i++) {
    model->norm_mean[i] = -1.0f + 0.25f * (float) i;
    model->norm_std[i] = 0.5f + 0.125f * (float) i;
  }
  buf = save_bytes (model, &size);
  g_assert_cmpuint (le32 (buf + DAE_FORMAT_OFF_FLAGS), ==,
      DAE_FORMAT_FLAG_HAS_VAD | DAE_FORMAT_FLAG_GAIN_SKIP
      | DAE_FORMAT_FLAG_TONALITY);
  g_assert_cmpint (dae_model_load_memory (buf, size, &loaded, &error), ==,
      DAE_OK);
  assert_models_equal (model, loaded);
  dae_model_unref (loaded);
  loaded = NULL;

  /* norm.std declared n_bands long (CRC fixed up): a shape error */
  rec = find_record (buf, DAE_FORMAT_NAME_NORM_STD);
  set_le32 (buf + rec + DAE_FORMAT_REC_SHAPE0, (guint32) config.n_bands);
  set_le64 (buf + rec + DAE_FORMAT_REC_BYTE_SIZE, 4 * config.n_bands);
  fix_crc (buf, size);
  g_assert_cmpint (dae_model_load_memory (buf, size, &loaded, &error), ==,
      DAE_ERROR_BAD_FORMAT);
  g_assert_null (loaded);
  assert_message_contains (&error, "norm.std");
  assert_message_contains (&error, "expected 16");
  g_free (buf);
  dae_model_unref (model);
}

static float
half_bits_to_float (guint16 h)
{
  return dae_half_to_float (h);
}

static void
test_half_convert (void)
{
  static const struct
  {
    float value;
    guint16 half;
  } cases[] = {
    {0.0f, 0x0000}, {-0.0f, 0x8000}, {1.0f, 0x3c00}, {-2.0f, 0xc000},
    {65504.0f, 0x7bff}, {65519.99f, 0x7bff}, {65520.0f, 0x7c00},
    {1e30f, 0x7c00}, {-1e30f, 0xfc00},
    {0x1p-14f, 0x0400}, {0x1p-24f, 0x0001}, {-0x1p-24f, 0x8001},
    /* ties go to the even half */
    {0x1p-25f, 0x0000}, {0x3p-25f, 0x0002}, {0x5p-25f, 0x0002},
    {1.0f + 0x1p-11f, 0x3c00}, {1.0f + 0x3p-11f, 0x3c02},
    /* just above a tie rounds up; a carry into the exponent */
    {0x1.8p-25f, 0x0001}, {2.0f - 0x1p-12f, 0x4000},
    /* the largest subnormal half, and the float below 2^-14 that rounds
     * up to the smallest normal one */
    {0x3ffp-24f, 0x03ff}, {0x1.fffffep-15f, 0x0400},
    {1e-30f, 0x0000}, {1e-40f, 0x0000},
  };
  GRand *rand = g_rand_new_with_seed (TEST_SEED);
  guint32 h;
  gsize i;

  g_test_summary ("IEEE half conversion: every half round-trips through "
      "float exactly (NaN stays NaN, infinities stay); floats round to the "
      "nearest half, ties to even, subnormals included, and beyond 65504 "
      "past the midpoint to infinity; random floats of every magnitude land "
      "on the nearest half.");

  for (h = 0; h < 0x10000; h++) {
    float f = dae_half_to_float ((guint16) h);

    if ((h & 0x7c00) == 0x7c00 && (h & 0x3ff) != 0) {
      g_assert_true (isnan (f));
      g_assert_true (isnan (dae_half_to_float (dae_half_from_float (f))));
    } else {
      g_assert_cmphex (dae_half_from_float (f), ==, h);
    }
  }
  g_assert_true (isinf (dae_half_to_float (0x7c00)));
  g_assert_cmpfloat (dae_half_to_float (0x7bff), ==, DAE_HALF_MAX);
  g_assert_cmpfloat (dae_half_to_float (0x0001), ==, 0x1p-24f);
  for (i = 0; i < G_N_ELEMENTS (cases); i++) {
    g_test_message ("%a -> 0x%04x", (double) cases[i].value, cases[i].half);
    g_assert_cmphex (dae_half_from_float (cases[i].value), ==, cases[i].half);
  }

  /* nearest: no finite neighbour of the chosen half is closer */
  for (i = 0; i < 200000; i++) {
    float x = (float) (g_rand_double_range (rand, -1.0, 1.0)
        * pow (2.0, g_rand_double_range (rand, -30.0, 16.0)));
    guint16 q = dae_half_from_float (x);
    double d = fabs ((double) x - (double) half_bits_to_float (q));
    guint16 mag = q & 0x7fff;

    g_assert_cmpuint (mag, <, 0x7c00);
    if (mag > 0)
      g_assert_cmpfloat (d, <=,
          fabs ((double) x - (double) half_bits_to_float ((guint16) (q - 1))));
    if (mag < 0x7bff)
      g_assert_cmpfloat (d, <=,
          fabs ((double) x - (double) half_bits_to_float ((guint16) (q + 1))));
    if (mag == 0)
      g_assert_cmpfloat (d, <=, 0x1p-25);
  }
  g_rand_free (rand);
}

static void
test_half_roundtrip (void)
{
  DaeModelConfig config;
  DaeModel *model = NULL;
  DaeModel *half = NULL;
  DaeModel *loaded = NULL;
  DaeModel *back = NULL;
  DaeError error;
  DaeTensor tf[DAE_MAX_TENSORS];
  DaeTensor th[DAE_MAX_TENSORS];
  guint8 *buf_f;
  guint8 *buf_h;
  guint8 *again;
  gsize size_f;
  gsize size_h;
  gsize size_again;
  gsize tensor_bytes = 0;
  size_t n;
  size_t i;
  size_t k;

  g_test_summary ("dae_model_new_with_weight_bits (16) rounds every weight "
      "to the nearest half and keeps the rest; the file stores the tensors "
      "as f16 (2 bytes each, the other records f32), loads back as the same "
      "model with 16 weight bits, and saves to the same bytes; 32 bits "
      "writes f32 again.  A weight too large for a half, and bits other than "
      "16 and 32, are refused naming the problem.");

  small_config (&config, TRUE);
  g_assert_cmpint (dae_model_alloc (&config, &model, &error), ==, DAE_OK);
  dae_model_init_random (model, TEST_SEED);
  g_strlcpy (model->info, "half test", sizeof (model->info));
  model->anomaly_threshold = 1.25f;
  n = dae_model_list_tensors (model, tf);
  /* some values that are not halves: tiny, subnormal-range, large */
  tf[0].data[0] = 1e-7f;
  tf[0].data[1] = -3e-9f;
  tf[1].data[0] = 1000.3f;
  g_assert_cmpuint (dae_model_get_weight_bits (model), ==, 32);

  g_assert_cmpint (dae_model_new_with_weight_bits (model, 16, &half, &error),
      ==, DAE_OK);
  g_assert_cmpuint (dae_model_get_weight_bits (half), ==, 16);
  g_assert_cmpstr (dae_model_get_info (half), ==, "half test");
  g_assert_cmpfloat (dae_model_get_anomaly_threshold (half), ==, 1.25f);
  g_assert_cmpmem (half->norm_mean, config.n_bands * sizeof (float),
      model->norm_mean, config.n_bands * sizeof (float));
  g_assert_cmpuint (dae_model_list_tensors (half, th), ==, n);
  for (k = 0; k < n; k++) {
    for (i = 0; i < tf[k].rows * tf[k].cols; i++) {
      float w = tf[k].data[i];
      float q = th[k].data[i];

      g_assert_cmpfloat (q, ==, dae_half_to_float (dae_half_from_float (w)));
      g_assert_cmpfloat (fabsf (q - w), <=, fabsf (w) * 0x1p-11f + 0x1p-25f);
    }
    tensor_bytes += 2 * tf[k].rows * tf[k].cols;
  }
  g_assert_cmpfloat (th[0].data[1], ==, 0.0f);
  g_assert_cmpfloat (th[1].data[0], ==, 1000.5f);

  buf_f = save_bytes (model, &size_f);
  buf_h = save_bytes (half, &size_h);
  /* each tensor's payload is half as large (alignment aside) */
  g_assert_cmpuint (size_h, <=, size_f - tensor_bytes + 64 * n);
  g_assert_cmpuint (size_h, <, size_f);
  for (k = 0; k < n; k++) {
    gsize rec = find_record (buf_h, tf[k].name);

    g_assert_cmpuint (le32 (buf_h + rec + DAE_FORMAT_REC_DTYPE), ==,
        DAE_FORMAT_DTYPE_F16);
    g_assert_cmpuint (le64 (buf_h + rec + DAE_FORMAT_REC_BYTE_SIZE), ==,
        2 * tf[k].rows * tf[k].cols);
  }
  g_assert_cmpuint (le32 (buf_h + find_record (buf_h,
              DAE_FORMAT_NAME_NORM_MEAN) + DAE_FORMAT_REC_DTYPE), ==,
      DAE_FORMAT_DTYPE_F32);

  g_assert_cmpint (dae_model_load_memory (buf_h, size_h, &loaded, &error), ==,
      DAE_OK);
  g_assert_cmpuint (dae_model_get_weight_bits (loaded), ==, 16);
  assert_models_equal (half, loaded);
  again = save_bytes (loaded, &size_again);
  g_assert_cmpmem (again, size_again, buf_h, size_h);
  g_free (again);

  /* back to 32 bits: the half values, stored as f32 */
  g_assert_cmpint (dae_model_new_with_weight_bits (loaded, 32, &back, &error),
      ==, DAE_OK);
  g_assert_cmpuint (dae_model_get_weight_bits (back), ==, 32);
  assert_models_equal (half, back);
  again = save_bytes (back, &size_again);
  g_assert_cmpuint (size_again, ==, size_f);
  g_assert_cmpuint (le32 (again + find_record (again, tf[0].name)
          + DAE_FORMAT_REC_DTYPE), ==, DAE_FORMAT_DTYPE_F32);
  g_free (again);
  dae_model_unref (back);
  back = NULL;

  /* refused, model_out untouched */
  g_assert_cmpint (dae_model_new_with_weight_bits (model, 8, &back, &error),
      ==, DAE_ERROR_INVALID_ARGUMENT);
  assert_message_contains (&error, "16 or 32");
  tf[2].data[3] = 70000.0f;
  g_assert_cmpint (dae_model_new_with_weight_bits (model, 16, &back, &error),
      ==, DAE_ERROR_INVALID_ARGUMENT);
  assert_message_contains (&error, tf[2].name);
  assert_message_contains (&error, "16-bit");
  g_assert_null (back);
  g_assert_cmpint (dae_model_new_with_weight_bits (model, 32, &back, &error),
      ==, DAE_OK);
  dae_model_unref (back);

  dae_model_unref (loaded);
  dae_model_unref (half);
  dae_model_unref (model);
  g_free (buf_f);
  g_free (buf_h);
}

/* loads buf (CRC fixed up first) and expects BAD_FORMAT with needle */
static void
assert_load_refused (guint8 * buf, gsize size, const char *needle)
{
  DaeModel *loaded = NULL;
  DaeError error;

  fix_crc (buf, size);
  g_assert_cmpint (dae_model_load_memory (buf, size, &loaded, &error), ==,
      DAE_ERROR_BAD_FORMAT);
  g_assert_null (loaded);
  assert_message_contains (&error, needle);
}

static void
test_half_corrupt (void)
{
  DaeModelConfig config;
  DaeModel *model = NULL;
  DaeModel *half = NULL;
  DaeError error;
  DaeTensor t[DAE_MAX_TENSORS];
  guint8 *buf;
  guint8 *orig;
  gsize size;
  gsize rec;

  g_test_summary ("Files that mix 16- and 32-bit tensors, store a "
      "non-tensor record as f16, or hold an infinite or NaN half are refused "
      "with the record named.");

  small_config (&config, TRUE);
  g_assert_cmpint (dae_model_alloc (&config, &model, &error), ==, DAE_OK);
  dae_model_init_random (model, TEST_SEED);
  dae_model_list_tensors (model, t);
  g_assert_cmpint (dae_model_new_with_weight_bits (model, 16, &half, &error),
      ==, DAE_OK);

  /* a 32-bit file whose second tensor claims f16 (half the bytes, the
   * payload's second half then unused) */
  orig = save_bytes (model, &size);
  buf = g_memdup2 (orig, size);
  rec = find_record (buf, t[1].name);
  set_le32 (buf + rec + DAE_FORMAT_REC_DTYPE, DAE_FORMAT_DTYPE_F16);
  set_le64 (buf + rec + DAE_FORMAT_REC_BYTE_SIZE,
      le64 (buf + rec + DAE_FORMAT_REC_BYTE_SIZE) / 2);
  assert_load_refused (buf, size, "all tensors of a file have the same dtype");
  g_free (buf);

  /* the normalisation as f16 */
  buf = g_memdup2 (orig, size);
  rec = find_record (buf, DAE_FORMAT_NAME_NORM_MEAN);
  set_le32 (buf + rec + DAE_FORMAT_REC_DTYPE, DAE_FORMAT_DTYPE_F16);
  set_le64 (buf + rec + DAE_FORMAT_REC_BYTE_SIZE,
      le64 (buf + rec + DAE_FORMAT_REC_BYTE_SIZE) / 2);
  assert_load_refused (buf, size, DAE_FORMAT_NAME_NORM_MEAN);
  g_free (buf);
  g_free (orig);

  /* a 16-bit file whose second tensor claims f32 with half the rows (the
   * same bytes) */
  orig = save_bytes (half, &size);
  buf = g_memdup2 (orig, size);
  rec = find_record (buf, t[1].name);
  g_assert_cmpuint (t[1].rows % 2, ==, 0);
  set_le32 (buf + rec + DAE_FORMAT_REC_DTYPE, DAE_FORMAT_DTYPE_F32);
  set_le32 (buf + rec + DAE_FORMAT_REC_SHAPE0, (guint32) t[1].rows / 2);
  assert_load_refused (buf, size, "all tensors of a file have the same dtype");
  g_free (buf);

  /* an infinite and a NaN half in a weight */
  buf = g_memdup2 (orig, size);
  rec = find_record (buf, t[2].name);
  set_le16 (buf + le64 (buf + rec + DAE_FORMAT_REC_OFFSET) + 2, 0x7c00);
  assert_load_refused (buf, size, "finite");
  memcpy (buf, orig, size);
  set_le16 (buf + le64 (buf + rec + DAE_FORMAT_REC_OFFSET) + 2, 0xfe01);
  assert_load_refused (buf, size, "finite");
  g_free (buf);
  g_free (orig);

  dae_model_unref (half);
  dae_model_unref (model);
}

static void
test_band_spacing_roundtrip (void)
{
  DaeModelConfig config;
  DaeModelConfig got;
  DaeModel *model = NULL;
  DaeModel *loaded = NULL;
  DaeError error;
  float expected[DAE_MAX_BANDS];
  guint8 *buf;
  gsize size;

  g_test_summary ("A model with a minimum band spacing has the spaced ERB "
      "layout; the file stores those centres, the loaded model has exactly "
      "them, and its config says spacing 0 (the stored centres are the "
      "layout).  A spacing the bands cannot fit is refused with the field "
      "named.");

  small_config (&config, FALSE);
  config.n_bands = 48;
  config.band_min_hz = 50.0f;
  config.band_max_hz = 7000.0f;
  config.band_min_spacing_hz = 50.0f;
  g_assert_cmpint (dae_band_layout_erb_spaced (48, 50.0f, 7000.0f, 50.0f,
          expected), ==, DAE_OK);
  g_assert_cmpint (dae_model_alloc (&config, &model, &error), ==, DAE_OK);
  g_assert_cmpmem (dae_model_get_band_centers (model), 48 * sizeof (float),
      expected, 48 * sizeof (float));
  g_assert_cmpfloat_with_epsilon (dae_model_get_band_centers (model)[1],
      100.0, 1e-3);
  dae_model_get_config (model, &got);
  g_assert_true (got.band_min_spacing_hz == 50.0f);

  buf = save_bytes (model, &size);
  g_assert_cmpint (dae_model_load_memory (buf, size, &loaded, &error), ==,
      DAE_OK);
  g_assert_cmpmem (dae_model_get_band_centers (loaded), 48 * sizeof (float),
      expected, 48 * sizeof (float));
  dae_model_get_config (loaded, &got);
  g_assert_true (got.band_min_spacing_hz == 0.0f);
  g_assert_true (got.band_min_hz == 50.0f);
  g_assert_true (got.band_max_hz == 7000.0f);
  dae_model_unref (loaded);
  g_free (buf);
  dae_model_unref (model);

  /* 48 bands 150 Hz apart do not fit in 50 .. 7000 Hz; NaN and < 0 */
  config.band_min_spacing_hz = 150.0f;
  memset (&error, 0, sizeof (error));
  g_assert_cmpint (dae_model_config_validate (&config, &error), ==,
      DAE_ERROR_INVALID_ARGUMENT);
  assert_message_contains (&error, "band_min_spacing_hz = 150");
  g_assert_cmpint (dae_model_alloc (&config, &model, &error), ==,
      DAE_ERROR_INVALID_ARGUMENT);
  config.band_min_spacing_hz = NAN;
  g_assert_cmpint (dae_model_config_validate (&config, &error), ==,
      DAE_ERROR_INVALID_ARGUMENT);
  config.band_min_spacing_hz = -1.0f;
  g_assert_cmpint (dae_model_config_validate (&config, &error), ==,
      DAE_ERROR_INVALID_ARGUMENT);
}

static void
test_calibration (void)
{
  DaeModel *model = make_model (FALSE, TEST_SEED);
  DaeModel *loaded = NULL;
  DaeAnomalyCalibration cal;
  DaeError error;
  guint8 *buf;
  gsize size;
  size_t i;

  g_test_summary ("The threshold calibration round-trips through the 1.1 "
      "header; a 1.0 file's reserved bytes are ignored (calibration "
      "unknown); the getter is NULL-safe.");

  g_assert_cmpint (dae_model_get_anomaly_calibration (model, &cal), ==, 1);
  g_assert_true (cal.threshold == 0.25f);
  g_assert_true (cal.quantile == 0.99f);
  g_assert_true (cal.false_alarms_per_hour == 1.5f);
  g_assert_true (cal.held_out_seconds == 120.0f);
  g_assert_true (cal.hold_seconds == 0.2f);

  buf = save_bytes (model, &size);
  g_assert_cmpint (dae_model_load_memory (buf, size, &loaded, &error), ==,
      DAE_OK);
  g_assert_cmpint (dae_model_get_anomaly_calibration (loaded, &cal), ==, 1);
  g_assert_true (cal.quantile == 0.99f);
  g_assert_true (cal.false_alarms_per_hour == 1.5f);
  dae_model_unref (loaded);

  /* a format 1.0 file: whatever is in the (then reserved) bytes is
   * ignored */
  set_le16 (buf + DAE_FORMAT_OFF_MINOR, 0);
  for (i = DAE_FORMAT_OFF_CALIB_QUANTILE; i < DAE_FORMAT_HEADER_SIZE; i++)
    buf[i] = 0xff;
  fix_crc (buf, size);
  g_assert_cmpint (dae_model_load_memory (buf, size, &loaded, &error), ==,
      DAE_OK);
  g_assert_cmpint (dae_model_get_anomaly_calibration (loaded, &cal), ==, 0);
  g_assert_true (cal.threshold == 0.25f);
  g_assert_true (cal.quantile == 0.0f);
  g_assert_true (cal.false_alarms_per_hour == 0.0f);
  g_assert_true (cal.held_out_seconds == 0.0f);
  dae_model_unref (loaded);
  g_free (buf);

  /* an uncalibrated threshold has no calibration */
  model->anomaly_threshold = -1.0f;
  g_assert_cmpint (dae_model_get_anomaly_calibration (model, &cal), ==, 0);
  g_assert_true (cal.threshold < 0.0f);
  g_assert_true (cal.quantile == 0.0f);
  dae_model_unref (model);

  g_assert_cmpint (dae_model_get_anomaly_calibration (NULL, &cal), ==, 0);
  g_assert_true (cal.threshold < 0.0f);
  g_assert_cmpint (dae_model_get_anomaly_calibration (NULL, NULL), ==, 0);
}

static void
test_gain_scale (void)
{
  DaeModel *model = make_model (TRUE, TEST_SEED);
  DaeModel *scaled = NULL;
  DaeModel *loaded = NULL;
  DaeModel *half = NULL;
  DaeError error;
  guint8 *buf;
  gsize size;
  const double bad[] = { 0.99, 2.01, 0.0, -1.0, NAN, INFINITY };
  size_t i;

  g_test_summary ("dae_model_new_with_gain_scale copies a model with only "
      "the gain scale changed; scales outside 1 to 2 are refused; the 1.4 "
      "header stores it, a 1.3 file's reserved bytes there are ignored "
      "(scale 1), and converting the weights to 16 bits keeps it.");

  g_assert_true (dae_model_get_gain_scale (model) == 1.0f);
  g_assert_true (dae_model_get_gain_scale (NULL) == 1.0f);
  for (i = 0; i < G_N_ELEMENTS (bad); i++) {
    g_assert_cmpint (dae_model_new_with_gain_scale (model, bad[i], &scaled,
            &error), ==, DAE_ERROR_INVALID_ARGUMENT);
    g_assert_null (scaled);
    assert_message_contains (&error, "1 to 2");
  }
  g_assert_cmpint (dae_model_new_with_gain_scale (NULL, 1.5, &scaled,
          &error), ==, DAE_ERROR_INVALID_ARGUMENT);

  g_assert_cmpint (dae_model_new_with_gain_scale (model, 1.25, &scaled,
          &error), ==, DAE_OK);
  g_assert_true (dae_model_get_gain_scale (scaled) == 1.25f);
  g_assert_true (dae_model_get_gain_scale (model) == 1.0f);
  /* all else equal: compare with the scale set back to 1 */
  {
    DaeModel *back = NULL;

    g_assert_cmpint (dae_model_new_with_gain_scale (scaled, 1.0, &back,
            &error), ==, DAE_OK);
    assert_models_equal (model, back);
    dae_model_unref (back);
  }

  buf = save_bytes (scaled, &size);
  g_assert_cmpuint (le32 (buf + DAE_FORMAT_OFF_MINOR) & 0xffff, ==, 4);
  g_assert_true (get_f32 (buf + DAE_FORMAT_OFF_GAIN_SCALE) == 1.25f);
  g_assert_cmpint (dae_model_load_memory (buf, size, &loaded, &error), ==,
      DAE_OK);
  assert_models_equal (scaled, loaded);
  dae_model_unref (loaded);

  /* 16-bit weights keep the scale, and the scale the weight precision */
  g_assert_cmpint (dae_model_new_with_weight_bits (scaled, 16, &half,
          &error), ==, DAE_OK);
  g_assert_true (dae_model_get_gain_scale (half) == 1.25f);
  dae_model_unref (scaled);
  g_assert_cmpint (dae_model_new_with_gain_scale (half, 1.5, &scaled,
          &error), ==, DAE_OK);
  g_assert_cmpuint (dae_model_get_weight_bits (scaled), ==, 16);
  g_assert_true (dae_model_get_gain_scale (scaled) == 1.5f);
  dae_model_unref (scaled);
  dae_model_unref (half);

  /* a 1.3 file: the bytes at the offset were reserved, so ignored */
  set_le16 (buf + DAE_FORMAT_OFF_MINOR, 3);
  set_f32 (buf + DAE_FORMAT_OFF_GAIN_SCALE, 0.5f);
  fix_crc (buf, size);
  g_assert_cmpint (dae_model_load_memory (buf, size, &loaded, &error), ==,
      DAE_OK);
  g_assert_true (dae_model_get_gain_scale (loaded) == 1.0f);
  dae_model_unref (loaded);
  g_free (buf);
  dae_model_unref (model);
}

static void
test_oversized_file (void)
{
  DaeModel *model = NULL;
  DaeError error;
  GError *gerror = NULL;
  gchar *dir;
  gchar *path;
  int fd;

  g_test_summary ("A file above DAE_MODEL_MAX_FILE_SIZE (a sparse file) is "
      "refused with BAD_FORMAT before anything is allocated.");

  dir = g_dir_make_tmp ("dae-model-XXXXXX", &gerror);
  g_assert_no_error (gerror);
  path = g_build_filename (dir, "huge.dae", NULL);
  fd = g_open (path, O_WRONLY | O_CREAT | O_TRUNC, 0644);
  g_assert_cmpint (fd, >=, 0);
  g_assert_cmpint (ftruncate (fd, (off_t) DAE_MODEL_MAX_FILE_SIZE + 1), ==, 0);
  g_assert_cmpint (close (fd), ==, 0);

  /* any allocation would turn the result into NO_MEMORY */
  dae_debug_fail_allocations_after (0);
  g_assert_cmpint (dae_model_load_file (path, &model, &error), ==,
      DAE_ERROR_BAD_FORMAT);
  dae_debug_fail_allocations_after (SIZE_MAX);
  g_assert_null (model);
  assert_message_contains (&error, "too large");

  g_assert_cmpint (g_remove (path), ==, 0);
  g_assert_cmpint (g_rmdir (dir), ==, 0);
  g_free (path);
  g_free (dir);
}

static void
test_no_memory (void)
{
  DaeModel *model = make_model (TRUE, TEST_SEED);
  DaeModel *loaded = NULL;
  DaeError error;
  GError *gerror = NULL;
  guint8 *buf;
  gsize size;
  gchar *dir;
  gchar *path;
  size_t n;
  void *data = NULL;
  size_t data_size;

  g_test_summary ("Making each allocation in turn fail makes load/save "
      "return NO_MEMORY without leaking (checked under valgrind) or leaving "
      "temporary files, until enough allocations succeed.");

  buf = save_bytes (model, &size);
  dir = g_dir_make_tmp ("dae-model-XXXXXX", &gerror);
  g_assert_no_error (gerror);
  path = g_build_filename (dir, "model.dae", NULL);

  /* load_memory: struct + storage */
  for (n = 0;; n++) {
    DaeStatus status;

    dae_debug_fail_allocations_after (n);
    status = dae_model_load_memory (buf, size, &loaded, &error);
    dae_debug_fail_allocations_after (SIZE_MAX);
    if (status == DAE_OK)
      break;
    g_assert_cmpint (status, ==, DAE_ERROR_NO_MEMORY);
    g_assert_null (loaded);
  }
  g_assert_cmpuint (n, ==, 2);
  dae_model_unref (loaded);
  loaded = NULL;

  /* save_memory */
  dae_debug_fail_allocations_after (0);
  g_assert_cmpint (dae_model_save_memory (model, &data, &data_size, &error),
      ==, DAE_ERROR_NO_MEMORY);
  dae_debug_fail_allocations_after (SIZE_MAX);
  g_assert_null (data);

  /* save_file: buffer, temporary name */
  for (n = 0;; n++) {
    DaeStatus status;

    dae_debug_fail_allocations_after (n);
    status = dae_model_save_file (model, path, &error);
    dae_debug_fail_allocations_after (SIZE_MAX);
    if (status == DAE_OK)
      break;
    g_assert_cmpint (status, ==, DAE_ERROR_NO_MEMORY);
    g_assert_false (g_file_test (path, G_FILE_TEST_EXISTS));
  }
  g_assert_cmpuint (n, ==, 2);

  /* load_file: file buffer + the two of load_memory */
  for (n = 0;; n++) {
    DaeStatus status;

    dae_debug_fail_allocations_after (n);
    status = dae_model_load_file (path, &loaded, &error);
    dae_debug_fail_allocations_after (SIZE_MAX);
    if (status == DAE_OK)
      break;
    g_assert_cmpint (status, ==, DAE_ERROR_NO_MEMORY);
    g_assert_null (loaded);
  }
  g_assert_cmpuint (n, ==, 3);
  assert_models_equal (model, loaded);
  dae_model_unref (loaded);

  g_assert_cmpint (g_remove (path), ==, 0);
  g_assert_cmpint (g_rmdir (dir), ==, 0);
  g_free (path);
  g_free (dir);
  g_free (buf);
  dae_model_unref (model);
}

static void
test_unaligned (void)
{
  DaeModel *model = make_model (TRUE, TEST_SEED);
  DaeError error;
  guint8 *buf;
  guint8 *shifted;
  gsize size;
  gsize shift;

  g_test_summary ("Model bytes at an odd address load the same model.");

  buf = save_bytes (model, &size);
  shifted = g_malloc (size + 8);
  for (shift = 1; shift < 8; shift += 2) {
    DaeModel *loaded = NULL;

    memcpy (shifted + shift, buf, size);
    g_assert_cmpint (dae_model_load_memory (shifted + shift, size, &loaded,
            &error), ==, DAE_OK);
    assert_models_equal (model, loaded);
    dae_model_unref (loaded);
  }
  g_free (shifted);
  g_free (buf);
  dae_model_unref (model);
}

/* ------------------------------------------------------------------------ */
/* References                                                                */

static gpointer
ref_thread (gpointer data)
{
  DaeModel *model = data;
  int i;

  for (i = 0; i < REF_ITERATIONS; i++) {
    DaeModel *ref = dae_model_ref (model);

    g_assert_true (ref == model);
    g_assert_cmpuint (dae_model_get_hop_samples (ref), ==, 32);
    dae_model_unref (ref);
  }
  /* drop the reference the main thread gave us */
  dae_model_unref (model);
  return NULL;
}

static void
test_ref_threads (void)
{
  DaeModel *model = make_model (TRUE, TEST_SEED);
  GThread *threads[REF_THREADS];
  int i;

  g_test_summary ("Concurrent ref/unref from several threads keeps the "
      "count exact: the model is freed once, by the last unref.");

  for (i = 0; i < REF_THREADS; i++)
    threads[i] = g_thread_new ("ref", ref_thread, dae_model_ref (model));
  for (i = 0; i < REF_THREADS; i++)
    g_thread_join (threads[i]);
  g_assert_cmpint (atomic_load (&model->refcount), ==, 1);
  dae_model_unref (model);
}

/* ------------------------------------------------------------------------ */

int
main (int argc, char **argv)
{
  gsize i;

  g_test_init (&argc, &argv, NULL);

  g_test_add_func ("/model/config/defaults", test_config_defaults);
  g_test_add_func ("/model/config/invalid", test_config_invalid);
  g_test_add_func ("/model/alloc/layout", test_alloc_layout);
  g_test_add_func ("/model/alloc/no-memory", test_alloc_no_memory);
  g_test_add_func ("/model/rng/basic", test_rng);
  g_test_add_func ("/model/init/deterministic", test_init_random);
  g_test_add_func ("/model/ref/threads", test_ref_threads);
  g_test_add_func ("/model/io/crc32", test_crc32);
  g_test_add_func ("/model/io/layout", test_layout);
  g_test_add_data_func ("/model/io/roundtrip/memory", GINT_TO_POINTER (TRUE),
      test_roundtrip_memory);
  g_test_add_data_func ("/model/io/roundtrip/memory-no-vad",
      GINT_TO_POINTER (FALSE), test_roundtrip_memory);
  g_test_add_func ("/model/io/roundtrip/info-max", test_roundtrip_info_max);
  g_test_add_func ("/model/io/roundtrip/file", test_roundtrip_file);
  g_test_add_func ("/model/io/unaligned", test_unaligned);
  g_test_add_func ("/model/io/save-missing-dir", test_save_missing_dir);
  g_test_add_func ("/model/io/load-missing-file", test_load_missing_file);
  g_test_add_func ("/model/io/save-invalid", test_save_invalid);
  g_test_add_func ("/model/io/no-memory", test_no_memory);
  g_test_add_func ("/model/io/oversized-file", test_oversized_file);
  g_test_add_func ("/model/io/roundtrip/band-range-predictive",
      test_band_range_roundtrip);
  g_test_add_func ("/model/io/roundtrip/tonality", test_tonality_roundtrip);
  g_test_add_func ("/model/io/half/convert", test_half_convert);
  g_test_add_func ("/model/io/roundtrip/half", test_half_roundtrip);
  g_test_add_func ("/model/io/half/corrupt", test_half_corrupt);
  g_test_add_func ("/model/io/roundtrip/band-spacing",
      test_band_spacing_roundtrip);
  g_test_add_func ("/model/io/calibration", test_calibration);
  g_test_add_func ("/model/io/gain-scale", test_gain_scale);
  g_test_add_func ("/model/io/truncated", test_truncated);
  g_test_add_func ("/model/io/byte-flips", test_flips);
  g_test_add_func ("/model/io/byte-flips/valid-crc", test_flips_valid_crc);
  for (i = 0; i < G_N_ELEMENTS (corruptions); i++)
    g_test_add_data_func (corruptions[i].path, &corruptions[i],
        test_corruption);

  return g_test_run ();
}
