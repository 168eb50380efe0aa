/* Tests for the daedenoise element (GstHarness)
 * Copyright (C) 2026 The dae authors
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */

#include <math.h>
#include <stdio.h>
#include <string.h>

#include <glib/gstdio.h>
#include <gst/gst.h>
#include <gst/audio/audio.h>
#include <gst/check/gstharness.h>

#include "../test-valgrind.h"
#include <dae/dae.h>

/* Float comparisons: the STFT path reconstructs within this. */
#define STFT_EPSILON 1e-4
#define UPSTREAM_LATENCY (5 * GST_MSECOND)

typedef struct
{
  GstHarness *h;
  GstElement *dae;              /* the element, inside h->element or it */
  GstBus *bus;
  gint rate;
  gint channels;
  gboolean s16;
  guint64 pushed;               /* samples per channel */
} Fixture;

/* ------------------------------------------------------------------------ */
/* Helpers                                                                   */

static gchar *
caps_string (const gchar * format, gint rate, gint channels)
{
  if (channels > 2)
    return g_strdup_printf ("audio/x-raw, format=%s, layout=interleaved, "
        "rate=%d, channels=%d, channel-mask=(bitmask)0", format, rate,
        channels);
  return g_strdup_printf ("audio/x-raw, format=%s, layout=interleaved, "
      "rate=%d, channels=%d", format, rate, channels);
}

/* Harness with caps set and a private bus; props: NULL-terminated
 * name/value pairs as for g_object_set. */
static void
fixture_init (Fixture * f, const gchar * format, gint rate, gint channels,
    const gchar * first_prop, ...)
{
  gchar *caps;

  memset (f, 0, sizeof (*f));
  f->rate = rate;
  f->channels = channels;
  f->s16 = g_strcmp0 (format, "S16LE") == 0;
  f->h = gst_harness_new ("daedenoise");
  g_assert_nonnull (f->h);
  f->bus = gst_bus_new ();
  gst_element_set_bus (f->h->element, f->bus);
  if (first_prop != NULL) {
    va_list args;

    va_start (args, first_prop);
    g_object_set_valist (G_OBJECT (f->h->element), first_prop, args);
    va_end (args);
  }
  caps = caps_string (format, rate, channels);
  gst_harness_set_src_caps_str (f->h, caps);
  g_free (caps);
}

static void
fixture_clear (Fixture * f)
{
  gst_element_set_bus (f->h->element, NULL);
  gst_harness_teardown (f->h);
  gst_object_unref (f->bus);
}

static gsize
bpf (const Fixture * f)
{
  return f->channels * (f->s16 ? 2 : 4);
}

static GstClockTime
sample_time (const Fixture * f, guint64 sample)
{
  return gst_util_uint64_scale_int_round (sample, GST_SECOND, f->rate);
}

/* Pushes n samples per channel of float data (converted if S16) with
 * timestamps continuing from the previous push. */
static GstFlowReturn
push_samples (Fixture * f, const gfloat * data, gsize n, GstBufferFlags flags)
{
  GstBuffer *buf = gst_buffer_new_allocate (NULL, n * bpf (f), NULL);
  GstMapInfo map;
  gsize i;

  gst_buffer_map (buf, &map, GST_MAP_WRITE);
  for (i = 0; i < n * f->channels; i++) {
    if (f->s16)
      ((gint16 *) map.data)[i] =
          (gint16) CLAMP (lrintf (data[i] * 32768.0f), -32768, 32767);
    else
      ((gfloat *) map.data)[i] = data[i];
  }
  gst_buffer_unmap (buf, &map);
  GST_BUFFER_PTS (buf) = sample_time (f, f->pushed);
  GST_BUFFER_DURATION (buf) = sample_time (f, f->pushed + n) -
      GST_BUFFER_PTS (buf);
  GST_BUFFER_FLAG_SET (buf, flags);
  f->pushed += n;
  return gst_harness_push (f->h, buf);
}

static gfloat *
make_noise (gsize n_values, gfloat amplitude, guint32 seed)
{
  GRand *rand = g_rand_new_with_seed (seed);
  gfloat *data = g_new (gfloat, n_values);
  gsize i;

  for (i = 0; i < n_values; i++)
    data[i] = (gfloat) g_rand_double_range (rand, -amplitude, amplitude);
  g_rand_free (rand);
  return data;
}

/* Pushes data in random-sized buffers of 1 sample to 1 s. */
static void
push_random_splits (Fixture * f, const gfloat * data, gsize n, guint32 seed)
{
  GRand *rand = g_rand_new_with_seed (seed);
  gsize done = 0;

  while (done < n) {
    gsize max = MIN ((gsize) f->rate, n - done);
    gsize len;

    /* favour small buffers half of the time */
    if (g_rand_boolean (rand))
      len = g_rand_int_range (rand, 1, (gint) MIN (max, 64) + 1);
    else
      len = g_rand_int_range (rand, 1, (gint) max + 1);
    g_assert_cmpint (push_samples (f, data + done * f->channels, len, 0), ==,
        GST_FLOW_OK);
    done += len;
  }
  g_rand_free (rand);
}

typedef struct
{
  gfloat *data;                 /* interleaved, as floats */
  gsize n;                      /* samples per channel */
  guint n_buffers;
  guint n_discont;
  gboolean contiguous;
  GstClockTime first_pts;
  GPtrArray *buffers;
} Output;

/* Pulls every buffer out of the harness, checking that timestamps are
 * contiguous and durations match the sample counts. */
static void
pull_all (Fixture * f, Output * out)
{
  GstBuffer *buf;

  if (out->buffers == NULL) {
    out->buffers = g_ptr_array_new_with_free_func ((GDestroyNotify)
        gst_buffer_unref);
    out->contiguous = TRUE;
    out->first_pts = GST_CLOCK_TIME_NONE;
  }
  while ((buf = gst_harness_try_pull (f->h)) != NULL) {
    GstMapInfo map;
    gsize n;
    gsize i;

    gst_buffer_map (buf, &map, GST_MAP_READ);
    g_assert_cmpuint (map.size % bpf (f), ==, 0);
    n = map.size / bpf (f);
    g_assert_cmpuint (n, >, 0);
    out->data = g_renew (gfloat, out->data, (out->n + n) * f->channels);
    for (i = 0; i < n * f->channels; i++) {
      out->data[out->n * f->channels + i] = f->s16 ?
          ((const gint16 *) map.data)[i] / 32768.0f :
          ((const gfloat *) map.data)[i];
    }
    gst_buffer_unmap (buf, &map);

    if (GST_BUFFER_IS_DISCONT (buf))
      out->n_discont++;
    if (out->n_buffers == 0) {
      out->first_pts = GST_BUFFER_PTS (buf);
    } else if (!GST_BUFFER_IS_DISCONT (buf)) {
      GstBuffer *prev = g_ptr_array_index (out->buffers,
          out->buffers->len - 1);

      if (GST_BUFFER_PTS (prev) + GST_BUFFER_DURATION (prev) !=
          GST_BUFFER_PTS (buf))
        out->contiguous = FALSE;
    }
    g_assert_true (GST_BUFFER_PTS_IS_VALID (buf));
    g_assert_true (GST_BUFFER_DURATION_IS_VALID (buf));
    /* duration derives from the sample count (within rounding) */
    g_assert_cmpint (ABS ((gint64) GST_BUFFER_DURATION (buf) -
            (gint64) gst_util_uint64_scale_int_round (n, GST_SECOND,
                f->rate)), <=, 1);
    out->n += n;
    out->n_buffers++;
    g_ptr_array_add (out->buffers, buf);
  }
}

static void
output_clear (Output * out)
{
  g_free (out->data);
  if (out->buffers != NULL)
    g_ptr_array_unref (out->buffers);
  memset (out, 0, sizeof (*out));
}

static void
push_eos (Fixture * f)
{
  g_assert_true (gst_harness_push_event (f->h, gst_event_new_eos ()));
}

static gboolean
all_finite (const gfloat * data, gsize n)
{
  gsize i;

  for (i = 0; i < n; i++) {
    if (!isfinite (data[i]))
      return FALSE;
  }
  return TRUE;
}

/* Counts element messages with the given structure name, optionally
 * keeping them. */
static GList *
pop_element_messages (Fixture * f, const gchar * name)
{
  GList *list = NULL;
  GstMessage *msg;

  while ((msg = gst_bus_pop_filtered (f->bus, GST_MESSAGE_ELEMENT)) != NULL) {
    const GstStructure *s = gst_message_get_structure (msg);

    if (s != NULL && gst_structure_has_name (s, name))
      list = g_list_append (list, msg);
    else
      gst_message_unref (msg);
  }
  return list;
}

static guint
count_messages (Fixture * f, GstMessageType type)
{
  GstMessage *msg;
  guint n = 0;

  while ((msg = gst_bus_pop_filtered (f->bus, type)) != NULL) {
    n++;
    gst_message_unref (msg);
  }
  return n;
}

/* Whether the default model for rate has a voice-activity head (the
 * trained defaults do, the placeholders did not). */
static gboolean
default_model_has_vad (gint rate)
{
  gchar *path = g_strdup_printf ("%s/default-%dk.dae", DAE_MODELS_DIR,
      rate / 1000);
  DaeModel *model = NULL;
  DaeModelConfig config;
  DaeError error;

  g_assert_cmpint (dae_model_load_file (path, &model, &error), ==, DAE_OK);
  dae_model_get_config (model, &config);
  dae_model_unref (model);
  g_free (path);
  return config.has_vad != 0;
}

static gsize
model_latency_samples (gint rate)
{
  gchar *path = g_strdup_printf ("%s/default-%dk.dae", DAE_MODELS_DIR,
      rate / 1000);
  DaeModel *model = NULL;
  DaeError error;
  gsize latency;

  g_assert_cmpint (dae_model_load_file (path, &model, &error), ==, DAE_OK);
  latency = dae_model_get_latency_samples (model);
  dae_model_unref (model);
  g_free (path);
  return latency;
}

/* ------------------------------------------------------------------------ */
/* Caps                                                                      */

static void
test_caps_accept (void)
{
  static const gint rates[] = { 16000, 48000 };
  static const gchar *formats[] = { "F32LE", "S16LE" };
  guint r;
  guint fmt;
  gint channels;

  g_test_summary ("Caps with an available rate, both formats and 1 to 8 "
      "channels are accepted and produce output");
  for (r = 0; r < G_N_ELEMENTS (rates); r++) {
    for (fmt = 0; fmt < G_N_ELEMENTS (formats); fmt++) {
      for (channels = 1; channels <= 8; channels += 7) {
        Fixture f;
        Output out = { 0, };
        gfloat *data;
        gsize n = rates[r] / 10;

        fixture_init (&f, formats[fmt], rates[r], channels, NULL);
        data = make_noise (n * channels, 0.1f, 1);
        g_assert_cmpint (push_samples (&f, data, n, 0), ==, GST_FLOW_OK);
        push_eos (&f);
        pull_all (&f, &out);
        g_assert_cmpuint (out.n, ==, n);
        output_clear (&out);
        g_free (data);
        fixture_clear (&f);
      }
    }
  }
}

