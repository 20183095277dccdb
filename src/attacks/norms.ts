import * as tf from '@tensorflow/tfjs';
import { Random } from '../common/random.js';
import type { Norm } from './types.js';

/**
 * Per-norm pieces of the gradient loop (after Foolbox): `normalize` turns a gradient into a
 * unit step direction, `project` pulls a point back into the eps-ball around the original,
 * `randomPoint` draws a uniform start inside the ball. All are elementwise or per-example, so
 * results do not depend on how examples are batched.
 */
const perExample = (t: tf.Tensor4D, reduce: (x: tf.Tensor4D) => tf.Tensor): tf.Tensor4D =>
  reduce(t).reshape([t.shape[0], 1, 1, 1]) as tf.Tensor4D;

export function l2Norms(t: tf.Tensor4D): tf.Tensor4D {
  return perExample(t, (x) => x.square().sum([1, 2, 3]).sqrt());
}

export function normalize(gradient: tf.Tensor4D, norm: Norm): tf.Tensor4D {
  if (norm === 'linf') return gradient.sign();
  return gradient.div(l2Norms(gradient).add(1e-12));
}

export function project(point: tf.Tensor4D, original: tf.Tensor4D, eps: number, norm: Norm): tf.Tensor4D {
  const delta = point.sub(original) as tf.Tensor4D;
  const bounded =
    norm === 'linf'
      ? delta.clipByValue(-eps, eps)
      : delta.mul(tf.minimum(1, tf.scalar(eps).div(l2Norms(delta).add(1e-12))));
  return original.add(bounded).clipByValue(0, 1) as tf.Tensor4D;
}

/** A uniform random point of the eps-ball for each image, drawn from a stream per image id. */
export function randomPoint(
  original: tf.Tensor4D,
  ids: readonly number[],
  eps: number,
  norm: Norm,
  seed: number,
): tf.Tensor4D {
  const [n, h, w, c] = original.shape;
  const size = h * w * c;
  const noise = new Float32Array(n * size);
  for (let k = 0; k < n; k++) {
    const random = new Random(seed).fork(`start:${ids[k] ?? k}`);
    const row = noise.subarray(k * size, (k + 1) * size);
    if (norm === 'linf') {
      for (let i = 0; i < size; i++) row[i] = (2 * random.next() - 1) * eps;
    } else {
      // Uniform in the L2 ball: a Gaussian direction, radius eps * u^(1/d).
      let sumSquares = 0;
      for (let i = 0; i < size; i++) {
        const v = random.normal();
        row[i] = v;
        sumSquares += v * v;
      }
      const radius = (eps * random.next() ** (1 / size)) / Math.sqrt(sumSquares);
      for (let i = 0; i < size; i++) row[i] = (row[i] as number) * radius;
    }
  }
  return original.add(tf.tensor4d(noise, [n, h, w, c])).clipByValue(0, 1) as tf.Tensor4D;
}

/** Perturbation sizes per example, for checks and reports. */
export function perturbationNorms(
  adversarial: Float32Array,
  original: Float32Array,
  count: number,
): { linf: Float32Array; l2: Float32Array } {
  const size = original.length / count;
  const linf = new Float32Array(count);
  const l2 = new Float32Array(count);
  for (let k = 0; k < count; k++) {
    let max = 0;
    let sum = 0;
    for (let i = k * size; i < (k + 1) * size; i++) {
      const d = Math.abs((adversarial[i] as number) - (original[i] as number));
      if (d > max) max = d;
      sum += d * d;
    }
    linf[k] = max;
    l2[k] = Math.sqrt(sum);
  }
  return { linf, l2 };
}
