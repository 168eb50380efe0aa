/* daedenoise hardening tests: model-file faults at the right state change,
 * hostile input (NaN, Inf, denormals, full-scale square waves, DC, long
 * silence, 1-sample and 10-second buffers, timestamps jumping back and
 * forth, missing timestamps)
 * Copyright (C) 2026 The dae authors
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */

#include <float.h>
#include <math.h>
#include <string.h>
#include <unistd.h>

#include <glib/gstdio.h>
#include <gst/gst.h>
#include <gst/audio/audio.h>
#include <gst/check/gstharness.h>

#include "../test-element-checks.h"
#include "../test-valgrind.h"
#include <dae/dae.h>

#define TEST_MODEL_16K TEST_MODEL_DIR "/model-vad-16k.dae"
#define TEST_MODEL_44K TEST_MODEL_DIR "/model-44k.dae"

/* ------------------------------------------------------------------------ */
/* Model-file faults                                                         */

static gchar *
copy_model_to (const gchar * dir, const gchar * name)
{
  gchar *path = g_build_filename (dir, name, NULL);
  gchar *contents;
  gsize size;

  g_assert_true (g_file_get_contents (TEST_MODEL_16K, &contents, &size, NULL));
  g_assert_true (g_file_set_contents (path, contents, size, NULL));
  g_free (contents);
  return path;
}

/* The element goes to READY (no model loaded yet), fault () breaks the
 * file, READY -> PAUSED must fail with a RESOURCE/OPEN_READ error naming
 * the path and containing detail; the element must then work with a good
 * file. */
static void
check_state_change_fails (const gchar * path, const gchar * detail)
{
  GstElement *element = gst_element_factory_make ("daedenoise", NULL);
  GstBus *bus = gst_bus_new ();
  GstMessage *msg;
  GError *err = NULL;
  gchar *debug = NULL;

  gst_element_set_bus (element, bus);
  g_object_set (element, "model-file", path, NULL);
  g_assert_cmpint (gst_element_set_state (element, GST_STATE_PAUSED), ==,
      GST_STATE_CHANGE_FAILURE);
  msg = gst_bus_pop_filtered (bus, GST_MESSAGE_ERROR);
  g_assert_nonnull (msg);
  gst_message_parse_error (msg, &err, &debug);
  g_test_message ("%s: %s", err->message, debug);
  g_assert_true (g_error_matches (err, GST_RESOURCE_ERROR,
          GST_RESOURCE_ERROR_OPEN_READ));
  g_assert_nonnull (strstr (err->message, path));
  if (detail != NULL)
    g_assert_nonnull (strstr (err->message, detail));
  g_clear_error (&err);
  g_free (debug);
  gst_message_unref (msg);
  g_assert_null (gst_bus_pop_filtered (bus, GST_MESSAGE_ERROR));

  /* recovers: a good file, and it goes to PLAYING */
  g_assert_cmpint (gst_element_set_state (element, GST_STATE_NULL), ==,
      GST_STATE_CHANGE_SUCCESS);
  g_object_set (element, "model-file", TEST_MODEL_16K, NULL);
  g_assert_cmpint (gst_element_set_state (element, GST_STATE_PAUSED), !=,
      GST_STATE_CHANGE_FAILURE);
  g_assert_cmpint (gst_element_set_state (element, GST_STATE_NULL), ==,
      GST_STATE_CHANGE_SUCCESS);

  gst_element_set_bus (element, NULL);
  gst_object_unref (bus);
  gst_object_unref (element);
}

