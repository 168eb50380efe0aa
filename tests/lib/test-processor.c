/* Tests for the streaming processor (lib/src/processor.c). */

#include <float.h>
#include <math.h>
#include <stdint.h>
#include <string.h>

#include <glib.h>

#include "dae-private.h"

/* Perfect reconstruction tolerance on a full-scale signal. */
#define RECONSTRUCTION_TOLERANCE 1e-5
#define N_HOPS 60

static DaeModel *
make_model (unsigned rate, int has_vad, int gain_skip, uint64_t seed)
{
  DaeModelConfig config;
  DaeModel *model = NULL;

  dae_model_config_init (&config, rate);
  config.n_bands = 16;
  config.enc_dense = 24;
  config.enc_gru = 24;
  config.bottleneck = 8;
  config.dec_gru = 24;
  config.has_vad = has_vad;
  config.gain_skip = gain_skip;
  g_assert_cmpint (dae_model_alloc (&config, &model, NULL), ==, DAE_OK);
  dae_model_init_random (model, seed);
  return model;
}

static float *
make_signal (size_t n, guint32 seed)
{
  GRand *rand = g_rand_new_with_seed (seed);
  float *x = g_new (float, n);
  size_t i;

  for (i = 0; i < n; i++)
    x[i] = (float) g_rand_double_range (rand, -1.0, 1.0);
  g_rand_free (rand);
  return x;
}

/* Runs n_hops hops of in through proc into out. */
static void
run (DaeProcessor * proc, const float *in, float *out, size_t n_hops,
    float *scores)
{
  size_t hop = dae_model_get_hop_samples (dae_processor_get_model (proc));
  size_t h;

  for (h = 0; h < n_hops; h++) {
    DaeFrameResult result;

    g_assert_cmpint (dae_processor_process (proc, in + h * hop,
            out + h * hop, &result), ==, DAE_OK);
    if (scores != NULL)
      scores[h] = result.score;
  }
}

static void
assert_delayed (const float *in, const float *out, size_t n, size_t delay,
    double tolerance)
{
  size_t i;
  double max_err = 0.0;

  for (i = 0; i < n; i++) {
    double expected = i >= delay ? in[i - delay] : 0.0;
    max_err = MAX (max_err, fabs (out[i] - expected));
  }
  g_assert_cmpfloat (max_err, <=, tolerance);
}

static void
test_processor_unit_gain (gconstpointer data)
{
  unsigned rate = GPOINTER_TO_UINT (data);
  DaeModel *model = make_model (rate, 0, 1, 1);
  DaeProcessor *proc = NULL;
  size_t hop = dae_model_get_hop_samples (model);
  size_t latency = dae_model_get_latency_samples (model);
  size_t n = N_HOPS * hop;
  float *in = make_signal (n, 7);
  float *out = g_new0 (float, n);

  g_test_summary ("With the attenuation limit at 0 dB every gain is 1: the "
      "output is the input delayed by exactly the reported latency.");

  g_assert_cmpuint (latency, ==, dae_model_get_window_samples (model) - hop);
  g_assert_cmpuint (latency, ==, rate / 100);
  g_assert_cmpint (dae_processor_new (model, &proc), ==, DAE_OK);
  g_assert_cmpint (dae_processor_set_attenuation_limit (proc, 0.0), ==, DAE_OK);
  run (proc, in, out, N_HOPS, NULL);
  assert_delayed (in, out, n, latency, RECONSTRUCTION_TOLERANCE);

  dae_processor_free (proc);
  dae_model_unref (model);
  g_free (in);
  g_free (out);
}

static void
test_processor_mix_dry (void)
{
  DaeModel *model = make_model (16000, 0, 1, 2);
  DaeProcessor *proc = NULL;
  size_t hop = dae_model_get_hop_samples (model);
  size_t latency = dae_model_get_latency_samples (model);
  size_t n = N_HOPS * hop;
  float *in = make_signal (n, 8);
  float *out = g_new0 (float, n);

  g_test_summary ("mix = 0 outputs the input delayed by the latency, "
      "bit for bit.");

  g_assert_cmpint (dae_processor_new (model, &proc), ==, DAE_OK);
  g_assert_cmpint (dae_processor_set_mix (proc, 0.0), ==, DAE_OK);
  run (proc, in, out, N_HOPS, NULL);
  assert_delayed (in, out, n, latency, 0.0);

  dae_processor_free (proc);
  dae_model_unref (model);
  g_free (in);
  g_free (out);
}

