/* libdae — trainer API (used by tools/ and tests; not needed at run time)
 * Copyright (C) 2026 The dae authors
 *
 * This library is free software; you can redistribute it and/or
 * modify it under the terms of the GNU Lesser General Public
 * License as published by the Free Software Foundation; either
 * version 2.1 of the License, or (at your option) any later version.
 */

/**
 * SECTION:dae-train
 * @title: libdae trainer
 *
 * Trains a #DaeModel from audio held in memory.  The caller decodes audio
 * (any way it likes; dae-train uses GStreamer) to mono float samples at the
 * model's rate and hands the clips to the trainer, which makes training
 * sequences on the fly: for the denoise recipe it mixes speech with noise at
 * random SNRs, levels, microphone colourings, reverberation and clipping;
 * for the anomaly recipe it corrupts normal audio's features and learns to
 * reconstruct the clean ones.  Features are computed with exactly the code
 * the streaming processor uses.
 *
 * Threading: a #DaeTrainer is used by one thread at a time; it calls
 * OpenBLAS, which may use several threads (OPENBLAS_NUM_THREADS).  Results
 * are deterministic for a given seed and OpenBLAS thread count.
 */

#ifndef DAE_DAE_TRAIN_H
#define DAE_DAE_TRAIN_H

#include <dae/dae.h>

