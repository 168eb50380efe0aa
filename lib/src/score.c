/* libdae — anomaly scorer: moving-average smoothing and a debounced
 * threshold with a hold time, pure arithmetic after construction
 * Copyright (C) 2026 The dae authors
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */

#include <float.h>
#include <math.h>

#include "dae-private.h"

#define MAX_SMOOTHING_FRAMES 1024

struct DaeScorer
{
  double threshold;
  size_t hold_frames;
  size_t smoothing_frames;

  float *history;               /* smoothing_frames scores */
  size_t pos;
  size_t filled;
  double sum;

  int anomalous;
  size_t run;                   /* consecutive frames against the state */
};

DaeStatus
dae_scorer_new (double threshold, size_t hold_frames,
    size_t smoothing_frames, DaeScorer ** scorer_out)
{
  DaeScorer *scorer;

  if (scorer_out == NULL || !isfinite (threshold) || threshold < 0.0
      || smoothing_frames < 1 || smoothing_frames > MAX_SMOOTHING_FRAMES)
    return DAE_ERROR_INVALID_ARGUMENT;

  scorer = dae_calloc (1, sizeof (DaeScorer));
  if (scorer == NULL)
    return DAE_ERROR_NO_MEMORY;
  scorer->history = dae_calloc (smoothing_frames, sizeof (float));
  if (scorer->history == NULL) {
    dae_free (scorer);
    return DAE_ERROR_NO_MEMORY;
  }

  scorer->threshold = threshold;
  scorer->hold_frames = hold_frames;
  scorer->smoothing_frames = smoothing_frames;
  dae_scorer_reset (scorer);

  *scorer_out = scorer;
  return DAE_OK;
}

void
dae_scorer_free (DaeScorer * scorer)
{
  if (scorer == NULL)
    return;
  dae_free (scorer->history);
  dae_free (scorer);
}

void
dae_scorer_reset (DaeScorer * scorer)
{
  size_t i;

  if (scorer == NULL)
    return;
  for (i = 0; i < scorer->smoothing_frames; i++)
    scorer->history[i] = 0.0f;
  scorer->pos = 0;
  scorer->filled = 0;
  scorer->sum = 0.0;
  scorer->anomalous = 0;
  scorer->run = 0;
}

DaeStatus
dae_scorer_set_threshold (DaeScorer * scorer, double threshold)
{
  if (scorer == NULL || !isfinite (threshold) || threshold < 0.0)
    return DAE_ERROR_INVALID_ARGUMENT;
  scorer->threshold = threshold;
  return DAE_OK;
}

void
dae_scorer_set_hold_frames (DaeScorer * scorer, size_t hold_frames)
{
  if (scorer == NULL)
    return;
  scorer->hold_frames = hold_frames;
  scorer->run = 0;
}

int
dae_scorer_is_anomaly (const DaeScorer * scorer)
{
  return scorer != NULL && scorer->anomalous;
}

/* Adds one score to the moving average and returns it.  The running sum is
 * recomputed from the history on every wrap so rounding cannot drift. */
static double
smooth (DaeScorer * scorer, float score)
{
  size_t i;

  scorer->sum += (double) score - (double) scorer->history[scorer->pos];
  scorer->history[scorer->pos] = score;
  if (++scorer->pos == scorer->smoothing_frames) {
    scorer->pos = 0;
    scorer->sum = 0.0;
    for (i = 0; i < scorer->smoothing_frames; i++)
      scorer->sum += scorer->history[i];
  }
  if (scorer->filled < scorer->smoothing_frames)
    scorer->filled++;

  return scorer->sum / (double) scorer->filled;
}

DaeAnomalyEvent
dae_scorer_push (DaeScorer * scorer, float score, float *smoothed_out)
{
  double smoothed;
  int above;
  size_t hold;

  if (scorer == NULL)
    return DAE_ANOMALY_NONE;

  /* Non-finite scores count as far above any threshold but stay finite in
   * the history so the average recovers. */
  if (!isfinite (score) || score > FLT_MAX / MAX_SMOOTHING_FRAMES)
    score = FLT_MAX / MAX_SMOOTHING_FRAMES;
  if (score < 0.0f)
    score = 0.0f;

  smoothed = smooth (scorer, score);
  if (smoothed_out != NULL)
    *smoothed_out = (float) smoothed;

  above = smoothed > scorer->threshold;
  if (above == scorer->anomalous) {
    scorer->run = 0;
    return DAE_ANOMALY_NONE;
  }

  hold = scorer->hold_frames > 0 ? scorer->hold_frames : 1;
  if (++scorer->run < hold)
    return DAE_ANOMALY_NONE;

  scorer->run = 0;
  scorer->anomalous = above;
  return above ? DAE_ANOMALY_START : DAE_ANOMALY_END;
}
