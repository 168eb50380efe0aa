/* Fuzz target: the daedenoise element through GstHarness
 * Copyright (C) 2026 The dae authors
 * SPDX-License-Identifier: LGPL-2.1-or-later
 *
 * The input is a program run against one element: the first byte picks the
 * caps (F32LE or S16LE, 1 to 8 channels, 16 or 48 kHz, sometimes 44.1 kHz,
 * which no model supports), the second the initial properties, then each
 * byte is an operation with its operands taken from the input: buffers of
 * fuzzed size (1 to 4096 samples, sometimes not a whole number of samples),
 * content (raw bytes: any float bit pattern, or a synthetic signal),
 * timestamps (continuing, missing, jumping back or forward, repeated),
 * duration and flags (DISCONT, GAP); property changes; caps changes;
 * flushes; EOS; GAP and SEGMENT events; latency queries; state cycling.
 *
 * Checked: pushes succeed (or fail with not-negotiated for refused caps);
 * F32 output is finite; buffers hold whole samples; timestamps of buffers
 * without DISCONT continue the previous buffer; every EOS has released
 * exactly as many samples as went in since the last flush; the anomaly meta
 * and the dae-anomaly messages carry finite numbers; no ERROR message.
 *
 * The plugin is registered statically (linked in), so the process needs no
 * plugin registry and no plugin scanner.
 */

#include <math.h>
#include <string.h>

#include <gst/gst.h>
#include <gst/audio/audio.h>
#include <gst/check/gstharness.h>

#include "fuzz.h"
#include "../test-element-checks.h"

/* exported by libgstdae (GST_PLUGIN_DEFINE) */
void gst_plugin_dae_register (void);

#define MAX_OPS 48
#define MAX_SAMPLES 4096
/* total samples (all channels) per input, to keep runs short: about a
 * second of stereo 48 kHz */
#define MAX_TOTAL_SAMPLES (2 * 48000)

typedef struct
{
  GstHarness *h;
  GstBus *bus;
  FuzzInput in;

  /* the caps last set (the input's format) */
  gboolean s16;
  guint channels;
  gint rate;
  /* the output's format: that of the caps the element last accepted (it
   * keeps its configuration when it refuses caps, and drains in it) */
  gboolean out_s16;
  guint out_channels;

  /* samples per channel since the last flush */
  guint64 in_samples;
  guint64 out_samples;
  guint64 total_samples;

  /* timestamps of the next input buffer, the last output buffer */
  GstClockTime next_pts;
  GstClockTime last_end;
  gboolean have_last;
  guint64 phase;
} Run;

int
LLVMFuzzerInitialize (int *argc, char ***argv)
{
  /* no plugin scanning: everything needed is linked in */
  g_setenv ("GST_REGISTRY_FORK", "no", TRUE);
  g_setenv ("GST_PLUGIN_SYSTEM_PATH_1_0", "", TRUE);
  g_setenv ("GST_PLUGIN_PATH_1_0", "", TRUE);
  gst_init (NULL, NULL);
  gst_plugin_dae_register ();
  return 0;
}

void
fuzz_cleanup (void)
{
  gst_deinit ();
}

static gsize
run_bpf (const Run * run)
{
  return run->channels * (run->s16 ? 2 : 4);
}

static gsize
run_out_bpf (const Run * run)
{
  return run->out_channels * (run->out_s16 ? 2 : 4);
}

/* Pulls every output buffer, in the format of the caps last set. */
static void
pull_all (Run * run)
{
  GstBuffer *buf;

  while ((buf = gst_harness_try_pull (run->h)) != NULL) {
    GstMapInfo map;
    gsize n;

    g_assert_true (gst_buffer_map (buf, &map, GST_MAP_READ));
    g_assert_cmpuint (map.size % run_out_bpf (run), ==, 0);
    n = map.size / run_out_bpf (run);
    g_assert_cmpuint (n, >, 0);
    if (!run->out_s16) {
      const gfloat *x = (const gfloat *) map.data;
      gsize i;

      for (i = 0; i < n * run->out_channels; i++)
        g_assert_true (isfinite (x[i]));
    }
    gst_buffer_unmap (buf, &map);

    if (GST_BUFFER_PTS_IS_VALID (buf) && GST_BUFFER_DURATION_IS_VALID (buf)) {
      if (run->have_last && !GST_BUFFER_IS_DISCONT (buf))
        g_assert_cmpuint (GST_BUFFER_PTS (buf), ==, run->last_end);
      run->last_end = GST_BUFFER_PTS (buf) + GST_BUFFER_DURATION (buf);
      run->have_last = TRUE;
    } else {
      run->have_last = FALSE;
    }
    dae_check_meta (buf, FALSE);
    run->out_samples += n;
    g_assert_cmpuint (run->out_samples, <=, run->in_samples);
    gst_buffer_unref (buf);
  }
  while (gst_harness_events_in_queue (run->h) > 0)
    gst_event_unref (gst_harness_pull_event (run->h));
}

