/* dae-train — train a dae model from audio files
 * Copyright (C) 2026 The dae authors
 * SPDX-License-Identifier: LGPL-2.1-or-later
 *
 * A thin command line around libdae's trainer API (dae/dae-train.h): it
 * decodes the sources with GStreamer (any format GStreamer can read,
 * converted to mono float at the model's rate), hands the clips to the
 * trainer, runs epochs with a progress display, checkpoints after every
 * epoch and writes the model file.
 *
 * Usage:
 *   dae-train denoise --speech SRC... --noise SRC... -o model.dae [options]
 *   dae-train anomaly --normal SRC... -o machine.dae [options]
 *   dae-train average -o model.dae EPOCH.dae...
 *   dae-train convert --weight-bits 16 -o small.dae model.dae
 *   dae-train --info model.dae
 *
 * A SRC is a file, a directory (searched recursively for audio files) or
 * @LIST, a text file naming one path per line.
 *
 * Exit codes: 0 ok, 1 runtime failure, 2 usage error, 130 interrupted
 * (Ctrl-C; a checkpoint and the best model so far were saved).
 */

#include <errno.h>
#include <math.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cblas.h>
#include <glib.h>
#include <glib/gstdio.h>
#include <gst/gst.h>

#include <dae/dae.h>
#include <dae/dae-train.h>

#include "dae-tool-common.h"

#define PROGRAM "dae-train"

#define EXIT_OK 0
#define EXIT_FAILURE_RUNTIME 1
#define EXIT_USAGE 2
#define EXIT_INTERRUPTED 130

#define DEFAULT_RATE 16000
#define DEFAULT_THREADS 2
/* with --max-seconds-per-source, a file gets at least this much */
#define MIN_CAPPED_CLIP_SECONDS 10
/* redraw the progress bar at most this often */
#define REDRAW_INTERVAL_US (G_USEC_PER_SEC / 10)

/* set by the SIGINT handler; a second SIGINT exits at once */
static volatile sig_atomic_t interrupted = 0;

/* Options, as parsed.  Integer options that default to the library's
 * choice start at -1 ("not given"). */
typedef struct
{
  gchar **speech;
  gchar **noise;
  gchar **normal;
  gchar *output;
  gchar *info_file;
  gchar *checkpoint;
  gchar *save_epochs;
  gint weight_bits;
  gchar *info_text;
  gchar *init;
  gboolean resume;
  gboolean gain_scale_only;     /* the gain-scale command */
  gboolean version;

  /* architecture */
  gint rate;
  gdouble window_ms;
  gdouble hop_ms;
  gint window_samples;
  gint hop_samples;
  gint bands;
  gdouble band_min_hz;
  gdouble band_max_hz;
  gdouble band_spacing_hz;
  gint enc_dense;
  gint enc_gru;
  gint bottleneck;
  gint dec_gru;
  gboolean vad;
  gboolean no_vad;
  gboolean no_gain_skip;
  gboolean predictive;
  gboolean no_predictive;
  gboolean tonality;

  /* training */
  gint epochs;
  gint steps_per_epoch;
  gint batch_size;
  gint sequence_frames;
  gdouble learning_rate;
  gdouble lr_decay;
  gdouble grad_clip;
  gint patience;
  gdouble validation_fraction;
  gint validation_sequences;
  gdouble snr_min;
  gdouble snr_max;
  gdouble filter_probability;
  gdouble reverb_probability;
  gdouble reverb_keep_ms;
  gdouble clip_probability;
  gdouble sdr_weight;
  gdouble speed_probability;
  gdouble speed_max;
  gboolean no_generator_thread;
  gboolean speed_validation;    /* gain-scale only */
  gdouble corruption;
  gdouble dropout;
  gdouble threshold_quantile;
  gdouble alarm_hold;
  gint64 seed;
  gint threads;
  gdouble max_seconds;
} Options;

/* What was decoded, per source kind, for the summary and the info text. */
typedef struct
{
  guint n_files;
  guint n_skipped;
  guint64 n_samples;
} SourceStats;

typedef struct
{
  gboolean tty;
  size_t epoch;                 /* epoch being trained, 1-based */
  size_t max_epochs;
  size_t steps_per_epoch;
  double best_validation;
  double last_validation;
  gboolean have_validation;
  gint64 run_start_us;
  guint64 steps_this_run;       /* completed steps since the tool started */
  gint64 last_draw_us;
} Progress;

static void
on_sigint (int signum)
{
  static const char message[] =
      "\n" PROGRAM ": interrupted again, exiting without saving\n";

  if (interrupted) {
    if (write (STDERR_FILENO, message, sizeof (message) - 1) < 0) {
      /* nothing left to do */
    }
    _exit (EXIT_INTERRUPTED);
  }
  interrupted = 1;
}

static void
install_sigint_handler (void)
{
  struct sigaction action;

  memset (&action, 0, sizeof (action));
  action.sa_handler = on_sigint;
  sigemptyset (&action.sa_mask);
  sigaction (SIGINT, &action, NULL);
}

/* ------------------------------------------------------------------------ */
/* Sources: files, directories and list files                                */

/* Returns every file of @sources once, in a random order fixed by @seed
 * (the order clips reach the trainer does not depend on how the sources
 * were listed). */
static GPtrArray *
collect_files (gchar ** sources, guint64 seed)
{
  GPtrArray *files = dae_tool_collect_files (sources);
  GRand *rand;
  guint i;

  rand = g_rand_new_with_seed ((guint32) (seed ^ (seed >> 32)));
  for (i = files->len; i > 1; i--) {
    guint j = g_rand_int_range (rand, 0, (gint32) i);
    gpointer tmp = files->pdata[i - 1];

    files->pdata[i - 1] = files->pdata[j];
    files->pdata[j] = tmp;
  }
  g_rand_free (rand);
  return files;
}

/* ------------------------------------------------------------------------ */
/* Decoding                                                                  */

static const gchar *
source_name (DaeTrainSource source)
{
  switch (source) {
    case DAE_SOURCE_SPEECH:
      return "speech";
    case DAE_SOURCE_NOISE:
      return "noise";
    case DAE_SOURCE_NORMAL:
      return "normal";
  }
  return "?";
}

/* Decodes every file of @sources and adds it to @trainer.  Unreadable files
 * are reported and skipped.  Returns FALSE on a trainer failure or an
 * interrupt. */
static gboolean
load_sources (DaeTrainer * trainer, DaeTrainSource kind, gchar ** sources,
    unsigned rate, const Options * options, SourceStats * stats)
{
  GPtrArray *files = collect_files (sources, (guint64) options->seed + kind);
  guint64 budget = 0;
  gint64 start_us = g_get_monotonic_time ();
  guint i;

  if (options->max_seconds > 0)
    budget = (guint64) (options->max_seconds * rate);

  for (i = 0; i < files->len && !interrupted; i++) {
    const gchar *path = g_ptr_array_index (files, i);
    GError *gerror = NULL;
    GArray *samples;
    DaeError error;
    guint64 room = 0;

    /* an equal share of what is left, so that one long file cannot take
     * the whole budget, but long enough to make training sequences */
    if (budget > 0) {
      if (stats->n_samples >= budget)
        break;
      room = (budget - stats->n_samples) / (files->len - i);
      room = MAX (room, (guint64) (MIN_CAPPED_CLIP_SECONDS * rate));
      room = MIN (room, budget - stats->n_samples);
    }
    samples = dae_tool_decode_file (path, rate, room, &interrupted, &gerror);
    if (samples == NULL) {
      if (interrupted)
        break;
      fprintf (stderr, PROGRAM ": skipping %s: %s\n", path, gerror->message);
      g_clear_error (&gerror);
      stats->n_skipped++;
      continue;
    }
    if (dae_trainer_add_audio (trainer, kind, (const float *) samples->data,
            samples->len, path, &error) != DAE_OK) {
      fprintf (stderr, PROGRAM ": %s: %s\n", path, error.message);
      g_array_unref (samples);
      g_ptr_array_unref (files);
      return FALSE;
    }
    stats->n_files++;
    stats->n_samples += samples->len;
    g_array_unref (samples);
  }
  fprintf (stderr, PROGRAM ": %s: %u files, %.1f minutes of audio "
      "(%u skipped), decoded in %.0f s\n", source_name (kind),
      stats->n_files, stats->n_samples / (60.0 * rate), stats->n_skipped,
      (g_get_monotonic_time () - start_us) / (double) G_USEC_PER_SEC);
  g_ptr_array_unref (files);
  return !interrupted;
}

