/* dae-score — score audio files with a dae model, or denoise one
 * Copyright (C) 2026 The dae authors
 * SPDX-License-Identifier: LGPL-2.1-or-later
 *
 * Offline, with the element's code path: each file is decoded with
 * GStreamer to mono float at the model's rate (as "audioconvert !
 * audioresample" in front of daedenoise), fed hop by hop to a
 * DaeProcessor (reset between files), and the frame scores go through a
 * DaeScorer (threshold, hold, no smoothing: daedenoise's anomaly
 * detector) to find anomaly segments.
 *
 * Usage:
 *   dae-score -m model.dae [--frames] [--csv|--json] SRC...
 *   dae-score -m model.dae --plot out.svg FILE
 *   dae-score -m model.dae --denoise IN OUT.wav
 *
 * Exit codes: 0 ok, 1 runtime failure (a model or input that cannot be
 * read, an output that cannot be written; the other files are still
 * scored), 2 usage error.
 */

#include <errno.h>
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <glib.h>
#include <glib/gstdio.h>
#include <gst/gst.h>

#include <dae/dae.h>

#include "dae-tool-common.h"

#define PROGRAM "dae-score"

#define EXIT_OK 0
#define EXIT_FAILURE_RUNTIME 1
#define EXIT_USAGE 2

/* daedenoise's default anomaly-hold */
#define DEFAULT_HOLD_SECONDS 0.2
/* default shares of the bands (band score) and frames (frame score) whose
 * mean is the file score */
#define DEFAULT_TOP_BANDS 0.0625
#define DEFAULT_TOP_FRAMES 0.1

/* plot geometry (SVG user units = pixels) */
#define PLOT_WIDTH 1000
#define PLOT_LEFT 70
#define PLOT_RIGHT 20
#define PLOT_HEATMAP_HEIGHT 190
#define PLOT_SCORE_HEIGHT 150
#define PLOT_GAP 46
#define PLOT_TOP 54
/* heatmaps have at most this many columns (frames are grouped) */
#define PLOT_MAX_COLUMNS 480
#define PLOT_MAX_POINTS 1000
/* the spectrogram shows this range below its loudest cell */
#define PLOT_DYNAMIC_RANGE_DB 70.0
/* band errors are shown as log10 (error / threshold) over this range */
#define PLOT_ERROR_DECADES 1.5

typedef enum
{
  SCORE_BANDS,
  SCORE_FRAMES,
  SCORE_MEAN
} ScoreKind;

typedef struct
{
  gchar *model_file;
  gchar *score_kind_name;
  ScoreKind score_kind;
  gboolean frames;
  gboolean bands;
  gboolean csv;
  gboolean json;
  gchar *plot;
  gboolean denoise;
  gdouble threshold;
  gdouble hold;
  gdouble top_fraction;
  gdouble attenuation_limit;
  gboolean float_arithmetic;
  gboolean version;
  gchar **inputs;
} Options;

typedef struct
{
  size_t start;                 /* first frame above the threshold */
  size_t end;                   /* first frame of the run back below it, or
                                 * n_frames if the file ended anomalous */
  float peak;                   /* highest frame score inside */
} Segment;

typedef struct
{
  const gchar *path;
  size_t n_samples;
  size_t n_frames;              /* complete hops */
  size_t first;                 /* first scored frame */
  float *scores;                /* n_frames */
  float *band_errors;           /* n_frames * n_bands, or NULL */
  guint8 *state;                /* n_frames: debounced state after frame */
  GArray *segments;             /* Segment */
  double *band_means;           /* n_bands: mean band error over the file */
  size_t worst_band;            /* the band with the highest mean */
  double score;                 /* the file score (--score) */
  double bands_score;           /* mean of the top bands' means */
  double frames_score;          /* mean of the top frame scores */
  double max_score;
  double mean_score;
  size_t n_above;
  double cpu_seconds;
} FileResult;

typedef struct
{
  DaeModel *model;
  DaeProcessor *proc;
  DaeScorer *scorer;            /* NULL without a threshold */
  unsigned rate;
  size_t hop;
  size_t window;
  size_t n_bands;
  size_t hold_frames;
  double threshold;             /* < 0: none */
  gboolean threshold_from_model;
} Scoring;

/* ------------------------------------------------------------------------ */
/* Helpers                                                                   */

static gboolean usage_error (const gchar * format, ...)
    __attribute__((format (printf, 1, 2)));

static gboolean
usage_error (const gchar * format, ...)
{
  va_list args;

  fprintf (stderr, PROGRAM ": ");
  va_start (args, format);
  vfprintf (stderr, format, args);
  va_end (args);
  fprintf (stderr, "\nTry '" PROGRAM " --help' for more information.\n");
  return FALSE;
}

static double
thread_cpu_seconds (void)
{
  struct timespec ts;

  if (clock_gettime (CLOCK_THREAD_CPUTIME_ID, &ts) != 0)
    return 0.0;
  return (double) ts.tv_sec + 1e-9 * (double) ts.tv_nsec;
}

/* Time of frame i in seconds: the centre of its analysis window, which
 * ends with the i-th hop of input. */
static double
frame_time (const Scoring * sc, size_t i)
{
  return ((double) (i + 1) * (double) sc->hop - 0.5 * (double) sc->window)
      / (double) sc->rate;
}

static int
compare_floats_descending (const void *a, const void *b)
{
  float x = *(const float *) a;
  float y = *(const float *) b;

  return (x < y) - (x > y);
}

static int
compare_doubles_descending (const void *a, const void *b)
{
  double x = *(const double *) a;
  double y = *(const double *) b;

  return (x < y) - (x > y);
}

/* mean of the first ceil (fraction * n) of sorted (at least one) */
static double
top_mean (const double *sorted, size_t n, double fraction)
{
  size_t k = CLAMP ((size_t) ceil (fraction * (double) n), 1, n);
  double sum = 0.0;
  size_t i;

  for (i = 0; i < k; i++)
    sum += sorted[i];
  return sum / (double) k;
}

/* What the file score is, for the outputs' headers. */
static gchar *
describe_score (const Options * o)
{
  switch (o->score_kind) {
    case SCORE_BANDS:
      return g_strdup_printf ("mean of the top %g %% of the bands' mean "
          "errors over the file", 100.0 * o->top_fraction);
    case SCORE_FRAMES:
      return g_strdup_printf ("mean of the top %g %% of the frame scores",
          100.0 * o->top_fraction);
    case SCORE_MEAN:
      break;
  }
  return g_strdup ("mean of the frame scores");
}

static void
file_result_clear (FileResult * r)
{
  g_free (r->scores);
  g_free (r->band_errors);
  g_free (r->state);
  g_free (r->band_means);
  if (r->segments != NULL)
    g_array_unref (r->segments);
  memset (r, 0, sizeof (*r));
}

/* ------------------------------------------------------------------------ */
/* Scoring                                                                   */