static void
check_messages (Run * run)
{
  GstMessage *msg;

  while ((msg = gst_bus_pop (run->bus)) != NULL) {
    const GstStructure *s = gst_message_get_structure (msg);
    gdouble d;

    if (GST_MESSAGE_TYPE (msg) == GST_MESSAGE_ERROR) {
      GError *err = NULL;

      gst_message_parse_error (msg, &err, NULL);
      g_error ("unexpected error message: %s", err->message);
    }
    if (GST_MESSAGE_TYPE (msg) == GST_MESSAGE_ELEMENT && s != NULL) {
      if (gst_structure_has_name (s, "dae-anomaly")) {
        dae_check_anomaly_message (s);
      } else if (gst_structure_has_name (s, "dae-anomaly-start")
          || gst_structure_has_name (s, "dae-anomaly-end")) {
        g_assert_true (gst_structure_get_double (s, "score", &d));
        g_assert_true (isfinite (d));
      }
    }
    gst_message_unref (msg);
  }
}

/* The output format: the caps on the harness's sink pad, which refused caps
 * never reach. */
static void
update_out_format (Run * run)
{
  GstCaps *caps = gst_pad_get_current_caps (run->h->sinkpad);
  GstAudioInfo info;

  if (caps != NULL && gst_audio_info_from_caps (&info, caps)) {
    run->out_s16 = GST_AUDIO_INFO_FORMAT (&info) == GST_AUDIO_FORMAT_S16LE;
    run->out_channels = GST_AUDIO_INFO_CHANNELS (&info);
  } else {
    run->out_s16 = run->s16;
    run->out_channels = run->channels;
  }
  if (caps != NULL)
    gst_caps_unref (caps);
}

static void
set_caps (Run * run, guint8 b)
{
  gchar *caps;
  guint sel = (b >> 4) & 7;

  gboolean s16 = b & 1;
  guint channels = 1 + (b >> 1) % 8;
  gint rate = sel == 7 ? 44100 : (sel & 1) ? 48000 : 16000;

  caps = g_strdup_printf ("audio/x-raw, format=%s, layout=interleaved, "
      "rate=%d, channels=%u%s", s16 ? "S16LE" : "F32LE", rate, channels,
      channels > 2 ? ", channel-mask=(bitmask)0" : "");
  /* a caps change drains in the old format: pull that before switching */
  if (run->channels > 0)
    pull_all (run);
  gst_harness_set_src_caps_str (run->h, caps);
  if (run->channels > 0)
    pull_all (run);
  g_free (caps);
  run->s16 = s16;
  run->channels = channels;
  run->rate = rate;
  update_out_format (run);
}

static void
new_segment (Run * run)
{
  GstSegment segment;

  gst_segment_init (&segment, GST_FORMAT_TIME);
  g_assert_true (gst_harness_push_event (run->h,
          gst_event_new_segment (&segment)));
}

static void
flush (Run * run)
{
  pull_all (run);
  g_assert_true (gst_harness_push_event (run->h, gst_event_new_flush_start ()));
  g_assert_true (gst_harness_push_event (run->h,
          gst_event_new_flush_stop (TRUE)));
  new_segment (run);
  pull_all (run);
  run->in_samples = 0;
  run->out_samples = 0;
  run->have_last = FALSE;
}

static void
eos (Run * run)
{
  g_assert_true (gst_harness_push_event (run->h, gst_event_new_eos ()));
  pull_all (run);
  g_assert_cmpuint (run->out_samples, ==, run->in_samples);
}

static void
fill_signal (Run * run, gfloat * x, gsize n_values, guint8 kind, gfloat level)
{
  gsize i;

  for (i = 0; i < n_values; i++) {
    guint64 t = run->phase++;

    switch (kind % 5) {
      case 0:
        x[i] = level;
        break;
      case 1:
        x[i] = (t / 37) % 2 ? level : -level;
        break;
      case 2:
        x[i] = level * (gfloat) sin ((gdouble) t * 0.05);
        break;
      case 3:
        /* xorshift noise */
        t ^= t << 13;
        t ^= t >> 7;
        t ^= t << 17;
        x[i] = level * ((gfloat) (t & 0xffff) / 32768.0f - 1.0f);
        break;
      default:
        x[i] = 0.0f;
        break;
    }
  }
}