static void
test_processor_mix_phase (void)
{
  DaeModel *model = make_model (16000, 0, 1, 3);
  DaeProcessor *wet = NULL;
  DaeProcessor *dry = NULL;
  DaeProcessor *half = NULL;
  size_t hop = dae_model_get_hop_samples (model);
  size_t n = N_HOPS * hop;
  float *in = make_signal (n, 9);
  float *out_wet = g_new0 (float, n);
  float *out_dry = g_new0 (float, n);
  float *out_half = g_new0 (float, n);
  size_t i;

  g_test_summary ("A mix of 0.5 is exactly the average of the fully wet and "
      "fully dry outputs: dry and wet are sample-aligned.");

  g_assert_cmpint (dae_processor_new (model, &wet), ==, DAE_OK);
  g_assert_cmpint (dae_processor_new (model, &dry), ==, DAE_OK);
  g_assert_cmpint (dae_processor_new (model, &half), ==, DAE_OK);
  g_assert_cmpint (dae_processor_set_mix (dry, 0.0), ==, DAE_OK);
  g_assert_cmpint (dae_processor_set_mix (half, 0.5), ==, DAE_OK);
  run (wet, in, out_wet, N_HOPS, NULL);
  run (dry, in, out_dry, N_HOPS, NULL);
  run (half, in, out_half, N_HOPS, NULL);
  for (i = 0; i < n; i++)
    g_assert_cmpfloat_with_epsilon (out_half[i],
        0.5 * out_wet[i] + 0.5 * out_dry[i], 1e-6);

  dae_processor_free (wet);
  dae_processor_free (dry);
  dae_processor_free (half);
  dae_model_unref (model);
  g_free (in);
  g_free (out_wet);
  g_free (out_dry);
  g_free (out_half);
}

static void
test_processor_determinism_reset (void)
{
  DaeModel *model = make_model (48000, 1, 1, 4);
  DaeProcessor *a = NULL;
  DaeProcessor *b = NULL;
  size_t hop = dae_model_get_hop_samples (model);
  size_t n = N_HOPS * hop;
  float *in = make_signal (n, 10);
  float *noise = make_signal (n, 11);
  float *out_a = g_new0 (float, n);
  float *out_b = g_new0 (float, n);
  float scores_a[N_HOPS];
  float scores_b[N_HOPS];

  g_test_summary ("Two processors on the same model and input give "
      "identical output and scores; after reset a used processor behaves "
      "exactly like a new one.");

  g_assert_cmpint (dae_processor_new (model, &a), ==, DAE_OK);
  g_assert_cmpint (dae_processor_new (model, &b), ==, DAE_OK);
  run (a, in, out_a, N_HOPS, scores_a);
  run (b, in, out_b, N_HOPS, scores_b);
  g_assert_cmpmem (out_a, n * sizeof (float), out_b, n * sizeof (float));
  g_assert_cmpmem (scores_a, sizeof (scores_a), scores_b, sizeof (scores_b));

  /* b sees other audio, is reset, then must match a fresh run again */
  run (b, noise, out_b, N_HOPS, NULL);
  dae_processor_reset (b);
  run (b, in, out_b, N_HOPS, scores_b);
  g_assert_cmpmem (out_a, n * sizeof (float), out_b, n * sizeof (float));
  g_assert_cmpmem (scores_a, sizeof (scores_a), scores_b, sizeof (scores_b));

  dae_processor_free (a);
  dae_processor_free (b);
  dae_model_unref (model);
  g_free (in);
  g_free (noise);
  g_free (out_a);
  g_free (out_b);
}

