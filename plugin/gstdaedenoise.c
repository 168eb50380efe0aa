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
 * The embedded default models are placeholders: until the project's
 * training issue lands they are randomly initialised (untrained) models, so
 * they alter the sound without removing noise and are not calibrated for
 * anomaly detection.  Use #GstDaeDenoise:model-file with a trained model.
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
 * ## Online learning
 *
 * With #GstDaeDenoise:learn-duration set, the element learns what the
 * machine it listens to normally sounds like, with no separate training
 * step:
 *
 * 1. Collecting: it copies the mono downmix of the first learn-duration of
 *    input (at the negotiated rate, into a buffer allocated when the caps
 *    are set) while the audio flows on, denoised as usual.  Anomaly
 *    detection is off meanwhile: no `dae-anomaly-start`, `threshold` -1.
 *    A flush, discontinuity or gap keeps what was collected and starts a
 *    new clip (the trainer never sees a splice).
 * 2. Training: a background thread (at a lower scheduling priority; the
 *    OpenBLAS thread count is left alone) trains an anomaly model on it
 *    with libdae's trainer and the anomaly recipe, the same training as
 *    `dae-train anomaly` (at most #GstDaeDenoise:learn-epochs epochs, up
 *    to about 25 s of CPU each), holding out the last 10 to 25 % (at least
 *    2 s where possible) to calibrate the threshold: the 0.99 quantile of
 *    its frame scores.  The model has the architecture of the configured
 *    model if that is an anomaly model (it has a calibrated threshold),
 *    else the machine-sound layout `dae-train anomaly` uses by default: a
 *    predictive model of 256 bands on a 256 ms window with a 32 ms hop.
 *    So learn at least 10 s (a minute is better): the last part, held out,
 *    must hold a few dozen of those frames.
 * 3. Scoring: at the next hop boundary after training, the streaming
 *    thread (which only ever try-locks the hand-over) starts scoring the
 *    mono downmix with the learned model, with its calibrated threshold
 *    unless #GstDaeDenoise:anomaly-threshold is set.  The audio path is
 *    not touched: the configured model keeps denoising (an anomaly model
 *    is not trained to denoise), #GstDaeDenoise:mix and
 *    #GstDaeDenoise:attenuation-limit apply as before, and latency, sample
 *    counts and timestamps are unaffected.  The interval in progress is
 *    posted at the switch; `scores` then holds the downmix's score for
 *    every channel and `band-errors` has the learned model's bands.  The
 *    learned model runs on its own hops: every element hop reports the
 *    score of its latest frame, which ends up to one learned hop (plus
 *    its window minus the element's) before the hop's audio.  Its first
 *    window after the switch (and after every flush or discontinuity) is
 *    reported but not given to the anomaly debouncer, as in the
 *    calibration.
 *
 * The learned model is saved to #GstDaeDenoise:learned-model-file if set,
 * and the #GstDaeDenoise::save-model action signal saves it on request;
 * load it with #GstDaeDenoise:model-file next time.  A file that cannot be
 * written gives a warning message and the stream goes on.
 *
 * If the stream ends (EOS) before learn-duration, the element learns from
 * what it has (at least 1 s).  At EOS it waits for a training in progress
 * to finish before passing EOS on, so that a recording can be learned from
 * with `gst-launch-1.0 -e` and the model file is written when the pipeline
 * ends.  A flush ends that wait; going to READY or NULL cancels the
 * training (within one mini-batch) and frees everything.  A new sample
 * rate starts learning over (a new channel count does not).
 *
 * Messages (posted whatever #GstDaeDenoise:post-messages says):
 *
 * `dae-learning`, once per second of collected audio and about twice a
 * second (and after every epoch) while training:
 *
 * * #gchararray `phase`: `collecting` or `training`.
 * * #gdouble `fraction`: how much of the phase is done, 0 to 1 (1 at the
 *   end of each phase).
 * * #gdouble `seconds`: seconds of audio collected.
 * * #guint `epoch`: the epoch in progress (1-based), 0 while collecting.
 * * #guint `epochs`: #GstDaeDenoise:learn-epochs.
 * * #gdouble `loss`: the running mean training loss of the epoch, -1
 *   while collecting.
 *
 * `dae-learning-done`, once, when the learned model is ready (it scores
 * from the next hop on):
 *
 * * #gdouble `threshold`: the calibrated threshold (frame-score units).
 * * #gdouble `seconds-of-audio`: seconds of audio it learned from.
 * * #gdouble `train-time`: wall-clock seconds from the end of collecting
 *   to the model being ready.
 * * #guint `epochs`: epochs trained.
 * * #gdouble `validation-loss`: the best validation loss.
 * * #gdouble `false-alarms-per-hour`: the calibration's estimate of
 *   anomaly starts per hour of normal sound with the
 *   #GstDaeDenoise:anomaly-hold in effect at training time (-1 if
 *   unknown).
 * * #gchararray `model-file`: where the model was saved, or %NULL.
 *
 * If training fails (too little usable audio, say) the element posts a
 * warning and scores with the configured model, as without learning.
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
 * Print anomaly messages (`pipelines/monitor-anomalies.sh`; with
 * `MODEL=machine.dae` it adds `model-file=machine.dae`, a model trained
 * with `dae-train anomaly`):
 * |[
 * gst-launch-1.0 -m -e autoaudiosrc ! audioconvert ! audioresample ! daedenoise anomaly-threshold=-1 interval=1000000000 ! fakesink
 * ]|
 *
 * Learn the normal sound from the first minute, save the model, then
 * print anomaly messages (`pipelines/learn-and-monitor.sh`):
 * |[
 * gst-launch-1.0 -m -e autoaudiosrc ! audioconvert ! audioresample ! daedenoise learn-duration=60000000000 learn-epochs=20 learned-model-file=machine.dae interval=1000000000 ! fakesink
 * ]|
 *
 * Since: 0.1
 */

#ifdef HAVE_CONFIG_H
#include "config.h"
#endif

#include <errno.h>
#include <math.h>
#include <string.h>
#ifdef __linux__
#include <sys/resource.h>
#include <sys/syscall.h>
#include <unistd.h>
#endif

#include <gst/gst.h>
#include <gst/audio/audio.h>
#include <gst/audio/gstaudiofilter.h>

#include <dae/dae.h>
#include <dae/dae-train.h>

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
#define DEFAULT_LEARN_DURATION 0
#define DEFAULT_LEARN_EPOCHS 20
#define DEFAULT_LEARNED_MODEL_FILE NULL

/* Online learning.  The capture buffer is allocated when caps are set, so
 * learn-duration is bounded (10 minutes: 115 MB at 48 kHz). */
