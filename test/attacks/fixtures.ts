import * as tf from '@tensorflow/tfjs';
import { craftAdversarial, type CraftRequest } from '../../src/attacks/index.js';
import { TfjsSurrogate, type LogitsFunction } from '../../src/compute/tfjs-surrogate.js';
import { fixedValues } from '../helpers/backend.js';

/** A linear softmax model with fixed weights: logits = flatten(x) W + b, gradients known in closed form. */
export function linearModel(
  inputShape: [number, number, number],
  classes: number,
  seed = 1,
): { model: LogitsFunction; surrogate: TfjsSurrogate; weights: tf.Tensor2D; bias: tf.Tensor1D; dispose: () => void } {
  const d = inputShape[0] * inputShape[1] * inputShape[2];
  const weights = tf.tensor2d(fixedValues(d * classes, seed), [d, classes]);
  const bias = tf.tensor1d(fixedValues(classes, seed + 1));
  const model: LogitsFunction = (x) =>
    tf.tidy(() => x.reshape([x.shape[0], d]).matMul(weights).add(bias) as tf.Tensor2D);
  return {
    model,
    surrogate: new TfjsSurrogate('linear', model, inputShape, classes),
    weights,
    bias,
    dispose: () => tf.dispose([weights, bias]),
  };
}

/** A tiny untrained CNN (8x8x1 -> 3 classes) with fixed weights, for attack invariants. */
export function tinyCnn(seed = 3): { model: LogitsFunction; surrogate: TfjsSurrogate; dispose: () => void } {
  const filter = tf.tensor4d(fixedValues(3 * 3 * 1 * 4, seed), [3, 3, 1, 4]);
  const dense = tf.tensor2d(fixedValues(6 * 6 * 4 * 3, seed + 1), [6 * 6 * 4, 3]);
  const model: LogitsFunction = (x) =>
    tf.tidy(
      () =>
        tf
          .conv2d(x, filter, 1, 'valid')
          .relu()
          .reshape([x.shape[0], 6 * 6 * 4])
          .matMul(dense)
          .mul(3) as tf.Tensor2D,
    );
  return {
    model,
    surrogate: new TfjsSurrogate('tiny-cnn', model, [8, 8, 1], 3),
    dispose: () => tf.dispose([filter, dense]),
  };
}

/** n images in [lo, hi] (interior, so small perturbations are not clipped by [0, 1]). */
export function images(n: number, shape: [number, number, number], seed: number, lo = 0, hi = 1): tf.Tensor4D {
  const v = fixedValues(n * shape[0] * shape[1] * shape[2], seed).map((u) => lo + ((u + 1) / 2) * (hi - lo));
  return tf.tensor4d(v, [n, ...shape]);
}

/** craftAdversarial with tensors in and out, for tests written with tensors. The caller owns the result. */
export async function craftTensors(
  attack: string,
  surrogate: TfjsSurrogate,
  request: Omit<CraftRequest, 'images' | 'trueLabels' | 'targetLabels'> & {
    images: tf.Tensor4D;
    trueLabels: tf.Tensor1D;
    targetLabels?: tf.Tensor1D;
  },
): Promise<tf.Tensor4D> {
  const { images: x, trueLabels, targetLabels, ...rest } = request;
  const result = await craftAdversarial(attack, surrogate, {
    ...rest,
    images: x.dataSync() as Float32Array,
    trueLabels: trueLabels.dataSync() as Int32Array,
    ...(targetLabels ? { targetLabels: targetLabels.dataSync() as Int32Array } : {}),
  });
  return tf.tensor4d(result, x.shape);
}
