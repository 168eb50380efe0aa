/* GStreamer dae plugin — the GstDaeAnomalyMeta custom buffer meta
 * Copyright (C) 2026 The dae authors
 *
 * This library is free software; you can redistribute it and/or
 * modify it under the terms of the GNU Lesser General Public
 * License as published by the Free Software Foundation; either
 * version 2.1 of the License, or (at your option) any later version.
 */

#ifndef __GST_DAE_ANOMALY_META_H__
#define __GST_DAE_ANOMALY_META_H__

#include <gst/gst.h>

G_BEGIN_DECLS

/**
 * GST_DAE_ANOMALY_META_NAME:
 *
 * The registered name of the custom meta that daedenoise attaches to its
 * output buffers; look it up with gst_buffer_get_custom_meta() (C) or
 * `Gst.Buffer.get_custom_meta` (Python).  Its structure has the fields
 * `score` (double), `threshold` (double), `is-anomaly` (boolean), `frames`
 * (int), `timestamp` and `duration` (guint64, nanoseconds).
 */
#define GST_DAE_ANOMALY_META_NAME "GstDaeAnomalyMeta"

void            gst_dae_anomaly_meta_register (void);

GstCustomMeta * gst_dae_anomaly_meta_add      (GstBuffer *buffer,
                                               gdouble score,
                                               gdouble threshold,
                                               gboolean is_anomaly,
                                               gint frames);

G_END_DECLS

#endif /* __GST_DAE_ANOMALY_META_H__ */