#define MAX_LEARN_DURATION (600 * GST_SECOND)
#define MAX_LEARN_EPOCHS 1000
/* Less audio than this at EOS is not worth a model. */
#define MIN_LEARN_SECONDS 1.0
/* Flushes, discontinuities and gaps split the capture into clips; beyond
 * this many the rest is spliced onto the last clip. */
#define MAX_LEARN_CLIPS 256
/* The training budget per epoch: the anomaly recipe's mini-batches (32
 * sequences of at most 100 frames, as `dae-train anomaly`), as many as
 * make LEARN_PASSES passes over the training audio, 10 to 100 of them (100
 * is dae-train's epoch: about 25 s of CPU on one core for the machine
 * layout, reached from about 50 s of audio).  Sequences are shortened
 * (to no fewer than 8 frames) when the held-out audio is shorter, so that
 * it can still validate and calibrate. */
#define LEARN_PASSES 200
#define LEARN_MIN_STEPS 10
#define LEARN_MAX_STEPS 100
#define LEARN_SEQUENCE_FRAMES 100
#define LEARN_MIN_SEQUENCE_FRAMES 8
#define LEARN_VALIDATION_SEQUENCES 32
/* The trainer runs each sequence through a few hops more than the window
 * before its frames count (lib/src/train.c); this many are kept free. */
#define LEARN_SEQUENCE_WARMUP_HOPS 8
/* Held out for calibration: at least this much audio, 10 to 25 % of it. */
#define LEARN_VALIDATION_SECONDS 2.0
#define LEARN_VALIDATION_MIN_FRACTION 0.1
#define LEARN_VALIDATION_MAX_FRACTION 0.25
#define LEARN_SEED 1
/* The training thread's niceness above the process's (Linux). */
#define LEARN_THREAD_NICE 10
/* dae-learning messages: at most this often within an epoch, and once
 * per this much collected audio. */
#define LEARN_PROGRESS_INTERVAL_US (G_USEC_PER_SEC / 2)
#define LEARN_COLLECT_MESSAGE_NS GST_SECOND

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
  PROP_ANOMALY_META,
  PROP_LEARN_DURATION,
  PROP_LEARN_EPOCHS,
  PROP_LEARNED_MODEL_FILE
};

typedef enum
{
  LEARN_OFF,                    /* learn-duration 0, or given up */
  LEARN_COLLECTING,             /* filling the capture buffer */
  LEARN_TRAINING,               /* the training thread runs */
  LEARN_DONE                    /* the learned model scores */
} LearnState;

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

/* What the training thread hands to the streaming thread.  The learned
 * model has its own framing (the machine-sound layout: a longer window and
 * hop than a speech model's), so the streaming thread gathers the mono
 * downmix into hops of the learned model's size in score_in; every
 * element hop reports the score and band errors of the learned model's
 * latest frame. */
typedef struct
{
  DaeModel *model;              /* NULL: learning failed */
  DaeProcessor *proc;           /* scores the mono downmix */
  gdouble threshold;            /* calibrated */
  gfloat *score_in;             /* hop_samples of the learned model */
  gsize score_hop;
  gsize score_fill;             /* samples in score_in */
  gfloat score;                 /* the latest frame's score, 0 before one */
  gfloat band_errors[DAE_MAX_BANDS];    /* and its band errors */
  gsize n_bands;
} LearnResult;

/* The training thread's input; the thread only reads it. */
typedef struct
{
  GstDaeDenoise *self;          /* not a reference: the element joins the
                                 * thread before it can go away */
  const gfloat *samples;        /* the capture buffer: not written while the
                                 * thread runs */
  gsize n_samples;
  gsize clip_ends[MAX_LEARN_CLIPS];
  guint n_clips;
  gint rate;
  DaeModelConfig model_config;
  guint epochs;
  /* progress: the thread's own */
  guint epoch;                  /* 1-based, the one in progress */
  gint64 last_post_us;
} LearnJob;

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
  guint64 learn_duration;
  guint learn_epochs;
  gchar *learned_model_file;

  /* set in start/stop, read by caps and latency queries: object lock */
  gboolean started;
  DaeModel *file_model;         /* the loaded model-file, or NULL */
  GstClockTime latency_ns;      /* last reported, 0 before any caps */
  gint warned_rate;             /* last rate refused with a warning */
  DaeModel *current_model;      /* what save-model writes: the scoring model */

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

  /* online learning: streaming thread only (or while stopped); the
   * capture buffer is read by the training thread while it runs */
  guint64 learn_duration_ns;    /* the properties, as at start */
  guint learn_epochs_run;
  LearnState learn_state;
  gint learn_rate;              /* the capture's rate, 0 = none */
  gfloat *capture;              /* mono downmix, capture_cap samples */
  gsize capture_cap;
  gsize capture_len;
  gsize clip_ends[MAX_LEARN_CLIPS];
  guint n_clip_ends;
  gsize capture_next_msg;       /* capture_len of the next progress message */
  gboolean learn_short_warned;
  GThread *learn_thread;
  LearnJob *learn_job;
  LearnResult *learned;         /* taken from the thread; scoring with it */
  gsize score_warmup;           /* frames not yet given to the scorer */
  gdouble msg_band_n;           /* band-error vectors in band_error_acc */

  /* shared with the training thread: learn_lock (the streaming thread
   * only try-locks it while data flows) */
  GMutex learn_lock;
  GCond learn_cond;
  LearnResult *learn_result;    /* published, not yet taken */
  gboolean learn_finished;      /* the thread has nothing more to do */
  gboolean learn_unblock;       /* stop waiting at EOS */
  gint learn_cancel;            /* atomic: stop training */
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

static GstStateChangeReturn gst_dae_denoise_change_state (GstElement *
    element, GstStateChange transition);
static gboolean gst_dae_denoise_save_model (GstDaeDenoise * self,
    const gchar * path);

