import type { Defence } from './types.js';

/**
 * Median smoothing, Xu et al.'s spatial squeezer (1704.01155: 2x2 on MNIST, 2x2 and 3x3 elsewhere): each value
 * replaced by the median of a size x size window of its channel, edges repeated (scipy's mode "nearest"). An even
 * window reaches one pixel further up and left, as scipy's median_filter places it (offsets -size/2 .. size/2 - 1).
 */
export const medianDefence: Defence = {
  name: 'median',
  description: 'median smoothing over a size x size window (Xu et al. 1704.01155)',
  parameters: [{ name: 'size', default: 2, minimum: 1, maximum: 9, integer: true, description: 'window side' }],
  copies: () => 1,
  apply: ({ pixels, shape }, params) => medianFilter(pixels, shape, params.size as number),
};

export function medianFilter(pixels: Float32Array, shape: readonly [number, number, number], size: number) {
  const [h, w, c] = shape;
  const before = Math.floor(size / 2);
  const out = new Float32Array(pixels.length);
  const window = new Float64Array(size * size);
  const clamp = (v: number, n: number) => Math.min(n - 1, Math.max(0, v));
  for (let y = 0; y < h; y++)
    for (let x = 0; x < w; x++)
      for (let k = 0; k < c; k++) {
        let n = 0;
        for (let dy = -before; dy < size - before; dy++)
          for (let dx = -before; dx < size - before; dx++)
            window[n++] = pixels[(clamp(y + dy, h) * w + clamp(x + dx, w)) * c + k] as number;
        const sorted = window.sort();
        // scipy takes the element at rank size*size/2 (the upper median for an even count).
        out[(y * w + x) * c + k] = sorted[Math.floor((size * size) / 2)] as number;
      }
  return out;
}
