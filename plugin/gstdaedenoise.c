/* GStreamer dae plugin — the daedenoise element
 * Copyright (C) 2026 The dae authors
 *
 * This library is free software; you can redistribute it and/or
 * modify it under the terms of the GNU Lesser General Public
 * License as published by the Free Software Foundation; either
 * version 2.1 of the License, or (at your option) any later version.
 */

/**
 * SECTION:element-daedenoise
 * @title: daedenoise
 *
 * Denoises audio with a small recurrent spectral autoencoder (libdae) and
 * reports how unusual the audio is (an anomaly score: how badly the network
 * reconstructs its input).
 *
 * Caps: interleaved `F32LE` or `S16LE`, 1 to 8 channels, at a sample rate
 * for which a model is available: 16000 and 48000 Hz with the embedded
 * default models, or only the rate of #GstDaeDenoise:model-file when that is
 * set.  Put `audioconvert ! audioresample` in front for anything else; when
 * that is missing, caps negotiation fails and the element posts a warning
 * naming the supported rates.
 *
 * The embedded default models are speech denoisers trained by the
 * project's models/train-default.sh on Debian-packaged speech and noise
 * (see models/README.md).  They have a voice-activity head (so the element
 * adds a GstAudioLevelMeta) but no calibrated anomaly threshold: for
 * anomaly alerts use #GstDaeDenoise:model-file with a model trained on the
 * machine's sound, or set #GstDaeDenoise:anomaly-threshold.
 *
 * Latency: the element adds the model's latency, window − hop samples (10 ms
 * with the default models), to the LATENCY query.  Output stays
 * sample-aligned with the input: the first latency samples are withheld and
 * the tail is drained (fed with silence) at EOS, on DISCONT, GAP, new
 * segments and caps changes, so an impulse at time t comes out at time t and
 * as many samples come out as went in.  FLUSH_STOP discards held audio.
 *
 * Each channel has its own processor; with #GstDaeDenoise:link-channels the
 * per-band gains are shared (the maximum over channels) to keep the stereo
 * image.
 *
 * ## Anomaly messages
 *
 * When #GstDaeDenoise:post-messages is %TRUE the element posts an element
 * message named `dae-anomaly` every #GstDaeDenoise:interval and a last one
 * at EOS, with these fields:
 *
 * * #GstClockTime `timestamp`: the start of the interval (buffer time).
 * * #GstClockTime `stream-time`: the start of the interval (stream time).
 * * #GstClockTime `running-time`: the start of the interval (running time).
 * * #GstClockTime `duration`: the length of the interval; `timestamp` +
 *   `duration` is the next message's `timestamp`.
 * * #gdouble `score`: mean frame anomaly score over the interval (frame
 *   score = the maximum over channels).
 * * #gdouble `max-score`: the largest frame score in the interval.
 * * #gdouble `threshold`: the threshold in use, -1 if there is none.
 * * #gboolean `is-anomaly`: the debounced anomaly state at the end of the
 *   interval.
 * * #gint `frames`: STFT frames (hops) in the interval.
 * * #GValueArray `scores`: per channel, the mean frame score (#gdouble).
 * * #GValueArray `band-errors`: per band (low to high frequency), the mean
 *   squared reconstruction error (#gdouble), showing which frequencies
 *   deviate from what the model knows.
 *
 * When the debounced state changes it posts `dae-anomaly-start` (fields
 * `timestamp`, `stream-time`, `running-time`, `score`) or
 * `dae-anomaly-end` (the same plus `duration`, the length of the anomaly),
 * and sends the same structures downstream as serialized custom downstream
 * events (%GST_EVENT_CUSTOM_DOWNSTREAM), before the buffer in which the
 * change happened, so a recorder or muxer sees them in data order.  An
 * anomaly still open at EOS (or at a discontinuity, gap, new segment or caps
 * change, which reset the detector) is closed with a `dae-anomaly-end` after
 * the last of its audio, so starts and ends always pair up.  The
 * events are sent whatever #GstDaeDenoise:post-messages says.
 *
 * ## Buffer meta
 *
 * With #GstDaeDenoise:anomaly-meta every output buffer carries a custom meta
 * registered as `GstDaeAnomalyMeta` (gst_buffer_get_custom_meta() in C,
 * `Gst.Buffer.get_custom_meta ("GstDaeAnomalyMeta")` in Python) whose
 * structure has `score` (#gdouble, mean frame score over the buffer),
 * `threshold` (#gdouble), `is-anomaly` (#gboolean, debounced state at the
 * end of the buffer), `frames` (#gint) and `timestamp`, `duration`
 * (#guint64, the time the buffer covers).  If the model has a voice-activity
 * head the buffers also carry a #GstAudioLevelMeta (RFC 6464 level in -dBov
 * and voice activity).
 *
 * ## Example launch lines
 *
 * These are copies of the commands in the project's `pipelines/` directory,
 * which CI runs.
 *
 * Denoise a file into a WAV file (`pipelines/denoise-file.sh`):
 * |[
 * gst-launch-1.0 -e filesrc location=noisy.wav ! decodebin ! audioconvert ! audioresample ! daedenoise ! audioconvert ! wavenc ! filesink location=denoised.wav
 * ]|
 *
 * Denoise the default audio source live (`pipelines/denoise-live.sh`):
 * |[
 * gst-launch-1.0 -e autoaudiosrc ! audioconvert ! audioresample ! daedenoise ! audioconvert ! audioresample ! autoaudiosink
 * ]|
 *
 * The same input through daedenoise and webrtcdsp, for an A/B listen
 * (`pipelines/compare-webrtcdsp.sh`):
 * |[
 * gst-launch-1.0 -e filesrc location=noisy.wav ! decodebin ! audioconvert ! audioresample ! audio/x-raw,rate=48000,channels=1 ! tee name=t t. ! queue ! daedenoise ! audioconvert ! wavenc ! filesink location=ab-daedenoise.wav t. ! queue ! audioconvert ! webrtcdsp echo-cancel=false noise-suppression=true ! audioconvert ! wavenc ! filesink location=ab-webrtcdsp.wav
 * ]|
 *
 * Print anomaly messages (`pipelines/monitor-anomalies.sh`):
 * |[
 * gst-launch-1.0 -m -e autoaudiosrc ! audioconvert ! audioresample ! daedenoise anomaly-threshold=-1 interval=1000000000 ! fakesink
 * ]|
 *
 * Since: 0.1
 */

#ifdef HAVE_CONFIG_H
#include "config.h"
#endif

#include <math.h>
#include <string.h>

#include <gst/gst.h>
#include <gst/audio/audio.h>
#include <gst/audio/gstaudiofilter.h>

#include <dae/dae.h>

#include "gstdaeanomalymeta.h"
#include "gstdaeembeddedmodels.h"
#include "gstdaedenoise.h"

GST_DEBUG_CATEGORY_STATIC (dae_denoise_debug);
#define GST_CAT_DEFAULT dae_denoise_debug

#define DEFAULT_MODEL_FILE NULL
#define DEFAULT_ATTENUATION_LIMIT 100.0
#define DEFAULT_MIX 1.0
#define DEFAULT_LINK_CHANNELS TRUE
#define DEFAULT_POST_MESSAGES TRUE
#define DEFAULT_INTERVAL (GST_SECOND / 10)
#define DEFAULT_ANOMALY_THRESHOLD -1.0
#define DEFAULT_ANOMALY_HOLD (GST_SECOND / 5)
#define DEFAULT_ANOMALY_META TRUE

/* An input timestamp further than this from the one expected from the
 * sample count is treated as a discontinuity (audiobasesink's default
 * alignment threshold). */
#define DISCONT_TOLERANCE_NS (40 * GST_MSECOND)

/* Frame scores are compared with the threshold after this moving average
 * (1 = none: the hold time already debounces). */
#define SCORER_SMOOTHING_FRAMES 1

/* The most models that can be embedded. */
#define MAX_DEFAULT_MODELS 8

enum
{
  PROP_0,
  PROP_MODEL_FILE,
  PROP_ATTENUATION_LIMIT,
  PROP_MIX,
  PROP_LINK_CHANNELS,
  PROP_POST_MESSAGES,
  PROP_INTERVAL,
  PROP_ANOMALY_THRESHOLD,
  PROP_ANOMALY_HOLD,
  PROP_ANOMALY_META
};

/* The template allows every rate a model can have; the caps query narrows
 * it to the rates of the available models. */
#define DAE_DENOISE_CAPS \
  "audio/x-raw, " \
  "format = (string) { F32LE, S16LE }, " \
  "layout = (string) interleaved, " \
  "rate = (int) [ 8000, 192000 ], " \
  "channels = (int) [ 1, 8 ]"

