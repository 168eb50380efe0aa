/* dae tools — code shared by dae-train and dae-score
 * Copyright (C) 2026 The dae authors
 * SPDX-License-Identifier: LGPL-2.1-or-later
 *
 * Finding audio files (files, directories searched recursively, @LIST
 * files) and decoding them with GStreamer to mono float samples at a given
 * rate (uridecodebin ! audioconvert ! audioresample ! appsink), the way the
 * element sees audio after "audioconvert ! audioresample".
 */

#ifndef DAE_TOOL_COMMON_H
#define DAE_TOOL_COMMON_H

#include <signal.h>

#include <glib.h>

G_BEGIN_DECLS

/* Program name used as the prefix of the messages printed here (set it
 * first thing in main ()). */
extern const gchar *dae_tool_program;

/* TRUE if @name ends with the extension of an audio format GStreamer
 * commonly decodes (wav, flac, ogg, mp3, ...; case-insensitive). */
gboolean        dae_tool_has_audio_extension  (const gchar *name);

/* Expands @sources (NULL-terminated; NULL = none): a directory gives the
 * audio files below it (recursively, sorted, hidden entries skipped), @LIST
 * the sources named in the text file LIST (one per line; blank lines and
 * lines starting with '#' ignored; relative paths are relative to the list
 * file's directory), anything else is taken as a file, whatever its
 * extension.  The same file named twice is kept once (first place).
 * Problems (unreadable directory or list) are reported on stderr and
 * skipped.  Returns: (transfer full) an array of paths (g_free). */
GPtrArray *     dae_tool_collect_files        (gchar **sources);

/* Decodes @path to mono F32 samples at @rate Hz (channels averaged by
 * audioconvert), at most @max_samples (0 = all).  Polls *@stop (nullable)
 * and gives up, returning NULL without setting @error, when it becomes
 * non-zero.  Returns: (transfer full) the samples, or NULL with @error set
 * (no such file, not audio, decoder error, no audio, a stalled decoder). */
GArray *        dae_tool_decode_file          (const gchar *path,
                                               unsigned rate,
                                               guint64 max_samples,
                                               const volatile sig_atomic_t *stop,
                                               GError **error);

G_END_DECLS

#endif /* DAE_TOOL_COMMON_H */