static GstFlowReturn drain (GstDaeDenoise * self);
static void reset_stream (GstDaeDenoise * self);
static void free_stream_state (GstDaeDenoise * self);
static gboolean learn_setup (GstDaeDenoise * self);
static void learn_clear (GstDaeDenoise * self);
static void learn_wake (GstDaeDenoise * self, gboolean cancel);
static void learn_mark_clip_end (GstDaeDenoise * self);
static gsize learned_warmup_frames (GstDaeDenoise * self);
static void learned_reset (GstDaeDenoise * self);

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
   * default model for the negotiated rate (16000 or 48000 Hz; placeholders
   * until trained models are shipped).  A model file restricts the caps to
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
   * model; if the model is not calibrated (the placeholder defaults are
   * not) anomaly detection is off: `is-anomaly` stays %FALSE, no
   * start/end messages are posted and `threshold` is reported as -1.
   * With #GstDaeDenoise:learn-duration, detection is off until the learned
   * model is ready; -1 then takes its calibrated threshold, a value set
   * here overrides it.
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

  /**
   * GstDaeDenoise:learn-duration:
   *
   * Online learning: when not 0, the element learns the sound of the
   * machine it listens to from the first learn-duration nanoseconds of the
   * stream (mono downmix), trains an anomaly model in a background thread
   * and then scores with it (see "Online learning" in the element
   * documentation).  0 (the default) turns learning off.  At most 600 s;
   * 30 to 60 s of normal operation is a good choice.  Can only be set in
   * the NULL and READY states.
   *
   * Since: 0.1
   */
  g_object_class_install_property (gobject_class, PROP_LEARN_DURATION,
      g_param_spec_uint64 ("learn-duration", "Learn Duration",
          "Learn the normal sound from the first learn-duration of the "
          "stream (mono downmix) in a background thread, then score with the "
          "learned model; posts dae-learning (phase, fraction, seconds, "
          "epoch, epochs, loss) and dae-learning-done (threshold, "
          "seconds-of-audio, train-time, epochs, validation-loss, "
          "false-alarms-per-hour, model-file) (in nanoseconds; 0 = off; "
          "changeable in NULL and READY only)", 0, MAX_LEARN_DURATION,
          DEFAULT_LEARN_DURATION,
          G_PARAM_READWRITE | G_PARAM_STATIC_STRINGS |
          GST_PARAM_MUTABLE_READY));

  /**
   * GstDaeDenoise:learn-epochs:
   *
   * The training budget of online learning: at most this many epochs;
   * fewer if the validation loss stops improving for 8 epochs.  An epoch
   * is at most 100 mini-batches of 32 sequences of 100 frames, as
   * `dae-train anomaly`'s (fewer and shorter for less than about 50 s of
   * audio): about 25 s of CPU on one core from a minute of audio, a few
   * seconds from 10 s.  Can only be set in the NULL and READY states.
   *
   * Since: 0.1
   */
  g_object_class_install_property (gobject_class, PROP_LEARN_EPOCHS,
      g_param_spec_uint ("learn-epochs", "Learn Epochs",
          "Most training epochs for online learning (up to about 25 s of "
          "CPU each; changeable in NULL and READY only)", 1, MAX_LEARN_EPOCHS,
          DEFAULT_LEARN_EPOCHS,
          G_PARAM_READWRITE | G_PARAM_STATIC_STRINGS |
          GST_PARAM_MUTABLE_READY));

  /**
   * GstDaeDenoise:learned-model-file:
   *
   * Where online learning saves the model it learned (a `.dae` file, with
   * its calibrated threshold), so that a later run can load it with
   * #GstDaeDenoise:model-file.  %NULL (the default): not saved.  The file
   * is written atomically; if that fails the element posts a warning and
   * carries on.
   *
   * Since: 0.1
   */
  g_object_class_install_property (gobject_class, PROP_LEARNED_MODEL_FILE,
      g_param_spec_string ("learned-model-file", "Learned Model File",
          "Save the model learned online to this .dae file (NULL = do not "
          "save; changeable while PLAYING)", DEFAULT_LEARNED_MODEL_FILE,
          G_PARAM_READWRITE | G_PARAM_STATIC_STRINGS |
          GST_PARAM_MUTABLE_PLAYING));

  /**
   * GstDaeDenoise::save-model:
   * @denoise: the element
   * @path: the `.dae` file to write
   *
   * Action signal: saves the model the element scores with (the learned
   * model once online learning is done, otherwise the model in use) to
   * @path, atomically.  Failures are posted as a warning message.  Can be
   * emitted from any thread once caps are negotiated.
   *
   * Returns: %TRUE if the file was written.
   *
   * Since: 0.1
   */
  g_signal_new_class_handler ("save-model", G_TYPE_FROM_CLASS (klass),
      G_SIGNAL_RUN_LAST | G_SIGNAL_ACTION,
      G_CALLBACK (gst_dae_denoise_save_model), NULL, NULL, NULL,
      G_TYPE_BOOLEAN, 1, G_TYPE_STRING);

  caps = gst_caps_from_string (DAE_DENOISE_CAPS);
  gst_audio_filter_class_add_pad_templates (filter_class, caps);
  gst_caps_unref (caps);

  gst_element_class_set_static_metadata (element_class,
      "Denoising autoencoder", "Filter/Effect/Audio",
      "Removes noise with a spectral denoising autoencoder and reports an "
      "anomaly score; can learn a machine's normal sound online "
      "(learn-duration). F32LE/S16LE, 1-8 channels, at the rate of a model "
      "(16000/48000 Hz with the embedded placeholder models); adds the "
      "model's latency, window - hop (10 ms with the default models)",
      "The dae authors");

  element_class->change_state =
      GST_DEBUG_FUNCPTR (gst_dae_denoise_change_state);
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
  self->learn_duration = DEFAULT_LEARN_DURATION;
  self->learn_epochs = DEFAULT_LEARN_EPOCHS;
  self->learned_model_file = g_strdup (DEFAULT_LEARNED_MODEL_FILE);
  g_mutex_init (&self->learn_lock);
  g_cond_init (&self->learn_cond);
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

  learn_clear (self);
  free_stream_state (self);
  dae_model_unref (self->file_model);
  dae_model_unref (self->current_model);
  g_free (self->model_file);
  g_free (self->learned_model_file);
  g_mutex_clear (&self->learn_lock);
  g_cond_clear (&self->learn_cond);

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
    case PROP_LEARN_DURATION:
      if (self->started) {
        GST_WARNING_OBJECT (self, "learn-duration can only be changed in "
            "the NULL and READY states; ignored");
        break;
      }
      self->learn_duration = g_value_get_uint64 (value);
      break;
    case PROP_LEARN_EPOCHS:
      if (self->started) {
        GST_WARNING_OBJECT (self, "learn-epochs can only be changed in "
            "the NULL and READY states; ignored");
        break;
      }
      self->learn_epochs = g_value_get_uint (value);
      break;
    case PROP_LEARNED_MODEL_FILE:
      g_free (self->learned_model_file);
      self->learned_model_file = g_value_dup_string (value);
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
    case PROP_LEARN_DURATION:
      g_value_set_uint64 (value, self->learn_duration);
      break;
    case PROP_LEARN_EPOCHS:
      g_value_set_uint (value, self->learn_epochs);
      break;
    case PROP_LEARNED_MODEL_FILE:
      g_value_set_string (value, self->learned_model_file);
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
  self->learn_duration_ns = self->learn_duration;
  self->learn_epochs_run = self->learn_epochs;
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
  DaeModel *current;

  learn_clear (self);
  free_stream_state (self);

  GST_OBJECT_LOCK (self);
  model = self->file_model;
  self->file_model = NULL;
  current = self->current_model;
  self->current_model = NULL;
  self->started = FALSE;
  self->latency_ns = 0;
  GST_OBJECT_UNLOCK (self);

  dae_model_unref (model);
  dae_model_unref (current);
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
  DaeModel *old_current = NULL;
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
  /* a learned model may have another band layout */
  self->band_error_acc = g_new0 (gdouble, DAE_MAX_BANDS);
  self->applied_limit = NAN;
  self->applied_mix = NAN;
  self->applied_threshold = NAN;
  self->applied_hold = G_MAXUINT64;
  learn_setup (self);
  reset_stream (self);

  latency_ns = gst_util_uint64_scale_round (self->latency_samples,
      GST_SECOND, rate);
  /* save-model writes the scoring model: the running one until learning
   * is done (then the training thread or learn_setup set it) */
  if (self->learn_state != LEARN_TRAINING && self->learn_state != LEARN_DONE)
    old_current = dae_model_ref (model);
  GST_OBJECT_LOCK (self);
  latency_changed = latency_ns != self->latency_ns;
  self->latency_ns = latency_ns;
  if (old_current != NULL) {
    DaeModel *tmp = self->current_model;

    self->current_model = old_current;
    old_current = tmp;
  }
  GST_OBJECT_UNLOCK (self);
  dae_model_unref (old_current);

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
    memset (self->band_error_acc, 0, DAE_MAX_BANDS * sizeof (gdouble));
  self->msg_band_n = 0.0;

  /* the learned model's processor starts over too; a flush or a
   * discontinuity during collection ends a clip */
  learned_reset (self);
  if (self->learn_state == LEARN_COLLECTING)
    learn_mark_clip_end (self);
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