/* A copy of the properties, taken under the object lock once per buffer. */
typedef struct
{
  gdouble attenuation_limit;
  gdouble mix;
  gboolean link_channels;
  gboolean post_messages;
  guint64 interval;
  gdouble anomaly_threshold;
  guint64 anomaly_hold;
  gboolean anomaly_meta;
} Settings;

/* Per-output-buffer accumulators. */
typedef struct
{
  guint frames;
  gdouble score_sum;
  gfloat vad_max;
  gdouble sum_squares;
  gsize n_nonfinite;
} BufferStats;

struct _GstDaeDenoise
{
  GstAudioFilter parent;

  /* properties: protected by the object lock */
  gchar *model_file;
  gdouble attenuation_limit;
  gdouble mix;
  gboolean link_channels;
  gboolean post_messages;
  guint64 interval;
  gdouble anomaly_threshold;
  guint64 anomaly_hold;
  gboolean anomaly_meta;

  /* set in start/stop, read by caps and latency queries: object lock */
  gboolean started;
  DaeModel *file_model;         /* the loaded model-file, or NULL */
  GstClockTime latency_ns;      /* last reported, 0 before any caps */
  gint warned_rate;             /* last rate refused with a warning */

  /* stream state: streaming thread only (or while stopped) */
  DaeModel *model;              /* model in use, a reference */
  DaeProcessor **procs;         /* one per channel */
  DaeScorer *scorer;
  gint rate;
  guint channels;
  gboolean is_s16;
  gsize hop;
  gsize latency_samples;
  gsize n_bands;
  gboolean has_vad;
  gfloat model_threshold;       /* < 0: the model is not calibrated */

  gfloat *in_hop;               /* channels * hop, deinterleaved */
  gfloat *out_hop;              /* channels * hop */
  gfloat *shared_gains;         /* n_bands */
  gdouble *chan_score_acc;      /* channels */
  gdouble *band_error_acc;      /* n_bands */

  gsize in_fill;                /* samples in in_hop */
  gsize skip_remaining;         /* output samples still to withhold */
  guint64 samples_in;           /* real input samples since the reset */
  guint64 samples_out;          /* output samples since the reset */
  GstClockTime t0;              /* time of sample 0 since the reset */
  gboolean discont_pending;     /* mark the next output buffer */

  /* settings applied to the processors and scorer */
  gdouble applied_limit;
  gdouble applied_mix;
  gdouble applied_threshold;
  guint64 applied_hold;

  /* the current dae-anomaly interval */
  guint64 msg_start;            /* first output sample of the interval */
  guint64 msg_samples;
  guint msg_frames;
  gdouble msg_score_sum;
  gdouble msg_score_max;

  /* the current anomaly, if any */
  GstClockTime anomaly_start_ns;
  gfloat last_smoothed;         /* the scorer's last smoothed score */

  gboolean nonfinite_warned;
  GstBuffer *pending_out;       /* from submit_input_buffer for generate_output */
};

G_DEFINE_TYPE_WITH_CODE (GstDaeDenoise, gst_dae_denoise,
    GST_TYPE_AUDIO_FILTER,
    GST_DEBUG_CATEGORY_INIT (dae_denoise_debug, "daedenoise", 0,
        "Denoising autoencoder"));
GST_ELEMENT_REGISTER_DEFINE (daedenoise, "daedenoise", GST_RANK_NONE,
    GST_TYPE_DAE_DENOISE);

static void gst_dae_denoise_finalize (GObject * object);
static void gst_dae_denoise_set_property (GObject * object, guint prop_id,
    const GValue * value, GParamSpec * pspec);
static void gst_dae_denoise_get_property (GObject * object, guint prop_id,
    GValue * value, GParamSpec * pspec);

static gboolean gst_dae_denoise_start (GstBaseTransform * trans);
static gboolean gst_dae_denoise_stop (GstBaseTransform * trans);
static gboolean gst_dae_denoise_setup (GstAudioFilter * filter,
    const GstAudioInfo * info);
static GstFlowReturn gst_dae_denoise_submit_input_buffer (GstBaseTransform *
    trans, gboolean is_discont, GstBuffer * input);
static GstFlowReturn gst_dae_denoise_generate_output (GstBaseTransform *
    trans, GstBuffer ** outbuf);
static gboolean gst_dae_denoise_sink_event (GstBaseTransform * trans,
    GstEvent * event);
static gboolean gst_dae_denoise_query (GstBaseTransform * trans,
    GstPadDirection direction, GstQuery * query);
static GstCaps *gst_dae_denoise_transform_caps (GstBaseTransform * trans,
    GstPadDirection direction, GstCaps * caps, GstCaps * filter);

static GstFlowReturn drain (GstDaeDenoise * self);
static void reset_stream (GstDaeDenoise * self);
static void free_stream_state (GstDaeDenoise * self);

/* ------------------------------------------------------------------------ */
/* Embedded default models: loaded once per process, immutable, shared.     */

typedef struct
{
  DaeModel *models[MAX_DEFAULT_MODELS];
  guint n_models;
  DaeStatus status;
  gchar message[DAE_ERROR_MESSAGE_SIZE + 64];
} DefaultModels;

static const DefaultModels *
get_default_models (void)
{
  static DefaultModels defaults;
  static gsize initialised = 0;

  if (g_once_init_enter (&initialised)) {
    gsize i;

    defaults.status = DAE_OK;
    for (i = 0; i < gst_dae_n_embedded_models
        && defaults.n_models < MAX_DEFAULT_MODELS; i++) {
      const GstDaeEmbeddedModel *embedded = &gst_dae_embedded_models[i];
      DaeModel *model = NULL;
      DaeError error;
      DaeStatus status;

      status = dae_model_load_memory (embedded->data, embedded->size, &model,
          &error);
      if (status != DAE_OK) {
        defaults.status = status;
        g_snprintf (defaults.message, sizeof (defaults.message), "%s: %s",
            embedded->name, error.message);
        continue;
      }
      defaults.models[defaults.n_models++] = model;
    }
    g_once_init_leave (&initialised, 1);
  }
  return &defaults;
}

static DaeModel *
find_default_model (gint rate)
{
  const DefaultModels *defaults = get_default_models ();
  guint i;

  for (i = 0; i < defaults->n_models; i++) {
    if ((gint) dae_model_get_sample_rate (defaults->models[i]) == rate)
      return defaults->models[i];
  }
  return NULL;
}

/* Fills rates with the sample rates the element can use now, sorted;
 * returns how many, or 0 if it cannot know yet (a model-file that is not
 * loaded). */
static guint
get_supported_rates (GstDaeDenoise * self, gint * rates, guint max_rates)
{
  const DefaultModels *defaults;
  guint n = 0;
  guint i;
  guint j;

  GST_OBJECT_LOCK (self);
  if (self->file_model != NULL) {
    rates[0] = (gint) dae_model_get_sample_rate (self->file_model);
    GST_OBJECT_UNLOCK (self);
    return 1;
  }
  if (self->model_file != NULL) {
    GST_OBJECT_UNLOCK (self);
    return 0;
  }
  GST_OBJECT_UNLOCK (self);

  defaults = get_default_models ();
  for (i = 0; i < defaults->n_models && n < max_rates; i++) {
    gint rate = (gint) dae_model_get_sample_rate (defaults->models[i]);

    for (j = n; j > 0 && rates[j - 1] > rate; j--)
      rates[j] = rates[j - 1];
    rates[j] = rate;
    n++;
  }
  return n;
}

static gchar *
rates_to_string (const gint * rates, guint n_rates)
{
  GString *str = g_string_new (NULL);
  guint i;

  for (i = 0; i < n_rates; i++)
    g_string_append_printf (str, "%s%d", i > 0 ? ", " : "", rates[i]);
  if (n_rates == 0)
    g_string_append (str, "none");
  return g_string_free (str, FALSE);
}

/* ------------------------------------------------------------------------ */

