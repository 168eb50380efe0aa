/* libdae — streaming spectral denoising autoencoder
 * Copyright (C) 2026 The dae authors
 *
 * This library is free software; you can redistribute it and/or
 * modify it under the terms of the GNU Lesser General Public
 * License as published by the Free Software Foundation; either
 * version 2.1 of the License, or (at your option) any later version.
 */

/**
 * SECTION:dae
 * @title: libdae
 *
 * libdae turns mono audio into STFT frames, runs a small recurrent
 * autoencoder on perceptual band energies and turns the result back into
 * audio, one hop at a time.  Each frame gives denoised audio (from the
 * network's clean-frame head: per-band gains) and an anomaly score (from the
 * reconstruction head: how badly the network reproduces its input).
 *
 * Units: samples are mono 32-bit floats, nominally in [-1, 1] (values outside
 * are accepted and processed; NaN and Inf are replaced by 0).  "Samples"
 * always means samples of one channel.  A *frame* is one STFT frame, i.e. one
 * hop of audio.  Levels and gains are in dB where a name ends in `_db`.
 *
 * Threading: a #DaeModel is immutable and may be used from any number of
 * threads at once.  A #DaeProcessor, #DaeStft or #DaeScorer must be used by
 * one thread at a time.  Creating and destroying objects that own FFTW plans
 * is internally serialised by one library-wide lock (FFTW's planner is not
 * thread safe); nothing else in the library locks.  The library never changes
 * FFTW's or OpenBLAS's global threading; for real-time use set
 * `OPENBLAS_NUM_THREADS=1` in the environment of the host.
 *
 * Errors: every fallible function returns a #DaeStatus; functions that can
 * explain a failure take an optional caller-owned #DaeError.  The library
 * never prints, aborts or exits on caller input.
 */

#ifndef DAE_DAE_H
#define DAE_DAE_H

#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

#if defined(DAE_BUILD) && defined(__GNUC__)
#  define DAE_API __attribute__ ((visibility ("default")))
#else
#  define DAE_API
#endif

#ifdef __GNUC__
#  define DAE_WARN_UNUSED_RESULT __attribute__ ((warn_unused_result))
#else
#  define DAE_WARN_UNUSED_RESULT
#endif

/* ------------------------------------------------------------------------ */
/* Status and errors                                                         */

/**
 * DaeStatus:
 * @DAE_OK: success
 * @DAE_ERROR_INVALID_ARGUMENT: a NULL pointer, a value out of its documented
 *   range, or a call in the wrong state
 * @DAE_ERROR_NO_MEMORY: an allocation failed
 * @DAE_ERROR_IO: a file could not be opened, read or written
 * @DAE_ERROR_BAD_FORMAT: not a model file, truncated, checksum mismatch,
 *   malformed record or tensor shape that does not match the architecture
 * @DAE_ERROR_UNSUPPORTED_VERSION: a model file of a major version this
 *   library cannot read
 * @DAE_ERROR_INCOMPATIBLE: valid but unusable here (for example a model for
 *   a sample rate the caller did not ask for)
 * @DAE_ERROR_INTERNAL: a library bug or an FFTW planning failure
 *
 * A closed set of negative codes; new codes are never added within a major
 * version.
 */
typedef enum
{
  DAE_OK = 0,
  DAE_ERROR_INVALID_ARGUMENT = -1,
  DAE_ERROR_NO_MEMORY = -2,
  DAE_ERROR_IO = -3,
  DAE_ERROR_BAD_FORMAT = -4,
  DAE_ERROR_UNSUPPORTED_VERSION = -5,
  DAE_ERROR_INCOMPATIBLE = -6,
  DAE_ERROR_INTERNAL = -7
} DaeStatus;

#define DAE_ERROR_MESSAGE_SIZE 256

/**
 * DaeError:
 * @status: the same status the function returned
 * @message: NUL-terminated English detail naming what is wrong, for example
 *   "record 'enc_gru.w': 4096 bytes, expected 8192"
 *
 * Caller-owned; the library fills it without allocating.  Pass NULL where
 * the detail is not wanted.
 */
typedef struct
{
  DaeStatus status;
  char message[DAE_ERROR_MESSAGE_SIZE];
} DaeError;

/**
 * dae_status_to_string:
 * Returns: a static, never NULL, English description of @status.
 */
DAE_API const char *    dae_status_to_string          (DaeStatus status);