static void
test_model_vanished (void)
{
  gchar *dir = g_dir_make_tmp ("dae-faults-XXXXXX", NULL);
  gchar *path = copy_model_to (dir, "model.dae");
  GstElement *element = gst_element_factory_make ("daedenoise", NULL);
  GstBus *bus = gst_bus_new ();
  GstMessage *msg;
  GError *err = NULL;

  g_test_summary ("A model file that disappears after model-file is set "
      "and the element is READY: READY -> PAUSED fails with an OPEN_READ "
      "error naming the file and the system's reason");
  gst_element_set_bus (element, bus);
  g_object_set (element, "model-file", path, NULL);
  g_assert_cmpint (gst_element_set_state (element, GST_STATE_READY), ==,
      GST_STATE_CHANGE_SUCCESS);
  g_assert_cmpint (g_remove (path), ==, 0);
  g_assert_cmpint (gst_element_set_state (element, GST_STATE_PAUSED), ==,
      GST_STATE_CHANGE_FAILURE);
  msg = gst_bus_pop_filtered (bus, GST_MESSAGE_ERROR);
  g_assert_nonnull (msg);
  gst_message_parse_error (msg, &err, NULL);
  g_assert_true (g_error_matches (err, GST_RESOURCE_ERROR,
          GST_RESOURCE_ERROR_OPEN_READ));
  g_assert_nonnull (strstr (err->message, path));
  g_assert_nonnull (strstr (err->message, "No such file"));
  g_clear_error (&err);
  gst_message_unref (msg);
  gst_element_set_state (element, GST_STATE_NULL);
  gst_element_set_bus (element, NULL);
  gst_object_unref (bus);
  gst_object_unref (element);

  g_rmdir (dir);
  g_free (path);
  g_free (dir);
}

static void
test_model_unreadable (void)
{
  gchar *dir = g_dir_make_tmp ("dae-faults-XXXXXX", NULL);
  gchar *path = copy_model_to (dir, "model.dae");

  g_test_summary ("An unreadable model file (mode 000) fails READY -> "
      "PAUSED with an OPEN_READ error; skipped when the process can read "
      "it anyway (root)");
  g_assert_cmpint (g_chmod (path, 0), ==, 0);
  if (access (path, R_OK) == 0)
    g_test_skip ("running as root: mode 000 does not prevent reading");
  else
    check_state_change_fails (path, "Permission denied");
  g_remove (path);
  g_rmdir (dir);
  g_free (path);
  g_free (dir);
}

static void
test_model_not_a_file (void)
{
  gchar *dir = g_dir_make_tmp ("dae-faults-XXXXXX", NULL);
  gchar *inside = g_build_filename ("/dev/null", "model.dae", NULL);

  g_test_summary ("A directory, a device and a path through a non-directory "
      "as model-file: OPEN_READ errors at READY -> PAUSED (also as root)");
  check_state_change_fails (dir, "not a regular file");
  check_state_change_fails ("/dev/zero", "not a regular file");
  check_state_change_fails (inside, "Not a directory");
  g_rmdir (dir);
  g_free (inside);
  g_free (dir);
}

static void
test_model_truncated (void)
{
  gchar *dir = g_dir_make_tmp ("dae-faults-XXXXXX", NULL);
  gchar *path = g_build_filename (dir, "model.dae", NULL);
  gchar *contents;
  gsize size;

  g_test_summary ("Truncated model files (header, record table, payload) "
      "fail READY -> PAUSED with an OPEN_READ error saying so");
  g_assert_true (g_file_get_contents (TEST_MODEL_16K, &contents, &size, NULL));
  g_assert_true (g_file_set_contents (path, contents, 100, NULL));
  check_state_change_fails (path, "truncated");
  g_assert_true (g_file_set_contents (path, contents, 300, NULL));
  check_state_change_fails (path, "truncated");
  g_assert_true (g_file_set_contents (path, contents, size - 1, NULL));
  check_state_change_fails (path, "truncated");
  g_assert_true (g_file_set_contents (path, contents, 0, NULL));
  check_state_change_fails (path, "truncated");
  g_remove (path);
  g_rmdir (dir);
  g_free (contents);
  g_free (path);
  g_free (dir);
}

/* A real pipeline whose source can only produce 16 kHz, with a 44.1 kHz
 * model: READY -> PAUSED succeeds (the model is valid) and negotiation
 * fails: the pipeline stops with not-negotiated.  When the caps reach the
 * element (an ACCEPT_CAPS query, as below with the harness) it also posts
 * a warning naming both rates; when the source finds out from the CAPS
 * query alone, as here, only the upstream not-negotiated error is posted
 * (reported: the element could explain that case too). */
