/* ThreadSanitizer annotations for GLib's locks (LD_PRELOAD, tests only)
 * Copyright (C) 2026 The dae authors
 * SPDX-License-Identifier: LGPL-2.1-or-later
 *
 * On Linux GLib implements GMutex, GRecMutex, GRWLock and GCond on futexes
 * in uninstrumented code, so ThreadSanitizer does not see them and reports
 * every access made under GST_OBJECT_LOCK or the pad stream lock as a data
 * race.  Preloaded into a TSan-built test, this library wraps the lock
 * functions that GStreamer and our plugin call (through the PLT) and tells
 * TSan about the happens-before edges: release before unlocking, acquire
 * after locking.  Calls made inside libglib itself are not seen; nothing
 * of ours depends on those.  Not part of any shipped library.
 */

#define _GNU_SOURCE
#include <dlfcn.h>
#include <stdlib.h>

#include <glib.h>

/* the functions behind these macros */
#undef g_once_init_enter
#undef g_once_init_leave

void __tsan_acquire (void *addr);
void __tsan_release (void *addr);

#define REAL(ret, name, args) \
  static ret (*real_##name) args; \
  if (G_UNLIKELY (real_##name == NULL)) \
    real_##name = (ret (*) args) dlsym (RTLD_NEXT, #name)

void
g_mutex_lock (GMutex * mutex)
{
  REAL (void, g_mutex_lock, (GMutex *));
  real_g_mutex_lock (mutex);
  __tsan_acquire (mutex);
}

gboolean
g_mutex_trylock (GMutex * mutex)
{
  gboolean ret;

  REAL (gboolean, g_mutex_trylock, (GMutex *));
  ret = real_g_mutex_trylock (mutex);
  if (ret)
    __tsan_acquire (mutex);
  return ret;
}

void
g_mutex_unlock (GMutex * mutex)
{
  REAL (void, g_mutex_unlock, (GMutex *));
  __tsan_release (mutex);
  real_g_mutex_unlock (mutex);
}

void
g_rec_mutex_lock (GRecMutex * mutex)
{
  REAL (void, g_rec_mutex_lock, (GRecMutex *));
  real_g_rec_mutex_lock (mutex);
  __tsan_acquire (mutex);
}

gboolean
g_rec_mutex_trylock (GRecMutex * mutex)
{
  gboolean ret;

  REAL (gboolean, g_rec_mutex_trylock, (GRecMutex *));
  ret = real_g_rec_mutex_trylock (mutex);
  if (ret)
    __tsan_acquire (mutex);
  return ret;
}

void
g_rec_mutex_unlock (GRecMutex * mutex)
{
  REAL (void, g_rec_mutex_unlock, (GRecMutex *));
  __tsan_release (mutex);
  real_g_rec_mutex_unlock (mutex);
}

void
g_rw_lock_writer_lock (GRWLock * lock)
{
  REAL (void, g_rw_lock_writer_lock, (GRWLock *));
  real_g_rw_lock_writer_lock (lock);
  __tsan_acquire (lock);
}

void
g_rw_lock_writer_unlock (GRWLock * lock)
{
  REAL (void, g_rw_lock_writer_unlock, (GRWLock *));
  __tsan_release (lock);
  real_g_rw_lock_writer_unlock (lock);
}

void
g_rw_lock_reader_lock (GRWLock * lock)
{
  REAL (void, g_rw_lock_reader_lock, (GRWLock *));
  real_g_rw_lock_reader_lock (lock);
  __tsan_acquire (lock);
}

void
g_rw_lock_reader_unlock (GRWLock * lock)
{
  REAL (void, g_rw_lock_reader_unlock, (GRWLock *));
  __tsan_release (lock);
  real_g_rw_lock_reader_unlock (lock);
}

void
g_cond_wait (GCond * cond, GMutex * mutex)
{
  REAL (void, g_cond_wait, (GCond *, GMutex *));
  __tsan_release (mutex);
  real_g_cond_wait (cond, mutex);
  __tsan_acquire (mutex);
}

gboolean
g_cond_wait_until (GCond * cond, GMutex * mutex, gint64 end_time)
{
  gboolean ret;

  REAL (gboolean, g_cond_wait_until, (GCond *, GMutex *, gint64));
  __tsan_release (mutex);
  ret = real_g_cond_wait_until (cond, mutex, end_time);
  __tsan_acquire (mutex);
  return ret;
}

gboolean
g_once_init_enter (volatile void *location)
{
  gboolean ret;

  REAL (gboolean, g_once_init_enter, (volatile void *));
  ret = real_g_once_init_enter (location);
  if (!ret)
    __tsan_acquire ((void *) location);
  return ret;
}

void
g_once_init_leave (volatile void *location, gsize result)
{
  REAL (void, g_once_init_leave, (volatile void *, gsize));
  __tsan_release ((void *) location);
  real_g_once_init_leave (location, result);
}