/* The threshold in use: none (-1) while learning online, else the
 * property, else the learned model's, else the model's, else -1 (none). */
static gdouble
effective_threshold (GstDaeDenoise * self, const Settings * s)
{
  if (self->learn_state == LEARN_COLLECTING
      || self->learn_state == LEARN_TRAINING)
    return -1.0;
  if (s->anomaly_threshold >= 0.0)
    return s->anomaly_threshold;
  if (self->learned != NULL && self->learned->model != NULL
      && self->learned->threshold >= 0.0)
    return self->learned->threshold;
  if (self->model_threshold >= 0.0f)
    return self->model_threshold;
  return -1.0;
}

/* Bands of the scoring model: the learned one once it is in use. */
static gsize
score_n_bands (GstDaeDenoise * self)
{
  if (self->learned != NULL && self->learned->model != NULL)
    return MIN (dae_model_get_n_bands (self->learned->model), DAE_MAX_BANDS);
  return self->n_bands;
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
    take_double_array (st, "band-errors", self->band_error_acc,
        score_n_bands (self), self->msg_band_n > 0 ? 1.0 / self->msg_band_n :
        0.0);
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
  memset (self->band_error_acc, 0, DAE_MAX_BANDS * sizeof (gdouble));
  self->msg_band_n = 0.0;
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

/* ------------------------------------------------------------------------ */
/* Online learning                                                           */

/* The streaming thread copies the mono downmix of the first learn-duration
 * of input into a buffer allocated in setup, then starts a thread that
 * trains an anomaly model on it with the library's trainer, calibrates it,
 * makes a processor for it and publishes both under learn_lock.  The
 * streaming thread try-locks learn_lock at hop boundaries while training
 * runs and, once a result is there, scores the mono downmix with it; the
 * audio path (processors, latency, timestamps) never changes.  The
 * learned objects are freed after joining the thread, in stop or on a new
 * rate, never in the streaming thread while data flows. */

static void
learn_result_free (LearnResult * result)
{
  if (result == NULL)
    return;
  dae_processor_free (result->proc);
  dae_model_unref (result->model);
  g_free (result->score_in);
  g_free (result);
}

/* Starts the learned model's framing over: a fresh processor, an empty
 * hop, no frame yet.  Streaming thread (or while stopped). */
static void
learned_reset (GstDaeDenoise * self)
{
  LearnResult *result = self->learned;

  if (result == NULL || result->proc == NULL)
    return;
  dae_processor_reset (result->proc);
  result->score_fill = 0;
  result->score = 0.0f;
  memset (result->band_errors, 0, sizeof (result->band_errors));
  self->score_warmup = learned_warmup_frames (self);
}

/* Element hops after a (re)start of the learned model's processor before
 * its scores mean something: until its first frame with a full window
 * (the calibration skipped the frames before it too). */
static gsize
learned_warmup_frames (GstDaeDenoise * self)
{
  DaeModel *model = self->learned != NULL ? self->learned->model : NULL;

  if (model == NULL || self->hop == 0)
    return 0;
  return (dae_model_get_window_samples (model) + self->hop - 1) / self->hop;
}

/* Posts a dae-learning message.  Any thread, no lock held. */
static void
post_learning (GstDaeDenoise * self, const gchar * phase, gdouble fraction,
    gdouble seconds, guint epoch, guint epochs, gdouble loss)
{
  GstStructure *st = gst_structure_new ("dae-learning",
      "phase", G_TYPE_STRING, phase,
      "fraction", G_TYPE_DOUBLE, CLAMP (fraction, 0.0, 1.0),
      "seconds", G_TYPE_DOUBLE, seconds,
      "epoch", G_TYPE_UINT, epoch,
      "epochs", G_TYPE_UINT, epochs,
      "loss", G_TYPE_DOUBLE, loss, NULL);

  GST_LOG_OBJECT (self, "dae-learning %s %.3f", phase, fraction);
  gst_element_post_message (GST_ELEMENT (self),
      gst_message_new_element (GST_OBJECT (self), st));
}

/* Writes model to path atomically; a failure is posted as a warning and
 * the stream carries on.  Any thread, no lock held. */
static gboolean
save_model_file (GstDaeDenoise * self, const DaeModel * model,
    const gchar * path)
{
  DaeError error;
  DaeStatus status;

  status = dae_model_save_file (model, path, &error);
  if (status != DAE_OK) {
    GST_ELEMENT_WARNING (self, RESOURCE, OPEN_WRITE,
        ("Could not save the model to \"%s\": %s", path, error.message),
        ("dae_model_save_file: %s: %s", dae_status_to_string (status),
            error.message));
    return FALSE;
  }
  GST_INFO_OBJECT (self, "saved the model to \"%s\"", path);
  return TRUE;
}

/* The training thread is a background job: let the streaming threads
 * (and everything else) go first. */
static void
lower_thread_priority (void)
{
#ifdef __linux__
  /* on Linux, setpriority applies to a thread id */
  id_t tid = (id_t) syscall (SYS_gettid);
  int nice_now;

  errno = 0;
  nice_now = getpriority (PRIO_PROCESS, tid);
  if (errno == 0 && setpriority (PRIO_PROCESS, tid,
          MIN (nice_now + LEARN_THREAD_NICE, 19)) != 0)
    GST_DEBUG ("could not lower the training thread's priority");
#endif
}

/* The trainer's progress callback: a dae-learning message at most every
 * LEARN_PROGRESS_INTERVAL_US; non-zero (interrupt) when cancelled. */
static int
learn_progress (size_t step, size_t n_steps, double loss, void *user_data)
{
  LearnJob *job = user_data;
  GstDaeDenoise *self = job->self;
  gint64 now;

  if (g_atomic_int_get (&self->learn_cancel))
    return 1;
  now = g_get_monotonic_time ();
  if (step < n_steps && now - job->last_post_us >= LEARN_PROGRESS_INTERVAL_US) {
    job->last_post_us = now;
    post_learning (self, "training",
        ((job->epoch - 1) * (gdouble) n_steps + step) /
        ((gdouble) job->epochs * n_steps),
        (gdouble) job->n_samples / job->rate, job->epoch, job->epochs, loss);
  }
  return 0;
}

/* Sets the sequence length and the steps per epoch of config (see
 * LEARN_PASSES) for n_samples of audio of which validation_fraction is
 * held out.  Training thread. */
static void
learn_budget (const DaeModelConfig * model, gsize n_samples,
    gdouble validation_fraction, DaeTrainConfig * config)
{
  gsize hop = MAX (model->hop_samples, 1);
  gsize window = model->window_samples;
  gsize held = (gsize) (validation_fraction * n_samples + 0.5);
  gsize held_frames = held > window ? (held - window) / hop : 0;
  gsize train_frames = (n_samples - MIN (held, n_samples)) / hop;
  gsize steps;

  held_frames -= MIN (held_frames, LEARN_SEQUENCE_WARMUP_HOPS);
  config->sequence_frames = CLAMP (held_frames, LEARN_MIN_SEQUENCE_FRAMES,
      LEARN_SEQUENCE_FRAMES);
  steps = (LEARN_PASSES * train_frames + config->batch_size *
      config->sequence_frames - 1) / (config->batch_size *
      config->sequence_frames);
  config->steps_per_epoch = CLAMP (steps, LEARN_MIN_STEPS, LEARN_MAX_STEPS);
}

/* Trains and calibrates a model on the job's audio.  Returns it, or NULL
 * with *message set on failure (NULL and no message when cancelled).
 * Training thread. */
static DaeModel *
learn_train (LearnJob * job, guint * epochs_done, gdouble * best_loss,
    gchar ** message)
{
  GstDaeDenoise *self = job->self;
  gdouble seconds = (gdouble) job->n_samples / job->rate;
  DaeTrainConfig config;
  DaeTrainer *trainer = NULL;
  DaeModel *model = NULL;
  DaeEpochResult result;
  DaeError error = { 0, };
  DaeStatus status;
  gchar *name;
  gchar *info;
  gsize start = 0;
  guint i;

  dae_train_config_init (&config, DAE_RECIPE_ANOMALY);
  config.seed = LEARN_SEED;
  config.max_epochs = job->epochs;
  config.validation_sequences = LEARN_VALIDATION_SEQUENCES;
  config.validation_fraction = CLAMP (LEARN_VALIDATION_SECONDS / seconds,
      LEARN_VALIDATION_MIN_FRACTION, LEARN_VALIDATION_MAX_FRACTION);
  learn_budget (&job->model_config, job->n_samples,
      config.validation_fraction, &config);
  /* the false-alarm estimate in the calibration uses the element's hold */
  GST_OBJECT_LOCK (self);
  config.alarm_hold_seconds = MIN ((gdouble) self->anomaly_hold / GST_SECOND,
      3600.0);
  GST_OBJECT_UNLOCK (self);

  status = dae_trainer_new (&job->model_config, &config, &trainer, &error);
  for (i = 0; status == DAE_OK && i < job->n_clips; i++) {
    status = dae_trainer_add_audio (trainer, DAE_SOURCE_NORMAL,
        job->samples + start, job->clip_ends[i] - start, NULL, &error);
    start = job->clip_ends[i];
  }
  if (status == DAE_OK) {
    name = gst_object_get_name (GST_OBJECT (self));
    info = g_strdup_printf ("learned online by the daedenoise element %s "
        "from %.1f s of its input at %d Hz (learn-epochs %u)", name, seconds,
        job->rate, job->epochs);
    status = dae_trainer_set_info (trainer, info);
    g_free (info);
    g_free (name);
  }
  if (status == DAE_OK)
    status = dae_trainer_prepare (trainer, &error);

  *best_loss = INFINITY;
  for (i = 0; status == DAE_OK && i < job->epochs; i++) {
    job->epoch = i + 1;
    status = dae_trainer_run_epoch (trainer, learn_progress, job, &result,
        &error);
    if (status != DAE_OK || g_atomic_int_get (&self->learn_cancel))
      break;
    *epochs_done = (guint) result.epoch;
    *best_loss = MIN (*best_loss, result.validation_loss);
    GST_DEBUG_OBJECT (self, "epoch %u: training loss %g, validation loss %g",
        job->epoch, result.train_loss, result.validation_loss);
    post_learning (self, "training", result.stop ? 1.0 :
        (gdouble) job->epoch / job->epochs, seconds, job->epoch, job->epochs,
        result.train_loss);
    if (result.stop)
      break;
  }

  if (status == DAE_OK && g_atomic_int_get (&self->learn_cancel)) {
    GST_DEBUG_OBJECT (self, "training cancelled");
    dae_trainer_free (trainer);
    return NULL;
  }
  if (status == DAE_OK)
    status = dae_trainer_get_model (trainer, &model, &error);
  dae_trainer_free (trainer);
  if (status != DAE_OK)
    *message = g_strdup_printf ("%s: %s", dae_status_to_string (status),
        error.message);
  return model;
}

static gpointer
learn_thread_func (gpointer data)
{
  LearnJob *job = data;
  GstDaeDenoise *self = job->self;
  gdouble seconds = (gdouble) job->n_samples / job->rate;
  gint64 start_us = g_get_monotonic_time ();
  LearnResult *result;
  DaeModel *model;
  DaeModel *old;
  DaeStatus status;
  GstStructure *st;
  gchar *message = NULL;
  gchar *path = NULL;
  gboolean saved = FALSE;
  guint epochs_done = 0;
  gdouble best_loss = NAN;
  gdouble threshold;
  gdouble train_time;
  gdouble false_alarms = -1.0;
  DaeAnomalyCalibration calibration;

  lower_thread_priority ();
  job->last_post_us = start_us;
  GST_DEBUG_OBJECT (self, "training on %.1f s of audio in %u clips, at most "
      "%u epochs", seconds, job->n_clips, job->epochs);

  model = learn_train (job, &epochs_done, &best_loss, &message);
  result = g_new0 (LearnResult, 1);
  if (model != NULL) {
    result->score_hop = dae_model_get_hop_samples (model);
    result->score_in = g_try_new0 (gfloat, result->score_hop);
    status = result->score_in != NULL ?
        dae_processor_new (model, &result->proc) : DAE_ERROR_NO_MEMORY;
    if (status != DAE_OK) {
      message = g_strdup_printf ("dae_processor_new: %s",
          dae_status_to_string (status));
      dae_model_unref (model);
      model = NULL;
    }
  }
  if (model == NULL && message == NULL) {
    /* cancelled */
    g_free (result);
    goto finished;
  }
  if (model == NULL) {
    GST_ELEMENT_WARNING (self, LIBRARY, FAILED,
        ("Online learning failed; anomaly detection uses the configured "
            "model."), ("%s", message));
  } else {
    result->model = dae_model_ref (model);
    result->threshold = dae_model_get_anomaly_threshold (model);
    if (dae_model_get_anomaly_calibration (model, &calibration))
      false_alarms = calibration.false_alarms_per_hour;
  }
  threshold = result->threshold;
  train_time = (g_get_monotonic_time () - start_us) / (gdouble) G_USEC_PER_SEC;

  /* the streaming thread takes it at its next hop */
  g_mutex_lock (&self->learn_lock);
  self->learn_result = result;
  g_mutex_unlock (&self->learn_lock);
  if (model == NULL)
    goto finished;

  GST_INFO_OBJECT (self, "learned from %.1f s of audio in %.1f s (%u epochs, "
      "validation loss %g): threshold %g", seconds, train_time, epochs_done,
      best_loss, threshold);
  GST_OBJECT_LOCK (self);
  old = self->current_model;
  self->current_model = dae_model_ref (model);
  path = g_strdup (self->learned_model_file);
  GST_OBJECT_UNLOCK (self);
  dae_model_unref (old);

  if (path != NULL && !g_atomic_int_get (&self->learn_cancel))
    saved = save_model_file (self, model, path);

  st = gst_structure_new ("dae-learning-done",
      "threshold", G_TYPE_DOUBLE, threshold,
      "seconds-of-audio", G_TYPE_DOUBLE, seconds,
      "train-time", G_TYPE_DOUBLE, train_time,
      "epochs", G_TYPE_UINT, epochs_done,
      "validation-loss", G_TYPE_DOUBLE, best_loss,
      "false-alarms-per-hour", G_TYPE_DOUBLE, false_alarms,
      "model-file", G_TYPE_STRING, saved ? path : NULL, NULL);
  gst_element_post_message (GST_ELEMENT (self),
      gst_message_new_element (GST_OBJECT (self), st));

finished:
  dae_model_unref (model);
  g_free (path);
  g_free (message);
  g_mutex_lock (&self->learn_lock);
  self->learn_finished = TRUE;
  g_cond_broadcast (&self->learn_cond);
  g_mutex_unlock (&self->learn_lock);
  return NULL;
}

/* The learned model's architecture: that of the running model if it is an
 * anomaly model (it has a calibrated threshold), else the library's
 * machine-sound layout at the stream's rate (what `dae-train anomaly`
 * trains by default; its window and hop are longer than a speech
 * model's, see score_learned()). */
static void
learn_model_config (GstDaeDenoise * self, DaeModelConfig * config)
{
  if (self->model_threshold >= 0.0f)
    dae_model_get_config (self->model, config);
  else
    dae_model_config_init_for_recipe (config, (unsigned) self->learn_rate,
        DAE_RECIPE_ANOMALY);
  config->has_vad = 0;
}

/* Ends the current clip of the capture (at a flush, discontinuity or gap:
 * the trainer must not see the splice). */
static void
learn_mark_clip_end (GstDaeDenoise * self)
{
  gsize last = self->n_clip_ends > 0 ?
      self->clip_ends[self->n_clip_ends - 1] : 0;

  if (self->capture == NULL || self->capture_len == last)
    return;
  if (self->n_clip_ends < MAX_LEARN_CLIPS)
    self->clip_ends[self->n_clip_ends++] = self->capture_len;
  else
    self->clip_ends[MAX_LEARN_CLIPS - 1] = self->capture_len;
}

/* Hands the captured audio to a new training thread.  Streaming thread. */
static void
learn_start_training (GstDaeDenoise * self)
{
  gdouble seconds = (gdouble) self->capture_len / self->learn_rate;
  GError *err = NULL;
  LearnJob *job;

  learn_mark_clip_end (self);
  job = g_new0 (LearnJob, 1);
  job->self = self;
  job->samples = self->capture;
  job->n_samples = self->capture_len;
  memcpy (job->clip_ends, self->clip_ends, self->n_clip_ends * sizeof (gsize));
  job->n_clips = self->n_clip_ends;
  job->rate = self->learn_rate;
  job->epochs = self->learn_epochs_run;
  learn_model_config (self, &job->model_config);

  g_mutex_lock (&self->learn_lock);
  self->learn_finished = FALSE;
  self->learn_unblock = FALSE;
  g_atomic_int_set (&self->learn_cancel, 0);
  g_mutex_unlock (&self->learn_lock);

  post_learning (self, "collecting", 1.0, seconds, 0, job->epochs, -1.0);
  GST_INFO_OBJECT (self, "collected %.1f s of audio: training", seconds);
  self->learn_job = job;
  self->learn_state = LEARN_TRAINING;
  self->learn_thread = g_thread_try_new ("daedenoise-learn",
      learn_thread_func, job, &err);
  if (self->learn_thread == NULL) {
    GST_ELEMENT_WARNING (self, RESOURCE, FAILED,
        ("Could not start the online learning thread."), ("%s", err->message));
    g_clear_error (&err);
    g_clear_pointer (&self->learn_job, g_free);
    self->learn_state = LEARN_OFF;
  }
}

/* Appends n interleaved input samples to the capture as their mono
 * downmix (non-finite samples as 0), posts progress and starts the
 * training when the capture is full.  Streaming thread. */
static void
learn_capture (GstDaeDenoise * self, const guint8 * in, gsize n)
{
  guint channels = self->channels;
  gsize take = MIN (n, self->capture_cap - self->capture_len);
  gfloat *dst = self->capture + self->capture_len;
  gfloat scale = 1.0f / channels;
  gsize i;
  guint c;

  for (i = 0; i < take; i++) {
    gfloat sum = 0.0f;

    if (self->is_s16) {
      const gint16 *src = (const gint16 *) in + i * channels;

      for (c = 0; c < channels; c++)
        sum += src[c] * (1.0f / 32768.0f);
    } else {
      const gfloat *src = (const gfloat *) in + i * channels;

      for (c = 0; c < channels; c++)
        sum += src[c];
    }
    sum *= scale;
    dst[i] = isfinite (sum) ? CLAMP (sum, -1.0f, 1.0f) : 0.0f;
  }
  self->capture_len += take;

  if (self->capture_len >= self->capture_cap) {
    learn_start_training (self);
  } else if (self->capture_len >= self->capture_next_msg) {
    self->capture_next_msg += gst_util_uint64_scale_round
        (LEARN_COLLECT_MESSAGE_NS, self->learn_rate, GST_SECOND);
    post_learning (self, "collecting",
        (gdouble) self->capture_len / self->capture_cap,
        (gdouble) self->capture_len / self->learn_rate, 0,
        self->learn_epochs_run, -1.0);
  }
}

/* Feeds the mono downmix of in_hop to the learned model's processor, one
 * of its (usually longer) hops at a time, and reports the score and band
 * errors of its latest frame for this element hop: one frame score for
 * every channel.  Streaming thread. */
static void
score_learned (GstDaeDenoise * self, LearnResult * learned,
    gfloat * frame_score)
{
  gsize hop = self->hop;
  gfloat scale = 1.0f / self->channels;
  DaeFrameResult result;
  gsize i;
  gsize b;
  guint c;

  for (i = 0; i < hop; i++) {
    gfloat sum = 0.0f;

    for (c = 0; c < self->channels; c++)
      sum += self->in_hop[c * hop + i];
    learned->score_in[learned->score_fill++] = sum * scale;
    if (learned->score_fill < learned->score_hop)
      continue;
    learned->score_fill = 0;
    /* the processor zeroes non-finite input itself */
    if (dae_processor_process (learned->proc, learned->score_in,
            learned->score_in, &result) != DAE_OK) {
      GST_ERROR_OBJECT (self, "scoring with the learned model failed");
      continue;
    }
    learned->score = result.score;
    learned->n_bands = MIN (result.n_bands, DAE_MAX_BANDS);
    memcpy (learned->band_errors, result.band_errors,
        learned->n_bands * sizeof (gfloat));
  }
  *frame_score = learned->score;
  for (c = 0; c < self->channels; c++)
    self->chan_score_acc[c] += learned->score;
  for (b = 0; b < learned->n_bands; b++)
    self->band_error_acc[b] += learned->band_errors[b];
  self->msg_band_n += 1.0;
}

/* Starts scoring with a result from the training thread (or, if learning
 * failed, goes back to the configured model's scores).  Streaming thread,
 * at a hop boundary. */
static void
learn_install (GstDaeDenoise * self, const Settings * s, LearnResult * result)
{
  /* the interval so far was scored by the other model */
  if (self->procs != NULL)
    finish_interval (self, s);
  g_assert (self->learned == NULL);
  self->learned = result;
  if (result->model == NULL) {
    self->learn_state = LEARN_OFF;
  } else {
    self->learn_state = LEARN_DONE;
    learned_reset (self);
    GST_INFO_OBJECT (self, "scoring with the learned model from output "
        "sample %" G_GUINT64_FORMAT ", threshold %g", self->samples_out,
        result->threshold);
  }
  self->applied_threshold = NAN;
  if (self->procs != NULL) {
    dae_scorer_reset (self->scorer);
    apply_settings (self, s);
  }
}

/* Takes a published result, if any; try-locks only unless block.
 * Streaming thread. */
static void
learn_take_result (GstDaeDenoise * self, const Settings * s, gboolean block)
{
  LearnResult *result;

  if (block)
    g_mutex_lock (&self->learn_lock);
  else if (!g_mutex_trylock (&self->learn_lock))
    return;
  result = self->learn_result;
  self->learn_result = NULL;
  g_mutex_unlock (&self->learn_lock);
  if (result != NULL)
    learn_install (self, s, result);
}

/* At EOS: learns from what was collected if the stream ended early, and
 * waits for the training to finish, so that the model is saved and
 * dae-learning-done posted before EOS goes on (a file can be learned
 * from).  A flush or a state change ends the wait.  Streaming thread. */
static void
learn_finish_at_eos (GstDaeDenoise * self)
{
  Settings s;

  if (self->learn_state == LEARN_COLLECTING && self->capture_len > 0) {
    gdouble seconds = (gdouble) self->capture_len / self->learn_rate;

    if (seconds >= MIN_LEARN_SECONDS) {
      GST_INFO_OBJECT (self, "the stream ended after %.1f s: learning from "
          "that", seconds);
      learn_start_training (self);
    } else if (!self->learn_short_warned) {
      self->learn_short_warned = TRUE;
      GST_ELEMENT_WARNING (self, STREAM, FAILED,
          ("Online learning needs at least %.0f s of audio; the stream "
              "ended after %.1f s.", MIN_LEARN_SECONDS, seconds), (NULL));
    }
  }
  if (self->learn_state != LEARN_TRAINING)
    return;

  GST_DEBUG_OBJECT (self, "EOS: waiting for the training to finish");
  g_mutex_lock (&self->learn_lock);
  while (!self->learn_finished && !self->learn_unblock)
    g_cond_wait (&self->learn_cond, &self->learn_lock);
  g_mutex_unlock (&self->learn_lock);
  snapshot_settings (self, &s);
  learn_take_result (self, &s, TRUE);
}

/* Sets up online learning for the negotiated stream: allocates the
 * capture buffer.  Learning starts over if the rate changed; otherwise (a
 * new channel count, or a model with other framing, say) what was
 * collected or learned is kept: the capture is plain audio and the learned
 * model has its own framing.  Streaming thread (setup). */
static gboolean
learn_setup (GstDaeDenoise * self)
{
  guint64 cap;

  if (self->learn_duration_ns == 0)
    return TRUE;
  if (self->learn_rate == self->rate)
    return TRUE;
  if (self->learn_rate != 0) {
    GST_INFO_OBJECT (self, "the rate changed from %d to %d Hz: online "
        "learning starts over", self->learn_rate, self->rate);
    learn_clear (self);
  }

  cap = MAX (gst_util_uint64_scale_round (self->learn_duration_ns,
          (guint64) self->rate, GST_SECOND), 1);
  self->capture = g_try_new (gfloat, cap);
  if (self->capture == NULL) {
    GST_ELEMENT_WARNING (self, RESOURCE, FAILED,
        ("Not enough memory to hold %" GST_TIME_FORMAT " of audio; online "
            "learning is off.", GST_TIME_ARGS (self->learn_duration_ns)),
        ("%" G_GUINT64_FORMAT " samples", cap));
    return FALSE;
  }
  self->capture_cap = cap;
  self->capture_len = 0;
  self->n_clip_ends = 0;
  self->learn_rate = self->rate;
  self->capture_next_msg = gst_util_uint64_scale_round
      (LEARN_COLLECT_MESSAGE_NS, self->rate, GST_SECOND);
  self->learn_state = LEARN_COLLECTING;
  GST_INFO_OBJECT (self, "online learning: collecting %" GST_TIME_FORMAT
      " (%" G_GUINT64_FORMAT " samples), then at most %u epochs",
      GST_TIME_ARGS (self->learn_duration_ns), cap, self->learn_epochs_run);
  return TRUE;
}

/* Releases a thread waiting at EOS and, with cancel, makes the training
 * stop at its next mini-batch.  Any thread. */
static void
learn_wake (GstDaeDenoise * self, gboolean cancel)
{
  g_mutex_lock (&self->learn_lock);
  if (cancel)
    g_atomic_int_set (&self->learn_cancel, 1);
  self->learn_unblock = TRUE;
  g_cond_broadcast (&self->learn_cond);
  g_mutex_unlock (&self->learn_lock);
}

/* Cancels and joins the training thread and frees everything learned.
 * While stopped, or in setup. */
static void
learn_clear (GstDaeDenoise * self)
{
  if (self->learn_thread != NULL) {
    learn_wake (self, TRUE);
    g_thread_join (self->learn_thread);
    self->learn_thread = NULL;
  }
  g_clear_pointer (&self->learn_job, g_free);
  g_clear_pointer (&self->learn_result, learn_result_free);
  g_clear_pointer (&self->learned, learn_result_free);
  g_clear_pointer (&self->capture, g_free);
  self->capture_cap = 0;
  self->capture_len = 0;
  self->n_clip_ends = 0;
  self->learn_rate = 0;
  self->learn_state = LEARN_OFF;
  self->learn_short_warned = FALSE;
  self->learn_finished = FALSE;
  self->learn_unblock = FALSE;
  self->score_warmup = 0;
  g_atomic_int_set (&self->learn_cancel, 0);
}

/* Runs the processors on the full hop in in_hop, leaving the result in
 * out_hop, and does the anomaly bookkeeping for the frame. */
static void
process_hop (GstDaeDenoise * self, const Settings * s, BufferStats * stats)
{
  gsize hop = self->hop;
  gfloat frame_score = 0.0f;
  gboolean link = s->link_channels && self->channels > 1;
  LearnResult *learned;
  DaeAnomalyEvent event;
  gboolean push = TRUE;
  gfloat smoothed;
  guint c;
  gsize b;

  if (self->learn_state == LEARN_TRAINING)
    learn_take_result (self, s, FALSE);
  learned = self->learned != NULL && self->learned->proc != NULL ?
      self->learned : NULL;

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

    if (learned == NULL) {
      frame_score = MAX (frame_score, result.score);
      self->chan_score_acc[c] += result.score;
      for (b = 0; b < self->n_bands && b < result.n_bands; b++)
        self->band_error_acc[b] += result.band_errors[b];
      self->msg_band_n += 1.0;
    }
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

  if (learned != NULL) {
    score_learned (self, learned, &frame_score);
    /* the learned processor's first frames after a (re)start see a
     * partly empty window: reported, but not given to the debouncer (the
     * calibration skipped them too) */
    if (self->score_warmup > 0) {
      self->score_warmup--;
      push = FALSE;
    }
  }

  self->msg_frames++;
  self->msg_score_sum += frame_score;
  self->msg_score_max = MAX (self->msg_score_max, frame_score);
  stats->frames++;
  stats->score_sum += frame_score;

  if (push) {
    event = dae_scorer_push (self->scorer, frame_score, &smoothed);
    self->last_smoothed = smoothed;
    if (event != DAE_ANOMALY_NONE)
      signal_transition (self, s, event, smoothed);
  }
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
    if (in != NULL && self->learn_state == LEARN_COLLECTING)
      learn_capture (self, in, take);
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
    /* emit == 0 with out == NULL (nothing released yet): no pointer
     * arithmetic on NULL (undefined behaviour, found by fuzz-element) */
    for (c = 0; c < channels && emit > 0; c++) {
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

  if (GST_CLOCK_TIME_IS_VALID (pts)) {
    GstClockTime stream_time = gst_segment_to_stream_time (&trans->segment,
        GST_FORMAT_TIME, pts);

    /* a buffer starting before the segment (as after an accurate seek)
     * has no stream time: nothing to sync (found by test-soak) */
    if (GST_CLOCK_TIME_IS_VALID (stream_time))
      gst_object_sync_values (GST_OBJECT (self), stream_time);
  }
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

/* Saves the scoring model (the save-model action signal).  Any thread. */
static gboolean
gst_dae_denoise_save_model (GstDaeDenoise * self, const gchar * path)
{
  DaeModel *model = NULL;
  gboolean saved;

  g_return_val_if_fail (path != NULL, FALSE);

  GST_OBJECT_LOCK (self);
  if (self->current_model != NULL)
    model = dae_model_ref (self->current_model);
  GST_OBJECT_UNLOCK (self);

  if (model == NULL) {
    GST_ELEMENT_WARNING (self, RESOURCE, OPEN_WRITE,
        ("Could not save the model to \"%s\": no model is in use before "
            "caps are negotiated.", path), (NULL));
    return FALSE;
  }
  saved = save_model_file (self, model, path);
  dae_model_unref (model);
  return saved;
}

static GstStateChangeReturn
gst_dae_denoise_change_state (GstElement * element, GstStateChange transition)
{
  GstDaeDenoise *self = GST_DAE_DENOISE (element);

  /* Before the pads are deactivated (which waits for the streaming
   * thread): cancel the training and release a streaming thread waiting
   * for it at EOS.  stop() then joins the training thread. */
  if (transition == GST_STATE_CHANGE_PAUSED_TO_READY)
    learn_wake (self, TRUE);
  return GST_ELEMENT_CLASS (gst_dae_denoise_parent_class)->change_state
      (element, transition);
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
    case GST_EVENT_FLUSH_START:
      /* not serialized: releases a streaming thread waiting at EOS */
      learn_wake (self, FALSE);
      break;
    case GST_EVENT_FLUSH_STOP:
      GST_DEBUG_OBJECT (self, "flush: discarding held audio");
      reset_stream (self);
      g_mutex_lock (&self->learn_lock);
      self->learn_unblock = FALSE;
      g_mutex_unlock (&self->learn_lock);
      break;
    case GST_EVENT_EOS:
      GST_DEBUG_OBJECT (self, "EOS: draining");
      drain (self);
      learn_finish_at_eos (self);
      break;
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
