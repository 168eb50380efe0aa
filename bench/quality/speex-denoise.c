/* speex-denoise: the speexdsp preprocessor's noise suppressor as a filter.
 *
 *   speex-denoise RATE [--bypass] < in.s16le > out.s16le
 *
 * Reads mono signed 16-bit little-endian samples at RATE Hz on stdin and
 * writes the denoised samples on stdout, in 10 ms frames (the last partial
 * frame is zero-padded and written whole: the output may be up to 10 ms
 * longer).  Denoising is on with speexdsp's default suppression (-15 dB);
 * AGC, VAD, dereverberation and echo suppression are off.  --bypass reads
 * and writes without processing (the I/O baseline for the real-time factor).
 *
 * Build: gcc -O2 -o speex-denoise speex-denoise.c -lspeexdsp
 */
#include <speex/speex_preprocess.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

int
main (int argc, char **argv)
{
  SpeexPreprocessState *st = NULL;
  spx_int16_t *frame;
  int rate, frame_size, on = 1, off = 0, bypass = 0;
  size_t got;

  if (argc < 2 || argc > 3 || (rate = atoi (argv[1])) < 8000 || rate % 100 != 0) {
    fprintf (stderr, "usage: %s RATE [--bypass] < in.s16le > out.s16le\n",
        argv[0]);
    return 2;
  }
  if (argc == 3) {
    if (strcmp (argv[2], "--bypass") != 0) {
      fprintf (stderr, "%s: unknown option '%s'\n", argv[0], argv[2]);
      return 2;
    }
    bypass = 1;
  }

  frame_size = rate / 100;
  frame = calloc (frame_size, sizeof (spx_int16_t));
  if (frame == NULL)
    return 1;

  if (!bypass) {
    st = speex_preprocess_state_init (frame_size, rate);
    if (st == NULL) {
      fprintf (stderr, "%s: speex_preprocess_state_init failed\n", argv[0]);
      return 1;
    }
    speex_preprocess_ctl (st, SPEEX_PREPROCESS_SET_DENOISE, &on);
    speex_preprocess_ctl (st, SPEEX_PREPROCESS_SET_AGC, &off);
    speex_preprocess_ctl (st, SPEEX_PREPROCESS_SET_VAD, &off);
    speex_preprocess_ctl (st, SPEEX_PREPROCESS_SET_DEREVERB, &off);
  }

  while ((got = fread (frame, sizeof (spx_int16_t), frame_size, stdin)) > 0) {
    if (got < (size_t) frame_size)
      memset (frame + got, 0, (frame_size - got) * sizeof (spx_int16_t));
    if (!bypass)
      speex_preprocess_run (st, frame);
    if (fwrite (frame, sizeof (spx_int16_t), frame_size, stdout)
        != (size_t) frame_size) {
      perror ("speex-denoise: write");
      return 1;
    }
  }

  if (st != NULL)
    speex_preprocess_state_destroy (st);
  free (frame);
  return ferror (stdin) ? 1 : 0;
}