/* ------------------------------------------------------------------------ */
/* Progress                                                                  */

static void
format_duration (double seconds, gchar * buffer, gsize size)
{
  guint64 s;

  if (!isfinite (seconds) || seconds < 0) {
    g_strlcpy (buffer, "--:--", size);
    return;
  }
  s = (guint64) (seconds + 0.5);
  if (s >= 3600)
    g_snprintf (buffer, size, "%" G_GUINT64_FORMAT ":%02u:%02u", s / 3600,
        (guint) (s / 60 % 60), (guint) (s % 60));
  else
    g_snprintf (buffer, size, "%02u:%02u", (guint) (s / 60), (guint) (s % 60));
}

/* Seconds left, from the mean time per step of this run (validation time
 * included once an epoch has finished); an upper bound if training stops
 * early. */
static double
estimate_remaining (const Progress * progress, size_t step)
{
  double elapsed;
  guint64 remaining;

  if (progress->steps_this_run == 0)
    return -1;
  elapsed = (g_get_monotonic_time () - progress->run_start_us) /
      (double) G_USEC_PER_SEC;
  remaining = (progress->max_epochs - progress->epoch) *
      (guint64) progress->steps_per_epoch + (progress->steps_per_epoch - step);
  return elapsed / progress->steps_this_run * remaining;
}

static int
on_progress (size_t step, size_t n_steps, double loss, void *user_data)
{
  Progress *progress = user_data;
  gint64 now = g_get_monotonic_time ();

  progress->steps_this_run++;
  if (progress->tty && (step == n_steps
          || now - progress->last_draw_us >= REDRAW_INTERVAL_US)) {
    gchar eta[32];
    gchar validation[32];
    gchar bar[21];
    guint filled = n_steps > 0 ? (guint) (20 * step / n_steps) : 0;

    memset (bar, '#', filled);
    memset (bar + filled, '.', 20 - filled);
    bar[20] = '\0';
    format_duration (estimate_remaining (progress, step), eta, sizeof (eta));
    if (progress->have_validation)
      g_snprintf (validation, sizeof (validation), "%.4f",
          progress->last_validation);
    else
      g_strlcpy (validation, "-", sizeof (validation));
    fprintf (stderr, "\repoch %zu/%zu [%s] %zu/%zu loss %.4f val %s ETA %s"
        "\033[K", progress->epoch, progress->max_epochs, bar, step, n_steps,
        loss, validation, eta);
    fflush (stderr);
    progress->last_draw_us = now;
  }
  return interrupted ? 1 : 0;
}

/* ------------------------------------------------------------------------ */
/* --info                                                                    */

static int
print_info (const gchar * path)
{
  DaeModel *model = NULL;
  DaeModelConfig config;
  DaeError error;
  const float *centers;
  size_t n_bands;
  unsigned rate;
  float threshold;
  DaeAnomalyCalibration calibration;
  const char *info;

  if (dae_model_load_file (path, &model, &error) != DAE_OK) {
    fprintf (stderr, PROGRAM ": %s: %s\n", path, error.message);
    return EXIT_FAILURE_RUNTIME;
  }
  dae_model_get_config (model, &config);
  rate = dae_model_get_sample_rate (model);
  n_bands = dae_model_get_n_bands (model);
  centers = dae_model_get_band_centers (model);
  threshold = dae_model_get_anomaly_threshold (model);
  info = dae_model_get_info (model);

  printf ("file:        %s\n", path);
  printf ("rate:        %u Hz\n", rate);
  printf ("window:      %zu samples (%.2f ms)\n",
      dae_model_get_window_samples (model),
      1000.0 * dae_model_get_window_samples (model) / rate);
  printf ("hop:         %zu samples (%.2f ms)\n",
      dae_model_get_hop_samples (model),
      1000.0 * dae_model_get_hop_samples (model) / rate);
  printf ("latency:     %zu samples (%.2f ms)\n",
      dae_model_get_latency_samples (model),
      1000.0 * dae_model_get_latency_samples (model) / rate);
  printf ("bands:       %zu (%.0f to %.0f Hz, ERB-spaced centres, the "
      "closest %.1f Hz apart)\n", n_bands, n_bands > 0 ? centers[0] : 0.0,
      n_bands > 0 ? centers[n_bands - 1] : 0.0,
      n_bands > 1 ? centers[1] - centers[0] : 0.0);
  printf ("layers:      %zu %s -> dense %zu -> GRU %zu -> bottleneck %zu "
      "-> GRU %zu -> gains + reconstruction (%zu each)%s\n",
      dae_model_get_n_features (model),
      config.tonality ? "inputs (band energies and tonality)" : "bands",
      config.enc_dense, config.enc_gru, config.bottleneck, config.dec_gru,
      config.n_bands, config.has_vad ? " + VAD" : "");
  printf ("tonality:    %s\n", config.tonality ? "yes" : "no");
  printf ("gain skip:   %s\n", config.gain_skip ? "yes" : "no");
  printf ("predictive:  %s\n", config.predictive ? "yes (each frame is "
      "predicted from the previous ones; for anomaly scoring only)" : "no");
  printf ("parameters:  %zu (%u-bit weights)\n",
      dae_model_get_n_params (model), dae_model_get_weight_bits (model));
  printf ("gain scale:  %.2f\n", dae_model_get_gain_scale (model));
  printf ("VAD:         %s\n", config.has_vad ? "yes" : "no");
  if (threshold >= 0)
    printf ("threshold:   %g\n", threshold);
  else
    printf ("threshold:   not calibrated\n");
  if (dae_model_get_anomaly_calibration (model, &calibration)) {
    double hours = calibration.held_out_seconds / 3600.0;

    printf ("calibrated:  the %g quantile of the frame scores of %.0f s of "
        "held-out normal audio\n", calibration.quantile,
        calibration.held_out_seconds);
    printf ("false alarms: %.3g per hour expected (anomaly starts with a "
        "%.3g s hold", calibration.false_alarms_per_hour,
        calibration.hold_seconds);
    if (calibration.false_alarms_per_hour == 0 && hours > 0)
      printf ("; none seen, 95 %% upper bound %.3g per hour", 3.0 / hours);
    printf (")\n");
  }
  if (info[0] != '\0') {
    gchar *text = g_strchomp (g_strdup (info));
    gchar **lines = g_strsplit (text, "\n", -1);
    guint i;

    printf ("info:\n");
    for (i = 0; lines[i] != NULL; i++)
      printf ("  %s\n", lines[i]);
    g_free (text);
    g_strfreev (lines);
  } else {
    printf ("info:        (none)\n");
  }
  dae_model_unref (model);
  return EXIT_OK;
}

/* ------------------------------------------------------------------------ */
/* Command line                                                              */

static gboolean
is_multi_value_option (const gchar * arg)
{
  return strcmp (arg, "--speech") == 0 || strcmp (arg, "--noise") == 0 ||
      strcmp (arg, "--normal") == 0;
}

/* GOptionContext takes one value per option; turn "--speech a b c" into
 * "--speech a --speech b --speech c" so shell globs work.  Values end at the
 * next argument starting with '-' (write ./-name for such a file). */
static gchar **
expand_multi_value_options (int argc, char **argv)
{
  GPtrArray *out = g_ptr_array_new ();
  int i;

  for (i = 0; i < argc; i++) {
    g_ptr_array_add (out, g_strdup (argv[i]));
    if (strcmp (argv[i], "--") == 0) {
      for (i++; i < argc; i++)
        g_ptr_array_add (out, g_strdup (argv[i]));
      break;
    }
    if (i > 0 && is_multi_value_option (argv[i]) && i + 1 < argc) {
      const gchar *option = argv[i];

      g_ptr_array_add (out, g_strdup (argv[++i]));
      while (i + 1 < argc && argv[i + 1][0] != '-') {
        g_ptr_array_add (out, g_strdup (option));
        g_ptr_array_add (out, g_strdup (argv[++i]));
      }
    }
  }
  g_ptr_array_add (out, NULL);
  return (gchar **) g_ptr_array_free (out, FALSE);
}