static void
test_processor_result (void)
{
  DaeModel *model = make_model (16000, 1, 0, 5);
  DaeModel *model_novad = make_model (16000, 0, 1, 5);
  DaeProcessor *proc = NULL;
  DaeProcessor *proc_novad = NULL;
  size_t hop = dae_model_get_hop_samples (model);
  float *in = make_signal (hop, 12);
  float *out = g_new0 (float, hop);
  DaeFrameResult result;
  size_t b;
  double sum = 0.0;

  g_assert_cmpint (dae_processor_new (model, &proc), ==, DAE_OK);
  g_assert_cmpint (dae_processor_new (model_novad, &proc_novad), ==, DAE_OK);
  g_assert_cmpint (dae_processor_set_attenuation_limit (proc, 6.0), ==, DAE_OK);
  g_assert_cmpint (dae_processor_process (proc, in, out, &result), ==, DAE_OK);
  g_assert_cmpuint (result.n_bands, ==, 16);
  g_assert_nonnull (result.band_errors);
  g_assert_nonnull (result.band_gains);
  for (b = 0; b < result.n_bands; b++) {
    g_assert_true (isfinite (result.band_errors[b]));
    g_assert_cmpfloat (result.band_errors[b], >=, 0.0f);
    /* a 6 dB limit keeps every gain at or above 10^(-6/20) */
    g_assert_cmpfloat (result.band_gains[b], >=, 0.5011f);
    g_assert_cmpfloat (result.band_gains[b], <=, 1.0f);
    sum += result.band_errors[b];
  }
  g_assert_cmpfloat_with_epsilon (result.score, sum / result.n_bands, 1e-5);
  g_assert_cmpfloat (result.gain_db, <=, 0.0f);
  g_assert_cmpfloat (result.gain_db, >=, -6.03f);
  g_assert_cmpfloat (result.vad, >=, 0.0f);
  g_assert_cmpfloat (result.vad, <=, 1.0f);
  g_assert_cmpuint (result.n_nonfinite, ==, 0);

  g_assert_cmpint (dae_processor_process (proc_novad, in, out, &result), ==,
      DAE_OK);
  g_assert_cmpfloat (result.vad, ==, -1.0f);

  /* the result is optional */
  g_assert_cmpint (dae_processor_process (proc, in, out, NULL), ==, DAE_OK);
  /* in == out is allowed */
  g_assert_cmpint (dae_processor_process (proc, in, in, NULL), ==, DAE_OK);

  dae_processor_free (proc);
  dae_processor_free (proc_novad);
  dae_model_unref (model);
  dae_model_unref (model_novad);
  g_free (in);
  g_free (out);
}

static void
test_processor_gain_scale (void)
{
  DaeModel *model = make_model (16000, 1, 1, 21);
  DaeModel *scaled = NULL;
  DaeProcessor *proc = NULL;
  DaeProcessor *proc_scaled = NULL;
  size_t hop = dae_model_get_hop_samples (model);
  const size_t n_hops = 30;
  float *in = make_signal (hop * n_hops, 8);
  float *out = g_new0 (float, hop);
  float *out_scaled = g_new0 (float, hop);
  size_t n_changed = 0;
  size_t n_capped = 0;
  size_t h;
  size_t b;

  g_test_summary ("A model's gain scale multiplies the network's band gains "
      "before they are capped at 1: frame by frame the applied gains are "
      "min (1, 1.8 g) of those of the same model at scale 1, and the "
      "output changes with them.");

  g_assert_cmpint (dae_model_new_with_gain_scale (model, 1.8, &scaled, NULL),
      ==, DAE_OK);
  g_assert_cmpint (dae_processor_new (model, &proc), ==, DAE_OK);
  g_assert_cmpint (dae_processor_new (scaled, &proc_scaled), ==, DAE_OK);
  for (h = 0; h < n_hops; h++) {
    DaeFrameResult r;
    DaeFrameResult rs;

    g_assert_cmpint (dae_processor_process (proc, in + h * hop, out, &r), ==,
        DAE_OK);
    g_assert_cmpint (dae_processor_process (proc_scaled, in + h * hop,
            out_scaled, &rs), ==, DAE_OK);
    for (b = 0; b < r.n_bands; b++) {
      float want = fminf (1.0f, r.band_gains[b] * 1.8f);

      g_assert_cmpfloat_with_epsilon (rs.band_gains[b], want, 1e-6f);
      n_capped += rs.band_gains[b] == 1.0f && r.band_gains[b] < 1.0f;
    }
    /* the error scores come from the same network output */
    g_assert_cmpmem (r.band_errors, r.n_bands * sizeof (float),
        rs.band_errors, rs.n_bands * sizeof (float));
    n_changed += memcmp (out, out_scaled, hop * sizeof (float)) != 0;
  }
  /* the random network's gains sit around 0.5: some reach the cap */
  g_assert_cmpuint (n_capped, >, 0);
  g_assert_cmpuint (n_changed, >, n_hops / 2);

  dae_processor_free (proc);
  dae_processor_free (proc_scaled);
  dae_model_unref (model);
  dae_model_unref (scaled);
  g_free (in);
  g_free (out);
  g_free (out_scaled);
}

