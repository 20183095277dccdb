import * as tf from '@tensorflow/tfjs';
import { useBackend } from '../../src/compute/backend.js';

/** Runs `body` on the named backend and returns its values; restores wasm afterwards. */
export async function valuesOn(backend: 'wasm' | 'cpu', body: () => tf.Tensor | tf.Tensor[]): Promise<Float32Array[]> {
  await useBackend(backend);
  try {
    const out = tf.tidy(body);
    const list = Array.isArray(out) ? out : [out];
    const values = list.map((t) => t.dataSync() as Float32Array);
    tf.dispose(list);
    return values;
  } finally {
    await useBackend('wasm');
  }
}

/** Normwise relative error: max |a - b| over max |b|. */
export function maxRelativeError(a: Float32Array, b: Float32Array): number {
  if (a.length !== b.length) return Number.POSITIVE_INFINITY;
  let diff = 0;
  let scale = 0;
  for (let i = 0; i < a.length; i++) {
    diff = Math.max(diff, Math.abs((a[i] as number) - (b[i] as number)));
    scale = Math.max(scale, Math.abs(b[i] as number));
  }
  return scale === 0 ? diff : diff / scale;
}

/** Deterministic pseudo-random values in [-1, 1), the same on every backend. */
export function fixedValues(n: number, seed: number): Float32Array {
  const out = new Float32Array(n);
  let s = seed >>> 0;
  for (let i = 0; i < n; i++) {
    s = (Math.imul(s, 1664525) + 1013904223) >>> 0;
    out[i] = s / 2147483648 - 1;
  }
  return out;
}