/* Runs @samples through the processor (and the scorer) and fills @r. */
static gboolean
score_samples (Scoring * sc, const Options * o, const float *samples,
    size_t n_samples, gboolean keep_band_errors, FileResult * r)
{
  size_t n_frames = n_samples / sc->hop;
  float *out = g_new (float, sc->hop);
  size_t open_start = 0;
  float open_peak = 0.0f;
  double cpu0;
  size_t h;
  size_t k;
  size_t n_scored;

  r->n_samples = n_samples;
  r->n_frames = n_frames;
  /* the analysis window is full from frame window / hop - 1 on; skip one
   * more, as the threshold calibration does */
  r->first = sc->window / sc->hop;
  r->scores = g_new0 (float, MAX (n_frames, 1));
  r->state = g_new0 (guint8, MAX (n_frames, 1));
  r->band_errors = keep_band_errors ?
      g_new0 (float, MAX (n_frames, 1) * sc->n_bands) : NULL;
  r->band_means = g_new0 (double, sc->n_bands);
  r->segments = g_array_new (FALSE, FALSE, sizeof (Segment));

  dae_processor_reset (sc->proc);
  if (sc->scorer != NULL)
    dae_scorer_reset (sc->scorer);

  cpu0 = thread_cpu_seconds ();
  for (h = 0; h < n_frames; h++) {
    DaeFrameResult res;
    DaeAnomalyEvent event;

    if (dae_processor_process (sc->proc, samples + h * sc->hop, out,
            &res) != DAE_OK) {
      g_free (out);
      return FALSE;
    }
    r->scores[h] = res.score;
    if (r->band_errors != NULL)
      memcpy (r->band_errors + h * sc->n_bands, res.band_errors,
          sc->n_bands * sizeof (float));
    if (h < r->first)
      continue;
    for (k = 0; k < sc->n_bands; k++)
      r->band_means[k] += res.band_errors[k];
    if (sc->scorer == NULL)
      continue;

    event = dae_scorer_push (sc->scorer, res.score, NULL);
    if (event == DAE_ANOMALY_START) {
      /* the run that started it began hold - 1 frames ago; the peak
       * includes those frames */
      open_start = h + 1 - MIN (sc->hold_frames, h + 1 - r->first);
      open_peak = 0.0f;
      for (k = open_start; k < h; k++)
        open_peak = MAX (open_peak, r->scores[k]);
    } else if (event == DAE_ANOMALY_END) {
      Segment seg;

      seg.start = open_start;
      seg.end = h + 1 - MIN (sc->hold_frames, h + 1 - open_start);
      seg.peak = open_peak;
      g_array_append_val (r->segments, seg);
    }
    if (dae_scorer_is_anomaly (sc->scorer)) {
      open_peak = MAX (open_peak, r->scores[h]);
      r->state[h] = 1;
    }
    if (sc->threshold >= 0 && res.score > sc->threshold)
      r->n_above++;
  }
  r->cpu_seconds = thread_cpu_seconds () - cpu0;
  if (sc->scorer != NULL && dae_scorer_is_anomaly (sc->scorer)) {
    Segment seg;

    seg.start = open_start;
    seg.end = n_frames;
    seg.peak = open_peak;
    g_array_append_val (r->segments, seg);
  }
  g_free (out);

  n_scored = n_frames > r->first ? n_frames - r->first : 0;
  if (n_scored > 0) {
    double *sorted = g_new (double, n_scored);
    double *bands = g_new (double, sc->n_bands);
    double top_frames = o->score_kind == SCORE_FRAMES ? o->top_fraction :
        DEFAULT_TOP_FRAMES;
    double top_bands = o->score_kind == SCORE_BANDS ? o->top_fraction :
        DEFAULT_TOP_BANDS;

    /* frames: the mean of the highest top_frames of the frame scores */
    for (k = 0; k < n_scored; k++)
      sorted[k] = r->scores[r->first + k];
    qsort (sorted, n_scored, sizeof (double), compare_doubles_descending);
    r->frames_score = top_mean (sorted, n_scored, top_frames);
    r->max_score = sorted[0];
    r->mean_score = top_mean (sorted, n_scored, 1.0);

    /* bands: each band's mean error over the file, then the mean of the
     * highest top_bands of those */
    r->worst_band = 0;
    for (k = 0; k < sc->n_bands; k++) {
      r->band_means[k] /= (double) n_scored;
      bands[k] = r->band_means[k];
      if (bands[k] > bands[r->worst_band])
        r->worst_band = k;
    }
    qsort (bands, sc->n_bands, sizeof (double), compare_doubles_descending);
    r->bands_score = top_mean (bands, sc->n_bands, top_bands);
    g_free (bands);
    g_free (sorted);
  } else {
    r->frames_score = r->bands_score = NAN;
    r->max_score = r->mean_score = NAN;
  }
  switch (o->score_kind) {
    case SCORE_BANDS:
      r->score = r->bands_score;
      break;
    case SCORE_FRAMES:
      r->score = r->frames_score;
      break;
    case SCORE_MEAN:
      r->score = r->mean_score;
      break;
  }
  return TRUE;
}

/* ------------------------------------------------------------------------ */
/* Output: table, CSV, JSON                                                  */

static gchar *
json_string (const gchar * s)
{
  GString *out = g_string_new ("\"");

  for (; *s != '\0'; s++) {
    guchar c = (guchar) * s;

    if (c == '"' || c == '\\')
      g_string_append_printf (out, "\\%c", c);
    else if (c < 0x20)
      g_string_append_printf (out, "\\u%04x", c);
    else
      g_string_append_c (out, (gchar) c);
  }
  g_string_append_c (out, '"');
  return g_string_free (out, FALSE);
}

static gchar *
csv_field (const gchar * s)
{
  GString *out;

  if (strpbrk (s, ",\"\n\r") == NULL)
    return g_strdup (s);
  out = g_string_new ("\"");
  for (; *s != '\0'; s++) {
    if (*s == '"')
      g_string_append_c (out, '"');
    g_string_append_c (out, *s);
  }
  g_string_append_c (out, '"');
  return g_string_free (out, FALSE);
}

/* JSON has no NaN: a file too short to score gets null */
static void
print_json_number (double v)
{
  if (isfinite (v))
    printf ("%.6g", v);
  else
    printf ("null");
}

static void
print_header (const Scoring * sc, const Options * o)
{
  gchar *score = describe_score (o);

  if (o->json) {
    gchar *model = json_string (o->model_file);
    const float *centers = dae_model_get_band_centers (sc->model);
    size_t b;

    printf ("{\n  \"model\": %s,\n  \"rate\": %u,\n  \"hop_samples\": %zu,\n"
        "  \"window_samples\": %zu,\n  \"n_bands\": %zu,\n  \"threshold\": ",
        model, sc->rate, sc->hop, sc->window, sc->n_bands);
    if (sc->threshold >= 0)
      printf ("%.6g", sc->threshold);
    else
      printf ("null");
    printf (",\n  \"threshold_source\": \"%s\",\n  \"hold_seconds\": %.6g,\n"
        "  \"score\": \"%s\",\n  \"band_centers_hz\": [",
        sc->threshold < 0 ? "none" : sc->threshold_from_model ? "model" :
        "option", (double) (sc->hold_frames * sc->hop) / sc->rate, score);
    for (b = 0; b < sc->n_bands; b++)
      printf ("%s%.1f", b > 0 ? ", " : "", centers[b]);
    printf ("],\n  \"files\": [");
    g_free (model);
    g_free (score);
    return;
  }
  if (o->csv) {
    if (o->frames) {
      size_t b;

      printf ("file,frame,time,score,anomaly");
      for (b = 0; o->bands && b < sc->n_bands; b++)
        printf (",band_%zu", b);
      printf ("\n");
    } else {
      printf ("file,score,bands_score,frames_score,max_score,mean_score,"
          "worst_band_hz,frames,above_threshold,anomalies,anomaly_seconds,"
          "audio_seconds,cpu_seconds\n");
    }
    g_free (score);
    return;
  }
  printf ("# model %s: %u Hz, hop %zu, window %zu, %zu bands\n",
      o->model_file, sc->rate, sc->hop, sc->window, sc->n_bands);
  if (sc->threshold >= 0)
    printf ("# threshold %.6g (%s), hold %.3g s\n", sc->threshold,
        sc->threshold_from_model ? "calibrated in the model" : "--threshold",
        (double) sc->hold_frames * sc->hop / sc->rate);
  else
    printf ("# no threshold (the model is not calibrated; use --threshold)\n");
  printf ("# score = %s\n", score);
  if (!o->frames)
    printf ("%-40s %10s %10s %10s %7s %7s %9s %8s\n", "file", "score", "max",
        "mean", "frames", "above", "anomalies", "band_hz");
  g_free (score);
}

static double
anomaly_seconds (const Scoring * sc, const FileResult * r)
{
  size_t frames = 0;
  guint i;

  for (i = 0; i < r->segments->len; i++) {
    const Segment *seg = &g_array_index (r->segments, Segment, i);

    frames += seg->end - seg->start;
  }
  return (double) (frames * sc->hop) / sc->rate;
}