static void
test_processor_nonfinite (void)
{
  DaeModel *model = make_model (16000, 1, 1, 6);
  DaeProcessor *proc = NULL;
  size_t hop = dae_model_get_hop_samples (model);
  float *in = make_signal (hop, 13);
  float *out = g_new0 (float, hop);
  DaeFrameResult result;
  size_t i;
  int h;

  g_test_summary ("NaN and Inf input samples are counted and replaced by "
      "0; huge but finite input is fine; the output and score stay finite.");

  g_assert_cmpint (dae_processor_new (model, &proc), ==, DAE_OK);
  for (h = 0; h < 20; h++) {
    in[0] = NAN;
    in[1] = INFINITY;
    in[2] = -INFINITY;
    in[3] = FLT_MAX;
    in[4] = -FLT_MAX;
    in[5] = 1e20f;
    g_assert_cmpint (dae_processor_process (proc, in, out, &result), ==,
        DAE_OK);
    g_assert_cmpuint (result.n_nonfinite, ==, 3);
    g_assert_true (isfinite (result.score));
    for (i = 0; i < hop; i++)
      g_assert_true (isfinite (out[i]));
  }

  /* the same holds with the dry path mixed in */
  g_assert_cmpint (dae_processor_set_mix (proc, 0.5), ==, DAE_OK);
  for (h = 0; h < 20; h++) {
    for (i = 0; i < hop; i++)
      in[i] = (i % 2) ? NAN : FLT_MAX;
    g_assert_cmpint (dae_processor_process (proc, in, out, &result), ==,
        DAE_OK);
    for (i = 0; i < hop; i++)
      g_assert_true (isfinite (out[i]));
  }

  dae_processor_free (proc);
  dae_model_unref (model);
  g_free (in);
  g_free (out);
}

static void
test_processor_denormal (void)
{
  DaeModel *model = make_model (16000, 0, 1, 7);
  DaeProcessor *proc = NULL;
  size_t hop = dae_model_get_hop_samples (model);
  float *in = g_new (float, hop);
  float *out = g_new0 (float, hop);
  size_t i;
  int h;

  g_test_summary ("Denormal input is flushed to zero: after the latency the "
      "output is exactly 0.");

  for (i = 0; i < hop; i++)
    in[i] = (i % 2 ? -1.0f : 1.0f) * FLT_MIN / 1024.0f;
  g_assert_true (fpclassify (in[0]) == FP_SUBNORMAL);
  g_assert_cmpint (dae_processor_new (model, &proc), ==, DAE_OK);
  for (h = 0; h < 10; h++) {
    g_assert_cmpint (dae_processor_process (proc, in, out, NULL), ==, DAE_OK);
    for (i = 0; i < hop; i++)
      g_assert_cmpfloat (out[i], ==, 0.0f);
  }

  dae_processor_free (proc);
  dae_model_unref (model);
  g_free (in);
  g_free (out);
}

static void
test_processor_shared_gains (void)
{
  DaeModel *model = make_model (16000, 0, 1, 8);
  DaeProcessor *proc = NULL;
  DaeProcessor *ref = NULL;
  size_t hop = dae_model_get_hop_samples (model);
  size_t latency = dae_model_get_latency_samples (model);
  size_t n = N_HOPS * hop;
  float *in = make_signal (n, 14);
  float *out = g_new0 (float, n);
  float *out_ref = g_new0 (float, n);
  float ones[16];
  size_t h;
  size_t b;

  g_test_summary ("analyze + synthesize with gains of 1 reconstructs the "
      "input; analyze + synthesize (NULL) equals process; synthesize without "
      "analyze is refused.");

  for (b = 0; b < 16; b++)
    ones[b] = 1.0f;
  g_assert_cmpint (dae_processor_new (model, &proc), ==, DAE_OK);
  g_assert_cmpint (dae_processor_new (model, &ref), ==, DAE_OK);
  g_assert_cmpint (dae_processor_synthesize (proc, NULL, out), ==,
      DAE_ERROR_INVALID_ARGUMENT);

  for (h = 0; h < N_HOPS; h++) {
    g_assert_cmpint (dae_processor_analyze (proc, in + h * hop, NULL), ==,
        DAE_OK);
    g_assert_cmpint (dae_processor_synthesize (proc, ones, out + h * hop), ==,
        DAE_OK);
  }
  assert_delayed (in, out, n, latency, RECONSTRUCTION_TOLERANCE);
  g_assert_cmpint (dae_processor_synthesize (proc, NULL, out), ==,
      DAE_ERROR_INVALID_ARGUMENT);

  dae_processor_reset (proc);
  for (h = 0; h < N_HOPS; h++) {
    g_assert_cmpint (dae_processor_analyze (proc, in + h * hop, NULL), ==,
        DAE_OK);
    g_assert_cmpint (dae_processor_synthesize (proc, NULL, out + h * hop), ==,
        DAE_OK);
  }
  run (ref, in, out_ref, N_HOPS, NULL);
  g_assert_cmpmem (out, n * sizeof (float), out_ref, n * sizeof (float));

  dae_processor_free (proc);
  dae_processor_free (ref);
  dae_model_unref (model);
  g_free (in);
  g_free (out);
  g_free (out_ref);
}

