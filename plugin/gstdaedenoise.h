/* GStreamer dae plugin — the daedenoise element
 * Copyright (C) 2026 The dae authors
 *
 * This library is free software; you can redistribute it and/or
 * modify it under the terms of the GNU Lesser General Public
 * License as published by the Free Software Foundation; either
 * version 2.1 of the License, or (at your option) any later version.
 */

#ifndef __GST_DAE_DENOISE_H__
#define __GST_DAE_DENOISE_H__

#include <gst/gst.h>
#include <gst/audio/gstaudiofilter.h>

G_BEGIN_DECLS

#define GST_TYPE_DAE_DENOISE (gst_dae_denoise_get_type ())
G_DECLARE_FINAL_TYPE (GstDaeDenoise, gst_dae_denoise, GST, DAE_DENOISE,
    GstAudioFilter)

GST_ELEMENT_REGISTER_DECLARE (daedenoise);

G_END_DECLS

#endif /* __GST_DAE_DENOISE_H__ */