/* centre of the band that deviates most over the file (NaN if none) */
static double
worst_band_hz (const Scoring * sc, const FileResult * r)
{
  if (r->n_frames <= r->first)
    return NAN;
  return dae_model_get_band_centers (sc->model)[r->worst_band];
}

static void
print_frames_text_csv (const Scoring * sc, const Options * o,
    const FileResult * r)
{
  gchar *name = o->csv ? csv_field (r->path) : g_strdup (r->path);
  size_t h;
  size_t b;

  if (!o->csv)
    printf ("# %s\n%8s %10s %7s\n", r->path, "time", "score", "anomaly");
  for (h = r->first; h < r->n_frames; h++) {
    if (o->csv)
      printf ("%s,%zu,%.4f,%.6g,%d", name, h, frame_time (sc, h),
          r->scores[h], r->state[h]);
    else
      printf ("%8.3f %10.5g %7d", frame_time (sc, h), r->scores[h],
          r->state[h]);
    for (b = 0; o->bands && b < sc->n_bands; b++)
      printf (o->csv ? ",%.5g" : " %.4g", r->band_errors[h * sc->n_bands + b]);
    printf ("\n");
  }
  g_free (name);
}

static void
print_result (const Scoring * sc, const Options * o, const FileResult * r,
    gboolean first_file)
{
  double audio = (double) r->n_samples / sc->rate;
  double above = r->n_frames > r->first ?
      (double) r->n_above / (double) (r->n_frames - r->first) : 0.0;
  guint i;

  if (o->json) {
    gchar *name = json_string (r->path);
    size_t h;
    size_t b;

    printf ("%s\n    {\"file\": %s, \"score\": ", first_file ? "" : ",", name);
    print_json_number (r->score);
    printf (", \"bands_score\": ");
    print_json_number (r->bands_score);
    printf (", \"frames_score\": ");
    print_json_number (r->frames_score);
    printf (", \"max_score\": ");
    print_json_number (r->max_score);
    printf (", \"mean_score\": ");
    print_json_number (r->mean_score);
    printf (",\n     \"worst_band_hz\": ");
    print_json_number (worst_band_hz (sc, r));
    printf (", \"band_means\": [");
    for (b = 0; b < sc->n_bands; b++) {
      printf ("%s", b > 0 ? ", " : "");
      print_json_number (r->band_means[b]);
    }
    printf ("],\n     \"frames\": %zu, \"scored_frames\": %zu, "
        "\"above_threshold\": %.6g, \"audio_seconds\": %.6g, "
        "\"cpu_seconds\": %.6g,\n     \"anomalies\": [", r->n_frames,
        r->n_frames > r->first ? r->n_frames - r->first : 0, above, audio,
        r->cpu_seconds);
    for (i = 0; i < r->segments->len; i++) {
      const Segment *seg = &g_array_index (r->segments, Segment, i);
      double end = seg->end >= r->n_frames ? audio : frame_time (sc, seg->end);

      printf ("%s{\"start\": %.4f, \"end\": %.4f, \"peak\": %.6g}",
          i > 0 ? ", " : "", frame_time (sc, seg->start), end,
          (double) seg->peak);
    }
    printf ("]");
    if (o->frames) {
      printf (",\n     \"frame_times\": [");
      for (h = r->first; h < r->n_frames; h++)
        printf ("%s%.4f", h > r->first ? ", " : "", frame_time (sc, h));
      printf ("],\n     \"frame_scores\": [");
      for (h = r->first; h < r->n_frames; h++)
        printf ("%s%.6g", h > r->first ? ", " : "", r->scores[h]);
      printf ("],\n     \"frame_anomaly\": [");
      for (h = r->first; h < r->n_frames; h++)
        printf ("%s%d", h > r->first ? ", " : "", r->state[h]);
      printf ("]");
      if (o->bands) {
        printf (",\n     \"band_errors\": [");
        for (h = r->first; h < r->n_frames; h++) {
          printf ("%s[", h > r->first ? ", " : "");
          for (b = 0; b < sc->n_bands; b++)
            printf ("%s%.5g", b > 0 ? ", " : "",
                r->band_errors[h * sc->n_bands + b]);
          printf ("]");
        }
        printf ("]");
      }
    }
    printf ("}");
    g_free (name);
    return;
  }
  if (o->frames) {
    print_frames_text_csv (sc, o, r);
    return;
  }
  if (o->csv) {
    gchar *name = csv_field (r->path);

    printf ("%s,%.6g,%.6g,%.6g,%.6g,%.6g,%.1f,%zu,%.6g,%u,%.4f,%.4f,%.6g\n",
        name, r->score, r->bands_score, r->frames_score, r->max_score,
        r->mean_score, worst_band_hz (sc, r), r->n_frames, above,
        r->segments->len, anomaly_seconds (sc, r), audio, r->cpu_seconds);
    g_free (name);
    return;
  }
  printf ("%-40s %10.5g %10.5g %10.5g %7zu %6.1f%% %9u %8.0f\n", r->path,
      r->score, r->max_score, r->mean_score, r->n_frames, 100.0 * above,
      r->segments->len, worst_band_hz (sc, r));
  for (i = 0; i < r->segments->len; i++) {
    const Segment *seg = &g_array_index (r->segments, Segment, i);
    double end = seg->end >= r->n_frames ? audio : frame_time (sc, seg->end);

    printf ("%-40s   anomaly %.2f s to %.2f s, peak score %.5g\n", "",
        frame_time (sc, seg->start), end, (double) seg->peak);
  }
}

/* ------------------------------------------------------------------------ */
/* SVG plot                                                                  */

typedef struct
{
  double r;
  double g;
  double b;
} Rgb;

/* a dark-to-bright sequential map (black, purple, red, orange, pale
 * yellow), t in [0, 1] */
static Rgb
colour_map (double t)
{
  static const Rgb stops[] = {
    {0.00, 0.00, 0.02}, {0.32, 0.07, 0.45}, {0.72, 0.15, 0.38},
    {0.98, 0.50, 0.15}, {0.99, 0.95, 0.65}
  };
  const int n = G_N_ELEMENTS (stops);
  double x;
  int i;
  Rgb c;

  t = CLAMP (t, 0.0, 1.0);
  x = t * (n - 1);
  i = MIN ((int) x, n - 2);
  x -= i;
  c.r = stops[i].r + x * (stops[i + 1].r - stops[i].r);
  c.g = stops[i].g + x * (stops[i + 1].g - stops[i].g);
  c.b = stops[i].b + x * (stops[i + 1].b - stops[i].b);
  return c;
}

/* CRC-32 of PNG chunks (IEEE, reflected), bitwise: the plot is small */
static guint32
png_crc (guint32 crc, const guint8 * data, size_t n)
{
  size_t i;
  int k;

  crc = ~crc;
  for (i = 0; i < n; i++) {
    crc ^= data[i];
    for (k = 0; k < 8; k++)
      crc = (crc >> 1) ^ (0xedb88320u & (0u - (crc & 1u)));
  }
  return ~crc;
}

static void
put_be32 (guint8 * p, guint32 v)
{
  p[0] = (guint8) (v >> 24);
  p[1] = (guint8) (v >> 16);
  p[2] = (guint8) (v >> 8);
  p[3] = (guint8) v;
}

static void
png_chunk (GByteArray * png, const char *type, const guint8 * data, size_t n)
{
  guint8 word[4];
  guint32 crc;

  put_be32 (word, (guint32) n);
  g_byte_array_append (png, word, 4);
  g_byte_array_append (png, (const guint8 *) type, 4);
  g_byte_array_append (png, data, (guint) n);
  crc = png_crc (0, (const guint8 *) type, 4);
  crc = png_crc (crc, data, n);
  put_be32 (word, crc);
  g_byte_array_append (png, word, 4);
}

/* An RGB image (rows top to bottom) as a base64 PNG data URI.  The image
 * data are stored, not compressed (zlib "stored" blocks), which keeps the
 * encoder a few lines long; a heatmap of at most PLOT_MAX_COLUMNS x 128
 * cells stays below 250 kB. */