static void
test_model_wrong_rate (void)
{
  GError *gerror = NULL;
  GstElement *pipeline = gst_parse_launch ("audiotestsrc num-buffers=20 ! "
      "audio/x-raw,format=F32LE,rate=16000,channels=1 ! "
      "daedenoise name=dae model-file=" TEST_MODEL_44K " ! fakesink",
      &gerror);
  GstHarness *h;
  GstBus *bus;
  GstMessage *msg;
  GstBuffer *buf;
  GError *err = NULL;
  gchar *debug = NULL;
  gboolean failed = FALSE;

  g_test_summary ("A 44.1 kHz model with 16 kHz input: READY -> PAUSED "
      "succeeds, negotiation fails (not-negotiated); caps offered to the "
      "element get a warning naming 16000 and 44100 Hz");
  g_assert_no_error (gerror);
  bus = gst_element_get_bus (pipeline);
  g_assert_cmpint (gst_element_set_state (pipeline, GST_STATE_PLAYING), !=,
      GST_STATE_CHANGE_FAILURE);
  while (!failed && (msg = gst_bus_timed_pop_filtered (bus, 10 * GST_SECOND,
              GST_MESSAGE_ERROR | GST_MESSAGE_WARNING | GST_MESSAGE_EOS))) {
    g_assert_cmpint (GST_MESSAGE_TYPE (msg), !=, GST_MESSAGE_EOS);
    if (GST_MESSAGE_TYPE (msg) == GST_MESSAGE_WARNING) {
      gst_message_parse_warning (msg, &err, NULL);
      g_assert_nonnull (strstr (err->message, "44100"));
    } else {
      gst_message_parse_error (msg, &err, &debug);
      g_assert_nonnull (debug);
      g_assert_nonnull (strstr (debug, "not-negotiated"));
      g_clear_pointer (&debug, g_free);
      failed = TRUE;
    }
    g_clear_error (&err);
    gst_message_unref (msg);
  }
  g_assert_true (failed);
  gst_element_set_state (pipeline, GST_STATE_NULL);
  gst_object_unref (bus);
  gst_object_unref (pipeline);

  /* the caps themselves offered to the element */
  h = gst_harness_new_parse ("daedenoise model-file=" TEST_MODEL_44K);
  bus = gst_bus_new ();
  gst_element_set_bus (h->element, bus);
  gst_harness_set_src_caps_str (h, "audio/x-raw, format=F32LE, "
      "layout=interleaved, rate=16000, channels=1");
  buf = gst_buffer_new_allocate (NULL, 1600 * 4, NULL);
  gst_buffer_memset (buf, 0, 0, 1600 * 4);
  g_assert_cmpint (gst_harness_push (h, buf), ==, GST_FLOW_NOT_NEGOTIATED);
  msg = gst_bus_pop_filtered (bus, GST_MESSAGE_WARNING);
  g_assert_nonnull (msg);
  gst_message_parse_warning (msg, &err, NULL);
  g_assert_true (g_error_matches (err, GST_CORE_ERROR,
          GST_CORE_ERROR_NEGOTIATION));
  g_assert_nonnull (strstr (err->message, "16000"));
  g_assert_nonnull (strstr (err->message, "44100"));
  g_clear_error (&err);
  gst_message_unref (msg);
  g_assert_null (gst_bus_pop_filtered (bus, GST_MESSAGE_ERROR));
  gst_element_set_bus (h->element, NULL);
  gst_object_unref (bus);
  gst_harness_teardown (h);
}

/* ------------------------------------------------------------------------ */
/* Hostile input                                                             */

typedef enum
{
  INPUT_NAN,
  INPUT_INF,
  INPUT_DENORMAL,
  INPUT_SQUARE,
  INPUT_DC,
  INPUT_HUGE,
  INPUT_NOISE
} InputKind;

typedef enum
{
  TS_CONTINUOUS,
  TS_JUMPING,                   /* back and forth by up to a second */
  TS_MISSING,                   /* no timestamps at all */
  TS_SOME_MISSING               /* every other buffer without */
} TimestampMode;