/**
 * dae_version_string:
 * Returns: the library version, for example "0.1.0" (static).
 */
DAE_API const char *    dae_version_string            (void);

/* ------------------------------------------------------------------------ */
/* Band layout                                                               */

#define DAE_MAX_BANDS 256

/**
 * dae_band_layout_erb:
 * @n_bands: number of bands, 2 to %DAE_MAX_BANDS
 * @min_hz: centre of the lowest band in Hz, >= 0
 * @max_hz: centre of the highest band in Hz, > @min_hz
 * @centers_hz: (out caller-allocates) @n_bands band centres in Hz
 *
 * Fills @centers_hz with band centres equally spaced on the ERB-rate scale
 * (Glasberg & Moore) from @min_hz to @max_hz.  Band energies are computed
 * with triangular weights between neighbouring centres, so the centres fully
 * define the layout and the same centres serve any sample rate whose Nyquist
 * frequency is above @max_hz.
 *
 * Returns: %DAE_OK or %DAE_ERROR_INVALID_ARGUMENT.
 */
DAE_API DaeStatus       dae_band_layout_erb           (size_t n_bands,
                                                       float min_hz,
                                                       float max_hz,
                                                       float *centers_hz) DAE_WARN_UNUSED_RESULT;

/**
 * dae_band_layout_erb_spaced:
 * @n_bands: number of bands, 2 to %DAE_MAX_BANDS
 * @min_hz: centre of the lowest band in Hz, >= 0
 * @max_hz: centre of the highest band in Hz, > @min_hz
 * @min_spacing_hz: smallest distance between neighbouring centres in Hz,
 *   >= 0; (@n_bands - 1) * @min_spacing_hz must fit between @min_hz and
 *   @max_hz
 * @centers_hz: (out caller-allocates) @n_bands band centres in Hz
 *
 * Like dae_band_layout_erb(), but neighbouring centres are never closer
 * than @min_spacing_hz: from @min_hz up, each centre is one constant step
 * further on the ERB-rate scale or @min_spacing_hz further in Hz, whichever
 * is more, with the step chosen so that the last centre is @max_hz.  With
 * @min_spacing_hz the FFT bin spacing (sample rate / window), the low
 * bands are single bins (a band narrower than a bin carries no information
 * of its own) and the bands this saves go to the higher frequencies.  0 is
 * dae_band_layout_erb().
 *
 * Returns: %DAE_OK or %DAE_ERROR_INVALID_ARGUMENT.
 */
DAE_API DaeStatus       dae_band_layout_erb_spaced    (size_t n_bands,
                                                       float min_hz,
                                                       float max_hz,
                                                       float min_spacing_hz,
                                                       float *centers_hz) DAE_WARN_UNUSED_RESULT;

/* ------------------------------------------------------------------------ */
/* Model                                                                     */

typedef struct DaeModel DaeModel;

/**
 * DaeModelConfig:
 * @sample_rate: sample rate in Hz, 8000 to 192000
 * @window_samples: STFT window (and FFT) length in samples, 16 to 16384
 * @hop_samples: hop in samples; must divide @window_samples and be at most
 *   half of it (so overlap-add reconstructs perfectly)
 * @n_bands: number of perceptual bands (network input/output width),
 *   2 to %DAE_MAX_BANDS
 * @band_min_hz: centre of the lowest band in Hz, >= 0 and below
 *   @band_max_hz; the bands are ERB-spaced from @band_min_hz to
 *   @band_max_hz (dae_band_layout_erb())
 * @band_max_hz: centre of the highest band in Hz, below sample_rate / 2
 * @band_min_spacing_hz: smallest distance between band centres in Hz, >= 0
 *   (dae_band_layout_erb_spaced(); 0, the default, is the plain ERB layout)
 * @enc_dense: width of the encoder's dense layer, 1 to 1024
 * @enc_gru: width of the encoder's GRU, 1 to 1024
 * @bottleneck: width of the bottleneck dense layer, 1 to 1024
 * @dec_gru: width of the decoder's GRU, 1 to 1024
 * @has_vad: non-zero if the model has a voice-activity head
 * @gain_skip: non-zero if the clean-frame (gain) head also sees the input
 *   features (a skip connection that helps denoising; the reconstruction
 *   head never sees it)
 * @predictive: non-zero for a predictive model (anomaly recipe): the
 *   network's input at frame t is the features of frame t - 1, so the
 *   reconstruction head predicts each frame from the ones before it and the
 *   anomaly score measures how unexpected the frame is (an event that is
 *   missing, extra or late, not only an unusual spectrum).  The clean-frame
 *   gains then lag one frame: such a model scores, it does not denoise.
 * @tonality: non-zero if the network also sees each band's tonality, how
 *   far the band's spectrum is from flat (one minus its spectral flatness:
 *   1 - the geometric over the arithmetic mean of its bins' powers, with
 *   the band's own weights; 0 for a flat spectrum, near 1 for a few strong
 *   harmonics), as n_bands more inputs after the band energies
 *   (dae_model_get_n_features()); off by default
 *
 * The architecture of a model.  Fill with dae_model_config_init() and change
 * what you need; zero is never silently taken as a default.
 */