static gchar *
png_data_uri (const guint8 * rgb, size_t width, size_t height)
{
  GByteArray *png = g_byte_array_new ();
  GByteArray *z = g_byte_array_new ();
  size_t row = 3 * width + 1;
  size_t raw_size = row * height;
  guint8 *raw = g_malloc (raw_size);
  guint8 ihdr[13];
  guint32 a = 1;
  guint32 b = 0;
  size_t pos;
  size_t y;
  gchar *base64;
  gchar *uri;
  static const guint8 signature[8] = { 137, 80, 78, 71, 13, 10, 26, 10 };
  static const guint8 zlib_header[2] = { 0x78, 0x01 };

  for (y = 0; y < height; y++) {
    raw[y * row] = 0;           /* filter: none */
    memcpy (raw + y * row + 1, rgb + y * 3 * width, 3 * width);
  }
  for (pos = 0; pos < raw_size; pos++) {
    a = (a + raw[pos]) % 65521u;
    b = (b + a) % 65521u;
  }
  g_byte_array_append (z, zlib_header, 2);
  for (pos = 0; pos < raw_size || pos == 0;) {
    size_t n = MIN (raw_size - pos, 65535);
    guint8 block[5];

    block[0] = pos + n >= raw_size ? 1 : 0;
    block[1] = (guint8) (n & 0xff);
    block[2] = (guint8) (n >> 8);
    block[3] = (guint8) (~n & 0xff);
    block[4] = (guint8) ((~n >> 8) & 0xff);
    g_byte_array_append (z, block, 5);
    g_byte_array_append (z, raw + pos, (guint) n);
    pos += n;
    if (n == 0)
      break;
  }
  {
    guint8 adler[4];

    put_be32 (adler, (b << 16) | a);
    g_byte_array_append (z, adler, 4);
  }

  put_be32 (ihdr, (guint32) width);
  put_be32 (ihdr + 4, (guint32) height);
  ihdr[8] = 8;                  /* bits per channel */
  ihdr[9] = 2;                  /* RGB */
  ihdr[10] = ihdr[11] = ihdr[12] = 0;
  g_byte_array_append (png, signature, 8);
  png_chunk (png, "IHDR", ihdr, sizeof (ihdr));
  png_chunk (png, "IDAT", z->data, z->len);
  png_chunk (png, "IEND", NULL, 0);

  base64 = g_base64_encode (png->data, png->len);
  uri = g_strconcat ("data:image/png;base64,", base64, NULL);
  g_free (base64);
  g_free (raw);
  g_byte_array_unref (z);
  g_byte_array_unref (png);
  return uri;
}

/* A heatmap of values[column][row] in [0, 1] (row 0 = lowest band, drawn
 * at the bottom), one image pixel per cell, stretched over the panel. */
static void
svg_heatmap (FILE * f, const double *values, size_t n_cols, size_t n_rows,
    double x0, double y0, double width, double height)
{
  guint8 *rgb = g_malloc (3 * n_cols * n_rows);
  gchar *uri;
  size_t row;
  size_t col;

  for (row = 0; row < n_rows; row++) {
    for (col = 0; col < n_cols; col++) {
      Rgb c = colour_map (values[col * n_rows + row]);
      guint8 *p = rgb + 3 * ((n_rows - 1 - row) * n_cols + col);

      p[0] = (guint8) lround (255 * c.r);
      p[1] = (guint8) lround (255 * c.g);
      p[2] = (guint8) lround (255 * c.b);
    }
  }
  uri = png_data_uri (rgb, n_cols, n_rows);
  fprintf (f, "<image x=\"%.1f\" y=\"%.1f\" width=\"%.1f\" height=\"%.1f\" "
      "preserveAspectRatio=\"none\" style=\"image-rendering:pixelated\" "
      "xlink:href=\"%s\"/>\n", x0, y0, width, height, uri);
  g_free (uri);
  g_free (rgb);
}

static double
nice_step (double range, int target)
{
  static const double mults[] = { 1, 2, 5 };
  double raw = range / target;
  double p = pow (10.0, floor (log10 (raw)));
  gsize i;

  for (i = 0; i < G_N_ELEMENTS (mults); i++)
    if (mults[i] * p >= raw)
      return mults[i] * p;
  return 10 * p;
}

static void
svg_time_axis (FILE * f, double x0, double y, double width, double t0,
    double t1, gboolean labels)
{
  double step = nice_step (t1 - t0, 10);
  double t;

  fprintf (f, "<g font-size=\"11\" text-anchor=\"middle\" fill=\"#333\">\n");
  for (t = ceil (t0 / step) * step; t <= t1 + 1e-9; t += step) {
    double x = x0 + (t - t0) / (t1 - t0) * width;

    fprintf (f, "<line x1=\"%.1f\" y1=\"%.1f\" x2=\"%.1f\" y2=\"%.1f\" "
        "stroke=\"#333\"/>\n", x, y, x, y + 4);
    if (labels)
      fprintf (f, "<text x=\"%.1f\" y=\"%.1f\">%g</text>\n", x, y + 16,
          fabs (t) < 1e-9 ? 0.0 : t);
  }
  fprintf (f, "</g>\n");
}

/* Labels a few band rows with their centre frequency. */
static void
svg_band_axis (FILE * f, const float *centers, size_t n_bands, double y0,
    double height)
{
  static const double marks[] = { 50, 100, 200, 500, 1000, 2000, 5000,
    10000, 20000
  };
  double rh = height / (double) n_bands;
  gsize i;

  fprintf (f, "<g font-size=\"11\" text-anchor=\"end\" fill=\"#333\">\n");
  for (i = 0; i < G_N_ELEMENTS (marks); i++) {
    size_t b;
    size_t best = 0;
    double y;

    if (marks[i] < centers[0] || marks[i] > centers[n_bands - 1])
      continue;
    for (b = 1; b < n_bands; b++)
      if (fabs (centers[b] - marks[i]) < fabs (centers[best] - marks[i]))
        best = b;
    y = y0 + height - ((double) best + 0.5) * rh;
    fprintf (f, "<line x1=\"%d\" y1=\"%.1f\" x2=\"%d\" y2=\"%.1f\" "
        "stroke=\"#333\"/>\n", PLOT_LEFT - 4, y, PLOT_LEFT, y);
    if (marks[i] >= 1000)
      fprintf (f, "<text x=\"%d\" y=\"%.1f\">%gk</text>\n", PLOT_LEFT - 6,
          y + 4, marks[i] / 1000);
    else
      fprintf (f, "<text x=\"%d\" y=\"%.1f\">%g</text>\n", PLOT_LEFT - 6,
          y + 4, marks[i]);
  }
  fprintf (f, "</g>\n");
}

/* Band powers of every frame (n_frames * n_bands, dB) from an STFT with
 * the model's window and hop, each band the mean bin power between the
 * midpoints to its neighbouring centres: a display of what the model's
 * features see. */
static double *
band_powers_db (const Scoring * sc, const float *samples, size_t n_frames)
{
  const float *centers = dae_model_get_band_centers (sc->model);
  size_t n_bins;
  DaeStft *stft = NULL;
  float *spectrum;
  double *out;
  size_t *lo;
  size_t *hi;
  size_t h;
  size_t b;

  if (dae_stft_new (sc->window, sc->hop, &stft) != DAE_OK)
    return NULL;
  n_bins = dae_stft_get_n_bins (stft);
  spectrum = g_new (float, 2 * n_bins);
  out = g_new0 (double, MAX (n_frames, 1) * sc->n_bands);
  lo = g_new (size_t, sc->n_bands);
  hi = g_new (size_t, sc->n_bands);
  for (b = 0; b < sc->n_bands; b++) {
    double f_lo = b > 0 ? 0.5 * (centers[b - 1] + centers[b]) : centers[0];
    double f_hi = b + 1 < sc->n_bands ? 0.5 * (centers[b] + centers[b + 1])
        : centers[b];
    double bin_hz = (double) sc->rate / (double) sc->window;

    lo[b] = (size_t) floor (f_lo / bin_hz + 0.5);
    hi[b] = MAX ((size_t) floor (f_hi / bin_hz + 0.5), lo[b] + 1);
    hi[b] = MIN (hi[b], n_bins);
    lo[b] = MIN (lo[b], hi[b] - 1);
  }
  for (h = 0; h < n_frames; h++) {
    dae_stft_analyze (stft, samples + h * sc->hop, spectrum);
    for (b = 0; b < sc->n_bands; b++) {
      double sum = 0.0;
      size_t k;

      for (k = lo[b]; k < hi[b]; k++)
        sum += (double) spectrum[2 * k] * spectrum[2 * k]
            + (double) spectrum[2 * k + 1] * spectrum[2 * k + 1];
      out[h * sc->n_bands + b] = 10.0 * log10 (sum / (double) (hi[b] - lo[b])
          + 1e-20);
    }
  }
  dae_stft_free (stft);
  g_free (spectrum);
  g_free (lo);
  g_free (hi);
  return out;
}

