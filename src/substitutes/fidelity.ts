import type * as tf from '@tensorflow/tfjs';
import { argmaxRows, predictLogits } from '../compute/train.js';
import type { Oracle } from '../oracle/oracle.js';

/**
 * Agreement between a substitute and the target on fixed held-out images. The target's labels
 * are asked once (evaluation queries, counted apart from the attacker's budget) and reused.
 */
export function fidelityMeter(oracle: Oracle, images: Float32Array, imageShape: readonly [number, number, number]): (model: tf.LayersModel) => Promise<number> {
  let targetLabels: Promise<Int32Array> | undefined;
  return async (model) => {
    targetLabels ??= oracle.query(images, 'evaluation').then((answer) => answer.labels);
    const labels = await targetLabels;
    const predicted = argmaxRows(predictLogits(model, images, imageShape), oracle.classes);
    let agree = 0;
    for (let i = 0; i < labels.length; i++) if (predicted[i] === labels[i]) agree++;
    return labels.length === 0 ? 0 : agree / labels.length;
  };
}
