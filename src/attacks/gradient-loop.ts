import * as tf from '@tensorflow/tfjs';
import { normalize, project, randomPoint } from './norms.js';
import type { AttackBatch, AttackParams, LogitsModel } from './types.js';

/** Cross-entropy per example, summed: each image's gradient is then its own, whatever the batch. */
export function crossEntropySum(model: LogitsModel, images: tf.Tensor4D, labels: tf.Tensor1D): tf.Scalar {
  const logits = model(images);
  const oneHot = tf.oneHot(labels, logits.shape[1]);
  return tf.losses.softmaxCrossEntropy(oneHot, logits, undefined, 0, tf.Reduction.SUM) as tf.Scalar;
}

export interface LoopOptions {
  /** Where to start instead of the clean images (R+FGSM's random step). */
  readonly start?: tf.Tensor4D;
}

/**
 * The one gradient loop every single- and multi-step attack runs (after Foolbox): each step
 * moves by stepSize along the normalised gradient (ascending the loss, or descending towards
 * the labels when targeted), optionally with momentum, then projects into the eps-ball and
 * [0, 1]. FGSM is this loop run once with the whole budget as its step.
 */
export function gradientLoop(model: LogitsModel, batch: AttackBatch, params: AttackParams, options: LoopOptions = {}): tf.Tensor4D {
  return tf.tidy(() => {
    const original = batch.images;
    let x = options.start ?? (params.randomStart ? randomPoint(original, batch.ids, params.eps, params.norm, params.seed) : original);
    const lossGradient = tf.grad((input: tf.Tensor) => crossEntropySum(model, input as tf.Tensor4D, batch.labels));
    const direction = params.targeted ? -1 : 1;
    let momentum: tf.Tensor4D | undefined;
    for (let step = 0; step < params.steps; step++) {
      const next = tf.tidy(() => {
        let g = lossGradient(x) as tf.Tensor4D;
        if (params.decay > 0) {
          // MI-FGSM: accumulate L1-normalised gradients per example.
          const l1 = g.abs().mean([1, 2, 3], true);
          const accumulated = (momentum ? momentum.mul(params.decay).add(g.div(l1.add(1e-12))) : g.div(l1.add(1e-12))) as tf.Tensor4D;
          if (momentum) momentum.dispose();
          momentum = tf.keep(accumulated);
          g = accumulated;
        }
        const moved = x.add(normalize(g, params.norm).mul(direction * params.stepSize)) as tf.Tensor4D;
        return project(moved, original, params.eps, params.norm);
      });
      if (x !== original && x !== options.start) x.dispose();
      x = next;
    }
    if (momentum) momentum.dispose();
    return x === original ? original.clone() : x;
  });
}

/** The least-likely class of each image under the model (step-ll, iter-ll). */
export function leastLikely(model: LogitsModel, images: tf.Tensor4D): tf.Tensor1D {
  return tf.tidy(() => model(images).argMin(1).cast('int32') as tf.Tensor1D);
}

/** The model's own prediction for each image (labelSource "predicted"). */
export function predictedLabels(model: LogitsModel, images: tf.Tensor4D): tf.Tensor1D {
  return tf.tidy(() => model(images).argMax(1).cast('int32') as tf.Tensor1D);
}