static gchar *
xml_escape (const gchar * s)
{
  return g_markup_escape_text (s, -1);
}

static gboolean
write_plot (const Scoring * sc, const Options * o, const FileResult * r,
    const float *samples)
{
  const size_t nb = sc->n_bands;
  const size_t first = r->first;
  const size_t n = r->n_frames > first ? r->n_frames - first : 0;
  const double plot_w = PLOT_WIDTH - PLOT_LEFT - PLOT_RIGHT;
  const double y_spec = PLOT_TOP;
  const double y_err = y_spec + PLOT_HEATMAP_HEIGHT + PLOT_GAP;
  const double y_score = y_err + PLOT_HEATMAP_HEIGHT + PLOT_GAP;
  const double height = y_score + PLOT_SCORE_HEIGHT + 50;
  const double t0 = n > 0 ? frame_time (sc, first) : 0.0;
  const double t1 = n > 0 ? frame_time (sc, r->n_frames - 1) + (double) sc->hop
      / sc->rate : 1.0;
  size_t per_col;
  size_t n_cols;
  double *powers;
  double *spec;
  double *err;
  double max_db = -1e300;
  double err_ref;
  double y_max;
  gchar *title;
  gchar *file_name;
  FILE *f;
  size_t c;
  size_t b;
  size_t h;
  guint i;
  int failed;

  if (n == 0) {
    fprintf (stderr, PROGRAM ": %s: too short to plot (%zu frames)\n",
        r->path, r->n_frames);
    return FALSE;
  }
  f = g_fopen (o->plot, "w");
  if (f == NULL) {
    fprintf (stderr, PROGRAM ": cannot write %s: %s\n", o->plot,
        g_strerror (errno));
    return FALSE;
  }

  per_col = (n + PLOT_MAX_COLUMNS - 1) / PLOT_MAX_COLUMNS;
  n_cols = (n + per_col - 1) / per_col;
  powers = band_powers_db (sc, samples, r->n_frames);
  spec = g_new0 (double, n_cols * nb);
  err = g_new0 (double, n_cols * nb);

  /* columns: spectrogram = mean power, errors = highest error */
  for (c = 0; c < n_cols; c++) {
    size_t a = first + c * per_col;
    size_t e = MIN (a + per_col, r->n_frames);

    for (b = 0; b < nb; b++) {
      double p = 0.0;
      double m = 0.0;

      for (h = a; h < e; h++) {
        p += powers != NULL ? pow (10.0, powers[h * nb + b] / 10.0) : 0.0;
        m = MAX (m, (double) r->band_errors[h * nb + b]);
      }
      spec[c * nb + b] = 10.0 * log10 (p / (double) (e - a) + 1e-20);
      err[c * nb + b] = m;
      max_db = MAX (max_db, spec[c * nb + b]);
    }
  }
  /* errors relative to the threshold (the frame score is the mean of the
   * band errors), else to the mean band error */
  if (sc->threshold > 0) {
    err_ref = sc->threshold;
  } else {
    size_t k;

    err_ref = 0.0;
    for (k = 0; k < n_cols * nb; k++)
      err_ref += err[k];
    err_ref = MAX (err_ref / (double) (n_cols * nb), 1e-6);
  }
  for (c = 0; c < n_cols * nb; c++) {
    spec[c] = 1.0 + (spec[c] - max_db) / PLOT_DYNAMIC_RANGE_DB;
    err[c] = 0.5 + log10 (MAX (err[c], 1e-12) / err_ref)
        / (2.0 * PLOT_ERROR_DECADES);
    spec[c] = CLAMP (spec[c], 0.0, 1.0);
    err[c] = CLAMP (err[c], 0.0, 1.0);
  }

  /* score axis: up to twice the threshold or a little above the 99th
   * percentile, whichever is higher; higher scores are clipped */
  {
    float *sorted = g_memdup2 (r->scores + first, n * sizeof (float));

    qsort (sorted, n, sizeof (float), compare_floats_descending);
    y_max = 1.2 * sorted[n / 100];
    g_free (sorted);
  }
  if (sc->threshold > 0)
    y_max = MAX (y_max, 2.0 * sc->threshold);
  y_max = MAX (y_max, 1e-6);

  file_name = xml_escape (r->path);
  {
    gchar *score = describe_score (o);

    title = g_strdup_printf ("%s: score %.4g (%s)%s", file_name, r->score,
        score, r->segments->len > 0 ? ", anomalous" : "");
    g_free (score);
  }
  fprintf (f, "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n"
      "<svg xmlns=\"http://www.w3.org/2000/svg\" "
      "xmlns:xlink=\"http://www.w3.org/1999/xlink\" width=\"%d\" height=\"%.0f\" "
      "viewBox=\"0 0 %d %.0f\" font-family=\"sans-serif\">\n"
      "<rect width=\"100%%\" height=\"100%%\" fill=\"white\"/>\n"
      "<text x=\"%d\" y=\"20\" font-size=\"14\" font-weight=\"bold\">%s"
      "</text>\n", PLOT_WIDTH, height, PLOT_WIDTH, height, PLOT_LEFT, title);
  {
    gchar *model = xml_escape (o->model_file);

    fprintf (f, "<text x=\"%d\" y=\"38\" font-size=\"11\" fill=\"#555\">"
        "model %s, %u Hz, hop %zu, %zu bands; threshold ", PLOT_LEFT, model,
        sc->rate, sc->hop, nb);
    if (sc->threshold >= 0)
      fprintf (f, "%.4g, hold %.3g s", sc->threshold,
          (double) sc->hold_frames * sc->hop / sc->rate);
    else
      fprintf (f, "none");
    fprintf (f, "</text>\n");
    g_free (model);
  }
  g_free (title);
  g_free (file_name);

  /* panel titles */
  fprintf (f, "<g font-size=\"12\" fill=\"#222\">\n"
      "<text x=\"%d\" y=\"%.0f\">Spectrogram (band power, dB, %.0f dB "
      "range; Hz)</text>\n"
      "<text x=\"%d\" y=\"%.0f\">Reconstruction error per band (log scale, "
      "%s; bright = deviates)</text>\n"
      "<text x=\"%d\" y=\"%.0f\">Frame score (line), threshold (dashed), "
      "anomalies (shaded)</text>\n</g>\n", PLOT_LEFT, y_spec - 6,
      PLOT_DYNAMIC_RANGE_DB, PLOT_LEFT, y_err - 6, sc->threshold > 0 ?
      "mid colour = threshold" : "mid colour = mean error", PLOT_LEFT,
      y_score - 6);

  svg_heatmap (f, spec, n_cols, nb, PLOT_LEFT, y_spec, plot_w,
      PLOT_HEATMAP_HEIGHT);
  svg_heatmap (f, err, n_cols, nb, PLOT_LEFT, y_err, plot_w,
      PLOT_HEATMAP_HEIGHT);
  svg_band_axis (f, dae_model_get_band_centers (sc->model), nb, y_spec,
      PLOT_HEATMAP_HEIGHT);
  svg_band_axis (f, dae_model_get_band_centers (sc->model), nb, y_err,
      PLOT_HEATMAP_HEIGHT);

  /* score panel */
  fprintf (f, "<rect x=\"%d\" y=\"%.1f\" width=\"%.1f\" height=\"%d\" "
      "fill=\"#fafafa\" stroke=\"#999\"/>\n", PLOT_LEFT, y_score, plot_w,
      PLOT_SCORE_HEIGHT);
  for (i = 0; i < r->segments->len; i++) {
    const Segment *seg = &g_array_index (r->segments, Segment, i);
    double s0 = frame_time (sc, seg->start);
    double s1 = seg->end >= r->n_frames ? t1 : frame_time (sc, seg->end);
    double x0 = PLOT_LEFT + (s0 - t0) / (t1 - t0) * plot_w;
    double x1 = PLOT_LEFT + (s1 - t0) / (t1 - t0) * plot_w;

    x0 = CLAMP (x0, PLOT_LEFT, PLOT_LEFT + plot_w);
    x1 = CLAMP (x1, x0 + 1, PLOT_LEFT + plot_w);
    /* over all three panels */
    fprintf (f, "<rect x=\"%.1f\" y=\"%.1f\" width=\"%.1f\" height=\"%.1f\" "
        "fill=\"#ff2020\" fill-opacity=\"0.18\" stroke=\"#d00\" "
        "stroke-opacity=\"0.6\"/>\n", x0, y_spec, x1 - x0,
        y_score + PLOT_SCORE_HEIGHT - y_spec);
  }
  {
    size_t step = (n + PLOT_MAX_POINTS - 1) / PLOT_MAX_POINTS;
    gboolean first_point = TRUE;

    fprintf (f, "<polyline fill=\"none\" stroke=\"#1f4e9c\" "
        "stroke-width=\"1.2\" points=\"");
    for (h = first; h < r->n_frames; h += step) {
      size_t e = MIN (h + step, r->n_frames);
      double v = 0.0;
      size_t k;
      double x;
      double y;

      /* the highest score of the group, so that spikes stay visible */
      for (k = h; k < e; k++)
        v = MAX (v, (double) r->scores[k]);
      x = PLOT_LEFT + (frame_time (sc, h) - t0) / (t1 - t0) * plot_w;
      y = y_score + PLOT_SCORE_HEIGHT * (1.0 - MIN (v / y_max, 1.0));
      fprintf (f, "%s%.1f,%.1f", first_point ? "" : " ", x, y);
      first_point = FALSE;
    }
    fprintf (f, "\"/>\n");
  }
  if (sc->threshold >= 0 && sc->threshold <= y_max) {
    double y = y_score + PLOT_SCORE_HEIGHT * (1.0 - sc->threshold / y_max);

    fprintf (f, "<line x1=\"%d\" y1=\"%.1f\" x2=\"%.1f\" y2=\"%.1f\" "
        "stroke=\"#d00\" stroke-dasharray=\"6,4\"/>\n"
        "<text x=\"%.1f\" y=\"%.1f\" font-size=\"11\" fill=\"#d00\" "
        "text-anchor=\"end\">threshold %.4g</text>\n", PLOT_LEFT, y,
        PLOT_LEFT + plot_w, y, PLOT_LEFT + plot_w - 4, y - 4, sc->threshold);
  }
  fprintf (f, "<g font-size=\"11\" text-anchor=\"end\" fill=\"#333\">\n"
      "<text x=\"%d\" y=\"%.1f\">%.3g</text>\n<text x=\"%d\" y=\"%.1f\">0"
      "</text>\n</g>\n", PLOT_LEFT - 6, y_score + 10, y_max, PLOT_LEFT - 6,
      y_score + PLOT_SCORE_HEIGHT);

  svg_time_axis (f, PLOT_LEFT, y_spec + PLOT_HEATMAP_HEIGHT, plot_w, t0, t1,
      FALSE);
  svg_time_axis (f, PLOT_LEFT, y_err + PLOT_HEATMAP_HEIGHT, plot_w, t0, t1,
      FALSE);
  svg_time_axis (f, PLOT_LEFT, y_score + PLOT_SCORE_HEIGHT, plot_w, t0, t1,
      TRUE);
  fprintf (f, "<text x=\"%.1f\" y=\"%.1f\" font-size=\"12\" "
      "text-anchor=\"middle\">time (s)</text>\n</svg>\n",
      PLOT_LEFT + plot_w / 2, y_score + PLOT_SCORE_HEIGHT + 34);

  g_free (powers);
  g_free (spec);
  g_free (err);
  failed = ferror (f);
  if (fclose (f) != 0 || failed) {
    fprintf (stderr, PROGRAM ": cannot write %s: %s\n", o->plot,
        g_strerror (errno));
    return FALSE;
  }
  return TRUE;
}

