import jpeg from 'jpeg-js';
import type { Defence } from './types.js';

/**
 * JPEG compression (Dziugaite et al. 1608.00853; Guo et al. 1711.00117 use quality 75): each image encoded and
 * decoded by jpeg-js at `quality`. Grey images go through as three equal channels and come back as their first.
 */
export const jpegDefence: Defence = {
  name: 'jpeg',
  description: 'JPEG compression at a quality (Dziugaite et al. 1608.00853, Guo et al. 1711.00117: 75)',
  parameters: [{ name: 'quality', default: 75, minimum: 1, maximum: 100, integer: true, description: 'JPEG quality' }],
  copies: () => 1,
  apply: ({ pixels, shape }, params) => jpegRoundTrip(pixels, shape, params.quality as number),
};

/** An HWC [0, 1] image through jpeg-js's encoder and decoder at `quality`. */
export function jpegRoundTrip(pixels: Float32Array, shape: readonly [number, number, number], quality: number) {
  const [h, w, c] = shape;
  const rgba = new Uint8Array(h * w * 4);
  for (let i = 0; i < h * w; i++) {
    for (let k = 0; k < 3; k++) rgba[i * 4 + k] = Math.round((pixels[i * c + (c === 1 ? 0 : k)] as number) * 255);
    rgba[i * 4 + 3] = 255;
  }
  const encoded = jpeg.encode({ data: rgba, width: w, height: h }, quality);
  const decoded = jpeg.decode(encoded.data, { useTArray: true, formatAsRGBA: true });
  const out = new Float32Array(h * w * c);
  for (let i = 0; i < h * w; i++)
    for (let k = 0; k < c; k++) out[i * c + k] = (decoded.data[i * 4 + k] as number) / 255;
  return out;
}
