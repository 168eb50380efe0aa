/* bench-processor: real-time factor and peak memory of DaeProcessor.
 *
 * Runs one processor (one channel, one thread) over synthetic audio (white
 * noise plus a swept tone) and prints CPU seconds per second of audio and
 * the process's peak resident memory.  With --model the model file's rate is
 * used; without it a randomly initialised model with the default
 * architecture is benchmarked at each --rate (the network's cost does not
 * depend on its weights).
 *
 * Usage: bench-processor [--model FILE] [--rate 16000,48000] [--seconds 60]
 *                        [--arithmetic int8|float]
 */

#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <time.h>

#include <glib.h>

#include "dae-private.h"

static double
cpu_seconds (void)
{
  struct timespec ts;

  clock_gettime (CLOCK_THREAD_CPUTIME_ID, &ts);
  return ts.tv_sec + ts.tv_nsec * 1e-9;
}

static long
peak_rss_kib (void)
{
  struct rusage usage;

  getrusage (RUSAGE_SELF, &usage);
  return usage.ru_maxrss;
}

static int
bench_model (DaeModel * model, double seconds, DaeArithmetic arithmetic)
{
  DaeProcessor *proc = NULL;
  DaeModelConfig config;
  size_t hop;
  size_t n_hops;
  size_t h;
  size_t i;
  float *in;
  float *out;
  double t0;
  double cpu;
  double phase = 0.0;
  long rss_before = peak_rss_kib ();
  DaeStatus status;
  GRand *rand = g_rand_new_with_seed (1);

  dae_model_get_config (model, &config);
  hop = config.hop_samples;
  n_hops = (size_t) (seconds * config.sample_rate / hop);
  in = g_new (float, hop);
  out = g_new (float, hop);

  status = dae_processor_new (model, &proc);
  if (status != DAE_OK) {
    fprintf (stderr, "bench-processor: %s\n", dae_status_to_string (status));
    return 1;
  }
  if (dae_processor_set_arithmetic (proc, arithmetic) != DAE_OK)
    return 1;

  t0 = cpu_seconds ();
  for (h = 0; h < n_hops; h++) {
    for (i = 0; i < hop; i++) {
      double f = 100.0 + 4000.0 * (double) h / n_hops;

      phase += 2.0 * G_PI * f / config.sample_rate;
      in[i] = (float) (0.3 * sin (phase) +
          0.1 * g_rand_double_range (rand, -1.0, 1.0));
    }
    if (dae_processor_process (proc, in, out, NULL) != DAE_OK)
      return 1;
  }
  cpu = cpu_seconds () - t0;

  printf
      ("arithmetic=%s rate=%u window=%zu hop=%zu bands=%zu params=%zu latency_ms=%.2f "
      "audio_s=%.1f cpu_s=%.3f rtf=%.5f us_per_hop=%.1f peak_rss_mib=%.1f "
      "(before processor: %.1f)\n",
      arithmetic == DAE_ARITHMETIC_FLOAT ? "float" : "int8", config.sample_rate,
      config.window_samples, hop, config.n_bands,
      dae_model_get_n_params (model),
      1000.0 * dae_model_get_latency_samples (model) / config.sample_rate,
      n_hops * (double) hop / config.sample_rate, cpu,
      cpu / (n_hops * (double) hop / config.sample_rate), 1e6 * cpu / n_hops,
      peak_rss_kib () / 1024.0, rss_before / 1024.0);

  dae_processor_free (proc);
  g_rand_free (rand);
  g_free (in);
  g_free (out);
  return 0;
}

int
main (int argc, char **argv)
{
  gchar *model_path = NULL;
  gchar *rates = NULL;
  gdouble seconds = 60.0;
  gchar *arithmetic_name = NULL;
  DaeArithmetic arithmetic = DAE_ARITHMETIC_INT8;
  GOptionEntry entries[] = {
    {"model", 'm', 0, G_OPTION_ARG_FILENAME, &model_path,
        "Model file to benchmark (default: random default-architecture "
          "models)", "FILE"},
    {"rate", 'r', 0, G_OPTION_ARG_STRING, &rates,
        "Comma-separated sample rates for the random models (default "
          "16000,48000)", "HZ,..."},
    {"seconds", 's', 0, G_OPTION_ARG_DOUBLE, &seconds,
        "Seconds of audio per run (default 60)", "S"},
    {"arithmetic", 'a', 0, G_OPTION_ARG_STRING, &arithmetic_name,
        "The processor's arithmetic: int8 (default) or float", "NAME"},
    {NULL}
  };
  GOptionContext *context;
  GError *gerror = NULL;
  int ret = 0;

  context = g_option_context_new ("- DaeProcessor real-time factor");
  g_option_context_add_main_entries (context, entries, NULL);
  if (!g_option_context_parse (context, &argc, &argv, &gerror)) {
    fprintf (stderr, "bench-processor: %s\n", gerror->message);
    return 2;
  }
  g_option_context_free (context);
  if (!(seconds > 0.0 && seconds < 1e5)) {
    fprintf (stderr, "bench-processor: --seconds must be in (0, 100000)\n");
    return 2;
  }
  if (arithmetic_name == NULL || strcmp (arithmetic_name, "int8") == 0) {
    arithmetic = DAE_ARITHMETIC_INT8;
  } else if (strcmp (arithmetic_name, "float") == 0) {
    arithmetic = DAE_ARITHMETIC_FLOAT;
  } else {
    fprintf (stderr, "bench-processor: --arithmetic must be int8 or float\n");
    return 2;
  }
  g_free (arithmetic_name);

  if (g_getenv ("OPENBLAS_NUM_THREADS") == NULL)
    fprintf (stderr, "bench-processor: note: OPENBLAS_NUM_THREADS is unset; "
        "set it to 1 for single-thread figures\n");

  if (model_path != NULL) {
    DaeModel *model = NULL;
    DaeError error;

    if (dae_model_load_file (model_path, &model, &error) != DAE_OK) {
      fprintf (stderr, "bench-processor: %s: %s\n", model_path, error.message);
      return 1;
    }
    printf ("model=%s\n", model_path);
    ret = bench_model (model, seconds, arithmetic);
    dae_model_unref (model);
  } else {
    gchar **list = g_strsplit (rates ? rates : "16000,48000", ",", -1);
    gchar **r;

    for (r = list; *r != NULL && ret == 0; r++) {
      DaeModelConfig config;
      DaeModel *model = NULL;
      DaeError error;
      guint64 rate;

      if (!g_ascii_string_to_unsigned (*r, 10, 8000, 192000, &rate, NULL)) {
        fprintf (stderr, "bench-processor: bad rate '%s'\n", *r);
        return 2;
      }
      dae_model_config_init (&config, (unsigned) rate);
      if (dae_model_alloc (&config, &model, &error) != DAE_OK) {
        fprintf (stderr, "bench-processor: %s\n", error.message);
        return 1;
      }
      dae_model_init_random (model, 1);
      printf ("model=random-default\n");
      ret = bench_model (model, seconds, arithmetic);
      dae_model_unref (model);
    }
    g_strfreev (list);
  }

  g_free (model_path);
  g_free (rates);
  return ret;
}