static void
test_caps_refuse_rate (void)
{
  GstHarness *h = gst_harness_new ("daedenoise");
  GstBus *bus = gst_bus_new ();
  GstCaps *caps;
  GstMessage *msg;
  GError *err = NULL;
  gchar *debug = NULL;

  g_test_summary ("44100 Hz has no model: caps are refused and a warning "
      "names the supported rates");
  gst_element_set_bus (h->element, bus);

  caps = gst_pad_query_caps (h->srcpad, NULL);
  g_assert_false (gst_caps_is_empty (caps));
  gst_caps_unref (caps);
  caps = gst_caps_from_string ("audio/x-raw, format=F32LE, "
      "layout=interleaved, rate=44100, channels=1");
  g_assert_false (gst_pad_peer_query_accept_caps (h->srcpad, caps));
  /* a refused sticky event is only reported by the data flow */
  gst_pad_push_event (h->srcpad, gst_event_new_caps (caps));
  gst_caps_unref (caps);
  {
    GstSegment segment;

    gst_segment_init (&segment, GST_FORMAT_TIME);
    gst_pad_push_event (h->srcpad, gst_event_new_segment (&segment));
  }
  g_assert_cmpint (gst_harness_push (h, gst_buffer_new_allocate (NULL, 400,
              NULL)), ==, GST_FLOW_NOT_NEGOTIATED);
  g_assert_cmpuint (gst_harness_buffers_in_queue (h), ==, 0);

  msg = gst_bus_pop_filtered (bus, GST_MESSAGE_WARNING);
  g_assert_nonnull (msg);
  gst_message_parse_warning (msg, &err, &debug);
  g_assert_nonnull (strstr (err->message, "44100"));
  g_assert_nonnull (strstr (err->message, "16000"));
  g_assert_nonnull (strstr (err->message, "48000"));
  g_clear_error (&err);
  g_free (debug);
  gst_message_unref (msg);
  g_assert_cmpuint (count_messages (&(Fixture) {
          .bus = bus}, GST_MESSAGE_ERROR), ==, 0);

  /* the supported rates are accepted */
  caps = gst_caps_from_string ("audio/x-raw, format=F32LE, "
      "layout=interleaved, rate=48000, channels=1");
  g_assert_true (gst_pad_peer_query_accept_caps (h->srcpad, caps));
  gst_caps_unref (caps);

  gst_element_set_bus (h->element, NULL);
  gst_object_unref (bus);
  gst_harness_teardown (h);
}

static void
test_caps_model_file_rate (void)
{
  GstHarness *h = gst_harness_new_empty ();
  GstCaps *caps;
  Fixture f = { 0, };
  Output out = { 0, };
  gfloat *data;

  g_test_summary ("A model-file restricts the caps to its rate");
  gst_harness_add_parse (h, "daedenoise model-file=" TEST_MODEL_DIR
      "/model-44k.dae");
  caps = gst_caps_from_string ("audio/x-raw, format=F32LE, "
      "layout=interleaved, rate=16000, channels=1");
  g_assert_false (gst_pad_peer_query_accept_caps (h->srcpad, caps));
  gst_caps_unref (caps);
  caps = gst_pad_peer_query_caps (h->srcpad, NULL);
  g_assert_false (gst_caps_is_empty (caps));
  g_assert_true (gst_structure_has_field_typed (gst_caps_get_structure (caps,
              0), "rate", G_TYPE_INT));
  gst_caps_unref (caps);

  f.h = h;
  f.rate = 44100;
  f.channels = 1;
  f.bus = gst_bus_new ();
  gst_harness_set_src_caps_str (h, "audio/x-raw, format=F32LE, "
      "layout=interleaved, rate=44100, channels=1");
  data = make_noise (4410, 0.1f, 2);
  g_assert_cmpint (push_samples (&f, data, 4410, 0), ==, GST_FLOW_OK);
  push_eos (&f);
  pull_all (&f, &out);
  g_assert_cmpuint (out.n, ==, 4410);
  output_clear (&out);
  g_free (data);
  fixture_clear (&f);
}

/* ------------------------------------------------------------------------ */
/* Streaming contract                                                        */

static void
check_samples_in_out (const gchar * format, gint rate, gint channels,
    guint32 seed)
{
  Fixture f;
  Output out = { 0, };
  gsize n = rate * 3 + 17;
  gfloat *data = make_noise (n * channels, 0.3f, seed);
  guint c;
  gsize i;

  fixture_init (&f, format, rate, channels, "mix", 0.0, NULL);
  push_random_splits (&f, data, n, seed);
  push_eos (&f);
  pull_all (&f, &out);

  g_assert_cmpuint (out.n, ==, n);
  g_assert_true (out.contiguous);
  g_assert_cmpuint (out.first_pts, ==, 0);
  g_assert_cmpuint (out.n_discont, ==, 1);
  /* mix=0: every channel comes out exactly in its place */
  for (c = 0; c < (guint) channels; c++) {
    for (i = 0; i < n; i++) {
      gfloat expected = data[i * channels + c];

      if (f.s16)
        expected = CLAMP (lrintf (expected * 32768.0f), -32768, 32767) /
            32768.0f;
      if (out.data[i * channels + c] != expected)
        g_error ("channel %u sample %" G_GSIZE_FORMAT ": %g != %g", c, i,
            out.data[i * channels + c], expected);
    }
  }
  output_clear (&out);
  g_free (data);
  fixture_clear (&f);

  /* and with the network on: the count is the same */
  data = make_noise (n * channels, 0.3f, seed + 1);
  fixture_init (&f, format, rate, channels, NULL);
  push_random_splits (&f, data, n, seed + 1);
  push_eos (&f);
  pull_all (&f, &out);
  g_assert_cmpuint (out.n, ==, n);
  g_assert_true (out.contiguous);
  g_assert_true (all_finite (out.data, out.n * channels));
  output_clear (&out);
  g_free (data);
  fixture_clear (&f);
}

static void
test_samples_in_out_f32_mono (void)
{
  g_test_summary ("Random buffer sizes from 1 sample to 1 s: after EOS as "
      "many samples come out per channel as went in, in place");
  check_samples_in_out ("F32LE", 16000, 1, 11);
}

static void
test_samples_in_out_f32_stereo (void)
{
  check_samples_in_out ("F32LE", 48000, 2, 12);
}

static void
test_samples_in_out_s16_stereo (void)
{
  check_samples_in_out ("S16LE", 16000, 2, 13);
}

static void
test_tonality_model (void)
{
  Fixture f;
  Output out = { 0, };
  gsize n = 48000 * 2 + 31;
  gfloat *data = make_noise (n * 2, 0.3f, 21);
  GstClockTime expected;

  g_test_summary ("A model with band tonality inputs (twice n_bands network "
      "inputs) runs in the element: stereo 48 kHz in random buffer sizes, "
      "as many finite samples out as in, contiguous, and the latency "
      "query reports its window minus hop");
  fixture_init (&f, "F32LE", 48000, 2, "model-file",
      TEST_MODEL_DIR "/model-tonality-48k.dae", NULL);
  gst_harness_set_upstream_latency (f.h, 0);
  push_random_splits (&f, data, n, 21);
  expected = gst_util_uint64_scale_round (480, GST_SECOND, 48000);
  g_assert_cmpuint (gst_harness_query_latency (f.h), ==, expected);
  push_eos (&f);
  pull_all (&f, &out);
  g_assert_cmpuint (out.n, ==, n);
  g_assert_true (out.contiguous);
  g_assert_true (all_finite (out.data, out.n * 2));
  output_clear (&out);
  g_free (data);
  fixture_clear (&f);
}

static void
test_samples_in_out_f32_8ch (void)
{
  check_samples_in_out ("F32LE", 16000, 8, 14);
}

static gsize
run_impulse (gint rate, gsize at, gdouble mix, gdouble limit, Output * out)
{
  Fixture f;
  gsize n = rate / 2;
  gfloat *data = g_new0 (gfloat, n);
  gsize i;
  gsize peak = 0;

  data[at] = 0.5f;
  fixture_init (&f, "F32LE", rate, 1, "mix", mix, "attenuation-limit", limit,
      NULL);
  push_random_splits (&f, data, n, 21);
  push_eos (&f);
  pull_all (&f, out);
  g_assert_cmpuint (out->n, ==, n);
  for (i = 0; i < n; i++) {
    if (fabsf (out->data[i]) > fabsf (out->data[peak]))
      peak = i;
  }
  g_free (data);
  fixture_clear (&f);
  return peak;
}

static void
test_impulse_alignment (void)
{
  Output out = { 0, };
  gsize at = 4321;
  gsize i;

  g_test_summary ("An impulse at time t comes out at time t: dry path, "
      "unattenuated STFT path and full network");

  /* dry (mix 0): exact */
  g_assert_cmpuint (run_impulse (16000, at, 0.0, 100.0, &out), ==, at);
  g_assert_cmpfloat (out.data[at], ==, 0.5f);
  output_clear (&out);

  /* wet with no attenuation: STFT perfect reconstruction, in place */
  g_assert_cmpuint (run_impulse (16000, at, 1.0, 0.0, &out), ==, at);
  for (i = 0; i < out.n; i++)
    g_assert_cmpfloat_with_epsilon (out.data[i], i == at ? 0.5f : 0.0f,
        STFT_EPSILON);
  output_clear (&out);

  /* full network (zero-phase gains): the peak stays in place */
  g_assert_cmpuint (run_impulse (48000, at, 1.0, 100.0, &out), ==, at);
  output_clear (&out);
}

static void
test_timestamps (void)
{
  Fixture f;
  Output out = { 0, };
  gsize n = 8000;
  gfloat *data = make_noise (n, 0.1f, 3);
  GstBuffer *first;

  g_test_summary ("Output PTS start at the input PTS and are contiguous; "
      "the first buffer carries DISCONT");
  fixture_init (&f, "F32LE", 16000, 1, NULL);
  f.pushed = 16000;             /* start at 1 s */
  push_random_splits (&f, data, n, 4);
  push_eos (&f);
  pull_all (&f, &out);
  g_assert_cmpuint (out.n, ==, n);
  g_assert_true (out.contiguous);
  g_assert_cmpuint (out.first_pts, ==, GST_SECOND);
  first = g_ptr_array_index (out.buffers, 0);
  g_assert_true (GST_BUFFER_IS_DISCONT (first));
  g_assert_cmpuint (out.n_discont, ==, 1);
  output_clear (&out);
  g_free (data);
  fixture_clear (&f);
}

static void
test_latency_query (void)
{
  Fixture f;
  gint rates[] = { 16000, 48000 };
  guint r;

  g_test_summary ("The LATENCY query adds window - hop samples, rounded, to "
      "upstream's latency; a latency message is posted on configuration");
  for (r = 0; r < G_N_ELEMENTS (rates); r++) {
    GstClockTime expected = UPSTREAM_LATENCY +
        gst_util_uint64_scale_round (model_latency_samples (rates[r]),
        GST_SECOND, rates[r]);

    fixture_init (&f, "F32LE", rates[r], 1, NULL);
    gst_harness_set_upstream_latency (f.h, UPSTREAM_LATENCY);
    g_assert_cmpuint (gst_harness_query_latency (f.h), ==, expected);
    g_assert_cmpuint (count_messages (&f, GST_MESSAGE_LATENCY), ==, 1);
    g_assert_cmpuint (expected, >, UPSTREAM_LATENCY);
    fixture_clear (&f);
  }
}

