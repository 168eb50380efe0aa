/* dae tools — code shared by dae-train and dae-score
 * Copyright (C) 2026 The dae authors
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */

#include <stdio.h>
#include <string.h>

#include <glib.h>
#include <gst/gst.h>
#include <gst/app/gstappsink.h>

#include "dae-tool-common.h"

/* a decoder that produces nothing for this long is given up */
#define DECODE_STALL_US (60 * G_USEC_PER_SEC)
#define PULL_TIMEOUT_NS (100 * GST_MSECOND)
#define MAX_DIRECTORY_DEPTH 64
#define MAX_LIST_DEPTH 16

const gchar *dae_tool_program = "dae";

static const char *const audio_extensions[] = {
  "wav", "wave", "flac", "ogg", "oga", "opus", "spx", "mp3", "mp2", "m4a",
  "aac", "aif", "aiff", "aifc", "au", "snd", "wma", "mka", "webm", "caf",
  "w64", "voc", "ape", "wv", "ac3", NULL
};

/* ------------------------------------------------------------------------ */
/* Sources: files, directories and list files                                */

gboolean
dae_tool_has_audio_extension (const gchar * name)
{
  const gchar *dot = strrchr (name, '.');
  guint i;

  if (dot == NULL)
    return FALSE;
  for (i = 0; audio_extensions[i] != NULL; i++) {
    if (g_ascii_strcasecmp (dot + 1, audio_extensions[i]) == 0)
      return TRUE;
  }
  return FALSE;
}

static gint
compare_strings (gconstpointer a, gconstpointer b)
{
  return strcmp (*(const gchar * const *) a, *(const gchar * const *) b);
}

/* Appends the audio files below @dir (recursively, sorted, hidden entries
 * skipped) to @files. */
static void
add_directory (const gchar * dir, GPtrArray * files, guint depth)
{
  GDir *handle;
  GError *gerror = NULL;
  GPtrArray *names;
  const gchar *name;
  guint i;

  if (depth > MAX_DIRECTORY_DEPTH) {
    fprintf (stderr, "%s: skipping %s: directories nested too deep\n",
        dae_tool_program, dir);
    return;
  }
  handle = g_dir_open (dir, 0, &gerror);
  if (handle == NULL) {
    fprintf (stderr, "%s: skipping %s: %s\n", dae_tool_program, dir,
        gerror->message);
    g_clear_error (&gerror);
    return;
  }
  names = g_ptr_array_new_with_free_func (g_free);
  while ((name = g_dir_read_name (handle)) != NULL) {
    if (name[0] != '.')
      g_ptr_array_add (names, g_strdup (name));
  }
  g_dir_close (handle);
  g_ptr_array_sort (names, compare_strings);

  for (i = 0; i < names->len; i++) {
    gchar *path = g_build_filename (dir, g_ptr_array_index (names, i), NULL);

    if (g_file_test (path, G_FILE_TEST_IS_DIR))
      add_directory (path, files, depth + 1);
    else if (dae_tool_has_audio_extension (path))
      g_ptr_array_add (files, g_steal_pointer (&path));
    g_free (path);
  }
  g_ptr_array_unref (names);
}

static void add_source (const gchar * source, GPtrArray * files, guint depth);

/* @LIST: one path per line; blank lines and lines starting with '#' are
 * ignored; relative paths are relative to the list file's directory. */
static void
add_list_file (const gchar * list, GPtrArray * files, guint depth)
{
  gchar *contents = NULL;
  gchar **lines;
  gchar *base;
  GError *gerror = NULL;
  guint i;

  if (depth > MAX_LIST_DEPTH) {
    fprintf (stderr, "%s: skipping @%s: list files nested too deep\n",
        dae_tool_program, list);
    return;
  }
  if (!g_file_get_contents (list, &contents, NULL, &gerror)) {
    fprintf (stderr, "%s: skipping @%s: %s\n", dae_tool_program, list,
        gerror->message);
    g_clear_error (&gerror);
    return;
  }
  base = g_path_get_dirname (list);
  lines = g_strsplit (contents, "\n", -1);
  for (i = 0; lines[i] != NULL; i++) {
    gchar *line = g_strstrip (lines[i]);
    gchar *path;

    if (line[0] == '\0' || line[0] == '#')
      continue;
    if (line[0] == '@' || g_path_is_absolute (line))
      path = g_strdup (line);
    else
      path = g_build_filename (base, line, NULL);
    add_source (path, files, depth + 1);
    g_free (path);
  }
  g_strfreev (lines);
  g_free (base);
  g_free (contents);
}

static void
add_source (const gchar * source, GPtrArray * files, guint depth)
{
  if (source[0] == '@') {
    add_list_file (source + 1, files, depth);
  } else if (g_file_test (source, G_FILE_TEST_IS_DIR)) {
    add_directory (source, files, depth);
  } else {
    /* files named explicitly are always tried, whatever their extension;
     * a missing one is reported when it fails to decode */
    g_ptr_array_add (files, g_strdup (source));
  }
}