#ifdef __cplusplus
extern "C" {
#endif

/**
 * DaeRecipe:
 * @DAE_RECIPE_DENOISE: speech + noise sources; targets are the clean band
 *   gains (clean-frame head), the input features (reconstruction head) and
 *   voice activity from the clean speech (if the model has a VAD head)
 * @DAE_RECIPE_ANOMALY: normal sources only; a denoising autoencoder: the
 *   reconstruction head learns clean features from corrupted ones; the
 *   anomaly threshold is calibrated on held-out normal audio
 */
typedef enum
{
  DAE_RECIPE_DENOISE = 0,
  DAE_RECIPE_ANOMALY = 1
} DaeRecipe;

/**
 * DaeTrainSource:
 * @DAE_SOURCE_SPEECH: clean speech (denoise recipe)
 * @DAE_SOURCE_NOISE: noise to mix in (denoise recipe)
 * @DAE_SOURCE_NORMAL: a machine's normal sound (anomaly recipe)
 */
typedef enum
{
  DAE_SOURCE_SPEECH = 0,
  DAE_SOURCE_NOISE = 1,
  DAE_SOURCE_NORMAL = 2
} DaeTrainSource;

/**
 * DaeTrainConfig:
 * @recipe: what to learn
 * @seed: seed of every random choice (init, mixing, batching)
 * @max_epochs: upper bound on epochs (>= 1)
 * @steps_per_epoch: mini-batches per epoch (>= 1)
 * @batch_size: sequences per mini-batch (1 to 1024)
 * @sequence_frames: frames per sequence, the BPTT length (2 to 10000)
 * @learning_rate: Adam's initial step size (> 0)
 * @lr_decay: learning rate multiplier applied after every epoch, (0, 1]
 * @grad_clip: global gradient-norm clip (> 0)
 * @patience: stop after this many epochs without a better validation loss
 *   (0 = never stop early)
 * @validation_fraction: share of each source's audio held out, [0, 0.5]
 * @validation_sequences: sequences in the (fixed) validation set
 * @snr_min_db: lowest mixing SNR in dB (denoise)
 * @snr_max_db: highest mixing SNR in dB (denoise)
 * @level_min_db: lowest speech level in dBFS (denoise: RMS over the
 *   sequence); anomaly recipe: lowest gain in dB applied to the normal
 *   recording (0 = as recorded)
 * @level_max_db: highest speech level in dBFS (denoise, <= 0), or highest
 *   gain in dB (anomaly)
 * @filter_probability: chance of a random microphone-like filter
 * @reverb_probability: chance of synthetic reverberation on the speech
 * @clip_probability: chance of clipping the mixture
 * @corruption: std of the Gaussian noise added to the normalised input
 *   features (anomaly)
 * @dropout: share of the (frame, band) input values that are replaced by
 *   0, the band's mean, without noise (anomaly), [0, 0.9]: the
 *   network learns to infer a band from the others and from the past, so a
 *   band that deviates from what the rest of the spectrum implies is not
 *   reproduced
 * @gain_weight: weight of the clean-frame (gain) loss; must be 0 for the
 *   anomaly recipe
 * @recon_weight: weight of the reconstruction loss; > 0 for the anomaly
 *   recipe
 * @vad_weight: weight of the voice-activity loss; ignored when the model
 *   has no voice-activity head; must be 0 for the anomaly recipe
 * @sdr_weight: weight of the signal-to-distortion loss (denoise): per
 *   training sequence, the band-level error energy of the gains applied to
 *   the mixture relative to the clean speech energy, in dB; 0 (the default)
 *   leaves it out; must be 0 for the anomaly recipe
 * @threshold_quantile: quantile of held-out normal frame scores used as the
 *   anomaly threshold (anomaly recipe), (0, 1)
 * @alarm_hold_seconds: hold time (as #DaeScorer's hold_frames, in seconds;
 *   daedenoise's anomaly-hold) with which the expected false alarms per
 *   hour are counted on the held-out normal audio (anomaly recipe), 0 to
 *   3600; 0 counts every frame that crosses the threshold
 * @speed_probability: chance that a training sequence's speech is resampled
 *   by a random factor (speed perturbation: pitch, formants and tempo scaled
 *   together, a voice the data does not have), 0 to 1 (denoise; 0, the
 *   default, leaves it out; must be 0 for the anomaly recipe).  Validation
 *   sequences are not perturbed unless @speed_validation is 1.  Speech
 *   clips shorter than the input
 *   a sequence needs at the largest factor are then not used for training.
 * @speed_max_factor: the factor is log-uniform in [1 / this, this], 1 to
 *   1.5 (default 1.15)
 * @generator_thread: 1 (the default): while a mini-batch is trained on, a
 *   second thread mixes the next one (the sequence generation took about a
 *   fifth of a step), so a run uses one more core than the OpenBLAS
 *   threads; 0: one thread generates and trains in turn.  The batches and
 *   so the results are the same either way.
 * @reverb_early_ms: how much of the synthetic room's response the target
 *   keeps after the direct path, in ms, 0 to 600 (denoise, default 20):
 *   the network learns to remove the reverberation after that; 600 keeps
 *   all of it (denoising without dereverberation).  The rooms drawn do not
 *   depend on it.
 * @speed_validation: 1: the validation sequences take the speed
 *   perturbation too (with @speed_probability and @speed_max_factor, from
 *   held-out segments long enough for the slowest factor), so that the
 *   training voices, changed, stand in for voices the model has not heard;
 *   meant for dae_trainer_choose_gain_scale().  Validation losses are then
 *   not comparable with those of an unperturbed run.  0 (the default):
 *   never perturbed.  1 needs @speed_probability > 0 (denoise).
 *
 * Fill with dae_train_config_init(); zero is never silently a default.
 */
typedef struct
{
  DaeRecipe recipe;
  uint64_t seed;
  size_t max_epochs;
  size_t steps_per_epoch;
  size_t batch_size;
  size_t sequence_frames;
  double learning_rate;
  double lr_decay;
  double grad_clip;
  size_t patience;
  double validation_fraction;
  size_t validation_sequences;
  double snr_min_db;
  double snr_max_db;
  double level_min_db;
  double level_max_db;
  double filter_probability;
  double reverb_probability;
  double clip_probability;
  double corruption;
  double dropout;
  double gain_weight;
  double recon_weight;
  double vad_weight;
  double sdr_weight;
  double threshold_quantile;
  double alarm_hold_seconds;
  double speed_probability;
  double speed_max_factor;
  int generator_thread;
  double reverb_early_ms;
  int speed_validation;
} DaeTrainConfig;

/**
 * dae_model_config_init_for_recipe:
 * @config: (out caller-allocates) the config to fill
 * @sample_rate: sample rate in Hz
 * @recipe: what the model is for
 *
 * Fills @config with the architecture suited to @recipe.  For
 * %DAE_RECIPE_DENOISE that is dae_model_config_init().  For
 * %DAE_RECIPE_ANOMALY (machine sound) it is a predictive model
 * (#DaeModelConfig.predictive: each frame is predicted from the ones
 * before, so missing, extra or late events score as well as unusual
 * spectra; the GRUs carry the temporal context, so frames are not
 * stacked) on a 256 ms window (at most 16384 samples) with an 8 times
 * shorter hop, 32 ms up to 64 kHz, and 256 bands from 20 Hz to
 * 0.47 * @sample_rate (the low shaft and mains harmonics up to the high
 * bearing resonances): the frequency resolution, 3.9 Hz at 16 kHz, and
 * bands about 10 Hz apart around 500 Hz separate the shaft-rate sidebands
 * of gear-mesh and blade tones from their carriers (the latency of 224 ms
 * matters little for monitoring); layers of 128 units with a 24-unit
 * bottleneck; no voice-activity head.
 */
DAE_API void            dae_model_config_init_for_recipe (DaeModelConfig *config,
                                                       unsigned sample_rate,
                                                       DaeRecipe recipe);

/**
 * dae_train_config_init:
 * @config: (out caller-allocates)
 * @recipe: the recipe whose defaults to use
 */
DAE_API void            dae_train_config_init         (DaeTrainConfig *config,
                                                       DaeRecipe recipe);

typedef struct DaeTrainer DaeTrainer;

/**
 * DaeEpochResult:
 * @epoch: 1-based number of the epoch just finished
 * @train_loss: mean training loss over the epoch
 * @validation_loss: loss on the fixed validation set
 * @learning_rate: the rate used in this epoch
 * @improved: non-zero if this is the best validation loss so far (the
 *   trainer keeps that model)
 * @stop: non-zero if training should stop (max_epochs reached or no
 *   improvement for patience epochs)
 */
typedef struct
{
  size_t epoch;
  double train_loss;
  double validation_loss;
  double learning_rate;
  int improved;
  int stop;
} DaeEpochResult;

/**
 * DaeTrainProgressFunc:
 * @step: steps done in this epoch
 * @n_steps: steps per epoch
 * @loss: running mean training loss in this epoch
 * @user_data: as given
 *
 * Called after every mini-batch.  Return non-zero to interrupt the epoch
 * (for example on Ctrl-C); dae_trainer_run_epoch() then returns %DAE_OK with
 * the partial epoch undone from the schedule's point of view (no epoch
 * counted, no validation, no learning-rate decay; the weight updates of the
 * steps done are kept), and the trainer can still be checkpointed.  The
 * #DaeEpochResult of an interrupted epoch has @epoch = epochs completed
 * before it, @validation_loss NaN, @improved and @stop 0.
 */
typedef int (*DaeTrainProgressFunc) (size_t step, size_t n_steps,
    double loss, void *user_data);

/**
 * dae_trainer_new:
 * @model_config: the architecture to train
 * @config: the training settings
 * @trainer_out: (out) (transfer full)
 * @error: (nullable)
 */
DAE_API DaeStatus       dae_trainer_new               (const DaeModelConfig *model_config,
                                                       const DaeTrainConfig *config,
                                                       DaeTrainer **trainer_out,
                                                       DaeError *error) DAE_WARN_UNUSED_RESULT;

/** dae_trainer_free: @trainer: (nullable) */
DAE_API void            dae_trainer_free              (DaeTrainer *trainer);

/**
 * dae_trainer_add_audio:
 * @samples: mono samples at the model's rate, in [-1, 1]; copied
 * @n_samples: their count
 * @name: (nullable) where they came from, for the model's info text
 *
 * Adds one clip before dae_trainer_prepare().  Clips shorter than one
 * training sequence (plus a few hops of warm-up) are still used (looped)
 * for noise and skipped (counted in the model's info) for speech and normal
 * sources.
 *
 * Returns: %DAE_OK; %DAE_ERROR_INVALID_ARGUMENT for a source the recipe
 *   does not use, a non-finite sample, or a call after prepare;
 *   %DAE_ERROR_NO_MEMORY.
 */
DAE_API DaeStatus       dae_trainer_add_audio         (DaeTrainer *trainer,
                                                       DaeTrainSource source,
                                                       const float *samples,
                                                       size_t n_samples,
                                                       const char *name,
                                                       DaeError *error) DAE_WARN_UNUSED_RESULT;

/**
 * dae_trainer_set_info:
 * @info: free text stored in the model (command line, data summary)
 */
DAE_API DaeStatus       dae_trainer_set_info          (DaeTrainer *trainer,
                                                       const char *info) DAE_WARN_UNUSED_RESULT;

/**
 * dae_trainer_prepare:
 *
 * Splits off the validation audio, computes the feature normalisation
 * statistics, initialises the weights (unless a checkpoint was loaded) and
 * builds the fixed validation set.  Fails with %DAE_ERROR_INVALID_ARGUMENT
 * when the sources the recipe needs are missing.
 */
DAE_API DaeStatus       dae_trainer_prepare           (DaeTrainer *trainer,
                                                       DaeError *error) DAE_WARN_UNUSED_RESULT;

/**
 * dae_trainer_run_epoch:
 * @progress: (nullable) called after every mini-batch
 * @result: (out) (nullable)
 *
 * Trains one epoch (steps_per_epoch mini-batches of BPTT with Adam),
 * then evaluates the validation set.
 */
DAE_API DaeStatus       dae_trainer_run_epoch         (DaeTrainer *trainer,
                                                       DaeTrainProgressFunc progress,
                                                       void *user_data,
                                                       DaeEpochResult *result,
                                                       DaeError *error) DAE_WARN_UNUSED_RESULT;

/**
 * dae_trainer_get_model:
 * @model_out: (out) (transfer full) a new model holding the best weights so
 *   far, the normalisation, the info text and (anomaly recipe) the
 *   calibrated threshold
 *
 * The info text is the dae_trainer_set_info() text, then the recipe, each
 * source's clip count and seconds, epochs and best validation loss, the
 * augmentation settings and, for the anomaly recipe, how the threshold was
 * calibrated: the threshold_quantile quantile of the frame scores
 * (#DaeFrameResult.score, through a #DaeProcessor) of the held-out normal
 * audio, and the expected false alarms per hour (anomaly starts of a
 * #DaeScorer with a hold of alarm_hold_seconds on that audio), which are
 * also stored as the model's #DaeAnomalyCalibration
 * (dae_model_get_anomaly_calibration()).  Before the first epoch the
 * initial weights are used.  The trainer
 * must be prepared (%DAE_ERROR_INVALID_ARGUMENT otherwise).
 */
DAE_API DaeStatus       dae_trainer_get_model         (DaeTrainer *trainer,
                                                       DaeModel **model_out,
                                                       DaeError *error) DAE_WARN_UNUSED_RESULT;

/**
 * DaeGainScaleChoice:
 * @scale: the chosen gain scale, 1 to 2 in steps of 0.01
 * @si_sdr_at_1: the mean validation SI-SDR (dB) with the gains as they are
 * @si_sdr: the same with @scale
 * @n_sequences: validation sequences scored (those with speech)
 *
 * What dae_trainer_choose_gain_scale() found.
 */
typedef struct {
  double scale;
  double si_sdr_at_1;
  double si_sdr;
  size_t n_sequences;
} DaeGainScaleChoice;

/**
 * dae_trainer_choose_gain_scale:
 * @choice: (out)
 *
 * Chooses the gain scale (dae_model_new_with_gain_scale()) for the
 * trainer's current weights on its validation set (held-out audio of the
 * training sources): the scale from 1 to 2, in steps of 0.01, that gives
 * the highest mean scale-invariant signal-to-distortion ratio over the
 * validation sequences with speech, each sequence's ratio computed from
 * band energies as the signal-to-distortion loss does (see the trainer
 * description) and capped at 30 dB.  A larger scale must score more
 * than 1e-6 dB better, so a network that needs no scaling gets 1.
 * Denoise recipe only; the trainer must be prepared
 * (%DAE_ERROR_INVALID_ARGUMENT otherwise).  To choose one for a finished
 * model, give a trainer its data, dae_trainer_init_from_model() it, then
 * prepare it (dae-train gain-scale).
 */
DAE_API DaeStatus       dae_trainer_choose_gain_scale (DaeTrainer *trainer,
                                                       DaeGainScaleChoice *choice,
                                                       DaeError *error) DAE_WARN_UNUSED_RESULT;

/**
 * dae_trainer_get_current_model:
 * @model_out: (out) (transfer full) a new model holding the weights as they
 *   are after the last completed epoch (not the best ones), the
 *   normalisation and the info text of dae_trainer_get_model() with a line
 *   naming the epoch
 *
 * For keeping every epoch's weights, for example to average the last ones
 * with dae_model_average().  The anomaly threshold is not calibrated.  The
 * trainer must be prepared (%DAE_ERROR_INVALID_ARGUMENT otherwise).
 */
DAE_API DaeStatus       dae_trainer_get_current_model (DaeTrainer *trainer,
                                                       DaeModel **model_out,
                                                       DaeError *error) DAE_WARN_UNUSED_RESULT;

/**
 * dae_model_average:
 * @models: (array length=n_models) models from one training run
 * @n_models: at least 1
 * @info: (nullable) the new model's info text (truncated to
 *   4095 bytes at a character boundary, as model files allow), or %NULL for
 *   @models[0]'s
 * @model_out: (out) (transfer full) a new model whose every weight is the
 *   mean of that weight in @models (summed in double, in array order); the
 *   rest (configuration, normalisation, band error scale) is @models[0]'s
 *
 * Averaging the weights of the last epochs of a run (stochastic weight
 * averaging) gives a smoother model than any one epoch.  The models must
 * have the same architecture, band layout and feature normalisation (the
 * normalisation is fixed for a training run), and none may carry a
 * calibrated anomaly threshold or a gain scale other than 1 (each belongs
 * to one set of weights; choose a scale for the mean afterwards,
 * dae_trainer_choose_gain_scale());
 * otherwise %DAE_ERROR_INVALID_ARGUMENT names the first model that does
 * not fit.
 */
DAE_API DaeStatus       dae_model_average             (DaeModel *const *models,
                                                       size_t n_models,
                                                       const char *info,
                                                       DaeModel **model_out,
                                                       DaeError *error) DAE_WARN_UNUSED_RESULT;

/**
 * dae_trainer_save_checkpoint:
 * @path: file to write (atomically: temporary file + rename)
 *
 * Saves everything needed to resume exactly: current and best weights,
 * Adam moments, epoch, learning rate, random state, normalisation.
 */
DAE_API DaeStatus       dae_trainer_save_checkpoint   (DaeTrainer *trainer,
                                                       const char *path,
                                                       DaeError *error) DAE_WARN_UNUSED_RESULT;

/**
 * dae_trainer_load_checkpoint:
 *
 * Restores a checkpoint saved by the same architecture and recipe; call
 * before dae_trainer_prepare() (which then keeps the loaded weights and
 * normalisation; later calls return %DAE_ERROR_INVALID_ARGUMENT).  Add the
 * same audio with the same settings to resume bit-exactly.  Checkpoints are
 * validated like model files: %DAE_ERROR_IO, %DAE_ERROR_BAD_FORMAT
 * (truncated, checksum, malformed), %DAE_ERROR_UNSUPPORTED_VERSION, or
 * %DAE_ERROR_INCOMPATIBLE if the architecture or recipe differs; on error
 * the trainer is unchanged.  A checkpoint saved with another
 * #DaeTrainConfig.sdr_weight (another loss) is loaded, but its best
 * validation loss is forgotten: the first epoch after resuming becomes the
 * best.
 */
DAE_API DaeStatus       dae_trainer_load_checkpoint   (DaeTrainer *trainer,
                                                       const char *path,
                                                       DaeError *error) DAE_WARN_UNUSED_RESULT;

/**
 * dae_trainer_init_from_model:
 * @model: a model of the trainer's architecture and band layout
 *
 * Starts training from @model's weights and feature normalisation instead
 * of random weights (fine-tuning, for example the default speech model on
 * your own speech and noise).  The epoch count, learning rate and Adam
 * state start afresh.  Call before dae_trainer_prepare() and instead of
 * dae_trainer_load_checkpoint() (a checkpoint of the fine-tuning run
 * resumes it).  %DAE_ERROR_INCOMPATIBLE if the architecture or band
 * layout differs; on error the trainer is unchanged.  Two differences are
 * allowed, alone or together, and the network first computes what @model
 * did:
 *
 * - a model without band tonality (#DaeModelConfig.tonality) can start a
 *   trainer whose model has it; the tonality inputs start with zero
 *   weights and their normalisation is computed by dae_trainer_prepare()
 *   from the training mixtures;
 * - a model can start a trainer whose network has more units in one or
 *   more hidden layers (enc_dense, enc_gru, bottleneck, dec_gru; none
 *   fewer, nothing else different): the old units keep their weights, the
 *   new ones get random incoming weights (from the trainer's seed) and
 *   zero outgoing ones.
 */
DAE_API DaeStatus       dae_trainer_init_from_model   (DaeTrainer *trainer,
                                                       const DaeModel *model,
                                                       DaeError *error) DAE_WARN_UNUSED_RESULT;

/** dae_trainer_get_epoch: Returns: epochs completed so far. */
DAE_API size_t          dae_trainer_get_epoch         (const DaeTrainer *trainer);

#ifdef __cplusplus
}
#endif

#endif /* DAE_DAE_TRAIN_H */
