import type { OnnxNetwork } from '../compute/network/network.js';
import { networkLogits } from '../compute/network/run.js';
import type { Surrogate } from '../compute/surrogate.js';
import { argmaxRows } from '../compute/train.js';
import type { Oracle } from '../oracle/oracle.js';

const CHUNK = 256;

/** Predicted classes of a substitute network or of a surrogate (256 images per call). */
export async function predictClasses(
  model: OnnxNetwork | Surrogate,
  images: Float32Array,
  imageShape: readonly [number, number, number],
  classes: number,
): Promise<Int32Array> {
  if (!('lossGradient' in model)) return argmaxRows(await networkLogits(model, images), classes);
  const size = imageShape[0] * imageShape[1] * imageShape[2];
  const count = images.length / size;
  const predicted = new Int32Array(count);
  for (let start = 0; start < count; start += CHUNK) {
    const n = Math.min(CHUNK, count - start);
    predicted.set(argmaxRows(await model.logits(images.subarray(start * size, (start + n) * size), n), classes), start);
  }
  return predicted;
}

/**
 * Agreement between a substitute and the target on fixed held-out images. The target's labels
 * are asked once (evaluation queries, counted apart from the attacker's budget) and reused.
 */
export function fidelityMeter(
  oracle: Oracle,
  images: Float32Array,
  imageShape: readonly [number, number, number],
): (model: OnnxNetwork | Surrogate) => Promise<number> {
  let targetLabels: Promise<Int32Array> | undefined;
  return async (model) => {
    targetLabels ??= oracle.query(images, 'evaluation').then((answer) => answer.labels);
    const labels = await targetLabels;
    const predicted = await predictClasses(model, images, imageShape, oracle.classes);
    let agree = 0;
    for (let i = 0; i < labels.length; i++) if (predicted[i] === labels[i]) agree++;
    return labels.length === 0 ? 0 : agree / labels.length;
  };
}
