// rnnoise-denoise.mjs: RNNoise (npm @echogarden/rnnoise-wasm) as a filter.
//
//   node rnnoise-denoise.mjs MODULE_JS IN.f32 OUT.f32 [--bypass]
//
// IN.f32: mono float32 little-endian samples in [-1, 1] at 48 kHz (RNNoise's
// only rate).  OUT.f32: the denoised samples, processed in 480-sample
// (10 ms) frames; the last partial frame is zero-padded and written whole.
// RNNoise works on 16-bit-scaled floats, so samples are scaled by 32768 in
// and out.  --bypass copies frames without RNNoise (the baseline for the
// real-time factor).  MODULE_JS is the package's rnnoise.js.
import { readFileSync, writeFileSync } from 'node:fs';
import { pathToFileURL } from 'node:url';

const [moduleJs, inPath, outPath, flag] = process.argv.slice(2);
if (!outPath) {
  console.error('usage: node rnnoise-denoise.mjs MODULE_JS IN.f32 OUT.f32 [--bypass]');
  process.exit(2);
}
const bypass = flag === '--bypass';

const buf = readFileSync(inPath);
const input = new Float32Array(buf.buffer, buf.byteOffset, buf.length / 4);
const FRAME = 480;
const frames = Math.ceil(input.length / FRAME);
const output = new Float32Array(frames * FRAME);

if (bypass) {
  for (let f = 0; f < frames; f++) {
    for (let i = 0; i < FRAME && f * FRAME + i < input.length; i++)
      output[f * FRAME + i] = input[f * FRAME + i];
  }
} else {
  const { default: RNNoise } = await import(pathToFileURL(moduleJs).href);
  const m = await RNNoise();
  if (m._rnnoise_get_frame_size() !== FRAME)
    throw new Error('unexpected RNNoise frame size ' + m._rnnoise_get_frame_size());
  const st = m._rnnoise_create(0);
  const ptr = m._malloc(FRAME * 4);
  for (let f = 0; f < frames; f++) {
    const heap = m.HEAPF32.subarray(ptr >> 2, (ptr >> 2) + FRAME);
    for (let i = 0; i < FRAME; i++) {
      const k = f * FRAME + i;
      heap[i] = k < input.length ? input[k] * 32768 : 0;
    }
    m._rnnoise_process_frame(st, ptr, ptr);
    const out = m.HEAPF32.subarray(ptr >> 2, (ptr >> 2) + FRAME);
    for (let i = 0; i < FRAME; i++)
      output[f * FRAME + i] = out[i] / 32768;
  }
  m._free(ptr);
  m._rnnoise_destroy(st);
}
writeFileSync(outPath, Buffer.from(output.buffer));