GPtrArray *
dae_tool_collect_files (gchar ** sources)
{
  GPtrArray *files = g_ptr_array_new_with_free_func (g_free);
  GPtrArray *unique = g_ptr_array_new_with_free_func (g_free);
  GHashTable *seen = g_hash_table_new_full (g_str_hash, g_str_equal, g_free,
      NULL);
  guint i;

  for (i = 0; sources != NULL && sources[i] != NULL; i++)
    add_source (sources[i], files, 0);

  /* the same file named twice (./a.wav and a.wav) is used once */
  for (i = 0; i < files->len; i++) {
    gchar *canonical = g_canonicalize_filename (g_ptr_array_index (files, i),
        NULL);

    if (g_hash_table_add (seen, canonical))
      g_ptr_array_add (unique, g_strdup (g_ptr_array_index (files, i)));
  }
  g_hash_table_unref (seen);
  g_ptr_array_unref (files);
  return unique;
}

/* ------------------------------------------------------------------------ */
/* Decoding through GStreamer                                                */

GArray *
dae_tool_decode_file (const gchar * path, unsigned rate, guint64 max_samples,
    const volatile sig_atomic_t * stop, GError ** error)
{
  GstElement *pipeline;
  GstElement *decoder;
  GstElement *sink;
  GstBus *bus;
  GArray *samples;
  gchar *description;
  gchar *uri;
  gint64 last_data_us;
  gboolean failed = FALSE;
  gboolean stopped = FALSE;

  if (!g_file_test (path, G_FILE_TEST_IS_REGULAR)) {
    g_set_error (error, G_FILE_ERROR, G_FILE_ERROR_NOENT,
        "%s", g_file_test (path, G_FILE_TEST_EXISTS) ?
        "not a regular file" : "no such file");
    return NULL;
  }
  uri = gst_filename_to_uri (path, error);
  if (uri == NULL)
    return NULL;

  description = g_strdup_printf ("uridecodebin name=decoder ! audioconvert ! "
      "audioresample ! audio/x-raw,format=F32LE,channels=1,rate=%u ! "
      "appsink name=sink sync=false max-buffers=64", rate);
  pipeline = gst_parse_launch (description, error);
  g_free (description);
  if (pipeline == NULL) {
    g_free (uri);
    return NULL;
  }
  decoder = gst_bin_get_by_name (GST_BIN (pipeline), "decoder");
  sink = gst_bin_get_by_name (GST_BIN (pipeline), "sink");
  g_object_set (decoder, "uri", uri, NULL);
  g_free (uri);
  bus = gst_element_get_bus (pipeline);
  samples = g_array_new (FALSE, FALSE, sizeof (float));

  gst_element_set_state (pipeline, GST_STATE_PLAYING);
  last_data_us = g_get_monotonic_time ();
  for (;;) {
    GstSample *sample;
    GstMessage *message;

    if (stop != NULL && *stop) {
      stopped = TRUE;
      break;
    }
    sample = gst_app_sink_try_pull_sample (GST_APP_SINK (sink),
        PULL_TIMEOUT_NS);
    if (sample != NULL) {
      GstBuffer *buffer = gst_sample_get_buffer (sample);
      GstMapInfo map;

      if (buffer != NULL && gst_buffer_map (buffer, &map, GST_MAP_READ)) {
        guint n = map.size / sizeof (float);

        if (max_samples > 0 && samples->len + (guint64) n > max_samples)
          n = max_samples - samples->len;
        g_array_append_vals (samples, map.data, n);
        gst_buffer_unmap (buffer, &map);
      }
      gst_sample_unref (sample);
      last_data_us = g_get_monotonic_time ();
      if (max_samples > 0 && samples->len >= max_samples)
        break;
      continue;
    }
    message = gst_bus_pop_filtered (bus, GST_MESSAGE_ERROR);
    if (message != NULL) {
      GError *gerror = NULL;

      gst_message_parse_error (message, &gerror, NULL);
      g_propagate_error (error, gerror);
      gst_message_unref (message);
      failed = TRUE;
      break;
    }
    if (gst_app_sink_is_eos (GST_APP_SINK (sink)))
      break;
    if (g_get_monotonic_time () - last_data_us > DECODE_STALL_US) {
      g_set_error (error, GST_STREAM_ERROR, GST_STREAM_ERROR_FAILED,
          "decoding stalled (no audio for %d s)",
          (int) (DECODE_STALL_US / G_USEC_PER_SEC));
      failed = TRUE;
      break;
    }
  }
  gst_element_set_state (pipeline, GST_STATE_NULL);
  gst_object_unref (bus);
  gst_object_unref (sink);
  gst_object_unref (decoder);
  gst_object_unref (pipeline);

  if (!failed && !stopped && samples->len == 0) {
    g_set_error (error, GST_STREAM_ERROR, GST_STREAM_ERROR_DECODE,
        "no audio decoded");
    failed = TRUE;
  }
  if (failed || stopped) {
    g_array_unref (samples);
    return NULL;
  }
  return samples;
}