static void
test_flush_stop (void)
{
  Fixture f;
  Output out = { 0, };
  gsize n1 = 8000;
  gsize n2 = 4800;
  gfloat *a = g_new (gfloat, n1);
  gfloat *b = g_new (gfloat, n2);
  gsize before;
  gsize i;
  GstSegment segment;
  GstBuffer *buf;

  g_test_summary ("FLUSH_STOP discards the held audio: only post-flush "
      "input comes out after it, starting with DISCONT at its PTS");
  for (i = 0; i < n1; i++)
    a[i] = 0.5f;
  for (i = 0; i < n2; i++)
    b[i] = 0.25f;
  fixture_init (&f, "F32LE", 16000, 1, "mix", 0.0, NULL);
  g_assert_cmpint (push_samples (&f, a, n1, 0), ==, GST_FLOW_OK);
  pull_all (&f, &out);
  before = out.n;
  g_assert_cmpuint (before, <, n1);     /* the latency is held */
  output_clear (&out);

  g_assert_true (gst_harness_push_event (f.h, gst_event_new_flush_start ()));
  g_assert_true (gst_harness_push_event (f.h, gst_event_new_flush_stop (TRUE)));
  gst_segment_init (&segment, GST_FORMAT_TIME);
  g_assert_true (gst_harness_push_event (f.h,
          gst_event_new_segment (&segment)));
  f.pushed = 32000;             /* 2 s */
  g_assert_cmpint (push_samples (&f, b, n2, GST_BUFFER_FLAG_DISCONT), ==,
      GST_FLOW_OK);
  push_eos (&f);
  pull_all (&f, &out);
  g_assert_cmpuint (out.n, ==, n2);
  for (i = 0; i < out.n; i++)
    g_assert_cmpfloat (out.data[i], ==, 0.25f);
  buf = g_ptr_array_index (out.buffers, 0);
  g_assert_true (GST_BUFFER_IS_DISCONT (buf));
  g_assert_cmpuint (GST_BUFFER_PTS (buf), ==, 2 * GST_SECOND);
  g_assert_true (out.contiguous);
  output_clear (&out);
  g_free (a);
  g_free (b);
  fixture_clear (&f);
}

static void
test_gap_buffer (void)
{
  Fixture f;
  Output out = { 0, };
  gsize n = 1600;
  gfloat *data = make_noise (n, 0.2f, 5);
  gfloat *garbage = g_new (gfloat, n);
  gsize i;

  g_test_summary ("A GAP buffer is silence whatever its memory holds");
  for (i = 0; i < n; i++)
    garbage[i] = i % 2 ? NAN : 1e30f;
  fixture_init (&f, "F32LE", 16000, 1, "mix", 0.0, NULL);
  g_assert_cmpint (push_samples (&f, data, n, 0), ==, GST_FLOW_OK);
  g_assert_cmpint (push_samples (&f, garbage, n, GST_BUFFER_FLAG_GAP), ==,
      GST_FLOW_OK);
  g_assert_cmpint (push_samples (&f, data, n, 0), ==, GST_FLOW_OK);
  push_eos (&f);
  pull_all (&f, &out);
  g_assert_cmpuint (out.n, ==, 3 * n);
  g_assert_true (out.contiguous);
  for (i = 0; i < n; i++) {
    g_assert_cmpfloat (out.data[i], ==, data[i]);
    g_assert_cmpfloat (out.data[n + i], ==, 0.0f);
    g_assert_cmpfloat (out.data[2 * n + i], ==, data[i]);
  }
  g_assert_cmpuint (count_messages (&f, GST_MESSAGE_WARNING), ==, 0);
  output_clear (&out);
  g_free (garbage);
  g_free (data);
  fixture_clear (&f);
}

static void
test_gap_event (void)
{
  Fixture f;
  Output out = { 0, };
  gsize n = 1600;
  gfloat *data = make_noise (n, 0.2f, 6);
  GstEvent *event;
  gboolean saw_gap = FALSE;
  GstBuffer *second = NULL;
  guint i;

  g_test_summary ("A GAP event drains the held audio, is forwarded, and "
      "the audio after it starts a new contiguous stretch");
  fixture_init (&f, "F32LE", 16000, 1, NULL);
  g_assert_cmpint (push_samples (&f, data, n, 0), ==, GST_FLOW_OK);
  g_assert_true (gst_harness_push_event (f.h,
          gst_event_new_gap (sample_time (&f, n), GST_SECOND)));
  pull_all (&f, &out);
  g_assert_cmpuint (out.n, ==, n);      /* drained by the gap */
  f.pushed = n + 16000;
  g_assert_cmpint (push_samples (&f, data, n, GST_BUFFER_FLAG_DISCONT), ==,
      GST_FLOW_OK);
  push_eos (&f);
  pull_all (&f, &out);
  g_assert_cmpuint (out.n, ==, 2 * n);
  g_assert_cmpuint (out.n_discont, ==, 2);
  for (i = 1; i < out.buffers->len; i++) {
    GstBuffer *buf = g_ptr_array_index (out.buffers, i);

    if (GST_BUFFER_IS_DISCONT (buf)) {
      second = buf;
      break;
    }
  }
  g_assert_nonnull (second);
  g_assert_cmpuint (GST_BUFFER_PTS (second), ==, sample_time (&f, n + 16000));
  while ((event = gst_harness_try_pull_event (f.h)) != NULL) {
    if (GST_EVENT_TYPE (event) == GST_EVENT_GAP)
      saw_gap = TRUE;
    gst_event_unref (event);
  }
  g_assert_true (saw_gap);
  output_clear (&out);
  g_free (data);
  fixture_clear (&f);
}

static void
test_discont (void)
{
  Fixture f;
  Output out = { 0, };
  gsize n = 3000;
  gfloat *data = make_noise (n, 0.2f, 7);
  GstBuffer *buf;
  guint i;
  guint found = 0;

  g_test_summary ("An input DISCONT with a timestamp jump drains, resets "
      "and restarts timestamps at the new PTS");
  fixture_init (&f, "F32LE", 16000, 1, "mix", 0.0, NULL);
  g_assert_cmpint (push_samples (&f, data, n, 0), ==, GST_FLOW_OK);
  f.pushed += 8000;             /* 0.5 s jump */
  g_assert_cmpint (push_samples (&f, data, n, GST_BUFFER_FLAG_DISCONT), ==,
      GST_FLOW_OK);
  push_eos (&f);
  pull_all (&f, &out);
  g_assert_cmpuint (out.n, ==, 2 * n);
  g_assert_cmpuint (out.n_discont, ==, 2);
  for (i = 0; i < out.buffers->len; i++) {
    buf = g_ptr_array_index (out.buffers, i);
    if (GST_BUFFER_IS_DISCONT (buf) && i > 0) {
      g_assert_cmpuint (GST_BUFFER_PTS (buf), ==, sample_time (&f, n + 8000));
      found++;
    }
  }
  g_assert_cmpuint (found, ==, 1);
  /* both stretches come out whole, in place */
  for (i = 0; i < n; i++) {
    g_assert_cmpfloat (out.data[i], ==, data[i]);
    g_assert_cmpfloat (out.data[n + i], ==, data[i]);
  }
  output_clear (&out);
  g_free (data);
  fixture_clear (&f);
}

static void
test_eos_before_caps (void)
{
  GstHarness *h = gst_harness_new ("daedenoise");
  GstEvent *event;
  gboolean saw_eos = FALSE;

  g_test_summary ("EOS before any caps is forwarded without a crash");
  g_assert_true (gst_harness_push_event (h, gst_event_new_eos ()));
  while ((event = gst_harness_try_pull_event (h)) != NULL) {
    if (GST_EVENT_TYPE (event) == GST_EVENT_EOS)
      saw_eos = TRUE;
    gst_event_unref (event);
  }
  g_assert_true (saw_eos);
  g_assert_cmpuint (gst_harness_buffers_in_queue (h), ==, 0);
  gst_harness_teardown (h);
}

static void
test_renegotiate (void)
{
  Fixture f;
  Output out = { 0, };
  gsize n16 = 5000;
  gsize n48 = 15000;
  gfloat *data = make_noise (n48, 0.2f, 8);
  gsize i;

  g_test_summary ("Caps change 16 kHz -> 48 kHz -> 16 kHz mid-stream: the "
      "old rate's audio is drained whole before the new caps");
  fixture_init (&f, "F32LE", 16000, 1, "mix", 0.0, NULL);
  g_assert_cmpint (push_samples (&f, data, n16, 0), ==, GST_FLOW_OK);
  gst_harness_set_src_caps_str (f.h, "audio/x-raw, format=F32LE, "
      "layout=interleaved, rate=48000, channels=1");
  pull_all (&f, &out);
  g_assert_cmpuint (out.n, ==, n16);
  for (i = 0; i < n16; i++)
    g_assert_cmpfloat (out.data[i], ==, data[i]);
  output_clear (&out);

  f.rate = 48000;
  f.pushed = 0;
  g_assert_cmpint (push_samples (&f, data, n48, 0), ==, GST_FLOW_OK);
  gst_harness_set_src_caps_str (f.h, "audio/x-raw, format=F32LE, "
      "layout=interleaved, rate=16000, channels=1");
  pull_all (&f, &out);
  g_assert_cmpuint (out.n, ==, n48);
  for (i = 0; i < n48; i++)
    g_assert_cmpfloat (out.data[i], ==, data[i]);
  output_clear (&out);

  f.rate = 16000;
  f.pushed = 0;
  g_assert_cmpint (push_samples (&f, data, n16, 0), ==, GST_FLOW_OK);
  push_eos (&f);
  pull_all (&f, &out);
  g_assert_cmpuint (out.n, ==, n16);
  output_clear (&out);
  g_free (data);
  fixture_clear (&f);
}

static void
test_state_cycling (void)
{
  Fixture f;
  gfloat *data = make_noise (4000, 0.2f, 9);
  guint i;

  g_test_summary ("NULL <-> PLAYING 25 times on one element, streaming "
      "each time; no leaks (GST_TRACERS=leaks)");
  fixture_init (&f, "F32LE", 16000, 1, NULL);
  for (i = 0; i < 25; i++) {
    Output out = { 0, };
    GstSegment segment;

    g_assert_cmpint (gst_element_set_state (f.h->element, GST_STATE_NULL),
        ==, GST_STATE_CHANGE_SUCCESS);
    g_assert_cmpint (gst_element_set_state (f.h->element,
            GST_STATE_PLAYING), ==, GST_STATE_CHANGE_SUCCESS);
    g_assert_true (gst_harness_push_event (f.h,
            gst_event_new_stream_start ("cycle")));
    gst_harness_set_src_caps_str (f.h, i % 2 ? "audio/x-raw, format=S16LE, "
        "layout=interleaved, rate=48000, channels=2" :
        "audio/x-raw, format=F32LE, layout=interleaved, rate=16000, "
        "channels=1");
    gst_segment_init (&segment, GST_FORMAT_TIME);
    f.rate = i % 2 ? 48000 : 16000;
    f.channels = i % 2 ? 2 : 1;
    f.s16 = i % 2;
    f.pushed = 0;
    g_assert_cmpint (push_samples (&f, data, 2000, 0), ==, GST_FLOW_OK);
    push_eos (&f);
    pull_all (&f, &out);
    g_assert_cmpuint (out.n, ==, 2000);
    output_clear (&out);
    while (gst_harness_events_in_queue (f.h) > 0)
      gst_event_unref (gst_harness_pull_event (f.h));
  }
  g_free (data);
  fixture_clear (&f);
}

static void
test_mix0_f32 (void)
{
  Fixture f;
  Output out = { 0, };
  gsize n = 48000;
  gfloat *data = make_noise (n * 2, 1.0f, 10);

  g_test_summary ("mix=0 is bit-transparent for F32 (and mix=1 is not)");
  fixture_init (&f, "F32LE", 48000, 2, "mix", 0.0, NULL);
  push_random_splits (&f, data, n, 10);
  push_eos (&f);
  pull_all (&f, &out);
  g_assert_cmpuint (out.n, ==, n);
  g_assert_cmpint (memcmp (out.data, data, n * 2 * sizeof (gfloat)), ==, 0);
  output_clear (&out);
  fixture_clear (&f);

  /* and the same input with the network on (mix=1) is changed, so the
   * check above is not vacuous */
  fixture_init (&f, "F32LE", 48000, 2, NULL);
  f.pushed = 0;
  push_random_splits (&f, data, n, 10);
  push_eos (&f);
  pull_all (&f, &out);
  g_assert_cmpuint (out.n, ==, n);
  g_assert_cmpint (memcmp (out.data, data, n * 2 * sizeof (gfloat)), !=, 0);
  output_clear (&out);
  g_free (data);
  fixture_clear (&f);
}