static gchar *
quote_command_line (int argc, char **argv)
{
  GString *line = g_string_new (NULL);
  int i;

  for (i = 0; i < argc; i++) {
    /* the program's own path says nothing about the model */
    gchar *quoted = g_shell_quote (i == 0 ? PROGRAM : argv[i]);

    if (i > 0)
      g_string_append_c (line, ' ');
    g_string_append (line, quoted);
    g_free (quoted);
  }
  return g_string_free (line, FALSE);
}

static GOptionContext *
make_option_context (Options * o)
{
  GOptionEntry main_entries[] = {
    {"output", 'o', 0, G_OPTION_ARG_FILENAME, &o->output,
        "Model file to write (required for training)", "FILE"},
    {"speech", 0, 0, G_OPTION_ARG_FILENAME_ARRAY, &o->speech,
        "Clean speech: files, directories (recursive) or @LIST files "
          "(denoise)", "SRC..."},
    {"noise", 0, 0, G_OPTION_ARG_FILENAME_ARRAY, &o->noise,
        "Noise to mix with the speech (denoise)", "SRC..."},
    {"normal", 0, 0, G_OPTION_ARG_FILENAME_ARRAY, &o->normal,
        "A machine's normal sound (anomaly)", "SRC..."},
    {"info", 0, 0, G_OPTION_ARG_FILENAME, &o->info_file,
        "Print what a model file is and exit", "MODEL"},
    {"checkpoint", 0, 0, G_OPTION_ARG_FILENAME, &o->checkpoint,
        "Checkpoint written after every epoch (default OUTPUT.ckpt)", "FILE"},
    {"resume", 0, 0, G_OPTION_ARG_NONE, &o->resume,
        "Continue from the checkpoint if it exists", NULL},
    {"init", 0, 0, G_OPTION_ARG_FILENAME, &o->init,
          "Start from this model's weights and normalisation instead of random "
          "ones (fine-tuning); the architecture comes from the model, "
          "architecture options must agree with it, except --tonality and "
          "more units in a hidden layer (--enc-dense, --enc-gru, "
          "--bottleneck, --dec-gru: the new units start with zero outgoing "
          "weights); a checkpoint found with --resume takes precedence",
        "MODEL"},
    {"save-epochs", 0, 0, G_OPTION_ARG_FILENAME, &o->save_epochs,
        "Also write every epoch's weights to DIR/epoch-NNN.dae (for "
          "'dae-train average')", "DIR"},
    {"weight-bits", 0, 0, G_OPTION_ARG_INT, &o->weight_bits,
        "average and convert: store the weights as 16-bit floats (IEEE "
          "half: half the file, each weight rounded to 11 significant "
          "bits) or 32-bit ones (default)", "16|32"},
    {"info-text", 0, 0, G_OPTION_ARG_STRING, &o->info_text,
        "Text to store in the model (before the command line and data "
          "summary that are always stored)", "TEXT"},
    {"max-seconds-per-source", 0, 0, G_OPTION_ARG_DOUBLE, &o->max_seconds,
          "Decode at most this much audio per source kind (speech, noise, "
          "normal), shared evenly between its files (default 0 = all)",
        "SECONDS"},
    {"threads", 0, 0, G_OPTION_ARG_INT, &o->threads,
        "OpenBLAS threads (default 2; 0 = OpenBLAS's default or "
          "OPENBLAS_NUM_THREADS); results are reproducible for a given seed "
          "and thread count", "N"},
    {"no-generator-thread", 0, 0, G_OPTION_ARG_NONE,
          &o->no_generator_thread,
        "Mix each mini-batch between training steps instead of in a "
          "thread of its own while the previous one trains (by default a run "
          "uses one core more than --threads; the model is the same either "
          "way)", NULL},
    {"version", 0, 0, G_OPTION_ARG_NONE, &o->version,
        "Print the library version and exit", NULL},
    {NULL}
  };
  GOptionEntry arch_entries[] = {
    {"rate", 0, 0, G_OPTION_ARG_INT, &o->rate,
        "Sample rate of the model in Hz (default 16000, or --init's)", "HZ"},
    {"window-ms", 0, 0, G_OPTION_ARG_DOUBLE, &o->window_ms,
        "STFT window in milliseconds (default 20; anomaly 256)", "MS"},
    {"hop-ms", 0, 0, G_OPTION_ARG_DOUBLE, &o->hop_ms,
        "STFT hop in milliseconds (default 10; anomaly 32); latency = "
          "window - hop", "MS"},
    {"window", 0, 0, G_OPTION_ARG_INT, &o->window_samples,
        "STFT window in samples (instead of --window-ms)", "SAMPLES"},
    {"hop", 0, 0, G_OPTION_ARG_INT, &o->hop_samples,
        "STFT hop in samples (instead of --hop-ms); must divide the "
          "window and be at most half of it", "SAMPLES"},
    {"bands", 0, 0, G_OPTION_ARG_INT, &o->bands,
          "Number of ERB-spaced bands, 2 to 256 (default 32; anomaly 256)",
        "N"},
    {"band-min-hz", 0, 0, G_OPTION_ARG_DOUBLE, &o->band_min_hz,
        "Centre of the lowest band in Hz (default 50; anomaly 20)", "HZ"},
    {"band-max-hz", 0, 0, G_OPTION_ARG_DOUBLE, &o->band_max_hz,
        "Centre of the highest band in Hz, below rate / 2 (default "
          "min (0.45 rate, 20000); anomaly 0.47 rate)", "HZ"},
    {"band-spacing-hz", 0, 0, G_OPTION_ARG_DOUBLE, &o->band_spacing_hz,
          "Smallest distance between band centres in Hz: the low bands are "
          "this far apart up to where the ERB spacing is wider (one FFT bin, "
          "rate / window, makes them single bins; default 0, plain ERB)",
        "HZ"},
    {"enc-dense", 0, 0, G_OPTION_ARG_INT, &o->enc_dense,
        "Width of the encoder's dense layer (library default)", "N"},
    {"enc-gru", 0, 0, G_OPTION_ARG_INT, &o->enc_gru,
        "Width of the encoder's GRU (library default)", "N"},
    {"bottleneck", 0, 0, G_OPTION_ARG_INT, &o->bottleneck,
        "Width of the bottleneck layer (library default)", "N"},
    {"dec-gru", 0, 0, G_OPTION_ARG_INT, &o->dec_gru,
        "Width of the decoder's GRU (library default)", "N"},
    {"vad", 0, 0, G_OPTION_ARG_NONE, &o->vad,
        "Give the model a voice-activity head", NULL},
    {"no-vad", 0, 0, G_OPTION_ARG_NONE, &o->no_vad,
        "No voice-activity head", NULL},
    {"no-gain-skip", 0, 0, G_OPTION_ARG_NONE, &o->no_gain_skip,
        "Do not feed the input features to the gain head", NULL},
    {"predictive", 0, 0, G_OPTION_ARG_NONE, &o->predictive,
        "Predict each frame from the previous ones instead of "
          "reconstructing it (anomaly; the default there)", NULL},
    {"no-predictive", 0, 0, G_OPTION_ARG_NONE, &o->no_predictive,
        "Reconstruct each frame (a denoising autoencoder)", NULL},
    {"tonality", 0, 0, G_OPTION_ARG_NONE, &o->tonality,
        "Also give the network each band's tonality (one minus its "
          "spectral flatness) as input (denoise only; with --init of a model "
          "without it, the new inputs start with zero weights)", NULL},
    {NULL}
  };
  GOptionEntry train_entries[] = {
    {"epochs", 0, 0, G_OPTION_ARG_INT, &o->epochs,
        "Maximum number of epochs (recipe default)", "N"},
    {"steps-per-epoch", 0, 0, G_OPTION_ARG_INT, &o->steps_per_epoch,
        "Mini-batches per epoch (recipe default)", "N"},
    {"batch-size", 0, 0, G_OPTION_ARG_INT, &o->batch_size,
        "Sequences per mini-batch, 1 to 1024 (recipe default)", "N"},
    {"sequence-frames", 0, 0, G_OPTION_ARG_INT, &o->sequence_frames,
        "Frames per training sequence (BPTT length; recipe default)", "N"},
    {"learning-rate", 0, 0, G_OPTION_ARG_DOUBLE, &o->learning_rate,
        "Adam's initial step size (recipe default)", "RATE"},
    {"lr-decay", 0, 0, G_OPTION_ARG_DOUBLE, &o->lr_decay,
        "Learning-rate factor applied after every epoch, (0, 1]", "FACTOR"},
    {"grad-clip", 0, 0, G_OPTION_ARG_DOUBLE, &o->grad_clip,
        "Global gradient-norm clip (recipe default)", "NORM"},
    {"patience", 0, 0, G_OPTION_ARG_INT, &o->patience,
        "Stop after N epochs without a better validation loss "
          "(0 = never stop early)", "N"},
    {"validation-fraction", 0, 0, G_OPTION_ARG_DOUBLE,
          &o->validation_fraction,
        "Share of each clip held out for validation, 0 to 0.5", "FRACTION"},
    {"validation-sequences", 0, 0, G_OPTION_ARG_INT,
          &o->validation_sequences,
        "Sequences in the fixed validation set (recipe default)", "N"},
    {"snr-min", 0, 0, G_OPTION_ARG_DOUBLE, &o->snr_min,
        "Lowest mixing SNR in dB (denoise)", "DB"},
    {"snr-max", 0, 0, G_OPTION_ARG_DOUBLE, &o->snr_max,
        "Highest mixing SNR in dB (denoise)", "DB"},
    {"filter-probability", 0, 0, G_OPTION_ARG_DOUBLE,
          &o->filter_probability,
        "Chance of a random microphone-like colouring filter, 0 to 1 "
          "(recipe default)", "P"},
    {"reverb-probability", 0, 0, G_OPTION_ARG_DOUBLE,
          &o->reverb_probability,
        "Chance of synthetic reverberation on the speech, 0 to 1 "
          "(denoise; recipe default)", "P"},
    {"reverb-keep-ms", 0, 0, G_OPTION_ARG_DOUBLE, &o->reverb_keep_ms,
        "Milliseconds of the synthetic room's response after the direct "
          "path that the target keeps, 0 to 600; the network learns to "
          "remove the rest (denoise; default 20; 600 keeps all: no "
          "dereverberation)", "MS"},
    {"clip-probability", 0, 0, G_OPTION_ARG_DOUBLE, &o->clip_probability,
        "Chance of clipping the input, 0 to 1 (recipe default)", "P"},
    {"sdr-weight", 0, 0, G_OPTION_ARG_DOUBLE, &o->sdr_weight,
        "Weight of the signal-to-distortion loss, in loss units per dB, "
          "beside the gain loss (denoise; default 0, off)", "W"},
    {"speed-probability", 0, 0, G_OPTION_ARG_DOUBLE, &o->speed_probability,
        "Chance of resampling a training sequence's speech by a random "
          "factor (speed perturbation: pitch, formants and tempo together), "
          "0 to 1 (denoise; default 0, off)", "P"},
    {"speed-max", 0, 0, G_OPTION_ARG_DOUBLE, &o->speed_max,
        "Largest speed factor: log-uniform in [1 / F, F], 1 to 1.5 "
          "(denoise; default 1.15)", "F"},
    {"speed-validation", 0, 0, G_OPTION_ARG_NONE, &o->speed_validation,
        "gain-scale only: the validation sequences take the speed "
          "perturbation of --speed-probability and --speed-max too, so that "
          "the training voices, changed, stand in for voices the model has "
          "not heard", NULL},
    {"corruption", 0, 0, G_OPTION_ARG_DOUBLE, &o->corruption,
        "Std of the noise added to the normalised input features "
          "(anomaly; recipe default)", "STD"},
    {"dropout", 0, 0, G_OPTION_ARG_DOUBLE, &o->dropout,
        "Share of the input (frame, band) values replaced by the band's "
          "mean (anomaly; recipe default)", "FRACTION"},
    {"threshold-quantile", 0, 0, G_OPTION_ARG_DOUBLE,
          &o->threshold_quantile,
        "Anomaly threshold = this quantile of the frame scores of "
          "held-out normal audio, (0, 1) (anomaly; default 0.99)", "Q"},
    {"alarm-hold", 0, 0, G_OPTION_ARG_DOUBLE, &o->alarm_hold,
          "Hold in seconds with which the expected false alarms per hour "
          "are counted (anomaly; default 0.2, daedenoise's anomaly-hold)",
        "SECONDS"},
    {"seed", 0, 0, G_OPTION_ARG_INT64, &o->seed,
        "Seed of every random choice (default 1)", "N"},
    {NULL}
  };
  GOptionContext *context;

  context = g_option_context_new ("denoise|anomaly|average|convert|"
      "gain-scale - train a dae model");
  g_option_context_set_summary (context,
      "  dae-train denoise --speech SRC... --noise SRC... -o model.dae "
      "[OPTION...]\n"
      "  dae-train anomaly --normal SRC... -o machine.dae [OPTION...]\n"
      "  dae-train average -o model.dae EPOCH.dae...\n"
      "  dae-train convert --weight-bits 16 -o small.dae model.dae\n"
      "  dae-train gain-scale --speech SRC... --noise SRC... -o out.dae "
      "model.dae\n"
      "  dae-train --info model.dae\n\n"
      "A SRC is an audio file in any format GStreamer can decode, a "
      "directory\n(searched recursively for audio files) or @LIST, a text "
      "file naming one\npath per line.  Unreadable files are reported and "
      "skipped.  Ctrl-C saves\na checkpoint and the best model so far "
      "(exit 130); --resume continues.\n\n"
      "anomaly: trains on a machine's normal sound only.  Its defaults suit "
      "machine\nsound: a predictive model (each frame predicted from the "
      "previous ones), a\n256 ms window with a 32 ms hop, 256 bands from 20 "
      "Hz to 0.47 * rate.  10 % of\nthe audio is held out (--validation-fraction): the "
      "anomaly threshold is the 0.99 quantile\n(--threshold-quantile) of "
      "its frame scores, and the false alarms a detector\nwith a 0.2 s hold "
      "(--alarm-hold) raises on it are stored as the expected\nfalse-alarm "
      "rate per hour (--info shows both).\n\n"
      "average: writes the mean of the weights of models from one run, "
      "for example\nthe last epochs that --save-epochs wrote (the "
      "denoise models need no\ncalibration; averaged anomaly models have "
      "no threshold).\n\n"
      "convert: writes a model with its weights stored in --weight-bits "
      "bits, all else\n(info text, threshold) unchanged; 16 halves the "
      "file.\n\n"
      "gain-scale: writes a copy of a denoise model with a gain scale "
      "(1 to 2) chosen\non the validation part of --speech and --noise as "
      "denoise would hold it out\n(same --seed and data options): the "
      "processor multiplies the network's gains\nby it before capping them "
      "at 1, which keeps gains of 0.8-0.9 in clean bands\nfrom distorting "
      "speech.  1 when scaling does not help.  With --speed-validation\n"
      "(and --speed-probability) the validation voices are speed-perturbed, "
      "standing\nin for voices the model has not heard (the models' "
      "script: --speed-probability 1\n--speed-max 1.3).");
  g_option_context_set_description (context,
      "Exit status: 0 ok, 1 runtime failure, 2 usage error, 130 "
      "interrupted.\n");
  g_option_context_add_main_entries (context, main_entries, NULL);

  /* one group, so that --help documents every option */
  g_option_context_add_main_entries (context, arch_entries, NULL);
  g_option_context_add_main_entries (context, train_entries, NULL);
  return context;
}