static void
gst_dae_denoise_class_init (GstDaeDenoiseClass * klass)
{
  GObjectClass *gobject_class = G_OBJECT_CLASS (klass);
  GstElementClass *element_class = GST_ELEMENT_CLASS (klass);
  GstBaseTransformClass *trans_class = GST_BASE_TRANSFORM_CLASS (klass);
  GstAudioFilterClass *filter_class = GST_AUDIO_FILTER_CLASS (klass);
  GstCaps *caps;

  gobject_class->finalize = gst_dae_denoise_finalize;
  gobject_class->set_property = gst_dae_denoise_set_property;
  gobject_class->get_property = gst_dae_denoise_get_property;

  /**
   * GstDaeDenoise:model-file:
   *
   * Path of a `.dae` model file.  %NULL (the default) uses the embedded
   * default speech model for the negotiated rate (16000 or 48000 Hz).  A model file restricts the caps to
   * its own sample rate.  Can only be set in the NULL and READY states; a
   * file that cannot be loaded makes the change to PAUSED fail with an
   * error message quoting the library's explanation.
   *
   * Since: 0.1
   */
  g_object_class_install_property (gobject_class, PROP_MODEL_FILE,
      g_param_spec_string ("model-file", "Model File",
          "Path of a .dae model file; NULL = the embedded default model for "
          "the negotiated rate (changeable in NULL and READY only)",
          DEFAULT_MODEL_FILE,
          G_PARAM_READWRITE | G_PARAM_STATIC_STRINGS |
          GST_PARAM_MUTABLE_READY));

  /**
   * GstDaeDenoise:attenuation-limit:
   *
   * The most any band is attenuated, in dB: 0 leaves the audio untouched,
   * 100 means no limit.  Controllable.
   *
   * Since: 0.1
   */
  g_object_class_install_property (gobject_class, PROP_ATTENUATION_LIMIT,
      g_param_spec_double ("attenuation-limit", "Attenuation Limit",
          "Maximum attenuation of any band (in dB, 0 = none, 100 = no limit; "
          "changeable while PLAYING)", 0.0, 100.0, DEFAULT_ATTENUATION_LIMIT,
          G_PARAM_READWRITE | G_PARAM_STATIC_STRINGS |
          GST_PARAM_CONTROLLABLE | GST_PARAM_MUTABLE_PLAYING));

  /**
   * GstDaeDenoise:mix:
   *
   * Dry/wet mix: 0 passes the input through unchanged (bit-exact for F32),
   * 1 outputs only the denoised signal.  Dry and wet are sample-aligned.
   * Controllable.
   *
   * Since: 0.1
   */
  g_object_class_install_property (gobject_class, PROP_MIX,
      g_param_spec_double ("mix", "Mix",
          "Dry/wet mix (0 = input only, 1 = denoised only; changeable while "
          "PLAYING)", 0.0, 1.0, DEFAULT_MIX,
          G_PARAM_READWRITE | G_PARAM_STATIC_STRINGS |
          GST_PARAM_CONTROLLABLE | GST_PARAM_MUTABLE_PLAYING));

  /**
   * GstDaeDenoise:link-channels:
   *
   * %TRUE: every channel gets the same gain per band (the maximum of the
   * channels' gains), which keeps the stereo image.  %FALSE: channels are
   * denoised independently.
   *
   * Since: 0.1
   */
  g_object_class_install_property (gobject_class, PROP_LINK_CHANNELS,
      g_param_spec_boolean ("link-channels", "Link Channels",
          "Share one gain per band across channels to keep the stereo image "
          "(changeable while PLAYING)", DEFAULT_LINK_CHANNELS,
          G_PARAM_READWRITE | G_PARAM_STATIC_STRINGS |
          GST_PARAM_MUTABLE_PLAYING));

  /**
   * GstDaeDenoise:post-messages:
   *
   * Post `dae-anomaly` element messages every #GstDaeDenoise:interval and
   * `dae-anomaly-start`/`dae-anomaly-end` on transitions.
   *
   * Since: 0.1
   */
  g_object_class_install_property (gobject_class, PROP_POST_MESSAGES,
      g_param_spec_boolean ("post-messages", "Post Messages",
          "Post a dae-anomaly element message every interval (timestamp, "
          "stream-time, running-time, duration, score, max-score, threshold, "
          "is-anomaly, frames, scores[channel], band-errors[band]) and "
          "dae-anomaly-start/-end on transitions (changeable while PLAYING)",
          DEFAULT_POST_MESSAGES,
          G_PARAM_READWRITE | G_PARAM_STATIC_STRINGS |
          GST_PARAM_MUTABLE_PLAYING));

  /**
   * GstDaeDenoise:interval:
   *
   * Time between `dae-anomaly` messages, in nanoseconds.  Messages cover
   * whole hops (10 ms with the default models), so the actual duration is
   * this interval rounded up to a multiple of the hop.
   *
   * Since: 0.1
   */
  g_object_class_install_property (gobject_class, PROP_INTERVAL,
      g_param_spec_uint64 ("interval", "Interval",
          "Interval between dae-anomaly messages (in nanoseconds; changeable "
          "while PLAYING)", 1, G_MAXUINT64, DEFAULT_INTERVAL,
          G_PARAM_READWRITE | G_PARAM_STATIC_STRINGS |
          GST_PARAM_MUTABLE_PLAYING));

  /**
   * GstDaeDenoise:anomaly-threshold:
   *
   * Frame anomaly score above which audio counts as anomalous.  The
   * sentinel -1 (the default) takes the threshold calibrated into the
   * model; if the model is not calibrated (the default speech models
   * are not) anomaly detection is off: `is-anomaly` stays %FALSE, no
   * start/end messages are posted and `threshold` is reported as -1.
   *
   * Since: 0.1
   */
  g_object_class_install_property (gobject_class, PROP_ANOMALY_THRESHOLD,
      g_param_spec_double ("anomaly-threshold", "Anomaly Threshold",
          "Frame anomaly score above which audio is anomalous (score units; "
          "-1 = the model's calibrated threshold, off if it has none; "
          "changeable while PLAYING)", -1.0, G_MAXDOUBLE,
          DEFAULT_ANOMALY_THRESHOLD,
          G_PARAM_READWRITE | G_PARAM_STATIC_STRINGS |
          GST_PARAM_MUTABLE_PLAYING));

  /**
   * GstDaeDenoise:anomaly-hold:
   *
   * How long the score must stay above (below) the threshold before an
   * anomaly starts (ends), in nanoseconds, rounded to whole hops (at least
   * one).
   *
   * Since: 0.1
   */
  g_object_class_install_property (gobject_class, PROP_ANOMALY_HOLD,
      g_param_spec_uint64 ("anomaly-hold", "Anomaly Hold",
          "Time the score must stay above/below the threshold before an "
          "anomaly starts/ends (in nanoseconds; changeable while PLAYING)",
          0, G_MAXUINT64, DEFAULT_ANOMALY_HOLD,
          G_PARAM_READWRITE | G_PARAM_STATIC_STRINGS |
          GST_PARAM_MUTABLE_PLAYING));

  /**
   * GstDaeDenoise:anomaly-meta:
   *
   * Attach a `GstDaeAnomalyMeta` custom meta to every output buffer.
   *
   * Since: 0.1
   */
  g_object_class_install_property (gobject_class, PROP_ANOMALY_META,
      g_param_spec_boolean ("anomaly-meta", "Anomaly Meta",
          "Attach a GstDaeAnomalyMeta custom meta (score, threshold, "
          "is-anomaly, frames, timestamp, duration) to every output buffer "
          "(changeable while PLAYING)",
          DEFAULT_ANOMALY_META,
          G_PARAM_READWRITE | G_PARAM_STATIC_STRINGS |
          GST_PARAM_MUTABLE_PLAYING));

  caps = gst_caps_from_string (DAE_DENOISE_CAPS);
  gst_audio_filter_class_add_pad_templates (filter_class, caps);
  gst_caps_unref (caps);

  gst_element_class_set_static_metadata (element_class,
      "Denoising autoencoder", "Filter/Effect/Audio",
      "Removes noise with a spectral denoising autoencoder and reports an "
      "anomaly score. F32LE/S16LE, 1-8 channels, at the rate of a model "
      "(16000/48000 Hz with the embedded speech models); adds the "
      "model's latency, window - hop (10 ms with the default models)",
      "The dae authors");

  trans_class->start = GST_DEBUG_FUNCPTR (gst_dae_denoise_start);
  trans_class->stop = GST_DEBUG_FUNCPTR (gst_dae_denoise_stop);
  trans_class->submit_input_buffer =
      GST_DEBUG_FUNCPTR (gst_dae_denoise_submit_input_buffer);
  trans_class->generate_output =
      GST_DEBUG_FUNCPTR (gst_dae_denoise_generate_output);
  trans_class->sink_event = GST_DEBUG_FUNCPTR (gst_dae_denoise_sink_event);
  trans_class->query = GST_DEBUG_FUNCPTR (gst_dae_denoise_query);
  trans_class->transform_caps =
      GST_DEBUG_FUNCPTR (gst_dae_denoise_transform_caps);
  trans_class->passthrough_on_same_caps = FALSE;
  filter_class->setup = GST_DEBUG_FUNCPTR (gst_dae_denoise_setup);
}