/* The processor's pipeline rebuilt from the internal pieces: band errors
 * of every frame when the network's input is the current frame's features
 * (autoencoder) or the previous frame's (predictive, 0 before the first). */
static void
reference_errors (DaeModel * model, const float *in, size_t n_hops,
    gboolean predictive, DaeArithmetic arithmetic, float *errors)
{
  DaeQNet qnet;
  const DaeModelConfig *c = &model->config;
  size_t nb = c->n_bands;
  DaeStft *stft = NULL;
  DaeBands bands;
  DaeNetState state;
  float *spectrum = g_new (float, 2 * (c->window_samples / 2 + 1));
  float *energy = g_new (float, nb);
  float *features = g_new (float, nb);
  float *prev = g_new0 (float, nb);
  float *gains = g_new (float, nb);
  float *recon = g_new (float, nb);
  size_t h;
  size_t b;

  g_assert_cmpint (dae_stft_new (c->window_samples, c->hop_samples, &stft),
      ==, DAE_OK);
  g_assert_cmpint (dae_bands_init (&bands, model->band_centers, nb,
          c->sample_rate, c->window_samples), ==, DAE_OK);
  g_assert_cmpint (dae_net_state_init (&state, &model->net), ==, DAE_OK);
  g_assert_cmpint (dae_qnet_init (&qnet, &model->net, NULL), ==, DAE_OK);
  dae_net_state_reset (&state);
  for (h = 0; h < n_hops; h++) {
    dae_stft_analyze (stft, in + h * c->hop_samples, spectrum);
    dae_bands_energy (&bands, spectrum, energy);
    dae_features_from_energy (energy, model->norm_mean, model->norm_std, nb,
        features);
    dae_net_step (&model->net,
        arithmetic == DAE_ARITHMETIC_INT8 ? &qnet : NULL, &state,
        predictive ? prev : features, gains, recon, NULL);
    for (b = 0; b < nb; b++)
      errors[h * nb + b] = (recon[b] - features[b]) * (recon[b] - features[b])
          / model->error_scale[b];
    memcpy (prev, features, nb * sizeof (float));
  }
  dae_net_state_clear (&state);
  dae_qnet_clear (&qnet);
  dae_bands_clear (&bands);
  dae_stft_free (stft);
  g_free (spectrum);
  g_free (energy);
  g_free (features);
  g_free (prev);
  g_free (gains);
  g_free (recon);
}

