/* daedenoise soak test: a long run through a real pipeline
 * Copyright (C) 2026 The dae authors
 * SPDX-License-Identifier: LGPL-2.1-or-later
 *
 *   audiotestsrc ! audio/x-raw,F32LE,48000,2 ! daedenoise ! fakesink
 *
 * runs as fast as possible for SOAK_SECONDS of audio (default 3600; the
 * meson test sets 60), while the main thread changes the source's wave
 * (sine, square, noise, silence, ticks...), daedenoise's mix,
 * attenuation-limit, link-channels, interval and anomaly-threshold, and
 * does flushing seeks (back and forth).  Pad probes count the samples
 * entering and leaving daedenoise and check the output timestamps.
 *
 * Asserts: resident memory grows less than SOAK_MAX_GROWTH_KB (1024) from
 * the end of the warm-up (a tenth of the run, at least 10 s of audio) to
 * the end; after EOS the last segment released exactly as many samples as
 * went in, and each earlier (flushed) segment at most the element's
 * latency plus a buffer fewer; output timestamps are contiguous within a
 * segment and start at the first input timestamp after each flush; output
 * is finite; dae-anomaly messages carry finite scores; no GStreamer
 * warning or error (bus and debug log).
 *
 * Prints (TAP comments, read by bench/soak.sh): audio seconds, wall time,
 * real-time factor, RSS at warm-up and end, samples, seeks, property
 * changes.
 */

#include <math.h>
#include <stdatomic.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include <gst/gst.h>
#include <gst/audio/audio.h>

/* Under AddressSanitizer freed memory sits in a quarantine and
 * ThreadSanitizer keeps shadow state, so resident memory is no measure of
 * leaks there (LeakSanitizer and valgrind are) */
#if defined(__SANITIZE_ADDRESS__) || defined(__SANITIZE_THREAD__)
#define UNDER_SANITIZER 1
#elif defined(__has_feature)
#if __has_feature (address_sanitizer) || __has_feature (thread_sanitizer)
#define UNDER_SANITIZER 1
#endif
#endif

#define RATE 48000
#define CHANNELS 2
#define SAMPLES_PER_BUFFER 1024
/* output sample timestamps: rounding of sample -> ns */
#define TS_TOLERANCE_NS 1

typedef struct
{
  /* streaming thread only, read by the main thread after EOS */
  guint64 seg_in;               /* samples in since the last flush */
  guint64 seg_out;
  GstClockTime seg_first_in_pts;
  GstClockTime seg_first_out_pts;
  GstClockTime last_out_end;
  guint64 max_discarded;
  guint n_segments;
  guint n_bad_ts;
  guint n_nonfinite;
  guint64 discarded_total;

  /* read by the main thread while running */
  atomic_llong total_in;

  /* set by the main thread, applied by the source's streaming thread */
  atomic_int pending_wave;
} Stats;

static gint log_warnings;

static void
count_log (GstDebugCategory * category, GstDebugLevel level,
    const gchar * file, const gchar * function, gint line, GObject * object,
    GstDebugMessage * message, gpointer user_data)
{
  if (level <= GST_LEVEL_WARNING && level > GST_LEVEL_NONE) {
    g_atomic_int_inc (&log_warnings);
    g_printerr ("soak: %s %s:%d %s: %s\n",
        gst_debug_level_get_name (level), file, line, function,
        gst_debug_message_get (message));
  }
}

static glong
rss_kb (void)
{
  FILE *f = fopen ("/proc/self/statm", "r");
  glong size = 0;
  glong resident = 0;

  g_assert_nonnull (f);
  g_assert_cmpint (fscanf (f, "%ld %ld", &size, &resident), ==, 2);
  fclose (f);
  return resident * (sysconf (_SC_PAGESIZE) / 1024);
}