static void
options_init (Options * o)
{
  memset (o, 0, sizeof (*o));
  o->rate = -1;
  o->window_ms = -1;
  o->hop_ms = -1;
  o->window_samples = -1;
  o->hop_samples = -1;
  o->bands = -1;
  o->enc_dense = -1;
  o->enc_gru = -1;
  o->bottleneck = -1;
  o->dec_gru = -1;
  o->epochs = -1;
  o->steps_per_epoch = -1;
  o->batch_size = -1;
  o->sequence_frames = -1;
  o->learning_rate = NAN;
  o->lr_decay = NAN;
  o->grad_clip = NAN;
  o->patience = -1;
  o->validation_fraction = NAN;
  o->validation_sequences = -1;
  o->snr_min = NAN;
  o->snr_max = NAN;
  o->filter_probability = NAN;
  o->reverb_probability = NAN;
  o->reverb_keep_ms = NAN;
  o->clip_probability = NAN;
  o->sdr_weight = NAN;
  o->speed_probability = NAN;
  o->speed_max = NAN;
  o->band_min_hz = NAN;
  o->band_max_hz = NAN;
  o->band_spacing_hz = NAN;
  o->corruption = NAN;
  o->dropout = NAN;
  o->threshold_quantile = NAN;
  o->alarm_hold = NAN;
  o->seed = 1;
  o->weight_bits = 32;
  o->threads = DEFAULT_THREADS;
  o->max_seconds = 0;
}