/* ------------------------------------------------------------------------ */
/* Denoising                                                                 */

static void
put_le16 (guint8 * p, guint16 v)
{
  p[0] = (guint8) (v & 0xff);
  p[1] = (guint8) (v >> 8);
}

static void
put_le32 (guint8 * p, guint32 v)
{
  put_le16 (p, (guint16) (v & 0xffff));
  put_le16 (p + 2, (guint16) (v >> 16));
}

/* Writes 16-bit PCM mono WAV; samples are clipped to [-1, 1). */
static gboolean
write_wav (const gchar * path, const float *samples, size_t n, unsigned rate)
{
  guint8 header[44];
  guint8 *pcm;
  FILE *f;
  size_t i;
  gboolean ok;

  if (n > (G_MAXUINT32 - 36) / 2) {
    fprintf (stderr, PROGRAM ": cannot write %s: too long for a WAV file\n",
        path);
    return FALSE;
  }
  memcpy (header, "RIFF", 4);
  put_le32 (header + 4, (guint32) (36 + 2 * n));
  memcpy (header + 8, "WAVEfmt ", 8);
  put_le32 (header + 16, 16);
  put_le16 (header + 20, 1);    /* PCM */
  put_le16 (header + 22, 1);    /* mono */
  put_le32 (header + 24, rate);
  put_le32 (header + 28, rate * 2);
  put_le16 (header + 32, 2);
  put_le16 (header + 34, 16);
  memcpy (header + 36, "data", 4);
  put_le32 (header + 40, (guint32) (2 * n));

  pcm = g_malloc (MAX (2 * n, 1));
  for (i = 0; i < n; i++) {
    double v = lrint ((double) samples[i] * 32768.0);

    put_le16 (pcm + 2 * i, (guint16) (gint16) CLAMP (v, -32768, 32767));
  }
  f = g_fopen (path, "wb");
  if (f == NULL) {
    fprintf (stderr, PROGRAM ": cannot write %s: %s\n", path,
        g_strerror (errno));
    g_free (pcm);
    return FALSE;
  }
  ok = fwrite (header, 1, sizeof (header), f) == sizeof (header)
      && fwrite (pcm, 1, 2 * n, f) == 2 * n;
  if (fclose (f) != 0)
    ok = FALSE;
  if (!ok) {
    fprintf (stderr, PROGRAM ": cannot write %s: %s\n", path,
        g_strerror (errno));
    g_unlink (path);
  }
  g_free (pcm);
  return ok;
}

/* Denoises @samples into a new array of the same length, aligned with the
 * input: the processor's first latency output samples are dropped and
 * latency + a partial hop of zeros are fed at the end to flush the rest
 * out (as daedenoise does at EOS). */
static float *
denoise_samples (Scoring * sc, const float *samples, size_t n)
{
  size_t latency = dae_model_get_latency_samples (sc->model);
  size_t total = n + latency;
  size_t n_hops = (total + sc->hop - 1) / sc->hop;
  float *in = g_new0 (float, n_hops * sc->hop);
  float *out = g_new (float, n_hops * sc->hop);
  float *result;
  size_t h;

  memcpy (in, samples, n * sizeof (float));
  dae_processor_reset (sc->proc);
  for (h = 0; h < n_hops; h++) {
    if (dae_processor_process (sc->proc, in + h * sc->hop,
            out + h * sc->hop, NULL) != DAE_OK) {
      g_free (in);
      g_free (out);
      return NULL;
    }
  }
  result = g_memdup2 (out + latency, n * sizeof (float));
  g_free (in);
  g_free (out);
  return result;
}