static void
gst_dae_denoise_init (GstDaeDenoise * self)
{
  self->model_file = g_strdup (DEFAULT_MODEL_FILE);
  self->attenuation_limit = DEFAULT_ATTENUATION_LIMIT;
  self->mix = DEFAULT_MIX;
  self->link_channels = DEFAULT_LINK_CHANNELS;
  self->post_messages = DEFAULT_POST_MESSAGES;
  self->interval = DEFAULT_INTERVAL;
  self->anomaly_threshold = DEFAULT_ANOMALY_THRESHOLD;
  self->anomaly_hold = DEFAULT_ANOMALY_HOLD;
  self->anomaly_meta = DEFAULT_ANOMALY_META;
  self->t0 = GST_CLOCK_TIME_NONE;
  self->anomaly_start_ns = GST_CLOCK_TIME_NONE;

  /* BaseTransform assumes passthrough without transform functions. */
  gst_base_transform_set_passthrough (GST_BASE_TRANSFORM (self), FALSE);
  gst_base_transform_set_in_place (GST_BASE_TRANSFORM (self), FALSE);
}

static void
gst_dae_denoise_finalize (GObject * object)
{
  GstDaeDenoise *self = GST_DAE_DENOISE (object);

  free_stream_state (self);
  dae_model_unref (self->file_model);
  g_free (self->model_file);

  G_OBJECT_CLASS (gst_dae_denoise_parent_class)->finalize (object);
}

static void
gst_dae_denoise_set_property (GObject * object, guint prop_id,
    const GValue * value, GParamSpec * pspec)
{
  GstDaeDenoise *self = GST_DAE_DENOISE (object);

  GST_OBJECT_LOCK (self);
  switch (prop_id) {
    case PROP_MODEL_FILE:
      if (self->started) {
        GST_WARNING_OBJECT (self, "model-file can only be changed in the "
            "NULL and READY states; ignored");
        break;
      }
      g_free (self->model_file);
      self->model_file = g_value_dup_string (value);
      break;
    case PROP_ATTENUATION_LIMIT:
      self->attenuation_limit = g_value_get_double (value);
      break;
    case PROP_MIX:
      self->mix = g_value_get_double (value);
      break;
    case PROP_LINK_CHANNELS:
      self->link_channels = g_value_get_boolean (value);
      break;
    case PROP_POST_MESSAGES:
      self->post_messages = g_value_get_boolean (value);
      break;
    case PROP_INTERVAL:
      self->interval = g_value_get_uint64 (value);
      break;
    case PROP_ANOMALY_THRESHOLD:
      self->anomaly_threshold = g_value_get_double (value);
      break;
    case PROP_ANOMALY_HOLD:
      self->anomaly_hold = g_value_get_uint64 (value);
      break;
    case PROP_ANOMALY_META:
      self->anomaly_meta = g_value_get_boolean (value);
      break;
    default:
      G_OBJECT_WARN_INVALID_PROPERTY_ID (object, prop_id, pspec);
      break;
  }
  GST_OBJECT_UNLOCK (self);
}

static void
gst_dae_denoise_get_property (GObject * object, guint prop_id,
    GValue * value, GParamSpec * pspec)
{
  GstDaeDenoise *self = GST_DAE_DENOISE (object);

  GST_OBJECT_LOCK (self);
  switch (prop_id) {
    case PROP_MODEL_FILE:
      g_value_set_string (value, self->model_file);
      break;
    case PROP_ATTENUATION_LIMIT:
      g_value_set_double (value, self->attenuation_limit);
      break;
    case PROP_MIX:
      g_value_set_double (value, self->mix);
      break;
    case PROP_LINK_CHANNELS:
      g_value_set_boolean (value, self->link_channels);
      break;
    case PROP_POST_MESSAGES:
      g_value_set_boolean (value, self->post_messages);
      break;
    case PROP_INTERVAL:
      g_value_set_uint64 (value, self->interval);
      break;
    case PROP_ANOMALY_THRESHOLD:
      g_value_set_double (value, self->anomaly_threshold);
      break;
    case PROP_ANOMALY_HOLD:
      g_value_set_uint64 (value, self->anomaly_hold);
      break;
    case PROP_ANOMALY_META:
      g_value_set_boolean (value, self->anomaly_meta);
      break;
    default:
      G_OBJECT_WARN_INVALID_PROPERTY_ID (object, prop_id, pspec);
      break;
  }
  GST_OBJECT_UNLOCK (self);
}

/* ------------------------------------------------------------------------ */
/* State changes and caps                                                    */

static gboolean
gst_dae_denoise_start (GstBaseTransform * trans)
{
  GstDaeDenoise *self = GST_DAE_DENOISE (trans);
  DaeModel *model = NULL;
  gchar *path;

  GST_OBJECT_LOCK (self);
  path = g_strdup (self->model_file);
  GST_OBJECT_UNLOCK (self);

  if (path != NULL) {
    DaeError error;
    DaeStatus status;

    status = dae_model_load_file (path, &model, &error);
    if (status != DAE_OK) {
      GST_ELEMENT_ERROR (self, RESOURCE, OPEN_READ,
          ("Could not load model file \"%s\": %s", path, error.message),
          ("%s: %s", dae_status_to_string (status), error.message));
      g_free (path);
      return FALSE;
    }
    GST_DEBUG_OBJECT (self, "loaded model file \"%s\" (%u Hz): %s", path,
        dae_model_get_sample_rate (model), dae_model_get_info (model));
    g_free (path);
  } else {
    const DefaultModels *defaults = get_default_models ();

    if (defaults->status != DAE_OK || defaults->n_models == 0) {
      GST_ELEMENT_ERROR (self, LIBRARY, INIT,
          ("Could not load the embedded default model."),
          ("%s: %s", dae_status_to_string (defaults->status),
              defaults->message));
      return FALSE;
    }
  }

  GST_OBJECT_LOCK (self);
  self->file_model = model;
  self->started = TRUE;
  self->warned_rate = 0;
  GST_OBJECT_UNLOCK (self);

  self->nonfinite_warned = FALSE;
  return TRUE;
}

static gboolean
gst_dae_denoise_stop (GstBaseTransform * trans)
{
  GstDaeDenoise *self = GST_DAE_DENOISE (trans);
  DaeModel *model;

  free_stream_state (self);

  GST_OBJECT_LOCK (self);
  model = self->file_model;
  self->file_model = NULL;
  self->started = FALSE;
  self->latency_ns = 0;
  GST_OBJECT_UNLOCK (self);

  dae_model_unref (model);
  return TRUE;
}

static void
free_stream_state (GstDaeDenoise * self)
{
  guint c;

  gst_clear_buffer (&self->pending_out);
  if (self->procs != NULL) {
    for (c = 0; c < self->channels; c++)
      dae_processor_free (self->procs[c]);
    g_clear_pointer (&self->procs, g_free);
  }
  g_clear_pointer (&self->scorer, dae_scorer_free);
  g_clear_pointer (&self->in_hop, g_free);
  g_clear_pointer (&self->out_hop, g_free);
  g_clear_pointer (&self->shared_gains, g_free);
  g_clear_pointer (&self->chan_score_acc, g_free);
  g_clear_pointer (&self->band_error_acc, g_free);
  g_clear_pointer (&self->model, dae_model_unref);
  self->channels = 0;
  self->rate = 0;
  self->hop = 0;
}

