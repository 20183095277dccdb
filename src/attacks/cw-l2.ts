import * as tf from '@tensorflow/tfjs';
import { project } from './norms.js';
import type { Attack, AttackBatch, AttackParams, LogitsModel } from './types.js';

/** Margin loss f of Carlini & Wagner: zero once the (target) class wins by kappa. */
function margin(logits: tf.Tensor2D, labels: tf.Tensor1D, targeted: boolean, kappa: number): tf.Tensor1D {
  const oneHot = tf.oneHot(labels, logits.shape[1]).toFloat();
  const labelLogit = logits.mul(oneHot).sum(1);
  const bestOther = logits.sub(oneHot.mul(1e9)).max(1);
  const gap = targeted ? bestOther.sub(labelLogit) : labelLogit.sub(bestOther);
  return gap.add(kappa).relu() as tf.Tensor1D;
}

/**
 * Carlini-Wagner L2 (1608.04644): optimise w with x = (tanh(w) + 1) / 2 (so x stays in [0,1]),
 * minimising ||x - x0||^2 + c * f(x) with Adam, and binary-searching c per example. Keeps the
 * smallest successful perturbation per example; an example never fooled stays clean.
 */
function craftCwL2(model: LogitsModel, batch: AttackBatch, params: AttackParams): tf.Tensor4D {
  const original = batch.images;
  const [n, h, w, c] = original.shape;
  const size = h * w * c;
  const originalValues = original.dataSync() as Float32Array;
  const best = Float32Array.from(originalValues);
  const bestDistance = new Float64Array(n).fill(Number.POSITIVE_INFINITY);
  const constant = new Float64Array(n).fill(params.initialConst);
  const lower = new Float64Array(n).fill(0);
  const upper = new Float64Array(n).fill(1e10);
  const start = tf.tidy(() => original.mul(2).sub(1).mul(0.999999).atanh());
  try {
    for (let search = 0; search < params.binarySearchSteps; search++) {
      const succeeded = new Uint8Array(n);
      const variable = tf.variable(start.clone(), true);
      const optimizer = tf.train.adam(params.learningRate);
      const constants = tf.tensor1d(Float32Array.from(constant));
      try {
        for (let step = 0; step < params.steps; step++) {
          const [distance, loss, adversarial] = tf.tidy(() => {
            let out: tf.Tensor[] = [];
            optimizer.minimize(
              () => {
                const x = variable.tanh().add(1).div(2) as tf.Tensor4D;
                const d = x.sub(original).square().sum([1, 2, 3]) as tf.Tensor1D;
                const f = margin(model(x), batch.labels, params.targeted, params.confidence);
                out = [tf.keep(d), tf.keep(f), tf.keep(x)];
                return d.add(constants.mul(f)).sum() as tf.Scalar;
              },
              false,
              [variable],
            );
            return out;
          }) as [tf.Tensor1D, tf.Tensor1D, tf.Tensor4D];
          const d = distance.dataSync();
          const f = loss.dataSync();
          const x = adversarial.dataSync() as Float32Array;
          for (let k = 0; k < n; k++) {
            if ((f[k] as number) <= 0) {
              succeeded[k] = 1;
              if ((d[k] as number) < (bestDistance[k] as number)) {
                bestDistance[k] = d[k] as number;
                best.set(x.subarray(k * size, (k + 1) * size), k * size);
              }
            }
          }
          tf.dispose([distance, loss, adversarial]);
        }
      } finally {
        variable.dispose();
        optimizer.dispose();
        constants.dispose();
      }
      for (let k = 0; k < n; k++) {
        const ck = constant[k] as number;
        if (succeeded[k]) {
          upper[k] = Math.min(upper[k] as number, ck);
          constant[k] = ((lower[k] as number) + (upper[k] as number)) / 2;
        } else {
          lower[k] = Math.max(lower[k] as number, ck);
          constant[k] = (upper[k] as number) < 1e9 ? ((lower[k] as number) + (upper[k] as number)) / 2 : ck * 10;
        }
      }
    }
  } finally {
    start.dispose();
  }
  return tf.tidy(() => {
    const result = tf.tensor4d(best, [n, h, w, c]);
    return params.clipToLinf ? project(result, original, params.eps, 'linf') : result;
  });
}

export const cwL2: Attack = {
  name: 'cw-l2',
  kind: 'optimisation',
  description: 'Carlini-Wagner L2: tanh variables, Adam, binary search on c (Carlini & Wagner 1608.04644)',
  usesLabels: true,
  parameters: [
    { name: 'steps', default: '100', description: 'Adam steps per binary-search step' },
    { name: 'binarySearchSteps', default: '5', description: 'binary search steps on the constant c' },
    { name: 'initialConst', default: '1', description: 'initial c' },
    { name: 'learningRate', default: '0.05', description: 'Adam learning rate' },
    { name: 'confidence', default: '0', description: 'margin kappa' },
    { name: 'clipToLinf', default: 'true', description: 'clip the result into the L-inf eps-ball' },
  ],
  defaults: () => ({ steps: 100, binarySearchSteps: 5, initialConst: 1, learningRate: 0.05, confidence: 0, clipToLinf: true }),
  craft: craftCwL2,
};