typedef struct
{
  unsigned sample_rate;
  size_t window_samples;
  size_t hop_samples;
  size_t n_bands;
  float band_min_hz;
  float band_max_hz;
  size_t enc_dense;
  size_t enc_gru;
  size_t bottleneck;
  size_t dec_gru;
  int has_vad;
  int gain_skip;
  int predictive;
  float band_min_spacing_hz;
  int tonality;
} DaeModelConfig;

/**
 * dae_model_config_init:
 * @config: (out caller-allocates) the config to fill
 * @sample_rate: sample rate in Hz
 *
 * Fills @config with the defaults for @sample_rate: a 20 ms window and a
 * 10 ms hop (rounded to samples), 32 bands from 50 Hz to
 * min (0.45 * @sample_rate, 20000) Hz and a small network.
 */
DAE_API void            dae_model_config_init         (DaeModelConfig *config,
                                                       unsigned sample_rate);

/**
 * dae_model_config_validate:
 * @config: a config
 * @error: (nullable) detail on failure
 *
 * Returns: %DAE_OK if every field is in its documented range, else
 *   %DAE_ERROR_INVALID_ARGUMENT naming the field.
 */
DAE_API DaeStatus       dae_model_config_validate     (const DaeModelConfig *config,
                                                       DaeError *error) DAE_WARN_UNUSED_RESULT;

/**
 * DAE_MODEL_MAX_FILE_SIZE:
 *
 * The largest model file the reader accepts, in bytes (64 MiB).  Larger
 * files are rejected with %DAE_ERROR_BAD_FORMAT before anything is
 * allocated; the reader never allocates more than the file size implies.
 */
#define DAE_MODEL_MAX_FILE_SIZE ((size_t) 64 * 1024 * 1024)

/**
 * dae_model_load_file:
 * @path: path of a `.dae` model file
 * @model_out: (out) (transfer full) the model, on success; untouched on error
 * @error: (nullable) detail on failure
 *
 * Reads and fully validates a model file (magic, version, sizes, checksum,
 * every tensor's shape against the architecture).  Model files are treated
 * as untrusted input.
 *
 * Returns: %DAE_OK, %DAE_ERROR_IO, %DAE_ERROR_BAD_FORMAT,
 *   %DAE_ERROR_UNSUPPORTED_VERSION, %DAE_ERROR_NO_MEMORY or
 *   %DAE_ERROR_INVALID_ARGUMENT.
 */
DAE_API DaeStatus       dae_model_load_file           (const char *path,
                                                       DaeModel **model_out,
                                                       DaeError *error) DAE_WARN_UNUSED_RESULT;

/**
 * dae_model_load_memory:
 * @data: the bytes of a model file; need not be aligned; not retained
 * @size: size of @data in bytes
 * @model_out: (out) (transfer full) the model, on success
 * @error: (nullable) detail on failure
 *
 * As dae_model_load_file(), from memory (for example an embedded model).
 */
DAE_API DaeStatus       dae_model_load_memory         (const void *data,
                                                       size_t size,
                                                       DaeModel **model_out,
                                                       DaeError *error) DAE_WARN_UNUSED_RESULT;

/**
 * dae_model_save_file:
 * @model: a model
 * @path: where to write; the file is written to a temporary name beside it
 *   and renamed, so a failed write never leaves a partial model at @path
 * @error: (nullable) detail on failure
 *
 * Returns: %DAE_OK, %DAE_ERROR_IO or %DAE_ERROR_NO_MEMORY.
 */