static GstPadProbeReturn
sink_probe (GstPad * pad, GstPadProbeInfo * info, gpointer user_data)
{
  Stats *stats = user_data;

  if (info->type & GST_PAD_PROBE_TYPE_BUFFER) {
    GstBuffer *buf = GST_PAD_PROBE_INFO_BUFFER (info);
    gsize n = gst_buffer_get_size (buf) / (CHANNELS * sizeof (gfloat));

    if (stats->seg_in == 0)
      stats->seg_first_in_pts = GST_BUFFER_PTS (buf);
    stats->seg_in += n;
    atomic_fetch_add (&stats->total_in, (long long) n);
  } else if (info->type & GST_PAD_PROBE_TYPE_EVENT_FLUSH) {
    GstEvent *event = GST_PAD_PROBE_INFO_EVENT (info);

    /* the element forgets what it holds at FLUSH_STOP: close the
     * segment's accounting before it sees the event (output for it can no
     * longer appear) */
    if (GST_EVENT_TYPE (event) == GST_EVENT_FLUSH_STOP && stats->seg_in > 0) {
      guint64 discarded = stats->seg_in - MIN (stats->seg_in, stats->seg_out);

      if (stats->seg_out > stats->seg_in)
        stats->n_bad_ts++;
      stats->max_discarded = MAX (stats->max_discarded, discarded);
      stats->discarded_total += discarded;
      stats->n_segments++;
      stats->seg_in = 0;
      stats->seg_out = 0;
      stats->seg_first_out_pts = GST_CLOCK_TIME_NONE;
    }
  }
  return GST_PAD_PROBE_OK;
}

static GstPadProbeReturn
src_probe (GstPad * pad, GstPadProbeInfo * info, gpointer user_data)
{
  Stats *stats = user_data;
  GstBuffer *buf = GST_PAD_PROBE_INFO_BUFFER (info);
  GstMapInfo map;
  gsize n;
  gsize i;

  gst_buffer_map (buf, &map, GST_MAP_READ);
  n = map.size / (CHANNELS * sizeof (gfloat));
  for (i = 0; i < n * CHANNELS; i++) {
    if (!isfinite (((const gfloat *) map.data)[i])) {
      stats->n_nonfinite++;
      break;
    }
  }
  gst_buffer_unmap (buf, &map);

  if (stats->seg_out == 0) {
    stats->seg_first_out_pts = GST_BUFFER_PTS (buf);
    /* output starts where the input of the segment started */
    if (GST_BUFFER_PTS (buf) != stats->seg_first_in_pts)
      stats->n_bad_ts++;
  } else if (GST_BUFFER_IS_DISCONT (buf)) {
    stats->n_bad_ts++;
  } else {
    GstClockTimeDiff d = GST_CLOCK_DIFF (stats->last_out_end,
        GST_BUFFER_PTS (buf));

    if (ABS (d) > TS_TOLERANCE_NS)
      stats->n_bad_ts++;
  }
  if (!GST_BUFFER_PTS_IS_VALID (buf) || !GST_BUFFER_DURATION_IS_VALID (buf))
    stats->n_bad_ts++;
  stats->last_out_end = GST_BUFFER_PTS (buf) + GST_BUFFER_DURATION (buf);
  stats->seg_out += n;
  return GST_PAD_PROBE_OK;
}

static const gchar *const waves[] = {
  "sine", "square", "white-noise", "pink-noise", "silence", "ticks",
  "saw", "red-noise", "blue-noise", "violet-noise"
};

/* audiotestsrc swaps its generator function without a lock when "wave"
 * changes (it is briefly NULL), so setting it from another thread while
 * it fills a buffer can crash the source.  The main thread only posts the
 * wanted wave; the source's own streaming thread applies it between
 * buffers. */
static GstPadProbeReturn
wave_probe (GstPad * pad, GstPadProbeInfo * info, gpointer user_data)
{
  Stats *stats = user_data;
  int wave = atomic_exchange (&stats->pending_wave, -1);

  if (wave >= 0) {
    GstElement *src = gst_pad_get_parent_element (pad);

    gst_util_set_object_arg (G_OBJECT (src), "wave", waves[wave]);
    gst_object_unref (src);
  }
  return GST_PAD_PROBE_OK;
}

static void
check_anomaly_message (const GstStructure * s)
{
  gdouble score;
  gdouble max_score;

  g_assert_true (gst_structure_get_double (s, "score", &score));
  g_assert_true (gst_structure_get_double (s, "max-score", &max_score));
  g_assert_true (isfinite (score) && score >= 0.0);
  g_assert_true (isfinite (max_score) && max_score >= 0.0);
}