static void
test_mix0_s16 (void)
{
  Fixture f;
  Output out = { 0, };
  gsize n = 16000;
  gfloat *data = make_noise (n, 1.0f, 11);
  gsize i;

  g_test_summary ("mix=0 round-trips S16 within 1 LSB");
  fixture_init (&f, "S16LE", 16000, 1, "mix", 0.0, NULL);
  push_random_splits (&f, data, n, 11);
  push_eos (&f);
  pull_all (&f, &out);
  g_assert_cmpuint (out.n, ==, n);
  for (i = 0; i < n; i++) {
    glong in = CLAMP (lrintf (data[i] * 32768.0f), -32768, 32767);
    glong o = lrintf (out.data[i] * 32768.0f);

    g_assert_cmpint (ABS (in - o), <=, 1);
  }
  output_clear (&out);
  g_free (data);
  fixture_clear (&f);
}

static void
run_reference (const gfloat * data, gsize n, gboolean stress, Output * out)
{
  Fixture f;
  GstHarnessThread *t1 = NULL;
  GstHarnessThread *t2 = NULL;
  gsize done = 0;

  fixture_init (&f, "F32LE", 16000, 1, "mix", 0.5, "attenuation-limit",
      12.0, NULL);
  if (stress) {
    GValue mix = G_VALUE_INIT;
    GValue limit = G_VALUE_INIT;

    g_value_init (&mix, G_TYPE_DOUBLE);
    g_value_set_double (&mix, 0.5);
    g_value_init (&limit, G_TYPE_DOUBLE);
    g_value_set_double (&limit, 12.0);
    t1 = gst_harness_stress_property_start_full (f.h, "mix", &mix, 0);
    t2 = gst_harness_stress_property_start_full (f.h, "attenuation-limit",
        &limit, 0);
    g_value_unset (&mix);
    g_value_unset (&limit);
    /* let both threads get going */
    g_usleep (20 * 1000);
  }
  while (done < n) {
    gsize len = MIN (160 + done % 37, n - done);

    g_assert_cmpint (push_samples (&f, data + done, len, 0), ==, GST_FLOW_OK);
    done += len;
  }
  push_eos (&f);
  if (stress) {
    g_usleep (5 * 1000);
    g_assert_cmpuint (gst_harness_stress_thread_stop (t1), >, 0);
    g_assert_cmpuint (gst_harness_stress_thread_stop (t2), >, 0);
  }
  pull_all (&f, out);
  fixture_clear (&f);
}

static void
test_stress_properties (void)
{
  Output ref = { 0, };
  Output stressed = { 0, };
  gsize n = 32000;
  gfloat *data = make_noise (n, 0.3f, 12);
  Fixture f;
  GstHarnessThread *t1;
  GstHarnessThread *t2;
  GValue mix = G_VALUE_INIT;
  GValue limit = G_VALUE_INIT;
  gsize done = 0;
  Output out = { 0, };

  g_test_summary ("mix and attenuation-limit set from other threads while "
      "streaming: setting the same values changes nothing (no glitch); "
      "changing values keeps the output whole and finite");
  run_reference (data, n, FALSE, &ref);
  run_reference (data, n, TRUE, &stressed);
  g_assert_cmpuint (ref.n, ==, n);
  g_assert_cmpuint (stressed.n, ==, n);
  g_assert_cmpint (memcmp (ref.data, stressed.data, n * sizeof (gfloat)), ==,
      0);
  output_clear (&ref);
  output_clear (&stressed);

  /* now with changing values */
  fixture_init (&f, "F32LE", 16000, 2, NULL);
  g_value_init (&mix, G_TYPE_DOUBLE);
  g_value_set_double (&mix, 0.3);
  g_value_init (&limit, G_TYPE_DOUBLE);
  g_value_set_double (&limit, 40.0);
  t1 = gst_harness_stress_property_start_full (f.h, "mix", &mix, 100);
  t2 = gst_harness_stress_property_start_full (f.h, "attenuation-limit",
      &limit, 100);
  g_value_unset (&mix);
  g_value_unset (&limit);
  while (done < n / 2) {
    gsize len = MIN (100, n / 2 - done);
    GValue v = G_VALUE_INIT;

    g_assert_cmpint (push_samples (&f, data + 2 * done, len, 0), ==,
        GST_FLOW_OK);
    g_value_init (&v, G_TYPE_BOOLEAN);
    g_value_set_boolean (&v, done % 200 == 0);
    g_object_set_property (G_OBJECT (f.h->element), "link-channels", &v);
    g_value_unset (&v);
    done += len;
  }
  push_eos (&f);
  gst_harness_stress_thread_stop (t1);
  gst_harness_stress_thread_stop (t2);
  pull_all (&f, &out);
  g_assert_cmpuint (out.n, ==, n / 2);
  g_assert_true (all_finite (out.data, out.n * 2));
  output_clear (&out);
  fixture_clear (&f);
  g_free (data);
}

static void
test_nonfinite (void)
{
  Fixture f;
  Output out = { 0, };
  gsize n = 3200;
  gfloat *data = make_noise (n * 2, 0.2f, 13);
  gsize i;

  g_test_summary ("NaN and Inf input give finite output and exactly one "
      "warning message, no error");
  for (i = 0; i < n * 2; i += 97)
    data[i] = (i / 97) % 3 == 0 ? NAN : (i / 97) % 3 == 1 ? INFINITY :
        -INFINITY;
  fixture_init (&f, "F32LE", 16000, 2, NULL);
  g_assert_cmpint (push_samples (&f, data, n / 2, 0), ==, GST_FLOW_OK);
  g_assert_cmpint (push_samples (&f, data + n, n / 2, 0), ==, GST_FLOW_OK);
  push_eos (&f);
  pull_all (&f, &out);
  g_assert_cmpuint (out.n, ==, n);
  g_assert_true (all_finite (out.data, out.n * 2));
  g_assert_cmpuint (count_messages (&f, GST_MESSAGE_WARNING), ==, 1);
  g_assert_cmpuint (count_messages (&f, GST_MESSAGE_ERROR), ==, 0);
  output_clear (&out);
  g_free (data);
  fixture_clear (&f);
}

static void
check_bad_model (const gchar * path)
{
  GstElement *element = gst_element_factory_make ("daedenoise", NULL);
  GstBus *bus = gst_bus_new ();
  DaeModel *model = NULL;
  DaeError expected;
  GstMessage *msg;
  GError *err = NULL;
  gchar *debug = NULL;

  g_assert_cmpint (dae_model_load_file (path, &model, &expected), !=, DAE_OK);
  g_assert_null (model);

  gst_element_set_bus (element, bus);
  g_object_set (element, "model-file", path, NULL);
  g_assert_cmpint (gst_element_set_state (element, GST_STATE_PAUSED), ==,
      GST_STATE_CHANGE_FAILURE);
  msg = gst_bus_pop_filtered (bus, GST_MESSAGE_ERROR);
  g_assert_nonnull (msg);
  gst_message_parse_error (msg, &err, &debug);
  g_assert_true (g_error_matches (err, GST_RESOURCE_ERROR,
          GST_RESOURCE_ERROR_OPEN_READ));
  g_assert_nonnull (strstr (err->message, path));
  g_assert_nonnull (strstr (err->message, expected.message));
  g_assert_nonnull (debug);
  g_assert_nonnull (strstr (debug, expected.message));
  g_clear_error (&err);
  g_free (debug);
  gst_message_unref (msg);

  gst_element_set_state (element, GST_STATE_NULL);
  gst_element_set_bus (element, NULL);
  gst_object_unref (bus);
  gst_object_unref (element);
}

static void
test_bad_model_file (void)
{
  gchar *path = g_build_filename (g_get_tmp_dir (), "dae-bad-model.dae",
      NULL);

  g_test_summary ("A bad model file fails the state change with an error "
      "message quoting the library's explanation");
  g_assert_true (g_file_set_contents (path, "this is not a model", -1, NULL));
  check_bad_model (path);
  g_unlink (path);
  g_free (path);
  check_bad_model ("/nonexistent/dir/model.dae");
}

/* ------------------------------------------------------------------------ */
/* Meta and messages                                                         */

static void
test_meta (void)
{
  Fixture f;
  Output out = { 0, };
  gsize n = 16000;
  gfloat *data = make_noise (n, 0.2f, 14);
  gboolean has_vad = default_model_has_vad (16000);
  guint i;

  g_test_summary ("GstDaeAnomalyMeta is on every output buffer with sane "
      "fields; absent when anomaly-meta is FALSE; GstAudioLevelMeta only "
      "if the default model has a voice-activity head");
  fixture_init (&f, "F32LE", 16000, 1, NULL);
  push_random_splits (&f, data, n, 15);
  push_eos (&f);
  pull_all (&f, &out);
  g_assert_cmpuint (out.n_buffers, >, 0);
  for (i = 0; i < out.buffers->len; i++) {
    GstBuffer *buf = g_ptr_array_index (out.buffers, i);
    GstCustomMeta *meta = gst_buffer_get_custom_meta (buf,
        "GstDaeAnomalyMeta");
    GstStructure *s;
    gdouble score;
    gdouble threshold;
    gboolean is_anomaly;
    gint frames;
    guint64 timestamp;
    guint64 duration;

    g_assert_nonnull (meta);
    s = gst_custom_meta_get_structure (meta);
    g_assert_true (gst_structure_get (s, "score", G_TYPE_DOUBLE, &score,
            "threshold", G_TYPE_DOUBLE, &threshold,
            "is-anomaly", G_TYPE_BOOLEAN, &is_anomaly,
            "frames", G_TYPE_INT, &frames,
            "timestamp", G_TYPE_UINT64, &timestamp,
            "duration", G_TYPE_UINT64, &duration, NULL));
    g_assert_true (isfinite (score));
    g_assert_cmpfloat (score, >=, 0.0);
    /* the placeholder models are not calibrated: no threshold */
    g_assert_cmpfloat (threshold, ==, -1.0);
    g_assert_false (is_anomaly);
    g_assert_cmpint (frames, >=, 1);
    g_assert_cmpuint (timestamp, ==, GST_BUFFER_PTS (buf));
    g_assert_cmpuint (duration, ==, GST_BUFFER_DURATION (buf));
    g_assert_true ((gst_buffer_get_audio_level_meta (buf) != NULL) == has_vad);
  }
  output_clear (&out);
  fixture_clear (&f);

  fixture_init (&f, "F32LE", 16000, 1, "anomaly-meta", FALSE, NULL);
  push_random_splits (&f, data, n, 15);
  push_eos (&f);
  pull_all (&f, &out);
  for (i = 0; i < out.buffers->len; i++)
    g_assert_null (gst_buffer_get_custom_meta (g_ptr_array_index
            (out.buffers, i), "GstDaeAnomalyMeta"));
  output_clear (&out);
  fixture_clear (&f);
  g_free (data);
}

static void
test_level_meta_vad (void)
{
  GstHarness *h = gst_harness_new_parse ("daedenoise model-file="
      TEST_MODEL_DIR "/model-vad-16k.dae");
  Fixture f = { 0, };
  Output out = { 0, };
  gsize n = 8000;
  gfloat *data = make_noise (n, 0.2f, 16);
  guint i;

  g_test_summary ("A model with a voice-activity head adds "
      "GstAudioLevelMeta with a plausible level");
  f.h = h;
  f.bus = gst_bus_new ();
  f.rate = 16000;
  f.channels = 1;
  gst_harness_set_src_caps_str (h, "audio/x-raw, format=F32LE, "
      "layout=interleaved, rate=16000, channels=1");
  push_random_splits (&f, data, n, 17);
  push_eos (&f);
  pull_all (&f, &out);
  g_assert_cmpuint (out.n, ==, n);
  for (i = 0; i < out.buffers->len; i++) {
    GstAudioLevelMeta *meta =
        gst_buffer_get_audio_level_meta (g_ptr_array_index (out.buffers, i));

    g_assert_nonnull (meta);
    g_assert_cmpuint (meta->level, <=, 127);
  }
  output_clear (&out);
  g_free (data);
  fixture_clear (&f);
}