DAE_API DaeStatus       dae_model_save_file           (const DaeModel *model,
                                                       const char *path,
                                                       DaeError *error) DAE_WARN_UNUSED_RESULT;

/**
 * dae_model_save_memory:
 * @model: a model
 * @data_out: (out) (transfer full) a malloc()ed buffer holding the file
 *   bytes; release with dae_free()
 * @size_out: (out) its size in bytes
 * @error: (nullable) detail on failure
 */
DAE_API DaeStatus       dae_model_save_memory         (const DaeModel *model,
                                                       void **data_out,
                                                       size_t *size_out,
                                                       DaeError *error) DAE_WARN_UNUSED_RESULT;

/**
 * dae_free:
 * @ptr: (nullable) memory returned by the library with "release with
 *   dae_free()"
 */
DAE_API void            dae_free                      (void *ptr);

/**
 * dae_model_ref:
 * Returns: @model, with one more reference (thread safe).
 */
DAE_API DaeModel *      dae_model_ref                 (DaeModel *model);

/**
 * dae_model_unref:
 * @model: (nullable) a model; freed when the last reference goes
 */
DAE_API void            dae_model_unref               (DaeModel *model);

/**
 * dae_model_get_config:
 * @model: a model
 * @config: (out caller-allocates) receives the model's architecture; for a
 *   model read from a file, band_min_hz and band_max_hz are its first and
 *   last stored band centres and band_min_spacing_hz is 0: the stored
 *   centres are the layout (dae_model_get_band_centers() gives them all)
 */
DAE_API void            dae_model_get_config          (const DaeModel *model,
                                                       DaeModelConfig *config);

/** dae_model_get_sample_rate: Returns: the model's sample rate in Hz. */
DAE_API unsigned        dae_model_get_sample_rate     (const DaeModel *model);

/** dae_model_get_hop_samples: Returns: samples per hop (one frame). */
DAE_API size_t          dae_model_get_hop_samples     (const DaeModel *model);

/** dae_model_get_window_samples: Returns: STFT window length in samples. */
DAE_API size_t          dae_model_get_window_samples  (const DaeModel *model);

/**
 * dae_model_get_latency_samples:
 * Returns: the algorithmic latency of a processor for this model in
 *   samples: window - hop.  Output sample n corresponds to input sample
 *   n - latency.
 */
DAE_API size_t          dae_model_get_latency_samples (const DaeModel *model);

/** dae_model_get_n_bands: Returns: the number of bands. */
DAE_API size_t          dae_model_get_n_bands         (const DaeModel *model);

/**
 * dae_model_get_n_features:
 * Returns: the width of the network's input per frame: n_bands, or twice
 *   that for a model with band tonality (#DaeModelConfig).
 */
DAE_API size_t          dae_model_get_n_features      (const DaeModel *model);

/**
 * dae_model_get_band_centers:
 * Returns: (transfer none) the model's n_bands band centres in Hz, valid as
 *   long as @model.
 */
DAE_API const float *   dae_model_get_band_centers    (const DaeModel *model);

/**
 * dae_model_get_anomaly_threshold:
 * Returns: the calibrated anomaly threshold (in frame-score units, see
 *   #DaeFrameResult), or a negative value if the model is not calibrated.
 */
DAE_API float           dae_model_get_anomaly_threshold (const DaeModel *model);

/**
 * dae_model_get_band_error_scale:
 * Returns: (transfer none) n_bands positive divisors applied to the
 *   squared reconstruction error of each band before it becomes a band
 *   error and the frame score (see #DaeFrameResult); all 1 unless the
 *   anomaly trainer calibrated them (the mean error of held-out normal
 *   audio per band, so that a band that is hard to predict even when the
 *   machine is normal does not dominate the score).  Valid as long as
 *   @model.
 */
DAE_API const float *   dae_model_get_band_error_scale (const DaeModel *model);