static void
options_clear (Options * o)
{
  g_strfreev (o->speech);
  g_strfreev (o->noise);
  g_strfreev (o->normal);
  g_free (o->output);
  g_free (o->info_file);
  g_free (o->checkpoint);
  g_free (o->save_epochs);
  g_free (o->info_text);
}

static gboolean
usage_error (const gchar * message)
{
  fprintf (stderr, PROGRAM ": %s\n", message);
  fprintf (stderr, "Try '" PROGRAM " --help' for more information.\n");
  return FALSE;
}

/* Applies the architecture options over the library's defaults for the
 * recipe, or over the architecture of the --init model (base, nullable):
 * the trainer then refuses options that change it. */
static gboolean
make_model_config (const Options * o, DaeRecipe recipe, const DaeModel * base,
    DaeModelConfig * config)
{
  DaeError error;

  if (o->rate >= 0 && (o->rate < 8000 || o->rate > 192000))
    return usage_error ("--rate must be 8000 to 192000");
  if (base != NULL) {
    dae_model_get_config (base, config);
    if (o->rate >= 0 && (unsigned) o->rate != config->sample_rate) {
      gchar *message = g_strdup_printf ("--rate %d, but the --init model is "
          "for %u Hz", o->rate, config->sample_rate);

      usage_error (message);
      g_free (message);
      return FALSE;
    }
  } else {
    dae_model_config_init_for_recipe (config,
        o->rate >= 0 ? (unsigned) o->rate : DEFAULT_RATE, recipe);
  }

  if (o->window_ms >= 0 && o->window_samples >= 0)
    return usage_error ("give --window-ms or --window, not both");
  if (o->hop_ms >= 0 && o->hop_samples >= 0)
    return usage_error ("give --hop-ms or --hop, not both");
  if (o->window_ms >= 0)
    config->window_samples =
        (size_t) lround (o->window_ms * config->sample_rate / 1000.0);
  if (o->window_samples >= 0)
    config->window_samples = (size_t) o->window_samples;
  if (o->hop_ms >= 0)
    config->hop_samples =
        (size_t) lround (o->hop_ms * config->sample_rate / 1000.0);
  if (o->hop_samples >= 0)
    config->hop_samples = (size_t) o->hop_samples;
  if (o->bands >= 0)
    config->n_bands = (size_t) o->bands;
  if (!isnan (o->band_min_hz))
    config->band_min_hz = (float) o->band_min_hz;
  if (!isnan (o->band_max_hz))
    config->band_max_hz = (float) o->band_max_hz;
  if (!isnan (o->band_spacing_hz))
    config->band_min_spacing_hz = (float) o->band_spacing_hz;
  if (o->enc_dense >= 0)
    config->enc_dense = (size_t) o->enc_dense;
  if (o->enc_gru >= 0)
    config->enc_gru = (size_t) o->enc_gru;
  if (o->bottleneck >= 0)
    config->bottleneck = (size_t) o->bottleneck;
  if (o->dec_gru >= 0)
    config->dec_gru = (size_t) o->dec_gru;
  if (o->vad && o->no_vad)
    return usage_error ("give --vad or --no-vad, not both");
  if (o->vad)
    config->has_vad = 1;
  if (o->no_vad)
    config->has_vad = 0;
  if (o->no_gain_skip)
    config->gain_skip = 0;
  if (o->predictive && o->no_predictive)
    return usage_error ("give --predictive or --no-predictive, not both");
  if (o->predictive && recipe != DAE_RECIPE_ANOMALY)
    return usage_error ("--predictive belongs to the anomaly recipe");
  if (o->predictive)
    config->predictive = 1;
  if (o->no_predictive)
    config->predictive = 0;
  if (o->tonality && recipe != DAE_RECIPE_DENOISE)
    return usage_error ("--tonality belongs to the denoise recipe");
  if (o->tonality)
    config->tonality = 1;

  if (dae_model_config_validate (config, &error) != DAE_OK) {
    gchar *message = g_strdup_printf ("invalid architecture: %s",
        error.message);

    usage_error (message);
    g_free (message);
    return FALSE;
  }
  return TRUE;
}

/* Applies the training options over the recipe's defaults; the library
 * validates ranges in dae_trainer_new(). */
static gboolean
make_train_config (const Options * o, DaeRecipe recipe, DaeTrainConfig * config)
{
  dae_train_config_init (config, recipe);
  if (o->seed < 0)
    return usage_error ("--seed must be non-negative");
  config->seed = (uint64_t) o->seed;
  if (o->epochs == 0 || o->steps_per_epoch == 0 || o->batch_size == 0 ||
      o->sequence_frames == 0 || o->validation_sequences == 0)
    return usage_error ("--epochs, --steps-per-epoch, --batch-size, "
        "--sequence-frames and --validation-sequences must be positive");
  if (o->epochs > 0)
    config->max_epochs = (size_t) o->epochs;
  if (o->steps_per_epoch > 0)
    config->steps_per_epoch = (size_t) o->steps_per_epoch;
  if (o->batch_size > 0)
    config->batch_size = (size_t) o->batch_size;
  if (o->sequence_frames > 0)
    config->sequence_frames = (size_t) o->sequence_frames;
  if (!isnan (o->learning_rate))
    config->learning_rate = o->learning_rate;
  if (!isnan (o->lr_decay))
    config->lr_decay = o->lr_decay;
  if (!isnan (o->grad_clip))
    config->grad_clip = o->grad_clip;
  if (o->patience >= 0)
    config->patience = (size_t) o->patience;
  if (!isnan (o->validation_fraction))
    config->validation_fraction = o->validation_fraction;
  if (o->validation_sequences > 0)
    config->validation_sequences = (size_t) o->validation_sequences;
  if (!isnan (o->snr_min))
    config->snr_min_db = o->snr_min;
  if (!isnan (o->snr_max))
    config->snr_max_db = o->snr_max;
  if (config->snr_min_db > config->snr_max_db)
    return usage_error ("--snr-min must not be above --snr-max");
  if (!isnan (o->filter_probability))
    config->filter_probability = o->filter_probability;
  if (!isnan (o->reverb_probability))
    config->reverb_probability = o->reverb_probability;
  if (recipe == DAE_RECIPE_ANOMALY && !isnan (o->reverb_keep_ms))
    return usage_error ("--reverb-keep-ms belongs to the denoise recipe");
  if (!isnan (o->reverb_keep_ms))
    config->reverb_early_ms = o->reverb_keep_ms;
  if (!isnan (o->clip_probability))
    config->clip_probability = o->clip_probability;
  if (recipe == DAE_RECIPE_ANOMALY && !isnan (o->sdr_weight))
    return usage_error ("--sdr-weight belongs to the denoise recipe");
  if (!isnan (o->sdr_weight))
    config->sdr_weight = o->sdr_weight;
  if (recipe == DAE_RECIPE_ANOMALY
      && (!isnan (o->speed_probability) || !isnan (o->speed_max)))
    return usage_error ("--speed-probability and --speed-max belong to the "
        "denoise recipe");
  if (!isnan (o->speed_probability))
    config->speed_probability = o->speed_probability;
  if (!isnan (o->speed_max))
    config->speed_max_factor = o->speed_max;
  if (o->speed_validation)
    config->speed_validation = 1;
  if (o->no_generator_thread)
    config->generator_thread = 0;
  if (recipe != DAE_RECIPE_ANOMALY && (!isnan (o->corruption)
          || !isnan (o->dropout)
          || !isnan (o->threshold_quantile) || !isnan (o->alarm_hold)))
    return usage_error ("--corruption, --dropout, --threshold-quantile and "
        "--alarm-hold belong to the anomaly recipe");
  if (!isnan (o->corruption))
    config->corruption = o->corruption;
  if (!isnan (o->dropout))
    config->dropout = o->dropout;
  if (!isnan (o->threshold_quantile))
    config->threshold_quantile = o->threshold_quantile;
  if (!isnan (o->alarm_hold))
    config->alarm_hold_seconds = o->alarm_hold;
  return TRUE;
}