static void
test_messages_interval (void)
{
  Fixture f;
  Output out = { 0, };
  gsize n = 16000 + 1234;
  gfloat *data = make_noise (n * 2, 0.2f, 18);
  GList *msgs;
  GList *l;
  GstClockTime expected_ts = GST_SECOND;
  GstClockTime total = 0;
  guint count = 0;

  g_test_summary ("dae-anomaly messages: every field present and typed, "
      "timestamps contiguous (ts + duration == next ts), the last at EOS "
      "so that they cover the whole stream");
  fixture_init (&f, "F32LE", 16000, 2, "interval", 50 * GST_MSECOND, NULL);
  f.pushed = 16000;
  push_random_splits (&f, data, n, 19);
  push_eos (&f);
  pull_all (&f, &out);
  msgs = pop_element_messages (&f, "dae-anomaly");
  g_assert_cmpuint (g_list_length (msgs), >=, 20);
  for (l = msgs; l != NULL; l = l->next) {
    const GstStructure *s = gst_message_get_structure (l->data);
    guint64 ts;
    guint64 stream_time;
    guint64 running_time;
    guint64 duration;
    gdouble score;
    gdouble max_score;
    gdouble threshold;
    gboolean is_anomaly;
    const GValue *scores;
    const GValue *band_errors;
    guint i;

    g_assert_true (gst_structure_get (s,
            "timestamp", G_TYPE_UINT64, &ts,
            "stream-time", G_TYPE_UINT64, &stream_time,
            "running-time", G_TYPE_UINT64, &running_time,
            "duration", G_TYPE_UINT64, &duration,
            "score", G_TYPE_DOUBLE, &score,
            "max-score", G_TYPE_DOUBLE, &max_score,
            "threshold", G_TYPE_DOUBLE, &threshold,
            "is-anomaly", G_TYPE_BOOLEAN, &is_anomaly, NULL));
    g_assert_cmpuint (ts, ==, expected_ts);
    g_assert_cmpuint (stream_time, ==, ts);
    g_assert_cmpuint (running_time, ==, ts);
    g_assert_cmpuint (duration, >, 0);
    if (l->next != NULL)
      g_assert_cmpuint (duration, >=, 50 * GST_MSECOND);
    g_assert_cmpfloat (score, >=, 0.0);
    g_assert_cmpfloat (score, <=, max_score + 1e-9);
    g_assert_false (is_anomaly);

    G_GNUC_BEGIN_IGNORE_DEPRECATIONS;
    scores = gst_structure_get_value (s, "scores");
    g_assert_true (G_VALUE_HOLDS (scores, g_value_array_get_type ()));
    {
      GValueArray *arr = g_value_get_boxed (scores);

      g_assert_cmpuint (arr->n_values, ==, 2);
      for (i = 0; i < arr->n_values; i++) {
        gdouble v = g_value_get_double (g_value_array_get_nth (arr, i));

        g_assert_cmpfloat (v, >=, 0.0);
        g_assert_cmpfloat (v, <=, max_score + 1e-9);
      }
    }
    band_errors = gst_structure_get_value (s, "band-errors");
    g_assert_true (G_VALUE_HOLDS (band_errors, g_value_array_get_type ()));
    {
      GValueArray *arr = g_value_get_boxed (band_errors);
      gdouble mean = 0.0;

      g_assert_cmpuint (arr->n_values, >=, 2);
      for (i = 0; i < arr->n_values; i++) {
        gdouble v = g_value_get_double (g_value_array_get_nth (arr, i));

        g_assert_cmpfloat (v, >=, 0.0);
        mean += v / arr->n_values;
      }
      /* the frame score is the mean band error (max over channels) */
      g_assert_cmpfloat (mean, <=, max_score * 1.0001 + 1e-9);
    }
    G_GNUC_END_IGNORE_DEPRECATIONS;

    expected_ts = ts + duration;
    total += duration;
    count++;
  }
  g_assert_cmpuint (total, ==, sample_time (&f, 16000 + n) - GST_SECOND);
  g_list_free_full (msgs, (GDestroyNotify) gst_message_unref);
  output_clear (&out);
  fixture_clear (&f);

  /* post-messages=FALSE: none */
  fixture_init (&f, "F32LE", 16000, 2, "post-messages", FALSE, NULL);
  push_random_splits (&f, data, n, 19);
  push_eos (&f);
  pull_all (&f, &out);
  msgs = pop_element_messages (&f, "dae-anomaly");
  g_assert_null (msgs);
  output_clear (&out);
  fixture_clear (&f);
  g_free (data);
  (void) count;
}

static guint
count_custom_events (Fixture * f, const gchar * name)
{
  GstEvent *event;
  guint n = 0;

  while ((event = gst_harness_try_pull_event (f->h)) != NULL) {
    if (GST_EVENT_TYPE (event) == GST_EVENT_CUSTOM_DOWNSTREAM
        && gst_event_has_name (event, name))
      n++;
    gst_event_unref (event);
  }
  return n;
}

static void
test_anomaly_start_end (void)
{
  Fixture f;
  Output out = { 0, };
  gsize n = 16000;
  gfloat *data = make_noise (n, 0.2f, 20);
  GList *msgs;
  GstClockTime start_time;
  GstClockTime end_time;
  GstClockTime duration;
  gdouble score;
  GstCustomMeta *meta;
  gboolean is_anomaly;

  g_test_summary ("With threshold 0 every frame is anomalous: start "
      "message + event; raising the threshold ends it: end message with "
      "duration + event; the meta follows the state; an anomaly open at EOS "
      "is closed before EOS");
  fixture_init (&f, "F32LE", 16000, 1, "anomaly-threshold", 0.0,
      "anomaly-hold", 30 * GST_MSECOND, NULL);
  g_assert_cmpint (push_samples (&f, data, n, 0), ==, GST_FLOW_OK);
  pull_all (&f, &out);
  msgs = pop_element_messages (&f, "dae-anomaly-start");
  g_assert_cmpuint (g_list_length (msgs), ==, 1);
  g_assert_true (gst_structure_get (gst_message_get_structure (msgs->data),
          "stream-time", G_TYPE_UINT64, &start_time,
          "running-time", G_TYPE_UINT64, &end_time,
          "score", G_TYPE_DOUBLE, &score, NULL));
  g_assert_cmpuint (start_time, ==, end_time);
  g_assert_cmpuint (start_time, <, 100 * GST_MSECOND);
  g_assert_cmpfloat (score, >, 0.0);
  g_list_free_full (msgs, (GDestroyNotify) gst_message_unref);
  g_assert_cmpuint (count_custom_events (&f, "dae-anomaly-start"), ==, 1);
  meta = gst_buffer_get_custom_meta (g_ptr_array_index (out.buffers,
          out.buffers->len - 1), "GstDaeAnomalyMeta");
  g_assert_nonnull (meta);
  g_assert_true (gst_structure_get_boolean (gst_custom_meta_get_structure
          (meta), "is-anomaly", &is_anomaly));
  g_assert_true (is_anomaly);
  output_clear (&out);

  g_object_set (f.h->element, "anomaly-threshold", 1e30, NULL);
  g_assert_cmpint (push_samples (&f, data, n, 0), ==, GST_FLOW_OK);
  push_eos (&f);
  pull_all (&f, &out);
  msgs = pop_element_messages (&f, "dae-anomaly-end");
  g_assert_cmpuint (g_list_length (msgs), ==, 1);
  g_assert_true (gst_structure_get (gst_message_get_structure (msgs->data),
          "stream-time", G_TYPE_UINT64, &end_time,
          "duration", G_TYPE_UINT64, &duration, NULL));
  g_assert_cmpuint (end_time, >=, GST_SECOND);
  g_assert_cmpuint (duration, ==, end_time - start_time);
  g_list_free_full (msgs, (GDestroyNotify) gst_message_unref);
  g_assert_cmpuint (count_custom_events (&f, "dae-anomaly-end"), ==, 1);
  output_clear (&out);
  fixture_clear (&f);

  /* an anomaly still open at EOS is closed before the EOS event */
  fixture_init (&f, "F32LE", 16000, 1, "anomaly-threshold", 0.0,
      "anomaly-hold", 0 * GST_MSECOND, NULL);
  g_assert_cmpint (push_samples (&f, data, n, 0), ==, GST_FLOW_OK);
  push_eos (&f);
  pull_all (&f, &out);
  msgs = pop_element_messages (&f, "dae-anomaly-end");
  g_assert_cmpuint (g_list_length (msgs), ==, 1);
  g_assert_true (gst_structure_get (gst_message_get_structure (msgs->data),
          "stream-time", G_TYPE_UINT64, &end_time, NULL));
  g_assert_cmpuint (end_time, ==, GST_SECOND);
  g_list_free_full (msgs, (GDestroyNotify) gst_message_unref);
  {
    GstEvent *event;
    gboolean saw_end = FALSE;
    gboolean end_before_eos = FALSE;

    while ((event = gst_harness_try_pull_event (f.h)) != NULL) {
      if (gst_event_has_name (event, "dae-anomaly-end"))
        saw_end = TRUE;
      if (GST_EVENT_TYPE (event) == GST_EVENT_EOS)
        end_before_eos = saw_end;
      gst_event_unref (event);
    }
    g_assert_true (end_before_eos);
  }
  output_clear (&out);
  fixture_clear (&f);
  g_free (data);
}

static void
test_link_channels (void)
{
  Fixture f;
  Output out = { 0, };
  gsize n = 16000;
  gfloat *mono = make_noise (n, 0.3f, 22);
  gfloat *data = g_new (gfloat, n * 2);
  gsize i;

  g_test_summary ("link-channels: right = left / 2 stays so after "
      "denoising (shared gains), with the network on");
  for (i = 0; i < n; i++) {
    data[2 * i] = mono[i];
    data[2 * i + 1] = mono[i] * 0.5f;
  }
  fixture_init (&f, "F32LE", 16000, 2, "link-channels", TRUE, NULL);
  push_random_splits (&f, data, n, 23);
  push_eos (&f);
  pull_all (&f, &out);
  g_assert_cmpuint (out.n, ==, n);
  for (i = 0; i < n; i++)
    g_assert_cmpfloat_with_epsilon (out.data[2 * i + 1],
        out.data[2 * i] * 0.5f, STFT_EPSILON);
  output_clear (&out);
  fixture_clear (&f);
  g_free (mono);
  g_free (data);
}

/* ------------------------------------------------------------------------ */
/* Online learning                                                           */

/* Learning tests keep the training short: a few seconds of audio and one
 * or two epochs (about a second of CPU each).  How long to wait for a
 * learning to finish: long enough for valgrind (meson's timeout stops a
 * hang in a normal run first). */
#define LEARN_TIMEOUT (1200 * GST_SECOND)
#define LEARN_RATE 16000

/* A synthetic machine: a 100 Hz hum with eight harmonics, its level
 * wobbling at 0.5 Hz, plus broadband noise; the same on every channel.
 * With anomalous, a 3 kHz whine and a click every 50 ms are added.
 * offset: the first sample's index, so consecutive parts join without a
 * phase jump. */