static gboolean
gst_dae_denoise_setup (GstAudioFilter * filter, const GstAudioInfo * info)
{
  GstDaeDenoise *self = GST_DAE_DENOISE (filter);
  gint rate = GST_AUDIO_INFO_RATE (info);
  guint channels = GST_AUDIO_INFO_CHANNELS (info);
  gboolean is_s16 = GST_AUDIO_INFO_FORMAT (info) == GST_AUDIO_FORMAT_S16LE;
  DaeModel *model;
  DaeModelConfig config;
  GstClockTime latency_ns;
  gboolean latency_changed;
  DaeStatus status;
  guint c;

  GST_OBJECT_LOCK (self);
  if (self->file_model != NULL) {
    model = (gint) dae_model_get_sample_rate (self->file_model) == rate ?
        dae_model_ref (self->file_model) : NULL;
  } else {
    model = find_default_model (rate);
    if (model != NULL)
      dae_model_ref (model);
  }
  GST_OBJECT_UNLOCK (self);

  if (model == NULL) {
    gint rates[MAX_DEFAULT_MODELS];
    guint n_rates = get_supported_rates (self, rates, MAX_DEFAULT_MODELS);
    gchar *list = rates_to_string (rates, n_rates);

    GST_ELEMENT_ERROR (self, STREAM, FORMAT,
        ("No model for a sample rate of %d Hz (supported: %s Hz).", rate,
            list), ("put audioconvert ! audioresample in front"));
    g_free (list);
    return FALSE;
  }

  if (model == self->model && channels == self->channels
      && is_s16 == self->is_s16 && self->procs != NULL) {
    GST_DEBUG_OBJECT (self, "configuration unchanged");
    dae_model_unref (model);
    return TRUE;
  }

  free_stream_state (self);
  self->model = model;
  self->rate = rate;
  self->is_s16 = is_s16;
  self->hop = dae_model_get_hop_samples (model);
  self->latency_samples = dae_model_get_latency_samples (model);
  self->n_bands = dae_model_get_n_bands (model);
  dae_model_get_config (model, &config);
  self->has_vad = config.has_vad != 0;
  self->model_threshold = dae_model_get_anomaly_threshold (model);

  self->procs = g_new0 (DaeProcessor *, channels);
  self->channels = channels;
  for (c = 0; c < channels; c++) {
    status = dae_processor_new (model, &self->procs[c]);
    if (status != DAE_OK) {
      GST_ELEMENT_ERROR (self, LIBRARY, INIT,
          ("Could not create the denoiser."),
          ("dae_processor_new: %s", dae_status_to_string (status)));
      free_stream_state (self);
      return FALSE;
    }
  }
  /* Threshold FLT_MAX and hold 1 until the first buffer applies the
   * properties. */
  status = dae_scorer_new (G_MAXFLOAT, 1, SCORER_SMOOTHING_FRAMES,
      &self->scorer);
  if (status != DAE_OK) {
    GST_ELEMENT_ERROR (self, LIBRARY, INIT,
        ("Could not create the anomaly scorer."),
        ("dae_scorer_new: %s", dae_status_to_string (status)));
    free_stream_state (self);
    return FALSE;
  }

  self->in_hop = g_new0 (gfloat, channels * self->hop);
  self->out_hop = g_new0 (gfloat, channels * self->hop);
  self->shared_gains = g_new0 (gfloat, self->n_bands);
  self->chan_score_acc = g_new0 (gdouble, channels);
  self->band_error_acc = g_new0 (gdouble, self->n_bands);
  self->applied_limit = NAN;
  self->applied_mix = NAN;
  self->applied_threshold = NAN;
  self->applied_hold = G_MAXUINT64;
  reset_stream (self);

  latency_ns = gst_util_uint64_scale_round (self->latency_samples,
      GST_SECOND, rate);
  GST_OBJECT_LOCK (self);
  latency_changed = latency_ns != self->latency_ns;
  self->latency_ns = latency_ns;
  GST_OBJECT_UNLOCK (self);

  GST_INFO_OBJECT (self, "model %u Hz, window %" G_GSIZE_FORMAT
      ", hop %" G_GSIZE_FORMAT ", %" G_GSIZE_FORMAT " bands%s, latency %"
      G_GSIZE_FORMAT " samples (%" GST_TIME_FORMAT "), %u channels %s: %s",
      dae_model_get_sample_rate (model), config.window_samples, self->hop,
      self->n_bands, self->has_vad ? " + VAD" : "", self->latency_samples,
      GST_TIME_ARGS (latency_ns), channels, is_s16 ? "S16LE" : "F32LE",
      dae_model_get_info (model));

  if (latency_changed)
    gst_element_post_message (GST_ELEMENT (self),
        gst_message_new_latency (GST_OBJECT (self)));
  return TRUE;
}

/* Forgets held audio and history: after a flush, a drain or new caps. */
static void
reset_stream (GstDaeDenoise * self)
{
  guint c;

  for (c = 0; c < self->channels && self->procs != NULL; c++)
    dae_processor_reset (self->procs[c]);
  if (self->scorer != NULL)
    dae_scorer_reset (self->scorer);
  gst_clear_buffer (&self->pending_out);
  self->in_fill = 0;
  self->skip_remaining = self->latency_samples;
  self->samples_in = 0;
  self->samples_out = 0;
  self->t0 = GST_CLOCK_TIME_NONE;
  self->discont_pending = TRUE;
  self->msg_start = 0;
  self->msg_samples = 0;
  self->msg_frames = 0;
  self->msg_score_sum = 0.0;
  self->msg_score_max = 0.0;
  self->anomaly_start_ns = GST_CLOCK_TIME_NONE;
  if (self->chan_score_acc != NULL)
    memset (self->chan_score_acc, 0, self->channels * sizeof (gdouble));
  if (self->band_error_acc != NULL)
    memset (self->band_error_acc, 0, self->n_bands * sizeof (gdouble));
}

/* ------------------------------------------------------------------------ */
/* Processing                                                                */

static void
snapshot_settings (GstDaeDenoise * self, Settings * s)
{
  GST_OBJECT_LOCK (self);
  s->attenuation_limit = self->attenuation_limit;
  s->mix = self->mix;
  s->link_channels = self->link_channels;
  s->post_messages = self->post_messages;
  s->interval = self->interval;
  s->anomaly_threshold = self->anomaly_threshold;
  s->anomaly_hold = self->anomaly_hold;
  s->anomaly_meta = self->anomaly_meta;
  GST_OBJECT_UNLOCK (self);
}

/* The threshold in use: the property, else the model's, else -1 (none). */
static gdouble
effective_threshold (GstDaeDenoise * self, const Settings * s)
{
  if (s->anomaly_threshold >= 0.0)
    return s->anomaly_threshold;
  if (self->model_threshold >= 0.0f)
    return self->model_threshold;
  return -1.0;
}

static void
apply_settings (GstDaeDenoise * self, const Settings * s)
{
  gdouble threshold;
  guint c;

  if (s->attenuation_limit != self->applied_limit) {
    for (c = 0; c < self->channels; c++) {
      if (dae_processor_set_attenuation_limit (self->procs[c],
              s->attenuation_limit) != DAE_OK)
        GST_WARNING_OBJECT (self, "attenuation limit %f refused",
            s->attenuation_limit);
    }
    self->applied_limit = s->attenuation_limit;
  }
  if (s->mix != self->applied_mix) {
    for (c = 0; c < self->channels; c++) {
      if (dae_processor_set_mix (self->procs[c], s->mix) != DAE_OK)
        GST_WARNING_OBJECT (self, "mix %f refused", s->mix);
    }
    self->applied_mix = s->mix;
  }
  threshold = effective_threshold (self, s);
  if (threshold != self->applied_threshold) {
    /* No threshold: one no finite frame score can exceed. */
    if (dae_scorer_set_threshold (self->scorer,
            threshold < 0.0 ? G_MAXFLOAT : threshold) != DAE_OK)
      GST_WARNING_OBJECT (self, "anomaly threshold %f refused", threshold);
    self->applied_threshold = threshold;
  }
  if (s->anomaly_hold != self->applied_hold) {
    guint64 hold_frames = gst_util_uint64_scale_round (s->anomaly_hold,
        (guint64) self->rate, GST_SECOND * (guint64) self->hop);

    dae_scorer_set_hold_frames (self->scorer, MAX (hold_frames, 1));
    self->applied_hold = s->anomaly_hold;
  }
}

static GstClockTime
sample_to_time (GstDaeDenoise * self, guint64 sample)
{
  if (!GST_CLOCK_TIME_IS_VALID (self->t0))
    return GST_CLOCK_TIME_NONE;
  return self->t0 + gst_util_uint64_scale_int_round (sample, GST_SECOND,
      self->rate);
}

static GstStructure *
new_time_structure (GstDaeDenoise * self, const gchar * name,
    GstClockTime timestamp)
{
  GstSegment *segment = &GST_BASE_TRANSFORM (self)->segment;
  GstClockTime stream_time = GST_CLOCK_TIME_NONE;
  GstClockTime running_time = GST_CLOCK_TIME_NONE;

  if (GST_CLOCK_TIME_IS_VALID (timestamp)
      && segment->format == GST_FORMAT_TIME) {
    stream_time = gst_segment_to_stream_time (segment, GST_FORMAT_TIME,
        timestamp);
    running_time = gst_segment_to_running_time (segment, GST_FORMAT_TIME,
        timestamp);
  }
  return gst_structure_new (name,
      "timestamp", G_TYPE_UINT64, (guint64) timestamp,
      "stream-time", G_TYPE_UINT64, (guint64) stream_time,
      "running-time", G_TYPE_UINT64, (guint64) running_time, NULL);
}