/* ------------------------------------------------------------------------ */
/* Command line                                                              */

static GOptionContext *
make_option_context (Options * o)
{
  GOptionEntry entries[] = {
    {"model", 'm', 0, G_OPTION_ARG_FILENAME, &o->model_file,
        "Model file (required)", "FILE"},
    {"frames", 0, 0, G_OPTION_ARG_NONE, &o->frames,
        "Print every frame's score and debounced state instead of one line "
          "per file (JSON: added to each file)", NULL},
    {"bands", 0, 0, G_OPTION_ARG_NONE, &o->bands,
        "With --frames, also each frame's per-band errors", NULL},
    {"csv", 0, 0, G_OPTION_ARG_NONE, &o->csv,
        "Comma-separated output with a header line", NULL},
    {"json", 0, 0, G_OPTION_ARG_NONE, &o->json, "JSON output", NULL},
    {"plot", 0, 0, G_OPTION_ARG_FILENAME, &o->plot,
          "Draw the (one) input's spectrogram, per-band errors, frame score, "
          "threshold and anomaly segments into an SVG file",
        "FILE.svg"},
    {"threshold", 0, 0, G_OPTION_ARG_DOUBLE, &o->threshold,
          "Frame-score threshold (default: the one calibrated into the "
          "model)",
        "SCORE"},
    {"hold", 0, 0, G_OPTION_ARG_DOUBLE, &o->hold,
          "Seconds the score must stay above (below) the threshold before "
          "an anomaly starts (ends); default 0.2, as daedenoise's "
          "anomaly-hold",
        "SECONDS"},
    {"score", 0, 0, G_OPTION_ARG_STRING, &o->score_kind_name,
          "File score: bands (default), frames or mean (see above)",
        "KIND"},
    {"top-fraction", 0, 0, G_OPTION_ARG_DOUBLE, &o->top_fraction,
          "Share of the bands (--score bands, default 1/16) or of the "
          "frames (--score frames, default 0.1) averaged, (0, 1]",
        "F"},
    {"denoise", 0, 0, G_OPTION_ARG_NONE, &o->denoise,
          "Denoise: the two arguments are IN and OUT.wav; writes 16-bit mono "
          "WAV at the model's rate, as many samples as IN has (after "
          "resampling), aligned with IN",
        NULL},
    {"attenuation-limit", 0, 0, G_OPTION_ARG_DOUBLE, &o->attenuation_limit,
          "With --denoise: the most a band is attenuated, 0 to 100 dB "
          "(default 100 = no limit)",
        "DB"},
    {"float", 0, 0, G_OPTION_ARG_NONE, &o->float_arithmetic,
          "Run the network in float throughout, as in training (default on "
          "x86-64 with AVX2: 8-bit weights for the recurrent layers, two to "
          "three times faster, within 8-bit rounding of float)",
        NULL},
    {"version", 0, 0, G_OPTION_ARG_NONE, &o->version,
        "Print the library version and exit", NULL},
    {G_OPTION_REMAINING, 0, 0, G_OPTION_ARG_FILENAME_ARRAY, &o->inputs,
        NULL, "SRC..."},
    {NULL}
  };
  GOptionContext *context;

  context = g_option_context_new ("- score audio with a dae model");
  g_option_context_set_summary (context,
      "  dae-score -m model.dae [--frames] [--csv|--json] SRC...\n"
      "  dae-score -m model.dae --plot out.svg FILE\n"
      "  dae-score -m model.dae --denoise IN OUT.wav\n\n"
      "A SRC is an audio file in any format GStreamer can decode, a "
      "directory\n(searched recursively for audio files) or @LIST, a text "
      "file naming one\npath per line.  Audio is decoded to mono at the "
      "model's rate and run hop\nby hop through the same processor as the "
      "daedenoise element.\n\n"
      "Band error: the squared error between the model's reconstruction "
      "(or\nprediction) of a band and the band's (normalised) feature, "
      "divided by the\nmodel's error scale for the band (the mean error of "
      "held-out normal audio,\nfor models trained by dae-train anomaly), so "
      "that about 1 is normal.\nFrame score: the mean of the band errors; "
      "the first window/hop frames of a\nfile, while the analysis window "
      "fills, are not scored.\n"
      "File score (--score):\n"
      "  bands   (default) each band's mean error over the file, then the "
      "mean of the\n          highest 1/16 of those (--top-fraction): a "
      "machine that deviates in\n          a few bands for the whole file "
      "scores high, as does one with\n          frequent short events\n"
      "  frames  the mean of the highest 10 % (--top-fraction) of the frame "
      "scores\n"
      "  mean    the mean frame score\n"
      "Anomaly segments: where the frame score stays above the threshold "
      "for\n--hold seconds (daedenoise's detector); a segment starts at the "
      "first frame\nabove the threshold and ends at the first frame back "
      "below it.  Frame\ntimes are the centres of the frames' analysis "
      "windows.");
  g_option_context_set_description (context,
      "Output: one line per file (file, score, max and mean frame score, "
      "frames,\nshare of frames above the threshold, anomaly segments, the "
      "centre of the\nband that deviates most), or with --frames one line "
      "per frame (time,\nscore, debounced state).  CSV and JSON add the "
      "band and frame scores,\nthe audio and processing CPU seconds, and "
      "JSON every band's mean error.\n\n"
      "Exit status: 0 ok, 1 runtime failure (unreadable model or input, "
      "unwritable\noutput; the other inputs are still scored), 2 usage "
      "error.\n");
  g_option_context_add_main_entries (context, entries, NULL);
  return context;
}

static void
options_clear (Options * o)
{
  g_free (o->model_file);
  g_free (o->score_kind_name);
  g_free (o->plot);
  g_strfreev (o->inputs);
}

static gboolean
check_options (const Options * o)
{
  guint n_inputs = o->inputs != NULL ? g_strv_length (o->inputs) : 0;

  if (o->model_file == NULL)
    return usage_error ("--model (-m) is required");
  if (o->csv && o->json)
    return usage_error ("give --csv or --json, not both");
  if (o->bands && !o->frames)
    return usage_error ("--bands goes with --frames");
  if (!isnan (o->threshold) && !(o->threshold >= 0 && isfinite (o->threshold)))
    return usage_error ("--threshold must be a finite number >= 0");
  if (!(o->hold >= 0 && o->hold <= 3600))
    return usage_error ("--hold must be 0 to 3600 seconds");
  if (!(isnan (o->top_fraction) || (o->top_fraction > 0
              && o->top_fraction <= 1)))
    return usage_error ("--top-fraction must be in (0, 1]");
  if (o->score_kind == SCORE_MEAN && !isnan (o->top_fraction))
    return usage_error ("--top-fraction goes with --score bands or frames");
  if (!isnan (o->attenuation_limit) && !o->denoise)
    return usage_error ("--attenuation-limit goes with --denoise");
  if (o->denoise) {
    if (n_inputs != 2)
      return usage_error ("--denoise takes two arguments, IN and OUT.wav");
    if (o->frames || o->csv || o->json || o->plot != NULL)
      return usage_error ("--denoise writes audio; it does not go with "
          "--frames, --csv, --json or --plot");
    if (!isnan (o->attenuation_limit) && !(o->attenuation_limit >= 0
            && o->attenuation_limit <= 100))
      return usage_error ("--attenuation-limit must be 0 to 100 dB");
    return TRUE;
  }
  if (n_inputs == 0)
    return usage_error ("no input files");
  if (o->plot != NULL && n_inputs != 1)
    return usage_error ("--plot draws one input file (%u given)", n_inputs);
  return TRUE;
}

