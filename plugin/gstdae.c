/* GStreamer dae plugin — registration
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

#include <gst/gst.h>

#include "gstdaeanomalymeta.h"
#include "gstdaedenoise.h"

static gboolean
plugin_init (GstPlugin * plugin)
{
  gst_dae_anomaly_meta_register ();
  return GST_ELEMENT_REGISTER (daedenoise, plugin);
}

GST_PLUGIN_DEFINE (GST_VERSION_MAJOR,
    GST_VERSION_MINOR,
    dae,
    "Streaming spectral denoising autoencoder (denoising and anomaly "
    "detection)", plugin_init, VERSION, GST_LICENSE, GST_PACKAGE_NAME,
    GST_PACKAGE_ORIGIN)