static void
take_double_array (GstStructure * s, const gchar * field,
    const gdouble * values, gsize n, gdouble scale)
{
  GValue array = G_VALUE_INIT;
  GValue v = G_VALUE_INIT;
  GValueArray *arr;
  gsize i;

  /* GValueArray, as level's rms/peak fields, for gst-launch -m and
   * bindings alike. */
  G_GNUC_BEGIN_IGNORE_DEPRECATIONS;
  arr = g_value_array_new (n);
  g_value_init (&v, G_TYPE_DOUBLE);
  for (i = 0; i < n; i++) {
    g_value_set_double (&v, values[i] * scale);
    g_value_array_append (arr, &v);
  }
  g_value_unset (&v);
  g_value_init (&array, g_value_array_get_type ());
  g_value_take_boxed (&array, arr);
  G_GNUC_END_IGNORE_DEPRECATIONS;
  gst_structure_take_value (s, field, &array);
}

/* Posts the dae-anomaly message for the interval so far (if enabled) and
 * starts the next one.  Called with no lock held. */
static void
finish_interval (GstDaeDenoise * self, const Settings * s)
{
  if (self->msg_frames > 0 && s->post_messages) {
    GstClockTime start = sample_to_time (self, self->msg_start);
    GstClockTime end = sample_to_time (self, self->msg_start +
        self->msg_samples);
    GstClockTime duration = GST_CLOCK_TIME_IS_VALID (start) ? end - start :
        gst_util_uint64_scale_int_round (self->msg_samples, GST_SECOND,
        self->rate);
    gdouble frames = self->msg_frames;
    GstStructure *st = new_time_structure (self, "dae-anomaly", start);

    gst_structure_set (st,
        "duration", G_TYPE_UINT64, (guint64) duration,
        "score", G_TYPE_DOUBLE, self->msg_score_sum / frames,
        "max-score", G_TYPE_DOUBLE, self->msg_score_max,
        "threshold", G_TYPE_DOUBLE, self->applied_threshold,
        "is-anomaly", G_TYPE_BOOLEAN,
        dae_scorer_is_anomaly (self->scorer) != 0,
        "frames", G_TYPE_INT, (gint) self->msg_frames, NULL);
    take_double_array (st, "scores", self->chan_score_acc, self->channels,
        1.0 / frames);
    take_double_array (st, "band-errors", self->band_error_acc, self->n_bands,
        1.0 / (frames * self->channels));
    GST_LOG_OBJECT (self, "dae-anomaly at %" GST_TIME_FORMAT ", %u frames",
        GST_TIME_ARGS (start), self->msg_frames);
    gst_element_post_message (GST_ELEMENT (self),
        gst_message_new_element (GST_OBJECT (self), st));
  }
  self->msg_start += self->msg_samples;
  self->msg_samples = 0;
  self->msg_frames = 0;
  self->msg_score_sum = 0.0;
  self->msg_score_max = 0.0;
  memset (self->chan_score_acc, 0, self->channels * sizeof (gdouble));
  memset (self->band_error_acc, 0, self->n_bands * sizeof (gdouble));
}

/* A debounced transition: message (if enabled) and serialized downstream
 * event, pushed before the buffer being produced.  Streaming thread, no
 * lock held. */
static void
signal_transition (GstDaeDenoise * self, const Settings * s,
    DaeAnomalyEvent event, gfloat score)
{
  GstClockTime now = sample_to_time (self, self->samples_out);
  GstStructure *st;

  if (event == DAE_ANOMALY_START) {
    st = new_time_structure (self, "dae-anomaly-start", now);
    self->anomaly_start_ns = now;
  } else {
    GstClockTime duration = GST_CLOCK_TIME_NONE;

    if (GST_CLOCK_TIME_IS_VALID (now)
        && GST_CLOCK_TIME_IS_VALID (self->anomaly_start_ns)
        && now >= self->anomaly_start_ns)
      duration = now - self->anomaly_start_ns;
    st = new_time_structure (self, "dae-anomaly-end", now);
    gst_structure_set (st, "duration", G_TYPE_UINT64, (guint64) duration, NULL);
    self->anomaly_start_ns = GST_CLOCK_TIME_NONE;
  }
  gst_structure_set (st, "score", G_TYPE_DOUBLE, (gdouble) score, NULL);
  GST_DEBUG_OBJECT (self, "%s at %" GST_TIME_FORMAT,
      gst_structure_get_name (st), GST_TIME_ARGS (now));

  if (s->post_messages)
    gst_element_post_message (GST_ELEMENT (self),
        gst_message_new_element (GST_OBJECT (self), gst_structure_copy (st)));
  gst_pad_push_event (GST_BASE_TRANSFORM_SRC_PAD (self),
      gst_event_new_custom (GST_EVENT_CUSTOM_DOWNSTREAM, st));
}

/* Runs the processors on the full hop in in_hop, leaving the result in
 * out_hop, and does the anomaly bookkeeping for the frame. */
static void
process_hop (GstDaeDenoise * self, const Settings * s, BufferStats * stats)
{
  gsize hop = self->hop;
  gfloat frame_score = 0.0f;
  gboolean link = s->link_channels && self->channels > 1;
  DaeAnomalyEvent event;
  gfloat smoothed;
  guint c;
  gsize b;

  for (c = 0; c < self->channels; c++) {
    DaeFrameResult result;
    DaeStatus status;

    if (link)
      status = dae_processor_analyze (self->procs[c], self->in_hop + c * hop,
          &result);
    else
      status = dae_processor_process (self->procs[c], self->in_hop + c * hop,
          self->out_hop + c * hop, &result);
    if (status != DAE_OK) {
      /* Only possible for NULL pointers: a bug, not a stream problem. */
      GST_ERROR_OBJECT (self, "processing failed: %s",
          dae_status_to_string (status));
      memset (self->out_hop + c * hop, 0, hop * sizeof (gfloat));
      continue;
    }

    frame_score = MAX (frame_score, result.score);
    self->chan_score_acc[c] += result.score;
    for (b = 0; b < self->n_bands && b < result.n_bands; b++)
      self->band_error_acc[b] += result.band_errors[b];
    if (self->has_vad)
      stats->vad_max = MAX (stats->vad_max, result.vad);
    stats->n_nonfinite += result.n_nonfinite;

    if (link) {
      for (b = 0; b < self->n_bands && b < result.n_bands; b++) {
        if (c == 0 || result.band_gains[b] > self->shared_gains[b])
          self->shared_gains[b] = result.band_gains[b];
      }
    }
  }

  if (link) {
    for (c = 0; c < self->channels; c++) {
      if (dae_processor_synthesize (self->procs[c], self->shared_gains,
              self->out_hop + c * hop) != DAE_OK) {
        GST_ERROR_OBJECT (self, "synthesis failed");
        memset (self->out_hop + c * hop, 0, hop * sizeof (gfloat));
      }
    }
  }

  self->msg_frames++;
  self->msg_score_sum += frame_score;
  self->msg_score_max = MAX (self->msg_score_max, frame_score);
  stats->frames++;
  stats->score_sum += frame_score;

  event = dae_scorer_push (self->scorer, frame_score, &smoothed);
  self->last_smoothed = smoothed;
  if (event != DAE_ANOMALY_NONE)
    signal_transition (self, s, event, smoothed);
}

/* Feeds n_in samples per channel (interleaved; in == NULL means silence)
 * and writes at most out_cap output samples to out.  Returns the number of
 * samples written. */
static gsize
process_samples (GstDaeDenoise * self, const Settings * s,
    const guint8 * in, gsize n_in, guint8 * out, gsize out_cap,
    BufferStats * stats)
{
  guint channels = self->channels;
  gsize hop = self->hop;
  guint64 interval_samples = MAX (1, gst_util_uint64_scale_int (s->interval,
          self->rate, GST_SECOND));
  gsize n_out = 0;

  while (n_in > 0) {
    gsize take = MIN (hop - self->in_fill, n_in);
    gsize i;
    gsize skip;
    gsize emit;
    guint c;

    /* deinterleave and convert */
    for (c = 0; c < channels; c++) {
      gfloat *dst = self->in_hop + c * hop + self->in_fill;

      if (in == NULL) {
        memset (dst, 0, take * sizeof (gfloat));
      } else if (self->is_s16) {
        const gint16 *src = (const gint16 *) in;

        for (i = 0; i < take; i++)
          dst[i] = src[i * channels + c] * (1.0f / 32768.0f);
      } else {
        const gfloat *src = (const gfloat *) in;

        for (i = 0; i < take; i++)
          dst[i] = src[i * channels + c];
      }
    }
    if (in != NULL)
      in += take * channels * (self->is_s16 ? 2 : 4);
    self->in_fill += take;
    n_in -= take;
    if (self->in_fill < hop)
      break;
    self->in_fill = 0;

    process_hop (self, s, stats);

    /* interleave the emitted part: the first latency samples after a
     * reset are the processors' delay line and never leave */
    skip = MIN (self->skip_remaining, hop);
    self->skip_remaining -= skip;
    emit = MIN (hop - skip, out_cap - n_out);
    for (c = 0; c < channels; c++) {
      const gfloat *src = self->out_hop + c * hop + skip;

      if (self->is_s16) {
        gint16 *dst = (gint16 *) out + n_out * channels + c;

        for (i = 0; i < emit; i++) {
          gfloat v = src[i] * 32768.0f;

          stats->sum_squares += (gdouble) src[i] * src[i];
          v = CLAMP (v, -32768.0f, 32767.0f);
          dst[i * channels] = (gint16) lrintf (v);
        }
      } else {
        gfloat *dst = (gfloat *) out + n_out * channels + c;

        for (i = 0; i < emit; i++) {
          stats->sum_squares += (gdouble) src[i] * src[i];
          dst[i * channels] = src[i];
        }
      }
    }
    n_out += emit;
    self->samples_out += emit;
    self->msg_samples += emit;
    if (self->msg_samples >= interval_samples)
      finish_interval (self, s);
  }
  return n_out;
}

