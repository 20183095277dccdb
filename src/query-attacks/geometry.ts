import type { Norm } from '../attacks/types.js';

/**
 * Per-image vector geometry on plain arrays (an image is a few hundred to a few thousand
 * values, and query attacks change them a little at a time, so tensors would only add copies).
 */

/** ||a - b|| in the given norm. */
export function distance(a: Float32Array, b: Float32Array, norm: Norm): number {
  let result = 0;
  for (let i = 0; i < a.length; i++) {
    const d = (a[i] as number) - (b[i] as number);
    result = norm === 'linf' ? Math.max(result, Math.abs(d)) : result + d * d;
  }
  return norm === 'linf' ? result : Math.sqrt(result);
}

/** Slack for float32 rounding of points projected onto the sphere of radius eps. */
export const BALL_TOLERANCE = 1e-6;

export function inBall(point: Float32Array, clean: Float32Array, eps: number, norm: Norm): boolean {
  return distance(point, clean, norm) <= eps + BALL_TOLERANCE;
}

/** The point pulled into the eps-ball around `clean` (L-inf: clipped; L2: scaled), then into [0, 1]. */
export function projectToBall(point: Float32Array, clean: Float32Array, eps: number, norm: Norm): Float32Array {
  const out = new Float32Array(point.length);
  const scale = norm === 'l2' ? Math.min(1, eps / Math.max(distance(point, clean, 'l2'), 1e-12)) : 1;
  for (let i = 0; i < point.length; i++) {
    const c = clean[i] as number;
    let d = ((point[i] as number) - c) * scale;
    if (norm === 'linf') d = Math.min(eps, Math.max(-eps, d));
    out[i] = Math.min(1, Math.max(0, c + d));
  }
  return out;
}

/** Clips every value into [0, 1], in place; returns the array. */
export function clipUnit(values: Float32Array): Float32Array {
  for (let i = 0; i < values.length; i++) values[i] = Math.min(1, Math.max(0, values[i] as number));
  return values;
}

export function l2(values: Float32Array | Float64Array): number {
  let sum = 0;
  for (let i = 0; i < values.length; i++) sum += (values[i] as number) ** 2;
  return Math.sqrt(sum);
}

/** A standard normal vector of `size` values. */
export function gaussian(size: number, random: { normal(): number }): Float64Array {
  const out = new Float64Array(size);
  for (let i = 0; i < size; i++) out[i] = random.normal();
  return out;
}
