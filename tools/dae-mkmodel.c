/* dae-mkmodel — write a randomly initialised (untrained) model file
 * Copyright (C) 2026 The dae authors
 * SPDX-License-Identifier: LGPL-2.1-or-later
 *
 * For tests and for the placeholder default models of the plugin: the
 * weights are deterministic Glorot-uniform values from --seed, so the model
 * is valid but does not denoise anything until it is trained.
 *
 * Usage: dae-mkmodel --rate 16000 --seed 1 --output default-16k.dae
 * The architecture options (--window, --hop, --bands, layer widths) default
 * to dae_model_config_init(); the fuzzing corpus uses tiny models.
 * Exit codes: 0 ok, 1 runtime failure, 2 usage error.
 */

#include <math.h>
#include <stdio.h>
#include <string.h>

#include <glib.h>

#include "dae-private.h"

#define PROGRAM "dae-mkmodel"

int
main (int argc, char **argv)
{
  gint rate = 16000;
  gint64 seed = 1;
  gchar *output = NULL;
  gboolean vad = FALSE;
  gdouble threshold = -1.0;
  gdouble gain_scale = 1.0;
  gboolean version = FALSE;
  gint window = 0;
  gint hop = 0;
  gint bands = 0;
  gint enc_dense = 0;
  gint enc_gru = 0;
  gint bottleneck = 0;
  gint dec_gru = 0;
  gboolean no_gain_skip = FALSE;
  gboolean tonality = FALSE;
  GOptionEntry entries[] = {
    {"rate", 'r', 0, G_OPTION_ARG_INT, &rate,
        "Sample rate of the model in Hz (default 16000)", "HZ"},
    {"seed", 's', 0, G_OPTION_ARG_INT64, &seed,
        "Seed of the weight initialisation (default 1)", "N"},
    {"output", 'o', 0, G_OPTION_ARG_FILENAME, &output,
        "Model file to write (required)", "FILE"},
    {"vad", 0, 0, G_OPTION_ARG_NONE, &vad,
        "Give the model a voice-activity head", NULL},
    {"threshold", 't', 0, G_OPTION_ARG_DOUBLE, &threshold,
          "Anomaly threshold to store as calibrated (default: none, -1)",
        "SCORE"},
    {"gain-scale", 0, 0, G_OPTION_ARG_DOUBLE, &gain_scale,
        "Gain scale to store, 1 to 2 (default 1)", "SCALE"},
    {"window", 0, 0, G_OPTION_ARG_INT, &window,
        "STFT window in samples (default: 20 ms)", "N"},
    {"hop", 0, 0, G_OPTION_ARG_INT, &hop,
        "Hop in samples (default: 10 ms)", "N"},
    {"bands", 0, 0, G_OPTION_ARG_INT, &bands,
        "Number of bands (default 32)", "N"},
    {"enc-dense", 0, 0, G_OPTION_ARG_INT, &enc_dense,
        "Width of the encoder's dense layer", "N"},
    {"enc-gru", 0, 0, G_OPTION_ARG_INT, &enc_gru,
        "Width of the encoder's GRU", "N"},
    {"bottleneck", 0, 0, G_OPTION_ARG_INT, &bottleneck,
        "Width of the bottleneck", "N"},
    {"dec-gru", 0, 0, G_OPTION_ARG_INT, &dec_gru,
        "Width of the decoder's GRU", "N"},
    {"no-gain-skip", 0, 0, G_OPTION_ARG_NONE, &no_gain_skip,
        "Do not feed the input features to the gain head", NULL},
    {"tonality", 0, 0, G_OPTION_ARG_NONE, &tonality,
        "Give the network band tonality inputs too", NULL},
    {"version", 0, 0, G_OPTION_ARG_NONE, &version,
        "Print the library version and exit", NULL},
    {NULL}
  };
  GOptionContext *context;
  GError *gerror = NULL;
  DaeModelConfig config;
  DaeModel *model = NULL;
  DaeError error;
  DaeStatus status;
  int ret = 0;

  context = g_option_context_new ("- write a randomly initialised dae model");
  g_option_context_set_summary (context,
      "Writes a valid but untrained (random-weight) .dae model file, "
      "for tests and placeholder default models.");
  g_option_context_add_main_entries (context, entries, NULL);
  if (!g_option_context_parse (context, &argc, &argv, &gerror)) {
    fprintf (stderr, PROGRAM ": %s\n", gerror->message);
    g_clear_error (&gerror);
    g_option_context_free (context);
    return 2;
  }
  g_option_context_free (context);

  if (version) {
    printf (PROGRAM " %s\n", dae_version_string ());
    return 0;
  }
  if (output == NULL) {
    fprintf (stderr, PROGRAM ": --output is required\n");
    return 2;
  }
  if (rate <= 0 || seed < 0 || !isfinite (threshold)
      || !(gain_scale >= 1.0 && gain_scale <= 2.0)) {
    fprintf (stderr, PROGRAM ": --rate must be positive, --seed "
        "non-negative, --threshold finite and --gain-scale 1 to 2\n");
    g_free (output);
    return 2;
  }

  if (window < 0 || hop < 0 || bands < 0 || enc_dense < 0 || enc_gru < 0
      || bottleneck < 0 || dec_gru < 0) {
    fprintf (stderr, PROGRAM ": sizes must be positive\n");
    g_free (output);
    return 2;
  }
  dae_model_config_init (&config, (unsigned) rate);
  config.has_vad = vad ? 1 : 0;
  config.gain_skip = no_gain_skip ? 0 : 1;
  config.tonality = tonality ? 1 : 0;
  if (window > 0)
    config.window_samples = (size_t) window;
  if (hop > 0)
    config.hop_samples = (size_t) hop;
  if (bands > 0)
    config.n_bands = (size_t) bands;
  if (enc_dense > 0)
    config.enc_dense = (size_t) enc_dense;
  if (enc_gru > 0)
    config.enc_gru = (size_t) enc_gru;
  if (bottleneck > 0)
    config.bottleneck = (size_t) bottleneck;
  if (dec_gru > 0)
    config.dec_gru = (size_t) dec_gru;
  status = dae_model_config_validate (&config, &error);
  if (status != DAE_OK) {
    fprintf (stderr, PROGRAM ": %s\n", error.message);
    g_free (output);
    return 2;
  }

  status = dae_model_alloc (&config, &model, &error);
  if (status != DAE_OK) {
    fprintf (stderr, PROGRAM ": %s: %s\n", dae_status_to_string (status),
        error.message);
    g_free (output);
    return 1;
  }
  dae_model_init_random (model, (uint64_t) seed);
  model->anomaly_threshold = threshold < 0.0 ? -1.0f : (float) threshold;
  model->gain_scale = (float) gain_scale;
  g_snprintf (model->info, sizeof (model->info),
      "untrained: random weights from dae-mkmodel --rate %d --seed %"
      G_GINT64_FORMAT "%s", rate, seed, vad ? " --vad" : "");

  status = dae_model_save_file (model, output, &error);
  if (status != DAE_OK) {
    fprintf (stderr, PROGRAM ": could not write '%s': %s\n", output,
        error.message);
    ret = 1;
  }

  dae_model_unref (model);
  g_free (output);
  return ret;
}