typedef struct
{
  const gchar *name;
  const gchar *format;
  gint rate;
  gint channels;
  InputKind input;
  TimestampMode ts;
  /* buffer sizes in samples: 0 = random 1 to 4096 */
  gsize buffer_samples;
  gdouble seconds;
} HostileCase;

static const HostileCase hostile_cases[] = {
  {"nan", "F32LE", 16000, 2, INPUT_NAN, TS_CONTINUOUS, 0, 3.0},
  {"inf", "F32LE", 48000, 1, INPUT_INF, TS_CONTINUOUS, 0, 3.0},
  {"denormal", "F32LE", 16000, 3, INPUT_DENORMAL, TS_CONTINUOUS, 0, 3.0},
  {"square-full-scale/f32", "F32LE", 48000, 2, INPUT_SQUARE,
      TS_CONTINUOUS, 0, 3.0},
  {"square-full-scale/s16", "S16LE", 16000, 2, INPUT_SQUARE,
      TS_CONTINUOUS, 0, 3.0},
  {"dc/f32", "F32LE", 16000, 1, INPUT_DC, TS_CONTINUOUS, 0, 3.0},
  {"dc/s16", "S16LE", 48000, 8, INPUT_DC, TS_CONTINUOUS, 0, 2.0},
  {"huge", "F32LE", 16000, 2, INPUT_HUGE, TS_CONTINUOUS, 0, 2.0},
  {"buffers-1-sample", "F32LE", 16000, 2, INPUT_NOISE, TS_CONTINUOUS, 1,
      0.25},
  {"buffers-10-s", "F32LE", 48000, 2, INPUT_NOISE, TS_CONTINUOUS, 480000,
      20.0},
  {"timestamps-jumping", "F32LE", 16000, 2, INPUT_NOISE, TS_JUMPING, 0, 4.0},
  {"timestamps-missing", "S16LE", 16000, 1, INPUT_NOISE, TS_MISSING, 0, 3.0},
  {"timestamps-some-missing", "F32LE", 48000, 2, INPUT_NOISE,
      TS_SOME_MISSING, 0, 3.0},
};

static gfloat
input_value (InputKind kind, guint64 t, guint32 * rng)
{
  *rng = *rng * 1664525u + 1013904223u;
  switch (kind) {
    case INPUT_NAN:
      return (*rng >> 28) == 0 ? NAN : 0.3f * ((gfloat) (*rng >> 8) /
          16777216.0f - 0.5f);
    case INPUT_INF:
      return (*rng >> 28) == 0 ? ((*rng & 1) ? INFINITY : -INFINITY) : 0.1f;
    case INPUT_DENORMAL:
      return (t % 2 ? 1.0f : -1.0f) * FLT_MIN * 1e-4f * (gfloat) (t % 9);
    case INPUT_SQUARE:
      return (t / 50) % 2 ? 1.0f : -1.0f;
    case INPUT_DC:
      return 1.0f;
    case INPUT_HUGE:
      return (t % 2 ? 1.0f : -1.0f) * 1e30f;
    default:
      return 0.5f * ((gfloat) (*rng >> 8) / 16777216.0f - 0.5f);
  }
}

typedef struct
{
  guint64 n_out;
  guint n_buffers;
  GstClockTime last_end;
  gboolean have_last;
  guint n_anomaly_messages;
} Counts;

