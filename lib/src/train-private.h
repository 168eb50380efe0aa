/* libdae — internal declarations of the trainer (train.c, augment.c)
 * Copyright (C) 2026 The dae authors
 * SPDX-License-Identifier: LGPL-2.1-or-later
 *
 * Hidden like everything in dae-private.h; the tests reach the debug hooks
 * at the end through the static convenience library.
 */

#ifndef DAE_TRAIN_PRIVATE_H
#define DAE_TRAIN_PRIVATE_H

#include <stddef.h>

#include "dae/dae-train.h"
#include "dae-private.h"

/* ------------------------------------------------------------------------ */
/* augment.c: signal-level augmentation for the training recipes             */

/* A second-order IIR "microphone colouring" (rnnoise's random response):
 *   y[i] = x[i] + b1 x[i-1] + b2 x[i-2] - a1 y[i-1] - a2 y[i-2]
 * with every coefficient uniform in [-3/8, 3/8] (always stable). */
typedef struct
{
  float b1;
  float b2;
  float a1;
  float a2;
} DaeMicFilter;

void            dae_mic_filter_random         (DaeMicFilter *filter,
                                               DaeRng *rng);
/* In place, from a zero state. */
void            dae_mic_filter_apply          (const DaeMicFilter *filter,
                                               float *x,
                                               size_t n);

/* Root mean square of x (0 for n == 0). */
double          dae_signal_rms                (const float *x,
                                               size_t n);
/* Largest |x[i]|. */
float           dae_signal_peak               (const float *x,
                                               size_t n);
void            dae_signal_scale              (float *x,
                                               size_t n,
                                               float gain);
/* Hard clipping to [-limit, limit]. */
void            dae_signal_clip               (float *x,
                                               size_t n,
                                               float limit);

/* Synthetic reverberation by FFT convolution with an exponentially decaying
 * Gaussian-noise impulse response (a direct-path impulse, a short pre-delay,
 * then the tail), sized for signals of at most max_samples.  Plans and
 * buffers are made once in _new (under the FFTW planner lock). */
typedef struct DaeReverb DaeReverb;

DaeStatus       dae_reverb_new                (size_t max_samples,
                                               unsigned sample_rate,
                                               DaeReverb **reverb_out);
void            dae_reverb_free               (DaeReverb *reverb);
/* Draws a random room (RT60, pre-delay, direct-to-reverberant ratio) and
 * writes the first n samples of x * ir to wet and of x * early_ir to early,
 * where early_ir is the direct path plus the first early_ms milliseconds of
 * the response (the dereverberation target; the whole response, so early
 * equals wet, when early_ms reaches the room's length: at most
 * DAE_REVERB_MAX_MS).  The random draws do not depend on early_ms.
 * n <= max_samples; x may not alias the outputs. */
#define DAE_REVERB_MAX_MS 600.0
/* DaeTrainConfig.reverb_early_ms's default */
#define DAE_REVERB_EARLY_MS 20.0
void            dae_reverb_apply              (DaeReverb *reverb,
                                               DaeRng *rng,
                                               const float *x,
                                               size_t n,
                                               double early_ms,
                                               float *wet,
                                               float *early);

/* Speed perturbation: the signal resampled by a factor, which scales its
 * pitch, its formants and its tempo together (a new voice from an old one,
 * as Kaldi's speed perturbation).  A Hann-windowed sinc of
 * 2 * DAE_SPEED_HALF_TAPS taps, tabulated at DAE_SPEED_PHASES fractional
 * positions, low-passed at min (1, 1 / factor) of the input's Nyquist
 * frequency so that speeding up does not alias.  Each phase sums to 1. */
#define DAE_SPEED_HALF_TAPS 8
#define DAE_SPEED_PHASES 256
/* dae_speed_apply () sums the taps four at a time */
_Static_assert (2 * DAE_SPEED_HALF_TAPS % 4 == 0, "taps in fours");
#define DAE_SPEED_MAX_FACTOR 1.5

typedef struct
{
  double factor;
  float taps[DAE_SPEED_PHASES + 1][2 * DAE_SPEED_HALF_TAPS];
} DaeSpeedKernel;

/* factor in [1 / DAE_SPEED_MAX_FACTOR, DAE_SPEED_MAX_FACTOR]; > 1 is faster
 * and higher. */
void            dae_speed_kernel_init         (DaeSpeedKernel *kernel,
                                               double factor);
/* Input samples dae_speed_apply () reads for n_out output samples at any
 * factor up to max_factor. */
size_t          dae_speed_input_length        (size_t n_out,
                                               double max_factor);
/* out[i] = in at position DAE_SPEED_HALF_TAPS + i * factor (band-limited
 * interpolation), for i < n_out; in must hold
 * dae_speed_input_length (n_out, factor) samples. */
void            dae_speed_apply               (const DaeSpeedKernel *kernel,
                                               const float *in,
                                               float *out,
                                               size_t n_out);

/* ------------------------------------------------------------------------ */
/* train-gru.c: the GRU over B sequences at once                             */

/* As dae_gru_forward_seq () with h0 = 0, for B sequences in time-major
 * order: x [T][B][n_in], h [T][B][H], cache [T][B][4H]. */
void            dae_gru_forward_batch         (const DaeGru *layer,
                                               size_t T,
                                               size_t B,
                                               const float *x,
                                               float *h,
                                               float *cache);
/* As dae_gru_backward_seq () with h0 = 0 (accumulates into grad, writes dx
 * if non-NULL), time-major; gates: scratch of T * B * 4H floats, work: B * H
 * floats. */
void            dae_gru_backward_batch        (const DaeGru *layer,
                                               size_t T,
                                               size_t B,
                                               const float *x,
                                               const float *h,
                                               const float *cache,
                                               const float *dh,
                                               DaeGru *grad,
                                               float *dx,
                                               float *gates,
                                               float *work);

/* ------------------------------------------------------------------------ */
/* train.c: test hooks                                                       */

/* Number of trainable floats (the model's n_params). */
size_t          dae_trainer_debug_n_params    (DaeTrainer *trainer);
/* The index-th trainable float of the current weights, in tensor order
 * (dae_model_list_tensors()); NULL if out of range. */
float *         dae_trainer_debug_param       (DaeTrainer *trainer,
                                               size_t index);
/* The training loss (exactly as in dae_trainer_run_epoch(): same targets,
 * masks and weights) of the first min (batch_size, validation_sequences)
 * validation sequences at the current weights; with grad non-NULL also its
 * gradient (n_params floats, tensor order, before clipping).  The trainer
 * must be prepared. */
DaeStatus       dae_trainer_debug_loss        (DaeTrainer *trainer,
                                               double *loss_out,
                                               float *grad);

#endif /* DAE_TRAIN_PRIVATE_H */