/**
 * DaeAnomalyCalibration:
 * @threshold: the calibrated frame-score threshold, as
 *   dae_model_get_anomaly_threshold(); negative if not calibrated
 * @quantile: the threshold is this quantile of the frame scores of
 *   held-out normal audio, in (0, 1); 0 if unknown (not calibrated, or a
 *   model file older than format 1.1)
 * @false_alarms_per_hour: the expected false-alarm rate: anomaly starts per
 *   hour that a #DaeScorer with @threshold, a hold of @hold_seconds and no
 *   smoothing raised on that held-out normal audio (>= 0); valid only when
 *   @quantile > 0.  With few held-out minutes this is a coarse estimate:
 *   when no alarm was seen, the 95 % upper bound is 3 / (@held_out_seconds
 *   / 3600) per hour.
 * @held_out_seconds: duration of the held-out normal audio scored, in
 *   seconds (>= 0)
 * @hold_seconds: the hold used when counting alarms, in seconds (>= 0)
 *
 * How a model's anomaly threshold was calibrated (anomaly recipe).
 */
typedef struct
{
  float threshold;
  float quantile;
  float false_alarms_per_hour;
  float held_out_seconds;
  float hold_seconds;
} DaeAnomalyCalibration;

/**
 * dae_model_get_anomaly_calibration:
 * @model: a model
 * @calibration: (out caller-allocates) receives how the threshold was
 *   calibrated
 *
 * Returns: non-zero if @model has a calibrated threshold with a known
 *   calibration (@calibration->quantile > 0), else 0 (the fields are still
 *   filled: threshold as stored, the others 0).
 */
DAE_API int             dae_model_get_anomaly_calibration (const DaeModel *model,
                                                       DaeAnomalyCalibration *calibration);

/**
 * dae_model_get_info:
 * Returns: (transfer none) free-form UTF-8 text stored with the model (what
 *   it was trained on, by which command); "" if none.  Never NULL.
 */
DAE_API const char *    dae_model_get_info            (const DaeModel *model);

/** dae_model_get_n_params: Returns: the number of trainable parameters. */
DAE_API size_t          dae_model_get_n_params        (const DaeModel *model);

/**
 * dae_model_get_weight_bits:
 *
 * Returns: 16 if every weight of @model is a 16-bit float (IEEE half) and
 *   its file stores them so (half the size), else 32.  The network always
 *   computes in float (or 8-bit, #DaeArithmetic) either way.
 */
DAE_API unsigned        dae_model_get_weight_bits     (const DaeModel *model);

/**
 * dae_model_new_with_weight_bits:
 * @model: a model
 * @bits: 16 or 32
 * @model_out: (out) (transfer full) the copy
 *
 * A copy of @model whose weights are stored with @bits bits: 16 rounds
 * every weight to the nearest IEEE half (relative error at most 2^-11 for
 * weights above 6.1e-5 in magnitude, absolute error at most 3e-8 below)
 * and dae_model_save_file() then writes them in half the bytes (format
 * 1.3).  32 writes them as 32-bit floats again (the values stay as they
 * are).
 *
 * Returns: %DAE_OK, %DAE_ERROR_NO_MEMORY, or %DAE_ERROR_INVALID_ARGUMENT
 *   for other @bits or, with 16, a weight of magnitude 65520 or more (it
 *   would not fit).
 */
DAE_API DaeStatus       dae_model_new_with_weight_bits (const DaeModel *model,
                                                       unsigned bits,
                                                       DaeModel **model_out,
                                                       DaeError *error) DAE_WARN_UNUSED_RESULT;

/**
 * dae_model_get_gain_scale:
 *
 * Returns: the factor, 1 to 2, that the processor multiplies the network's
 *   band gains by before capping them at 1 (and applying the attenuation
 *   limit).  1 (the network's gains as they are) unless the model was made
 *   by dae_model_new_with_gain_scale(), for example with a scale chosen on
 *   held-out audio by dae_trainer_choose_gain_scale().
 */
DAE_API float           dae_model_get_gain_scale      (const DaeModel *model);

/**
 * dae_model_new_with_gain_scale:
 * @model: a model
 * @scale: 1 to 2
 * @model_out: (out) (transfer full) the copy
 *
 * A copy of @model with the gain scale @scale (dae_model_get_gain_scale()),
 * everything else the same.  A network that keeps some doubt about a
 * clean band answers 0.8 or 0.9 where 1 is right, and gains that waver
 * between such values distort speech in high-SNR audio; a scale above 1
 * lets the processor pass those bands unchanged, at the cost of a little
 * less attenuation of noise.  dae_model_save_file() stores it (format
 * 1.4; readers of 1.3 and before ignore it and use 1).
 *
 * Returns: %DAE_OK, %DAE_ERROR_NO_MEMORY, or %DAE_ERROR_INVALID_ARGUMENT
 *   for a @scale outside 1 to 2.
 */