static void
pull_output (GstHarness * h, const HostileCase * c, Counts * counts)
{
  gsize bpf = c->channels * (g_str_equal (c->format, "S16LE") ? 2 : 4);
  GstBuffer *buf;

  while ((buf = gst_harness_try_pull (h)) != NULL) {
    GstMapInfo map;
    gsize n;

    g_assert_true (gst_buffer_map (buf, &map, GST_MAP_READ));
    g_assert_cmpuint (map.size % bpf, ==, 0);
    n = map.size / bpf;
    if (bpf == (gsize) c->channels * 4) {
      const gfloat *x = (const gfloat *) map.data;
      gsize i;

      for (i = 0; i < n * c->channels; i++) {
        if (G_UNLIKELY (!isfinite (x[i])))
          g_error ("output sample %" G_GSIZE_FORMAT " not finite", i);
      }
    }
    gst_buffer_unmap (buf, &map);
    g_assert_true (GST_BUFFER_DURATION_IS_VALID (buf));
    if (c->ts == TS_MISSING) {
      g_assert_false (GST_BUFFER_PTS_IS_VALID (buf));
    } else if (GST_BUFFER_PTS_IS_VALID (buf)) {
      /* a buffer continues the previous one unless it is marked */
      if (counts->have_last && !GST_BUFFER_IS_DISCONT (buf))
        g_assert_cmpuint (GST_BUFFER_PTS (buf), ==, counts->last_end);
      counts->last_end = GST_BUFFER_PTS (buf) + GST_BUFFER_DURATION (buf);
      counts->have_last = TRUE;
    }
    dae_check_meta (buf, TRUE);
    counts->n_out += n;
    counts->n_buffers++;
    gst_buffer_unref (buf);
  }
}

/* Every dae-anomaly message carries finite numbers; no errors; returns
 * the number of warnings. */
static guint
check_messages (GstBus * bus, Counts * counts)
{
  GstMessage *msg;
  guint warnings = 0;

  while ((msg = gst_bus_pop (bus)) != NULL) {
    const GstStructure *s = gst_message_get_structure (msg);

    g_assert_cmpint (GST_MESSAGE_TYPE (msg), !=, GST_MESSAGE_ERROR);
    if (GST_MESSAGE_TYPE (msg) == GST_MESSAGE_WARNING)
      warnings++;
    if (GST_MESSAGE_TYPE (msg) == GST_MESSAGE_ELEMENT &&
        gst_structure_has_name (s, "dae-anomaly")) {
      dae_check_anomaly_message (s);
      counts->n_anomaly_messages++;
    }
    gst_message_unref (msg);
  }
  return warnings;
}