/* ------------------------------------------------------------------------ */
/* Training                                                                  */

static gchar *
make_info_text (const Options * o, const gchar * command_line,
    const SourceStats * stats)
{
  GString *text = g_string_new (NULL);
  static const DaeTrainSource kinds[] = {
    DAE_SOURCE_SPEECH, DAE_SOURCE_NOISE, DAE_SOURCE_NORMAL
  };
  guint i;

  if (o->info_text != NULL && o->info_text[0] != '\0')
    g_string_append_printf (text, "%s\n", o->info_text);
  for (i = 0; i < G_N_ELEMENTS (kinds); i++) {
    const SourceStats *s = &stats[kinds[i]];

    if (s->n_skipped > 0)
      g_string_append_printf (text, "%s: %u unreadable files skipped\n",
          source_name (kinds[i]), s->n_skipped);
  }
  g_string_append_printf (text, "command: %s", command_line);
  return g_string_free (text, FALSE);
}

/* Writes the best model so far, or (current) the last epoch's weights */
static gboolean
write_model (DaeTrainer * trainer, gboolean current, const gchar * path)
{
  DaeModel *model = NULL;
  DaeError error;
  gboolean ok = FALSE;

  if ((current ? dae_trainer_get_current_model (trainer, &model, &error)
          : dae_trainer_get_model (trainer, &model, &error)) != DAE_OK)
    fprintf (stderr, PROGRAM ": cannot get the %s model: %s\n",
        current ? "last epoch's" : "trained", error.message);
  else if (dae_model_save_file (model, path, &error) != DAE_OK)
    fprintf (stderr, PROGRAM ": cannot write %s: %s\n", path, error.message);
  else
    ok = TRUE;
  if (model != NULL)
    dae_model_unref (model);
  return ok;
}

static gboolean
save_model (DaeTrainer * trainer, const gchar * path)
{
  return write_model (trainer, FALSE, path);
}

/* DIR/epoch-NNN.dae: the weights after that epoch */
static gboolean
save_epoch_model (DaeTrainer * trainer, const gchar * dir, size_t epoch)
{
  gchar *name;
  gchar *path;
  gboolean ok;

  if (g_mkdir_with_parents (dir, 0777) != 0) {
    fprintf (stderr, PROGRAM ": cannot create %s: %s\n", dir,
        g_strerror (errno));
    return FALSE;
  }
  name = g_strdup_printf ("epoch-%03zu.dae", epoch);
  path = g_build_filename (dir, name, NULL);
  ok = write_model (trainer, TRUE, path);
  g_free (path);
  g_free (name);
  return ok;
}

static gboolean
save_checkpoint (DaeTrainer * trainer, const gchar * path)
{
  DaeError error;

  if (dae_trainer_save_checkpoint (trainer, path, &error) != DAE_OK) {
    fprintf (stderr, PROGRAM ": cannot write checkpoint %s: %s\n", path,
        error.message);
    return FALSE;
  }
  return TRUE;
}

/* Saves what can be saved after Ctrl-C. */
static int
finish_interrupted (DaeTrainer * trainer, const Options * o, gboolean prepared)
{
  gboolean ok = TRUE;

  if (!prepared) {
    fprintf (stderr, PROGRAM ": interrupted before training started; "
        "nothing saved\n");
    return EXIT_INTERRUPTED;
  }
  ok = save_checkpoint (trainer, o->checkpoint);
  if (dae_trainer_get_epoch (trainer) > 0) {
    if (save_model (trainer, o->output))
      fprintf (stderr, PROGRAM ": interrupted: checkpoint saved to %s, best "
          "model so far (epoch %zu done) to %s; continue with --resume\n",
          o->checkpoint, dae_trainer_get_epoch (trainer), o->output);
    else
      ok = FALSE;
  } else if (ok) {
    fprintf (stderr, PROGRAM ": interrupted during the first epoch: "
        "checkpoint saved to %s, no model written yet\n", o->checkpoint);
  }
  return ok ? EXIT_INTERRUPTED : EXIT_FAILURE_RUNTIME;
}

/* gain-scale: chooses the scale for model (the trainer's weights) on the
 * validation set and writes model with it to path */
static int
write_gain_scale (DaeTrainer * trainer, const DaeModel * model,
    const gchar * path)
{
  DaeGainScaleChoice choice;
  DaeModel *scaled = NULL;
  DaeError error;

  if (dae_trainer_choose_gain_scale (trainer, &choice, &error) != DAE_OK
      || dae_model_new_with_gain_scale (model, choice.scale, &scaled,
          &error) != DAE_OK) {
    fprintf (stderr, PROGRAM ": %s\n", error.message);
    return EXIT_FAILURE_RUNTIME;
  }
  fprintf (stderr, PROGRAM ": gain scale %.2f: validation SI-SDR %.3f dB "
      "(%.3f dB at 1) over %zu sequences with speech\n", choice.scale,
      choice.si_sdr, choice.si_sdr_at_1, choice.n_sequences);
  if (dae_model_save_file (scaled, path, &error) != DAE_OK) {
    fprintf (stderr, PROGRAM ": cannot write %s: %s\n", path, error.message);
    dae_model_unref (scaled);
    return EXIT_FAILURE_RUNTIME;
  }
  dae_model_unref (scaled);
  fprintf (stderr, PROGRAM ": wrote %s\n", path);
  return EXIT_OK;
}