static gfloat *
make_machine (gsize n, gint channels, guint64 offset, guint32 seed,
    gboolean anomalous)
{
  GRand *rand = g_rand_new_with_seed (seed);
  gfloat *data = g_new (gfloat, n * channels);
  gsize i;
  gint c;
  gint h;

  for (i = 0; i < n; i++) {
    gdouble t = (gdouble) (offset + i) / LEARN_RATE;
    gdouble v = 0.0;

    for (h = 1; h <= 8; h++)
      v += 0.15 / h * sin (2.0 * G_PI * 100.0 * h * t + h);
    v *= 1.0 + 0.1 * sin (2.0 * G_PI * 0.5 * t);
    v += g_rand_double_range (rand, -0.03, 0.03);
    if (anomalous) {
      v += 0.1 * sin (2.0 * G_PI * 3000.0 * t);
      if ((offset + i) % (LEARN_RATE / 20) < 32)
        v += g_rand_double_range (rand, -0.5, 0.5);
    }
    for (c = 0; c < channels; c++)
      data[i * channels + c] = (gfloat) v;
  }
  g_rand_free (rand);
  return data;
}

/* An array that owns the messages it holds. */
static GPtrArray *
messages_new (void)
{
  return g_ptr_array_new_with_free_func ((GDestroyNotify) gst_message_unref);
}

/* The end of a learning test: frees what it collected and the harness. */
static void
learn_fixture_clear (Fixture * f, Output * out, GPtrArray * msgs)
{
  g_ptr_array_unref (msgs);
  output_clear (out);
  fixture_clear (f);
}

/* As fixture_init, for learning: the learn properties can only be set
 * before the element starts, so they go into the harness's launch line
 * (with extra, further properties, or ""). */
static void
fixture_init_learn (Fixture * f, const gchar * format, gint channels,
    guint learn_seconds, guint epochs, const gchar * extra)
{
  gchar *launch;
  gchar *caps;

  memset (f, 0, sizeof (*f));
  f->rate = LEARN_RATE;
  f->channels = channels;
  f->s16 = g_strcmp0 (format, "S16LE") == 0;
  launch = g_strdup_printf ("daedenoise name=dae learn-duration=%"
      G_GUINT64_FORMAT " learn-epochs=%u %s", learn_seconds * GST_SECOND,
      epochs, extra);
  f->h = gst_harness_new_parse (launch);
  g_free (launch);
  g_assert_nonnull (f->h);
  /* the harness holds it in a bin */
  f->dae = gst_bin_get_by_name (GST_BIN (f->h->element), "dae");
  g_assert_nonnull (f->dae);
  gst_object_unref (f->dae);
  f->bus = gst_bus_new ();
  gst_element_set_bus (f->h->element, f->bus);
  caps = caps_string (format, LEARN_RATE, channels);
  gst_harness_set_src_caps_str (f->h, caps);
  g_free (caps);
}

/* Pushes n samples of the machine sound in 100 ms buffers, pulling the
 * output as it goes. */
static void
push_machine (Fixture * f, Output * out, gsize n, guint32 seed,
    gboolean anomalous)
{
  gfloat *data = make_machine (n, f->channels, f->pushed, seed, anomalous);
  gsize chunk = f->rate / 10;
  gsize done;

  for (done = 0; done < n; done += chunk) {
    g_assert_cmpint (push_samples (f, data + done * f->channels,
            MIN (chunk, n - done), 0), ==, GST_FLOW_OK);
    pull_all (f, out);
  }
  g_free (data);
}

/* Moves every message on the bus to msgs, then waits (up to
 * LEARN_TIMEOUT) for one with the structure name until, if given.
 * Returns whether it came. */
static gboolean
collect_messages (Fixture * f, GPtrArray * msgs, const gchar * until)
{
  GstMessage *msg;
  gint64 deadline = g_get_monotonic_time () + LEARN_TIMEOUT / GST_USECOND;

  while ((msg = gst_bus_pop (f->bus)) != NULL)
    g_ptr_array_add (msgs, msg);
  if (until != NULL) {
    guint i;

    for (i = 0; i < msgs->len; i++) {
      const GstStructure *s = gst_message_get_structure (msgs->pdata[i]);

      if (s != NULL && gst_structure_has_name (s, until))
        return TRUE;
    }
  }
  while (until != NULL && g_get_monotonic_time () < deadline) {
    const GstStructure *s;

    msg = gst_bus_timed_pop (f->bus, 100 * GST_MSECOND);
    if (msg == NULL)
      continue;
    g_ptr_array_add (msgs, msg);
    s = gst_message_get_structure (msg);
    if (s != NULL && gst_structure_has_name (s, until))
      return TRUE;
  }
  return until == NULL;
}

/* The structures of the element messages in msgs named name. */
static GPtrArray *
filter_messages (GPtrArray * msgs, const gchar * name)
{
  GPtrArray *result = g_ptr_array_new ();
  guint i;

  for (i = 0; i < msgs->len; i++) {
    GstMessage *msg = msgs->pdata[i];
    const GstStructure *s = gst_message_get_structure (msg);

    if (GST_MESSAGE_TYPE (msg) == GST_MESSAGE_ELEMENT && s != NULL
        && gst_structure_has_name (s, name))
      g_ptr_array_add (result, (gpointer) s);
  }
  return result;
}

static guint
count_type (GPtrArray * msgs, GstMessageType type)
{
  guint n = 0;
  guint i;

  for (i = 0; i < msgs->len; i++)
    n += GST_MESSAGE_TYPE (msgs->pdata[i]) == type;
  return n;
}

static gdouble
get_double (const GstStructure * s, const gchar * field)
{
  gdouble value = NAN;

  g_assert_true (gst_structure_get_double (s, field, &value));
  return value;
}

static guint64
get_uint64 (const GstStructure * s, const gchar * field)
{
  guint64 value = 0;

  g_assert_true (gst_structure_get_uint64 (s, field, &value));
  return value;
}

/* Checks the dae-learning messages: collecting progress rising to 1, then
 * training progress rising to 1 with epochs counting up, nothing after
 * dae-learning-done; returns the dae-learning-done structure. */
static const GstStructure *
check_learning_messages (GPtrArray * msgs, guint epochs)
{
  GPtrArray *learning = filter_messages (msgs, "dae-learning");
  GPtrArray *done = filter_messages (msgs, "dae-learning-done");
  const GstStructure *result;
  gdouble last_fraction = -1.0;
  gboolean training = FALSE;
  guint last_epoch = 0;
  guint n_collecting = 0;
  guint n_training = 0;
  guint i;

  g_assert_cmpuint (done->len, ==, 1);
  for (i = 0; i < learning->len; i++) {
    const GstStructure *s = learning->pdata[i];
    const gchar *phase = gst_structure_get_string (s, "phase");
    gdouble fraction = get_double (s, "fraction");
    gdouble loss = get_double (s, "loss");
    guint epoch = 0;
    guint n_epochs = 0;

    g_assert_nonnull (phase);
    g_assert_true (gst_structure_get_uint (s, "epoch", &epoch));
    g_assert_true (gst_structure_get_uint (s, "epochs", &n_epochs));
    g_assert_cmpuint (n_epochs, ==, epochs);
    g_assert_cmpfloat (fraction, >=, 0.0);
    g_assert_cmpfloat (fraction, <=, 1.0);
    g_assert_cmpfloat (get_double (s, "seconds"), >, 0.0);
    if (g_str_equal (phase, "collecting")) {
      /* collecting comes first, and its fraction rises */
      g_assert_false (training);
      g_assert_cmpfloat (fraction, >, last_fraction);
      g_assert_cmpuint (epoch, ==, 0);
      g_assert_cmpfloat (loss, ==, -1.0);
      n_collecting++;
    } else {
      g_assert_cmpstr (phase, ==, "training");
      if (!training)
        last_fraction = -1.0;
      training = TRUE;
      g_assert_cmpfloat (fraction, >, last_fraction);
      g_assert_cmpuint (epoch, >=, MAX (last_epoch, 1));
      g_assert_cmpuint (epoch, <=, epochs);
      g_assert_true (isfinite (loss));
      g_assert_cmpfloat (loss, >=, 0.0);
      last_epoch = epoch;
      n_training++;
    }
    last_fraction = fraction;
  }
  g_assert_cmpuint (n_collecting, >=, 1);
  /* at least one message per epoch, the last one complete */
  g_assert_cmpuint (n_training, >=, epochs);
  g_assert_cmpfloat (last_fraction, ==, 1.0);

  result = done->pdata[0];
  g_assert_true (isfinite (get_double (result, "threshold")));
  g_assert_cmpfloat (get_double (result, "threshold"), >, 0.0);
  g_assert_cmpfloat (get_double (result, "train-time"), >, 0.0);
  g_ptr_array_unref (learning);
  g_ptr_array_unref (done);
  return result;
}

static void
test_learn_complete (void)
{
  Fixture f;
  Output out = { 0, };
  GPtrArray *msgs = messages_new ();
  GPtrArray *intervals;
  GPtrArray *starts;
  const GstStructure *done;
  /* the machine layout's 256 ms frames: 8 s hold 2 s out to calibrate */
  gsize learn = 8 * LEARN_RATE;
  gsize normal = 3 * LEARN_RATE;
  gsize anomalous = 2 * LEARN_RATE;
  GstClockTime anomaly_from;
  gdouble threshold;
  guint n_normal = 0;
  guint n_normal_anomalous = 0;
  guint i;

  g_test_summary ("learn-duration 8 s of a synthetic machine: collecting "
      "and training progress rise, one dae-learning-done with a finite "
      "positive threshold; no anomaly detection while learning; output "
      "samples and timestamps exact through the swap; afterwards the same "
      "machine scores below the threshold and an added whine and clicks "
      "start an anomaly");
  anomaly_from = gst_util_uint64_scale_int_round (learn + normal, GST_SECOND,
      LEARN_RATE);
  fixture_init_learn (&f, "F32LE", 1, 8, 4, "");

  push_machine (&f, &out, learn, 31, FALSE);
  g_assert_true (collect_messages (&f, msgs, "dae-learning-done"));
  done = check_learning_messages (msgs, 4);
  threshold = get_double (done, "threshold");
  g_assert_cmpfloat_with_epsilon (get_double (done, "seconds-of-audio"),
      8.0, 1e-9);
  g_assert_null (gst_structure_get_string (done, "model-file"));

  /* while learning: no threshold, no anomaly */
  intervals = filter_messages (msgs, "dae-anomaly");
  g_assert_cmpuint (intervals->len, >, 0);
  for (i = 0; i < intervals->len; i++)
    g_assert_cmpfloat (get_double (intervals->pdata[i], "threshold"), ==, -1.0);
  g_ptr_array_unref (intervals);
  starts = filter_messages (msgs, "dae-anomaly-start");
  g_assert_cmpuint (starts->len, ==, 0);
  g_ptr_array_unref (starts);
  g_assert_cmpuint (count_type (msgs, GST_MESSAGE_WARNING), ==, 0);
  g_assert_cmpuint (count_type (msgs, GST_MESSAGE_ERROR), ==, 0);

  push_machine (&f, &out, normal, 32, FALSE);
  push_machine (&f, &out, anomalous, 33, TRUE);
  push_eos (&f);
  pull_all (&f, &out);
  g_assert_true (collect_messages (&f, msgs, NULL));

  /* the swap changes neither the sample count nor the timestamps */
  g_assert_cmpuint (out.n, ==, learn + normal + anomalous);
  g_assert_true (out.contiguous);
  g_assert_cmpuint (out.n_discont, ==, 1);
  g_assert_cmpuint (out.first_pts, ==, 0);
  g_assert_true (all_finite (out.data, out.n));

  /* after the swap: the learned threshold; the normal part is normal */
  intervals = filter_messages (msgs, "dae-anomaly");
  for (i = 0; i < intervals->len; i++) {
    const GstStructure *s = intervals->pdata[i];
    guint64 ts = get_uint64 (s, "timestamp");

    if (ts < sample_time (&f, learn + f.rate / 2))
      continue;
    g_assert_cmpfloat (get_double (s, "threshold"), ==, threshold);
    if (ts + get_uint64 (s, "duration") <= anomaly_from) {
      n_normal++;
      if (get_double (s, "score") > threshold)
        n_normal_anomalous++;
    }
  }
  g_ptr_array_unref (intervals);
  g_assert_cmpuint (n_normal, >=, 20);
  g_assert_cmpuint (n_normal_anomalous * 10, <=, n_normal);

  starts = filter_messages (msgs, "dae-anomaly-start");
  g_assert_cmpuint (starts->len, >=, 1);
  for (i = 0; i < starts->len; i++)
    g_assert_cmpuint (get_uint64 (starts->pdata[i], "timestamp"), >=,
        anomaly_from);
  g_ptr_array_unref (starts);
  starts = filter_messages (msgs, "dae-learning-done");
  g_assert_cmpuint (starts->len, ==, 1);
  g_ptr_array_unref (starts);

  learn_fixture_clear (&f, &out, msgs);
}