static void
test_hostile (gconstpointer user_data)
{
  const HostileCase *c = user_data;
  gboolean s16 = g_str_equal (c->format, "S16LE");
  gsize bpf = c->channels * (s16 ? 2 : 4);
  guint64 total = (guint64) (dae_test_valgrind_seconds (c->seconds,
          (gdouble) c->buffer_samples / c->rate) * c->rate);
  GstHarness *h = gst_harness_new ("daedenoise");
  GstBus *bus = gst_bus_new ();
  GRand *rand = g_rand_new_with_seed (42);
  Counts counts = { 0, };
  guint32 rng = 7;
  guint64 pushed = 0;
  guint n_pushed = 0;
  guint warnings = 0;
  gchar *caps;

  g_test_summary ("Hostile input through the element: every input sample "
      "comes out (counted after EOS), F32 output is finite, buffers "
      "without DISCONT are contiguous, the anomaly meta and dae-anomaly "
      "messages carry finite scores, no error message");

  gst_element_set_bus (h->element, bus);
  g_object_set (h->element, "interval", 20 * GST_MSECOND,
      "anomaly-threshold", 0.5, NULL);
  caps = g_strdup_printf ("audio/x-raw, format=%s, layout=interleaved, "
      "rate=%d, channels=%d%s", c->format, c->rate, c->channels,
      c->channels > 2 ? ", channel-mask=(bitmask)0" : "");
  gst_harness_set_src_caps_str (h, caps);
  g_free (caps);

  while (pushed < total) {
    gsize n = c->buffer_samples > 0 ? c->buffer_samples :
        (gsize) g_rand_int_range (rand, 1, 4097);
    GstBuffer *buf;
    GstMapInfo map;
    GstClockTime pts = gst_util_uint64_scale_int_round (pushed, GST_SECOND,
        c->rate);
    gsize i;

    n = MIN (n, total - pushed);
    buf = gst_buffer_new_allocate (NULL, n * bpf, NULL);
    gst_buffer_map (buf, &map, GST_MAP_WRITE);
    for (i = 0; i < n * c->channels; i++) {
      gfloat v = input_value (c->input, pushed + i / c->channels, &rng);

      if (s16)
        ((gint16 *) map.data)[i] = (gint16) (isfinite (v) ?
            CLAMP (lrintf (CLAMP (v, -2.0f, 2.0f) * 32768.0f), -32768,
                32767) : 0);
      else
        ((gfloat *) map.data)[i] = v;
    }
    gst_buffer_unmap (buf, &map);

    switch (c->ts) {
      case TS_JUMPING:
        /* alternately a second back and a second and a half forward */
        if (n_pushed % 3 == 1)
          pts = pts > GST_SECOND ? pts - GST_SECOND : 0;
        else if (n_pushed % 3 == 2)
          pts += 3 * GST_SECOND / 2;
        GST_BUFFER_PTS (buf) = pts;
        break;
      case TS_MISSING:
        GST_BUFFER_PTS (buf) = GST_CLOCK_TIME_NONE;
        break;
      case TS_SOME_MISSING:
        GST_BUFFER_PTS (buf) = n_pushed % 2 ? GST_CLOCK_TIME_NONE : pts;
        break;
      default:
        GST_BUFFER_PTS (buf) = pts;
        break;
    }
    GST_BUFFER_DURATION (buf) = gst_util_uint64_scale_int_round (n,
        GST_SECOND, c->rate);
    g_assert_cmpint (gst_harness_push (h, buf), ==, GST_FLOW_OK);
    pushed += n;
    n_pushed++;
    pull_output (h, c, &counts);
    warnings += check_messages (bus, &counts);
  }
  g_assert_true (gst_harness_push_event (h, gst_event_new_eos ()));
  pull_output (h, c, &counts);
  warnings += check_messages (bus, &counts);

  g_test_message ("%s: %" G_GUINT64_FORMAT " samples in %u buffers -> %"
      G_GUINT64_FORMAT " in %u, %u dae-anomaly messages, %u warnings",
      c->name, pushed, n_pushed, counts.n_out, counts.n_buffers,
      counts.n_anomaly_messages, warnings);
  g_assert_cmpuint (counts.n_out, ==, pushed);
  g_assert_cmpuint (counts.n_anomaly_messages, >, 0);
  /* NaN/Inf input is reported once, nothing else warns */
  g_assert_cmpuint (warnings, ==, c->input == INPUT_NAN
      || c->input == INPUT_INF ? 1 : 0);

  g_rand_free (rand);
  gst_element_set_bus (h->element, NULL);
  gst_object_unref (bus);
  gst_harness_teardown (h);
}

static void
test_before_segment (void)
{
  GstHarness *h = gst_harness_new ("daedenoise");
  GstSegment segment;
  guint64 pushed = 0;
  guint64 out = 0;
  GstBuffer *buf;
  guint i;

  g_test_summary ("Buffers that start before the segment (as after an "
      "accurate seek) are processed and counted, without a critical "
      "warning from syncing controlled properties to a missing stream " "time");
  gst_harness_set_src_caps_str (h, "audio/x-raw, format=F32LE, "
      "layout=interleaved, rate=48000, channels=1");
  gst_segment_init (&segment, GST_FORMAT_TIME);
  segment.start = GST_SECOND + 7;
  segment.time = segment.start;
  g_assert_true (gst_harness_push_event (h, gst_event_new_segment (&segment)));
  for (i = 0; i < 10; i++) {
    buf = gst_buffer_new_allocate (NULL, 4800 * 4, NULL);
    gst_buffer_memset (buf, 0, 0, 4800 * 4);
    GST_BUFFER_PTS (buf) = GST_SECOND / 2 + i * GST_SECOND / 10;
    GST_BUFFER_DURATION (buf) = GST_SECOND / 10;
    g_assert_cmpint (gst_harness_push (h, buf), ==, GST_FLOW_OK);
    pushed += 4800;
  }
  g_assert_true (gst_harness_push_event (h, gst_event_new_eos ()));
  while ((buf = gst_harness_try_pull (h)) != NULL) {
    out += gst_buffer_get_size (buf) / 4;
    gst_buffer_unref (buf);
  }
  g_assert_cmpuint (out, ==, pushed);
  gst_harness_teardown (h);
}