/* Output samples that n_in more input samples will release. */
static gsize
output_for_input (GstDaeDenoise * self, guint64 n_in)
{
  guint64 fed = self->samples_in + n_in;
  guint64 processed = fed - fed % self->hop;
  guint64 available = processed > self->latency_samples ?
      processed - self->latency_samples : 0;

  return available > self->samples_out ? available - self->samples_out : 0;
}

/* Timestamps, flags and metas of a finished output buffer. */
static void
finish_buffer (GstDaeDenoise * self, const Settings * s, GstBuffer * buf,
    guint64 first_sample, gsize n_samples, const BufferStats * stats)
{
  GstClockTime start = sample_to_time (self, first_sample);

  GST_BUFFER_PTS (buf) = start;
  GST_BUFFER_DTS (buf) = GST_CLOCK_TIME_NONE;
  if (GST_CLOCK_TIME_IS_VALID (start))
    GST_BUFFER_DURATION (buf) = sample_to_time (self,
        first_sample + n_samples) - start;
  else
    GST_BUFFER_DURATION (buf) = gst_util_uint64_scale_int_round (n_samples,
        GST_SECOND, self->rate);
  GST_BUFFER_OFFSET (buf) = first_sample;
  GST_BUFFER_OFFSET_END (buf) = first_sample + n_samples;
  if (self->discont_pending) {
    GST_BUFFER_FLAG_SET (buf, GST_BUFFER_FLAG_DISCONT);
    self->discont_pending = FALSE;
  }

  if (s->anomaly_meta)
    gst_dae_anomaly_meta_add (buf,
        stats->frames > 0 ? stats->score_sum / stats->frames : 0.0,
        self->applied_threshold, dae_scorer_is_anomaly (self->scorer) != 0,
        (gint) stats->frames);

  if (self->has_vad) {
    gdouble n = (gdouble) n_samples * self->channels;
    gdouble rms = n > 0 ? sqrt (stats->sum_squares / n) : 0.0;
    gdouble dbov = rms > 0.0 ? -20.0 * log10 (rms) : 127.0;

    gst_buffer_add_audio_level_meta (buf, (guint8) CLAMP (dbov, 0.0, 127.0),
        stats->vad_max > 0.5f);
  }

  GST_LOG_OBJECT (self, "output %" G_GSIZE_FORMAT " samples at %"
      GST_TIME_FORMAT, n_samples, GST_TIME_ARGS (start));
}

static void
warn_nonfinite (GstDaeDenoise * self, const BufferStats * stats)
{
  if (stats->n_nonfinite == 0 || self->nonfinite_warned)
    return;
  self->nonfinite_warned = TRUE;
  GST_ELEMENT_WARNING (self, STREAM, FORMAT,
      ("The input contains NaN or infinite samples; they are replaced by "
          "silence."), ("%" G_GSIZE_FORMAT " non-finite samples in one "
          "buffer; reported once per stream", stats->n_nonfinite));
}

/* Feeds input (NULL = silence) and returns the output buffer it releases,
 * or NULL if none. */
static GstBuffer *
process_buffer (GstDaeDenoise * self, const Settings * s, const guint8 * in,
    gsize n_in, gsize out_cap)
{
  BufferStats stats = { 0, };
  guint64 first_sample = self->samples_out;
  gsize bpf = self->channels * (self->is_s16 ? 2 : 4);
  GstBuffer *outbuf = NULL;
  GstMapInfo map = { 0, };
  gsize n_out;

  apply_settings (self, s);
  if (out_cap > 0) {
    outbuf = gst_buffer_new_allocate (NULL, out_cap * bpf, NULL);
    if (!gst_buffer_map (outbuf, &map, GST_MAP_WRITE)) {
      gst_buffer_unref (outbuf);
      return NULL;
    }
  }
  n_out = process_samples (self, s, in, n_in, map.data, out_cap, &stats);
  if (outbuf != NULL) {
    gst_buffer_unmap (outbuf, &map);
    g_assert (n_out == out_cap);
    finish_buffer (self, s, outbuf, first_sample, n_out, &stats);
  }
  warn_nonfinite (self, &stats);
  return outbuf;
}

static GstFlowReturn
gst_dae_denoise_submit_input_buffer (GstBaseTransform * trans,
    gboolean is_discont, GstBuffer * input)
{
  GstDaeDenoise *self = GST_DAE_DENOISE (trans);
  GstClockTime pts = GST_BUFFER_PTS (input);
  GstFlowReturn ret = GST_FLOW_OK;
  Settings s;
  GstMapInfo map;
  gsize bpf;
  gsize n_in;
  gboolean gap;

  if (self->procs == NULL) {
    gst_buffer_unref (input);
    return GST_FLOW_NOT_NEGOTIATED;
  }
  bpf = self->channels * (self->is_s16 ? 2 : 4);

  /* A discontinuity ends the current stretch of audio: drain and start
   * over, as audioresample does. */
  if (self->samples_in > 0) {
    gboolean jump = FALSE;

    if (GST_CLOCK_TIME_IS_VALID (pts) && GST_CLOCK_TIME_IS_VALID (self->t0)) {
      GstClockTime expected = sample_to_time (self, self->samples_in);
      GstClockTime diff = pts > expected ? pts - expected : expected - pts;

      jump = diff > DISCONT_TOLERANCE_NS;
    }
    if (GST_BUFFER_IS_DISCONT (input) || jump) {
      GST_DEBUG_OBJECT (self, "discontinuity at %" GST_TIME_FORMAT
          " (flag %d): draining", GST_TIME_ARGS (pts),
          GST_BUFFER_IS_DISCONT (input));
      ret = drain (self);
      if (ret != GST_FLOW_OK && ret != GST_FLOW_NOT_LINKED) {
        gst_buffer_unref (input);
        return ret;
      }
      ret = GST_FLOW_OK;
    }
  }
  if (self->samples_in == 0)
    self->t0 = pts;

  if (GST_CLOCK_TIME_IS_VALID (pts))
    gst_object_sync_values (GST_OBJECT (self),
        gst_segment_to_stream_time (&trans->segment, GST_FORMAT_TIME, pts));
  snapshot_settings (self, &s);

  if (!gst_buffer_map (input, &map, GST_MAP_READ)) {
    gst_buffer_unref (input);
    GST_ELEMENT_ERROR (self, STREAM, FAILED, ("Could not map the input."),
        (NULL));
    return GST_FLOW_ERROR;
  }
  n_in = map.size / bpf;
  gap = GST_BUFFER_FLAG_IS_SET (input, GST_BUFFER_FLAG_GAP);
  GST_LOG_OBJECT (self, "input %" G_GSIZE_FORMAT " samples at %"
      GST_TIME_FORMAT "%s", n_in, GST_TIME_ARGS (pts), gap ? " (gap)" : "");

  /* A gap buffer is silence, whatever its memory holds. */
  self->pending_out = process_buffer (self, &s, gap ? NULL : map.data, n_in,
      output_for_input (self, n_in));
  self->samples_in += n_in;
  gst_buffer_unmap (input, &map);
  gst_buffer_unref (input);
  return ret;
}

static GstFlowReturn
gst_dae_denoise_generate_output (GstBaseTransform * trans, GstBuffer ** outbuf)
{
  GstDaeDenoise *self = GST_DAE_DENOISE (trans);

  *outbuf = self->pending_out;
  self->pending_out = NULL;
  return GST_FLOW_OK;
}

/* Pushes the withheld tail (feeding silence until every input sample has
 * come out), posts the interval so far and resets.  Streaming thread, no
 * lock held. */