DAE_API DaeStatus       dae_model_new_with_gain_scale (const DaeModel *model,
                                                       double scale,
                                                       DaeModel **model_out,
                                                       DaeError *error) DAE_WARN_UNUSED_RESULT;

/* ------------------------------------------------------------------------ */
/* STFT                                                                      */

typedef struct DaeStft DaeStft;

/**
 * dae_stft_new:
 * @window_samples: window and FFT length, 16 to 16384
 * @hop_samples: hop; divides @window_samples, at most half of it
 * @stft_out: (out) (transfer full) the new STFT
 *
 * A streaming STFT/iSTFT pair with a square-root periodic Hann analysis
 * window and a synthesis window normalised so that analysis followed by
 * synthesis, with no change to the spectrum, reproduces the input delayed by
 * exactly window - hop samples.  The FFTW plans are made here (serialised by
 * the library lock, FFTW_ESTIMATE) and all buffers are allocated here.
 */
DAE_API DaeStatus       dae_stft_new                  (size_t window_samples,
                                                       size_t hop_samples,
                                                       DaeStft **stft_out) DAE_WARN_UNUSED_RESULT;

/** dae_stft_free: @stft: (nullable) */
DAE_API void            dae_stft_free                 (DaeStft *stft);

/** dae_stft_reset: forget all history (as if just created). */
DAE_API void            dae_stft_reset                (DaeStft *stft);

/** dae_stft_get_n_bins: Returns: window/2 + 1 complex bins per frame. */
DAE_API size_t          dae_stft_get_n_bins           (const DaeStft *stft);

/** dae_stft_get_latency_samples: Returns: window - hop. */
DAE_API size_t          dae_stft_get_latency_samples  (const DaeStft *stft);

/**
 * dae_stft_analyze:
 * @stft: an STFT
 * @in: hop_samples new input samples
 * @spectrum: (out caller-allocates) 2 * n_bins floats: interleaved real and
 *   imaginary parts of the windowed frame ending with @in (unnormalised FFT)
 *
 * No allocation, no locking.
 */
DAE_API void            dae_stft_analyze              (DaeStft *stft,
                                                       const float *in,
                                                       float *spectrum);

/**
 * dae_stft_synthesize:
 * @stft: an STFT
 * @spectrum: 2 * n_bins floats as produced by dae_stft_analyze(), possibly
 *   modified; it is overwritten (used as FFT scratch)
 * @out: (out caller-allocates) hop_samples output samples
 *
 * Inverse FFT, synthesis window, overlap-add; emits the next hop.  No
 * allocation, no locking.
 */
DAE_API void            dae_stft_synthesize           (DaeStft *stft,
                                                       float *spectrum,
                                                       float *out);

/* ------------------------------------------------------------------------ */
/* Processor                                                                 */

typedef struct DaeProcessor DaeProcessor;

/**
 * DaeFrameResult:
 * @score: anomaly score of the frame: the mean of @band_errors (>= 0,
 *   finite; larger = less like the training data)
 * @n_bands: length of the arrays below
 * @band_errors: (transfer none) per band, the squared error between the
 *   reconstruction head's output and the normalised input features,
 *   divided by the model's error scale for the band
 *   (dae_model_get_band_error_scale(): for a calibrated anomaly model the
 *   mean error of held-out normal audio in that band, so that about 1 is a
 *   normal error in every band; 1 for other models)
 * @band_gains: (transfer none) per-band gain applied (the network's times
 *   the model's gain scale, capped at 1, then the attenuation limit),
 *   linear, in [0, 1]
 * @gain_db: mean applied band gain in dB (<= 0)
 * @vad: voice-activity probability in [0, 1], or -1 if the model has no
 *   voice-activity head
 * @n_nonfinite: NaN or Inf input samples replaced by 0 in this hop
 *
 * The arrays belong to the processor and stay valid until its next call.
 */
typedef struct
{
  float score;
  size_t n_bands;
  const float *band_errors;
  const float *band_gains;
  float gain_db;
  float vad;
  size_t n_nonfinite;
} DaeFrameResult;

/**
 * dae_processor_new:
 * @model: a model; the processor takes its own reference
 * @proc_out: (out) (transfer full) the new processor
 *
 * Allocates everything the processor will ever need and makes its FFTW
 * plans; dae_processor_process() then never allocates, locks or plans.
 * Defaults: attenuation limit 100 dB (no limit), mix 1 (fully wet),
 * %DAE_ARITHMETIC_INT8 on CPUs with a vector kernel for it (see
 * #DaeArithmetic).
 */