static void
push_buffer (Run * run)
{
  guint16 len = fuzz_u16 (&run->in);
  guint8 mode = fuzz_u8 (&run->in);
  guint8 flags = fuzz_u8 (&run->in);
  gsize bpf = run_bpf (run);
  gsize n;
  gsize extra = 0;
  gsize size;
  GstBuffer *buf;
  GstMapInfo map;
  GstFlowReturn ret;
  GstClockTime pts;
  GstClockTime duration;

  switch (mode & 3) {
    case 0:
      n = len % 64 + 1;
      break;
    case 1:
      n = len % 2048 + 1;
      break;
    case 2:
      n = len % MAX_SAMPLES + 1;
      break;
    default:
      n = 1;
      break;
  }
  if (run->total_samples + n * run->channels > MAX_TOTAL_SAMPLES)
    return;
  run->total_samples += n * run->channels;
  if ((flags & 0x80) && bpf > 1)
    extra = 1 + (mode >> 2) % (bpf - 1);
  size = n * bpf + extra;

  buf = gst_buffer_new_allocate (NULL, size, NULL);
  gst_buffer_map (buf, &map, GST_MAP_WRITE);
  if (mode & 0x80) {
    fuzz_bytes (&run->in, map.data, size);
  } else {
    gsize n_values = n * run->channels;
    gfloat *x = g_new (gfloat, n_values);
    guint8 kind = fuzz_u8 (&run->in);
    gfloat level = (gfloat) fuzz_u8 (&run->in) / 128.0f;
    gsize i;

    fill_signal (run, x, n_values, kind, level);
    if (run->s16) {
      for (i = 0; i < n_values; i++)
        ((gint16 *) map.data)[i] =
            (gint16) CLAMP (lrintf (x[i] * 32768.0f), -32768, 32767);
    } else {
      memcpy (map.data, x, n_values * sizeof (gfloat));
    }
    memset (map.data + n * bpf, 0, extra);
    g_free (x);
  }
  gst_buffer_unmap (buf, &map);

  duration = gst_util_uint64_scale_int_round (n, GST_SECOND, run->rate);
  switch ((flags >> 2) & 7) {
    case 1:
      pts = GST_CLOCK_TIME_NONE;
      break;
    case 2:                    /* back */
      pts = run->next_pts - MIN (run->next_pts, (GstClockTime) fuzz_u16
          (&run->in) * GST_MSECOND);
      break;
    case 3:                    /* forward */
      pts = run->next_pts + (GstClockTime) fuzz_u16 (&run->in) * GST_MSECOND;
      break;
    case 4:                    /* the same again */
      pts = run->next_pts > duration ? run->next_pts - duration : 0;
      break;
    case 5:
      pts = 0;
      break;
    default:
      pts = run->next_pts;
      break;
  }
  GST_BUFFER_PTS (buf) = pts;
  if (!(flags & 0x20))
    GST_BUFFER_DURATION (buf) = duration;
  if (flags & 1)
    GST_BUFFER_FLAG_SET (buf, GST_BUFFER_FLAG_DISCONT);
  if (flags & 2)
    GST_BUFFER_FLAG_SET (buf, GST_BUFFER_FLAG_GAP);
  if (GST_CLOCK_TIME_IS_VALID (pts))
    run->next_pts = pts + duration;

  ret = gst_harness_push (run->h, buf);
  if (ret == GST_FLOW_OK)
    run->in_samples += n;
  else
    g_assert_cmpint (ret, ==, GST_FLOW_NOT_NEGOTIATED);
  pull_all (run);
}

static void
set_property (Run * run)
{
  GObject *element = G_OBJECT (run->h->element);
  guint8 which = fuzz_u8 (&run->in);
  guint8 b = fuzz_u8 (&run->in);

  switch (which % 8) {
    case 0:
      g_object_set (element, "mix", b / 255.0, NULL);
      break;
    case 1:
      g_object_set (element, "attenuation-limit", b * 100.0 / 255.0, NULL);
      break;
    case 2:
      g_object_set (element, "link-channels", (gboolean) (b & 1), NULL);
      break;
    case 3:
      g_object_set (element, "post-messages", (gboolean) (b & 1), NULL);
      break;
    case 4:
      g_object_set (element, "interval", (guint64) 1 + (guint64) b *
          (b & 1 ? GST_MSECOND : GST_USECOND), NULL);
      break;
    case 5:
      g_object_set (element, "anomaly-threshold", b == 255 ? -1.0 : b / 16.0,
          NULL);
      break;
    case 6:
      g_object_set (element, "anomaly-hold", (guint64) b * GST_MSECOND, NULL);
      break;
    default:
      g_object_set (element, "anomaly-meta", (gboolean) (b & 1), NULL);
      break;
  }
}

