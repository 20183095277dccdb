import type { Random } from '../../common/random.js';
import type { Defence } from './types.js';

/**
 * Random resize-and-pad (Xie et al. 1711.01991): the image resized (nearest neighbour) to a random side r in
 * [H, H * ratio), then zero-padded at a random offset to H * ratio (their 299 -> [299, 331) -> 331, ratio 331/299).
 * A fixed-size ONNX model cannot take the larger image as Inception can, so the padded image is resized back to
 * H x W (bilinear) before the model sees it. One draw per image, from the image's own stream.
 */
export const resizePadDefence: Defence = {
  name: 'resize-pad',
  description: 'random resize and pad (Xie et al. 1711.01991), back to the model size',
  parameters: [
    {
      name: 'ratio',
      default: 331 / 299,
      minimum: 1,
      maximum: 2,
      description: 'padded side relative to the image side (331/299)',
    },
  ],
  copies: () => 1,
  apply: ({ pixels, shape }, params, random) => resizeAndPad(pixels, shape, params.ratio as number, random),
};

/** Nearest-neighbour resize of an HWC image to oh x ow. */
function nearest(pixels: Float32Array, [h, w, c]: readonly [number, number, number], oh: number, ow: number) {
  const out = new Float32Array(oh * ow * c);
  for (let y = 0; y < oh; y++)
    for (let x = 0; x < ow; x++) {
      const sy = Math.min(h - 1, Math.floor((y * h) / oh));
      const sx = Math.min(w - 1, Math.floor((x * w) / ow));
      for (let k = 0; k < c; k++) out[(y * ow + x) * c + k] = pixels[(sy * w + sx) * c + k] as number;
    }
  return out;
}

/** Bilinear resize (half-pixel centres, as torch's align_corners=False) of an HWC image to oh x ow. */
export function bilinear(pixels: Float32Array, [h, w, c]: readonly [number, number, number], oh: number, ow: number) {
  const out = new Float32Array(oh * ow * c);
  for (let y = 0; y < oh; y++) {
    const fy = Math.max(0, ((y + 0.5) * h) / oh - 0.5);
    const y0 = Math.min(h - 1, Math.floor(fy));
    const y1 = Math.min(h - 1, y0 + 1);
    const ty = fy - y0;
    for (let x = 0; x < ow; x++) {
      const fx = Math.max(0, ((x + 0.5) * w) / ow - 0.5);
      const x0 = Math.min(w - 1, Math.floor(fx));
      const x1 = Math.min(w - 1, x0 + 1);
      const tx = fx - x0;
      for (let k = 0; k < c; k++) {
        const at = (yy: number, xx: number) => pixels[(yy * w + xx) * c + k] as number;
        const top = at(y0, x0) * (1 - tx) + at(y0, x1) * tx;
        const bottom = at(y1, x0) * (1 - tx) + at(y1, x1) * tx;
        out[(y * ow + x) * c + k] = top * (1 - ty) + bottom * ty;
      }
    }
  }
  return out;
}

export function resizeAndPad(
  pixels: Float32Array,
  shape: readonly [number, number, number],
  ratio: number,
  random: Random,
): Float32Array {
  const [h, w, c] = shape;
  const padded = Math.max(h, Math.floor(h * ratio));
  const paddedW = Math.max(w, Math.floor(w * ratio));
  // r in [H, padded): Xie et al. draw 299 <= r < 331.
  const side = h + (padded > h ? random.int(padded - h) : 0);
  const sideW = Math.max(1, Math.round((side * w) / h));
  const resized = nearest(pixels, shape, side, sideW);
  const top = padded - side > 0 ? random.int(padded - side + 1) : 0;
  const left = paddedW - sideW > 0 ? random.int(paddedW - sideW + 1) : 0;
  const canvas = new Float32Array(padded * paddedW * c);
  for (let y = 0; y < side; y++)
    for (let x = 0; x < sideW && x + left < paddedW; x++)
      for (let k = 0; k < c; k++)
        canvas[((y + top) * paddedW + x + left) * c + k] = resized[(y * sideW + x) * c + k] as number;
  return bilinear(canvas, [padded, paddedW, c], h, w);
}