DAE_API DaeStatus       dae_processor_new             (DaeModel *model,
                                                       DaeProcessor **proc_out) DAE_WARN_UNUSED_RESULT;

/** dae_processor_free: @proc: (nullable) */
DAE_API void            dae_processor_free            (DaeProcessor *proc);

/**
 * dae_processor_reset:
 * Forgets all history (STFT overlap, recurrent state, dry delay line) as
 * after a flush or a discontinuity.  Settings are kept.
 */
DAE_API void            dae_processor_reset           (DaeProcessor *proc);

/** dae_processor_get_model: Returns: (transfer none) the processor's model. */
DAE_API DaeModel *      dae_processor_get_model       (const DaeProcessor *proc);

/**
 * dae_processor_set_attenuation_limit:
 * @limit_db: the most a band may be attenuated, in dB, 0 to 100; 0 leaves
 *   the audio untouched, 100 means no limit
 *
 * Returns: %DAE_OK or %DAE_ERROR_INVALID_ARGUMENT (NaN or out of range).
 */
DAE_API DaeStatus       dae_processor_set_attenuation_limit (DaeProcessor *proc,
                                                       double limit_db) DAE_WARN_UNUSED_RESULT;

/**
 * dae_processor_set_mix:
 * @mix: dry/wet mix, 0 (input only, delayed by the latency: bit-exact) to
 *   1 (denoised only).  Dry and wet are sample-aligned, so any mix is phase
 *   correct.
 *
 * Returns: %DAE_OK or %DAE_ERROR_INVALID_ARGUMENT.
 */
DAE_API DaeStatus       dae_processor_set_mix         (DaeProcessor *proc,
                                                       double mix) DAE_WARN_UNUSED_RESULT;

/**
 * DaeArithmetic:
 * @DAE_ARITHMETIC_INT8: the recurrent layers and the bottleneck (more than
 *   90 % of the work) use 8-bit weights (one scale per row) and 8-bit
 *   inputs with exact integer sums; two to three times faster than float
 *   on x86-64 with AVX2 or AVX-512 VNNI
 * @DAE_ARITHMETIC_FLOAT: float weights throughout, as in training
 *
 * How the processor runs the network.  Each gives the same output on every
 * CPU; they differ from each other by the 8-bit rounding (about 60 dB
 * below the signal).  The default is %DAE_ARITHMETIC_INT8 where the CPU
 * has a vector kernel for it (x86-64 with AVX2) and %DAE_ARITHMETIC_FLOAT
 * elsewhere, where the portable integer code is slower than float.
 */
typedef enum
{
  DAE_ARITHMETIC_INT8 = 0,
  DAE_ARITHMETIC_FLOAT = 1
} DaeArithmetic;

/**
 * dae_processor_set_arithmetic:
 * @arithmetic: a #DaeArithmetic
 *
 * Takes effect from the next frame; the recurrent state is kept.
 *
 * Returns: %DAE_OK or %DAE_ERROR_INVALID_ARGUMENT.
 */
DAE_API DaeStatus       dae_processor_set_arithmetic  (DaeProcessor *proc,
                                                       DaeArithmetic arithmetic) DAE_WARN_UNUSED_RESULT;

/**
 * dae_processor_get_arithmetic:
 *
 * Returns: the processor's #DaeArithmetic (%DAE_ARITHMETIC_FLOAT for NULL).
 */
DAE_API DaeArithmetic   dae_processor_get_arithmetic  (const DaeProcessor *proc);

/**
 * dae_processor_process:
 * @proc: a processor
 * @in: exactly hop_samples input samples
 * @out: (out caller-allocates) hop_samples output samples, the input
 *   delayed by the model's latency and denoised; may equal @in
 * @result: (out) (nullable) what the network saw in this frame
 *
 * Equivalent to dae_processor_analyze() followed by
 * dae_processor_synthesize() with the processor's own gains.  NaN and Inf
 * input samples are replaced by 0 and counted; denormals are flushed; the
 * output is always finite.  No allocation, locking or I/O.
 *
 * Returns: %DAE_OK, or %DAE_ERROR_INVALID_ARGUMENT for NULL pointers.
 */