static void
push_gap_event (Run * run)
{
  guint8 b = fuzz_u8 (&run->in);
  GstClockTime ts = (b & 1) ? run->next_pts : run->next_pts / 2;
  GstClockTime duration = (b & 2) ? GST_CLOCK_TIME_NONE : (GstClockTime) b *
      GST_MSECOND;

  g_assert_true (gst_harness_push_event (run->h, gst_event_new_gap (ts,
              duration)));
  pull_all (run);
}

/* A new segment mid-stream (drains), starting at 0, half-way to the
 * current position or ahead of it. */
static void
push_segment_event (Run * run)
{
  GstSegment segment;
  guint8 b = fuzz_u8 (&run->in);

  gst_segment_init (&segment, GST_FORMAT_TIME);
  if (b & 1) {
    segment.start = run->next_pts / 2;
    segment.time = segment.start;
  } else if (b & 4) {
    /* ahead of the next buffers: they start before the segment */
    segment.start = run->next_pts + (GstClockTime) (b >> 3) * GST_MSECOND;
    segment.time = segment.start;
  }
  if (b & 2)
    segment.base = GST_SECOND;
  g_assert_true (gst_harness_push_event (run->h,
          gst_event_new_segment (&segment)));
  pull_all (run);
}

static void
cycle_state (Run * run, guint8 caps_byte)
{
  pull_all (run);
  g_assert_cmpint (gst_element_set_state (run->h->element, GST_STATE_NULL),
      ==, GST_STATE_CHANGE_SUCCESS);
  g_assert_cmpint (gst_element_set_state (run->h->element,
          GST_STATE_PLAYING), ==, GST_STATE_CHANGE_SUCCESS);
  /* stopping discarded what was held */
  run->in_samples = 0;
  run->out_samples = 0;
  run->have_last = FALSE;
  g_assert_true (gst_harness_push_event (run->h,
          gst_event_new_stream_start ("fuzz")));
  set_caps (run, caps_byte);
  new_segment (run);
  pull_all (run);
}

int
LLVMFuzzerTestOneInput (const uint8_t * data, size_t size)
{
  Run run;
  guint8 caps_byte;
  guint8 props;
  int ops;

  memset (&run, 0, sizeof (run));
  fuzz_input_init (&run.in, data, size);
  caps_byte = fuzz_u8 (&run.in);
  props = fuzz_u8 (&run.in);

  run.h = gst_harness_new ("daedenoise");
  run.bus = gst_bus_new ();
  gst_element_set_bus (run.h->element, run.bus);
  g_object_set (run.h->element,
      "link-channels", (gboolean) (props & 1),
      "anomaly-meta", (gboolean) ((props >> 1) & 1),
      "post-messages", (gboolean) ((props >> 2) & 1),
      "anomaly-threshold", (props & 8) ? 0.0 : -1.0,
      "mix", (props & 16) ? 0.5 : 1.0,
      "interval", (props & 32) ? GST_MSECOND : GST_SECOND / 10, NULL);
  set_caps (&run, caps_byte);

  for (ops = 0; ops < MAX_OPS && fuzz_input_left (&run.in) > 0; ops++) {
    guint8 op = fuzz_u8 (&run.in);

    switch (op % 16) {
      case 8:
        set_property (&run);
        break;
      case 9:
        set_caps (&run, fuzz_u8 (&run.in));
        break;
      case 10:
        flush (&run);
        break;
      case 11:
        eos (&run);
        flush (&run);
        break;
      case 12:
        push_gap_event (&run);
        break;
      case 13:
        push_segment_event (&run);
        break;
      case 14:
        (void) gst_harness_query_latency (run.h);
        break;
      case 15:
        cycle_state (&run, fuzz_u8 (&run.in));
        break;
      default:
        push_buffer (&run);
        break;
    }
    check_messages (&run);
  }
  eos (&run);
  check_messages (&run);

  gst_element_set_bus (run.h->element, NULL);
  gst_harness_teardown (run.h);
  gst_object_unref (run.bus);
  return 0;
}
