/* GStreamer dae plugin — the GstDaeAnomalyMeta custom buffer meta
 * Copyright (C) 2026 The dae authors
 *
 * This library is free software; you can redistribute it and/or
 * modify it under the terms of the GNU Lesser General Public
 * License as published by the Free Software Foundation; either
 * version 2.1 of the License, or (at your option) any later version.
 */

#ifdef HAVE_CONFIG_H
#include "config.h"
#endif

#include "gstdaeanomalymeta.h"

/**
 * gst_dae_anomaly_meta_register:
 *
 * Registers the "GstDaeAnomalyMeta" custom meta once per process; safe to
 * call from several threads and several times.  It carries no tags, so
 * elements that copy untagged metas (most filters, converters, queues) pass
 * it on.
 */
void
gst_dae_anomaly_meta_register (void)
{
  static gsize registered = 0;

  if (g_once_init_enter (&registered)) {
    static const gchar *tags[] = { NULL };

    gst_meta_register_custom (GST_DAE_ANOMALY_META_NAME, tags, NULL, NULL,
        NULL);
    g_once_init_leave (&registered, 1);
  }
}

/**
 * gst_dae_anomaly_meta_add:
 * @buffer: a writable buffer with PTS and duration set (or not)
 * @score: mean frame anomaly score over the frames of @buffer
 * @threshold: the threshold in use, or -1 if there is none
 * @is_anomaly: the debounced anomaly state at the end of @buffer
 * @frames: number of STFT frames that produced @buffer
 *
 * Returns: (transfer none): the new meta.
 */
GstCustomMeta *
gst_dae_anomaly_meta_add (GstBuffer * buffer, gdouble score,
    gdouble threshold, gboolean is_anomaly, gint frames)
{
  GstCustomMeta *meta;
  GstStructure *s;

  gst_dae_anomaly_meta_register ();
  meta = gst_buffer_add_custom_meta (buffer, GST_DAE_ANOMALY_META_NAME);
  if (meta == NULL)
    return NULL;
  s = gst_custom_meta_get_structure (meta);
  gst_structure_set (s,
      "score", G_TYPE_DOUBLE, score,
      "threshold", G_TYPE_DOUBLE, threshold,
      "is-anomaly", G_TYPE_BOOLEAN, is_anomaly,
      "frames", G_TYPE_INT, frames,
      "timestamp", G_TYPE_UINT64, (guint64) GST_BUFFER_PTS (buffer),
      "duration", G_TYPE_UINT64, (guint64) GST_BUFFER_DURATION (buffer), NULL);
  return meta;
}