static int
train (const Options * o, DaeRecipe recipe, const gchar * command_line)
{
  DaeModelConfig model_config;
  DaeTrainConfig config;
  DaeTrainer *trainer = NULL;
  DaeError error;
  SourceStats stats[3];
  Progress progress;
  GError *gerror = NULL;
  gchar *info = NULL;
  unsigned rate;
  int ret = EXIT_FAILURE_RUNTIME;
  gboolean prepared = FALSE;
  gboolean resumed = FALSE;
  DaeModel *init = NULL;

  if (o->init != NULL) {
    if (dae_model_load_file (o->init, &init, &error) != DAE_OK) {
      fprintf (stderr, PROGRAM ": cannot read the --init model: %s\n",
          error.message);
      return EXIT_FAILURE_RUNTIME;
    }
  }
  if (!make_model_config (o, recipe, init, &model_config) ||
      !make_train_config (o, recipe, &config)) {
    if (init != NULL)
      dae_model_unref (init);
    return EXIT_USAGE;
  }
  rate = model_config.sample_rate;

  if (!gst_init_check (NULL, NULL, &gerror)) {
    fprintf (stderr, PROGRAM ": cannot initialise GStreamer: %s\n",
        gerror->message);
    g_clear_error (&gerror);
    goto out;
  }
  if (o->threads > 0)
    openblas_set_num_threads (o->threads);

  if (dae_trainer_new (&model_config, &config, &trainer, &error) != DAE_OK) {
    fprintf (stderr, PROGRAM ": %s\n", error.message);
    /* every setting comes from the command line */
    if (error.status == DAE_ERROR_INVALID_ARGUMENT)
      ret = EXIT_USAGE;
    goto out;
  }

  if (o->resume) {
    if (g_file_test (o->checkpoint, G_FILE_TEST_EXISTS)) {
      if (dae_trainer_load_checkpoint (trainer, o->checkpoint,
              &error) != DAE_OK) {
        fprintf (stderr, PROGRAM ": cannot resume from %s: %s\n",
            o->checkpoint, error.message);
        goto out;
      }
      fprintf (stderr, PROGRAM ": resuming from %s after epoch %zu\n",
          o->checkpoint, dae_trainer_get_epoch (trainer));
      resumed = TRUE;
    } else {
      fprintf (stderr, PROGRAM ": no checkpoint %s yet, starting from "
          "%s\n", o->checkpoint, init != NULL ? o->init : "scratch");
    }
  }
  if (init != NULL && !resumed) {
    if (dae_trainer_init_from_model (trainer, init, &error) != DAE_OK) {
      fprintf (stderr, PROGRAM ": cannot start from %s: %s\n", o->init,
          error.message);
      if (error.status == DAE_ERROR_INCOMPATIBLE)
        ret = EXIT_USAGE;
      goto out;
    }
    fprintf (stderr, PROGRAM ": starting from the weights of %s\n", o->init);
  }

  memset (stats, 0, sizeof (stats));
  if (recipe == DAE_RECIPE_DENOISE) {
    if (!load_sources (trainer, DAE_SOURCE_SPEECH, o->speech, rate, o,
            &stats[DAE_SOURCE_SPEECH]) ||
        !load_sources (trainer, DAE_SOURCE_NOISE, o->noise, rate, o,
            &stats[DAE_SOURCE_NOISE]))
      goto interrupted_or_failed;
    if (stats[DAE_SOURCE_SPEECH].n_files == 0 ||
        stats[DAE_SOURCE_NOISE].n_files == 0) {
      fprintf (stderr, PROGRAM ": no usable %s audio\n",
          stats[DAE_SOURCE_SPEECH].n_files == 0 ? "speech" : "noise");
      goto out;
    }
  } else {
    if (!load_sources (trainer, DAE_SOURCE_NORMAL, o->normal, rate, o,
            &stats[DAE_SOURCE_NORMAL]))
      goto interrupted_or_failed;
    if (stats[DAE_SOURCE_NORMAL].n_files == 0) {
      fprintf (stderr, PROGRAM ": no usable normal audio\n");
      goto out;
    }
  }

  info = make_info_text (o, command_line, stats);
  if (dae_trainer_set_info (trainer, info) != DAE_OK) {
    fprintf (stderr, PROGRAM ": cannot store the info text\n");
    goto out;
  }
  if (dae_trainer_prepare (trainer, &error) != DAE_OK) {
    fprintf (stderr, PROGRAM ": %s\n", error.message);
    goto out;
  }
  prepared = TRUE;
  if (interrupted)
    goto interrupted_or_failed;
  if (o->gain_scale_only) {
    ret = write_gain_scale (trainer, init, o->output);
    goto out;
  }

  memset (&progress, 0, sizeof (progress));
  progress.tty = isatty (STDERR_FILENO);
  progress.max_epochs = config.max_epochs;
  progress.steps_per_epoch = config.steps_per_epoch;
  progress.best_validation = INFINITY;
  progress.run_start_us = g_get_monotonic_time ();

  fprintf (stderr, PROGRAM ": training %zu epochs of %zu steps (batch %zu, "
      "%zu frames), %u Hz, %d OpenBLAS thread(s)%s\n",
      config.max_epochs, config.steps_per_epoch, config.batch_size,
      config.sequence_frames, rate, o->threads,
      config.generator_thread ? " and a batch-mixing thread" : "");

  while (dae_trainer_get_epoch (trainer) < config.max_epochs) {
    DaeEpochResult result;
    gint64 epoch_start_us = g_get_monotonic_time ();
    gchar eta[32];

    progress.epoch = dae_trainer_get_epoch (trainer) + 1;
    if (dae_trainer_run_epoch (trainer, on_progress, &progress, &result,
            &error) != DAE_OK) {
      if (progress.tty)
        fputc ('\n', stderr);
      fprintf (stderr, PROGRAM ": epoch %zu failed: %s\n", progress.epoch,
          error.message);
      goto out;
    }
    if (interrupted) {
      if (progress.tty)
        fputc ('\n', stderr);
      goto interrupted_or_failed;
    }
    progress.last_validation = result.validation_loss;
    progress.have_validation = TRUE;
    if (result.validation_loss < progress.best_validation)
      progress.best_validation = result.validation_loss;
    format_duration (estimate_remaining (&progress, config.steps_per_epoch),
        eta, sizeof (eta));
    fprintf (stderr, "%sepoch %zu/%zu: train loss %.5f, validation loss "
        "%.5f%s, lr %.3g, %.0f s, ETA %s\n", progress.tty ? "\r\033[K" : "",
        result.epoch, config.max_epochs, result.train_loss,
        result.validation_loss, result.improved ? " (best)" : "",
        result.learning_rate,
        (g_get_monotonic_time () - epoch_start_us) / (double) G_USEC_PER_SEC,
        result.stop ? "00:00" : eta);

    if (!save_checkpoint (trainer, o->checkpoint))
      goto out;
    if (o->save_epochs != NULL
        && !save_epoch_model (trainer, o->save_epochs, result.epoch))
      goto out;
    /* keep a usable model on disk while training runs */
    if (result.improved && !save_model (trainer, o->output))
      goto out;
    if (result.stop) {
      if (result.epoch < config.max_epochs)
        fprintf (stderr, PROGRAM ": stopping early: no better validation "
            "loss for %zu epochs\n", config.patience);
      break;
    }
  }

  if (!save_model (trainer, o->output))
    goto out;
  fprintf (stderr, PROGRAM ": wrote %s (%zu epochs)\n", o->output,
      dae_trainer_get_epoch (trainer));
  ret = EXIT_OK;
  goto out;

interrupted_or_failed:
  if (interrupted)
    ret = finish_interrupted (trainer, o, prepared);

out:
  g_free (info);
  if (trainer != NULL)
    dae_trainer_free (trainer);
  if (init != NULL)
    dae_model_unref (init);
  return ret;
}

/* average                                                                   */

/* The info text of an average: --info-text, the first model's text without
 * its "weights:" line (it names one epoch), then what was averaged. */
static gchar *
average_info (const gchar * info_text, const char *first, gchar ** inputs,
    int n_inputs)
{
  GString *text = g_string_new (NULL);
  gchar **lines = g_strsplit (first, "\n", -1);
  int i;

  if (info_text != NULL && info_text[0] != '\0')
    g_string_append_printf (text, "%s\n", info_text);

  for (i = 0; lines[i] != NULL; i++) {
    if (lines[i][0] == '\0' || g_str_has_prefix (lines[i], "weights: "))
      continue;
    g_string_append_printf (text, "%s\n", lines[i]);
  }
  g_strfreev (lines);
  g_string_append_printf (text, "weights: the mean of %d model file%s:",
      n_inputs, n_inputs == 1 ? "" : "s");
  for (i = 0; i < n_inputs; i++) {
    gchar *base = g_path_get_basename (inputs[i]);

    g_string_append_printf (text, " %s", base);
    g_free (base);
  }
  g_string_append_c (text, '\n');
  return g_string_free (text, FALSE);
}