/* Pops the bus; returns TRUE at EOS.  Warnings and errors fail. */
static gboolean
drain_bus (GstBus * bus, guint * n_messages)
{
  GstMessage *msg;
  gboolean eos = FALSE;

  while ((msg = gst_bus_pop (bus)) != NULL) {
    GError *err = NULL;
    gchar *debug = NULL;

    switch (GST_MESSAGE_TYPE (msg)) {
      case GST_MESSAGE_ERROR:
        gst_message_parse_error (msg, &err, &debug);
        g_error ("error from %s: %s (%s)", GST_MESSAGE_SRC_NAME (msg),
            err->message, debug);
        break;
      case GST_MESSAGE_WARNING:
        gst_message_parse_warning (msg, &err, &debug);
        g_error ("warning from %s: %s (%s)", GST_MESSAGE_SRC_NAME (msg),
            err->message, debug);
        break;
      case GST_MESSAGE_EOS:
        eos = TRUE;
        break;
      case GST_MESSAGE_ELEMENT:
        if (gst_structure_has_name (gst_message_get_structure (msg),
                "dae-anomaly")) {
          check_anomaly_message (gst_message_get_structure (msg));
          (*n_messages)++;
        }
        break;
      default:
        break;
    }
    gst_message_unref (msg);
  }
  return eos;
}