static GstFlowReturn
drain (GstDaeDenoise * self)
{
  GstFlowReturn ret = GST_FLOW_OK;
  GstBuffer *outbuf = NULL;
  Settings s;

  if (self->procs == NULL)
    return GST_FLOW_OK;
  if (self->samples_in == 0) {
    reset_stream (self);
    return GST_FLOW_OK;
  }

  snapshot_settings (self, &s);
  if (self->samples_in > self->samples_out) {
    guint64 pending = self->samples_in - self->samples_out;
    guint64 hops = (self->samples_in + self->latency_samples + self->hop - 1)
        / self->hop;
    guint64 zeros = hops * self->hop - self->samples_in;

    GST_DEBUG_OBJECT (self, "draining %" G_GUINT64_FORMAT " samples", pending);
    outbuf = process_buffer (self, &s, NULL, zeros, pending);
  }
  finish_interval (self, &s);
  if (outbuf != NULL)
    ret = gst_pad_push (GST_BASE_TRANSFORM_SRC_PAD (self), outbuf);
  /* The reset forgets the anomaly state: close an open anomaly after the
   * last of its audio so that starts and ends always pair up. */
  if (dae_scorer_is_anomaly (self->scorer))
    signal_transition (self, &s, DAE_ANOMALY_END, self->last_smoothed);
  reset_stream (self);
  return ret;
}

static gboolean
gst_dae_denoise_sink_event (GstBaseTransform * trans, GstEvent * event)
{
  GstDaeDenoise *self = GST_DAE_DENOISE (trans);

  switch (GST_EVENT_TYPE (event)) {
    case GST_EVENT_FLUSH_STOP:
      GST_DEBUG_OBJECT (self, "flush: discarding held audio");
      reset_stream (self);
      break;
    case GST_EVENT_EOS:
    case GST_EVENT_GAP:
    case GST_EVENT_SEGMENT:
    case GST_EVENT_STREAM_START:
      GST_DEBUG_OBJECT (self, "%s: draining", GST_EVENT_TYPE_NAME (event));
      drain (self);
      break;
    case GST_EVENT_CAPS:
    {
      GstCaps *caps;
      GstCaps *current = gst_pad_get_current_caps (trans->sinkpad);

      gst_event_parse_caps (event, &caps);
      if (current != NULL && !gst_caps_is_equal (current, caps)) {
        GST_DEBUG_OBJECT (self, "new caps: draining");
        drain (self);
      }
      gst_clear_caps (&current);
      break;
    }
    default:
      break;
  }
  return GST_BASE_TRANSFORM_CLASS (gst_dae_denoise_parent_class)->sink_event
      (trans, event);
}

/* The template caps with the rate narrowed to the available models. */
static GstCaps *
get_allowed_caps (GstDaeDenoise * self)
{
  GstCaps *caps = gst_caps_from_string (DAE_DENOISE_CAPS);
  gint rates[MAX_DEFAULT_MODELS];
  guint n_rates = get_supported_rates (self, rates, MAX_DEFAULT_MODELS);
  GValue value = G_VALUE_INIT;
  guint i;

  if (n_rates == 0)
    return caps;
  if (n_rates == 1) {
    g_value_init (&value, G_TYPE_INT);
    g_value_set_int (&value, rates[0]);
  } else {
    GValue v = G_VALUE_INIT;

    g_value_init (&value, GST_TYPE_LIST);
    g_value_init (&v, G_TYPE_INT);
    for (i = 0; i < n_rates; i++) {
      g_value_set_int (&v, rates[i]);
      gst_value_list_append_value (&value, &v);
    }
    g_value_unset (&v);
  }
  for (i = 0; i < gst_caps_get_size (caps); i++)
    gst_structure_set_value (gst_caps_get_structure (caps, i), "rate", &value);
  g_value_unset (&value);
  return caps;
}

/* Same caps on both pads, restricted to the rates with a model (this is
 * what BaseTransform's accept-caps check uses). */
static GstCaps *
gst_dae_denoise_transform_caps (GstBaseTransform * trans,
    GstPadDirection direction, GstCaps * caps, GstCaps * filter)
{
  GstDaeDenoise *self = GST_DAE_DENOISE (trans);
  GstCaps *allowed = get_allowed_caps (self);
  GstCaps *result;

  result = gst_caps_intersect_full (caps, allowed, GST_CAPS_INTERSECT_FIRST);
  gst_caps_unref (allowed);
  if (filter != NULL) {
    GstCaps *tmp = gst_caps_intersect_full (filter, result,
        GST_CAPS_INTERSECT_FIRST);

    gst_caps_unref (result);
    result = tmp;
  }
  GST_LOG_OBJECT (self, "%s caps %" GST_PTR_FORMAT " -> %" GST_PTR_FORMAT,
      direction == GST_PAD_SINK ? "sink" : "src", caps, result);
  return result;
}

/* Explains a refused rate once, since the caps failure itself is only
 * reported upstream as "not-negotiated". */
static void
check_refused_caps (GstDaeDenoise * self, GstCaps * caps)
{
  GstStructure *s;
  gint rates[MAX_DEFAULT_MODELS];
  guint n_rates;
  gint rate;
  guint i;
  gchar *list;
  gboolean warn;

  if (gst_caps_get_size (caps) != 1)
    return;
  s = gst_caps_get_structure (caps, 0);
  if (!gst_structure_has_name (s, "audio/x-raw")
      || !gst_structure_get_int (s, "rate", &rate))
    return;
  n_rates = get_supported_rates (self, rates, MAX_DEFAULT_MODELS);
  for (i = 0; i < n_rates; i++) {
    if (rates[i] == rate)
      return;
  }

  GST_OBJECT_LOCK (self);
  warn = self->warned_rate != rate;
  self->warned_rate = rate;
  GST_OBJECT_UNLOCK (self);
  if (!warn)
    return;

  list = rates_to_string (rates, n_rates);
  GST_ELEMENT_WARNING (self, CORE, NEGOTIATION,
      ("No model for a sample rate of %d Hz (supported: %s Hz); put "
          "audioconvert ! audioresample in front.", rate, list),
      ("caps refused: %" GST_PTR_FORMAT, caps));
  g_free (list);
}

static gboolean
gst_dae_denoise_query (GstBaseTransform * trans, GstPadDirection direction,
    GstQuery * query)
{
  GstDaeDenoise *self = GST_DAE_DENOISE (trans);
  gboolean res;

  switch (GST_QUERY_TYPE (query)) {
    case GST_QUERY_LATENCY:
    {
      GstClockTime min;
      GstClockTime max;
      GstClockTime latency;
      gboolean live;

      if (direction != GST_PAD_SRC)
        break;
      if (!gst_pad_peer_query (trans->sinkpad, query))
        return FALSE;
      gst_query_parse_latency (query, &live, &min, &max);
      GST_OBJECT_LOCK (self);
      latency = self->latency_ns;
      GST_OBJECT_UNLOCK (self);
      GST_DEBUG_OBJECT (self, "upstream latency min %" GST_TIME_FORMAT
          " max %" GST_TIME_FORMAT ", adding %" GST_TIME_FORMAT,
          GST_TIME_ARGS (min), GST_TIME_ARGS (max), GST_TIME_ARGS (latency));
      min += latency;
      if (GST_CLOCK_TIME_IS_VALID (max))
        max += latency;
      gst_query_set_latency (query, live, min, max);
      return TRUE;
    }
    case GST_QUERY_CAPS:
    {
      GstCaps *caps;
      GstCaps *allowed;

      res = GST_BASE_TRANSFORM_CLASS (gst_dae_denoise_parent_class)->query
          (trans, direction, query);
      if (!res)
        return FALSE;
      gst_query_parse_caps_result (query, &caps);
      allowed = get_allowed_caps (self);
      caps = gst_caps_intersect_full (caps, allowed, GST_CAPS_INTERSECT_FIRST);
      gst_query_set_caps_result (query, caps);
      gst_caps_unref (caps);
      gst_caps_unref (allowed);
      return TRUE;
    }
    case GST_QUERY_ACCEPT_CAPS:
    {
      GstCaps *caps;
      gboolean accepted;

      res = GST_BASE_TRANSFORM_CLASS (gst_dae_denoise_parent_class)->query
          (trans, direction, query);
      gst_query_parse_accept_caps (query, &caps);
      gst_query_parse_accept_caps_result (query, &accepted);
      if (res && !accepted && direction == GST_PAD_SINK)
        check_refused_caps (self, caps);
      return res;
    }
    default:
      break;
  }
  return GST_BASE_TRANSFORM_CLASS (gst_dae_denoise_parent_class)->query
      (trans, direction, query);
}
