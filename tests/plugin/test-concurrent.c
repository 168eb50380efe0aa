/* daedenoise: eight pipelines in one process at once
 * Copyright (C) 2026 The dae authors
 * SPDX-License-Identifier: LGPL-2.1-or-later
 *
 * Eight "appsrc ! daedenoise ! appsink" pipelines with different caps
 * (16/48 kHz, F32/S16, 1 to 8 channels) and different property settings
 * share the embedded default models.  Each first runs alone; then all
 * eight run at the same time, each driven by its own thread.  The audio
 * and the per-buffer anomaly scores must be bitwise identical.
 */

#include <math.h>
#include <string.h>

#include <gst/gst.h>
#include <gst/app/app.h>
#include <gst/audio/audio.h>

#define N_PIPELINES 8
#define SECONDS 4

typedef struct
{
  const gchar *format;
  gint rate;
  gint channels;
  const gchar *props;
} Config;

static const Config configs[N_PIPELINES] = {
  {"F32LE", 16000, 1, ""},
  {"F32LE", 48000, 2, "mix=0.5"},
  {"S16LE", 16000, 2, "link-channels=false"},
  {"S16LE", 48000, 1, "attenuation-limit=12"},
  {"F32LE", 16000, 8, "interval=20000000"},
  {"F32LE", 48000, 6, "anomaly-threshold=0.5"},
  {"S16LE", 48000, 4, "mix=0.25 attenuation-limit=6"},
  {"F32LE", 16000, 3, "post-messages=false"},
};

typedef struct
{
  guint index;
  GstBuffer **input;
  guint n_input;
  /* the result */
  GByteArray *audio;
  GArray *scores;               /* gdouble, one per output buffer */
  guint n_messages;
  GThread *thread;
} Run;

static GstBuffer **
make_input (guint index, guint * n_buffers)
{
  const Config *c = &configs[index];
  gboolean s16 = g_str_equal (c->format, "S16LE");
  gsize bpf = c->channels * (s16 ? 2 : 4);
  guint64 total = (guint64) SECONDS * c->rate;
  GRand *rand = g_rand_new_with_seed (100 + index);
  GPtrArray *bufs = g_ptr_array_new ();
  guint64 done = 0;

  while (done < total) {
    guint64 want = (guint64) g_rand_int_range (rand, 1, 3000);
    gsize n = MIN (want, total - done);
    GstBuffer *buf = gst_buffer_new_allocate (NULL, n * bpf, NULL);
    GstMapInfo map;
    gsize i;

    gst_buffer_map (buf, &map, GST_MAP_WRITE);
    for (i = 0; i < n * c->channels; i++) {
      gdouble t = (gdouble) (done + i / c->channels) / c->rate;
      gdouble v = 0.3 * sin (2 * G_PI * (200.0 + 50 * index) * t) *
          (fmod (t, 0.5) < 0.3) + g_rand_double_range (rand, -0.05, 0.05);

      if (s16)
        ((gint16 *) map.data)[i] = (gint16) lrint (v * 32767.0);
      else
        ((gfloat *) map.data)[i] = (gfloat) v;
    }
    gst_buffer_unmap (buf, &map);
    GST_BUFFER_PTS (buf) = gst_util_uint64_scale_int_round (done, GST_SECOND,
        c->rate);
    GST_BUFFER_DURATION (buf) = gst_util_uint64_scale_int_round (done + n,
        GST_SECOND, c->rate) - GST_BUFFER_PTS (buf);
    g_ptr_array_add (bufs, buf);
    done += n;
  }
  g_rand_free (rand);
  *n_buffers = bufs->len;
  return (GstBuffer **) g_ptr_array_free (bufs, FALSE);
}

static GstFlowReturn
new_sample (GstAppSink * sink, gpointer user_data)
{
  Run *run = user_data;
  GstSample *sample = gst_app_sink_pull_sample (sink);
  GstBuffer *buf = gst_sample_get_buffer (sample);
  GstCustomMeta *meta = gst_buffer_get_custom_meta (buf, "GstDaeAnomalyMeta");
  GstMapInfo map;
  gdouble score = -1.0;

  gst_buffer_map (buf, &map, GST_MAP_READ);
  g_byte_array_append (run->audio, map.data, map.size);
  gst_buffer_unmap (buf, &map);
  if (meta != NULL)
    g_assert_true (gst_structure_get_double (gst_custom_meta_get_structure
            (meta), "score", &score));
  g_array_append_val (run->scores, score);
  gst_sample_unref (sample);
  return GST_FLOW_OK;
}