static void
test_soak (void)
{
  const gchar *env = g_getenv ("SOAK_SECONDS");
  const gchar *growth_env = g_getenv ("SOAK_MAX_GROWTH_KB");
  gdouble seconds = env != NULL ? g_ascii_strtod (env, NULL) : 3600.0;
  glong max_growth_kb = growth_env != NULL ?
      (glong) g_ascii_strtoll (growth_env, NULL, 10) : 1024;
  gint64 target = (gint64) (seconds * RATE);
  gint64 warmup = MAX ((gint64) (10 * RATE), target / 10);
  /* actions at fixed amounts of audio, whatever the run length */
  gint64 seek_every = MAX ((gint64) (5 * RATE), target / 20);
  gint64 prop_every = RATE / 2;
  GError *gerror = NULL;
  GstElement *pipeline;
  GstElement *src;
  GstElement *dae;
  GstPad *pad;
  GstBus *bus;
  Stats stats;
  gint64 next_seek = seek_every;
  gint64 next_prop = prop_every;
  gboolean warmed_up = FALSE;
  gboolean eos_sent = FALSE;
  glong rss_start = 0;
  glong rss_end = 0;
  guint n_seeks = 0;
  guint n_props = 0;
  guint n_messages = 0;
  guint k = 0;
  gint64 t_start;
  gdouble wall;
  gdouble audio_seconds;

  g_test_summary ("Long run through a real pipeline with property changes "
      "and flushing seeks: flat memory, exact sample counts, contiguous "
      "timestamps, finite output, no warnings");

  memset (&stats, 0, sizeof (stats));
  atomic_init (&stats.total_in, 0);
  atomic_init (&stats.pending_wave, -1);
  stats.seg_first_out_pts = GST_CLOCK_TIME_NONE;
  /* every warning of every category reaches count_log */
  gst_debug_set_threshold_from_string ("*:2", TRUE);
  gst_debug_add_log_function (count_log, NULL, NULL);

  pipeline = gst_parse_launch ("audiotestsrc name=src is-live=false "
      "samplesperbuffer=" G_STRINGIFY (SAMPLES_PER_BUFFER) " volume=0.5 ! "
      "audio/x-raw,format=F32LE,layout=interleaved,rate="
      G_STRINGIFY (RATE) ",channels=" G_STRINGIFY (CHANNELS) " ! "
      "daedenoise name=dae interval=100000000 ! fakesink sync=false", &gerror);
  g_assert_no_error (gerror);
  src = gst_bin_get_by_name (GST_BIN (pipeline), "src");
  dae = gst_bin_get_by_name (GST_BIN (pipeline), "dae");
  pad = gst_element_get_static_pad (src, "src");
  gst_pad_add_probe (pad, GST_PAD_PROBE_TYPE_BUFFER, wave_probe, &stats, NULL);
  gst_object_unref (pad);
  pad = gst_element_get_static_pad (dae, "sink");
  gst_pad_add_probe (pad, GST_PAD_PROBE_TYPE_BUFFER |
      GST_PAD_PROBE_TYPE_EVENT_FLUSH, sink_probe, &stats, NULL);
  gst_object_unref (pad);
  pad = gst_element_get_static_pad (dae, "src");
  gst_pad_add_probe (pad, GST_PAD_PROBE_TYPE_BUFFER, src_probe, &stats, NULL);
  gst_object_unref (pad);
  bus = gst_element_get_bus (pipeline);

  t_start = g_get_monotonic_time ();
  g_assert_cmpint (gst_element_set_state (pipeline, GST_STATE_PLAYING), !=,
      GST_STATE_CHANGE_FAILURE);
  for (;;) {
    gint64 done = atomic_load (&stats.total_in);

    if (drain_bus (bus, &n_messages))
      break;
    if (!warmed_up && done >= warmup) {
      rss_start = rss_kb ();
      warmed_up = TRUE;
    }
    if (!eos_sent && done >= target) {
      /* the last stretch of audio after the last seek is checked to the
       * sample at EOS */
      rss_end = rss_kb ();
      gst_element_send_event (pipeline, gst_event_new_eos ());
      eos_sent = TRUE;
    } else if (!eos_sent && done >= next_seek && next_seek + seek_every <
        target) {
      /* flushing seeks alternately back to 1 s and forward by a minute */
      gint64 pos = n_seeks % 2 ? 60 * GST_SECOND + done * (GST_SECOND / RATE)
          : GST_SECOND;

      g_assert_true (gst_element_seek_simple (pipeline, GST_FORMAT_TIME,
              GST_SEEK_FLAG_FLUSH | GST_SEEK_FLAG_ACCURATE, pos));
      n_seeks++;
      next_seek += seek_every;
    } else if (!eos_sent && done >= next_prop) {
      switch (k++ % 6) {
        case 0:
          g_object_set (dae, "mix", (k % 5) / 4.0, NULL);
          break;
        case 1:
          g_object_set (dae, "attenuation-limit", (gdouble) (k % 7) * 16.0,
              NULL);
          break;
        case 2:
          g_object_set (dae, "link-channels", (gboolean) (k % 2), NULL);
          break;
        case 3:
          g_object_set (dae, "interval", (guint64) (10 + k % 500) *
              GST_MSECOND, NULL);
          break;
        case 4:
          g_object_set (dae, "anomaly-threshold", k % 3 ? -1.0 : 0.5, NULL);
          break;
        default:
          atomic_store (&stats.pending_wave, (int) (k % G_N_ELEMENTS (waves)));
          break;
      }
      n_props++;
      next_prop += prop_every;
    } else {
      g_usleep (2000);
    }
  }
  wall = (g_get_monotonic_time () - t_start) / 1e6;
  g_assert_true (eos_sent);
  drain_bus (bus, &n_messages);

  audio_seconds = (gdouble) atomic_load (&stats.total_in) / RATE;
  g_test_message ("soak: audio %.1f s, wall %.1f s, RTF %.4f", audio_seconds,
      wall, wall / audio_seconds);
  g_test_message ("soak: RSS after warm-up %ld kB, at end %ld kB, growth "
      "%ld kB (limit %ld kB)", rss_start, rss_end, rss_end - rss_start,
      max_growth_kb);
  g_test_message ("soak: samples in %" G_GINT64_FORMAT ", last segment in %"
      G_GUINT64_FORMAT " out %" G_GUINT64_FORMAT ", %u flushed segments "
      "(at most %" G_GUINT64_FORMAT " samples discarded by one flush)",
      (gint64) atomic_load (&stats.total_in), stats.seg_in,
      stats.seg_out, stats.n_segments, stats.max_discarded);
  g_test_message ("soak: %u seeks, %u property changes, %u dae-anomaly "
      "messages, %d warnings", n_seeks, n_props, n_messages,
      g_atomic_int_get (&log_warnings));

  g_assert_true (warmed_up);
  g_assert_cmpuint (stats.seg_in, >, 0);
  g_assert_cmpuint (stats.seg_out, ==, stats.seg_in);
  /* a flush discards what the element holds (its latency) and at most a
   * buffer that was being pushed when the flush began */
  g_assert_cmpuint (stats.max_discarded, <=, 2 * SAMPLES_PER_BUFFER +
      RATE / 50);
  g_assert_cmpuint (stats.n_bad_ts, ==, 0);
  g_assert_cmpuint (stats.n_nonfinite, ==, 0);
  g_assert_cmpuint (n_seeks, >=, 5);
  g_assert_cmpuint (n_messages, >, 0);
  g_assert_cmpint (g_atomic_int_get (&log_warnings), ==, 0);
#ifdef UNDER_SANITIZER
  g_test_message ("soak: sanitizer build, memory growth not checked");
#else
  g_assert_cmpint (rss_end - rss_start, <, max_growth_kb);
#endif

  gst_element_set_state (pipeline, GST_STATE_NULL);
  gst_debug_remove_log_function (count_log);
  gst_object_unref (bus);
  gst_object_unref (src);
  gst_object_unref (dae);
  gst_object_unref (pipeline);
}

int
main (int argc, char **argv)
{
  int ret;

  gst_init (&argc, &argv);
  g_test_init (&argc, &argv, NULL);
  g_test_add_func ("/element/daedenoise/soak", test_soak);
  ret = g_test_run ();
  gst_deinit ();
  return ret;
}