/* Learns from secs seconds with one epoch; returns the messages up to
 * dae-learning-done (asserted to come). */
static GPtrArray *
learn_quickly (Fixture * f, Output * out, guint secs)
{
  GPtrArray *msgs = messages_new ();

  push_machine (f, out, secs * f->rate, 41, FALSE);
  g_assert_true (collect_messages (f, msgs, "dae-learning-done"));
  return msgs;
}

static gboolean
emit_save_model (GstElement * element, const gchar * path)
{
  gboolean saved = FALSE;

  g_signal_emit_by_name (element, "save-model", path, &saved);
  return saved;
}

static void
test_learn_save (void)
{
  Fixture f;
  Output out = { 0, };
  gchar *dir = g_dir_make_tmp ("dae-learn-XXXXXX", NULL);
  gchar *learned_path = g_build_filename (dir, "learned.dae", NULL);
  gchar *saved_path = g_build_filename (dir, "saved.dae", NULL);
  gchar *before_path = g_build_filename (dir, "before.dae", NULL);
  gchar *extra;
  DaeModel *model = NULL;
  DaeError error;
  GPtrArray *msgs;
  GPtrArray *done;
  gdouble threshold;

  g_test_summary ("learned-model-file: the learned model is saved before "
      "dae-learning-done (which names the file) and loads with the learned "
      "threshold; the save-model action signal saves the scoring model: "
      "the running default model before learning is done, the learned one "
      "after");
  g_assert_nonnull (dir);
  extra = g_strdup_printf ("learned-model-file=\"%s\"", learned_path);
  fixture_init_learn (&f, "F32LE", 1, 2, 1, extra);
  g_free (extra);

  /* before learning: the embedded default model, which is not calibrated */
  push_machine (&f, &out, f.rate / 10, 40, FALSE);
  g_assert_true (emit_save_model (f.dae, before_path));
  g_assert_cmpint (dae_model_load_file (before_path, &model, &error), ==,
      DAE_OK);
  g_assert_cmpfloat (dae_model_get_anomaly_threshold (model), <, 0.0f);
  g_clear_pointer (&model, dae_model_unref);

  msgs = learn_quickly (&f, &out, 2);
  done = filter_messages (msgs, "dae-learning-done");
  threshold = get_double (done->pdata[0], "threshold");
  g_assert_cmpstr (gst_structure_get_string (done->pdata[0], "model-file"),
      ==, learned_path);
  g_assert_cmpuint (count_type (msgs, GST_MESSAGE_WARNING), ==, 0);
  g_ptr_array_unref (done);
  g_ptr_array_unref (msgs);

  g_assert_cmpint (dae_model_load_file (learned_path, &model, &error), ==,
      DAE_OK);
  g_assert_cmpfloat_with_epsilon (dae_model_get_anomaly_threshold (model),
      threshold, 1e-6 * threshold);
  g_assert_cmpuint (dae_model_get_sample_rate (model), ==, LEARN_RATE);
  g_assert_nonnull (strstr (dae_model_get_info (model), "learned online"));
  g_clear_pointer (&model, dae_model_unref);

  g_assert_true (emit_save_model (f.dae, saved_path));
  g_assert_cmpint (dae_model_load_file (saved_path, &model, &error), ==,
      DAE_OK);
  g_assert_cmpfloat_with_epsilon (dae_model_get_anomaly_threshold (model),
      threshold, 1e-6 * threshold);
  g_clear_pointer (&model, dae_model_unref);

  output_clear (&out);
  fixture_clear (&f);
  g_unlink (learned_path);
  g_unlink (saved_path);
  g_unlink (before_path);
  g_rmdir (dir);
  g_free (learned_path);
  g_free (saved_path);
  g_free (before_path);
  g_free (dir);
}

/* The one warning message in msgs: a RESOURCE error naming path. */
static void
check_write_warning (GPtrArray * msgs, const gchar * path)
{
  GError *err = NULL;
  gchar *debug = NULL;
  guint n = 0;
  guint i;

  for (i = 0; i < msgs->len; i++) {
    GstMessage *msg = msgs->pdata[i];

    g_assert_cmpint (GST_MESSAGE_TYPE (msg), !=, GST_MESSAGE_ERROR);
    if (GST_MESSAGE_TYPE (msg) != GST_MESSAGE_WARNING)
      continue;
    gst_message_parse_warning (msg, &err, &debug);
    g_assert_true (g_error_matches (err, GST_RESOURCE_ERROR,
            GST_RESOURCE_ERROR_OPEN_WRITE));
    g_assert_nonnull (strstr (err->message, path));
    g_clear_error (&err);
    g_free (debug);
    n++;
  }
  g_assert_cmpuint (n, ==, 1);
}

static void
test_learn_save_unwritable (void)
{
  Fixture f;
  Output out = { 0, };
  const gchar *path = "/nonexistent-dae-dir/learned.dae";
  GPtrArray *msgs;
  GPtrArray *done;
  gsize n_before;

  g_test_summary ("A learned-model-file that cannot be written (its "
      "directory does not exist) gives a warning message, not an error: "
      "dae-learning-done still comes (without model-file), the learned "
      "model scores and streaming goes on; save-model to such a path "
      "returns FALSE with a warning");
  fixture_init_learn (&f, "F32LE", 1, 2, 1,
      "learned-model-file=/nonexistent-dae-dir/learned.dae");
  msgs = learn_quickly (&f, &out, 2);
  check_write_warning (msgs, path);
  done = filter_messages (msgs, "dae-learning-done");
  g_assert_cmpuint (done->len, ==, 1);
  g_assert_null (gst_structure_get_string (done->pdata[0], "model-file"));
  g_assert_true (isfinite (get_double (done->pdata[0], "threshold")));
  g_ptr_array_unref (done);
  g_ptr_array_set_size (msgs, 0);

  n_before = out.n;
  push_machine (&f, &out, f.rate, 42, FALSE);
  g_assert_cmpuint (out.n, >, n_before);

  g_assert_false (emit_save_model (f.dae, path));
  push_eos (&f);
  pull_all (&f, &out);
  g_assert_cmpuint (out.n, ==, 3 * f.rate);
  g_assert_true (out.contiguous);
  g_assert_true (collect_messages (&f, msgs, NULL));
  check_write_warning (msgs, path);

  learn_fixture_clear (&f, &out, msgs);
}

static void
test_learn_cancel (void)
{
  Fixture f;
  Output out = { 0, };
  GPtrArray *msgs = messages_new ();
  GPtrArray *done;
  gint64 start;

  g_test_summary ("Going to NULL while training (1000 epochs) cancels it "
      "at once: the thread is joined, no dae-learning-done, no leaks "
      "(GST_TRACERS=leaks); back in PLAYING the element learns again");
  fixture_init_learn (&f, "F32LE", 1, 2, 1000, "");
  push_machine (&f, &out, 2 * f.rate, 43, FALSE);
  /* wait for the first training progress message: the thread is busy */
  while (TRUE) {
    GPtrArray *learning;
    gboolean busy = FALSE;
    guint i;

    g_assert_true (collect_messages (&f, msgs, "dae-learning"));
    learning = filter_messages (msgs, "dae-learning");
    for (i = 0; i < learning->len; i++)
      busy |= g_strcmp0 (gst_structure_get_string (learning->pdata[i],
              "phase"), "training") == 0;
    g_ptr_array_unref (learning);
    if (busy)
      break;
    g_ptr_array_set_size (msgs, 0);
    g_usleep (10000);
  }

  start = g_get_monotonic_time ();
  g_assert_cmpint (gst_element_set_state (f.h->element, GST_STATE_NULL), ==,
      GST_STATE_CHANGE_SUCCESS);
  /* about one mini-batch (milliseconds; seconds under valgrind), where
   * the 1000 epochs would take some 1000 s */
  g_assert_cmpint (g_get_monotonic_time () - start, <, 60 * G_USEC_PER_SEC);
  g_ptr_array_set_size (msgs, 0);
  g_assert_true (collect_messages (&f, msgs, NULL));
  done = filter_messages (msgs, "dae-learning-done");
  g_assert_cmpuint (done->len, ==, 0);
  g_ptr_array_unref (done);
  output_clear (&out);

  /* and again, to the end */
  g_object_set (f.dae, "learn-epochs", 1, NULL);
  g_assert_cmpint (gst_element_set_state (f.h->element, GST_STATE_PLAYING),
      ==, GST_STATE_CHANGE_SUCCESS);
  g_assert_true (gst_harness_push_event (f.h,
          gst_event_new_stream_start ("again")));
  gst_harness_set_src_caps_str (f.h, "audio/x-raw, format=F32LE, "
      "layout=interleaved, rate=16000, channels=1");
  f.pushed = 0;
  g_ptr_array_unref (msgs);
  msgs = learn_quickly (&f, &out, 2);
  done = filter_messages (msgs, "dae-learning-done");
  g_assert_cmpfloat_with_epsilon (get_double (done->pdata[0],
          "seconds-of-audio"), 2.0, 1e-9);
  g_ptr_array_unref (done);

  output_clear (&out);
  fixture_clear (&f);
  g_ptr_array_unref (msgs);
}

static void
test_learn_eos (void)
{
  Fixture f;
  Output out = { 0, };
  GPtrArray *msgs = messages_new ();
  GPtrArray *done;

  g_test_summary ("A stream that ends before learn-duration: the element "
      "learns from what came (mono downmix of S16 stereo) and holds EOS "
      "until dae-learning-done is posted; all samples come out");
  fixture_init_learn (&f, "S16LE", 2, 10, 1, "");
  push_machine (&f, &out, 2 * f.rate, 44, FALSE);
  push_eos (&f);
  pull_all (&f, &out);
  g_assert_cmpuint (out.n, ==, 2 * f.rate);
  g_assert_true (out.contiguous);

  /* already there: no waiting */
  while (gst_bus_have_pending (f.bus))
    g_ptr_array_add (msgs, gst_bus_pop (f.bus));
  done = filter_messages (msgs, "dae-learning-done");
  g_assert_cmpuint (done->len, ==, 1);
  g_assert_cmpfloat_with_epsilon (get_double (done->pdata[0],
          "seconds-of-audio"), 2.0, 1e-9);
  g_ptr_array_unref (done);
  check_learning_messages (msgs, 1);

  learn_fixture_clear (&f, &out, msgs);
}