static int
average (const gchar * output, const gchar * info_text, int weight_bits,
    gchar ** inputs, int n_inputs)
{
  DaeModel **models = g_new0 (DaeModel *, n_inputs);
  DaeModel *mean = NULL;
  DaeError error;
  gchar *info = NULL;
  int ret = EXIT_FAILURE;
  int i;

  for (i = 0; i < n_inputs; i++) {
    if (dae_model_load_file (inputs[i], &models[i], &error) != DAE_OK) {
      fprintf (stderr, PROGRAM ": %s: %s\n", inputs[i], error.message);
      goto out;
    }
  }
  info = average_info (info_text, dae_model_get_info (models[0]), inputs,
      n_inputs);
  if (dae_model_average (models, (size_t) n_inputs, info, &mean,
          &error) != DAE_OK) {
    fprintf (stderr, PROGRAM ": cannot average: %s\n", error.message);
    goto out;
  }
  if (weight_bits != 32) {
    DaeModel *stored;

    if (dae_model_new_with_weight_bits (mean, (unsigned) weight_bits,
            &stored, &error) != DAE_OK) {
      fprintf (stderr, PROGRAM ": cannot store %d-bit weights: %s\n",
          weight_bits, error.message);
      goto out;
    }
    dae_model_unref (mean);
    mean = stored;
  }
  if (dae_model_save_file (mean, output, &error) != DAE_OK) {
    fprintf (stderr, PROGRAM ": cannot write %s: %s\n", output, error.message);
    goto out;
  }
  fprintf (stderr, PROGRAM ": wrote %s (mean of %d models, %d-bit "
      "weights)\n", output, n_inputs, weight_bits);
  ret = EXIT_OK;

out:
  for (i = 0; i < n_inputs; i++)
    if (models[i] != NULL)
      dae_model_unref (models[i]);
  g_free (models);
  if (mean != NULL)
    dae_model_unref (mean);
  g_free (info);
  return ret;
}

/* convert: input with weight_bits-bit weights, all else unchanged */
static int
convert (const gchar * output, int weight_bits, const gchar * input)
{
  DaeModel *model = NULL;
  DaeModel *stored = NULL;
  DaeError error;
  int ret = EXIT_FAILURE;

  if (dae_model_load_file (input, &model, &error) != DAE_OK) {
    fprintf (stderr, PROGRAM ": %s\n", error.message);
    return EXIT_FAILURE;
  }
  if (dae_model_new_with_weight_bits (model, (unsigned) weight_bits, &stored,
          &error) != DAE_OK) {
    fprintf (stderr, PROGRAM ": cannot store %d-bit weights: %s\n",
        weight_bits, error.message);
  } else if (dae_model_save_file (stored, output, &error) != DAE_OK) {
    fprintf (stderr, PROGRAM ": cannot write %s: %s\n", output, error.message);
  } else {
    fprintf (stderr, PROGRAM ": wrote %s (%d-bit weights)\n", output,
        weight_bits);
    ret = EXIT_OK;
  }
  dae_model_unref (model);
  if (stored != NULL)
    dae_model_unref (stored);
  return ret;
}

int
main (int argc, char **argv)
{
  Options options;
  GOptionContext *context;
  GError *gerror = NULL;
  gchar **args;
  gchar *command_line;
  DaeRecipe recipe;
  int n_args;
  int ret;

  dae_tool_program = PROGRAM;
  options_init (&options);
  command_line = quote_command_line (argc, argv);
  args = expand_multi_value_options (argc, argv);
  n_args = (int) g_strv_length (args);

  context = make_option_context (&options);
  /* parse_strv frees what it removes from args; keep argv untouched */
  if (!g_option_context_parse_strv (context, &args, &gerror)) {
    usage_error (gerror->message);
    g_clear_error (&gerror);
    g_option_context_free (context);
    g_strfreev (args);
    g_free (command_line);
    options_clear (&options);
    return EXIT_USAGE;
  }
  g_option_context_free (context);
  n_args = (int) g_strv_length (args);

  ret = EXIT_USAGE;
  if (options.version) {
    printf (PROGRAM " %s\n", dae_version_string ());
    ret = EXIT_OK;
    goto done;
  }
  if (options.info_file != NULL) {
    if (n_args > 1) {
      usage_error ("--info takes no recipe");
      goto done;
    }
    ret = print_info (options.info_file);
    goto done;
  }
  if (n_args < 2) {
    usage_error ("missing recipe: denoise or anomaly");
    goto done;
  }
  if (strcmp (args[1], "average") == 0) {
    if (options.output == NULL)
      usage_error ("--output (-o) is required");
    else if (n_args < 3)
      usage_error ("average needs one or more model files");
    else if (options.speech != NULL || options.noise != NULL
        || options.normal != NULL)
      usage_error ("average takes model files, not --speech, --noise or "
          "--normal");
    else if (options.weight_bits != 16 && options.weight_bits != 32)
      usage_error ("--weight-bits must be 16 or 32");
    else
      ret = average (options.output, options.info_text, options.weight_bits,
          args + 2, n_args - 2);
    goto done;
  }
  if (strcmp (args[1], "convert") == 0) {
    if (options.output == NULL)
      usage_error ("--output (-o) is required");
    else if (n_args != 3)
      usage_error ("convert takes one model file");
    else if (options.weight_bits != 16 && options.weight_bits != 32)
      usage_error ("--weight-bits must be 16 or 32");
    else
      ret = convert (options.output, options.weight_bits, args[2]);
    goto done;
  }
  if (options.weight_bits != 32) {
    usage_error ("--weight-bits belongs to average and convert");
    goto done;
  }
  if (strcmp (args[1], "gain-scale") == 0) {
    if (n_args != 3) {
      usage_error ("gain-scale takes one model file");
      goto done;
    }
    if (options.init != NULL) {
      usage_error ("gain-scale takes the model as its argument, not --init");
      goto done;
    }
    /* a checkpoint's weights would be scored, the model's written */
    if (options.resume) {
      usage_error ("gain-scale does not take --resume");
      goto done;
    }
    if (options.speed_validation && !(options.speed_probability > 0.0)) {
      usage_error ("--speed-validation needs --speed-probability");
      goto done;
    }
    options.init = g_strdup (args[2]);
    options.gain_scale_only = TRUE;
    g_free (args[1]);
    args[1] = g_strdup ("denoise");
    n_args = 2;
  } else if (options.speed_validation) {
    /* training losses stay comparable between runs */
    usage_error ("--speed-validation belongs to gain-scale");
    goto done;
  }
  if (n_args > 2) {
    gchar *message = g_strdup_printf ("unexpected argument '%s' (sources "
        "go after --speech, --noise or --normal)", args[2]);

    usage_error (message);
    g_free (message);
    goto done;
  }
  if (strcmp (args[1], "denoise") == 0) {
    recipe = DAE_RECIPE_DENOISE;
    if (options.speech == NULL || options.noise == NULL) {
      usage_error ("denoise needs --speech and --noise");
      goto done;
    }
    if (options.normal != NULL) {
      usage_error ("--normal belongs to the anomaly recipe");
      goto done;
    }
  } else if (strcmp (args[1], "anomaly") == 0) {
    recipe = DAE_RECIPE_ANOMALY;
    if (options.normal == NULL) {
      usage_error ("anomaly needs --normal");
      goto done;
    }
    if (options.speech != NULL || options.noise != NULL) {
      usage_error ("--speech and --noise belong to the denoise recipe");
      goto done;
    }
  } else {
    gchar *message = g_strdup_printf ("unknown recipe '%s' (denoise, "
        "anomaly, average, convert or gain-scale)", args[1]);

    usage_error (message);
    g_free (message);
    goto done;
  }
  if (options.output == NULL) {
    usage_error ("--output (-o) is required");
    goto done;
  }
  if (options.threads < 0) {
    usage_error ("--threads must be 0 or more");
    goto done;
  }
  if (options.max_seconds < 0 || !isfinite (options.max_seconds)) {
    usage_error ("--max-seconds-per-source must be 0 or more");
    goto done;
  }
  if (options.checkpoint == NULL)
    options.checkpoint = g_strconcat (options.output, ".ckpt", NULL);

  install_sigint_handler ();
  ret = train (&options, recipe, command_line);

done:
  g_strfreev (args);
  g_free (command_line);
  options_clear (&options);
  return ret;
}