DAE_API DaeStatus       dae_processor_process         (DaeProcessor *proc,
                                                       const float *in,
                                                       float *out,
                                                       DaeFrameResult *result);

/**
 * dae_processor_analyze:
 * @proc: a processor
 * @in: exactly hop_samples input samples
 * @result: (out) (nullable) the frame's score, errors and proposed gains
 *
 * First half of dae_processor_process(): STFT, features, network.  Must be
 * followed by exactly one dae_processor_synthesize() before the next
 * analyze.  Use the pair to share gains between channels (see
 * dae_processor_synthesize()).
 */
DAE_API DaeStatus       dae_processor_analyze         (DaeProcessor *proc,
                                                       const float *in,
                                                       DaeFrameResult *result);

/**
 * dae_processor_synthesize:
 * @proc: a processor on which dae_processor_analyze() was just called
 * @band_gains: (nullable) n_bands linear gains in [0, 1] to apply instead
 *   of the processor's own (for example the maximum over linked channels);
 *   the attenuation limit still applies, the model's gain scale does not
 *   (#DaeFrameResult.band_gains already has it)
 * @out: (out caller-allocates) hop_samples output samples
 *
 * Returns: %DAE_OK, or %DAE_ERROR_INVALID_ARGUMENT (NULL @out, or no
 *   pending analyze).
 */
DAE_API DaeStatus       dae_processor_synthesize      (DaeProcessor *proc,
                                                       const float *band_gains,
                                                       float *out);

/* ------------------------------------------------------------------------ */
/* Anomaly scorer                                                            */

typedef struct DaeScorer DaeScorer;

/**
 * DaeAnomalyEvent:
 * @DAE_ANOMALY_NONE: the debounced state did not change
 * @DAE_ANOMALY_START: the score stayed above the threshold for the hold
 *   time; the state is now anomalous
 * @DAE_ANOMALY_END: the score stayed at or below the threshold for the hold
 *   time; the state is now normal
 */
typedef enum
{
  DAE_ANOMALY_NONE = 0,
  DAE_ANOMALY_START = 1,
  DAE_ANOMALY_END = 2
} DaeAnomalyEvent;

/**
 * dae_scorer_new:
 * @threshold: frame-score threshold (>= 0, finite)
 * @hold_frames: how many consecutive frames the score must stay above
 *   (below) @threshold before an anomaly starts (ends); 0 or 1 = at once
 * @smoothing_frames: length of the moving average applied to frame scores
 *   before comparing, 1 to 1024 frames (1 = none)
 * @scorer_out: (out) (transfer full)
 *
 * A debouncer for frame scores: pure arithmetic, no allocation after _new.
 */
DAE_API DaeStatus       dae_scorer_new                (double threshold,
                                                       size_t hold_frames,
                                                       size_t smoothing_frames,
                                                       DaeScorer **scorer_out) DAE_WARN_UNUSED_RESULT;

/** dae_scorer_free: @scorer: (nullable) */
DAE_API void            dae_scorer_free               (DaeScorer *scorer);

/** dae_scorer_reset: back to the normal state, history forgotten. */
DAE_API void            dae_scorer_reset              (DaeScorer *scorer);

/** dae_scorer_set_threshold: Returns: %DAE_ERROR_INVALID_ARGUMENT if negative or not finite. */
DAE_API DaeStatus       dae_scorer_set_threshold      (DaeScorer *scorer,
                                                       double threshold) DAE_WARN_UNUSED_RESULT;

/** dae_scorer_set_hold_frames: changes the hold time; the count in progress restarts. */
DAE_API void            dae_scorer_set_hold_frames    (DaeScorer *scorer,
                                                       size_t hold_frames);

/**
 * dae_scorer_push:
 * @score: one frame score; a non-finite score counts as above any threshold
 * @smoothed_out: (out) (nullable) the smoothed score compared with the
 *   threshold
 *
 * Returns: whether the debounced state changed with this frame.
 */
DAE_API DaeAnomalyEvent dae_scorer_push               (DaeScorer *scorer,
                                                       float score,
                                                       float *smoothed_out);

/** dae_scorer_is_anomaly: Returns: non-zero while the debounced state is anomalous. */
DAE_API int             dae_scorer_is_anomaly         (const DaeScorer *scorer);

#ifdef __cplusplus
}
#endif

#endif /* DAE_DAE_H */