static gboolean
setup_scoring (Scoring * sc, const Options * o)
{
  DaeError error;
  DaeStatus status;
  float model_threshold;

  memset (sc, 0, sizeof (*sc));
  status = dae_model_load_file (o->model_file, &sc->model, &error);
  if (status != DAE_OK) {
    /* the library's message names the file */
    fprintf (stderr, PROGRAM ": %s\n", error.message);
    return FALSE;
  }
  status = dae_processor_new (sc->model, &sc->proc);
  if (status != DAE_OK) {
    fprintf (stderr, PROGRAM ": %s: cannot create a processor: %s\n",
        o->model_file, dae_status_to_string (status));
    return FALSE;
  }
  sc->rate = dae_model_get_sample_rate (sc->model);
  sc->hop = dae_model_get_hop_samples (sc->model);
  sc->window = dae_model_get_window_samples (sc->model);
  sc->n_bands = dae_model_get_n_bands (sc->model);
  sc->hold_frames = MAX ((size_t) lround (o->hold * sc->rate / sc->hop), 1);

  model_threshold = dae_model_get_anomaly_threshold (sc->model);
  sc->threshold = -1.0;
  if (!isnan (o->threshold)) {
    sc->threshold = o->threshold;
  } else if (model_threshold >= 0) {
    sc->threshold = model_threshold;
    sc->threshold_from_model = TRUE;
  }
  if (sc->threshold >= 0) {
    status = dae_scorer_new (sc->threshold, sc->hold_frames, 1, &sc->scorer);
    if (status != DAE_OK) {
      fprintf (stderr, PROGRAM ": cannot create a scorer: %s\n",
          dae_status_to_string (status));
      return FALSE;
    }
  }
  if (o->float_arithmetic
      && dae_processor_set_arithmetic (sc->proc, DAE_ARITHMETIC_FLOAT)
      != DAE_OK)
    return FALSE;
  if (o->denoise && !isnan (o->attenuation_limit)
      && dae_processor_set_attenuation_limit (sc->proc,
          o->attenuation_limit) != DAE_OK)
    return FALSE;
  return TRUE;
}

static void
clear_scoring (Scoring * sc)
{
  dae_scorer_free (sc->scorer);
  dae_processor_free (sc->proc);
  dae_model_unref (sc->model);
}

static int
run_denoise (Scoring * sc, const Options * o)
{
  const gchar *in_path = o->inputs[0];
  const gchar *out_path = o->inputs[1];
  GError *gerror = NULL;
  GArray *samples;
  float *denoised;
  gboolean ok;

  samples = dae_tool_decode_file (in_path, sc->rate, 0, NULL, &gerror);
  if (samples == NULL) {
    fprintf (stderr, PROGRAM ": %s: %s\n", in_path, gerror->message);
    g_clear_error (&gerror);
    return EXIT_FAILURE_RUNTIME;
  }
  denoised = denoise_samples (sc, (const float *) samples->data, samples->len);
  if (denoised == NULL) {
    fprintf (stderr, PROGRAM ": %s: processing failed\n", in_path);
    g_array_unref (samples);
    return EXIT_FAILURE_RUNTIME;
  }
  ok = write_wav (out_path, denoised, samples->len, sc->rate);
  if (ok)
    fprintf (stderr, PROGRAM ": wrote %s (%u samples at %u Hz, latency %zu "
        "samples compensated, %s network)\n", out_path, samples->len,
        sc->rate, dae_model_get_latency_samples (sc->model),
        dae_processor_get_arithmetic (sc->proc) == DAE_ARITHMETIC_INT8 ?
        "8-bit" : "float");
  g_free (denoised);
  g_array_unref (samples);
  return ok ? EXIT_OK : EXIT_FAILURE_RUNTIME;
}

static int
run_scoring (Scoring * sc, const Options * o)
{
  GPtrArray *files = dae_tool_collect_files (o->inputs);
  gboolean first_file = TRUE;
  int ret = EXIT_OK;
  guint i;

  if (files->len == 0) {
    fprintf (stderr, PROGRAM ": no audio files found\n");
    g_ptr_array_unref (files);
    return EXIT_FAILURE_RUNTIME;
  }
  print_header (sc, o);
  for (i = 0; i < files->len; i++) {
    const gchar *path = g_ptr_array_index (files, i);
    GError *gerror = NULL;
    GArray *samples;
    FileResult r;

    samples = dae_tool_decode_file (path, sc->rate, 0, NULL, &gerror);
    if (samples == NULL) {
      fprintf (stderr, PROGRAM ": %s: %s\n", path, gerror->message);
      g_clear_error (&gerror);
      ret = EXIT_FAILURE_RUNTIME;
      continue;
    }
    memset (&r, 0, sizeof (r));
    r.path = path;
    if (!score_samples (sc, o, (const float *) samples->data, samples->len,
            o->bands || o->plot != NULL, &r)) {
      fprintf (stderr, PROGRAM ": %s: processing failed\n", path);
      ret = EXIT_FAILURE_RUNTIME;
    } else {
      if (r.n_frames <= r.first)
        fprintf (stderr, PROGRAM ": %s: too short to score (%zu samples; "
            "a score needs more than %zu)\n", path, r.n_samples,
            (r.first + 1) * sc->hop - 1);
      print_result (sc, o, &r, first_file);
      first_file = FALSE;
      if (o->plot != NULL && !write_plot (sc, o, &r,
              (const float *) samples->data))
        ret = EXIT_FAILURE_RUNTIME;
    }
    file_result_clear (&r);
    g_array_unref (samples);
    fflush (stdout);
  }
  if (o->json)
    printf ("\n  ]\n}\n");
  g_ptr_array_unref (files);
  return ret;
}

int
main (int argc, char **argv)
{
  Options options;
  GOptionContext *context;
  GError *gerror = NULL;
  Scoring scoring;
  gchar **args;
  int ret;

  dae_tool_program = PROGRAM;
  memset (&options, 0, sizeof (options));
  options.threshold = NAN;
  options.hold = DEFAULT_HOLD_SECONDS;
  options.top_fraction = NAN;
  options.attenuation_limit = NAN;

  context = make_option_context (&options);
  args = g_strdupv (argv);
  if (!g_option_context_parse_strv (context, &args, &gerror)) {
    usage_error ("%s", gerror->message);
    g_clear_error (&gerror);
    g_option_context_free (context);
    g_strfreev (args);
    options_clear (&options);
    return EXIT_USAGE;
  }
  g_option_context_free (context);
  g_strfreev (args);

  if (options.version) {
    printf (PROGRAM " %s\n", dae_version_string ());
    options_clear (&options);
    return EXIT_OK;
  }
  if (options.score_kind_name == NULL
      || strcmp (options.score_kind_name, "bands") == 0) {
    options.score_kind = SCORE_BANDS;
  } else if (strcmp (options.score_kind_name, "frames") == 0) {
    options.score_kind = SCORE_FRAMES;
  } else if (strcmp (options.score_kind_name, "mean") == 0) {
    options.score_kind = SCORE_MEAN;
  } else {
    usage_error ("--score must be bands, frames or mean, not '%s'",
        options.score_kind_name);
    options_clear (&options);
    return EXIT_USAGE;
  }
  if (!check_options (&options)) {
    options_clear (&options);
    return EXIT_USAGE;
  }
  if (isnan (options.top_fraction))
    options.top_fraction = options.score_kind == SCORE_BANDS ?
        DEFAULT_TOP_BANDS : DEFAULT_TOP_FRAMES;
  if (!gst_init_check (NULL, NULL, &gerror)) {
    fprintf (stderr, PROGRAM ": cannot initialise GStreamer: %s\n",
        gerror->message);
    g_clear_error (&gerror);
    options_clear (&options);
    return EXIT_FAILURE_RUNTIME;
  }
  if (!setup_scoring (&scoring, &options)) {
    clear_scoring (&scoring);
    options_clear (&options);
    return EXIT_FAILURE_RUNTIME;
  }
  if (options.denoise)
    ret = run_denoise (&scoring, &options);
  else
    ret = run_scoring (&scoring, &options);
  clear_scoring (&scoring);
  options_clear (&options);
  return ret;
}
