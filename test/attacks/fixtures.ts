import * as tf from '@tensorflow/tfjs';
import type { LogitsModel } from '../../src/attacks/index.js';
import { fixedValues } from '../helpers/backend.js';

/** A linear softmax model with fixed weights: logits = flatten(x) W + b, gradients known in closed form. */
export function linearModel(inputShape: [number, number, number], classes: number, seed = 1): { model: LogitsModel; weights: tf.Tensor2D; bias: tf.Tensor1D; dispose: () => void } {
  const d = inputShape[0] * inputShape[1] * inputShape[2];
  const weights = tf.tensor2d(fixedValues(d * classes, seed), [d, classes]);
  const bias = tf.tensor1d(fixedValues(classes, seed + 1));
  const model: LogitsModel = (x) => tf.tidy(() => x.reshape([x.shape[0], d]).matMul(weights).add(bias) as tf.Tensor2D);
  return { model, weights, bias, dispose: () => tf.dispose([weights, bias]) };
}

/** A tiny untrained CNN (8x8x1 -> 3 classes) with fixed weights, for attack invariants. */
export function tinyCnn(seed = 3): { model: LogitsModel; dispose: () => void } {
  const filter = tf.tensor4d(fixedValues(3 * 3 * 1 * 4, seed), [3, 3, 1, 4]);
  const dense = tf.tensor2d(fixedValues(6 * 6 * 4 * 3, seed + 1), [6 * 6 * 4, 3]);
  const model: LogitsModel = (x) =>
    tf.tidy(() => tf.conv2d(x, filter, 1, 'valid').relu().reshape([x.shape[0], 6 * 6 * 4]).matMul(dense).mul(3) as tf.Tensor2D);
  return { model, dispose: () => tf.dispose([filter, dense]) };
}

/** n images in [lo, hi] (interior, so small perturbations are not clipped by [0, 1]). */
export function images(n: number, shape: [number, number, number], seed: number, lo = 0, hi = 1): tf.Tensor4D {
  const v = fixedValues(n * shape[0] * shape[1] * shape[2], seed).map((u) => lo + ((u + 1) / 2) * (hi - lo));
  return tf.tensor4d(v, [n, ...shape]);
}