static void
test_processor_predictive (gconstpointer data)
{
  gboolean predictive = GPOINTER_TO_INT (data);
  DaeModelConfig config;
  DaeModel *model = NULL;
  DaeProcessor *proc = NULL;
  size_t hop;
  size_t nb;
  size_t n;
  float *in;
  float *out;
  float *expected;
  float *other;
  size_t h;
  size_t b;
  int pass;
  int arith;

  g_test_summary ("The band errors are the squared errors of the network "
      "fed the current frame's features (autoencoder) or the previous "
      "frame's (predictive model, the mean before the first frame), divided "
      "by the band error scale, also after a reset, with int8 and with "
      "float arithmetic.");

  dae_model_config_init (&config, 16000);
  config.n_bands = 16;
  config.predictive = predictive;
  g_assert_cmpint (dae_model_alloc (&config, &model, NULL), ==, DAE_OK);
  dae_model_init_random (model, 21);
  hop = dae_model_get_hop_samples (model);
  nb = config.n_bands;
  for (b = 0; b < nb; b++)
    model->error_scale[b] = 0.5f + 0.25f * (float) b;
  n = N_HOPS * hop;
  in = make_signal (n, 22);
  out = g_new (float, hop);
  expected = g_new (float, N_HOPS * nb);
  other = g_new (float, N_HOPS * nb);
  g_assert_cmpint (dae_processor_new (model, &proc), ==, DAE_OK);
  {
    DaeQKernel kernels[4];
    const char *names[4];

    /* int8 by default where there is a kernel besides the portable one */
    g_assert_cmpint (dae_processor_get_arithmetic (proc), ==,
        dae_qkernels (kernels, names, 4) > 1 ? DAE_ARITHMETIC_INT8 :
        DAE_ARITHMETIC_FLOAT);
  }
  for (arith = 0; arith < 2; arith++) {
    DaeArithmetic arithmetic = arith == 0 ? DAE_ARITHMETIC_INT8 :
        DAE_ARITHMETIC_FLOAT;

    reference_errors (model, in, N_HOPS, predictive, arithmetic, expected);
    reference_errors (model, in, N_HOPS, !predictive, arithmetic, other);
    g_assert_cmpint (dae_processor_set_arithmetic (proc, arithmetic), ==,
        DAE_OK);
    g_assert_cmpint (dae_processor_get_arithmetic (proc), ==, arithmetic);
    dae_processor_reset (proc);
    for (pass = 0; pass < 2; pass++) {
      double max_diff = 0.0;
      double max_other = 0.0;

      for (h = 0; h < N_HOPS; h++) {
        DaeFrameResult result;

        g_assert_cmpint (dae_processor_process (proc, in + h * hop, out,
                &result), ==, DAE_OK);
        for (b = 0; b < nb; b++) {
          double e = expected[h * nb + b];

          max_diff = MAX (max_diff, fabs (result.band_errors[b] - e)
              / MAX (1.0, e));
          max_other = MAX (max_other, fabs (result.band_errors[b]
                  - other[h * nb + b]) / MAX (1.0, e));
        }
      }
      g_assert_cmpfloat (max_diff, <, 1e-4);
      /* and the other input would have given other errors */
      g_assert_cmpfloat (max_other, >, 1e-2);
      dae_processor_reset (proc);
    }
  }
  g_assert_cmpint (dae_processor_set_arithmetic (proc, (DaeArithmetic) 2),
      ==, DAE_ERROR_INVALID_ARGUMENT);
  g_assert_cmpint (dae_processor_set_arithmetic (NULL, DAE_ARITHMETIC_FLOAT),
      ==, DAE_ERROR_INVALID_ARGUMENT);
  g_assert_cmpint (dae_processor_get_arithmetic (NULL), ==,
      DAE_ARITHMETIC_FLOAT);

  dae_processor_free (proc);
  dae_model_unref (model);
  g_free (in);
  g_free (out);
  g_free (expected);
  g_free (other);
}

static void
test_processor_invalid (void)
{
  DaeModel *model = make_model (16000, 0, 1, 9);
  DaeProcessor *proc = NULL;
  float buf[160] = { 0 };

  g_assert_cmpint (dae_processor_new (NULL, &proc), ==,
      DAE_ERROR_INVALID_ARGUMENT);
  g_assert_cmpint (dae_processor_new (model, NULL), ==,
      DAE_ERROR_INVALID_ARGUMENT);
  g_assert_cmpint (dae_processor_new (model, &proc), ==, DAE_OK);

  g_assert_cmpint (dae_processor_set_mix (proc, -0.1), ==,
      DAE_ERROR_INVALID_ARGUMENT);
  g_assert_cmpint (dae_processor_set_mix (proc, 1.1), ==,
      DAE_ERROR_INVALID_ARGUMENT);
  g_assert_cmpint (dae_processor_set_mix (proc, NAN), ==,
      DAE_ERROR_INVALID_ARGUMENT);
  g_assert_cmpint (dae_processor_set_attenuation_limit (proc, -1.0), ==,
      DAE_ERROR_INVALID_ARGUMENT);
  g_assert_cmpint (dae_processor_set_attenuation_limit (proc, 100.5), ==,
      DAE_ERROR_INVALID_ARGUMENT);
  g_assert_cmpint (dae_processor_set_attenuation_limit (proc, NAN), ==,
      DAE_ERROR_INVALID_ARGUMENT);
  g_assert_cmpint (dae_processor_set_attenuation_limit (proc, 100.0), ==,
      DAE_OK);
  g_assert_cmpint (dae_processor_process (proc, NULL, buf, NULL), ==,
      DAE_ERROR_INVALID_ARGUMENT);
  g_assert_cmpint (dae_processor_process (proc, buf, NULL, NULL), ==,
      DAE_ERROR_INVALID_ARGUMENT);
  g_assert_cmpint (dae_processor_process (NULL, buf, buf, NULL), ==,
      DAE_ERROR_INVALID_ARGUMENT);
  g_assert_cmpint (dae_processor_analyze (proc, NULL, NULL), ==,
      DAE_ERROR_INVALID_ARGUMENT);

  dae_processor_free (proc);
  dae_processor_free (NULL);
  dae_processor_reset (NULL);
  dae_model_unref (model);
}