/* Silence for a long time (SILENCE_SECONDS, default 300; one hour with
 * -m slow), pushed in 100 ms buffers. */
static void
test_long_silence (void)
{
  const gchar *env = g_getenv ("SILENCE_SECONDS");
  guint64 seconds = 300;
  const gint rate = 16000;
  const gsize n = rate / 10;
  GstHarness *h = gst_harness_new ("daedenoise");
  GstBus *bus = gst_bus_new ();
  GstBuffer *silence = gst_buffer_new_allocate (NULL, n * 4, NULL);
  HostileCase c = { "silence", "F32LE", rate, 1, INPUT_NOISE,
    TS_CONTINUOUS, n, 0.0
  };
  Counts counts = { 0, };
  guint64 i;
  guint64 n_buffers;

  g_test_summary ("Digital silence for a long time: every sample comes "
      "out, finite, with finite scores in the meta and the messages");
  if (env != NULL)
    seconds = g_ascii_strtoull (env, NULL, 10);
  else if (g_test_slow ())
    seconds = 3600;
  n_buffers = seconds * 10;

  gst_buffer_memset (silence, 0, 0, n * 4);
  gst_element_set_bus (h->element, bus);
  g_object_set (h->element, "interval", GST_SECOND, NULL);
  gst_harness_set_src_caps_str (h, "audio/x-raw, format=F32LE, "
      "layout=interleaved, rate=16000, channels=1");
  for (i = 0; i < n_buffers; i++) {
    GstBuffer *buf = gst_buffer_copy (silence);

    GST_BUFFER_PTS (buf) = i * GST_SECOND / 10;
    GST_BUFFER_DURATION (buf) = GST_SECOND / 10;
    g_assert_cmpint (gst_harness_push (h, buf), ==, GST_FLOW_OK);
    pull_output (h, &c, &counts);
    if (i % 100 == 0)
      g_assert_cmpuint (check_messages (bus, &counts), ==, 0);
  }
  g_assert_true (gst_harness_push_event (h, gst_event_new_eos ()));
  pull_output (h, &c, &counts);
  g_assert_cmpuint (check_messages (bus, &counts), ==, 0);
  g_assert_cmpuint (counts.n_out, ==, n_buffers * n);
  g_assert_cmpuint (counts.n_anomaly_messages, >=, seconds);
  g_test_message ("%" G_GUINT64_FORMAT " s of silence", seconds);

  gst_buffer_unref (silence);
  gst_element_set_bus (h->element, NULL);
  gst_object_unref (bus);
  gst_harness_teardown (h);
}

int
main (int argc, char **argv)
{
  int ret;
  gsize i;

  gst_init (&argc, &argv);
  g_test_init (&argc, &argv, NULL);

  g_test_add_func ("/element/daedenoise/faults/model-vanished",
      test_model_vanished);
  g_test_add_func ("/element/daedenoise/faults/model-unreadable",
      test_model_unreadable);
  g_test_add_func ("/element/daedenoise/faults/model-not-a-file",
      test_model_not_a_file);
  g_test_add_func ("/element/daedenoise/faults/model-truncated",
      test_model_truncated);
  g_test_add_func ("/element/daedenoise/faults/model-wrong-rate",
      test_model_wrong_rate);
  for (i = 0; i < G_N_ELEMENTS (hostile_cases); i++) {
    gchar *name = g_strdup_printf ("/element/daedenoise/hostile/%s",
        hostile_cases[i].name);

    g_test_add_data_func (name, &hostile_cases[i], test_hostile);
    g_free (name);
  }
  g_test_add_func ("/element/daedenoise/hostile/buffers-before-segment",
      test_before_segment);
  DAE_TEST_ADD_SLOW_FUNC ("/element/daedenoise/hostile/long-silence",
      test_long_silence);

  ret = g_test_run ();
  gst_deinit ();
  return ret;
}
