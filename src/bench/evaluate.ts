import * as tf from '@tensorflow/tfjs';
import { ATTACKS, craftAdversarial, perturbationNorms, type AttackParams, type LabelSource } from '../attacks/index.js';
import { argmaxRows, predictLogits } from '../compute/train.js';
import type { Oracle } from '../oracle/oracle.js';

export interface AttackOutcome {
  /** Adversarial images, NHWC. */
  readonly adversarial: Float32Array;
  readonly substitutePredictions: Int32Array;
  readonly linf: Float32Array;
  readonly l2: Float32Array;
}

/** Crafts adversarial versions of the evaluation images on the substitute, in chunks of 256. */
export function craftOnSubstitute(
  model: tf.LayersModel,
  attack: string,
  images: Float32Array,
  labels: Int32Array,
  imageShape: readonly [number, number, number],
  options: {
    eps: number;
    labelSource: LabelSource;
    params: Partial<AttackParams>;
    seed: number;
    classes: number;
    /** Attacker images with true labels, for generative attacks to fit their generator on. */
    training?: { images: Float32Array; labels: Int32Array };
    /** A generator fitted earlier for a generative attack (the caller owns it). */
    generator?: tf.LayersModel;
  },
): AttackOutcome {
  const [h, w, c] = imageShape;
  const size = h * w * c;
  const count = labels.length;
  const adversarial = new Float32Array(images.length);
  // A generative attack fits its generator once per call: give it every image at once.
  const chunk = ATTACKS.get(attack).kind === 'generative' ? count : 256;
  for (let start = 0; start < count; start += chunk) {
    const n = Math.min(chunk, count - start);
    const result = tf.tidy(() =>
      craftAdversarial(attack, (x) => model.apply(x) as tf.Tensor2D, {
        images: tf.tensor4d(images.subarray(start * size, (start + n) * size), [n, h, w, c]),
        trueLabels: tf.tensor1d(labels.subarray(start, start + n), 'int32'),
        ids: Array.from({ length: n }, (_, i) => start + i),
        eps: options.eps,
        labelSource: options.labelSource,
        params: { ...options.params, seed: options.seed },
        ...(options.training ? { training: options.training } : {}),
        ...(options.generator ? { generator: options.generator } : {}),
      }),
    );
    try {
      adversarial.set(result.dataSync() as Float32Array, start * size);
    } finally {
      result.dispose();
    }
  }
  const norms = perturbationNorms(adversarial, images, count);
  return { adversarial, substitutePredictions: argmaxRows(predictLogits(model, adversarial, imageShape), options.classes), ...norms };
}

/**
 * The target's labels for images, through the oracle (evaluation queries), and the mean
 * probability it gives its top class (its confidence), when the oracle reveals probabilities.
 */
export async function targetLabels(oracle: Oracle, images: Float32Array): Promise<{ labels: Int32Array; meanConfidence?: number }> {
  const answer = await oracle.query(images, 'evaluation');
  if (answer.probabilities === undefined) return { labels: answer.labels };
  let sum = 0;
  answer.labels.forEach((label, i) => (sum += answer.probabilities?.[i * answer.classes + label] ?? 0));
  return { labels: answer.labels, meanConfidence: answer.count === 0 ? 0 : sum / answer.count };
}