static void
test_processor_owns_model (void)
{
  DaeModel *model = make_model (16000, 0, 1, 10);
  DaeProcessor *proc = NULL;
  float buf[160] = { 0 };

  g_test_summary ("The processor holds its own model reference: the caller "
      "may drop theirs right after creating it.");

  g_assert_cmpint (dae_processor_new (model, &proc), ==, DAE_OK);
  dae_model_unref (model);
  g_assert_cmpint (dae_processor_process (proc, buf, buf, NULL), ==, DAE_OK);
  g_assert_cmpuint (dae_model_get_sample_rate (dae_processor_get_model
          (proc)), ==, 16000);
  dae_processor_free (proc);
}

static void
test_processor_no_memory (void)
{
  DaeModel *model = make_model (16000, 1, 1, 11);
  DaeProcessor *proc = NULL;
  gsize k;
  gboolean succeeded = FALSE;

  g_test_summary ("Every allocation in dae_processor_new can fail: the call "
      "returns DAE_ERROR_NO_MEMORY, frees what it made (valgrind/ASan check "
      "the leaks) and succeeds once allocations work again.");

  for (k = 0; k < 64 && !succeeded; k++) {
    DaeStatus status;

    dae_debug_fail_allocations_after (k);
    status = dae_processor_new (model, &proc);
    dae_debug_fail_allocations_after (SIZE_MAX);
    if (status == DAE_OK) {
      succeeded = TRUE;
      dae_processor_free (proc);
    } else {
      g_assert_cmpint (status, ==, DAE_ERROR_NO_MEMORY);
    }
  }
  g_assert_true (succeeded);
  g_assert_cmpuint (k, >, 3);
  dae_model_unref (model);
}

int
main (int argc, char **argv)
{
  g_test_init (&argc, &argv, NULL);

  g_test_add_data_func ("/processor/unit-gain/16000", GUINT_TO_POINTER (16000),
      test_processor_unit_gain);
  g_test_add_data_func ("/processor/unit-gain/48000", GUINT_TO_POINTER (48000),
      test_processor_unit_gain);
  g_test_add_func ("/processor/mix/dry-bit-exact", test_processor_mix_dry);
  g_test_add_func ("/processor/mix/phase-aligned", test_processor_mix_phase);
  g_test_add_func ("/processor/determinism-and-reset",
      test_processor_determinism_reset);
  g_test_add_func ("/processor/frame-result", test_processor_result);
  g_test_add_func ("/processor/input/nonfinite", test_processor_nonfinite);
  g_test_add_func ("/processor/input/denormal", test_processor_denormal);
  g_test_add_func ("/processor/shared-gains", test_processor_shared_gains);
  g_test_add_func ("/processor/gain-scale", test_processor_gain_scale);
  g_test_add_func ("/processor/invalid-arguments", test_processor_invalid);
  g_test_add_data_func ("/processor/network-input/autoencoder",
      GINT_TO_POINTER (FALSE), test_processor_predictive);
  g_test_add_data_func ("/processor/network-input/predictive",
      GINT_TO_POINTER (TRUE), test_processor_predictive);
  g_test_add_func ("/processor/owns-model", test_processor_owns_model);
  g_test_add_func ("/processor/no-memory", test_processor_no_memory);

  return g_test_run ();
}