static void
test_learn_flush (void)
{
  Fixture f;
  Output out = { 0, };
  GPtrArray *msgs = messages_new ();
  GPtrArray *done;
  GstSegment segment;

  g_test_summary ("A flush while collecting keeps what was collected: "
      "1.5 s, a flush, then 1 s of a 2 s learn-duration learns from 2 s");
  fixture_init_learn (&f, "F32LE", 1, 2, 1, "");
  push_machine (&f, &out, f.rate * 3 / 2, 45, FALSE);
  g_assert_true (gst_harness_push_event (f.h, gst_event_new_flush_start ()));
  g_assert_true (gst_harness_push_event (f.h, gst_event_new_flush_stop (TRUE)));
  gst_segment_init (&segment, GST_FORMAT_TIME);
  g_assert_true (gst_harness_push_event (f.h,
          gst_event_new_segment (&segment)));
  f.pushed = 0;
  push_machine (&f, &out, f.rate, 46, FALSE);
  g_assert_true (collect_messages (&f, msgs, "dae-learning-done"));
  check_learning_messages (msgs, 1);
  done = filter_messages (msgs, "dae-learning-done");
  g_assert_cmpfloat_with_epsilon (get_double (done->pdata[0],
          "seconds-of-audio"), 2.0, 1e-9);
  g_ptr_array_unref (done);

  learn_fixture_clear (&f, &out, msgs);
}

/* How many of the warnings in msgs have this domain and code. */
static guint
count_warnings (GPtrArray * msgs, GQuark domain, gint code)
{
  guint n = 0;
  guint i;

  for (i = 0; i < msgs->len; i++) {
    GstMessage *msg = msgs->pdata[i];
    GError *err = NULL;

    if (GST_MESSAGE_TYPE (msg) != GST_MESSAGE_WARNING)
      continue;
    gst_message_parse_warning (msg, &err, NULL);
    n += g_error_matches (err, domain, code);
    g_clear_error (&err);
  }
  return n;
}

static void
test_learn_too_little (void)
{
  Fixture f;
  Output out = { 0, };
  GPtrArray *msgs = messages_new ();
  GPtrArray *done;
  GstSegment segment;
  guint i;

  g_test_summary ("Too little audio: a stream of 0.5 s ends with a "
      "warning and no training; three 0.4 s stretches split by flushes "
      "(each too short for a training sequence) make the training fail "
      "with a warning, after which the configured model scores again "
      "(threshold from the property); never an error");
  fixture_init_learn (&f, "F32LE", 1, 10, 1, "");
  push_machine (&f, &out, f.rate / 2, 47, FALSE);
  push_eos (&f);
  pull_all (&f, &out);
  g_assert_cmpuint (out.n, ==, f.rate / 2);
  g_assert_true (collect_messages (&f, msgs, NULL));
  g_assert_cmpuint (count_warnings (msgs, GST_STREAM_ERROR,
          GST_STREAM_ERROR_FAILED), ==, 1);
  g_assert_cmpuint (count_type (msgs, GST_MESSAGE_ERROR), ==, 0);
  done = filter_messages (msgs, "dae-learning-done");
  g_assert_cmpuint (done->len, ==, 0);
  g_ptr_array_unref (done);
  output_clear (&out);
  fixture_clear (&f);
  g_ptr_array_set_size (msgs, 0);

  fixture_init_learn (&f, "F32LE", 1, 1, 1, "anomaly-threshold=0");
  for (i = 0; i < 3; i++) {
    push_machine (&f, &out, f.rate * 4 / 10, 48 + i, FALSE);
    g_assert_true (gst_harness_push_event (f.h, gst_event_new_flush_start ()));
    g_assert_true (gst_harness_push_event (f.h,
            gst_event_new_flush_stop (TRUE)));
    gst_segment_init (&segment, GST_FORMAT_TIME);
    g_assert_true (gst_harness_push_event (f.h,
            gst_event_new_segment (&segment)));
    f.pushed = 0;
  }
  push_eos (&f);
  g_assert_true (collect_messages (&f, msgs, NULL));
  g_assert_cmpuint (count_warnings (msgs, GST_LIBRARY_ERROR,
          GST_LIBRARY_ERROR_FAILED), ==, 1);
  g_assert_cmpuint (count_type (msgs, GST_MESSAGE_ERROR), ==, 0);
  done = filter_messages (msgs, "dae-learning-done");
  g_assert_cmpuint (done->len, ==, 0);
  g_ptr_array_unref (done);

  /* learning is over: threshold 0 from the property makes anomalies */
  g_ptr_array_set_size (msgs, 0);
  g_assert_true (gst_harness_push_event (f.h, gst_event_new_flush_start ()));
  g_assert_true (gst_harness_push_event (f.h, gst_event_new_flush_stop (TRUE)));
  gst_segment_init (&segment, GST_FORMAT_TIME);
  g_assert_true (gst_harness_push_event (f.h,
          gst_event_new_segment (&segment)));
  f.pushed = 0;
  push_machine (&f, &out, f.rate, 52, FALSE);
  g_assert_true (collect_messages (&f, msgs, "dae-anomaly-start"));

  learn_fixture_clear (&f, &out, msgs);
}

static void
test_properties (void)
{
  GstElement *e = gst_element_factory_make ("daedenoise", NULL);
  gchar *model_file;
  gdouble limit;
  gdouble mix;
  gdouble threshold;
  gboolean link;
  gboolean post;
  gboolean meta;
  guint64 interval;
  guint64 hold;
  guint64 learn_duration;
  guint learn_epochs;
  gchar *learned;

  g_test_summary ("Defaults as documented; every property reads back");
  g_object_get (e, "model-file", &model_file, "attenuation-limit", &limit,
      "mix", &mix, "link-channels", &link, "post-messages", &post,
      "interval", &interval, "anomaly-threshold", &threshold,
      "anomaly-hold", &hold, "anomaly-meta", &meta, NULL);
  g_assert_null (model_file);
  g_assert_cmpfloat (limit, ==, 100.0);
  g_assert_cmpfloat (mix, ==, 1.0);
  g_assert_true (link);
  g_assert_true (post);
  g_assert_cmpuint (interval, ==, GST_SECOND / 10);
  g_assert_cmpfloat (threshold, ==, -1.0);
  g_assert_cmpuint (hold, ==, GST_SECOND / 5);
  g_assert_true (meta);

  g_object_set (e, "model-file", "x.dae", "attenuation-limit", 6.0,
      "mix", 0.25, "link-channels", FALSE, "post-messages", FALSE,
      "interval", GST_SECOND, "anomaly-threshold", 2.5,
      "anomaly-hold", GST_MSECOND, "anomaly-meta", FALSE, NULL);
  g_object_get (e, "model-file", &model_file, "attenuation-limit", &limit,
      "mix", &mix, "link-channels", &link, "post-messages", &post,
      "interval", &interval, "anomaly-threshold", &threshold,
      "anomaly-hold", &hold, "anomaly-meta", &meta, NULL);
  g_assert_cmpstr (model_file, ==, "x.dae");
  g_assert_cmpfloat (limit, ==, 6.0);
  g_assert_cmpfloat (mix, ==, 0.25);
  g_assert_false (link);
  g_assert_false (post);
  g_assert_cmpuint (interval, ==, GST_SECOND);
  g_assert_cmpfloat (threshold, ==, 2.5);
  g_assert_cmpuint (hold, ==, GST_MSECOND);
  g_assert_false (meta);
  g_free (model_file);

  g_object_get (e, "learn-duration", &learn_duration, "learn-epochs",
      &learn_epochs, "learned-model-file", &learned, NULL);
  g_assert_cmpuint (learn_duration, ==, 0);
  g_assert_cmpuint (learn_epochs, ==, 20);
  g_assert_null (learned);
  g_object_set (e, "learn-duration", 60 * GST_SECOND, "learn-epochs", 5,
      "learned-model-file", "m.dae", NULL);
  g_object_get (e, "learn-duration", &learn_duration, "learn-epochs",
      &learn_epochs, "learned-model-file", &learned, NULL);
  g_assert_cmpuint (learn_duration, ==, 60 * GST_SECOND);
  g_assert_cmpuint (learn_epochs, ==, 5);
  g_assert_cmpstr (learned, ==, "m.dae");
  g_free (learned);
  gst_object_unref (e);
}

int
main (int argc, char **argv)
{
  int ret;

  gst_init (&argc, &argv);
  g_test_init (&argc, &argv, NULL);

  g_test_add_func ("/element/daedenoise/properties", test_properties);
  g_test_add_func ("/element/daedenoise/caps/accept", test_caps_accept);
  g_test_add_func ("/element/daedenoise/caps/refuse-rate",
      test_caps_refuse_rate);
  g_test_add_func ("/element/daedenoise/caps/model-file-rate",
      test_caps_model_file_rate);
  g_test_add_func ("/element/daedenoise/samples-in-out/f32-mono",
      test_samples_in_out_f32_mono);
  g_test_add_func ("/element/daedenoise/samples-in-out/f32-stereo-48k",
      test_samples_in_out_f32_stereo);
  g_test_add_func ("/element/daedenoise/samples-in-out/s16-stereo",
      test_samples_in_out_s16_stereo);
  g_test_add_func ("/element/daedenoise/tonality-model", test_tonality_model);
  g_test_add_func ("/element/daedenoise/samples-in-out/f32-8ch",
      test_samples_in_out_f32_8ch);
  g_test_add_func ("/element/daedenoise/impulse-alignment",
      test_impulse_alignment);
  g_test_add_func ("/element/daedenoise/timestamps", test_timestamps);
  g_test_add_func ("/element/daedenoise/latency-query", test_latency_query);
  g_test_add_func ("/element/daedenoise/flush-stop", test_flush_stop);
  g_test_add_func ("/element/daedenoise/gap/buffer", test_gap_buffer);
  g_test_add_func ("/element/daedenoise/gap/event", test_gap_event);
  g_test_add_func ("/element/daedenoise/discont", test_discont);
  g_test_add_func ("/element/daedenoise/eos-before-caps", test_eos_before_caps);
  g_test_add_func ("/element/daedenoise/renegotiate", test_renegotiate);
  g_test_add_func ("/element/daedenoise/state-cycling", test_state_cycling);
  g_test_add_func ("/element/daedenoise/mix0-bit-exact/f32", test_mix0_f32);
  g_test_add_func ("/element/daedenoise/mix0-bit-exact/s16", test_mix0_s16);
  g_test_add_func ("/element/daedenoise/stress-properties",
      test_stress_properties);
  g_test_add_func ("/element/daedenoise/nonfinite", test_nonfinite);
  g_test_add_func ("/element/daedenoise/bad-model-file", test_bad_model_file);
  g_test_add_func ("/element/daedenoise/link-channels", test_link_channels);
  g_test_add_func ("/element/daedenoise/meta", test_meta);
  g_test_add_func ("/element/daedenoise/level-meta-vad", test_level_meta_vad);
  g_test_add_func ("/element/daedenoise/messages/interval",
      test_messages_interval);
  g_test_add_func ("/element/daedenoise/messages/anomaly-start-end",
      test_anomaly_start_end);
  DAE_TEST_ADD_SLOW_FUNC ("/element/daedenoise/learn/complete",
      test_learn_complete);
  DAE_TEST_ADD_SLOW_FUNC ("/element/daedenoise/learn/save", test_learn_save);
  DAE_TEST_ADD_SLOW_FUNC ("/element/daedenoise/learn/save-unwritable",
      test_learn_save_unwritable);
  DAE_TEST_ADD_SLOW_FUNC ("/element/daedenoise/learn/cancel",
      test_learn_cancel);
  DAE_TEST_ADD_SLOW_FUNC ("/element/daedenoise/learn/eos", test_learn_eos);
  DAE_TEST_ADD_SLOW_FUNC ("/element/daedenoise/learn/flush", test_learn_flush);
  g_test_add_func ("/element/daedenoise/learn/too-little-audio",
      test_learn_too_little);

  ret = g_test_run ();
  gst_deinit ();
  return ret;
}