static gpointer
run_pipeline (gpointer data)
{
  Run *run = data;
  const Config *c = &configs[run->index];
  gchar *desc = g_strdup_printf ("appsrc name=src format=time "
      "caps=\"audio/x-raw,format=%s,layout=interleaved,rate=%d,channels=%d%s\""
      " max-bytes=200000 block=true ! daedenoise %s ! "
      "appsink name=sink sync=false", c->format, c->rate, c->channels,
      c->channels > 2 ? ",channel-mask=(bitmask)0" : "", c->props);
  GError *gerror = NULL;
  GstElement *pipeline = gst_parse_launch (desc, &gerror);
  GstElement *src;
  GstElement *sink;
  GstAppSinkCallbacks callbacks;
  GstBus *bus;
  GstMessage *msg;
  guint i;

  g_assert_no_error (gerror);
  memset (&callbacks, 0, sizeof (callbacks));
  callbacks.new_sample = new_sample;
  src = gst_bin_get_by_name (GST_BIN (pipeline), "src");
  sink = gst_bin_get_by_name (GST_BIN (pipeline), "sink");
  gst_app_sink_set_callbacks (GST_APP_SINK (sink), &callbacks, run, NULL);
  bus = gst_element_get_bus (pipeline);
  g_assert_cmpint (gst_element_set_state (pipeline, GST_STATE_PLAYING), !=,
      GST_STATE_CHANGE_FAILURE);
  for (i = 0; i < run->n_input; i++)
    g_assert_cmpint (gst_app_src_push_buffer (GST_APP_SRC (src),
            gst_buffer_ref (run->input[i])), ==, GST_FLOW_OK);
  g_assert_cmpint (gst_app_src_end_of_stream (GST_APP_SRC (src)), ==,
      GST_FLOW_OK);

  while ((msg = gst_bus_timed_pop (bus, 60 * GST_SECOND)) != NULL) {
    GstMessageType type = GST_MESSAGE_TYPE (msg);

    if (type == GST_MESSAGE_ERROR || type == GST_MESSAGE_WARNING) {
      GError *err = NULL;

      if (type == GST_MESSAGE_ERROR)
        gst_message_parse_error (msg, &err, NULL);
      else
        gst_message_parse_warning (msg, &err, NULL);
      g_error ("pipeline %u: %s", run->index, err->message);
    }
    if (type == GST_MESSAGE_ELEMENT)
      run->n_messages++;
    gst_message_unref (msg);
    if (type == GST_MESSAGE_EOS)
      break;
  }
  g_assert_nonnull (msg);

  gst_element_set_state (pipeline, GST_STATE_NULL);
  gst_object_unref (bus);
  gst_object_unref (src);
  gst_object_unref (sink);
  gst_object_unref (pipeline);
  g_free (desc);
  return NULL;
}

static void
run_init (Run * run, guint index, GstBuffer ** input, guint n_input)
{
  memset (run, 0, sizeof (*run));
  run->index = index;
  run->input = input;
  run->n_input = n_input;
  run->audio = g_byte_array_new ();
  run->scores = g_array_new (FALSE, FALSE, sizeof (gdouble));
}

static void
run_clear (Run * run)
{
  g_byte_array_unref (run->audio);
  g_array_unref (run->scores);
}

static void
test_concurrent (void)
{
  Run serial[N_PIPELINES];
  Run parallel[N_PIPELINES];
  GstBuffer **inputs[N_PIPELINES];
  guint n_inputs[N_PIPELINES];
  guint i;
  guint j;

  g_test_summary ("Eight pipelines with daedenoise in one process, sharing "
      "the embedded models, run at the same time from eight threads: "
      "output audio, anomaly scores and message counts bitwise identical "
      "to running them one at a time");

  for (i = 0; i < N_PIPELINES; i++) {
    inputs[i] = make_input (i, &n_inputs[i]);
    run_init (&serial[i], i, inputs[i], n_inputs[i]);
    run_init (&parallel[i], i, inputs[i], n_inputs[i]);
    run_pipeline (&serial[i]);
  }
  for (i = 0; i < N_PIPELINES; i++)
    parallel[i].thread = g_thread_new ("pipeline", run_pipeline, &parallel[i]);
  for (i = 0; i < N_PIPELINES; i++) {
    const Config *c = &configs[i];
    gsize bpf = c->channels * (g_str_equal (c->format, "S16LE") ? 2 : 4);

    g_thread_join (parallel[i].thread);
    g_assert_cmpuint (serial[i].audio->len, ==,
        (guint) (SECONDS * c->rate * bpf));
    g_assert_cmpuint (parallel[i].audio->len, ==, serial[i].audio->len);
    g_assert_cmpint (memcmp (parallel[i].audio->data, serial[i].audio->data,
            serial[i].audio->len), ==, 0);
    g_assert_cmpuint (parallel[i].scores->len, ==, serial[i].scores->len);
    g_assert_cmpint (memcmp (parallel[i].scores->data,
            serial[i].scores->data,
            serial[i].scores->len * sizeof (gdouble)), ==, 0);
    g_assert_cmpuint (parallel[i].n_messages, ==, serial[i].n_messages);
    run_clear (&serial[i]);
    run_clear (&parallel[i]);
    for (j = 0; j < n_inputs[i]; j++)
      gst_buffer_unref (inputs[i][j]);
    g_free (inputs[i]);
  }
}

int
main (int argc, char **argv)
{
  int ret;

  gst_init (&argc, &argv);
  g_test_init (&argc, &argv, NULL);
  g_test_add_func ("/element/daedenoise/concurrent-pipelines", test_concurrent);
  ret = g_test_run ();
  gst_deinit ();
  return ret;
}
