#!/bin/sh
# Test wrapper for `meson test --setup tsan` (build-tsan, -Db_sanitize=thread):
# preloads the GLib lock annotations (glib-tsan-shim.c), uses the
# suppressions in tests/tsan.supp, loads GStreamer plugins in-process
# (the plugin is TSan-instrumented, gst-plugin-scanner is not) and scans
# only the few system plugins the tests use, so that unrelated plugins'
# load-time threads and locks stay out of the reports.
#
# Usage: run-tsan.sh SHIM SUPPRESSIONS SYSTEM_PLUGIN_DIR WORK_DIR TEST [ARGS...]
set -eu
shim=$1
supp=$2
system_plugins=$3
work=$4
shift 4

mkdir -p "$work/plugins"
for p in coreelements audiotestsrc app audioconvert audioresample; do
  if [ -e "$system_plugins/libgst$p.so" ]; then
    ln -sf "$system_plugins/libgst$p.so" "$work/plugins/"
  fi
done

# report_mutex_bugs=0, detect_deadlocks=0: GLib creates the recursive
# pthread mutexes behind GRecMutex inside libglib, where tsan.supp makes
# TSan ignore the calls, so TSan takes recursive locking for double locking
# (and its deadlock detector overflows).  Races are still reported: the
# shim annotates these locks itself.
export TSAN_OPTIONS="halt_on_error=1 report_mutex_bugs=0 detect_deadlocks=0 suppressions=$supp ${TSAN_OPTIONS:-}"
export G_SLICE=always-malloc
export GST_REGISTRY_FORK=no
export GST_PLUGIN_SYSTEM_PATH_1_0="$work/plugins"
export GST_REGISTRY="$work/registry.bin"
LD_PRELOAD="$shim" exec "$@"
